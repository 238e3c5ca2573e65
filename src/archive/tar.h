// File: archive/tar.h
//
// Streaming POSIX tar, as Velero's backup tarballs use it: regular files only, written one after
// another to a byte sink and read back by a push parser that is fed chunks as they arrive from
// object storage. Neither side buffers more than one entry.
//
// The writer emits ustar headers, and a PAX extended header ('x') before any entry whose name does
// not fit ustar's 100+155 byte fields, which is what Go's archive/tar (Velero's reader) does too.
//
// The reader is built for hostile input. It verifies every header checksum, refuses names that
// are absolute, contain a ".." segment, a NUL byte or are empty, refuses sizes that overflow or
// exceed the configured entry limit, bounds PAX headers, and reports a stream that ends inside an
// entry as kDataLoss. Entries that are not regular files (directories, links, devices) are skipped
// and counted, never followed: nothing is ever written to disk by this module.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace arca::archive {

// Receives output bytes in order. Returning an error stops the writer, which returns that error.
using ByteSink = std::function<Status(std::string_view chunk)>;

class TarWriter {
 public:
  // `sink` must outlive the writer.
  explicit TarWriter(ByteSink sink) : sink_(std::move(sink)) {}

  // Appends a regular file. `name` uses '/' separators and must be relative, without "..",
  // NUL bytes or a trailing '/'; kInvalidArgument otherwise.
  // Mode 0755 (as Velero writes), uid/gid 0, the given modification time (whole seconds).
  Status AddFile(std::string_view name, std::string_view content,
                 std::chrono::system_clock::time_point mtime);

  // Writes the end-of-archive marker (two zero blocks). No entry may be added afterwards.
  Status Finish();

  uint64_t entries() const { return entries_; }
  // Bytes handed to the sink so far.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  Status Emit(std::string_view bytes);
  Status EmitPadding(uint64_t size);

  ByteSink sink_;
  uint64_t entries_ = 0;
  uint64_t bytes_written_ = 0;
  bool finished_ = false;
};

struct TarReaderLimits {
  // The largest entry whose content is delivered. A Kubernetes object is at most a few MiB
  // (etcd's request limit is 1.5 MiB by default), so the default leaves room and stops a hostile
  // size from exhausting memory.
  uint64_t max_entry_size = 64ull << 20;
  // The largest PAX extended header accepted.
  uint64_t max_pax_header_size = 1ull << 20;
  // The longest entry name accepted.
  size_t max_name_length = 4096;
};

struct TarEntry {
  std::string name;
  std::string_view content;  // valid only during the callback
  std::chrono::system_clock::time_point mtime;
};

// Called for each regular-file entry, in archive order. An error stops the reader and is
// returned from Write/Finish.
using TarEntryHandler = std::function<Status(const TarEntry& entry)>;

class TarReader {
 public:
  TarReader(TarEntryHandler handler, TarReaderLimits limits = {})
      : handler_(std::move(handler)), limits_(limits) {}

  // Feeds the next bytes of the archive. Returns the first error met (kDataLoss for a corrupt
  // archive, kInvalidArgument for a refused name, kResourceExhausted for an over-limit size, or
  // the handler's error); after an error every call returns it again.
  Status Write(std::string_view chunk);

  // Declares the end of input. kDataLoss if the archive stopped inside a header or an entry.
  // A stream that ends without the two zero blocks but on an entry boundary is accepted, as
  // Go's and GNU tar's readers accept it.
  Status Finish();

  // A ByteSink that feeds this reader (for chaining: store download -> GunzipStream -> here).
  ByteSink AsSink() {
    return [this](std::string_view d) { return Write(d); };
  }

  uint64_t entries() const { return entries_; }
  // Entries that were not regular files and were skipped.
  uint64_t skipped_entries() const { return skipped_; }

 private:
  enum class State { kHeader, kContent, kPadding, kEnd };
  Status Fail(Status s);
  Status OnHeader(const char* block);
  Status OnContentComplete();

  TarEntryHandler handler_;
  TarReaderLimits limits_;
  State state_ = State::kHeader;
  Status error_;
  std::string header_;      // partial 512-byte header block
  std::string content_;     // content of the current entry
  uint64_t remaining_ = 0;  // content bytes still expected
  uint64_t padding_ = 0;    // padding bytes still expected
  char type_ = '0';
  std::string name_;
  std::string pax_path_;  // from a preceding PAX header, applies to the next entry
  std::string gnu_long_name_;
  int64_t mtime_ = 0;
  bool skip_ = false;
  int zero_blocks_ = 0;
  uint64_t entries_ = 0;
  uint64_t skipped_ = 0;
  uint64_t index_ = 0;  // headers seen, for messages
};

// Whether `name` is a safe relative path for an archive entry: not empty, not absolute, no NUL,
// no "." or ".." segment, no empty segment. Returns the reason when it is not.
Status ValidateEntryName(std::string_view name);

}  // namespace arca::archive
