// In-process tests of `arca restore create` (cli/restore_cmd.h): flag handling, validation and
// messages, without a cluster. The restore itself is tested against the real environment by
// test/integration/restore_cli_test.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace arca::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun RunArgs(std::vector<std::string> args) {
  args.insert(args.begin(), {"arca", "restore", "create"});
  std::ostringstream out;
  std::ostringstream err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(RestoreCreateTest, WithoutStandaloneSaysServerModeIsNotAvailable) {
  CliRun r = RunArgs({"--from-backup", "nightly"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("server mode"));
  EXPECT_THAT(r.err, HasSubstr("--standalone"));
}

TEST(RestoreCreateTest, NeedsExactlyOneSource) {
  CliRun none = RunArgs({"--standalone", "--storage", "file:///tmp/x"});
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("give exactly one of --from-backup"));
  CliRun both = RunArgs({"--from-backup", "b", "--from-file", "b.tar.gz", "--standalone"});
  EXPECT_EQ(both.code, 1);
  EXPECT_THAT(both.err, HasSubstr("give exactly one of --from-backup"));
}

TEST(RestoreCreateTest, PrintsTheRestoreItWouldRun) {
  CliRun r = RunArgs({"r1", "--from-backup", "nightly", "--include-namespaces", "shop,blog-*",
                      "--exclude-resources", "secrets", "--namespace-mappings", "shop:shop2", "-l",
                      "app=web", "--existing-resource-policy", "update",
                      "--status-include-resources", "deployments", "--preserve-nodeports",
                      "--include-cluster-resources=false", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "Restore");
  EXPECT_EQ(j["metadata"]["name"], "r1");
  const nlohmann::json& s = j["spec"];
  EXPECT_EQ(s["backupName"], "nightly");
  EXPECT_EQ(s["includedNamespaces"], nlohmann::json({"shop", "blog-*"}));
  EXPECT_EQ(s["excludedResources"], nlohmann::json({"secrets"}));
  EXPECT_EQ(s["namespaceMapping"]["shop"], "shop2");
  EXPECT_EQ(s["labelSelector"]["matchLabels"]["app"], "web");
  EXPECT_EQ(s["existingResourcePolicy"], "update");
  EXPECT_EQ(s["restoreStatus"]["includedResources"], nlohmann::json({"deployments"}));
  EXPECT_EQ(s["preserveNodePorts"], true);
  EXPECT_EQ(s["includeClusterResources"], false);
}

TEST(RestoreCreateTest, DefaultNameIsTheBackupAndATimestamp) {
  CliRun r = RunArgs({"--from-backup", "nightly", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(nlohmann::json::parse(r.out)["metadata"]["name"].get<std::string>(),
              MatchesRegex("nightly-[0-9]{14}"));
  CliRun f = RunArgs({"--from-file", "/tmp/weekly.tar.gz", "-o", "json"});
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_THAT(nlohmann::json::parse(f.out)["metadata"]["name"].get<std::string>(),
              MatchesRegex("weekly-[0-9]{14}"));
}

TEST(RestoreCreateTest, BadInputGetsClearErrors) {
  CliRun mapping = RunArgs({"--from-backup", "b", "--namespace-mappings", "shop", "--standalone"});
  EXPECT_EQ(mapping.code, 1);
  EXPECT_THAT(mapping.err, HasSubstr("is not of the form source:target"));
  CliRun nodes = RunArgs({"--from-backup", "b", "--include-resources", "nodes", "--standalone",
                          "--storage", "file:///tmp/arca-restore-cmd-test"});
  EXPECT_EQ(nodes.code, 1);
  EXPECT_THAT(nodes.err, HasSubstr("nodes are non-restorable resources"));
  CliRun policy = RunArgs({"--from-backup", "b", "--existing-resource-policy", "replace"});
  EXPECT_EQ(policy.code, 2);
  EXPECT_THAT(policy.err, HasSubstr("replace"));
  CliRun selector = RunArgs({"--from-backup", "b", "-l", "a in (", "--standalone"});
  EXPECT_EQ(selector.code, 1);
  CliRun no_storage = RunArgs({"--from-backup", "b", "--standalone"});
  EXPECT_EQ(no_storage.code, 1);
  EXPECT_THAT(no_storage.err, HasSubstr("--storage is required"));
  CliRun no_file = RunArgs({"--from-file", "/nonexistent/x.tar.gz", "--standalone"});
  EXPECT_EQ(no_file.code, 1);
  EXPECT_THAT(no_file.err, HasSubstr("no such file"));
}

}  // namespace
}  // namespace arca::cli
