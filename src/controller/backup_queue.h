// File: controller/backup_queue.h
//
// Velero's backup queue (../shared/reference/velero-api.md §4.1, new in v1.18), which lets up to
// `--concurrent-backups` backups run at once as long as their namespaces do not overlap:
//   - A Backup with phase "" or New becomes Queued, with queuePosition = the largest position in
//     the queue + 1.
//   - A Queued Backup becomes ReadyToStart (queuePosition 0; the rest of the queue renumbered
//     1..n) when fewer than `concurrent` backups are InProgress or ReadyToStart, no earlier one
//     (InProgress, ReadyToStart, or Queued with a lower position) covers a namespace it covers
//     (namespace filters resolved against the live namespaces, globs included), and no earlier
//     Queued backup could start instead (the queue is served in order).
//   - The backup controller starts only ReadyToStart backups (BackupReconciler's `queued` mode).
// PlanBackupQueue is the pure decision; BackupQueueReconciler applies it to the cluster, looking
// at every Backup of the namespace on each event (the work queue folds bursts into one pass).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

// One Backup as the queue sees it.
struct QueuedBackup {
  std::string name;
  std::string phase;  // "", New, Queued, ReadyToStart, InProgress, or a final phase
  int64_t position = 0;
  std::string created;  // creationTimestamp (RFC 3339), orders new arrivals
  std::vector<std::string> included_namespaces;
  std::vector<std::string> excluded_namespaces;
};

struct QueuePlan {
  // name -> new queuePosition for every backup that is (or becomes) Queued and whose position
  // changes; new arrivals are included with their first position.
  std::vector<std::pair<std::string, int64_t>> queued;
  // Backups that move from Queued (or new) to ReadyToStart, in queue order.
  std::vector<std::string> ready;
};

// Velero's first step: every New (or phase "") backup becomes Queued behind the queue, by
// creation time. Updates `backups` in place and returns (name, position) for each.
std::vector<std::pair<std::string, int64_t>> EnqueueArrivals(std::vector<QueuedBackup>& backups);

// The queue's next step. `live_namespaces` resolves wildcards; `concurrent` >= 1. New arrivals
// are treated as queued behind the rest (EnqueueArrivals' order).
QueuePlan PlanBackupQueue(const std::vector<QueuedBackup>& backups,
                          const std::vector<std::string>& live_namespaces, int concurrent);

// The namespaces of `live` a backup covers (its namespace filter resolved as the engine does).
std::set<std::string> CoveredNamespaces(const QueuedBackup& backup,
                                        const std::vector<std::string>& live);

class BackupQueueReconciler : public Reconciler {
 public:
  // How often Queued backups are looked at again without events (Velero: 1m).
  static constexpr std::chrono::seconds kRecheck{60};

  BackupQueueReconciler(kube::Client& client, std::string namespace_name, Clock& clock, Logger& log,
                        int concurrent);

  // `name` is ignored: every pass plans the whole queue.
  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  const int concurrent_;
};

}  // namespace arca::controller
