// File: restore/engine.h
//
// RestoreEngine runs one velero.io/v1 Restore against a backup tarball and returns the Restore
// with its final status (../shared/reference/velero-api.md §5): validation, selection, Velero's
// order, the per-item transforms of restore/transform.h, creation through the Kubernetes API,
// the handling of objects that already exist, and the result files under restores/<name>/.
//
// Streaming and memory. The tarball is never extracted, to disk or to memory. It is read as a
// stream (TarballSource) several times:
//   1. The index pass reads it whole before anything is created. It checks the tarball (gzip
//      checksums, tar structure, names, sizes, non-regular entries), and keeps, per item, only
//      its type, namespace and whether its labels match the selectors (a few bytes an item), plus
//      the backed-up Namespace objects. A hostile or corrupt tarball fails the restore here, with
//      nothing restored.
//   2. Restore passes. Types are restored in Velero's order (restore/priorities.h), one group
//      after another: a group starts only once every object of the groups before it was created
//      (and CRDs are Established). Each type of Velero's priority lists is a group of its own;
//      the other types, which share one priority in Velero, are one group. Items of the current
//      group are created as they stream by; items of later groups that come first in the tarball
//      are held in a look-ahead buffer of bounded size (RestoreOptions::lookahead_bytes) and
//      created when their turn comes; items that do not fit are left for another pass, which starts
//      at the first group not finished. A tarball written in restore order takes one pass; Arca's
//      and Velero's own orders take two or three, each a sequential download and gunzip, which
//      costs far less than the creates. Memory is the look-ahead buffer plus the in-flight objects,
//      whatever the size of the backup.
//   Every pass must see the same object (same ETag, same item count), else the restore fails.
//
// Parallelism. Within a group, objects are created by `concurrency` worker threads through the
// shared kube::Client. When the API server keeps answering 429 (the client's own retries ran
// out), the engine halves the number of requests it lets through and retries the item, then
// grows it again by one for every window of successes (AIMD). Results (the warnings, errors and
// resource list) are sorted, so they are the same whatever the concurrency.
//
// Existing objects. A create that meets an existing object reads it, resets it as the backed-up
// one was reset, and compares: equal objects are skipped; a ServiceAccount is merged (secrets,
// imagePullSecrets, labels, annotations); under existingResourcePolicy "update" other objects
// are merge-patched to the backed-up version; otherwise a warning says the in-cluster version
// differs. An existing object is never overwritten silently.
//
// Hooks (§6.2). Init-container hooks (spec.hooks postHooks[].init, init.hook.restore.velero.io
// annotations) are placed in pods before they are created (hooks/hooks.h). Exec hooks (postHooks
// [].exec, post.hook.restore.velero.io annotations) run when RestoreOptions::pod_executor is set:
// each created pod that has some gets a thread of its own that waits for its containers and runs
// them (hooks/executor.h, RestorePodHooks, one per restore); the restore waits for all of them
// before it writes its results. They are counted in status.hookStatus; each failed or unexecuted
// hook is an error of the pod's namespace (so the restore ends PartiallyFailed), and the hooks'
// lines (with Velero's hook* fields) are in the restore log. Without an executor exec hooks are
// not run, and a warning in the log says so for each pod that has some.
//
// What is not done here (yet): volume snapshots and file-system restores (PVs are restored as
// Velero restores PVs that have no snapshot), resource modifiers, plugin additional items.
//
// Thread-safety: one RestoreEngine runs one restore at a time (Run is not reentrant).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/restore.h"
#include "archive/tar.h"
#include "backup/contents.h"
#include "common/clock.h"
#include "common/status.h"
#include "kube/client.h"
#include "kube/exec.h"
#include "objstore/object_store.h"
#include "restore/priorities.h"

namespace arca::restore {

// Streams a whole backup tarball (gzip-compressed) from its first byte to `sink`, and returns a
// tag that changes when the tarball does (an ETag, a file's size and mtime). Called once per
// pass. Errors are the source's own (kNotFound for a missing backup, ...), or the sink's.
using TarballSource = std::function<Result<std::string>(const archive::ByteSink& sink)>;

// The tarball backups/<backup>/<backup>.tar.gz of `store` (which must outlive the source).
TarballSource StoreTarball(objstore::ObjectStore& store, std::string backup_name);
// A tarball file on the local disk (`arca restore create --from-file`).
TarballSource FileTarball(std::string path);

struct RestoreOptions {
  // Creates in flight at most (worker threads).
  int concurrency = 64;
  // Bytes of later groups' items held while the current group streams by.
  size_t lookahead_bytes = size_t{16} << 20;
  // How long CRDs may take to become Established, and a terminating namespace to go away
  // (Velero: --resource-timeout and --terminating-resource-timeout, both 10m).
  std::chrono::nanoseconds crd_ready_timeout = std::chrono::minutes(10);
  std::chrono::nanoseconds namespace_terminating_timeout = std::chrono::minutes(10);
  std::chrono::nanoseconds poll_interval = std::chrono::seconds(1);
  // Retries of one item after the API server kept answering 429 or 5xx.
  int unavailable_retries = 5;
  // Velero patches metadata.managedFields back to the backed-up value after each create. False:
  // no patch, the objects belong to the restore's manager (one request per object).
  bool restore_managed_fields = true;
  // With restore_managed_fields: false (the default) creates an object whose backed-up
  // managedFields is a single Update entry as that entry's manager, and skips the patch when the
  // created object's ownership came out the same (only the entry's time differs, and the restore
  // labels are owned too; see SingleUpdateManager); true patches after every create, as Velero.
  bool exact_managed_fields = false;
  Priorities priorities = DefaultPriorities();
  archive::TarReaderLimits tar_limits;
  // Runs post-restore exec hooks in restored pods; null: they are not run. Must outlive the
  // engine's runs. Called from one thread per pod with hooks.
  kube::PodExecutor* pod_executor = nullptr;
  // How often a restored pod waiting for its hooks is read again besides its watch events.
  std::chrono::seconds hook_poll_interval{5};
  // Called after a pod was created: the target namespace, the pod's JSON as the server
  // returned it. Called from worker threads.
  std::function<void(const std::string& ns, const nlohmann::json& pod)> on_pod_created;
};

// Progress and log lines while a restore runs. Called from several threads, never at once.
class RestoreObserver {
 public:
  virtual ~RestoreObserver() = default;
  virtual void OnProgress(int64_t items_restored, int64_t total_items) {
    (void)items_restored;
    (void)total_items;
  }
  virtual void OnLog(std::string_view line) { (void)line; }
};

// What a run produced, beside the Restore itself: the same documents that are written to
// restores/<name>/ (for tests and for --from-file runs without a store).
struct RestoreOutcome {
  api::Restore restore;
  // {"warnings": Result, "errors": Result} (restore-<name>-results.gz).
  nlohmann::json results;
  // "<apiVersion>/<Kind>" -> sorted ["ns/name(created)", ...] (restore-<name>-resource-list),
  // kept compact (ToJson() for the tree).
  backup::ResourceList resource_list;
  // Per action: created, updated, skipped, failed.
  int64_t created = 0;
  int64_t updated = 0;
  int64_t skipped = 0;
  int64_t failed = 0;
  // Restore passes over the tarball after the index pass.
  int passes = 0;
};

class RestoreEngine {
 public:
  // `client` and `clock` must outlive the engine. `store` receives the result files; it may be
  // null (nothing is written), e.g. for a tarball file restored without a storage location.
  RestoreEngine(kube::Client& client, objstore::ObjectStore* store, Clock& clock,
                RestoreOptions options = {});

  // Runs `restore` (spec.backupName names the backup in `store`; a scheduleName must already be
  // resolved to it, and may stay set beside it). Never fails as a call: every
  // problem ends up in the returned Restore's status (FailedValidation with validationErrors,
  // Failed with failureReason, PartiallyFailed with errors counted in the results).
  RestoreOutcome Run(api::Restore restore, RestoreObserver* observer = nullptr);
  // The same, reading the tarball from `source` instead of the store.
  RestoreOutcome RunFromSource(api::Restore restore, const TarballSource& source,
                               RestoreObserver* observer = nullptr);

 private:
  kube::Client& client_;
  objstore::ObjectStore* store_;
  Clock& clock_;
  RestoreOptions options_;
};

// Velero's validation of a Restore spec (§5.1) that needs no cluster: every problem, in order.
// An empty result means valid.
std::vector<std::string> ValidateRestoreSpec(const api::RestoreSpec& spec);

// The default restore name for a backup: "<backup>-<YYYYMMDDhhmmss>" in local time, as Velero's
// CLI makes it.
std::string DefaultRestoreName(std::string_view backup, std::chrono::system_clock::time_point now);

// A JSON merge patch (RFC 7386) that turns `from` into `to`: changed members, nulls for removed
// ones, arrays and scalars replaced whole. Null when they are equal.
nlohmann::json CreateMergePatch(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace arca::restore
