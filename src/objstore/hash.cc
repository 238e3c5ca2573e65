#include "objstore/hash.h"

#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>

namespace arca::objstore {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string Digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string BigEndian32(uint32_t v) {
  std::string out(4, '\0');
  out[0] = static_cast<char>((v >> 24) & 0xff);
  out[1] = static_cast<char>((v >> 16) & 0xff);
  out[2] = static_cast<char>((v >> 8) & 0xff);
  out[3] = static_cast<char>(v & 0xff);
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string clean;
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) {
      clean.push_back(c);
    }
  }
  if (clean.size() % 4 != 0) {
    return InvalidArgumentError("base64 text has a length that is not a multiple of 4");
  }
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) {
    return InvalidArgumentError("malformed base64 text");
  }
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = clean.size(); i > 0 && clean[i - 1] == '='; --i) {
    --len;
  }
  out.resize(len);
  return out;
}

std::string Sha256(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Md5(std::string_view data) { return Digest(EVP_md5(), data); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

Result<ChecksumAlgorithm> ParseChecksumAlgorithm(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (upper.empty()) {
    return ChecksumAlgorithm::kNone;
  }
  if (upper == "CRC32") {
    return ChecksumAlgorithm::kCrc32;
  }
  if (upper == "CRC32C") {
    return ChecksumAlgorithm::kCrc32c;
  }
  if (upper == "SHA1") {
    return ChecksumAlgorithm::kSha1;
  }
  if (upper == "SHA256") {
    return ChecksumAlgorithm::kSha256;
  }
  return InvalidArgumentError("checksumAlgorithm '" + std::string(name) +
                              "' is not one of CRC32, CRC32C, SHA1, SHA256 or \"\" (none)");
}

std::string_view ChecksumAlgorithmName(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kNone:
      return "";
    case ChecksumAlgorithm::kCrc32:
      return "CRC32";
    case ChecksumAlgorithm::kCrc32c:
      return "CRC32C";
    case ChecksumAlgorithm::kSha1:
      return "SHA1";
    case ChecksumAlgorithm::kSha256:
      return "SHA256";
  }
  return "";
}

std::string_view ChecksumHeaderSuffix(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kNone:
      return "";
    case ChecksumAlgorithm::kCrc32:
      return "crc32";
    case ChecksumAlgorithm::kCrc32c:
      return "crc32c";
    case ChecksumAlgorithm::kSha1:
      return "sha1";
    case ChecksumAlgorithm::kSha256:
      return "sha256";
  }
  return "";
}

uint32_t Crc32c(uint32_t crc, std::string_view data) {
  // ISA-L (hardware CRC instructions) keeps the register uninverted; its length is an int.
  uint32_t raw = ~crc;
  while (!data.empty()) {
    const size_t n = std::min<size_t>(data.size(), size_t{1} << 30);
    raw = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(data.data())),
                      static_cast<int>(n), raw);
    data.remove_prefix(n);
  }
  return ~raw;
}

struct Hasher::State {
  Kind kind;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx;
  uint32_t crc = 0;
};

Hasher::Hasher(Kind kind) : state_(std::make_unique<State>()) {
  state_->kind = kind;
  const EVP_MD* md = nullptr;
  switch (kind) {
    case Kind::kMd5:
      md = EVP_md5();
      break;
    case Kind::kSha1:
      md = EVP_sha1();
      break;
    case Kind::kSha256:
      md = EVP_sha256();
      break;
    case Kind::kCrc32:
      state_->crc = 0;
      break;
    case Kind::kCrc32c:
      break;
  }
  if (md != nullptr) {
    state_->ctx.reset(EVP_MD_CTX_new());
    EVP_DigestInit_ex(state_->ctx.get(), md, nullptr);
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::string_view data) {
  switch (state_->kind) {
    case Kind::kCrc32:
      // ISA-L's reflected CRC-32 (gzip's and zlib's), with hardware CRC instructions.
      state_->crc =
          crc32_gzip_refl(state_->crc, reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<uint64_t>(data.size()));
      break;
    case Kind::kCrc32c:
      state_->crc = Crc32c(state_->crc, data);
      break;
    default:
      EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size());
      break;
  }
}

std::string Hasher::Final() {
  if (state_->kind == Kind::kCrc32 || state_->kind == Kind::kCrc32c) {
    return BigEndian32(state_->crc);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx.get(), out.data(), &len);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

Hasher Hasher::ForChecksum(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kCrc32c:
      return Hasher(Kind::kCrc32c);
    case ChecksumAlgorithm::kSha1:
      return Hasher(Kind::kSha1);
    case ChecksumAlgorithm::kSha256:
      return Hasher(Kind::kSha256);
    case ChecksumAlgorithm::kNone:
    case ChecksumAlgorithm::kCrc32:
      break;
  }
  return Hasher(Kind::kCrc32);
}

}  // namespace arca::objstore
