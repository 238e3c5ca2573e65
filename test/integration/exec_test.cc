// Integration tests of the pods/exec client against the real test environment (test/testenv):
// the API server proxies the exec to the kwok node, whose ClusterExec rule runs the command for
// real on this machine. Run through with-testenv.sh (KUBECONFIG, kubectl on PATH).
//
// Each test makes a namespace of its own with one pod on the kwok node, and removes it.

#include "kube/exec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/clock.h"
#include "kube/credentials.h"
#include "kube/kubeconfig.h"

namespace arca::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

CommandOutput RunKubectl(const std::vector<std::string>& args) {
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  Result<CommandOutput> out = runner->Run("kubectl", args, {});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : CommandOutput{};
}

std::string Kubectl(const std::vector<std::string>& args) {
  CommandOutput out = RunKubectl(args);
  EXPECT_EQ(out.exit_code, 0) << "kubectl failed: " << out.stderr_text;
  return out.stdout_text;
}

class ExecIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    ns_ = "it-exec-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
    Kubectl({"create", "namespace", ns_});
    // Two containers, so that choosing one is meaningful.
    const std::string overrides =
        R"({"spec":{"containers":[{"name":"main","image":"registry.invalid/shell:1"},)"
        R"({"name":"side","image":"registry.invalid/side:1"}]}})";
    Kubectl({"-n", ns_, "run", "shell", "--image=registry.invalid/shell:1", "--restart=Never",
             "--overrides=" + overrides});
    Kubectl({"-n", ns_, "wait", "pod/shell", "--for=condition=Ready", "--timeout=60s"});
    Result<RestConfig> config = LoadRestConfig(LoadOptions::FromEnvironment(std::nullopt, ""));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    Result<std::unique_ptr<ExecClient>> client = ExecClient::Open(config_, RealClock());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }
  void TearDown() override { RunKubectl({"delete", "namespace", ns_, "--wait=false"}); }

  ExecRequest Request(std::vector<std::string> command) {
    ExecRequest r;
    r.namespace_name = ns_;
    r.pod = "shell";
    r.container = "main";
    r.command = std::move(command);
    r.timeout = std::chrono::seconds(30);
    return r;
  }

  std::string ns_;
  RestConfig config_;
  std::unique_ptr<ExecClient> client_;
};

TEST_F(ExecIntegrationTest, StdoutStderrAndExitCodeOfARealCommand) {
  Result<ExecResult> r =
      client_->Exec(Request({"sh", "-c", "echo $((6 * 7)); echo to-stderr >&2; exit 3"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_text, "42\n");
  EXPECT_EQ(r->stderr_text, "to-stderr\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->protocol, kExecProtocolV5);
  EXPECT_FALSE(r->stdout_truncated);
}

TEST_F(ExecIntegrationTest, CommandReallyRunsAndArgumentsAreNotSplit) {
  // The command writes a file on this machine: proof that it ran. The argument with spaces and
  // shell characters reaches it as one argv element.
  const std::string path = (std::filesystem::temp_directory_path() / (ns_ + "-marker")).string();
  Result<ExecResult> r = client_->Exec(
      Request({"sh", "-c", "printf '%s' \"$1\" > \"$2\"", "sh", "a b; $HOME 'q'", path}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "a b; $HOME 'q'");
  std::filesystem::remove(path);
}

TEST_F(ExecIntegrationTest, StdinIsDelivered) {
  // kwok's local exec never passes the end of stdin on (kubectl exec -i hangs there too), so the
  // command reads exactly what is sent instead of waiting for the end.
  ExecRequest req = Request({"sh", "-c", "head -c 100000 | wc -c"});
  req.stdin_data = std::string(100'000, 'x');
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_text, "100000\n");
  EXPECT_EQ(r->exit_code, 0);
}

TEST_F(ExecIntegrationTest, LargeOutputIsCappedWithAMarker) {
  ExecRequest req = Request({"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' y; echo err >&2"});
  req.max_output = size_t{1} << 20;
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stdout_text.substr(0, 1 << 20), std::string(1 << 20, 'y'));
  EXPECT_THAT(r->stdout_text.substr(1 << 20), HasSubstr("1951424 more bytes"));
  EXPECT_EQ(r->stderr_text, "err\n");
  EXPECT_EQ(r->exit_code, 0);
}

TEST_F(ExecIntegrationTest, TimeoutIsDeadlineExceeded) {
  ExecRequest req = Request({"sleep", "30"});
  req.timeout = std::chrono::seconds(1);
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("timed out after 1s"));
  // The client is still usable.
  Result<ExecResult> again = client_->Exec(Request({"true"}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->exit_code, 0);
}

TEST_F(ExecIntegrationTest, UnknownContainerIsInvalidArgumentWithTheServersWords) {
  ExecRequest req = Request({"true"});
  req.container = "nope";
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("nope"));
  EXPECT_THAT(r.status().message(), HasSubstr("exec in pod " + ns_ + "/shell"));
}

TEST_F(ExecIntegrationTest, UnknownPodIsNotFound) {
  ExecRequest req = Request({"true"});
  req.pod = "missing";
  Result<ExecResult> r = client_->Exec(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("\"missing\" not found"));
}

TEST_F(ExecIntegrationTest, MissingProgramIsReported) {
  Result<ExecResult> r = client_->Exec(Request({"/nonexistent/arca-no-such-program"}));
  // Depending on the runtime this is an exit code (kwok's local exec) or a start failure.
  if (r.ok()) {
    EXPECT_NE(r->exit_code, 0);
  } else {
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  }
}

TEST_F(ExecIntegrationTest, BearerTokenAuthenticates) {
  // A service account bound to cluster-admin, authenticating with a token instead of the
  // admin kubeconfig's client certificate.
  const std::string sa = "exec-admin";
  Kubectl({"-n", ns_, "create", "serviceaccount", sa});
  Kubectl({"create", "clusterrolebinding", ns_ + "-admin", "--clusterrole=cluster-admin",
           "--serviceaccount=" + ns_ + ":" + sa});
  std::string token = Kubectl({"-n", ns_, "create", "token", sa, "--duration=1h"});
  while (!token.empty() && token.back() == '\n') {
    token.pop_back();
  }
  RestConfig config = config_;
  config.client_certificate_pem.clear();
  config.client_key_pem.clear();
  config.token = token;
  Result<std::unique_ptr<ExecClient>> client = ExecClient::Open(config, RealClock());
  ASSERT_TRUE(client.ok());
  Result<ExecResult> r = (*client)->Exec(Request({"echo", "token-ok"}));
  RunKubectl({"delete", "clusterrolebinding", ns_ + "-admin"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_text, "token-ok\n");

  // A token without rights is refused with a permission error, and never echoed.
  RestConfig nobody = config;
  Kubectl({"-n", ns_, "create", "serviceaccount", "nobody"});
  nobody.token = Kubectl({"-n", ns_, "create", "token", "nobody", "--duration=1h"});
  while (!nobody.token.empty() && nobody.token.back() == '\n') {
    nobody.token.pop_back();
  }
  Result<std::unique_ptr<ExecClient>> weak = ExecClient::Open(nobody, RealClock());
  ASSERT_TRUE(weak.ok());
  Result<ExecResult> denied = (*weak)->Exec(Request({"true"}));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
  EXPECT_THAT(denied.status().message(), ::testing::Not(HasSubstr(nobody.token)));
}

}  // namespace
}  // namespace arca::kube
