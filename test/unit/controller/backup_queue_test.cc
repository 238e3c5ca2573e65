// The backup queue's decisions (controller/backup_queue.h): order, concurrency and namespace
// overlap, as Velero v1.18's backup-queue controller makes them.
#include "controller/backup_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

QueuedBackup B(std::string name, std::string phase, int64_t position,
               std::vector<std::string> include, std::vector<std::string> exclude = {},
               std::string created = "2026-11-26T10:00:00Z") {
  return QueuedBackup{std::move(name),    std::move(phase),   position,
                      std::move(created), std::move(include), std::move(exclude)};
}

const std::vector<std::string> kLive = {"a", "b", "c", "kube-system"};

TEST(BackupQueueTest, NewArrivalsQueueInCreationOrderBehindTheQueue) {
  QueuePlan plan = PlanBackupQueue(
      {B("running", "InProgress", 0, {"*"}), B("late", "", 0, {"a"}, {}, "2026-11-26T10:00:02Z"),
       B("early", "New", 0, {"b"}, {}, "2026-11-26T10:00:01Z"), B("first", "Queued", 1, {"c"})},
      kLive, 1);
  EXPECT_THAT(plan.ready, IsEmpty());
  // "first" keeps position 1 (unchanged, so not patched); arrivals follow by creation time.
  EXPECT_THAT(plan.queued, ElementsAre(Pair("early", 2), Pair("late", 3)));
}

TEST(BackupQueueTest, ArrivalsAreEnqueuedBehindTheLastPosition) {
  std::vector<QueuedBackup> backups = {
      B("q", "Queued", 4, {"a"}), B("late", "New", 0, {"a"}, {}, "2026-11-26T10:00:02Z"),
      B("early", "", 0, {"a"}, {}, "2026-11-26T10:00:01Z"), B("done", "Completed", 0, {"a"})};
  EXPECT_THAT(EnqueueArrivals(backups), ElementsAre(Pair("early", 5), Pair("late", 6)));
  EXPECT_EQ(backups[1].phase, "Queued");
  EXPECT_EQ(backups[1].position, 6);
  EXPECT_EQ(backups[3].phase, "Completed");
}

TEST(BackupQueueTest, OneAtATimeByDefault) {
  QueuePlan plan = PlanBackupQueue({B("x", "", 0, {"a"}, {}, "2026-11-26T10:00:01Z"),
                                    B("y", "", 0, {"b"}, {}, "2026-11-26T10:00:02Z")},
                                   kLive, 1);
  EXPECT_THAT(plan.ready, ElementsAre("x"));
  EXPECT_THAT(plan.queued, ElementsAre(Pair("y", 1)));
}

TEST(BackupQueueTest, DisjointNamespacesRunTogetherUpToTheLimit) {
  QueuePlan plan = PlanBackupQueue(
      {B("r", "InProgress", 0, {"a"}), B("q1", "Queued", 1, {"b"}), B("q2", "Queued", 2, {"c"})},
      kLive, 2);
  EXPECT_THAT(plan.ready, ElementsAre("q1"));
  EXPECT_THAT(plan.queued, ElementsAre(Pair("q2", 1)));  // renumbered
}

TEST(BackupQueueTest, OverlapWithARunningBackupWaits) {
  // "*" covers every live namespace; "a" overlaps it.
  QueuePlan plan =
      PlanBackupQueue({B("all", "ReadyToStart", 0, {"*"}), B("q", "Queued", 1, {"a"})}, kLive, 5);
  EXPECT_THAT(plan.ready, IsEmpty());
  EXPECT_THAT(plan.queued, IsEmpty());  // still at position 1
}

TEST(BackupQueueTest, ExclusionsAndGlobsDecideTheOverlap) {
  // "all but a" does not overlap "a"; "?" (glob) covers a, b and c.
  QueuePlan plan = PlanBackupQueue({B("r", "InProgress", 0, {"*"}, {"a"}),
                                    B("qa", "Queued", 1, {"a"}), B("qglob", "Queued", 2, {"?"})},
                                   kLive, 5);
  EXPECT_THAT(plan.ready, ElementsAre("qa"));
  EXPECT_THAT(plan.queued, ElementsAre(Pair("qglob", 1)));
}

TEST(BackupQueueTest, AnEarlierQueuedBackupBlocksALaterOverlappingOne) {
  // q1 waits for r (overlap on a); q2 overlaps q1 (on b) and must not jump ahead of it, while
  // q3 (only c) may start.
  QueuePlan plan =
      PlanBackupQueue({B("r", "InProgress", 0, {"a"}), B("q1", "Queued", 1, {"a", "b"}),
                       B("q2", "Queued", 2, {"b"}), B("q3", "Queued", 3, {"c"})},
                      kLive, 5);
  EXPECT_THAT(plan.ready, ElementsAre("q3"));
  EXPECT_THAT(plan.queued, ElementsAre());  // q1 and q2 keep positions 1 and 2
}

TEST(BackupQueueTest, NamedNamespacesThatDoNotExistYetStillCount) {
  EXPECT_THAT(CoveredNamespaces(B("x", "", 0, {"future", "a"}), kLive),
              ::testing::UnorderedElementsAre("future", "a"));
  QueuePlan plan = PlanBackupQueue(
      {B("r", "InProgress", 0, {"future"}), B("q", "Queued", 1, {"future"})}, kLive, 5);
  EXPECT_THAT(plan.ready, IsEmpty());
}

TEST(BackupQueueTest, FinishedBackupsFreeTheirSlot) {
  QueuePlan plan = PlanBackupQueue({B("done", "Completed", 0, {"a"}),
                                    B("failed", "Failed", 0, {"a"}), B("q", "Queued", 1, {"a"})},
                                   kLive, 1);
  EXPECT_THAT(plan.ready, ElementsAre("q"));
}

}  // namespace
}  // namespace arca::controller
