// A fake http::Transport that serves scripted responses, for the kube client's unit tests.
#pragma once

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/transport.h"

namespace arca::kube::fakes {

// A scripted response: a status, headers and body, optionally cut off by a transport error
// after `error_after` body bytes (or before any when the status is 0). With `path` set, it
// answers only a request for that path (the URL after the host, before any query), so that
// requests a client makes concurrently get the right answers.
struct Scripted {
  Scripted(int status_code, std::string body_text, http::Headers response_headers = {})
      : status(status_code), body(std::move(body_text)), headers(std::move(response_headers)) {}

  int status = 200;
  std::string body;
  http::Headers headers;
  Status error;            // returned by Send when not OK
  size_t error_after = 0;  // bytes delivered to the sink before the error
  size_t chunk = 7;        // the sink receives the body in pieces of this size
  std::string path;        // empty: answers the next request, whatever its path
};

inline Scripted ForPath(std::string path, int status_code, std::string body_text) {
  Scripted s(status_code, std::move(body_text));
  s.path = std::move(path);
  return s;
}

inline Scripted Fail(Status error) {
  Scripted s(0, "");
  s.error = std::move(error);
  return s;
}

class FakeTransport : public http::Transport {
 public:
  using http::Transport::Send;
  // Scripted responses are taken in order; one with a path is skipped for other paths. Requests
  // may come from several threads (the script must not be changed while they run).
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override {
    Scripted s(0, "");
    {
      const std::lock_guard<std::mutex> lock(mu_);
      requests.push_back(request);
      const std::string path = PathOf(request.url);
      auto it = std::find_if(script.begin(), script.end(),
                             [&](const Scripted& c) { return c.path.empty() || c.path == path; });
      if (it == script.end()) {
        return InternalError("no scripted response for " + request.method + " " + request.url);
      }
      s = std::move(*it);
      script.erase(it);
    }
    if (!s.error.ok() && s.status == 0) {
      return s.error;
    }
    http::Response resp;
    resp.status = s.status;
    resp.headers = s.headers;
    const bool to_sink = sink != nullptr && s.status >= 200 && s.status < 300;
    if (!to_sink) {
      resp.body = s.body;
      return resp;
    }
    const size_t end = s.error.ok() ? s.body.size() : std::min(s.error_after, s.body.size());
    for (size_t pos = 0; pos < end; pos += s.chunk) {
      RETURN_IF_ERROR((*sink)(std::string_view(s.body).substr(pos, std::min(s.chunk, end - pos))));
    }
    if (!s.error.ok()) {
      return s.error;
    }
    return resp;
  }

  std::deque<Scripted> script;
  std::vector<http::Request> requests;

 private:
  // "https://host:1/a/b?c" -> "/a/b".
  static std::string PathOf(std::string_view url) {
    const size_t scheme = url.find("://");
    const size_t start = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    if (start == std::string_view::npos) {
      return "/";
    }
    return std::string(url.substr(start, url.find('?', start) - start));
  }

  std::mutex mu_;
};

inline std::string Header(const http::Request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (http::EqualsIgnoreCase(k, name)) {
      return v;
    }
  }
  return "";
}

}  // namespace arca::kube::fakes
