// File: kube/connection.h
//
// Connection: everything needed to talk to one cluster, built from a RestConfig: the libcurl
// transport with the cluster's TLS settings, the credential provider (with the process runner
// for exec plugins) and the Client. Commands make one and share its Client between threads.
//
// Example:
//   ASSIGN_OR_RETURN(RestConfig config, LoadRestConfig(LoadOptions::FromEnvironment(flag, ctx)));
//   ASSIGN_OR_RETURN(ConnectionPtr conn, Connection::Open(std::move(config), RealClock()));
//   ASSIGN_OR_RETURN(DiscoveryIndex index, conn->client().Discover());
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/status.h"
#include "http/curl_transport.h"
#include "http/transport.h"
#include "kube/client.h"
#include "kube/credentials.h"
#include "kube/kubeconfig.h"

namespace arca::kube {

class Connection;
using ConnectionPtr = std::unique_ptr<Connection>;

// The transport settings a connection to `config`'s server uses: its CA, insecure mode, proxy
// and tls-server-name, and gzip responses.
http::TransportOptions TransportOptionsFor(const RestConfig& config);

class Connection {
 public:
  // Opens no network connection yet. Every kubeconfig setting is honoured: CA, insecure mode,
  // tls-server-name and proxy-url go to the transport, credentials to the client. `clock` must
  // outlive the connection.
  static Result<ConnectionPtr> Open(RestConfig config, Clock& clock, ClientOptions options = {});

  // The same with a given transport (for tests).
  static Result<ConnectionPtr> OpenWithTransport(RestConfig config, http::TransportPtr transport,
                                                 Clock& clock, ClientOptions options = {});

  Client& client() { return *client_; }
  const RestConfig& config() const { return client_->config(); }

 private:
  // Lets Open use make_unique while keeping construction private.
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit Connection(Key /*key*/) {}

 private:
  std::unique_ptr<CommandRunner> runner_;
  http::TransportPtr transport_;
  CredentialProviderPtr credentials_;
  std::unique_ptr<Client> client_;
};

}  // namespace arca::kube
