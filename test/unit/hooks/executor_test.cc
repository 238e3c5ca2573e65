// Running backup and restore exec hooks (hooks/executor.h) with a fake PodExecutor and a scripted
// PodStateSource: Velero's ordering, defaults, onError semantics, counting, waiting and logs.

#include "hooks/executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace arca::hooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

Json J(const char* text) { return Json::parse(text); }

// A pod with two containers and two init containers (one a restartable sidecar).
Json Pod(const char* phase = "Running") {
  Json pod = J(R"({"metadata":{"name":"db-0","namespace":"shop","resourceVersion":"5"},
      "spec":{"containers":[{"name":"postgres"},{"name":"exporter"}],
              "initContainers":[{"name":"setup"},{"name":"proxy","restartPolicy":"Always"}]}})");
  pod["status"]["phase"] = phase;
  return pod;
}

// `pod` with container statuses: name -> "waiting", "running" or "ready".
Json WithStatuses(Json pod, const std::map<std::string, std::string>& states) {
  Json statuses = Json::array();
  for (const auto& [name, state] : states) {
    Json cs = {{"name", name}, {"ready", state == "ready"}};
    cs["state"] = state == "waiting" ? J(R"({"waiting":{"reason":"ContainerCreating"}})")
                                     : J(R"({"running":{"startedAt":"2026-01-01T00:00:00Z"}})");
    statuses.push_back(cs);
  }
  pod["status"]["containerStatuses"] = statuses;
  return pod;
}

ExecHook Hook(std::string name, std::vector<std::string> command,
              OnError on_error = OnError::kUnset, std::string container = "") {
  ExecHook h;
  h.name = std::move(name);
  h.command = std::move(command);
  h.on_error = on_error;
  h.container = std::move(container);
  return h;
}

// Answers by the command's first word: "ok" (exit 0, stdout "out:<args>"), "exit" (exit code
// from the second word), "hang" (kDeadlineExceeded), "down" (kUnavailable).
class FakeExecutor : public kube::PodExecutor {
 public:
  Result<kube::ExecResult> Exec(const kube::ExecRequest& request) override {
    requests.push_back(request);
    const std::string& verb = request.command.at(0);
    if (verb == "hang") {
      return DeadlineExceededError("exec in pod: timed out after 2s");
    }
    if (verb == "down") {
      return UnavailableError("exec in pod shop/db-0: connection refused");
    }
    kube::ExecResult r;
    if (verb == "exit") {
      r.exit_code = std::stoi(request.command.at(1));
      r.stderr_text = "failing on purpose\n";
      return r;
    }
    r.stdout_text = "out:" + request.command.back() + "\n";
    return r;
  }
  std::vector<std::string> Commands() const {
    std::vector<std::string> out;
    for (const kube::ExecRequest& r : requests) {
      out.push_back(r.command.back());
    }
    return out;
  }
  std::vector<kube::ExecRequest> requests;
};

struct Logged {
  std::vector<HookLogEntry> entries;
  HookLog Sink() {
    return [this](const HookLogEntry& e) { entries.push_back(e); };
  }
  std::string Field(size_t i, const std::string& key) const {
    for (const auto& [k, v] : entries.at(i).fields) {
      if (k == key) {
        return v;
      }
    }
    return "<none>";
  }
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    for (const HookLogEntry& e : entries) {
      out.push_back(e.message);
    }
    return out;
  }
};

// ----- backup -----

TEST(BackupExecHooksTest, RunInOrderWithDefaultsAndLogTheOutput) {
  FakeExecutor exec;
  Logged log;
  ExecHook second = Hook("flush", {"ok", "two"}, OnError::kContinue, "exporter");
  second.timeout = std::chrono::seconds(90);
  HookRunResult r =
      RunBackupExecHooks(exec, Pod(), {Hook("freeze", {"ok", "one"}), second}, "pre", log.Sink());
  EXPECT_EQ(r.attempted, 2);
  EXPECT_EQ(r.failed, 0);
  EXPECT_FALSE(r.skip_item);
  EXPECT_THAT(r.errors, IsEmpty());
  ASSERT_EQ(exec.requests.size(), 2u);
  EXPECT_EQ(exec.requests[0].namespace_name, "shop");
  EXPECT_EQ(exec.requests[0].pod, "db-0");
  EXPECT_EQ(exec.requests[0].container, "postgres");              // the first container
  EXPECT_EQ(exec.requests[0].timeout, std::chrono::seconds(30));  // the default
  EXPECT_EQ(exec.requests[1].container, "exporter");
  EXPECT_EQ(exec.requests[1].timeout, std::chrono::seconds(90));
  ASSERT_EQ(r.hooks.size(), 2u);
  EXPECT_EQ(r.hooks[0].stdout_text, "out:one\n");
  EXPECT_EQ(r.hooks[0].exit_code, 0);

  EXPECT_THAT(log.Messages(), ElementsAre("running exec hook", "stdout: out:one\n", "stderr: ",
                                          "running exec hook", "stdout: out:two\n", "stderr: "));
  EXPECT_EQ(log.Field(0, "hookName"), "freeze");
  EXPECT_EQ(log.Field(0, "hookSource"), "spec");
  EXPECT_EQ(log.Field(0, "hookPhase"), "pre");
  EXPECT_EQ(log.Field(0, "hookContainer"), "postgres");
  EXPECT_EQ(log.Field(0, "hookCommand"), "[ok one]");
  EXPECT_EQ(log.Field(0, "hookOnError"), "Fail");  // Velero's executor logs unset as Fail
  EXPECT_EQ(log.Field(0, "hookTimeout"), "30s");
  EXPECT_EQ(log.Field(3, "hookOnError"), "Continue");
  EXPECT_EQ(log.Field(3, "hookTimeout"), "1m30s");
  EXPECT_EQ(log.Field(0, "name"), "db-0");
  EXPECT_EQ(log.Field(0, "namespace"), "shop");
}

TEST(BackupExecHooksTest, ContinueAndUnsetOnErrorKeepGoing) {
  FakeExecutor exec;
  Logged log;
  HookRunResult r = RunBackupExecHooks(exec, Pod(),
                                       {Hook("a", {"exit", "3"}, OnError::kContinue),
                                        Hook("b", {"exit", "4"}), Hook("c", {"ok", "last"})},
                                       "pre", log.Sink());
  EXPECT_EQ(r.attempted, 3);
  EXPECT_EQ(r.failed, 2);
  EXPECT_FALSE(r.skip_item);
  EXPECT_THAT(exec.Commands(), ElementsAre("3", "4", "last"));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0],
            "pod shop/db-0: pre hook a in container postgres failed: command terminated with "
            "non-zero exit code 3");
  EXPECT_EQ(r.hooks[0].stderr_text, "failing on purpose\n");
  // The failure is logged at error level, after the output.
  ASSERT_EQ(log.entries.size(), 11u);  // 3 x (running, stdout, stderr) + 2 errors
  EXPECT_EQ(log.entries[3].level, LogLevel::kError);
  EXPECT_EQ(log.entries[3].message, "Error executing hook");
  EXPECT_EQ(log.Field(3, "error"), "command terminated with non-zero exit code 3");
}

TEST(BackupExecHooksTest, FailStopsThePhaseAndSkipsThePodOnlyForPreHooks) {
  FakeExecutor exec;
  Logged log;
  const std::vector<ExecHook> hooks = {Hook("a", {"ok", "first"}),
                                       Hook("b", {"exit", "1"}, OnError::kFail),
                                       Hook("c", {"ok", "never"})};
  HookRunResult pre = RunBackupExecHooks(exec, Pod(), hooks, "pre", log.Sink());
  EXPECT_EQ(pre.attempted, 2);  // the hook after the failure is not counted
  EXPECT_EQ(pre.failed, 1);
  EXPECT_TRUE(pre.skip_item);
  EXPECT_THAT(exec.Commands(), ElementsAre("first", "1"));

  exec.requests.clear();
  HookRunResult post = RunBackupExecHooks(exec, Pod(), hooks, "post", log.Sink());
  EXPECT_EQ(post.attempted, 2);
  EXPECT_EQ(post.failed, 1);
  EXPECT_FALSE(post.skip_item);
  EXPECT_THAT(exec.Commands(), ElementsAre("first", "1"));
}

TEST(BackupExecHooksTest, TimeoutAndExecErrorsAreFailures) {
  FakeExecutor exec;
  ExecHook slow = Hook("slow", {"hang"});
  slow.timeout = std::chrono::seconds(2);
  HookRunResult r = RunBackupExecHooks(exec, Pod(), {slow, Hook("net", {"down"})}, "post", {});
  EXPECT_EQ(r.attempted, 2);
  EXPECT_EQ(r.failed, 2);
  ASSERT_EQ(r.hooks.size(), 2u);
  EXPECT_EQ(r.hooks[0].error, "timed out after 2s");
  EXPECT_EQ(exec.requests[0].timeout, std::chrono::seconds(2));
  EXPECT_THAT(r.hooks[1].error, HasSubstr("connection refused"));
  EXPECT_THAT(r.errors[0], HasSubstr("post hook slow in container postgres failed: timed out"));
}

TEST(BackupExecHooksTest, ContainersMustExistAndMayBeSidecars) {
  FakeExecutor exec;
  HookRunResult r = RunBackupExecHooks(exec, Pod(),
                                       {Hook("x", {"ok", "nope"}, OnError::kUnset, "nope"),
                                        Hook("y", {"ok", "init"}, OnError::kUnset, "setup"),
                                        Hook("z", {"ok", "sidecar"}, OnError::kUnset, "proxy")},
                                       "pre", {});
  EXPECT_EQ(r.attempted, 3);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.hooks[0].error, "no such container: \"nope\"");
  EXPECT_EQ(r.hooks[1].error, "no such container: \"setup\"");  // not restartable
  EXPECT_THAT(exec.Commands(), ElementsAre("sidecar"));
}

TEST(BackupExecHooksTest, EmptyCommandIsAnError) {
  FakeExecutor exec;
  HookRunResult r = RunBackupExecHooks(exec, Pod(), {Hook("empty", {})}, "pre", {});
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.hooks[0].error, "command is required");
  EXPECT_TRUE(exec.requests.empty());
}

TEST(BackupExecHooksTest, FinishedPodsGetNoHooks) {
  FakeExecutor exec;
  Logged log;
  for (const char* phase : {"Succeeded", "Failed"}) {
    HookRunResult r =
        RunBackupExecHooks(exec, Pod(phase), {Hook("a", {"ok", "x"})}, "pre", log.Sink());
    EXPECT_EQ(r.attempted, 0);
    EXPECT_FALSE(r.skip_item);
  }
  EXPECT_TRUE(exec.requests.empty());
  EXPECT_THAT(log.entries.at(0).message, HasSubstr("phase Succeeded, skipping its pre hooks"));
}

TEST(BackupPodHooksTest, AnnotationsWinAndSpecsFillTheOtherPhase) {
  Result<std::vector<ResourceHookSpec>> specs = ParseBackupHookSpecs(J(R"({"resources":[
      {"name":"from-spec","pre":[{"exec":{"command":["ok","spec-pre"]}}],
       "post":[{"exec":{"command":["ok","spec-post"],"container":"exporter"}}]}]})"));
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  Json pod = Pod();
  pod["metadata"]["annotations"] = {{"pre.hook.backup.velero.io/command", R"(["ok","annotated"])"},
                                    {"pre.hook.backup.velero.io/on-error", "Fail"},
                                    {"pre.hook.backup.velero.io/timeout", "soon"}};
  FakeExecutor exec;
  Logged log;
  BackupPodHooks hooks(exec, *specs);
  HookRunResult pre = hooks.RunPre(pod, log.Sink());
  HookRunResult post = hooks.RunPost(pod, log.Sink());
  EXPECT_THAT(exec.Commands(), ElementsAre("annotated", "spec-post"));
  EXPECT_EQ(pre.attempted, 1);
  EXPECT_EQ(post.attempted, 1);
  EXPECT_EQ(pre.hooks[0].hook.name, "<from-annotation>");
  EXPECT_EQ(exec.requests[1].container, "exporter");
  // The bad timeout annotation is a warning, and the default applies.
  EXPECT_EQ(log.entries[0].level, LogLevel::kWarning);
  EXPECT_THAT(log.entries[0].message, HasSubstr("pre.hook.backup.velero.io/timeout"));
  EXPECT_EQ(exec.requests[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(log.Field(1, "hookSource"), "annotation");
  EXPECT_EQ(log.Field(1, "hookName"), "<from-annotation>");
}

// ----- restore -----

// Delivers scripted pod states in order, advancing the clock before each by the given step, and
// records how many execs had happened after each delivery. At the end of the script: `end` is
// returned (kDeadlineExceeded, kNotFound, ...), OK meaning "nothing more, keep waiting" is not
// allowed, so a test that forgets to finish fails.
class ScriptedPods : public PodStateSource {
 public:
  ScriptedPods(SimulatedClock& clock, FakeExecutor& exec) : clock_(clock), exec_(exec) {}

  void Add(Json pod, std::chrono::seconds advance_before = std::chrono::seconds(0)) {
    states_.emplace_back(std::move(pod), advance_before);
  }
  void EndWith(Status end) { end_ = std::move(end); }

  Status WatchPod(const std::string& namespace_name, const std::string& name,
                  std::optional<std::chrono::system_clock::time_point> deadline,
                  const std::function<Status(const Json& pod)>& on_pod) override {
    watched = namespace_name + "/" + name;
    deadline_seen = deadline;
    for (auto& [pod, advance] : states_) {
      clock_.Advance(advance);
      Status s = on_pod(pod);
      execs_after.push_back(exec_.requests.size());
      if (s.code() == StatusCode::kCancelled) {
        return OkStatus();
      }
      if (!s.ok()) {
        return s;
      }
    }
    return end_;
  }

  std::string watched;
  std::optional<std::chrono::system_clock::time_point> deadline_seen;
  std::vector<size_t> execs_after;

 private:
  SimulatedClock& clock_;
  FakeExecutor& exec_;
  std::vector<std::pair<Json, std::chrono::seconds>> states_;
  Status end_ = InternalError("the test's pod script ran out");
};

class RestoreExecHooksTest : public ::testing::Test {
 protected:
  RestoreExecHooksTest()
      : clock_(std::chrono::system_clock::time_point(std::chrono::hours(1000))),
        pods_(clock_, exec_) {}

  HookRunResult Run(const std::vector<ExecHook>& hooks, RestoreHookCancel* cancel = nullptr) {
    return RunRestoreExecHooks(exec_, pods_, clock_, Pod("Pending"), hooks, log_.Sink(), cancel);
  }

  SimulatedClock clock_;
  FakeExecutor exec_;
  ScriptedPods pods_;
  Logged log_;
};

TEST_F(RestoreExecHooksTest, WaitsForTheContainerToRunThenRunsItsHooksInOrder) {
  pods_.Add(Pod("Pending"));
  pods_.Add(WithStatuses(Pod(), {{"postgres", "waiting"}}));
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}}));  // running, not ready: enough
  ExecHook migrate = Hook("migrate", {"ok", "one"});
  migrate.timeout = std::chrono::minutes(2);  // execTimeout
  HookRunResult r = Run({migrate, Hook("seed", {"ok", "two"})});
  EXPECT_EQ(pods_.watched, "shop/db-0");
  EXPECT_FALSE(pods_.deadline_seen.has_value());  // no waitTimeout: wait without limit
  EXPECT_THAT(pods_.execs_after, ElementsAre(0, 0, 2));
  EXPECT_THAT(exec_.Commands(), ElementsAre("one", "two"));
  EXPECT_EQ(exec_.requests[0].timeout, std::chrono::minutes(2));
  EXPECT_EQ(exec_.requests[1].timeout, std::chrono::seconds(30));
  EXPECT_EQ(exec_.requests[0].container, "postgres");
  EXPECT_EQ(r.attempted, 2);
  EXPECT_EQ(r.failed, 0);
  EXPECT_THAT(r.errors, IsEmpty());
}

TEST_F(RestoreExecHooksTest, WaitForReadyWaitsForReadinessPerContainer) {
  ExecHook a = Hook("a", {"ok", "exporter-hook"}, OnError::kUnset, "exporter");
  a.wait_for_ready = true;
  ExecHook b = Hook("b", {"ok", "postgres-hook"});
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}, {"exporter", "running"}}));
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}, {"exporter", "ready"}}));
  HookRunResult r = Run({a, b});
  // postgres's hook runs at once; exporter's only when it is ready.
  EXPECT_THAT(pods_.execs_after, ElementsAre(1, 2));
  EXPECT_THAT(exec_.Commands(), ElementsAre("postgres-hook", "exporter-hook"));
  EXPECT_EQ(r.attempted, 2);
}

TEST_F(RestoreExecHooksTest, FailStopsThePodsRemainingHooksWhichAreErrors) {
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}, {"exporter", "running"}}));
  RestoreHookCancel cancel{false};
  HookRunResult r = Run({Hook("a", {"exit", "2"}, OnError::kFail), Hook("b", {"ok", "never"}),
                         Hook("c", {"ok", "never-either"}, OnError::kUnset, "exporter")},
                        &cancel);
  EXPECT_THAT(exec_.Commands(), ElementsAre("2"));
  EXPECT_EQ(r.attempted, 3);  // unexecuted hooks count as attempted and failed
  EXPECT_EQ(r.failed, 3);
  EXPECT_TRUE(r.skip_item);
  EXPECT_TRUE(cancel.load());  // the other pods' hooks are cancelled
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0],
            "hook a in container postgres in pod shop/db-0 failed to execute: command terminated "
            "with non-zero exit code 2");
  EXPECT_EQ(r.errors[1],
            "hook b in container postgres in pod shop/db-0 not executed: an earlier hook with "
            "onError Fail failed");
  EXPECT_THAT(r.errors[2], HasSubstr("hook c in container exporter in pod shop/db-0 not executed"));
}

TEST_F(RestoreExecHooksTest, ContinueFailureRunsTheRestButStillCancelsOtherPods) {
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}}));
  RestoreHookCancel cancel{false};
  HookRunResult r =
      Run({Hook("a", {"exit", "2"}, OnError::kContinue), Hook("b", {"ok", "after"})}, &cancel);
  EXPECT_THAT(exec_.Commands(), ElementsAre("2", "after"));
  EXPECT_EQ(r.attempted, 2);
  EXPECT_EQ(r.failed, 1);
  EXPECT_FALSE(r.skip_item);
  EXPECT_TRUE(cancel.load());
}

TEST_F(RestoreExecHooksTest, ACancelledRestoreRunsNothing) {
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}}));
  RestoreHookCancel cancel{true};
  HookRunResult r = Run({Hook("a", {"ok", "x"})}, &cancel);
  EXPECT_TRUE(exec_.requests.empty());
  EXPECT_EQ(r.failed, 1);
  EXPECT_THAT(r.errors[0], HasSubstr("not executed: the restore's hooks were cancelled"));
}

TEST_F(RestoreExecHooksTest, PodEndingOrDeletedAbortsTheHooks) {
  pods_.Add(WithStatuses(Pod(), {{"postgres", "waiting"}}));
  pods_.Add(Pod("Failed"));
  HookRunResult r = Run({Hook("a", {"ok", "x"})});
  EXPECT_TRUE(exec_.requests.empty());
  EXPECT_THAT(r.errors, ElementsAre(HasSubstr("not executed: the pod reached phase Failed")));

  ScriptedPods deleted(clock_, exec_);
  deleted.Add(Pod("Pending"));
  deleted.EndWith(NotFoundError("pod shop/db-0 was deleted"));
  HookRunResult d = RunRestoreExecHooks(exec_, deleted, clock_, Pod("Pending"),
                                        {Hook("a", {"ok", "x"})}, {}, nullptr);
  EXPECT_THAT(d.errors, ElementsAre(HasSubstr("not executed: the pod was deleted")));
  EXPECT_EQ(d.attempted, 1);
  EXPECT_EQ(d.failed, 1);
}

TEST_F(RestoreExecHooksTest, TheWaitIsBoundedByTheLargestWaitTimeout) {
  ExecHook a = Hook("a", {"ok", "x"});
  a.wait_timeout = std::chrono::seconds(30);
  ExecHook b = Hook("b", {"ok", "y"});
  b.wait_timeout = std::chrono::minutes(1);
  pods_.Add(Pod("Pending"));
  pods_.EndWith(DeadlineExceededError("waiting for pod shop/db-0: deadline passed"));
  const auto start = clock_.Now();
  HookRunResult r = Run({a, b});
  ASSERT_TRUE(pods_.deadline_seen.has_value());
  EXPECT_EQ(*pods_.deadline_seen - start, std::chrono::minutes(1));
  EXPECT_EQ(r.failed, 2);
  EXPECT_THAT(r.errors[0], HasSubstr("not up within the largest waitTimeout (1m0s)"));
}

TEST_F(RestoreExecHooksTest, AHookWhoseWaitTimeoutPassedExpires) {
  ExecHook quick = Hook("quick", {"ok", "x"});
  quick.wait_timeout = std::chrono::seconds(10);
  ExecHook patient = Hook("patient", {"ok", "y"});
  patient.wait_timeout = std::chrono::minutes(5);
  pods_.Add(Pod("Pending"));
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}}), std::chrono::seconds(11));
  HookRunResult r = Run({quick, patient});
  EXPECT_THAT(exec_.Commands(), ElementsAre("y"));
  EXPECT_EQ(r.attempted, 2);
  EXPECT_EQ(r.failed, 1);
  EXPECT_THAT(r.errors[0], HasSubstr("hook quick in container postgres expired before executing"));
}

TEST_F(RestoreExecHooksTest, HooksForMissingContainersAreDroppedWithAWarning) {
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}}));
  HookRunResult r =
      Run({Hook("gone", {"ok", "x"}, OnError::kFail, "nope"), Hook("kept", {"ok", "y"})});
  EXPECT_THAT(exec_.Commands(), ElementsAre("y"));
  EXPECT_EQ(r.attempted, 1);
  EXPECT_EQ(r.failed, 0);
  ASSERT_FALSE(log_.entries.empty());
  EXPECT_EQ(log_.entries[0].level, LogLevel::kWarning);
  EXPECT_THAT(log_.entries[0].message, HasSubstr("container \"nope\""));
}

TEST_F(RestoreExecHooksTest, RestorePodHooksTakesAnnotationsOrSpecsAndSharesTheCancel) {
  Result<std::vector<ResourceHookSpec>> specs = ParseRestoreHookSpecs(J(R"({"resources":[
      {"name":"only-shop","includedNamespaces":["shop"],
       "postHooks":[{"exec":{"command":["exit","1"],"execTimeout":"45s"}}]},
      {"name":"elsewhere","includedNamespaces":["blog"],
       "postHooks":[{"exec":{"command":["ok","blog"]}}]}]})"));
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  RestorePodHooks hooks(exec_, pods_, clock_, *specs);
  pods_.Add(WithStatuses(Pod(), {{"postgres", "running"}}));
  HookRunResult r = hooks.Run(Pod("Pending"), log_.Sink());
  EXPECT_THAT(exec_.Commands(), ElementsAre("1"));
  EXPECT_EQ(exec_.requests[0].timeout, std::chrono::seconds(45));
  EXPECT_EQ(r.failed, 1);
  EXPECT_TRUE(hooks.cancelled());  // a failure cancels the restore's other pods' hooks

  // Annotations replace the specs; the restore is already cancelled, so nothing runs.
  Json annotated = Pod("Pending");
  annotated["metadata"]["annotations"] = {
      {"post.hook.restore.velero.io/command", R"(["ok","annotated"])"},
      {"post.hook.restore.velero.io/exec-timeout", "nonsense"}};
  ScriptedPods later(clock_, exec_);
  later.Add(WithStatuses(Pod(), {{"postgres", "running"}}));
  RestorePodHooks same_restore(exec_, later, clock_, *specs);
  same_restore.Run(Pod("Pending"), {});  // fails again: cancels this restore
  exec_.requests.clear();
  later.Add(WithStatuses(Pod(), {{"postgres", "running"}}));
  Logged log;
  HookRunResult a = same_restore.Run(annotated, log.Sink());
  EXPECT_TRUE(exec_.requests.empty());
  ASSERT_EQ(a.hooks.size(), 1u);
  EXPECT_EQ(a.hooks[0].hook.name, "<from-annotation>");
  EXPECT_THAT(a.errors[0], HasSubstr("not executed: the restore's hooks were cancelled"));
  EXPECT_EQ(log.entries.at(0).level, LogLevel::kWarning);
  EXPECT_THAT(log.entries.at(0).message, HasSubstr("exec-timeout"));

  // A pod no hook applies to returns at once, without watching.
  Json blogless = Pod("Pending");
  blogless["metadata"]["namespace"] = "news";
  RestorePodHooks fresh(exec_, later, clock_, *specs);
  EXPECT_EQ(fresh.Run(blogless, {}).attempted, 0);
}

TEST(ContainerUpTest, RunningAndReadyFromContainerStatuses) {
  Json pod = WithStatuses(Pod(), {{"postgres", "running"}, {"exporter", "ready"}});
  EXPECT_TRUE(ContainerUp(pod, "postgres", false));
  EXPECT_FALSE(ContainerUp(pod, "postgres", true));
  EXPECT_TRUE(ContainerUp(pod, "exporter", true));
  EXPECT_FALSE(ContainerUp(pod, "other", false));
  EXPECT_FALSE(ContainerUp(WithStatuses(Pod(), {{"postgres", "waiting"}}), "postgres", false));
  EXPECT_FALSE(ContainerUp(Pod("Pending"), "postgres", false));
}

}  // namespace
}  // namespace arca::hooks
