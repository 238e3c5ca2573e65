// The driver of `bench/run restore`: measures the restore engine against the create ceiling on
// the same objects, in one run.
//
//   1. W(N): N objects in max(1, N/100) namespaces, per hundred: 45 ConfigMaps and 45 Secrets of
//      1-4 KiB of data, 4 Deployments (0 replicas), 3 headless Services and 3 ServiceAccounts.
//   2. Ceiling: the namespaces are made (not timed), then the N objects are created as fast as
//      Arca's client allows: `--ceiling-threads` requests in flight, no client-side rate limit,
//      no transformation. objects/s = N / wall time. The order (`--ceiling-order`) is by default
//      "interleaved", the fastest measured: one object of every namespace in turn, types one
//      after another; "restore" is the restore's order (by type, then namespace after
//      namespace) and "namespace" all of one namespace's objects after another's.
//   3. Backup: Arca's backup engine writes the namespaces to MinIO (not timed).
//   4. For each restore mode, the namespaces are deleted and waited for, then a child process
//      runs the restore engine on the backup, streamed from MinIO, so that its peak RSS (VmHWM,
//      read by the child at its end) is the restore's own. objects/s = objects created / wall time
//      of the restore (discovery, tarball passes, namespace creation and result upload included).
//      Modes (`--modes`, default all five, in this order):
//        "default": field ownership restored, in the create where the result is the same (a
//                   single Update entry), else by the merge patch after it;
//        "velero":  Velero's way, each create followed by the merge patch that puts
//                   metadata.managedFields back (--restore-managed-fields=exact);
//        "no-managed-fields-patch": one create per object and no ownership restored, what the
//                   ceiling does.
//        "ideal":   not a restore: the API requests of a `default` restore (recorded once, after
//                   the backup, by a restore that is not timed) sent again as fast as the
//                   server takes them, in the restore's order (its type groups one after
//                   another, a patch after its create) and with nothing done between them
//                   (bench/request_replay.h). What the restore's requests cost the API server
//                   in that order, and so the most any client could reach with them; its
//                   ratio, next to the ceiling's 1.00, tells what the order and the extra
//                   requests cost and what the restore's own work does.
//        "engine":  the `default` restore (the engine, tarball streamed from MinIO) against an
//                   API server that answers at once: every request gets the answer recorded for
//                   it with the "ideal" mode's requests (bench/request_replay.h,
//                   PlaybackTransport; no sockets, no TLS). Its CPU seconds
//                   ("restore_cpu_seconds", the restore's own, without loading the answers) are
//                   what the restore spends besides the HTTP exchanges, its objects/s how fast
//                   it could go were the API server infinitely fast. Its RSS holds every
//                   recorded answer and is not the restore's.
//      `--modes none` measures only the ceiling.
//   5. `--rounds R` repeats 2 and 4 R times (the backup is made once), each ceiling after a
//      namespace deletion as each restore is, so that both meet the same state of the cluster
//      (etcd's history, the controllers' caches) and its drift over the run; each restore's
//      ratio is to the ceiling of its round, and the summary gives each mode's median ratio.
//   6. Every timed phase (each ceiling, each restore) starts at least 31 s after the DELETE of
//      the namespaces it fills (kLiveLookupWindow below), unless `--no-settle`: inside that window
//      the API server reads the namespace from etcd for every create into it, so a phase would
//      pay an extra request per object for as much of its run as the window covers.
// Prints a table and, as the last line, one JSON object with the figures: "ceiling" and
// "restore_<mode>" are those of the round with the median ratio (of the first mode), "rounds"
// has every round, and "median_ratio" each mode's median. `--keep-answers` leaves the recorded
// answers file in the temporary directory (for running the "engine" child again under a
// profiler: restore_bench --child w NAME engine 64 PREFIX FILE).
//
// Usage: restore_bench --n N [--ceiling-threads T] [--concurrency C] [--modes M1,M2|none]
//                      [--rounds R] [--ceiling-order interleaved|restore|namespace]
//                      [--no-settle] [--keep-answers]
//        (KUBECONFIG and the MinIO variables of `testenv env` set)
//        restore_bench --child BACKUP RESTORE MODE CONCURRENCY PREFIX [RECORD [answers]|ANSWERS]
//                      (internal)

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/backup.h"
#include "api/restore.h"
#include "backup/engine.h"
#include "child_process.h"
#include "common/clock.h"
#include "http/curl_transport.h"
#include "kube/connection.h"
#include "kube/kubeconfig.h"
#include "objstore/location.h"
#include "objstore/s3_config.h"
#include "request_replay.h"
#include "restore/engine.h"
#include "support/peak_rss.h"

namespace arca::restore {
namespace {

using bench::ChildRun;
using bench::RunChild;

using Json = nlohmann::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<kube::RestConfig> LoadConfig() {
  return kube::LoadRestConfig(kube::LoadOptions::FromEnvironment(std::nullopt, ""));
}

// The transport kube::Connection::Open makes for `config`.
http::TransportPtr ApiTransport(const kube::RestConfig& config) {
  return std::make_unique<http::CurlTransport>(kube::TransportOptionsFor(config));
}

// With `record`, every API request is also written to that file (bench/request_replay.h),
// with its answer's body when `answers`.
Result<kube::ConnectionPtr> Connect(const std::string& record = "", bool answers = false) {
  ASSIGN_OR_RETURN(kube::RestConfig config, LoadConfig());
  kube::ClientOptions options;
  options.qps = 0;  // no client-side limit: the server is the limit
  if (record.empty()) {
    return kube::Connection::Open(std::move(config), RealClock(), options);
  }
  http::TransportPtr inner = ApiTransport(config);
  ASSIGN_OR_RETURN(std::unique_ptr<bench::RecordingTransport> recording,
                   bench::RecordingTransport::Open(std::move(inner), record, answers));
  return kube::Connection::OpenWithTransport(std::move(config), std::move(recording), RealClock(),
                                             options);
}

Result<objstore::ObjectStorePtr> OpenStore(const std::string& prefix) {
  if (Env("S3_BUCKET").empty() || Env("AWS_ENDPOINT_URL").empty()) {
    return FailedPreconditionError(
        "S3_BUCKET and AWS_ENDPOINT_URL are not set; run through bench/run restore, or eval "
        "\"$(test/testenv/testenv env)\"");
  }
  const std::string url = "s3://" + Env("S3_BUCKET") + "/" + prefix +
                          "?region=" + Env("AWS_REGION") + "&s3Url=" + Env("AWS_ENDPOINT_URL") +
                          "&s3ForcePathStyle=true";
  ASSIGN_OR_RETURN(objstore::LocationUrl loc, objstore::ParseLocationUrl(url));
  return objstore::OpenLocation(loc, objstore::SystemEnvironment(), RealClock());
}

kube::ResourceRef Ref(std::string group, std::string resource, std::string ns) {
  kube::ResourceRef ref;
  ref.gvr = {std::move(group), "v1", std::move(resource)};
  ref.namespaced = !ns.empty();
  ref.namespace_name = std::move(ns);
  return ref;
}

// W(N)'s mix per hundred objects: k = (index / namespaces) % 100 below kTypeBounds[t + 1] (and
// not below kTypeBounds[t]) makes a ConfigMap, Secret, Deployment, Service, ServiceAccount.
constexpr int64_t kTypeBounds[] = {0, 45, 90, 94, 97, 100};

// Object i of W(N): its collection and body.
std::pair<kube::ResourceRef, std::string> WorkloadObject(int64_t i, int64_t namespaces) {
  const std::string ns = "rbench-" + std::to_string(i % namespaces);
  const int64_t k = (i / namespaces) % 100;
  const std::string name = "obj-" + std::to_string(i);
  const size_t size = 1024 + static_cast<size_t>((i * 2654435761u) % 3072);  // 1-4 KiB
  std::string data(size, 'a');
  for (size_t j = 0; j < size; ++j) {
    data[j] = static_cast<char>('a' + ((static_cast<uint64_t>(i) * 31 + j * 7) % 26));
  }
  Json obj;
  if (k < kTypeBounds[1]) {
    obj = {{"apiVersion", "v1"},
           {"kind", "ConfigMap"},
           {"metadata", {{"name", name}, {"labels", {{"bench", "restore"}}}}},
           {"data", {{"payload", data}}}};
    return {Ref("", "configmaps", ns), obj.dump()};
  }
  if (k < kTypeBounds[2]) {
    obj = {{"apiVersion", "v1"},
           {"kind", "Secret"},
           {"metadata", {{"name", name}, {"labels", {{"bench", "restore"}}}}},
           {"type", "Opaque"},
           {"stringData", {{"payload", data}}}};
    return {Ref("", "secrets", ns), obj.dump()};
  }
  if (k < kTypeBounds[3]) {
    obj = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", name}, {"labels", {{"bench", "restore"}}}}},
        {"spec",
         {{"replicas", 0},
          {"selector", {{"matchLabels", {{"app", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", name}}}}},
            {"spec", {{"containers", {{{"name", "c"}, {"image", "registry.example/app:1"}}}}}}}}}}};
    return {Ref("apps", "deployments", ns), obj.dump()};
  }
  if (k < kTypeBounds[4]) {
    obj = {{"apiVersion", "v1"},
           {"kind", "Service"},
           {"metadata", {{"name", name}, {"labels", {{"bench", "restore"}}}}},
           // Headless: the test environment's service IP range is small (a few hundred).
           {"spec",
            {{"clusterIP", "None"}, {"selector", {{"app", name}}}, {"ports", {{{"port", 80}}}}}}};
    return {Ref("", "services", ns), obj.dump()};
  }
  obj = {{"apiVersion", "v1"},
         {"kind", "ServiceAccount"},
         {"metadata", {{"name", name}, {"labels", {{"bench", "restore"}}}}}};
  return {Ref("", "serviceaccounts", ns), obj.dump()};
}

Status CreateNamespaces(kube::Client& client, int64_t namespaces) {
  for (int64_t n = 0; n < namespaces; ++n) {
    Json ns = {{"apiVersion", "v1"},
               {"kind", "Namespace"},
               {"metadata", {{"name", "rbench-" + std::to_string(n)}}}};
    Result<std::string> r = client.Create(Ref("", "namespaces", ""), ns.dump());
    if (!r.ok() && r.status().code() != StatusCode::kAlreadyExists) {
      return r.status();
    }
  }
  return OkStatus();
}

// For 30 s after a namespace's DELETE, the API server's NamespaceLifecycle admission reads the
// namespace from etcd on every create into a namespace of that name (its forceLiveLookup cache;
// measured: 50 creates into a namespace made again after a delete, 50 extra namespace GETs; none
// after 32 s). A timed phase that starts inside that window pays an extra request per object for
// part or all of its run, depending on how long the deletion took.
constexpr std::chrono::seconds kLiveLookupWindow{31};

// Deletes the benchmark's namespaces and waits until they are gone; with `settle`, also until the
// live lookup window of their DELETE has passed, so that every timed phase meets the same API
// server.
Status DeleteNamespaces(kube::Client& client, int64_t namespaces, bool settle) {
  std::optional<std::chrono::steady_clock::time_point> deleted_at;
  for (int64_t n = 0; n < namespaces; ++n) {
    kube::ResourceRef ref = Ref("", "namespaces", "");
    ref.name = "rbench-" + std::to_string(n);
    Result<std::string> r = client.Delete(ref);
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
      return r.status();
    }
    if (r.ok()) {
      deleted_at = std::chrono::steady_clock::now();
    }
  }
  for (int64_t n = 0; n < namespaces; ++n) {
    kube::ResourceRef ref = Ref("", "namespaces", "");
    ref.name = "rbench-" + std::to_string(n);
    for (int tries = 0;; ++tries) {
      Result<std::string> r = client.Get(ref);
      if (!r.ok() && r.status().code() == StatusCode::kNotFound) {
        break;
      }
      if (tries > 3000) {
        return DeadlineExceededError("namespace " + ref.name + " is not gone after 10 minutes");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  if (settle && deleted_at.has_value()) {
    std::this_thread::sleep_until(*deleted_at + kLiveLookupWindow);
  }
  return OkStatus();
}

// User plus system CPU time of a rusage.
double CpuSeconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The create ceiling: every object created raw, `threads` requests in flight.
// The i-th object the ceiling creates (see --ceiling-order), as an index of WorkloadObject.
int64_t CeilingIndex(int64_t i, const std::string& order, int64_t namespaces) {
  const int64_t per_namespace = 100;  // WorkloadObject's k = index / namespaces, below 100
  if (order == "namespace") {
    return (i % per_namespace) * namespaces + i / per_namespace;
  }
  if (order == "restore") {
    // One type after another (kTypeBounds), each namespace after namespace.
    int64_t j = i;
    for (size_t b = 0; b + 1 < std::size(kTypeBounds); ++b) {
      const int64_t width = kTypeBounds[b + 1] - kTypeBounds[b];
      if (j < width * namespaces) {
        return (kTypeBounds[b] + j % width) * namespaces + j / width;
      }
      j -= width * namespaces;
    }
  }
  return i;  // interleaved
}

Result<double> Ceiling(kube::Client& client, int64_t n, int64_t namespaces, int threads,
                       const std::string& order) {
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> failures{0};
  std::string first_error;
  std::mutex mu;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int64_t i = next++; i < n; i = next++) {
        auto [ref, body] = WorkloadObject(CeilingIndex(i, order, namespaces), namespaces);
        Result<std::string> r = client.Create(ref, body);
        if (!r.ok()) {
          ++failures;
          const std::lock_guard<std::mutex> lock(mu);
          if (first_error.empty()) {
            first_error = r.status().ToString();
          }
        }
      }
    });
  }
  for (std::thread& t : pool) {
    t.join();
  }
  const double seconds = Since(start);
  if (failures > 0) {
    return InternalError(std::to_string(failures.load()) +
                         " creates failed, first: " + first_error);
  }
  return seconds;
}

// Runs the restore in a child process; returns its JSON line and peak RSS.
Result<Json> RestoreInChild(const std::string& backup, const std::string& restore,
                            const std::string& mode, int concurrency, const std::string& prefix,
                            const std::string& record = "", bool answers = false) {
  std::vector<std::string> args = {
      "/proc/self/exe", "--child", backup, restore, mode, std::to_string(concurrency), prefix};
  if (!record.empty()) {
    args.push_back(record);
    if (answers) {
      args.emplace_back("answers");
    }
  }
  std::string output;
  const ChildRun run = RunChild(args, [&output](std::string_view chunk) { output.append(chunk); });
  if (!run.started) {
    return InternalError("cannot start the restore child " + args.front());
  }
  if (run.exit_code != 0) {
    return InternalError("the restore child failed: " + output);
  }
  const size_t brace = output.rfind('{');
  Json j = brace == std::string::npos ? Json() : Json::parse(output.substr(brace), nullptr, false);
  if (!j.is_object()) {
    return InternalError("the restore child printed no JSON: " + output);
  }
  j["peak_rss_kib"] = j["own_peak_rss_kib"];
  j["ru_maxrss_kib"] = run.max_rss_kib;
  j["cpu_seconds"] = run.cpu_seconds;
  j["process_seconds"] = run.seconds;
  return j;
}

// A connection whose API server is a PlaybackTransport of the answers in `path`.
Result<kube::ConnectionPtr> ConnectToPlayback(const std::string& path,
                                              const bench::PlaybackTransport** playback) {
  ASSIGN_OR_RETURN(kube::RestConfig config, LoadConfig());
  ASSIGN_OR_RETURN(std::vector<bench::RecordedRequest> answers, bench::ReadRecording(path));
  auto transport = std::make_unique<bench::PlaybackTransport>(answers);
  *playback = transport.get();
  kube::ClientOptions options;
  options.qps = 0;
  return kube::Connection::OpenWithTransport(std::move(config), std::move(transport), RealClock(),
                                             options);
}

int Child(const std::string& backup, const std::string& restore_name, const std::string& mode,
          int concurrency, const std::string& prefix, const std::string& record, bool answers) {
  const bench::PlaybackTransport* playback = nullptr;
  Result<kube::ConnectionPtr> conn =
      mode == "engine" ? ConnectToPlayback(record, &playback) : Connect(record, answers);
  Result<objstore::ObjectStorePtr> store = OpenStore(prefix);
  if (!conn.ok() || !store.ok()) {
    std::fprintf(stderr, "restore_bench child: %s %s\n", conn.status().ToString().c_str(),
                 store.status().ToString().c_str());
    return 1;
  }
  RestoreOptions options;
  options.concurrency = concurrency;
  options.restore_managed_fields = mode != "no-managed-fields-patch";
  options.exact_managed_fields = mode == "velero";
  RestoreEngine engine((*conn)->client(), store->get(), RealClock(), options);
  api::Restore r;
  r.metadata.name = restore_name;
  r.spec.backup_name = backup;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  RestoreOutcome out = engine.Run(r);
  const double seconds = Since(start);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  // VmHWM of this process's own memory (ru_maxrss would include the parent's, which it shared
  // until exec).
  Json j = {{"phase", out.restore.status.phase},
            {"own_peak_rss_kib", test_support::PeakRssKiB()},
            {"seconds", seconds},
            {"restore_cpu_seconds", CpuSeconds(after) - CpuSeconds(before)},
            {"created", out.created},
            {"failed", out.failed},
            {"errors", out.restore.status.errors},
            {"passes", out.passes},
            {"failure", out.restore.status.failure_reason}};
  if (playback != nullptr) {
    j["unmatched_requests"] = playback->unmatched();
  }
  std::printf("%s\n", j.dump().c_str());
  return out.restore.status.phase == "Completed" ? 0 : 1;
}

// The median of `v` (the upper one of an even count).
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  int64_t n = 1000;
  int ceiling_threads = 64;
  int concurrency = RestoreOptions{}.concurrency;
  int rounds = 1;
  std::string ceiling_order = "interleaved";
  bool settle = true;
  bool keep_answers = false;
  std::vector<std::string> modes = {"default", "velero", "no-managed-fields-patch", "ideal",
                                    "engine"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--child" && i + 5 < argc) {
      return Child(argv[i + 1], argv[i + 2], argv[i + 3], std::atoi(argv[i + 4]), argv[i + 5],
                   i + 6 < argc ? argv[i + 6] : "",
                   i + 7 < argc && std::string(argv[i + 7]) == "answers");
    }
    if (a == "--n" && i + 1 < argc) {
      n = std::atoll(argv[++i]);
    } else if (a == "--ceiling-threads" && i + 1 < argc) {
      ceiling_threads = std::atoi(argv[++i]);
    } else if (a == "--concurrency" && i + 1 < argc) {
      concurrency = std::atoi(argv[++i]);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--ceiling-order" && i + 1 < argc) {
      ceiling_order = argv[++i];
    } else if (a == "--no-settle") {
      settle = false;
    } else if (a == "--keep-answers") {
      keep_answers = true;
    } else if (a == "--modes" && i + 1 < argc) {
      modes.clear();
      const std::string list = argv[++i];
      for (size_t start = 0; list != "none" && start <= list.size();) {
        const size_t comma = std::min(list.find(',', start), list.size());
        modes.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: restore_bench --n N [--ceiling-threads T] [--concurrency C] "
                   "[--modes default,velero,no-managed-fields-patch,ideal,engine|none] "
                   "[--rounds R] [--ceiling-order interleaved|restore|namespace] [--no-settle] "
                   "[--keep-answers]\n");
      return 2;
    }
  }
  for (const std::string& mode : modes) {
    if (mode != "default" && mode != "velero" && mode != "no-managed-fields-patch" &&
        mode != "ideal" && mode != "engine") {
      std::fprintf(stderr, "restore_bench: unknown mode '%s'\n", mode.c_str());
      return 2;
    }
  }
  if (rounds < 1 || (ceiling_order != "interleaved" && ceiling_order != "restore" &&
                     ceiling_order != "namespace")) {
    std::fprintf(stderr,
                 "restore_bench: --rounds must be at least 1, --ceiling-order one of "
                 "interleaved, restore, namespace\n");
    return 2;
  }
  const int64_t namespaces = std::max<int64_t>(1, n / 100);
  const std::string prefix =
      "bench-restore-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  Result<kube::ConnectionPtr> conn = Connect();
  Result<objstore::ObjectStorePtr> store = OpenStore(prefix);
  if (!conn.ok() || !store.ok()) {
    std::fprintf(stderr, "restore_bench: %s %s\n", conn.status().ToString().c_str(),
                 store.status().ToString().c_str());
    return 1;
  }
  kube::Client& client = (*conn)->client();
  auto check = [](const Status& s, const char* what) {
    if (!s.ok()) {
      std::fprintf(stderr, "restore_bench: %s: %s\n", what, s.ToString().c_str());
      std::exit(1);
    }
  };
  std::fprintf(stderr, "restore_bench: N=%lld in %lld namespaces, %d round(s)\n",
               static_cast<long long>(n), static_cast<long long>(namespaces), rounds);
  std::printf("%-34s %8s %8s %8s %10s %7s %13s %7s\n", "run", "objects", "seconds", "CPU s",
              "objects/s", "ratio", "peak RSS MiB", "passes");
  Json all_rounds = Json::array();
  std::map<std::string, std::vector<double>> ratios;  // mode -> per round
  int64_t in_backup = 0;
  const std::string recording_path =
      (std::filesystem::temp_directory_path() / (prefix + ".requests.jsonl")).string();
  const std::string answers_path =
      (std::filesystem::temp_directory_path() / (prefix + ".answers.jsonl")).string();
  std::vector<bench::RecordedRequest> recording;
  bench::ReplayPlan plan;
  for (int round = 1; round <= rounds; ++round) {
    const std::string suffix = rounds > 1 ? " #" + std::to_string(round) : "";
    check(DeleteNamespaces(client, namespaces, settle), "cleaning up");
    check(CreateNamespaces(client, namespaces), "creating namespaces");
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    Result<double> ceiling = Ceiling(client, n, namespaces, ceiling_threads, ceiling_order);
    check(ceiling.status(), "ceiling");
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    const double ceiling_cpu = CpuSeconds(after) - CpuSeconds(before);
    const double ceiling_rate = static_cast<double>(n) / *ceiling;
    std::printf("%-34s %8lld %8.2f %8.2f %10.0f %7s %13s %7s\n",
                ("create ceiling" + suffix).c_str(), static_cast<long long>(n), *ceiling,
                ceiling_cpu, ceiling_rate, "1.00", "-", "-");
    std::fflush(stdout);
    Json this_round = {{"round", round},
                       {"ceiling",
                        {{"seconds", *ceiling},
                         {"objects_per_s", ceiling_rate},
                         {"cpu_seconds", ceiling_cpu},
                         {"requests_in_flight", ceiling_threads},
                         {"order", ceiling_order}}}};
    if (round == 1 && !modes.empty()) {
      api::Backup b;
      b.metadata.name = "w";
      for (int64_t i = 0; i < namespaces; ++i) {
        b.spec.included_namespaces.push_back("rbench-" + std::to_string(i));
      }
      b.spec.label_selector = Json{{"matchLabels", {{"bench", "restore"}}}};
      backup::BackupEngine backup_engine(client, **store, RealClock());
      api::Backup backed_up = backup_engine.Run(b);
      if (backed_up.status.phase != "Completed") {
        std::fprintf(stderr, "restore_bench: backup %s: %s\n", backed_up.status.phase.c_str(),
                     backed_up.status.failure_reason.c_str());
        return 1;
      }
      // The backup also holds the namespaces and the Endpoints and EndpointSlices that carry
      // their services' labels; all of them are restored.
      in_backup =
          backed_up.status.progress.has_value() ? backed_up.status.progress->items_backed_up : 0;
      if (std::find(modes.begin(), modes.end(), "ideal") != modes.end() ||
          std::find(modes.begin(), modes.end(), "engine") != modes.end()) {
        // The requests the "ideal" mode sends: those of a default restore, not timed.
        check(DeleteNamespaces(client, namespaces, settle), "deleting namespaces");
        Result<Json> recorded =
            RestoreInChild("w", "r-recorded", "default", concurrency, prefix, recording_path,
                           std::find(modes.begin(), modes.end(), "engine") != modes.end());
        check(recorded.status(), "recording a restore's requests");
        Result<std::vector<bench::RecordedRequest>> read = bench::ReadRecording(recording_path);
        std::error_code ignored;
        std::filesystem::remove(recording_path, ignored);  // it holds the client key
        check(read.status(), "reading the recorded requests");
        recording = std::move(*read);
        plan = bench::PlanReplay(recording);
        if (std::find(modes.begin(), modes.end(), "engine") != modes.end()) {
          check(bench::WriteAnswers(answers_path, recording), "writing the recorded answers");
        }
        std::fprintf(stderr,
                     "restore_bench: recorded %zu API requests of a default restore (%.2f s) in "
                     "%zu phases\n",
                     recording.size(), (*recorded)["seconds"].get<double>(), plan.phases.size());
      }
    }
    for (const std::string& mode : modes) {
      check(DeleteNamespaces(client, namespaces, settle), "deleting namespaces");
      if (mode == "ideal") {
        Result<kube::RestConfig> config = LoadConfig();
        check(config.status(), "loading the kubeconfig");
        http::TransportPtr transport = ApiTransport(*config);
        rusage before_replay{};
        getrusage(RUSAGE_SELF, &before_replay);
        const bench::ReplayResult replay =
            bench::Replay(*transport, recording, plan, ceiling_threads);
        rusage after_replay{};
        getrusage(RUSAGE_SELF, &after_replay);
        const double rate = static_cast<double>(in_backup) / replay.seconds;
        ratios[mode].push_back(rate / ceiling_rate);
        this_round["ideal"] = {{"seconds", replay.seconds},
                               {"objects", in_backup},
                               {"objects_per_s", rate},
                               {"ratio_to_ceiling", rate / ceiling_rate},
                               {"requests", replay.requests},
                               {"phases", replay.phases},
                               {"differing_answers", replay.differing},
                               {"requests_in_flight", ceiling_threads}};
        if (replay.differing > 0) {
          std::fprintf(stderr,
                       "restore_bench: ideal: %lld answers differ from the recorded ones, "
                       "first: %s\n",
                       static_cast<long long>(replay.differing), replay.first_difference.c_str());
        }
        std::printf("%-34s %8lld %8.2f %8.2f %10.0f %7.2f %13s %7s\n",
                    ("ideal (replayed requests)" + suffix).c_str(),
                    static_cast<long long>(in_backup), replay.seconds,
                    CpuSeconds(after_replay) - CpuSeconds(before_replay), rate, rate / ceiling_rate,
                    "-", "-");
        std::fflush(stdout);
        continue;
      }
      const std::string restore_name =
          "r-" + mode + (rounds > 1 ? "-" + std::to_string(round) : "");
      Result<Json> run = RestoreInChild("w", restore_name, mode, concurrency, prefix,
                                        mode == "engine" ? answers_path : "");
      check(run.status(), mode.c_str());
      const int64_t created = (*run)["created"].get<int64_t>();
      if (created != in_backup) {
        std::fprintf(stderr, "restore_bench: %s restored %lld objects, the backup has %lld\n",
                     mode.c_str(), static_cast<long long>(created),
                     static_cast<long long>(in_backup));
        return 1;
      }
      const double seconds = (*run)["seconds"].get<double>();
      const double rate = static_cast<double>(created) / seconds;
      (*run)["objects_per_s"] = rate;
      (*run)["ratio_to_ceiling"] = rate / ceiling_rate;
      (*run)["concurrency"] = concurrency;
      ratios[mode].push_back(rate / ceiling_rate);
      this_round[std::string("restore_") + mode] = *run;
      if (mode == "engine" && (*run).value("unmatched_requests", 0) != 0) {
        std::fprintf(stderr, "restore_bench: engine: %lld requests found no recorded answer\n",
                     static_cast<long long>((*run).value("unmatched_requests", 0)));
        return 1;
      }
      // The engine mode's child holds every recorded answer: its peak RSS is not the restore's.
      char rss[32] = "-";
      if (mode != "engine") {
        std::snprintf(rss, sizeof(rss), "%.1f",
                      static_cast<double>((*run)["peak_rss_kib"].get<long>()) / 1024.0);
      }
      std::printf("%-34s %8lld %8.2f %8.2f %10.0f %7.2f %13s %7d\n",
                  ("restore (" + mode + ")" + suffix).c_str(), static_cast<long long>(created),
                  seconds, (*run)["cpu_seconds"].get<double>(), rate, rate / ceiling_rate, rss,
                  (*run)["passes"].get<int>());
      std::fflush(stdout);
    }
    all_rounds.push_back(std::move(this_round));
  }
  check(DeleteNamespaces(client, namespaces, false), "cleaning up");
  if (keep_answers) {
    std::fprintf(stderr, "restore_bench: the recorded answers are kept in %s\n",
                 answers_path.c_str());
  } else {
    std::error_code ignored;
    std::filesystem::remove(answers_path, ignored);
  }

  // The round whose first mode's ratio is the median stands for the run.
  size_t median_round = 0;
  if (!modes.empty()) {
    const double m = Median(ratios[modes.front()]);
    for (size_t r = 0; r < ratios[modes.front()].size(); ++r) {
      if (ratios[modes.front()][r] == m) {
        median_round = r;
      }
    }
  }
  Json result = {
      {"benchmark", "restore"}, {"n", n}, {"namespaces", namespaces}, {"rounds", all_rounds}};
  for (auto& [key, value] : all_rounds[median_round].items()) {
    if (key != "round") {
      result[key] = value;
    }
  }
  if (rounds > 1) {
    std::printf("median ratio over %d rounds:", rounds);
  }
  for (const std::string& mode : modes) {
    const std::vector<double>& v = ratios[mode];
    result["median_ratio"][mode] = Median(v);
    if (rounds > 1) {
      std::printf(" %s %.2f (%.2f to %.2f)", mode.c_str(), Median(v),
                  *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    }
  }
  if (rounds > 1) {
    std::printf("\n");
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace arca::restore

int main(int argc, char** argv) { return arca::restore::Main(argc, argv); }
