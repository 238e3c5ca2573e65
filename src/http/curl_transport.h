// File: http/curl_transport.h
//
// CurlTransport: the libcurl implementation of Transport. One instance keeps a pool of easy
// handles and share handles, so connections, TLS sessions and DNS answers are reused across
// requests and threads. HTTP/2 is negotiated over TLS when the server offers it; cleartext
// connections use HTTP/1.1.
//
// HTTPS requests (when `http2` is on and the body is not streamed from a reader) run on one
// event-loop thread with a curl multi handle, so that concurrent requests from many threads
// become streams multiplexed over a few HTTP/2 connections (at most 8 per host; requests beyond
// what they carry wait in a queue). The calling thread still runs its sink and on_headers: the
// loop hands it the body through a buffer of 1 MiB and pauses that stream, and only that stream,
// while the buffer is full, so a slow sink never holds up the other requests. Cleartext requests
// and those with a body reader run on the calling thread, over a shared connection pool.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/transport.h"

namespace arca::http {

struct TransportOptions {
  static constexpr std::chrono::milliseconds kDefaultConnectTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultStallTimeout{60'000};

  // A PEM file of CA certificates to trust instead of the system's.
  std::string ca_file;
  // PEM text of CA certificates to trust instead of the system's (Velero's `caCert`). Wins over
  // `ca_file` when both are set.
  std::string ca_pem;
  // Accept any server certificate. Only for test setups; logged by callers.
  bool insecure_skip_tls_verify = false;
  // Offer HTTP/2 over TLS.
  bool http2 = true;
  // Run HTTPS requests on the event loop, multiplexed (see above). When false, every request
  // runs on its calling thread over the shared pool, one request per connection at a time.
  bool multiplex = true;
  // A proxy URL ("http://proxy:3128", "socks5://..."), as kubeconfig's proxy-url; empty for none.
  std::string proxy_url;
  // Ask for gzip-compressed responses (Accept-Encoding) and decompress them before the sink. For
  // APIs whose bodies are large JSON (Kubernetes lists); not for object storage, whose bodies
  // are the objects themselves.
  bool accept_compressed = false;
  // The name to send in TLS SNI and to verify the server certificate against, instead of the
  // URL's host (kubeconfig's tls-server-name). The connection still goes to the URL's host.
  std::string tls_server_name;
  std::chrono::milliseconds connect_timeout = kDefaultConnectTimeout;
  // A transfer that moves no bytes for this long fails with kUnavailable.
  std::chrono::milliseconds stall_timeout = kDefaultStallTimeout;
  std::string user_agent = "arca";
};

class CurlTransport : public Transport {
 public:
  explicit CurlTransport(TransportOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  using Transport::Send;
  Result<Response> Send(const Request& request, const BodySink* sink) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The URL without its query string and user info, for error messages.
std::string RedactUrl(std::string_view url);

}  // namespace arca::http
