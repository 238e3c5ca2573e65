// File: controller/http_server.h
//
// HttpServer: the server's tiny HTTP/1.1 endpoint for /metrics, /healthz and /readyz. It serves
// GET (and HEAD) only, one request per connection (Connection: close), on one thread; a request
// must arrive within 5 seconds and its head must fit in 16 KiB. Other methods get 405, unknown
// paths 404.
//
// Example:
//   HttpServer http({{"/healthz", [] { return HttpReply{200, "text/plain", "ok\n"}; }}});
//   RETURN_IF_ERROR(http.Start("127.0.0.1:8085"));
//   ...
//   http.Stop();
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/status.h"

namespace arca::controller {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpReply()>;

class HttpServer {
 public:
  explicit HttpServer(std::map<std::string, HttpHandler> handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `address` ("host:port", ":port" for every interface, port 0 for any free port) and
  // starts serving. kInvalidArgument for a malformed address; kUnavailable when it cannot bind
  // (the message names the address and the reason, e.g. "Address already in use").
  Status Start(const std::string& address);
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  void Serve();
  void Handle(int fd);

  const std::map<std::string, HttpHandler> handlers_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
};

// Splits "host:port" (":port" and "[v6]:port" too). kInvalidArgument with an example otherwise.
Status ParseHostPort(const std::string& address, std::string& host, int& port);

}  // namespace arca::controller
