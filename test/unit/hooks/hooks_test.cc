#include "hooks/hooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::hooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Json J(const char* text) { return Json::parse(text); }

Json Pod(const char* annotations = "{}", const char* labels = R"({"app":"db"})") {
  Json pod = J(R"({"metadata":{"name":"db-0","namespace":"shop"},
      "spec":{"containers":[{"name":"postgres"},{"name":"sidecar"}]}})");
  pod["metadata"]["annotations"] = J(annotations);
  pod["metadata"]["labels"] = J(labels);
  return pod;
}

TEST(HookCommandTest, JsonArrayOrSingleArgument) {
  EXPECT_THAT(ParseHookCommand(R"(["/bin/sh","-c","echo hi"])"),
              ElementsAre("/bin/sh", "-c", "echo hi"));
  EXPECT_THAT(ParseHookCommand("/sbin/fsfreeze --freeze /data"),
              ElementsAre("/sbin/fsfreeze --freeze /data"));
  EXPECT_THAT(ParseHookCommand(R"([not json)"), ElementsAre("[not json"));
  EXPECT_THAT(ParseHookCommand(R"([1,2])"), ElementsAre("[1,2]"));
}

TEST(BackupHooksTest, SpecMatchingAndOrder) {
  Result<std::vector<ResourceHookSpec>> specs = ParseBackupHookSpecs(J(R"({"resources":[
      {"name":"freeze","includedNamespaces":["sh*"],"labelSelector":{"matchLabels":{"app":"db"}},
       "pre":[{"exec":{"command":["fsfreeze","--freeze","/data"],"onError":"Fail","timeout":"1m"}}],
       "post":[{"exec":{"container":"sidecar","command":["fsfreeze","--unfreeze","/data"]}}]},
      {"name":"other-ns","includedNamespaces":["blog"],"pre":[{"exec":{"command":["x"]}}]},
      {"name":"not-pods","includedResources":["deployments.apps"],"pre":[{"exec":{"command":["y"]}}]},
      {"name":"flush","pre":[{"exec":{"command":["sync"]}}]}]})"));
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  std::vector<std::string> warnings;
  std::vector<ExecHook> pre = BackupHooksForPod(*specs, Pod(), Phase::kPre, &warnings);
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_THAT(pre[0].command, ElementsAre("fsfreeze", "--freeze", "/data"));
  EXPECT_EQ(pre[0].container, "postgres");  // defaulted to the first container
  EXPECT_EQ(pre[0].on_error, OnError::kFail);
  EXPECT_EQ(pre[0].timeout, std::chrono::minutes(1));
  EXPECT_THAT(pre[1].command, ElementsAre("sync"));
  EXPECT_EQ(pre[1].on_error, OnError::kUnset);

  std::vector<ExecHook> post = BackupHooksForPod(*specs, Pod(), Phase::kPost, &warnings);
  ASSERT_EQ(post.size(), 1u);
  EXPECT_EQ(post[0].container, "sidecar");

  // The label selector filters.
  EXPECT_EQ(BackupHooksForPod(*specs, Pod("{}", R"({"app":"web"})"), Phase::kPre, &warnings).size(),
            1u);
  EXPECT_TRUE(warnings.empty());
}

TEST(BackupHooksTest, AnnotationsReplaceSpecs) {
  Result<std::vector<ResourceHookSpec>> specs =
      ParseBackupHookSpecs(J(R"({"resources":[{"name":"s","pre":[{"exec":{"command":["spec"]}}],
      "post":[{"exec":{"command":["spec-post"]}}]}]})"));
  ASSERT_TRUE(specs.ok());
  Json pod = Pod(R"({"pre.hook.backup.velero.io/command":"[\"/bin/sh\",\"-c\",\"touch /tmp/x\"]",
      "pre.hook.backup.velero.io/container":"sidecar","pre.hook.backup.velero.io/on-error":"Continue",
      "pre.hook.backup.velero.io/timeout":"forever"})");
  std::vector<std::string> warnings;
  std::vector<ExecHook> pre = BackupHooksForPod(*specs, pod, Phase::kPre, &warnings);
  ASSERT_EQ(pre.size(), 1u);
  EXPECT_THAT(pre[0].command, ElementsAre("/bin/sh", "-c", "touch /tmp/x"));
  EXPECT_EQ(pre[0].container, "sidecar");
  EXPECT_EQ(pre[0].on_error, OnError::kContinue);
  EXPECT_EQ(pre[0].timeout, std::chrono::nanoseconds(0));  // bad value: default, with a warning
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("pre.hook.backup.velero.io/timeout"));
  // Post hooks still come from the spec: annotations replace per phase.
  std::vector<ExecHook> post = BackupHooksForPod(*specs, pod, Phase::kPost, &warnings);
  ASSERT_EQ(post.size(), 1u);
  EXPECT_THAT(post[0].command, ElementsAre("spec-post"));
}

TEST(BackupHooksTest, LegacyAnnotationsArePreHooks) {
  Json pod = Pod(
      R"({"hook.backup.velero.io/command":"sync","hook.backup.velero.io/on-error":"Sometimes"})");
  std::vector<std::string> warnings;
  std::vector<ExecHook> pre = BackupHooksForPod({}, pod, Phase::kPre, &warnings);
  ASSERT_EQ(pre.size(), 1u);
  EXPECT_THAT(pre[0].command, ElementsAre("sync"));
  EXPECT_EQ(pre[0].on_error, OnError::kUnset);  // unknown values are ignored, as in Velero
  EXPECT_TRUE(BackupHooksForPod({}, pod, Phase::kPost, &warnings).empty());
}

TEST(BackupHooksTest, InvalidSpecsListEveryProblem) {
  Result<std::vector<ResourceHookSpec>> specs = ParseBackupHookSpecs(J(R"({"resources":[
      {"pre":[{"exec":{"command":[]}}]},
      {"name":"b","labelSelector":{"matchExpressions":[{"key":"a","operator":"Near"}]},
       "post":[{"exec":{"command":["x"],"onError":"Retry","timeout":"5 minutes"}},{"noexec":{}}]}]})"));
  ASSERT_FALSE(specs.ok());
  const std::string m = specs.status().message();
  EXPECT_THAT(m, HasSubstr("spec.hooks.resources[0].name: a hook needs a name"));
  EXPECT_THAT(
      m, HasSubstr("spec.hooks.resources[0].pre[0].exec.command: an exec hook needs a command"));
  EXPECT_THAT(m, HasSubstr("spec.hooks.resources[1].labelSelector"));
  EXPECT_THAT(
      m,
      HasSubstr("spec.hooks.resources[1].post[0].exec.onError: \"Retry\" is not Continue or Fail"));
  EXPECT_THAT(m, HasSubstr("spec.hooks.resources[1].post[0].exec.timeout: invalid duration"));
  EXPECT_THAT(m, HasSubstr("spec.hooks.resources[1].post[1]: a backup hook needs exec"));
}

TEST(RestoreHooksTest, ExecHooksFromSpecAndAnnotations) {
  Result<std::vector<ResourceHookSpec>> specs = ParseRestoreHookSpecs(J(R"({"resources":[
      {"name":"migrate","includedNamespaces":["shop-restored"],"postHooks":[
        {"exec":{"command":["migrate"],"execTimeout":"2m","waitTimeout":"5m","waitForReady":true}}]}]})"));
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  std::vector<std::string> warnings;
  // Matching uses the target namespace, not the backed-up one.
  std::vector<ExecHook> hooks = RestoreExecHooksForPod(*specs, Pod(), "shop-restored", &warnings);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].timeout, std::chrono::minutes(2));
  EXPECT_EQ(hooks[0].wait_timeout, std::chrono::minutes(5));
  EXPECT_TRUE(hooks[0].wait_for_ready);
  EXPECT_EQ(hooks[0].container, "postgres");
  EXPECT_TRUE(RestoreExecHooksForPod(*specs, Pod(), "shop", &warnings).empty());

  Json annotated = Pod(R"({"post.hook.restore.velero.io/command":"[\"psql\",\"-c\",\"select 1\"]",
      "post.hook.restore.velero.io/wait-for-ready":"true","post.hook.restore.velero.io/exec-timeout":"10s"})");
  hooks = RestoreExecHooksForPod(*specs, annotated, "shop-restored", &warnings);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_THAT(hooks[0].command, ElementsAre("psql", "-c", "select 1"));
  EXPECT_TRUE(hooks[0].wait_for_ready);
  EXPECT_EQ(hooks[0].timeout, std::chrono::seconds(10));
}

TEST(RestoreHooksTest, InitContainersArePlacedAsVeleroDoes) {
  Result<std::vector<ResourceHookSpec>> specs = ParseRestoreHookSpecs(J(R"({"resources":[
      {"name":"restore-data","postHooks":[{"init":{"initContainers":[
        {"name":"fetch","image":"alpine","command":["/fetch.sh"]}]}}]}]})"));
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  Json pod = Pod();
  pod["spec"]["initContainers"] =
      J(R"([{"name":"restore-wait","image":"velero"},{"name":"app-init","image":"a"}])");
  EXPECT_EQ(ApplyRestoreInitHooks(*specs, pod, "shop", [] { return std::string("0123abcd"); }), 1);
  std::vector<std::string> names;
  for (const Json& c : pod["spec"]["initContainers"]) {
    names.push_back(c["name"].get<std::string>());
  }
  EXPECT_THAT(names, ElementsAre("restore-wait", "fetch", "app-init"));

  // Annotations replace the spec; the default name gets the random suffix.
  Json annotated = Pod(R"({"init.hook.restore.velero.io/container-image":"busybox",
      "init.hook.restore.velero.io/command":"[\"sh\",\"-c\",\"echo init\"]"})");
  EXPECT_EQ(
      ApplyRestoreInitHooks(*specs, annotated, "shop", [] { return std::string("0123abcd"); }), 1);
  EXPECT_EQ(annotated["spec"]["initContainers"], J(R"([{"name":"velero-restore-init-0123abcd",
      "image":"busybox","command":["sh","-c","echo init"]}])"));

  Json untouched = Pod();
  EXPECT_EQ(ApplyRestoreInitHooks({}, untouched, "shop", [] { return std::string("x"); }), 0);
  EXPECT_FALSE(untouched["spec"].contains("initContainers"));
}

TEST(RestoreHooksTest, InvalidInitContainersAreRefused) {
  Result<std::vector<ResourceHookSpec>> specs = ParseRestoreHookSpecs(J(R"({"resources":[
      {"name":"r","postHooks":[{"init":{"initContainers":[{"name":"x"}]}},{"exec":{"command":["a"]},"init":{}}]}]})"));
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(),
              HasSubstr("initContainers[0].image: an init hook container needs it"));
  EXPECT_THAT(specs.status().message(),
              HasSubstr("initContainers[0].command: an init hook container needs it"));
  EXPECT_THAT(specs.status().message(),
              HasSubstr("postHooks[1]: a restore hook needs exactly one of exec and init"));
}

}  // namespace
}  // namespace arca::hooks
