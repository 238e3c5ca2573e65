// File: objstore/hash.h
//
// The digests and checksums S3 needs, on OpenSSL's EVP interface and ISA-L's CRCs: SHA-256 and
// HMAC-SHA-256 for SigV4, MD5 for Content-MD5 and ETags, and the x-amz-checksum-* family
// (CRC32, CRC32C, SHA1, SHA256). Pure functions and small incremental classes; no I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace arca::objstore {

std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

// Raw digests.
std::string Sha256(std::string_view data);
std::string Md5(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);

// The hex SHA-256 of `data`, as SigV4 uses it.
inline std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

// The checksum algorithms of Velero's `checksumAlgorithm` (x-amz-checksum-*).
enum class ChecksumAlgorithm { kNone, kCrc32, kCrc32c, kSha1, kSha256 };

// Parses "", "CRC32", "CRC32C", "SHA1" or "SHA256" (case-insensitive).
Result<ChecksumAlgorithm> ParseChecksumAlgorithm(std::string_view name);
// "CRC32" etc., or "" for kNone.
std::string_view ChecksumAlgorithmName(ChecksumAlgorithm algorithm);
// The lower-case header suffix: "crc32" in x-amz-checksum-crc32.
std::string_view ChecksumHeaderSuffix(ChecksumAlgorithm algorithm);

// An incremental digest or checksum. Final() returns the raw bytes (big-endian for CRCs), as S3
// sends them base64-encoded. Not thread-safe.
class Hasher {
 public:
  enum class Kind { kMd5, kSha1, kSha256, kCrc32, kCrc32c };

  explicit Hasher(Kind kind);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::string_view data);
  // The digest of everything passed to Update. Call once.
  std::string Final();

  // The Hasher for an x-amz-checksum algorithm. REQUIRES: algorithm != kNone.
  static Hasher ForChecksum(ChecksumAlgorithm algorithm);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(uint32_t crc, std::string_view data);

}  // namespace arca::objstore
