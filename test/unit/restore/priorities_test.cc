#include "restore/priorities.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::restore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RestoreOrderTest, CrdsThenHighThenAlphabeticalThenLow) {
  std::vector<std::string> in_backup = {
      "widgets.example.com",
      "configmaps",
      "deployments.apps",
      "namespaces",
      "customresourcedefinitions.apiextensions.k8s.io",
      "clusters.cluster.x-k8s.io",
      "pods",
      "persistentvolumes",
      "persistentvolumeclaims",
      "clusterroles.rbac.authorization.k8s.io",
      "services",
      "secrets",
      "storageclasses.storage.k8s.io",
      "apps.kappctrl.k14s.io",
      "ingresses.networking.k8s.io",
  };
  EXPECT_THAT(RestoreOrder(in_backup, DefaultPriorities()),
              ElementsAre("customresourcedefinitions.apiextensions.k8s.io", "namespaces",
                          "storageclasses.storage.k8s.io", "persistentvolumes",
                          "persistentvolumeclaims", "clusterroles.rbac.authorization.k8s.io",
                          "secrets", "configmaps", "pods", "services",
                          // the rest, alphabetically
                          "deployments.apps", "ingresses.networking.k8s.io", "widgets.example.com",
                          // low priorities, in their order
                          "clusters.cluster.x-k8s.io", "apps.kappctrl.k14s.io"));
}

TEST(RestoreGroupsTest, UnlistedTypesShareOneGroupListedTypesHaveTheirOwn) {
  std::vector<std::string> in_backup = {"widgets.example.com",
                                        "configmaps",
                                        "deployments.apps",
                                        "namespaces",
                                        "customresourcedefinitions.apiextensions.k8s.io",
                                        "clusters.cluster.x-k8s.io",
                                        "apps.kappctrl.k14s.io",
                                        "secrets",
                                        "endpointslices.discovery.k8s.io"};
  using Group = std::vector<std::string>;
  EXPECT_THAT(RestoreGroups(in_backup, DefaultPriorities()),
              ElementsAre(Group{"customresourcedefinitions.apiextensions.k8s.io"},
                          Group{"namespaces"}, Group{"secrets"}, Group{"configmaps"},
                          Group{"deployments.apps", "endpointslices.discovery.k8s.io",
                                "widgets.example.com"},
                          Group{"clusters.cluster.x-k8s.io"}, Group{"apps.kappctrl.k14s.io"}));
  // A type named in the high list leaves the shared group for a group of its own.
  Priorities p = DefaultPriorities();
  p.high.push_back("deployments.apps");
  EXPECT_THAT(
      RestoreGroups(in_backup, p),
      ElementsAre(Group{"customresourcedefinitions.apiextensions.k8s.io"}, Group{"namespaces"},
                  Group{"secrets"}, Group{"configmaps"}, Group{"deployments.apps"},
                  Group{"endpointslices.discovery.k8s.io", "widgets.example.com"},
                  Group{"clusters.cluster.x-k8s.io"}, Group{"apps.kappctrl.k14s.io"}));
  // ControllerRevisions come before the DaemonSets and StatefulSets that own them, which would
  // otherwise make them first.
  EXPECT_THAT(RestoreGroups({"statefulsets.apps", "daemonsets.apps", "controllerrevisions.apps",
                             "deployments.apps", "pods"},
                            DefaultPriorities()),
              ElementsAre(Group{"pods"}, Group{"controllerrevisions.apps"},
                          Group{"daemonsets.apps", "deployments.apps", "statefulsets.apps"}));
  // Only listed types: no shared group.
  EXPECT_THAT(RestoreGroups({"secrets", "namespaces"}, DefaultPriorities()),
              ElementsAre(Group{"namespaces"}, Group{"secrets"}));
  EXPECT_THAT(RestoreGroups({}, DefaultPriorities()), ::testing::IsEmpty());
}

TEST(RestoreOrderTest, ResolverDecidesAmbiguousNames) {
  // "roles" could be rbac's or a custom group's: the resolver (discovery) decides.
  std::vector<std::string> in_backup = {"roles.rbac.authorization.k8s.io", "roles.example.com",
                                        "pods"};
  auto resolve = [](const std::string& name) {
    return name == "roles" ? std::string("roles.rbac.authorization.k8s.io") : name;
  };
  EXPECT_THAT(RestoreOrder(in_backup, DefaultPriorities(), resolve),
              ElementsAre("roles.rbac.authorization.k8s.io", "pods", "roles.example.com"));
  // Without one, an ambiguous short name matches nothing and both sort alphabetically.
  EXPECT_THAT(RestoreOrder(in_backup, DefaultPriorities()),
              ElementsAre("pods", "roles.example.com", "roles.rbac.authorization.k8s.io"));
}

TEST(PrioritiesTest, FlagKeepsTheDefaultsWhenEmptyAndNamesItselfInErrors) {
  Result<Priorities> empty = PrioritiesFlag("--restore-resource-priorities", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->high, DefaultPriorities().high);
  EXPECT_EQ(empty->low, DefaultPriorities().low);
  Result<Priorities> set = PrioritiesFlag("--restore-resource-priorities", "namespaces,-,pods");
  ASSERT_TRUE(set.ok());
  EXPECT_THAT(set->high, ElementsAre("namespaces"));
  EXPECT_THAT(set->low, ElementsAre("pods"));
  Result<Priorities> bad = PrioritiesFlag("--restore-resource-priorities", ",");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("--restore-resource-priorities: invalid"));
  EXPECT_THAT(bad.status().message(), HasSubstr("e.g. namespaces,secrets,-,"));
}

TEST(PrioritiesTest, ParseFlag) {
  Result<Priorities> both = ParsePriorities("namespaces,pods,-,services");
  ASSERT_TRUE(both.ok());
  EXPECT_THAT(both->high, ElementsAre("namespaces", "pods"));
  EXPECT_THAT(both->low, ElementsAre("services"));

  // Without "-", only the high list changes; the default low list stays (as in Velero).
  Result<Priorities> high_only = ParsePriorities("secrets,configmaps");
  ASSERT_TRUE(high_only.ok());
  EXPECT_THAT(high_only->high, ElementsAre("secrets", "configmaps"));
  EXPECT_EQ(high_only->low, DefaultPriorities().low);

  EXPECT_THAT(ParsePriorities("a,,b").status().message(), HasSubstr("empty element"));
  EXPECT_THAT(ParsePriorities("a,-,b,-,c").status().message(), HasSubstr("more than one"));
}

}  // namespace
}  // namespace arca::restore
