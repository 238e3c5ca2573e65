// Unit tests of the server-mode CLI commands (schedule, backup-location) and of cli/download.h.
// Flag validation and printing run through RunCli without a cluster; what talks to the cluster
// runs on FakeKube (the real kube::Client over an in-memory API server).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/cluster.h"
#include "cli/location_cmd.h"
#include "cli/schedule_cmd.h"
#include "common/clock.h"
#include "test/unit/controller/fake_kube.h"

namespace arca::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

CliRun Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "arca");
  std::ostringstream out;
  std::ostringstream err;
  CliRun r;
  r.code = RunCli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Selections and flags (GCC 12 warns on designated initializers that leave members out).
Selection Names(std::vector<std::string> names) {
  Selection s;
  s.names = std::move(names);
  return s;
}
Selection All() {
  Selection s;
  s.all = true;
  return s;
}
Selection Matching(std::string selector) {
  Selection s;
  s.selector = std::move(selector);
  return s;
}
LocationSetFlags SetFlags(std::string name, std::optional<bool> is_default,
                          std::vector<std::string> credential = {}, std::string access_mode = "") {
  LocationSetFlags f;
  f.name = std::move(name);
  f.is_default = is_default;
  f.credential = std::move(credential);
  f.access_mode = std::move(access_mode);
  return f;
}
LocationCreateFlags CreateFlags(std::string name, bool is_default) {
  LocationCreateFlags f;
  f.name = std::move(name);
  f.provider = "aws";
  f.bucket = "b";
  f.is_default = is_default;
  return f;
}

// --- schedule create: validation and -o without a cluster ------------------------------------

TEST(ScheduleCreateTest, BadCronNamesTheField) {
  CliRun r = Cli({"schedule", "create", "s", "--schedule", "61 * * * *", "-o", "json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--schedule: invalid schedule \"61 * * * *\": minute field"));
  EXPECT_THAT(r.err, HasSubstr("e.g. \"0 1 * * *\""));
  EXPECT_EQ(r.out, "");

  CliRun hour = Cli({"schedule", "create", "s", "--schedule", "0 25 * * *", "-o", "json"});
  EXPECT_EQ(hour.code, 1);
  EXPECT_THAT(hour.err, HasSubstr("hour field"));
  CliRun fields = Cli({"schedule", "create", "s", "--schedule", "0 0 * *", "-o", "json"});
  EXPECT_EQ(fields.code, 1);
  EXPECT_THAT(fields.err, HasSubstr("invalid schedule \"0 0 * *\""));
}

TEST(ScheduleCreateTest, MissingScheduleIsAnError) {
  CliRun r = Cli({"schedule", "create", "s", "-o", "yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--schedule is required"));
  CliRun blank = Cli({"schedule", "create", "s", "--schedule", "  ", "-o", "yaml"});
  EXPECT_EQ(blank.code, 1);
  EXPECT_THAT(blank.err, HasSubstr("--schedule is required"));
}

TEST(ScheduleCreateTest, OutputPrintsTheScheduleWithItsTemplate) {
  CliRun r = Cli({"schedule",  "create",
                  "nightly",   "-n",
                  "ns1",       "--schedule",
                  "0 1 * * *", "--include-namespaces",
                  "a,b",       "--exclude-resources",
                  "secrets",   "-l",
                  "app=web",   "--ttl",
                  "24h",       "--storage-location",
                  "loc",       "--labels",
                  "team=x",    "--annotations",
                  "note=hi",   "--use-owner-references-in-backup",
                  "--paused",  "-o",
                  "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["apiVersion"], "velero.io/v1");
  EXPECT_EQ(j["kind"], "Schedule");
  EXPECT_EQ(j["metadata"]["name"], "nightly");
  EXPECT_EQ(j["metadata"]["namespace"], "ns1");
  EXPECT_EQ(j["metadata"]["labels"]["team"], "x");
  EXPECT_EQ(j["metadata"]["annotations"]["note"], "hi");
  EXPECT_EQ(j["spec"]["schedule"], "0 1 * * *");
  EXPECT_EQ(j["spec"]["paused"], true);
  EXPECT_EQ(j["spec"]["useOwnerReferencesInBackup"], true);
  EXPECT_FALSE(j["spec"].contains("skipImmediately"));  // unset: the server's default
  const nlohmann::json& t = j["spec"]["template"];
  EXPECT_EQ(t["includedNamespaces"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(t["excludedResources"], nlohmann::json({"secrets"}));
  EXPECT_EQ(t["labelSelector"]["matchLabels"]["app"], "web");
  EXPECT_EQ(t["ttl"], "24h0m0s");
  EXPECT_EQ(t["storageLocation"], "loc");
}

TEST(ScheduleCreateTest, SkipImmediatelyTakesAnOptionalValue) {
  CliRun bare =
      Cli({"schedule", "create", "s", "--schedule", "@daily", "--skip-immediately", "-o", "json"});
  ASSERT_EQ(bare.code, 0) << bare.err;
  EXPECT_EQ(nlohmann::json::parse(bare.out)["spec"]["skipImmediately"], true);
  CliRun off = Cli({"schedule", "create", "s", "--schedule", "@daily", "--skip-immediately=false",
                    "-o", "json"});
  ASSERT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(nlohmann::json::parse(off.out)["spec"]["skipImmediately"], false);
}

TEST(ScheduleCreateTest, BadTemplateFlagsAndOutput) {
  CliRun ttl =
      Cli({"schedule", "create", "s", "--schedule", "@daily", "--ttl", "3 days", "-o", "json"});
  EXPECT_EQ(ttl.code, 1);
  EXPECT_THAT(ttl.err, HasSubstr("--ttl"));
  CliRun labels =
      Cli({"schedule", "create", "s", "--schedule", "@daily", "--labels", "novalue", "-o", "json"});
  EXPECT_EQ(labels.code, 1);
  EXPECT_THAT(labels.err, HasSubstr("--labels: \"novalue\" is not of the form key=value"));
  CliRun out = Cli({"schedule", "create", "s", "--schedule", "@daily", "-o", "table"});
  EXPECT_EQ(out.code, 1);
  EXPECT_THAT(out.err, HasSubstr("use json or yaml"));
}

TEST(SelectionTest, ExactlyOneOfNamesAllSelector) {
  EXPECT_TRUE(Names({"a"}).Validate("schedule").ok());
  EXPECT_TRUE(All().Validate("schedule").ok());
  EXPECT_TRUE(Matching("a=b").Validate("schedule").ok());
  Status none = Selection{}.Validate("schedule");
  EXPECT_THAT(none.message(), HasSubstr("you must specify exactly one of: specific schedule "
                                        "name(s), the --all flag, or the --selector flag"));
  Selection both = All();
  both.names = {"a"};
  EXPECT_FALSE(both.Validate("schedule").ok());
  EXPECT_THAT(Matching("a in (").Validate("schedule").message(),
              HasSubstr("-l/--selector \"a in (\""));
  // Through the CLI: refused before any cluster is contacted.
  CliRun r = Cli({"schedule", "pause"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("exactly one of"));
  CliRun d = Cli({"schedule", "delete", "a", "--all", "--confirm"});
  EXPECT_EQ(d.code, 1);
  EXPECT_THAT(d.err, HasSubstr("exactly one of"));
}

TEST(ConfirmationTest, AsksUntilYesOrNoAndRefusesWithoutInput) {
  std::istringstream yes("maybe\n  y \n");
  std::ostringstream out;
  EXPECT_EQ(AskConfirmation(yes, out), Confirmation::kYes);
  EXPECT_EQ(out.str(),
            "Are you sure you want to continue (Y/N)? Are you sure you want to continue (Y/N)? ");
  std::istringstream no("N\n");
  std::ostringstream out2;
  EXPECT_EQ(AskConfirmation(no, out2), Confirmation::kNo);
  std::istringstream eof("");
  std::ostringstream out3;
  EXPECT_EQ(AskConfirmation(eof, out3), Confirmation::kNoInput);

  std::ostringstream o;
  std::ostringstream e;
  CommandContext ctx{.out = o, .err = e};
  std::istringstream empty("");
  EXPECT_FALSE(ConfirmOrRefuse(false, empty, ctx));
  EXPECT_EQ(ctx.exit_code, 1);
  EXPECT_THAT(e.str(), HasSubstr("pass --confirm"));
  std::istringstream unused("");
  CommandContext ctx2{.out = o, .err = e};
  EXPECT_TRUE(ConfirmOrRefuse(true, unused, ctx2));
  EXPECT_EQ(ctx2.exit_code, 0);
}

// --- backup-location create: validation and -o -------------------------------------------------

TEST(LocationCreateTest, OutputPrintsTheLocation) {
  const std::string ca = ::testing::TempDir() + "/h3-ca.pem";
  {
    std::ofstream f(ca);
    f << "-----BEGIN CERTIFICATE-----\nabc\n";
  }
  CliRun r = Cli({"backup-location",
                  "create",
                  "minio",
                  "-n",
                  "ns1",
                  "--provider",
                  "aws",
                  "--bucket",
                  "/bk/",
                  "--prefix",
                  "p",
                  "--config",
                  "region=us-east-1,s3ForcePathStyle=true",
                  "--credential",
                  "cloud-credentials=cloud",
                  "--default",
                  "--access-mode",
                  "ReadOnly",
                  "--backup-sync-period",
                  "0s",
                  "--validation-frequency",
                  "90s",
                  "--cacert",
                  ca,
                  "--labels",
                  "a=b",
                  "-o",
                  "json"});
  std::remove(ca.c_str());
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "BackupStorageLocation");
  EXPECT_EQ(j["metadata"]["namespace"], "ns1");
  EXPECT_EQ(j["metadata"]["labels"]["a"], "b");
  const nlohmann::json& s = j["spec"];
  EXPECT_EQ(s["provider"], "aws");
  EXPECT_EQ(s["objectStorage"]["bucket"], "bk");
  EXPECT_EQ(s["objectStorage"]["prefix"], "p");
  EXPECT_EQ(s["objectStorage"]["caCert"], "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmFiYwo=");
  EXPECT_EQ(s["config"]["region"], "us-east-1");
  EXPECT_EQ(s["config"]["s3ForcePathStyle"], "true");
  EXPECT_EQ(s["credential"], nlohmann::json({{"name", "cloud-credentials"}, {"key", "cloud"}}));
  EXPECT_EQ(s["default"], true);
  EXPECT_EQ(s["accessMode"], "ReadOnly");
  EXPECT_EQ(s["backupSyncPeriod"], "0s");
  EXPECT_EQ(s["validationFrequency"], "1m30s");

  CliRun plain = Cli({"backup-location", "create", "b", "--provider", "filesystem", "--bucket", "x",
                      "-o", "json"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  nlohmann::json p = nlohmann::json::parse(plain.out);
  EXPECT_EQ(p["spec"]["accessMode"], "ReadWrite");  // Velero's CLI default
  EXPECT_FALSE(p["spec"].contains("backupSyncPeriod"));
  EXPECT_FALSE(p["spec"].contains("credential"));
}

TEST(LocationCreateTest, BadValuesAreClearErrors) {
  auto err = [](std::vector<std::string> extra) {
    std::vector<std::string> args = {"backup-location", "create", "x", "-o", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CliRun r = Cli(args);
    EXPECT_EQ(r.code, 1) << r.out;
    return r.err;
  };
  EXPECT_THAT(err({"--bucket", "b"}), HasSubstr("--provider is required"));
  EXPECT_THAT(err({"--provider", "aws"}), HasSubstr("--bucket is required"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b/sub"}),
              HasSubstr("must not contain '/'; put the path inside the bucket in --prefix"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--access-mode", "WriteOnly"}),
              HasSubstr("--access-mode \"WriteOnly\" is not an access mode: use ReadWrite or "
                        "ReadOnly"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--credential", "cloud"}),
              HasSubstr("--credential \"cloud\" is not of the form SECRET=KEY"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--credential", "s="}),
              HasSubstr("is not of the form SECRET=KEY"));
  EXPECT_THAT(
      err({"--provider", "aws", "--bucket", "b", "--credential", "a=b", "--credential", "c=d"}),
      HasSubstr("--credential takes exactly one SECRET=KEY pair, got 2"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--backup-sync-period", "often"}),
              HasSubstr("--backup-sync-period \"often\""));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--validation-frequency", "-1m"}),
              HasSubstr("--validation-frequency \"-1m\" must not be negative"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--config", "region"}),
              HasSubstr("--config: \"region\" is not of the form key=value"));
  EXPECT_THAT(err({"--provider", "aws", "--bucket", "b", "--cacert", "/no/such/file.pem"}),
              HasSubstr("--cacert /no/such/file.pem: cannot read the file"));
}

// --- on an in-memory API server -------------------------------------------------------------

class ServerCmdsTest : public ::testing::Test {
 protected:
  nlohmann::json Bsl(const std::string& name, bool is_default) {
    return {{"apiVersion", "velero.io/v1"},
            {"kind", "BackupStorageLocation"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"provider", "aws"}, {"default", is_default}, {"objectStorage", {{"bucket", "b"}}}}}};
  }
  void PutBsl(const std::string& name, bool is_default) {
    fake_.Put("velero.io", "backupstoragelocations", "velero", Bsl(name, is_default));
  }
  bool DefaultOf(const std::string& name) {
    return fake_.Get("velero.io", "backupstoragelocations", "velero", name)["spec"].value("default",
                                                                                          false);
  }
  void PutSchedule(const std::string& name, bool paused,
                   const std::map<std::string, std::string>& labels = {}) {
    nlohmann::json meta = {{"name", name}};
    if (!labels.empty()) {
      meta["labels"] = labels;
    }
    fake_.Put("velero.io", "schedules", "velero",
              {{"apiVersion", "velero.io/v1"},
               {"kind", "Schedule"},
               {"metadata", meta},
               {"spec", {{"schedule", "@daily"}, {"paused", paused}}}});
  }
  nlohmann::json ScheduleSpec(const std::string& name) {
    return fake_.Get("velero.io", "schedules", "velero", name)["spec"];
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  controller::testing::FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = controller::testing::FakeKube::Connect(fake_, clock_);
  VeleroClient client_{conn_->client(), "velero", clock_};
  std::ostringstream out_;
  std::ostringstream err_;
  CommandContext ctx_{.out = out_, .err = err_};
};

TEST_F(ServerCmdsTest, CreateDefaultClearsTheOtherDefaults) {
  PutBsl("old", true);
  PutBsl("other", false);
  LocationCreateFlags f = CreateFlags("new", true);
  Result<nlohmann::json> bsl = BuildLocation(f, "velero");
  ASSERT_TRUE(bsl.ok()) << bsl.status().message();
  ASSERT_TRUE(CreateLocation(client_, *bsl, out_).ok());
  EXPECT_TRUE(DefaultOf("new"));
  EXPECT_FALSE(DefaultOf("old"));
  EXPECT_FALSE(DefaultOf("other"));
  EXPECT_THAT(out_.str(), HasSubstr("Backup storage location \"new\" configured successfully."));
  EXPECT_THAT(out_.str(), HasSubstr("\"old\" is no longer the default"));

  // A location that is not the default leaves the default alone.
  LocationCreateFlags g = CreateFlags("plain", false);
  ASSERT_TRUE(CreateLocation(client_, *BuildLocation(g, "velero"), out_).ok());
  EXPECT_TRUE(DefaultOf("new"));
  // The name is taken: nothing else changes.
  Status again = CreateLocation(client_, *BuildLocation(f, "velero"), out_);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(DefaultOf("new"));
}

TEST_F(ServerCmdsTest, SetMovesTheDefaultAndPatchesOnlyWhatIsGiven) {
  PutBsl("a", true);
  PutBsl("b", false);
  ASSERT_TRUE(SetLocation(client_, SetFlags("b", true), out_).ok());
  EXPECT_TRUE(DefaultOf("b"));
  EXPECT_FALSE(DefaultOf("a"));
  ASSERT_TRUE(
      SetLocation(client_, SetFlags("b", std::nullopt, {"sec=key"}, "ReadOnly"), out_).ok());
  nlohmann::json b = fake_.Get("velero.io", "backupstoragelocations", "velero", "b");
  EXPECT_EQ(b["spec"]["accessMode"], "ReadOnly");
  EXPECT_EQ(b["spec"]["credential"], nlohmann::json({{"name", "sec"}, {"key", "key"}}));
  EXPECT_EQ(b["spec"]["default"], true);  // untouched
  EXPECT_EQ(b["spec"]["objectStorage"]["bucket"], "b");
  ASSERT_TRUE(SetLocation(client_, SetFlags("b", false), out_).ok());
  EXPECT_FALSE(DefaultOf("b"));
  EXPECT_FALSE(DefaultOf("a"));  // --default=false does not pick another one

  Status nothing = SetLocation(client_, SetFlags("b", std::nullopt), out_);
  EXPECT_THAT(nothing.message(), HasSubstr("nothing to change"));
  Status bad = SetLocation(client_, SetFlags("b", std::nullopt, {}, "rw"), out_);
  EXPECT_THAT(bad.message(), HasSubstr("use ReadWrite or ReadOnly"));
  PutBsl("c", true);
  Status missing = SetLocation(client_, SetFlags("nope", true), out_);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("\"nope\" not found in namespace velero"));
  EXPECT_TRUE(DefaultOf("c"));  // a failed set moves nothing
}

TEST_F(ServerCmdsTest, DeleteLocationDeletesItsBackupsButNotRestoresOrOtherBackups) {
  PutBsl("gone", false);
  PutBsl("kept", true);
  auto backup = [&](const std::string& name, const std::string& location) {
    fake_.Put(
        "velero.io", "backups", "velero",
        {{"apiVersion", "velero.io/v1"},
         {"kind", "Backup"},
         {"metadata", {{"name", name}, {"labels", {{"velero.io/storage-location", location}}}}}});
  };
  backup("b1", "gone");
  backup("b2", "gone");
  backup("b3", "kept");
  fake_.Put("velero.io", "restores", "velero",
            {{"apiVersion", "velero.io/v1"},
             {"kind", "Restore"},
             {"metadata", {{"name", "r1"}}},
             {"spec", {{"backupName", "b1"}}}});
  DeleteLocations(client_, Names({"gone", "missing"}), ctx_);
  EXPECT_EQ(ctx_.exit_code, 1);  // "missing" is reported
  EXPECT_THAT(err_.str(), HasSubstr("\"missing\" not found in namespace velero"));
  EXPECT_THAT(fake_.Names("velero.io", "backupstoragelocations", "velero"), ElementsAre("kept"));
  EXPECT_THAT(fake_.Names("velero.io", "backups", "velero"), ElementsAre("b3"));
  EXPECT_THAT(fake_.Names("velero.io", "restores", "velero"), ElementsAre("r1"));
  EXPECT_THAT(out_.str(), HasSubstr("Backup storage location \"gone\" deleted successfully.\n"));
  EXPECT_THAT(out_.str(),
              HasSubstr("Backup associated with deleted BSL(s) \"b1\" deleted successfully.\n"));
}

TEST_F(ServerCmdsTest, PauseAndUnpauseSetSpecPaused) {
  PutSchedule("a", false, {{"team", "x"}});
  PutSchedule("b", false, {{"team", "x"}});
  PutSchedule("c", true);
  SetSchedulesPaused(client_, Matching("team=x"), true, std::nullopt, ctx_);
  EXPECT_EQ(ctx_.exit_code, 0) << err_.str();
  EXPECT_EQ(ScheduleSpec("a")["paused"], true);
  EXPECT_EQ(ScheduleSpec("b")["paused"], true);
  EXPECT_THAT(out_.str(), HasSubstr("Schedule a paused successfully\n"));

  SetSchedulesPaused(client_, Names({"c"}), true, std::nullopt, ctx_);
  EXPECT_THAT(err_.str(), HasSubstr("Schedule c is already paused, skip"));

  SetSchedulesPaused(client_, Names({"a"}), false, true, ctx_);
  EXPECT_EQ(ScheduleSpec("a")["paused"], false);
  EXPECT_EQ(ScheduleSpec("a")["skipImmediately"], true);
  EXPECT_EQ(ScheduleSpec("b")["paused"], true);
  // Without --skip-immediately, unpausing clears it (Velero patches it to nil).
  SetSchedulesPaused(client_, Names({"a"}), true, std::nullopt, ctx_);
  EXPECT_FALSE(ScheduleSpec("a").contains("skipImmediately"));

  SetSchedulesPaused(client_, All(), false, std::nullopt, ctx_);
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_EQ(ScheduleSpec(n)["paused"], false) << n;
  }
  EXPECT_EQ(ctx_.exit_code, 0);
  SetSchedulesPaused(client_, Names({"zz"}), true, std::nullopt, ctx_);
  EXPECT_EQ(ctx_.exit_code, 1);
  EXPECT_THAT(err_.str(), HasSubstr("schedules.velero.io \"zz\" not found in namespace velero"));
}

TEST_F(ServerCmdsTest, DeleteSchedulesBySelectorAndName) {
  PutSchedule("a", false, {{"team", "x"}});
  PutSchedule("b", false);
  PutSchedule("c", false);
  DeleteSchedules(client_, Matching("team=x"), ctx_);
  EXPECT_THAT(fake_.Names("velero.io", "schedules", "velero"), ElementsAre("b", "c"));
  EXPECT_THAT(out_.str(), HasSubstr("Schedule deleted: a\n"));
  DeleteSchedules(client_, Names({"c"}), ctx_);
  EXPECT_THAT(fake_.Names("velero.io", "schedules", "velero"), ElementsAre("b"));
  DeleteSchedules(client_, Matching("team=none"), ctx_);
  EXPECT_THAT(out_.str(), HasSubstr("No schedules found\n"));
  EXPECT_EQ(ctx_.exit_code, 0);
}

TEST_F(ServerCmdsTest, CreateScheduleChecksTheStorageLocation) {
  ScheduleCreateFlags f;
  f.name = "s";
  f.schedule = "@every 1h";
  f.spec.storage_location = "nope";
  Result<nlohmann::json> s = BuildSchedule(f, "velero");
  ASSERT_TRUE(s.ok());
  Result<nlohmann::json> r = CreateSchedule(client_, *s);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("--storage-location: backupstoragelocations"));
  PutBsl("nope", false);
  ASSERT_TRUE(CreateSchedule(client_, *s).ok());
  EXPECT_EQ(ScheduleSpec("s")["schedule"], "@every 1h");
}

// --- printing ----------------------------------------------------------------------------------

nlohmann::json ScheduleJson(const std::string& cron, const std::string& created,
                            const std::string& last_backup, bool paused = false) {
  nlohmann::json j = {{"apiVersion", "velero.io/v1"},
                      {"kind", "Schedule"},
                      {"metadata",
                       {{"name", "s"},
                        {"namespace", "velero"},
                        {"creationTimestamp", created},
                        {"labels", {{"a", "1"}, {"b", "2"}}}}},
                      {"spec",
                       {{"schedule", cron},
                        {"paused", paused},
                        {"template",
                         {{"includedNamespaces", {"app"}},
                          {"ttl", "1h0m0s"},
                          {"labelSelector", {{"matchLabels", {{"x", "y"}}}}}}}}},
                      {"status", {{"phase", "Enabled"}}}};
  if (!last_backup.empty()) {
    j["status"]["lastBackup"] = last_backup;
  }
  return j;
}

std::chrono::system_clock::time_point At(const std::string& rfc3339) {
  return *kube::ParseRfc3339(rfc3339);
}

TEST(SchedulePrintTest, NextRunFollowsTheLastBackupOrTheCreationTime) {
  // Hourly at :30; last backup at 10:30, now 10:45: next 11:30.
  EXPECT_EQ(NextRunText(ScheduleJson("30 * * * *", "2026-11-26T08:00:00Z", "2026-11-26T10:30:02Z"),
                        At("2026-11-26T10:45:00Z")),
            "2026-11-26 11:30:00 +0000 UTC");
  // No backup yet: from the creation time.
  EXPECT_EQ(NextRunText(ScheduleJson("0 3 * * *", "2026-11-26T08:00:00Z", ""),
                        At("2026-11-26T09:00:00Z")),
            "2026-11-27 03:00:00 +0000 UTC");
  // @every counts from the last backup.
  EXPECT_EQ(NextRunText(ScheduleJson("@every 5s", "2026-11-26T08:00:00Z", "2026-11-26T08:00:10Z"),
                        At("2026-11-26T08:00:12Z")),
            "2026-11-26 08:00:15 +0000 UTC");
  // Overdue (the server was down): due now, at the next reconcile.
  EXPECT_EQ(NextRunText(ScheduleJson("0 3 * * *", "2026-11-20T08:00:00Z", "2026-11-21T03:00:00Z"),
                        At("2026-11-26T09:00:00Z")),
            "2026-11-22 03:00:00 +0000 UTC (due: the server runs it at its next reconcile)");
  EXPECT_EQ(NextRunText(ScheduleJson("0 3 * * *", "2026-11-26T08:00:00Z", "", true),
                        At("2026-11-26T09:00:00Z")),
            "<paused>");
  EXPECT_EQ(NextRunText(ScheduleJson("0 3 30 2 *", "2026-11-26T08:00:00Z", ""),
                        At("2026-11-26T09:00:00Z")),
            "<none>");
  EXPECT_EQ(
      NextRunText(ScheduleJson("bad", "2026-11-26T08:00:00Z", ""), At("2026-11-26T09:00:00Z")),
      "<invalid schedule>");
}

TEST(SchedulePrintTest, TableHasVeleroColumns) {
  std::ostringstream out;
  PrintScheduleTable(out,
                     {ScheduleJson("0 3 * * *", "2026-11-26T08:00:00Z", "2026-11-26T08:30:00Z"),
                      ScheduleJson("@every 5s", "2026-11-26T08:00:00Z", "", true)},
                     At("2026-11-26T09:00:00Z"));
  std::istringstream lines(out.str());
  std::string header;
  std::string row1;
  std::string row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_THAT(header, ::testing::MatchesRegex("NAME +STATUS +CREATED +SCHEDULE +BACKUP TTL +LAST "
                                              "BACKUP +SELECTOR +PAUSED"));
  EXPECT_THAT(row1, ::testing::MatchesRegex("s +Enabled +2026-11-26 08:00:00 \\+0000 UTC +0 3 \\* "
                                            "\\* \\* +1h0m0s +30m ago +x=y +false"));
  EXPECT_THAT(row2, HasSubstr("n/a"));
  EXPECT_THAT(row2, ::testing::EndsWith("true"));
}

TEST(SchedulePrintTest, DescribeIsAlignedAsVelero) {
  std::ostringstream out;
  DescribeSchedule(out, ScheduleJson("30 * * * *", "2026-11-26T08:00:00Z", "2026-11-26T10:30:02Z"),
                   At("2026-11-26T10:45:00Z"));
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("Name:         s\n"
                              "Namespace:    velero\n"
                              "Labels:       a=1\n"
                              "              b=2\n"
                              "Annotations:  <none>\n"
                              "\n"
                              "Phase:  Enabled\n"
                              "\n"
                              "Paused:  false\n"
                              "\n"
                              "Schedule:  30 * * * *\n"
                              "\n"
                              "Backup Template:\n"
                              "  Namespaces:\n"
                              "    Included:  app\n"
                              "    Excluded:  <none>\n"));
  EXPECT_THAT(text, HasSubstr("  Label selector:  x=y\n"));
  EXPECT_THAT(text, HasSubstr("  TTL:  1h0m0s\n"));
  EXPECT_THAT(text, HasSubstr("Last Backup:  2026-11-26 10:30:02 +0000 UTC\n"
                              "Next Run:     2026-11-26 11:30:00 +0000 UTC\n"));
  EXPECT_THAT(text, Not(HasSubstr("\t")));
}

TEST(LocationPrintTest, TableHasVeleroColumns) {
  std::ostringstream out;
  PrintLocationTable(
      out, {{{"apiVersion", "velero.io/v1"},
             {"kind", "BackupStorageLocation"},
             {"metadata", {{"name", "default"}}},
             {"spec",
              {{"provider", "aws"},
               {"default", true},
               {"objectStorage", {{"bucket", "bk"}, {"prefix", "p"}}}}},
             {"status", {{"phase", "Available"}, {"lastValidationTime", "2026-11-26T08:00:00Z"}}}},
            {{"apiVersion", "velero.io/v1"},
             {"kind", "BackupStorageLocation"},
             {"metadata", {{"name", "ro"}}},
             {"spec",
              {{"provider", "filesystem"},
               {"accessMode", "ReadOnly"},
               {"objectStorage", {{"bucket", "b2"}}}}}}});
  EXPECT_EQ(out.str(),
            "NAME      PROVIDER     BUCKET/PREFIX   PHASE       LAST VALIDATED                  "
            "ACCESS MODE   DEFAULT\n"
            "default   aws          bk/p            Available   2026-11-26 08:00:00 +0000 UTC   "
            "ReadWrite     true\n"
            "ro        filesystem   b2              Unknown     Unknown                         "
            "ReadOnly      \n");
}

}  // namespace
}  // namespace arca::cli
