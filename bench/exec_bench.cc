// exec_bench: Arca's pods/exec client against `kubectl exec`, side by side in one run, on the
// cluster in KUBECONFIG (the test environment's kwok node runs the commands on this machine).
//
//   exec_bench [--n N] [--mib M]
//
// Makes a namespace with one pod, then measures, for each client: N sequential execs of `true`
// (execs per second: connection, TLS, upgrade and teardown dominate), and one exec whose stdout is
// M MiB (MiB/s through the API server's stream translation). Prints a table, then one JSON line
// with the figures and the ratios arca/kubectl. Not a test: nothing is judged here.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/credentials.h"
#include "kube/exec.h"
#include "kube/kubeconfig.h"

namespace {

using arca::kube::CommandOutput;
using Steady = std::chrono::steady_clock;

CommandOutput Sh(const std::string& script) {
  std::unique_ptr<arca::kube::CommandRunner> runner = arca::kube::MakeProcessRunner();
  arca::Result<CommandOutput> out = runner->Run("/bin/sh", {"-c", script}, {});
  if (!out.ok()) {
    std::fprintf(stderr, "exec_bench: %s\n", out.status().ToString().c_str());
    std::exit(1);
  }
  return *out;
}

void MustSh(const std::string& script) {
  CommandOutput out = Sh(script);
  if (out.exit_code != 0) {
    std::fprintf(stderr, "exec_bench: `%s` failed: %s\n", script.c_str(), out.stderr_text.c_str());
    std::exit(1);
  }
}

double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int n = 50;
  int mib = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--n") {
      n = std::atoi(argv[i + 1]);
    } else if (flag == "--mib") {
      mib = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: exec_bench [--n N] [--mib M]\n");
      return 2;
    }
  }
  if (n <= 0 || mib <= 0) {
    std::fprintf(stderr, "exec_bench: --n and --mib must be positive\n");
    return 2;
  }
  std::random_device rd;
  const std::string ns =
      "bench-exec-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 10000);
  MustSh("kubectl create namespace " + ns + " >/dev/null");
  MustSh("kubectl -n " + ns +
         " run shell --image=registry.invalid/shell:1 --restart=Never >/dev/null && kubectl -n " +
         ns + " wait pod/shell --for=condition=Ready --timeout=60s >/dev/null");

  arca::Result<arca::kube::RestConfig> config =
      arca::kube::LoadRestConfig(arca::kube::LoadOptions::FromEnvironment(std::nullopt, ""));
  if (!config.ok()) {
    std::fprintf(stderr, "exec_bench: %s\n", config.status().ToString().c_str());
    return 1;
  }
  arca::Result<std::unique_ptr<arca::kube::ExecClient>> client =
      arca::kube::ExecClient::Open(*config, arca::RealClock());
  if (!client.ok()) {
    std::fprintf(stderr, "exec_bench: %s\n", client.status().ToString().c_str());
    return 1;
  }
  arca::kube::ExecRequest req;
  req.namespace_name = ns;
  req.pod = "shell";
  req.command = {"true"};

  // Small execs.
  Steady::time_point t = Steady::now();
  for (int i = 0; i < n; ++i) {
    arca::Result<arca::kube::ExecResult> r = (*client)->Exec(req);
    if (!r.ok() || r->exit_code != 0) {
      std::fprintf(stderr, "exec_bench: arca exec failed: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  const double arca_small = Seconds(t);
  t = Steady::now();
  MustSh("i=0; while [ $i -lt " + std::to_string(n) + " ]; do kubectl -n " + ns +
         " exec shell -- true || exit 1; i=$((i+1)); done");
  const double kubectl_small = Seconds(t);

  // One large output.
  const size_t bytes = static_cast<size_t>(mib) << 20;
  req.command = {"head", "-c", std::to_string(bytes), "/dev/zero"};
  req.max_output = bytes;
  req.timeout = std::chrono::minutes(10);
  t = Steady::now();
  arca::Result<arca::kube::ExecResult> big = (*client)->Exec(req);
  const double arca_big = Seconds(t);
  if (!big.ok() || big->stdout_text.size() != bytes) {
    std::fprintf(stderr, "exec_bench: arca large exec failed: %s\n",
                 big.status().ToString().c_str());
    return 1;
  }
  big = arca::Result<arca::kube::ExecResult>(arca::kube::ExecResult{});  // free it
  t = Steady::now();
  CommandOutput counted = Sh("kubectl -n " + ns + " exec shell -- head -c " +
                             std::to_string(bytes) + " /dev/zero | wc -c");
  const double kubectl_big = Seconds(t);
  if (std::strtoull(counted.stdout_text.c_str(), nullptr, 10) != bytes) {
    std::fprintf(stderr, "exec_bench: kubectl large exec gave %s bytes\n",
                 counted.stdout_text.c_str());
    return 1;
  }
  Sh("kubectl delete namespace " + ns + " --wait=false >/dev/null 2>&1");

  const double arca_rate = n / arca_small;
  const double kubectl_rate = n / kubectl_small;
  const double arca_mibs = mib / arca_big;
  const double kubectl_mibs = mib / kubectl_big;
  std::printf("%-8s %14s %14s\n", "client", "execs/s (true)", "MiB/s (stdout)");
  std::printf("%-8s %14.1f %14.1f\n", "arca", arca_rate, arca_mibs);
  std::printf("%-8s %14.1f %14.1f\n", "kubectl", kubectl_rate, kubectl_mibs);
  nlohmann::json summary = {
      {"benchmark", "exec"},
      {"n", n},
      {"mib", mib},
      {"clients",
       {{"arca", {{"execs_per_s", arca_rate}, {"mib_per_s", arca_mibs}}},
        {"kubectl", {{"execs_per_s", kubectl_rate}, {"mib_per_s", kubectl_mibs}}}}},
      {"ratios",
       {{"execs_per_s", arca_rate / kubectl_rate}, {"mib_per_s", arca_mibs / kubectl_mibs}}}};
  std::printf("%s\n", summary.dump().c_str());
  return 0;
}
