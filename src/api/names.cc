#include "api/names.h"

#include <openssl/evp.h>

#include <array>

namespace arca::api {

std::string GetValidName(std::string_view name) {
  constexpr size_t kMaxLength = 63;
  constexpr size_t kHashChars = 6;
  if (name.size() <= kMaxLength) {
    return std::string(name);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(name.data(), name.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(name.substr(0, kMaxLength - kHashChars));
  for (size_t i = 0; i < kHashChars / 2; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace arca::api
