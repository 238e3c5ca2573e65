// The restore controller's decisions that do not run the engine (validation, schedules, the
// finalizer, crash safety), on FakeKube and FakeObjectStore. Restores end to end are covered by
// the server integration tests.
#include "controller/restore_controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "fake_kube.h"
#include "test/fakes/fake_object_store.h"

namespace arca::controller {
namespace {

using objstore::testing::FakeObjectStore;
using ::testing::ElementsAre;
using testing::FakeKube;
using ::testing::HasSubstr;

constexpr char kNs[] = "velero";
constexpr char kVelero[] = "velero.io";

// Hands out stores that forward to one FakeObjectStore.
class SharedStores : public LocationStores {
 public:
  class View : public objstore::ObjectStore {
   public:
    explicit View(FakeObjectStore& s) : s_(s) {}
    std::string Describe() const override { return s_.Describe(); }
    using ObjectStore::Put;
    Status Put(const objstore::ObjectKey& k, const objstore::ObjectReader& r,
               const objstore::PutOptions& o) override {
      return s_.Put(k, r, o);
    }
    Result<objstore::ObjectInfo> Get(const objstore::ObjectKey& k,
                                     const objstore::ObjectSink& sink) override {
      return s_.Get(k, sink);
    }
    Result<objstore::ObjectInfo> Head(const objstore::ObjectKey& k) override { return s_.Head(k); }
    Result<bool> Exists(const objstore::ObjectKey& k) override { return s_.Exists(k); }
    Result<objstore::ListPage> List(const objstore::ListOptions& o) override { return s_.List(o); }
    Status Delete(const objstore::ObjectKey& k) override { return s_.Delete(k); }
    Status DeleteMany(std::span<const objstore::ObjectKey> keys) override {
      return s_.DeleteMany(keys);
    }
    Result<std::string> PresignGet(const objstore::ObjectKey& k, std::chrono::seconds e) override {
      return s_.PresignGet(k, e);
    }

   private:
    FakeObjectStore& s_;
  };
  Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation&) override {
    return objstore::ObjectStorePtr(std::make_unique<View>(store));
  }
  FakeObjectStore store;
};

class RestoreControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.Put(kVelero, "backupstoragelocations", kNs,
              {{"metadata", {{"name", "default"}}},
               {"spec", {{"provider", "aws"}, {"objectStorage", {{"bucket", "b"}}}}},
               {"status", {{"phase", "Available"}}}});
  }
  nlohmann::json Restore(const std::string& name) {
    return fake_.Get(kVelero, "restores", kNs, name);
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = FakeKube::Connect(fake_, clock_);
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
  SharedStores stores_;
  ServerMetrics metrics_;
  RestoreReconciler r_{conn_->client(), kNs, clock_, log_, stores_, metrics_, {}};
};

TEST_F(RestoreControllerTest, InvalidRestoresEndFailedValidationWithTheReasons) {
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "none"}}}, {"spec", {{"backupName", "nope"}}}});
  fake_.Put(
      kVelero, "restores", kNs,
      {{"metadata", {{"name", "both"}}}, {"spec", {{"backupName", "a"}, {"scheduleName", "s"}}}});
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "sched"}}}, {"spec", {{"scheduleName", "nightly"}}}});
  for (const char* n : {"none", "both", "sched"}) {
    ASSERT_TRUE(r_.Reconcile(n).ok()) << n;
    EXPECT_EQ(Restore(n)["status"]["phase"], "FailedValidation") << n;
  }
  EXPECT_EQ(Restore("none")["status"]["validationErrors"][0], "backup nope not found");
  EXPECT_THAT(Restore("both")["status"]["validationErrors"].dump(), HasSubstr("not both"));
  EXPECT_EQ(Restore("sched")["status"]["validationErrors"][0],
            "No backups found for schedule nightly");
  EXPECT_EQ(metrics_.registry().Value("velero_restore_validation_failed_total", {""}), 1);
  EXPECT_EQ(metrics_.registry().Value("velero_restore_validation_failed_total", {"s"}), 1);
  EXPECT_EQ(metrics_.registry().Value("velero_restore_validation_failed_total", {"nightly"}), 1);
}

TEST_F(RestoreControllerTest, AScheduleRestoresItsLatestCompletedBackup) {
  auto backup = [&](const char* name, const char* phase, const char* start) {
    fake_.Put(kVelero, "backups", kNs,
              {{"metadata", {{"name", name}, {"labels", {{"velero.io/schedule-name", "nightly"}}}}},
               {"spec", {{"storageLocation", "default"}}},
               {"status", {{"phase", phase}, {"startTimestamp", start}}}});
  };
  backup("nightly-1", "Completed", "2026-11-16T00:00:00Z");
  backup("nightly-2", "Completed", "2026-11-17T00:00:00Z");
  backup("nightly-3", "Failed", "2026-11-18T00:00:00Z");
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "r"}}}, {"spec", {{"scheduleName", "nightly"}}}});
  ASSERT_TRUE(r_.Reconcile("r").ok());
  nlohmann::json r = Restore("r");
  EXPECT_EQ(r["spec"]["backupName"], "nightly-2");
  EXPECT_EQ(r["metadata"]["finalizers"][0], RestoreReconciler::kFinalizer);
  // The fake store holds no such backup: the engine refuses it, naming the chosen backup.
  EXPECT_EQ(r["status"]["phase"], "FailedValidation") << r.dump();
  EXPECT_THAT(r["status"]["validationErrors"][0].get<std::string>(), HasSubstr("nightly-2"));
  EXPECT_EQ(r["spec"]["scheduleName"], "nightly");
  EXPECT_EQ(metrics_.registry().Value("velero_restore_attempt_total", {"nightly"}), 1);
  EXPECT_EQ(metrics_.registry().Value("velero_restore_validation_failed_total", {"nightly"}), 1);
}

TEST_F(RestoreControllerTest, ARestoreLeftInProgressIsFailedWithAReason) {
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "killed"}}},
             {"spec", {{"backupName", "b"}}},
             {"status", {{"phase", "InProgress"}}}});
  ASSERT_TRUE(r_.Reconcile("killed").ok());
  EXPECT_EQ(Restore("killed")["status"]["phase"], "Failed");
  EXPECT_THAT(Restore("killed")["status"]["failureReason"].get<std::string>(),
              HasSubstr("server stopped while this restore was in progress"));
}

TEST_F(RestoreControllerTest, DeletingARestoreDeletesItsFilesThenReleasesIt) {
  fake_.Put(kVelero, "backups", kNs,
            {{"metadata", {{"name", "b"}}}, {"spec", {{"storageLocation", "default"}}}});
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "r1"}, {"finalizers", {RestoreReconciler::kFinalizer}}}},
             {"spec", {{"backupName", "b"}}},
             {"status", {{"phase", "Completed"}}}});
  for (const char* key : {"restores/r1/restore-r1-logs.gz", "restores/r1/restore-r1-results.gz",
                          "restores/r10/restore-r10-logs.gz"}) {
    ASSERT_TRUE(stores_.store.PutString(objstore::ObjectKey(key), "x").ok());
  }
  ASSERT_TRUE(conn_->client().Delete(VeleroRef("restores", kNs, "r1")).ok());
  ASSERT_FALSE(Restore("r1").is_null()) << "held by the finalizer";
  ASSERT_TRUE(r_.Reconcile("r1").ok());
  EXPECT_TRUE(Restore("r1").is_null());
  std::vector<std::string> keys;
  for (const auto& [k, v] : stores_.store.Objects()) {
    keys.push_back(k);
  }
  EXPECT_THAT(keys, ElementsAre("restores/r10/restore-r10-logs.gz"));
}

TEST_F(RestoreControllerTest, FinishedRestoresAreLeftAlone) {
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "done"}}},
             {"spec", {{"backupName", "b"}}},
             {"status", {{"phase", "PartiallyFailed"}}}});
  const std::string before = Restore("done").dump();
  ASSERT_TRUE(r_.Reconcile("done").ok());
  EXPECT_EQ(Restore("done").dump(), before);
}

}  // namespace
}  // namespace arca::controller

namespace arca::controller {
namespace {

TEST(RestoreTargetsTest, MappedNamedNamespacesOrEverything) {
  api::RestoreSpec a;
  a.included_namespaces = {"shop", "blog"};
  a.namespace_mapping = {{"shop", "shop-copy"}};
  RestoreTargets ta = RestoreTargetsOf(a);
  EXPECT_FALSE(ta.all);
  EXPECT_EQ(ta.namespaces, (std::set<std::string>{"shop-copy", "blog"}));
  api::RestoreSpec b;
  b.included_namespaces = {"shop"};
  RestoreTargets tb = RestoreTargetsOf(b);
  EXPECT_FALSE(TargetsOverlap(ta, tb));  // shop was mapped away
  b.namespace_mapping = {{"shop", "blog"}};
  EXPECT_TRUE(TargetsOverlap(ta, RestoreTargetsOf(b)));
  api::RestoreSpec glob;
  glob.included_namespaces = {"sh?p"};
  EXPECT_TRUE(RestoreTargetsOf(glob).all);
  EXPECT_TRUE(RestoreTargetsOf(api::RestoreSpec{}).all);
  EXPECT_TRUE(TargetsOverlap(RestoreTargetsOf(api::RestoreSpec{}), tb));
}

}  // namespace
}  // namespace arca::controller
