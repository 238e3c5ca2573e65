// The backup controller's decisions that do not run the engine (validation, the location, crash
// safety), on FakeKube. Running backups end to end is covered by the server integration tests.
#include "controller/backup_controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "fake_kube.h"

namespace arca::controller {
namespace {

using testing::FakeKube;
using ::testing::HasSubstr;

constexpr char kNs[] = "velero";
constexpr char kVelero[] = "velero.io";

class NoStores : public LocationStores {
 public:
  Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation&) override {
    ++opened;
    return UnavailableError("no store in this test");
  }
  int opened = 0;
};

class BackupControllerTest : public ::testing::Test {
 protected:
  void AddBsl(const std::string& name, nlohmann::json spec, const std::string& phase) {
    spec["provider"] = "aws";
    spec["objectStorage"] = {{"bucket", "b"}};
    fake_.Put(kVelero, "backupstoragelocations", kNs,
              {{"metadata", {{"name", name}}}, {"spec", spec}, {"status", {{"phase", phase}}}});
  }
  void AddBackup(const std::string& name, nlohmann::json spec,
                 nlohmann::json status = nlohmann::json::object()) {
    nlohmann::json b = {{"metadata", {{"name", name}}}, {"spec", spec}};
    if (!status.empty()) {
      b["status"] = status;
    }
    fake_.Put(kVelero, "backups", kNs, b);
  }
  nlohmann::json Backup(const std::string& name) {
    return fake_.Get(kVelero, "backups", kNs, name);
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = FakeKube::Connect(fake_, clock_);
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
  NoStores stores_;
  ServerMetrics metrics_;
  BackupReconciler r_{conn_->client(), kNs, clock_, log_, stores_, metrics_, {}};
};

TEST_F(BackupControllerTest, ABackupLeftInProgressIsFailedWithAReason) {
  AddBackup("killed", {{"storageLocation", "default"}}, {{"phase", "InProgress"}});
  ASSERT_TRUE(r_.Reconcile("killed").ok());
  nlohmann::json b = Backup("killed");
  EXPECT_EQ(b["status"]["phase"], "Failed");
  EXPECT_THAT(b["status"]["failureReason"].get<std::string>(),
              HasSubstr("server stopped while this backup was in progress"));
  EXPECT_EQ(b["status"]["completionTimestamp"], "2026-11-18T11:06:40Z");
  EXPECT_EQ(metrics_.registry().Value("velero_backup_failure_total", {""}), 1);
}

TEST_F(BackupControllerTest, FinishedBackupsAreLeftAlone) {
  AddBackup("done", {}, {{"phase", "Completed"}});
  const std::string before = Backup("done").dump();
  ASSERT_TRUE(r_.Reconcile("done").ok());
  EXPECT_EQ(Backup("done").dump(), before);
  EXPECT_TRUE(r_.Reconcile("missing").ok());
}

TEST_F(BackupControllerTest, BehindTheQueueOnlyReadyToStartBackupsStart) {
  BackupReconciler queued{conn_->client(), kNs, clock_, log_, stores_, metrics_, {}, true};
  AddBsl("default", {}, "Unavailable");
  AddBackup("new", {}, {{"phase", "New"}});
  AddBackup("waiting", {}, {{"phase", "Queued"}, {"queuePosition", 1}});
  AddBackup("ready", {}, {{"phase", "ReadyToStart"}});
  const std::string new_before = Backup("new").dump();
  ASSERT_TRUE(queued.Reconcile("new").ok());
  ASSERT_TRUE(queued.Reconcile("waiting").ok());
  ASSERT_TRUE(queued.Reconcile("ready").ok());
  EXPECT_EQ(Backup("new").dump(), new_before);  // the queue's to move, not the controller's
  EXPECT_EQ(Backup("waiting")["status"]["phase"], "Queued");
  // Taken up (and here refused, its location being unavailable).
  EXPECT_EQ(Backup("ready")["status"]["phase"], "FailedValidation");
  // Without the queue, a New backup is taken up directly.
  ASSERT_TRUE(r_.Reconcile("new").ok());
  EXPECT_EQ(Backup("new")["status"]["phase"], "FailedValidation");
}

TEST_F(BackupControllerTest, LocationProblemsAndBadSpecsEndFailedValidationWithEveryReason) {
  AddBsl("ro", {{"accessMode", "ReadOnly"}}, "Available");
  AddBsl("down", nlohmann::json::object(), "Unavailable");
  AddBackup("b-ro", {{"storageLocation", "ro"}});
  AddBackup("b-down", {{"storageLocation", "down"}});
  AddBackup("b-none", {{"storageLocation", "nowhere"}});
  AddBackup("b-default", nlohmann::json::object());
  AddBackup("b-both", {{"storageLocation", "ro"},
                       {"labelSelector", {{"matchLabels", {{"a", "b"}}}}},
                       {"orLabelSelectors", {{{"matchLabels", {{"c", "d"}}}}}}});
  for (const char* n : {"b-ro", "b-down", "b-none", "b-default", "b-both"}) {
    ASSERT_TRUE(r_.Reconcile(n).ok()) << n;
    EXPECT_EQ(Backup(n)["status"]["phase"], "FailedValidation") << n;
  }
  auto first = [&](const char* n) {
    return Backup(n)["status"]["validationErrors"][0].get<std::string>();
  };
  EXPECT_EQ(first("b-ro"),
            "backup can't be created because backup storage location ro is currently in "
            "read-only mode");
  EXPECT_THAT(first("b-down"), HasSubstr("location down is not available"));
  EXPECT_THAT(first("b-none"), HasSubstr("(nowhere) needs to be created"));
  EXPECT_THAT(first("b-default"), HasSubstr("the server default 'default' doesn't exist"));
  EXPECT_EQ(Backup("b-default")["spec"]["storageLocation"], "default");
  EXPECT_GE(Backup("b-both")["status"]["validationErrors"].size(), 2u) << Backup("b-both").dump();
  EXPECT_EQ(stores_.opened, 0) << "nothing is opened for an invalid backup";
  EXPECT_EQ(metrics_.registry().Value("velero_backup_validation_failure_total", {""}), 5);
}

TEST_F(BackupControllerTest, TheDefaultLocationIsTheOneMarkedDefault) {
  AddBsl("main", {{"default", true}}, "Available");
  AddBackup("b", nlohmann::json::object());
  ASSERT_TRUE(r_.Reconcile("b").ok());
  nlohmann::json b = Backup("b");
  EXPECT_EQ(b["spec"]["storageLocation"], "main");
  EXPECT_EQ(b["metadata"]["labels"]["velero.io/storage-location"], "main");
  // The store cannot be opened here: the backup ends Failed with that reason, after InProgress.
  EXPECT_EQ(b["status"]["phase"], "Failed");
  EXPECT_THAT(b["status"]["failureReason"].get<std::string>(), HasSubstr("no store in this test"));
  EXPECT_EQ(b["status"]["startTimestamp"], "2026-11-18T11:06:40Z");
  EXPECT_EQ(b["status"]["expiration"], "2026-12-18T11:06:40Z") << "720h by default";
  EXPECT_EQ(metrics_.registry().Value("velero_backup_attempt_total", {""}), 1);
  EXPECT_EQ(metrics_.registry().Value("velero_backup_failure_total", {""}), 1);
  EXPECT_THAT(fake_.Requests(), ::testing::Contains("GET /version"));
}

}  // namespace
}  // namespace arca::controller
