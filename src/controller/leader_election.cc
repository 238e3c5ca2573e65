#include "controller/leader_election.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "kube/encoding.h"

namespace arca::controller {
namespace {

LeaseRecord RecordFromJson(const nlohmann::json& lease) {
  LeaseRecord r;
  const nlohmann::json spec = lease.value("spec", nlohmann::json::object());
  if (!spec.is_object()) {
    return r;
  }
  auto str = [&](const char* k) {
    auto it = spec.find(k);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k) {
    auto it = spec.find(k);
    return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  r.holder_identity = str("holderIdentity");
  r.lease_duration_seconds = num("leaseDurationSeconds");
  r.acquire_time = str("acquireTime");
  r.renew_time = str("renewTime");
  r.lease_transitions = num("leaseTransitions");
  return r;
}

nlohmann::json SpecFromRecord(const LeaseRecord& r) {
  nlohmann::json spec = {{"holderIdentity", r.holder_identity},
                         {"leaseDurationSeconds", r.lease_duration_seconds},
                         {"leaseTransitions", r.lease_transitions}};
  if (!r.acquire_time.empty()) {
    spec["acquireTime"] = r.acquire_time;
  }
  if (!r.renew_time.empty()) {
    spec["renewTime"] = r.renew_time;
  }
  return spec;
}

}  // namespace

std::string FormatMicroTime(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = kube::FormatRfc3339(secs);  // "...:SSZ"
  char frac[32];
  std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(micros));
  base.insert(base.size() - 1, frac);
  return base;
}

LeaderElector::LeaderElector(kube::Client& client, Clock& clock, Logger& log,
                             LeaderElectionConfig config)
    : client_(client), clock_(clock), log_(log), config_(std::move(config)) {}

Status LeaderElector::Validate() const {
  if (config_.identity.empty()) {
    return InvalidArgumentError("leader election needs a non-empty identity");
  }
  if (config_.renew_deadline >= config_.lease_duration) {
    return InvalidArgumentError(
        "leader election: the renew deadline must be shorter than the "
        "lease duration");
  }
  if (config_.retry_period >= config_.renew_deadline) {
    return InvalidArgumentError(
        "leader election: the retry period must be shorter than the "
        "renew deadline");
  }
  return OkStatus();
}

kube::ResourceRef LeaderElector::LeaseRef() const {
  kube::ResourceRef ref;
  ref.gvr = {"coordination.k8s.io", "v1", "leases"};
  ref.namespace_name = config_.namespace_name;
  ref.name = config_.lease_name;
  return ref;
}

Result<bool> LeaderElector::TryAcquireOrRenew() {
  const auto now = clock_.Now();
  LeaseRecord mine;
  mine.holder_identity = config_.identity;
  mine.lease_duration_seconds = config_.lease_duration.count();
  mine.acquire_time = FormatMicroTime(now);
  mine.renew_time = mine.acquire_time;

  Result<std::string> got = client_.Get(LeaseRef());
  if (!got.ok() && got.status().code() == StatusCode::kNotFound) {
    kube::ResourceRef collection = LeaseRef();
    collection.name.clear();
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.namespace_name}}},
        {"spec", SpecFromRecord(mine)}};
    Result<std::string> created = client_.Create(collection, lease.dump());
    if (!created.ok()) {
      if (created.status().code() == StatusCode::kAlreadyExists) {
        return false;  // another candidate created it first
      }
      return created.status();
    }
    observed_ = mine;
    observed_time_ = now;
    leader_ = true;
    return true;
  }
  if (!got.ok()) {
    return got.status();
  }
  nlohmann::json lease = nlohmann::json::parse(*got, nullptr, /*allow_exceptions=*/false);
  if (!lease.is_object()) {
    return InternalError("lease " + config_.namespace_name + "/" + config_.lease_name +
                         " is not a JSON object");
  }
  const LeaseRecord current = RecordFromJson(lease);
  if (!(current == observed_)) {
    observed_ = current;
    observed_time_ = now;
  }
  const bool held_by_me = current.holder_identity == config_.identity;
  if (!current.holder_identity.empty() && !held_by_me) {
    const auto duration =
        std::chrono::seconds(current.lease_duration_seconds > 0 ? current.lease_duration_seconds
                                                                : config_.lease_duration.count());
    if (now < observed_time_ + duration) {
      leader_ = false;
      return false;  // held by someone else and not expired
    }
  }
  if (held_by_me) {
    mine.acquire_time = current.acquire_time;
    mine.lease_transitions = current.lease_transitions;
  } else {
    mine.lease_transitions = current.lease_transitions + 1;
  }
  lease["spec"] = SpecFromRecord(mine);
  Result<std::string> updated = client_.Update(LeaseRef(), lease.dump());
  if (!updated.ok()) {
    if (updated.status().code() == StatusCode::kAborted) {
      leader_ = false;
      return false;  // someone else wrote the lease in between
    }
    return updated.status();
  }
  observed_ = mine;
  observed_time_ = now;
  leader_ = true;
  return true;
}

Status LeaderElector::Release() {
  if (!leader_) {
    return OkStatus();
  }
  leader_ = false;
  ASSIGN_OR_RETURN(std::string text, client_.Get(LeaseRef()));
  nlohmann::json lease = nlohmann::json::parse(text, nullptr, false);
  if (!lease.is_object() || RecordFromJson(lease).holder_identity != config_.identity) {
    return OkStatus();  // not ours any more
  }
  LeaseRecord released;
  released.lease_duration_seconds = 1;
  released.lease_transitions = RecordFromJson(lease).lease_transitions;
  released.renew_time = FormatMicroTime(clock_.Now());
  lease["spec"] = SpecFromRecord(released);
  Result<std::string> r = client_.Update(LeaseRef(), lease.dump());
  return r.status();
}

Status LeaderElector::Run(const std::atomic<bool>& stop,
                          const std::function<void()>& on_started_leading,
                          const std::function<void()>& on_stopped_leading) {
  RETURN_IF_ERROR(Validate());
  log_.Info("Attempting to acquire the leader lease",
            {{"lease", config_.namespace_name + "/" + config_.lease_name},
             {"identity", config_.identity}});
  while (!stop) {
    Result<bool> r = TryAcquireOrRenew();
    if (r.ok() && *r) {
      break;
    }
    if (!r.ok()) {
      log_.Warn("Error acquiring the leader lease", {{"error", r.status().ToString()}});
    }
    clock_.SleepFor(config_.retry_period);
  }
  if (stop) {
    return OkStatus();
  }
  log_.Info("Acquired the leader lease", {{"identity", config_.identity}});
  if (on_started_leading) {
    on_started_leading();
  }
  auto last_renew = clock_.Now();
  while (!stop) {
    clock_.SleepFor(config_.retry_period);
    if (stop) {
      break;
    }
    Result<bool> r = TryAcquireOrRenew();
    if (r.ok() && *r) {
      last_renew = clock_.Now();
      continue;
    }
    const bool lost = r.ok();  // someone else holds it
    if (lost || clock_.Now() - last_renew >= config_.renew_deadline) {
      leader_ = false;
      log_.Error("Lost the leader lease; stopping",
                 {{"identity", config_.identity},
                  {"reason", lost ? "another candidate holds it"
                                  : "could not renew: " + r.status().ToString()}});
      if (on_stopped_leading) {
        on_stopped_leading();
      }
      return AbortedError("lost the leader lease " + config_.namespace_name + "/" +
                          config_.lease_name);
    }
    log_.Warn("Failed to renew the leader lease", {{"error", r.status().ToString()}});
  }
  Status released = Release();
  if (!released.ok()) {
    log_.Warn("Could not release the leader lease", {{"error", released.ToString()}});
  }
  if (on_stopped_leading) {
    on_stopped_leading();
  }
  return OkStatus();
}

}  // namespace arca::controller
