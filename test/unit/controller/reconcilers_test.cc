// Reconcile logic of each controller against FakeKube (the real kube::Client on an in-memory API
// server) and FakeObjectStore.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "controller/backup_deletion.h"
#include "controller/controller.h"
#include "controller/download_request.h"
#include "controller/server_status.h"
#include "controller/storage_location.h"
#include "fake_kube.h"
#include "test/fakes/fake_object_store.h"

namespace arca::controller {
namespace {

using objstore::testing::FakeObjectStore;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FakeKube;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr char kNs[] = "velero";
constexpr char kVelero[] = "velero.io";

// Forwards to a shared FakeObjectStore (the reconcilers own what Open returns).
class Borrowed : public objstore::ObjectStore {
 public:
  explicit Borrowed(FakeObjectStore& s) : s_(s) {}
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

class FakeStores : public LocationStores {
 public:
  Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation& bsl) override {
    opened.push_back(bsl.metadata.name);
    if (!open_error.ok()) {
      return open_error;
    }
    return objstore::ObjectStorePtr(std::make_unique<Borrowed>(store));
  }
  FakeObjectStore store;
  Status open_error;
  std::vector<std::string> opened;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void AddBsl(const std::string& name, nlohmann::json spec = nlohmann::json::object(),
              nlohmann::json status = nlohmann::json::object()) {
    if (!spec.contains("provider")) {
      spec["provider"] = "aws";
    }
    if (!spec.contains("objectStorage")) {
      spec["objectStorage"] = {{"bucket", "b"}};
    }
    nlohmann::json obj = {{"metadata", {{"name", name}}}, {"spec", spec}};
    if (!status.empty()) {
      obj["status"] = status;
    }
    fake_.Put(kVelero, "backupstoragelocations", kNs, obj);
  }
  void AddBackup(const std::string& name, const std::string& phase = "Completed",
                 const std::string& location = "default") {
    fake_.Put(kVelero, "backups", kNs,
              {{"metadata", {{"name", name}, {"uid", "uid-" + name}}},
               {"spec", {{"storageLocation", location}}},
               {"status", {{"phase", phase}}}});
  }
  void AddStoreFiles(const std::string& dir, const std::string& name) {
    ASSERT_TRUE(stores_.store.PutString(objstore::ObjectKey(dir + "/" + name + "/a"), "1").ok());
    ASSERT_TRUE(stores_.store.PutString(objstore::ObjectKey(dir + "/" + name + "/b"), "2").ok());
  }
  std::vector<std::string> StoreKeys() {
    std::vector<std::string> keys;
    for (const auto& [k, v] : stores_.store.Objects()) {
      keys.push_back(k);
    }
    return keys;
  }
  nlohmann::json Obj(const std::string& resource, const std::string& name) {
    return fake_.Get(kVelero, resource, kNs, name);
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = FakeKube::Connect(fake_, clock_);
  kube::Client& client_ = conn_->client();
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
  FakeStores stores_;
  ServerMetrics metrics_;
};

// ---- ServerStatusRequest

TEST_F(ReconcilerTest, ServerStatusRequestIsProcessedThenDeletedAfterAMinute) {
  ServerStatusReconciler r(client_, kNs, clock_, log_, "v1.2.3");
  fake_.Put(kVelero, "serverstatusrequests", kNs, {{"metadata", {{"name", "s1"}}}});
  Result<ReconcileResult> res = r.Reconcile("s1");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->requeue_after, minutes(1));
  nlohmann::json ssr = Obj("serverstatusrequests", "s1");
  EXPECT_EQ(ssr["status"]["phase"], "Processed");
  EXPECT_EQ(ssr["status"]["serverVersion"], "v1.2.3");
  EXPECT_EQ(ssr["status"]["processedTimestamp"], "2026-11-18T11:06:40Z");
  EXPECT_EQ(ssr["status"]["plugins"], nlohmann::json::array());

  clock_.Advance(seconds(40));
  res = r.Reconcile("s1");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->requeue_after, seconds(20));
  EXPECT_FALSE(Obj("serverstatusrequests", "s1").is_null());
  clock_.Advance(seconds(20));
  ASSERT_TRUE(r.Reconcile("s1").ok());
  EXPECT_TRUE(Obj("serverstatusrequests", "s1").is_null());
  EXPECT_TRUE(r.Reconcile("s1").ok()) << "a vanished request is not an error";
}

// ---- BackupStorageLocation

TEST_F(ReconcilerTest, ReachableLocationIsAvailable) {
  StorageLocationReconciler r(client_, kNs, clock_, log_, stores_, metrics_, minutes(1));
  AddBsl("default", {}, {{"phase", "Unavailable"}, {"message", "old"}});
  AddStoreFiles("backups", "b1");
  Result<ReconcileResult> res = r.Reconcile("default");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->requeue_after, minutes(1));
  nlohmann::json bsl = Obj("backupstoragelocations", "default");
  EXPECT_EQ(bsl["status"]["phase"], "Available");
  EXPECT_FALSE(bsl["status"].contains("message")) << bsl.dump();
  EXPECT_EQ(bsl["status"]["lastValidationTime"], "2026-11-18T11:06:40Z");
  EXPECT_EQ(metrics_.registry().Value("velero_backup_location_status_gauge", {"default"}), 1);
}

TEST_F(ReconcilerTest, UnreachableOrForeignLocationIsUnavailableWithTheReason) {
  StorageLocationReconciler r(client_, kNs, clock_, log_, stores_, metrics_, minutes(1));
  AddBsl("junk");
  for (const char* dir : {"zeta", "alpha", "beta", "gamma"}) {
    ASSERT_TRUE(stores_.store.PutString(objstore::ObjectKey(std::string(dir) + "/x"), "").ok());
  }
  ASSERT_TRUE(r.Reconcile("junk").ok());
  nlohmann::json bsl = Obj("backupstoragelocations", "junk");
  EXPECT_EQ(bsl["status"]["phase"], "Unavailable");
  EXPECT_EQ(bsl["status"]["message"],
            "BackupStorageLocation \"junk\" is unavailable: Backup store contains invalid "
            "top-level directories: [alpha beta gamma ...]");
  EXPECT_EQ(metrics_.registry().Value("velero_backup_location_status_gauge", {"junk"}), 0);

  AddBsl("gone");
  stores_.open_error = NotFoundError("bucket 'nope' not found at endpoint http://minio");
  ASSERT_TRUE(r.Reconcile("gone").ok());
  EXPECT_EQ(Obj("backupstoragelocations", "gone")["status"]["message"],
            "BackupStorageLocation \"gone\" is unavailable: bucket 'nope' not found at endpoint "
            "http://minio");
}

TEST_F(ReconcilerTest, LocationIsRevalidatedOnItsFrequencyOrWhenItsSpecChanges) {
  StorageLocationReconciler r(client_, kNs, clock_, log_, stores_, metrics_, minutes(1));
  AddBsl("default", {{"validationFrequency", "30s"}});
  ASSERT_TRUE(r.Reconcile("default").ok());
  ASSERT_EQ(stores_.opened.size(), 1u);
  clock_.Advance(seconds(10));
  Result<ReconcileResult> res = r.Reconcile("default");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(stores_.opened.size(), 1u) << "not due yet";
  EXPECT_EQ(res->requeue_after, seconds(20));
  clock_.Advance(seconds(20));
  ASSERT_TRUE(r.Reconcile("default").ok());
  EXPECT_EQ(stores_.opened.size(), 2u);
  ASSERT_TRUE(client_
                  .Patch(VeleroRef("backupstoragelocations", kNs, "default"),
                         kube::PatchType::kMerge, R"({"spec":{"objectStorage":{"prefix":"p"}}})")
                  .ok());
  ASSERT_TRUE(r.Reconcile("default").ok());
  EXPECT_EQ(stores_.opened.size(), 3u) << "a spec change validates at once";
}

TEST_F(ReconcilerTest, ZeroFrequencyValidatesOnlyOnce) {
  StorageLocationReconciler r(client_, kNs, clock_, log_, stores_, metrics_, minutes(1));
  AddBsl("once", {{"validationFrequency", "0s"}});
  ASSERT_TRUE(r.Reconcile("once").ok());
  clock_.Advance(std::chrono::hours(5));
  Result<ReconcileResult> res = r.Reconcile("once");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->requeue_after, std::chrono::nanoseconds::zero());
  EXPECT_EQ(stores_.opened.size(), 1u);
}

TEST_F(ReconcilerTest, OnlyTheNewestDefaultLocationStaysDefault) {
  StorageLocationReconciler r(client_, kNs, clock_, log_, stores_, metrics_, minutes(1));
  AddBsl("old", {{"default", true}});
  clock_.Advance(seconds(5));
  AddBsl("new", {{"default", true}});
  ASSERT_TRUE(r.Reconcile("new").ok());
  EXPECT_EQ(Obj("backupstoragelocations", "old")["spec"]["default"], false);
  EXPECT_EQ(Obj("backupstoragelocations", "new")["spec"]["default"], true);
}

TEST_F(ReconcilerTest, BadSpecIsUnavailableNamingTheField) {
  StorageLocationReconciler r(client_, kNs, clock_, log_, stores_, metrics_, minutes(1));
  AddBsl("bad", {{"objectStorage", {{"bucket", "a/b"}}}});
  // The fake stores accept anything, so check the spec validation the real opener runs.
  Result<api::BackupStorageLocation> bsl =
      api::BackupStorageLocationFromJson(Obj("backupstoragelocations", "bad"));
  ASSERT_TRUE(bsl.ok());
  Status s = ValidateLocationSpec(*bsl);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("spec.objectStorage.prefix"));
  bsl->spec.object_storage.bucket = "b";
  bsl->spec.object_storage.ca_cert = "eA==";
  bsl->spec.object_storage.ca_cert_ref = api::SecretKeySelector{"s", "k"};
  EXPECT_THAT(ValidateLocationSpec(*bsl).message(), HasSubstr("keep one"));
}

// ---- DownloadRequest

TEST_F(ReconcilerTest, DownloadRequestGetsAUrlForTheTargetKey) {
  DownloadRequestReconciler r(client_, kNs, clock_, log_, stores_);
  AddBsl("default");
  AddBackup("b1");
  ASSERT_TRUE(stores_.store.PutString(objstore::ObjectKey("backups/b1/b1-logs.gz"), "log").ok());
  fake_.Put(kVelero, "downloadrequests", kNs,
            {{"metadata", {{"name", "d1"}}},
             {"spec", {{"target", {{"kind", "BackupLog"}, {"name", "b1"}}}}}});
  Result<ReconcileResult> res = r.Reconcile("d1");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  nlohmann::json dr = Obj("downloadrequests", "d1");
  EXPECT_EQ(dr["status"]["phase"], "Processed");
  EXPECT_EQ(dr["status"]["downloadURL"], "fake://memory/backups/b1/b1-logs.gz?expires=600");
  EXPECT_EQ(dr["status"]["expiration"], "2026-11-18T11:16:40Z");
  EXPECT_EQ(res->requeue_after, minutes(10));

  clock_.Advance(minutes(10));
  ASSERT_TRUE(r.Reconcile("d1").ok());
  EXPECT_TRUE(Obj("downloadrequests", "d1").is_null()) << "expired requests are deleted";
}

TEST_F(ReconcilerTest, RestoreDownloadsGoThroughTheRestoresBackup) {
  DownloadRequestReconciler r(client_, kNs, clock_, log_, stores_);
  AddBsl("other");
  AddBackup("b1", "Completed", "other");
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "r1"}}}, {"spec", {{"backupName", "b1"}}}});
  ASSERT_TRUE(
      stores_.store.PutString(objstore::ObjectKey("restores/r1/restore-r1-results.gz"), "{}").ok());
  fake_.Put(kVelero, "downloadrequests", kNs,
            {{"metadata", {{"name", "d2"}}},
             {"spec", {{"target", {{"kind", "RestoreResults"}, {"name", "r1"}}}}}});
  ASSERT_TRUE(r.Reconcile("d2").ok());
  EXPECT_EQ(Obj("downloadrequests", "d2")["status"]["downloadURL"],
            "fake://memory/restores/r1/restore-r1-results.gz?expires=600");
  EXPECT_THAT(stores_.opened, ElementsAre("other"));
}

TEST_F(ReconcilerTest, UnresolvableDownloadRequestsAreErrorsToRetry) {
  DownloadRequestReconciler r(client_, kNs, clock_, log_, stores_);
  fake_.Put(kVelero, "downloadrequests", kNs,
            {{"metadata", {{"name", "d3"}}},
             {"spec", {{"target", {{"kind", "BackupLog"}, {"name", "missing"}}}}}});
  Result<ReconcileResult> res = r.Reconcile("d3");
  EXPECT_EQ(res.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(res.status().message(), HasSubstr("backup \"missing\""));
  fake_.Put(kVelero, "downloadrequests", kNs,
            {{"metadata", {{"name", "d4"}}},
             {"spec", {{"target", {{"kind", "Tarball"}, {"name", "b"}}}}}});
  EXPECT_EQ(r.Reconcile("d4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Obj("downloadrequests", "d3").contains("status"));
}

// ---- DeleteBackupRequest

class DeletionTest : public ReconcilerTest {
 protected:
  void AddDbr(const std::string& name, const std::string& backup) {
    fake_.Put(kVelero, "deletebackuprequests", kNs,
              {{"metadata",
                {{"name", name},
                 {"labels",
                  {{"velero.io/backup-name", backup}, {"velero.io/backup-uid", "uid-" + backup}}}}},
               {"spec", {{"backupName", backup}}}});
  }
  BackupDeletionReconciler r_{client_, kNs, clock_, log_, stores_, metrics_};
};

TEST_F(DeletionTest, DeletesTheDataTheBackupItsRestoresAndTheRequests) {
  AddBsl("default", {}, {{"phase", "Available"}});
  AddBackup("b1");
  AddBackup("b2");
  AddStoreFiles("backups", "b1");
  AddStoreFiles("backups", "b2");
  AddStoreFiles("restores", "r1");
  AddStoreFiles("restores", "r2");
  fake_.Put(
      kVelero, "restores", kNs,
      {{"metadata",
        {{"name", "r1"}, {"finalizers", {"restores.velero.io/external-resources-finalizer"}}}},
       {"spec", {{"backupName", "b1"}}}});
  fake_.Put(kVelero, "restores", kNs,
            {{"metadata", {{"name", "r2"}}}, {"spec", {{"backupName", "b2"}}}});
  AddDbr("b1-a", "b1");
  AddDbr("b1-b", "b1");
  Result<ReconcileResult> res = r_.Reconcile("b1-a");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_THAT(StoreKeys(),
              ElementsAre("backups/b2/a", "backups/b2/b", "restores/r2/a", "restores/r2/b"));
  EXPECT_TRUE(Obj("backups", "b1").is_null());
  EXPECT_FALSE(Obj("backups", "b2").is_null());
  EXPECT_THAT(fake_.Names(kVelero, "restores", kNs), ElementsAre("r2"));
  EXPECT_THAT(fake_.Names(kVelero, "deletebackuprequests", kNs), IsEmpty());
  EXPECT_EQ(metrics_.registry().Value("velero_backup_deletion_success_total", {""}), 1);
  EXPECT_EQ(metrics_.registry().Value("velero_backup_deletion_attempt_total", {""}), 1);
}

TEST_F(DeletionTest, ReadOnlyLocationRefusesAndKeepsEverything) {
  AddBsl("default", {{"accessMode", "ReadOnly"}}, {{"phase", "Available"}});
  AddBackup("b1");
  AddStoreFiles("backups", "b1");
  AddDbr("d", "b1");
  ASSERT_TRUE(r_.Reconcile("d").ok());
  nlohmann::json dbr = Obj("deletebackuprequests", "d");
  EXPECT_EQ(dbr["status"]["phase"], "Processed");
  EXPECT_EQ(dbr["status"]["errors"],
            nlohmann::json({"cannot delete backup because backup storage location default is "
                            "currently in read-only mode"}));
  EXPECT_EQ(StoreKeys().size(), 2u);
  EXPECT_FALSE(Obj("backups", "b1").is_null());
  EXPECT_EQ(Obj("backups", "b1")["status"]["phase"], "Completed");
}

TEST_F(DeletionTest, RefusalsEndProcessedWithVelerosMessages) {
  AddBsl("default", {}, {{"phase", "Unavailable"}});
  AddBackup("running", "InProgress");
  AddBackup("b1");
  AddBackup("lost", "Completed", "nowhere");
  AddDbr("d1", "missing");
  AddDbr("d2", "running");
  AddDbr("d3", "b1");
  AddDbr("d4", "lost");
  fake_.Put(kVelero, "deletebackuprequests", kNs,
            {{"metadata", {{"name", "d5"}}}, {"spec", nlohmann::json::object()}});
  for (const char* n : {"d1", "d2", "d3", "d4", "d5"}) {
    ASSERT_TRUE(r_.Reconcile(n).ok()) << n;
  }
  auto errors = [&](const char* n) {
    return Obj("deletebackuprequests", n)["status"]["errors"][0];
  };
  EXPECT_EQ(errors("d1"), "backup not found");
  EXPECT_EQ(errors("d2"), "backup is still in progress");
  EXPECT_EQ(errors("d3"),
            "cannot delete backup because backup storage location default is "
            "currently in Unavailable state");
  EXPECT_EQ(errors("d4"), "backup storage location nowhere not found");
  EXPECT_EQ(errors("d5"), "spec.backupName is required");
  EXPECT_EQ(Obj("backups", "b1")["status"]["phase"], "Completed");
}

TEST_F(DeletionTest, AStoreFailureKeepsTheBackupAndReportsTheError) {
  AddBsl("default", {}, {{"phase", "Available"}});
  AddBackup("b1");
  AddStoreFiles("backups", "b1");
  AddDbr("d", "b1");
  stores_.store.FailNext(FakeObjectStore::Method::kDelete, UnavailableError("store is down"), 10);
  ASSERT_TRUE(r_.Reconcile("d").ok());
  nlohmann::json dbr = Obj("deletebackuprequests", "d");
  EXPECT_EQ(dbr["status"]["phase"], "Processed");
  EXPECT_THAT(dbr["status"]["errors"][0].get<std::string>(), HasSubstr("store is down"));
  EXPECT_EQ(Obj("backups", "b1")["status"]["phase"], "Deleting");
  EXPECT_EQ(dbr["metadata"]["labels"]["velero.io/backup-uid"], "uid-b1");
  EXPECT_EQ(metrics_.registry().Value("velero_backup_deletion_failure_total", {""}), 1);
}

TEST_F(DeletionTest, ProcessedRequestsAreDeletedAfterADay) {
  AddDbr("old", "b1");
  ASSERT_TRUE(client_
                  .Patch(VeleroRef("deletebackuprequests", kNs, "old"), kube::PatchType::kMerge,
                         R"({"status":{"phase":"Processed"}})")
                  .ok());
  Result<ReconcileResult> res = r_.Reconcile("old");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->requeue_after, std::chrono::hours(24));
  clock_.Advance(std::chrono::hours(24));
  ASSERT_TRUE(r_.Reconcile("old").ok());
  EXPECT_TRUE(Obj("deletebackuprequests", "old").is_null());
}

// ---- The controller loop

class CountingReconciler : public Reconciler {
 public:
  Result<ReconcileResult> Reconcile(const std::string& name) override {
    calls.push_back(name);
    if (fail_left > 0) {
      --fail_left;
      return UnavailableError("try later");
    }
    return ReconcileResult{.requeue_after = requeue};
  }
  std::vector<std::string> calls;
  int fail_left = 0;
  std::chrono::nanoseconds requeue{0};
};

TEST_F(ReconcilerTest, FailedReconcilesAreRetriedWithBackoffAndSuccessesResync) {
  CountingReconciler rec;
  rec.fail_left = 2;
  ControllerOptions o;
  o.name = "test";
  o.resync = minutes(5);
  Controller c(client_, VeleroRef("backups", kNs), rec, clock_, log_, o);
  c.queue().Add("b1");
  ASSERT_TRUE(c.ProcessOne());
  EXPECT_FALSE(c.ProcessOne()) << "waits for its backoff";
  clock_.Advance(std::chrono::milliseconds(5));
  ASSERT_TRUE(c.ProcessOne());
  clock_.Advance(std::chrono::milliseconds(9));
  EXPECT_FALSE(c.ProcessOne()) << "the second backoff is twice as long";
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(c.ProcessOne());
  EXPECT_EQ(c.queue().Failures("b1"), 0) << "a success forgets the failures";
  clock_.Advance(minutes(4));
  EXPECT_FALSE(c.ProcessOne());
  clock_.Advance(minutes(1));
  EXPECT_TRUE(c.ProcessOne()) << "resynced after 5 minutes";
  EXPECT_THAT(rec.calls, ElementsAre("b1", "b1", "b1", "b1"));
  EXPECT_THAT(log_out_.str(), HasSubstr("Reconcile failed; retrying"));
  c.StopWorkers();
}

TEST_F(ReconcilerTest, ARequestedRequeueSoonerThanTheResyncWins) {
  CountingReconciler rec;
  rec.requeue = seconds(10);
  ControllerOptions o;
  o.name = "test";
  o.resync = minutes(5);
  Controller c(client_, VeleroRef("backups", kNs), rec, clock_, log_, o);
  c.queue().Add("x");
  ASSERT_TRUE(c.ProcessOne());
  clock_.Advance(seconds(10));
  EXPECT_TRUE(c.ProcessOne());
  EXPECT_EQ(rec.calls.size(), 2u);
}

}  // namespace
}  // namespace arca::controller
