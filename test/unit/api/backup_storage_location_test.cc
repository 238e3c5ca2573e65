#include "api/backup_storage_location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::api {
namespace {

using ::testing::HasSubstr;

TEST(BackupStorageLocationTest, DecodesEveryFieldAndEncodesItBack) {
  const nlohmann::json j = nlohmann::json::parse(R"({
    "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
    "metadata": {"name": "default", "namespace": "velero"},
    "spec": {"provider": "aws", "config": {"region": "us-east-1", "s3ForcePathStyle": "true"},
             "credential": {"name": "cloud-credentials", "key": "cloud"},
             "objectStorage": {"bucket": "b", "prefix": "p", "caCertRef": {"name": "ca", "key": "pem"}},
             "default": true, "accessMode": "ReadOnly", "backupSyncPeriod": "2m0s",
             "validationFrequency": "30s"},
    "status": {"phase": "Available", "lastValidationTime": "2026-11-26T12:00:00Z",
               "message": "m", "lastSyncedTime": "2026-11-26T11:00:00Z"}})");
  Result<BackupStorageLocation> bsl = BackupStorageLocationFromJson(j);
  ASSERT_TRUE(bsl.ok()) << bsl.status().ToString();
  EXPECT_EQ(bsl->metadata.name, "default");
  EXPECT_EQ(bsl->spec.provider, "aws");
  EXPECT_EQ(bsl->spec.config.at("s3ForcePathStyle"), "true");
  ASSERT_TRUE(bsl->spec.credential.has_value());
  EXPECT_EQ(bsl->spec.credential->name, "cloud-credentials");
  EXPECT_EQ(bsl->spec.credential->key, "cloud");
  EXPECT_EQ(bsl->spec.object_storage.bucket, "b");
  EXPECT_EQ(bsl->spec.object_storage.prefix, "p");
  ASSERT_TRUE(bsl->spec.object_storage.ca_cert_ref.has_value());
  EXPECT_EQ(bsl->spec.object_storage.ca_cert_ref->key, "pem");
  EXPECT_TRUE(bsl->spec.default_location);
  EXPECT_TRUE(bsl->IsReadOnly());
  EXPECT_EQ(bsl->spec.backup_sync_period, std::chrono::minutes(2));
  EXPECT_EQ(bsl->spec.validation_frequency, std::chrono::seconds(30));
  EXPECT_EQ(bsl->status.phase, "Available");
  EXPECT_EQ(bsl->status.last_validation_time, "2026-11-26T12:00:00Z");

  nlohmann::json back = BackupStorageLocationToJson(*bsl);
  EXPECT_EQ(back["spec"], j["spec"]);
  EXPECT_EQ(back["status"], j["status"]);
  EXPECT_EQ(back["kind"], "BackupStorageLocation");
}

TEST(BackupStorageLocationTest, EmptyFieldsAreOmittedAndAbsentOptionalsStayUnset) {
  Result<BackupStorageLocation> bsl = BackupStorageLocationFromJson(
      nlohmann::json::parse(R"({"spec": {"provider": "aws", "objectStorage": {"bucket": "b"}}})"));
  ASSERT_TRUE(bsl.ok()) << bsl.status().ToString();
  EXPECT_FALSE(bsl->spec.credential.has_value());
  EXPECT_FALSE(bsl->spec.validation_frequency.has_value());
  EXPECT_FALSE(bsl->IsReadOnly());
  nlohmann::json back = BackupStorageLocationToJson(*bsl);
  EXPECT_EQ(back["spec"],
            nlohmann::json::parse(R"({"provider": "aws", "objectStorage": {"bucket": "b"}})"));
  EXPECT_FALSE(back.contains("status"));
}

TEST(BackupStorageLocationTest, WrongTypesAndKindsNameTheField) {
  Result<BackupStorageLocation> bad = BackupStorageLocationFromJson(
      nlohmann::json::parse(R"({"spec": {"validationFrequency": "often"}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("spec.validationFrequency"));
  Result<BackupStorageLocation> kind =
      BackupStorageLocationFromJson(nlohmann::json::parse(R"({"kind": "Backup"})"));
  EXPECT_THAT(kind.status().message(), HasSubstr("expected \"BackupStorageLocation\""));
  EXPECT_FALSE(BackupStorageLocationFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace arca::api
