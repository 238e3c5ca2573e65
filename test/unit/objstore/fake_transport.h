// A scripted http::Transport for unit tests: records every request (with its body read out)
// and answers through a handler the test provides. Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "http/transport.h"

namespace arca::objstore::testing {

struct RecordedRequest {
  std::string method;
  std::string url;
  http::Headers headers;
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (http::EqualsIgnoreCase(k, name)) {
        return v;
      }
    }
    return "";
  }
};

// What the handler returns: the response, or a transport error. A 2xx body goes to the sink
// when there is one; `fail_after_body` then makes the transfer fail after delivering it.
struct Scripted {
  Scripted() = default;
  Scripted(Result<http::Response> r) : response(std::move(r)) {}  // NOLINT: implicit on purpose

  Result<http::Response> response = http::Response{};
  Status fail_after_body;
};

class FakeTransport : public http::Transport {
 public:
  using Handler = std::function<Scripted(const RecordedRequest&)>;

  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  using http::Transport::Send;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override {
    RecordedRequest rec{request.method, request.url, request.headers, request.body};
    if (request.body_reader) {
      std::string buffer(64 * 1024, '\0');
      while (true) {
        Result<size_t> n = request.body_reader(std::span<char>(buffer));
        if (!n.ok()) {
          return n.status();
        }
        if (*n == 0) {
          break;
        }
        rec.body.append(buffer.data(), *n);
      }
    }
    Scripted scripted;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rec);
      scripted = handler_(rec);
    }
    if (!scripted.response.ok()) {
      return scripted.response;
    }
    http::Response response = std::move(scripted.response).value();
    if (sink != nullptr && response.status >= 200 && response.status < 300) {
      if (request.on_headers) {
        RETURN_IF_ERROR(request.on_headers(response));
      }
      RETURN_IF_ERROR((*sink)(response.body));
      response.body.clear();
      if (!scripted.fail_after_body.ok()) {
        return scripted.fail_after_body;
      }
    }
    return response;
  }

  std::vector<RecordedRequest> requests() {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
};

inline http::Response MakeResponse(int status, std::string body = "", http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

inline std::string ErrorXml(const std::string& code, const std::string& message = "msg",
                            const std::string& request_id = "REQ123") {
  return "<Error><Code>" + code + "</Code><Message>" + message + "</Message><RequestId>" +
         request_id + "</RequestId></Error>";
}

}  // namespace arca::objstore::testing
