#include "backup/engine.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "api/names.h"
#include "archive/velero_layout.h"
#include "backup/filters.h"
#include "backup/plan.h"
#include "backup/upload.h"
#include "hooks/executor.h"
#include "hooks/hooks.h"
#include "kube/encoding.h"
#include "kube/label_selector.h"
#include "kube/list_stream.h"
#include "kube/validation.h"

namespace arca::backup {
namespace {

constexpr std::string_view kExcludeLabel = "velero.io/exclude-from-backup";
constexpr std::string_view kDefaultLocation = "default";
constexpr std::string_view kVeleroNamespace = "velero";

// 64-bit FNV-1a over the parts, with a separator that cannot occur in Kubernetes names.
uint64_t ItemHash(std::string_view group_resource, std::string_view ns, std::string_view name) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  mix(group_resource);
  mix(ns);
  mix(name);
  return h;
}

// A set of 64-bit hashes with open addressing: 8 to 16 bytes per entry, where a node-based set
// takes about 40.
class HashSet64 {
 public:
  // True when `h` was not in the set.
  bool Insert(uint64_t h) {
    if ((size_ + 1) * 2 > slots_.size()) {
      Grow();
    }
    return InsertInto(slots_, Key(h));
  }
  bool Contains(uint64_t h) const {
    if (slots_.empty()) {
      return false;
    }
    const uint64_t k = Key(h);
    for (size_t i = k & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == k) {
        return true;
      }
      if (slots_[i] == 0) {
        return false;
      }
    }
  }
  bool empty() const { return size_ == 0; }

 private:
  static uint64_t Key(uint64_t h) { return h == 0 ? 1 : h; }  // 0 marks an empty slot
  bool InsertInto(std::vector<uint64_t>& slots, uint64_t k) {
    for (size_t i = k & (slots.size() - 1);; i = (i + 1) & (slots.size() - 1)) {
      if (slots[i] == k) {
        return false;
      }
      if (slots[i] == 0) {
        slots[i] = k;
        ++size_;
        return true;
      }
    }
  }
  void Grow() {
    std::vector<uint64_t> bigger(std::max<size_t>(1024, slots_.size() * 2), 0);
    size_ = 0;
    for (uint64_t k : slots_) {
      if (k != 0) {
        InsertInto(bigger, k);
      }
    }
    slots_.swap(bigger);
  }

  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

bool HasGlob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

bool ExcludedByLabel(const kube::Labels& labels) {
  auto it = labels.find(kExcludeLabel);
  return it != labels.end() && it->second == "true";
}

// One unit of work from a list thread to the writer.
struct Work {
  enum class Kind { kItem, kError, kWarning, kTotal };
  Kind kind = Kind::kItem;
  ItemRef ref;
  std::string json;  // kItem: the object; kError/kWarning: the message
  bool cluster = false;
  int64_t total_delta = 0;
};

// A queue bounded by bytes between many producers and one consumer. The consumer takes
// everything queued at once, and is woken only when a batch worth taking has built up (a quarter
// of the capacity), a producer is blocked, every producer is done, or it has waited kMaxWait:
// woken per item, the writer would switch threads once every few items (40,000 switches in a
// backup of 100,000 objects).
class WorkQueue {
 public:
  WorkQueue(size_t capacity_bytes, int producers)
      : capacity_(capacity_bytes), wake_bytes_(capacity_bytes / 4), producers_(producers) {}

  static size_t Size(const Work& w) { return w.json.size() + w.ref.name.size() + 64; }

  // Blocks while full. False once cancelled.
  bool Push(Work w) {
    std::unique_lock<std::mutex> lock(mu_);
    const size_t size = Size(w);
    if (!(cancelled_ || bytes_ == 0 || bytes_ + size <= capacity_)) {
      ++push_waiters_;
      can_pop_.notify_one();  // the consumer must make room, whatever has built up
      can_push_.wait(lock, [&] { return cancelled_ || bytes_ == 0 || bytes_ + size <= capacity_; });
      --push_waiters_;
    }
    if (cancelled_) {
      return false;
    }
    bytes_ += size;
    items_.push_back(std::move(w));
    if (pop_waiting_ && bytes_ >= wake_bytes_) {
      can_pop_.notify_one();
    }
    return true;
  }

  // Moves every queued item to `out` (cleared first), blocking until there is one. False when
  // every producer is done and nothing is left.
  bool PopAll(std::deque<Work>& out) {
    out.clear();
    std::unique_lock<std::mutex> lock(mu_);
    const auto ready = [&] {
      return producers_ == 0 || (!items_.empty() && (push_waiters_ > 0 || bytes_ >= wake_bytes_));
    };
    if (!ready()) {
      pop_waiting_ = true;
      // Past kMaxWait a partial batch is taken, so that a slow trickle still moves along.
      if (!can_pop_.wait_for(lock, kMaxWait, ready)) {
        can_pop_.wait(lock, [&] { return !items_.empty() || producers_ == 0; });
      }
      pop_waiting_ = false;
    }
    if (items_.empty()) {
      return false;
    }
    out.swap(items_);
    bytes_ = 0;
    if (push_waiters_ > 0) {
      can_push_.notify_all();
    }
    return true;
  }

  void ProducerDone() {
    const std::lock_guard<std::mutex> lock(mu_);
    --producers_;
    can_pop_.notify_all();
  }

  // Makes every Push fail from now on and drops what is queued.
  void Cancel() {
    const std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    items_.clear();
    bytes_ = 0;
    can_push_.notify_all();
    can_pop_.notify_all();
  }

 private:
  static constexpr std::chrono::milliseconds kMaxWait{20};

  const size_t capacity_;
  const size_t wake_bytes_;
  std::mutex mu_;
  std::condition_variable can_push_;
  std::condition_variable can_pop_;
  std::deque<Work> items_;
  size_t bytes_ = 0;
  int producers_;
  int push_waiters_ = 0;
  bool pop_waiting_ = false;
  bool cancelled_ = false;
};

struct ListJob {
  ListTask task;
  std::string selector;
};

struct LiveNamespace {
  std::string name;
  std::string json;
  kube::Labels labels;
  bool active = true;
};

std::string LogfmtQuote(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

// A logfmt value as logrus writes it: bare when made of [A-Za-z0-9-._/@^+], else quoted.
std::string LogfmtValue(std::string_view s) {
  for (char c : s) {
    const bool bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' ||
                      c == '+';
    if (!bare) {
      return LogfmtQuote(s);
    }
  }
  return std::string(s);
}

LogLevel FromHookLevel(hooks::LogLevel level) {
  switch (level) {
    case hooks::LogLevel::kInfo:
      return LogLevel::kInfo;
    case hooks::LogLevel::kWarning:
      return LogLevel::kWarning;
    case hooks::LogLevel::kError:
      return LogLevel::kError;
  }
  return LogLevel::kError;
}

std::string ResultMessage(std::string_view resource, std::string_view name, std::string_view msg,
                          std::string_view err) {
  std::string out = " resource: /" + std::string(resource) + " name: /" + std::string(name) +
                    " message: /" + std::string(msg);
  if (!err.empty()) {
    out += " error: /" + std::string(err);
  }
  return out;
}

// Resolves filter names through discovery; globs and unknown names stay verbatim.
std::vector<std::string> ResolveNames(const std::vector<std::string>& names,
                                      const kube::DiscoveryIndex& index) {
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (n == "*" || HasGlob(n)) {
      out.push_back(n);
      continue;
    }
    Result<kube::ApiResource> r = index.Resolve(n);
    if (r.ok()) {
      out.push_back(archive::GroupResourceString(r->gvr.group, r->gvr.resource));
    } else {
      out.push_back(n);
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    std::string part(s.substr(start, end - start));
    while (!part.empty() && part.front() == ' ') {
      part.erase(part.begin());
    }
    while (!part.empty() && part.back() == ' ') {
      part.pop_back();
    }
    if (!part.empty()) {
      out.push_back(std::move(part));
    }
    start = end + 1;
  }
  return out;
}

kube::ListOptions Paged(int64_t limit, std::string selector = "") {
  kube::ListOptions o;
  o.limit = limit;
  o.label_selector = std::move(selector);
  return o;
}

Result<nlohmann::json> ParseJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgumentError("malformed object JSON");
  }
  return j;
}

// The run of one backup: the state shared by the steps of BackupEngine::Run.
class BackupRun {
 public:
  BackupRun(kube::Client& client, objstore::ObjectStore& store, Clock& clock,
            const BackupEngineOptions& options, const BackupObserver& observer, api::Backup backup)
      : client_(client),
        store_(store),
        clock_(clock),
        options_(options),
        observer_(observer),
        backup_(std::move(backup)),
        name_(backup_.metadata.name) {}

  api::Backup Run();

 private:
  // Steps.
  void Prepare();
  Status ListNamespaces();
  // `listed`: how ListNamespaces went (it runs beside discovery, before planning).
  Status PlanBackup(const Status& listed);
  Status WriteTarball();
  void RunLists();
  void ListWorker(WorkQueue& queue, std::atomic<size_t>& next, kube::ObjectMetaParser& parser);
  Status RunOneList(const ListJob& job, WorkQueue& queue, kube::ObjectMetaParser& parser);
  Status WriteOrderedItems();
  Status WriteRelatedItems();
  Status WriteServiceAccountBindings();
  Status WriteCrds();
  Status WriteNamespaces();
  Status UploadSideFiles();
  void Finish(std::string phase);
  void FailWith(const Status& why);

  // The writer side.
  Status WriteItem(ItemRef ref, std::string json);
  // Runs the pod's pre or post exec hooks, logs them and records their errors and counts.
  hooks::HookRunResult RunPodHooks(const ItemRef& pod, const nlohmann::json& pod_json,
                                   hooks::Phase phase);
  // Fetches a related object and writes it when Velero's item-level checks pass. NotFound is a
  // warning; other read errors are recorded errors.
  Status FetchRelated(const kube::ApiResource& type, const std::string& ns, const std::string& name,
                      const std::string& why);
  bool PassesItemChecks(const kube::ApiResource& type, const kube::ObjectMeta& meta) const;
  void Progress(bool force);
  void Log(LogLevel level, std::string_view msg, std::string_view ns = {},
           std::string_view resource = {}, std::string_view name = {}, std::string_view error = {});
  // A log line with the given fields, in order, after msg and backup.
  void LogFields(LogLevel level, std::string_view msg,
                 const std::vector<std::pair<std::string, std::string>>& fields);
  void AppendLog(LogLevel level, std::string line);
  void RecordError(std::string_view ns, bool cluster, std::string_view resource,
                   std::string_view name, std::string_view msg, std::string_view error);
  void RecordWarning(std::string_view ns, bool cluster, std::string_view resource,
                     std::string_view name, std::string_view msg, std::string_view error);
  std::optional<kube::ApiResource> Type(std::string_view group, std::string_view resource) const;
  // A paged list's first page, not older than the namespace list (a consistent read at the
  // start): the API server then answers from its watch cache instead of first asking etcd for
  // the latest revision, and each list still sees every change made before the backup started.
  kube::ListOptions FreshPaged(std::string selector = "") const;
  std::string Now();

  kube::Client& client_;
  objstore::ObjectStore& store_;
  Clock& clock_;
  const BackupEngineOptions& options_;
  const BackupObserver& observer_;
  api::Backup backup_;
  const std::string name_;

  // Prepared state.
  std::chrono::system_clock::time_point start_;
  kube::DiscoveryIndex index_;
  std::vector<LiveNamespace> live_namespaces_;
  // The namespace list's resourceVersion; every list of the backup is "not older than" it.
  std::string list_resource_version_;
  std::set<std::string> label_excluded_namespaces_;
  NamespaceSelection namespaces_;
  std::optional<ResourceFilter> filter_;
  bool namespaces_explicitly_excluded_ = false;
  std::vector<kube::LabelSelector> selectors_;  // parsed; empty = no selector
  std::vector<ListJob> jobs_;
  std::vector<hooks::ResourceHookSpec> hook_specs_;
  std::optional<hooks::BackupPodHooks> pod_hooks_;

  // Writer state (writer thread only).
  std::optional<BackupContentsWriter> contents_;
  HashSet64 written_;
  HashSet64 service_accounts_;
  std::set<std::pair<std::string, std::string>> wanted_pvcs_;
  std::set<std::string> wanted_pvs_;
  std::set<std::string> wanted_priority_classes_;
  std::set<std::string> custom_group_resources_;
  std::set<std::string> namespaces_with_items_;
  BackupResults results_;
  std::string log_;
  int64_t total_items_ = 0;
  int64_t backed_up_ = 0;
  std::chrono::system_clock::time_point last_progress_{};
};

std::string BackupRun::Now() { return kube::FormatRfc3339(clock_.Now()); }

void BackupRun::Log(LogLevel level, std::string_view msg, std::string_view ns,
                    std::string_view resource, std::string_view name, std::string_view error) {
  std::string line = "time=\"" + Now() + "\" level=";
  line += level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
  line += " msg=" + LogfmtQuote(msg) + " backup=" + std::string(kVeleroNamespace) + "/" + name_;
  if (!error.empty()) {
    line += " error=" + LogfmtQuote(error);
  }
  if (!ns.empty()) {
    line += " namespace=" + std::string(ns);
  }
  if (!resource.empty()) {
    line += " resource=" + std::string(resource);
  }
  if (!name.empty()) {
    line += " name=" + std::string(name);
  }
  AppendLog(level, std::move(line));
}

void BackupRun::LogFields(LogLevel level, std::string_view msg,
                          const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = "time=\"" + Now() + "\" level=";
  line += level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
  line += " msg=" + LogfmtQuote(msg) + " backup=" + std::string(kVeleroNamespace) + "/" + name_;
  for (const auto& [key, value] : fields) {
    line += " " + key + "=" + LogfmtValue(value);
  }
  AppendLog(level, std::move(line));
}

void BackupRun::AppendLog(LogLevel level, std::string line) {
  log_ += line;
  log_ += '\n';
  if (observer_.on_log) {
    observer_.on_log(level, line);
  }
}

void BackupRun::RecordError(std::string_view ns, bool cluster, std::string_view resource,
                            std::string_view name, std::string_view msg, std::string_view error) {
  Log(LogLevel::kError, msg, ns, resource, name, error);
  results_.AddError(ns, cluster && ns.empty(), ResultMessage(resource, name, msg, error));
}

void BackupRun::RecordWarning(std::string_view ns, bool cluster, std::string_view resource,
                              std::string_view name, std::string_view msg, std::string_view error) {
  Log(LogLevel::kWarning, msg, ns, resource, name, error);
  results_.AddWarning(ns, cluster && ns.empty(), ResultMessage(resource, name, msg, error));
}

void BackupRun::Progress(bool force) {
  if (!observer_.on_progress) {
    return;
  }
  auto now = clock_.Now();
  if (!force && now - last_progress_ < options_.progress_interval) {
    return;
  }
  last_progress_ = now;
  observer_.on_progress(api::BackupProgress{std::max(total_items_, backed_up_), backed_up_});
}

std::optional<kube::ApiResource> BackupRun::Type(std::string_view group,
                                                 std::string_view resource) const {
  for (const kube::ApiResource& r : index_.Resources()) {
    if (r.preferred && r.gvr.group == group && r.gvr.resource == resource) {
      return r;
    }
  }
  return std::nullopt;
}

void BackupRun::Finish(std::string phase) {
  backup_.status.phase = std::move(phase);
  backup_.status.completion_timestamp = Now();
  backup_.status.errors = static_cast<int64_t>(results_.errors());
  backup_.status.warnings = static_cast<int64_t>(results_.warnings());
  if (backup_.status.progress.has_value() || backed_up_ > 0) {
    backup_.status.progress = api::BackupProgress{backed_up_, backed_up_};
  }
}

void BackupRun::FailWith(const Status& why) {
  backup_.status.failure_reason = why.message().empty() ? why.ToString() : why.message();
  Log(LogLevel::kError, "backup failed", {}, {}, {}, backup_.status.failure_reason);
  Finish(api::backup_phase::kFailed);
  // Best effort: the log and a velero-backup.json that says Failed, so that listing the
  // location shows what happened. The tarball is not there (or is being removed).
  Result<std::string> log = GzipDocument(log_);
  if (log.ok()) {
    store_.PutString(objstore::ObjectKey(archive::BackupFileKey(name_, "logs.gz")), *log)
        .IgnoreError();
  }
  store_
      .PutString(objstore::ObjectKey(archive::BackupMetadataKey(name_)),
                 api::BackupToJson(backup_).dump(2) + "\n")
      .IgnoreError();
}

void BackupRun::Prepare() {
  start_ = clock_.Now();
  api::BackupStatus& st = backup_.status;
  st = api::BackupStatus{};
  st.version = 1;
  st.format_version = std::string(archive::kFormatVersion);
  st.start_timestamp = kube::FormatRfc3339(start_);
  api::Duration ttl = backup_.spec.ttl.value_or(api::Duration{0});
  if (ttl.count() == 0) {
    ttl = options_.default_ttl;
    backup_.spec.ttl = ttl;
  }
  st.expiration =
      kube::FormatRfc3339(start_ + std::chrono::duration_cast<std::chrono::seconds>(ttl));
  if (backup_.spec.included_namespaces.empty()) {
    backup_.spec.included_namespaces = {"*"};
  }
  if (backup_.spec.storage_location.empty()) {
    backup_.spec.storage_location = std::string(kDefaultLocation);
  }
  if (backup_.metadata.namespace_.empty()) {
    backup_.metadata.namespace_ = std::string(kVeleroNamespace);
  }
  if (backup_.metadata.creation_timestamp.empty()) {
    backup_.metadata.creation_timestamp = st.start_timestamp;
  }
  backup_.metadata.labels["velero.io/storage-location"] =
      api::GetValidName(backup_.spec.storage_location);
}

kube::ListOptions BackupRun::FreshPaged(std::string selector) const {
  kube::ListOptions o = Paged(options_.page_size, std::move(selector));
  if (!list_resource_version_.empty()) {
    o.resource_version = list_resource_version_;
    o.resource_version_match = "NotOlderThan";
  }
  return o;
}

Status BackupRun::ListNamespaces() {
  // Core v1 namespaces: served by every API server, so listed before discovery has answered.
  kube::ResourceRef ns_ref;
  ns_ref.gvr = {"", "v1", "namespaces"};
  ns_ref.namespaced = false;
  kube::ObjectMetaParser parser;
  kube::ListMeta listed;
  Status s = client_.List(
      ns_ref, Paged(options_.page_size),
      [&](std::string_view item) -> Status {
        ASSIGN_OR_RETURN(kube::ObjectMeta meta, parser.Parse(item));
        LiveNamespace ns;
        ns.name = meta.name;
        ns.labels = meta.labels;
        ns.json = meta.kind.empty() ? WithTypeMeta(item, "v1", "Namespace") : std::string(item);
        ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(item));
        const nlohmann::json* phase = nullptr;
        if (auto st = j.find("status"); st != j.end() && st->is_object()) {
          if (auto p = st->find("phase"); p != st->end()) {
            phase = &*p;
          }
        }
        ns.active = meta.deletion_timestamp.empty() &&
                    (phase == nullptr || (phase->is_string() && *phase == "Active"));
        live_namespaces_.push_back(std::move(ns));
        return OkStatus();
      },
      nullptr, &listed);
  if (s.ok()) {
    list_resource_version_ = listed.resource_version;
  }
  return s;
}

Status BackupRun::PlanBackup(const Status& listed) {
  api::BackupSpec& spec = backup_.spec;

  // Hooks: a malformed spec.hooks fails the backup, as Velero's getResourceHooks does.
  Result<std::vector<hooks::ResourceHookSpec>> hook_specs = hooks::ParseBackupHookSpecs(spec.hooks);
  if (!hook_specs.ok()) {
    return InvalidArgumentError("invalid spec.hooks: " + hook_specs.status().message() +
                                " (fix the Backup's spec.hooks.resources)");
  }
  hook_specs_ = std::move(*hook_specs);
  if (options_.pod_executor != nullptr) {
    pod_hooks_.emplace(*options_.pod_executor, hook_specs_);
  } else if (!hook_specs_.empty()) {
    RecordWarning({}, false, "pods", {},
                  "spec.hooks are not run: this engine was given no pod executor", {});
  }

  // Namespaces: the labelled ones are excluded (and written back into the spec, as Velero does).
  std::vector<std::string> live;
  if (!listed.ok()) {
    RecordError({}, false, "namespaces", {}, "Error listing namespaces", listed.message());
  }
  for (const LiveNamespace& ns : live_namespaces_) {
    live.push_back(ns.name);
    if (ExcludedByLabel(ns.labels)) {
      label_excluded_namespaces_.insert(ns.name);
      if (std::find(spec.excluded_namespaces.begin(), spec.excluded_namespaces.end(), ns.name) ==
          spec.excluded_namespaces.end()) {
        spec.excluded_namespaces.push_back(ns.name);
      }
    }
  }
  namespaces_ = ResolveNamespaces(spec.included_namespaces, spec.excluded_namespaces, live);
  if (namespaces_.matched_nothing) {
    RecordWarning({}, false, {}, {}, "no namespaces matched the namespace filter", {});
  }
  if (listed.ok() && !namespaces_.expanded) {
    for (const std::string& ns : spec.included_namespaces) {
      if (ns == "*" || HasGlob(ns) || namespaces_.filter.IsExcluded(ns)) {
        continue;
      }
      if (std::find(live.begin(), live.end(), ns) == live.end()) {
        RecordError(ns, false, "namespaces", ns, "Namespace " + ns + " not found", {});
      }
    }
  }

  // Resource filters, with names resolved through discovery.
  ResourceFilterSpec resolved = spec;
  resolved.included_resources = ResolveNames(spec.included_resources, index_);
  resolved.excluded_resources = ResolveNames(spec.excluded_resources, index_);
  resolved.included_cluster_scoped_resources =
      ResolveNames(spec.included_cluster_scoped_resources, index_);
  resolved.excluded_cluster_scoped_resources =
      ResolveNames(spec.excluded_cluster_scoped_resources, index_);
  resolved.included_namespace_scoped_resources =
      ResolveNames(spec.included_namespace_scoped_resources, index_);
  resolved.excluded_namespace_scoped_resources =
      ResolveNames(spec.excluded_namespace_scoped_resources, index_);
  filter_.emplace(resolved, namespaces_.filter.IncludesEverything());
  {
    std::vector<std::string> excludes = resolved.excluded_resources;
    excludes.insert(excludes.end(), resolved.excluded_cluster_scoped_resources.begin(),
                    resolved.excluded_cluster_scoped_resources.end());
    namespaces_explicitly_excluded_ = IncludesExcludes({}, excludes).IsExcluded("namespaces");
  }

  // Label selectors (validated already).
  if (spec.label_selector.has_value()) {
    ASSIGN_OR_RETURN(kube::LabelSelector sel,
                     kube::LabelSelector::FromLabelSelector(*spec.label_selector));
    selectors_.push_back(std::move(sel));
  }
  for (const nlohmann::json& j : spec.or_label_selectors) {
    ASSIGN_OR_RETURN(kube::LabelSelector sel, kube::LabelSelector::FromLabelSelector(j));
    selectors_.push_back(std::move(sel));
  }

  std::vector<kube::ApiResource> types = BackupTypes(index_.PreferredResources(), *filter_);
  types.erase(std::remove_if(types.begin(), types.end(),
                             [](const kube::ApiResource& r) {
                               return r.gvr.group.empty() && r.gvr.resource == "namespaces";
                             }),
              types.end());
  for (ListTask& task : PlanLists(types, namespaces_)) {
    if (selectors_.empty()) {
      jobs_.push_back(ListJob{task, ""});
    } else {
      for (const kube::LabelSelector& sel : selectors_) {
        jobs_.push_back(ListJob{task, sel.ToString()});
      }
    }
  }
  Log(LogLevel::kInfo, "Planned " + std::to_string(types.size()) + " resource types in " +
                           std::to_string(jobs_.size()) + " lists");
  return OkStatus();
}

bool BackupRun::PassesItemChecks(const kube::ApiResource& type,
                                 const kube::ObjectMeta& meta) const {
  if (ExcludedByLabel(meta.labels) || !meta.deletion_timestamp.empty()) {
    return false;
  }
  const std::string gr = archive::GroupResourceString(type.gvr.group, type.gvr.resource);
  if (type.namespaced) {
    return namespaces_.filter.ShouldInclude(meta.namespace_name) &&
           filter_->ShouldInclude(ResourceType{gr, true});
  }
  return !filter_->ShouldExclude(ResourceType{gr, false});
}

Status BackupRun::WriteItem(ItemRef ref, std::string json) {
  const std::string gr = ref.GroupResource();
  if (!written_.Insert(ItemHash(gr, ref.ns, ref.name))) {
    return OkStatus();
  }
  const bool core = ref.group.empty();
  std::optional<nlohmann::json> pod;  // parsed, for hooks
  if (core && ref.resource == "persistentvolumeclaims") {
    ASSIGN_OR_RETURN(json, ApplyPvcAction(json, name_));
    Result<nlohmann::json> j = ParseJson(json);
    if (j.ok()) {
      const nlohmann::json& spec = (*j)["spec"];
      if (spec.is_object() && spec.contains("volumeName") && spec["volumeName"].is_string() &&
          !spec["volumeName"].get<std::string>().empty()) {
        wanted_pvs_.insert(spec["volumeName"].get<std::string>());
      }
    }
  } else if (core && ref.resource == "pods") {
    Result<nlohmann::json> j = ParseJson(json);
    if (j.ok() && (*j)["spec"].is_object()) {
      const nlohmann::json& spec = (*j)["spec"];
      if (spec.contains("volumes") && spec["volumes"].is_array()) {
        for (const nlohmann::json& v : spec["volumes"]) {
          if (v.is_object() && v.contains("persistentVolumeClaim") &&
              v["persistentVolumeClaim"].is_object() &&
              v["persistentVolumeClaim"].contains("claimName") &&
              v["persistentVolumeClaim"]["claimName"].is_string()) {
            wanted_pvcs_.emplace(ref.ns, v["persistentVolumeClaim"]["claimName"]);
          }
        }
      }
      if (spec.contains("priorityClassName") && spec["priorityClassName"].is_string() &&
          !spec["priorityClassName"].get<std::string>().empty()) {
        wanted_priority_classes_.insert(spec["priorityClassName"].get<std::string>());
      }
    }
    if (pod_hooks_.has_value() && j.ok()) {
      pod = std::move(*j);
      hooks::HookRunResult pre = RunPodHooks(ref, *pod, hooks::Phase::kPre);
      if (pre.skip_item) {
        RecordError(ref.ns, false, gr, ref.name,
                    "Error running pre hooks for pod; the pod is not backed up",
                    pre.errors.empty() ? "" : pre.errors.back());
        return OkStatus();
      }
      // Velero logs every item; this log names only pods with hooks, to show where they ran.
      std::vector<std::string> ignored;
      if (pre.attempted > 0 ||
          !hooks::BackupHooksForPod(hook_specs_, *pod, hooks::Phase::kPost, &ignored).empty()) {
        Log(LogLevel::kInfo, "Backing up item", ref.ns, gr, ref.name);
      }
    }
    if (observer_.before_pod) {
      Status hook = observer_.before_pod(ref, json);
      if (!hook.ok()) {
        RecordError(ref.ns, false, gr, ref.name, "pre hook failed; pod not backed up",
                    hook.message());
        return OkStatus();
      }
    }
  } else if (core && ref.resource == "serviceaccounts") {
    service_accounts_.Insert(ItemHash("", ref.ns, ref.name));
  }
  // Custom resources live in groups with a dot; built-in groups with one
  // (rbac.authorization.k8s.io) cost one GET of a CRD that does not exist, at the end.
  if (ref.group.find('.') != std::string::npos) {
    custom_group_resources_.insert(gr);
  }
  if (!ref.ns.empty()) {
    namespaces_with_items_.insert(ref.ns);
  }
  RETURN_IF_ERROR(contents_->AddItem(ref, json));
  ++backed_up_;
  if (core && ref.resource == "pods" && observer_.after_pod) {
    Status hook = observer_.after_pod(ref, json);
    if (!hook.ok()) {
      RecordError(ref.ns, false, gr, ref.name, "post hook failed", hook.message());
    }
  }
  if (pod.has_value()) {
    hooks::HookRunResult post = RunPodHooks(ref, *pod, hooks::Phase::kPost);
    for (const hooks::HookOutcome& o : post.hooks) {
      if (o.failed && o.hook.on_error == hooks::OnError::kFail) {
        RecordError(ref.ns, false, gr, ref.name, "Error running post hooks for pod", o.error);
      }
    }
  }
  Progress(false);
  return OkStatus();
}

hooks::HookRunResult BackupRun::RunPodHooks(const ItemRef& pod, const nlohmann::json& pod_json,
                                            hooks::Phase phase) {
  const std::string gr = pod.GroupResource();
  auto log = [&](const hooks::HookLogEntry& e) {
    if (e.level == hooks::LogLevel::kWarning) {
      // Warnings (a bad timeout annotation) count as the backup's warnings, as in Velero.
      results_.AddWarning(pod.ns, false, ResultMessage(gr, pod.name, e.message, {}));
    }
    // Failed hooks are counted from the result below, one error each.
    LogFields(FromHookLevel(e.level), e.message, e.fields);
  };
  hooks::HookRunResult r = phase == hooks::Phase::kPre ? pod_hooks_->RunPre(pod_json, log)
                                                       : pod_hooks_->RunPost(pod_json, log);
  backup_.status.hooks_attempted += r.attempted;
  backup_.status.hooks_failed += r.failed;
  for (const std::string& e : r.errors) {
    results_.AddError(pod.ns, false, ResultMessage(gr, pod.name, "Error executing hook", e));
  }
  return r;
}

Status BackupRun::FetchRelated(const kube::ApiResource& type, const std::string& ns,
                               const std::string& name, const std::string& why) {
  const std::string gr = archive::GroupResourceString(type.gvr.group, type.gvr.resource);
  if (written_.Contains(ItemHash(gr, type.namespaced ? ns : "", name))) {
    return OkStatus();
  }
  Result<std::string> got = client_.Get(kube::ResourceRef::For(type, ns, name));
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) {
      RecordWarning(ns, !type.namespaced, gr, name, "Additional item was not found (" + why + ")",
                    {});
    } else {
      RecordError(ns, !type.namespaced, gr, name, "Error getting additional item (" + why + ")",
                  got.status().message());
    }
    return OkStatus();
  }
  kube::ObjectMetaParser parser;
  Result<kube::ObjectMeta> meta = parser.Parse(*got);
  if (!meta.ok()) {
    RecordError(ns, !type.namespaced, gr, name, "Error reading additional item",
                meta.status().message());
    return OkStatus();
  }
  if (!PassesItemChecks(type, *meta)) {
    return OkStatus();
  }
  ++total_items_;
  std::string json =
      meta->kind.empty() ? WithTypeMeta(*got, type.gvr.GroupVersion(), type.kind) : std::move(*got);
  return WriteItem(ItemRef{type.gvr.group, type.gvr.version, type.gvr.resource, type.kind,
                           type.namespaced ? ns : "", name},
                   std::move(json));
}

Status BackupRun::WriteOrderedItems() {
  for (const auto& [resource, list] : backup_.spec.ordered_resources) {
    Result<kube::ApiResource> type = index_.Resolve(resource);
    if (!type.ok()) {
      RecordWarning({}, false, resource, {}, "orderedResources names an unknown resource",
                    type.status().message());
      continue;
    }
    const std::string gr = archive::GroupResourceString(type->gvr.group, type->gvr.resource);
    if (!filter_->ShouldInclude(ResourceType{gr, type->namespaced})) {
      continue;
    }
    for (const std::string& entry : Split(list, ',')) {
      std::string ns;
      std::string name = entry;
      if (type->namespaced) {
        size_t slash = entry.find('/');
        if (slash == std::string::npos) {
          RecordWarning({}, false, gr, entry, "orderedResources entry must be namespace/name", {});
          continue;
        }
        ns = entry.substr(0, slash);
        name = entry.substr(slash + 1);
      }
      Result<std::string> got = client_.Get(kube::ResourceRef::For(*type, ns, name));
      if (!got.ok()) {
        RecordWarning(ns, !type->namespaced, gr, name, "Ordered item not found or not readable",
                      got.status().message());
        continue;
      }
      kube::ObjectMetaParser parser;
      ASSIGN_OR_RETURN(kube::ObjectMeta meta, parser.Parse(*got));
      bool selected = selectors_.empty();
      for (const kube::LabelSelector& sel : selectors_) {
        selected = selected || sel.Matches(meta.labels);
      }
      if (!selected || !PassesItemChecks(*type, meta)) {
        continue;
      }
      ++total_items_;
      std::string json = meta.kind.empty()
                             ? WithTypeMeta(*got, type->gvr.GroupVersion(), type->kind)
                             : std::move(*got);
      RETURN_IF_ERROR(WriteItem(
          ItemRef{type->gvr.group, type->gvr.version, type->gvr.resource, type->kind, ns, name},
          std::move(json)));
    }
  }
  return OkStatus();
}

Status BackupRun::RunOneList(const ListJob& job, WorkQueue& queue, kube::ObjectMetaParser& parser) {
  const kube::ApiResource& type = job.task.type;
  const std::string gr = archive::GroupResourceString(type.gvr.group, type.gvr.resource);
  const std::string type_meta = TypeMetaMembers(type.gvr.GroupVersion(), type.kind);
  kube::ListOptions options = FreshPaged(job.selector);
  int64_t seen = 0;
  int64_t reported = 0;
  bool cancelled = false;
  auto on_item = [&](std::string_view item) -> Status {
    ++seen;
    ASSIGN_OR_RETURN(kube::ObjectMeta meta, parser.Parse(item));
    if (job.task.filter_namespaces && !namespaces_.filter.ShouldInclude(meta.namespace_name)) {
      return OkStatus();
    }
    if (!meta.deletion_timestamp.empty() || ExcludedByLabel(meta.labels)) {
      return OkStatus();
    }
    Work w;
    w.ref = ItemRef{type.gvr.group, type.gvr.version,    type.gvr.resource,
                    type.kind,      meta.namespace_name, meta.name};
    w.json = meta.kind.empty() ? WithTypeMeta(item, type_meta) : std::string(item);
    if (!queue.Push(std::move(w))) {
      cancelled = true;
      return CancelledError("backup stopped");
    }
    return OkStatus();
  };
  while (true) {
    kube::ListMeta meta;
    Status s = client_.ListPage(kube::ResourceRef::For(type, job.task.ns), options, on_item, &meta);
    if (cancelled) {
      return OkStatus();
    }
    if (s.code() == StatusCode::kOutOfRange && !options.continue_token.empty()) {
      // The continue token expired: list again from the start; the writer drops repeats.
      options.continue_token.clear();
      continue;
    }
    RETURN_IF_ERROR(s);
    const int64_t estimate = seen + meta.remaining_item_count.value_or(0);
    if (estimate > reported) {
      Work w;
      w.kind = Work::Kind::kTotal;
      w.total_delta = estimate - reported;
      reported = estimate;
      if (!queue.Push(std::move(w))) {
        return OkStatus();
      }
    }
    if (meta.continue_token.empty()) {
      return OkStatus();
    }
    // A continue token carries its own resourceVersion; the server refuses both.
    options.continue_token = meta.continue_token;
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
}

void BackupRun::ListWorker(WorkQueue& queue, std::atomic<size_t>& next,
                           kube::ObjectMetaParser& parser) {
  while (true) {
    const size_t i = next.fetch_add(1);
    if (i >= jobs_.size()) {
      break;
    }
    const ListJob& job = jobs_[i];
    Status s = RunOneList(job, queue, parser);
    if (!s.ok()) {
      Work w;
      // A list answers NotFound only when its type is not served any more (a namespace that
      // does not exist lists empty): a custom resource whose definition was deleted after
      // discovery. What is gone cannot be backed up; that is a warning, not a failed item.
      w.kind = s.code() == StatusCode::kNotFound ? Work::Kind::kWarning : Work::Kind::kError;
      w.ref.group = job.task.type.gvr.group;
      w.ref.resource = job.task.type.gvr.resource;
      w.ref.ns = job.task.ns;
      w.cluster = !job.task.type.namespaced;
      w.json = s.message();
      if (!queue.Push(std::move(w))) {
        break;
      }
    }
  }
  queue.ProducerDone();
}

Status BackupRun::WriteServiceAccountBindings() {
  if (service_accounts_.empty()) {
    return OkStatus();
  }
  std::optional<kube::ApiResource> crb = Type("rbac.authorization.k8s.io", "clusterrolebindings");
  std::optional<kube::ApiResource> cr = Type("rbac.authorization.k8s.io", "clusterroles");
  if (!crb.has_value()) {
    return OkStatus();
  }
  const std::string crb_gr = "clusterrolebindings.rbac.authorization.k8s.io";
  if (filter_->ShouldExclude(ResourceType{crb_gr, false})) {
    return OkStatus();
  }
  std::vector<std::pair<std::string, std::string>> bindings;  // name, json
  std::set<std::string> roles;
  kube::ObjectMetaParser parser;
  Status s = client_.List(
      kube::ResourceRef::For(*crb), FreshPaged(), [&](std::string_view item) -> Status {
        ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(item));
        bool match = false;
        if (j.contains("subjects") && j["subjects"].is_array()) {
          for (const nlohmann::json& sub : j["subjects"]) {
            if (sub.is_object() && sub.value("kind", "") == "ServiceAccount" &&
                service_accounts_.Contains(
                    ItemHash("", sub.value("namespace", ""), sub.value("name", "")))) {
              match = true;
            }
          }
        }
        if (!match) {
          return OkStatus();
        }
        ASSIGN_OR_RETURN(kube::ObjectMeta meta, parser.Parse(item));
        if (!PassesItemChecks(*crb, meta)) {
          return OkStatus();
        }
        if (j.contains("roleRef") && j["roleRef"].is_object() &&
            j["roleRef"].value("kind", "") == "ClusterRole") {
          roles.insert(j["roleRef"].value("name", ""));
        }
        bindings.emplace_back(
            meta.name, meta.kind.empty() ? WithTypeMeta(item, crb->gvr.GroupVersion(), crb->kind)
                                         : std::string(item));
        return OkStatus();
      });
  if (!s.ok()) {
    RecordError({}, true, crb_gr, {},
                "Error listing ClusterRoleBindings for backed-up ServiceAccounts", s.message());
    return OkStatus();
  }
  for (auto& [name, json] : bindings) {
    ++total_items_;
    RETURN_IF_ERROR(
        WriteItem(ItemRef{crb->gvr.group, crb->gvr.version, crb->gvr.resource, crb->kind, "", name},
                  std::move(json)));
  }
  if (cr.has_value()) {
    for (const std::string& role : roles) {
      if (!role.empty()) {
        RETURN_IF_ERROR(FetchRelated(*cr, "", role, "ClusterRole of a ClusterRoleBinding"));
      }
    }
  }
  return OkStatus();
}

Status BackupRun::WriteCrds() {
  std::optional<kube::ApiResource> crd = Type("apiextensions.k8s.io", "customresourcedefinitions");
  if (!crd.has_value() || filter_->ShouldExclude(ResourceType{
                              "customresourcedefinitions.apiextensions.k8s.io", false})) {
    return OkStatus();
  }
  for (const std::string& gr : custom_group_resources_) {
    if (written_.Contains(ItemHash("customresourcedefinitions.apiextensions.k8s.io", "", gr))) {
      continue;
    }
    Result<std::string> got = client_.Get(kube::ResourceRef::For(*crd, "", gr));
    if (got.status().code() == StatusCode::kNotFound) {
      continue;  // an aggregated API, not a CRD
    }
    if (!got.ok()) {
      RecordError({}, true, "customresourcedefinitions.apiextensions.k8s.io", gr,
                  "Error getting the CRD of a backed-up custom resource", got.status().message());
      continue;
    }
    ++total_items_;
    RETURN_IF_ERROR(
        WriteItem(ItemRef{crd->gvr.group, crd->gvr.version, crd->gvr.resource, crd->kind, "", gr},
                  std::move(*got)));
  }
  return OkStatus();
}

Status BackupRun::WriteRelatedItems() {
  if (std::optional<kube::ApiResource> pvc = Type("", "persistentvolumeclaims")) {
    for (const auto& [ns, name] : wanted_pvcs_) {
      if (!namespaces_.filter.ShouldInclude(ns) ||
          !filter_->ShouldInclude(ResourceType{"persistentvolumeclaims", true})) {
        continue;
      }
      RETURN_IF_ERROR(FetchRelated(*pvc, ns, name, "PVC of a pod"));
    }
  }
  if (std::optional<kube::ApiResource> pv = Type("", "persistentvolumes")) {
    for (const std::string& name : wanted_pvs_) {
      if (!filter_->ShouldExclude(ResourceType{"persistentvolumes", false})) {
        RETURN_IF_ERROR(FetchRelated(*pv, "", name, "PV of a PVC"));
      }
    }
  }
  if (std::optional<kube::ApiResource> pc = Type("scheduling.k8s.io", "priorityclasses")) {
    for (const std::string& name : wanted_priority_classes_) {
      if (!filter_->ShouldExclude(ResourceType{"priorityclasses.scheduling.k8s.io", false})) {
        RETURN_IF_ERROR(FetchRelated(*pc, "", name, "PriorityClass of a pod"));
      }
    }
  }
  RETURN_IF_ERROR(WriteServiceAccountBindings());
  return WriteCrds();
}

Status BackupRun::WriteNamespaces() {
  if (namespaces_explicitly_excluded_) {
    return OkStatus();
  }
  const bool everything = namespaces_.filter.IncludesEverything();
  for (LiveNamespace& ns : live_namespaces_) {
    if (!ns.active || label_excluded_namespaces_.contains(ns.name)) {
      continue;
    }
    const bool passes = !namespaces_.matched_nothing && namespaces_.filter.ShouldInclude(ns.name);
    bool take = namespaces_with_items_.contains(ns.name);
    if (!take && passes) {
      bool by_label = false;
      for (const kube::LabelSelector& sel : selectors_) {
        by_label = by_label || sel.Matches(ns.labels);
      }
      take = by_label || selectors_.empty() || !everything;
    }
    if (take) {
      ++total_items_;
      RETURN_IF_ERROR(
          WriteItem(ItemRef{"", "v1", "namespaces", "Namespace", "", ns.name}, std::move(ns.json)));
    }
  }
  return OkStatus();
}

Status BackupRun::UploadSideFiles() {
  // Compressed first, then put side by side: each put to a store is a round trip (and two fsyncs
  // on the filesystem store), and the files do not depend on each other. All of them are written
  // before this returns, so velero-backup.json still comes after them.
  std::vector<std::pair<std::string, std::string>> files;  // key, gzip data
  ASSIGN_OR_RETURN(std::string list, GzipWritten([this](const archive::ByteSink& sink) {
                     RETURN_IF_ERROR(contents_->resource_list().WriteJson(sink));
                     return sink("\n");
                   }));
  files.emplace_back(archive::BackupFileKey(name_, "resource-list.json.gz"), std::move(list));
  for (std::string_view empty :
       {"volumesnapshots.json.gz", "itemoperations.json.gz", "podvolumebackups.json.gz",
        "volumeinfo.json.gz", "csi-volumesnapshotclasses.json.gz"}) {
    ASSIGN_OR_RETURN(std::string gz, GzipDocument("[]\n"));
    files.emplace_back(archive::BackupFileKey(name_, empty), std::move(gz));
  }
  ASSIGN_OR_RETURN(std::string results, GzipDocument(results_.ToJson().dump() + "\n"));
  files.emplace_back(archive::BackupFileKey(name_, "results.gz"), std::move(results));
  // The log is complete here: nothing is logged after the summary line unless a put fails, and
  // then FailWith puts the log again with the failure.
  ASSIGN_OR_RETURN(std::string log, GzipDocument(log_));
  files.emplace_back(archive::BackupFileKey(name_, "logs.gz"), std::move(log));
  std::vector<Status> put(files.size());
  {
    std::vector<std::jthread> threads;
    threads.reserve(files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      threads.emplace_back([this, &files, &put, i] {
        put[i] = store_.PutString(objstore::ObjectKey(files[i].first), files[i].second);
      });
    }
  }  // joined
  for (Status& s : put) {
    RETURN_IF_ERROR(std::move(s));
  }
  return OkStatus();
}

Status BackupRun::WriteTarball() {
  PipedUpload upload(store_, objstore::ObjectKey(archive::BackupTarballKey(name_)),
                     options_.pipe_bytes);
  contents_.emplace(upload.Sink(), options_.gzip, start_);
  Status s = contents_->Begin();
  if (s.ok()) {
    s = WriteOrderedItems();
  }
  if (s.ok()) {
    const int workers =
        static_cast<int>(std::min<size_t>(std::max(options_.list_concurrency, 1), jobs_.size()));
    WorkQueue queue(options_.queue_bytes, workers);
    std::atomic<size_t> next{0};
    std::vector<std::unique_ptr<kube::ObjectMetaParser>> parsers;
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
      parsers.push_back(std::make_unique<kube::ObjectMetaParser>());
      threads.emplace_back(
          [this, &queue, &next, p = parsers.back().get()] { ListWorker(queue, next, *p); });
    }
    std::deque<Work> batch;
    while (s.ok() && queue.PopAll(batch)) {
      for (Work& w : batch) {
        switch (w.kind) {
          case Work::Kind::kItem:
            s = WriteItem(std::move(w.ref), std::move(w.json));
            break;
          case Work::Kind::kTotal:
            total_items_ += w.total_delta;
            Progress(false);
            break;
          case Work::Kind::kError:
            RecordError(w.ref.ns, w.cluster, w.ref.GroupResource(), {}, "Error listing items",
                        w.json);
            break;
          case Work::Kind::kWarning:
            RecordWarning(w.ref.ns, w.cluster, w.ref.GroupResource(), {},
                          "Resource type no longer served (removed during the backup); nothing "
                          "of it is backed up",
                          w.json);
            break;
        }
        if (!s.ok()) {
          queue.Cancel();
          break;
        }
      }
    }
    for (std::thread& t : threads) {
      t.join();
    }
  }
  if (s.ok()) {
    s = WriteRelatedItems();
  }
  if (s.ok()) {
    s = WriteNamespaces();
  }
  if (s.ok()) {
    s = contents_->Finish();
  }
  if (!s.ok()) {
    // A failed write is usually the store's error coming back through the pipe.
    Status why = upload.Abort(s);
    return why.WithContext("writing " + archive::BackupTarballKey(name_) + " to " +
                           store_.Describe());
  }
  return upload.Finish().WithContext("uploading " + archive::BackupTarballKey(name_) + " to " +
                                     store_.Describe());
}

api::Backup BackupRun::Run() {
  backup_.status = api::BackupStatus{};
  std::vector<std::string> invalid = ValidateBackup(backup_);
  if (!invalid.empty()) {
    backup_.status.phase = api::backup_phase::kFailedValidation;
    backup_.status.validation_errors = std::move(invalid);
    return backup_;
  }
  Prepare();
  backup_.status.phase = api::backup_phase::kInProgress;
  Log(LogLevel::kInfo, "Starting backup");

  // The reads before planning do not depend on each other, and each is a round trip: the store
  // check, discovery, the version and the namespace list run side by side (all are reads, so
  // nothing is lost when the first one fails the backup). The futures join on every return.
  std::future<Result<bool>> exists_future = std::async(std::launch::async, [this] {
    return store_.Exists(objstore::ObjectKey(archive::BackupMetadataKey(name_)));
  });
  std::future<Result<std::string>> version_future = std::async(
      std::launch::async, [this] { return client_.GetRaw("/version", "application/json"); });
  std::future<Status> namespaces_future =
      std::async(std::launch::async, [this] { return ListNamespaces(); });
  Result<kube::DiscoveryIndex> index = client_.Discover();
  Result<bool> exists = exists_future.get();
  const Status listed = namespaces_future.get();
  Result<std::string> version = version_future.get();
  if (!exists.ok()) {
    backup_.status.failure_reason =
        "checking the storage location " + store_.Describe() + ": " + exists.status().message();
    Finish(api::backup_phase::kFailed);
    return backup_;
  }
  if (*exists) {
    backup_.status.failure_reason = "backup already exists in object storage";
    Finish(api::backup_phase::kFailed);
    return backup_;
  }

  if (!index.ok()) {
    FailWith(index.status().WithContext("discovering the cluster's resources"));
    return backup_;
  }
  index_ = std::move(*index);
  if (version.ok()) {
    Result<nlohmann::json> v = ParseJson(*version);
    if (v.ok() && v->is_object()) {
      backup_.metadata.annotations["velero.io/source-cluster-k8s-gitversion"] =
          v->value("gitVersion", "");
      backup_.metadata.annotations["velero.io/source-cluster-k8s-major-version"] =
          v->value("major", "");
      backup_.metadata.annotations["velero.io/source-cluster-k8s-minor-version"] =
          v->value("minor", "");
    }
  }
  if (Status s = PlanBackup(listed); !s.ok()) {
    FailWith(s);
    return backup_;
  }
  backup_.status.progress = api::BackupProgress{};
  if (Status s = WriteTarball(); !s.ok()) {
    FailWith(s);
    return backup_;
  }
  Progress(true);
  const bool partial = results_.errors() > 0;
  Log(partial ? LogLevel::kWarning : LogLevel::kInfo,
      "Backed up " + std::to_string(backed_up_) + " items; " + std::to_string(results_.errors()) +
          " errors, " + std::to_string(results_.warnings()) + " warnings");
  if (Status s = UploadSideFiles(); !s.ok()) {
    store_.Delete(objstore::ObjectKey(archive::BackupTarballKey(name_))).IgnoreError();
    FailWith(s.WithContext("uploading the backup's files to " + store_.Describe()));
    return backup_;
  }
  Finish(partial ? api::backup_phase::kPartiallyFailed : api::backup_phase::kCompleted);
  // Last: the metadata that makes the backup visible as whole.
  Status meta = store_.PutString(objstore::ObjectKey(archive::BackupMetadataKey(name_)),
                                 api::BackupToJson(backup_).dump(2) + "\n");
  if (!meta.ok()) {
    store_.Delete(objstore::ObjectKey(archive::BackupTarballKey(name_))).IgnoreError();
    backup_.status.failure_reason =
        "uploading " + archive::BackupMetadataKey(name_) + ": " + meta.message();
    backup_.status.phase = api::backup_phase::kFailed;
  }
  return backup_;
}

}  // namespace

BackupEngine::BackupEngine(kube::Client& client, objstore::ObjectStore& store, Clock& clock,
                           BackupEngineOptions options)
    : client_(client), store_(store), clock_(clock), options_(std::move(options)) {}

api::Backup BackupEngine::Run(api::Backup backup, const BackupObserver& observer) {
  BackupRun run(client_, store_, clock_, options_, observer, std::move(backup));
  return run.Run();
}

std::vector<std::string> ValidateBackup(const api::Backup& backup) {
  std::vector<std::string> errs;
  const api::BackupSpec& spec = backup.spec;
  if (backup.metadata.name.empty()) {
    errs.emplace_back("the backup has no name (metadata.name)");
  } else if (Status s = kube::ValidateDns1123Subdomain(backup.metadata.name); !s.ok()) {
    errs.push_back("invalid backup name \"" + backup.metadata.name + "\": " + s.message());
  }
  for (std::string& e :
       ValidateNamespaceFilters(spec.included_namespaces, spec.excluded_namespaces)) {
    errs.push_back(std::move(e));
  }
  for (std::string& e : ValidateResourceFilters(spec)) {
    errs.push_back(std::move(e));
  }
  if (spec.label_selector.has_value() && !spec.or_label_selectors.empty()) {
    errs.emplace_back(
        "encountered labelSelector as well as orLabelSelectors in backup spec, only one can be "
        "specified");
  }
  if (spec.label_selector.has_value()) {
    if (Result<kube::LabelSelector> s =
            kube::LabelSelector::FromLabelSelector(*spec.label_selector);
        !s.ok()) {
      errs.push_back("invalid labelSelector: " + s.status().message());
    }
  }
  for (size_t i = 0; i < spec.or_label_selectors.size(); ++i) {
    if (Result<kube::LabelSelector> s =
            kube::LabelSelector::FromLabelSelector(spec.or_label_selectors[i]);
        !s.ok()) {
      errs.push_back("invalid orLabelSelectors[" + std::to_string(i) +
                     "]: " + s.status().message());
    }
  }
  return errs;
}

Result<std::string> ApplyPvcAction(std::string_view pvc_json, std::string_view backup_name) {
  ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(pvc_json));
  if (!j.is_object()) {
    return InvalidArgumentError("a PVC must be a JSON object");
  }
  bool changed = false;
  if (auto spec = j.find("spec"); spec != j.end() && spec->is_object()) {
    changed |= spec->erase("dataSource") > 0;
    changed |= spec->erase("dataSourceRef") > 0;
    auto sc = spec->find("storageClassName");
    const bool empty_class = sc != spec->end() && sc->is_string() && sc->get<std::string>().empty();
    if (!empty_class && spec->contains("selector")) {
      spec->erase("selector");
      changed = true;
    }
  }
  if (auto meta = j.find("metadata"); meta != j.end() && meta->is_object()) {
    if (auto labels = meta->find("labels"); labels != meta->end() && labels->is_object()) {
      for (const char* key : {"velero.io/restore-name", "velero.io/volume-snapshot-name",
                              "backup.velero.io/must-include-additional-items"}) {
        changed |= labels->erase(key) > 0;
      }
      auto bn = labels->find("velero.io/backup-name");
      if (bn != labels->end() && !(bn->is_string() && *bn == std::string(backup_name))) {
        labels->erase(bn);
        changed = true;
      }
    }
  }
  if (!changed) {
    return std::string(pvc_json);
  }
  return j.dump();
}

}  // namespace arca::backup
