// File: controller/leader_election.h
//
// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection does, so that of several `arca server` processes only one acts.
//
//   - A candidate takes the lease when it does not exist, is released (no holder), or has not
//     been renewed for lease_duration as observed on the candidate's own clock (so clocks of
//     different machines need not agree: the observer times how long the record stays the same).
//   - Writes are optimistic: an Update carries the resourceVersion read, so two candidates
//     racing for the lease cannot both win (the loser gets a conflict and stays a follower).
//   - The leader renews every retry_period; when it has failed to renew for renew_deadline it
//     gives up (on_stopped_leading), well before another candidate can take over
//     (lease_duration > renew_deadline).
//   - On a clean stop the leader releases the lease (empty holder), so a successor starts at once.
//
// Time comes from the injected Clock; waiting uses clock.SleepFor, so a SimulatedClock runs a
// whole election instantly.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

struct LeaderElectionConfig {
  std::string namespace_name = "velero";
  std::string lease_name = "arca-server";
  std::string identity;  // unique per process, e.g. "<hostname>_<random>"
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// The holder fields of a Lease's spec.
struct LeaseRecord {
  std::string holder_identity;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime, "2026-11-26T12:00:00.000000Z"
  std::string renew_time;
  int64_t lease_transitions = 0;

  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// Formats a Kubernetes MicroTime (RFC 3339 with exactly six fractional digits, UTC).
std::string FormatMicroTime(std::chrono::system_clock::time_point t);

class LeaderElector {
 public:
  // `client`, `clock` and `log` must outlive the elector. kInvalidArgument from Validate for an
  // empty identity or renew_deadline >= lease_duration or retry_period >= renew_deadline.
  LeaderElector(kube::Client& client, Clock& clock, Logger& log, LeaderElectionConfig config);

  Status Validate() const;

  // One attempt to acquire or renew: true when this candidate holds the lease afterwards.
  // Errors are those of the API (the caller retries); a lost race is false, not an error.
  Result<bool> TryAcquireOrRenew();

  // Campaigns until leader, calls on_started_leading, renews until renewing fails for
  // renew_deadline (then on_stopped_leading and kAborted "lost the lease") or `stop` becomes
  // true (then releases the lease, calls on_stopped_leading if it was leader, and returns OK).
  Status Run(const std::atomic<bool>& stop, const std::function<void()>& on_started_leading,
             const std::function<void()>& on_stopped_leading);

  // Gives up the lease if held (empty holder, so others take it at once).
  Status Release();

  bool IsLeader() const { return leader_.load(); }
  const LeaderElectionConfig& config() const { return config_; }

 private:
  kube::ResourceRef LeaseRef() const;

  kube::Client& client_;
  Clock& clock_;
  Logger& log_;
  const LeaderElectionConfig config_;
  std::atomic<bool> leader_{false};
  // What this candidate last saw, and when (on its own clock).
  LeaseRecord observed_;
  std::chrono::system_clock::time_point observed_time_{};
};

}  // namespace arca::controller
