// The driver of `bench/run backup`: seeds W(N) (N objects labelled arca-bench-backup=N in
// max(1, N/100) namespaces: per hundred, 40 ConfigMaps and 40 Secrets of 1-4 KiB, 8 Deployments
// with no replicas, 6 headless Services and 6 ServiceAccounts), then measures, each in a child
// process so that its peak RSS is its own:
//   - the list ceiling: the same objects listed raw, one paginated list per type (limit 500) all
//     in parallel, items split from the stream but not parsed; measured twice, with consistent
//     reads (`list-ceiling`) and "not older than" a first namespace list's resourceVersion
//     (`list-ceiling-cache`, served from the API server's watch cache, as the backup lists), and
//     the ratios are to the faster of the two;
//   - `arca backup create --standalone -l arca-bench-backup=N` to a filesystem store and to the
//     environment's MinIO;
//   - with --gzip-level L, the filesystem run again with `--gzip-level L` (libdeflate at that
//   level; the default is igzip level 1), to
//     compare time, CPU and tarball size in the same run.
// R rounds (`--rounds`, default 3) run each once, interleaved; the table shows the fastest run of
// each with its ratio to the fastest ceiling, the median over the rounds of each round's ratio to
// that round's faster ceiling, the lowest CPU time (user + system of the child) and the highest
// peak RSS, and for filesystem runs the tarball's size.
// The backup also takes the N/100 namespaces and the objects the cluster derives from W(N) with
// its labels (an EndpointSlice and an Endpoints per Service), so it writes 1.13 N objects.
// Prints a table and, as the last line, one JSON object with the figures.
//
// Usage: backup_bench --n N --arca PATH [--gzip-level L] [--rounds R]
//        (KUBECONFIG; AWS_* and S3_BUCKET from `testenv env` for MinIO)
//        backup_bench --child ceiling|ceiling-cache N   (internal: one ceiling run, prints the
//        count)

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "common/clock.h"
#include "kube/connection.h"
#include "kube/kubeconfig.h"

namespace arca::bench {
namespace {

constexpr int kSeedThreads = 16;
constexpr int64_t kPageSize = 500;
constexpr int kDefaultRounds = 3;

struct Measured {
  double seconds = 0;
  double cpu_seconds = 0;      // user + system
  int64_t tarball_bytes = -1;  // filesystem runs
  long max_rss_kib = 0;
  int exit_code = -1;
  int64_t objects = 0;
};

Result<kube::ConnectionPtr> Connect() {
  ASSIGN_OR_RETURN(kube::RestConfig config,
                   kube::LoadRestConfig(kube::LoadOptions::FromEnvironment({}, "")));
  kube::ClientOptions options;
  options.qps = 0;
  return kube::Connection::Open(std::move(config), RealClock(), options);
}

std::string Label(int n) { return "arca-bench-backup=" + std::to_string(n); }

std::string NamespaceName(int n, int i) {
  return "arca-bench-backup-" + std::to_string(n) + "-" + std::to_string(i);
}

kube::ResourceRef Ref(std::string group, std::string resource, std::string ns) {
  kube::ResourceRef ref;
  ref.gvr = {std::move(group), "v1", std::move(resource)};
  ref.namespaced = true;
  ref.namespace_name = std::move(ns);
  return ref;
}

struct Kind {
  const char* group;
  const char* resource;
};
constexpr std::array<Kind, 5> kKinds = {{{"", "configmaps"},
                                         {"", "secrets"},
                                         {"apps", "deployments"},
                                         {"", "services"},
                                         {"", "serviceaccounts"}}};

// The i-th object of W(N): its kind index and JSON.
std::pair<int, nlohmann::json> Object(int n, int i) {
  const int slot = i % 100;
  const std::string name = "obj-" + std::to_string(i);
  nlohmann::json meta = {{"name", name}, {"labels", {{"arca-bench-backup", std::to_string(n)}}}};
  const std::string payload(1024 + static_cast<size_t>((i * 977) % 3072), 'a' + (i % 26));
  if (slot < 40) {
    return {0,
            {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", meta},
             {"data", {{"payload", payload}}}}};
  }
  if (slot < 80) {
    return {1,
            {{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", meta},
             {"stringData", {{"payload", payload}}}}};
  }
  if (slot < 88) {
    nlohmann::json labels = {{"app", name}};
    return {2,
            {{"apiVersion", "apps/v1"},
             {"kind", "Deployment"},
             {"metadata", meta},
             {"spec",
              {{"replicas", 0},
               {"selector", {{"matchLabels", labels}}},
               {"template",
                {{"metadata", {{"labels", labels}}},
                 {"spec", {{"containers", {{{"name", "app"}, {"image", "nginx"}}}}}}}}}}}};
  }
  if (slot < 94) {
    return {3,
            {{"apiVersion", "v1"},
             {"kind", "Service"},
             {"metadata", meta},
             {"spec",
              {{"clusterIP", "None"},  // headless: the test cluster's IP range is small
               {"selector", {{"app", name}}},
               {"ports", {{{"port", 80}}}}}}}};
  }
  return {4, {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta}}};
}

// Lists every type of W(N) in parallel, counting items. `parse` off: items are only split. With
// `from_cache`, a one-item namespace list first gives a resourceVersion, and every list asks for
// data not older than it (the API server answers from its watch cache), as the backup does.
Result<int64_t> ListAll(kube::Client& client, int n, bool from_cache = false) {
  std::string resource_version;
  if (from_cache) {
    kube::ListOptions one;
    one.limit = 1;
    kube::ListMeta meta;
    RETURN_IF_ERROR(client.ListPage(
        Ref("", "namespaces", ""), one, [](std::string_view) { return OkStatus(); }, &meta));
    resource_version = meta.resource_version;
  }
  std::atomic<int64_t> total{0};
  std::mutex mu;
  Status first;
  std::vector<std::thread> threads;
  for (const Kind& k : kKinds) {
    threads.emplace_back([&, k] {
      kube::ListOptions options;
      options.label_selector = Label(n);
      options.limit = kPageSize;
      if (!resource_version.empty()) {
        options.resource_version = resource_version;
        options.resource_version_match = "NotOlderThan";
      }
      int64_t count = 0;
      Status s = client.List(
          Ref(k.group, k.resource, ""), options,
          [&](std::string_view) {
            ++count;
            return OkStatus();
          },
          [&] { count = 0; });
      total += count;
      if (!s.ok()) {
        const std::lock_guard<std::mutex> lock(mu);
        first = s;
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  if (!first.ok()) {
    return first;
  }
  return total.load();
}

Status Seed(kube::Client& client, int n) {
  ASSIGN_OR_RETURN(int64_t have, ListAll(client, n));
  if (have == n) {
    return OkStatus();
  }
  const int namespaces = std::max(1, n / 100);
  std::fprintf(stderr, "seeding %d objects in %d namespaces (found %lld)...\n", n, namespaces,
               static_cast<long long>(have));
  kube::ResourceRef ns_ref;
  ns_ref.gvr = {"", "v1", "namespaces"};
  ns_ref.namespaced = false;
  for (int i = 0; i < namespaces; ++i) {
    const nlohmann::json ns = {
        {"apiVersion", "v1"},
        {"kind", "Namespace"},
        {"metadata",
         {{"name", NamespaceName(n, i)}, {"labels", {{"arca-bench-backup", std::to_string(n)}}}}}};
    Result<std::string> r = client.Create(ns_ref, ns.dump());
    if (!r.ok() && r.status().code() != StatusCode::kAlreadyExists) {
      return r.status();
    }
  }
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  Status first_error;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kSeedThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        auto [kind, obj] = Object(n, i);
        Result<std::string> r = client.Create(Ref(kKinds[kind].group, kKinds[kind].resource,
                                                  NamespaceName(n, (i / 100) % namespaces)),
                                              obj.dump());
        if (!r.ok() && r.status().code() != StatusCode::kAlreadyExists) {
          ++failed;
          const std::lock_guard<std::mutex> lock(mu);
          first_error = r.status();
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  if (failed > 0) {
    return first_error;
  }
  return OkStatus();
}

// Runs argv with stdout into `on_stdout`: wall time, CPU time and the child's peak RSS.
Measured RunMeasured(const std::vector<std::string>& argv,
                     const std::function<void(std::string_view)>& on_stdout) {
  const ChildRun run = RunChild(argv, on_stdout);
  Measured m;
  if (run.started) {
    m.seconds = run.seconds;
    m.cpu_seconds = run.cpu_seconds;
    m.max_rss_kib = run.max_rss_kib;
    m.exit_code = run.exit_code;
  }
  return m;
}

int Child(int n, bool from_cache) {
  Result<kube::ConnectionPtr> conn = Connect();
  if (!conn.ok()) {
    std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
    return 1;
  }
  Result<int64_t> count = ListAll((*conn)->client(), n, from_cache);
  if (!count.ok()) {
    std::fprintf(stderr, "%s\n", count.status().ToString().c_str());
    return 1;
  }
  std::printf("%lld\n", static_cast<long long>(*count));
  return 0;
}

// "Backup "x": Completed, 12345 items in ..." -> 12345 (-1 when not Completed).
int64_t ItemsFromSummary(const std::string& out) {
  const std::string marker = ": Completed, ";
  size_t at = out.find(marker);
  if (at == std::string::npos) {
    return -1;
  }
  return std::atoll(out.c_str() + at + marker.size());
}

Measured Best(const std::vector<Measured>& runs) {
  Measured best = runs.front();
  for (const Measured& m : runs) {
    if (m.exit_code == 0 && (best.exit_code != 0 || m.seconds < best.seconds)) {
      best = m;
    }
  }
  // Peak RSS: the highest of the runs, so that the figure is never flattering. CPU: the lowest,
  // as for time (the load of the shared machine only ever adds to it).
  for (const Measured& m : runs) {
    best.max_rss_kib = std::max(best.max_rss_kib, m.max_rss_kib);
    if (m.exit_code == 0) {
      best.cpu_seconds = std::min(best.cpu_seconds, m.cpu_seconds);
    }
  }
  return best;
}

int Main(int argc, char** argv) {
  int n = 1000;
  int gzip_level = 0;
  int rounds = kDefaultRounds;
  std::string arca;
  const std::string self = argv[0];
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--child" && i + 2 < argc) {
      return Child(std::atoi(argv[i + 2]), std::string(argv[i + 1]) == "ceiling-cache");
    }
    if (flag == "--n") {
      n = std::atoi(argv[i + 1]);
    } else if (flag == "--arca") {
      arca = argv[i + 1];
    } else if (flag == "--rounds") {
      rounds = std::atoi(argv[i + 1]);
    } else if (flag == "--gzip-level") {
      gzip_level = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (arca.empty() || n < 1 || gzip_level < 0 || gzip_level > 12 || rounds < 1) {
    std::fprintf(stderr,
                 "usage: backup_bench --n N --arca PATH [--gzip-level 1..12] [--rounds R]\n");
    return 2;
  }
  Result<kube::ConnectionPtr> conn = Connect();
  if (!conn.ok()) {
    std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
    return 1;
  }
  const auto seed_start = std::chrono::steady_clock::now();
  if (Status s = Seed((*conn)->client(), n); !s.ok()) {
    std::fprintf(stderr, "seeding failed: %s\n", s.ToString().c_str());
    return 1;
  }
  const double seed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - seed_start).count();

  struct Row {
    std::string name;
    Measured m;
  };
  const std::string dir = std::filesystem::temp_directory_path().string() + "/arca-bench-backup-" +
                          std::to_string(::getpid());
  struct Target {
    std::string name;
    std::string url;
    std::vector<std::string> extra;  // more flags
    bool filesystem = false;
  };
  std::vector<Target> stores = {{"arca-backup-fs", "file://" + dir, {}, true}};
  if (gzip_level > 0) {
    stores.push_back({"arca-backup-fs-gzip" + std::to_string(gzip_level),
                      "file://" + dir,
                      {"--gzip-level", std::to_string(gzip_level)},
                      true});
  }
  const char* bucket = std::getenv("S3_BUCKET");           // NOLINT(concurrency-mt-unsafe)
  const char* endpoint = std::getenv("AWS_ENDPOINT_URL");  // NOLINT(concurrency-mt-unsafe)
  const char* region = std::getenv("AWS_REGION");          // NOLINT(concurrency-mt-unsafe)
  if (bucket != nullptr && endpoint != nullptr) {
    stores.push_back({"arca-backup-minio",
                      std::string("s3://") + bucket + "/arca-bench-" + std::to_string(::getpid()) +
                          "?region=" + (region != nullptr ? region : "us-east-1") +
                          "&s3Url=" + endpoint + "&s3ForcePathStyle=true",
                      {},
                      false});
  }
  // Rounds interleave the runs, so that a burst of load on the shared machine hits all of them.
  const std::vector<std::string> ceilings = {"ceiling", "ceiling-cache"};
  std::vector<std::vector<Measured>> runs(ceilings.size() + stores.size());
  int backup_index = 0;
  for (int round = 0; round < rounds; ++round) {
    for (size_t c = 0; c < ceilings.size(); ++c) {
      std::string out;
      Measured m = RunMeasured({self, "--child", ceilings[c], std::to_string(n)},
                               [&](std::string_view s) { out += s; });
      m.objects = std::atoll(out.c_str());
      runs[c].push_back(m);
    }
    for (size_t i = 0; i < stores.size(); ++i) {
      std::string out;
      const std::string backup =
          "bench-" + std::to_string(n) + "-" + std::to_string(backup_index++);
      std::vector<std::string> args = {arca,          "backup",       "create",
                                       backup,        "--standalone", "--storage",
                                       stores[i].url, "-l",           Label(n)};
      args.insert(args.end(), stores[i].extra.begin(), stores[i].extra.end());
      Measured m = RunMeasured(args, [&](std::string_view s) { out += s; });
      m.objects = ItemsFromSummary(out);
      if (stores[i].filesystem) {
        std::error_code ec;
        const auto size =
            std::filesystem::file_size(dir + "/backups/" + backup + "/" + backup + ".tar.gz", ec);
        m.tarball_bytes = ec ? -1 : static_cast<int64_t>(size);
      }
      if (m.objects < 0) {
        std::fprintf(stderr, "%s: %s\n", stores[i].name.c_str(), out.c_str());
        m.exit_code = m.exit_code == 0 ? 1 : m.exit_code;
      }
      runs[ceilings.size() + i].push_back(m);
    }
  }
  std::vector<Row> rows = {{"list-ceiling", Best(runs[0])}, {"list-ceiling-cache", Best(runs[1])}};
  for (size_t i = 0; i < stores.size(); ++i) {
    rows.push_back({stores[i].name, Best(runs[ceilings.size() + i])});
  }
  std::filesystem::remove_all(dir);

  // The ceiling is the faster of the two ways to list.
  const double ceiling = std::min(rows[0].m.seconds, rows[1].m.seconds);
  // Each round's ratio, to the faster ceiling of the same round, and their median per run: the
  // API server's own CPU for the same list differs by up to 1.8x from one run to the next
  // (a garbage collection of its heap or not), so the best of the rounds may pair a lucky
  // ceiling with an unlucky backup or the reverse.
  auto median_ratio = [&](size_t column) {
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
      const Measured& a = runs[0][round];
      const Measured& b = runs[1][round];
      if (a.exit_code != 0 || b.exit_code != 0) {
        continue;  // a failed ceiling is no reference
      }
      const double c = std::min(a.seconds, b.seconds);
      if (c > 0 && runs[column][round].exit_code == 0) {
        ratios.push_back(runs[column][round].seconds / c);
      }
    }
    if (ratios.empty()) {
      return 0.0;
    }
    std::sort(ratios.begin(), ratios.end());
    return ratios[ratios.size() / 2];
  };
  std::printf("W(%d): %d objects in %d namespaces (seeding took %.1f s)\n", n, n,
              std::max(1, n / 100), seed_seconds);
  std::printf("%-22s %10s %10s %8s %12s %14s %12s %13s %13s\n", "run", "objects", "seconds",
              "CPU s", "objects/s", "peak RSS MiB", "x ceiling", "median x", "tarball MiB");
  nlohmann::json summary = {
      {"benchmark", "backup"}, {"n", n}, {"namespaces", std::max(1, n / 100)}};
  bool ok = true;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];  // runs[i] are its rounds
    const double rate = r.m.seconds > 0 ? static_cast<double>(r.m.objects) / r.m.seconds : 0;
    const double ratio = ceiling > 0 ? r.m.seconds / ceiling : 0;
    const double median = median_ratio(i);
    std::printf("%-22s %10lld %10.2f %8.2f %12.0f %14.1f %12.2f %13.2f %13.2f\n", r.name.c_str(),
                static_cast<long long>(r.m.objects), r.m.seconds, r.m.cpu_seconds, rate,
                static_cast<double>(r.m.max_rss_kib) / 1024.0, ratio, median,
                r.m.tarball_bytes >= 0 ? static_cast<double>(r.m.tarball_bytes) / 1048576.0 : 0.0);
    summary["runs"][r.name] = {
        {"objects", r.m.objects},         {"seconds", r.m.seconds},
        {"cpu_seconds", r.m.cpu_seconds}, {"tarball_bytes", r.m.tarball_bytes},
        {"objects_per_second", rate},     {"peak_rss_kib", r.m.max_rss_kib},
        {"ratio_to_ceiling", ratio},      {"median_round_ratio", median}};
    ok = ok && r.m.exit_code == 0 && r.m.objects >= n;
  }
  std::printf("%s\n", summary.dump().c_str());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace arca::bench

int main(int argc, char** argv) { return arca::bench::Main(argc, argv); }
