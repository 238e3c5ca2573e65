// What `arca install` creates (install/manifests.h) and the YAML helpers (install/yaml.h).
#include "install/manifests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "install/yaml.h"

namespace arca::install {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

InstallOptions S3Options() {
  InstallOptions o;
  o.provider = "aws";
  o.bucket = "velero";
  o.prefix = "cluster-a";
  o.backup_location_config = {{"region", "us-east-1"}, {"s3Url", "http://minio:9000"}};
  o.secret_data = "[default]\naws_access_key_id=a\naws_secret_access_key=b\n";
  o.image = "registry.example/arca:1.0";
  return o;
}

std::vector<std::string> Kinds(const std::vector<json>& objects) {
  std::vector<std::string> out;
  for (const json& o : objects) {
    if (o["kind"] != "CustomResourceDefinition") {
      out.push_back(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
    }
  }
  return out;
}

TEST(CrdsTest, EveryVeleroKindIsThereAndStructural) {
  auto crds = CrdObjects();
  ASSERT_TRUE(crds.ok()) << crds.status().ToString();
  std::set<std::string> names;
  for (const json& crd : *crds) {
    names.insert(crd["metadata"]["name"].get<std::string>());
    EXPECT_EQ(crd["spec"]["group"], "velero.io");
    EXPECT_EQ(crd["spec"]["scope"], "Namespaced");
    const json& version = crd["spec"]["versions"][0];
    EXPECT_EQ(version["name"], "v1");
    EXPECT_EQ(version["subresources"], json::object()) << "Velero has no status subresource";
    // Structural: every schema node says its type, unless it keeps unknown fields.
    std::function<void(const json&, const std::string&)> check = [&](const json& node,
                                                                     const std::string& path) {
      ASSERT_TRUE(node.contains("type") ||
                  node.value("x-kubernetes-preserve-unknown-fields", false))
          << crd["metadata"]["name"] << " " << path;
      if (node.contains("properties")) {
        for (const auto& [key, child] : node["properties"].items()) {
          check(child, path + "." + key);
        }
      }
      if (node.contains("items")) {
        check(node["items"], path + "[]");
      }
    };
    check(version["schema"]["openAPIV3Schema"], "");
  }
  EXPECT_EQ(names, (std::set<std::string>{
                       "backups.velero.io", "restores.velero.io", "schedules.velero.io",
                       "backupstoragelocations.velero.io", "volumesnapshotlocations.velero.io",
                       "deletebackuprequests.velero.io", "downloadrequests.velero.io",
                       "serverstatusrequests.velero.io", "podvolumebackups.velero.io",
                       "podvolumerestores.velero.io", "backuprepositories.velero.io"}));
}

TEST(CrdsTest, BackupPrinterColumnsAreVelerosAndPhasesExact) {
  auto crds = CrdObjects();
  ASSERT_TRUE(crds.ok());
  for (const json& crd : *crds) {
    if (crd["metadata"]["name"] != "backups.velero.io") {
      continue;
    }
    std::vector<std::string> columns;
    for (const json& c : crd["spec"]["versions"][0]["additionalPrinterColumns"]) {
      columns.push_back(c["name"]);
    }
    EXPECT_THAT(columns, ElementsAre("Status", "Errors", "Warnings", "Created", "Expires",
                                     "Storage Location", "Age"));
    const json& phase = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
                           ["status"]["properties"]["phase"];
    EXPECT_EQ(phase["enum"].size(), 13u);
    EXPECT_EQ(phase["enum"][0], "New");
    return;
  }
  FAIL() << "no Backup CRD";
}

TEST(InstallObjectsTest, S3InstallInVelerosOrderWithVelerosNames) {
  auto objects = InstallObjects(S3Options());
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  EXPECT_EQ((*objects)[0]["kind"], "CustomResourceDefinition");
  EXPECT_THAT(Kinds(*objects), ElementsAre("Namespace/velero", "ClusterRoleBinding/velero",
                                           "ServiceAccount/velero", "Secret/cloud-credentials",
                                           "BackupStorageLocation/default", "Deployment/velero"));
  const json& bsl = (*objects)[objects->size() - 2];
  EXPECT_EQ(bsl["spec"]["provider"], "aws");
  EXPECT_EQ(bsl["spec"]["default"], true);
  EXPECT_EQ(bsl["spec"]["objectStorage"], (json{{"bucket", "velero"}, {"prefix", "cluster-a"}}));
  EXPECT_EQ(bsl["spec"]["credential"], (json{{"name", "cloud-credentials"}, {"key", "cloud"}}));
  EXPECT_EQ(bsl["spec"]["config"]["s3Url"], "http://minio:9000");
  const json& container = objects->back()["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["image"], "registry.example/arca:1.0");
  EXPECT_EQ(container["args"], (json{"server", "--namespace", "velero"}));
  EXPECT_EQ(container["env"][1]["value"], "/credentials/cloud");
  EXPECT_EQ(objects->back()["spec"]["template"]["spec"]["serviceAccountName"], "velero");
}

TEST(InstallObjectsTest, OtherNamespaceNoDeploymentAndCrdsOnly) {
  InstallOptions o = S3Options();
  o.namespace_ = "backup-system";
  o.no_deployment = true;
  auto objects = InstallObjects(o);
  ASSERT_TRUE(objects.ok());
  EXPECT_THAT(Kinds(*objects),
              ElementsAre("Namespace/backup-system", "ClusterRoleBinding/velero-backup-system",
                          "ServiceAccount/velero", "Secret/cloud-credentials",
                          "BackupStorageLocation/default"));
  o.crds_only = true;
  auto crds = InstallObjects(o);
  ASSERT_TRUE(crds.ok());
  EXPECT_TRUE(Kinds(*crds).empty());
  EXPECT_EQ(crds->size(), 11u);
}

TEST(InstallObjectsTest, FilesystemProviderMountsTheRoot) {
  InstallOptions o;
  o.provider = "filesystem";
  o.bucket = "arca";
  o.backup_location_config = {{"root", "/var/lib/arca"}};
  auto objects = InstallObjects(o);
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  EXPECT_THAT(Kinds(*objects),
              ElementsAre("Namespace/velero", "ClusterRoleBinding/velero", "ServiceAccount/velero",
                          "BackupStorageLocation/default", "Deployment/velero"));
  const json& pod = objects->back()["spec"]["template"]["spec"];
  EXPECT_EQ(pod["volumes"][0]["hostPath"]["path"], "/var/lib/arca");
  EXPECT_EQ(pod["containers"][0]["volumeMounts"][0]["mountPath"], "/var/lib/arca");
}

TEST(InstallObjectsTest, BadOptionsListEveryReasonWithItsFlag) {
  InstallOptions o;
  o.provider = "gcp";
  o.bucket = "a/b";
  auto objects = InstallObjects(o);
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(objects.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(objects.status().message(), HasSubstr("--provider 'gcp' is not supported"));
  EXPECT_THAT(objects.status().message(), HasSubstr("--bucket 'a/b' must not contain '/'"));

  InstallOptions aws;
  aws.provider = "aws";
  aws.bucket = "b";
  EXPECT_THAT(ValidateInstallOptions(aws), ElementsAre(HasSubstr("--secret-file is required")));
  aws.no_secret = true;
  EXPECT_TRUE(ValidateInstallOptions(aws).empty());

  InstallOptions fs;
  fs.provider = "filesystem";
  fs.bucket = "b";
  fs.backup_location_config = {{"root", "relative"}};
  EXPECT_THAT(ValidateInstallOptions(fs), ElementsAre(HasSubstr("root=/absolute/dir")));
}

TEST(YamlTest, RoundTripKeepsTypesAndQuotesAmbiguousStrings) {
  const json value = {{"s", "true"},
                      {"n", "10"},
                      {"e", ""},
                      {"b", true},
                      {"i", 42},
                      {"f", 1.5},
                      {"null", nullptr},
                      {"colon", "a: b"},
                      {"list", {"x", "- y", "#z"}},
                      {"empty", json::object()},
                      {"none", json::array()}};
  const std::string text = ToYaml(value);
  EXPECT_THAT(text, HasSubstr("s: \"true\""));
  EXPECT_THAT(text, HasSubstr("n: \"10\""));
  auto back = ParseYamlDocuments(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], value) << text;
}

TEST(YamlTest, SeveralDocumentsAndSyntaxErrorsWithTheirLine) {
  auto docs = ParseYamlDocuments("---\na: 1\n---\n---\nb: [x, 'y']\n");
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(*docs, (std::vector<json>{{{"a", 1}}, {{"b", {"x", "y"}}}}));
  auto bad = ParseYamlDocuments("a: 1\nb: [unclosed\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("malformed YAML at line"));
}

}  // namespace
}  // namespace arca::install
