#include "controller/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace arca::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

WorkQueueOptions Options(milliseconds base, milliseconds max, milliseconds poll) {
  WorkQueueOptions o;
  o.base_delay = base;
  o.max_delay = max;
  o.poll = poll;
  return o;
}

class WorkQueueTest : public ::testing::Test {
 protected:
  SimulatedClock clock_{std::chrono::system_clock::time_point{} + std::chrono::hours(1000)};
};

TEST_F(WorkQueueTest, AddingAKeyTwiceQueuesItOnce) {
  WorkQueue q(clock_);
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  std::string k;
  ASSERT_TRUE(q.TryGet(k));
  EXPECT_EQ(k, "a");
  ASSERT_TRUE(q.TryGet(k));
  EXPECT_EQ(k, "b");
  EXPECT_FALSE(q.TryGet(k));
}

TEST_F(WorkQueueTest, AKeyAddedWhileProcessedIsQueuedAgainOnlyWhenDone) {
  WorkQueue q(clock_);
  q.Add("a");
  std::string k;
  ASSERT_TRUE(q.TryGet(k));
  q.Add("a");  // changed while a worker holds it
  EXPECT_EQ(q.Len(), 0u) << "no second worker may get it now";
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  ASSERT_TRUE(q.TryGet(k));
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClockAndTheEarlierDueTimeWins) {
  WorkQueue q(clock_);
  q.AddAfter("a", seconds(10));
  q.AddAfter("a", seconds(5));
  q.AddAfter("a", seconds(20));
  std::string k;
  EXPECT_FALSE(q.TryGet(k));
  EXPECT_EQ(q.DelayedLen(), 1u);
  clock_.Advance(seconds(4));
  EXPECT_FALSE(q.TryGet(k));
  clock_.Advance(seconds(1));
  ASSERT_TRUE(q.TryGet(k));
  EXPECT_EQ(k, "a");
  q.Done(k);
  EXPECT_EQ(q.DelayedLen(), 0u);
}

TEST_F(WorkQueueTest, AddCancelsAPendingDelay) {
  WorkQueue q(clock_);
  q.AddAfter("a", seconds(10));
  q.Add("a");
  std::string k;
  ASSERT_TRUE(q.TryGet(k));
  q.Done(k);
  clock_.Advance(seconds(11));
  EXPECT_FALSE(q.TryGet(k)) << "the delayed copy must not run a second time";
}

TEST_F(WorkQueueTest, RateLimitedBackoffDoublesPerKeyUpToTheCapAndForgetResets) {
  WorkQueue q(clock_, Options(milliseconds(5), milliseconds(30), milliseconds(50)));
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(5));
  q.AddRateLimited("a");
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(10));
  q.AddRateLimited("a");
  q.AddRateLimited("a");
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(30)) << "5, 10, 20, then capped at 30";
  EXPECT_EQ(q.Failures("a"), 3);
  EXPECT_EQ(q.NextBackoff("b"), milliseconds(5)) << "per key";
  q.Forget("a");
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(5));
  std::string k;
  EXPECT_FALSE(q.TryGet(k));
  clock_.Advance(milliseconds(5));
  EXPECT_TRUE(q.TryGet(k));
}

TEST_F(WorkQueueTest, GetBlocksUntilAKeyArrivesAndShutDownWakesEveryWorker) {
  WorkQueue q(RealClock());
  std::atomic<int> got{0};
  std::atomic<int> ended{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      std::string k;
      while (q.Get(k)) {
        ++got;
        q.Done(k);
      }
      ++ended;
    });
  }
  q.Add("x");
  while (got.load() == 0) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  q.ShutDown();
  for (auto& t : workers) {
    t.join();
  }
  EXPECT_EQ(got.load(), 1);
  EXPECT_EQ(ended.load(), 3);
  q.Add("y");
  EXPECT_EQ(q.Len(), 0u) << "a shut-down queue takes nothing";
}

TEST_F(WorkQueueTest, AWaitingWorkerNoticesASimulatedClockAdvance) {
  WorkQueue q(clock_, Options(milliseconds(5), milliseconds(1000), milliseconds(5)));
  q.AddAfter("later", seconds(30));
  std::atomic<bool> done{false};
  std::thread worker([&] {
    std::string k;
    if (q.Get(k)) {
      q.Done(k);
      done = true;
    }
  });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(done.load());
  clock_.Advance(seconds(30));
  worker.join();
  EXPECT_TRUE(done.load());
}

}  // namespace
}  // namespace arca::controller
