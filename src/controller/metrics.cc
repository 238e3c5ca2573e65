#include "controller/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace arca::controller {

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  return buf;
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) {
    out += (out.empty() ? "" : ",") + extra;
  }
  return out.empty() ? "" : "{" + out + "}";
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void Registry::Declare(const std::string& name, Type type, std::string help,
                       std::vector<std::string> label_names, std::vector<double> buckets) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (families_.contains(name)) {
    return;
  }
  Family& f = families_[name];
  f.type = type;
  f.help = std::move(help);
  f.label_names = std::move(label_names);
  f.bounds = std::move(buckets);
}

Registry::Series& Registry::SeriesLocked(Family& family,
                                         const std::vector<std::string>& label_values) {
  assert(label_values.size() == family.label_names.size());
  auto [it, inserted] = family.series.try_emplace(label_values);
  if (inserted && family.type == Type::kHistogram) {
    it->second.buckets.assign(family.bounds.size(), 0);
  }
  return it->second;
}

void Registry::Add(const std::string& name, const std::vector<std::string>& label_values,
                   double delta) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  assert(it != families_.end() && it->second.type != Type::kHistogram);
  SeriesLocked(it->second, label_values).value += delta;
}

void Registry::Set(const std::string& name, const std::vector<std::string>& label_values,
                   double value) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  assert(it != families_.end() && it->second.type == Type::kGauge);
  SeriesLocked(it->second, label_values).value = value;
}

void Registry::Observe(const std::string& name, const std::vector<std::string>& label_values,
                       double value) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  assert(it != families_.end() && it->second.type == Type::kHistogram);
  Family& f = it->second;
  Series& s = SeriesLocked(f, label_values);
  s.value += value;
  ++s.count;
  for (size_t i = 0; i < f.bounds.size(); ++i) {
    if (value <= f.bounds[i]) {
      ++s.buckets[i];
    }
  }
}

void Registry::Touch(const std::string& name, const std::vector<std::string>& label_values) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  assert(it != families_.end());
  SeriesLocked(it->second, label_values);
}

void Registry::Clear(const std::string& name) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    it->second.series.clear();
  }
}

double Registry::Value(const std::string& name, const std::vector<std::string>& label_values) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    return 0;
  }
  auto s = it->second.series.find(label_values);
  if (s == it->second.series.end()) {
    return 0;
  }
  return it->second.type == Type::kHistogram ? static_cast<double>(s->second.count)
                                             : s->second.value;
}

std::string Registry::Render() {
  const std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [values, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += name + Labels(f.label_names, values) + " " + FormatMetricValue(s.value) + "\n";
        continue;
      }
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        out += name + "_bucket" +
               Labels(f.label_names, values, "le=\"" + FormatMetricValue(f.bounds[i]) + "\"") +
               " " + std::to_string(s.buckets[i]) + "\n";
      }
      out += name + "_bucket" + Labels(f.label_names, values, "le=\"+Inf\"") + " " +
             std::to_string(s.count) + "\n";
      out +=
          name + "_sum" + Labels(f.label_names, values) + " " + FormatMetricValue(s.value) + "\n";
      out += name + "_count" + Labels(f.label_names, values) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

namespace {

constexpr char kBackupAttempt[] = "velero_backup_attempt_total";
constexpr char kBackupSuccess[] = "velero_backup_success_total";
constexpr char kBackupPartial[] = "velero_backup_partial_failure_total";
constexpr char kBackupFailure[] = "velero_backup_failure_total";
constexpr char kBackupValidation[] = "velero_backup_validation_failure_total";
constexpr char kBackupDuration[] = "velero_backup_duration_seconds";
constexpr char kBackupLastSuccess[] = "velero_backup_last_successful_timestamp";
constexpr char kBackupLastStatus[] = "velero_backup_last_status";
constexpr char kBackupItems[] = "velero_backup_items_total";
constexpr char kBackupItemErrors[] = "velero_backup_items_errors";
constexpr char kBackupWarning[] = "velero_backup_warning_total";
constexpr char kBackupTarball[] = "velero_backup_tarball_size_bytes";
constexpr char kDeletionAttempt[] = "velero_backup_deletion_attempt_total";
constexpr char kDeletionSuccess[] = "velero_backup_deletion_success_total";
constexpr char kDeletionFailure[] = "velero_backup_deletion_failure_total";
constexpr char kBackupTotal[] = "velero_backup_total";
constexpr char kRestoreAttempt[] = "velero_restore_attempt_total";
constexpr char kRestoreSuccess[] = "velero_restore_success_total";
constexpr char kRestorePartial[] = "velero_restore_partial_failure_total";
constexpr char kRestoreFailed[] = "velero_restore_failed_total";
constexpr char kRestoreValidation[] = "velero_restore_validation_failed_total";
constexpr char kRestoreTotal[] = "velero_restore_total";
constexpr char kLocationStatus[] = "velero_backup_location_status_gauge";

// The per-schedule counters pre-initialised by InitSchedule.
constexpr const char* kScheduleCounters[] = {
    kBackupAttempt,   kBackupSuccess,   kBackupPartial,     kBackupFailure,  kBackupValidation,
    kDeletionAttempt, kDeletionSuccess, kDeletionFailure,   kRestoreAttempt, kRestoreSuccess,
    kRestorePartial,  kRestoreFailed,   kRestoreValidation, kBackupWarning};

}  // namespace

ServerMetrics::ServerMetrics() {
  using T = Registry::Type;
  const std::vector<std::string> schedule = {"schedule"};
  Registry& r = registry_;
  r.Declare(kBackupAttempt, T::kCounter, "Total number of attempted backups", schedule);
  r.Declare(kBackupSuccess, T::kCounter, "Total number of successful backups", schedule);
  r.Declare(kBackupPartial, T::kCounter, "Total number of partially failed backups", schedule);
  r.Declare(kBackupFailure, T::kCounter, "Total number of failed backups", schedule);
  r.Declare(kBackupValidation, T::kCounter, "Total number of validation failed backups", schedule);
  r.Declare(kBackupDuration, T::kHistogram, "Time taken to complete backup, in seconds", schedule,
            {60, 300, 600, 900, 1800, 3600, 7200, 10800, 14400});
  r.Declare(kBackupLastSuccess, T::kGauge,
            "Last time a backup ran successfully, Unix timestamp "
            "in seconds",
            schedule);
  r.Declare(kBackupLastStatus, T::kGauge,
            "Last status of the backup. A value of 1 is success, 0 is failure", schedule);
  r.Declare(kBackupItems, T::kGauge, "Total number of items backed up", schedule);
  r.Declare(kBackupItemErrors, T::kGauge, "Total number of errors encountered during backup",
            schedule);
  r.Declare(kBackupWarning, T::kCounter, "Total number of warned backups", schedule);
  r.Declare(kBackupTarball, T::kGauge, "Size, in bytes, of a backup", schedule);
  r.Declare(kDeletionAttempt, T::kCounter, "Total number of attempted backup deletions", schedule);
  r.Declare(kDeletionSuccess, T::kCounter, "Total number of successful backup deletions", schedule);
  r.Declare(kDeletionFailure, T::kCounter, "Total number of failed backup deletions", schedule);
  r.Declare(kBackupTotal, T::kGauge, "Current number of existent backups", {});
  r.Declare(kRestoreAttempt, T::kCounter, "Total number of attempted restores", schedule);
  r.Declare(kRestoreSuccess, T::kCounter, "Total number of successful restores", schedule);
  r.Declare(kRestorePartial, T::kCounter, "Total number of partially failed restores", schedule);
  r.Declare(kRestoreFailed, T::kCounter, "Total number of failed restores", schedule);
  r.Declare(kRestoreValidation, T::kCounter, "Total number of failed restores failing validations",
            schedule);
  r.Declare(kRestoreTotal, T::kGauge, "Current number of existent restores", {});
  r.Declare(kLocationStatus, T::kGauge,
            "The status of backup storage location. A value of 1 is available, 0 is unavailable",
            {"backup_location_name"});
  r.Set(kBackupTotal, {}, 0);
  r.Set(kRestoreTotal, {}, 0);
  InitSchedule("");
}

void ServerMetrics::InitSchedule(const std::string& schedule) {
  for (const char* name : kScheduleCounters) {
    registry_.Touch(name, {schedule});
  }
}

void ServerMetrics::BackupAttempt(const std::string& s) { registry_.Add(kBackupAttempt, {s}, 1); }
void ServerMetrics::BackupSuccess(const std::string& s) { registry_.Add(kBackupSuccess, {s}, 1); }
void ServerMetrics::BackupPartialFailure(const std::string& s) {
  registry_.Add(kBackupPartial, {s}, 1);
}
void ServerMetrics::BackupFailure(const std::string& s) { registry_.Add(kBackupFailure, {s}, 1); }
void ServerMetrics::BackupValidationFailure(const std::string& s) {
  registry_.Add(kBackupValidation, {s}, 1);
}
void ServerMetrics::BackupDuration(const std::string& s, double seconds) {
  registry_.Observe(kBackupDuration, {s}, seconds);
}
void ServerMetrics::BackupLastStatus(const std::string& s, bool success, double unix_time) {
  registry_.Set(kBackupLastStatus, {s}, success ? 1 : 0);
  if (success) {
    registry_.Set(kBackupLastSuccess, {s}, unix_time);
  }
}
void ServerMetrics::BackupItems(const std::string& s, double items, double errors) {
  registry_.Set(kBackupItems, {s}, items);
  registry_.Set(kBackupItemErrors, {s}, errors);
}
void ServerMetrics::BackupWarning(const std::string& s) { registry_.Add(kBackupWarning, {s}, 1); }
void ServerMetrics::BackupTarballSize(const std::string& s, double bytes) {
  registry_.Set(kBackupTarball, {s}, bytes);
}
void ServerMetrics::BackupDeletionAttempt(const std::string& s) {
  registry_.Add(kDeletionAttempt, {s}, 1);
}
void ServerMetrics::BackupDeletionSuccess(const std::string& s) {
  registry_.Add(kDeletionSuccess, {s}, 1);
}
void ServerMetrics::BackupDeletionFailure(const std::string& s) {
  registry_.Add(kDeletionFailure, {s}, 1);
}
void ServerMetrics::SetBackupTotal(double n) { registry_.Set(kBackupTotal, {}, n); }
void ServerMetrics::RestoreAttempt(const std::string& s) { registry_.Add(kRestoreAttempt, {s}, 1); }
void ServerMetrics::RestoreSuccess(const std::string& s) { registry_.Add(kRestoreSuccess, {s}, 1); }
void ServerMetrics::RestorePartialFailure(const std::string& s) {
  registry_.Add(kRestorePartial, {s}, 1);
}
void ServerMetrics::RestoreFailed(const std::string& s) { registry_.Add(kRestoreFailed, {s}, 1); }
void ServerMetrics::RestoreValidationFailed(const std::string& s) {
  registry_.Add(kRestoreValidation, {s}, 1);
}
void ServerMetrics::SetRestoreTotal(double n) { registry_.Set(kRestoreTotal, {}, n); }
void ServerMetrics::LocationStatus(const std::string& location, bool available) {
  registry_.Set(kLocationStatus, {location}, available ? 1 : 0);
}

}  // namespace arca::controller
