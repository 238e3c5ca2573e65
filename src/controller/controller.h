// File: controller/controller.h
//
// Controller: one informer-driven control loop. An informer lists and watches one velero.io/v1
// collection in the server's namespace; every add, update and delete queues the object's name on
// a WorkQueue; N workers take names off the queue and call the Reconciler. A reconcile that
// fails is retried with per-key exponential backoff; one that succeeds is queued again after
// its requested delay, or after the resync period while the object still exists (Velero's
// periodic resyncs). Reconcilers read the object fresh from the API server, so the informer is
// only a trigger and a cache of which names exist.
//
// Example:
//   ServerStatusReconciler ssr(...);
//   Controller c(client, Velero("serverstatusrequests", ns), ssr, clock, log,
//                {.name = "server-status-request", .workers = 1, .resync = 5min});
//   c.Start();
//   ...
//   c.Stop();
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/log.h"
#include "controller/work_queue.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace arca::controller {

// The ref of a velero.io/v1 collection (or of one object when `name` is given).
kube::ResourceRef VeleroRef(const std::string& resource, const std::string& namespace_name,
                            const std::string& name = "");

struct ReconcileResult {
  // > 0: reconcile this object again after this long (on the clock), even if nothing changes.
  std::chrono::nanoseconds requeue_after{0};
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Brings the object `name` to its desired state. An object that no longer exists is not an
  // error. A returned error is logged and the name retried with backoff.
  virtual Result<ReconcileResult> Reconcile(const std::string& name) = 0;
};

struct ControllerOptions {
  std::string name;  // for logs, e.g. "backup-storage-location"
  int workers = 1;
  // 0: no periodic resync.
  std::chrono::nanoseconds resync{0};
  WorkQueueOptions queue;
  kube::InformerOptions informer;
};

class Controller {
 public:
  // Every reference must outlive the controller. `collection` is a namespaced collection.
  Controller(kube::Client& client, kube::ResourceRef collection, Reconciler& reconciler,
             Clock& clock, Logger& log, ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the informer thread and the workers.
  void Start();
  // Stops the workers (each finishes its current reconcile) and the informer, and joins them.
  // The informer notices the stop at its next watch event or watch timeout.
  void Stop();
  // Stops only the workers: no reconcile runs after this returns (the informer keeps running
  // until Stop). For a fast process exit.
  void StopWorkers();

  const std::string& name() const { return options_.name; }
  WorkQueue& queue() { return queue_; }
  bool HasSynced() const { return informer_.HasSynced(); }
  // Reconciles run so far (successful or not).
  int64_t reconciles() const { return reconciles_.load(); }

  // Takes one queued name and reconciles it (the worker body), for tests. False when none ready.
  bool ProcessOne();

 private:
  void Enqueue(std::string_view object);
  void Worker();
  void Process(const std::string& key);

  kube::Client& client_;
  Reconciler& reconciler_;
  Clock& clock_;
  Logger& log_;
  const ControllerOptions options_;
  const std::string namespace_;
  WorkQueue queue_;
  kube::Informer informer_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> reconciles_{0};
  std::thread informer_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace arca::controller
