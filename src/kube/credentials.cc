#include "kube/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "kube/encoding.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX

namespace arca::kube {
namespace {

constexpr std::chrono::minutes kTokenFileRefresh{1};
constexpr size_t kMaxStderrInError = 512;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

class StaticProvider : public CredentialProvider {
 public:
  explicit StaticProvider(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> Get() override { return credentials_; }
  void Invalidate() override {}

 private:
  const Credentials credentials_;
};

class TokenFileProvider : public CredentialProvider {
 public:
  TokenFileProvider(std::string path, Credentials base, Clock& clock)
      : path_(std::move(path)), base_(std::move(base)), clock_(clock) {}

  Result<Credentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = clock_.Now();
    if (!cached_ || now - read_at_ >= kTokenFileRefresh) {
      ASSIGN_OR_RETURN(std::string token, ReadFileToString(path_));
      token = Trim(std::move(token));
      if (token.empty()) {
        return UnauthenticatedError("token file " + path_ + " is empty");
      }
      Credentials c = base_;
      c.authorization = "Bearer " + token;
      cached_ = std::move(c);
      read_at_ = now;
    }
    return *cached_;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    cached_.reset();
  }

 private:
  const std::string path_;
  const Credentials base_;
  Clock& clock_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
  std::chrono::system_clock::time_point read_at_;
};

class ExecProvider : public CredentialProvider {
 public:
  ExecProvider(ExecConfig exec, const RestConfig& config, Clock& clock, CommandRunner& runner)
      : exec_(std::move(exec)),
        exec_info_(ExecInfo(exec_, config)),
        clock_(clock),
        runner_(runner) {}

  Result<Credentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && (!cached_->expiry || clock_.Now() < *cached_->expiry)) {
      return *cached_;
    }
    cached_.reset();
    if (exec_.interactive_mode == "Always") {
      return UnauthenticatedError("exec plugin " + exec_.command +
                                  " needs an interactive terminal (interactiveMode Always), which "
                                  "Arca never has");
    }
    auto env = exec_.env;
    env.emplace_back("KUBERNETES_EXEC_INFO", exec_info_);
    ASSIGN_OR_RETURN(CommandOutput out, runner_.Run(exec_.command, exec_.args, env));
    if (out.exit_code != 0) {
      std::string err = Trim(out.stderr_text.substr(0, kMaxStderrInError));
      return UnauthenticatedError("exec plugin " + exec_.command + " exited with code " +
                                  std::to_string(out.exit_code) + (err.empty() ? "" : ": " + err));
    }
    Result<Credentials> parsed = ParseExecCredential(out.stdout_text, exec_.api_version);
    if (!parsed.ok()) {
      return parsed.status().WithContext("exec plugin " + exec_.command);
    }
    cached_ = *parsed;
    return parsed;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    cached_.reset();
  }

 private:
  const ExecConfig exec_;
  const std::string exec_info_;
  Clock& clock_;
  CommandRunner& runner_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int Get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_;
};

class ProcessRunner : public CommandRunner {
 public:
  Result<CommandOutput> Run(const std::string& command, const std::vector<std::string>& args,
                            const std::vector<std::pair<std::string, std::string>>& env) override {
    std::array<int, 2> out_pipe{};
    std::array<int, 2> err_pipe{};
    if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
      return InternalError(std::string("pipe: ") + std::strerror(errno));
    }
    Fd out_read(out_pipe[0]);
    Fd out_write(out_pipe[1]);
    if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
      return InternalError(std::string("pipe: ") + std::strerror(errno));
    }
    Fd err_read(err_pipe[0]);
    Fd err_write(err_pipe[1]);

    // The environment: ours, with `env` replacing or adding variables.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      const std::string_view name = entry.substr(0, entry.find('='));
      bool overridden = false;
      for (const auto& [key, value] : env) {
        overridden = overridden || key == name;
      }
      if (!overridden) {
        env_strings.emplace_back(entry);
      }
    }
    for (const auto& [key, value] : env) {
      std::string entry = key;
      entry += '=';
      entry += value;
      env_strings.push_back(std::move(entry));
    }
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (std::string& s : env_strings) {
      envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings{command};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(argv_strings.size() + 1);
    for (std::string& s : argv_strings) {
      argv.push_back(s.data());
    }
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.Get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.Get(), 2);
    pid_t pid = 0;
    const int rc =
        ::posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    out_write.Close();
    err_write.Close();
    if (rc != 0) {
      if (rc == ENOENT) {
        return NotFoundError("command " + command + " not found");
      }
      return InternalError("cannot run " + command + ": " + std::strerror(rc));
    }

    CommandOutput result;
    std::array<pollfd, 2> fds{pollfd{out_read.Get(), POLLIN, 0}, pollfd{err_read.Get(), POLLIN, 0}};
    std::array<std::string*, 2> sinks{&result.stdout_text, &result.stderr_text};
    int open_fds = 2;
    std::array<char, 4096> buf{};
    while (open_fds > 0) {
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        break;
      }
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) {
          continue;
        }
        const ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
        if (n > 0) {
          sinks[i]->append(buf.data(), static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    return result;
  }
};

}  // namespace

std::unique_ptr<CommandRunner> MakeProcessRunner() { return std::make_unique<ProcessRunner>(); }

std::string ExecInfo(const ExecConfig& exec, const RestConfig& config) {
  nlohmann::json spec = {{"interactive", false}};
  if (exec.provide_cluster_info) {
    nlohmann::json cluster = {{"server", config.server}};
    if (!config.ca_pem.empty()) {
      cluster["certificate-authority-data"] = Base64Encode(config.ca_pem);
    }
    if (config.insecure_skip_tls_verify) {
      cluster["insecure-skip-tls-verify"] = true;
    }
    if (!config.tls_server_name.empty()) {
      cluster["tls-server-name"] = config.tls_server_name;
    }
    if (!config.proxy_url.empty()) {
      cluster["proxy-url"] = config.proxy_url;
    }
    spec["cluster"] = std::move(cluster);
  }
  const nlohmann::json info = {
      {"apiVersion", exec.api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
  return info.dump();
}

Result<Credentials> ParseExecCredential(std::string_view json, std::string_view api_version) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return UnauthenticatedError("the output is not a JSON ExecCredential");
  }
  const auto str = [](const nlohmann::json& obj, const char* key) -> std::string {
    const auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (str(doc, "kind") != "ExecCredential") {
    return UnauthenticatedError("the output's kind is not ExecCredential");
  }
  if (str(doc, "apiVersion") != api_version) {
    return UnauthenticatedError("the output's apiVersion \"" + str(doc, "apiVersion") +
                                "\" is not the configured \"" + std::string(api_version) + "\"");
  }
  const auto status = doc.find("status");
  if (status == doc.end() || !status->is_object()) {
    return UnauthenticatedError("the ExecCredential has no status");
  }
  Credentials out;
  const std::string token = str(*status, "token");
  out.client_certificate_pem = str(*status, "clientCertificateData");
  out.client_key_pem = str(*status, "clientKeyData");
  if (out.client_certificate_pem.empty() != out.client_key_pem.empty()) {
    return UnauthenticatedError(
        "the ExecCredential has only one of clientCertificateData and clientKeyData");
  }
  if (token.empty() && out.client_certificate_pem.empty()) {
    return UnauthenticatedError("the ExecCredential has neither a token nor a client certificate");
  }
  if (!token.empty()) {
    out.authorization = "Bearer " + token;
  }
  if (const std::string expiry = str(*status, "expirationTimestamp"); !expiry.empty()) {
    Result<std::chrono::system_clock::time_point> t = ParseRfc3339(expiry);
    if (!t.ok()) {
      return UnauthenticatedError("the ExecCredential's expirationTimestamp is not RFC 3339");
    }
    out.expiry = *t;
  }
  return out;
}

CredentialProviderPtr MakeCredentialProvider(const RestConfig& config, Clock& clock,
                                             CommandRunner& runner) {
  Credentials base;
  base.client_certificate_pem = config.client_certificate_pem;
  base.client_key_pem = config.client_key_pem;
  if (config.exec) {
    return std::make_unique<ExecProvider>(*config.exec, config, clock, runner);
  }
  if (!config.token_file.empty()) {
    return std::make_unique<TokenFileProvider>(config.token_file, std::move(base), clock);
  }
  if (!config.token.empty()) {
    base.authorization = "Bearer " + config.token;
  } else if (!config.username.empty()) {
    base.authorization = "Basic " + Base64Encode(config.username + ":" + config.password);
  }
  return std::make_unique<StaticProvider>(std::move(base));
}

}  // namespace arca::kube
