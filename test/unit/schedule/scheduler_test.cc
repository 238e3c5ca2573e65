// The Schedule controller's decisions (schedule/scheduler.h) and the Schedule type's JSON.
#include "schedule/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/encoding.h"

namespace arca::schedule {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

SysSeconds At(const char* text) {
  auto t = kube::ParseRfc3339(text);
  EXPECT_TRUE(t.ok()) << text;
  return std::chrono::time_point_cast<std::chrono::seconds>(
      t.ok() ? *t : std::chrono::system_clock::time_point{});
}

api::Schedule Daily() {
  auto s = api::ScheduleFromJson(nlohmann::json::parse(R"({
    "apiVersion": "velero.io/v1", "kind": "Schedule",
    "metadata": {"name": "nightly", "namespace": "velero", "uid": "u-1",
                 "creationTimestamp": "2026-11-20T12:00:00Z",
                 "labels": {"team": "a"}, "annotations": {"note": "x"}},
    "spec": {"schedule": "0 0 * * *",
             "template": {"includedNamespaces": ["shop"], "ttl": "72h0m0s"}}
  })"));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(ScheduleJsonTest, RoundTripAndFieldPathsInErrors) {
  api::Schedule s = Daily();
  s.spec.paused = true;
  s.spec.use_owner_references_in_backup = true;
  s.status.phase = api::schedule_phase::kEnabled;
  s.status.last_backup = "2026-11-25T00:00:01Z";
  const nlohmann::json j = api::ScheduleToJson(s);
  EXPECT_EQ(j["spec"]["template"]["includedNamespaces"], nlohmann::json({"shop"}));
  EXPECT_EQ(j["spec"]["template"]["ttl"], "72h0m0s");
  EXPECT_EQ(j["spec"]["paused"], true);
  EXPECT_EQ(j["status"]["lastBackup"], "2026-11-25T00:00:01Z");
  auto back = api::ScheduleFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(api::ScheduleToJson(*back), j);

  auto bad = api::ScheduleFromJson(
      nlohmann::json::parse(R"({"spec": {"schedule": "@daily", "template": {"ttl": "forever"}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("spec.template.ttl"));
  auto wrong_kind = api::ScheduleFromJson(nlohmann::json::parse(R"({"kind": "Backup"})"));
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_THAT(wrong_kind.status().message(), HasSubstr("expected \"Schedule\""));
}

TEST(ReconcileScheduleTest, DueAfterTheFirstRunFollowingCreation) {
  api::Schedule s = Daily();
  // Created 2026-11-20 12:00; the first run is 2026-11-21 00:00.
  ScheduleActions before = ReconcileSchedule(s, At("2026-11-20T23:59:59Z"), false, false);
  EXPECT_TRUE(before.reconciled);
  EXPECT_EQ(before.status.phase, "Enabled");
  EXPECT_FALSE(before.backup.has_value());
  ASSERT_TRUE(before.next_run.has_value());
  EXPECT_EQ(*before.next_run, At("2026-11-21T00:00:00Z"));
  EXPECT_EQ(before.set_skip_immediately, false);  // unset takes the server default

  ScheduleActions due = ReconcileSchedule(s, At("2026-11-21T00:00:05Z"), false, false);
  ASSERT_TRUE(due.backup.has_value());
  EXPECT_EQ(due.backup->metadata.name, "nightly-20261121000005");
  EXPECT_EQ(due.backup->metadata.namespace_, "velero");
  EXPECT_THAT(due.backup->metadata.labels,
              UnorderedElementsAre(Pair("team", "a"), Pair("velero.io/schedule-name", "nightly")));
  EXPECT_THAT(due.backup->metadata.annotations, ElementsAre(Pair("note", "x")));
  EXPECT_THAT(due.backup->spec.included_namespaces, ElementsAre("shop"));
  EXPECT_TRUE(due.backup->metadata.owner_references.is_null());
  EXPECT_EQ(due.status.last_backup, "2026-11-21T00:00:05Z");
  EXPECT_EQ(*due.next_run, At("2026-11-22T00:00:00Z"));
}

TEST(ReconcileScheduleTest, MissedRunsMakeOneBackupNotAFlood) {
  api::Schedule s = Daily();
  s.status.last_backup = "2026-11-21T00:00:05Z";
  // Down for four days: one backup now, and the next run is the next midnight.
  ScheduleActions late = ReconcileSchedule(s, At("2026-11-25T09:30:00Z"), false, false);
  ASSERT_TRUE(late.backup.has_value());
  EXPECT_EQ(*late.next_run, At("2026-11-26T00:00:00Z"));
  s.status = late.status;
  ScheduleActions again = ReconcileSchedule(s, At("2026-11-25T09:31:00Z"), false, false);
  EXPECT_FALSE(again.backup.has_value());
}

TEST(ReconcileScheduleTest, NoBackupWhileOneIsInFlight) {
  api::Schedule s = Daily();
  ScheduleActions busy = ReconcileSchedule(s, At("2026-11-21T00:00:05Z"), true, false);
  EXPECT_FALSE(busy.backup.has_value());
  EXPECT_EQ(busy.status.last_backup, "");
}

TEST(ReconcileScheduleTest, SkipImmediatelySkipsTheDueRunOnce) {
  api::Schedule s = Daily();
  s.spec.skip_immediately = true;
  ScheduleActions skipped = ReconcileSchedule(s, At("2026-11-23T10:00:00Z"), false, false);
  EXPECT_FALSE(skipped.backup.has_value());
  EXPECT_EQ(skipped.set_skip_immediately, false);
  EXPECT_EQ(skipped.status.last_skipped, "2026-11-23T10:00:00Z");
  EXPECT_EQ(*skipped.next_run, At("2026-11-24T00:00:00Z"));
  // The server default applies when the schedule does not say.
  api::Schedule unset = Daily();
  ScheduleActions by_default = ReconcileSchedule(unset, At("2026-11-23T10:00:00Z"), false, true);
  EXPECT_FALSE(by_default.backup.has_value());
  EXPECT_EQ(by_default.status.last_skipped, "2026-11-23T10:00:00Z");
}

TEST(ReconcileScheduleTest, PausedIsLeftAloneAndInvalidCronFailsValidation) {
  api::Schedule paused = Daily();
  paused.spec.paused = true;
  ScheduleActions none = ReconcileSchedule(paused, At("2026-11-25T00:00:05Z"), false, false);
  EXPECT_FALSE(none.reconciled);
  EXPECT_FALSE(none.backup.has_value());

  api::Schedule bad = Daily();
  bad.spec.schedule = "0 25 * * *";
  ScheduleActions invalid = ReconcileSchedule(bad, At("2026-11-25T00:00:05Z"), false, false);
  EXPECT_EQ(invalid.status.phase, "FailedValidation");
  ASSERT_EQ(invalid.status.validation_errors.size(), 1u);
  EXPECT_THAT(invalid.status.validation_errors[0], HasSubstr("invalid schedule: "));
  EXPECT_THAT(invalid.status.validation_errors[0], HasSubstr("hour"));
  EXPECT_FALSE(invalid.backup.has_value());

  api::Schedule empty = Daily();
  empty.spec.schedule.clear();
  EXPECT_THAT(ValidateSchedule(empty),
              ElementsAre("Schedule must be a non-empty valid Cron expression"));
}

TEST(BackupFromScheduleTest, TemplateLabelsWinAndOwnerReferenceOnRequest) {
  api::Schedule s = Daily();
  s.spec.template_.template_labels = {{"tier", "gold"}};
  s.spec.use_owner_references_in_backup = true;
  api::Backup b = BackupFromSchedule(s, At("2026-11-26T01:02:03Z"));
  EXPECT_THAT(b.metadata.labels, UnorderedElementsAre(Pair("tier", "gold"),
                                                      Pair("velero.io/schedule-name", "nightly")));
  EXPECT_TRUE(b.spec.template_labels.empty());
  ASSERT_EQ(b.metadata.owner_references.size(), 1u);
  EXPECT_EQ(b.metadata.owner_references[0]["kind"], "Schedule");
  EXPECT_EQ(b.metadata.owner_references[0]["uid"], "u-1");
  EXPECT_EQ(b.metadata.owner_references[0]["controller"], true);
}

TEST(LatestScheduledBackupTest, NewestCompletedOfThatSchedule) {
  auto make = [](const char* name, const char* schedule, const char* phase, const char* start) {
    api::Backup b;
    b.metadata.name = name;
    if (schedule[0] != '\0') {
      b.metadata.labels["velero.io/schedule-name"] = schedule;
    }
    b.status.phase = phase;
    b.status.start_timestamp = start;
    return b;
  };
  std::vector<api::Backup> backups = {
      make("n-1", "nightly", "Completed", "2026-11-24T00:00:00Z"),
      make("n-3", "nightly", "PartiallyFailed", "2026-11-26T00:00:00Z"),
      make("n-2", "nightly", "Completed", "2026-11-25T00:00:00Z"),
      make("w-1", "weekly", "Completed", "2026-11-26T05:00:00Z"),
      make("manual", "", "Completed", "2026-11-26T06:00:00Z"),
  };
  auto latest = LatestScheduledBackup(backups, "nightly", false);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->metadata.name, "n-2");
  auto partial = LatestScheduledBackup(backups, "nightly", true);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->metadata.name, "n-3");
  auto none = LatestScheduledBackup(backups, "hourly", false);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("schedule hourly"));
}

}  // namespace
}  // namespace arca::schedule
