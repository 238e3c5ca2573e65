// The schedule controller against FakeKube (the real kube::Client on an in-memory API server).
#include "controller/schedule_controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "fake_kube.h"

namespace arca::controller {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FakeKube;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kNs[] = "velero";
constexpr char kVelero[] = "velero.io";

class ScheduleReconcilerTest : public ::testing::Test {
 protected:
  // 2026-11-18T11:06:40Z, as FakeKube stamps creationTimestamp.
  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = FakeKube::Connect(fake_, clock_);
  kube::Client& client_ = conn_->client();
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
  ScheduleReconciler reconciler_{client_, kNs, clock_, log_, /*default_skip_immediately=*/false};

  void AddSchedule(const std::string& name, const std::string& cron,
                   nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json obj = {
        {"metadata", {{"name", name}, {"uid", "uid-" + name}}},
        {"spec", {{"schedule", cron}, {"template", {{"includedNamespaces", {"shop"}}}}}}};
    obj.merge_patch(extra);
    fake_.Put(kVelero, "schedules", kNs, obj);
  }
  nlohmann::json Schedule(const std::string& name) {
    return fake_.Get(kVelero, "schedules", kNs, name);
  }
  std::vector<std::string> Backups() { return fake_.Names(kVelero, "backups", kNs); }
};

TEST_F(ScheduleReconcilerTest, CreatesTheDueBackupOnceAndComesBackAtTheNextRun) {
  AddSchedule("hourly", "0 * * * *");  // created 11:06:40; first run 12:00:00
  auto early = reconciler_.Reconcile("hourly");
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_THAT(Backups(), IsEmpty());
  EXPECT_EQ(Schedule("hourly")["status"]["phase"], "Enabled");
  EXPECT_EQ(Schedule("hourly")["spec"]["skipImmediately"], false);
  EXPECT_EQ(early->requeue_after, minutes(1));

  clock_.Advance(minutes(54));  // 12:00:40
  auto due = reconciler_.Reconcile("hourly");
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  ASSERT_THAT(Backups(), ElementsAre("hourly-20261118120040"));
  const nlohmann::json backup = fake_.Get(kVelero, "backups", kNs, "hourly-20261118120040");
  EXPECT_EQ(backup["metadata"]["labels"]["velero.io/schedule-name"], "hourly");
  EXPECT_EQ(backup["spec"]["includedNamespaces"], nlohmann::json({"shop"}));
  EXPECT_EQ(Schedule("hourly")["status"]["lastBackup"], "2026-11-18T12:00:40Z");

  // The backup is New: nothing more, even when the next run has passed.
  clock_.Advance(minutes(61));
  ASSERT_TRUE(reconciler_.Reconcile("hourly").ok());
  EXPECT_EQ(Backups().size(), 1u);
  // Once it completed, the (one) missed run makes one backup.
  nlohmann::json done = fake_.Get(kVelero, "backups", kNs, "hourly-20261118120040");
  done["status"] = {{"phase", "Completed"}};
  fake_.Put(kVelero, "backups", kNs, done);
  ASSERT_TRUE(reconciler_.Reconcile("hourly").ok());
  EXPECT_EQ(Backups().size(), 2u);
  ASSERT_TRUE(reconciler_.Reconcile("hourly").ok());
  EXPECT_EQ(Backups().size(), 2u);
}

TEST_F(ScheduleReconcilerTest, EverySecondsScheduleRequeuesForItsNextRun) {
  AddSchedule("fast", "@every 5s");
  clock_.Advance(seconds(6));
  auto res = reconciler_.Reconcile("fast");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(Backups().size(), 1u);
  EXPECT_EQ(res->requeue_after, seconds(6));  // the next run is 5 s away; due one second after
}

TEST_F(ScheduleReconcilerTest, PausedIsLeftAloneInvalidFailsValidation) {
  AddSchedule("paused", "0 * * * *", {{"spec", {{"paused", true}}}});
  clock_.Advance(minutes(120));
  ASSERT_TRUE(reconciler_.Reconcile("paused").ok());
  EXPECT_THAT(Backups(), IsEmpty());
  EXPECT_FALSE(Schedule("paused").contains("status"));

  AddSchedule("bad", "61 * * * *");
  ASSERT_TRUE(reconciler_.Reconcile("bad").ok());
  const nlohmann::json bad = Schedule("bad");
  EXPECT_EQ(bad["status"]["phase"], "FailedValidation");
  ASSERT_EQ(bad["status"]["validationErrors"].size(), 1u);
  EXPECT_THAT(bad["status"]["validationErrors"][0].get<std::string>(),
              HasSubstr("invalid schedule"));
  EXPECT_THAT(Backups(), IsEmpty());
  EXPECT_TRUE(reconciler_.Reconcile("gone").ok()) << "a vanished schedule is not an error";
}

TEST_F(ScheduleReconcilerTest, SkipImmediatelySkipsTheDueRunAndResets) {
  AddSchedule("skip", "0 * * * *", {{"spec", {{"skipImmediately", true}}}});
  clock_.Advance(minutes(120));
  ASSERT_TRUE(reconciler_.Reconcile("skip").ok());
  EXPECT_THAT(Backups(), IsEmpty());
  EXPECT_EQ(Schedule("skip")["spec"]["skipImmediately"], false);
  EXPECT_EQ(Schedule("skip")["status"]["lastSkipped"], "2026-11-18T13:06:40Z");
}

}  // namespace
}  // namespace arca::controller
