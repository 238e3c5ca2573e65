// File: controller/metrics.h
//
// Prometheus metrics in the text exposition format (version 0.0.4), with Velero's metric names
// (../shared/reference/velero-api.md §12). A Registry holds families of counters, gauges and
// histograms, each series named by its label values; Render writes them all, families and series
// in a stable (sorted) order, with # HELP and # TYPE lines.
//
// ServerMetrics names the series the server fills: per-schedule backup and restore counters (the
// label `schedule` is "" for backups not made by a schedule; series are pre-initialised to 0 for
// every schedule named in InitSchedule, "" included), the backup duration histogram, the
// deletion counters, velero_backup_total / velero_restore_total, and the location status gauge.
//
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace arca::controller {

class Registry {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a family. Redeclaring the same name is a no-op.
  void Declare(const std::string& name, Type type, std::string help,
               std::vector<std::string> label_names, std::vector<double> buckets = {});

  // REQUIRES: the family is declared with that type and label_values matches its labels.
  void Add(const std::string& name, const std::vector<std::string>& label_values, double delta);
  void Set(const std::string& name, const std::vector<std::string>& label_values, double value);
  void Observe(const std::string& name, const std::vector<std::string>& label_values, double value);
  // Creates the series at 0 if it does not exist.
  void Touch(const std::string& name, const std::vector<std::string>& label_values);
  // Removes every series of the family.
  void Clear(const std::string& name);

  // The value of a counter or gauge series (0 if absent); a histogram's count.
  double Value(const std::string& name, const std::vector<std::string>& label_values);

  std::string Render();

 private:
  struct Series {
    double value = 0;               // counter, gauge; histogram: sum
    uint64_t count = 0;             // histogram
    std::vector<uint64_t> buckets;  // histogram: cumulative counts per bucket bound
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::map<std::vector<std::string>, Series> series;
  };

  Series& SeriesLocked(Family& family, const std::vector<std::string>& label_values);

  std::mutex mu_;
  std::map<std::string, Family> families_;  // GUARDED_BY(mu_)
};

// Formats a sample value as Prometheus does: integers without a fraction, +Inf, NaN.
std::string FormatMetricValue(double value);
// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& value);

class ServerMetrics {
 public:
  ServerMetrics();

  Registry& registry() { return registry_; }

  // Pre-initialises the per-schedule counters of `schedule` ("" for ad-hoc backups) to 0.
  void InitSchedule(const std::string& schedule);

  void BackupAttempt(const std::string& schedule);
  void BackupSuccess(const std::string& schedule);
  void BackupPartialFailure(const std::string& schedule);
  void BackupFailure(const std::string& schedule);
  void BackupValidationFailure(const std::string& schedule);
  void BackupDuration(const std::string& schedule, double seconds);
  void BackupLastStatus(const std::string& schedule, bool success, double unix_time);
  void BackupItems(const std::string& schedule, double items, double errors);
  void BackupWarning(const std::string& schedule);
  void BackupTarballSize(const std::string& schedule, double bytes);
  void BackupDeletionAttempt(const std::string& schedule);
  void BackupDeletionSuccess(const std::string& schedule);
  void BackupDeletionFailure(const std::string& schedule);
  void SetBackupTotal(double n);

  void RestoreAttempt(const std::string& schedule);
  void RestoreSuccess(const std::string& schedule);
  void RestorePartialFailure(const std::string& schedule);
  void RestoreFailed(const std::string& schedule);
  void RestoreValidationFailed(const std::string& schedule);
  void SetRestoreTotal(double n);

  void LocationStatus(const std::string& location, bool available);

  std::string Render() { return registry_.Render(); }

 private:
  Registry registry_;
};

}  // namespace arca::controller
