#include "backup/filters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::backup {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const ResourceType kPods{"pods", true};
const ResourceType kDeployments{"deployments.apps", true};
const ResourceType kSecrets{"secrets", true};
const ResourceType kNamespaces{"namespaces", false};
const ResourceType kPVs{"persistentvolumes", false};
const ResourceType kClusterRoles{"clusterroles.rbac.authorization.k8s.io", false};
const ResourceType kCRDs{"customresourcedefinitions.apiextensions.k8s.io", false};
const ResourceType kVolumeSnapshots{"volumesnapshots.snapshot.storage.k8s.io", true};
const ResourceType kVolumeSnapshotContents{"volumesnapshotcontents.snapshot.storage.k8s.io", false};

TEST(IncludesExcludesTest, Semantics) {
  IncludesExcludes all;
  EXPECT_TRUE(all.ShouldInclude("anything"));
  EXPECT_TRUE(all.IncludesEverything());

  IncludesExcludes star({"*"}, {});
  EXPECT_TRUE(star.IncludesEverything());

  IncludesExcludes some({"prod-*", "shop"}, {"prod-secret"});
  EXPECT_TRUE(some.ShouldInclude("prod-web"));
  EXPECT_TRUE(some.ShouldInclude("shop"));
  EXPECT_FALSE(some.ShouldInclude("prod-secret"));  // excludes win
  EXPECT_FALSE(some.ShouldInclude("dev"));
  EXPECT_FALSE(some.IncludesEverything());

  IncludesExcludes star_minus({"*"}, {"kube-*"});
  EXPECT_FALSE(star_minus.IncludesEverything());
  EXPECT_FALSE(star_minus.ShouldInclude("kube-system"));
  EXPECT_TRUE(star_minus.ShouldInclude("default"));
}

TEST(NamespaceSelectionTest, ExpandsWildcardsAgainstLiveNamespaces) {
  std::vector<std::string> live = {"prod-a", "prod-b", "dev", "kube-system"};
  NamespaceSelection s = ResolveNamespaces({"prod-*", "missing"}, {"prod-b"}, live);
  EXPECT_TRUE(s.expanded);
  EXPECT_FALSE(s.matched_nothing);
  EXPECT_THAT(s.filter.includes(), ElementsAre("prod-a", "prod-b", "missing"));
  EXPECT_THAT(s.filter.excludes(), ElementsAre("prod-b"));
  EXPECT_TRUE(s.filter.ShouldInclude("prod-a"));
  EXPECT_FALSE(s.filter.ShouldInclude("prod-b"));
  EXPECT_FALSE(s.filter.ShouldInclude("dev"));
}

TEST(NamespaceSelectionTest, NoExpansionWithStarOrWithoutGlobs) {
  std::vector<std::string> live = {"a", "b"};
  NamespaceSelection star = ResolveNamespaces({"*"}, {"kube-*"}, live);
  EXPECT_FALSE(star.expanded);
  EXPECT_FALSE(star.filter.ShouldInclude("kube-public"));  // excludes still glob-match
  EXPECT_TRUE(star.filter.ShouldInclude("a"));

  NamespaceSelection plain = ResolveNamespaces({"a", "zzz"}, {}, live);
  EXPECT_FALSE(plain.expanded);
  EXPECT_THAT(plain.filter.includes(), ElementsAre("a", "zzz"));
}

TEST(NamespaceSelectionTest, ExpansionMatchingNothingIncludesNothing) {
  NamespaceSelection s = ResolveNamespaces({"nope-*"}, {}, {"a", "b"});
  EXPECT_TRUE(s.matched_nothing);
  EXPECT_FALSE(s.filter.ShouldInclude("a"));
  EXPECT_FALSE(s.filter.ShouldInclude("nope-1"));
}

// Old ("global") filter: §4.3 of the reference, rule by rule.
TEST(ResourceFilterTest, OldStyle) {
  struct Case {
    const char* what;
    ResourceFilterSpec spec;
    bool namespaces_everything;
    ResourceType type;
    bool include;
  };
  ResourceFilterSpec none_but_cluster_false;
  none_but_cluster_false.include_cluster_resources = false;
  ResourceFilterSpec cluster_true;
  cluster_true.include_cluster_resources = true;
  ResourceFilterSpec only_pods;
  only_pods.included_resources = {"pods"};
  ResourceFilterSpec no_secrets;
  no_secrets.excluded_resources = {"secrets"};
  ResourceFilterSpec glob_apps;
  glob_apps.included_resources = {"*.apps"};
  ResourceFilterSpec star_cluster_true;
  star_cluster_true.included_resources = {"*"};
  star_cluster_true.excluded_resources = {"persistentvolumes"};
  star_cluster_true.include_cluster_resources = true;

  const Case cases[] = {
      {"cluster=false drops cluster types", none_but_cluster_false, true, kPVs, false},
      {"cluster=false drops even namespaces", none_but_cluster_false, true, kNamespaces, false},
      {"cluster=false keeps namespaced", none_but_cluster_false, true, kPods, true},
      {"nil + namespace filter not everything drops cluster types", no_secrets, false, kPVs, false},
      {"nil + namespace filter not everything keeps namespaces", no_secrets, false, kNamespaces,
       true},
      {"nil + everything keeps cluster types", no_secrets, true, kClusterRoles, true},
      {"excluded type", no_secrets, true, kSecrets, false},
      {"cluster=true takes cluster types in a namespaced backup", cluster_true, false, kPVs, true},
      {"include list", only_pods, true, kPods, true},
      {"not in include list", only_pods, true, kDeployments, false},
      {"include list, cluster type not listed", only_pods, true, kPVs, false},
      {"glob include", glob_apps, true, kDeployments, true},
      {"glob include misses core", glob_apps, true, kPods, false},
      {"exclude beats include-all", star_cluster_true, true, kPVs, false},
      {"include-all with cluster=true", star_cluster_true, false, kCRDs, true},
      {"auto-excluded VolumeSnapshots", star_cluster_true, true, kVolumeSnapshots, false},
  };
  for (const Case& c : cases) {
    ResourceFilter f(c.spec, c.namespaces_everything);
    EXPECT_TRUE(f.old_style()) << c.what;
    EXPECT_EQ(f.ShouldInclude(c.type), c.include) << c.what;
  }
}

// New ("scoped") filter.
TEST(ResourceFilterTest, NewStyle) {
  struct Case {
    const char* what;
    ResourceFilterSpec spec;
    bool namespaces_everything;
    ResourceType type;
    bool include;
  };
  ResourceFilterSpec none;
  ResourceFilterSpec cluster_pvs;
  cluster_pvs.included_cluster_scoped_resources = {"persistentvolumes"};
  ResourceFilterSpec cluster_star;
  cluster_star.included_cluster_scoped_resources = {"*"};
  cluster_star.excluded_cluster_scoped_resources = {};
  ResourceFilterSpec cluster_none;
  cluster_none.excluded_cluster_scoped_resources = {"*"};
  ResourceFilterSpec ns_only_pods;
  ns_only_pods.included_namespace_scoped_resources = {"pods"};
  ResourceFilterSpec ns_no_secrets;
  ns_no_secrets.excluded_namespace_scoped_resources = {"secrets"};
  ResourceFilterSpec ns_none;
  ns_none.excluded_namespace_scoped_resources = {"*"};

  const Case cases[] = {
      // Arca's documented behaviour: a full backup takes every cluster-scoped type.
      {"no filters, all namespaces: cluster types included", none, true, kClusterRoles, true},
      {"no filters, all namespaces: CRDs included", none, true, kCRDs, true},
      {"no filters, some namespaces: cluster types only if related", none, false, kPVs, false},
      {"no filters, some namespaces: namespaces still included", none, false, kNamespaces, true},
      {"no filters: namespaced types included", none, false, kSecrets, true},
      {"listed cluster type", cluster_pvs, false, kPVs, true},
      {"unlisted cluster type", cluster_pvs, true, kClusterRoles, false},
      {"cluster '*'", cluster_star, false, kClusterRoles, true},
      {"cluster excludes '*'", cluster_none, true, kNamespaces, false},
      {"cluster excludes '*', namespaced still in", cluster_none, true, kPods, true},
      {"namespaced include list", ns_only_pods, true, kPods, true},
      {"namespaced include list misses", ns_only_pods, true, kSecrets, false},
      {"namespaced filter not everything: cluster types not all", ns_only_pods, true, kCRDs, false},
      {"namespaced excludes", ns_no_secrets, true, kSecrets, false},
      {"namespaced excludes make it not full", ns_no_secrets, true, kClusterRoles, false},
      {"namespaced excludes '*'", ns_none, true, kDeployments, false},
      {"auto-excluded VolumeSnapshotContents", none, true, kVolumeSnapshotContents, false},
      {"auto-excluded VolumeSnapshots", none, true, kVolumeSnapshots, false},
  };
  for (const Case& c : cases) {
    ResourceFilter f(c.spec, c.namespaces_everything);
    EXPECT_FALSE(f.old_style()) << c.what;
    EXPECT_EQ(f.ShouldInclude(c.type), c.include) << c.what;
  }
}

TEST(ResourceFilterTest, ShouldExcludeForRelatedItems) {
  ResourceFilterSpec only_pods;
  only_pods.included_resources = {"pods"};
  ResourceFilter old_nil(only_pods, false);
  EXPECT_TRUE(old_nil.ShouldExclude(kPVs));       // nil and not in the include list
  EXPECT_FALSE(old_nil.ShouldExclude(kSecrets));  // namespaced: decided by ShouldInclude

  ResourceFilterSpec pods_cluster_true = only_pods;
  pods_cluster_true.include_cluster_resources = true;
  EXPECT_FALSE(ResourceFilter(pods_cluster_true, false).ShouldExclude(kPVs));

  ResourceFilterSpec none;
  ResourceFilter scoped(none, false);
  EXPECT_FALSE(scoped.ShouldExclude(kPVs));  // related PVs come along
  EXPECT_TRUE(scoped.ShouldExclude(kVolumeSnapshotContents));

  ResourceFilterSpec no_pvs;
  no_pvs.excluded_cluster_scoped_resources = {"persistentvolumes"};
  EXPECT_TRUE(ResourceFilter(no_pvs, true).ShouldExclude(kPVs));
}

TEST(ValidationTest, IncludesExcludes) {
  EXPECT_THAT(ValidateIncludesExcludes({"pods", "secrets"}, {"configmaps"}), IsEmpty());
  EXPECT_THAT(ValidateIncludesExcludes({"*", "pods"}, {}),
              ElementsAre("includes list must either contain '*' only, or a non-empty list of "
                          "items"));
  EXPECT_THAT(ValidateIncludesExcludes({}, {"*"}), ElementsAre("excludes list cannot contain '*'"));
  EXPECT_THAT(ValidateIncludesExcludes({"pods", "secrets"}, {"secrets", "pods"}),
              ElementsAre("excludes list cannot contain an item in the includes list: secrets",
                          "excludes list cannot contain an item in the includes list: pods"));
}

TEST(ValidationTest, ScopedIncludesExcludes) {
  EXPECT_THAT(ValidateScopedIncludesExcludes({}, {"*"}), IsEmpty());
  EXPECT_THAT(ValidateScopedIncludesExcludes({"pods"}, {"*"}),
              ElementsAre("when exclude is '*', include cannot have value"));
  EXPECT_THAT(ValidateScopedIncludesExcludes({}, {"*", "pods"}),
              ElementsAre("excludes list must either contain '*' only, or a non-empty list of "
                          "items"));
}

TEST(ValidationTest, OldAndNewTogetherListsEveryReason) {
  ResourceFilterSpec spec;
  spec.included_resources = {"*", "pods"};
  spec.include_cluster_resources = true;
  spec.included_namespace_scoped_resources = {"pods"};
  spec.excluded_namespace_scoped_resources = {"pods"};
  std::vector<std::string> errs = ValidateResourceFilters(spec);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_THAT(errs[0], HasSubstr("cannot be used together"));
  EXPECT_EQ(errs[1], "excludes list cannot contain an item in the includes list: pods");
}

TEST(ValidationTest, NamespaceNames) {
  EXPECT_THAT(ValidateNamespaceFilters({"*"}, {"kube-*", "dev-?", "team-[ab]"}), IsEmpty());
  EXPECT_THAT(ValidateNamespaceFilters({""}, {}), IsEmpty());
  std::vector<std::string> errs =
      ValidateNamespaceFilters({"Prod", "a|b", "x**", "y[]", "z[ab", "-bad"}, {"*"});
  ASSERT_EQ(errs.size(), 7u);
  EXPECT_THAT(errs[0], HasSubstr("invalid namespace \"Prod\": a lowercase RFC 1123 label"));
  EXPECT_THAT(errs[1], HasSubstr("\"a|b\": unsupported glob character"));
  EXPECT_THAT(errs[2], HasSubstr("\"x**\": '**' is not supported"));
  EXPECT_THAT(errs[3], HasSubstr("\"y[]\": empty '[]'"));
  EXPECT_THAT(errs[4], HasSubstr("\"z[ab\": unclosed '['"));
  EXPECT_THAT(errs[5], HasSubstr("\"-bad\""));
  EXPECT_EQ(errs[6], "excludes list cannot contain '*'");
}

}  // namespace
}  // namespace arca::backup

namespace arca::backup {
namespace {

// A decoded Backup's spec is the filter's input as it is.
TEST(ResourceFilterTest, TakesADecodedBackupSpec) {
  Result<api::Backup> b = api::BackupFromJson(nlohmann::json::parse(
      R"({"spec":{"includedNamespaces":["shop"],"excludedResources":["secrets"],
          "includeClusterResources":true}})"));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(ValidateResourceFilters(b->spec).empty());
  ResourceFilter filter(b->spec, /*namespaces_everything=*/false);
  EXPECT_TRUE(filter.old_style());
  EXPECT_FALSE(filter.ShouldInclude(ResourceType{"secrets", true}));
  EXPECT_TRUE(filter.ShouldInclude(ResourceType{"configmaps", true}));
  EXPECT_TRUE(filter.ShouldInclude(ResourceType{"persistentvolumes", false}));
}

}  // namespace
}  // namespace arca::backup
