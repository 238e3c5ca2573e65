#include "api/backup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A velero-backup.json in the shape Velero 1.18 writes (fields from the reference, §1.1).
constexpr char kVeleroBackupJson[] = R"({
  "apiVersion": "velero.io/v1",
  "kind": "Backup",
  "metadata": {
    "name": "nightly-20261126",
    "namespace": "velero",
    "uid": "5f0f6c1e-2a7d-4b1e-9c2d-0e1f2a3b4c5d",
    "resourceVersion": "12345",
    "creationTimestamp": "2026-11-26T00:00:03Z",
    "labels": {"velero.io/schedule-name": "nightly", "velero.io/storage-location": "default"},
    "annotations": {"velero.io/source-cluster-k8s-gitversion": "v1.36.3"}
  },
  "spec": {
    "metadata": {"labels": {"team": "shop"}},
    "includedNamespaces": ["*"],
    "excludedNamespaces": ["kube-system"],
    "excludedResources": ["events"],
    "includeClusterResources": false,
    "labelSelector": {"matchLabels": {"app": "web"}},
    "snapshotVolumes": true,
    "ttl": "720h0m0s",
    "storageLocation": "default",
    "hooks": {"resources": [{"name": "freeze", "pre": [{"exec": {"command": ["fsfreeze"]}}]}]},
    "orderedResources": {"pods": "shop/web-0,shop/web-1"},
    "csiSnapshotTimeout": "10m0s",
    "itemOperationTimeout": "4h0m0s",
    "defaultVolumesToFsBackup": false
  },
  "status": {
    "version": 1,
    "formatVersion": "1.1.0",
    "expiration": "2026-12-26T00:00:03Z",
    "phase": "Completed",
    "startTimestamp": "2026-11-26T00:00:03Z",
    "completionTimestamp": "2026-11-26T00:01:10Z",
    "warnings": 2,
    "progress": {"totalItems": 1200, "itemsBackedUp": 1200},
    "hookStatus": {"hooksAttempted": 3}
  }
})";

TEST(BackupJsonTest, DecodesVelerosDocument) {
  Result<Backup> b = BackupFromJson(nlohmann::json::parse(kVeleroBackupJson));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->metadata.name, "nightly-20261126");
  EXPECT_EQ(b->metadata.labels.at("velero.io/schedule-name"), "nightly");
  EXPECT_EQ(b->spec.template_labels.at("team"), "shop");
  EXPECT_THAT(b->spec.included_namespaces, ElementsAre("*"));
  EXPECT_EQ(b->spec.include_cluster_resources, std::optional<bool>(false));
  EXPECT_EQ(b->spec.ttl, std::optional<Duration>(std::chrono::hours(720)));
  EXPECT_EQ((*b->spec.label_selector)["matchLabels"]["app"], "web");
  EXPECT_EQ(b->spec.ordered_resources.at("pods"), "shop/web-0,shop/web-1");
  EXPECT_EQ(b->status.phase, backup_phase::kCompleted);
  ASSERT_TRUE(b->status.progress.has_value());
  EXPECT_EQ(b->status.progress->items_backed_up, 1200);
  EXPECT_EQ(b->status.hooks_attempted, 3);
  EXPECT_EQ(b->status.warnings, 2);
}

TEST(BackupJsonTest, RoundTripsExactly) {
  nlohmann::json original = nlohmann::json::parse(kVeleroBackupJson);
  Result<Backup> b = BackupFromJson(original);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(BackupToJson(*b), original);
}

TEST(BackupJsonTest, OmitsEmptyFieldsButKeepsExplicitFalse) {
  Backup b;
  b.metadata.name = "b1";
  b.spec.snapshot_volumes = false;
  nlohmann::json j = BackupToJson(b);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"apiVersion":"velero.io/v1","kind":"Backup",
      "metadata":{"name":"b1"},"spec":{"snapshotVolumes":false},"status":{}})"));
}

TEST(BackupJsonTest, ErrorsNameTheField) {
  auto decode = [](const char* text) { return BackupFromJson(nlohmann::json::parse(text)); };
  EXPECT_THAT(decode(R"({"spec":{"ttl":"30days"}})").status().message(),
              HasSubstr("spec.ttl: invalid duration \"30days\""));
  EXPECT_THAT(decode(R"({"spec":{"includedNamespaces":"prod"}})").status().message(),
              HasSubstr("spec.includedNamespaces: expected a list of strings, got string"));
  EXPECT_THAT(decode(R"({"spec":{"includeClusterResources":"yes"}})").status().message(),
              HasSubstr("spec.includeClusterResources: expected true or false"));
  EXPECT_THAT(decode(R"({"metadata":{"labels":{"a":1}}})").status().message(),
              HasSubstr("metadata.labels: value of \"a\" is not a string"));
  EXPECT_THAT(decode(R"({"status":{"progress":{"totalItems":"many"}}})").status().message(),
              HasSubstr("status.progress.totalItems: expected an integer"));
  EXPECT_THAT(decode(R"({"apiVersion":"velero.io/v2","kind":"Backup"})").status().message(),
              HasSubstr("expected \"velero.io/v1\""));
  EXPECT_THAT(decode(R"({"apiVersion":"velero.io/v1","kind":"Restore"})").status().message(),
              HasSubstr("expected \"Backup\""));
  EXPECT_EQ(decode("[1,2]").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::api
