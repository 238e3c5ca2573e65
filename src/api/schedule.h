// File: api/schedule.h
//
// The velero.io/v1 Schedule resource (../shared/reference/velero-api.md §1.3) as C++ values, with
// JSON conversion that matches Velero's field names and omits empty fields.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/backup.h"
#include "common/status.h"

namespace arca::api {

namespace schedule_phase {
inline constexpr char kNew[] = "New";
inline constexpr char kEnabled[] = "Enabled";
inline constexpr char kFailedValidation[] = "FailedValidation";
}  // namespace schedule_phase

struct ScheduleSpec {
  // The spec of every Backup made; template_.template_labels is spec.template.metadata.labels.
  BackupSpec template_;
  // A cron expression (schedule/cron.h).
  std::string schedule;
  std::optional<bool> use_owner_references_in_backup;
  bool paused = false;
  std::optional<bool> skip_immediately;
};

struct ScheduleStatus {
  std::string phase;
  std::string last_backup;   // RFC 3339
  std::string last_skipped;  // RFC 3339
  std::vector<std::string> validation_errors;
};

struct Schedule {
  ObjectMeta metadata;
  ScheduleSpec spec;
  ScheduleStatus status;
};

// Decodes a Schedule. kInvalidArgument naming the field ("spec.template.ttl: ...") when a field
// has the wrong type, or when apiVersion/kind are present and not velero.io/v1 Schedule.
Result<Schedule> ScheduleFromJson(const nlohmann::json& j);
// Encodes with apiVersion and kind, omitting empty fields.
nlohmann::json ScheduleToJson(const Schedule& s);

}  // namespace arca::api
