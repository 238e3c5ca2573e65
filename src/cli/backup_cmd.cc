#include "cli/backup_cmd.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "api/backup.h"
#include "api/duration.h"
#include "api/names.h"
#include "api/requests.h"
#include "api/schedule.h"
#include "archive/gzip.h"
#include "archive/velero_layout.h"
#include "backup/engine.h"
#include "cli/backup_flags.h"
#include "cli/format.h"
#include "kube/encoding.h"
#include "kube/exec.h"
#include "kube/label_selector.h"
#include "schedule/scheduler.h"

namespace arca::cli {
namespace {

// The environment with its defaults filled in.
struct Env {
  BackupCommandEnv base;

  Clock& clock() const { return base.clock != nullptr ? *base.clock : RealClock(); }
  std::istream& in() const { return base.in != nullptr ? *base.in : std::cin; }
  Result<VeleroClient> Connect(const ClusterFlags& flags) const {
    if (base.connect) {
      return base.connect(flags, clock());
    }
    return VeleroClient::Connect(flags, clock());
  }
  Result<DownloadOptions> Download(const DownloadFlags& flags, bool gunzip) const {
    ASSIGN_OR_RETURN(DownloadOptions o, flags.Options());
    o.gunzip = gunzip;
    if (base.tune_download) {
      base.tune_download(o);
    }
    return o;
  }
};

std::string SelectorColumn(const api::Backup& b) {
  if (b.spec.label_selector.has_value()) {
    return FormatLabelSelector(*b.spec.label_selector);
  }
  if (!b.spec.or_label_selectors.empty()) {
    std::string out;
    for (const nlohmann::json& s : b.spec.or_label_selectors) {
      out += (out.empty() ? "" : " or ") + FormatLabelSelector(s);
    }
    return out;
  }
  return "<none>";
}

Result<std::string> Gunzip(const std::string& gz) {
  std::string out;
  archive::GunzipStream gunzip([&out](std::string_view d) {
    out.append(d);
    return OkStatus();
  });
  RETURN_IF_ERROR(gunzip.Write(gz));
  RETURN_IF_ERROR(gunzip.Finish());
  return out;
}

Result<api::Backup> LoadBackup(objstore::ObjectStore& store, const std::string& name) {
  Result<std::string> text = store.GetString(objstore::ObjectKey(archive::BackupMetadataKey(name)));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFoundError("backup \"" + name + "\" not found in " + store.Describe() + " (no " +
                           archive::BackupMetadataKey(name) + ")");
    }
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    return InvalidArgumentError(archive::BackupMetadataKey(name) + " in " + store.Describe() +
                                " is not valid JSON");
  }
  return api::BackupFromJson(j);
}

// -l/--selector checked before anything is asked of the cluster.
Status CheckSelector(const std::string& selector) {
  if (selector.empty()) {
    return OkStatus();
  }
  Result<kube::LabelSelector> parsed = kube::LabelSelector::Parse(selector);
  if (!parsed.ok()) {
    return InvalidArgumentError("-l/--selector \"" + selector + "\": " + parsed.status().message() +
                                "; write e.g. -l app=web,tier in (front,back)");
  }
  return OkStatus();
}

// The phases after which a backup does not change any more.
bool IsTerminal(std::string_view phase) {
  return phase == api::backup_phase::kCompleted || phase == api::backup_phase::kPartiallyFailed ||
         phase == api::backup_phase::kFailed || phase == api::backup_phase::kFailedValidation;
}

std::string PhaseOf(const nlohmann::json& obj) {
  if (obj.contains("status") && obj["status"].is_object()) {
    return obj["status"].value("phase", "");
  }
  return "";
}

// --- create ------------------------------------------------------------------------------------

struct CreateFlags {
  std::string name;
  bool standalone = false;
  StorageFlag storage;
  ClusterFlags cluster;
  BackupSpecFlags spec;
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  std::string output;
  bool wait = false;
  std::string from_schedule;
  int list_concurrency = backup::BackupEngineOptions{}.list_concurrency;
  int64_t page_size = backup::BackupEngineOptions{}.page_size;
  int gzip_threads = backup::BackupEngineOptions{}.gzip.workers;
  int gzip_level = 0;  // 0: igzip (the default); 1-12: libdeflate at that level
};

Result<api::Backup> BuildBackup(const CreateFlags& f) {
  api::Backup b;
  b.metadata.name = f.name;
  b.metadata.namespace_ = f.cluster.Namespace();
  ASSIGN_OR_RETURN(b.metadata.labels, ParseMapFlag("--labels", f.labels));
  ASSIGN_OR_RETURN(b.metadata.annotations, ParseMapFlag("--annotations", f.annotations));
  ASSIGN_OR_RETURN(b.spec, f.spec.Build());
  return b;
}

// Velero's `backup create --from-schedule`: the schedule's template, named S-<UTC timestamp>
// unless a name is given, with --labels and --annotations on top; other filters are ignored.
Result<api::Backup> BuildFromSchedule(VeleroClient& client, Clock& clock, const CreateFlags& f) {
  ASSIGN_OR_RETURN(nlohmann::json j, client.Get("schedules", f.from_schedule));
  ASSIGN_OR_RETURN(api::Schedule schedule, api::ScheduleFromJson(j));
  const auto now = std::chrono::floor<std::chrono::seconds>(clock.Now());
  api::Backup b = schedule::BackupFromSchedule(schedule, now);
  b.metadata.namespace_ = client.namespace_name();
  if (!f.name.empty()) {
    b.metadata.name = f.name;
  }
  ASSIGN_OR_RETURN(auto labels, ParseMapFlag("--labels", f.labels));
  ASSIGN_OR_RETURN(auto annotations, ParseMapFlag("--annotations", f.annotations));
  for (auto& [k, v] : labels) {
    b.metadata.labels[k] = v;
  }
  for (auto& [k, v] : annotations) {
    b.metadata.annotations[k] = v;
  }
  return b;
}

void PrintValidation(std::ostream& err, const api::Backup& b) {
  err << "arca: backup \"" << b.metadata.name << "\" failed validation:\n";
  for (const std::string& e : b.status.validation_errors) {
    err << "  - " << e << "\n";
  }
}

void RunStandaloneCreate(CommandContext& ctx, const CreateFlags& f, api::Backup built) {
  // Validate before connecting anywhere, so that bad flags fail fast.
  std::vector<std::string> invalid = backup::ValidateBackup(built);
  if (!invalid.empty()) {
    built.status.validation_errors = invalid;
    PrintValidation(ctx.err, built);
    ctx.exit_code = 1;
    return;
  }
  Clock& clock = RealClock();
  Result<objstore::ObjectStorePtr> store = f.storage.Open(clock);
  if (!store.ok()) {
    ctx.Fail(store.status());
    return;
  }
  Result<kube::ConnectionPtr> conn = f.cluster.kube.Connect(clock);
  if (!conn.ok()) {
    ctx.Fail(conn.status());
    return;
  }
  // Backup exec hooks run through pods/exec with the same kubeconfig.
  Result<std::unique_ptr<kube::ExecClient>> exec = kube::ExecClient::Open((*conn)->config(), clock);
  if (!exec.ok()) {
    ctx.Fail(exec.status().WithContext("setting up pods/exec for backup hooks"));
    return;
  }
  backup::BackupEngineOptions options;
  options.pod_executor = exec->get();
  options.list_concurrency = std::max(1, f.list_concurrency);
  options.page_size = std::max<int64_t>(0, f.page_size);
  options.gzip.workers = std::max(0, f.gzip_threads);
  if (f.gzip_level > 0) {
    options.gzip.codec = archive::GzipCodec::kLibdeflate;
    options.gzip.level = std::clamp(f.gzip_level, 1, 12);
  }
  backup::BackupEngine engine((*conn)->client(), **store, clock, options);
  ProgressDisplay progress(ctx.out, ctx.out_is_terminal, clock);
  backup::BackupObserver observer;
  observer.on_progress = [&](const api::BackupProgress& p) {
    progress.Update("Backing up", p.items_backed_up, p.total_items);
  };
  const auto started = clock.Now();
  api::Backup done = engine.Run(std::move(built), observer);
  progress.Finish();
  const double seconds = std::chrono::duration<double>(clock.Now() - started).count();
  const std::string& phase = done.status.phase;
  if (phase == api::backup_phase::kFailedValidation) {
    PrintValidation(ctx.err, done);
    ctx.exit_code = 1;
    return;
  }
  const int64_t items =
      done.status.progress.has_value() ? done.status.progress->items_backed_up : 0;
  std::ostringstream summary;
  summary << "Backup \"" << done.metadata.name << "\": " << phase << ", " << items << " items in "
          << std::fixed << std::setprecision(1) << seconds << "s";
  if (seconds > 0) {
    summary << " (" << static_cast<int64_t>(static_cast<double>(items) / seconds) << " items/s)";
  }
  summary << ", " << done.status.errors << " errors, " << done.status.warnings << " warnings.";
  if (done.status.hooks_attempted != 0 || done.status.hooks_failed != 0) {
    summary << " Exec hooks: " << done.status.hooks_attempted << " attempted, "
            << done.status.hooks_failed << " failed.";
  }
  ctx.out << summary.str() << "\n";
  if (phase == api::backup_phase::kCompleted || phase == api::backup_phase::kPartiallyFailed) {
    ctx.out << "Stored in " << (*store)->Describe() << " under "
            << archive::BackupDir(done.metadata.name) << "\n";
  }
  if (phase == api::backup_phase::kFailed) {
    ctx.err << "arca: backup failed: " << done.status.failure_reason << "\n";
    ctx.exit_code = 1;
  } else if (phase == api::backup_phase::kPartiallyFailed) {
    ctx.err << "arca: backup partially failed; see the errors with `arca backup describe "
            << done.metadata.name << " --details --storage " << f.storage.url << "`\n";
    ctx.exit_code = 1;
  }
}

// Polls the Backup until it ends, with a progress display; exit code 1 unless Completed.
void WaitForBackup(CommandContext& ctx, const Env& env, VeleroClient& client,
                   const std::string& name) {
  ctx.out << "Waiting for backup to complete. You may safely press ctrl-c to stop waiting - your "
             "backup will continue in the background.\n"
          << std::flush;
  ProgressDisplay progress(ctx.out, ctx.out_is_terminal, env.clock());
  Result<nlohmann::json> done = client.WaitFor(
      "backups", name, [](const nlohmann::json& obj) { return IsTerminal(PhaseOf(obj)); },
      [&progress](const nlohmann::json& obj) {
        if (!obj.contains("status") || !obj["status"].contains("progress")) {
          return;
        }
        const nlohmann::json& p = obj["status"]["progress"];
        progress.Update("Backing up", p.value("itemsBackedUp", int64_t{0}),
                        p.value("totalItems", int64_t{0}));
      },
      std::chrono::milliseconds(0), env.base.wait_poll);
  progress.Finish();
  if (!done.ok()) {
    ctx.Fail(done.status().WithContext("waiting for backup \"" + name + "\""));
    return;
  }
  Result<api::Backup> b = api::BackupFromJson(*done);
  if (!b.ok()) {
    ctx.Fail(b.status());
    return;
  }
  const std::string& phase = b->status.phase;
  ctx.out << "Backup completed with status: " << phase
          << ". You may check for more information using the commands `arca backup describe "
          << name << "` and `arca backup logs " << name << "`.\n";
  if (phase == api::backup_phase::kCompleted) {
    return;
  }
  ctx.exit_code = 1;
  if (phase == api::backup_phase::kFailedValidation) {
    PrintValidation(ctx.err, *b);
  } else if (phase == api::backup_phase::kFailed) {
    ctx.err << "arca: backup \"" << name << "\" failed: "
            << (b->status.failure_reason.empty() ? "no reason given; see its logs"
                                                 : b->status.failure_reason)
            << "\n";
  } else {
    ctx.err << "arca: backup \"" << name << "\" partially failed with " << b->status.errors
            << " errors and " << b->status.warnings
            << " warnings; see them with `arca backup describe " << name << " --details`\n";
  }
}

void RunCreate(CommandContext& ctx, const Env& env, const CreateFlags& f) {
  Result<std::optional<OutputFormat>> format = ParsePrintOnlyFormat(f.output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  if (!f.from_schedule.empty()) {
    if (f.standalone || !f.storage.url.empty()) {
      ctx.Fail(InvalidArgumentError(
          "--from-schedule reads the Schedule from the cluster and cannot be combined with "
          "--standalone/--storage"));
      return;
    }
  } else if (f.name.empty()) {
    ctx.Fail(InvalidArgumentError(
        "a backup name is required: arca backup create NAME (or --from-schedule SCHEDULE)"));
    return;
  }
  if (f.standalone || !f.storage.url.empty()) {
    if (!f.standalone) {
      ctx.Fail(InvalidArgumentError(
          "--storage is for standalone mode: add --standalone to run the backup in this "
          "process, or drop --storage to create it through arca server in namespace " +
          f.cluster.Namespace()));
      return;
    }
    if (f.wait) {
      ctx.Fail(InvalidArgumentError(
          "--wait is for backups run by arca server; --standalone always waits"));
      return;
    }
  }
  std::optional<VeleroClient> client;
  Result<api::Backup> built = InvalidArgumentError("no backup");
  if (!f.from_schedule.empty()) {
    Result<VeleroClient> connected = env.Connect(f.cluster);
    if (!connected.ok()) {
      ctx.Fail(connected.status());
      return;
    }
    client.emplace(std::move(*connected));
    built = BuildFromSchedule(*client, env.clock(), f);
  } else {
    built = BuildBackup(f);
  }
  if (!built.ok()) {
    ctx.Fail(built.status());
    return;
  }
  if (format->has_value()) {  // Velero: print, do not submit
    PrintObject(ctx.out, **format, api::BackupToJson(*built));
    return;
  }
  if (f.standalone) {
    RunStandaloneCreate(ctx, f, std::move(*built));
    return;
  }
  if (!client.has_value()) {
    Result<VeleroClient> connected = env.Connect(f.cluster);
    if (!connected.ok()) {
      ctx.Fail(connected.status());
      return;
    }
    client.emplace(std::move(*connected));
  }
  const std::string name = built->metadata.name;
  Result<nlohmann::json> created = client->Create("backups", api::BackupToJson(*built));
  if (!created.ok()) {
    ctx.Fail(created.status());
    return;
  }
  ctx.out << "Backup request \"" << name << "\" submitted successfully.\n";
  if (f.wait) {
    WaitForBackup(ctx, env, *client, name);
    return;
  }
  ctx.out << "Run `arca backup describe " << name << "` or `arca backup logs " << name
          << "` for more details.\n";
}

// --- get ---------------------------------------------------------------------------------------

struct GetFlags {
  StorageFlag storage;
  ClusterFlags cluster;
  std::vector<std::string> names;
  std::string selector;
  std::string output = "table";
};

void PrintBackups(CommandContext& ctx, OutputFormat format, const std::vector<api::Backup>& backups,
                  bool single) {
  if (format != OutputFormat::kTable) {
    std::vector<nlohmann::json> items;
    for (const api::Backup& b : backups) {
      items.push_back(api::BackupToJson(b));
    }
    PrintObjects(ctx.out, format, items, single);
    return;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "ERRORS", "WARNINGS", "CREATED",
                                                 "EXPIRES", "STORAGE LOCATION", "QUEUE POSITION",
                                                 "SELECTOR"}};
  const auto now = RealClock().Now();
  for (const api::Backup& b : backups) {
    std::string status = b.status.phase.empty() ? "New" : b.status.phase;
    if (!b.metadata.deletion_timestamp.empty()) {
      status = "Deleting";
    }
    rows.push_back({b.metadata.name, status, std::to_string(b.status.errors),
                    std::to_string(b.status.warnings), FormatTime(b.status.start_timestamp),
                    Expires(b.status.expiration, now), b.spec.storage_location,
                    b.status.queue_position > 0 ? std::to_string(b.status.queue_position) : "",
                    SelectorColumn(b)});
  }
  PrintTable(ctx.out, rows);
}

bool MatchesSelector(const api::Backup& b, const std::string& selector) {
  if (selector.empty()) {
    return true;
  }
  Result<kube::LabelSelector> sel = kube::LabelSelector::Parse(selector);
  kube::Labels labels(b.metadata.labels.begin(), b.metadata.labels.end());
  return sel.ok() && sel->Matches(labels);
}

void RunStoreGet(CommandContext& ctx, const GetFlags& f, OutputFormat format) {
  Clock& clock = RealClock();
  Result<objstore::ObjectStorePtr> store = f.storage.Open(clock);
  if (!store.ok()) {
    ctx.Fail(store.status());
    return;
  }
  std::vector<std::string> wanted = f.names;
  if (wanted.empty()) {
    Result<objstore::ListPage> page = (*store)->ListAll("backups/", "/");
    if (!page.ok()) {
      ctx.Fail(page.status());
      return;
    }
    for (const std::string& prefix : page->common_prefixes) {
      wanted.push_back(prefix.substr(8, prefix.size() - 9));  // "backups/<name>/"
    }
  }
  std::vector<api::Backup> backups;
  for (const std::string& name : wanted) {
    Result<api::Backup> b = LoadBackup(**store, name);
    if (!b.ok()) {
      // A folder without metadata is an unfinished or foreign backup: not listed, as in
      // Velero's sync. Named backups that are missing are errors.
      if (!f.names.empty()) {
        ctx.Fail(b.status());
      }
      continue;
    }
    if (MatchesSelector(*b, f.selector)) {
      backups.push_back(std::move(*b));
    }
  }
  if (backups.empty() && f.names.empty()) {
    ctx.err << "No backups found in " << (*store)->Describe() << ".\n";
    return;
  }
  PrintBackups(ctx, format, backups, backups.size() == 1 && f.names.size() == 1);
}

// The backups NAMES names (missing ones reported, exit code 1), else those -l selects.
Result<std::vector<api::Backup>> FetchBackups(CommandContext& ctx, VeleroClient& client,
                                              const std::vector<std::string>& names,
                                              const std::string& selector) {
  std::vector<nlohmann::json> objects;
  if (names.empty()) {
    ASSIGN_OR_RETURN(objects, client.List("backups", selector));
  } else {
    std::set<std::string> seen;
    for (const std::string& name : names) {
      if (!seen.insert(name).second) {
        continue;
      }
      Result<nlohmann::json> obj = client.Get("backups", name);
      if (!obj.ok()) {
        ctx.Fail(obj.status());
        continue;
      }
      objects.push_back(std::move(*obj));
    }
  }
  std::vector<api::Backup> out;
  for (const nlohmann::json& obj : objects) {
    Result<api::Backup> b = api::BackupFromJson(obj);
    if (!b.ok()) {
      ctx.Fail(b.status().WithContext("backup \"" + obj["metadata"].value("name", "") + "\""));
      continue;
    }
    out.push_back(std::move(*b));
  }
  return out;
}

void RunGet(CommandContext& ctx, const Env& env, const GetFlags& f) {
  Result<OutputFormat> format = ParseOutputFormat(f.output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  if (Status st = CheckSelector(f.selector); !st.ok()) {
    ctx.Fail(st);
    return;
  }
  if (!f.names.empty() && !f.selector.empty()) {
    ctx.Fail(InvalidArgumentError("give backup names or -l/--selector, not both"));
    return;
  }
  if (!f.storage.url.empty()) {
    RunStoreGet(ctx, f, *format);
    return;
  }
  Result<VeleroClient> client = env.Connect(f.cluster);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Result<std::vector<api::Backup>> backups = FetchBackups(ctx, *client, f.names, f.selector);
  if (!backups.ok()) {
    ctx.Fail(backups.status());
    return;
  }
  if (backups->empty()) {
    if (f.names.empty()) {
      ctx.err << "No backups found in namespace " << client->namespace_name() << ".\n";
    }
    return;
  }
  PrintBackups(ctx, *format, *backups, f.names.size() == 1);
}

// --- describe ----------------------------------------------------------------------------------

std::string JoinOr(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) {
    return std::string(none);
  }
  std::string out;
  for (const std::string& s : items) {
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

void PrintResult(std::ostream& out, std::string_view title, const nlohmann::json& result) {
  out << title << ":\n";
  if (!result.is_object() || result.empty()) {
    out << "  <none>\n";
    return;
  }
  for (const char* scope : {"velero", "cluster"}) {
    if (result.contains(scope)) {
      out << "  " << (std::string_view(scope) == "velero" ? "Velero" : "Cluster") << ":\n";
      for (const auto& m : result[scope]) {
        out << "    " << m.get<std::string>() << "\n";
      }
    }
  }
  if (result.contains("namespaces")) {
    out << "  Namespaces:\n";
    for (const auto& [ns, msgs] : result["namespaces"].items()) {
      out << "    " << ns << ":\n";
      for (const auto& m : msgs) {
        out << "      " << m.get<std::string>() << "\n";
      }
    }
  }
}

void DescribeBackup(std::ostream& out, const api::Backup& b) {
  const api::BackupSpec& s = b.spec;
  auto map_line = [](const std::map<std::string, std::string>& m) {
    std::string line;
    for (const auto& [k, v] : m) {
      line += (line.empty() ? "" : "\n              ") + k + "=" + v;
    }
    return line.empty() ? std::string("<none>") : line;
  };
  out << "Name:         " << b.metadata.name << "\n";
  out << "Namespace:    " << b.metadata.namespace_ << "\n";
  out << "Labels:       " << map_line(b.metadata.labels) << "\n";
  out << "Annotations:  " << map_line(b.metadata.annotations) << "\n\n";
  out << "Phase:  " << (b.status.phase.empty() ? "New" : b.status.phase) << "\n\n";
  if (!b.status.validation_errors.empty()) {
    out << "Validation errors:\n";
    for (const std::string& e : b.status.validation_errors) {
      out << "  " << e << "\n";
    }
    out << "\n";
  }
  if (!b.status.failure_reason.empty()) {
    out << "Failure reason:  " << b.status.failure_reason << "\n\n";
  }
  out << "Errors:    " << b.status.errors << "\n";
  out << "Warnings:  " << b.status.warnings << "\n\n";
  out << "Namespaces:\n";
  out << "  Included:  " << JoinOr(s.included_namespaces, "*") << "\n";
  out << "  Excluded:  " << JoinOr(s.excluded_namespaces, "<none>") << "\n\n";
  out << "Resources:\n";
  if (s.UsesNewFilters()) {
    out << "  Included cluster-scoped:    " << JoinOr(s.included_cluster_scoped_resources, "<none>")
        << "\n";
    out << "  Excluded cluster-scoped:    " << JoinOr(s.excluded_cluster_scoped_resources, "<none>")
        << "\n";
    out << "  Included namespace-scoped:  " << JoinOr(s.included_namespace_scoped_resources, "*")
        << "\n";
    out << "  Excluded namespace-scoped:  "
        << JoinOr(s.excluded_namespace_scoped_resources, "<none>") << "\n\n";
  } else {
    out << "  Included:        " << JoinOr(s.included_resources, "*") << "\n";
    out << "  Excluded:        " << JoinOr(s.excluded_resources, "<none>") << "\n";
    out << "  Cluster-scoped:  "
        << (!s.include_cluster_resources.has_value() ? "auto"
            : *s.include_cluster_resources           ? "included"
                                                     : "excluded")
        << "\n\n";
  }
  out << "Label selector:  "
      << (s.label_selector.has_value() ? FormatLabelSelector(*s.label_selector) : "<none>")
      << "\n\n";
  if (!s.or_label_selectors.empty()) {
    out << "Or label selector:  " << SelectorColumn(b) << "\n\n";
  }
  out << "Storage Location:  " << s.storage_location << "\n\n";
  out << "TTL:  " << (s.ttl.has_value() ? api::FormatDuration(*s.ttl) : "<none>") << "\n\n";
  if (!s.ordered_resources.empty()) {
    out << "Ordered resources:\n";
    for (const auto& [r, items] : s.ordered_resources) {
      out << "  " << r << ": " << items << "\n";
    }
    out << "\n";
  }
  out << "Backup Format Version:  " << b.status.format_version << "\n\n";
  out << "Started:    " << FormatTime(b.status.start_timestamp) << "\n";
  out << "Completed:  " << FormatTime(b.status.completion_timestamp) << "\n\n";
  out << "Expiration:  " << FormatTime(b.status.expiration) << "\n\n";
  if (b.status.progress.has_value()) {
    out << "Total items to be backed up:  " << b.status.progress->total_items << "\n";
    out << "Items backed up:              " << b.status.progress->items_backed_up << "\n";
  }
  out << "\nHooksAttempted:  " << b.status.hooks_attempted << "\n";
  out << "HooksFailed:     " << b.status.hooks_failed << "\n";
}

// Fetches a side file (gunzipped) by download kind.
using SideFile = std::function<Result<std::string>(std::string_view kind)>;

void DescribeDetails(std::ostream& out, const SideFile& side) {
  auto json_of = [&side](std::string_view kind) -> Result<nlohmann::json> {
    ASSIGN_OR_RETURN(std::string text, side(kind));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
      return InvalidArgumentError("the backup's " + DownloadWhat(kind) + " is not valid JSON");
    }
    return j;
  };
  out << "\nResource List:\n";
  Result<nlohmann::json> list = json_of(api::download_kind::kBackupResourceList);
  if (!list.ok()) {
    out << "  <error getting the resource list: " << list.status().message() << ">\n";
  } else {
    for (const auto& [type, items] : list->items()) {
      out << "  " << type << ":\n";
      for (const auto& item : items) {
        out << "    - " << item.get<std::string>() << "\n";
      }
    }
  }
  Result<nlohmann::json> results = json_of(api::download_kind::kBackupResults);
  if (results.ok()) {
    out << "\n";
    PrintResult(out, "Errors", (*results)["errors"]);
    out << "\n";
    PrintResult(out, "Warnings", (*results)["warnings"]);
  } else if (results.status().code() != StatusCode::kNotFound) {
    out << "\n<error getting the results: " << results.status().message() << ">\n";
  }
}

struct DescribeFlags {
  StorageFlag storage;
  ClusterFlags cluster;
  DownloadFlags download;
  std::vector<std::string> names;
  std::string selector;
  bool details = false;
};

void RunStoreDescribe(CommandContext& ctx, const DescribeFlags& f) {
  if (f.names.empty()) {
    ctx.Fail(InvalidArgumentError("name the backups to describe from --storage"));
    return;
  }
  Clock& clock = RealClock();
  Result<objstore::ObjectStorePtr> store = f.storage.Open(clock);
  if (!store.ok()) {
    ctx.Fail(store.status());
    return;
  }
  bool first = true;
  for (const std::string& name : f.names) {
    Result<api::Backup> loaded = LoadBackup(**store, name);
    if (!loaded.ok()) {
      ctx.Fail(loaded.status());
      continue;
    }
    if (!first) {
      ctx.out << "\n\n";
    }
    first = false;
    DescribeBackup(ctx.out, *loaded);
    if (f.details) {
      DescribeDetails(ctx.out, [&](std::string_view kind) -> Result<std::string> {
        ASSIGN_OR_RETURN(std::string key, api::DownloadTargetKey(kind, name));
        ASSIGN_OR_RETURN(std::string gz, (*store)->GetString(objstore::ObjectKey(key)));
        return Gunzip(gz);
      });
    }
  }
}

void RunDescribe(CommandContext& ctx, const Env& env, const DescribeFlags& f) {
  if (Status st = CheckSelector(f.selector); !st.ok()) {
    ctx.Fail(st);
    return;
  }
  if (!f.names.empty() && !f.selector.empty()) {
    ctx.Fail(InvalidArgumentError("give backup names or -l/--selector, not both"));
    return;
  }
  if (!f.storage.url.empty()) {
    RunStoreDescribe(ctx, f);
    return;
  }
  Result<DownloadOptions> options = env.Download(f.download, /*gunzip=*/true);
  if (!options.ok()) {
    ctx.Fail(options.status());
    return;
  }
  Result<VeleroClient> client = env.Connect(f.cluster);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Result<std::vector<api::Backup>> backups = FetchBackups(ctx, *client, f.names, f.selector);
  if (!backups.ok()) {
    ctx.Fail(backups.status());
    return;
  }
  if (backups->empty() && f.names.empty()) {
    ctx.err << "No backups found in namespace " << client->namespace_name() << ".\n";
    return;
  }
  bool server_silent = false;
  options->server_silent = &server_silent;
  for (size_t i = 0; i < backups->size(); ++i) {
    const api::Backup& b = (*backups)[i];
    if (i > 0) {
      ctx.out << "\n\n";
    }
    DescribeBackup(ctx.out, b);
    if (f.details) {
      DescribeDetails(ctx.out, [&](std::string_view kind) {
        return DownloadToString(*client, env.clock(), kind, b.metadata.name, *options, ctx.err);
      });
    }
  }
}

// --- logs and download -------------------------------------------------------------------------

struct LogsFlags {
  ClusterFlags cluster;
  DownloadFlags download;
  std::string name;
};

void RunLogs(CommandContext& ctx, const Env& env, const LogsFlags& f) {
  Result<DownloadOptions> options = env.Download(f.download, /*gunzip=*/true);
  if (!options.ok()) {
    ctx.Fail(options.status());
    return;
  }
  Result<VeleroClient> client = env.Connect(f.cluster);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Status st = Download(
      *client, env.clock(), api::download_kind::kBackupLog, f.name, *options,
      [&ctx](std::string_view chunk) {
        ctx.out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        return ctx.out.good() ? OkStatus() : UnavailableError("writing the log to stdout failed");
      },
      ctx.err);
  ctx.out << std::flush;
  if (!st.ok()) {
    ctx.Fail(st);
  }
}

struct DownloadCmdFlags {
  ClusterFlags cluster;
  DownloadFlags download;
  std::string name;
  std::string output;
  bool force = false;
};

void RunDownload(CommandContext& ctx, const Env& env, const DownloadCmdFlags& f) {
  const std::filesystem::path path = f.output.empty() ? f.name + "-data.tar.gz" : f.output;
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !f.force) {
    ctx.Fail(AlreadyExistsError("file " + path.string() +
                                " already exists; remove it, choose another with -o FILE, or "
                                "overwrite it with --force"));
    return;
  }
  Result<DownloadOptions> options = env.Download(f.download, /*gunzip=*/false);
  if (!options.ok()) {
    ctx.Fail(options.status());
    return;
  }
  Result<VeleroClient> client = env.Connect(f.cluster);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  // Into a temporary file beside the target, renamed into place once complete.
  std::filesystem::path tmp = path;
  tmp += ".arca-partial-" + std::to_string(::getpid());
  std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
  if (!file) {
    ctx.Fail(PermissionDeniedError("cannot write " + tmp.string() + ": " +
                                   std::error_code(errno, std::generic_category()).message()));
    return;
  }
  Status st = Download(
      *client, env.clock(), api::download_kind::kBackupContents, f.name, *options,
      [&file, &tmp](std::string_view chunk) {
        file.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        return file.good() ? OkStatus() : UnavailableError("writing " + tmp.string() + " failed");
      },
      ctx.err);
  file.close();
  if (st.ok() && file.fail()) {
    st = UnavailableError("writing " + tmp.string() + " failed");
  }
  if (st.ok()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
      st = UnavailableError("renaming " + tmp.string() + " to " + path.string() + ": " +
                            ec.message());
    }
  }
  if (!st.ok()) {
    std::filesystem::remove(tmp, ec);
    ctx.Fail(st);
    return;
  }
  ctx.out << "Backup " << f.name << " has been successfully downloaded to "
          << std::filesystem::absolute(path, ec).string() << "\n";
}

// --- delete ------------------------------------------------------------------------------------

struct DeleteFlags {
  ClusterFlags cluster;
  std::vector<std::string> names;
  bool all = false;
  std::string selector;
  bool confirm = false;
};

void RunDelete(CommandContext& ctx, const Env& env, const DeleteFlags& f) {
  if (Status st = Selection{f.names, f.all, f.selector}.Validate("backup"); !st.ok()) {
    ctx.Fail(st);
    return;
  }
  Result<VeleroClient> client = env.Connect(f.cluster);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Result<std::vector<api::Backup>> backups = FetchBackups(ctx, *client, f.names, f.selector);
  if (!backups.ok()) {
    ctx.Fail(backups.status());
    return;
  }
  if (backups->empty()) {
    if (f.names.empty()) {
      ctx.out << "No backups found in namespace " << client->namespace_name() << ".\n";
    }
    return;
  }
  if (!ConfirmOrRefuse(f.confirm, env.in(), ctx)) {
    return;
  }
  for (const api::Backup& b : *backups) {
    api::DeleteBackupRequest dbr;
    dbr.metadata.generate_name = b.metadata.name + "-";
    dbr.metadata.namespace_ = client->namespace_name();
    dbr.metadata.labels["velero.io/backup-name"] = api::GetValidName(b.metadata.name);
    dbr.metadata.labels["velero.io/backup-uid"] = b.metadata.uid;
    dbr.backup_name = b.metadata.name;
    Result<nlohmann::json> created =
        client->Create("deletebackuprequests", api::DeleteBackupRequestToJson(dbr));
    if (!created.ok()) {
      ctx.Fail(created.status().WithContext("deleting backup \"" + b.metadata.name + "\""));
      continue;
    }
    ctx.out << "Request to delete backup \"" << b.metadata.name
            << "\" submitted successfully.\nThe backup will be fully deleted after all associated "
               "data (disk snapshots, backup files, restores) are removed.\n";
  }
}

}  // namespace

void AddBackupCommands(CLI::App& app, CommandContext& ctx) {
  AddBackupCommands(app, ctx, BackupCommandEnv{});
}

void AddBackupCommands(CLI::App& app, CommandContext& ctx, BackupCommandEnv base) {
  auto env = std::make_shared<Env>(Env{std::move(base)});
  CLI::App* backup = app.add_subcommand("backup", "Work with backups");
  backup->require_subcommand(1);

  // create
  auto cf = std::make_shared<CreateFlags>();
  CLI::App* create = backup->add_subcommand(
      "create", "Create a backup (through arca server, or in this process with --standalone)");
  create->add_option("NAME", cf->name,
                     "The backup's name (default with --from-schedule: SCHEDULE-<timestamp>)");
  create->add_flag("--standalone", cf->standalone,
                   "Run the backup in this process and write it to --storage directly");
  cf->storage.AddTo(*create);
  cf->cluster.AddTo(*create);
  cf->spec.AddTo(*create);
  create->add_option("--labels", cf->labels, "Labels of the backup: key=value,...")->delimiter(',');
  create->add_option("--annotations", cf->annotations, "Annotations of the backup: key=value,...")
      ->delimiter(',');
  create->add_option("-o,--output", cf->output,
                     "Print the Backup as json or yaml instead of creating it");
  create->add_flag("-w,--wait", cf->wait, "Wait until the backup has finished");
  create->add_option("--from-schedule", cf->from_schedule,
                     "Make the backup from this Schedule's template (other filters are ignored)");
  create->add_option("--list-concurrency", cf->list_concurrency,
                     "Lists running at once (--standalone)");
  create->add_option("--client-page-size", cf->page_size,
                     "Items per list page, 0: no paging (--standalone)");
  create->add_option("--gzip-threads", cf->gzip_threads, "Compression threads (--standalone)");
  create->add_option("--gzip-level", cf->gzip_level,
                     "Compress with libdeflate at this level, 1 (fastest) to 12 (smallest); 6 "
                     "gives Go's (Velero's) ratio. Without it: ISA-L igzip, several times faster "
                     "for a tarball about 10% bigger (--standalone)");
  create->callback([&ctx, env, cf] { RunCreate(ctx, *env, *cf); });

  // get
  auto gf = std::make_shared<GetFlags>();
  CLI::App* get = backup->add_subcommand("get", "List backups");
  get->add_option("NAMES", gf->names, "Only these backups");
  gf->storage.AddTo(*get);
  gf->cluster.AddTo(*get);
  get->add_option("-l,--selector", gf->selector, "Only backups with these labels");
  get->add_option("-o,--output", gf->output, "table, json or yaml");
  get->callback([&ctx, env, gf] { RunGet(ctx, *env, *gf); });

  // describe
  auto df = std::make_shared<DescribeFlags>();
  CLI::App* describe = backup->add_subcommand("describe", "Describe backups");
  describe->add_option("NAMES", df->names, "The backups (default: all)");
  df->storage.AddTo(*describe);
  df->cluster.AddTo(*describe);
  df->download.AddTo(*describe);
  describe->add_option("-l,--selector", df->selector, "Only backups with these labels");
  describe->add_flag("--details", df->details, "Also show the resource list, errors and warnings");
  describe->callback([&ctx, env, df] { RunDescribe(ctx, *env, *df); });

  // logs
  auto lf = std::make_shared<LogsFlags>();
  CLI::App* logs = backup->add_subcommand("logs", "Show a backup's log");
  logs->add_option("NAME", lf->name, "The backup")->required();
  lf->cluster.AddTo(*logs);
  lf->download.AddTo(*logs);
  logs->callback([&ctx, env, lf] { RunLogs(ctx, *env, *lf); });

  // download
  auto wf = std::make_shared<DownloadCmdFlags>();
  CLI::App* download = backup->add_subcommand("download", "Download a backup's contents tarball");
  download->add_option("NAME", wf->name, "The backup")->required();
  wf->cluster.AddTo(*download);
  wf->download.AddTo(*download);
  download->add_option("-o,--output", wf->output, "The file (default NAME-data.tar.gz)");
  download->add_flag("--force", wf->force, "Overwrite the file if it exists");
  download->callback([&ctx, env, wf] { RunDownload(ctx, *env, *wf); });

  // delete
  auto xf = std::make_shared<DeleteFlags>();
  CLI::App* del = backup->add_subcommand("delete", "Delete backups");
  del->add_option("NAMES", xf->names, "The backups");
  xf->cluster.AddTo(*del);
  del->add_flag("--all", xf->all, "Delete every backup");
  del->add_option("-l,--selector", xf->selector, "Delete the backups with these labels");
  del->add_flag("--confirm", xf->confirm, "Do not ask for confirmation");
  del->callback([&ctx, env, xf] { RunDelete(ctx, *env, *xf); });
}

}  // namespace arca::cli
