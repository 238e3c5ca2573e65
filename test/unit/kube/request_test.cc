#include "kube/request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube/rate_limiter.h"

namespace arca::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

ResourceRef Ref(std::string group, std::string resource, bool namespaced, std::string ns = "",
                std::string name = "", std::string sub = "") {
  ResourceRef ref;
  ref.gvr = {std::move(group), "v1", std::move(resource)};
  ref.namespaced = namespaced;
  ref.namespace_name = std::move(ns);
  ref.name = std::move(name);
  ref.subresource = std::move(sub);
  return ref;
}

TEST(RequestTest, Paths) {
  EXPECT_EQ(*ResourcePath(Ref("", "pods", true, "ns1")), "/api/v1/namespaces/ns1/pods");
  EXPECT_EQ(*ResourcePath(Ref("", "pods", true)), "/api/v1/pods");
  EXPECT_EQ(*ResourcePath(Ref("", "pods", true, "ns1", "web-0")),
            "/api/v1/namespaces/ns1/pods/web-0");
  EXPECT_EQ(*ResourcePath(Ref("", "pods", true, "ns1", "web-0", "status")),
            "/api/v1/namespaces/ns1/pods/web-0/status");
  EXPECT_EQ(*ResourcePath(Ref("", "namespaces", false, "", "ns1")), "/api/v1/namespaces/ns1");
  EXPECT_EQ(*ResourcePath(Ref("apps", "deployments", true, "ns1", "web", "scale")),
            "/apis/apps/v1/namespaces/ns1/deployments/web/scale");
  EXPECT_EQ(*ResourcePath(Ref("rbac.authorization.k8s.io", "clusterroles", false)),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles");
}

TEST(RequestTest, BadPaths) {
  struct Case {
    ResourceRef ref;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {Ref("", "pods", true, "", "web-0"), "a namespace is needed"},
           {Ref("", "nodes", false, "ns1"), "nodes are not namespaced"},
           {Ref("", "pods", true, "ns1", "a/b"), "name \"a/b\" is not valid"},
           {Ref("", "pods", true, "ns1", ".."), "name \"..\" is not valid"},
           {Ref("", "pods", true, "..", "x"), "namespace \"..\""},
           {Ref("", "pods", true, "ns1", "", "status"), "needs an object name"},
           {Ref("", "", true, "ns1"), "resource \"\""},
       }) {
    Result<std::string> r = ResourcePath(c.ref);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
  }
}

TEST(RequestTest, Describe) {
  EXPECT_EQ(Ref("apps", "deployments", true, "ns1", "web", "scale").Describe(),
            "deployments.apps ns1/web (scale)");
  EXPECT_EQ(Ref("", "configmaps", true, "ns1").Describe(), "configmaps ns1");
  EXPECT_EQ(Ref("", "nodes", false, "", "n1").Describe(), "nodes n1");
  EXPECT_EQ(Ref("", "pods", true).Describe(), "pods");
}

TEST(RequestTest, QueryEncoding) {
  EXPECT_EQ(EncodeQuery({}), "");
  EXPECT_EQ(EncodeQuery({{"labelSelector", "app in (a,b),!x"}, {"limit", "500"}}),
            "?labelSelector=app%20in%20%28a%2Cb%29%2C%21x&limit=500");
  EXPECT_EQ(EncodeQuery({{"continue", "eyJ2Ijo+/="}}), "?continue=eyJ2Ijo%2B%2F%3D");
}

TEST(RequestTest, ListAndWatchQueries) {
  ListOptions o;
  o.label_selector = "a=b";
  o.field_selector = "metadata.name=x";
  o.limit = 500;
  o.continue_token = "tok";
  o.resource_version = "0";
  o.resource_version_match = "NotOlderThan";
  o.timeout_seconds = 30;
  o.allow_watch_bookmarks = true;
  EXPECT_THAT(
      o.ToQuery(false),
      ElementsAre(Pair("labelSelector", "a=b"), Pair("fieldSelector", "metadata.name=x"),
                  Pair("limit", "500"), Pair("continue", "tok"), Pair("resourceVersion", "0"),
                  Pair("resourceVersionMatch", "NotOlderThan"), Pair("timeoutSeconds", "30")));
  o.resource_version_match.clear();
  EXPECT_THAT(o.ToQuery(true),
              ElementsAre(Pair("labelSelector", "a=b"), Pair("fieldSelector", "metadata.name=x"),
                          Pair("resourceVersion", "0"), Pair("watch", "true"),
                          Pair("allowWatchBookmarks", "true"), Pair("timeoutSeconds", "30")));
  EXPECT_TRUE(ListOptions{}.ToQuery(false).empty());
}

TEST(RequestTest, WriteAndDeleteOptions) {
  WriteOptions w;
  EXPECT_TRUE(w.ToQuery().empty());
  w.dry_run = true;
  w.field_manager = "arca";
  w.force = true;
  EXPECT_THAT(w.ToQuery(), ElementsAre(Pair("dryRun", "All"), Pair("fieldManager", "arca"),
                                       Pair("force", "true")));
  EXPECT_EQ(PatchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kStrategicMerge), "application/strategic-merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kApply), "application/apply-patch+yaml");

  DeleteOptions d;
  EXPECT_EQ(nlohmann::json::parse(d.ToBody()),
            nlohmann::json::parse(R"({"kind":"DeleteOptions","apiVersion":"v1"})"));
  d.propagation_policy = "Foreground";
  d.grace_period_seconds = 0;
  d.precondition_uid = "u1";
  d.precondition_resource_version = "42";
  d.dry_run = true;
  EXPECT_EQ(nlohmann::json::parse(d.ToBody()), nlohmann::json::parse(R"({
    "kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground",
    "gracePeriodSeconds":0,"preconditions":{"uid":"u1","resourceVersion":"42"},
    "dryRun":["All"]})"));
}

TEST(RateLimiterTest, BurstThenQps) {
  SimulatedClock clock(std::chrono::system_clock::time_point{});
  RateLimiter limiter(10, 3, clock);
  for (int i = 0; i < 3; ++i) {
    limiter.Acquire();
  }
  EXPECT_TRUE(clock.Sleeps().empty());
  EXPECT_EQ(limiter.WaitTime(), std::chrono::milliseconds(100));
  limiter.Acquire();  // waits 100 ms for the next token
  limiter.Acquire();  // and 100 ms more
  ASSERT_EQ(clock.Sleeps().size(), 2u);
  EXPECT_EQ(clock.Sleeps()[0], std::chrono::milliseconds(100));
  EXPECT_EQ(clock.Sleeps()[1], std::chrono::milliseconds(100));
  // Idle time refills the bucket up to the burst, no further.
  clock.Advance(std::chrono::seconds(10));
  for (int i = 0; i < 3; ++i) {
    limiter.Acquire();
  }
  EXPECT_EQ(clock.Sleeps().size(), 2u);
  limiter.Acquire();
  EXPECT_EQ(clock.Sleeps().size(), 3u);
}

TEST(RateLimiterTest, ZeroQpsIsUnlimited) {
  SimulatedClock clock(std::chrono::system_clock::time_point{});
  RateLimiter limiter(0, 1, clock);
  for (int i = 0; i < 1000; ++i) {
    limiter.Acquire();
  }
  EXPECT_TRUE(clock.Sleeps().empty());
}

}  // namespace
}  // namespace arca::kube
