#include "backup/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::backup {
namespace {

using ::testing::ElementsAre;

kube::ApiResource R(const char* group, const char* resource, bool namespaced,
                    std::vector<std::string> verbs = {"create", "delete", "get", "list", "watch"}) {
  kube::ApiResource r;
  r.gvr = {group, "v1", resource};
  r.namespaced = namespaced;
  r.verbs = std::move(verbs);
  r.preferred = true;
  return r;
}

std::vector<std::string> Names(const std::vector<kube::ApiResource>& types) {
  std::vector<std::string> out;
  for (const auto& t : types) {
    out.push_back(t.gvr.group.empty() ? t.gvr.resource : t.gvr.resource + "." + t.gvr.group);
  }
  return out;
}

// Discovery in the server's order, with a legacy "extensions" group before "apps".
std::vector<kube::ApiResource> Discovery() {
  return {
      R("", "configmaps", true),
      R("", "events", true),
      R("", "namespaces", false),
      R("", "persistentvolumes", false),
      R("", "persistentvolumeclaims", true),
      R("", "pods", true),
      R("", "bindings", true, {"create"}),  // not listable: never backed up
      R("", "componentstatuses", false, {"get", "list"}),
      R("extensions", "deployments", true),
      R("extensions", "networkpolicies", true),
      R("apps", "deployments", true),
      R("apps", "replicasets", true),
      R("networking.k8s.io", "networkpolicies", true),
      R("events.k8s.io", "events", true),
      R("rbac.authorization.k8s.io", "clusterroles", false),
  };
}

TEST(BackupTypesTest, OrderAndCohabitation) {
  ResourceFilter everything(ResourceFilterSpec{}, true);
  EXPECT_THAT(
      Names(BackupTypes(Discovery(), everything)),
      ElementsAre("pods", "persistentvolumeclaims", "persistentvolumes", "configmaps", "events",
                  "namespaces", "deployments.apps", "replicasets.apps",
                  "networkpolicies.networking.k8s.io", "clusterroles.rbac.authorization.k8s.io"));
}

TEST(BackupTypesTest, FilterApplies) {
  ResourceFilterSpec spec;
  spec.included_resources = {"pods", "deployments.apps", "persistentvolumes"};
  ResourceFilter only(spec, false);  // some namespaces, includeClusterResources unset
  EXPECT_THAT(Names(BackupTypes(Discovery(), only)), ElementsAre("pods", "deployments.apps"));
}

TEST(PlanListsTest, AllNamespacesIsOneListPerType) {
  std::vector<kube::ApiResource> types = {R("", "pods", true), R("", "persistentvolumes", false)};
  NamespaceSelection all = ResolveNamespaces({"*"}, {}, {"a", "b"});
  std::vector<ListTask> tasks = PlanLists(types, all);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].ns, "");
  EXPECT_FALSE(tasks[0].filter_namespaces);
  EXPECT_EQ(tasks[1].type.gvr.resource, "persistentvolumes");

  NamespaceSelection all_but = ResolveNamespaces({"*"}, {"kube-*"}, {"a", "kube-system"});
  tasks = PlanLists(types, all_but);
  EXPECT_TRUE(tasks[0].filter_namespaces);  // one list, items filtered by namespace
}

TEST(PlanListsTest, NamedNamespacesAreListedOneByOneSorted) {
  std::vector<kube::ApiResource> types = {R("", "pods", true), R("", "namespaces", false)};
  NamespaceSelection some = ResolveNamespaces({"shop", "blog", "shop"}, {}, {});
  std::vector<ListTask> tasks = PlanLists(types, some);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].ns, "blog");
  EXPECT_EQ(tasks[1].ns, "shop");
  EXPECT_EQ(tasks[2].type.gvr.resource, "namespaces");
  EXPECT_EQ(tasks[2].ns, "");

  NamespaceSelection expanded = ResolveNamespaces({"prod-*"}, {"prod-b"}, {"prod-a", "prod-b"});
  tasks = PlanLists({R("", "pods", true)}, expanded);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].ns, "prod-a");

  NamespaceSelection none = ResolveNamespaces({"nope-*"}, {}, {"a"});
  EXPECT_TRUE(PlanLists({R("", "pods", true)}, none).empty());
}

}  // namespace
}  // namespace arca::backup
