// File: archive/gzip.h
//
// gzip for backup tarballs, in both directions, streaming.
//
// GzipWriter cuts its input into blocks and compresses each block as one gzip member, with
// ISA-L's igzip (the default) or libdeflate, on a few worker threads, writing members to the sink
// in input order. The result is a standard multi-member gzip stream (RFC 1952 §2.2): gunzip, Go's
// compress/gzip (Velero's reader) and zlib read it as one stream. Memory is bounded by (workers +
// 3) blocks and their outputs (buffers reused from block to block), whatever the input size, and
// the sink is always called from the thread that calls Write/Finish.
//
// GunzipStream is a push decompressor on ISA-L's igzip inflate: it takes compressed chunks as they
// arrive and hands the decompressed bytes to its sink, across member boundaries. A stream that is
// not gzip, is corrupt, or ends inside a member is kDataLoss.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "archive/tar.h"
#include "common/status.h"

namespace arca::archive {

enum class GzipCodec {
  // ISA-L's igzip, levels 0 to 3: several times faster than libdeflate for a slightly bigger
  // output (level 1: about 10% bigger than libdeflate's level 6 on text, 6x less CPU).
  kIgzip,
  // libdeflate, levels 1 to 12; 6 matches Go's default (Velero's) in ratio.
  kLibdeflate,
};

struct GzipOptions {
  GzipCodec codec = GzipCodec::kIgzip;
  // Clamped to the codec's range.
  int level = 1;
  // Input bytes per gzip member.
  size_t block_size = 1 << 20;
  // Compression threads; 0 compresses on the calling thread.
  int workers = 2;
};

class GzipWriter {
 public:
  // `sink` receives the compressed stream.
  GzipWriter(ByteSink sink, GzipOptions options = {});
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // Appends uncompressed bytes. Returns the sink's error, if any, once it is seen.
  Status Write(std::string_view data);
  // Compresses what is left, waits for every member and hands them to the sink.
  Status Finish();

  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

  // A ByteSink that writes into this writer (for chaining: TarWriter -> GzipWriter -> store).
  ByteSink AsSink() {
    return [this](std::string_view d) { return Write(d); };
  }

 private:
  struct Job {
    std::string input;
    std::string output;  // the member is its first output_size bytes
    size_t output_size = 0;
    bool claimed = false;
    bool done = false;
    bool failed = false;
  };
  Status Submit();
  Status DrainFront(bool wait_all);
  // Keeps a finished job's buffers for a later block (writer thread only).
  void Recycle(std::unique_ptr<Job> job);
  void WorkerLoop();
  class BlockCompressor;
  static bool Compress(BlockCompressor* compressor, Job& job);

  ByteSink sink_;
  GzipOptions options_;
  std::string current_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  Status error_;
  bool finished_ = false;

  std::mutex mu_;
  std::condition_variable work_cv_;        // a job was queued, or stopping
  std::condition_variable done_cv_;        // a job finished
  std::deque<std::unique_ptr<Job>> jobs_;  // in input order; guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::vector<std::thread> threads_;
  std::unique_ptr<BlockCompressor> inline_compressor_;  // when workers == 0
  std::vector<std::unique_ptr<Job>> spare_;             // finished jobs (writer thread only)
};

class GunzipStream {
 public:
  explicit GunzipStream(ByteSink sink);
  ~GunzipStream();
  GunzipStream(const GunzipStream&) = delete;
  GunzipStream& operator=(const GunzipStream&) = delete;

  Status Write(std::string_view chunk);
  // kDataLoss when the input stopped inside a member or held no member at all.
  Status Finish();

  uint64_t bytes_out() const { return bytes_out_; }

  ByteSink AsSink() {
    return [this](std::string_view d) { return Write(d); };
  }

  struct State;  // defined in gzip.cc

 private:
  // Reads the current member's header from `in`; returns the bytes it took.
  Result<size_t> ReadHeader(std::string_view in);
  void StartMember();

  ByteSink sink_;
  std::unique_ptr<State> state_;
  Status error_;
  bool in_member_ = false;
  bool saw_member_ = false;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace arca::archive
