// The backup-sync controller against FakeKube and a filesystem object store in a temporary
// directory.
#include "controller/backup_sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_kube.h"
#include "objstore/fs_store.h"

namespace arca::controller {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FakeKube;
using ::testing::UnorderedElementsAre;

constexpr char kNs[] = "velero";
constexpr char kVelero[] = "velero.io";

class DirStores : public LocationStores {
 public:
  explicit DirStores(std::filesystem::path root) : root_(std::move(root)) {}
  Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation& bsl) override {
    ++opened;
    ASSIGN_OR_RETURN(auto store, objstore::FsStore::Open(root_ / bsl.metadata.name, true));
    return objstore::ObjectStorePtr(std::move(store));
  }
  int opened = 0;

 private:
  std::filesystem::path root_;
};

class BackupSyncTest : public ::testing::Test {
 protected:
  BackupSyncTest() {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  static std::filesystem::path TestDir() {
    return std::filesystem::temp_directory_path() /
           ("backup-sync-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  ~BackupSyncTest() override { std::filesystem::remove_all(root_); }

  // 2026-11-18T11:06:40Z
  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = FakeKube::Connect(fake_, clock_);
  kube::Client& client_ = conn_->client();
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
  const std::filesystem::path root_ = TestDir();
  DirStores stores_{root_};
  BackupSyncReconciler reconciler_{client_, kNs, clock_, log_, stores_, seconds(30)};

  void AddLocation(const std::string& name, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json bsl = {
        {"metadata", {{"name", name}}},
        {"spec", {{"provider", "filesystem"}, {"objectStorage", {{"bucket", "b"}}}}},
        {"status", {{"phase", "Available"}}}};
    bsl.merge_patch(extra);
    fake_.Put(kVelero, "backupstoragelocations", kNs, bsl);
  }
  // Writes backups/<name>/velero-backup.json in `location`'s store.
  void Store(const std::string& location, const std::string& name, nlohmann::json backup) {
    const auto dir = root_ / location / "backups" / name;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "velero-backup.json") << backup.dump();
  }
  static nlohmann::json StoredBackup(const std::string& name, const std::string& phase) {
    return {{"apiVersion", "velero.io/v1"},
            {"kind", "Backup"},
            {"metadata",
             {{"name", name},
              {"namespace", "other-velero"},
              {"uid", "old-uid"},
              {"resourceVersion", "42"},
              {"labels", {{"velero.io/storage-location", "elsewhere"}}}}},
            {"spec", {{"storageLocation", "elsewhere"}, {"includedNamespaces", {"shop"}}}},
            {"status", {{"phase", phase}, {"expiration", "2026-12-01T00:00:00Z"}}}};
  }
  std::vector<std::string> Backups() { return fake_.Names(kVelero, "backups", kNs); }
};

TEST_F(BackupSyncTest, CreatesMissingBackupsFromTheStoreAndRecordsTheSync) {
  AddLocation("primary");
  Store("primary", "b1", StoredBackup("b1", "Completed"));
  nlohmann::json owned = StoredBackup("b2", "PartiallyFailed");
  owned["metadata"]["ownerReferences"] = {
      {{"apiVersion", "velero.io/v1"}, {"kind", "Schedule"}, {"name", "gone"}, {"uid", "u1"}},
      {{"apiVersion", "velero.io/v1"}, {"kind", "Schedule"}, {"name", "daily"}, {"uid", "u2"}}};
  Store("primary", "b2", owned);
  fake_.Put(kVelero, "schedules", kNs, {{"metadata", {{"name", "daily"}, {"uid", "u2"}}}});
  Store("primary", "half", StoredBackup("half", "WaitingForPluginOperations"));  // not expired
  std::filesystem::create_directories(root_ / "primary" / "backups" / "nojson");
  std::ofstream(root_ / "primary" / "backups" / "nojson" / "nojson.tar.gz") << "x";

  auto res = reconciler_.Reconcile("primary");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_THAT(Backups(), UnorderedElementsAre("b1", "b2"));
  const nlohmann::json b1 = fake_.Get(kVelero, "backups", kNs, "b1");
  EXPECT_EQ(b1["metadata"]["namespace"], kNs);
  EXPECT_NE(b1["metadata"]["uid"], "old-uid");
  EXPECT_EQ(b1["metadata"]["labels"]["velero.io/storage-location"], "primary");
  EXPECT_EQ(b1["spec"]["storageLocation"], "primary");
  EXPECT_EQ(b1["spec"]["includedNamespaces"], nlohmann::json({"shop"}));
  EXPECT_EQ(b1["status"]["phase"], "Completed");
  const nlohmann::json b2 = fake_.Get(kVelero, "backups", kNs, "b2");
  ASSERT_EQ(b2["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(b2["metadata"]["ownerReferences"][0]["name"], "daily");
  EXPECT_EQ(
      fake_.Get(kVelero, "backupstoragelocations", kNs, "primary")["status"]["lastSyncedTime"],
      "2026-11-18T11:06:40Z");
  EXPECT_EQ(res->requeue_after, seconds(30));

  // Not due again before the period: the store is not even opened.
  const int opened = stores_.opened;
  clock_.Advance(seconds(10));
  auto early = reconciler_.Reconcile("primary");
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(stores_.opened, opened);
  EXPECT_EQ(early->requeue_after, seconds(20));

  // Once the in-flight backup expired it is synced as PartiallyFailed.
  clock_.Advance(std::chrono::hours(24 * 14));
  ASSERT_TRUE(reconciler_.Reconcile("primary").ok());
  EXPECT_EQ(fake_.Get(kVelero, "backups", kNs, "half")["status"]["phase"], "PartiallyFailed");
}

TEST_F(BackupSyncTest, DeletesFinishedBackupsOfTheLocationWhoseDataIsGone) {
  AddLocation("primary");
  Store("primary", "kept", StoredBackup("kept", "Completed"));
  auto put = [&](const std::string& name, const std::string& location, const std::string& phase) {
    fake_.Put(
        kVelero, "backups", kNs,
        {{"metadata", {{"name", name}, {"labels", {{"velero.io/storage-location", location}}}}},
         {"status", {{"phase", phase}}}});
  };
  put("kept", "primary", "Completed");
  put("lost", "primary", "Completed");
  put("lost-partial", "primary", "PartiallyFailed");
  put("running", "primary", "InProgress");
  put("failed", "primary", "Failed");
  put("other", "secondary", "Completed");
  ASSERT_TRUE(reconciler_.Reconcile("primary").ok());
  EXPECT_THAT(Backups(), UnorderedElementsAre("kept", "running", "failed", "other"));
}

TEST_F(BackupSyncTest, UnavailableOrDisabledLocationsAreNotSynced) {
  AddLocation("down", {{"status", {{"phase", "Unavailable"}}}});
  Store("down", "b1", StoredBackup("b1", "Completed"));
  AddLocation("off", {{"spec", {{"backupSyncPeriod", "0s"}}}});
  Store("off", "b2", StoredBackup("b2", "Completed"));
  ASSERT_TRUE(reconciler_.Reconcile("down").ok());
  ASSERT_TRUE(reconciler_.Reconcile("off").ok());
  EXPECT_TRUE(Backups().empty());
  EXPECT_EQ(stores_.opened, 0);
  EXPECT_TRUE(reconciler_.Reconcile("missing").ok());

  // A ReadOnly location is synced (nothing in the store changes).
  AddLocation("ro", {{"spec", {{"accessMode", "ReadOnly"}}}});
  Store("ro", "b3", StoredBackup("b3", "Completed"));
  ASSERT_TRUE(reconciler_.Reconcile("ro").ok());
  EXPECT_THAT(Backups(), ElementsAre("b3"));
}

}  // namespace
}  // namespace arca::controller
