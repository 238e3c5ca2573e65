// Integration tests of exec hooks (hooks/executor.h) on the real test environment: pods on the
// kwok node whose hooks really run on this machine through the API server's pods/exec, and
// restore hooks that wait for a real pod to be Running through the real watch.
// Run through with-testenv.sh (KUBECONFIG, kubectl on PATH).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "common/clock.h"
#include "hooks/executor.h"
#include "kube/connection.h"
#include "kube/credentials.h"
#include "kube/exec.h"
#include "kube/kubeconfig.h"

namespace arca::hooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

kube::CommandOutput RunKubectl(const std::vector<std::string>& args) {
  std::unique_ptr<kube::CommandRunner> runner = kube::MakeProcessRunner();
  Result<kube::CommandOutput> out = runner->Run("kubectl", args, {});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : kube::CommandOutput{};
}

std::string Kubectl(const std::vector<std::string>& args) {
  kube::CommandOutput out = RunKubectl(args);
  EXPECT_EQ(out.exit_code, 0) << "kubectl failed: " << out.stderr_text;
  return out.stdout_text;
}

void Apply(const Json& manifest) {
  std::unique_ptr<kube::CommandRunner> runner = kube::MakeProcessRunner();
  Result<kube::CommandOutput> out = runner->Run(
      "/bin/sh", {"-c", "printf '%s' \"$M\" | kubectl apply -f -"}, {{"M", manifest.dump()}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->exit_code, 0) << out->stderr_text;
}

class HookIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    ns_ = "it-hooks-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
    dir_ = std::filesystem::temp_directory_path() / ns_;
    std::filesystem::create_directories(dir_);
    Kubectl({"create", "namespace", ns_});
    Result<kube::RestConfig> config =
        kube::LoadRestConfig(kube::LoadOptions::FromEnvironment(std::nullopt, ""));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    Result<std::unique_ptr<kube::ExecClient>> exec = kube::ExecClient::Open(*config, RealClock());
    ASSERT_TRUE(exec.ok()) << exec.status().ToString();
    exec_ = std::move(*exec);
    Result<kube::ConnectionPtr> conn = kube::Connection::Open(*config, RealClock());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
  }
  void TearDown() override {
    RunKubectl({"delete", "namespace", ns_, "--wait=false"});
    std::filesystem::remove_all(dir_);
  }

  // A pod on the kwok node with two containers and `annotations`.
  Json PodManifest(const std::string& name, const Json& annotations) const {
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"namespace", ns_}}},
                {"spec",
                 {{"containers",
                   Json::array({{{"name", "app"}, {"image", "registry.invalid/app:1"}},
                                {{"name", "sidecar"}, {"image", "registry.invalid/side:1"}}})}}}};
    if (!annotations.is_null()) {
      pod["metadata"]["annotations"] = annotations;
    }
    return pod;
  }

  // Creates the pod and waits until it is Ready; returns its JSON as the API server has it.
  Json RunningPod(const std::string& name, const Json& annotations) {
    Apply(PodManifest(name, annotations));
    Kubectl({"-n", ns_, "wait", "pod/" + name, "--for=condition=Ready", "--timeout=60s"});
    return Json::parse(Kubectl({"-n", ns_, "get", "pod", name, "-o", "json"}));
  }

  std::string Marker(const std::string& name) const { return (dir_ / name).string(); }

  std::string ns_;
  std::filesystem::path dir_;
  std::unique_ptr<kube::ExecClient> exec_;
  kube::ConnectionPtr conn_;
};

struct Log {
  std::vector<std::string> lines;
  HookLog Sink() {
    return [this](const HookLogEntry& e) {
      std::string line = e.message;
      for (const auto& [k, v] : e.fields) {
        if (k == "hookName" || k == "hookPhase" || k == "error") {
          line += " " + k + "=" + v;
        }
      }
      lines.push_back(line);
    };
  }
};

TEST_F(HookIntegrationTest, PreHookWritesAMarkerAndPostHookRemovesIt) {
  const std::string marker = Marker("frozen");
  Json pod = RunningPod(
      "db", {{"pre.hook.backup.velero.io/command",
              Json::array({"/bin/sh", "-c", "echo frozen > " + marker + "; echo pre-ran"}).dump()},
             {"pre.hook.backup.velero.io/container", "sidecar"},
             {"post.hook.backup.velero.io/command",
              Json::array({"/bin/sh", "-c", "rm " + marker + "; echo post-ran"}).dump()}});
  const std::vector<ResourceHookSpec> no_specs;
  BackupPodHooks hooks(*exec_, no_specs);
  Log log;
  HookRunResult pre = hooks.RunPre(pod, log.Sink());
  ASSERT_EQ(pre.attempted, 1);
  EXPECT_EQ(pre.failed, 0) << pre.errors.at(0);
  EXPECT_TRUE(std::filesystem::exists(marker)) << "the pre hook did not run on this machine";
  log.lines.push_back("(the pod is backed up here)");
  HookRunResult post = hooks.RunPost(pod, log.Sink());
  ASSERT_EQ(post.attempted, 1);
  EXPECT_EQ(post.failed, 0);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the post hook did not remove the marker";
  EXPECT_THAT(log.lines, ElementsAre("running exec hook hookName=<from-annotation> hookPhase=pre",
                                     "stdout: pre-ran\n hookName=<from-annotation> hookPhase=pre",
                                     "stderr:  hookName=<from-annotation> hookPhase=pre",
                                     "(the pod is backed up here)",
                                     "running exec hook hookName=<from-annotation> hookPhase=post",
                                     "stdout: post-ran\n hookName=<from-annotation> hookPhase=post",
                                     "stderr:  hookName=<from-annotation> hookPhase=post"));
}

TEST_F(HookIntegrationTest, FailSkipsThePodContinueDoesNotAndTimeoutsAreFailures) {
  Result<std::vector<ResourceHookSpec>> specs = ParseBackupHookSpecs(Json::parse(R"({"resources":[
      {"name":"tolerant","pre":[{"exec":{"command":["sh","-c","echo soft >&2; exit 4"],
                                         "onError":"Continue"}}]},
      {"name":"slow","pre":[{"exec":{"command":["sleep","30"],"timeout":"1s"}}]},
      {"name":"strict","pre":[{"exec":{"command":["sh","-c","exit 5"],"onError":"Fail"}}]},
      {"name":"after-strict","pre":[{"exec":{"command":["true"]}}]}]})"));
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  Json pod = RunningPod("app", nullptr);
  BackupPodHooks hooks(*exec_, *specs);
  Log log;
  HookRunResult pre = hooks.RunPre(pod, log.Sink());
  EXPECT_EQ(pre.attempted, 3);  // the hook after the Fail is not run
  EXPECT_EQ(pre.failed, 3);
  EXPECT_TRUE(pre.skip_item);
  ASSERT_EQ(pre.hooks.size(), 3u);
  EXPECT_EQ(pre.hooks[0].exit_code, 4);
  EXPECT_EQ(pre.hooks[0].stderr_text, "soft\n");
  EXPECT_EQ(pre.hooks[1].error, "timed out after 1s");
  EXPECT_EQ(pre.hooks[2].exit_code, 5);
  EXPECT_THAT(pre.errors[2], HasSubstr("pre hook strict in container app failed: command "
                                       "terminated with non-zero exit code 5"));
}

TEST_F(HookIntegrationTest, BadAnnotationsGiveClearErrors) {
  // An unknown container, and a command that is not valid JSON (Velero then runs the whole value
  // as one program name, which does not exist).
  Json pod = RunningPod("bad", {{"pre.hook.backup.velero.io/command", "[\"sh\", \"-c\""},
                                {"post.hook.backup.velero.io/command", R"(["true"])"},
                                {"post.hook.backup.velero.io/container", "nope"}});
  const std::vector<ResourceHookSpec> no_specs;
  BackupPodHooks hooks(*exec_, no_specs);
  HookRunResult pre = hooks.RunPre(pod, {});
  ASSERT_EQ(pre.failed, 1);
  EXPECT_THAT(pre.hooks[0].hook.command, ElementsAre("[\"sh\", \"-c\""));
  EXPECT_THAT(pre.hooks[0].error, HasSubstr("the command could not be run"));
  EXPECT_THAT(pre.hooks[0].error, HasSubstr("[\"sh\", \"-c\""));
  HookRunResult post = hooks.RunPost(pod, {});
  ASSERT_EQ(post.failed, 1);
  EXPECT_EQ(post.hooks[0].error, "no such container: \"nope\"");
}

TEST_F(HookIntegrationTest, RestoreExecHookRunsOnceThePodIsRunning) {
  const std::string marker = Marker("restored");
  // The pod as a restore creates it, with the backed-up pod's restore hook annotations.
  Json manifest =
      PodManifest("restored", {{"post.hook.restore.velero.io/command",
                                Json::array({"/bin/sh", "-c", "echo migrated > " + marker}).dump()},
                               {"post.hook.restore.velero.io/container", "sidecar"},
                               {"post.hook.restore.velero.io/wait-for-ready", "true"},
                               {"post.hook.restore.velero.io/wait-timeout", "1m"}});
  Apply(manifest);  // created now; kwok makes it Running shortly
  KubePodStateSource pods(conn_->client(), RealClock());
  const std::vector<ResourceHookSpec> no_specs;
  RestorePodHooks hooks(*exec_, pods, RealClock(), no_specs);
  Log log;
  HookRunResult r = hooks.Run(manifest, log.Sink());
  EXPECT_EQ(r.attempted, 1);
  EXPECT_EQ(r.failed, 0) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_FALSE(hooks.cancelled());
  ASSERT_EQ(r.hooks.size(), 1u);
  EXPECT_EQ(r.hooks[0].hook.container, "sidecar");
  // The exec itself succeeding shows the pod was running: the API server refuses exec into a
  // pod that is not on a node yet.
  EXPECT_TRUE(std::filesystem::exists(marker));
  const std::string phase =
      Kubectl({"-n", ns_, "get", "pod", "restored", "-o", "jsonpath={.status.phase}"});
  EXPECT_EQ(phase, "Running");
}

TEST_F(HookIntegrationTest, RestoreExecHookOnAPodThatNeverRunsGivesUpAfterWaitTimeout) {
  // No node matches the selector, so the pod stays Pending.
  Json manifest = PodManifest("stuck", nullptr);
  manifest["spec"]["nodeSelector"] = {{"arca.test/no-such-node", "true"}};
  Apply(manifest);
  ExecHook hook;
  hook.name = "never";
  hook.command = {"true"};
  hook.wait_timeout = std::chrono::seconds(2);
  KubePodStateSource pods(conn_->client(), RealClock(), std::chrono::seconds(1));
  HookRunResult r = RunRestoreExecHooks(*exec_, pods, RealClock(), manifest, {hook}, {}, nullptr);
  EXPECT_EQ(r.attempted, 1);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("hook never in container app in pod " + ns_ +
                                     "/stuck not executed: the pod's containers were not up "
                                     "within the largest waitTimeout (2s)"));
}

TEST_F(HookIntegrationTest, RestoreExecHookOnADeletedPodIsNotExecuted) {
  Json manifest = PodManifest("doomed", nullptr);
  manifest["spec"]["nodeSelector"] = {{"arca.test/no-such-node", "true"}};
  Apply(manifest);
  ExecHook hook;
  hook.name = "never";
  hook.command = {"true"};
  std::thread deleter([&] {
    RunKubectl({"-n", ns_, "delete", "pod", "doomed", "--grace-period=0", "--force"});
  });
  KubePodStateSource pods(conn_->client(), RealClock(), std::chrono::seconds(1));
  HookRunResult r = RunRestoreExecHooks(*exec_, pods, RealClock(), manifest, {hook}, {}, nullptr);
  deleter.join();
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("not executed: the pod was deleted"));
}

}  // namespace
}  // namespace arca::hooks
