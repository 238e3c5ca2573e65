#include "kube/exec.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "http/websocket.h"
#include "kube/api_error.h"
#include "kube/request.h"

namespace arca::kube {
namespace {

using Json = nlohmann::json;

constexpr char kStdin = 0;
constexpr char kStdout = 1;
constexpr char kStderr = 2;
constexpr char kError = 3;
constexpr char kClose = static_cast<char>(255);
constexpr size_t kStdinChunk = size_t{32} * 1024;
// After the command's status, how long to wait for the server's close before dropping it.
constexpr std::chrono::milliseconds kCloseGrace{2'000};

std::string Describe(const ExecRequest& r) {
  std::string out = "exec in pod " + r.namespace_name + "/" + r.pod;
  if (!r.container.empty()) {
    out += " container " + r.container;
  }
  return out;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

// One output stream, capped.
class Capped {
 public:
  explicit Capped(size_t max) : max_(max) {}
  void Append(std::string_view data) {
    const size_t room = max_ - std::min(max_, text_.size());
    text_.append(data.substr(0, room));
    dropped_ += data.size() - std::min(room, data.size());
  }
  bool truncated() const { return dropped_ > 0; }
  std::string Take() {
    if (dropped_ > 0) {
      text_ += "\n[arca: output truncated: " + std::to_string(dropped_) +
               " more bytes after the first " + std::to_string(max_) + " were dropped]\n";
    }
    return std::move(text_);
  }

 private:
  size_t max_;
  std::string text_;
  size_t dropped_ = 0;
};

}  // namespace

Result<std::string> ExecTarget(const ExecRequest& request) {
  if (request.command.empty()) {
    return InvalidArgumentError(Describe(request) +
                                ": no command given; pass the program and its arguments");
  }
  ResourceRef ref;
  ref.gvr = {"", "v1", "pods"};
  ref.namespaced = true;
  ref.namespace_name = request.namespace_name;
  ref.name = request.pod;
  ref.subresource = "exec";
  if (request.namespace_name.empty() || request.pod.empty()) {
    return InvalidArgumentError("exec needs a namespace and a pod name");
  }
  ASSIGN_OR_RETURN(std::string path, ResourcePath(ref));
  QueryParams query;
  for (const std::string& arg : request.command) {
    query.emplace_back("command", arg);
  }
  if (!request.container.empty()) {
    query.emplace_back("container", request.container);
  }
  if (request.stdin_data) {
    query.emplace_back("stdin", "true");
  }
  query.emplace_back("stdout", "true");
  query.emplace_back("stderr", "true");
  return path + EncodeQuery(query);
}

Result<int> ParseExecStatus(std::string_view json) {
  Json status = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded() || !status.is_object()) {
    return DataLossError("the exec error channel did not carry a Status: " +
                         std::string(json.substr(0, 200)));
  }
  auto str = [](const Json& j, const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  const std::string result = str(status, "status");
  if (result == "Success") {
    return 0;
  }
  if (result != "Failure") {
    return DataLossError("the exec error channel carried a Status with status \"" + result +
                         "\"; expected Success or Failure");
  }
  auto details = status.find("details");
  if (details != status.end() && details->is_object()) {
    auto causes = details->find("causes");
    if (causes != details->end() && causes->is_array()) {
      for (const Json& cause : *causes) {
        if (cause.is_object() && str(cause, "reason") == "ExitCode") {
          const std::string text = str(cause, "message");
          char* end = nullptr;
          const long code = std::strtol(text.c_str(), &end, 10);
          if (!text.empty() && end != nullptr && *end == '\0') {
            return static_cast<int>(code);
          }
          return DataLossError("the exec exit code is not a number: \"" + text + "\"");
        }
      }
    }
  }
  std::string message = str(status, "message");
  // Runtimes that pass on Go's exec error text instead of an ExitCode cause (kwok's local exec
  // does): "...: exit status 3".
  constexpr std::string_view kExitStatus = "exit status ";
  const size_t at = message.rfind(kExitStatus);
  if (at != std::string::npos) {
    const std::string digits = message.substr(at + kExitStatus.size());
    if (!digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::stoi(digits);
    }
  }
  if (message.empty()) {
    message = "the command failed without an exit code";
  }
  return FailedPreconditionError("the command could not be run: " + message);
}

ExecClient::ExecClient(RestConfig config, CredentialProvider& credentials, Clock& clock)
    : config_(std::move(config)), credentials_(&credentials), clock_(clock) {
  transport_.ca_pem = config_.ca_pem;
  transport_.ca_file = config_.ca_file;
  transport_.insecure_skip_tls_verify = config_.insecure_skip_tls_verify;
  transport_.proxy_url = config_.proxy_url;
  transport_.tls_server_name = config_.tls_server_name;
}

Result<std::unique_ptr<ExecClient>> ExecClient::Open(RestConfig config, Clock& clock) {
  // As Connection: a certificate from the kubeconfig is used only when nothing else
  // authenticates.
  if (config.exec || !config.token.empty() || !config.token_file.empty()) {
    config.client_certificate_pem.clear();
    config.client_key_pem.clear();
  }
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  CredentialProviderPtr credentials = MakeCredentialProvider(config, clock, *runner);
  auto client = std::make_unique<ExecClient>(std::move(config), *credentials, clock);
  client->owned_runner_ = std::move(runner);
  client->owned_credentials_ = std::move(credentials);
  return client;
}

Result<ExecResult> ExecClient::Exec(const ExecRequest& request) {
  if (request.timeout.count() <= 0) {
    return InvalidArgumentError(Describe(request) + ": the timeout must be positive");
  }
  if (request.stdin_data && request.stdin_data->size() > ExecRequest::kMaxStdin) {
    return InvalidArgumentError(Describe(request) + ": stdin is longer than " +
                                std::to_string(ExecRequest::kMaxStdin) + " bytes");
  }
  ASSIGN_OR_RETURN(const std::string target, ExecTarget(request));
  const auto deadline = clock_.Now() + request.timeout;
  bool unauthorized = false;
  Result<ExecResult> result = ExecOnce(request, target, deadline, &unauthorized);
  if (unauthorized) {
    credentials_->Invalidate();
    unauthorized = false;
    result = ExecOnce(request, target, deadline, &unauthorized);
  }
  if (!result.ok() && result.status().code() == StatusCode::kDeadlineExceeded) {
    return DeadlineExceededError(Describe(request) + ": timed out after " +
                                 FormatDuration(request.timeout) +
                                 " (the command may still be running in the container)");
  }
  return result;
}

Result<ExecResult> ExecClient::ExecOnce(const ExecRequest& request, const std::string& target,
                                        std::chrono::system_clock::time_point deadline,
                                        bool* unauthorized) {
  const std::string what = Describe(request);
  ASSIGN_OR_RETURN(Credentials creds, credentials_->Get());
  Result<http::ByteStreamPtr> stream =
      http::ConnectStream(transport_, config_.server, creds.client_certificate_pem,
                          creds.client_key_pem, clock_, deadline);
  if (!stream.ok()) {
    return stream.status().WithContext(what);
  }
  http::UpgradeRequest upgrade;
  {
    // Host: the server's authority.
    std::string_view server = config_.server;
    const size_t scheme = server.find("://");
    server.remove_prefix(scheme == std::string_view::npos ? 0 : scheme + 3);
    upgrade.host = std::string(server.substr(0, server.find('/')));
    std::string_view base = config_.server;
    base.remove_prefix(std::min(
        base.size(), (scheme == std::string_view::npos ? 0 : scheme + 3) + upgrade.host.size()));
    while (!base.empty() && base.back() == '/') {
      base.remove_suffix(1);
    }
    upgrade.target = std::string(base) + target;
  }
  upgrade.protocols = {std::string(kExecProtocolV5), std::string(kExecProtocolV4)};
  if (!creds.authorization.empty()) {
    upgrade.headers.emplace_back("Authorization", creds.authorization);
  }
  upgrade.headers.emplace_back("User-Agent", "arca");
  Result<http::WsUpgrade> handshake =
      http::WebSocket::Handshake(std::move(stream).value(), upgrade, clock_, deadline);
  if (!handshake.ok()) {
    return handshake.status().WithContext(what);
  }
  http::WsUpgrade up = std::move(handshake).value();
  if (!up.socket) {
    if (up.status == 401) {
      *unauthorized = true;
    }
    std::optional<std::string_view> retry_after;
    for (const auto& [name, value] : up.headers) {
      if (name == "retry-after") {
        retry_after = value;
      }
    }
    return ApiErrorToStatus(ParseApiError(up.status, up.body, retry_after), what,
                            /*is_create=*/false);
  }
  http::WebSocket& ws = *up.socket;
  const bool v5 = ws.protocol() == kExecProtocolV5;

  if (request.stdin_data) {
    std::string_view in = *request.stdin_data;
    while (!in.empty()) {
      const std::string_view part = in.substr(0, kStdinChunk);
      std::string message(1, kStdin);
      message.append(part);
      RETURN_IF_ERROR(ws.Send(http::WsOpcode::kBinary, message, deadline).WithContext(what));
      in.remove_prefix(part.size());
    }
    if (v5) {
      RETURN_IF_ERROR(ws.Send(http::WsOpcode::kBinary, std::string{kClose, kStdin}, deadline)
                          .WithContext(what));
    }
  }

  Capped out(request.max_output);
  Capped err(request.max_output);
  std::optional<Result<int>> exit_status;
  while (true) {
    // Once the status is known only the close remains: wait for it briefly.
    const auto wait_until = exit_status ? std::min(deadline, clock_.Now() + kCloseGrace) : deadline;
    Result<http::WsMessage> m = ws.Receive(wait_until);
    if (!m.ok()) {
      if (exit_status) {
        break;  // the status is what matters; a messy close does not
      }
      if (m.status().code() == StatusCode::kDeadlineExceeded) {
        ws.Close(http::kWsCloseNormal, clock_.Now() + kCloseGrace / 4);
      }
      return m.status().WithContext(what);
    }
    if (m->opcode == http::WsOpcode::kClose) {
      break;
    }
    if (m->payload.empty()) {
      continue;
    }
    const char channel = m->payload[0];
    const std::string_view data = std::string_view(m->payload).substr(1);
    if (channel == kStdout) {
      out.Append(data);
    } else if (channel == kStderr) {
      err.Append(data);
    } else if (channel == kError) {
      if (!exit_status && !data.empty()) {
        exit_status = ParseExecStatus(data);
      }
    }
    // Other channels (resize, close notices from the server) carry nothing for us.
  }
  if (!ws.closed()) {
    ws.Close(http::kWsCloseNormal, std::min(deadline, clock_.Now() + kCloseGrace));
  }
  if (!exit_status) {
    return UnavailableError(what +
                            ": the connection ended before the command's exit status arrived");
  }
  if (!exit_status->ok()) {
    return exit_status->status().WithContext(what);
  }
  ExecResult result;
  result.exit_code = **exit_status;
  result.stdout_truncated = out.truncated();
  result.stderr_truncated = err.truncated();
  result.stdout_text = out.Take();
  result.stderr_text = err.Take();
  result.protocol = ws.protocol();
  return result;
}

}  // namespace arca::kube
