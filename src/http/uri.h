// File: http/uri.h
//
// Percent-encoding as AWS SigV4 and S3 define it (RFC 3986): every byte except the unreserved
// characters A-Z a-z 0-9 - _ . ~ becomes %XY with upper-case hex. Spaces become %20 (never
// '+'), '+' becomes %2B, and UTF-8 is encoded byte by byte. The input is never decoded first,
// so a '%' in a key is encoded as %25 rather than being taken for an escape.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace arca::http {

// Encodes `text`; '/' is kept as is unless `encode_slash`.
std::string UriEncode(std::string_view text, bool encode_slash);

// Decodes %XY escapes (and, when `plus_is_space`, '+' as a space). Fails on a malformed escape.
Result<std::string> UriDecode(std::string_view text, bool plus_is_space);

}  // namespace arca::http
