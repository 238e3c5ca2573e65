// A fake http::Transport that serves scripted responses, for the kube client's unit tests.
#pragma once

#include <algorithm>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/transport.h"

namespace arca::kube::fakes {

// A scripted response: a status, headers and body, optionally cut off by a transport error
// after `error_after` body bytes (or before any when the status is 0).
struct Scripted {
  Scripted(int status_code, std::string body_text, http::Headers response_headers = {})
      : status(status_code), body(std::move(body_text)), headers(std::move(response_headers)) {}

  int status = 200;
  std::string body;
  http::Headers headers;
  Status error;            // returned by Send when not OK
  size_t error_after = 0;  // bytes delivered to the sink before the error
  size_t chunk = 7;        // the sink receives the body in pieces of this size
};

inline Scripted Fail(Status error) {
  Scripted s(0, "");
  s.error = std::move(error);
  return s;
}

class FakeTransport : public http::Transport {
 public:
  using http::Transport::Send;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override {
    requests.push_back(request);
    if (script.empty()) {
      return InternalError("no scripted response for " + request.method + " " + request.url);
    }
    Scripted s = std::move(script.front());
    script.pop_front();
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
