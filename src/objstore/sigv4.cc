#include "objstore/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "http/uri.h"
#include "objstore/hash.h"

namespace arca::objstore {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Trims and collapses runs of spaces and tabs to one space.
std::string CanonicalValue(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
  }
  return out;
}

// Lower-cased names mapped to their comma-joined canonical values, sorted by name.
std::map<std::string, std::string> CanonicalHeaderMap(const http::Headers& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    std::string& joined = out[Lower(CanonicalValue(name))];
    if (!joined.empty()) {
      joined.push_back(',');
    }
    joined += CanonicalValue(value);
  }
  return out;
}

void Upsert(http::Headers& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return http::EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

}  // namespace

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

std::string CanonicalUri(std::string_view path) {
  if (path.empty()) {
    return "/";
  }
  return http::UriEncode(path, /*encode_slash=*/false);
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(http::UriEncode(name, true), http::UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string SignedHeaders(const http::Headers& headers) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaderMap(headers)) {
    if (!out.empty()) {
      out.push_back(';');
    }
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const SigningRequest& request) {
  std::string out = request.method + "\n" + CanonicalUri(request.path) + "\n" +
                    CanonicalQueryString(request.query) + "\n";
  for (const auto& [name, value] : CanonicalHeaderMap(request.headers)) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  out += "\n" + SignedHeaders(request.headers) + "\n" + request.payload_hash;
  return out;
}

std::string CredentialScope(std::string_view yyyymmdd, std::string_view region,
                            std::string_view service) {
  return std::string(yyyymmdd) + "/" + std::string(region) + "/" + std::string(service) +
         "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         Sha256Hex(canonical_request);
}

std::string ComputeSignature(std::string_view secret_access_key, std::string_view yyyymmdd,
                             std::string_view region, std::string_view service,
                             std::string_view string_to_sign) {
  const std::string k_date = HmacSha256("AWS4" + std::string(secret_access_key), yyyymmdd);
  const std::string k_region = HmacSha256(k_date, region);
  const std::string k_service = HmacSha256(k_region, service);
  const std::string k_signing = HmacSha256(k_service, "aws4_request");
  return HexEncode(HmacSha256(k_signing, string_to_sign));
}

std::string SignRequest(SigningRequest& request, const Credentials& credentials,
                        std::string_view region, std::string_view service,
                        std::chrono::system_clock::time_point now) {
  const std::string amz_date = FormatAmzDate(now);
  const std::string day = amz_date.substr(0, 8);
  std::erase_if(request.headers,
                [](const auto& h) { return http::EqualsIgnoreCase(h.first, "authorization"); });
  Upsert(request.headers, "x-amz-date", amz_date);
  if (service == "s3") {
    Upsert(request.headers, "x-amz-content-sha256", request.payload_hash);
  }
  if (!credentials.session_token.empty()) {
    Upsert(request.headers, "x-amz-security-token", credentials.session_token);
  }
  const std::string scope = CredentialScope(day, region, service);
  const std::string sts = StringToSign(amz_date, scope, CanonicalRequest(request));
  std::string authorization =
      std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
      ", SignedHeaders=" + SignedHeaders(request.headers) +
      ", Signature=" + ComputeSignature(credentials.secret_access_key, day, region, service, sts);
  request.headers.emplace_back("authorization", authorization);
  return authorization;
}

void PresignRequest(SigningRequest& request, const Credentials& credentials,
                    std::string_view region, std::string_view service,
                    std::chrono::system_clock::time_point now, std::chrono::seconds expires) {
  const std::string amz_date = FormatAmzDate(now);
  const std::string day = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(day, region, service);
  request.payload_hash = std::string(kUnsignedPayload);
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  request.query.emplace_back("X-Amz-Date", amz_date);
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request.query.emplace_back("X-Amz-SignedHeaders", SignedHeaders(request.headers));
  const std::string sts = StringToSign(amz_date, scope, CanonicalRequest(request));
  request.query.emplace_back("X-Amz-Signature", ComputeSignature(credentials.secret_access_key, day,
                                                                 region, service, sts));
}

}  // namespace arca::objstore
