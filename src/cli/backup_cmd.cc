#include "cli/backup_cmd.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "api/backup.h"
#include "api/duration.h"
#include "archive/gzip.h"
#include "archive/velero_layout.h"
#include "backup/engine.h"
#include "cli/backup_flags.h"
#include "cli/format.h"
#include "install/yaml.h"
#include "kube/encoding.h"
#include "kube/exec.h"
#include "kube/label_selector.h"

namespace arca::cli {
namespace {

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

struct CreateFlags {
  std::string name;
  bool standalone = false;
  StorageFlag storage;
  KubeFlags kube;
  BackupSpecFlags spec;
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  std::string output;
  int list_concurrency = backup::BackupEngineOptions{}.list_concurrency;
  int64_t page_size = backup::BackupEngineOptions{}.page_size;
  int gzip_threads = backup::BackupEngineOptions{}.gzip.workers;
  int gzip_level = backup::BackupEngineOptions{}.gzip.level;
};

Result<api::Backup> BuildBackup(const CreateFlags& f) {
  api::Backup b;
  b.metadata.name = f.name;
  b.metadata.namespace_ = "velero";
  ASSIGN_OR_RETURN(b.metadata.labels, ParseMapFlag("--labels", f.labels));
  ASSIGN_OR_RETURN(b.metadata.annotations, ParseMapFlag("--annotations", f.annotations));
  ASSIGN_OR_RETURN(b.spec, f.spec.Build());
  return b;
}

void PrintValidation(std::ostream& err, const api::Backup& b) {
  err << "arca: backup \"" << b.metadata.name << "\" failed validation:\n";
  for (const std::string& e : b.status.validation_errors) {
    err << "  - " << e << "\n";
  }
}

void RunCreate(CommandContext& ctx, const CreateFlags& f) {
  Result<api::Backup> built = BuildBackup(f);
  if (!built.ok()) {
    ctx.Fail(built.status());
    return;
  }
  if (f.output == "json" || f.output == "yaml") {
    nlohmann::json j = api::BackupToJson(*built);
    if (f.output == "json") {
      ctx.out << j.dump(4) << "\n";
    } else {
      ctx.out << install::ToYaml(j);
    }
    return;
  }
  if (!f.output.empty()) {
    ctx.Fail(InvalidArgumentError("-o " + f.output + ": use json or yaml"));
    return;
  }
  if (!f.standalone) {
    ctx.Fail(FailedPreconditionError(
        "server mode (creating a Backup resource for `arca server`) is not available yet; run "
        "the backup in this process with --standalone --storage URL, e.g. "
        "arca backup create " +
        f.name + " --standalone --storage file:///var/backups/arca"));
    return;
  }
  // Validate before connecting anywhere, so that bad flags fail fast.
  std::vector<std::string> invalid = backup::ValidateBackup(*built);
  if (!invalid.empty()) {
    built->status.validation_errors = invalid;
    PrintValidation(ctx.err, *built);
    ctx.exit_code = 1;
    return;
  }
  Clock& clock = RealClock();
  Result<objstore::ObjectStorePtr> store = f.storage.Open(clock);
  if (!store.ok()) {
    ctx.Fail(store.status());
    return;
  }
  Result<kube::ConnectionPtr> conn = f.kube.Connect(clock);
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
  options.gzip.level = std::clamp(f.gzip_level, 1, 12);
  backup::BackupEngine engine((*conn)->client(), **store, clock, options);
  ProgressDisplay progress(ctx.out, ctx.out_is_terminal, clock);
  backup::BackupObserver observer;
  observer.on_progress = [&](const api::BackupProgress& p) {
    progress.Update("Backing up", p.items_backed_up, p.total_items);
  };
  const auto started = clock.Now();
  api::Backup done = engine.Run(std::move(*built), observer);
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

void RunGet(CommandContext& ctx, const StorageFlag& storage, const std::vector<std::string>& names,
            const std::string& output) {
  if (output != "table" && output != "json" && output != "yaml") {
    ctx.Fail(InvalidArgumentError("-o " + output + ": use table, json or yaml"));
    return;
  }
  Clock& clock = RealClock();
  Result<objstore::ObjectStorePtr> store = storage.Open(clock);
  if (!store.ok()) {
    ctx.Fail(store.status());
    return;
  }
  std::vector<std::string> wanted = names;
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
      if (!names.empty()) {
        ctx.Fail(b.status());
      }
      continue;
    }
    backups.push_back(std::move(*b));
  }
  if (output == "json" || output == "yaml") {
    nlohmann::json j;
    if (backups.size() == 1 && names.size() == 1) {
      j = api::BackupToJson(backups[0]);
    } else {
      j = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", nlohmann::json::array()}};
      for (const api::Backup& b : backups) {
        j["items"].push_back(api::BackupToJson(b));
      }
    }
    if (output == "json") {
      ctx.out << j.dump(4) << "\n";
    } else {
      ctx.out << install::ToYaml(j);
    }
    return;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "ERRORS", "WARNINGS", "CREATED",
                                                 "EXPIRES", "STORAGE LOCATION", "SELECTOR"}};
  const auto now = clock.Now();
  for (const api::Backup& b : backups) {
    rows.push_back({b.metadata.name, b.status.phase.empty() ? "New" : b.status.phase,
                    std::to_string(b.status.errors), std::to_string(b.status.warnings),
                    FormatTime(b.status.start_timestamp), Expires(b.status.expiration, now),
                    b.spec.storage_location, SelectorColumn(b)});
  }
  if (backups.empty() && names.empty()) {
    ctx.err << "No backups found in " << (*store)->Describe() << ".\n";
    return;
  }
  PrintTable(ctx.out, rows);
}

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

void RunDescribe(CommandContext& ctx, const StorageFlag& storage, const std::string& name,
                 bool details) {
  Clock& clock = RealClock();
  Result<objstore::ObjectStorePtr> store = storage.Open(clock);
  if (!store.ok()) {
    ctx.Fail(store.status());
    return;
  }
  Result<api::Backup> loaded = LoadBackup(**store, name);
  if (!loaded.ok()) {
    ctx.Fail(loaded.status());
    return;
  }
  const api::Backup& b = *loaded;
  const api::BackupSpec& s = b.spec;
  std::ostream& out = ctx.out;
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
  out << "Phase:  " << b.status.phase << "\n\n";
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
  if (!details) {
    return;
  }
  auto side = [&](std::string_view suffix) -> Result<nlohmann::json> {
    ASSIGN_OR_RETURN(
        std::string gz,
        (*store)->GetString(objstore::ObjectKey(archive::BackupFileKey(name, suffix))));
    ASSIGN_OR_RETURN(std::string text, Gunzip(gz));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
      return InvalidArgumentError(archive::BackupFileKey(name, suffix) + " is not valid JSON");
    }
    return j;
  };
  out << "\nResource List:\n";
  Result<nlohmann::json> list = side("resource-list.json.gz");
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
  Result<nlohmann::json> results = side("results.gz");
  if (results.ok()) {
    out << "\n";
    PrintResult(out, "Errors", (*results)["errors"]);
    out << "\n";
    PrintResult(out, "Warnings", (*results)["warnings"]);
  } else if (results.status().code() != StatusCode::kNotFound) {
    out << "\n<error getting the results: " << results.status().message() << ">\n";
  }
}

}  // namespace

void AddBackupCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* backup = app.add_subcommand("backup", "Work with backups");
  backup->require_subcommand(1);

  // create
  auto create_flags = std::make_shared<CreateFlags>();
  CreateFlags& f = *create_flags;
  CLI::App* create = backup->add_subcommand("create", "Create a backup");
  create->add_option("NAME", f.name, "The backup's name")->required();
  create->add_flag("--standalone", f.standalone,
                   "Run the backup in this process and write it to --storage directly");
  f.storage.AddTo(*create);
  f.kube.AddTo(*create);
  f.spec.AddTo(*create);
  create->add_option("--labels", f.labels, "Labels of the backup: key=value,...")->delimiter(',');
  create->add_option("--annotations", f.annotations, "Annotations of the backup: key=value,...")
      ->delimiter(',');
  create->add_option("-o,--output", f.output,
                     "Print the Backup as json or yaml instead of running it");
  create->add_option("--list-concurrency", f.list_concurrency, "Lists running at once");
  create->add_option("--client-page-size", f.page_size, "Items per list page (0: no paging)");
  create->add_option("--gzip-threads", f.gzip_threads, "Compression threads");
  create->add_option("--gzip-level", f.gzip_level,
                     "Compression level, 1 (fastest) to 12 (smallest); 6 is Go's default");
  create->callback([&ctx, create_flags] { RunCreate(ctx, *create_flags); });

  // get
  auto get_storage = std::make_shared<StorageFlag>();
  auto get_names = std::make_shared<std::vector<std::string>>();
  auto get_output = std::make_shared<std::string>("table");
  CLI::App* get = backup->add_subcommand("get", "List backups");
  get->add_option("NAMES", *get_names, "Only these backups");
  get_storage->AddTo(*get);
  get->add_option("-o,--output", *get_output, "table, json or yaml");
  get->callback([&ctx, get_storage, get_names, get_output] {
    RunGet(ctx, *get_storage, *get_names, *get_output);
  });

  // describe
  auto describe_storage = std::make_shared<StorageFlag>();
  auto describe_name = std::make_shared<std::string>();
  auto details = std::make_shared<bool>(false);
  CLI::App* describe = backup->add_subcommand("describe", "Describe a backup");
  describe->add_option("NAME", *describe_name, "The backup")->required();
  describe_storage->AddTo(*describe);
  describe->add_flag("--details", *details, "Also show the resource list, errors and warnings");
  describe->callback([&ctx, describe_storage, describe_name, details] {
    RunDescribe(ctx, *describe_storage, *describe_name, *details);
  });
}

}  // namespace arca::cli
