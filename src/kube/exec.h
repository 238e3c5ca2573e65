// File: kube/exec.h
//
// Running a command in a pod's container through the `pods/exec` subresource, over WebSocket
// (http/websocket.h), as `kubectl exec` does since Kubernetes 1.30:
//
//   GET /api/v1/namespaces/{ns}/pods/{pod}/exec?command=a&command=b&container=c&stdout=true&...
//   Upgrade: websocket; Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io
//
// Each binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (a
// metav1.Status: Success, or Failure with details.causes[{reason: ExitCode, message: "N"}]),
// 4 resize. v5 adds channel 255 (close a stream: payload is the stream's byte), used here to end
// stdin; under v4 stdin cannot be ended, so a command that reads stdin to its end waits until the
// timeout. The server picks the protocol; v5 is preferred.
//
// The connection honours the same kubeconfig settings as kube::Connection: CA (file or data),
// insecure-skip-tls-verify, tls-server-name, proxy-url (tunnelled with CONNECT), and every
// credential the CredentialProvider gives (client certificates, bearer tokens, token files, exec
// plugins; a 401 invalidates them and the exec is tried once more). Basic auth is sent as the
// provider formats it. Credentials never appear in errors.
//
// Memory is bounded: each of stdout and stderr keeps at most `max_output` bytes; the rest is
// counted and dropped, and the kept text ends with a marker saying how much was cut.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<ExecClient> exec, ExecClient::Open(config, RealClock()));
//   ASSIGN_OR_RETURN(ExecResult r, exec->Exec({.namespace_name = "ns1", .pod = "db-0",
//                                               .command = {"/bin/sh", "-c", "sync"}}));
//   if (r.exit_code != 0) ...
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/curl_transport.h"
#include "kube/credentials.h"
#include "kube/kubeconfig.h"

namespace arca::kube {

inline constexpr std::string_view kExecProtocolV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kExecProtocolV4 = "v4.channel.k8s.io";

struct ExecRequest {
  static constexpr std::chrono::milliseconds kDefaultTimeout{30'000};
  static constexpr size_t kDefaultMaxOutput = size_t{1} << 20;
  static constexpr size_t kMaxStdin = size_t{1} << 20;

  std::string namespace_name;
  std::string pod;
  std::string container;  // empty: the server's default (the pod's only container, or an error)
  std::vector<std::string> command;  // argv; not run in a shell
  // Sent to the command's stdin, which is then closed (v5). Written before output is read, so
  // it is for small inputs (at most kMaxStdin bytes).
  std::optional<std::string> stdin_data;
  // The whole exec: connecting, running, and reading the output. Must be positive.
  std::chrono::milliseconds timeout = kDefaultTimeout;
  // Bytes kept per output stream.
  size_t max_output = kDefaultMaxOutput;
};

struct ExecResult {
  std::string stdout_text;
  std::string stderr_text;
  int exit_code = 0;
  // Set when a stream was longer than max_output; the text then ends with a marker line.
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::string protocol;  // the subprotocol the server chose
};

// Runs commands in pods: the I/O boundary that hooks (and tests, with fakes) use.
class PodExecutor {
 public:
  virtual ~PodExecutor() = default;

  // Runs `request.command` and waits for it to end. A command that ran returns OK with its exit
  // code, whatever it is. Errors:
  //   kInvalidArgument    a bad request (no command, a bad name), or the server refused it
  //                       (400: e.g. the container is not in the pod); the server's message.
  //   kNotFound           the pod does not exist.
  //   kDeadlineExceeded   the timeout passed; the remote command is NOT stopped by this.
  //   kFailedPrecondition the command could not be started (the runtime's message), or the pod
  //                       is not running.
  //   kUnavailable        the connection failed or ended before the command's status.
  //   others              from kube/api_error.h (kPermissionDenied, kUnauthenticated, ...).
  // Thread-safe.
  virtual Result<ExecResult> Exec(const ExecRequest& request) = 0;
};

// The WebSocket implementation of PodExecutor.
class ExecClient : public PodExecutor {
 public:
  // `credentials` and `clock` must outlive the client. TLS settings come from `config`
  // (server, CA, insecure, tls-server-name, proxy-url).
  ExecClient(RestConfig config, CredentialProvider& credentials, Clock& clock);

  // A client with its own credential provider for `config`, as Connection::Open makes one.
  static Result<std::unique_ptr<ExecClient>> Open(RestConfig config, Clock& clock);

  Result<ExecResult> Exec(const ExecRequest& request) override;

 private:
  Result<ExecResult> ExecOnce(const ExecRequest& request, const std::string& target,
                              std::chrono::system_clock::time_point deadline, bool* unauthorized);

  RestConfig config_;
  http::TransportOptions transport_;
  // Set by Open only.
  std::unique_ptr<CommandRunner> owned_runner_;
  CredentialProviderPtr owned_credentials_;
  CredentialProvider* credentials_;
  Clock& clock_;
};

// The request target (path and query) for an exec.
Result<std::string> ExecTarget(const ExecRequest& request);

// Reads the error channel's Status: OK with the exit code for Success (0), for Failure with an
// ExitCode cause (the kubelet's NonZeroExitCode), and for Failure whose message ends in Go's
// "exit status N" (runtimes that pass on the exec error's text, as kwok does);
// kFailedPrecondition with the server's message for any other Failure; kDataLoss when it is not a
// Status.
Result<int> ParseExecStatus(std::string_view json);

}  // namespace arca::kube
