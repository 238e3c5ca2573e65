// File: backup/contents.h
//
// The files of one backup, as Velero lays them out (../shared/reference/velero-api.md §2–§3):
//   - BackupContentsWriter streams the tarball: metadata/version first, then every item twice,
//     under resources/<gr>/{namespaces/<ns>|cluster}/<name>.json and again under
//     resources/<gr>/<version>-preferredversion/..., through parallel gzip into a byte sink;
//   - ResourceList is <backup>-resource-list.json.gz: "<apiVersion>/<Kind>" -> sorted "ns/name";
//   - BackupResults is <backup>-results.gz: warnings and errors by scope.
// No I/O here: the sink decides where the bytes go (an object-store upload, a file, a test).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "archive/gzip.h"
#include "archive/tar.h"
#include "common/status.h"

namespace arca::backup {

// Identifies one backed-up object.
struct ItemRef {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // "deployments"
  std::string kind;      // "Deployment"
  std::string ns;        // "" for cluster-scoped objects
  std::string name;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
};

// Returns `item_json` (a JSON object) with "apiVersion" and "kind" as its first members. List
// responses of built-in types omit them from their items; Velero's files always have them.
// REQUIRES: item_json is a JSON object that does not already have these members.
std::string WithTypeMeta(std::string_view item_json, std::string_view api_version,
                         std::string_view kind);
// The same in two steps, for many items of one type: `members` is TypeMetaMembers' result.
std::string TypeMetaMembers(std::string_view api_version, std::string_view kind);
std::string WithTypeMeta(std::string_view item_json, std::string_view members);

class ResourceList {
 public:
  void Add(const ItemRef& ref);
  // An entry as it is, under `key` (the restore's "ns/name(created)").
  void AddEntry(const std::string& key, std::string_view entry);
  // {"apps/v1/Deployment": ["shop/api", ...], "v1/Namespace": ["shop"], ...}, lists sorted.
  nlohmann::json ToJson() const;
  // The same document, compact, written directly without building a tree: a backup of a
  // million objects must not need a JSON tree of a million strings to finish.
  std::string ToJsonText() const;
  // The same text handed to `sink` in chunks of about 64 KiB, so that it never exists whole.
  Status WriteJson(const archive::ByteSink& sink) const;
  size_t items() const { return count_; }

 private:
  // Per type, the "ns/name" entries back to back, each ended by '\0' (about 1 byte of overhead
  // per item rather than a std::string's 32 and more).
  std::map<std::string, std::string> by_type_;
  size_t count_ = 0;
};

class BackupResults {
 public:
  // `ns` empty with `cluster` false means a Velero-level message; `cluster` true a cluster-scoped
  // one.
  void AddWarning(std::string_view ns, bool cluster, std::string message);
  void AddError(std::string_view ns, bool cluster, std::string message);
  size_t warnings() const { return warnings_count_; }
  size_t errors() const { return errors_count_; }
  // {"warnings": Result, "errors": Result}, Result = {velero:[], cluster:[], namespaces:{ns:[]}}
  // with empty members left out, as Velero writes it.
  nlohmann::json ToJson() const;

 private:
  struct Result {
    std::vector<std::string> velero;
    std::vector<std::string> cluster;
    std::map<std::string, std::vector<std::string>> namespaces;
    nlohmann::json ToJson() const;
  };
  static void Add(Result& r, std::string_view ns, bool cluster, std::string message);
  Result warnings_;
  Result errors_;
  size_t warnings_count_ = 0;
  size_t errors_count_ = 0;
};

class BackupContentsWriter {
 public:
  // `sink` receives the gzip-compressed tarball. `now` is the entries' modification time.
  BackupContentsWriter(archive::ByteSink sink, archive::GzipOptions gzip,
                       std::chrono::system_clock::time_point now);

  // Writes metadata/version ("1.1.0\n"). Call once, before any item.
  Status Begin();
  // Writes one item at both of its paths. `item_json` must already carry apiVersion and kind.
  Status AddItem(const ItemRef& ref, std::string_view item_json);
  // Ends the tar stream and flushes the gzip stream to the sink.
  Status Finish();

  const ResourceList& resource_list() const { return resource_list_; }
  uint64_t compressed_bytes() const { return gzip_.bytes_out(); }
  uint64_t uncompressed_bytes() const { return gzip_.bytes_in(); }

 private:
  archive::GzipWriter gzip_;
  archive::TarWriter tar_;
  std::chrono::system_clock::time_point now_;
  ResourceList resource_list_;
};

// A small document compressed as one gzip stream, for the side files (.json.gz, -results.gz).
Result<std::string> GzipDocument(std::string_view text);
// Gzips what `write` hands to its sink, in blocks of 256 KiB: memory holds one block and the
// compressed result, never the whole text.
Result<std::string> GzipWritten(const std::function<Status(const archive::ByteSink&)>& write);

}  // namespace arca::backup
