#include "archive/tar.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace arca::archive {
namespace {

constexpr size_t kBlock = 512;
constexpr size_t kNameSize = 100;
constexpr size_t kPrefixSize = 155;
// The largest size an 11-digit octal field holds.
constexpr uint64_t kMaxOctalSize = (1ull << 33) - 1;

// Header field offsets and widths (POSIX ustar).
struct Field {
  size_t offset;
  size_t size;
};
constexpr Field kName{0, 100};
constexpr Field kMode{100, 8};
constexpr Field kUid{108, 8};
constexpr Field kGid{116, 8};
constexpr Field kSize{124, 12};
constexpr Field kMtime{136, 12};
constexpr Field kChecksum{148, 8};
constexpr size_t kTypeflag = 156;
constexpr Field kMagic{257, 6};
constexpr Field kVersion{263, 2};
constexpr Field kPrefix{345, 155};

void PutOctal(char* block, Field f, uint64_t value) {
  // Zero-padded octal in size-1 digits, then NUL.
  char* p = block + f.offset;
  for (size_t i = f.size - 1; i-- > 0;) {
    p[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  p[f.size - 1] = '\0';
}

void PutString(char* block, Field f, std::string_view s) {
  std::memcpy(block + f.offset, s.data(), std::min(s.size(), f.size));
}

unsigned ChecksumOf(const char* block, bool as_signed) {
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    if (i >= kChecksum.offset && i < kChecksum.offset + kChecksum.size) {
      sum += ' ';
    } else if (as_signed) {
      sum += static_cast<unsigned>(static_cast<int>(static_cast<signed char>(block[i])));
    } else {
      sum += static_cast<unsigned char>(block[i]);
    }
  }
  return sum;
}

void SetChecksum(char* block) {
  // The checksum field counts as spaces: with them in place, a plain sum of the block (which the
  // compiler vectorizes) is ChecksumOf(block, false).
  char* p = block + kChecksum.offset;
  std::memset(p, ' ', kChecksum.size);
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    sum += static_cast<unsigned char>(block[i]);
  }
  for (int i = 5; i >= 0; --i) {
    p[i] = static_cast<char>('0' + (sum & 7));
    sum >>= 3;
  }
  p[6] = '\0';
  p[7] = ' ';
}

// Parses a numeric header field: octal with optional leading spaces and trailing NUL/space, or
// GNU base-256 (high bit of the first byte set). Fails on anything else or on overflow.
Result<uint64_t> ParseNumber(const char* block, Field f, std::string_view what) {
  const auto* p = reinterpret_cast<const unsigned char*>(block + f.offset);
  if (p[0] & 0x80) {
    if (p[0] != 0x80) {
      return DataLossError("tar header field " + std::string(what) + " is a negative number");
    }
    uint64_t v = 0;
    for (size_t i = 1; i < f.size; ++i) {
      if (v > (std::numeric_limits<uint64_t>::max() >> 8)) {
        return DataLossError("tar header field " + std::string(what) + " overflows");
      }
      v = (v << 8) | p[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < f.size && (p[i] == ' ' || p[i] == '\0')) {
    ++i;
  }
  uint64_t v = 0;
  bool digits = false;
  for (; i < f.size && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v > (std::numeric_limits<uint64_t>::max() >> 3)) {
      return DataLossError("tar header field " + std::string(what) + " overflows");
    }
    v = (v << 3) | (p[i] - '0');
    digits = true;
  }
  for (; i < f.size; ++i) {
    if (p[i] != ' ' && p[i] != '\0') {
      return DataLossError("tar header field " + std::string(what) + " is not an octal number");
    }
  }
  if (!digits) {
    return uint64_t{0};
  }
  return v;
}

std::string CString(const char* block, Field f) {
  const char* p = block + f.offset;
  return std::string(p, strnlen(p, f.size));
}

size_t Digits(size_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// One PAX record "<len> <key>=<value>\n", where <len> counts the whole record.
std::string PaxRecord(std::string_view key, std::string_view value) {
  size_t base = 1 + key.size() + 1 + value.size() + 1;  // ' ' key '=' value '\n'
  size_t len = base + Digits(base);
  if (Digits(len) != Digits(base)) {
    len = base + Digits(len);
  }
  std::string out = std::to_string(len);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
  return out;
}

// Splits `name` into ustar's prefix and name fields; false if it cannot be done.
bool SplitUstarName(std::string_view name, std::string_view* prefix, std::string_view* rest) {
  if (name.size() <= kNameSize) {
    *prefix = {};
    *rest = name;
    return true;
  }
  // The prefix ends at a '/', is at most 155 bytes, and leaves at most 100 for the name.
  size_t limit = std::min(name.size() - 1, kPrefixSize);
  for (size_t i = limit + 1; i-- > 0;) {
    if (name[i] == '/' && name.size() - i - 1 <= kNameSize && i > 0) {
      *prefix = name.substr(0, i);
      *rest = name.substr(i + 1);
      return !rest->empty();
    }
  }
  return false;
}

void FillHeader(char* block, std::string_view name, std::string_view prefix, uint64_t size,
                int64_t mtime, char type) {
  std::memset(block, 0, kBlock);
  PutString(block, kName, name);
  PutOctal(block, kMode, 0755);
  PutOctal(block, kUid, 0);
  PutOctal(block, kGid, 0);
  PutOctal(block, kSize, size);
  PutOctal(block, kMtime, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  block[kTypeflag] = type;
  std::memcpy(block + kMagic.offset, "ustar", 6);  // "ustar" and its NUL
  block[kVersion.offset] = '0';
  block[kVersion.offset + 1] = '0';
  PutString(block, kPrefix, prefix);
  SetChecksum(block);
}

bool AllZero(const char* block) {
  return std::all_of(block, block + kBlock, [](char c) { return c == '\0'; });
}

}  // namespace

Status ValidateEntryName(std::string_view name) {
  if (name.empty()) {
    return InvalidArgumentError("entry name is empty");
  }
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("entry name contains a NUL byte");
  }
  if (name.front() == '/') {
    return InvalidArgumentError("entry name '" + std::string(name) + "' is absolute");
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    std::string_view seg = name.substr(start, end - start);
    if (seg.empty()) {
      return InvalidArgumentError("entry name '" + std::string(name) + "' has an empty segment");
    }
    if (seg == "." || seg == "..") {
      return InvalidArgumentError("entry name '" + std::string(name) + "' has a '" +
                                  std::string(seg) + "' segment");
    }
    start = end + 1;
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// TarWriter

Status TarWriter::Emit(std::string_view bytes) {
  RETURN_IF_ERROR(sink_(bytes));
  bytes_written_ += bytes.size();
  return OkStatus();
}

Status TarWriter::EmitPadding(uint64_t size) {
  static constexpr std::array<char, kBlock> kZeros{};
  size_t pad = (kBlock - size % kBlock) % kBlock;
  if (pad == 0) {
    return OkStatus();
  }
  return Emit(std::string_view(kZeros.data(), pad));
}

Status TarWriter::AddFile(std::string_view name, std::string_view content,
                          std::chrono::system_clock::time_point mtime) {
  if (finished_) {
    return FailedPreconditionError("tar archive is already finished");
  }
  RETURN_IF_ERROR(ValidateEntryName(name));
  if (content.size() > kMaxOctalSize) {
    return InvalidArgumentError("entry '" + std::string(name) + "' is larger than 8 GiB");
  }
  int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(mtime.time_since_epoch()).count();
  std::array<char, kBlock> block{};
  std::string_view prefix;
  std::string_view rest;
  if (!SplitUstarName(name, &prefix, &rest)) {
    // A PAX extended header carries the full name; the ustar field gets a truncated copy.
    std::string records = PaxRecord("path", name);
    std::string pax_name = "PaxHeaders.0/" + std::string(name.substr(name.rfind('/') + 1));
    FillHeader(block.data(), std::string_view(pax_name).substr(0, kNameSize), {}, records.size(),
               secs, 'x');
    RETURN_IF_ERROR(Emit(std::string_view(block.data(), kBlock)));
    RETURN_IF_ERROR(Emit(records));
    RETURN_IF_ERROR(EmitPadding(records.size()));
    prefix = {};
    rest = name.substr(0, kNameSize);
  }
  FillHeader(block.data(), rest, prefix, content.size(), secs, '0');
  RETURN_IF_ERROR(Emit(std::string_view(block.data(), kBlock)));
  RETURN_IF_ERROR(Emit(content));
  RETURN_IF_ERROR(EmitPadding(content.size()));
  ++entries_;
  return OkStatus();
}

Status TarWriter::Finish() {
  if (finished_) {
    return OkStatus();
  }
  static constexpr std::array<char, 2 * kBlock> kEnd{};
  RETURN_IF_ERROR(Emit(std::string_view(kEnd.data(), kEnd.size())));
  finished_ = true;
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// TarReader

Status TarReader::Fail(Status s) {
  error_ = std::move(s);
  return error_;
}

Status TarReader::OnHeader(const char* block) {
  ++index_;
  if (AllZero(block)) {
    if (++zero_blocks_ == 2) {
      state_ = State::kEnd;
    }
    return OkStatus();
  }
  if (zero_blocks_ > 0) {
    return DataLossError("corrupt tarball: a zero block is followed by header " +
                         std::to_string(index_));
  }
  ASSIGN_OR_RETURN(uint64_t stored, ParseNumber(block, kChecksum, "checksum"));
  if (stored != ChecksumOf(block, false) && stored != ChecksumOf(block, true)) {
    return DataLossError("corrupt tarball: header " + std::to_string(index_) +
                         " fails its checksum (is this a tar.gz file?)");
  }
  ASSIGN_OR_RETURN(uint64_t size, ParseNumber(block, kSize, "size"));
  ASSIGN_OR_RETURN(uint64_t mtime, ParseNumber(block, kMtime, "mtime"));
  mtime_ = static_cast<int64_t>(std::min<uint64_t>(mtime, std::numeric_limits<int64_t>::max()));
  type_ = block[kTypeflag];

  std::string name = CString(block, kName);
  if (std::memcmp(block + kMagic.offset, "ustar", 6) == 0) {
    std::string prefix = CString(block, kPrefix);
    if (!prefix.empty()) {
      name = prefix + "/" + name;
    }
  }
  if (!gnu_long_name_.empty()) {
    name = std::move(gnu_long_name_);
    gnu_long_name_.clear();
  }
  if (!pax_path_.empty() && type_ != 'x' && type_ != 'g') {
    name = std::move(pax_path_);
    pax_path_.clear();
  }
  name_ = std::move(name);

  bool meta = type_ == 'x' || type_ == 'g' || type_ == 'L' || type_ == 'K';
  bool regular = type_ == '0' || type_ == '\0' || type_ == '7';
  skip_ = !meta && !regular;
  if (meta) {
    uint64_t limit = type_ == 'L' ? limits_.max_name_length + 1 : limits_.max_pax_header_size;
    if (size > limit) {
      return ResourceExhaustedError("hostile tarball: extended header " + std::to_string(index_) +
                                    " claims " + std::to_string(size) + " bytes (limit " +
                                    std::to_string(limit) + ")");
    }
  } else if (regular) {
    if (name_.size() > limits_.max_name_length) {
      return InvalidArgumentError("hostile tarball: entry " + std::to_string(index_) +
                                  " has a name of " + std::to_string(name_.size()) + " bytes");
    }
    Status valid = ValidateEntryName(name_);
    if (!valid.ok()) {
      return InvalidArgumentError("hostile tarball: entry " + std::to_string(index_) + ": " +
                                  valid.message());
    }
    if (size > limits_.max_entry_size) {
      return ResourceExhaustedError("tarball entry '" + name_ + "' claims " + std::to_string(size) +
                                    " bytes, more than the limit of " +
                                    std::to_string(limits_.max_entry_size));
    }
  }
  remaining_ = size;
  padding_ = (kBlock - size % kBlock) % kBlock;
  content_.clear();
  if (!skip_) {
    content_.reserve(std::min<uint64_t>(size, 1 << 20));
  }
  if (size == 0) {
    return OnContentComplete();
  }
  state_ = State::kContent;
  return OkStatus();
}

Status TarReader::OnContentComplete() {
  state_ = padding_ > 0 ? State::kPadding : State::kHeader;
  if (skip_) {
    ++skipped_;
    return OkStatus();
  }
  switch (type_) {
    case 'x': {
      // PAX records: "<len> <key>=<value>\n". Only path matters here; size overrides are refused
      // rather than trusted.
      std::string_view rest = content_;
      while (!rest.empty()) {
        size_t space = rest.find(' ');
        if (space == std::string_view::npos || space == 0 || space > 20) {
          return DataLossError("corrupt tarball: malformed PAX header " + std::to_string(index_));
        }
        uint64_t len = 0;
        for (char c : rest.substr(0, space)) {
          if (c < '0' || c > '9') {
            return DataLossError("corrupt tarball: malformed PAX record length in header " +
                                 std::to_string(index_));
          }
          len = len * 10 + static_cast<uint64_t>(c - '0');
        }
        if (len <= space + 1 || len > rest.size() || rest[len - 1] != '\n') {
          return DataLossError("corrupt tarball: malformed PAX record in header " +
                               std::to_string(index_));
        }
        std::string_view record = rest.substr(space + 1, len - space - 2);
        size_t eq = record.find('=');
        if (eq == std::string_view::npos) {
          return DataLossError("corrupt tarball: PAX record without '=' in header " +
                               std::to_string(index_));
        }
        std::string_view key = record.substr(0, eq);
        std::string_view value = record.substr(eq + 1);
        if (key == "path") {
          pax_path_ = std::string(value);
        } else if (key == "size") {
          return DataLossError("unsupported tarball: PAX size record in header " +
                               std::to_string(index_) + " (entries over 8 GiB are not items)");
        }
        rest.remove_prefix(len);
      }
      return OkStatus();
    }
    case 'g':
    case 'K':
      return OkStatus();
    case 'L':
      gnu_long_name_ = std::string(content_.data(), strnlen(content_.data(), content_.size()));
      return OkStatus();
    default:
      break;
  }
  ++entries_;
  TarEntry entry{name_, content_,
                 std::chrono::system_clock::time_point(std::chrono::seconds(mtime_))};
  return handler_(entry);
}

Status TarReader::Write(std::string_view chunk) {
  if (!error_.ok()) {
    return error_;
  }
  while (!chunk.empty()) {
    switch (state_) {
      case State::kEnd:
        // Anything after the end marker (record padding) is ignored, as tar readers do.
        return OkStatus();
      case State::kHeader: {
        if (header_.empty() && chunk.size() >= kBlock) {
          Status s = OnHeader(chunk.data());
          if (!s.ok()) {
            return Fail(std::move(s));
          }
          chunk.remove_prefix(kBlock);
          break;
        }
        size_t take = std::min(kBlock - header_.size(), chunk.size());
        header_.append(chunk.data(), take);
        chunk.remove_prefix(take);
        if (header_.size() == kBlock) {
          Status s = OnHeader(header_.data());
          header_.clear();
          if (!s.ok()) {
            return Fail(std::move(s));
          }
        }
        break;
      }
      case State::kContent: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, chunk.size()));
        if (!skip_) {
          content_.append(chunk.data(), take);
        }
        remaining_ -= take;
        chunk.remove_prefix(take);
        if (remaining_ == 0) {
          Status s = OnContentComplete();
          if (!s.ok()) {
            return Fail(std::move(s));
          }
        }
        break;
      }
      case State::kPadding: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(padding_, chunk.size()));
        padding_ -= take;
        chunk.remove_prefix(take);
        if (padding_ == 0) {
          state_ = State::kHeader;
        }
        break;
      }
    }
  }
  return OkStatus();
}

Status TarReader::Finish() {
  if (!error_.ok()) {
    return error_;
  }
  switch (state_) {
    case State::kEnd:
      return OkStatus();
    case State::kHeader:
      if (header_.empty() && pax_path_.empty() && gnu_long_name_.empty()) {
        return OkStatus();
      }
      return Fail(
          DataLossError("truncated tarball: it ends inside header " + std::to_string(index_ + 1)));
    case State::kContent:
    case State::kPadding:
      return Fail(DataLossError("truncated tarball: it ends inside entry '" + name_ + "'"));
  }
  return OkStatus();
}

}  // namespace arca::archive
