#include "cli/schedule_cmd.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "api/duration.h"
#include "api/schedule.h"
#include "cli/format.h"
#include "kube/encoding.h"
#include "kube/label_selector.h"
#include "schedule/cron.h"
#include "schedule/scheduler.h"

namespace arca::cli {
namespace {

constexpr char kSchedules[] = "schedules";

// Go's text/tabwriter as Velero's describers configure it (minwidth 0, tabwidth 8, padding 2,
// padded with spaces): cells end at tabs, and a column is aligned over each block of consecutive
// lines that have a cell in it.
class TabWriter {
 public:
  explicit TabWriter(std::string_view text) {
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      std::vector<std::string> cells;
      size_t start = 0;
      while (true) {
        size_t tab = line.find('\t', start);
        cells.emplace_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
        if (tab == std::string_view::npos) {
          break;
        }
        start = tab + 1;
      }
      lines_.push_back(std::move(cells));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }

  std::string Format() {
    Format(0, lines_.size());
    return out_;
  }

 private:
  void Format(size_t line0, size_t line1) {
    const size_t column = widths_.size();
    for (size_t row = line0; row < line1; ++row) {
      if (column + 1 >= lines_[row].size()) {
        continue;
      }
      Write(line0, row);
      line0 = row;
      size_t width = 0;
      for (; row < line1 && column + 1 < lines_[row].size(); ++row) {
        width = std::max(width, lines_[row][column].size() + 2);
      }
      widths_.push_back(width);
      Format(line0, row);
      widths_.pop_back();
      line0 = row;  // the loop's increment skips this line, which has no cell in the column
    }
    Write(line0, line1);
  }

  void Write(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const std::vector<std::string>& cells = lines_[i];
      for (size_t j = 0; j < cells.size(); ++j) {
        out_ += cells[j];
        if (j < widths_.size() && j + 1 < cells.size()) {
          out_ += std::string(widths_[j] - std::min(widths_[j], cells[j].size()), ' ');
        }
      }
      out_ += "\n";
    }
  }

  std::vector<std::vector<std::string>> lines_;
  std::vector<size_t> widths_;
  std::string out_;
};

std::string Join(const std::vector<std::string>& items, const std::string& empty) {
  if (items.empty()) {
    return empty;
  }
  std::string out;
  for (const std::string& s : items) {
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

std::string DescribeMap(const std::string& name, const std::map<std::string, std::string>& m) {
  std::string out = name + ":\t";
  if (m.empty()) {
    return out + "<none>\n";
  }
  bool first = true;
  for (const auto& [k, v] : m) {
    out += (first ? "" : "\t") + k + "=" + v + "\n";
    first = false;
  }
  return out;
}

std::string OptionalBool(const std::optional<bool>& b, const char* if_false, const char* if_true,
                         const char* if_unset) {
  return !b.has_value() ? if_unset : *b ? if_true : if_false;
}

// Velero's DescribeBackupSpec, each line after `prefix`.
std::string DescribeTemplate(const api::BackupSpec& s, const std::string& p) {
  std::ostringstream d;
  d << p << "Namespaces:\n";
  d << p << "\tIncluded:\t" << Join(s.included_namespaces, "*") << "\n";
  d << p << "\tExcluded:\t" << Join(s.excluded_namespaces, "<none>") << "\n\n";
  d << p << "Resources:\n";
  if (s.UsesNewFilters()) {
    d << p << "\tIncluded cluster-scoped:\t" << Join(s.included_cluster_scoped_resources, "<none>")
      << "\n";
    d << p << "\tExcluded cluster-scoped:\t" << Join(s.excluded_cluster_scoped_resources, "<none>")
      << "\n";
    d << p << "\tIncluded namespace-scoped:\t" << Join(s.included_namespace_scoped_resources, "*")
      << "\n";
    d << p << "\tExcluded namespace-scoped:\t"
      << Join(s.excluded_namespace_scoped_resources, "<none>") << "\n\n";
  } else {
    d << p << "\tIncluded:\t" << Join(s.included_resources, "*") << "\n";
    d << p << "\tExcluded:\t" << Join(s.excluded_resources, "<none>") << "\n";
    d << p << "\tCluster-scoped:\t"
      << OptionalBool(s.include_cluster_resources, "excluded", "included", "auto") << "\n\n";
  }
  d << p << "Label selector:\t"
    << (s.label_selector.has_value() ? FormatLabelSelector(*s.label_selector) : "<none>") << "\n\n";
  std::vector<std::string> ors;
  for (const nlohmann::json& sel : s.or_label_selectors) {
    ors.push_back(FormatLabelSelector(sel));
  }
  std::string or_text;
  for (const std::string& o : ors) {
    or_text += (or_text.empty() ? "" : " or ") + o;
  }
  d << p << "Or label selector:\t" << (ors.empty() ? "<none>" : or_text) << "\n\n";
  d << p << "Storage Location:\t" << s.storage_location << "\n\n";
  d << p << "TTL:\t" << api::FormatDuration(s.ttl.value_or(api::Duration(0))) << "\n\n";
  const size_t hooks =
      s.hooks.is_object() && s.hooks.contains("resources") && s.hooks["resources"].is_array()
          ? s.hooks["resources"].size()
          : 0;
  if (hooks == 0) {
    d << p << "Hooks:\t<none>\n";
  } else {
    d << p << "Hooks:\t" << hooks << " resource hook spec(s)\n";
  }
  if (!s.ordered_resources.empty()) {
    d << "\n" << p << "OrderedResources:\n";
    for (const auto& [resource, items] : s.ordered_resources) {
      d << p << "\t" << resource << ":\t" << items << "\n";
    }
  }
  return d.str();
}

std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  Result<std::chrono::system_clock::time_point> t = kube::ParseRfc3339(text);
  if (!t.ok()) {
    return std::nullopt;
  }
  return *t;
}

// Velero's humanReadableTimeFromNow: "n/a", "now" or "5m ago".
std::string TimeFromNow(const std::string& rfc3339, std::chrono::system_clock::time_point now) {
  std::optional<std::chrono::system_clock::time_point> t = ParseTime(rfc3339);
  if (!t.has_value()) {
    return "n/a";
  }
  if (*t >= now) {
    return "now";
  }
  return ShortHumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t)) + " ago";
}

Result<api::Schedule> Decode(const nlohmann::json& j) {
  Result<api::Schedule> s = api::ScheduleFromJson(j);
  if (!s.ok()) {
    return InvalidArgumentError("schedule \"" +
                                (j.contains("metadata") ? j["metadata"].value("name", "") : "") +
                                "\" cannot be read: " + s.status().message());
  }
  return s;
}

void RunCreate(CommandContext& ctx, const ClusterFlags& cluster, ScheduleCreateFlags& f,
               const CLI::Option* skip_opt, bool skip_value, const std::string& output) {
  if (skip_opt != nullptr && skip_opt->count() > 0) {
    f.skip_immediately = skip_value;
  }
  Result<std::optional<OutputFormat>> format = ParsePrintOnlyFormat(output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  Result<nlohmann::json> schedule = BuildSchedule(f, cluster.Namespace());
  if (!schedule.ok()) {
    ctx.Fail(schedule.status());
    return;
  }
  if (format->has_value()) {
    PrintObject(ctx.out, **format, *schedule);
    return;
  }
  Result<VeleroClient> client = VeleroClient::Connect(cluster, RealClock());
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Result<nlohmann::json> created = CreateSchedule(*client, *schedule);
  if (!created.ok()) {
    ctx.Fail(created.status());
    return;
  }
  ctx.out << "Schedule \"" << f.name << "\" created successfully.\n";
}

void RunGet(CommandContext& ctx, const ClusterFlags& cluster, const std::vector<std::string>& names,
            const std::string& selector, const std::string& output) {
  Result<OutputFormat> format = ParseOutputFormat(output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  Result<Fetched> fetched = ConnectAndFetch(cluster, "schedule", kSchedules, names, selector);
  if (!fetched.ok()) {
    ctx.Fail(fetched.status());
    return;
  }
  if (*format == OutputFormat::kTable) {
    PrintScheduleTable(ctx.out, fetched->items, RealClock().Now());
  } else {
    PrintObjects(ctx.out, *format, fetched->items, names.size() == 1);
  }
}

void RunDescribe(CommandContext& ctx, const ClusterFlags& cluster,
                 const std::vector<std::string>& names, const std::string& selector) {
  Result<Fetched> fetched = ConnectAndFetch(cluster, "schedule", kSchedules, names, selector);
  if (!fetched.ok()) {
    ctx.Fail(fetched.status());
    return;
  }
  for (size_t i = 0; i < fetched->items.size(); ++i) {
    if (i > 0) {
      ctx.out << "\n\n";
    }
    DescribeSchedule(ctx.out, fetched->items[i], RealClock().Now());
  }
}

}  // namespace

// --- schedule ------------------------------------------------------------------------------------

Result<nlohmann::json> BuildSchedule(const ScheduleCreateFlags& f, const std::string& ns) {
  if (f.name.empty()) {
    return InvalidArgumentError(
        "a schedule name is required: arca schedule create NAME --schedule "
        "\"0 0 * * *\"");
  }
  if (Trim(f.schedule).empty()) {
    return InvalidArgumentError(
        "--schedule is required: give a cron expression (minute hour day-of-month month "
        "day-of-week, in UTC), e.g. --schedule \"0 1 * * *\" or --schedule \"@every 6h\"");
  }
  Result<schedule::CronSchedule> cron = schedule::ParseCron(f.schedule);
  if (!cron.ok()) {
    return InvalidArgumentError(
        "--schedule: " + cron.status().message() +
        "; use five fields (minute hour day-of-month month day-of-week), e.g. \"0 1 * * *\", or "
        "a descriptor such as @daily or \"@every 6h\"");
  }
  api::Schedule s;
  s.metadata.name = f.name;
  s.metadata.namespace_ = ns;
  ASSIGN_OR_RETURN(s.metadata.labels, ParseMapFlag("--labels", f.labels));
  ASSIGN_OR_RETURN(s.metadata.annotations, ParseMapFlag("--annotations", f.annotations));
  ASSIGN_OR_RETURN(s.spec.template_, f.spec.Build());
  s.spec.schedule = f.schedule;
  s.spec.use_owner_references_in_backup = f.use_owner_references;
  s.spec.paused = f.paused;
  s.spec.skip_immediately = f.skip_immediately;
  return api::ScheduleToJson(s);
}

Result<nlohmann::json> CreateSchedule(VeleroClient& client, const nlohmann::json& schedule) {
  const std::string location = schedule.contains("spec") && schedule["spec"].contains("template")
                                   ? schedule["spec"]["template"].value("storageLocation", "")
                                   : "";
  if (!location.empty()) {
    Result<nlohmann::json> bsl = client.Get("backupstoragelocations", location);
    if (!bsl.ok()) {
      return Status(bsl.status().code(), "--storage-location: " + bsl.status().message());
    }
  }
  return client.Create(kSchedules, schedule);
}

void PrintScheduleTable(std::ostream& out, const std::vector<nlohmann::json>& schedules,
                        std::chrono::system_clock::time_point now) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "STATUS", "CREATED", "SCHEDULE", "BACKUP TTL", "LAST BACKUP", "SELECTOR", "PAUSED"}};
  for (const nlohmann::json& j : schedules) {
    Result<api::Schedule> s = Decode(j);
    if (!s.ok()) {
      const std::string name = j.contains("metadata") ? j["metadata"].value("name", "") : "";
      rows.push_back({name, "<error: " + s.status().message() + ">"});
      continue;
    }
    const api::BackupSpec& t = s->spec.template_;
    rows.push_back({
        s->metadata.name,
        s->status.phase.empty() ? api::schedule_phase::kNew : s->status.phase,
        FormatTime(s->metadata.creation_timestamp),
        s->spec.schedule,
        api::FormatDuration(t.ttl.value_or(api::Duration(0))),
        TimeFromNow(s->status.last_backup, now),
        t.label_selector.has_value() ? FormatLabelSelector(*t.label_selector) : "<none>",
        s->spec.paused ? "true" : "false",
    });
  }
  PrintTable(out, rows);
}

std::string NextRunText(const nlohmann::json& j, std::chrono::system_clock::time_point now) {
  Result<api::Schedule> s = Decode(j);
  if (!s.ok()) {
    return "<unknown: " + s.status().message() + ">";
  }
  if (s->spec.paused) {
    return "<paused>";
  }
  const auto now_s = std::chrono::time_point_cast<std::chrono::seconds>(now);
  // What the controller would do now, with nothing in flight; skipImmediately unset counts as
  // the server's default (false).
  schedule::ScheduleActions a = schedule::ReconcileSchedule(*s, now_s, false, false);
  if (!a.status.validation_errors.empty()) {
    return "<invalid schedule>";
  }
  if (a.backup.has_value()) {
    // Overdue: the run is the first one after the reference time, made at the next reconcile.
    std::optional<std::chrono::system_clock::time_point> ref = ParseTime(s->status.last_backup);
    if (!ref.has_value()) {
      ref = ParseTime(s->metadata.creation_timestamp);
    }
    if (std::optional<std::chrono::system_clock::time_point> skipped =
            ParseTime(s->status.last_skipped);
        skipped.has_value() && (!ref.has_value() || *skipped > *ref)) {
      ref = skipped;
    }
    Result<schedule::CronSchedule> cron = schedule::ParseCron(s->spec.schedule);
    std::optional<schedule::SysSeconds> due;
    if (cron.ok() && ref.has_value()) {
      due = cron->Next(std::chrono::time_point_cast<std::chrono::seconds>(*ref));
    }
    return FormatTime(kube::FormatRfc3339(due.value_or(now_s))) +
           " (due: the server runs it at its next reconcile)";
  }
  if (!a.next_run.has_value()) {
    return "<none>";
  }
  return FormatTime(kube::FormatRfc3339(*a.next_run));
}

void DescribeSchedule(std::ostream& out, const nlohmann::json& j,
                      std::chrono::system_clock::time_point now) {
  Result<api::Schedule> parsed = Decode(j);
  if (!parsed.ok()) {
    out << "<error: " << parsed.status().message() << ">\n";
    return;
  }
  const api::Schedule& s = *parsed;
  std::ostringstream d;
  d << "Name:\t" << s.metadata.name << "\n";
  d << "Namespace:\t" << s.metadata.namespace_ << "\n";
  d << DescribeMap("Labels", s.metadata.labels);
  d << DescribeMap("Annotations", s.metadata.annotations);
  d << "\n";
  d << "Phase:\t" << (s.status.phase.empty() ? api::schedule_phase::kNew : s.status.phase) << "\n";
  if (!s.status.validation_errors.empty()) {
    d << "\nValidation errors:";
    for (const std::string& e : s.status.validation_errors) {
      d << "\t" << e << "\n";
    }
  }
  d << "\n";
  d << "Paused:\t" << (s.spec.paused ? "true" : "false") << "\n";
  d << "\n";
  d << "Schedule:\t" << s.spec.schedule << "\n";
  if (s.spec.use_owner_references_in_backup.value_or(false)) {
    d << "Use Owner References In Backup:\ttrue\n";
  }
  if (s.spec.skip_immediately.has_value()) {
    d << "Skip Immediately:\t" << (*s.spec.skip_immediately ? "true" : "false") << "\n";
  }
  d << "\n";
  d << "Backup Template:\n";
  d << DescribeTemplate(s.spec.template_, "\t");
  d << "\n";
  d << "Last Backup:\t"
    << (s.status.last_backup.empty() ? "<never>" : FormatTime(s.status.last_backup)) << "\n";
  if (!s.status.last_skipped.empty()) {
    d << "Last Skipped:\t" << FormatTime(s.status.last_skipped) << "\n";
  }
  d << "Next Run:\t" << NextRunText(j, now) << "\n";
  out << TabWriter(d.str()).Format();
}

void SetSchedulesPaused(VeleroClient& client, const Selection& selection, bool paused,
                        std::optional<bool> skip_immediately, CommandContext& ctx) {
  Result<std::vector<nlohmann::json>> schedules = SelectObjects(client, kSchedules, selection, ctx);
  if (!schedules.ok()) {
    ctx.Fail(schedules.status());
    return;
  }
  if (schedules->empty()) {
    if (ctx.exit_code == 0) {
      ctx.out << "No schedules found\n";
    }
    return;
  }
  const char* verb = paused ? "paused" : "unpaused";
  for (const nlohmann::json& s : *schedules) {
    const std::string name = s["metadata"].value("name", "");
    const bool is_paused = s.contains("spec") && s["spec"].value("paused", false);
    if (is_paused == paused) {
      ctx.err << "Schedule " << name << " is already " << verb << ", skip\n";
      continue;
    }
    nlohmann::json spec = {{"paused", paused}};
    spec["skipImmediately"] =
        skip_immediately.has_value() ? nlohmann::json(*skip_immediately) : nlohmann::json(nullptr);
    Result<nlohmann::json> patched = client.MergePatch(kSchedules, name, {{"spec", spec}});
    if (!patched.ok()) {
      ctx.Fail(Status(patched.status().code(),
                      "failed to update schedule " + name + ": " + patched.status().message()));
      continue;
    }
    ctx.out << "Schedule " << name << " " << verb << " successfully\n";
  }
}

void DeleteSchedules(VeleroClient& client, const Selection& selection, CommandContext& ctx) {
  Result<std::vector<nlohmann::json>> schedules = SelectObjects(client, kSchedules, selection, ctx);
  if (!schedules.ok()) {
    ctx.Fail(schedules.status());
    return;
  }
  if (schedules->empty()) {
    if (ctx.exit_code == 0) {
      ctx.out << "No schedules found\n";
    }
    return;
  }
  for (const nlohmann::json& s : *schedules) {
    const std::string name = s["metadata"].value("name", "");
    Status st = client.Delete(kSchedules, name);
    if (!st.ok()) {
      ctx.Fail(st);
      continue;
    }
    ctx.out << "Schedule deleted: " << name << "\n";
  }
}

// --- the command tree ----------------------------------------------------------------------------

void AddScheduleCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* schedule = app.add_subcommand("schedule", "Work with schedules");
  schedule->alias("schedules");
  schedule->require_subcommand(1);

  // create
  {
    struct State {
      ClusterFlags cluster;
      ScheduleCreateFlags flags;
      bool skip_value = false;
      CLI::Option* skip_opt = nullptr;
      std::string output;
    };
    auto st = std::make_shared<State>();
    CLI::App* create = schedule->add_subcommand("create", "Create a schedule");
    create->add_option("NAME", st->flags.name, "The schedule's name")->required();
    create->add_option("--schedule", st->flags.schedule,
                       "A cron expression (minute hour day-of-month month day-of-week, UTC) or "
                       "a descriptor (@daily, \"@every 6h\") for when backups run");
    st->cluster.AddTo(*create);
    st->flags.spec.AddTo(*create);
    create->add_flag("--use-owner-references-in-backup", st->flags.use_owner_references,
                     "Make the schedule the owner of its backups, so that deleting the schedule "
                     "deletes the Backup objects (not their stored data)");
    create->add_flag("--paused", st->flags.paused, "Create the schedule paused");
    st->skip_opt = create->add_flag(
        "--skip-immediately", st->skip_value,
        "Skip the run due right after creation (=true or =false; unset: the server's default)");
    create->add_option("--labels", st->flags.labels, "Labels of the schedule: key=value,...")
        ->delimiter(',');
    create
        ->add_option("--annotations", st->flags.annotations,
                     "Annotations of the schedule: key=value,...")
        ->delimiter(',');
    create->add_option("-o,--output", st->output,
                       "Print the Schedule as json or yaml instead of creating it");
    create->callback([&ctx, st] {
      RunCreate(ctx, st->cluster, st->flags, st->skip_opt, st->skip_value, st->output);
    });
  }

  // get
  {
    struct State {
      ClusterFlags cluster;
      std::vector<std::string> names;
      std::string selector;
      std::string output = "table";
    };
    auto st = std::make_shared<State>();
    CLI::App* get = schedule->add_subcommand("get", "List schedules");
    get->add_option("NAMES", st->names, "Only these schedules");
    get->add_option("-l,--selector", st->selector, "Only schedules matching this label selector");
    get->add_option("-o,--output", st->output, "table, json or yaml");
    st->cluster.AddTo(*get);
    get->callback([&ctx, st] { RunGet(ctx, st->cluster, st->names, st->selector, st->output); });
  }

  // describe
  {
    struct State {
      ClusterFlags cluster;
      std::vector<std::string> names;
      std::string selector;
    };
    auto st = std::make_shared<State>();
    CLI::App* describe = schedule->add_subcommand("describe", "Describe schedules");
    describe->add_option("NAMES", st->names, "The schedules (default: all)");
    describe->add_option("-l,--selector", st->selector,
                         "Only schedules matching this label selector");
    st->cluster.AddTo(*describe);
    describe->callback([&ctx, st] { RunDescribe(ctx, st->cluster, st->names, st->selector); });
  }

  // pause / unpause
  for (const bool pause : {true, false}) {
    struct State {
      ClusterFlags cluster;
      Selection selection;
      bool skip_value = false;
      CLI::Option* skip_opt = nullptr;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = schedule->add_subcommand(pause ? "pause" : "unpause",
                                             pause ? "Pause schedules" : "Unpause schedules");
    AddSelectionFlags(*cmd, st->selection, "schedules");
    st->skip_opt = cmd->add_flag("--skip-immediately", st->skip_value,
                                 "Skip the run that is due when the schedule is unpaused "
                                 "(=true or =false; unset: the server's default)");
    st->cluster.AddTo(*cmd);
    cmd->callback([&ctx, st, pause] {
      std::optional<VeleroClient> client =
          StartSelectionCommand(st->cluster, st->selection, "schedule", true, nullptr, ctx);
      if (!client) {
        return;
      }
      std::optional<bool> skip;
      if (st->skip_opt->count() > 0) {
        skip = st->skip_value;
      }
      SetSchedulesPaused(*client, st->selection, pause, skip, ctx);
    });
  }

  // delete
  {
    struct State {
      ClusterFlags cluster;
      Selection selection;
      bool confirm = false;
    };
    auto st = std::make_shared<State>();
    CLI::App* del = schedule->add_subcommand("delete", "Delete schedules (not their backups)");
    AddSelectionFlags(*del, st->selection, "schedules");
    del->add_flag("--confirm", st->confirm, "Delete without asking");
    st->cluster.AddTo(*del);
    del->callback([&ctx, st] {
      std::optional<VeleroClient> client = StartSelectionCommand(
          st->cluster, st->selection, "schedule", st->confirm, &std::cin, ctx);
      if (!client) {
        return;
      }
      DeleteSchedules(*client, st->selection, ctx);
    });
  }
}

}  // namespace arca::cli
