// File: cli/schedule_cmd.h
//
// `arca schedule create|get|describe|pause|unpause|delete`, shaped like `velero schedule ...`
// (../shared/reference/velero-api.md §1.3, §7, §10). The pieces that talk to the cluster take a
// VeleroClient so that tests run them on an in-memory API server. Also the selection and
// confirmation helpers that `backup-location delete` shares: NAMES | --all | -l, and Velero's
// "Are you sure you want to continue (Y/N)? " prompt.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/backup_flags.h"
#include "cli/cluster.h"
#include "cli/common.h"
#include "common/status.h"

namespace arca::cli {

// Adds the `schedule` command tree to `app`. Callbacks report through `ctx`.
void AddScheduleCommands(CLI::App& app, CommandContext& ctx);

// --- schedule ----------------------------------------------------------------------------------

// The flags of `arca schedule create`.
struct ScheduleCreateFlags {
  std::string name;
  std::string schedule;  // cron expression (schedule/cron.h)
  BackupSpecFlags spec;  // the template
  bool use_owner_references = false;
  bool paused = false;
  std::optional<bool> skip_immediately;  // unset: the server's --schedule-skip-immediately
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
};

// The Schedule the flags describe, in namespace `ns`, as JSON. kInvalidArgument for a missing or
// malformed --schedule (naming the cron field at fault), bad labels or bad template flags.
Result<nlohmann::json> BuildSchedule(const ScheduleCreateFlags& flags, const std::string& ns);

// Submits a schedule built by BuildSchedule; when the template names a storage location, it must
// exist (as Velero checks). Returns the created object.
Result<nlohmann::json> CreateSchedule(VeleroClient& client, const nlohmann::json& schedule);

// `schedule get`'s table: NAME STATUS CREATED SCHEDULE BACKUP TTL LAST BACKUP SELECTOR PAUSED.
void PrintScheduleTable(std::ostream& out, const std::vector<nlohmann::json>& schedules,
                        std::chrono::system_clock::time_point now);

// When the server will next make a backup of `schedule`, as its controller decides
// (schedule/scheduler.h): "2026-11-26 17:00:00 +0000 UTC", or what prevents one ("<paused>",
// "<invalid schedule>", "<none>" when the expression never fires again), or the due time
// followed by " (due: the server runs it at its next reconcile)" when it is overdue.
std::string NextRunText(const nlohmann::json& schedule, std::chrono::system_clock::time_point now);

// `schedule describe`'s text for one schedule.
void DescribeSchedule(std::ostream& out, const nlohmann::json& schedule,
                      std::chrono::system_clock::time_point now);

// `schedule pause|unpause`: sets spec.paused (and spec.skipImmediately, nil when not given, as
// Velero's merge patch does) on the selected schedules; one line per schedule, "already paused"
// ones are skipped with a note on stderr.
void SetSchedulesPaused(VeleroClient& client, const Selection& selection, bool paused,
                        std::optional<bool> skip_immediately, CommandContext& ctx);

// `schedule delete` after confirmation: deletes the selected schedules (not their backups).
void DeleteSchedules(VeleroClient& client, const Selection& selection, CommandContext& ctx);

}  // namespace arca::cli
