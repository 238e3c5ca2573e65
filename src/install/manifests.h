// File: install/manifests.h
//
// What `arca install` puts into a cluster, as a pure function of its flags
// (../shared/reference/velero-api.md §9.3 and §10): the velero.io/v1 CRDs (compiled in from
// deploy/crds/), the namespace, the `velero` ServiceAccount bound to cluster-admin, the
// `cloud-credentials` Secret (key `cloud`), the `default` BackupStorageLocation and the server's
// Deployment. Names and labels are Velero's, so tooling that looks for them finds them.
//
// Providers:
//   aws (or velero.io/aws)  any S3-compatible store; config keys as objstore/s3_config.h.
//   filesystem              Arca's embedded default: a directory on the server's machine,
//                           `config.root` (absolute), with the bucket as a sub-folder.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::install {

struct EmbeddedFile {
  std::string_view name;  // "velero.io_backups.yaml"
  std::string_view text;
};

// deploy/crds/*.yaml as compiled in, sorted by name.
std::span<const EmbeddedFile> EmbeddedCrds();

// The CRDs as JSON objects.
Result<std::vector<nlohmann::json>> CrdObjects();

struct InstallOptions {
  std::string namespace_ = "velero";
  std::string provider;
  std::string bucket;
  std::string prefix;
  std::map<std::string, std::string> backup_location_config;
  // The contents of --secret-file (a credentials file in AWS's format); empty with no_secret.
  std::string secret_data;
  bool no_secret = false;
  bool no_default_backup_location = false;
  std::string image = "arca:latest";
  bool no_deployment = false;
  bool crds_only = false;
  // Extra arguments for `arca server` in the Deployment.
  std::vector<std::string> server_args;
};

// Checks the options: every problem is listed, each with the flag to fix it.
std::vector<std::string> ValidateInstallOptions(const InstallOptions& options);

// The objects to create, in the order they must be created: CRDs first, the Deployment last.
// kInvalidArgument listing ValidateInstallOptions' reasons.
Result<std::vector<nlohmann::json>> InstallObjects(const InstallOptions& options);

}  // namespace arca::install
