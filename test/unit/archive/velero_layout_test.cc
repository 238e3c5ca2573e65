#include "archive/velero_layout.h"

#include <gtest/gtest.h>

namespace arca::archive {
namespace {

TEST(VeleroLayoutTest, GroupResource) {
  EXPECT_EQ(GroupResourceString("", "pods"), "pods");
  EXPECT_EQ(GroupResourceString("apps", "deployments"), "deployments.apps");
  EXPECT_EQ(GroupResourceString("apiextensions.k8s.io", "customresourcedefinitions"),
            "customresourcedefinitions.apiextensions.k8s.io");
}

TEST(VeleroLayoutTest, ItemPaths) {
  EXPECT_EQ(ItemPath("pods", "default", "web-0"), "resources/pods/namespaces/default/web-0.json");
  EXPECT_EQ(ItemPath("namespaces", "", "default"), "resources/namespaces/cluster/default.json");
  EXPECT_EQ(ItemPath("deployments.apps", "shop", "api", PreferredVersionDir("v1")),
            "resources/deployments.apps/v1-preferredversion/namespaces/shop/api.json");
  EXPECT_EQ(ItemPath("persistentvolumes", "", "pv-1", PreferredVersionDir("v1")),
            "resources/persistentvolumes/v1-preferredversion/cluster/pv-1.json");
}

TEST(VeleroLayoutTest, ParseRoundTrips) {
  for (auto [gr, ns, name, ver] :
       {std::tuple{"pods", "default", "web-0", ""}, std::tuple{"namespaces", "", "kube-system", ""},
        std::tuple{"deployments.apps", "a", "b", "v1-preferredversion"},
        std::tuple{"widgets.example.com", "", "w", "v2beta2"}}) {
    Result<ItemPathParts> p = ParseItemPath(ItemPath(gr, ns, name, ver));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->group_resource, gr);
    EXPECT_EQ(p->ns, ns);
    EXPECT_EQ(p->name, name);
    EXPECT_EQ(p->version_dir, ver);
  }
}

TEST(VeleroLayoutTest, ParseRejects) {
  EXPECT_EQ(ParseItemPath("metadata/version").status().code(), StatusCode::kNotFound);
  for (const char* bad :
       {"resources/pods", "resources/pods/namespaces/default", "resources/pods/cluster/x.yaml",
        "resources/pods/namespaces/ns/a/b.json", "resources/pods/cluster/.json",
        "resources//cluster/x.json", "resources/pods/v1/weird/x.json"}) {
    EXPECT_EQ(ParseItemPath(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(VeleroLayoutTest, StorageKeys) {
  EXPECT_EQ(BackupMetadataKey("b1"), "backups/b1/velero-backup.json");
  EXPECT_EQ(BackupTarballKey("b1"), "backups/b1/b1.tar.gz");
  EXPECT_EQ(BackupFileKey("b1", "resource-list.json.gz"), "backups/b1/b1-resource-list.json.gz");
}

}  // namespace
}  // namespace arca::archive
