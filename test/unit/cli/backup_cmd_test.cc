#include "cli/backup_cmd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../controller/fake_kube.h"
#include "api/backup.h"
#include "archive/velero_layout.h"
#include "backup/contents.h"
#include "cli/backup_flags.h"
#include "cli/cli.h"
#include "cli/cluster.h"
#include "cli/download.h"
#include "common/clock.h"
#include "controller/location_stores.h"
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
            "EXPIRES   STORAGE LOCATION   QUEUE POSITION   SELECTOR");
  EXPECT_EQ(row1,
            "broken    PartiallyFailed   1        0          2026-11-26 12:00:00 +0000 UTC   2d  "
            "      default                             <none>");
  EXPECT_EQ(row2,
            "nightly   Completed         0        0          2026-11-26 12:00:00 +0000 UTC   2d  "
            "      default                             app=web");
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

// --- server mode, on an in-memory API server
// ------------------------------------------------------

using controller::testing::FakeKube;

// The location stores of the fallback: every location is one FsStore.
class DirStores : public controller::LocationStores {
 public:
  explicit DirStores(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation& bsl) override {
    opened_bsl = bsl.metadata.name;
    ASSIGN_OR_RETURN(std::unique_ptr<objstore::FsStore> store, objstore::FsStore::Open(dir_, true));
    return objstore::ObjectStorePtr(std::move(store));
  }
  std::string opened_bsl;

 private:
  std::filesystem::path dir_;
};

class ServerModeTest : public BackupCmdTest {
 protected:
  ServerModeTest() : conn_(FakeKube::Connect(kube_, RealClock())), stores_(dir_store()) {}

  static std::filesystem::path dir_store() {
    return std::filesystem::temp_directory_path() /
           ("arca-backup-cmd-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_store());
    BackupCmdTest::TearDown();
  }

  CliRun Run(std::vector<std::string> args, const std::string& input = "") {
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in(input);
    CommandContext ctx{.out = out, .err = err};
    BackupCommandEnv env;
    env.connect = [this](const ClusterFlags& flags, Clock& clock) -> Result<VeleroClient> {
      return VeleroClient(conn_->client(), flags.Namespace(), clock);
    };
    env.in = &in;
    env.wait_poll = std::chrono::milliseconds(5);
    env.tune_download = [this](DownloadOptions& o) {
      o.stores = &stores_;
      o.poll_every = std::chrono::milliseconds(5);
      if (o.timeout > std::chrono::milliseconds(2000)) {  // the default 1m: keep tests short
        o.timeout = std::chrono::milliseconds(300);
      }
    };
    CLI::App app{"test", "arca"};
    AddBackupCommands(app, ctx, env);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app.parse(std::move(reversed));
    } catch (const CLI::ParseError& e) {
      return {2, out.str(), err.str() + e.what()};
    }
    return {ctx.exit_code, out.str(), err.str()};
  }

  void PutBackupObject(const std::string& name, const std::string& phase,
                       const std::map<std::string, std::string>& labels = {}) {
    nlohmann::json b = {
        {"apiVersion", "velero.io/v1"},
        {"kind", "Backup"},
        {"metadata", {{"name", name}}},
        {"spec", {{"includedNamespaces", {"shop"}}, {"storageLocation", "default"}}},
        {"status",
         {{"phase", phase},
          {"errors", 1},
          {"startTimestamp", "2026-11-26T12:00:00Z"},
          {"progress", {{"totalItems", 4}, {"itemsBackedUp", 4}}}}}};
    if (!labels.empty()) {
      b["metadata"]["labels"] = labels;
    }
    kube_.Put("velero.io", "backups", "ops", b);
  }

  void PutLocation() {
    kube_.Put("velero.io", "backupstoragelocations", "ops",
              {{"apiVersion", "velero.io/v1"},
               {"kind", "BackupStorageLocation"},
               {"metadata", {{"name", "default"}}},
               {"spec",
                {{"provider", "filesystem"},
                 {"objectStorage", {{"bucket", "bk"}}},
                 {"config", {{"root", "/nowhere"}}}}}});
  }

  // Writes `text`, gzipped, at `key` of the store the fallback reads.
  std::filesystem::path PutStoreFile(const std::string& key, const std::string& text, bool gzip) {
    Result<std::unique_ptr<objstore::FsStore>> store = objstore::FsStore::Open(dir_store(), true);
    EXPECT_TRUE(store.ok());
    std::string data = text;
    if (gzip) {
      Result<std::string> gz = backup::GzipDocument(text);
      EXPECT_TRUE(gz.ok());
      data = *gz;
    }
    EXPECT_TRUE((*store)->PutString(objstore::ObjectKey(key), data).ok());
    return dir_store() / key;
  }

  FakeKube kube_{RealClock()};
  kube::ConnectionPtr conn_;
  DirStores stores_;
};

TEST_F(ServerModeTest, CreateSubmitsTheBackupInTheNamespace) {
  CliRun r = Run({"backup", "create", "b1", "-n", "ops", "--include-namespaces", "shop", "--labels",
                  "team=x", "--ttl", "2h"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Backup request \"b1\" submitted successfully.\n"
            "Run `arca backup describe b1` or `arca backup logs b1` for more details.\n");
  nlohmann::json b = kube_.Get("velero.io", "backups", "ops", "b1");
  ASSERT_FALSE(b.is_null());
  EXPECT_EQ(b["spec"]["includedNamespaces"], nlohmann::json({"shop"}));
  EXPECT_EQ(b["spec"]["ttl"], "2h0m0s");
  EXPECT_EQ(b["metadata"]["labels"]["team"], "x");

  CliRun again = Run({"backup", "create", "b1", "-n", "ops"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("already exists in namespace ops"));
  CliRun unnamed = Run({"backup", "create", "-n", "ops"});
  EXPECT_EQ(unnamed.code, 1);
  EXPECT_THAT(unnamed.err, HasSubstr("a backup name is required"));
}

TEST_F(ServerModeTest, OutputPrintsTheBackupAndSubmitsNothing) {
  CliRun r = Run({"backup", "create", "b1", "-n", "ops", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["metadata"]["namespace"], "ops");
  EXPECT_TRUE(kube_.Names("velero.io", "backups", "ops").empty());
  CliRun bad = Run({"backup", "create", "b1", "-n", "ops", "-o", "table"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("-o table: use json or yaml"));
  EXPECT_TRUE(kube_.Names("velero.io", "backups", "ops").empty());
}

TEST_F(ServerModeTest, FromScheduleUsesTheTemplateAndIgnoresFilters) {
  kube_.Put("velero.io", "schedules", "ops",
            {{"apiVersion", "velero.io/v1"},
             {"kind", "Schedule"},
             {"metadata", {{"name", "daily"}}},
             {"spec",
              {{"schedule", "0 1 * * *"},
               {"template", {{"includedNamespaces", {"web"}}, {"ttl", "1h0m0s"}}}}}});
  CliRun printed = Run({"backup", "create", "--from-schedule", "daily", "-n", "ops", "-o", "json",
                        "--include-namespaces", "other", "--labels", "k=v"});
  ASSERT_EQ(printed.code, 0) << printed.err;
  nlohmann::json j = nlohmann::json::parse(printed.out);
  EXPECT_THAT(j["metadata"]["name"].get<std::string>(), ::testing::MatchesRegex("daily-[0-9]{14}"));
  EXPECT_EQ(j["metadata"]["labels"]["velero.io/schedule-name"], "daily");
  EXPECT_EQ(j["metadata"]["labels"]["k"], "v");
  EXPECT_EQ(j["spec"]["includedNamespaces"], nlohmann::json({"web"}));
  EXPECT_TRUE(kube_.Names("velero.io", "backups", "ops").empty());

  CliRun named = Run({"backup", "create", "mine", "--from-schedule", "daily", "-n", "ops"});
  ASSERT_EQ(named.code, 0) << named.err;
  EXPECT_EQ(kube_.Get("velero.io", "backups", "ops",
                      "mine")["metadata"]["labels"]["velero.io/schedule-name"],
            "daily");

  CliRun missing = Run({"backup", "create", "--from-schedule", "nope", "-n", "ops"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("schedules.velero.io \"nope\" not found in namespace ops"));
  CliRun standalone =
      Run({"backup", "create", "--from-schedule", "daily", "--standalone", "--storage", url_});
  EXPECT_EQ(standalone.code, 1);
  EXPECT_THAT(standalone.err, HasSubstr("cannot be combined with --standalone"));
}

TEST_F(ServerModeTest, WaitShowsProgressAndFailsUnlessCompleted) {
  std::thread server([this] {
    for (int i = 0; i < 2000 && kube_.Get("velero.io", "backups", "ops", "b1").is_null(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    nlohmann::json b = kube_.Get("velero.io", "backups", "ops", "b1");
    b["status"] = {{"phase", "InProgress"},
                   {"progress", {{"totalItems", 4}, {"itemsBackedUp", 1}}}};
    kube_.Put("velero.io", "backups", "ops", b);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polled every 5 ms
    b["status"] = {{"phase", "PartiallyFailed"},
                   {"errors", 2},
                   {"progress", {{"totalItems", 4}, {"itemsBackedUp", 4}}}};
    kube_.Put("velero.io", "backups", "ops", b);
  });
  CliRun r = Run({"backup", "create", "b1", "-n", "ops", "--wait"});
  server.join();
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("Backup request \"b1\" submitted successfully.\nWaiting for "
                               "backup to complete."));
  EXPECT_THAT(r.out, HasSubstr("Backing up 1/4 items (25%)\n"));
  EXPECT_THAT(r.out, HasSubstr("Backing up 4/4 items (100%)\n"));
  EXPECT_THAT(r.out, HasSubstr("Backup completed with status: PartiallyFailed."));
  EXPECT_THAT(r.err, HasSubstr("partially failed with 2 errors"));
}

TEST_F(ServerModeTest, GetShowsVelerosColumnsAndChecksItsFlags) {
  PutBackupObject("a1", "Completed", {{"app", "web"}});
  PutBackupObject("a2", "InProgress");
  nlohmann::json queued = kube_.Get("velero.io", "backups", "ops", "a2");
  queued["metadata"]["name"] = "a3";
  queued["status"] = {{"phase", "Queued"}, {"queuePosition", 2}};
  kube_.Put("velero.io", "backups", "ops", queued);
  CliRun r = Run({"backup", "get", "-n", "ops"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NAME   STATUS       ERRORS   WARNINGS   CREATED    "));
  EXPECT_THAT(r.out, HasSubstr("STORAGE LOCATION   QUEUE POSITION   SELECTOR\n"));
  EXPECT_THAT(r.out,
              HasSubstr("\na1     Completed    1        0          2026-11-26 12:00:00 +0000 "
                        "UTC   n/a       default                             <none>\n"));
  EXPECT_THAT(r.out, HasSubstr("\na2     InProgress   1"));
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("\na3 +Queued +0 +0 +<n/a> +n/a +default +2 +<none>\n"));
  CliRun sel = Run({"backup", "get", "-n", "ops", "-l", "app=web", "-o", "json"});
  ASSERT_EQ(sel.code, 0) << sel.err;
  nlohmann::json list = nlohmann::json::parse(sel.out);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "a1");

  CliRun missing = Run({"backup", "get", "nope", "-n", "ops"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("backups.velero.io \"nope\" not found in namespace ops"));
  CliRun bad_sel = Run({"backup", "get", "-n", "ops", "-l", "a in (b"});
  EXPECT_EQ(bad_sel.code, 1);
  EXPECT_THAT(bad_sel.err, HasSubstr("-l/--selector \"a in (b\""));
  CliRun bad_out = Run({"backup", "get", "-n", "ops", "-o", "xml"});
  EXPECT_EQ(bad_out.code, 1);
  EXPECT_THAT(bad_out.err, HasSubstr("-o xml: use table, json or yaml"));
  // Bad flags fail before asking the cluster: only the three good commands made requests.
  EXPECT_EQ(kube_.Requests().size(), 3u) << ::testing::PrintToString(kube_.Requests());
}

TEST_F(ServerModeTest, DeleteCreatesOneRequestPerBackupAfterConfirmation) {
  PutBackupObject("a1", "Completed");
  PutBackupObject("a2", "Completed");
  CliRun eof = Run({"backup", "delete", "a1", "-n", "ops"}, "");
  EXPECT_EQ(eof.code, 1);
  EXPECT_THAT(eof.out, HasSubstr("Are you sure you want to continue (Y/N)? "));
  EXPECT_THAT(eof.err, HasSubstr("pass --confirm"));
  CliRun no = Run({"backup", "delete", "a1", "-n", "ops"}, "maybe\nn\n");
  EXPECT_EQ(no.code, 0);
  EXPECT_THAT(no.out, HasSubstr("Nothing was deleted."));
  EXPECT_TRUE(kube_.Names("velero.io", "deletebackuprequests", "ops").empty());

  CliRun yes = Run({"backup", "delete", "--all", "-n", "ops"}, "y\n");
  ASSERT_EQ(yes.code, 0) << yes.err;
  EXPECT_THAT(yes.out, HasSubstr("Request to delete backup \"a1\" submitted successfully.\nThe "
                                 "backup will be fully deleted after all associated data (disk "
                                 "snapshots, backup files, restores) are removed.\n"));
  EXPECT_THAT(yes.out, HasSubstr("Request to delete backup \"a2\" submitted successfully."));
  std::vector<std::string> dbrs = kube_.Names("velero.io", "deletebackuprequests", "ops");
  ASSERT_EQ(dbrs.size(), 2u);
  nlohmann::json dbr = kube_.Get("velero.io", "deletebackuprequests", "ops", dbrs[0]);
  const std::string backup = dbr["spec"]["backupName"];
  EXPECT_THAT(dbrs[0], ::testing::StartsWith(backup + "-"));
  EXPECT_EQ(dbr["metadata"]["labels"]["velero.io/backup-name"], backup);
  EXPECT_EQ(dbr["metadata"]["labels"]["velero.io/backup-uid"],
            kube_.Get("velero.io", "backups", "ops", backup)["metadata"]["uid"]);

  CliRun none = Run({"backup", "delete", "-n", "ops"});
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("you must specify exactly one of"));
}

TEST_F(ServerModeTest, LogsOnlyOnceTheBackupHasFinished) {
  PutBackupObject("b1", "InProgress");
  CliRun r = Run({"backup", "logs", "b1", "-n", "ops"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("backup \"b1\" has no logs yet: it is InProgress"));
  EXPECT_TRUE(kube_.Names("velero.io", "downloadrequests", "ops").empty());
  CliRun missing = Run({"backup", "logs", "nope", "-n", "ops"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("backups.velero.io \"nope\" not found in namespace ops"));
  CliRun timeout = Run({"backup", "logs", "b1", "-n", "ops", "--timeout", "soon"});
  EXPECT_EQ(timeout.code, 1);
  EXPECT_THAT(timeout.err, HasSubstr("--timeout"));
}

TEST_F(ServerModeTest, LogsThroughTheDownloadRequestsUrl) {
  PutBackupObject("b1", "Completed");
  const std::filesystem::path log =
      PutStoreFile("backups/b1/b1-logs.gz", "level=info msg=\"hello\"\n", true);
  std::thread server([&] {
    for (int i = 0; i < 2000; ++i) {
      std::vector<std::string> names = kube_.Names("velero.io", "downloadrequests", "ops");
      if (!names.empty()) {
        nlohmann::json dr = kube_.Get("velero.io", "downloadrequests", "ops", names[0]);
        EXPECT_EQ(dr["spec"]["target"]["kind"], "BackupLog");
        EXPECT_EQ(dr["spec"]["target"]["name"], "b1");
        dr["status"] = {{"phase", "Processed"}, {"downloadURL", "file://" + log.string()}};
        kube_.Put("velero.io", "downloadrequests", "ops", dr);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  CliRun r = Run({"backup", "logs", "b1", "-n", "ops"});
  server.join();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "level=info msg=\"hello\"\n");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(kube_.Names("velero.io", "downloadrequests", "ops").empty());
  EXPECT_EQ(stores_.opened_bsl, "");
}

TEST_F(ServerModeTest, LogsFallBackToTheStoreWhenTheServerDoesNotAnswer) {
  PutBackupObject("b1", "Failed");
  PutLocation();
  PutStoreFile("backups/b1/b1-logs.gz", "level=error msg=\"boom\"\n", true);
  CliRun r = Run({"backup", "logs", "b1", "-n", "ops", "--timeout", "50ms"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "level=error msg=\"boom\"\n");
  EXPECT_THAT(r.err, HasSubstr("the server did not process DownloadRequest b1-"));
  EXPECT_THAT(r.err, HasSubstr("reading backups/b1/b1-logs.gz from backup storage location "
                               "\"default\""));
  EXPECT_EQ(stores_.opened_bsl, "default");
  EXPECT_TRUE(kube_.Names("velero.io", "downloadrequests", "ops").empty());

  PutBackupObject("b2", "Completed");
  CliRun none = Run({"backup", "logs", "b2", "-n", "ops", "--timeout", "20ms"});
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("backup \"b2\" has no logs in backup storage location "
                                  "\"default\""));
}

TEST_F(ServerModeTest, DownloadWritesTheTarballAndKeepsExistingFiles) {
  PutBackupObject("b1", "Completed");
  PutLocation();
  PutStoreFile("backups/b1/b1.tar.gz", "not really a tarball", false);
  const std::filesystem::path target = dir_ / "out.tgz";
  std::ofstream(target) << "keep me";
  CliRun kept = Run({"backup", "download", "b1", "-n", "ops", "-o", target.string()});
  EXPECT_EQ(kept.code, 1);
  EXPECT_THAT(kept.err, HasSubstr("already exists"));
  EXPECT_THAT(kept.err, HasSubstr("--force"));
  std::ifstream before(target);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(before), {}), "keep me");

  CliRun r = Run({"backup", "download", "b1", "-n", "ops", "-o", target.string(), "--force",
                  "--timeout", "20ms"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Backup b1 has been successfully downloaded to " + target.string() + "\n");
  std::ifstream after(target, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(after), {}), "not really a tarball");
}

TEST_F(ServerModeTest, DescribeDetailsReadsTheSideFiles) {
  PutBackupObject("b1", "PartiallyFailed");
  PutLocation();
  PutStoreFile("backups/b1/b1-resource-list.json.gz",
               R"({"v1/ConfigMap":["shop/a"]})"
               "\n",
               true);
  PutStoreFile("backups/b1/b1-results.gz",
               R"({"errors":{"velero":["oops"]},"warnings":{}})"
               "\n",
               true);
  CliRun r = Run({"backup", "describe", "b1", "-n", "ops", "--details", "--timeout", "20ms"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Name:         b1\n"));
  EXPECT_THAT(r.out, HasSubstr("Phase:  PartiallyFailed\n"));
  EXPECT_THAT(r.out, HasSubstr("Resource List:\n  v1/ConfigMap:\n    - shop/a\n"));
  EXPECT_THAT(r.out, HasSubstr("Errors:\n  Velero:\n    oops\n"));
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
