#include "controller/backup_queue.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "api/backup.h"
#include "backup/filters.h"
#include "controller/objects.h"

namespace arca::controller {
namespace {

constexpr char kController[] = "backup-queue";

bool IsNew(const std::string& phase) { return phase.empty() || phase == api::backup_phase::kNew; }

bool IsRunning(const std::string& phase) {
  return phase == api::backup_phase::kInProgress || phase == api::backup_phase::kReadyToStart;
}

bool Overlaps(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const std::string& ns : a) {
    if (b.contains(ns)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::set<std::string> CoveredNamespaces(const QueuedBackup& backup,
                                        const std::vector<std::string>& live) {
  backup::NamespaceSelection sel =
      backup::ResolveNamespaces(backup.included_namespaces, backup.excluded_namespaces, live);
  std::set<std::string> out;
  if (sel.matched_nothing) {
    return out;
  }
  for (const std::string& ns : live) {
    if (sel.filter.ShouldInclude(ns)) {
      out.insert(ns);
    }
  }
  // Named namespaces that do not exist yet still belong to the backup.
  for (const std::string& ns : sel.filter.includes()) {
    if (ns != "*" && ns.find_first_of("*?[") == std::string::npos && !sel.filter.IsExcluded(ns)) {
      out.insert(ns);
    }
  }
  return out;
}

std::vector<std::pair<std::string, int64_t>> EnqueueArrivals(std::vector<QueuedBackup>& backups) {
  int64_t last = 0;
  std::vector<QueuedBackup*> arrivals;
  for (QueuedBackup& b : backups) {
    if (b.phase == api::backup_phase::kQueued) {
      last = std::max(last, b.position);
    } else if (IsNew(b.phase)) {
      arrivals.push_back(&b);
    }
  }
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const QueuedBackup* x, const QueuedBackup* y) {
                     return std::tie(x->created, x->name) < std::tie(y->created, y->name);
                   });
  std::vector<std::pair<std::string, int64_t>> out;
  for (QueuedBackup* b : arrivals) {
    b->phase = api::backup_phase::kQueued;
    b->position = ++last;
    out.emplace_back(b->name, b->position);
  }
  return out;
}

QueuePlan PlanBackupQueue(const std::vector<QueuedBackup>& backups,
                          const std::vector<std::string>& live_namespaces, int concurrent) {
  QueuePlan plan;
  int running = 0;
  std::vector<const QueuedBackup*> active;  // InProgress / ReadyToStart
  std::vector<const QueuedBackup*> queue;   // Queued, by position
  std::vector<const QueuedBackup*> arrivals;
  for (const QueuedBackup& b : backups) {
    if (IsRunning(b.phase)) {
      ++running;
      active.push_back(&b);
    } else if (b.phase == api::backup_phase::kQueued) {
      queue.push_back(&b);
    } else if (IsNew(b.phase)) {
      arrivals.push_back(&b);
    }
  }
  std::stable_sort(queue.begin(), queue.end(), [](const QueuedBackup* x, const QueuedBackup* y) {
    return x->position < y->position;
  });
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const QueuedBackup* x, const QueuedBackup* y) {
                     return std::tie(x->created, x->name) < std::tie(y->created, y->name);
                   });
  queue.insert(queue.end(), arrivals.begin(), arrivals.end());

  std::vector<std::set<std::string>> taken;  // namespaces of the active and earlier queued
  for (const QueuedBackup* b : active) {
    taken.push_back(CoveredNamespaces(*b, live_namespaces));
  }
  std::vector<const QueuedBackup*> remaining;
  for (const QueuedBackup* b : queue) {
    std::set<std::string> mine = CoveredNamespaces(*b, live_namespaces);
    bool blocked = running >= std::max(1, concurrent);
    for (const std::set<std::string>& t : taken) {
      if (blocked) {
        break;
      }
      blocked = Overlaps(mine, t);
    }
    if (!blocked) {
      plan.ready.push_back(b->name);
      ++running;
    } else {
      remaining.push_back(b);
    }
    taken.push_back(std::move(mine));
  }
  for (size_t i = 0; i < remaining.size(); ++i) {
    const auto position = static_cast<int64_t>(i + 1);
    if (remaining[i]->phase != api::backup_phase::kQueued || remaining[i]->position != position) {
      plan.queued.emplace_back(remaining[i]->name, position);
    }
  }
  return plan;
}

BackupQueueReconciler::BackupQueueReconciler(kube::Client& client, std::string namespace_name,
                                             Clock& clock, Logger& log, int concurrent)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      concurrent_(concurrent) {}

Result<ReconcileResult> BackupQueueReconciler::Reconcile(const std::string& /*name*/) {
  std::vector<QueuedBackup> backups;
  Status listed = client_.List(
      VeleroRef("backups", namespace_, ""), kube::ListOptions{},
      [&backups](std::string_view item) {
        nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
        if (!j.is_object()) {
          return OkStatus();
        }
        QueuedBackup b;
        const nlohmann::json meta = j.value("metadata", nlohmann::json::object());
        const nlohmann::json spec = j.value("spec", nlohmann::json::object());
        const nlohmann::json status = j.value("status", nlohmann::json::object());
        if (meta.contains("deletionTimestamp")) {
          return OkStatus();
        }
        b.name = meta.value("name", "");
        b.created = meta.value("creationTimestamp", "");
        b.phase = status.value("phase", "");
        b.position = status.value("queuePosition", int64_t{0});
        for (const char* key : {"includedNamespaces", "excludedNamespaces"}) {
          std::vector<std::string>& out = std::string_view(key) == "includedNamespaces"
                                              ? b.included_namespaces
                                              : b.excluded_namespaces;
          if (spec.contains(key) && spec[key].is_array()) {
            for (const nlohmann::json& ns : spec[key]) {
              if (ns.is_string()) {
                out.push_back(ns.get<std::string>());
              }
            }
          }
        }
        backups.push_back(std::move(b));
        return OkStatus();
      },
      [&backups] { backups.clear(); });
  RETURN_IF_ERROR(listed);
  const bool waiting = std::any_of(backups.begin(), backups.end(), [](const QueuedBackup& b) {
    return IsNew(b.phase) || b.phase == api::backup_phase::kQueued;
  });
  if (!waiting) {
    return ReconcileResult{};
  }
  std::vector<std::string> live;
  kube::ResourceRef namespaces;
  namespaces.gvr = {"", "v1", "namespaces"};
  namespaces.namespaced = false;
  RETURN_IF_ERROR(client_.List(
      namespaces, kube::ListOptions{},
      [&live](std::string_view item) {
        nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
        if (j.is_object() &&
            j.value("status", nlohmann::json::object()).value("phase", "") != "Terminating") {
          live.push_back(j["metadata"].value("name", ""));
        }
        return OkStatus();
      },
      [&live] { live.clear(); }));
  // New backups join the queue first (Velero: New -> Queued -> ReadyToStart).
  for (const auto& [name, position] : EnqueueArrivals(backups)) {
    RETURN_IF_ERROR(MergePatch(
        client_, VeleroRef("backups", namespace_, name),
        {{"status", {{"phase", api::backup_phase::kQueued}, {"queuePosition", position}}}}));
  }
  const QueuePlan plan = PlanBackupQueue(backups, live, concurrent_);
  // Positions first, so that a client never sees two backups at one position for long.
  for (const auto& [name, position] : plan.queued) {
    RETURN_IF_ERROR(MergePatch(
        client_, VeleroRef("backups", namespace_, name),
        {{"status", {{"phase", api::backup_phase::kQueued}, {"queuePosition", position}}}}));
  }
  for (const std::string& name : plan.ready) {
    log_.Info("Backup ready to start", {{"controller", kController}, {"backup", name}});
    RETURN_IF_ERROR(MergePatch(
        client_, VeleroRef("backups", namespace_, name),
        {{"status", {{"phase", api::backup_phase::kReadyToStart}, {"queuePosition", 0}}}}));
  }
  return ReconcileResult{.requeue_after = kRecheck};
}

}  // namespace arca::controller
