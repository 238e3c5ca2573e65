// File: http/websocket.h
//
// A WebSocket client (RFC 6455) for the Kubernetes streaming subresources (pods/exec). Three
// layers, each usable alone:
//
//   1. Framing, pure: EncodeFrame() and WsFrameParser (fragmented messages reassembled, control
//      frames between fragments, 7/16/64-bit lengths, masking, protocol violations refused), and
//      the handshake pieces (WsAcceptKey, BuildUpgradeRequest, ParseResponseHead).
//   2. ByteStream, the I/O boundary: a connected byte pipe with deadlines. ConnectStream() opens
//      one through libcurl (CURLOPT_CONNECT_ONLY), so TLS is set up exactly as CurlTransport sets
//      it up: the CA (file or PEM), insecure mode, tls-server-name, a client certificate, and a
//      proxy (tunnelled with CONNECT). Debian's libcurl 7.88 is built without its own WebSocket
//      support (no ws/wss protocols), hence the framing here.
//   3. WebSocket: the handshake on a ByteStream, then messages. Pings are answered, pongs
//      ignored, a close from the server is echoed; Close() runs the closing handshake.
//
// Deadlines are wall-clock instants read from the injected Clock (a real clock in production:
// waiting on a socket cannot be simulated).
//
// Example:
//   ASSIGN_OR_RETURN(ByteStreamPtr stream, ConnectStream(options, url, cert, key, clock,
//   deadline)); ASSIGN_OR_RETURN(WsUpgrade up, WebSocket::Handshake(std::move(stream), request,
//   clock,
//                                                       deadline));
//   if (!up.socket) return Error(up.status, up.body);   // the server answered without upgrading
//   RETURN_IF_ERROR(up.socket->Send(WsOpcode::kBinary, "\x00hi", deadline));
//   ASSIGN_OR_RETURN(WsMessage m, up.socket->Receive(deadline));
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/curl_transport.h"
#include "http/transport.h"

namespace arca::http {

using Deadline = std::chrono::system_clock::time_point;

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes used here (RFC 6455 §7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsCloseTooBig = 1009;

// One frame on the wire. A client masks every frame (pass `mask`); a server never does (nullopt).
// `fin` false makes a fragment; later fragments use kContinuation.
std::string EncodeFrame(WsOpcode opcode, std::string_view payload, bool fin,
                        std::optional<std::array<uint8_t, 4>> mask);

// A whole message: data (kText/kBinary, fragments joined) or control (kClose/kPing/kPong).
struct WsMessage {
  WsOpcode opcode = WsOpcode::kBinary;
  std::string payload;
};

// The close code and reason in a close frame's payload (1005 "no status" when empty).
struct WsClose {
  uint16_t code = 1005;
  std::string reason;
};
WsClose ParseClosePayload(std::string_view payload);
std::string ClosePayload(uint16_t code, std::string_view reason);

// Incremental frame parser. Feed it bytes as they arrive; it emits messages in order, control
// frames as soon as they are complete (also between the fragments of a data message).
class WsFrameParser {
 public:
  static constexpr size_t kDefaultMaxMessage = size_t{16} << 20;

  // `from_client` true parses what a client sends (every frame must be masked); false parses a
  // server's frames (none may be masked). A data message longer than `max_message` bytes is
  // refused, so memory stays bounded.
  explicit WsFrameParser(bool from_client, size_t max_message = kDefaultMaxMessage)
      : from_client_(from_client), max_message_(max_message) {}

  // Appends the complete messages found to `out`. Errors (the connection must then be closed):
  //   kDataLoss          a protocol violation (reserved bits, unknown opcode, wrong masking,
  //                      fragmented or oversized control frame, a continuation out of place,
  //                      a 64-bit length with its top bit set); the message says which.
  //   kResourceExhausted a message over max_message.
  Status Feed(std::string_view bytes, std::vector<WsMessage>* out);

 private:
  bool from_client_;
  size_t max_message_;
  std::string buffer_;
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kBinary;
  std::string message_;
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455's GUID)).
std::string WsAcceptKey(std::string_view key);

// A fresh random Sec-WebSocket-Key (16 random bytes, base64).
std::string NewWsKey();

struct UpgradeRequest {
  std::string host;    // the Host header: "host:port"
  std::string target;  // path and query, percent-encoded: "/api/v1/...?a=b"
  std::string key;     // Sec-WebSocket-Key; empty: a new random one
  // Offered subprotocols, most preferred first (Sec-WebSocket-Protocol).
  std::vector<std::string> protocols;
  Headers headers;  // more headers, e.g. Authorization
};

// The HTTP/1.1 GET that asks for the upgrade.
std::string BuildUpgradeRequest(const UpgradeRequest& request);

// A response status line and headers (names lower-case).
struct ResponseHead {
  int status = 0;
  Headers headers;
  size_t length = 0;  // bytes of the head, including the blank line
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Parses the head at the start of `bytes`: nullopt while it is incomplete; kDataLoss when it is
// not HTTP. A head over 64 KiB is refused (kResourceExhausted).
Result<std::optional<ResponseHead>> ParseResponseHead(std::string_view bytes);

// Decodes a complete chunked body. kDataLoss when it is malformed; nullopt when incomplete.
Result<std::optional<std::string>> DecodeChunked(std::string_view body);

// A connected byte stream with deadlines: the I/O boundary below WebSocket.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Writes all of `data`. kDeadlineExceeded when the deadline passes first; kUnavailable when
  // the connection fails.
  virtual Status Write(std::string_view data, Deadline deadline) = 0;
  // Reads at least one byte into `buffer` and returns the count; 0 means the peer closed the
  // connection. kDeadlineExceeded when nothing arrives before the deadline; kUnavailable when the
  // connection fails.
  virtual Result<size_t> Read(std::span<char> buffer, Deadline deadline) = 0;
};
using ByteStreamPtr = std::unique_ptr<ByteStream>;

// Opens a TCP connection to the host and port of `url` (http:// or https://; the path is
// ignored) and, for https, completes TLS with `options`' CA, insecure mode, tls-server-name and
// the client certificate given (PEM, both or neither). A proxy in `options` is used as a tunnel
// (HTTP CONNECT, or SOCKS). ALPN offers only HTTP/1.1, as a WebSocket upgrade needs.
// Errors: those of CurlTransport (kUnavailable to connect, kFailedPrecondition for TLS
// verification, kInvalidArgument for a bad URL), kDeadlineExceeded when connecting outlasts
// `deadline`.
Result<ByteStreamPtr> ConnectStream(const TransportOptions& options, const std::string& url,
                                    const std::string& client_cert_pem,
                                    const std::string& client_key_pem, Clock& clock,
                                    Deadline deadline);

class WebSocket;

// The outcome of a handshake: `socket` when the server switched protocols (101); otherwise the
// server's answer (status, headers, and up to Response::kMaxErrorBody bytes of body).
struct WsUpgrade {
  std::unique_ptr<WebSocket> socket;
  int status = 0;
  Headers headers;
  std::string body;
};

// One client WebSocket connection. Not thread-safe: one thread sends and receives.
class WebSocket {
 public:
  // Sends the upgrade request on `stream` and reads the answer. A 101 whose
  // Sec-WebSocket-Accept is wrong, or whose subprotocol was not offered (or is missing while
  // some were offered), is kDataLoss. Other errors: the stream's.
  static Result<WsUpgrade> Handshake(ByteStreamPtr stream, const UpgradeRequest& request,
                                     Clock& clock, Deadline deadline,
                                     size_t max_message = WsFrameParser::kDefaultMaxMessage);

  // The subprotocol the server chose ("" when none was offered).
  const std::string& protocol() const { return protocol_; }

  // Sends one unfragmented message (masked). kFailedPrecondition after a close was sent.
  Status Send(WsOpcode opcode, std::string_view payload, Deadline deadline);

  // The next data message, or the server's close (opcode kClose; it is answered, and the socket
  // is then closed). Pings are answered with pongs and not returned.
  // Errors: kUnavailable when the connection ends without a close frame; kDeadlineExceeded;
  // those of WsFrameParser::Feed (a close 1002/1009 is sent first); kFailedPrecondition when
  // called after the close.
  Result<WsMessage> Receive(Deadline deadline);

  // The closing handshake: sends a close with `code` (unless one was sent), then discards
  // messages until the server's close, the end of the stream, or the deadline. Never fails: a
  // peer that does not answer is simply dropped.
  void Close(uint16_t code, Deadline deadline);

  bool closed() const { return close_received_; }

 private:
  WebSocket(ByteStreamPtr stream, Clock& clock, std::string protocol, std::string pending,
            size_t max_message);

  ByteStreamPtr stream_;
  Clock& clock_;
  std::string protocol_;
  WsFrameParser parser_;
  std::vector<WsMessage> queue_;  // parsed, not yet returned
  size_t queue_pos_ = 0;
  std::string initial_;  // bytes read past the handshake
  std::vector<char> read_buffer_;
  bool close_sent_ = false;
  bool close_received_ = false;
};

}  // namespace arca::http
