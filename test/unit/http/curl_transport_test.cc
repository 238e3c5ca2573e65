// CurlTransport against a tiny HTTP/1.1 server on a loopback port chosen by the kernel.
#include "http/curl_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "archive/gzip.h"

namespace arca::http {
namespace {

using ::testing::HasSubstr;

struct SeenRequest {
  std::string head;  // request line and headers
  std::string body;
};

// Serves one connection at a time; every response closes its connection.
class LoopbackServer {
 public:
  using Handler = std::function<std::string(const SeenRequest&)>;

  explicit LoopbackServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<SeenRequest> seen() {
    const std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) {
        continue;
      }
      Serve(conn);
      ::close(conn);
    }
  }

  void Serve(int conn) {
    std::string data;
    char buffer[65536];
    size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      const ssize_t n = ::recv(conn, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        return;
      }
      data.append(buffer, static_cast<size_t>(n));
      head_end = data.find("\r\n\r\n");
    }
    SeenRequest req{data.substr(0, head_end), data.substr(head_end + 4)};
    const auto header = [&](const std::string& name) -> std::string {
      const size_t at = req.head.find("\r\n" + name + ": ");
      if (at == std::string::npos) {
        return "";
      }
      const size_t start = at + name.size() + 4;
      return req.head.substr(start, req.head.find("\r\n", start) - start);
    };
    const std::string length = header("Content-Length");
    const bool chunked = header("Transfer-Encoding") == "chunked";
    while ((!length.empty() && req.body.size() < std::stoul(length)) ||
           (chunked && req.body.find("\r\n0\r\n\r\n") == std::string::npos &&
            !req.body.starts_with("0\r\n\r\n"))) {
      const ssize_t n = ::recv(conn, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        break;
      }
      req.body.append(buffer, static_cast<size_t>(n));
    }
    if (chunked) {
      std::string decoded;
      size_t pos = 0;
      while (true) {
        const size_t eol = req.body.find("\r\n", pos);
        const size_t size = std::stoul(req.body.substr(pos, eol - pos), nullptr, 16);
        if (size == 0) {
          break;
        }
        decoded += req.body.substr(eol + 2, size);
        pos = eol + 2 + size + 2;
      }
      req.body = decoded;
    }
    {
      const std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(req);
    }
    const std::string response = handler_(req);
    size_t sent = 0;
    while (sent < response.size()) {
      const ssize_t n = ::send(conn, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      sent += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

std::string HttpResponse(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra + "\r\n" + body;
}

TEST(CurlTransportTest, StreamsA2xxBodyToTheSinkAndKeepsHeaders) {
  const std::string big(300 * 1024, 'b');
  LoopbackServer server(
      [&](const SeenRequest&) { return HttpResponse(200, big, "X-Test:  spaced value \r\n"); });
  CurlTransport transport({});
  std::string got;
  int chunks = 0;
  const BodySink sink = [&](std::string_view chunk) {
    got.append(chunk);
    ++chunks;
    return OkStatus();
  };
  Request req;
  req.url = server.Url("/obj");
  req.headers = {{"X-Custom", "1"}};
  auto resp = transport.Send(req, &sink);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(got, big);
  EXPECT_GT(chunks, 1);
  EXPECT_TRUE(resp->body.empty());
  EXPECT_EQ(resp->Header("x-test").value_or(""), "spaced value");
  EXPECT_EQ(resp->Header("X-TEST").value_or(""), "spaced value");
  EXPECT_THAT(server.seen().at(0).head, HasSubstr("\r\nX-Custom: 1"));
  EXPECT_THAT(server.seen().at(0).head, ::testing::Not(HasSubstr("Expect:")));
}

std::string Gzipped(std::string_view text) {
  std::string gz;
  archive::GzipWriter writer([&](std::string_view d) {
    gz.append(d);
    return OkStatus();
  });
  EXPECT_TRUE(writer.Write(text).ok());
  EXPECT_TRUE(writer.Finish().ok());
  return gz;
}

TEST(CurlTransportTest, AcceptsAndDecompressesGzipWhenAsked) {
  std::string json;
  for (int i = 0; i < 5000; ++i) {
    json += R"({"kind":"ConfigMap","metadata":{"name":"cm-)" + std::to_string(i) + R"("}})";
  }
  const std::string gz = Gzipped(json);
  LoopbackServer server([&](const SeenRequest& r) {
    if (r.head.find("Accept-Encoding: gzip") == std::string::npos) {
      return HttpResponse(200, json);
    }
    return HttpResponse(200, gz, "Content-Encoding: gzip\r\n");
  });
  for (bool compressed : {false, true}) {
    TransportOptions options;
    options.accept_compressed = compressed;
    CurlTransport transport(options);
    std::string got;
    const BodySink sink = [&](std::string_view chunk) {
      got.append(chunk);
      return OkStatus();
    };
    Request req;
    req.url = server.Url("/api/v1/configmaps");
    auto resp = transport.Send(req, &sink);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(got, json) << "compressed=" << compressed;
  }
  ASSERT_EQ(server.seen().size(), 2u);
  EXPECT_THAT(server.seen()[0].head, ::testing::Not(HasSubstr("Accept-Encoding")));
  EXPECT_THAT(server.seen()[1].head, HasSubstr("Accept-Encoding: gzip"));
}

TEST(CurlTransportTest, GzipBodiesWithoutASinkAndErrorBodiesAreDecompressed) {
  const std::string json = R"({"kind":"Status","message":"configmaps \"x\" not found"})";
  LoopbackServer server([&](const SeenRequest& r) {
    const int code = r.head.find("/missing") != std::string::npos ? 404 : 200;
    return HttpResponse(code, Gzipped(json), "Content-Encoding: gzip\r\n");
  });
  TransportOptions options;
  options.accept_compressed = true;
  CurlTransport transport(options);
  for (const char* path : {"/found", "/missing"}) {
    Request req;
    req.url = server.Url(path);
    auto resp = transport.Send(req);  // no sink: the body lands in the response
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, json) << path;
  }
  // With a sink, the error body still goes to the response, decompressed.
  const BodySink sink = [](std::string_view) { return OkStatus(); };
  Request req;
  req.url = server.Url("/missing");
  auto resp = transport.Send(req, &sink);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 404);
  EXPECT_EQ(resp->body, json);
}

TEST(CurlTransportTest, ACutOffOrCorruptGzipBodyIsAnError) {
  const std::string json(100000, 'x');
  const std::string gz = Gzipped(json);
  LoopbackServer server([&](const SeenRequest& r) {
    if (r.head.find("/short") != std::string::npos) {
      return HttpResponse(200, gz.substr(0, gz.size() - 9), "Content-Encoding: gzip\r\n");
    }
    std::string bad = gz;
    bad[bad.size() - 5] ^= 1;  // the size in the trailer
    return HttpResponse(200, bad, "Content-Encoding: gzip\r\n");
  });
  TransportOptions options;
  options.accept_compressed = true;
  CurlTransport transport(options);
  for (const char* path : {"/short", "/corrupt"}) {
    for (bool with_sink : {true, false}) {
      size_t delivered = 0;
      const BodySink sink = [&](std::string_view d) {
        delivered += d.size();
        return OkStatus();
      };
      Request req;
      req.url = server.Url(path);
      auto resp = with_sink ? transport.Send(req, &sink) : transport.Send(req);
      ASSERT_FALSE(resp.ok()) << path << " with_sink=" << with_sink;
      EXPECT_EQ(resp.status().code(), StatusCode::kDataLoss) << resp.status().ToString();
      EXPECT_THAT(resp.status().message(), HasSubstr("gzip")) << resp.status().ToString();
    }
  }
}

TEST(CurlTransportTest, ErrorBodiesGoToTheResponseNotTheSink) {
  LoopbackServer server([](const SeenRequest&) {
    return HttpResponse(404, "<Error><Code>NoSuchKey</Code></Error>");
  });
  CurlTransport transport({});
  bool sink_called = false;
  const BodySink sink = [&](std::string_view) {
    sink_called = true;
    return OkStatus();
  };
  Request req;
  req.url = server.Url("/missing");
  auto resp = transport.Send(req, &sink);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 404);
  EXPECT_EQ(resp->body, "<Error><Code>NoSuchKey</Code></Error>");
  EXPECT_FALSE(sink_called);
}

TEST(CurlTransportTest, StreamsRequestBodiesWithLengthOrChunked) {
  LoopbackServer server([](const SeenRequest& r) { return HttpResponse(200, r.body); });
  CurlTransport transport({});
  for (const int64_t declared : {int64_t{1 << 20}, int64_t{-1}}) {
    size_t produced = 0;
    Request req;
    req.method = "PUT";
    req.url = server.Url("/put");
    req.body_size = declared;
    req.body_reader = [&](std::span<char> buffer) -> Result<size_t> {
      const size_t n = std::min<size_t>({buffer.size(), 7000, (1 << 20) - produced});
      for (size_t i = 0; i < n; ++i) {
        buffer[i] = static_cast<char>('a' + (produced + i) % 26);
      }
      produced += n;
      return n;
    };
    auto resp = transport.Send(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    ASSERT_EQ(resp->body.size(), 1u << 20);
    EXPECT_EQ(resp->body[27], 'b');
  }
  const auto seen = server.seen();
  EXPECT_THAT(seen[0].head, HasSubstr("Content-Length: 1048576"));
  EXPECT_THAT(seen[1].head, HasSubstr("Transfer-Encoding: chunked"));
}

TEST(CurlTransportTest, MethodsAndInMemoryBodies) {
  LoopbackServer server([](const SeenRequest&) { return HttpResponse(204, ""); });
  CurlTransport transport({});
  for (const char* method : {"POST", "DELETE", "HEAD", "PUT"}) {
    Request req;
    req.method = method;
    req.url = server.Url("/m?x=1");
    if (std::string(method) == "POST") {
      req.body = "<Delete/>";
    }
    auto resp = transport.Send(req);
    ASSERT_TRUE(resp.ok()) << method << ": " << resp.status().ToString();
    EXPECT_EQ(resp->status, 204);
  }
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_THAT(seen[0].head, ::testing::StartsWith("POST /m?x=1 HTTP/1.1"));
  EXPECT_EQ(seen[0].body, "<Delete/>");
  EXPECT_THAT(seen[1].head, ::testing::StartsWith("DELETE /m?x=1"));
  EXPECT_THAT(seen[2].head, ::testing::StartsWith("HEAD /m?x=1"));
  EXPECT_THAT(seen[3].head, HasSubstr("Content-Length: 0"));
}

TEST(CurlTransportTest, OnHeadersRunsBeforeTheBodyAndCanAbort) {
  LoopbackServer server([](const SeenRequest& r) {
    return HttpResponse(200, r.head.starts_with("GET /empty") ? "" : "body", "X-Kind: blob\r\n");
  });
  CurlTransport transport({});
  std::string order;
  const BodySink sink = [&](std::string_view chunk) {
    order += "body:" + std::string(chunk) + ";";
    return OkStatus();
  };
  Request req;
  req.url = server.Url("/x");
  req.on_headers = [&](const Response& head) {
    order += "headers:" + std::string(head.Header("x-kind").value_or("")) + ";";
    return OkStatus();
  };
  ASSERT_TRUE(transport.Send(req, &sink).ok());
  EXPECT_EQ(order, "headers:blob;body:body;");

  order.clear();
  req.url = server.Url("/empty");
  ASSERT_TRUE(transport.Send(req, &sink).ok());
  EXPECT_EQ(order, "headers:blob;");

  req.url = server.Url("/x");
  req.on_headers = [](const Response&) { return FailedPreconditionError("not a blob"); };
  order.clear();
  EXPECT_EQ(transport.Send(req, &sink).status(), FailedPreconditionError("not a blob"));
  EXPECT_EQ(order, "");
}

TEST(CurlTransportTest, SinkAndReaderErrorsAbortWithTheirStatus) {
  LoopbackServer server([](const SeenRequest&) { return HttpResponse(200, "payload"); });
  CurlTransport transport({});
  const BodySink sink = [](std::string_view) { return DataLossError("disk full"); };
  Request get;
  get.url = server.Url("/x");
  EXPECT_EQ(transport.Send(get, &sink).status(), DataLossError("disk full"));

  Request put;
  put.method = "PUT";
  put.url = server.Url("/x");
  put.body_size = 10;
  put.body_reader = [](std::span<char>) -> Result<size_t> {
    return CancelledError("stopped by caller");
  };
  EXPECT_EQ(transport.Send(put).status(), CancelledError("stopped by caller"));
}

TEST(CurlTransportTest, ConnectionRefusedAndTimeoutsAreUnavailable) {
  int port = 0;
  {
    LoopbackServer closed([](const SeenRequest&) { return std::string(); });
    port = std::stoi(closed.Url("").substr(17));
  }
  CurlTransport transport({});
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/x?secret=1";
  auto refused = transport.Send(req);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("GET http://127.0.0.1:"));
  EXPECT_THAT(refused.status().message(), ::testing::Not(HasSubstr("secret")));

  LoopbackServer slow([](const SeenRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return HttpResponse(200, "late");
  });
  Request timed;
  timed.url = slow.Url("/slow");
  timed.timeout = std::chrono::milliseconds(200);
  auto late = transport.Send(timed);
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(late.status().message(), HasSubstr("imeout"));

  Request bad;
  bad.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(transport.Send(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::http
