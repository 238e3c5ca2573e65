#include "kube/connection.h"

#include "http/curl_transport.h"

namespace arca::kube {

http::TransportOptions TransportOptionsFor(const RestConfig& config) {
  http::TransportOptions transport;
  transport.ca_pem = config.ca_pem;
  transport.ca_file = config.ca_file;
  transport.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
  transport.proxy_url = config.proxy_url;
  transport.tls_server_name = config.tls_server_name;
  // API responses are JSON and lists are large: gzip makes big lists faster even on loopback.
  transport.accept_compressed = true;
  return transport;
}

Result<ConnectionPtr> Connection::Open(RestConfig config, Clock& clock, ClientOptions options) {
  auto transport = std::make_unique<http::CurlTransport>(TransportOptionsFor(config));
  return OpenWithTransport(std::move(config), std::move(transport), clock, options);
}

Result<ConnectionPtr> Connection::OpenWithTransport(RestConfig config, http::TransportPtr transport,
                                                    Clock& clock, ClientOptions options) {
  // A certificate from the kubeconfig is used only when nothing else authenticates.
  if (config.exec || !config.token.empty() || !config.token_file.empty()) {
    config.client_certificate_pem.clear();
    config.client_key_pem.clear();
  }
  auto conn = std::make_unique<Connection>(Key{});
  conn->runner_ = MakeProcessRunner();
  conn->transport_ = std::move(transport);
  conn->credentials_ = MakeCredentialProvider(config, clock, *conn->runner_);
  conn->client_ = std::make_unique<Client>(std::move(config), *conn->transport_,
                                           *conn->credentials_, clock, options);
  return conn;
}

}  // namespace arca::kube
