#include "cli/restore_cmd.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "api/backup.h"
#include "api/duration.h"
#include "api/names.h"
#include "api/requests.h"
#include "api/restore.h"
#include "archive/velero_layout.h"
#include "cli/backup_cmd.h"
#include "cli/backup_flags.h"
#include "cli/download.h"
#include "cli/format.h"
#include "kube/exec.h"
#include "restore/engine.h"
#include "schedule/scheduler.h"

namespace arca::cli {
namespace {

constexpr char kScheduleNameLabel[] = "velero.io/schedule-name";

struct CreateFlags {
  std::string name;
  std::string from_backup;
  std::string from_schedule;
  std::string from_file;
  bool allow_partially_failed = false;
  bool standalone = false;
  bool wait = false;
  StorageFlag storage;
  ClusterFlags cluster;
  std::vector<std::string> include_namespaces{"*"};
  std::vector<std::string> exclude_namespaces;
  std::vector<std::string> include_resources;
  std::vector<std::string> exclude_resources;
  bool include_cluster_resources = true;
  CLI::Option* include_cluster_resources_opt = nullptr;
  std::vector<std::string> namespace_mappings;
  std::string selector;
  std::string or_selector;
  std::string existing_resource_policy;
  std::vector<std::string> status_include;
  std::vector<std::string> status_exclude;
  bool preserve_nodeports = false;
  bool restore_volumes = true;
  CLI::Option* restore_volumes_opt = nullptr;
  std::string item_operation_timeout;
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  std::string output;
  int concurrency = restore::RestoreOptions{}.concurrency;
  std::string restore_managed_fields = "true";
  std::string resource_priorities;
};

// The source flags: exactly one of them, each in the mode it works in.
Status CheckSource(const CreateFlags& f) {
  const int sources = static_cast<int>(!f.from_backup.empty()) +
                      static_cast<int>(!f.from_schedule.empty()) +
                      static_cast<int>(!f.from_file.empty());
  if (sources != 1) {
    return InvalidArgumentError(
        "give exactly one of --from-backup NAME (a backup) and --from-schedule NAME (the newest "
        "completed backup of a schedule); with --standalone, --from-file backup.tar.gz restores "
        "a downloaded tarball instead");
  }
  if (!f.resource_priorities.empty() && !f.standalone) {
    return InvalidArgumentError(
        "--restore-resource-priorities sets the order of a restore run in this process: add "
        "--standalone, or give it to `arca server` for the server's restores");
  }
  if (!f.from_file.empty() && !f.standalone) {
    return InvalidArgumentError("--from-file restores a tarball in this process: add --standalone");
  }
  if (!f.from_schedule.empty() && f.standalone) {
    return InvalidArgumentError(
        "--from-schedule needs `arca server` (a schedule's backups are Backup resources in the "
        "cluster): drop --standalone, or restore one backup with --from-backup NAME --standalone");
  }
  return OkStatus();
}

Result<api::Restore> BuildRestore(const CreateFlags& f, std::chrono::system_clock::time_point now) {
  RETURN_IF_ERROR(CheckSource(f));
  api::Restore r;
  std::string source = !f.from_backup.empty() ? f.from_backup : f.from_schedule;
  if (!f.from_file.empty()) {
    // The tarball's file name stands for the backup (its label value, the default name).
    source = std::filesystem::path(f.from_file).filename().string();
    for (const char* ext : {".tar.gz", ".tgz"}) {
      const std::string e = ext;
      if (source.size() > e.size() && source.compare(source.size() - e.size(), e.size(), e) == 0) {
        source.resize(source.size() - e.size());
        break;
      }
    }
  }
  r.metadata.name = f.name.empty() ? restore::DefaultRestoreName(source, now) : f.name;
  r.metadata.namespace_ = f.cluster.Namespace();
  ASSIGN_OR_RETURN(r.metadata.labels, ParseMapFlag("--labels", f.labels));
  ASSIGN_OR_RETURN(r.metadata.annotations, ParseMapFlag("--annotations", f.annotations));
  api::RestoreSpec& s = r.spec;
  if (f.from_schedule.empty()) {
    s.backup_name = source;
  } else {
    s.schedule_name = f.from_schedule;
  }
  s.included_namespaces = f.include_namespaces;
  s.excluded_namespaces = f.exclude_namespaces;
  s.included_resources = f.include_resources;
  s.excluded_resources = f.exclude_resources;
  if (f.include_cluster_resources_opt != nullptr && f.include_cluster_resources_opt->count() > 0) {
    s.include_cluster_resources = f.include_cluster_resources;
  }
  if (f.restore_volumes_opt != nullptr && f.restore_volumes_opt->count() > 0) {
    s.restore_pvs = f.restore_volumes;
  }
  for (const std::string& m : f.namespace_mappings) {
    const size_t colon = m.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == m.size()) {
      return InvalidArgumentError("--namespace-mappings: \"" + m +
                                  "\" is not of the form source:target; e.g. "
                                  "--namespace-mappings shop:shop-copy,blog:blog-copy");
    }
    s.namespace_mapping[Trim(m.substr(0, colon))] = Trim(m.substr(colon + 1));
  }
  if (!f.selector.empty()) {
    ASSIGN_OR_RETURN(nlohmann::json sel, ParseSelectorFlag(f.selector));
    s.label_selector = std::move(sel);
  }
  if (!f.or_selector.empty()) {
    if (!f.selector.empty()) {
      return InvalidArgumentError(
          "give either -l/--selector or --or-selector, not both (--or-selector \"a=b or c=d\" "
          "takes the objects matching any of its selectors)");
    }
    ASSIGN_OR_RETURN(s.or_label_selectors, ParseOrSelectorFlag(f.or_selector));
  }
  s.existing_resource_policy = f.existing_resource_policy;
  if (!f.status_include.empty() || !f.status_exclude.empty()) {
    s.restore_status = api::RestoreStatusSpec{f.status_include, f.status_exclude};
  }
  if (f.preserve_nodeports) {
    s.preserve_node_ports = true;
  }
  if (!f.item_operation_timeout.empty()) {
    Result<api::Duration> d = api::ParseDuration(f.item_operation_timeout);
    if (!d.ok()) {
      return InvalidArgumentError("--item-operation-timeout " + f.item_operation_timeout +
                                  ": not a duration; e.g. 4h, 90m or 1h30m (" +
                                  d.status().message() + ")");
    }
    s.item_operation_timeout = *d;
  }
  return r;
}

class CliObserver : public restore::RestoreObserver {
 public:
  explicit CliObserver(ProgressDisplay& progress) : progress_(progress) {}
  void OnProgress(int64_t done, int64_t total) override {
    progress_.Update("Restoring", done, total);
  }

 private:
  ProgressDisplay& progress_;
};

void PrintValidation(std::ostream& err, const std::string& name,
                     const std::vector<std::string>& errors) {
  err << "arca: restore \"" << name << "\" failed validation:\n";
  for (const std::string& e : errors) {
    err << "  - " << e << "\n";
  }
}

// The messages of a results Result ({velero, cluster, namespaces}), one per line.
void PrintMessages(std::ostream& out, const char* title, const nlohmann::json& result) {
  if (!result.is_object() || result.empty()) {
    return;
  }
  out << title << ":\n";
  size_t shown = 0;
  constexpr size_t kMaxShown = 20;
  auto show = [&](const std::string& scope, const nlohmann::json& list) {
    for (const nlohmann::json& m : list) {
      if (shown++ < kMaxShown) {
        out << "  " << scope << ": " << m.get<std::string>() << "\n";
      }
    }
  };
  if (result.contains("velero")) {
    show("Velero", result["velero"]);
  }
  if (result.contains("cluster")) {
    show("Cluster", result["cluster"]);
  }
  if (result.contains("namespaces")) {
    for (const auto& [ns, list] : result["namespaces"].items()) {
      show(ns, list);
    }
  }
  if (shown > kMaxShown) {
    out << "  ... and " << (shown - kMaxShown) << " more\n";
  }
}

void RunStandalone(CommandContext& ctx, const CreateFlags& f, api::Restore built) {
  Clock& clock = RealClock();
  std::vector<std::string> invalid = restore::ValidateRestoreSpec(built.spec);
  if (!invalid.empty()) {
    PrintValidation(ctx.err, built.metadata.name, invalid);
    ctx.exit_code = 1;
    return;
  }
  Result<restore::Priorities> priorities =
      restore::PrioritiesFlag("--restore-resource-priorities", f.resource_priorities);
  if (!priorities.ok()) {
    ctx.Fail(priorities.status());
    return;
  }
  objstore::ObjectStorePtr store;
  if (!f.from_backup.empty() || !f.storage.url.empty()) {
    Result<objstore::ObjectStorePtr> opened = f.storage.Open(clock);
    if (!opened.ok()) {
      ctx.Fail(opened.status());
      return;
    }
    store = std::move(*opened);
  }
  if (!f.from_file.empty() && !std::filesystem::is_regular_file(f.from_file)) {
    ctx.Fail(NotFoundError("--from-file " + f.from_file +
                           ": no such file; give the path of a backup tarball (.tar.gz)"));
    return;
  }
  Result<kube::ConnectionPtr> conn = f.cluster.kube.Connect(clock);
  if (!conn.ok()) {
    ctx.Fail(conn.status());
    return;
  }
  Result<std::unique_ptr<kube::ExecClient>> exec = kube::ExecClient::Open((*conn)->config(), clock);
  if (!exec.ok()) {
    ctx.Fail(exec.status().WithContext("setting up pods/exec for restore exec hooks"));
    return;
  }
  restore::RestoreOptions options;
  options.concurrency = std::max(1, f.concurrency);
  options.restore_managed_fields = f.restore_managed_fields != "false";
  options.exact_managed_fields = f.restore_managed_fields == "exact";
  options.pod_executor = exec->get();
  options.priorities = std::move(*priorities);
  restore::RestoreEngine engine((*conn)->client(), store.get(), clock, options);
  ProgressDisplay progress(ctx.out, ctx.out_is_terminal, clock);
  CliObserver observer(progress);
  const auto started = clock.Now();
  restore::RestoreOutcome out =
      f.from_file.empty()
          ? engine.Run(std::move(built), &observer)
          : engine.RunFromSource(std::move(built), restore::FileTarball(f.from_file), &observer);
  progress.Finish();
  const double seconds = std::chrono::duration<double>(clock.Now() - started).count();
  const api::Restore& done = out.restore;
  const std::string& phase = done.status.phase;
  if (phase == api::restore_phase::kFailedValidation) {
    PrintValidation(ctx.err, done.metadata.name, done.status.validation_errors);
    ctx.exit_code = 1;
    return;
  }
  const int64_t items = done.status.progress.has_value() ? done.status.progress->items_restored : 0;
  std::ostringstream summary;
  summary << "Restore \"" << done.metadata.name << "\": " << phase << ", " << items << " items in "
          << std::fixed << std::setprecision(1) << seconds << "s";
  if (seconds > 0) {
    summary << " (" << static_cast<int64_t>(static_cast<double>(items) / seconds) << " items/s)";
  }
  summary << ": " << out.created << " created, " << out.updated << " updated, " << out.skipped
          << " skipped, " << out.failed << " failed; " << done.status.errors << " errors, "
          << done.status.warnings << " warnings.";
  if (done.status.hooks_attempted != 0 || done.status.hooks_failed != 0) {
    summary << " Exec hooks: " << done.status.hooks_attempted << " attempted, "
            << done.status.hooks_failed << " failed.";
  }
  ctx.out << summary.str() << "\n";
  PrintMessages(ctx.out, "Errors", out.results.value("errors", nlohmann::json::object()));
  PrintMessages(ctx.out, "Warnings", out.results.value("warnings", nlohmann::json::object()));
  if (store != nullptr && phase != api::restore_phase::kFailedValidation) {
    ctx.out << "Results in " << store->Describe() << " under "
            << archive::RestoreDir(done.metadata.name) << "\n";
  }
  if (phase == api::restore_phase::kFailed) {
    ctx.err << "arca: restore failed: " << done.status.failure_reason << "\n";
    ctx.exit_code = 1;
  } else if (phase != api::restore_phase::kCompleted) {
    ctx.err << "arca: restore " << phase << ": " << done.status.errors << " errors\n";
    ctx.exit_code = 1;
  }
}

// ---- Server mode -------------------------------------------------------------------------------

std::string Str(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string PhaseOf(const nlohmann::json& restore) {
  const std::string phase = Str(restore.value("status", nlohmann::json::object()), "phase");
  return phase.empty() ? std::string(api::restore_phase::kNew) : phase;
}

// Prints why a finished restore is not Completed on `err` and sets the exit code.
void ReportUnsuccessful(CommandContext& ctx, const nlohmann::json& obj) {
  const std::string name = Str(obj.value("metadata", nlohmann::json::object()), "name");
  const std::string phase = PhaseOf(obj);
  const nlohmann::json status = obj.value("status", nlohmann::json::object());
  if (phase == api::restore_phase::kCompleted) {
    return;
  }
  ctx.exit_code = 1;
  if (phase == api::restore_phase::kFailedValidation) {
    std::vector<std::string> errors;
    for (const nlohmann::json& e : status.value("validationErrors", nlohmann::json::array())) {
      errors.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    }
    PrintValidation(ctx.err, name, errors);
    return;
  }
  if (phase == api::restore_phase::kFailed) {
    ctx.err << "arca: restore \"" << name
            << "\" failed: " << status.value("failureReason", std::string("(no reason given)"))
            << "\n";
    return;
  }
  ctx.err << "arca: restore \"" << name << "\" " << phase << ": " << status.value("errors", 0)
          << " errors, " << status.value("warnings", 0) << " warnings; see `arca restore describe "
          << name << " --details` and `arca restore logs " << name << "`\n";
}

void RunCreateOnServer(CommandContext& ctx, const CreateFlags& f, api::Restore built,
                       std::optional<OutputFormat> output) {
  Clock& clock = RealClock();
  // The cluster is needed to submit, and to choose a schedule's backup: only not for -o, except
  // with --allow-partially-failed, whose choice the server would not make.
  const bool resolve_schedule =
      !f.from_schedule.empty() && (!output.has_value() || f.allow_partially_failed);
  if (output.has_value() && !resolve_schedule) {
    if (*output == OutputFormat::kTable) {
      PrintRestoreTable(ctx.out, {api::RestoreToJson(built)});
    } else {
      PrintObject(ctx.out, *output, api::RestoreToJson(built));
    }
    return;
  }
  Result<VeleroClient> client = VeleroClient::Connect(f.cluster, clock);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  if (resolve_schedule) {
    // A clear error now rather than a FailedValidation later. As in Velero, only a choice that
    // takes PartiallyFailed backups is written into the Restore (as spec.backupName alone: the
    // server refuses both names); otherwise spec.scheduleName goes, and the server makes the
    // same choice (the newest Completed backup) and fills in spec.backupName.
    Result<std::string> backup =
        BackupOfSchedule(*client, f.from_schedule, f.allow_partially_failed);
    if (!backup.ok()) {
      ctx.Fail(backup.status());
      return;
    }
    if (f.allow_partially_failed) {
      built.spec.backup_name = *backup;
      built.spec.schedule_name.clear();
    }
  } else {
    Result<nlohmann::json> backup = client->Get("backups", f.from_backup);
    if (!backup.ok()) {
      ctx.Fail(backup.status().WithContext("--from-backup"));
      return;
    }
  }
  nlohmann::json object = api::RestoreToJson(built);
  if (output.has_value()) {
    if (*output == OutputFormat::kTable) {
      PrintRestoreTable(ctx.out, {object});
    } else {
      PrintObject(ctx.out, *output, object);
    }
    return;
  }
  object["metadata"].erase("namespace");
  Result<nlohmann::json> created = client->Create("restores", object);
  if (!created.ok()) {
    ctx.Fail(created.status());
    return;
  }
  const std::string& name = built.metadata.name;
  ctx.out << "Restore request \"" << name << "\" submitted successfully.\n";
  if (!f.wait) {
    ctx.out << "Run `arca restore describe " << name << "` or `arca restore logs " << name
            << "` for more details.\n";
    return;
  }
  ctx.out << "Waiting for restore to complete. You may safely press ctrl-c to stop waiting - your "
             "restore will continue in the background.\n";
  ctx.out.flush();
  ProgressDisplay progress(ctx.out, ctx.out_is_terminal, clock);
  Result<nlohmann::json> done = client->WaitFor(
      "restores", name,
      [](const nlohmann::json& r) { return api::IsFinalRestorePhase(PhaseOf(r)); },
      [&progress](const nlohmann::json& r) {
        const nlohmann::json status = r.value("status", nlohmann::json::object());
        if (status.contains("progress") && status["progress"].is_object()) {
          progress.Update("Restoring", status["progress"].value("itemsRestored", int64_t{0}),
                          status["progress"].value("totalItems", int64_t{0}));
        }
      },
      std::chrono::milliseconds(0));
  progress.Finish();
  if (!done.ok()) {
    ctx.Fail(done.status().WithContext("waiting for restore \"" + name + "\""));
    return;
  }
  ctx.out << "Restore completed with status: " << PhaseOf(*done)
          << ". You may check for more information using the commands `arca restore describe "
          << name << "` and `arca restore logs " << name << "`.\n";
  ReportUnsuccessful(ctx, *done);
}

void RunCreate(CommandContext& ctx, const CreateFlags& f) {
  std::optional<OutputFormat> output;
  if (!f.output.empty()) {
    Result<OutputFormat> parsed = ParseOutputFormat(f.output);
    if (!parsed.ok()) {
      ctx.Fail(parsed.status());
      return;
    }
    output = *parsed;
  }
  Result<api::Restore> built = BuildRestore(f, RealClock().Now());
  if (!built.ok()) {
    ctx.Fail(built.status());
    return;
  }
  if (f.standalone) {
    if (output.has_value()) {
      if (*output == OutputFormat::kTable) {
        PrintRestoreTable(ctx.out, {api::RestoreToJson(*built)});
      } else {
        PrintObject(ctx.out, *output, api::RestoreToJson(*built));
      }
      return;
    }
    RunStandalone(ctx, f, std::move(*built));
    return;
  }
  RunCreateOnServer(ctx, f, std::move(*built), output);
}

struct GetFlags {
  ClusterFlags cluster;
  std::vector<std::string> names;
  std::string selector;
  std::string output = "table";
};

void RunGet(CommandContext& ctx, const GetFlags& f) {
  Result<OutputFormat> format = ParseOutputFormat(f.output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  Result<Fetched> fetched = ConnectAndFetch(f.cluster, "restore", "restores", f.names, f.selector);
  if (!fetched.ok()) {
    ctx.Fail(fetched.status());
    return;
  }
  if (*format == OutputFormat::kTable) {
    PrintRestoreTable(ctx.out, fetched->items);
  } else {
    PrintObjects(ctx.out, *format, fetched->items, f.names.size() == 1);
  }
}

std::string JoinOr(const nlohmann::json& list, const std::string& empty) {
  if (!list.is_array() || list.empty()) {
    return empty;
  }
  std::string out;
  for (const nlohmann::json& item : list) {
    out += (out.empty() ? "" : ", ") + (item.is_string() ? item.get<std::string>() : item.dump());
  }
  return out;
}

// Lines "Key:<pad>value" with the values of a block aligned, as Velero's tabwriter does.
class Block {
 public:
  explicit Block(std::ostream& out, std::string indent = "") : out_(out), indent_(indent) {}
  ~Block() { Flush(); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  void Add(std::string key, std::string value) {
    rows_.emplace_back(std::move(key), std::move(value));
  }
  void Flush() {
    size_t width = 0;
    for (const auto& [k, v] : rows_) {
      width = std::max(width, k.size());
    }
    for (const auto& [k, v] : rows_) {
      out_ << indent_ << k << ":" << std::string(width - k.size() + 2, ' ') << v << "\n";
    }
    rows_.clear();
  }

 private:
  std::ostream& out_;
  std::string indent_;
  std::vector<std::pair<std::string, std::string>> rows_;
};

std::string MapText(const nlohmann::json& map) {
  if (!map.is_object() || map.empty()) {
    return "<none>";
  }
  std::string out;
  for (const auto& [k, v] : map.items()) {
    out += (out.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string BoolText(const nlohmann::json& spec, const char* key, const char* if_false,
                     const char* if_true) {
  if (!spec.contains(key) || !spec[key].is_boolean()) {
    return "auto";
  }
  return spec[key].get<bool>() ? if_true : if_false;
}

// One Result ({velero, cluster, namespaces}) as Velero's describer prints it.
void DescribeResult(std::ostream& out, const char* title, const nlohmann::json& result) {
  out << title << ":\n";
  // "Header:  first" then the others under it; headers of one level padded to `width`.
  auto slice = [&out](const std::string& indent, const std::string& header, size_t width,
                      const nlohmann::json& list) {
    const std::string pad(width > header.size() ? width - header.size() + 2 : 2, ' ');
    if (!list.is_array() || list.empty()) {
      out << indent << header << ":" << pad << "<none>\n";
      return;
    }
    bool first = true;
    for (const nlohmann::json& m : list) {
      const std::string text = m.is_string() ? m.get<std::string>() : m.dump();
      if (first) {
        out << indent << header << ":" << pad << text << "\n";
        first = false;
      } else {
        out << indent << std::string(header.size() + 1 + pad.size(), ' ') << text << "\n";
      }
    }
  };
  const nlohmann::json r = result.is_object() ? result : nlohmann::json::object();
  slice("  ", "Velero", 7, r.value("velero", nlohmann::json::array()));
  slice("  ", "Cluster", 7, r.value("cluster", nlohmann::json::array()));
  const nlohmann::json namespaces = r.value("namespaces", nlohmann::json::object());
  if (!namespaces.is_object() || namespaces.empty()) {
    out << "  Namespaces: <none>\n";
    return;
  }
  out << "  Namespaces:\n";
  size_t width = 0;
  for (const auto& [ns, list] : namespaces.items()) {
    width = std::max(width, ns.size());
  }
  for (const auto& [ns, list] : namespaces.items()) {
    slice("    ", ns, width, list);
  }
}

struct DescribeFlags {
  ClusterFlags cluster;
  std::vector<std::string> names;
  std::string selector;
  bool details = false;
  DownloadFlags download;
};

void DescribeOne(std::ostream& out, std::ostream& err, VeleroClient& client,
                 const nlohmann::json& r, bool details, const DownloadOptions& download) {
  const nlohmann::json meta = r.value("metadata", nlohmann::json::object());
  const nlohmann::json spec = r.value("spec", nlohmann::json::object());
  const nlohmann::json status = r.value("status", nlohmann::json::object());
  const std::string name = Str(meta, "name");
  const std::string phase = PhaseOf(r);
  {
    Block b(out);
    b.Add("Name", name);
    b.Add("Namespace", Str(meta, "namespace"));
    b.Add("Labels", MapText(meta.value("labels", nlohmann::json::object())));
    b.Add("Annotations", MapText(meta.value("annotations", nlohmann::json::object())));
  }
  out << "\n";
  {
    Block b(out);
    std::string note;
    if (phase == api::restore_phase::kFailed || phase == api::restore_phase::kPartiallyFailed) {
      note = " (run 'arca restore logs " + name + "' for more information)";
    }
    b.Add("Phase", phase + note);
    if (status.contains("progress") && status["progress"].is_object()) {
      const nlohmann::json& p = status["progress"];
      const bool running = phase == api::restore_phase::kInProgress;
      b.Add(running ? "Estimated total items to be restored" : "Total items to be restored",
            std::to_string(p.value("totalItems", int64_t{0})));
      b.Add(running ? "Items restored so far" : "Items restored",
            std::to_string(p.value("itemsRestored", int64_t{0})));
    }
  }
  out << "\n";
  {
    Block b(out);
    b.Add("Started", FormatTime(Str(status, "startTimestamp")));
    b.Add("Completed", FormatTime(Str(status, "completionTimestamp")));
  }
  const nlohmann::json validation = status.value("validationErrors", nlohmann::json::array());
  if (validation.is_array() && !validation.empty()) {
    out << "\nValidation errors:\n";
    for (const nlohmann::json& e : validation) {
      out << "  " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
    }
  }
  if (!Str(status, "failureReason").empty()) {
    out << "\nFailure reason:  " << Str(status, "failureReason") << "\n";
  }
  const int64_t errors = status.value("errors", int64_t{0});
  const int64_t warnings = status.value("warnings", int64_t{0});
  out << "\n";
  nlohmann::json results;
  std::string results_error;
  if (details && (errors > 0 || warnings > 0)) {
    DownloadOptions o = download;
    o.gunzip = true;
    Result<std::string> text =
        DownloadToString(client, RealClock(), api::download_kind::kRestoreResults, name, o, err);
    if (text.ok()) {
      results = nlohmann::json::parse(*text, nullptr, false);
      if (!results.is_object()) {
        results_error = "the results file is not a JSON object";
      }
    } else {
      results_error = text.status().message();
    }
  }
  if (results.is_object()) {
    if (warnings > 0) {
      DescribeResult(out, "Warnings", results.value("warnings", nlohmann::json::object()));
    } else {
      out << "Warnings:  0\n";
    }
    out << "\n";
    if (errors > 0) {
      DescribeResult(out, "Errors", results.value("errors", nlohmann::json::object()));
    } else {
      out << "Errors:  0\n";
    }
  } else {
    Block b(out);
    b.Add("Warnings", std::to_string(warnings));
    b.Add("Errors", std::to_string(errors));
    if (!results_error.empty()) {
      b.Add("Details", "<error getting the results: " + results_error + ">");
    }
  }
  out << "\n";
  {
    Block b(out);
    b.Add("Backup", Str(spec, "backupName"));
    if (!Str(spec, "scheduleName").empty()) {
      b.Add("Schedule", Str(spec, "scheduleName"));
    }
  }
  out << "\nNamespaces:\n";
  {
    Block b(out, "  ");
    const nlohmann::json inc = spec.value("includedNamespaces", nlohmann::json::array());
    const bool all = !inc.is_array() || inc.empty() || (inc.size() == 1 && inc[0] == "*");
    b.Add("Included", all ? "all namespaces found in the backup" : JoinOr(inc, ""));
    b.Add("Excluded", JoinOr(spec.value("excludedNamespaces", nlohmann::json::array()), "<none>"));
  }
  out << "\nResources:\n";
  {
    Block b(out, "  ");
    b.Add("Included", JoinOr(spec.value("includedResources", nlohmann::json::array()), "*"));
    b.Add("Excluded", JoinOr(spec.value("excludedResources", nlohmann::json::array()), "<none>"));
    b.Add("Cluster-scoped", BoolText(spec, "includeClusterResources", "excluded", "included"));
  }
  out << "\n";
  {
    Block b(out);
    b.Add("Namespace mappings", MapText(spec.value("namespaceMapping", nlohmann::json::object())));
  }
  out << "\n";
  {
    Block b(out);
    b.Add("Label selector", spec.contains("labelSelector")
                                ? FormatLabelSelector(spec["labelSelector"])
                                : std::string("<none>"));
    std::string ors;
    for (const nlohmann::json& s : spec.value("orLabelSelectors", nlohmann::json::array())) {
      ors += (ors.empty() ? "" : " or ") + FormatLabelSelector(s);
    }
    b.Add("Or label selector", ors.empty() ? "<none>" : ors);
  }
  out << "\n";
  {
    Block b(out);
    b.Add("Restore PVs", BoolText(spec, "restorePVs", "false", "true"));
    nlohmann::json rs = spec.value("restoreStatus", nlohmann::json::object());
    if (rs.is_object() && !rs.empty()) {
      b.Add("Restore status of",
            JoinOr(rs.value("includedResources", nlohmann::json::array()), "<none>") +
                " (excluded: " +
                JoinOr(rs.value("excludedResources", nlohmann::json::array()), "<none>") + ")");
    }
    const std::string policy = Str(spec, "existingResourcePolicy");
    b.Add("Existing Resource Policy", policy.empty() ? "<none>" : policy);
    const std::string timeout = Str(spec, "itemOperationTimeout");
    b.Add("ItemOperationTimeout", timeout.empty() ? "0s" : timeout);
    b.Add("Preserve Service NodePorts", BoolText(spec, "preserveNodePorts", "false", "true"));
  }
  const nlohmann::json hooks = status.value("hookStatus", nlohmann::json::object());
  if (hooks.is_object() && !hooks.empty()) {
    out << "\n";
    Block b(out);
    b.Add("HooksAttempted", std::to_string(hooks.value("hooksAttempted", int64_t{0})));
    b.Add("HooksFailed", std::to_string(hooks.value("hooksFailed", int64_t{0})));
  }
  if (details && api::IsFinalRestorePhase(phase) &&
      phase != api::restore_phase::kFailedValidation) {
    DownloadOptions o = download;
    o.gunzip = true;
    Result<std::string> text = DownloadToString(
        client, RealClock(), api::download_kind::kRestoreResourceList, name, o, err);
    out << "\nResource List:\n";
    nlohmann::json list =
        text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!text.ok()) {
      out << "  <error getting the resource list: " << text.status().message() << ">\n";
    } else if (!list.is_object()) {
      out << "  <error getting the resource list: not a JSON object>\n";
    } else if (list.empty()) {
      out << "  <none>\n";
    } else {
      for (const auto& [type, items] : list.items()) {
        out << "  " << type << ":\n";
        for (const nlohmann::json& item : items) {
          out << "    - " << (item.is_string() ? item.get<std::string>() : item.dump()) << "\n";
        }
      }
    }
  }
}

void RunDescribe(CommandContext& ctx, const DescribeFlags& f) {
  Result<DownloadOptions> download = f.download.Options();
  if (!download.ok()) {
    ctx.Fail(download.status());
    return;
  }
  Result<Fetched> fetched = ConnectAndFetch(f.cluster, "restore", "restores", f.names, f.selector);
  if (!fetched.ok()) {
    ctx.Fail(fetched.status());
    return;
  }
  bool server_silent = false;
  download->server_silent = &server_silent;
  bool first = true;
  for (const nlohmann::json& r : fetched->items) {
    if (!first) {
      ctx.out << "\n\n";
    }
    first = false;
    DescribeOne(ctx.out, ctx.err, fetched->client, r, f.details, *download);
  }
}

struct LogsFlags {
  ClusterFlags cluster;
  std::string name;
  DownloadFlags download;
};

void RunLogs(CommandContext& ctx, const LogsFlags& f) {
  Result<DownloadOptions> options = f.download.Options();
  if (!options.ok()) {
    ctx.Fail(options.status());
    return;
  }
  options->gunzip = true;
  Clock& clock = RealClock();
  Result<VeleroClient> client = VeleroClient::Connect(f.cluster, clock);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Result<nlohmann::json> r = client->Get("restores", f.name);
  if (!r.ok()) {
    ctx.Fail(r.status());
    return;
  }
  const std::string phase = PhaseOf(*r);
  if (phase == api::restore_phase::kFailedValidation) {
    ctx.Fail(FailedPreconditionError(
        "restore \"" + f.name +
        "\" failed validation and never ran, so it has no logs; see its validation errors with "
        "`arca restore describe " +
        f.name + "`"));
    return;
  }
  if (!api::IsFinalRestorePhase(phase)) {
    ctx.Fail(FailedPreconditionError(
        "logs for restore \"" + f.name +
        "\" are not available until it's finished processing (it "
        "is " +
        phase +
        "); wait until the restore has a phase of Completed, PartiallyFailed or Failed and try "
        "again (`arca restore get " +
        f.name + "`)"));
    return;
  }
  objstore::ObjectSink sink = [&ctx](std::string_view chunk) -> Status {
    ctx.out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    return ctx.out ? OkStatus() : InternalError("cannot write the log to the output");
  };
  Status st =
      Download(*client, clock, api::download_kind::kRestoreLog, f.name, *options, sink, ctx.err);
  if (!st.ok()) {
    ctx.Fail(st);
  }
}

struct DeleteFlags {
  ClusterFlags cluster;
  std::vector<std::string> names;
  std::string selector;
  bool all = false;
  bool confirm = false;
};

void RunDelete(CommandContext& ctx, const DeleteFlags& f) {
  std::optional<VeleroClient> client = StartSelectionCommand(
      f.cluster, Selection{f.names, f.all, f.selector}, "restore", f.confirm, &std::cin, ctx);
  if (!client) {
    return;
  }
  std::vector<std::string> names;
  std::vector<Status> errors;
  if (!f.names.empty()) {
    for (const std::string& name : f.names) {
      Result<nlohmann::json> r = client->Get("restores", name);
      if (r.ok()) {
        names.push_back(name);
      } else {
        errors.push_back(r.status());
      }
    }
  } else {
    Result<std::vector<nlohmann::json>> listed = client->List("restores", f.selector);
    if (!listed.ok()) {
      ctx.Fail(listed.status());
      return;
    }
    for (const nlohmann::json& r : *listed) {
      names.push_back(Str(r.value("metadata", nlohmann::json::object()), "name"));
    }
  }
  if (names.empty() && errors.empty()) {
    ctx.out << "No restores found\n";
    return;
  }
  for (const std::string& name : names) {
    Status st = client->Delete("restores", name);
    if (!st.ok()) {
      errors.push_back(st);
      continue;
    }
    ctx.out << "Request to delete restore \"" << name
            << "\" submitted successfully.\nThe restore will be fully deleted after all "
               "associated data (restore files in object storage) are removed.\n";
  }
  for (const Status& e : errors) {
    ctx.Fail(e);
  }
}

void AddCreate(CLI::App& restore, CommandContext& ctx) {
  auto flags = std::make_shared<CreateFlags>();
  CreateFlags& f = *flags;
  CLI::App* create = restore.add_subcommand("create", "Create a restore");
  create->add_option("NAME", f.name,
                     "The restore's name (default <backup or schedule>-<YYYYMMDDhhmmss>)");
  create->add_option("--from-backup", f.from_backup, "The backup to restore");
  create->add_option("--from-schedule", f.from_schedule,
                     "Restore the newest Completed backup of this schedule");
  create->add_flag("--allow-partially-failed", f.allow_partially_failed,
                   "With --from-schedule: PartiallyFailed backups count too");
  create->add_option("--from-file", f.from_file,
                     "With --standalone: restore a backup tarball file (e.g. from `velero backup "
                     "download`)");
  create->add_flag("--standalone", f.standalone,
                   "Run the restore in this process, reading the backup from --storage directly, "
                   "instead of creating a Restore for `arca server`");
  f.storage.AddTo(*create);
  // No client-side limit by default: a standalone restore makes one or two requests per object,
  // and 100/s (the server's limit) would halve its speed; the engine backs off when the API
  // server answers 429, and API Priority and Fairness protects the server
  // (docs/compatibility.md).
  f.cluster.kube.qps = 0;
  f.cluster.AddTo(*create);
  create
      ->add_option("--include-namespaces", f.include_namespaces,
                   "Namespaces to restore, as named in the backup (globs allowed; default *)")
      ->delimiter(',');
  create->add_option("--exclude-namespaces", f.exclude_namespaces, "Namespaces to leave out")
      ->delimiter(',');
  create
      ->add_option("--include-resources", f.include_resources,
                   "Resources to restore (e.g. pods,deployments.apps; default all)")
      ->delimiter(',');
  create->add_option("--exclude-resources", f.exclude_resources, "Resources to leave out")
      ->delimiter(',');
  f.include_cluster_resources_opt = create->add_flag(
      "--include-cluster-resources", f.include_cluster_resources,
      "Restore cluster-scoped resources (=true or =false; unset: only when all namespaces are "
      "restored)");
  create
      ->add_option("--namespace-mappings", f.namespace_mappings,
                   "Restore namespaces under other names: src1:dst1,src2:dst2")
      ->delimiter(',');
  create->add_option("-l,--selector", f.selector, "Only restore objects matching this selector");
  create->add_option("--or-selector", f.or_selector,
                     "Objects matching any of these selectors, e.g. 'app=web or tier=db'");
  create
      ->add_option("--existing-resource-policy", f.existing_resource_policy,
                   "What to do with objects that already exist: none (warn) or update")
      ->check(CLI::IsMember({"none", "update"}));
  create
      ->add_option("--status-include-resources,--restore-status", f.status_include,
                   "Resources whose status is restored too")
      ->delimiter(',');
  create
      ->add_option("--status-exclude-resources", f.status_exclude,
                   "Resources whose status is not restored")
      ->delimiter(',');
  create->add_flag("--preserve-nodeports", f.preserve_nodeports,
                   "Keep the node ports of services even when they were assigned automatically");
  f.restore_volumes_opt =
      create->add_flag("--restore-volumes", f.restore_volumes,
                       "Whether to restore volumes from snapshots (=true or =false; unset: auto)");
  create->add_option("--item-operation-timeout", f.item_operation_timeout,
                     "How long to wait for asynchronous restore item operations (e.g. 4h)");
  create->add_option("--labels", f.labels, "Labels of the Restore: key=value,...")->delimiter(',');
  create->add_option("--annotations", f.annotations, "Annotations of the Restore: key=value,...")
      ->delimiter(',');
  create->add_flag("-w,--wait", f.wait,
                   "Wait until the restore finishes (Completed, PartiallyFailed, Failed or "
                   "FailedValidation)");
  create->add_option("-o,--output", f.output,
                     "Print the Restore (table, json or yaml) instead of submitting or running it");
  create->add_option("--concurrency", f.concurrency, "With --standalone: creates in flight at most")
      ->capture_default_str();
  create
      ->add_option("--restore-managed-fields", f.restore_managed_fields,
                   "With --standalone: restore metadata.managedFields (field ownership). true: "
                   "in the create where the result is the same, else with a patch after it; "
                   "exact: a patch after every create, as Velero does (backed-up times kept); "
                   "false: the restore owns the fields")
      ->check(CLI::IsMember({"true", "exact", "false"}))
      ->capture_default_str();
  create->add_option("--restore-resource-priorities", f.resource_priorities,
                     "With --standalone: the order to create resources in, as the server's flag "
                     "(a comma list, and after a \"-\" the low-priority ones; default: Velero's)");
  create->callback([&ctx, flags] { RunCreate(ctx, *flags); });
}

}  // namespace

Result<std::string> BackupOfSchedule(VeleroClient& client, const std::string& schedule,
                                     bool allow_partially_failed) {
  const std::string label = api::GetValidName(schedule);
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> listed,
                   client.List("backups", std::string(kScheduleNameLabel) + "=" + label));
  std::vector<api::Backup> backups;
  std::map<std::string, int> phases;
  for (const nlohmann::json& j : listed) {
    Result<api::Backup> b = api::BackupFromJson(j);
    if (b.ok()) {
      ++phases[b->status.phase.empty() ? std::string("New") : b->status.phase];
      backups.push_back(std::move(*b));
    }
  }
  if (backups.empty()) {
    return NotFoundError("no backups of schedule " + schedule + " found in namespace " +
                         client.namespace_name() + " (none is labelled " + kScheduleNameLabel +
                         "=" + label + "; see `arca schedule get` and `arca backup get`)");
  }
  Result<api::Backup> best =
      schedule::LatestScheduledBackup(backups, schedule, allow_partially_failed);
  if (!best.ok()) {
    std::string seen;
    for (const auto& [phase, count] : phases) {
      seen += (seen.empty() ? "" : ", ") + std::to_string(count) + " " + phase;
    }
    std::string hint =
        allow_partially_failed ? "" : "; --allow-partially-failed takes a PartiallyFailed one too";
    return NotFoundError(best.status().message() + " in namespace " + client.namespace_name() +
                         " (its backups: " + seen + ")" + hint);
  }
  return best->metadata.name;
}

void PrintRestoreTable(std::ostream& out, const std::vector<nlohmann::json>& restores) {
  std::vector<std::vector<std::string>> rows{{"NAME", "BACKUP", "STATUS", "STARTED", "COMPLETED",
                                              "ERRORS", "WARNINGS", "CREATED", "SELECTOR"}};
  for (const nlohmann::json& r : restores) {
    const nlohmann::json meta = r.value("metadata", nlohmann::json::object());
    const nlohmann::json spec = r.value("spec", nlohmann::json::object());
    const nlohmann::json status = r.value("status", nlohmann::json::object());
    rows.push_back({Str(meta, "name"), Str(spec, "backupName"), PhaseOf(r),
                    FormatTime(Str(status, "startTimestamp")),
                    FormatTime(Str(status, "completionTimestamp")),
                    std::to_string(status.value("errors", int64_t{0})),
                    std::to_string(status.value("warnings", int64_t{0})),
                    FormatTime(Str(meta, "creationTimestamp")),
                    spec.contains("labelSelector") ? FormatLabelSelector(spec["labelSelector"])
                                                   : std::string("<none>")});
  }
  PrintTable(out, rows);
}

void AddRestoreCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* restore = app.add_subcommand("restore", "Work with restores");
  restore->require_subcommand(1);
  AddCreate(*restore, ctx);

  auto get = std::make_shared<GetFlags>();
  CLI::App* get_cmd = restore->add_subcommand("get", "List restores");
  get_cmd->add_option("NAMES", get->names, "Restores to show (default all)");
  get_cmd->add_option("-l,--selector", get->selector, "Only restores with matching labels");
  get_cmd->add_option("-o,--output", get->output, "table, json or yaml")->capture_default_str();
  get->cluster.AddTo(*get_cmd);
  get_cmd->callback([&ctx, get] { RunGet(ctx, *get); });

  auto describe = std::make_shared<DescribeFlags>();
  CLI::App* describe_cmd = restore->add_subcommand("describe", "Describe restores");
  describe_cmd->add_option("NAMES", describe->names, "Restores to describe (default all)");
  describe_cmd->add_option("-l,--selector", describe->selector,
                           "Only restores with matching labels");
  describe_cmd->add_flag("--details", describe->details,
                         "Show the errors and warnings by namespace and the resource list "
                         "(downloaded through the server)");
  describe->cluster.AddTo(*describe_cmd);
  describe->download.AddTo(*describe_cmd);
  describe_cmd->callback([&ctx, describe] { RunDescribe(ctx, *describe); });

  auto logs = std::make_shared<LogsFlags>();
  CLI::App* logs_cmd = restore->add_subcommand("logs", "Show the log of a finished restore");
  logs_cmd->add_option("NAME", logs->name, "The restore")->required();
  logs->cluster.AddTo(*logs_cmd);
  logs->download.AddTo(*logs_cmd);
  logs_cmd->callback([&ctx, logs] { RunLogs(ctx, *logs); });

  auto del = std::make_shared<DeleteFlags>();
  CLI::App* delete_cmd = restore->add_subcommand("delete", "Delete restores");
  delete_cmd->add_option("NAMES", del->names, "Restores to delete");
  delete_cmd->add_flag("--all", del->all, "Delete every restore in the namespace");
  delete_cmd->add_option("-l,--selector", del->selector, "Delete the restores with these labels");
  delete_cmd->add_flag("--confirm", del->confirm, "Delete without asking for confirmation");
  del->cluster.AddTo(*delete_cmd);
  delete_cmd->callback([&ctx, del] { RunDelete(ctx, *del); });
}

}  // namespace arca::cli
