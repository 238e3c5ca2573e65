#include "request_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::bench {
namespace {

using ::testing::ElementsAre;

RecordedRequest Req(double start, double end, std::string method, std::string url,
                    std::string body = "") {
  RecordedRequest r;
  r.start = start;
  r.end = end;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.status = 201;
  return r;
}

TEST(ObjectOfTest, APostNamesTheObjectOfItsBodyAndTheQueryIsLeftOut) {
  EXPECT_EQ(ObjectOf(Req(0, 1, "POST", "https://h/api/v1/namespaces/a/configmaps?fieldManager=m",
                         R"({"metadata":{"name":"x"}})")),
            "https://h/api/v1/namespaces/a/configmaps/x");
  EXPECT_EQ(ObjectOf(Req(0, 1, "PATCH", "https://h/api/v1/namespaces/a/configmaps/x")),
            "https://h/api/v1/namespaces/a/configmaps/x");
  EXPECT_EQ(ObjectOf(Req(0, 1, "POST", "https://h/api/v1/namespaces", "not json")),
            "https://h/api/v1/namespaces");
}

TEST(PlanReplayTest, ARequestThatStartsWithNothingInFlightStartsAPhase) {
  // Two overlapping creates, then (after both ended) two more that overlap: two phases. The
  // input is not in start order.
  const std::vector<RecordedRequest> records = {
      Req(3.0, 4.0, "POST", "u/c", R"({"metadata":{"name":"c"}})"),
      Req(0.0, 2.0, "POST", "u/a", R"({"metadata":{"name":"a"}})"),
      Req(1.0, 2.5, "POST", "u/b", R"({"metadata":{"name":"b"}})"),
      Req(3.5, 5.0, "POST", "u/d", R"({"metadata":{"name":"d"}})"),
  };
  const ReplayPlan plan = PlanReplay(records);
  ASSERT_EQ(plan.phases.size(), 2u);
  EXPECT_THAT(plan.phases[0], ElementsAre(1, 2));
  EXPECT_THAT(plan.phases[1], ElementsAre(0, 3));
  for (const auto& after : plan.after) {
    EXPECT_FALSE(after.has_value());
  }
}

TEST(PlanReplayTest, APatchWaitsForTheCreateOfItsObjectInTheSamePhaseOnly) {
  const std::vector<RecordedRequest> records = {
      Req(0.0, 1.0, "POST", "u/deployments", R"({"metadata":{"name":"d"}})"),
      Req(0.1, 1.5, "POST", "u/deployments", R"({"metadata":{"name":"e"}})"),
      Req(1.2, 2.0, "PATCH", "u/deployments/d"),
      // A new phase: the same object again does not wait across the phase boundary.
      Req(3.0, 4.0, "PATCH", "u/deployments/d"),
  };
  const ReplayPlan plan = PlanReplay(records);
  ASSERT_EQ(plan.phases.size(), 2u);
  EXPECT_THAT(plan.phases[0], ElementsAre(0, 1, 2));
  EXPECT_FALSE(plan.after[0].has_value());
  EXPECT_FALSE(plan.after[1].has_value());
  ASSERT_TRUE(plan.after[2].has_value());
  EXPECT_EQ(*plan.after[2], 0u);
  EXPECT_FALSE(plan.after[3].has_value());
}

}  // namespace
}  // namespace arca::bench
