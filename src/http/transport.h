// File: http/transport.h
//
// Transport: the small HTTP client interface that Arca's S3 and Kubernetes clients are written
// against. It moves bytes and nothing else: no signing, no retries, no protocol parsing. Bodies
// can be streamed both ways, so objects of any size pass through in bounded memory.
//
// The production implementation is CurlTransport (http/curl_transport.h); unit tests use fakes
// that script responses.
//
// Example:
//   Request req{.method = "GET", .url = "https://example.com/x"};
//   ASSIGN_OR_RETURN(Response resp, transport.Send(req));
//   if (resp.status != 200) ...
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace arca::http {

// Header fields in order. Names keep their case on requests; response names are lower-case.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Fills `buffer` with the next bytes of a request body and returns how many it wrote; 0 means
// the body is complete. An error aborts the request with that error.
using BodyReader = std::function<Result<size_t>(std::span<char> buffer)>;

// Receives the next chunk of a response body. An error aborts the transfer with that error.
using BodySink = std::function<Status(std::string_view chunk)>;

struct Response;

struct Request {
  std::string method = "GET";
  // An absolute http:// or https:// URL, already percent-encoded.
  std::string url;
  Headers headers;
  // The body, used when `body_reader` is empty.
  std::string body;
  // A streamed body. `body_size` is its length when known (sent as Content-Length), or -1 to
  // send it chunked.
  BodyReader body_reader;
  int64_t body_size = -1;
  // With a sink: called once with the status and headers of a 2xx response before its first
  // body byte reaches the sink (after the transfer when the body is empty). An error aborts the
  // transfer with that error. Lets a caller decide how to handle the body from its headers.
  std::function<Status(const Response& head)> on_headers;
  // A limit on the whole exchange; zero means none (stalls are still caught, see
  // TransportOptions::stall_timeout).
  std::chrono::milliseconds timeout{0};
  // A TLS client certificate and its private key, PEM, for this request (Kubernetes client
  // certificate authentication; may rotate between requests). Both or neither.
  std::string client_cert_pem;
  std::string client_key_pem;
};

struct Response {
  int status = 0;
  // The HTTP version used: 1 (HTTP/1.x) or 2. CurlTransport fills it in.
  int http_version = 1;
  // How many new connections this exchange opened (0 when it reused one, as a multiplexed
  // HTTP/2 stream does). CurlTransport fills it in.
  int new_connections = 0;
  Headers headers;
  // The body, unless a sink was given and the status is 2xx (then the sink got it). Error
  // bodies (status >= 300) always land here, capped at kMaxErrorBody bytes.
  std::string body;

  static constexpr size_t kMaxErrorBody = size_t{64} * 1024;

  // The value of the first header called `name` (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends `request` and waits for the whole response. A 2xx response body is passed to `sink`
  // when one is given; otherwise it is returned in Response::body.
  //
  // Returns the response for every status the server sent, including 4xx and 5xx. Errors:
  //   kUnavailable        connection refused or reset, DNS failure, timeout or stall (retryable).
  //   kFailedPrecondition TLS verification failed (fix the CA bundle; do not retry).
  //   kInvalidArgument    the URL is malformed.
  //   any code            returned by the reader or the sink, unchanged.
  // Thread-safe: many threads may call Send at once.
  virtual Result<Response> Send(const Request& request, const BodySink* sink) = 0;
  Result<Response> Send(const Request& request) { return Send(request, nullptr); }
};

using TransportPtr = std::unique_ptr<Transport>;

// True when `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace arca::http
