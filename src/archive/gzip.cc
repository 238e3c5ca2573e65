#include "archive/gzip.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <vector>

namespace arca::archive {
namespace {

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using CompressorPtr = std::unique_ptr<libdeflate_compressor, CompressorDeleter>;

size_t IgzipLevelBufferSize(int level) {
  switch (level) {
    case 0:
      return ISAL_DEF_LVL0_DEFAULT;
    case 1:
      return ISAL_DEF_LVL1_DEFAULT;
    case 2:
      return ISAL_DEF_LVL2_DEFAULT;
    default:
      return ISAL_DEF_LVL3_DEFAULT;
  }
}

}  // namespace

// Compresses one block into one gzip member; one per thread. igzip writes into a buffer of the
// input's size plus a margin and, should a block not fit (incompressible input), the block goes
// through libdeflate, whose bound always fits.
class GzipWriter::BlockCompressor {
 public:
  explicit BlockCompressor(const GzipOptions& options)
      : codec_(options.codec),
        level_(options.level),
        fallback_(libdeflate_alloc_compressor(
            options.codec == GzipCodec::kLibdeflate ? options.level : 1)) {
    if (codec_ == GzipCodec::kIgzip) {
      level_buffer_.resize(IgzipLevelBufferSize(level_));
    }
  }

  // Writes the member into `out`, which is only ever grown (it is reused from block to block, and
  // growing a string zero-fills), and sets `out_size` to the member's length.
  bool Compress(std::string_view in, std::string& out, size_t& out_size) {
    if (codec_ == GzipCodec::kIgzip && CompressIgzip(in, out, out_size)) {
      return true;
    }
    if (fallback_ == nullptr) {
      return false;
    }
    GrowTo(out, libdeflate_gzip_compress_bound(fallback_.get(), in.size()));
    out_size =
        libdeflate_gzip_compress(fallback_.get(), in.data(), in.size(), out.data(), out.size());
    return out_size != 0;
  }

 private:
  static void GrowTo(std::string& s, size_t n) {
    if (s.size() < n) {
      s.resize(n);
    }
  }

  bool CompressIgzip(std::string_view in, std::string& out, size_t& out_size) {
    GrowTo(out, in.size() + in.size() / 16 + 1024);
    isal_zstream stream{};  // zeroed: stateless_init leaves some internal state as it finds it
    isal_deflate_stateless_init(&stream);
    stream.level = static_cast<uint32_t>(level_);
    stream.level_buf = level_buffer_.data();
    stream.level_buf_size = static_cast<uint32_t>(level_buffer_.size());
    stream.gzip_flag = IGZIP_GZIP;
    stream.end_of_stream = 1;
    stream.flush = NO_FLUSH;
    // igzip reads but does not write its input; its API is not const-correct.
    stream.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
    stream.avail_in = static_cast<uint32_t>(in.size());
    stream.next_out = reinterpret_cast<uint8_t*>(out.data());
    stream.avail_out = static_cast<uint32_t>(out.size());
    if (isal_deflate_stateless(&stream) != COMP_OK) {
      return false;
    }
    out_size = stream.total_out;
    return true;
  }

  GzipCodec codec_;
  int level_;
  std::vector<uint8_t> level_buffer_;
  CompressorPtr fallback_;
};

// ---------------------------------------------------------------------------------------------
// GzipWriter

GzipWriter::GzipWriter(ByteSink sink, GzipOptions options)
    : sink_(std::move(sink)), options_(options) {
  options_.level = options_.codec == GzipCodec::kIgzip ? std::clamp(options_.level, 0, 3)
                                                       : std::clamp(options_.level, 1, 12);
  options_.block_size = std::max<size_t>(options_.block_size, 4096);
  options_.workers = std::max(options_.workers, 0);
  if (options_.workers == 0) {
    inline_compressor_ = std::make_unique<BlockCompressor>(options_);
  }
  for (int i = 0; i < options_.workers; ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  current_.reserve(options_.block_size);
}

GzipWriter::~GzipWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
}

bool GzipWriter::Compress(BlockCompressor* compressor, Job& job) {
  return compressor != nullptr && compressor->Compress(job.input, job.output, job.output_size);
}

void GzipWriter::WorkerLoop() {
  auto compressor = std::make_unique<BlockCompressor>(options_);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    Job* job = nullptr;
    work_cv_.wait(lock, [&] {
      if (stopping_) {
        return true;
      }
      for (auto& j : jobs_) {
        if (!j->claimed) {
          job = j.get();
          return true;
        }
      }
      return false;
    });
    if (job == nullptr) {
      return;  // stopping
    }
    job->claimed = true;
    lock.unlock();
    bool ok = Compress(compressor.get(), *job);
    lock.lock();
    job->done = true;
    job->failed = !ok;
    done_cv_.notify_all();
  }
}

Status GzipWriter::DrainFront(bool wait_all) {
  const size_t max_in_flight = static_cast<size_t>(options_.workers) + 2;
  while (true) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (jobs_.empty()) {
        return OkStatus();
      }
      if (!jobs_.front()->done) {
        if (!wait_all && jobs_.size() < max_in_flight) {
          return OkStatus();
        }
        done_cv_.wait(lock, [&] { return jobs_.front()->done; });
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (job->failed) {
      return InternalError("gzip compression failed (could not compress a block)");
    }
    RETURN_IF_ERROR(sink_(std::string_view(job->output.data(), job->output_size)));
    bytes_out_ += job->output_size;
    Recycle(std::move(job));
  }
}

void GzipWriter::Recycle(std::unique_ptr<Job> job) {
  job->input.clear();
  job->claimed = false;
  job->done = false;
  job->failed = false;
  spare_.push_back(std::move(job));
}

Status GzipWriter::Submit() {
  // Blocks and their outputs are reused: a fresh 1 MiB buffer per block costs page faults, and
  // a fresh output buffer zero-filling besides.
  std::unique_ptr<Job> job;
  if (spare_.empty()) {
    job = std::make_unique<Job>();
  } else {
    job = std::move(spare_.back());
    spare_.pop_back();
  }
  std::swap(job->input, current_);  // current_ takes the spare's empty buffer
  if (current_.capacity() < options_.block_size) {
    current_.reserve(options_.block_size);
  }
  if (options_.workers == 0) {
    if (!Compress(inline_compressor_.get(), *job)) {
      return InternalError("gzip compression failed (could not compress a block)");
    }
    RETURN_IF_ERROR(sink_(std::string_view(job->output.data(), job->output_size)));
    bytes_out_ += job->output_size;
    Recycle(std::move(job));
    return OkStatus();
  }
  // Keep at most workers + 2 blocks in flight: hand finished ones to the sink, in order, and
  // wait for the oldest when the window is full.
  RETURN_IF_ERROR(DrainFront(false));
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  work_cv_.notify_one();
  return OkStatus();
}

Status GzipWriter::Write(std::string_view data) {
  if (!error_.ok()) {
    return error_;
  }
  if (finished_) {
    return FailedPreconditionError("gzip stream is already finished");
  }
  bytes_in_ += data.size();
  while (!data.empty()) {
    size_t take = std::min(options_.block_size - current_.size(), data.size());
    current_.append(data.data(), take);
    data.remove_prefix(take);
    if (current_.size() == options_.block_size) {
      Status s = Submit();
      if (!s.ok()) {
        error_ = s;
        return s;
      }
    }
  }
  return OkStatus();
}

Status GzipWriter::Finish() {
  if (!error_.ok()) {
    return error_;
  }
  if (finished_) {
    return OkStatus();
  }
  finished_ = true;
  // An empty input still gets one (empty) member, so the output is always valid gzip.
  if (!current_.empty() || bytes_in_ == 0) {
    Status s = Submit();
    if (!s.ok()) {
      error_ = s;
      return s;
    }
  }
  Status s = DrainFront(true);
  if (!s.ok()) {
    error_ = s;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// GunzipStream

struct GunzipStream::State {
  z_stream zs{};
  bool initialized = false;
  std::string out;
};

GunzipStream::GunzipStream(ByteSink sink) : sink_(std::move(sink)), state_(new State) {
  // 16 + MAX_WBITS: gzip wrapper only, so a zlib or raw stream is refused as not gzip.
  if (inflateInit2(&state_->zs, 16 + MAX_WBITS) == Z_OK) {
    state_->initialized = true;
  } else {
    error_ = InternalError("zlib could not initialize a gzip decompressor");
  }
  state_->out.resize(size_t{256} * 1024);
}

GunzipStream::~GunzipStream() {
  if (state_->initialized) {
    inflateEnd(&state_->zs);
  }
}

Status GunzipStream::Write(std::string_view chunk) {
  if (!error_.ok()) {
    return error_;
  }
  z_stream& zs = state_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
  zs.avail_in = static_cast<uInt>(chunk.size());
  // Loop while input is left, or while the last call filled the output buffer (zlib may still
  // hold output for input it has already consumed).
  bool output_full = false;
  while (zs.avail_in > 0 || output_full) {
    if (!in_member_ && zs.avail_in > 0) {
      in_member_ = true;
      saw_member_ = true;
    }
    zs.next_out = reinterpret_cast<Bytef*>(state_->out.data());
    zs.avail_out = static_cast<uInt>(state_->out.size());
    uLong in_before = zs.total_in;
    int rc = inflate(&zs, Z_NO_FLUSH);
    bytes_in_ += zs.total_in - in_before;
    size_t produced = state_->out.size() - zs.avail_out;
    output_full = zs.avail_out == 0;
    if (produced > 0) {
      Status s = sink_(std::string_view(state_->out.data(), produced));
      if (!s.ok()) {
        error_ = s;
        return s;
      }
      bytes_out_ += produced;
    }
    if (rc == Z_STREAM_END) {
      // The member is complete; another may follow.
      in_member_ = false;
      output_full = false;
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_OK) {
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      break;  // needs more input
    }
    std::string why = zs.msg != nullptr ? zs.msg : "zlib error " + std::to_string(rc);
    error_ = DataLossError("corrupt gzip data at compressed byte " + std::to_string(bytes_in_) +
                           ": " + why);
    return error_;
  }
  return OkStatus();
}

Status GunzipStream::Finish() {
  if (!error_.ok()) {
    return error_;
  }
  if (!saw_member_) {
    error_ = DataLossError("not gzip data: the stream is empty");
  } else if (in_member_) {
    error_ = DataLossError("truncated gzip data: the stream ends inside a member after " +
                           std::to_string(bytes_in_) + " compressed bytes");
  }
  return error_;
}

}  // namespace arca::archive
