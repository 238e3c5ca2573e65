// File: backup/engine.h
//
// BackupEngine runs one velero.io/v1 Backup against a cluster and writes it to an object store in
// Velero's layout (../shared/reference/velero-api.md §2–§4). The server's controller and the
// CLI's --standalone mode both call it.
//
// What Run does, in order:
//   1. Validation: filters of both generations, namespace globs, label selectors (labelSelector
//      and orLabelSelectors are exclusive), the backup name. Every reason is listed in
//      status.validationErrors and the phase is FailedValidation; nothing is written.
//   2. A backup of that name already in the store ends Failed ("backup already exists in object
//      storage"), as in Velero; the existing files are left alone.
//   3. Discovery, the namespaces (those labelled velero.io/exclude-from-backup=true are
//      excluded), Velero's wildcard expansion, resource names resolved through discovery, the
//      list plan (backup/plan.h). The check of step 2, discovery, /version and the namespace
//      list are requested side by side; their results are used in this order.
//   4. The lists run in parallel (options.list_concurrency), paginated, one list per selector of
//      orLabelSelectors. Each item is checked (namespace filter for all-namespace lists, objects
//      being deleted and objects labelled velero.io/exclude-from-backup=true skipped), given
//      apiVersion and kind, and handed through a bounded queue to one writer (the calling
//      thread), which de-duplicates, writes both tar entries and feeds the upload of
//      backups/<name>/<name>.tar.gz through a bounded pipe. Memory does not grow with the
//      number or size of objects, except for the de-duplication set (8 bytes per item: a 64-bit
//      hash of resource, namespace and name, in a hash set) and the resource list (one
//      "ns/name" per item), both of which Velero keeps too.
//   5. Related items as Velero's item actions add them, each at most once and subject to
//      Velero's item-level checks (§4.3): a pod's PVCs and PriorityClass, a bound PVC's PV, the
//      ClusterRoleBindings naming a backed-up ServiceAccount and their ClusterRoles, and the CRD
//      of every backed-up custom resource. PVCs are stored as Velero's PVC action leaves them
//      (dataSource, dataSourceRef removed; selector cleared unless storageClassName is "").
//   6. Namespace objects as Velero's namespace tracker decides (§4.3).
//   Backup exec hooks (§6.1), when options.pod_executor is set: for each pod, its pre hooks run
//   (through pods/exec) before it is written and its post hooks after. Hooks come from the pod's
//   annotations, else from spec.hooks.resources[] (a malformed spec.hooks fails the backup, as
//   in Velero). Pods already Succeeded or Failed get none. A failed hook is an error of the
//   backup (PartiallyFailed) logged with its output; only a pre hook with onError Fail keeps the
//   pod out of the backup (it gets no post hooks either). status.hookStatus counts them. The
//   log shows "running exec hook", the hook's stdout and stderr, "Backing up item" for the pod,
//   then the post hooks. Differences from Velero: the pod's related items (its PVCs, PV,
//   PriorityClass) are written at the end of the backup rather than between its pre and post
//   hooks (no volume is snapshotted, so nothing waits on the freeze); hooks run on the writer
//   thread, one pod at a time, as Velero does with its default single item-block worker.
//   7. The side files (<name>-logs.gz, -resource-list.json.gz, -results.gz, -volumesnapshots,
//      -itemoperations, -podvolumebackups, -volumeinfo and -csi-volumesnapshotclasses .json.gz,
//      the last five empty JSON arrays), put side by side, then velero-backup.json LAST: a
//      reader that sees the metadata can rely on every other file.
//
// Outcome: Completed; PartiallyFailed when an item-level error was recorded (a forbidden list,
// an included namespace that does not exist, a related item that could not be read), the errors
// being in <name>-results.gz by namespace and counted in status.errors; Failed with a
// failureReason on a fatal error (discovery fails, the store fails). A Failed backup never has a
// tarball presented as whole: the engine then uploads only the log and a velero-backup.json that
// says Failed (best effort, when the store still answers).
//
// orderedResources: for each listed resource, the named objects are fetched and written first,
// in the given order (missing ones are warnings), before the rest of that resource's items.
//
// Not done (yet): volume snapshots, file-system backups, backup item actions other than the
// built-in ones above, resource policies, the PVC -> mounting pods direction of Velero's PVC
// item-block action (pods are only skipped by a label selector there).
//
// Thread-safety: one Run at a time per engine; the engine's own threads call the observer's
// callbacks one at a time, from the writer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "api/backup.h"
#include "archive/gzip.h"
#include "backup/contents.h"
#include "common/clock.h"
#include "common/status.h"
#include "kube/client.h"
#include "kube/exec.h"
#include "objstore/object_store.h"

namespace arca::backup {

struct BackupEngineOptions {
  // Lists running at once.
  int list_concurrency = 8;
  // Items per list page (Velero's --client-page-size); 0 lists in one request.
  int64_t page_size = 500;
  // The tarball's compression (threads, level).
  archive::GzipOptions gzip;
  // Bytes buffered between the compressor and the upload.
  size_t pipe_bytes = size_t{4} << 20;
  // Bytes of items buffered between the lists and the writer (one item always fits).
  size_t queue_bytes = size_t{4} << 20;
  // Default retention when spec.ttl is unset (Velero's --default-backup-ttl).
  api::Duration default_ttl = std::chrono::hours(720);
  // Minimum time between two progress callbacks (the last one is always sent).
  std::chrono::milliseconds progress_interval{100};
  // Runs backup exec hooks in pods (kube::ExecClient in the CLI and the server). Null: no hook
  // runs (a warning is logged when spec.hooks asks for some). Must outlive the engine.
  kube::PodExecutor* pod_executor = nullptr;
};

enum class LogLevel { kInfo, kWarning, kError };

// Callbacks, all optional, all called from the writer thread.
struct BackupObserver {
  // status.progress while the backup runs. totalItems grows as lists report their sizes.
  std::function<void(const api::BackupProgress&)> on_progress;
  // Each line of the backup log as it is written.
  std::function<void(LogLevel, std::string_view line)> on_log;
  // A seam around each pod, for tests (the exec hooks of options.pod_executor run outside it:
  // pre hooks first, post hooks last): called for each pod before it is written. An error skips the
  // pod, records the error and leaves out its post hook, as Velero does with onError: Fail.
  // `pod_json` is the pod as it will be stored.
  std::function<Status(const ItemRef& pod, std::string_view pod_json)> before_pod;
  // Called after the pod's entries were written (post hooks). An error is recorded.
  std::function<Status(const ItemRef& pod, std::string_view pod_json)> after_pod;
};

class BackupEngine {
 public:
  // `client`, `store` and `clock` must outlive the engine.
  BackupEngine(kube::Client& client, objstore::ObjectStore& store, Clock& clock,
               BackupEngineOptions options = {});

  // Runs `backup` (metadata.name and spec are read; status is replaced) and returns it with its
  // final status: phase FailedValidation, Failed, PartiallyFailed or Completed, with
  // startTimestamp, completionTimestamp, expiration, progress, errors and warnings.
  api::Backup Run(api::Backup backup, const BackupObserver& observer = {});

 private:
  kube::Client& client_;
  objstore::ObjectStore& store_;
  Clock& clock_;
  const BackupEngineOptions options_;
};

// Velero's validation of a Backup's spec and name; every reason (empty when valid).
std::vector<std::string> ValidateBackup(const api::Backup& backup);

// Velero's PVC backup item action on one PVC's JSON: removes spec.dataSource and
// spec.dataSourceRef, clears spec.selector unless spec.storageClassName is "", and drops the
// labels velero.io/restore-name, velero.io/volume-snapshot-name,
// backup.velero.io/must-include-additional-items, and velero.io/backup-name when it names
// another backup. Returns the input unchanged when none applies (the common case); otherwise
// the object re-encoded with sorted keys, as Go writes it. kInvalidArgument for bad JSON.
Result<std::string> ApplyPvcAction(std::string_view pvc_json, std::string_view backup_name);

}  // namespace arca::backup
