// File: kube/encoding.h
//
// Small codecs the Kubernetes client needs: standard base64 (kubeconfig `*-data` fields, Secret
// data) and RFC 3339 timestamps (metav1.Time, ExecCredential expirationTimestamp).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace arca::kube {

// Decodes standard base64 (RFC 4648, '+' and '/'), padded or not; ASCII whitespace is ignored.
// Errors: kInvalidArgument for any other character or a bad length. The message never quotes
// the input, which is often a key.
Result<std::string> Base64Decode(std::string_view text);

// Encodes with padding.
std::string Base64Encode(std::string_view bytes);

// Parses "2026-11-26T12:00:00Z", with optional fractional seconds and a "+hh:mm"/"-hh:mm"
// offset instead of "Z". Errors: kInvalidArgument.
Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

// Formats as "2026-11-26T12:00:00Z" (whole seconds, UTC).
std::string FormatRfc3339(std::chrono::system_clock::time_point time);

}  // namespace arca::kube
