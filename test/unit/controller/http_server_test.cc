#include "controller/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace arca::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sends `request` to 127.0.0.1:port and returns the whole answer.
std::string Exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(HttpServerTest, ServesHandlersAndRefusesTheRest) {
  int calls = 0;
  HttpServer server({{"/metrics",
                      [&] {
                        ++calls;
                        return HttpReply{200, "text/plain; version=0.0.4", "a_total 1\n"};
                      }},
                     {"/readyz", [] {
                        return HttpReply{503, "text/plain", "not the leader\n"};
                      }}});
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  ASSERT_GT(server.port(), 0);
  std::string r = Exchange(server.port(), "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_THAT(r, ::testing::EndsWith("\r\n\r\na_total 1\n"));
  EXPECT_THAT(Exchange(server.port(), "GET /readyz HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 503 Service Unavailable"));
  EXPECT_THAT(Exchange(server.port(), "GET /nope HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Exchange(server.port(), "POST /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(Exchange(server.port(), "garbage\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  std::string head = Exchange(server.port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_THAT(head, ::testing::EndsWith("\r\n\r\n"));
  EXPECT_EQ(calls, 2);
  server.Stop();
  EXPECT_EQ(Exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n"), "connect failed");
}

TEST(HttpServerTest, BadOrBusyAddressesAreClearErrors) {
  HttpServer a({});
  EXPECT_EQ(a.Start("8085").code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(a.Start("127.0.0.1:99999").message(), HasSubstr("above 65535"));
  HttpServer b({});
  ASSERT_TRUE(b.Start("127.0.0.1:0").ok());
  HttpServer c({});
  Status busy = c.Start("127.0.0.1:" + std::to_string(b.port()));
  EXPECT_EQ(busy.code(), StatusCode::kUnavailable);
  EXPECT_THAT(busy.message(), HasSubstr("Address already in use"));
  std::string host;
  int port = 0;
  ASSERT_TRUE(ParseHostPort(":8085", host, port).ok());
  EXPECT_EQ(host, "");
  EXPECT_EQ(port, 8085);
  ASSERT_TRUE(ParseHostPort("[::1]:9", host, port).ok());
  EXPECT_EQ(host, "::1");
}

}  // namespace
}  // namespace arca::controller
