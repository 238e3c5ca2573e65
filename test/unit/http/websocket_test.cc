// WebSocket framing and handshake pieces (http/websocket.h): pure functions, no network; and
// ConnectStream against a loopback socket.

#include "http/websocket.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "common/clock.h"

namespace arca::http {
namespace {

using ::testing::HasSubstr;

constexpr std::array<uint8_t, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 131 + 7) % 251);
  }
  return s;
}

std::vector<WsMessage> ParseAll(WsFrameParser& parser, std::string_view bytes) {
  std::vector<WsMessage> out;
  Status s = parser.Feed(bytes, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(WsFrameTest, LengthEncodingsRoundTripBothDirections) {
  // 7-bit, 16-bit (126..65535) and 64-bit (> 65535) lengths, at their edges.
  for (size_t n : {size_t{0}, size_t{1}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536},
                   size_t{200'000}}) {
    const std::string payload = Pattern(n);
    WsFrameParser server_side(/*from_client=*/true);
    std::vector<WsMessage> got =
        ParseAll(server_side, EncodeFrame(WsOpcode::kBinary, payload, true, kMask));
    ASSERT_EQ(got.size(), 1u) << n;
    EXPECT_EQ(got[0].opcode, WsOpcode::kBinary);
    EXPECT_EQ(got[0].payload, payload) << n;

    WsFrameParser client_side(/*from_client=*/false);
    got = ParseAll(client_side, EncodeFrame(WsOpcode::kText, payload, true, std::nullopt));
    ASSERT_EQ(got.size(), 1u) << n;
    EXPECT_EQ(got[0].opcode, WsOpcode::kText);
    EXPECT_EQ(got[0].payload, payload) << n;
  }
}

TEST(WsFrameTest, HeaderBytesFollowRfc6455) {
  const std::string small = EncodeFrame(WsOpcode::kBinary, "abc", true, std::nullopt);
  EXPECT_EQ(small, std::string("\x82\x03"
                               "abc",
                               5));
  const std::string mid =
      EncodeFrame(WsOpcode::kBinary, std::string(300, 'a'), false, std::nullopt);
  EXPECT_EQ(mid.substr(0, 4), std::string("\x02\x7e\x01\x2c", 4));  // no FIN, 126, 300
  const std::string big =
      EncodeFrame(WsOpcode::kBinary, std::string(70'000, 'a'), true, std::nullopt);
  EXPECT_EQ(big.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
}

TEST(WsFrameTest, MaskingXorsThePayloadWithTheKey) {
  const std::string frame = EncodeFrame(WsOpcode::kBinary, "Hello", true, kMask);
  ASSERT_EQ(frame.size(), 2u + 4u + 5u);
  EXPECT_EQ(static_cast<uint8_t>(frame[1]), 0x80 | 5);
  EXPECT_EQ(frame.substr(2, 4), std::string(reinterpret_cast<const char*>(kMask.data()), 4));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(static_cast<uint8_t>(frame[6 + i]), static_cast<uint8_t>("Hello"[i]) ^ kMask[i % 4]);
  }
}

TEST(WsFrameTest, ByteAtATimeFeedingGivesTheSameMessages) {
  std::string stream = EncodeFrame(WsOpcode::kBinary, Pattern(70'000), true, std::nullopt) +
                       EncodeFrame(WsOpcode::kPing, "p", true, std::nullopt) +
                       EncodeFrame(WsOpcode::kBinary, "\x01tail", true, std::nullopt);
  WsFrameParser parser(false);
  std::vector<WsMessage> got;
  for (char c : stream) {
    ASSERT_TRUE(parser.Feed(std::string_view(&c, 1), &got).ok());
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].payload, Pattern(70'000));
  EXPECT_EQ(got[1].opcode, WsOpcode::kPing);
  EXPECT_EQ(got[2].payload, "\x01tail");
}

TEST(WsFrameTest, FragmentsAreJoinedAndControlFramesBetweenThemComeFirst) {
  const std::string stream = EncodeFrame(WsOpcode::kBinary, "one-", false, std::nullopt) +
                             EncodeFrame(WsOpcode::kPing, "are you there", true, std::nullopt) +
                             EncodeFrame(WsOpcode::kContinuation, "two-", false, std::nullopt) +
                             EncodeFrame(WsOpcode::kContinuation, "three", true, std::nullopt);
  WsFrameParser parser(false);
  std::vector<WsMessage> got = ParseAll(parser, stream);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].opcode, WsOpcode::kPing);
  EXPECT_EQ(got[0].payload, "are you there");
  EXPECT_EQ(got[1].opcode, WsOpcode::kBinary);
  EXPECT_EQ(got[1].payload, "one-two-three");
}

struct BadFrame {
  const char* name;
  std::string bytes;
  bool from_client;
  StatusCode code;
  const char* words;
};

TEST(WsFrameTest, ProtocolViolationsAreRefusedWithTheReason) {
  const std::vector<BadFrame> cases = {
      {"masked server frame", EncodeFrame(WsOpcode::kBinary, "x", true, kMask), false,
       StatusCode::kDataLoss, "from the server is masked"},
      {"unmasked client frame", EncodeFrame(WsOpcode::kBinary, "x", true, std::nullopt), true,
       StatusCode::kDataLoss, "not masked"},
      {"reserved bit", std::string("\xc2\x01x", 3), false, StatusCode::kDataLoss, "reserved"},
      {"unknown opcode", std::string("\x83\x01x", 3), false, StatusCode::kDataLoss,
       "unknown opcode 3"},
      {"stray continuation", EncodeFrame(WsOpcode::kContinuation, "x", true, std::nullopt), false,
       StatusCode::kDataLoss, "continuation"},
      {"data inside a fragmented message",
       EncodeFrame(WsOpcode::kBinary, "a", false, std::nullopt) +
           EncodeFrame(WsOpcode::kBinary, "b", true, std::nullopt),
       false, StatusCode::kDataLoss, "unfinished fragmented"},
      {"long control frame",
       EncodeFrame(WsOpcode::kPing, std::string(126, 'p'), true, std::nullopt), false,
       StatusCode::kDataLoss, "control frame"},
      {"fragmented control frame", EncodeFrame(WsOpcode::kPing, "p", false, std::nullopt), false,
       StatusCode::kDataLoss, "control frame"},
      {"64-bit length with the top bit",
       std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10), false, StatusCode::kDataLoss,
       "most significant bit"},
  };
  for (const BadFrame& c : cases) {
    WsFrameParser parser(c.from_client);
    std::vector<WsMessage> got;
    Status s = parser.Feed(c.bytes, &got);
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(c.words)) << c.name;
    EXPECT_TRUE(got.empty()) << c.name;
  }
}

TEST(WsFrameTest, MessagesOverTheLimitAreRefusedEvenWhenFragmented) {
  WsFrameParser parser(false, /*max_message=*/1000);
  std::vector<WsMessage> got;
  EXPECT_EQ(
      parser.Feed(EncodeFrame(WsOpcode::kBinary, std::string(1001, 'a'), true, std::nullopt), &got)
          .code(),
      StatusCode::kResourceExhausted);
  WsFrameParser fragmented(false, 1000);
  ASSERT_TRUE(
      fragmented
          .Feed(EncodeFrame(WsOpcode::kBinary, std::string(600, 'a'), false, std::nullopt), &got)
          .ok());
  Status s = fragmented.Feed(
      EncodeFrame(WsOpcode::kContinuation, std::string(600, 'a'), true, std::nullopt), &got);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("longer than 1000 bytes"));
  EXPECT_TRUE(got.empty());
}

TEST(WsFrameTest, ClosePayloadCarriesCodeAndReason) {
  EXPECT_EQ(ClosePayload(1000, "bye"), std::string("\x03\xe8"
                                                   "bye",
                                                   5));
  WsClose c =
      ParseClosePayload(std::string("\x03\xf1"
                                    "too big",
                                    9));
  EXPECT_EQ(c.code, 1009);
  EXPECT_EQ(c.reason, "too big");
  EXPECT_EQ(ParseClosePayload("").code, 1005);
}

TEST(WsHandshakeTest, AcceptKeyIsTheRfcExample) {
  // RFC 6455 §1.3.
  EXPECT_EQ(WsAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshakeTest, NewKeysAreSixteenRandomBytesInBase64) {
  const std::string a = NewWsKey();
  const std::string b = NewWsKey();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.substr(22), "==");
  EXPECT_NE(a, b);
}

TEST(WsHandshakeTest, UpgradeRequestOffersProtocolsInOrder) {
  UpgradeRequest r;
  r.host = "10.0.0.1:6443";
  r.target = "/api/v1/namespaces/a/pods/b/exec?command=ls";
  r.key = "k==";
  r.protocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  r.headers = {{"Authorization", "Bearer t"}};
  EXPECT_EQ(BuildUpgradeRequest(r),
            "GET /api/v1/namespaces/a/pods/b/exec?command=ls HTTP/1.1\r\n"
            "Host: 10.0.0.1:6443\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: k==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n"
            "Authorization: Bearer t\r\n\r\n");
}

TEST(WsHandshakeTest, ResponseHeadIsParsedOnceComplete) {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Protocol:  v5.channel.k8s.io \r\n\r\n";
  Result<std::optional<ResponseHead>> partial = ParseResponseHead(head.substr(0, 40));
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  Result<std::optional<ResponseHead>> full = ParseResponseHead(head + "\x82\x01x");
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(full->has_value());
  EXPECT_EQ((*full)->status, 101);
  EXPECT_EQ((*full)->length, head.size());
  EXPECT_EQ((*full)->Header("SEC-WEBSOCKET-PROTOCOL"), "v5.channel.k8s.io");
  EXPECT_EQ(ParseResponseHead("SSH-2.0-OpenSSH\r\n").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseResponseHead(std::string(70'000, 'H').insert(0, "HTTP/")).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(WsHandshakeTest, ChunkedBodiesDecode) {
  Result<std::optional<std::string>> body =
      DecodeChunked("5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(body->has_value());
  EXPECT_EQ(**body, "hello world");
  Result<std::optional<std::string>> partial = DecodeChunked("5\r\nhel");
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  EXPECT_EQ(DecodeChunked("zz\r\n").status().code(), StatusCode::kDataLoss);
}

// A failure after the connect carries libcurl's detail, so the stream has an error buffer of its
// own: libcurl writes that detail wherever the handle's buffer points, and it used to point into
// ConnectStream's returned stack frame (a crash in pods/exec under load).
TEST(ConnectStreamTest, AFailureAfterTheConnectIsReportedWithLibcurlsDetail) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  // The peer resets the connection only once the connect has returned: a reset during it would
  // fail the connect instead.
  std::promise<void> connected;
  std::thread server([listener, done = connected.get_future()] {
    const int conn = ::accept(listener, nullptr, nullptr);
    done.wait();
    if (conn >= 0) {
      linger reset{1, 0};  // close with a reset, so that the client's next receive fails
      ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
      ::close(conn);
    }
  });
  Clock& clock = RealClock();
  const Deadline deadline = clock.Now() + std::chrono::seconds(10);
  Result<ByteStreamPtr> stream =
      ConnectStream({}, "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", "", "",
                    clock, deadline);
  connected.set_value();
  server.join();
  ::close(listener);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  std::array<char, 64> buffer{};
  Result<size_t> got = (*stream)->Read(std::span<char>(buffer), deadline);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("(Recv failure"));
}

}  // namespace
}  // namespace arca::http
