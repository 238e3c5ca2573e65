#include "api/restore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::api {
namespace {

using ::testing::HasSubstr;

// A Restore as Velero's server writes it (velero restore create ... -o json, then processed).
constexpr char kVeleroRestore[] = R"({
  "apiVersion": "velero.io/v1",
  "kind": "Restore",
  "metadata": {"name": "nightly-20261126120000", "namespace": "velero", "uid": "u-1",
               "finalizers": ["restores.velero.io/external-resources-finalizer"]},
  "spec": {
    "backupName": "nightly",
    "includedNamespaces": ["*"],
    "excludedNamespaces": ["kube-system"],
    "excludedResources": ["nodes", "events"],
    "namespaceMapping": {"shop": "shop-copy"},
    "labelSelector": {"matchLabels": {"app": "web"}},
    "restorePVs": true,
    "restoreStatus": {"includedResources": ["deployments"]},
    "preserveNodePorts": false,
    "includeClusterResources": true,
    "existingResourcePolicy": "update",
    "itemOperationTimeout": "4h0m0s",
    "hooks": {"resources": [{"name": "h", "postHooks": [{"exec": {"command": ["true"]}}]}]},
    "uploaderConfig": {"writeSparseFiles": true}
  },
  "status": {
    "phase": "PartiallyFailed",
    "warnings": 2,
    "errors": 1,
    "startTimestamp": "2026-11-26T12:00:00Z",
    "completionTimestamp": "2026-11-26T12:01:00Z",
    "progress": {"totalItems": 10, "itemsRestored": 10},
    "hookStatus": {"hooksAttempted": 1, "hooksFailed": 1}
  }
})";

TEST(RestoreJsonTest, DecodesVelerosRestore) {
  Result<Restore> r = RestoreFromJson(nlohmann::json::parse(kVeleroRestore));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metadata.name, "nightly-20261126120000");
  EXPECT_EQ(r->spec.backup_name, "nightly");
  EXPECT_EQ(r->spec.excluded_namespaces, std::vector<std::string>{"kube-system"});
  EXPECT_EQ(r->spec.namespace_mapping.at("shop"), "shop-copy");
  EXPECT_EQ((*r->spec.label_selector)["matchLabels"]["app"], "web");
  EXPECT_EQ(r->spec.restore_pvs, true);
  ASSERT_TRUE(r->spec.restore_status.has_value());
  EXPECT_EQ(r->spec.restore_status->included_resources, std::vector<std::string>{"deployments"});
  EXPECT_EQ(r->spec.preserve_node_ports, false);
  EXPECT_EQ(r->spec.include_cluster_resources, true);
  EXPECT_EQ(r->spec.existing_resource_policy, "update");
  EXPECT_EQ(FormatDuration(*r->spec.item_operation_timeout), "4h0m0s");
  EXPECT_EQ(r->status.phase, "PartiallyFailed");
  EXPECT_EQ(r->status.errors, 1);
  EXPECT_EQ(r->status.progress->items_restored, 10);
  EXPECT_EQ(r->status.hooks_failed, 1);
}

TEST(RestoreJsonTest, RoundTripsAndOmitsEmptyFields) {
  nlohmann::json in = nlohmann::json::parse(kVeleroRestore);
  Result<Restore> r = RestoreFromJson(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(RestoreToJson(*r), in);

  Restore empty;
  empty.metadata.name = "r";
  empty.spec.backup_name = "b";
  nlohmann::json out = RestoreToJson(empty);
  EXPECT_EQ(out, nlohmann::json::parse(R"({"apiVersion":"velero.io/v1","kind":"Restore",
      "metadata":{"name":"r"},"spec":{"backupName":"b"},"status":{}})"));
}

TEST(RestoreJsonTest, ErrorsNameTheField) {
  Result<Restore> wrong_kind = RestoreFromJson(nlohmann::json::parse(R"({"kind":"Backup"})"));
  EXPECT_EQ(wrong_kind.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_kind.status().message(), HasSubstr("expected \"Restore\""));
  Result<Restore> bad =
      RestoreFromJson(nlohmann::json::parse(R"({"spec":{"namespaceMapping":{"a":1}}})"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("spec.namespaceMapping"));
  Result<Restore> bad_status = RestoreFromJson(
      nlohmann::json::parse(R"({"spec":{"restoreStatus":{"includedResources":"x"}}})"));
  EXPECT_THAT(bad_status.status().message(), HasSubstr("restoreStatus.includedResources"));
}

TEST(RestoreJsonTest, FinalPhases) {
  EXPECT_TRUE(IsFinalRestorePhase(restore_phase::kCompleted));
  EXPECT_TRUE(IsFinalRestorePhase(restore_phase::kFailedValidation));
  EXPECT_FALSE(IsFinalRestorePhase(restore_phase::kInProgress));
  EXPECT_FALSE(IsFinalRestorePhase(""));
}

}  // namespace
}  // namespace arca::api
