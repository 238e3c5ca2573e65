// File: cli/location_cmd.h
//
// `arca backup-location create|get|set|delete`, shaped like `velero backup-location ...`
// (../shared/reference/velero-api.md §1.4, §9, §10). The pieces that talk to the cluster take a
// VeleroClient so that tests run them on an in-memory API server.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/cluster.h"
#include "cli/common.h"
#include "cli/schedule_cmd.h"
#include "common/status.h"

namespace arca::cli {

// Adds the `backup-location` command tree to `app`. Callbacks report through `ctx`.
void AddLocationCommands(CLI::App& app, CommandContext& ctx);

// The flags of `arca backup-location create`.
struct LocationCreateFlags {
  std::string name;
  std::string provider;
  std::string bucket;
  std::string prefix;
  std::vector<std::string> config;      // key=value items
  std::vector<std::string> credential;  // one secret=key item
  bool is_default = false;
  std::string access_mode = "ReadWrite";
  std::string backup_sync_period;    // Go duration; empty: the server's default
  std::string validation_frequency;  // Go duration; empty: the server's default
  std::string cacert_file;           // a PEM bundle, stored base64 in objectStorage.caCert
  std::vector<std::string> labels;
};

// The BackupStorageLocation the flags describe, in namespace `ns`, as JSON. kInvalidArgument
// naming the flag for a missing --provider/--bucket, a bucket with '/', an unknown access mode, a
// --credential not of the form secret=key, bad --config/--labels, or an unparsable or negative
// duration; the file's error for an unreadable --cacert.
Result<nlohmann::json> BuildLocation(const LocationCreateFlags& flags, const std::string& ns);

// Creates the location; when it is the default, spec.default is then cleared on every other
// location (Velero keeps one default). Prints Velero's "configured successfully" line.
Status CreateLocation(VeleroClient& client, const nlohmann::json& location, std::ostream& out);

// The flags of `arca backup-location set`; unset members are left as they are.
struct LocationSetFlags {
  std::string name;
  std::optional<bool> is_default;
  std::vector<std::string> credential;  // one secret=key item
  std::string cacert_file;
  std::string access_mode;
};

// Merge-patches the location; --default=true clears spec.default on the other locations.
Status SetLocation(VeleroClient& client, const LocationSetFlags& flags, std::ostream& out);

// Clears spec.default on every location but `keep`; returns the names changed.
Result<std::vector<std::string>> ClearOtherDefaults(VeleroClient& client, const std::string& keep);

// `backup-location get`'s table: NAME PROVIDER BUCKET/PREFIX PHASE LAST VALIDATED ACCESS MODE
// DEFAULT.
void PrintLocationTable(std::ostream& out, const std::vector<nlohmann::json>& locations);

// `backup-location delete` after confirmation, as Velero does it: deletes each selected location,
// then the Backup objects and BackupRepositories labelled velero.io/storage-location=<it> from
// the cluster (their data stays in object storage). Restores are left alone.
void DeleteLocations(VeleroClient& client, const Selection& selection, CommandContext& ctx);

}  // namespace arca::cli
