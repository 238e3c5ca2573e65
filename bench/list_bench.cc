// The driver of `bench/run list`: lists N ConfigMaps spread over M namespaces with Arca's client
// (paged with limit 500, and in one streamed request) and with `kubectl get --raw`, each in a
// child process so that its peak RSS is its own. Seeds the objects first when they are missing.
// Prints a table and, as the last line, one JSON object with the figures.
//
// Usage: kube_list_bench --n N --namespaces M   (KUBECONFIG and kubectl on PATH)
//        kube_list_bench --child paged|single LABEL   (internal: one listing, prints the count)

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "common/clock.h"
#include "http/curl_transport.h"
#include "kube/connection.h"
#include "kube/credentials.h"
#include "kube/kubeconfig.h"
#include "kube/list_stream.h"

namespace arca::kube {
namespace {

using bench::ChildRun;
using bench::RunChild;

constexpr int kSeedThreads = 8;

struct Measured {
  double seconds = 0;
  long max_rss_kib = 0;
  int exit_code = -1;
  int64_t objects = 0;
};

Result<std::string> Kubectl(const std::vector<std::string>& args, const std::string& stdin_text) {
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  std::vector<std::string> sh_args = {"-c", "printf '%s' \"$ARCA_STDIN\" | kubectl \"$@\"",
                                      "kubectl"};
  sh_args.insert(sh_args.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(CommandOutput out,
                   runner->Run("/bin/sh", sh_args, {{"ARCA_STDIN", stdin_text}}));
  if (out.exit_code != 0) {
    return InternalError("kubectl failed: " + out.stderr_text);
  }
  return out.stdout_text;
}

Result<std::string> AdminToken() {
  RETURN_IF_ERROR(Kubectl({"apply", "-f", "-"}, R"(
apiVersion: v1
kind: ServiceAccount
metadata: {name: arca-bench, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: arca-bench}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: arca-bench, namespace: default}]
)")
                      .status());
  ASSIGN_OR_RETURN(
      std::string token,
      Kubectl({"create", "token", "arca-bench", "-n", "default", "--duration=2h"}, ""));
  while (!token.empty() && token.back() == '\n') {
    token.pop_back();
  }
  return token;
}

// `multiplex` false: the transport runs each request on its calling thread instead of the
// HTTP/2 event loop, to compare the two paths in one run.
Result<ConnectionPtr> Connect(const std::string& token, bool multiplex = true) {
  ASSIGN_OR_RETURN(RestConfig config, LoadRestConfig(LoadOptions::FromEnvironment({}, "")));
  config.token = token;
  ClientOptions options;
  options.qps = 0;
  http::TransportOptions transport;
  transport.ca_pem = config.ca_pem;
  transport.ca_file = config.ca_file;
  transport.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
  transport.accept_compressed = true;  // as Connection::Open sets it
  transport.multiplex = multiplex;
  return Connection::OpenWithTransport(
      std::move(config), std::make_unique<http::CurlTransport>(transport), RealClock(), options);
}

ResourceRef Ref(std::string resource, std::string ns) {
  ResourceRef ref;
  ref.gvr = {"", "v1", std::move(resource)};
  ref.namespaced = true;
  ref.namespace_name = std::move(ns);
  return ref;
}

// Each (N, M) gets its own label value and namespaces, so runs with other sizes do not mix.
std::string LabelValue(int n, int namespaces) {
  return "list-" + std::to_string(n) + "-" + std::to_string(namespaces);
}

std::string NamespaceName(int namespaces, int i) {
  return "arca-bench-list-" + std::to_string(namespaces) + "-" + std::to_string(i);
}

Result<int64_t> CountObjects(Client& client, const std::string& label_value, int64_t limit) {
  ListOptions options;
  options.label_selector = "arca-bench=" + label_value;
  options.limit = limit;
  int64_t count = 0;
  RETURN_IF_ERROR(client.List(
      Ref("configmaps", ""), options,
      [&](std::string_view) {
        ++count;
        return OkStatus();
      },
      [&] { count = 0; }));
  return count;
}

Status Seed(Client& client, int n, int namespaces) {
  ASSIGN_OR_RETURN(int64_t have, CountObjects(client, LabelValue(n, namespaces), 500));
  if (have == n) {
    return OkStatus();
  }
  std::fprintf(stderr, "seeding %d ConfigMaps in %d namespaces (found %lld)...\n", n, namespaces,
               static_cast<long long>(have));
  ResourceRef ns_ref;
  ns_ref.gvr = {"", "v1", "namespaces"};
  ns_ref.namespaced = false;
  for (int i = 0; i < namespaces; ++i) {
    const nlohmann::json ns = {{"apiVersion", "v1"},
                               {"kind", "Namespace"},
                               {"metadata", {{"name", NamespaceName(namespaces, i)}}}};
    Result<std::string> r = client.Create(ns_ref, ns.dump());
    if (!r.ok() && r.status().code() != StatusCode::kAlreadyExists) {
      return r.status();
    }
  }
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  Status first_error;
  std::mutex mu;
  const std::string padding(200, 'x');
  std::vector<std::thread> threads;
  threads.reserve(kSeedThreads);
  for (int t = 0; t < kSeedThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        const std::string ns = NamespaceName(namespaces, i % namespaces);
        const nlohmann::json cm = {{"apiVersion", "v1"},
                                   {"kind", "ConfigMap"},
                                   {"metadata",
                                    {{"name", "cm-" + std::to_string(i)},
                                     {"labels", {{"arca-bench", LabelValue(n, namespaces)}}}}},
                                   {"data", {{"index", std::to_string(i)}, {"padding", padding}}}};
        Result<std::string> r = client.Create(Ref("configmaps", ns), cm.dump());
        if (!r.ok() && r.status().code() != StatusCode::kAlreadyExists) {
          ++failed;
          std::lock_guard<std::mutex> lock(mu);
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

// Runs argv with stdout into `on_stdout`, returning wall time and the child's peak RSS.
Measured RunMeasured(const std::vector<std::string>& argv,
                     const std::function<void(std::string_view)>& on_stdout) {
  const ChildRun run = RunChild(argv, on_stdout);
  Measured m;
  if (run.started) {
    m.seconds = run.seconds;
    m.max_rss_kib = run.max_rss_kib;
    m.exit_code = run.exit_code;
  }
  return m;
}

int Child(const std::string& mode, const std::string& label_value) {
  const char* token = std::getenv("ARCA_BENCH_TOKEN");  // NOLINT(concurrency-mt-unsafe)
  if (token == nullptr) {
    return 2;
  }
  Result<ConnectionPtr> conn = Connect(token, !mode.ends_with("-no-loop"));
  if (!conn.ok()) {
    std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
    return 1;
  }
  Result<int64_t> count =
      CountObjects((*conn)->client(), label_value, mode.starts_with("paged") ? 500 : 0);
  if (!count.ok()) {
    std::fprintf(stderr, "%s\n", count.status().ToString().c_str());
    return 1;
  }
  std::printf("%lld\n", static_cast<long long>(*count));
  return 0;
}

int Main(int argc, char** argv) {
  int n = 50000;
  int namespaces = 500;
  std::string self = argv[0];
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--child" && i + 2 < argc) {
      return Child(argv[i + 1], argv[i + 2]);
    }
    if (flag == "--n") {
      n = std::atoi(argv[i + 1]);
    } else if (flag == "--namespaces") {
      namespaces = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  namespaces = std::max(1, std::min(namespaces, n));
  Result<std::string> token = AdminToken();
  if (!token.ok()) {
    std::fprintf(stderr, "%s\n", token.status().ToString().c_str());
    return 1;
  }
  Result<ConnectionPtr> conn = Connect(*token);
  if (!conn.ok()) {
    std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
    return 1;
  }
  if (Status s = Seed((*conn)->client(), n, namespaces); !s.ok()) {
    std::fprintf(stderr, "seeding failed: %s\n", s.ToString().c_str());
    return 1;
  }
  ::setenv("ARCA_BENCH_TOKEN", token->c_str(), 1);  // NOLINT(concurrency-mt-unsafe)

  struct Row {
    std::string name;
    Measured m;
  };
  std::vector<Row> rows;
  for (const char* mode : {"paged", "single", "single-no-loop"}) {
    std::string out;
    Measured m = RunMeasured({self, "--child", mode, LabelValue(n, namespaces)},
                             [&](std::string_view s) { out += s; });
    m.objects = std::atoll(out.c_str());
    rows.push_back({std::string("arca-") + mode, m});
  }
  {
    ListStreamParser parser([](std::string_view) { return OkStatus(); });
    Status parse_status;
    Measured m =
        RunMeasured({"kubectl", "get", "--raw",
                     "/api/v1/configmaps?labelSelector=arca-bench%3D" + LabelValue(n, namespaces)},
                    [&](std::string_view s) {
                      if (parse_status.ok()) {
                        parse_status = parser.Feed(s);
                      }
                    });
    m.objects = parse_status.ok() && parser.Finish().ok() ? parser.items() : -1;
    rows.push_back({"kubectl-get-raw", m});
  }

  std::printf("%-20s %10s %10s %14s %14s\n", "client", "objects", "seconds", "objects/s",
              "peak RSS MiB");
  nlohmann::json summary = {{"benchmark", "list"}, {"n", n}, {"namespaces", namespaces}};
  bool ok = true;
  for (const Row& r : rows) {
    const double rate = r.m.seconds > 0 ? static_cast<double>(r.m.objects) / r.m.seconds : 0;
    std::printf("%-20s %10lld %10.2f %14.0f %14.1f\n", r.name.c_str(),
                static_cast<long long>(r.m.objects), r.m.seconds, rate,
                static_cast<double>(r.m.max_rss_kib) / 1024.0);
    summary["clients"][r.name] = {{"objects", r.m.objects},
                                  {"seconds", r.m.seconds},
                                  {"objects_per_second", rate},
                                  {"peak_rss_kib", r.m.max_rss_kib}};
    ok = ok && r.m.exit_code == 0 && r.m.objects == n;
  }
  std::printf("%s\n", summary.dump().c_str());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace arca::kube

int main(int argc, char** argv) { return arca::kube::Main(argc, argv); }
