// In-process tests of `arca restore ...` (cli/restore_cmd.h): flag handling, validation and
// messages without a cluster, and the choice of a schedule's backup on an in-memory API server.
// The commands against a real `arca server` are tested by test/integration/restore_cli_test.sh.
#include "cli/restore_cmd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "common/clock.h"
#include "unit/controller/fake_kube.h"

namespace arca::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun RunArca(std::vector<std::string> args) {
  args.insert(args.begin(), "arca");
  std::ostringstream out;
  std::ostringstream err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

CliRun RunArgs(std::vector<std::string> args) {
  args.insert(args.begin(), {"restore", "create"});
  return RunArca(std::move(args));
}

// Every test runs without a reachable cluster: a command that tries to connect fails, so a
// command that succeeds did not submit anything.
class RestoreCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("KUBECONFIG");
    had_ = old != nullptr;
    old_ = had_ ? old : "";
    setenv("KUBECONFIG", "/nonexistent/arca-restore-cmd-test/kubeconfig", 1);
    unsetenv("VELERO_NAMESPACE");
  }
  void TearDown() override {
    if (had_) {
      setenv("KUBECONFIG", old_.c_str(), 1);
    } else {
      unsetenv("KUBECONFIG");
    }
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST_F(RestoreCmdTest, WithoutStandaloneTheCommandNeedsTheCluster) {
  CliRun r = RunArgs({"--from-backup", "nightly"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, Not(HasSubstr("submitted")));
  EXPECT_THAT(r.err, Not(HasSubstr("--standalone")));  // no "server mode is not available"
}

TEST_F(RestoreCmdTest, NeedsExactlyOneSource) {
  CliRun none = RunArgs({"--standalone", "--storage", "file:///tmp/x"});
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("give exactly one of --from-backup NAME"));
  CliRun both = RunArgs({"--from-backup", "b", "--from-file", "b.tar.gz", "--standalone"});
  EXPECT_EQ(both.code, 1);
  EXPECT_THAT(both.err, HasSubstr("give exactly one of --from-backup"));
  CliRun backup_and_schedule = RunArgs({"--from-backup", "b", "--from-schedule", "s"});
  EXPECT_EQ(backup_and_schedule.code, 1);
  EXPECT_THAT(backup_and_schedule.err,
              HasSubstr("give exactly one of --from-backup NAME (a backup) and --from-schedule"));
  CliRun server_none = RunArgs({});
  EXPECT_EQ(server_none.code, 1);
  EXPECT_THAT(server_none.err, HasSubstr("give exactly one of"));
}

TEST_F(RestoreCmdTest, SourcesBelongToTheirMode) {
  CliRun file = RunArgs({"--from-file", "/tmp/b.tar.gz"});
  EXPECT_EQ(file.code, 1);
  EXPECT_THAT(file.err, HasSubstr("--from-file restores a tarball in this process: add "
                                  "--standalone"));
  CliRun schedule = RunArgs({"--from-schedule", "daily", "--standalone"});
  EXPECT_EQ(schedule.code, 1);
  EXPECT_THAT(schedule.err, HasSubstr("--from-schedule needs `arca server`"));
}

TEST_F(RestoreCmdTest, PrintsTheRestoreItWouldCreate) {
  CliRun r = RunArgs({"r1",
                      "--from-backup",
                      "nightly",
                      "--include-namespaces",
                      "shop,blog-*",
                      "--exclude-resources",
                      "secrets",
                      "--namespace-mappings",
                      "shop:shop2",
                      "-l",
                      "app=web",
                      "--existing-resource-policy",
                      "update",
                      "--status-include-resources",
                      "deployments",
                      "--preserve-nodeports",
                      "--include-cluster-resources=false",
                      "--labels",
                      "team=a,tier=b",
                      "--annotations",
                      "note=x",
                      "--restore-volumes=false",
                      "--item-operation-timeout",
                      "90m",
                      "-n",
                      "backup-ns",
                      "-o",
                      "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "Restore");
  EXPECT_EQ(j["metadata"]["name"], "r1");
  EXPECT_EQ(j["metadata"]["namespace"], "backup-ns");
  EXPECT_EQ(j["metadata"]["labels"], nlohmann::json({{"team", "a"}, {"tier", "b"}}));
  EXPECT_EQ(j["metadata"]["annotations"]["note"], "x");
  const nlohmann::json& s = j["spec"];
  EXPECT_EQ(s["backupName"], "nightly");
  EXPECT_FALSE(s.contains("scheduleName"));
  EXPECT_EQ(s["includedNamespaces"], nlohmann::json({"shop", "blog-*"}));
  EXPECT_EQ(s["excludedResources"], nlohmann::json({"secrets"}));
  EXPECT_EQ(s["namespaceMapping"]["shop"], "shop2");
  EXPECT_EQ(s["labelSelector"]["matchLabels"]["app"], "web");
  EXPECT_EQ(s["existingResourcePolicy"], "update");
  EXPECT_EQ(s["restoreStatus"]["includedResources"], nlohmann::json({"deployments"}));
  EXPECT_EQ(s["preserveNodePorts"], true);
  EXPECT_EQ(s["includeClusterResources"], false);
  EXPECT_EQ(s["restorePVs"], false);
  EXPECT_EQ(s["itemOperationTimeout"], "1h30m0s");
  EXPECT_THAT(r.out, Not(HasSubstr("submitted")));
}

TEST_F(RestoreCmdTest, YamlAndTableOutputs) {
  CliRun yaml = RunArgs({"r2", "--from-backup", "nightly", "-o", "yaml"});
  ASSERT_EQ(yaml.code, 0) << yaml.err;
  EXPECT_THAT(yaml.out, HasSubstr("kind: Restore\n"));
  EXPECT_THAT(yaml.out, HasSubstr("  backupName: nightly\n"));
  CliRun table = RunArgs({"r3", "--from-backup", "nightly", "-l", "app=web", "-o", "table"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, MatchesRegex("NAME +BACKUP +STATUS +STARTED +COMPLETED +ERRORS +WARNINGS "
                                      "+CREATED +SELECTOR\nr3 +nightly +New +<n/a> +<n/a> +0 +0 "
                                      "+<n/a> +app=web\n"));
  CliRun wide = RunArgs({"--from-backup", "nightly", "-o", "wide"});
  EXPECT_EQ(wide.code, 1);
  EXPECT_THAT(wide.err, HasSubstr("-o wide: use table, json or yaml"));
}

TEST_F(RestoreCmdTest, FromScheduleWithOutputLeavesTheChoiceToTheServer) {
  CliRun r = RunArgs({"--from-schedule", "daily", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["spec"]["scheduleName"], "daily");
  EXPECT_FALSE(j["spec"].contains("backupName"));
  EXPECT_THAT(j["metadata"]["name"].get<std::string>(), MatchesRegex("daily-[0-9]{14}"));
  // Only the CLI takes PartiallyFailed backups: it needs the cluster to choose.
  CliRun partial = RunArgs({"--from-schedule", "daily", "--allow-partially-failed", "-o", "json"});
  EXPECT_EQ(partial.code, 1);
  EXPECT_EQ(partial.out, "");
}

TEST_F(RestoreCmdTest, DefaultNameIsTheSourceAndATimestamp) {
  CliRun r = RunArgs({"--from-backup", "nightly", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(nlohmann::json::parse(r.out)["metadata"]["name"].get<std::string>(),
              MatchesRegex("nightly-[0-9]{14}"));
  CliRun f = RunArgs({"--from-file", "/tmp/weekly.tar.gz", "--standalone", "-o", "json"});
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_THAT(nlohmann::json::parse(f.out)["metadata"]["name"].get<std::string>(),
              MatchesRegex("weekly-[0-9]{14}"));
  CliRun ns = RunArgs({"--from-backup", "nightly", "-o", "json"});
  EXPECT_EQ(nlohmann::json::parse(ns.out)["metadata"]["namespace"], "velero");
}

TEST_F(RestoreCmdTest, BadInputGetsClearErrors) {
  CliRun mapping = RunArgs({"--from-backup", "b", "--namespace-mappings", "shop", "--standalone"});
  EXPECT_EQ(mapping.code, 1);
  EXPECT_THAT(mapping.err, HasSubstr("is not of the form source:target"));
  CliRun server_mapping = RunArgs({"--from-backup", "b", "--namespace-mappings", "shop:"});
  EXPECT_EQ(server_mapping.code, 1);
  EXPECT_THAT(server_mapping.err, HasSubstr("\"shop:\" is not of the form source:target"));
  CliRun nodes = RunArgs({"--from-backup", "b", "--include-resources", "nodes", "--standalone",
                          "--storage", "file:///tmp/arca-restore-cmd-test"});
  EXPECT_EQ(nodes.code, 1);
  EXPECT_THAT(nodes.err, HasSubstr("nodes are non-restorable resources"));
  CliRun policy = RunArgs({"--from-backup", "b", "--existing-resource-policy", "replace"});
  EXPECT_EQ(policy.code, 2);
  EXPECT_THAT(policy.err, HasSubstr("replace"));
  CliRun selector = RunArgs({"--from-backup", "b", "-l", "a in (", "--standalone"});
  EXPECT_EQ(selector.code, 1);
  CliRun both_selectors =
      RunArgs({"--from-backup", "b", "-l", "a=b", "--or-selector", "c=d or e=f", "-o", "json"});
  EXPECT_EQ(both_selectors.code, 1);
  EXPECT_THAT(both_selectors.err,
              HasSubstr("give either -l/--selector or --or-selector, not both"));
  CliRun labels = RunArgs({"--from-backup", "b", "--labels", "novalue", "-o", "json"});
  EXPECT_EQ(labels.code, 1);
  EXPECT_THAT(labels.err, HasSubstr("--labels: \"novalue\" is not of the form key=value"));
  CliRun timeout = RunArgs({"--from-backup", "b", "--item-operation-timeout", "soon"});
  EXPECT_EQ(timeout.code, 1);
  EXPECT_THAT(timeout.err, HasSubstr("--item-operation-timeout soon: not a duration"));
  CliRun no_storage = RunArgs({"--from-backup", "b", "--standalone"});
  EXPECT_EQ(no_storage.code, 1);
  EXPECT_THAT(no_storage.err, HasSubstr("--storage is required"));
  CliRun no_file = RunArgs({"--from-file", "/nonexistent/x.tar.gz", "--standalone"});
  EXPECT_EQ(no_file.code, 1);
  EXPECT_THAT(no_file.err, HasSubstr("no such file"));
  CliRun priorities = RunArgs({"--from-backup", "b", "--standalone", "--storage",
                               "file:///tmp/arca-restore-cmd-test", "--restore-resource-priorities",
                               "namespaces,,pods"});
  EXPECT_EQ(priorities.code, 1);
  EXPECT_THAT(priorities.err,
              HasSubstr("--restore-resource-priorities: invalid restore resource priorities "
                        "\"namespaces,,pods\": empty element; give resources separated by "
                        "commas"));
  CliRun two_separators =
      RunArgs({"--from-backup", "b", "--standalone", "--storage",
               "file:///tmp/arca-restore-cmd-test", "--restore-resource-priorities", "a,-,b,-,c"});
  EXPECT_EQ(two_separators.code, 1);
  EXPECT_THAT(two_separators.err, HasSubstr("more than one \"-\""));
  CliRun priorities_server =
      RunArgs({"--from-backup", "b", "--restore-resource-priorities", "namespaces,pods"});
  EXPECT_EQ(priorities_server.code, 1);
  EXPECT_THAT(priorities_server.err, HasSubstr("give it to `arca server`"));
}

TEST_F(RestoreCmdTest, GetDescribeDeleteCheckTheirFlagsFirst) {
  CliRun get = RunArca({"restore", "get", "-o", "wide"});
  EXPECT_EQ(get.code, 1);
  EXPECT_THAT(get.err, HasSubstr("-o wide: use table, json or yaml"));
  CliRun both = RunArca({"restore", "get", "r1", "-l", "a=b"});
  EXPECT_EQ(both.code, 1);
  EXPECT_THAT(both.err, HasSubstr("give restore names or -l/--selector, not both"));
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"restore", "delete", "--confirm"},
                                             {"restore", "delete", "r1", "--all", "--confirm"},
                                             {"restore", "delete", "-l", "a=b", "--all"}}) {
    CliRun del = RunArca(args);
    EXPECT_EQ(del.code, 1);
    EXPECT_THAT(del.err, HasSubstr("you must specify exactly one of: specific restore name(s), "
                                   "the --all flag, or the --selector flag"));
  }
  CliRun timeout = RunArca({"restore", "logs", "r1", "--timeout", "0s"});
  EXPECT_EQ(timeout.code, 1);
  EXPECT_THAT(timeout.err, HasSubstr("--timeout"));
  CliRun no_name = RunArca({"restore", "logs"});
  EXPECT_EQ(no_name.code, 2);
}

TEST(RestoreTableTest, VeleroColumns) {
  std::ostringstream out;
  PrintRestoreTable(out,
                    {{{"metadata", {{"name", "r1"}, {"creationTimestamp", "2026-11-26T16:47:00Z"}}},
                      {"spec", {{"backupName", "b1"}}},
                      {"status",
                       {{"phase", "PartiallyFailed"},
                        {"startTimestamp", "2026-11-26T16:47:17Z"},
                        {"completionTimestamp", "2026-11-26T16:48:00Z"},
                        {"errors", 2},
                        {"warnings", 5}}}}});
  EXPECT_EQ(out.str(),
            "NAME   BACKUP   STATUS            STARTED                         COMPLETED          "
            "             ERRORS   WARNINGS   CREATED                         SELECTOR\n"
            "r1     b1       PartiallyFailed   2026-11-26 16:47:17 +0000 UTC   2026-11-26 "
            "16:48:00 +0000 UTC   2        5          2026-11-26 16:47:00 +0000 UTC   <none>\n");
}

class BackupOfScheduleTest : public ::testing::Test {
 protected:
  void AddBackup(const std::string& name, const std::string& schedule, const std::string& phase,
                 const std::string& started) {
    nlohmann::json b = {{"apiVersion", "velero.io/v1"},
                        {"kind", "Backup"},
                        {"metadata", {{"name", name}}},
                        {"status", {{"phase", phase}, {"startTimestamp", started}}}};
    if (!schedule.empty()) {
      b["metadata"]["labels"] = {{"velero.io/schedule-name", schedule}};
    }
    fake_.Put("velero.io", "backups", "velero", b);
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  controller::testing::FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = controller::testing::FakeKube::Connect(fake_, clock_);
  VeleroClient client_{conn_->client(), "velero", clock_};
};

TEST_F(BackupOfScheduleTest, NewestCompletedBackupOfTheSchedule) {
  AddBackup("daily-1", "daily", "Completed", "2026-11-20T01:00:00Z");
  AddBackup("daily-2", "daily", "Completed", "2026-11-22T01:00:00Z");
  AddBackup("daily-3", "daily", "PartiallyFailed", "2026-11-23T01:00:00Z");
  AddBackup("daily-4", "daily", "InProgress", "2026-11-24T01:00:00Z");
  AddBackup("other-9", "other", "Completed", "2026-11-25T01:00:00Z");
  AddBackup("manual", "", "Completed", "2026-11-26T01:00:00Z");
  Result<std::string> b = BackupOfSchedule(client_, "daily", false);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(*b, "daily-2");
  Result<std::string> partial = BackupOfSchedule(client_, "daily", true);
  ASSERT_TRUE(partial.ok()) << partial.status().message();
  EXPECT_EQ(*partial, "daily-3");
}

TEST_F(BackupOfScheduleTest, ClearErrorsWhenThereIsNone) {
  Result<std::string> none = BackupOfSchedule(client_, "daily", false);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(),
              HasSubstr("no backups of schedule daily found in namespace velero"));
  AddBackup("daily-1", "daily", "Failed", "2026-11-20T01:00:00Z");
  AddBackup("daily-2", "daily", "PartiallyFailed", "2026-11-21T01:00:00Z");
  Result<std::string> failed = BackupOfSchedule(client_, "daily", false);
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(failed.status().message(),
              HasSubstr("no Completed backup of schedule daily was found in namespace velero "
                        "(its backups: 1 Failed, 1 PartiallyFailed); --allow-partially-failed"));
  EXPECT_EQ(*BackupOfSchedule(client_, "daily", true), "daily-2");
}

}  // namespace
}  // namespace arca::cli
