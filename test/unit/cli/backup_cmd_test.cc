#include "cli/backup_cmd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "api/backup.h"
#include "archive/velero_layout.h"
#include "backup/contents.h"
#include "cli/backup_flags.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "kube/encoding.h"
#include "objstore/fs_store.h"

namespace arca::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun Arca(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

class BackupCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("arca-backup-cmd-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    url_ = "file://" + dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a finished backup's files as the engine does.
  void PutBackup(const std::string& name, const std::string& phase, int errors,
                 std::optional<nlohmann::json> selector = std::nullopt) {
    Result<std::unique_ptr<objstore::FsStore>> opened = objstore::FsStore::Open(dir_, true);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    objstore::FsStore& store = **opened;
    api::Backup b;
    b.metadata.name = name;
    b.metadata.namespace_ = "velero";
    b.spec.included_namespaces = {"shop"};
    b.spec.storage_location = "default";
    b.spec.label_selector = std::move(selector);
    b.spec.ttl = std::chrono::hours(720);
    b.status.phase = phase;
    b.status.errors = errors;
    b.status.format_version = "1.1.0";
    b.status.start_timestamp = "2026-11-26T12:00:00Z";
    b.status.completion_timestamp = "2026-11-26T12:00:03Z";
    b.status.expiration =
        kube::FormatRfc3339(std::chrono::system_clock::now() + std::chrono::hours(49));
    b.status.progress = api::BackupProgress{2, 2};
    ASSERT_TRUE(store
                    .PutString(objstore::ObjectKey(archive::BackupMetadataKey(name)),
                               api::BackupToJson(b).dump(2))
                    .ok());
    Result<std::string> list =
        backup::GzipDocument(R"({"v1/ConfigMap":["shop/a","shop/b"],"v1/Namespace":["shop"]})"
                             "\n");
    ASSERT_TRUE(list.ok());
    ASSERT_TRUE(
        store
            .PutString(objstore::ObjectKey(archive::BackupFileKey(name, "resource-list.json.gz")),
                       *list)
            .ok());
    Result<std::string> results = backup::GzipDocument(
        R"({"errors":{"namespaces":{"shop":[" resource: /secrets name: / message: /Error listing items error: /forbidden"]}},"warnings":{}})"
        "\n");
    ASSERT_TRUE(results.ok());
    ASSERT_TRUE(
        store.PutString(objstore::ObjectKey(archive::BackupFileKey(name, "results.gz")), *results)
            .ok());
  }

  std::filesystem::path dir_;
  std::string url_;
};

TEST_F(BackupCmdTest, CreateWithStorageButWithoutStandaloneSaysWhichModeToPick) {
  CliRun r = Arca({"arca", "backup", "create", "b1", "--storage", url_, "-n", "ops"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--storage is for standalone mode: add --standalone"));
  EXPECT_THAT(r.err, HasSubstr("through arca server in namespace ops"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(BackupCmdTest, CreateListsEveryValidationReasonBeforeConnecting) {
  // No cluster is needed: validation runs first.
  CliRun r = Arca({"arca", "backup", "create", "Bad_Name", "--standalone", "--storage", url_,
                   "--kubeconfig", "/nonexistent", "--exclude-resources", "*", "-l", "a=b",
                   "--or-selector", "c=d or e=f"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("failed validation"));
  EXPECT_THAT(r.err, HasSubstr("invalid backup name"));
  EXPECT_THAT(r.err, HasSubstr("excludes list cannot contain '*'"));
  EXPECT_THAT(r.err, HasSubstr("only one can be specified"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(BackupCmdTest, CreateOutputJsonShowsTheSpecBuiltFromFlags) {
  CliRun r = Arca({"arca", "backup", "create", "b1", "-o", "json", "--include-namespaces", "a,b",
                   "--exclude-resources", "secrets", "--include-cluster-resources=false", "-l",
                   "app=web,tier in (x,y),!legacy", "--ttl", "24h", "--ordered-resources",
                   "pods=a/p1,a/p2;persistentvolumeclaims=a/c1", "--labels", "team=x"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "Backup");
  EXPECT_EQ(j["metadata"]["labels"]["team"], "x");
  EXPECT_EQ(j["spec"]["includedNamespaces"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(j["spec"]["excludedResources"], nlohmann::json({"secrets"}));
  EXPECT_EQ(j["spec"]["includeClusterResources"], false);
  EXPECT_EQ(j["spec"]["ttl"], "24h0m0s");
  EXPECT_EQ(j["spec"]["orderedResources"]["pods"], "a/p1,a/p2");
  EXPECT_EQ(j["spec"]["orderedResources"]["persistentvolumeclaims"], "a/c1");
  EXPECT_EQ(j["spec"]["labelSelector"],
            nlohmann::json::parse(R"({"matchLabels":{"app":"web"},"matchExpressions":[
              {"key":"legacy","operator":"DoesNotExist"},
              {"key":"tier","operator":"In","values":["x","y"]}]})"));

  CliRun yes =
      Arca({"arca", "backup", "create", "b1", "-o", "json", "--include-cluster-resources"});
  ASSERT_EQ(yes.code, 0) << yes.err;
  EXPECT_EQ(nlohmann::json::parse(yes.out)["spec"]["includeClusterResources"], true);
  CliRun unset = Arca({"arca", "backup", "create", "b1", "-o", "json"});
  ASSERT_EQ(unset.code, 0) << unset.err;
  EXPECT_FALSE(nlohmann::json::parse(unset.out)["spec"].contains("includeClusterResources"));

  CliRun or_sel =
      Arca({"arca", "backup", "create", "b1", "-o", "yaml", "--or-selector", "app=web or tier=db"});
  ASSERT_EQ(or_sel.code, 0) << or_sel.err;
  EXPECT_THAT(or_sel.out, HasSubstr("orLabelSelectors:\n  - matchLabels:\n      app: web\n"));
  EXPECT_THAT(or_sel.out, HasSubstr("  - matchLabels:\n      tier: db\n"));
}

TEST_F(BackupCmdTest, BadFlagsSayWhatIsWrong) {
  CliRun ttl = Arca({"arca", "backup", "create", "b1", "-o", "json", "--ttl", "3 days"});
  EXPECT_EQ(ttl.code, 1);
  EXPECT_THAT(ttl.err, HasSubstr("--ttl"));
  EXPECT_THAT(ttl.err, HasSubstr("720h"));
  CliRun sel = Arca({"arca", "backup", "create", "b1", "-o", "json", "-l", "a>1"});
  EXPECT_EQ(sel.code, 1);
  EXPECT_THAT(sel.err, HasSubstr("cannot use > or <"));
  CliRun ordered =
      Arca({"arca", "backup", "create", "b1", "-o", "json", "--ordered-resources", "pods"});
  EXPECT_EQ(ordered.code, 1);
  EXPECT_THAT(ordered.err, HasSubstr("resource=ns/name"));
  CliRun labels = Arca({"arca", "backup", "create", "b1", "-o", "json", "--labels", "novalue"});
  EXPECT_EQ(labels.code, 1);
  EXPECT_THAT(labels.err, HasSubstr("key=value"));
  CliRun storage = Arca({"arca", "backup", "create", "b1", "--standalone"});
  EXPECT_EQ(storage.code, 1);
  EXPECT_THAT(storage.err, HasSubstr("--storage is required"));
}

TEST_F(BackupCmdTest, GetListsBackupsWithVelerosColumns) {
  PutBackup("nightly", "Completed", 0, nlohmann::json{{"matchLabels", {{"app", "web"}}}});
  PutBackup("broken", "PartiallyFailed", 1);
  // A folder without velero-backup.json (an unfinished backup) is not listed.
  ASSERT_TRUE(std::filesystem::create_directories(dir_ / "backups" / "partial"));
  std::ofstream(dir_ / "backups" / "partial" / "partial.tar.gz") << "x";

  CliRun r = Arca({"arca", "backup", "get", "--storage", url_});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header;
  std::string row1;
  std::string row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_EQ(header,
            "NAME      STATUS            ERRORS   WARNINGS   CREATED                         "
            "EXPIRES   STORAGE LOCATION   SELECTOR");
  EXPECT_EQ(row1,
            "broken    PartiallyFailed   1        0          2026-11-26 12:00:00 +0000 UTC   2d  "
            "      default            <none>");
  EXPECT_EQ(row2,
            "nightly   Completed         0        0          2026-11-26 12:00:00 +0000 UTC   2d  "
            "      default            app=web");
  EXPECT_THAT(r.out, Not(HasSubstr("partial")));

  CliRun json = Arca({"arca", "backup", "get", "--storage", url_, "-o", "json"});
  ASSERT_EQ(json.code, 0) << json.err;
  nlohmann::json list = nlohmann::json::parse(json.out);
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][1]["metadata"]["name"], "nightly");

  CliRun one = Arca({"arca", "backup", "get", "nightly", "--storage", url_, "-o", "yaml"});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("kind: Backup\n"));
  EXPECT_THAT(one.out, HasSubstr("  phase: Completed\n"));

  CliRun missing = Arca({"arca", "backup", "get", "nope", "--storage", url_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("backup \"nope\" not found"));
  CliRun bad_output = Arca({"arca", "backup", "get", "--storage", url_, "-o", "xml"});
  EXPECT_EQ(bad_output.code, 1);
  EXPECT_THAT(bad_output.err, HasSubstr("use table, json or yaml"));
}

TEST_F(BackupCmdTest, DescribeWithDetailsShowsResourcesAndErrors) {
  PutBackup("broken", "PartiallyFailed", 1);
  CliRun plain = Arca({"arca", "backup", "describe", "broken", "--storage", url_});
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_THAT(plain.out, HasSubstr("Name:         broken\n"));
  EXPECT_THAT(plain.out, HasSubstr("Phase:  PartiallyFailed\n"));
  EXPECT_THAT(plain.out, HasSubstr("  Included:  shop\n"));
  EXPECT_THAT(plain.out, HasSubstr("TTL:  720h0m0s\n"));
  EXPECT_THAT(plain.out, HasSubstr("Items backed up:              2\n"));
  EXPECT_THAT(plain.out, Not(HasSubstr("Resource List")));

  CliRun details = Arca({"arca", "backup", "describe", "broken", "--details", "--storage", url_});
  ASSERT_EQ(details.code, 0) << details.err;
  EXPECT_THAT(details.out, HasSubstr("Resource List:\n  v1/ConfigMap:\n    - shop/a\n    - shop/b\n"
                                     "  v1/Namespace:\n    - shop\n"));
  EXPECT_THAT(details.out, HasSubstr("Errors:\n  Namespaces:\n    shop:\n"
                                     "       resource: /secrets name: / message: /Error listing "
                                     "items error: /forbidden\n"));
  EXPECT_THAT(details.out, HasSubstr("Warnings:\n  <none>\n"));

  CliRun missing = Arca({"arca", "backup", "describe", "nope", "--storage", url_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not found"));
}

TEST(SelectorFlagTest, RoundTripsThroughFormatLabelSelector) {
  Result<nlohmann::json> sel = ParseSelectorFlag("app = web, env notin (dev), tier!=db, has");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(FormatLabelSelector(*sel), "app=web,env notin (dev),has,tier notin (db)");
  EXPECT_EQ(FormatLabelSelector(nlohmann::json::object()), "<none>");
  EXPECT_EQ(ParseSelectorFlag("a=(").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::cli
