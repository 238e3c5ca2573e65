#include "archive/gzip.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

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

// The member header is read here rather than by igzip, whose check of the header's CRC-16
// (FHCRC) fails when the header arrives in more than one piece (ISA-L 2.30); igzip then inflates
// the deflate data and verifies the trailer (CRC-32 and size).
struct GunzipStream::State {
  enum class Header { kFixed, kExtraLength, kExtra, kName, kComment, kHeaderCrc, kDone };
  inflate_state st{};
  std::string out;
  Header header = Header::kFixed;
  std::string fixed;      // bytes of the current fixed-size part
  uint8_t flags = 0;      // FLG of the current member
  uint32_t crc = 0;       // CRC-32 of the header so far
  size_t extra_left = 0;  // FEXTRA bytes still to skip
  size_t header_bytes = 0;
};

namespace {

constexpr uint8_t kFlagHeaderCrc = 2;
constexpr uint8_t kFlagExtra = 4;
constexpr uint8_t kFlagName = 8;
constexpr uint8_t kFlagComment = 16;
// Names and comments are NUL-terminated with no length limit; a header this long is hostile.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;

std::string InflateError(int rc) {
  switch (rc) {
    case ISAL_INCORRECT_CHECKSUM:
      return "the member's CRC-32 or size does not match its data";
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    default:
      return "igzip error " + std::to_string(rc);
  }
}

// The part of the header after `part`, given the member's flags.
GunzipStream::State::Header NextPart(GunzipStream::State::Header part, uint8_t flags) {
  using H = GunzipStream::State::Header;
  switch (part) {
    case H::kFixed:
      if ((flags & kFlagExtra) != 0) {
        return H::kExtraLength;
      }
      [[fallthrough]];
    case H::kExtraLength:
    case H::kExtra:
      if ((flags & kFlagName) != 0) {
        return H::kName;
      }
      [[fallthrough]];
    case H::kName:
      if ((flags & kFlagComment) != 0) {
        return H::kComment;
      }
      [[fallthrough]];
    case H::kComment:
      if ((flags & kFlagHeaderCrc) != 0) {
        return H::kHeaderCrc;
      }
      [[fallthrough]];
    default:
      return H::kDone;
  }
}

uint32_t Crc32(uint32_t crc, std::string_view bytes) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<uint64_t>(bytes.size()));
}

}  // namespace

Result<size_t> GunzipStream::ReadHeader(std::string_view in) {
  using H = State::Header;
  State& h = *state_;
  size_t used = 0;
  while (h.header != H::kDone && used < in.size()) {
    const std::string_view rest = in.substr(used);
    size_t take = 0;
    if (h.header == H::kFixed || h.header == H::kExtraLength || h.header == H::kHeaderCrc) {
      const size_t size = h.header == H::kFixed ? 10 : 2;
      take = std::min(size - h.fixed.size(), rest.size());
      h.fixed.append(rest.substr(0, take));
      used += take;
      if (h.fixed.size() < size) {
        break;
      }
      const auto byte = [&](size_t i) { return static_cast<uint8_t>(h.fixed[i]); };
      if (h.header == H::kFixed) {
        if (byte(0) != 0x1f || byte(1) != 0x8b) {
          return DataLossError(
              saw_member_ && bytes_out_ > 0
                  ? "data after gzip member ends is not another member (no 1f 8b header)"
                  : "not gzip data: the stream does not start with a gzip header (1f 8b)");
        }
        if (byte(2) != 8) {
          return DataLossError("gzip member uses compression method " + std::to_string(byte(2)) +
                               ", not deflate (8)");
        }
        h.flags = byte(3);
        if ((h.flags & 0xe0) != 0) {
          return DataLossError("gzip member header has reserved flag bits set");
        }
      } else if (h.header == H::kExtraLength) {
        h.extra_left = byte(0) | (size_t{byte(1)} << 8);
      } else {
        const uint32_t want = byte(0) | (uint32_t{byte(1)} << 8);
        if (want != (h.crc & 0xffff)) {
          return DataLossError("gzip member header fails its CRC-16 (FHCRC)");
        }
      }
      if (h.header != H::kHeaderCrc) {
        h.crc = Crc32(h.crc, h.fixed);
      }
      h.header_bytes += h.fixed.size();
      h.fixed.clear();
      h.header =
          h.header == H::kExtraLength && h.extra_left > 0 ? H::kExtra : NextPart(h.header, h.flags);
      continue;
    }
    if (h.header == H::kExtra) {
      take = std::min(h.extra_left, rest.size());
      h.extra_left -= take;
    } else {  // kName, kComment: up to and with the NUL
      const size_t nul = rest.find('\0');
      take = nul == std::string_view::npos ? rest.size() : nul + 1;
    }
    h.crc = Crc32(h.crc, rest.substr(0, take));
    h.header_bytes += take;
    used += take;
    if (h.header_bytes > kMaxHeaderBytes) {
      return DataLossError(
          "gzip member header is longer than 1 MiB (a name or comment without "
          "its terminating NUL?)");
    }
    const bool part_done =
        h.header == H::kExtra ? h.extra_left == 0 : rest.substr(0, take).ends_with('\0');
    if (part_done) {
      h.header = NextPart(h.header, h.flags);
    }
  }
  return used;
}

void GunzipStream::StartMember() {
  State& h = *state_;
  // A reset forgets the input position; the next member starts where the last one's trailer
  // ended.
  uint8_t* next = h.st.next_in;
  const uint32_t avail = h.st.avail_in;
  isal_inflate_reset(&h.st);
  h.st.crc_flag = ISAL_GZIP_NO_HDR_VER;  // deflate data, then the trailer, verified
  h.st.next_in = next;
  h.st.avail_in = avail;
  h.header = State::Header::kFixed;
  h.fixed.clear();
  h.flags = 0;
  h.crc = 0;
  h.extra_left = 0;
  h.header_bytes = 0;
}

GunzipStream::GunzipStream(ByteSink sink) : sink_(std::move(sink)), state_(new State) {
  isal_inflate_init(&state_->st);
  state_->st.crc_flag = ISAL_GZIP_NO_HDR_VER;
  state_->out.resize(size_t{64} * 1024);
}

GunzipStream::~GunzipStream() = default;

Status GunzipStream::Write(std::string_view chunk) {
  if (!error_.ok()) {
    return error_;
  }
  State& h = *state_;
  inflate_state& st = h.st;
  while (true) {
    if (!in_member_) {
      if (chunk.empty()) {
        break;
      }
      in_member_ = true;
      saw_member_ = true;
    }
    if (h.header != State::Header::kDone) {
      Result<size_t> used = ReadHeader(chunk);
      if (!used.ok()) {
        error_ = DataLossError("corrupt gzip data at compressed byte " + std::to_string(bytes_in_) +
                               ": " + used.status().message());
        return error_;
      }
      bytes_in_ += *used;
      chunk.remove_prefix(*used);
      if (h.header != State::Header::kDone) {
        break;  // the header goes on in the next chunk
      }
    }
    // igzip reads but does not write its input; its API is not const-correct.
    st.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(chunk.data()));
    st.avail_in = static_cast<uint32_t>(chunk.size());
    st.next_out = reinterpret_cast<uint8_t*>(h.out.data());
    st.avail_out = static_cast<uint32_t>(h.out.size());
    const int rc = isal_inflate(&st);
    const size_t consumed = chunk.size() - st.avail_in;
    bytes_in_ += consumed;
    chunk.remove_prefix(consumed);
    const size_t produced = h.out.size() - st.avail_out;
    if (produced > 0) {
      Status s = sink_(std::string_view(h.out.data(), produced));
      if (!s.ok()) {
        error_ = s;
        return s;
      }
      bytes_out_ += produced;
    }
    if (rc != ISAL_DECOMP_OK) {
      error_ = DataLossError("corrupt gzip data at compressed byte " + std::to_string(bytes_in_) +
                             ": " + InflateError(rc));
      return error_;
    }
    if (st.block_state == ISAL_BLOCK_FINISH) {
      in_member_ = false;  // complete, trailer checked; another member may follow
      StartMember();
      continue;
    }
    if (st.avail_out == 0) {
      continue;  // the output buffer filled up: there may be more for the input already read
    }
    if (chunk.empty()) {
      break;  // every input byte taken: the member goes on in the next chunk
    }
    if (consumed == 0 && produced == 0) {
      error_ =
          InternalError("igzip made no progress at compressed byte " + std::to_string(bytes_in_));
      return error_;
    }
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
