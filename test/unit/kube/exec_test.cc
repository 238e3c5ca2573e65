// The pods/exec client (kube/exec.h) over real TLS and the real libcurl stream, against a loopback
// WebSocket server in this process that plays a scripted API server: it checks what the client
// sends (request line, headers, masked frames, stdin, pongs, close) and answers with fragmented
// frames, pings, large payloads, the error channel, HTTP errors instead of an upgrade, v4 instead
// of v5, or silence. Its certificate is made in-process and trusted through the CA setting.

#include "kube/exec.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "http/websocket.h"

namespace arca::kube {
namespace {

using http::EncodeFrame;
using http::WsMessage;
using http::WsOpcode;
using ::testing::HasSubstr;
using ::testing::Not;

struct Cert {
  std::string cert_pem;
  std::string key_pem;
};

std::string ReadBio(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// A self-signed CA certificate for `san` (an X.509v3 subjectAltName value).
Cert SelfSigned(const char* san = "IP:127.0.0.1") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("exec-test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {
      {NID_subject_alt_name, san},
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "digitalSignature,keyCertSign"}};
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  Cert out{ReadBio(cb), ReadBio(kb)};
  BIO_free(cb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// The server's side of one accepted connection.
class Conn {
 public:
  explicit Conn(SSL* ssl) : ssl_(ssl) {}

  // Reads the upgrade request; false when the client went away first.
  bool ReadRequest() {
    char buf[4096];
    while (true) {
      const size_t end = raw_.find("\r\n\r\n");
      if (end != std::string::npos) {
        request_ = raw_.substr(0, end + 4);
        raw_.erase(0, end + 4);
        return true;
      }
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        return false;
      }
      raw_.append(buf, static_cast<size_t>(n));
    }
  }
  const std::string& request() const { return request_; }

  // The value of a request header (case-insensitive name), or "".
  std::string Header(const std::string& name) const {
    size_t pos = request_.find("\r\n");
    while (pos != std::string::npos && pos + 2 < request_.size()) {
      const size_t eol = request_.find("\r\n", pos + 2);
      const std::string line = request_.substr(pos + 2, eol - pos - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos && http::EqualsIgnoreCase(line.substr(0, colon), name)) {
        return line.substr(line.find_first_not_of(' ', colon + 1));
      }
      pos = eol;
    }
    return "";
  }

  void Write(std::string_view bytes) {
    SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
  }

  // Answers 101 with `protocol` (and a wrong accept key when told).
  void Upgrade(const std::string& protocol, bool wrong_accept = false) {
    const std::string accept = wrong_accept ? http::WsAcceptKey("not-the-key")
                                            : http::WsAcceptKey(Header("sec-websocket-key"));
    Write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        accept + "\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n");
  }

  void Reply(int status, const std::string& body) {
    Write("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  // A server frame (never masked).
  void Frame(WsOpcode op, std::string_view payload, bool fin = true) {
    Write(EncodeFrame(op, payload, fin, std::nullopt));
  }
  void Channel(char channel, std::string_view data) {
    Frame(WsOpcode::kBinary, std::string(1, channel) + std::string(data));
  }

  // The next client message (every client frame must be masked: the parser checks); nullopt at
  // the end of the connection or on a protocol error (recorded).
  std::optional<WsMessage> Next() {
    char buf[16384];
    while (queue_.empty()) {
      if (!raw_.empty()) {
        std::string bytes = std::move(raw_);
        raw_.clear();
        Status s = parser_.Feed(bytes, &queue_);
        if (!s.ok()) {
          protocol_error_ = s.ToString();
          return std::nullopt;
        }
        continue;
      }
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        return std::nullopt;
      }
      raw_.append(buf, static_cast<size_t>(n));
    }
    WsMessage m = std::move(queue_.front());
    queue_.erase(queue_.begin());
    return m;
  }

  const std::string& protocol_error() const { return protocol_error_; }

 private:
  SSL* ssl_;
  std::string raw_;
  std::string request_;
  http::WsFrameParser parser_{/*from_client=*/true};
  std::vector<WsMessage> queue_;
  std::string protocol_error_;
};

// Accepts TLS connections on 127.0.0.1 one at a time and hands each to the script.
class ScriptedServer {
 public:
  using Script = std::function<void(Conn&)>;

  ScriptedServer(const Cert& cert, Script script) : script_(std::move(script)) {
    // The scripts write to clients that may have gone (that is what some tests check): a write
    // to a closed socket must be an error, not a SIGPIPE that kills the test.
    std::signal(SIGPIPE, SIG_IGN);
    ctx_ = SSL_CTX_new(TLS_server_method());
    BIO* c = BIO_new_mem_buf(cert.cert_pem.data(), static_cast<int>(cert.cert_pem.size()));
    X509* x = PEM_read_bio_X509(c, nullptr, nullptr, nullptr);
    BIO* k = BIO_new_mem_buf(cert.key_pem.data(), static_cast<int>(cert.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(k, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx_, x);
    SSL_CTX_use_PrivateKey(ctx_, key);
    X509_free(x);
    EVP_PKEY_free(key);
    BIO_free(c);
    BIO_free(k);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }

  std::string Url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  int connections() {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }

 private:
  void Serve() {
    while (true) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) {
        return;
      }
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, client);
      if (SSL_accept(ssl) == 1) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++connections_;
        }
        Conn conn(ssl);
        if (conn.ReadRequest()) {
          script_(conn);
        }
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(client);
    }
  }

  Script script_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  int connections_ = 0;
};

// An HTTP CONNECT proxy on 127.0.0.1 for one tunnel at a time; remembers the CONNECT lines.
class ConnectProxy {
 public:
  ConnectProxy() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ConnectProxy() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> Connects() {
    std::lock_guard<std::mutex> lock(mu_);
    return connects_;
  }

 private:
  void Serve() {
    while (true) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) {
        return;
      }
      std::string head;
      char c = 0;
      while (head.find("\r\n\r\n") == std::string::npos && ::read(client, &c, 1) == 1) {
        head.push_back(c);
      }
      const std::string line = head.substr(0, head.find("\r\n"));
      {
        std::lock_guard<std::mutex> lock(mu_);
        connects_.push_back(line);
      }
      // "CONNECT 127.0.0.1:PORT HTTP/1.1"
      const size_t colon = line.rfind(':');
      const int port = std::atoi(line.c_str() + colon + 1);
      const int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port));
      if (!line.starts_with("CONNECT ") ||
          ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string no = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
        static_cast<void>(::write(client, no.data(), no.size()));
      } else {
        const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
        static_cast<void>(::write(client, ok.data(), ok.size()));
        Pump(client, upstream);
      }
      ::close(upstream);
      ::close(client);
    }
  }
  static void Pump(int a, int b) {
    char buf[16384];
    while (true) {
      pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (::poll(fds, 2, 10'000) <= 0) {
        return;
      }
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
          continue;
        }
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) {
          return;
        }
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> connects_;
};

class FakeCredentials : public CredentialProvider {
 public:
  Result<Credentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    Credentials c;
    c.authorization = "Bearer " + token_;
    return c;
  }
  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++invalidations_;
    token_ = "fresh-token";
  }
  int invalidations() {
    std::lock_guard<std::mutex> lock(mu_);
    return invalidations_;
  }

 private:
  std::mutex mu_;
  std::string token_ = "secret-token-123";
  int invalidations_ = 0;
};

const std::string kSuccess = R"({"metadata":{},"status":"Success"})";

std::string ExitStatus(int code) {
  return R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit], exit code )" +
         std::to_string(code) +
         R"(","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":")" +
         std::to_string(code) + R"("}]}})";
}

class ExecClientTest : public ::testing::Test {
 protected:
  ExecClientTest() : cert_(SelfSigned()) {}

  // Starts a server with `script` and a client that trusts it.
  void Start(ScriptedServer::Script script) {
    server_ = std::make_unique<ScriptedServer>(cert_, std::move(script));
    RestConfig config;
    config.server = server_->Url();
    config.ca_pem = cert_.cert_pem;
    client_ = std::make_unique<ExecClient>(config, credentials_, RealClock());
  }

  static ExecRequest Request() {
    ExecRequest r;
    r.namespace_name = "ns1";
    r.pod = "db-0";
    r.container = "main";
    r.command = {"sh", "-c", "echo hi there"};
    r.timeout = std::chrono::seconds(10);
    return r;
  }

  Cert cert_;
  FakeCredentials credentials_;
  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<ExecClient> client_;
};

TEST_F(ExecClientTest, V5StreamsFragmentsPingsAndTheExitStatus) {
  std::mutex mu;
  std::string request;
  std::optional<WsMessage> pong;
  std::optional<WsMessage> close_echo;
  std::string protocol_error;
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(1, "");  // an empty first frame per channel, as some servers send
    // stdout split over three frames, with a ping between fragments.
    c.Frame(WsOpcode::kBinary, std::string("\x01") + "hello ", /*fin=*/false);
    c.Frame(WsOpcode::kPing, "still-there?");
    c.Frame(WsOpcode::kContinuation, "wor", false);
    c.Frame(WsOpcode::kContinuation, "ld\n", true);
    c.Channel(2, "warning: x\n");
    std::optional<WsMessage> p = c.Next();
    c.Channel(3, kSuccess);
    c.Frame(WsOpcode::kClose, http::ClosePayload(1000, ""));
    std::optional<WsMessage> echo = c.Next();
    std::lock_guard<std::mutex> lock(mu);
    request = c.request();
    pong = p;
    close_echo = echo;
    protocol_error = c.protocol_error();
  });
  Result<ExecResult> r = client_->Exec(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_text, "hello world\n");
  EXPECT_EQ(r->stderr_text, "warning: x\n");
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->protocol, "v5.channel.k8s.io");
  server_.reset();  // joins the server thread

  EXPECT_EQ(protocol_error, "");
  EXPECT_THAT(request, HasSubstr("GET /api/v1/namespaces/ns1/pods/db-0/exec?command=sh&command=-c&"
                                 "command=echo%20hi%20there&container=main&stdout=true&stderr=true "
                                 "HTTP/1.1\r\n"));
  EXPECT_THAT(request,
              HasSubstr("Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n"));
  EXPECT_THAT(request, HasSubstr("Authorization: Bearer secret-token-123\r\n"));
  EXPECT_THAT(request, Not(HasSubstr("stdin=true")));
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->opcode, WsOpcode::kPong);
  EXPECT_EQ(pong->payload, "still-there?");
  ASSERT_TRUE(close_echo.has_value());
  EXPECT_EQ(close_echo->opcode, WsOpcode::kClose);
  EXPECT_EQ(http::ParseClosePayload(close_echo->payload).code, 1000);
}

TEST_F(ExecClientTest, NonZeroExitCodeComesFromTheErrorChannel) {
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(2, "boom\n");
    c.Channel(3, ExitStatus(7));
    // No close frame: the server just goes away after the status.
  });
  Result<ExecResult> r = client_->Exec(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->stderr_text, "boom\n");
}

TEST_F(ExecClientTest, LargeFramesAndTheOutputCap) {
  const std::string big(200'000, 'z');  // one frame with a 64-bit length
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(1, big);
    c.Channel(1, big);
    c.Channel(2, std::string(70'000, 'e'));  // a 16-bit... no: 64-bit length too, under the cap
    c.Channel(3, kSuccess);
    c.Frame(WsOpcode::kClose, http::ClosePayload(1000, ""));
    c.Next();
  });
  ExecRequest req = Request();
  req.max_output = 300'000;
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stdout_text.substr(0, 300'000), std::string(300'000, 'z'));
  EXPECT_THAT(r->stdout_text.substr(300'000),
              HasSubstr("output truncated: 100000 more bytes after the first 300000"));
  EXPECT_FALSE(r->stderr_truncated);
  EXPECT_EQ(r->stderr_text, std::string(70'000, 'e'));
}

TEST_F(ExecClientTest, StdinIsSentAndClosedUnderV5) {
  std::mutex mu;
  std::vector<WsMessage> got;
  std::string request;
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    std::vector<WsMessage> seen;
    std::string stdin_bytes;
    while (std::optional<WsMessage> m = c.Next()) {
      seen.push_back(*m);
      if (m->payload == std::string("\xff\x00", 2)) {
        break;  // stdin closed
      }
    }
    c.Channel(3, kSuccess);
    c.Frame(WsOpcode::kClose, http::ClosePayload(1000, ""));
    c.Next();
    std::lock_guard<std::mutex> lock(mu);
    got = std::move(seen);
    request = c.request();
  });
  ExecRequest req = Request();
  req.stdin_data = std::string(70'000, 'i');  // more than one 32 KiB stdin message
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server_.reset();
  EXPECT_THAT(request, HasSubstr("&stdin=true&"));
  std::string stdin_bytes;
  ASSERT_GE(got.size(), 2u);
  for (size_t i = 0; i + 1 < got.size(); ++i) {
    ASSERT_EQ(got[i].opcode, WsOpcode::kBinary);
    ASSERT_EQ(got[i].payload[0], '\0') << "stdin channel";
    stdin_bytes += got[i].payload.substr(1);
  }
  EXPECT_EQ(stdin_bytes, std::string(70'000, 'i'));
  EXPECT_EQ(got.back().payload, std::string("\xff\x00", 2));
}

TEST_F(ExecClientTest, FallsBackToV4WithoutTheCloseChannel) {
  std::mutex mu;
  std::vector<WsMessage> got;
  Start([&](Conn& c) {
    c.Upgrade("v4.channel.k8s.io");
    std::vector<WsMessage> seen;
    std::optional<WsMessage> m = c.Next();  // the stdin data
    if (m) {
      seen.push_back(*m);
    }
    c.Channel(1, "v4 out");
    c.Channel(3, ExitStatus(2));
    c.Frame(WsOpcode::kClose, http::ClosePayload(1000, ""));
    while ((m = c.Next())) {
      seen.push_back(*m);  // anything else up to and including the close echo
    }
    std::lock_guard<std::mutex> lock(mu);
    got = std::move(seen);
  });
  ExecRequest req = Request();
  req.stdin_data = "input";
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->protocol, "v4.channel.k8s.io");
  EXPECT_EQ(r->stdout_text, "v4 out");
  EXPECT_EQ(r->exit_code, 2);
  server_.reset();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, std::string("\0input", 6));
  EXPECT_EQ(got[1].opcode, WsOpcode::kClose);  // and no channel-255 message before it
}

TEST_F(ExecClientTest, FailureWithoutExitCodeIsFailedPrecondition) {
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(
        3,
        R"({"status":"Failure","message":"OCI runtime exec failed: exec: \"nope\": executable file not found in $PATH","reason":"InternalError"})");
  });
  Result<ExecResult> r = client_->Exec(Request());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("executable file not found"));
  EXPECT_THAT(r.status().message(), HasSubstr("exec in pod ns1/db-0 container main"));
}

TEST_F(ExecClientTest, HttpErrorsBeforeTheUpgradeKeepTheServersWords) {
  struct Case {
    int status;
    std::string body;
    StatusCode code;
    std::string words;
  };
  const std::vector<Case> cases = {
      {404,
       R"({"kind":"Status","status":"Failure","message":"pods \"db-0\" not found","reason":"NotFound","code":404})",
       StatusCode::kNotFound, "pods \"db-0\" not found"},
      {400,
       R"({"kind":"Status","status":"Failure","message":"container main is not valid for pod db-0","reason":"BadRequest","code":400})",
       StatusCode::kInvalidArgument, "container main is not valid for pod db-0"},
      {403,
       R"({"kind":"Status","status":"Failure","message":"pods \"db-0\" is forbidden: User \"x\" cannot create resource \"pods/exec\"","reason":"Forbidden","code":403})",
       StatusCode::kPermissionDenied, "cannot create resource \"pods/exec\""},
  };
  size_t next = 0;
  Start([&](Conn& c) {
    const Case& k = cases[next++ % cases.size()];
    c.Reply(k.status, k.body);
  });
  for (const Case& k : cases) {
    Result<ExecResult> r = client_->Exec(Request());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), k.code) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(k.words));
    EXPECT_THAT(r.status().message(), Not(HasSubstr("secret-token")));
  }
}

TEST_F(ExecClientTest, UnauthorizedInvalidatesCredentialsAndRetriesOnce) {
  std::mutex mu;
  std::vector<std::string> auth;
  Start([&](Conn& c) {
    {
      std::lock_guard<std::mutex> lock(mu);
      auth.push_back(c.Header("authorization"));
    }
    if (c.Header("authorization") == "Bearer secret-token-123") {
      c.Reply(
          401,
          R"({"kind":"Status","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})");
      return;
    }
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(3, kSuccess);
  });
  Result<ExecResult> r = client_->Exec(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server_.reset();
  EXPECT_EQ(credentials_.invalidations(), 1);
  EXPECT_THAT(auth, ::testing::ElementsAre("Bearer secret-token-123", "Bearer fresh-token"));
}

TEST_F(ExecClientTest, SilenceUntilTheTimeoutIsDeadlineExceeded) {
  std::mutex mu;
  std::optional<WsMessage> close;
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    std::optional<WsMessage> m = c.Next();  // the client's close, after its deadline
    std::lock_guard<std::mutex> lock(mu);
    close = m;
  });
  ExecRequest req = Request();
  req.timeout = std::chrono::milliseconds(300);
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("timed out after 300ms"));
  server_.reset();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->opcode, WsOpcode::kClose);
}

TEST_F(ExecClientTest, ConnectionLostBeforeTheStatusIsUnavailable) {
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(1, "partial");
  });
  Result<ExecResult> r = client_->Exec(Request());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(ExecClientTest, WrongAcceptKeyOrProtocolIsRefused) {
  int n = 0;
  Start([&](Conn& c) {
    if (n++ == 0) {
      c.Upgrade("v5.channel.k8s.io", /*wrong_accept=*/true);
    } else {
      c.Upgrade("v3.channel.k8s.io");
    }
  });
  Result<ExecResult> r = client_->Exec(Request());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("Sec-WebSocket-Accept"));
  r = client_->Exec(Request());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("not offered: v3.channel.k8s.io"));
}

TEST_F(ExecClientTest, MalformedServerFrameIsAnErrorAndTheClientSaysWhy) {
  std::mutex mu;
  std::optional<WsMessage> close;
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Write(EncodeFrame(WsOpcode::kBinary, "\x01masked", true, std::array<uint8_t, 4>{1, 2, 3, 4}));
    std::optional<WsMessage> m = c.Next();
    std::lock_guard<std::mutex> lock(mu);
    close = m;
  });
  Result<ExecResult> r = client_->Exec(Request());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("masked"));
  server_.reset();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(http::ParseClosePayload(close->payload).code, http::kWsCloseProtocolError);
}

TEST_F(ExecClientTest, UntrustedServerIsRefusedBeforeAnythingIsSent) {
  Start([&](Conn& c) { c.Upgrade("v5.channel.k8s.io"); });
  RestConfig config;
  config.server = server_->Url();
  config.ca_pem = SelfSigned().cert_pem;  // some other CA
  ExecClient other(config, credentials_, RealClock());
  Result<ExecResult> r = other.Exec(Request());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("certificate-authority"));
}

TEST_F(ExecClientTest, TlsServerNameIsVerifiedInsteadOfTheAddress) {
  // A certificate for a DNS name only, served on 127.0.0.1.
  cert_ = SelfSigned("DNS:api.cluster.test");
  Start([&](Conn& c) {
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(1, "named\n");
    c.Channel(3, kSuccess);
  });
  RestConfig config;
  config.server = server_->Url();
  config.ca_pem = cert_.cert_pem;
  ExecClient plain(config, credentials_, RealClock());
  EXPECT_EQ(plain.Exec(Request()).status().code(), StatusCode::kFailedPrecondition);
  config.tls_server_name = "api.cluster.test";
  ExecClient named(config, credentials_, RealClock());
  Result<ExecResult> r = named.Exec(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_text, "named\n");
}

TEST_F(ExecClientTest, ProxyUrlTunnelsWithConnect) {
  std::mutex mu;
  std::string host;
  Start([&](Conn& c) {
    {
      std::lock_guard<std::mutex> lock(mu);
      host = c.Header("host");
    }
    c.Upgrade("v5.channel.k8s.io");
    c.Channel(1, "via proxy\n");
    c.Channel(3, kSuccess);
  });
  ConnectProxy proxy;
  RestConfig config;
  config.server = server_->Url();
  config.ca_pem = cert_.cert_pem;
  config.proxy_url = proxy.Url();
  ExecClient client(config, credentials_, RealClock());
  Result<ExecResult> r = client.Exec(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_text, "via proxy\n");
  const std::string authority = server_->Url().substr(std::string("https://").size());
  EXPECT_THAT(proxy.Connects(), ::testing::ElementsAre(HasSubstr("CONNECT " + authority + " ")));
  server_.reset();
  EXPECT_EQ(host, authority);
}

TEST(ExecRequestTest, BadRequestsAreRefusedWithoutAConnection) {
  FakeCredentials creds;
  RestConfig config;
  config.server = "https://127.0.0.1:1";
  ExecClient client(config, creds, RealClock());
  ExecRequest r;
  r.namespace_name = "ns1";
  r.pod = "p";
  Result<ExecResult> no_command = client.Exec(r);
  EXPECT_EQ(no_command.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_command.status().message(), HasSubstr("no command"));
  r.command = {"true"};
  r.pod = "a/b";
  EXPECT_EQ(client.Exec(r).status().code(), StatusCode::kInvalidArgument);
  r.pod = "p";
  r.timeout = std::chrono::milliseconds(0);
  EXPECT_THAT(client.Exec(r).status().message(), HasSubstr("timeout must be positive"));
}

TEST(ExecStatusTest, ParsesSuccessExitCodesAndFailures) {
  EXPECT_EQ(*ParseExecStatus(kSuccess), 0);
  EXPECT_EQ(*ParseExecStatus(ExitStatus(137)), 137);
  // kwok's local exec: Go's error text instead of a cause.
  EXPECT_EQ(
      *ParseExecStatus(
          R"({"status":"Failure","message":"Internal error occurred: error executing command in container: cmd wait: sh -c exit 3: exit status 3","reason":"InternalError"})"),
      3);
  EXPECT_EQ(ParseExecStatus("not json").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseExecStatus(R"({"status":"Weird"})").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(
      ParseExecStatus(
          R"({"status":"Failure","details":{"causes":[{"reason":"ExitCode","message":"x"}]}})")
          .status()
          .code(),
      StatusCode::kDataLoss);
}

}  // namespace
}  // namespace arca::kube
