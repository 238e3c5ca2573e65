#include "cli/restore_cmd.h"

#include <filesystem>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "api/restore.h"
#include "archive/velero_layout.h"
#include "cli/backup_cmd.h"
#include "cli/backup_flags.h"
#include "cli/format.h"
#include "kube/exec.h"
#include "restore/engine.h"

namespace arca::cli {
namespace {

struct CreateFlags {
  std::string name;
  std::string from_backup;
  std::string from_file;
  bool standalone = false;
  StorageFlag storage;
  KubeFlags kube;
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
  std::string output;
  int concurrency = restore::RestoreOptions{}.concurrency;
  bool restore_managed_fields = true;
};

Result<api::Restore> BuildRestore(const CreateFlags& f, std::chrono::system_clock::time_point now) {
  if (f.from_backup.empty() == f.from_file.empty()) {
    return InvalidArgumentError(
        "give exactly one of --from-backup NAME (a backup in --storage) and --from-file "
        "backup.tar.gz (a downloaded tarball)");
  }
  api::Restore r;
  std::string source = f.from_backup;
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
  r.metadata.namespace_ = "velero";
  api::RestoreSpec& s = r.spec;
  s.backup_name = source;
  s.included_namespaces = f.include_namespaces;
  s.excluded_namespaces = f.exclude_namespaces;
  s.included_resources = f.include_resources;
  s.excluded_resources = f.exclude_resources;
  if (f.include_cluster_resources_opt != nullptr && f.include_cluster_resources_opt->count() > 0) {
    s.include_cluster_resources = f.include_cluster_resources;
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
    ASSIGN_OR_RETURN(s.or_label_selectors, ParseOrSelectorFlag(f.or_selector));
  }
  s.existing_resource_policy = f.existing_resource_policy;
  if (!f.status_include.empty() || !f.status_exclude.empty()) {
    s.restore_status = api::RestoreStatusSpec{f.status_include, f.status_exclude};
  }
  if (f.preserve_nodeports) {
    s.preserve_node_ports = true;
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

void PrintValidation(std::ostream& err, const api::Restore& r) {
  err << "arca: restore \"" << r.metadata.name << "\" failed validation:\n";
  for (const std::string& e : r.status.validation_errors) {
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

void RunCreate(CommandContext& ctx, const CreateFlags& f) {
  Clock& clock = RealClock();
  Result<api::Restore> built = BuildRestore(f, clock.Now());
  if (!built.ok()) {
    ctx.Fail(built.status());
    return;
  }
  if (f.output == "json") {
    ctx.out << api::RestoreToJson(*built).dump(4) << "\n";
    return;
  }
  if (!f.output.empty()) {
    ctx.Fail(InvalidArgumentError("-o " + f.output + ": use json"));
    return;
  }
  if (!f.standalone) {
    ctx.Fail(FailedPreconditionError(
        "server mode (creating a Restore resource for `arca server`) is not available yet; run "
        "the restore in this process with --standalone, e.g. arca restore create --from-backup " +
        (f.from_backup.empty() ? std::string("NAME") : f.from_backup) +
        " --standalone --storage file:///var/backups/arca"));
    return;
  }
  std::vector<std::string> invalid = restore::ValidateRestoreSpec(built->spec);
  if (!invalid.empty()) {
    built->status.validation_errors = invalid;
    PrintValidation(ctx.err, *built);
    ctx.exit_code = 1;
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
  Result<kube::ConnectionPtr> conn = f.kube.Connect(clock);
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
  options.restore_managed_fields = f.restore_managed_fields;
  options.pod_executor = exec->get();
  restore::RestoreEngine engine((*conn)->client(), store.get(), clock, options);
  ProgressDisplay progress(ctx.out, ctx.out_is_terminal, clock);
  CliObserver observer(progress);
  const auto started = clock.Now();
  restore::RestoreOutcome out =
      f.from_file.empty()
          ? engine.Run(std::move(*built), &observer)
          : engine.RunFromSource(std::move(*built), restore::FileTarball(f.from_file), &observer);
  progress.Finish();
  const double seconds = std::chrono::duration<double>(clock.Now() - started).count();
  const api::Restore& done = out.restore;
  const std::string& phase = done.status.phase;
  if (phase == api::restore_phase::kFailedValidation) {
    PrintValidation(ctx.err, done);
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

}  // namespace

void AddRestoreCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* restore = app.add_subcommand("restore", "Work with restores");
  restore->require_subcommand(1);

  auto flags = std::make_shared<CreateFlags>();
  CreateFlags& f = *flags;
  CLI::App* create = restore->add_subcommand("create", "Restore a backup");
  create->add_option("NAME", f.name, "The restore's name (default <backup>-<timestamp>)");
  create->add_option("--from-backup", f.from_backup, "The backup to restore (in --storage)");
  create->add_option("--from-file", f.from_file,
                     "Restore a backup tarball file (e.g. from `velero backup download`)");
  create->add_flag("--standalone", f.standalone,
                   "Run the restore in this process, reading the backup from --storage directly");
  f.storage.AddTo(*create);
  // No client-side limit by default: a restore makes one or two requests per object, and 100/s
  // (the server's limit) would halve its speed; the engine backs off when the API server answers
  // 429, and API Priority and Fairness protects the server (docs/compatibility.md).
  f.kube.qps = 0;
  f.kube.AddTo(*create);
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
  create->add_option("-o,--output", f.output, "Print the Restore as json instead of running it");
  create->add_option("--concurrency", f.concurrency, "Creates in flight at most")
      ->capture_default_str();
  create
      ->add_option("--restore-managed-fields", f.restore_managed_fields,
                   "Patch metadata.managedFields back to the backed-up value after each create, as "
                   "Velero does (one more request per object; false: the restore owns the fields)")
      ->capture_default_str();
  create->callback([&ctx, flags] { RunCreate(ctx, *flags); });
}

}  // namespace arca::cli
