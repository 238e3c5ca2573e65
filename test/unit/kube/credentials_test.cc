#include "kube/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kube/encoding.h"

namespace arca::kube {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr system_clock::time_point kStart = system_clock::time_point{} + seconds(1795694400);

class FakeRunner : public CommandRunner {
 public:
  Result<CommandOutput> Run(const std::string& command, const std::vector<std::string>& args,
                            const std::vector<std::pair<std::string, std::string>>& env) override {
    ++calls;
    last_command = command;
    last_args = args;
    last_env = env;
    return output;
  }

  CommandOutput output;
  int calls = 0;
  std::string last_command;
  std::vector<std::string> last_args;
  std::vector<std::pair<std::string, std::string>> last_env;
};

std::string ExecCredential(const std::string& api_version, const std::string& status) {
  return R"({"apiVersion":")" + api_version + R"(","kind":"ExecCredential","status":)" + status +
         "}";
}

constexpr const char* kV1 = "client.authentication.k8s.io/v1";
constexpr const char* kV1beta1 = "client.authentication.k8s.io/v1beta1";

RestConfig ExecConfigFor(const std::string& api_version) {
  RestConfig config;
  config.server = "https://10.0.0.1:6443";
  config.ca_pem = "CA";
  ExecConfig exec;
  exec.api_version = api_version;
  exec.command = "get-token";
  exec.args = {"--region", "eu"};
  exec.env = {{"A", "1"}};
  exec.provide_cluster_info = true;
  exec.interactive_mode = "Never";
  config.exec = exec;
  return config;
}

TEST(CredentialsTest, StaticTokenBasicAndCertificates) {
  SimulatedClock clock(kStart);
  FakeRunner runner;
  RestConfig config;
  config.token = "tok";
  config.client_certificate_pem = "CERT";
  config.client_key_pem = "KEY";
  Result<Credentials> c = MakeCredentialProvider(config, clock, runner)->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->authorization, "Bearer tok");
  EXPECT_EQ(c->client_certificate_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");

  RestConfig basic;
  basic.username = "admin";
  basic.password = "pw";
  EXPECT_EQ(MakeCredentialProvider(basic, clock, runner)->Get()->authorization,
            "Basic " + Base64Encode("admin:pw"));
  EXPECT_EQ(MakeCredentialProvider(RestConfig{}, clock, runner)->Get()->authorization, "");
  EXPECT_EQ(runner.calls, 0);
}

TEST(CredentialsTest, TokenFileIsReReadAfterAMinute) {
  SimulatedClock clock(kStart);
  FakeRunner runner;
  const std::string path =
      (std::filesystem::temp_directory_path() / ("token-" + std::to_string(::getpid()))).string();
  std::ofstream(path) << "first\n";
  RestConfig config;
  config.token = "ignored";
  config.token_file = path;
  CredentialProviderPtr provider = MakeCredentialProvider(config, clock, runner);
  EXPECT_EQ(provider->Get()->authorization, "Bearer first");
  std::ofstream(path) << "second";
  clock.Advance(seconds(30));
  EXPECT_EQ(provider->Get()->authorization, "Bearer first");
  clock.Advance(seconds(30));
  EXPECT_EQ(provider->Get()->authorization, "Bearer second");
  std::ofstream(path) << "third";
  provider->Invalidate();
  EXPECT_EQ(provider->Get()->authorization, "Bearer third");
  std::filesystem::remove(path);
  provider->Invalidate();
  EXPECT_EQ(provider->Get().status().code(), StatusCode::kNotFound);
}

TEST(CredentialsTest, ExecPluginRunsWithExecInfoAndCachesUntilExpiry) {
  SimulatedClock clock(kStart);
  FakeRunner runner;
  runner.output.stdout_text = ExecCredential(kV1, R"({"token":"t1","expirationTimestamp":")" +
                                                      FormatRfc3339(kStart + seconds(60)) + "\"}");
  CredentialProviderPtr provider = MakeCredentialProvider(ExecConfigFor(kV1), clock, runner);

  Result<Credentials> c = provider->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->authorization, "Bearer t1");
  EXPECT_EQ(c->expiry, kStart + seconds(60));
  EXPECT_EQ(runner.last_command, "get-token");
  EXPECT_EQ(runner.last_args, (std::vector<std::string>{"--region", "eu"}));
  ASSERT_EQ(runner.last_env.size(), 2u);
  EXPECT_EQ(runner.last_env[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(runner.last_env[1].first, "KUBERNETES_EXEC_INFO");
  const nlohmann::json info = nlohmann::json::parse(runner.last_env[1].second);
  EXPECT_EQ(info["apiVersion"], kV1);
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://10.0.0.1:6443");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], Base64Encode("CA"));

  // Cached until the expiry.
  clock.Advance(seconds(59));
  EXPECT_EQ(provider->Get()->authorization, "Bearer t1");
  EXPECT_EQ(runner.calls, 1);
  runner.output.stdout_text = ExecCredential(kV1, R"({"token":"t2"})");
  clock.Advance(seconds(1));
  EXPECT_EQ(provider->Get()->authorization, "Bearer t2");
  EXPECT_EQ(runner.calls, 2);
  // No expiry: cached until invalidated (a 401).
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(provider->Get()->authorization, "Bearer t2");
  EXPECT_EQ(runner.calls, 2);
  provider->Invalidate();
  EXPECT_TRUE(provider->Get().ok());
  EXPECT_EQ(runner.calls, 3);
}

TEST(CredentialsTest, ExecPluginV1beta1WithClientCertificate) {
  SimulatedClock clock(kStart);
  FakeRunner runner;
  runner.output.stdout_text =
      ExecCredential(kV1beta1, R"({"clientCertificateData":"CERT","clientKeyData":"KEY"})");
  RestConfig config = ExecConfigFor(kV1beta1);
  config.exec->provide_cluster_info = false;
  Result<Credentials> c = MakeCredentialProvider(config, clock, runner)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->authorization, "");
  EXPECT_EQ(c->client_certificate_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_FALSE(nlohmann::json::parse(runner.last_env.back().second)["spec"].contains("cluster"));
}

TEST(CredentialsTest, ExecPluginFailuresAreUnauthenticatedAndNeverLeakOutput) {
  struct Case {
    int exit_code;
    std::string stdout_text;
    std::string stderr_text;
    const char* message;
  };
  const std::string secret = "SECRET-TOKEN-VALUE";
  for (const Case& c : std::vector<Case>{
           {1, "", "login required\n", "exited with code 1: login required"},
           {0, "not json " + secret, "", "not a JSON ExecCredential"},
           {0, R"({"kind":"Pod"})", "", "kind is not ExecCredential"},
           {0, ExecCredential(kV1beta1, R"({"token":")" + secret + "\"}"), "",
            "apiVersion \"client.authentication.k8s.io/v1beta1\" is not the configured"},
           {0, R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})", "",
            "has no status"},
           {0, ExecCredential(kV1, "{}"), "", "neither a token nor a client certificate"},
           {0, ExecCredential(kV1, R"({"clientKeyData":")" + secret + "\"}"), "",
            "only one of clientCertificateData and clientKeyData"},
           {0,
            ExecCredential(kV1,
                           R"({"token":")" + secret + R"(","expirationTimestamp":"tomorrow"})"),
            "", "expirationTimestamp is not RFC 3339"},
       }) {
    SimulatedClock clock(kStart);
    FakeRunner runner;
    runner.output = {c.exit_code, c.stdout_text, c.stderr_text};
    Result<Credentials> r = MakeCredentialProvider(ExecConfigFor(kV1), clock, runner)->Get();
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
    EXPECT_THAT(r.status().message(), HasSubstr("exec plugin get-token"));
    EXPECT_THAT(r.status().message(), Not(HasSubstr(secret)));
  }
}

TEST(CredentialsTest, InteractiveAlwaysIsRefused) {
  SimulatedClock clock(kStart);
  FakeRunner runner;
  RestConfig config = ExecConfigFor(kV1);
  config.exec->interactive_mode = "Always";
  Result<Credentials> r = MakeCredentialProvider(config, clock, runner)->Get();
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(runner.calls, 0);
}

TEST(CredentialsTest, ProcessRunnerRunsARealCommand) {
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  Result<CommandOutput> out =
      runner->Run("/bin/sh", {"-c", "printf '%s' \"$KUBERNETES_EXEC_INFO\"; echo oops >&2; exit 3"},
                  {{"KUBERNETES_EXEC_INFO", "{\"x\":1}"}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->exit_code, 3);
  EXPECT_EQ(out->stdout_text, "{\"x\":1}");
  EXPECT_EQ(out->stderr_text, "oops\n");

  // PATH lookup, and the process environment passes through.
  out = runner->Run("sh", {"-c", "test -n \"$PATH\" && echo ok"}, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->stdout_text, "ok\n");
  EXPECT_EQ(out->exit_code, 0);

  // Large output on both streams does not deadlock.
  out =
      runner->Run("/bin/sh", {"-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"}, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->stdout_text.size(), 300000u);
  EXPECT_EQ(out->stderr_text.size(), 300000u);

  EXPECT_EQ(runner->Run("/nonexistent/arca-plugin", {}, {}).status().code(), StatusCode::kNotFound);
}

TEST(CredentialsTest, ExecPluginEndToEndWithAShellScript) {
  SimulatedClock clock(kStart);
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  RestConfig config = ExecConfigFor(kV1);
  config.exec->command = "/bin/sh";
  config.exec->args = {
      "-c",
      "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 9;; esac; "
      "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"from-%s\"}}' \"$A\""};
  Result<Credentials> c = MakeCredentialProvider(config, clock, *runner)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->authorization, "Bearer from-1");
}

}  // namespace
}  // namespace arca::kube
