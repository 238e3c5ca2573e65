#include "kube/validation.h"

#include <string>

namespace arca::kube {
namespace {

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxSubdomainLength = 253;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], not empty.
bool IsNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return false;
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Status ValidateDns1123Subdomain(std::string_view name) {
  if (name.empty()) {
    return InvalidArgumentError("a DNS-1123 subdomain must not be empty");
  }
  if (name.size() > kMaxSubdomainLength) {
    return InvalidArgumentError(Quote(name) + " is longer than 253 characters");
  }
  bool ok = IsLowerAlnum(name.front()) && IsLowerAlnum(name.back());
  for (size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      // Each dot-separated label starts and ends with an alphanumeric.
      ok = IsLowerAlnum(name[i - 1]) && i + 1 < name.size() && IsLowerAlnum(name[i + 1]);
    } else {
      ok = IsLowerAlnum(c) || c == '-';
    }
  }
  if (!ok) {
    return InvalidArgumentError(
        Quote(name) +
        " is not a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', starting and "
        "ending with an alphanumeric)");
  }
  return OkStatus();
}

Status ValidateQualifiedName(std::string_view name) {
  std::string_view local = name;
  if (const size_t slash = name.find('/'); slash != std::string_view::npos) {
    const std::string_view prefix = name.substr(0, slash);
    local = name.substr(slash + 1);
    if (prefix.empty()) {
      return InvalidArgumentError("the prefix of " + Quote(name) + " must not be empty");
    }
    if (Status s = ValidateDns1123Subdomain(prefix); !s.ok()) {
      return s.WithContext("the prefix of " + Quote(name));
    }
  }
  if (local.empty()) {
    return InvalidArgumentError("the name part of " + Quote(name) + " must not be empty");
  }
  if (local.size() > kMaxNameLength) {
    return InvalidArgumentError("the name part of " + Quote(name) +
                                " is longer than 63 characters");
  }
  if (!IsNamePart(local)) {
    return InvalidArgumentError(
        Quote(name) +
        " is not a qualified name (alphanumerics, '-', '_' and '.', starting and ending with an "
        "alphanumeric, with an optional DNS subdomain prefix and '/')");
  }
  return OkStatus();
}

Status ValidateLabelValue(std::string_view value) {
  if (value.empty()) {
    return OkStatus();
  }
  if (value.size() > kMaxNameLength) {
    return InvalidArgumentError("label value " + Quote(value) + " is longer than 63 characters");
  }
  if (!IsNamePart(value)) {
    return InvalidArgumentError(
        "label value " + Quote(value) +
        " is not valid (alphanumerics, '-', '_' and '.', starting and ending with an "
        "alphanumeric)");
  }
  return OkStatus();
}

}  // namespace arca::kube
