// The gc controller against FakeKube (the real kube::Client on an in-memory API server).
#include "controller/gc_controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "fake_kube.h"

namespace arca::controller {
namespace {

using testing::FakeKube;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kNs[] = "velero";
constexpr char kVelero[] = "velero.io";

class GcReconcilerTest : public ::testing::Test {
 protected:
  // 2026-11-18T11:06:40Z
  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = FakeKube::Connect(fake_, clock_);
  kube::Client& client_ = conn_->client();
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
  GcReconciler reconciler_{client_, kNs, clock_, log_};

  void AddLocation(const std::string& name, const std::string& access_mode,
                   const std::string& phase = "Available") {
    fake_.Put(
        kVelero, "backupstoragelocations", kNs,
        {{"metadata", {{"name", name}}},
         {"spec",
          {{"provider", "aws"}, {"accessMode", access_mode}, {"objectStorage", {{"bucket", "b"}}}}},
         {"status", {{"phase", phase}}}});
  }
  void AddBackup(const std::string& name, const std::string& location,
                 const std::string& expiration) {
    fake_.Put(kVelero, "backups", kNs,
              {{"metadata", {{"name", name}, {"uid", "uid-" + name}}},
               {"spec", {{"storageLocation", location}}},
               {"status", {{"phase", "Completed"}, {"expiration", expiration}}}});
  }
  std::vector<std::string> Requests() { return fake_.Names(kVelero, "deletebackuprequests", kNs); }
  nlohmann::json Label(const std::string& backup) {
    const nlohmann::json b = fake_.Get(kVelero, "backups", kNs, backup);
    const nlohmann::json labels = b["metadata"].value("labels", nlohmann::json::object());
    return labels.value("velero.io/gc-failure", nlohmann::json());
  }
};

TEST_F(GcReconcilerTest, ExpiredBackupGetsOneDeleteBackupRequest) {
  AddLocation("default", "ReadWrite");
  AddBackup("old", "default", "2026-11-18T11:06:40Z");    // exactly now: expired
  AddBackup("young", "default", "2026-11-18T11:06:41Z");  // a second to go
  ASSERT_TRUE(reconciler_.Reconcile("young").ok());
  EXPECT_THAT(Requests(), IsEmpty());

  ASSERT_TRUE(reconciler_.Reconcile("old").ok());
  ASSERT_THAT(Requests(), SizeIs(1));
  const nlohmann::json dbr = fake_.Get(kVelero, "deletebackuprequests", kNs, Requests()[0]);
  EXPECT_TRUE(Requests()[0].starts_with("old-")) << Requests()[0];
  EXPECT_EQ(dbr["spec"]["backupName"], "old");
  EXPECT_EQ(dbr["metadata"]["labels"]["velero.io/backup-name"], "old");
  EXPECT_EQ(dbr["metadata"]["labels"]["velero.io/backup-uid"], "uid-old");

  // In flight (no phase yet, then InProgress): no second request.
  ASSERT_TRUE(reconciler_.Reconcile("old").ok());
  EXPECT_THAT(Requests(), SizeIs(1));
  nlohmann::json in_progress = dbr;
  in_progress["status"] = {{"phase", "InProgress"}};
  fake_.Put(kVelero, "deletebackuprequests", kNs, in_progress);
  ASSERT_TRUE(reconciler_.Reconcile("old").ok());
  EXPECT_THAT(Requests(), SizeIs(1));
  // A Processed one (the deletion failed) does not block a new attempt.
  nlohmann::json processed = dbr;
  processed["status"] = {{"phase", "Processed"}, {"errors", {"boom"}}};
  fake_.Put(kVelero, "deletebackuprequests", kNs, processed);
  ASSERT_TRUE(reconciler_.Reconcile("old").ok());
  EXPECT_THAT(Requests(), SizeIs(2));
}

TEST_F(GcReconcilerTest, ReadOnlyOrMissingLocationLabelsAndDeletesNothing) {
  AddLocation("ro", "ReadOnly");
  AddBackup("on-ro", "ro", "2026-01-01T00:00:00Z");
  AddBackup("on-nothing", "nowhere", "2026-01-01T00:00:00Z");
  ASSERT_TRUE(reconciler_.Reconcile("on-ro").ok());
  ASSERT_TRUE(reconciler_.Reconcile("on-nothing").ok());
  EXPECT_THAT(Requests(), IsEmpty());
  EXPECT_EQ(Label("on-ro"), "BSLReadOnly");
  EXPECT_EQ(Label("on-nothing"), "BSLNotFound");

  // The location is made ReadWrite: the label goes and the deletion is requested.
  AddLocation("ro", "ReadWrite");
  ASSERT_TRUE(reconciler_.Reconcile("on-ro").ok());
  EXPECT_TRUE(Label("on-ro").is_null());
  EXPECT_THAT(Requests(), SizeIs(1));
}

TEST_F(GcReconcilerTest, LocationErrorsAndUnavailableLocations) {
  AddLocation("down", "ReadWrite", "Unavailable");
  AddBackup("waits", "down", "2026-01-01T00:00:00Z");
  auto res = reconciler_.Reconcile("waits");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(res.status().message(), ::testing::HasSubstr("not Available"));
  EXPECT_TRUE(Label("waits").is_null()) << "an Unavailable location is not labelled";

  AddLocation("flaky", "ReadWrite");
  AddBackup("cannot", "flaky", "2026-01-01T00:00:00Z");
  fake_.FailNext("backupstoragelocations/flaky", 500, 10);
  ASSERT_TRUE(reconciler_.Reconcile("cannot").ok());
  EXPECT_EQ(Label("cannot"), "BSLCannotGet");
  EXPECT_THAT(Requests(), IsEmpty());
}

TEST_F(GcReconcilerTest, UnexpiredOrWithoutExpirationOrGoneIsLeftAlone) {
  AddLocation("default", "ReadWrite");
  fake_.Put(kVelero, "backups", kNs,
            {{"metadata", {{"name", "forever"}}}, {"spec", {{"storageLocation", "default"}}}});
  ASSERT_TRUE(reconciler_.Reconcile("forever").ok());
  ASSERT_TRUE(reconciler_.Reconcile("gone").ok());
  EXPECT_THAT(Requests(), IsEmpty());
}

}  // namespace
}  // namespace arca::controller
