// The Kubernetes client on the real libcurl transport against a loopback HTTPS server that plays
// scripted answers: 429 with Retry-After, 410 on an expired continue token, and a watch whose
// connection drops in the middle of a chunked stream. The server's certificate is made in-process
// and trusted through the client's CA setting, so TLS is verified as in production.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api_bodies.h"
#include "common/clock.h"
#include "http/curl_transport.h"
#include "kube/client.h"
#include "kube/list_stream.h"

namespace arca::kube {
namespace {

using fakes::Event;
using fakes::ListBody;
using fakes::StatusBody;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A self-signed certificate for 127.0.0.1, PEM.
struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

TestCert MakeCert() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("arca-test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "digitalSignature,keyCertSign"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, x);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCert out{BioString(cert_bio), BioString(key_bio)};
  BIO_free(cert_bio);
  BIO_free(key_bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// One scripted answer: the raw HTTP response, and whether to cut the connection after it
// instead of closing it cleanly.
struct Reply {
  std::string raw;
  bool cut = false;
};

Reply Http(int status, const std::string& body, const std::string& extra_headers = "") {
  return {"HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
          "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
          extra_headers + "\r\n" + body};
}

// A chunked 200 response carrying `events`; `cut` drops the connection before the last chunk.
Reply ChunkedEvents(const std::vector<std::string>& events, bool cut) {
  std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n";
  for (const std::string& e : events) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", e.size());
    raw += size + e + "\r\n";
  }
  if (!cut) {
    raw += "0\r\n\r\n";
  }
  return {raw, cut};
}

// Serves scripted replies in order, one TLS connection per request.
class HttpsServer {
 public:
  explicit HttpsServer(const TestCert& cert) {
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
  ~HttpsServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }

  std::string Url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  void Script(Reply r) {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(std::move(r));
  }
  std::vector<std::string> RequestLines() {
    std::lock_guard<std::mutex> lock(mu_);
    return request_lines_;
  }

 private:
  void Serve() {
    while (true) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) {
        return;
      }
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, client);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) {
            break;
          }
          request.append(buf, static_cast<size_t>(n));
        }
        Reply reply = Http(500, "no scripted reply");
        {
          std::lock_guard<std::mutex> lock(mu_);
          request_lines_.push_back(request.substr(0, request.find("\r\n")));
          if (!replies_.empty()) {
            reply = std::move(replies_.front());
            replies_.pop_front();
          }
        }
        SSL_write(ssl, reply.raw.data(), static_cast<int>(reply.raw.size()));
        if (!reply.cut) {
          SSL_shutdown(ssl);
        }
      }
      SSL_free(ssl);
      ::close(client);  // a cut reply ends here: no close_notify, no last chunk
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::deque<Reply> replies_;
  std::vector<std::string> request_lines_;
};

class ClientHttpsTest : public ::testing::Test {
 protected:
  ClientHttpsTest()
      : cert_(MakeCert()),
        server_(cert_),
        transport_([this] {
          http::TransportOptions o;
          o.ca_pem = cert_.cert_pem;
          return o;
        }()),
        clock_(std::chrono::system_clock::time_point{}) {
    config_.server = server_.Url();
    options_.qps = 0;
    options_.retry.jitter = 0;  // exact waits
  }

  static ResourceRef ConfigMaps() {
    ResourceRef ref;
    ref.gvr = {"", "v1", "configmaps"};
    ref.namespace_name = "ns1";
    return ref;
  }

  TestCert cert_;
  HttpsServer server_;
  http::CurlTransport transport_;
  fakes::TokenProvider creds_;
  SimulatedClock clock_;
  RestConfig config_;
  ClientOptions options_;
};

TEST_F(ClientHttpsTest, TooManyRequestsIsRetriedAfterRetryAfter) {
  server_.Script(Http(429, StatusBody(429, "TooManyRequests", "slow down"), "Retry-After: 2\r\n"));
  server_.Script(Http(200, R"({"metadata":{"name":"x"}})"));
  Client client(config_, transport_, creds_, clock_, options_);
  ResourceRef ref = ConfigMaps();
  ref.name = "x";
  Result<std::string> got = client.Get(ref);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_THAT(*got, HasSubstr("\"x\""));
  EXPECT_THAT(clock_.Sleeps(), ElementsAre(std::chrono::seconds(2)));
  EXPECT_THAT(server_.RequestLines(),
              ElementsAre("GET /api/v1/namespaces/ns1/configmaps/x HTTP/1.1",
                          "GET /api/v1/namespaces/ns1/configmaps/x HTTP/1.1"));
}

TEST_F(ClientHttpsTest, ExpiredContinueTokenRelists) {
  server_.Script(Http(200, ListBody({"a", "b"}, "c1")));
  server_.Script(Http(410, StatusBody(410, "Expired", "too old")));
  server_.Script(Http(200, ListBody({"a", "b"}, "c2")));
  server_.Script(Http(200, ListBody({"c"}, "")));
  Client client(config_, transport_, creds_, clock_, options_);
  std::vector<std::string> names;
  int restarts = 0;
  ObjectMetaParser parser;
  ListOptions options;
  options.limit = 2;
  Status s = client.List(
      ConfigMaps(), options,
      [&](std::string_view item) {
        names.push_back(parser.Parse(item)->name);
        return OkStatus();
      },
      [&] {
        ++restarts;
        names.clear();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(restarts, 1);
  EXPECT_THAT(names, ElementsAre("a", "b", "c"));
  std::vector<std::string> lines = server_.RequestLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[1], HasSubstr("continue=c1"));
  EXPECT_THAT(lines[2], ::testing::Not(HasSubstr("continue=")));
  EXPECT_THAT(lines[3], HasSubstr("continue=c2"));
}

TEST_F(ClientHttpsTest, WatchResumesAfterTheConnectionDrops) {
  // The first stream delivers one event and is cut mid-stream (no final chunk, no TLS close).
  server_.Script(ChunkedEvents({Event("ADDED", "a", "11")}, /*cut=*/true));
  server_.Script(ChunkedEvents({Event("MODIFIED", "a", "12"), Event("DELETED", "a", "13")},
                               /*cut=*/false));
  Client client(config_, transport_, creds_, clock_, options_);
  std::vector<std::string> seen;
  ListOptions options;
  options.resource_version = "10";
  Status s =
      client.Watch(ConfigMaps(), options, [&](std::string_view type, std::string_view) -> Status {
        seen.emplace_back(type);
        return type == "DELETED" ? CancelledError("done") : OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(seen, ElementsAre("ADDED", "MODIFIED", "DELETED"));
  std::vector<std::string> lines = server_.RequestLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("resourceVersion=10&watch=true"));
  EXPECT_THAT(lines[1], HasSubstr("resourceVersion=11&watch=true"));
}

TEST_F(ClientHttpsTest, UntrustedServerIsRefused) {
  http::CurlTransport untrusted({});  // the system CAs do not know the test certificate
  Client client(config_, untrusted, creds_, clock_, options_);
  ResourceRef ref = ConfigMaps();
  ref.name = "x";
  Result<std::string> got = client.Get(ref);
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), HasSubstr("certificate"));
  EXPECT_TRUE(server_.RequestLines().empty());
}

}  // namespace
}  // namespace arca::kube
