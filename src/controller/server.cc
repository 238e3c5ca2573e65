#include "controller/server.h"

#include <algorithm>
#include <thread>

#include "controller/backup_controller.h"
#include "controller/backup_deletion.h"
#include "controller/backup_queue.h"
#include "controller/backup_sync.h"
#include "controller/download_request.h"
#include "controller/gc_controller.h"
#include "controller/http_server.h"
#include "controller/restore_controller.h"
#include "controller/schedule_controller.h"
#include "controller/server_status.h"
#include "controller/storage_location.h"

namespace arca::controller {

const std::vector<std::string>& KnownControllers() {
  static const std::vector<std::string> kNames = {"backup-queue",
                                                  "backup",
                                                  "backup-operations",
                                                  "backup-deletion",
                                                  "backup-finalizer",
                                                  "backup-sync",
                                                  "download-request",
                                                  "gc",
                                                  "backup-repo",
                                                  "restore",
                                                  "restore-operations",
                                                  "schedule",
                                                  "server-status-request",
                                                  "restore-finalizer",
                                                  "backup-storage-location"};
  return kNames;
}

Status CheckControllerNames(const std::set<std::string>& names) {
  const auto& known = KnownControllers();
  for (const std::string& n : names) {
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      std::string list;
      for (const std::string& k : known) {
        list += (list.empty() ? "" : ", ") + k;
      }
      return InvalidArgumentError("--disable-controllers: unknown controller \"" + n +
                                  "\"; valid names: " + list);
    }
  }
  return OkStatus();
}

Server::Server(kube::Client& client, Clock& clock, Logger& log, LocationStores& stores,
               ServerOptions options)
    : client_(client), clock_(clock), log_(log), stores_(stores), options_(std::move(options)) {}

Server::~Server() { StopControllers(); }

bool Server::Ready() {
  if (!leading_) {
    return false;
  }
  for (const auto& c : controllers_) {
    if (!c->HasSynced()) {
      return false;
    }
  }
  return true;
}

void Server::StartControllers() {
  const std::string& ns = options_.namespace_name;
  kube::InformerOptions informer;
  informer.watch_timeout_seconds = options_.watch_timeout_seconds;
  auto add = [&](const std::string& name, const std::string& resource,
                 std::unique_ptr<Reconciler> reconciler, int workers,
                 std::chrono::nanoseconds resync) {
    if (options_.disabled_controllers.contains(name)) {
      log_.Info("Controller disabled", {{"controller", name}});
      return;
    }
    ControllerOptions o;
    o.name = name;
    o.workers = workers;
    o.resync = resync;
    o.informer = informer;
    controllers_.push_back(std::make_unique<Controller>(client_, VeleroRef(resource, ns),
                                                        *reconciler, clock_, log_, o));
    reconcilers_.push_back(std::move(reconciler));
  };
  add("server-status-request", "serverstatusrequests",
      std::make_unique<ServerStatusReconciler>(client_, ns, clock_, log_, options_.server_version),
      1, std::chrono::minutes(5));
  add("backup-storage-location", "backupstoragelocations",
      std::make_unique<StorageLocationReconciler>(client_, ns, clock_, log_, stores_, metrics_,
                                                  options_.store_validation_frequency),
      2, std::chrono::seconds(10));
  add("download-request", "downloadrequests",
      std::make_unique<DownloadRequestReconciler>(client_, ns, clock_, log_, stores_), 2,
      std::chrono::minutes(1));
  backup::BackupEngineOptions engine;
  engine.default_ttl = options_.default_backup_ttl;
  engine.pod_executor = options_.pod_executor;
  const bool queued = !options_.disabled_controllers.contains("backup-queue");
  const int concurrent = std::max(1, options_.concurrent_backups);
  add("backup-queue", "backups",
      std::make_unique<BackupQueueReconciler>(client_, ns, clock_, log_, concurrent), 1,
      std::chrono::nanoseconds(0));
  add("backup", "backups",
      std::make_unique<BackupReconciler>(client_, ns, clock_, log_, stores_, metrics_, engine,
                                         queued),
      concurrent, std::chrono::minutes(5));
  restore::RestoreOptions restore_options;
  restore_options.pod_executor = options_.pod_executor;
  restore_options.priorities = options_.restore_priorities;
  add("restore", "restores",
      std::make_unique<RestoreReconciler>(client_, ns, clock_, log_, stores_, metrics_,
                                          restore_options),
      std::max(1, options_.concurrent_restores), std::chrono::minutes(5));
  add("backup-deletion", "deletebackuprequests",
      std::make_unique<BackupDeletionReconciler>(client_, ns, clock_, log_, stores_, metrics_), 2,
      std::chrono::hours(1));
  add("schedule", "schedules",
      std::make_unique<ScheduleReconciler>(client_, ns, clock_, log_,
                                           options_.schedule_skip_immediately),
      1, ScheduleReconciler::kResync);
  add("gc", "backups", std::make_unique<GcReconciler>(client_, ns, clock_, log_), 1,
      options_.garbage_collection_frequency);
  add("backup-sync", "backupstoragelocations",
      std::make_unique<BackupSyncReconciler>(client_, ns, clock_, log_, stores_,
                                             options_.backup_sync_period),
      1, BackupSyncReconciler::kResync);
  for (auto& c : controllers_) {
    c->Start();
  }
}

void Server::StopControllers() {
  for (auto& c : controllers_) {
    c->Stop();
  }
  controllers_.clear();
  reconcilers_.clear();
}

void Server::RefreshTotals() {
  for (const char* resource : {"backups", "restores"}) {
    int64_t n = 0;
    kube::ListOptions paged;
    paged.limit = 500;
    Status s =
        client_.List(VeleroRef(resource, options_.namespace_name), paged, [&n](std::string_view) {
          ++n;
          return OkStatus();
        });
    if (!s.ok()) {
      log_.Warn("Could not count objects for metrics",
                {{"resource", resource}, {"error", s.ToString()}});
      continue;
    }
    if (std::string_view(resource) == "backups") {
      metrics_.SetBackupTotal(static_cast<double>(n));
    } else {
      metrics_.SetRestoreTotal(static_cast<double>(n));
    }
  }
}

Status Server::Run(const std::atomic<bool>& stop) {
  HttpServer http({
      {"/metrics",
       [this] {
         return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Render()};
       }},
      {"/healthz",
       [] {
         return HttpReply{200, "text/plain; charset=utf-8", "ok\n"};
       }},
      {"/readyz",
       [this] {
         return Ready() ? HttpReply{200, "text/plain; charset=utf-8", "ok\n"}
                        : HttpReply{503, "text/plain; charset=utf-8",
                                    leading_ ? "informers not synced\n" : "not the leader\n"};
       }},
  });
  RETURN_IF_ERROR(http.Start(options_.metrics_address));
  log_.Info("Serving metrics and health checks",
            {{"address", options_.metrics_address}, {"port", std::to_string(http.port())}});

  LeaderElector elector(client_, clock_, log_, options_.leader_election);
  RETURN_IF_ERROR(elector.Validate());
  std::atomic<bool> totals_stop{false};
  std::thread totals;
  Status result = elector.Run(
      stop,
      [&] {
        leading_ = true;
        StartControllers();
        totals = std::thread([&] {
          while (!totals_stop) {
            RefreshTotals();
            for (int i = 0; i < 60 && !totals_stop; ++i) {
              clock_.SleepFor(std::chrono::seconds(1));
            }
          }
        });
      },
      [&] {
        leading_ = false;
        // No reconcile may run once the lease is gone.
        for (auto& c : controllers_) {
          c->StopWorkers();
        }
        totals_stop = true;
      });
  totals_stop = true;
  if (totals.joinable()) {
    totals.join();
  }
  http.Stop();
  log_.Info("Server stopped", {{"reason", result.ok() ? "asked to stop" : result.ToString()}});
  return result;
}

}  // namespace arca::controller
