#include "http/websocket.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>

namespace arca::http {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr size_t kMaxHead = size_t{64} * 1024;
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kReadChunk = size_t{64} * 1024;

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// True when the comma-separated header value `list` holds `token` (case-insensitive).
bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (EqualsIgnoreCase(Trim(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::array<uint8_t, 4> RandomMask() {
  std::array<uint8_t, 4> mask{};
  if (RAND_bytes(mask.data(), static_cast<int>(mask.size())) != 1) {
    // Masking exists against cache poisoning by browser scripts, not for secrecy; a fixed mask
    // when the RNG fails keeps the frame valid.
    mask = {0x5a, 0x3c, 0x96, 0xe1};
  }
  return mask;
}

// ----- libcurl stream -----

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string port;
};

std::optional<UrlParts> SplitUrl(const std::string& url) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto part = [&](CURLUPart which, unsigned flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(u.get(), which, &value, flags) != CURLUE_OK || value == nullptr) {
      return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
  };
  std::optional<std::string> scheme = part(CURLUPART_SCHEME, 0);
  std::optional<std::string> host = part(CURLUPART_HOST, 0);
  std::optional<std::string> port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port) {
    return std::nullopt;
  }
  return UrlParts{Lower(*scheme), *host, *port};
}

std::chrono::milliseconds Remaining(Clock& clock, Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Now());
  return std::max(left, std::chrono::milliseconds(0));
}

class CurlStream : public ByteStream {
 public:
  // The handle's error buffer and any list it was given must not outlive ConnectStream's frame:
  // libcurl writes the detail of a failed send or receive into its error buffer, so the stream
  // brings its own (a buffer on ConnectStream's stack, written after it returned, corrupted the
  // stack when a peer closed the connection while stdin was being sent).
  CurlStream(std::unique_ptr<CURL, EasyDeleter> easy, curl_socket_t socket, Clock& clock,
             std::string where)
      : easy_(std::move(easy)), socket_(socket), clock_(clock), where_(std::move(where)) {
    curl_easy_setopt(easy_.get(), CURLOPT_ERRORBUFFER, error_.data());
    curl_easy_setopt(easy_.get(), CURLOPT_CONNECT_TO, nullptr);
  }
  CurlStream(const CurlStream&) = delete;
  CurlStream& operator=(const CurlStream&) = delete;

  Status Write(std::string_view data, Deadline deadline) override {
    while (!data.empty()) {
      size_t sent = 0;
      const CURLcode rc = curl_easy_send(easy_.get(), data.data(), data.size(), &sent);
      if (rc == CURLE_OK) {
        data.remove_prefix(sent);
        continue;
      }
      if (rc != CURLE_AGAIN) {
        return UnavailableError("sending to " + where_ + ": " + Describe(rc));
      }
      RETURN_IF_ERROR(Wait(POLLOUT, deadline));
    }
    return OkStatus();
  }

  Result<size_t> Read(std::span<char> buffer, Deadline deadline) override {
    while (true) {
      size_t got = 0;
      const CURLcode rc = curl_easy_recv(easy_.get(), buffer.data(), buffer.size(), &got);
      if (rc == CURLE_OK) {
        return got;  // 0: closed
      }
      if (rc != CURLE_AGAIN) {
        return UnavailableError("receiving from " + where_ + ": " + Describe(rc));
      }
      RETURN_IF_ERROR(Wait(POLLIN, deadline));
    }
  }

 private:
  std::string Describe(CURLcode rc) const {
    std::string out = curl_easy_strerror(rc);
    if (error_[0] != '\0') {
      out += " (" + std::string(error_.data()) + ")";
    }
    return out;
  }

  Status Wait(short events, Deadline deadline) {
    while (true) {
      const std::chrono::milliseconds left = Remaining(clock_, deadline);
      if (left.count() <= 0) {
        return DeadlineExceededError("no progress on the connection to " + where_ +
                                     " before the deadline");
      }
      pollfd p{};
      p.fd = socket_;
      p.events = events;
      const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1'000'000)));
      if (n > 0) {
        return OkStatus();  // readable, writable, or an error that the next call reports
      }
      if (n < 0 && errno != EINTR) {
        return UnavailableError("waiting on the connection to " + where_ + ": " +
                                std::strerror(errno));
      }
    }
  }

  std::array<char, CURL_ERROR_SIZE> error_{};
  std::unique_ptr<CURL, EasyDeleter> easy_;
  curl_socket_t socket_;
  Clock& clock_;
  std::string where_;
};

Status MapConnectError(CURLcode code, const std::string& where, const char* detail) {
  std::string message = "connecting to " + where + ": " + curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') {
    message += " (" + std::string(detail) + ")";
  }
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(std::move(message));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return FailedPreconditionError(
          message +
          "; check the CA bundle (certificate-authority) or, for tests only, "
          "insecure-skip-tls-verify");
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(std::move(message));
    default:
      return UnavailableError(std::move(message));
  }
}

}  // namespace

// ----- framing -----

std::string EncodeFrame(WsOpcode opcode, std::string_view payload, bool fin,
                        std::optional<std::array<uint8_t, 4>> mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask ? 0x80 : 0x00;
  const uint64_t n = payload.size();
  if (n <= 125) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  out.append(reinterpret_cast<const char*>(mask->data()), mask->size());
  const size_t start = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) {
    out[start + i] = static_cast<char>(static_cast<uint8_t>(out[start + i]) ^ (*mask)[i % 4]);
  }
  return out;
}

WsClose ParseClosePayload(std::string_view payload) {
  WsClose close;
  if (payload.size() >= 2) {
    close.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                       static_cast<uint8_t>(payload[1]));
    close.reason = std::string(payload.substr(2));
  }
  return close;
}

std::string ClosePayload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason.substr(0, kMaxControlPayload - 2));
  return out;
}

Status WsFrameParser::Feed(std::string_view bytes, std::vector<WsMessage>* out) {
  buffer_.append(bytes);
  size_t pos = 0;
  Status result;
  while (true) {
    const std::string_view rest = std::string_view(buffer_).substr(pos);
    if (rest.size() < 2) {
      break;
    }
    const auto b0 = static_cast<uint8_t>(rest[0]);
    const auto b1 = static_cast<uint8_t>(rest[1]);
    const bool fin = (b0 & 0x80) != 0;
    const uint8_t opcode = b0 & 0x0F;
    const bool masked = (b1 & 0x80) != 0;
    if ((b0 & 0x70) != 0) {
      result = DataLossError("websocket frame has reserved bits set (no extension was agreed)");
      break;
    }
    const bool control = (opcode & 0x08) != 0;
    if (opcode > 0x2 && opcode != 0x8 && opcode != 0x9 && opcode != 0xA) {
      result = DataLossError("websocket frame has unknown opcode " + std::to_string(opcode));
      break;
    }
    if (masked != from_client_) {
      result = DataLossError(from_client_ ? "websocket frame from a client is not masked"
                                          : "websocket frame from the server is masked");
      break;
    }
    size_t header = 2;
    uint64_t length = b1 & 0x7F;
    if (length == 126) {
      if (rest.size() < 4) {
        break;
      }
      length = (static_cast<uint64_t>(static_cast<uint8_t>(rest[2])) << 8) |
               static_cast<uint8_t>(rest[3]);
      header = 4;
    } else if (length == 127) {
      if (rest.size() < 10) {
        break;
      }
      length = 0;
      for (size_t i = 2; i < 10; ++i) {
        length = (length << 8) | static_cast<uint8_t>(rest[i]);
      }
      if ((length >> 63) != 0) {
        result = DataLossError("websocket frame length has its most significant bit set");
        break;
      }
      header = 10;
    }
    if (control && (!fin || length > kMaxControlPayload)) {
      result = DataLossError("websocket control frame is fragmented or longer than 125 bytes");
      break;
    }
    if (!control) {
      if (opcode == 0x0 && !in_message_) {
        result = DataLossError("websocket continuation frame without a message to continue");
        break;
      }
      if (opcode != 0x0 && in_message_) {
        result = DataLossError("websocket data frame inside an unfinished fragmented message");
        break;
      }
      const uint64_t have = opcode == 0x0 ? message_.size() : 0;
      if (length > max_message_ || have + length > max_message_) {
        result = ResourceExhaustedError("websocket message longer than " +
                                        std::to_string(max_message_) + " bytes");
        break;
      }
    }
    const size_t mask_len = masked ? 4 : 0;
    if (rest.size() < header + mask_len + length) {
      break;
    }
    std::string payload(rest.substr(header + mask_len, static_cast<size_t>(length)));
    if (masked) {
      const std::string_view key = rest.substr(header, 4);
      for (size_t i = 0; i < payload.size(); ++i) {
        payload[i] =
            static_cast<char>(static_cast<uint8_t>(payload[i]) ^ static_cast<uint8_t>(key[i % 4]));
      }
    }
    pos += header + mask_len + static_cast<size_t>(length);
    if (control) {
      out->push_back(WsMessage{static_cast<WsOpcode>(opcode), std::move(payload)});
      continue;
    }
    if (opcode != 0x0) {
      message_opcode_ = static_cast<WsOpcode>(opcode);
      message_ = std::move(payload);
    } else {
      message_ += payload;
    }
    in_message_ = !fin;
    if (fin) {
      out->push_back(WsMessage{message_opcode_, std::move(message_)});
      message_.clear();
    }
  }
  buffer_.erase(0, pos);
  return result;
}

// ----- handshake -----

std::string WsAcceptKey(std::string_view key) {
  std::string input(key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return Base64(digest, sizeof digest);
}

std::string NewWsKey() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    for (size_t i = 0; i < sizeof raw; ++i) {
      raw[i] = static_cast<unsigned char>(i * 37 + 11);
    }
  }
  return Base64(raw, sizeof raw);
}

std::string BuildUpgradeRequest(const UpgradeRequest& request) {
  std::string out = "GET " + request.target + " HTTP/1.1\r\n";
  out += "Host: " + request.host + "\r\n";
  out += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Key: " + request.key + "\r\n";
  out += "Sec-WebSocket-Version: 13\r\n";
  if (!request.protocols.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    for (size_t i = 0; i < request.protocols.size(); ++i) {
      out += (i == 0 ? "" : ", ") + request.protocols[i];
    }
    out += "\r\n";
  }
  for (const auto& [name, value] : request.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out += "\r\n";
  return out;
}

std::optional<std::string_view> ResponseHead::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

Result<std::optional<ResponseHead>> ParseResponseHead(std::string_view bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() > kMaxHead) {
      return ResourceExhaustedError("HTTP response head longer than 64 KiB");
    }
    if (bytes.size() >= 5 && !bytes.starts_with("HTTP/")) {
      return DataLossError("the server's answer is not HTTP");
    }
    return std::optional<ResponseHead>();
  }
  ResponseHead head;
  head.length = end + 4;
  std::string_view lines = bytes.substr(0, end);
  const size_t first_end = lines.find("\r\n");
  const std::string_view status_line = lines.substr(0, first_end);
  // "HTTP/1.1 101 Switching Protocols"
  const size_t sp = status_line.find(' ');
  if (!status_line.starts_with("HTTP/") || sp == std::string_view::npos ||
      status_line.size() < sp + 4) {
    return DataLossError("malformed HTTP status line: " + std::string(status_line.substr(0, 80)));
  }
  int status = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(status_line[i]))) {
      return DataLossError("malformed HTTP status line: " + std::string(status_line.substr(0, 80)));
    }
    status = status * 10 + (status_line[i] - '0');
  }
  head.status = status;
  if (first_end != std::string_view::npos) {
    lines.remove_prefix(first_end + 2);
    while (!lines.empty()) {
      const size_t eol = lines.find("\r\n");
      const std::string_view line = lines.substr(0, eol);
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        head.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                  std::string(Trim(line.substr(colon + 1))));
      }
      if (eol == std::string_view::npos) {
        break;
      }
      lines.remove_prefix(eol + 2);
    }
  }
  return std::optional<ResponseHead>(std::move(head));
}

Result<std::optional<std::string>> DecodeChunked(std::string_view body) {
  std::string out;
  while (true) {
    const size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) {
      return std::optional<std::string>();
    }
    std::string_view size_text = body.substr(0, eol);
    size_text = size_text.substr(0, size_text.find(';'));
    size_t size = 0;
    if (size_text.empty() || size_text.size() > 8) {
      return DataLossError("malformed chunk size in a chunked body");
    }
    for (char c : size_text) {
      const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                    : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                : -1;
      if (v < 0) {
        return DataLossError("malformed chunk size in a chunked body");
      }
      size = size * 16 + static_cast<size_t>(v);
    }
    body.remove_prefix(eol + 2);
    if (size == 0) {
      return std::optional<std::string>(std::move(out));  // trailers, if any, are ignored
    }
    if (body.size() < size + 2) {
      return std::optional<std::string>();
    }
    out.append(body.substr(0, size));
    body.remove_prefix(size + 2);
  }
}

// ----- connection -----

Result<ByteStreamPtr> ConnectStream(const TransportOptions& options, const std::string& url,
                                    const std::string& client_cert_pem,
                                    const std::string& client_key_pem, Clock& clock,
                                    Deadline deadline) {
  GlobalInit();
  std::optional<UrlParts> parts = SplitUrl(url);
  if (!parts || (parts->scheme != "https" && parts->scheme != "http")) {
    return InvalidArgumentError("not an http:// or https:// URL: " + RedactUrl(url));
  }
  const std::string where = parts->host + ":" + parts->port;
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) {
    return InternalError("curl_easy_init failed");
  }
  CURL* h = easy.get();
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  std::unique_ptr<curl_slist, SlistDeleter> connect_to;
  std::string target = parts->scheme + "://" + where + "/";
  if (!options.tls_server_name.empty()) {
    // Verify against (and send SNI for) the server name, but connect to the URL's host.
    const std::string name = options.tls_server_name;
    const std::string host =
        parts->host.find(':') != std::string::npos && parts->host.front() != '['
            ? "[" + parts->host + "]"
            : parts->host;
    target = parts->scheme + "://" + name + ":" + parts->port + "/";
    connect_to.reset(curl_slist_append(
        nullptr, (name + ":" + parts->port + ":" + host + ":" + parts->port).c_str()));
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to.get());
  }
  curl_easy_setopt(h, CURLOPT_URL, target.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  const std::chrono::milliseconds left = Remaining(clock, deadline);
  if (left.count() <= 0) {
    return DeadlineExceededError("no time left to connect to " + where);
  }
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(left, options.connect_timeout).count()));
  if (options.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options.ca_pem.empty()) {
    curl_blob blob{};
    blob.data = const_cast<char*>(options.ca_pem.data());
    blob.len = options.ca_pem.size();
    blob.flags = CURL_BLOB_COPY;
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!options.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
  }
  if (!options.proxy_url.empty()) {
    curl_easy_setopt(h, CURLOPT_PROXY, options.proxy_url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
  }
  if (!client_cert_pem.empty()) {
    curl_blob cert{};
    cert.data = const_cast<char*>(client_cert_pem.data());
    cert.len = client_cert_pem.size();
    cert.flags = CURL_BLOB_COPY;
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_blob key{};
    key.data = const_cast<char*>(client_key_pem.data());
    key.len = client_key_pem.size();
    key.flags = CURL_BLOB_COPY;
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  const CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OPERATION_TIMEDOUT && clock.Now() < deadline) {
    // The connect timeout, not the caller's deadline: a retryable failure.
    return UnavailableError("connecting to " + where + ": no answer within " +
                            std::to_string(options.connect_timeout.count()) + " ms");
  }
  if (rc != CURLE_OK) {
    return MapConnectError(rc, where, error_buffer.data());
  }
  curl_socket_t socket = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK ||
      socket == CURL_SOCKET_BAD) {
    return InternalError("libcurl connected to " + where + " but gave no socket");
  }
  return ByteStreamPtr(std::make_unique<CurlStream>(std::move(easy), socket, clock, where));
}

// ----- WebSocket -----

WebSocket::WebSocket(ByteStreamPtr stream, Clock& clock, std::string protocol, std::string pending,
                     size_t max_message)
    : stream_(std::move(stream)),
      clock_(clock),
      protocol_(std::move(protocol)),
      parser_(/*from_client=*/false, max_message),
      initial_(std::move(pending)) {}

Result<WsUpgrade> WebSocket::Handshake(ByteStreamPtr stream, const UpgradeRequest& request,
                                       Clock& clock, Deadline deadline, size_t max_message) {
  UpgradeRequest req = request;
  if (req.key.empty()) {
    req.key = NewWsKey();
  }
  RETURN_IF_ERROR(stream->Write(BuildUpgradeRequest(req), deadline));
  std::string received;
  std::vector<char> buffer(kReadChunk);
  std::optional<ResponseHead> head;
  while (true) {
    ASSIGN_OR_RETURN(head, ParseResponseHead(received));
    if (head) {
      break;
    }
    ASSIGN_OR_RETURN(size_t n, stream->Read(buffer, deadline));
    if (n == 0) {
      return UnavailableError("the server closed the connection before answering the upgrade");
    }
    received.append(buffer.data(), n);
  }
  WsUpgrade out;
  out.status = head->status;
  out.headers = head->headers;
  std::string rest = received.substr(head->length);
  if (head->status != 101) {
    // An ordinary HTTP answer (an error): read its body, bounded.
    std::optional<std::string_view> length = head->Header("content-length");
    const bool chunked = head->Header("transfer-encoding").has_value() &&
                         HasToken(*head->Header("transfer-encoding"), "chunked");
    size_t want = Response::kMaxErrorBody;
    if (length) {
      want = std::min<size_t>(want, std::strtoull(std::string(*length).c_str(), nullptr, 10));
    }
    while (rest.size() < want) {
      if (chunked) {
        ASSIGN_OR_RETURN(std::optional<std::string> decoded, DecodeChunked(rest));
        if (decoded) {
          break;
        }
      }
      Result<size_t> n = stream->Read(buffer, deadline);
      if (!n.ok() || *n == 0) {
        break;  // whatever arrived is the body
      }
      rest.append(buffer.data(), *n);
    }
    if (chunked) {
      Result<std::optional<std::string>> decoded = DecodeChunked(rest);
      if (decoded.ok() && decoded->has_value()) {
        rest = std::move(**decoded);
      }
    }
    rest.resize(std::min(rest.size(), want));
    out.body = std::move(rest);
    return out;
  }
  std::optional<std::string_view> upgrade = head->Header("upgrade");
  if (!upgrade || !EqualsIgnoreCase(*upgrade, "websocket")) {
    return DataLossError("the server answered 101 without Upgrade: websocket");
  }
  std::optional<std::string_view> accept = head->Header("sec-websocket-accept");
  if (!accept || *accept != WsAcceptKey(req.key)) {
    return DataLossError("the server's Sec-WebSocket-Accept does not match the key sent");
  }
  std::string protocol(head->Header("sec-websocket-protocol").value_or(""));
  if (!req.protocols.empty() &&
      std::find(req.protocols.begin(), req.protocols.end(), protocol) == req.protocols.end()) {
    return DataLossError(protocol.empty()
                             ? "the server chose no WebSocket subprotocol"
                             : "the server chose a WebSocket subprotocol that was not offered: " +
                                   protocol);
  }
  out.socket.reset(
      new WebSocket(std::move(stream), clock, std::move(protocol), std::move(rest), max_message));
  return out;
}

Status WebSocket::Send(WsOpcode opcode, std::string_view payload, Deadline deadline) {
  if (close_sent_) {
    return FailedPreconditionError("the WebSocket is closing; nothing more can be sent");
  }
  if (opcode == WsOpcode::kClose) {
    close_sent_ = true;
  }
  return stream_->Write(EncodeFrame(opcode, payload, /*fin=*/true, RandomMask()), deadline);
}

Result<WsMessage> WebSocket::Receive(Deadline deadline) {
  if (close_received_) {
    return FailedPreconditionError("the WebSocket is closed");
  }
  while (true) {
    while (queue_pos_ < queue_.size()) {
      WsMessage m = std::move(queue_[queue_pos_++]);
      if (queue_pos_ == queue_.size()) {
        queue_.clear();
        queue_pos_ = 0;
      }
      switch (m.opcode) {
        case WsOpcode::kPing:
          if (!close_sent_) {
            RETURN_IF_ERROR(stream_->Write(
                EncodeFrame(WsOpcode::kPong, m.payload, true, RandomMask()), deadline));
          }
          continue;
        case WsOpcode::kPong:
          continue;
        case WsOpcode::kClose:
          close_received_ = true;
          if (!close_sent_) {
            close_sent_ = true;
            const WsClose c = ParseClosePayload(m.payload);
            const uint16_t echo = c.code == 1005 ? kWsCloseNormal : c.code;
            stream_
                ->Write(EncodeFrame(WsOpcode::kClose, ClosePayload(echo, ""), true, RandomMask()),
                        deadline)
                .IgnoreError();  // the server may already be gone
          }
          return m;
        default:
          return m;
      }
    }
    std::string_view fresh;
    if (!initial_.empty()) {
      read_buffer_.assign(initial_.begin(), initial_.end());
      initial_.clear();
      fresh = std::string_view(read_buffer_.data(), read_buffer_.size());
    } else {
      read_buffer_.resize(kReadChunk);
      ASSIGN_OR_RETURN(size_t n, stream_->Read(read_buffer_, deadline));
      if (n == 0) {
        close_received_ = true;
        return UnavailableError("the connection closed without a WebSocket close frame");
      }
      fresh = std::string_view(read_buffer_.data(), n);
    }
    Status parsed = parser_.Feed(fresh, &queue_);
    if (!parsed.ok()) {
      if (!close_sent_) {
        close_sent_ = true;
        const uint16_t code = parsed.code() == StatusCode::kResourceExhausted
                                  ? kWsCloseTooBig
                                  : kWsCloseProtocolError;
        stream_
            ->Write(EncodeFrame(WsOpcode::kClose, ClosePayload(code, ""), true, RandomMask()),
                    deadline)
            .IgnoreError();
      }
      close_received_ = true;
      return parsed;
    }
  }
}

void WebSocket::Close(uint16_t code, Deadline deadline) {
  if (!close_sent_) {
    close_sent_ = true;
    if (!stream_
             ->Write(EncodeFrame(WsOpcode::kClose, ClosePayload(code, ""), true, RandomMask()),
                     deadline)
             .ok()) {
      return;
    }
  }
  while (!close_received_) {
    Result<WsMessage> m = Receive(deadline);
    if (!m.ok()) {
      return;
    }
  }
}

}  // namespace arca::http
