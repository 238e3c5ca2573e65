// File: objstore/sigv4.h
//
// AWS Signature Version 4 in pure code: no I/O, and the time is always passed in. Two uses:
// signing a request's headers (the Authorization header) and presigning a URL (the X-Amz-*
// query parameters). The rules are S3's: the path is percent-encoded once and never normalised,
// so keys with spaces, '+', '~', '%' or UTF-8 keep their exact bytes.
//
// Example:
//   SigningRequest req;
//   req.method = "GET";
//   req.path = "/bucket/my key.txt";
//   req.headers = {{"host", "127.0.0.1:9000"}};
//   req.payload_hash = kEmptyPayloadHash;
//   SignRequest(req, credentials, "us-east-1", "s3", clock.Now());
//   // req.headers now also holds x-amz-date, x-amz-content-sha256 and authorization.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/transport.h"

namespace arca::objstore {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Set for temporary credentials; sent as x-amz-security-token.
  std::string session_token;
  // Where they came from, for error messages ("profile default in /path/cloud").
  std::string source;
};

// The SHA-256 of an empty body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigningRequest {
  std::string method;
  // The decoded path, starting with '/': "/bucket/a b.txt", not "/bucket/a%20b.txt".
  std::string path;
  // Decoded query parameters, in any order.
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign; must include "host". Names in any case.
  http::Headers headers;
  // Hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash;
};

// "20150830T123600Z".
std::string FormatAmzDate(std::chrono::system_clock::time_point time);

// The canonical URI (S3 rules: encoded once, '/' kept, no normalisation).
std::string CanonicalUri(std::string_view path);
// The canonical query string: each name and value encoded, sorted by name then value.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);
// "host;x-amz-date": the lower-cased, sorted, de-duplicated header names.
std::string SignedHeaders(const http::Headers& headers);
// The six-part canonical request. Repeated headers are joined with ',', values trimmed and
// inner runs of spaces collapsed.
std::string CanonicalRequest(const SigningRequest& request);
// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// "20150830/us-east-1/service/aws4_request".
std::string CredentialScope(std::string_view yyyymmdd, std::string_view region,
                            std::string_view service);
// The hex signature of `string_to_sign`.
std::string ComputeSignature(std::string_view secret_access_key, std::string_view yyyymmdd,
                             std::string_view region, std::string_view service,
                             std::string_view string_to_sign);

// Adds x-amz-date, x-amz-content-sha256 (when service is "s3") and x-amz-security-token (when
// the credentials have one) to `request.headers`, replacing earlier values, signs them all and
// appends the Authorization header. Returns the Authorization value.
std::string SignRequest(SigningRequest& request, const Credentials& credentials,
                        std::string_view region, std::string_view service,
                        std::chrono::system_clock::time_point now);

// Adds the X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders (and
// -Security-Token) parameters and then X-Amz-Signature to `request.query`. The payload is
// UNSIGNED-PAYLOAD and only the headers in `request.headers` (normally just host) are signed.
// REQUIRES: 1 s <= expires <= 7 days.
void PresignRequest(SigningRequest& request, const Credentials& credentials,
                    std::string_view region, std::string_view service,
                    std::chrono::system_clock::time_point now, std::chrono::seconds expires);

}  // namespace arca::objstore
