#include "restore/engine.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "archive/gzip.h"
#include "archive/velero_layout.h"
#include "backup/contents.h"
#include "backup/filters.h"
#include "hooks/executor.h"
#include "hooks/hooks.h"
#include "kube/discovery_cache.h"
#include "kube/encoding.h"
#include "kube/json.h"
#include "kube/label_selector.h"
#include "kube/list_stream.h"
#include "kube/validation.h"
#include "restore/contents_reader.h"
#include "restore/transform.h"

namespace arca::restore {
namespace {

using Json = nlohmann::json;

constexpr char kNamespacesGr[] = "namespaces";
constexpr char kCrdGr[] = "customresourcedefinitions.apiextensions.k8s.io";
constexpr char kRestoreStatusAnnotation[] = "velero.io/restore-status";

// ---------------------------------------------------------------------------------------------
// Small JSON helpers.

const Json* Find(const Json& j, const char* key) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string StrAt(const Json& j, const char* a, const char* b = nullptr) {
  const Json* v = Find(j, a);
  if (v != nullptr && b != nullptr) {
    v = Find(*v, b);
  }
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

// Puts the Service fields TakeUnownedAllocatedFields took back into `obj`.
void RestoreAllocated(Json& obj, const Json& allocated) {
  for (const auto& [field, value] : allocated.items()) {
    obj["spec"][field] = value;
  }
}

std::string GrString(const kube::GroupVersionResource& gvr) {
  return archive::GroupResourceString(gvr.group, gvr.resource);
}

// logrus-style quoting of a value.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------
// The restore log: logrus text lines, compressed as they come (bounded memory), also passed to
// the observer.

class RestoreLog {
 public:
  RestoreLog(Clock& clock, RestoreObserver* observer, std::string restore_name)
      : clock_(clock),
        observer_(observer),
        restore_(std::move(restore_name)),
        gzip_(
            [this](std::string_view chunk) {
              compressed_.append(chunk);
              return OkStatus();
            },
            archive::GzipOptions{.block_size = 256 << 10, .workers = 0}) {}

  // `fields` are logrus fields, written after the message (e.g. the hook fields).
  void Log(std::string_view level, std::string_view message,
           const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    std::string line = "time=" + Quote(kube::FormatRfc3339(clock_.Now())) +
                       " level=" + std::string(level) + " msg=" + Quote(message);
    for (const auto& [key, value] : fields) {
      line += " " + key + "=" + Quote(value);
    }
    line += " restore=" + restore_;
    const std::lock_guard<std::mutex> lock(mu_);
    if (observer_ != nullptr) {
      observer_->OnLog(line);
    }
    line += '\n';
    gzip_.Write(line).IgnoreError();  // the sink appends to a string and cannot fail
  }
  void Info(std::string_view m) { Log("info", m); }
  void Warn(std::string_view m) { Log("warning", m); }
  void Error(std::string_view m) { Log("error", m); }

  // The gzip-compressed log. Call once, at the end.
  std::string Finish() {
    const std::lock_guard<std::mutex> lock(mu_);
    gzip_.Finish().IgnoreError();
    return std::move(compressed_);
  }

 private:
  Clock& clock_;
  RestoreObserver* observer_;
  std::string restore_;
  std::mutex mu_;
  std::string compressed_;
  archive::GzipWriter gzip_;
};

// ---------------------------------------------------------------------------------------------
// A fixed pool of worker threads with a bounded queue and a barrier.

template <typename Task>
class WorkPool {
 public:
  WorkPool(int threads, size_t max_queued, std::function<void(Task&)> handler)
      : handler_(std::move(handler)), max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  ~WorkPool() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) {
      t.join();
    }
  }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues a task. When the queue is full, blocks until it is down to half, so that a submitter
  // that keeps it full wakes once per max_queued / 2 tasks rather than once per task.
  void Submit(Task task) {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.size() >= max_queued_) {
      ++waiting_submitters_;
      space_cv_.wait(lock, [this] { return queue_.size() <= max_queued_ / 2; });
      --waiting_submitters_;
    }
    queue_.push_back(std::move(task));
    ++busy_;
    lock.unlock();
    work_cv_.notify_one();
  }
  // Waits until every task submitted so far has finished.
  void WaitIdle() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [this] { return busy_ == 0; });
  }

 private:
  void Loop() {
    while (true) {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping
      }
      Task task = std::move(queue_.front());
      queue_.pop_front();
      const bool wake_submitter = waiting_submitters_ > 0 && queue_.size() <= max_queued_ / 2;
      lock.unlock();
      if (wake_submitter) {
        space_cv_.notify_all();
      }
      handler_(task);
      lock.lock();
      if (--busy_ == 0) {
        idle_cv_.notify_all();
      }
    }
  }

  std::function<void(Task&)> handler_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
  std::condition_variable idle_cv_;
  std::deque<Task> queue_;
  size_t busy_ = 0;  // queued + running
  int waiting_submitters_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------
// Adaptive limit on requests in flight: halved when the server is overloaded, grown by one after
// `limit` successes in a row (AIMD).

class AdaptiveGate {
 public:
  explicit AdaptiveGate(int max) : max_(std::max(1, max)), limit_(max_) {}
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return in_flight_ < limit_; });
    ++in_flight_;
  }
  void Release(bool overloaded) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      if (overloaded) {
        limit_ = std::max(1, limit_ / 2);
        successes_ = 0;
      } else if (limit_ < max_ && ++successes_ >= limit_) {
        ++limit_;
        successes_ = 0;
      }
    }
    cv_.notify_all();
  }
  int limit() {
    const std::lock_guard<std::mutex> lock(mu_);
    return limit_;
  }

 private:
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  int limit_;
  int in_flight_ = 0;
  int successes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// One run of a restore.

enum class ItemState : uint8_t { kNotSelected, kPending, kDispatched };

struct IndexedItem {
  uint32_t gr = 0;
  uint32_t ns = 0;  // 0: cluster-scoped; for Namespace objects: the namespace's own name
  bool labels_match = true;
};

struct Task {
  uint64_t ordinal = 0;
  uint32_t gr = 0;
  std::string ns;  // source namespace, "" for cluster-scoped
  std::string name;
  std::string json;
  size_t json_bytes = 0;  // json's size, kept after json was parsed and freed
};

enum class Action { kCreated, kUpdated, kSkipped, kFailed };

const char* ActionName(Action a) {
  switch (a) {
    case Action::kCreated:
      return "created";
    case Action::kUpdated:
      return "updated";
    case Action::kSkipped:
      return "skipped";
    case Action::kFailed:
      return "failed";
  }
  return "";
}

struct Message {
  uint64_t order = 0;  // type rank << 40 | ordinal, for a deterministic order
  bool error = false;
  bool cluster = false;
  std::string ns;  // target namespace; empty with !cluster: Velero-level
  std::string text;
};

class RestoreRun {
 public:
  RestoreRun(kube::Client& client, objstore::ObjectStore* store, Clock& clock,
             const RestoreOptions& options, api::Restore restore, RestoreObserver* observer)
      : client_(client),
        store_(store),
        clock_(clock),
        options_(options),
        observer_(observer),
        log_(clock, observer, restore.metadata.name),
        discovery_(client, clock, std::chrono::nanoseconds(0)),
        gate_(options.concurrency) {
    outcome_.restore = std::move(restore);
  }

  RestoreOutcome Execute(const TarballSource& source);

 private:
  api::Restore& restore() { return outcome_.restore; }
  const api::RestoreSpec& spec() { return outcome_.restore.spec; }

  Status Prepare();
  Status IndexPass(const TarballSource& source);
  Status Select();
  Status RestorePasses(const TarballSource& source);
  Status StartGroup(size_t group);
  Status FinishGroup(size_t group);
  void DispatchNamespaces(uint32_t gr);
  void RestoreItem(Task& task);
  // Creates `obj`, then restores its status and field ownership. `keep_allocated`: a Service's
  // allocated fields stay in the create (see TakeUnownedAllocatedFields).
  Action CreateItem(Task& task, const std::string& target_ns, const kube::ApiResource& type,
                    Json& obj, const Json& saved_status, const Json& backed_up_managed_fields,
                    bool keep_allocated = false);
  Result<std::string> CreateWithBackoff(const kube::ResourceRef& collection,
                                        const std::string& body, const std::string& id,
                                        const kube::WriteOptions& write = {});
  // An object that exists already: compared with `obj` and reported, merged or updated as
  // Velero does. `read`: the object as read, if the caller read it.
  Action HandleExisting(const kube::ResourceRef& ref, const std::string& gr, Json& obj,
                        const std::string& target_ns,
                        std::optional<std::string> read = std::nullopt);
  // Whether the saved status goes back through the status subresource (restoreStatus, or the
  // object's velero.io/restore-status annotation).
  bool StatusWanted(const kube::ApiResource& type, const std::string& gr, const Json& obj,
                    const Json& saved_status) const;
  void RestoreStatusOf(const kube::ResourceRef& ref, const std::string& gr, const Json& created,
                       const Json& saved_status, const std::string& target_ns);
  Status EnsureNamespace(const std::string& target, const std::string& source);
  Status WaitForCrds();
  // Starts the exec hooks of a created pod on a thread of their own, if it has any.
  void StartPodHooks(const Task& task, const std::string& target_ns, const Json& pod);
  // Waits for every pod's exec hooks; counts them in status.hookStatus, errors in the results.
  void WaitForPodHooks();
  std::vector<std::string> ServiceAccountsIn(const std::string& ns);
  std::string ResolveName(const std::string& name);

  void AddMessage(uint32_t gr, uint64_t ordinal, bool error, const std::string& target_ns,
                  std::string text);
  void Record(const std::string& key, const std::string& entry, Action action);
  void ItemDone();
  Status WriteResults();
  void Finalize(const std::string& phase);

  kube::Client& client_;
  objstore::ObjectStore* store_;
  Clock& clock_;
  const RestoreOptions& options_;
  RestoreObserver* observer_;
  RestoreOutcome outcome_;
  RestoreLog log_;
  kube::DiscoveryCache discovery_;
  AdaptiveGate gate_;

  // Selection, from the spec.
  std::optional<kube::LabelSelector> selector_;
  std::vector<kube::LabelSelector> or_selectors_;
  std::vector<hooks::ResourceHookSpec> hook_specs_;
  // Post-restore exec hooks (with options_.pod_executor only).
  std::unique_ptr<hooks::KubePodStateSource> pod_states_;
  std::unique_ptr<hooks::RestorePodHooks> pod_hooks_;
  std::vector<std::thread> hook_threads_;  // guarded by mu_
  ActionContext action_context_;
  backup::IncludesExcludes status_filter_;
  bool restore_status_set_ = false;

  // The index.
  std::vector<std::string> grs_;
  std::unordered_map<std::string, uint32_t> gr_ids_;
  std::vector<std::string> namespaces_{""};
  std::unordered_map<std::string, uint32_t> ns_ids_;
  std::vector<IndexedItem> items_;
  std::vector<ItemState> state_;
  std::map<std::string, std::string> backed_up_namespaces_;  // name -> JSON
  std::map<uint64_t, std::string> pv_names_;                 // ordinal of a PV -> its name
  std::map<uint64_t, std::string> pvc_volumes_;              // ordinal of a bound PVC -> its volume
  std::string tarball_tag_;
  std::string format_version_;

  // The order and the groups.
  std::vector<size_t> rank_of_;                // gr id -> rank
  std::vector<std::vector<uint32_t>> groups_;  // group -> its gr ids, in order
  std::vector<size_t> group_of_;               // gr id -> group
  std::vector<int64_t> remaining_;             // group -> selected items not dispatched yet
  std::vector<int64_t> selected_of_type_;      // gr id -> selected items
  std::vector<std::optional<kube::ApiResource>> types_;  // gr id -> type, once resolved
  int64_t total_items_ = 0;

  // Shared by the workers.
  std::mutex mu_;
  std::vector<Message> messages_;
  backup::ResourceList resource_list_;  // guarded by mu_
  std::set<std::string> reprovisioned_pvs_;
  std::vector<std::string> crds_to_wait_;
  std::set<std::string> ensured_namespaces_;
  std::map<std::string, std::vector<std::string>> service_accounts_;
  std::map<std::string, std::unique_ptr<std::mutex>> namespace_locks_;  // guarded by mu_
  std::atomic<int64_t> processed_{0};
  std::mutex progress_mu_;
  std::unique_ptr<WorkPool<Task>> pool_;
};

std::string RestoreRun::ResolveName(const std::string& name) {
  if (name == "*") {
    return name;
  }
  Result<kube::ApiResource> r = discovery_.Resolve(name);
  return r.ok() ? GrString(r->gvr) : name;
}

Status RestoreRun::Prepare() {
  const api::RestoreSpec& s = spec();
  if (s.label_selector.has_value()) {
    ASSIGN_OR_RETURN(kube::LabelSelector sel,
                     kube::LabelSelector::FromLabelSelector(*s.label_selector));
    selector_ = std::move(sel);
  }
  for (const Json& j : s.or_label_selectors) {
    ASSIGN_OR_RETURN(kube::LabelSelector sel, kube::LabelSelector::FromLabelSelector(j));
    or_selectors_.push_back(std::move(sel));
  }
  if (!s.hooks.is_null()) {
    ASSIGN_OR_RETURN(hook_specs_, hooks::ParseRestoreHookSpecs(s.hooks));
  }
  if (options_.pod_executor != nullptr) {
    pod_states_ =
        std::make_unique<hooks::KubePodStateSource>(client_, clock_, options_.hook_poll_interval);
    pod_hooks_ = std::make_unique<hooks::RestorePodHooks>(*options_.pod_executor, *pod_states_,
                                                          clock_, hook_specs_);
  }
  action_context_.namespace_mapping = s.namespace_mapping;
  action_context_.preserve_node_ports = s.preserve_node_ports.value_or(false);
  action_context_.service_accounts = [this](const std::string& ns) {
    return ServiceAccountsIn(ns);
  };
  if (s.restore_status.has_value()) {
    restore_status_set_ = true;
    std::vector<std::string> inc;
    std::vector<std::string> exc;
    for (const std::string& n : s.restore_status->included_resources) {
      inc.push_back(ResolveName(n));
    }
    for (const std::string& n : s.restore_status->excluded_resources) {
      exc.push_back(ResolveName(n));
    }
    status_filter_ = backup::IncludesExcludes(std::move(inc), std::move(exc));
  }
  return OkStatus();
}

Status RestoreRun::IndexPass(const TarballSource& source) {
  kube::ObjectMetaParser meta_parser;
  const bool has_selector = selector_.has_value() || !or_selectors_.empty();
  BackupContentsReader reader(
      [&](const BackupItem& item) -> Status {
        IndexedItem entry;
        auto [git, gnew] =
            gr_ids_.try_emplace(item.path.group_resource, static_cast<uint32_t>(grs_.size()));
        if (gnew) {
          grs_.push_back(item.path.group_resource);
        }
        entry.gr = git->second;
        const bool is_namespace = item.path.group_resource == kNamespacesGr && item.path.ns.empty();
        const std::string& ns_name = is_namespace ? item.path.name : item.path.ns;
        if (!ns_name.empty()) {
          auto [nit, nnew] =
              ns_ids_.try_emplace(ns_name, static_cast<uint32_t>(namespaces_.size()));
          if (nnew) {
            namespaces_.push_back(ns_name);
          }
          entry.ns = nit->second;
        }
        if (is_namespace) {
          backed_up_namespaces_[item.path.name] = std::string(item.json);
        }
        // For Velero's PVC action: a bound claim brings its volume along (below, in Select).
        if (item.path.group_resource == "persistentvolumes" && item.path.ns.empty()) {
          pv_names_[items_.size()] = item.path.name;
        } else if (item.path.group_resource == "persistentvolumeclaims") {
          Json pvc = kube::ParseJson(item.json);
          const std::string volume = StrAt(pvc, "spec", "volumeName");
          if (!volume.empty() && StrAt(pvc, "status", "phase") == "Bound") {
            pvc_volumes_[items_.size()] = volume;
          }
        }
        if (has_selector) {
          Result<kube::ObjectMeta> meta = meta_parser.Parse(item.json);
          if (meta.ok()) {
            bool match = !selector_.has_value() || selector_->Matches(meta->labels);
            if (!or_selectors_.empty()) {
              match = std::any_of(
                  or_selectors_.begin(), or_selectors_.end(),
                  [&](const kube::LabelSelector& s) { return s.Matches(meta->labels); });
            }
            entry.labels_match = match;
          }  // an unparsable item stays selected and fails with its own error
        }
        items_.push_back(entry);
        return OkStatus();
      },
      options_.tar_limits);
  Result<std::string> tag = source(reader.Sink());
  if (!tag.ok()) {
    return tag.status();
  }
  RETURN_IF_ERROR(reader.Finish());
  if (reader.non_regular_entries() > 0) {
    return InvalidArgumentError(
        "the backup tarball has " + std::to_string(reader.non_regular_entries()) +
        " entries that are not regular files (links, directories or devices); Velero and Arca "
        "write only regular files, so the tarball was altered or not made by them, and it is "
        "refused");
  }
  tarball_tag_ = *tag;
  format_version_ = reader.format_version();
  if (items_.empty()) {
    log_.Warn("the backup tarball holds no items (no resources/ directory)");
  }
  return OkStatus();
}

Status RestoreRun::Select() {
  const api::RestoreSpec& s = spec();
  // Namespace filter, with globs expanded against the namespaces in the backup.
  std::vector<std::string> backup_namespaces(namespaces_.begin() + 1, namespaces_.end());
  std::sort(backup_namespaces.begin(), backup_namespaces.end());
  backup::NamespaceSelection ns_sel =
      backup::ResolveNamespaces(s.included_namespaces, s.excluded_namespaces, backup_namespaces);
  if (ns_sel.matched_nothing) {
    log_.Warn("no namespace in the backup matches the namespace filter");
  }
  // Resource filter, names resolved through discovery, with the non-restorable types excluded.
  std::vector<std::string> inc;
  std::vector<std::string> exc;
  for (const std::string& n : s.included_resources) {
    inc.push_back(ResolveName(n));
  }
  for (const std::string& n : s.excluded_resources) {
    exc.push_back(ResolveName(n));
  }
  for (const std::string& n : NonRestorableResources()) {
    exc.push_back(n);
  }
  backup::IncludesExcludes resources(inc, exc);
  backup::GlobalResourceFilter filter(resources, s.include_cluster_resources,
                                      ns_sel.filter.IncludesEverything());

  // The order of the types present. The priority lists name types the cluster may not serve
  // (snapshots, Cluster API, ...): they are resolved against the index fetched at the start,
  // without a fetch again for each one that is missing.
  ASSIGN_OR_RETURN(std::shared_ptr<const kube::DiscoveryIndex> index, discovery_.Get());
  groups_ = {};
  std::vector<std::string> present = grs_;
  std::vector<std::vector<std::string>> ordered =
      RestoreGroups(present, options_.priorities, [&index](const std::string& n) {
        Result<kube::ApiResource> r = index->Resolve(n);
        return r.ok() ? GrString(r->gvr) : n;
      });
  rank_of_.assign(grs_.size(), 0);
  group_of_.assign(grs_.size(), 0);
  size_t ranked = 0;
  for (const std::vector<std::string>& group : ordered) {
    std::vector<uint32_t> ids;
    for (const std::string& gr : group) {
      auto it = gr_ids_.find(gr);
      if (it == gr_ids_.end()) {
        continue;
      }
      rank_of_[it->second] = ranked++;
      group_of_[it->second] = groups_.size();
      ids.push_back(it->second);
    }
    if (!ids.empty()) {
      groups_.push_back(std::move(ids));
    }
  }
  if (ranked != grs_.size()) {
    return InternalError("the restore order lost types of the backup");
  }
  remaining_.assign(groups_.size(), 0);
  selected_of_type_.assign(grs_.size(), 0);
  types_.assign(grs_.size(), std::nullopt);

  // Per-type decisions, then per item.
  std::vector<int> type_ok(grs_.size() * 2, -1);  // [gr*2 + namespaced]
  state_.assign(items_.size(), ItemState::kNotSelected);
  for (size_t i = 0; i < items_.size(); ++i) {
    const IndexedItem& it = items_[i];
    const std::string& gr = grs_[it.gr];
    bool selected = it.labels_match;
    if (selected && gr == kNamespacesGr && it.ns != 0) {
      // Namespace objects: chosen by the namespace filter; the cluster-scope rules do not apply
      // (they are ensured for the items they hold in any case).
      selected =
          ns_sel.filter.ShouldInclude(namespaces_[it.ns]) && resources.ShouldInclude(kNamespacesGr);
    } else if (selected) {
      const bool namespaced = it.ns != 0;
      int& ok = type_ok[it.gr * 2 + (namespaced ? 1 : 0)];
      if (ok < 0) {
        ok = filter.ShouldInclude(backup::ResourceType{gr, namespaced}) ? 1 : 0;
      }
      selected = ok == 1 && (!namespaced || ns_sel.filter.ShouldInclude(namespaces_[it.ns]));
    }
    if (selected) {
      state_[i] = ItemState::kPending;
      ++remaining_[group_of_[it.gr]];
      ++selected_of_type_[it.gr];
      ++total_items_;
    }
  }
  // Velero's velero.io/pvc action: the volume of a restored, bound claim is restored as an
  // additional item, whatever the label selector and the namespace filter say; only
  // includeClusterResources=false or an exclusion of persistentvolumes keeps it out.
  if (s.include_cluster_resources.value_or(true) && !resources.IsExcluded("persistentvolumes")) {
    std::set<std::string> wanted;
    for (const auto& [ordinal, volume] : pvc_volumes_) {
      if (state_[ordinal] == ItemState::kPending) {
        wanted.insert(volume);
      }
    }
    for (const auto& [ordinal, name] : pv_names_) {
      if (state_[ordinal] == ItemState::kNotSelected && wanted.count(name) != 0) {
        state_[ordinal] = ItemState::kPending;
        ++remaining_[group_of_[items_[ordinal].gr]];
        ++selected_of_type_[items_[ordinal].gr];
        ++total_items_;
        log_.Info("restoring persistent volume " + Quote(name) + " with its claim");
      }
    }
  }
  restore().status.progress =
      api::RestoreProgress{.total_items = total_items_, .items_restored = 0};
  if (observer_ != nullptr) {
    observer_->OnProgress(0, total_items_);
  }
  log_.Info("restoring " + std::to_string(total_items_) + " of " + std::to_string(items_.size()) +
            " items in " + std::to_string(grs_.size()) + " types");
  return OkStatus();
}

Status RestoreRun::StartGroup(size_t group) {
  if (remaining_[group] == 0) {
    return OkStatus();
  }
  for (uint32_t id : groups_[group]) {
    if (selected_of_type_[id] == 0) {
      continue;
    }
    const std::string& gr = grs_[id];
    Result<kube::ApiResource> type = discovery_.Resolve(gr);
    if (type.ok() && GrString(type->gvr) == gr) {
      types_[id] = *type;
    } else {
      log_.Warn("the cluster does not serve " + gr + "; its items will fail");
    }
    log_.Info("restoring resource " + Quote(gr) + " (" + std::to_string(selected_of_type_[id]) +
              " items)");
    if (gr == kNamespacesGr) {
      DispatchNamespaces(id);
    }
  }
  return OkStatus();
}

Status RestoreRun::FinishGroup(size_t group) {
  pool_->WaitIdle();
  for (uint32_t id : groups_[group]) {
    if (grs_[id] == kCrdGr) {
      RETURN_IF_ERROR(WaitForCrds());
    }
  }
  return OkStatus();
}

// Namespace objects are kept from the index pass, so their group never waits for the stream.
void RestoreRun::DispatchNamespaces(uint32_t gr) {
  const size_t group = group_of_[gr];
  for (size_t i = 0; i < items_.size(); ++i) {
    if (items_[i].gr != gr || state_[i] != ItemState::kPending || items_[i].ns == 0) {
      continue;
    }
    const std::string& name = namespaces_[items_[i].ns];
    state_[i] = ItemState::kDispatched;
    --remaining_[group];
    pool_->Submit(Task{.ordinal = i, .gr = gr, .ns = "", .name = name, .json = ""});
  }
}

Status RestoreRun::RestorePasses(const TarballSource& source) {
  pool_ = std::make_unique<WorkPool<Task>>(options_.concurrency,
                                           static_cast<size_t>(options_.concurrency) * 2,
                                           [this](Task& t) { RestoreItem(t); });
  size_t cur = 0;
  // Advances past finished groups; returns false when a group is left unfinished.
  std::map<size_t, std::vector<Task>> buffer;
  size_t buffered_bytes = 0;
  auto advance = [&]() -> Status {
    while (cur < groups_.size() && remaining_[cur] == 0) {
      RETURN_IF_ERROR(FinishGroup(cur));
      ++cur;
      if (cur == groups_.size()) {
        break;
      }
      RETURN_IF_ERROR(StartGroup(cur));
      if (auto it = buffer.find(cur); it != buffer.end()) {
        for (Task& t : it->second) {
          buffered_bytes -= t.json.size();
          state_[t.ordinal] = ItemState::kDispatched;
          --remaining_[cur];
          pool_->Submit(std::move(t));
        }
        buffer.erase(it);
      }
    }
    return OkStatus();
  };
  if (!groups_.empty()) {
    RETURN_IF_ERROR(StartGroup(0));
    RETURN_IF_ERROR(advance());
  }
  while (cur < groups_.size()) {
    ++outcome_.passes;
    log_.Info("restore pass " + std::to_string(outcome_.passes) + " over the tarball, from " +
              Quote(grs_[groups_[cur].front()]));
    uint64_t ordinal = 0;
    bool all_done = false;
    BackupContentsReader reader(
        [&](const BackupItem& item) -> Status {
          const uint64_t i = ordinal++;
          if (i >= items_.size() || grs_[items_[i].gr] != item.path.group_resource) {
            return FailedPreconditionError(
                "the backup tarball changed during the restore (its items differ between "
                "passes); run the restore again");
          }
          if (state_[i] != ItemState::kPending ||
              (item.path.group_resource == kNamespacesGr && item.path.ns.empty())) {
            return OkStatus();  // done, not selected, or a Namespace (kept from the index pass)
          }
          const size_t group = group_of_[items_[i].gr];
          if (group < cur) {
            return InternalError("an item of a finished type is still pending");
          }
          Task task{.ordinal = i,
                    .gr = items_[i].gr,
                    .ns = item.path.ns,
                    .name = item.path.name,
                    .json = std::string(item.json)};
          if (group == cur) {
            state_[i] = ItemState::kDispatched;
            --remaining_[cur];
            pool_->Submit(std::move(task));
            RETURN_IF_ERROR(advance());
            if (cur == groups_.size()) {
              all_done = true;
              return CancelledError("every item was dispatched");
            }
            return OkStatus();
          }
          if (buffered_bytes + task.json.size() <= options_.lookahead_bytes) {
            buffered_bytes += task.json.size();
            buffer[group].push_back(std::move(task));
          }
          return OkStatus();
        },
        options_.tar_limits);
    Result<std::string> tag = source(reader.Sink());
    if (!tag.ok() && !all_done) {
      pool_->WaitIdle();
      return tag.status().WithContext("reading the backup tarball again (pass " +
                                      std::to_string(outcome_.passes) + ")");
    }
    if (tag.ok()) {
      RETURN_IF_ERROR(reader.Finish());
      if (*tag != tarball_tag_ || ordinal != items_.size()) {
        pool_->WaitIdle();
        return FailedPreconditionError(
            "the backup tarball changed during the restore (its version tag or item count "
            "differs between passes); run the restore again");
      }
    }
    buffer.clear();
    buffered_bytes = 0;
    // Items of later groups that were buffered but not reached stay pending for the next pass.
  }
  pool_->WaitIdle();
  return OkStatus();
}

std::vector<std::string> RestoreRun::ServiceAccountsIn(const std::string& ns) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (auto it = service_accounts_.find(ns); it != service_accounts_.end()) {
      return it->second;
    }
  }
  std::vector<std::string> names;
  kube::ResourceRef ref;
  ref.gvr = {.group = "", .version = "v1", .resource = "serviceaccounts"};
  ref.namespace_name = ns;
  kube::ObjectMetaParser parser;
  kube::ListOptions list_options;
  list_options.limit = 500;
  client_
      .List(ref, list_options,
            [&](std::string_view item) -> Status {
              ASSIGN_OR_RETURN(kube::ObjectMeta meta, parser.Parse(item));
              names.push_back(meta.name);
              return OkStatus();
            })
      .IgnoreError();  // no service accounts known: the secret is restored
  const std::lock_guard<std::mutex> lock(mu_);
  service_accounts_[ns] = names;
  return names;
}

Status RestoreRun::EnsureNamespace(const std::string& target, const std::string& source) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (ensured_namespaces_.count(target) != 0) {
      return OkStatus();
    }
  }
  // One creation per namespace at a time; different namespaces in parallel.
  std::mutex* ns_mu = nullptr;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<std::mutex>& m = namespace_locks_[target];
    if (!m) {
      m = std::make_unique<std::mutex>();
    }
    ns_mu = m.get();
  }
  const std::lock_guard<std::mutex> ns_lock(*ns_mu);
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (ensured_namespaces_.count(target) != 0) {
      return OkStatus();
    }
  }
  // Absent, it is created from the backed-up Namespace (labels, annotations, spec), without the
  // restore labels. The create comes first: a restore mostly makes its namespaces, and a create
  // that finds one (409) costs no more than the read that follows it.
  Json ns = Json::object();
  ns["apiVersion"] = "v1";
  ns["kind"] = "Namespace";
  ns["metadata"] = Json{{"name", target}};
  if (auto it = backed_up_namespaces_.find(source); it != backed_up_namespaces_.end()) {
    Json backed = Json::parse(it->second, nullptr, false);
    if (const Json* md = Find(backed, "metadata"); md != nullptr) {
      for (const char* key : {"labels", "annotations"}) {
        if (const Json* v = Find(*md, key); v != nullptr && v->is_object()) {
          ns["metadata"][key] = *v;
        }
      }
    }
    if (const Json* sp = Find(backed, "spec"); sp != nullptr && sp->is_object()) {
      ns["spec"] = *sp;
    }
  }
  const std::string body = ns.dump();
  kube::ResourceRef ref;
  ref.gvr = {.group = "", .version = "v1", .resource = "namespaces"};
  ref.namespaced = false;
  kube::ResourceRef coll = ref;
  ref.name = target;
  const auto deadline = clock_.Now() + options_.namespace_terminating_timeout;
  Action action = Action::kSkipped;
  while (true) {
    Result<std::string> created = CreateWithBackoff(coll, body, "namespace " + target);
    if (created.ok()) {
      action = Action::kCreated;
      log_.Info("created namespace " + Quote(target));
      break;
    }
    // It exists (or this user may not create namespaces): one that is not terminating is used.
    Result<std::string> live = client_.Get(ref);
    if (!live.ok()) {
      if (live.status().code() == StatusCode::kNotFound &&
          created.status().code() == StatusCode::kAlreadyExists && clock_.Now() < deadline) {
        continue;  // deleted between the create and the read: create it again
      }
      return live.status().code() == StatusCode::kNotFound ? created.status() : live.status();
    }
    Json j = Json::parse(*live, nullptr, false);
    const bool terminating = StrAt(j, "status", "phase") == "Terminating" ||
                             !StrAt(j, "metadata", "deletionTimestamp").empty();
    if (!terminating) {
      break;
    }
    if (clock_.Now() >= deadline) {
      return DeadlineExceededError("namespace " + Quote(target) +
                                   " is still terminating; wait until it is gone, or restore "
                                   "into another namespace with a namespace mapping");
    }
    clock_.SleepFor(options_.poll_interval);
  }
  Record("v1/Namespace", target, action);
  const std::lock_guard<std::mutex> lock(mu_);
  ensured_namespaces_.insert(target);
  return OkStatus();
}

// How long, and how often, discovery is fetched again until it lists a restored CRD's type.
constexpr std::chrono::seconds kDiscoveryListWait{30};
constexpr std::chrono::milliseconds kDiscoveryPollInterval{100};

Status RestoreRun::WaitForCrds() {
  std::vector<std::string> crds;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    crds.swap(crds_to_wait_);
  }
  if (crds.empty()) {
    return OkStatus();
  }
  std::sort(crds.begin(), crds.end());
  const auto deadline = clock_.Now() + options_.crd_ready_timeout;
  for (const std::string& name : crds) {
    kube::ResourceRef ref;
    ref.gvr = {
        .group = "apiextensions.k8s.io", .version = "v1", .resource = "customresourcedefinitions"};
    ref.namespaced = false;
    ref.name = name;
    while (true) {
      Result<std::string> live = client_.Get(ref);
      bool established = false;
      bool accepted = false;
      if (live.ok()) {
        Json j = Json::parse(*live, nullptr, false);
        const Json* conds = Find(j, "status");
        conds = conds != nullptr ? Find(*conds, "conditions") : nullptr;
        if (conds != nullptr && conds->is_array()) {
          for (const Json& c : *conds) {
            const bool is_true = StrAt(c, "status") == "True";
            established |= StrAt(c, "type") == "Established" && is_true;
            accepted |= StrAt(c, "type") == "NamesAccepted" && is_true;
          }
        }
      }
      if (established && accepted) {
        log_.Info("CustomResourceDefinition " + Quote(name) + " is established");
        break;
      }
      if (clock_.Now() >= deadline) {
        AddMessage(gr_ids_.at(kCrdGr), 0, true, "",
                   "CustomResourceDefinition " + Quote(name) +
                       " did not become Established and NamesAccepted in time");
        break;
      }
      clock_.SleepFor(options_.poll_interval);
    }
  }
  // New types are served now: refresh discovery before their custom resources. The API server
  // publishes a new type in discovery on its own schedule, not with the Established condition,
  // so discovery is fetched again until it lists the resource of every CRD whose custom
  // resources this restore has (a CRD's name is "<plural>.<group>"), every 100 ms for up to
  // 30 s (a CRD that serves none of its versions is Established and never listed).
  const auto listed_by = std::min(deadline, clock_.Now() + kDiscoveryListWait);
  const auto interval =
      std::min<std::chrono::nanoseconds>(options_.poll_interval, kDiscoveryPollInterval);
  while (true) {
    Result<std::shared_ptr<const kube::DiscoveryIndex>> fresh = discovery_.Refresh();
    if (!fresh.ok()) {
      return fresh.status().WithContext("refreshing discovery after restoring CRDs");
    }
    std::string missing;
    for (const std::string& name : crds) {
      auto id = gr_ids_.find(name);
      if (id == gr_ids_.end() || selected_of_type_[id->second] == 0) {
        continue;  // none of its custom resources are restored
      }
      Result<kube::ApiResource> type = (*fresh)->Resolve(name);
      if (!type.ok() || GrString(type->gvr) != name) {
        missing = name;
        break;
      }
    }
    if (missing.empty()) {
      return OkStatus();
    }
    if (clock_.Now() >= listed_by) {
      log_.Warn("discovery does not list " + Quote(missing) + " yet; its items may fail");
      return OkStatus();
    }
    clock_.SleepFor(interval);
  }
}

void RestoreRun::AddMessage(uint32_t gr, uint64_t ordinal, bool error, const std::string& target_ns,
                            std::string text) {
  Message m;
  m.order = (static_cast<uint64_t>(gr < rank_of_.size() ? rank_of_[gr] : 0) << 40) | ordinal;
  m.error = error;
  m.cluster = target_ns.empty();
  m.ns = target_ns;
  if (error) {
    log_.Error(text);
  } else {
    log_.Warn(text);
  }
  m.text = std::move(text);
  const std::lock_guard<std::mutex> lock(mu_);
  messages_.push_back(std::move(m));
}

void RestoreRun::Record(const std::string& key, const std::string& entry, Action action) {
  const std::lock_guard<std::mutex> lock(mu_);
  resource_list_.AddEntry(key, entry + "(" + ActionName(action) + ")");
  switch (action) {
    case Action::kCreated:
      ++outcome_.created;
      break;
    case Action::kUpdated:
      ++outcome_.updated;
      break;
    case Action::kSkipped:
      ++outcome_.skipped;
      break;
    case Action::kFailed:
      ++outcome_.failed;
      break;
  }
}

void RestoreRun::ItemDone() {
  const int64_t done = ++processed_;
  if (observer_ != nullptr) {
    const std::lock_guard<std::mutex> lock(progress_mu_);
    observer_->OnProgress(done, total_items_);
  }
}

void RestoreRun::RestoreItem(Task& task) {
  const std::string& gr = grs_[task.gr];
  // Namespace objects: ensured (created from the backed-up object when absent).
  if (gr == kNamespacesGr && task.ns.empty()) {
    const std::string target = action_context_.MapNamespace(task.name);
    Status s = EnsureNamespace(target, task.name);
    if (!s.ok()) {
      AddMessage(task.gr, task.ordinal, true, target,
                 "error restoring namespace " + Quote(target) + ": " + s.message());
      Record("v1/Namespace", target, Action::kFailed);
    }
    ItemDone();
    return;
  }
  const std::string target_ns = task.ns.empty() ? "" : action_context_.MapNamespace(task.ns);
  const std::string id = gr + " " + (task.ns.empty() ? "" : task.ns + "/") + task.name;
  Json obj = kube::ParseJson(task.json);
  task.json_bytes = task.json.size();
  task.json = std::string();
  const std::string api_version = StrAt(obj, "apiVersion");
  const std::string kind = StrAt(obj, "kind");
  const std::string list_key = api_version + "/" + kind;
  const std::string entry = (target_ns.empty() ? "" : target_ns + "/") + task.name;
  auto fail = [&](const std::string& why) {
    AddMessage(task.gr, task.ordinal, true, target_ns, "error restoring " + id + ": " + why);
    Record(list_key, entry, Action::kFailed);
    ItemDone();
  };
  if (!obj.is_object() || api_version.empty() || kind.empty()) {
    fail("the backed-up file is not a Kubernetes object (JSON with apiVersion and kind)");
    return;
  }
  if (std::string why = SkipReason(gr, obj); !why.empty()) {
    log_.Info("skipping " + id + ": " + why);
    Record(list_key, entry, Action::kSkipped);
    ItemDone();
    return;
  }
  const std::optional<kube::ApiResource>& type = types_[task.gr];
  if (!type.has_value()) {
    fail("the cluster does not serve " + gr +
         " (install or restore its CustomResourceDefinition, or exclude it)");
    return;
  }
  if (!target_ns.empty()) {
    if (Status s = EnsureNamespace(target_ns, task.ns); !s.ok()) {
      fail("namespace " + Quote(target_ns) + ": " + s.message());
      return;
    }
  }
  // PVs without a snapshot: reclaim policy Delete means dynamic re-provisioning.
  if (gr == "persistentvolumes") {
    if (StrAt(obj, "spec", "persistentVolumeReclaimPolicy") == "Delete") {
      log_.Info("not restoring " + id +
                ": reclaim policy Delete and no snapshot; its claim will be provisioned again");
      {
        const std::lock_guard<std::mutex> lock(mu_);
        reprovisioned_pvs_.insert(task.name);
      }
      Record(list_key, entry, Action::kSkipped);
      ItemDone();
      return;
    }
    if (Json* claim = obj.contains("spec") ? &obj["spec"] : nullptr;
        claim != nullptr && claim->is_object() && claim->contains("claimRef") &&
        (*claim)["claimRef"].is_object()) {
      Json& ref = (*claim)["claimRef"];
      ref.erase("uid");
      ref.erase("resourceVersion");
      if (ref.contains("namespace") && ref["namespace"].is_string()) {
        ref["namespace"] = action_context_.MapNamespace(ref["namespace"].get<std::string>());
      }
    }
    if (obj["metadata"].contains("annotations") && obj["metadata"]["annotations"].is_object()) {
      obj["metadata"]["annotations"].erase("pv.kubernetes.io/bound-by-controller");
    }
  }
  Json managed_fields;
  if (const Json* md = Find(obj, "metadata"); md != nullptr) {
    if (const Json* mf = Find(*md, "managedFields"); mf != nullptr) {
      managed_fields = *mf;
    }
  }
  Json saved_status = ResetMetadataAndStatus(obj);
  std::string why;
  if (ApplyBuiltinActions(gr, obj, action_context_, &why) == ActionOutcome::kSkip) {
    log_.Info("skipping " + id + ": " + why);
    Record(list_key, entry, Action::kSkipped);
    ItemDone();
    return;
  }
  if (gr == "persistentvolumeclaims") {
    const std::string volume = StrAt(obj, "spec", "volumeName");
    bool reprovision = false;
    if (!volume.empty()) {
      const std::lock_guard<std::mutex> lock(mu_);
      reprovision = reprovisioned_pvs_.count(volume) != 0;
    }
    if (reprovision) {
      obj["spec"].erase("volumeName");
    }
  }
  if (gr == "pods") {
    static thread_local std::mt19937 rng{std::random_device{}()};
    hooks::ApplyRestoreInitHooks(hook_specs_, obj, target_ns, [] {
      char buf[9];
      std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(rng()));
      return std::string(buf);
    });
  }
  SetTargetNamespaceAndLabels(obj, target_ns, spec().backup_name, restore().metadata.name);
  Action action = CreateItem(task, target_ns, *type, obj, saved_status, managed_fields);
  Record(list_key, entry, action);
  ItemDone();
}

Result<std::string> RestoreRun::CreateWithBackoff(const kube::ResourceRef& collection,
                                                  const std::string& body, const std::string& id,
                                                  const kube::WriteOptions& write) {
  Result<std::string> created = InternalError("not attempted");
  for (int attempt = 0;; ++attempt) {
    gate_.Acquire();
    created = client_.Create(collection, body, write);
    const bool overloaded = !created.ok() && created.status().code() == StatusCode::kUnavailable;
    gate_.Release(overloaded);
    if (!overloaded || attempt >= options_.unavailable_retries) {
      return created;
    }
    log_.Warn("the API server is overloaded; " + std::to_string(gate_.limit()) +
              " requests in flight from now on, retrying " + id);
    clock_.SleepFor(options_.poll_interval * (attempt + 1));
  }
}

Action RestoreRun::CreateItem(Task& task, const std::string& target_ns,
                              const kube::ApiResource& type, Json& obj, const Json& saved_status,
                              const Json& backed_up_managed_fields, bool keep_allocated) {
  const std::string& gr = grs_[task.gr];
  kube::ResourceRef ref;
  ref.gvr = type.gvr;
  // The object's own version, as Velero creates it; the group and resource from discovery.
  const std::string api_version = StrAt(obj, "apiVersion");
  ref.gvr.version = api_version.substr(api_version.find('/') + 1);
  ref.namespaced = type.namespaced;
  ref.namespace_name = type.namespaced ? target_ns : "";
  const std::string id = gr + " " + (target_ns.empty() ? "" : target_ns + "/") + task.name;
  const bool restore_managed_fields = options_.restore_managed_fields &&
                                      backed_up_managed_fields.is_array() &&
                                      !backed_up_managed_fields.empty();
  const bool want_status = StatusWanted(type, gr, obj, saved_status);
  // The created object is parsed whole only when something needs more than its managedFields.
  bool need_object = want_status || gr == "pods";
  kube::WriteOptions write;
  if (restore_managed_fields && !options_.exact_managed_fields && !want_status) {
    write.field_manager = SingleUpdateManager(backed_up_managed_fields, api_version);
  }
  // A Service's allocated fields its manager did not own are left to the allocator.
  Json allocated = Json::object();
  if (!write.field_manager.empty()) {
    static const Json kNone;
    const Json* fields = Find(backed_up_managed_fields[0], "fieldsV1");
    const Json& owned = fields != nullptr ? *fields : kNone;
    if (gr == "services" && !keep_allocated) {
      allocated = TakeUnownedAllocatedFields(owned, obj);
      need_object = need_object || !allocated.empty();
    }
    if (FieldsPresent(owned, obj)) {
      obj["metadata"].erase("managedFields");  // the create gives the same entry without them
    }
  }
  kube::ResourceRef one = ref;
  one.name = task.name;
  if (!target_ns.empty() && MadeInEveryNamespace(gr, task.name)) {
    // Mostly there already: read first, as Velero looks in its cache first.
    Result<std::string> live = client_.Get(one);
    if (live.ok()) {
      RestoreAllocated(obj, allocated);
      return HandleExisting(one, gr, obj, target_ns, std::move(*live));
    }
  }
  Result<std::string> created =
      CreateWithBackoff(ref, kube::DumpJson(obj, task.json_bytes), id, write);
  ref.name = task.name;
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists) {
      RestoreAllocated(obj, allocated);
      return HandleExisting(ref, gr, obj, target_ns);
    }
    AddMessage(task.gr, task.ordinal, true, target_ns,
               "error restoring " + id + ": " + created.status().message());
    return Action::kFailed;
  }
  Json created_obj;
  if (need_object) {
    created_obj = kube::ParseJson(*created);
  }
  // (An answer that is not an object cannot be compared; the managedFields check below decides.)
  if (!allocated.empty() && created_obj.is_object() &&
      !AllocatedFieldsMatch(allocated, created_obj)) {
    // This cluster allocates other values than the backed-up ones: the object is made again as
    // Velero makes it, with them in the create.
    log_.Info(id + ": the cluster allocated other " + allocated.dump() +
              "; creating it again with the backed-up values");
    kube::DeleteOptions precondition;
    precondition.precondition_uid = StrAt(created_obj, "metadata", "uid");
    Result<std::string> deleted = client_.Delete(ref, precondition);
    if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) {
      AddMessage(task.gr, task.ordinal, true, target_ns,
                 "error restoring " + id + ": it was created with other allocated fields than " +
                     allocated.dump() +
                     " and could not be deleted to create it again: " + deleted.status().message());
      return Action::kFailed;
    }
    RestoreAllocated(obj, allocated);
    if (!backed_up_managed_fields.is_null()) {
      obj["metadata"]["managedFields"] = backed_up_managed_fields;
    }
    return CreateItem(task, target_ns, type, obj, saved_status, backed_up_managed_fields, true);
  }
  if (gr == kCrdGr) {
    const std::lock_guard<std::mutex> lock(mu_);
    crds_to_wait_.push_back(task.name);
  }
  if (want_status) {
    RestoreStatusOf(ref, gr, created_obj, saved_status, target_ns);
  }
  if (restore_managed_fields) {
    Json now;
    if (need_object) {
      const Json* md = Find(created_obj, "metadata");
      const Json* mf = md != nullptr ? Find(*md, "managedFields") : nullptr;
      now = mf != nullptr ? *mf : Json();
    } else {
      static thread_local kube::ObjectMetaParser parser;
      Result<std::string> raw = parser.RawMetadataField(*created, "managedFields");
      if (raw.ok() && !raw->empty()) {
        now = kube::ParseJson(*raw);
      }
    }
    const bool same =
        !now.is_null() &&
        (now == backed_up_managed_fields ||
         (!write.field_manager.empty() && SameOwnershipAfterCreate(backed_up_managed_fields, now)));
    if (!same) {
      Json patch = {{"metadata", {{"managedFields", backed_up_managed_fields}}}};
      Result<std::string> patched =
          client_.Patch(ref, kube::PatchType::kMerge, kube::DumpJson(patch));
      if (!patched.ok()) {
        AddMessage(task.gr, task.ordinal, false, target_ns,
                   "restore of managedFields for " + id + " failed: " + patched.status().message());
      }
    }
  }
  if (gr == "pods") {
    StartPodHooks(task, target_ns, created_obj);
    if (options_.on_pod_created) {
      options_.on_pod_created(target_ns, created_obj);
    }
  }
  return Action::kCreated;
}

bool RestoreRun::StatusWanted(const kube::ApiResource& type, const std::string& gr, const Json& obj,
                              const Json& saved_status) const {
  if (saved_status.is_null()) {
    return false;
  }
  bool want = restore_status_set_ && status_filter_.ShouldInclude(gr);
  const Json* md = Find(obj, "metadata");
  const Json* ann = md != nullptr ? Find(*md, "annotations") : nullptr;
  if (ann != nullptr) {
    if (const Json* v = Find(*ann, kRestoreStatusAnnotation); v != nullptr && v->is_string()) {
      want = v->get<std::string>() == "true"    ? true
             : v->get<std::string>() == "false" ? false
                                                : want;
    }
  }
  return want && type.HasSubresource("status");
}

void RestoreRun::RestoreStatusOf(const kube::ResourceRef& ref, const std::string& gr,
                                 const Json& created, const Json& saved_status,
                                 const std::string& target_ns) {
  if (!created.is_object()) {
    return;
  }
  kube::ResourceRef status_ref = ref;
  status_ref.subresource = "status";
  Json body = created;
  body["status"] = saved_status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<std::string> updated = client_.Update(status_ref, kube::DumpJson(body));
    if (updated.ok()) {
      return;
    }
    if (updated.status().code() != StatusCode::kAborted || attempt == 2) {
      AddMessage(
          gr_ids_.at(gr), 0, false, target_ns,
          "could not restore the status of " + ref.Describe() + ": " + updated.status().message());
      return;
    }
    Result<std::string> live = client_.Get(ref);
    if (!live.ok()) {
      return;
    }
    body = kube::ParseJson(*live);
    body["status"] = saved_status;
  }
}

// Velero's mergeServiceAccounts: the live account plus the backed-up secrets, image pull secrets,
// labels and annotations it lacks.
Json MergeServiceAccounts(const Json& live, const Json& backed_up) {
  Json out = live;
  for (const char* list : {"secrets", "imagePullSecrets"}) {
    const Json* from = Find(backed_up, list);
    if (from == nullptr || !from->is_array()) {
      continue;
    }
    Json& to = out[list];
    if (!to.is_array()) {
      to = Json::array();
    }
    for (const Json& ref : *from) {
      const std::string name = StrAt(ref, "name");
      bool present = std::any_of(to.begin(), to.end(),
                                 [&](const Json& r) { return StrAt(r, "name") == name; });
      if (!present) {
        to.push_back(ref);
      }
    }
  }
  for (const char* map : {"labels", "annotations"}) {
    const Json* md = Find(backed_up, "metadata");
    const Json* from = md != nullptr ? Find(*md, map) : nullptr;
    if (from == nullptr || !from->is_object()) {
      continue;
    }
    Json& to = out["metadata"][map];
    if (!to.is_object()) {
      to = Json::object();
    }
    for (const auto& [k, v] : from->items()) {
      if (!to.contains(k)) {
        to[k] = v;
      }
    }
  }
  return out;
}

Action RestoreRun::HandleExisting(const kube::ResourceRef& ref, const std::string& gr, Json& obj,
                                  const std::string& target_ns, std::optional<std::string> read) {
  const uint32_t gr_id = gr_ids_.at(gr);
  const std::string kind = StrAt(obj, "kind");
  const std::string& name = ref.name;
  Result<std::string> live_text =
      read.has_value() ? Result<std::string>(std::move(*read)) : client_.Get(ref);
  if (!live_text.ok()) {
    AddMessage(gr_id, 0, true, target_ns,
               "error restoring " + ref.Describe() +
                   ": it already exists and could not be read: " + live_text.status().message());
    return Action::kFailed;
  }
  Json live = kube::ParseJson(*live_text);
  ResetMetadataAndStatus(live);
  const Json live_unlabelled = live;  // patches start from the object as it is
  SetTargetNamespaceAndLabels(live, "", spec().backup_name, restore().metadata.name);
  const std::string& policy = spec().existing_resource_policy;
  const bool update = policy == api::existing_resource_policy::kUpdate;
  auto patch_labels = [&]() -> Status {
    Json patch = {
        {"metadata",
         {{"labels",
           {{"velero.io/backup-name", obj["metadata"]["labels"]["velero.io/backup-name"]},
            {"velero.io/restore-name", obj["metadata"]["labels"]["velero.io/restore-name"]}}}}}};
    return client_.Patch(ref, kube::PatchType::kMerge, kube::DumpJson(patch)).status();
  };
  if (live == obj) {
    if (update) {
      if (Status s = patch_labels(); !s.ok()) {
        AddMessage(gr_id, 0, true, target_ns,
                   "error updating the labels of existing " + ref.Describe() + ": " + s.message());
        return Action::kFailed;
      }
      return Action::kUpdated;
    }
    log_.Info(ref.Describe() + " already exists and is identical to the backed-up version");
    return Action::kSkipped;
  }
  if (gr == "serviceaccounts") {
    Json desired = MergeServiceAccounts(live, obj);
    Json patch = CreateMergePatch(live_unlabelled, desired);
    if (!patch.is_null()) {
      Result<std::string> r = client_.Patch(ref, kube::PatchType::kMerge, kube::DumpJson(patch));
      if (!r.ok()) {
        AddMessage(gr_id, 0, false, target_ns,
                   "error merging existing ServiceAccount " + ref.Describe() + ": " +
                       r.status().message());
        return Action::kFailed;
      }
    }
    return Action::kUpdated;
  }
  if (update) {
    Json patch = CreateMergePatch(live_unlabelled, obj);
    Result<std::string> r = client_.Patch(ref, kube::PatchType::kMerge, kube::DumpJson(patch));
    if (r.ok()) {
      return Action::kUpdated;
    }
    AddMessage(gr_id, 0, false, target_ns,
               "could not update existing " + ref.Describe() + " to the backed-up version: " +
                   r.status().message() + "; only the restore labels were patched");
    if (Status s = patch_labels(); !s.ok()) {
      AddMessage(gr_id, 0, true, target_ns,
                 "error updating the labels of existing " + ref.Describe() + ": " + s.message());
      return Action::kFailed;
    }
    return Action::kUpdated;
  }
  std::string what = policy.empty() ? kind + ":" + name : kind + " " + Quote(name);
  AddMessage(gr_id, 0, false, target_ns,
             "could not restore, " + what +
                 " already exists. Warning: the in-cluster version is different than the "
                 "backed-up version");
  return Action::kSkipped;
}

void RestoreRun::StartPodHooks(const Task& task, const std::string& target_ns, const Json& pod) {
  std::vector<std::string> ignored;  // Run logs them
  if (hooks::RestoreExecHooksForPod(hook_specs_, pod, target_ns, &ignored).empty()) {
    return;
  }
  if (pod_hooks_ == nullptr) {
    log_.Warn("the exec hooks of pod " + target_ns + "/" + StrAt(pod, "metadata", "name") +
              " are not run: this restore has no pod executor");
    return;
  }
  const uint32_t gr = task.gr;
  const uint64_t ordinal = task.ordinal;
  const std::lock_guard<std::mutex> lock(mu_);
  hook_threads_.emplace_back([this, gr, ordinal, target_ns, pod] {
    const hooks::HookLog log = [this](const hooks::HookLogEntry& e) {
      log_.Log(e.level == hooks::LogLevel::kInfo      ? "info"
               : e.level == hooks::LogLevel::kWarning ? "warning"
                                                      : "error",
               e.message, e.fields);
    };
    hooks::HookRunResult r = pod_hooks_->Run(pod, log);
    {
      const std::lock_guard<std::mutex> counts_lock(mu_);
      restore().status.hooks_attempted += r.attempted;
      restore().status.hooks_failed += r.failed;
    }
    for (std::string& e : r.errors) {
      AddMessage(gr, ordinal, true, target_ns, std::move(e));
    }
  });
}

void RestoreRun::WaitForPodHooks() {
  std::vector<std::thread> threads;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    threads.swap(hook_threads_);
  }
  if (threads.empty()) {
    return;
  }
  log_.Info("waiting for the exec hooks of " + std::to_string(threads.size()) + " restored pods");
  for (std::thread& t : threads) {
    t.join();
  }
  log_.Info("exec hooks done: " + std::to_string(restore().status.hooks_attempted) +
            " attempted, " + std::to_string(restore().status.hooks_failed) + " failed");
}

Status RestoreRun::WriteResults() {
  std::sort(messages_.begin(), messages_.end(), [](const Message& a, const Message& b) {
    return std::tie(a.order, a.error, a.ns, a.text) < std::tie(b.order, b.error, b.ns, b.text);
  });
  backup::BackupResults results;
  for (const Message& m : messages_) {
    if (m.error) {
      results.AddError(m.ns, m.cluster, m.text);
    } else {
      results.AddWarning(m.ns, m.cluster, m.text);
    }
  }
  restore().status.warnings = static_cast<int64_t>(results.warnings());
  restore().status.errors = static_cast<int64_t>(results.errors());
  outcome_.results = results.ToJson();
  outcome_.resource_list = std::move(resource_list_);
  if (store_ == nullptr) {
    return OkStatus();
  }
  const std::string& name = restore().metadata.name;
  ASSIGN_OR_RETURN(std::string results_gz, backup::GzipDocument(outcome_.results.dump() + "\n"));
  // Written as it is compressed: at 100,000 objects the text alone is several MB.
  ASSIGN_OR_RETURN(std::string list_gz, backup::GzipWritten([this](const archive::ByteSink& sink) {
                     RETURN_IF_ERROR(outcome_.resource_list.WriteJson(sink));
                     return sink("\n");
                   }));
  // The three uploads go at once (the store is thread-safe): at small sizes each costs about a
  // request's latency, which would otherwise add up at the end of every restore.
  const std::pair<const char*, std::string> files[] = {
      {"logs.gz", log_.Finish()},
      {"results.gz", std::move(results_gz)},
      {"resource-list.json.gz", std::move(list_gz)}};
  std::array<Status, std::size(files)> put;
  {
    std::vector<std::jthread> uploads;
    for (size_t i = 1; i < std::size(files); ++i) {
      uploads.emplace_back([&, i] {
        put[i] = store_->PutString(
            objstore::ObjectKey(archive::RestoreFileKey(name, files[i].first)), files[i].second);
      });
    }
    put[0] = store_->PutString(objstore::ObjectKey(archive::RestoreFileKey(name, files[0].first)),
                               files[0].second);
  }
  for (const Status& s : put) {
    RETURN_IF_ERROR(s);
  }
  return OkStatus();
}

void RestoreRun::Finalize(const std::string& phase) {
  restore().status.phase = phase;
  restore().status.completion_timestamp = kube::FormatRfc3339(clock_.Now());
  if (restore().status.progress.has_value()) {
    restore().status.progress->items_restored = processed_.load();
  }
}

RestoreOutcome RestoreRun::Execute(const TarballSource& source) {
  api::RestoreStatus& status = restore().status;
  // The engine runs a backup: a scheduleName must have been resolved to spec.backupName first
  // (Velero's controller then keeps both, so both may be set here).
  api::RestoreSpec checked = spec();
  if (!checked.backup_name.empty()) {
    checked.schedule_name.clear();
  }
  status.validation_errors = ValidateRestoreSpec(checked);
  if (checked.backup_name.empty() && !checked.schedule_name.empty()) {
    status.validation_errors.push_back("spec.scheduleName \"" + checked.schedule_name +
                                       "\" was not resolved to a backup; name the backup in "
                                       "spec.backupName");
  }
  if (restore().metadata.name.empty()) {
    status.validation_errors.push_back("the restore has no name (metadata.name)");
  }
  if (!status.validation_errors.empty()) {
    status.phase = api::restore_phase::kFailedValidation;
    return std::move(outcome_);
  }
  status.phase = api::restore_phase::kInProgress;
  status.start_timestamp = kube::FormatRfc3339(clock_.Now());
  log_.Info("starting restore of backup " + Quote(spec().backup_name));

  auto fail = [&](const Status& s) {
    status.failure_reason = s.message();
    log_.Error(s.message());
    pool_.reset();
    WaitForPodHooks();
    Status w = WriteResults();
    if (!w.ok()) {
      status.failure_reason += "; writing the results also failed: " + w.message();
    }
    Finalize(api::restore_phase::kFailed);
    return std::move(outcome_);
  };
  if (Status s = Prepare(); !s.ok()) {
    status.phase = api::restore_phase::kFailedValidation;
    status.validation_errors.push_back(s.message());
    return std::move(outcome_);
  }
  if (Result<std::shared_ptr<const kube::DiscoveryIndex>> d = discovery_.Get(); !d.ok()) {
    return fail(d.status().WithContext("discovering the cluster's API resources"));
  }
  if (Status s = IndexPass(source); !s.ok()) {
    return fail(s.WithContext("reading the backup tarball"));
  }
  if (Status s = Select(); !s.ok()) {
    return fail(s);
  }
  if (Status s = RestorePasses(source); !s.ok()) {
    return fail(s);
  }
  pool_.reset();
  WaitForPodHooks();
  log_.Info("restore finished: " + std::to_string(outcome_.created) + " created, " +
            std::to_string(outcome_.updated) + " updated, " + std::to_string(outcome_.skipped) +
            " skipped, " + std::to_string(outcome_.failed) + " failed, in " +
            std::to_string(outcome_.passes) + " passes");
  if (Status s = WriteResults(); !s.ok()) {
    status.failure_reason = "writing the restore's results: " + s.message();
    Finalize(api::restore_phase::kFailed);
    return std::move(outcome_);
  }
  Finalize(status.errors > 0 ? api::restore_phase::kPartiallyFailed
                             : api::restore_phase::kCompleted);
  return std::move(outcome_);
}

// RAII for FILE*.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

TarballSource StoreTarball(objstore::ObjectStore& store, std::string backup_name) {
  return [&store, backup_name](const archive::ByteSink& sink) -> Result<std::string> {
    const objstore::ObjectKey key(archive::BackupTarballKey(backup_name));
    Result<objstore::ObjectInfo> info = store.Get(key, sink);
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) {
        return NotFoundError("backup " + Quote(backup_name) + " has no tarball " + key.value() +
                             " in " + store.Describe() + " (" + info.status().message() + ")");
      }
      return info.status();
    }
    return info->etag.empty() ? std::to_string(info->size) : info->etag;
  };
}

TarballSource FileTarball(std::string path) {
  return [path](const archive::ByteSink& sink) -> Result<std::string> {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) {
      return NotFoundError("cannot open the backup tarball " + Quote(path) +
                           "; give the path of a file made by `velero backup download` or "
                           "`arca backup download`");
    }
    struct stat st {};
    if (fstat(fileno(f.get()), &st) != 0) {
      return InternalError("cannot stat " + Quote(path));
    }
    std::string buffer(size_t{1} << 20, '\0');
    while (true) {
      size_t n = std::fread(buffer.data(), 1, buffer.size(), f.get());
      if (n > 0) {
        RETURN_IF_ERROR(sink(std::string_view(buffer.data(), n)));
      }
      if (n < buffer.size()) {
        if (std::ferror(f.get()) != 0) {
          return DataLossError("reading " + Quote(path) + " failed");
        }
        break;
      }
    }
    return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
  };
}

RestoreEngine::RestoreEngine(kube::Client& client, objstore::ObjectStore* store, Clock& clock,
                             RestoreOptions options)
    : client_(client), store_(store), clock_(clock), options_(std::move(options)) {
  options_.concurrency = std::max(1, options_.concurrency);
}

RestoreOutcome RestoreEngine::Run(api::Restore restore, RestoreObserver* observer) {
  if (store_ == nullptr) {
    RestoreOutcome out;
    out.restore = std::move(restore);
    out.restore.status.phase = api::restore_phase::kFailedValidation;
    out.restore.status.validation_errors.push_back(
        "no storage location to read the backup from; give one, or restore from a file");
    return out;
  }
  // Velero requires the backup to exist (its velero-backup.json) before it starts.
  const std::string backup = restore.spec.backup_name;
  if (!backup.empty()) {
    Result<bool> exists = store_->Exists(objstore::ObjectKey(archive::BackupMetadataKey(backup)));
    if (!exists.ok() || !*exists) {
      RestoreOutcome out;
      out.restore = std::move(restore);
      out.restore.status.phase = api::restore_phase::kFailedValidation;
      out.restore.status.validation_errors.push_back(
          "backup " + Quote(backup) + " was not found in " + store_->Describe() +
          (exists.ok() ? " (no " + archive::BackupMetadataKey(backup) + ")"
                       : ": " + exists.status().message()));
      return out;
    }
  }
  return RunFromSource(std::move(restore), StoreTarball(*store_, backup), observer);
}

RestoreOutcome RestoreEngine::RunFromSource(api::Restore restore, const TarballSource& source,
                                            RestoreObserver* observer) {
  RestoreRun run(client_, store_, clock_, options_, std::move(restore), observer);
  return run.Execute(source);
}

std::vector<std::string> ValidateRestoreSpec(const api::RestoreSpec& spec) {
  std::vector<std::string> errors;
  if (spec.backup_name.empty() == spec.schedule_name.empty()) {
    errors.push_back(
        "Either a backup or schedule must be specified as a source for the restore, but not both");
  }
  std::vector<std::string> refused;
  for (const std::string& r : spec.included_resources) {
    const auto& list = NonRestorableResources();
    if (std::find(list.begin(), list.end(), r) != list.end()) {
      refused.push_back(r);
    }
  }
  if (!refused.empty()) {
    std::string names;
    for (const std::string& r : refused) {
      names += (names.empty() ? "" : ", ") + r;
    }
    errors.push_back(names + " are non-restorable resources; remove them from includedResources");
  }
  for (std::string& e :
       backup::ValidateIncludesExcludes(spec.included_resources, spec.excluded_resources)) {
    errors.push_back("Invalid included/excluded resource lists: " + e);
  }
  for (std::string& e :
       backup::ValidateNamespaceFilters(spec.included_namespaces, spec.excluded_namespaces)) {
    errors.push_back("Invalid included/excluded namespace lists: " + e);
  }
  if (spec.label_selector.has_value() && !spec.or_label_selectors.empty()) {
    errors.push_back(
        "encountered labelSelector as well as orLabelSelectors in restore spec, only one can be "
        "specified");
  }
  if (spec.label_selector.has_value()) {
    if (auto r = kube::LabelSelector::FromLabelSelector(*spec.label_selector); !r.ok()) {
      errors.push_back("labelSelector: " + r.status().message());
    }
  }
  for (const Json& j : spec.or_label_selectors) {
    if (auto r = kube::LabelSelector::FromLabelSelector(j); !r.ok()) {
      errors.push_back("orLabelSelectors: " + r.status().message());
    }
  }
  const std::string& p = spec.existing_resource_policy;
  if (!p.empty() && p != api::existing_resource_policy::kNone &&
      p != api::existing_resource_policy::kUpdate) {
    errors.push_back("Invalid existingResourcePolicy: " + p + " (use \"none\" or \"update\")");
  }
  for (const auto& [from, to] : spec.namespace_mapping) {
    for (const std::string& n : {from, to}) {
      if (!(n.size() <= 63 && kube::ValidateDns1123Subdomain(n).ok() &&
            n.find('.') == std::string::npos)) {
        errors.push_back("namespaceMapping: " + Quote(n) +
                         " is not a valid namespace name (lower-case letters, digits and '-', at "
                         "most 63 characters)");
      }
    }
  }
  if (!spec.hooks.is_null()) {
    if (auto r = hooks::ParseRestoreHookSpecs(spec.hooks); !r.ok()) {
      errors.push_back("hooks: " + r.status().message());
    }
  }
  if (!spec.resource_modifier.is_null()) {
    errors.push_back("resourceModifier is not supported by Arca yet; remove it");
  }
  return errors;
}

std::string DefaultRestoreName(std::string_view backup, std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &local);
  return std::string(backup) + "-" + buf;
}

Json CreateMergePatch(const Json& from, const Json& to) {
  if (!from.is_object() || !to.is_object()) {
    return from == to ? Json() : to;
  }
  Json patch = Json::object();
  for (const auto& [k, v] : from.items()) {
    if (!to.contains(k)) {
      patch[k] = nullptr;
    }
  }
  for (const auto& [k, v] : to.items()) {
    auto it = from.find(k);
    if (it == from.end()) {
      patch[k] = v;
      continue;
    }
    if (*it == v) {
      continue;
    }
    if (it->is_object() && v.is_object()) {
      Json sub = CreateMergePatch(*it, v);
      if (!sub.is_null()) {
        patch[k] = std::move(sub);
      }
    } else {
      patch[k] = v;
    }
  }
  return patch.empty() ? Json() : patch;
}

}  // namespace arca::restore
