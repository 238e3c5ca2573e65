#include "controller/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "fake_kube.h"

namespace arca::controller {
namespace {

using std::chrono::seconds;
using testing::FakeKube;

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionConfig Config(const std::string& identity) {
    LeaderElectionConfig c;
    c.namespace_name = "velero";
    c.identity = identity;
    return c;
  }
  std::string Holder() {
    nlohmann::json lease = fake_.Get("coordination.k8s.io", "leases", "velero", "arca-server");
    return lease.is_null() ? "<none>" : lease["spec"].value("holderIdentity", "");
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  FakeKube fake_{clock_};
  kube::ConnectionPtr conn_a_ = FakeKube::Connect(fake_, clock_);
  kube::ConnectionPtr conn_b_ = FakeKube::Connect(fake_, clock_);
  std::ostringstream log_out_;
  Logger log_{log_out_, clock_, LogFormat::kText};
};

TEST_F(LeaderElectionTest, FirstCandidateCreatesTheLeaseAndTheSecondWaits) {
  LeaderElector a(conn_a_->client(), clock_, log_, Config("a"));
  LeaderElector b(conn_b_->client(), clock_, log_, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew().value());
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(b.TryAcquireOrRenew().value());
  EXPECT_FALSE(b.IsLeader());
  nlohmann::json lease = fake_.Get("coordination.k8s.io", "leases", "velero", "arca-server");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(lease["spec"]["acquireTime"], "2026-11-18T11:06:40.000000Z");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0);
}

TEST_F(LeaderElectionTest, RenewalKeepsTheLeaseAndAnExpiredLeaseIsTakenOver) {
  LeaderElector a(conn_a_->client(), clock_, log_, Config("a"));
  LeaderElector b(conn_b_->client(), clock_, log_, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew().value());
  for (int i = 0; i < 10; ++i) {  // a renews every 2 s; b never gets it
    clock_.Advance(seconds(2));
    ASSERT_TRUE(a.TryAcquireOrRenew().value());
    ASSERT_FALSE(b.TryAcquireOrRenew().value());
  }
  // a stops renewing (crashed). b takes over once it has seen the same record for 15 s.
  clock_.Advance(seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew().value());
  clock_.Advance(seconds(2));
  EXPECT_TRUE(b.TryAcquireOrRenew().value());
  EXPECT_EQ(Holder(), "b");
  nlohmann::json lease = fake_.Get("coordination.k8s.io", "leases", "velero", "arca-server");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  // a comes back: it sees b's fresh record and stays a follower.
  EXPECT_FALSE(a.TryAcquireOrRenew().value());
  EXPECT_FALSE(a.IsLeader());
}

TEST_F(LeaderElectionTest, ARaceOnTheSameRecordHasOneWinner) {
  LeaderElector a(conn_a_->client(), clock_, log_, Config("a"));
  ASSERT_TRUE(a.TryAcquireOrRenew().value());
  ASSERT_TRUE(a.Release().ok());
  EXPECT_EQ(Holder(), "");
  // b and c both read the released lease; b writes first, c's write conflicts.
  LeaderElector b(conn_b_->client(), clock_, log_, Config("b"));
  kube::ConnectionPtr conn_c = FakeKube::Connect(fake_, clock_);
  LeaderElector c(conn_c->client(), clock_, log_, Config("c"));
  nlohmann::json stale = fake_.Get("coordination.k8s.io", "leases", "velero", "arca-server");
  ASSERT_TRUE(b.TryAcquireOrRenew().value());
  // c's update carries the stale resourceVersion: replay it through the client directly.
  stale["spec"]["holderIdentity"] = "c";
  kube::ResourceRef ref;
  ref.gvr = {"coordination.k8s.io", "v1", "leases"};
  ref.namespace_name = "velero";
  ref.name = "arca-server";
  EXPECT_EQ(conn_c->client().Update(ref, stale.dump()).status().code(), StatusCode::kAborted);
  EXPECT_FALSE(c.TryAcquireOrRenew().value()) << "b's fresh record is respected";
  EXPECT_EQ(Holder(), "b");
}

TEST_F(LeaderElectionTest, ReleasedLeaseIsTakenAtOnce) {
  LeaderElector a(conn_a_->client(), clock_, log_, Config("a"));
  LeaderElector b(conn_b_->client(), clock_, log_, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew().value());
  EXPECT_FALSE(b.TryAcquireOrRenew().value());
  ASSERT_TRUE(a.Release().ok());
  EXPECT_TRUE(b.TryAcquireOrRenew().value()) << "no need to wait for the lease duration";
}

TEST_F(LeaderElectionTest, RunStopsLeadingWhenRenewalsFailForTheRenewDeadline) {
  LeaderElector a(conn_a_->client(), clock_, log_, Config("a"));
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::atomic<bool> stop{false};
  std::thread t([&] {
    Status s = a.Run(
        stop, [&] { ++started; }, [&] { ++stopped; });
    EXPECT_EQ(s.code(), StatusCode::kAborted);
    EXPECT_THAT(s.message(), ::testing::HasSubstr("lost the leader lease"));
  });
  while (started == 0) {
    std::this_thread::yield();
  }
  // From now on every lease request fails: after 10 s of failed renewals a gives up.
  fake_.FailNext("leases", 500, 1000);
  t.join();
  EXPECT_EQ(started, 1);
  EXPECT_EQ(stopped, 1);
  EXPECT_FALSE(a.IsLeader());
  EXPECT_THAT(log_out_.str(), ::testing::HasSubstr("Lost the leader lease"));
}

TEST_F(LeaderElectionTest, RunReleasesTheLeaseOnStop) {
  LeaderElector a(conn_a_->client(), clock_, log_, Config("a"));
  std::atomic<bool> stop{false};
  int stopped = 0;
  Status s = a.Run(
      stop, [&] { stop = true; }, [&] { ++stopped; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stopped, 1);
  EXPECT_EQ(Holder(), "");
}

TEST_F(LeaderElectionTest, BadConfigIsRefused) {
  LeaderElectionConfig c = Config("");
  EXPECT_EQ(LeaderElector(conn_a_->client(), clock_, log_, c).Validate().code(),
            StatusCode::kInvalidArgument);
  c = Config("a");
  c.renew_deadline = seconds(20);
  EXPECT_THAT(LeaderElector(conn_a_->client(), clock_, log_, c).Validate().message(),
              ::testing::HasSubstr("renew deadline must be shorter"));
}

}  // namespace
}  // namespace arca::controller
