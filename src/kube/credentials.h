// File: kube/credentials.h
//
// Where a request's credentials come from. A CredentialProvider is made once per RestConfig and
// asked before each request; it caches what it can:
//   - a static bearer token or basic-auth user: returned as is;
//   - a token file (in-cluster service accounts, `tokenFile`): re-read at most once a minute,
//     so rotated tokens are picked up;
//   - an exec plugin (client.authentication.k8s.io/v1 or v1beta1, as EKS, GKE and AKS use): run
//     with KUBERNETES_EXEC_INFO set, its ExecCredential cached until expirationTimestamp, or
//     until Invalidate() after a 401;
//   - client certificates from the kubeconfig are static too.
// Tokens, keys and plugin output never appear in error messages.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kube/kubeconfig.h"

namespace arca::kube {

struct Credentials {
  // The Authorization header value ("Bearer ...", "Basic ..."), or empty for none.
  std::string authorization;
  // A client certificate and key in PEM, or both empty.
  std::string client_certificate_pem;
  std::string client_key_pem;
  // When these stop being valid, if known.
  std::optional<std::chrono::system_clock::time_point> expiry;
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;

  // The credentials for the next request. Errors: those of reading the token file or running
  // the plugin (kUnauthenticated when a plugin fails or answers nonsense). Thread-safe.
  virtual Result<Credentials> Get() = 0;

  // The server rejected the credentials last returned (HTTP 401): forget cached ones so the next
  // Get() fetches fresh ones. Thread-safe.
  virtual void Invalidate() = 0;
};

using CredentialProviderPtr = std::unique_ptr<CredentialProvider>;

struct CommandOutput {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs a command: the I/O boundary of the exec plugin, faked in tests.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;

  // Runs `command` (looked up on PATH unless it contains '/') with `args`, the process
  // environment plus `env`, and stdin closed. Returns its output and exit code; errors only
  // when it cannot be started (kNotFound for a missing command). Thread-safe.
  virtual Result<CommandOutput> Run(
      const std::string& command, const std::vector<std::string>& args,
      const std::vector<std::pair<std::string, std::string>>& env) = 0;
};

// The real runner (posix_spawn).
std::unique_ptr<CommandRunner> MakeProcessRunner();

// The provider for `config`'s auth settings. `clock` and `runner` must outlive it.
CredentialProviderPtr MakeCredentialProvider(const RestConfig& config, Clock& clock,
                                             CommandRunner& runner);

// Parses a plugin's stdout. Errors: kUnauthenticated, naming what is wrong but not the values.
Result<Credentials> ParseExecCredential(std::string_view json, std::string_view api_version);

// The KUBERNETES_EXEC_INFO value for a plugin.
std::string ExecInfo(const ExecConfig& exec, const RestConfig& config);

}  // namespace arca::kube
