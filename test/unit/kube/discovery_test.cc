#include "kube/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace arca::kube {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

std::string ReadTestData(const std::string& name) {
  std::ifstream in(std::string(ARCA_TESTDATA_DIR) + "/kube/discovery/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

DiscoveryIndex AggregatedIndex() {
  DiscoveryIndex index;
  EXPECT_TRUE(index.AddAggregated(ReadTestData("api-agg.json")).ok());
  EXPECT_TRUE(index.AddAggregated(ReadTestData("apis-agg.json")).ok());
  return index;
}

DiscoveryIndex LegacyIndex() {
  DiscoveryIndex index;
  EXPECT_TRUE(index.AddLegacyResourceList("", "v1", true, ReadTestData("api-v1.json")).ok());
  EXPECT_TRUE(index.AddLegacyResourceList("apps", "v1", true, ReadTestData("apps-v1.json")).ok());
  return index;
}

TEST(DiscoveryTest, AggregatedDocumentsFromARealServer) {
  DiscoveryIndex index = AggregatedIndex();
  Result<ApiResource> pods = index.Find({"", "v1", "pods"});
  ASSERT_TRUE(pods.ok()) << pods.status().ToString();
  EXPECT_EQ(pods->kind, "Pod");
  EXPECT_EQ(pods->singular, "pod");
  EXPECT_TRUE(pods->namespaced);
  EXPECT_TRUE(pods->preferred);
  EXPECT_THAT(pods->short_names, ElementsAre("po"));
  EXPECT_THAT(pods->categories, Contains("all"));
  EXPECT_THAT(pods->verbs, IsSupersetOf({"create", "delete", "deletecollection", "get", "list",
                                         "patch", "update", "watch"}));
  EXPECT_TRUE(pods->HasSubresource("status"));
  EXPECT_TRUE(pods->HasSubresource("exec"));
  EXPECT_TRUE(pods->HasSubresource("log"));
  EXPECT_FALSE(pods->HasSubresource("scale"));

  Result<ApiResource> deployments = index.Find({"apps", "v1", "deployments"});
  ASSERT_TRUE(deployments.ok());
  EXPECT_EQ(deployments->kind, "Deployment");
  EXPECT_TRUE(deployments->HasSubresource("scale"));
  EXPECT_TRUE(deployments->HasVerb("watch"));

  Result<ApiResource> namespaces = index.Find({"", "v1", "namespaces"});
  ASSERT_TRUE(namespaces.ok());
  EXPECT_FALSE(namespaces->namespaced);
  EXPECT_TRUE(namespaces->HasSubresource("finalize"));

  // autoscaling lists v2 first, so v2 is preferred and v1 is not.
  EXPECT_TRUE(index.Find({"autoscaling", "v2", "horizontalpodautoscalers"})->preferred);
  EXPECT_FALSE(index.Find({"autoscaling", "v1", "horizontalpodautoscalers"})->preferred);
  EXPECT_EQ(index.Find({"apps", "v9", "deployments"}).status().code(), StatusCode::kNotFound);
}

TEST(DiscoveryTest, LegacyAndAggregatedAgree) {
  DiscoveryIndex aggregated = AggregatedIndex();
  DiscoveryIndex legacy = LegacyIndex();
  int compared = 0;
  for (const ApiResource& r : legacy.Resources()) {
    Result<ApiResource> a = aggregated.Find(r.gvr);
    ASSERT_TRUE(a.ok()) << r.gvr.ToString();
    EXPECT_EQ(a->kind, r.kind) << r.gvr.ToString();
    EXPECT_EQ(a->singular, r.singular) << r.gvr.ToString();
    EXPECT_EQ(a->namespaced, r.namespaced) << r.gvr.ToString();
    EXPECT_EQ(a->verbs, r.verbs) << r.gvr.ToString();
    EXPECT_EQ(a->short_names, r.short_names) << r.gvr.ToString();
    auto subs_a = a->subresources;
    auto subs_l = r.subresources;
    std::sort(subs_a.begin(), subs_a.end());
    std::sort(subs_l.begin(), subs_l.end());
    EXPECT_EQ(subs_a, subs_l) << r.gvr.ToString();
    ++compared;
  }
  EXPECT_GT(compared, 20);
}

TEST(DiscoveryTest, LegacyGroupListGivesPreferredVersions) {
  Result<std::vector<DiscoveryIndex::LegacyGroupVersion>> groups =
      DiscoveryIndex::ParseLegacyGroupList(ReadTestData("apis-legacy.json"));
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_GT(groups->size(), 10u);
  int autoscaling = 0;
  for (const auto& gv : *groups) {
    if (gv.group == "autoscaling") {
      ++autoscaling;
      EXPECT_EQ(gv.preferred, gv.version == "v2") << gv.version;
    }
    if (gv.group == "apps") {
      EXPECT_EQ(gv.version, "v1");
      EXPECT_TRUE(gv.preferred);
    }
  }
  EXPECT_EQ(autoscaling, 2);
}

TEST(DiscoveryTest, ResolvesNamesLikeKubectl) {
  for (const DiscoveryIndex& index : {AggregatedIndex(), LegacyIndex()}) {
    struct Case {
      const char* name;
      const char* want;
    };
    for (const Case& c : std::vector<Case>{
             {"pods", "pods.v1"},
             {"pod", "pods.v1"},
             {"po", "pods.v1"},
             {"Pod", "pods.v1"},
             {"PODS", "pods.v1"},
             {"pods.v1", "pods.v1"},
             {"deploy", "deployments.v1.apps"},
             {"deployment", "deployments.v1.apps"},
             {"deployments.apps", "deployments.v1.apps"},
             {"deploy.apps", "deployments.v1.apps"},
             {"deployments.v1.apps", "deployments.v1.apps"},
             {"Deployment.apps", "deployments.v1.apps"},
             {"cm", "configmaps.v1"},
             {"ns", "namespaces.v1"},
             {"svc", "services.v1"},
             {"sts", "statefulsets.v1.apps"},
             // The core group wins over events.k8s.io.
             {"events", "events.v1"},
             {"ev", "events.v1"},
         }) {
      Result<ApiResource> r = index.Resolve(c.name);
      ASSERT_TRUE(r.ok()) << c.name << ": " << r.status().ToString();
      EXPECT_EQ(r->gvr.ToString(), c.want) << c.name;
    }
  }
  DiscoveryIndex index = AggregatedIndex();
  EXPECT_EQ(index.Resolve("events.events.k8s.io")->gvr.ToString(), "events.v1.events.k8s.io");
  EXPECT_EQ(index.Resolve("hpa")->gvr.ToString(), "horizontalpodautoscalers.v2.autoscaling");
  EXPECT_EQ(index.Resolve("hpa.v1.autoscaling")->gvr.ToString(),
            "horizontalpodautoscalers.v1.autoscaling");
  EXPECT_EQ(index.Resolve("crd")->gvr.ToString(),
            "customresourcedefinitions.v1.apiextensions.k8s.io");
  for (const char* missing :
       {"widgets", "deployments.batch", "deployments.v2.apps", "pods.v2", "pods/status", ""}) {
    Result<ApiResource> r = index.Resolve(missing);
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << missing;
    EXPECT_THAT(r.status().message(),
                HasSubstr("the server doesn't have a resource type \"" + std::string(missing)));
  }
}

TEST(DiscoveryTest, FindByKind) {
  DiscoveryIndex index = AggregatedIndex();
  EXPECT_EQ(index.FindByKind("apps", "Deployment", "")->gvr.ToString(), "deployments.v1.apps");
  EXPECT_EQ(index.FindByKind("", "ConfigMap", "v1")->gvr.resource, "configmaps");
  EXPECT_EQ(index.FindByKind("autoscaling", "HorizontalPodAutoscaler", "")->gvr.version, "v2");
  EXPECT_EQ(index.FindByKind("autoscaling", "HorizontalPodAutoscaler", "v1")->gvr.version, "v1");
  EXPECT_EQ(index.FindByKind("apps", "Pod", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(index.FindByKind("apps", "Deployment", "v1beta1").status().code(),
            StatusCode::kNotFound);
}

TEST(DiscoveryTest, PreferredResourcesHaveOneVersionPerResource) {
  DiscoveryIndex index = AggregatedIndex();
  std::vector<ApiResource> preferred = index.PreferredResources();
  std::set<std::pair<std::string, std::string>> seen;
  for (const ApiResource& r : preferred) {
    EXPECT_TRUE(seen.insert({r.gvr.group, r.gvr.resource}).second) << r.gvr.ToString();
  }
  EXPECT_LT(preferred.size(), index.Resources().size());
  EXPECT_EQ(preferred.front().gvr.group, "");  // the core group comes first
}

TEST(DiscoveryTest, LaterDocumentsReplaceEarlierEntries) {
  DiscoveryIndex index;
  ASSERT_TRUE(index
                  .AddAggregated(R"({"kind":"APIGroupDiscoveryList","items":[{"metadata":
                    {"name":"example.com"},"versions":[{"version":"v1","resources":[{"resource":
                    "widgets","responseKind":{"kind":"Widget"},"scope":"Cluster",
                    "singularResource":"widget","verbs":["get"]}]}]}]})")
                  .ok());
  EXPECT_FALSE(index.Resolve("widget")->namespaced);
  ASSERT_TRUE(index
                  .AddAggregated(R"({"kind":"APIGroupDiscoveryList","items":[{"metadata":
                    {"name":"example.com"},"versions":[{"version":"v1","resources":[{"resource":
                    "widgets","responseKind":{"kind":"Widget"},"scope":"Namespaced",
                    "singularResource":"widget","shortNames":["wd"],"verbs":["get","list"]}]}]}]})")
                  .ok());
  EXPECT_EQ(index.Resources().size(), 1u);
  EXPECT_TRUE(index.Resolve("wd")->namespaced);
}

TEST(DiscoveryTest, RejectsOtherDocuments) {
  DiscoveryIndex index;
  EXPECT_EQ(index.AddAggregated("{").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.AddAggregated(ReadTestData("apis-legacy.json")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index.AddLegacyResourceList("apps", "v1", true, ReadTestData("apis-agg.json")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DiscoveryIndex::ParseLegacyGroupList("[]").status().code(),
            StatusCode::kInvalidArgument);
  // Wrongly typed fields are skipped, not thrown on.
  EXPECT_TRUE(index
                  .AddLegacyResourceList("x", "v1", true,
                                         R"({"kind":"APIResourceList","resources":[
                    {"name":"things","namespaced":"yes","verbs":"get","kind":7}, 5]})")
                  .ok());
  EXPECT_FALSE(index.Find({"x", "v1", "things"})->namespaced);
}

}  // namespace
}  // namespace arca::kube
