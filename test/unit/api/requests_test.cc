#include "api/requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::api {
namespace {

using ::testing::HasSubstr;

TEST(RequestsTest, DeleteBackupRequestRoundTrips) {
  const nlohmann::json j = nlohmann::json::parse(R"({
    "apiVersion": "velero.io/v1", "kind": "DeleteBackupRequest",
    "metadata": {"name": "b1-x", "labels": {"velero.io/backup-name": "b1"}},
    "spec": {"backupName": "b1"},
    "status": {"phase": "Processed", "errors": ["backup not found"]}})");
  Result<DeleteBackupRequest> r = DeleteBackupRequestFromJson(j);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->backup_name, "b1");
  EXPECT_EQ(r->phase, "Processed");
  EXPECT_THAT(r->errors, ::testing::ElementsAre("backup not found"));
  EXPECT_EQ(r->metadata.labels.at("velero.io/backup-name"), "b1");
  nlohmann::json back = DeleteBackupRequestToJson(*r);
  EXPECT_EQ(back["spec"], j["spec"]);
  EXPECT_EQ(back["status"], j["status"]);
}

TEST(RequestsTest, DownloadRequestRoundTrips) {
  const nlohmann::json j = nlohmann::json::parse(R"({
    "apiVersion": "velero.io/v1", "kind": "DownloadRequest", "metadata": {"name": "d"},
    "spec": {"target": {"kind": "BackupLog", "name": "b1"}},
    "status": {"phase": "Processed", "downloadURL": "http://x/y?sig=1",
               "expiration": "2026-11-26T12:10:00Z"}})");
  Result<DownloadRequest> r = DownloadRequestFromJson(j);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->target_kind, "BackupLog");
  EXPECT_EQ(r->target_name, "b1");
  EXPECT_EQ(r->download_url, "http://x/y?sig=1");
  nlohmann::json back = DownloadRequestToJson(*r);
  EXPECT_EQ(back["spec"], j["spec"]);
  EXPECT_EQ(back["status"], j["status"]);
  EXPECT_FALSE(DownloadRequestToJson(DownloadRequest{}).contains("status"));
}

TEST(RequestsTest, ServerStatusRequestRoundTripsAndRejectsBadPlugins) {
  const nlohmann::json j = nlohmann::json::parse(R"({
    "kind": "ServerStatusRequest", "metadata": {"name": "s"}, "spec": {},
    "status": {"phase": "Processed", "processedTimestamp": "2026-11-26T12:00:00Z",
               "serverVersion": "v0.1.0", "plugins": [{"name": "velero.io/aws", "kind": "ObjectStore"}]}})");
  Result<ServerStatusRequest> r = ServerStatusRequestFromJson(j);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server_version, "v0.1.0");
  EXPECT_EQ(r->plugins.size(), 1u);
  EXPECT_EQ(ServerStatusRequestToJson(*r)["status"], j["status"]);
  Result<ServerStatusRequest> bad =
      ServerStatusRequestFromJson(nlohmann::json::parse(R"({"status": {"plugins": "aws"}})"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("status.plugins"));
}

TEST(RequestsTest, DownloadTargetKeysFollowVelerosLayout) {
  EXPECT_EQ(*DownloadTargetKey("BackupContents", "b1"), "backups/b1/b1.tar.gz");
  EXPECT_EQ(*DownloadTargetKey("BackupLog", "b1"), "backups/b1/b1-logs.gz");
  EXPECT_EQ(*DownloadTargetKey("BackupResults", "b1"), "backups/b1/b1-results.gz");
  EXPECT_EQ(*DownloadTargetKey("BackupResourceList", "b1"), "backups/b1/b1-resource-list.json.gz");
  EXPECT_EQ(*DownloadTargetKey("BackupVolumeInfos", "b1"), "backups/b1/b1-volumeinfo.json.gz");
  EXPECT_EQ(*DownloadTargetKey("CSIBackupVolumeSnapshotContents", "b1"),
            "backups/b1/b1-csi-volumesnapshotcontents.json.gz");
  EXPECT_EQ(*DownloadTargetKey("RestoreLog", "r1"), "restores/r1/restore-r1-logs.gz");
  EXPECT_EQ(*DownloadTargetKey("RestoreResults", "r1"), "restores/r1/restore-r1-results.gz");
  EXPECT_EQ(*DownloadTargetKey("RestoreVolumeInfo", "r1"), "restores/r1/r1-volumeinfo.json.gz");
  EXPECT_TRUE(IsRestoreDownloadKind("RestoreResourceList"));
  EXPECT_FALSE(IsRestoreDownloadKind("BackupLog"));
  Result<std::string> bad = DownloadTargetKey("BackupTarball", "b1");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("use one of BackupLog, BackupContents"));
  EXPECT_EQ(DownloadTargetKey("BackupLog", "").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::api
