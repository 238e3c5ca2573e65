#include "cli/server_cmd.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "api/duration.h"
#include "common/build_info.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "controller/server.h"
#include "kube/exec.h"
#include "objstore/s3_config.h"

namespace arca::cli {
namespace {

struct ServerFlags {
  ServerFlags() {
    kube.qps = 100;  // Velero's server defaults
    kube.burst = 100;
  }
  KubeFlags kube;
  std::string namespace_name = "velero";
  std::string metrics_address = ":8085";
  std::string default_backup_ttl = "720h";
  std::string store_validation_frequency = "1m";
  std::string garbage_collection_frequency = "1h";
  std::string backup_sync_period = "1m";
  bool schedule_skip_immediately = false;
  int concurrent_backups = 1;
  int concurrent_restores = 1;
  std::string log_format = "text";
  std::string log_level = "info";
  std::string disable_controllers;
  std::string lease_name = "arca-server";
  std::string restore_resource_priorities;
};

std::string Identity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "arca");
  }
  std::random_device rd;
  std::ostringstream id;
  id << host << "_" << std::hex << rd() << rd();
  return id.str();
}

Result<std::chrono::nanoseconds> DurationFlag(const std::string& flag, const std::string& text) {
  Result<api::Duration> d = api::ParseDuration(text);
  if (!d.ok()) {
    return InvalidArgumentError(flag + ": " + d.status().message() +
                                " (use a Go duration such as 720h, 1m or 30s)");
  }
  return *d;
}

int RunServer(const ServerFlags& flags, CommandContext& ctx) {
  Result<controller::LogFormat> format = controller::ParseLogFormat(flags.log_format);
  if (!format.ok()) {
    ctx.Fail(InvalidArgumentError("--log-format: " + format.status().message()));
    return 1;
  }
  Result<controller::LogLevel> level = controller::ParseLogLevel(flags.log_level);
  if (!level.ok()) {
    ctx.Fail(InvalidArgumentError("--log-level: " + level.status().message()));
    return 1;
  }
  controller::ServerOptions options;
  options.namespace_name = flags.namespace_name;
  options.metrics_address = flags.metrics_address;
  auto ttl = DurationFlag("--default-backup-ttl", flags.default_backup_ttl);
  auto freq = DurationFlag("--store-validation-frequency", flags.store_validation_frequency);
  auto gc = DurationFlag("--garbage-collection-frequency", flags.garbage_collection_frequency);
  auto sync = DurationFlag("--backup-sync-period", flags.backup_sync_period);
  for (const Status& s : {ttl.status(), freq.status(), gc.status(), sync.status()}) {
    if (!s.ok()) {
      ctx.Fail(s);
      return 1;
    }
  }
  options.default_backup_ttl = *ttl;
  options.store_validation_frequency = *freq;
  // Velero: 0 (or less) means the default, 1h.
  options.garbage_collection_frequency = *gc <= std::chrono::nanoseconds::zero()
                                             ? std::chrono::nanoseconds(std::chrono::hours(1))
                                             : *gc;
  options.schedule_skip_immediately = flags.schedule_skip_immediately;
  if (flags.concurrent_backups < 1) {
    ctx.Fail(InvalidArgumentError("--concurrent-backups " +
                                  std::to_string(flags.concurrent_backups) +
                                  ": give at least 1 (backups running at once)"));
    return 1;
  }
  options.concurrent_backups = flags.concurrent_backups;
  if (flags.concurrent_restores < 1) {
    ctx.Fail(InvalidArgumentError("--concurrent-restores " +
                                  std::to_string(flags.concurrent_restores) +
                                  ": give at least 1 (restores running at once)"));
    return 1;
  }
  options.concurrent_restores = flags.concurrent_restores;
  Result<restore::Priorities> priorities =
      restore::PrioritiesFlag("--restore-resource-priorities", flags.restore_resource_priorities);
  if (!priorities.ok()) {
    ctx.Fail(priorities.status());
    return 1;
  }
  options.restore_priorities = std::move(*priorities);
  // Velero: a negative period means the default.
  options.backup_sync_period = *sync < std::chrono::nanoseconds::zero()
                                   ? std::chrono::nanoseconds(std::chrono::minutes(1))
                                   : *sync;
  std::stringstream list(flags.disable_controllers);
  for (std::string name; std::getline(list, name, ',');) {
    if (!name.empty()) {
      options.disabled_controllers.insert(name);
    }
  }
  if (Status s = controller::CheckControllerNames(options.disabled_controllers); !s.ok()) {
    ctx.Fail(s);
    return 1;
  }
  if (flags.namespace_name.empty()) {
    ctx.Fail(
        InvalidArgumentError("--namespace is empty: name the namespace of the velero.io "
                             "resources, e.g. velero"));
    return 1;
  }
  const BuildInfo build = GetBuildInfo();
  options.server_version = "v" + std::string(build.version);
  options.leader_election.namespace_name = flags.namespace_name;
  options.leader_election.lease_name = flags.lease_name;
  options.leader_election.identity = Identity();

  // Signals go to one thread that turns them into a stop request.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Clock& clock = RealClock();
  controller::Logger log(ctx.out, clock, *format, *level);
  Result<kube::ConnectionPtr> conn = flags.kube.Connect(clock);
  if (!conn.ok()) {
    ctx.Fail(conn.status());
    return 1;
  }
  kube::Client& client = (*conn)->client();
  Result<std::unique_ptr<kube::ExecClient>> exec = kube::ExecClient::Open((*conn)->config(), clock);
  if (!exec.ok()) {
    ctx.Fail(exec.status().WithContext("setting up pods/exec for hooks"));
    return 1;
  }
  options.pod_executor = exec->get();
  controller::ClusterLocationStores stores(client, flags.namespace_name, clock,
                                           objstore::SystemEnvironment());
  log.Info("Starting arca server", {{"version", options.server_version},
                                    {"commit", std::string(build.git_commit)},
                                    {"namespace", flags.namespace_name},
                                    {"server", (*conn)->config().server},
                                    {"identity", options.leader_election.identity}});

  std::atomic<bool> stop{false};
  std::thread signal_thread([&signals, &stop, &log] {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) {
      log.Info("Received signal, shutting down",
               {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      stop = true;
    }
  });
  signal_thread.detach();

  auto server = std::make_unique<controller::Server>(client, clock, log, stores, options);
  Status s = server->Run(stop);
  ctx.out.flush();
  ctx.err.flush();
  // The controllers' informers end only at their next watch timeout; nothing is left to do, so
  // the process ends here rather than waiting for them.
  if (!s.ok()) {
    ctx.err << "arca: " << s.message() << "\n";
    ctx.err.flush();
    std::_Exit(1);
  }
  std::_Exit(0);
}

}  // namespace

void AddServerCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand("server", "Run the Arca server (the controllers)");
  flags->kube.AddTo(*cmd);
  cmd->add_option("-n,--namespace", flags->namespace_name,
                  "Namespace of the server's velero.io resources")
      ->capture_default_str();
  cmd->add_option("--metrics-address", flags->metrics_address,
                  "Address for /metrics, /healthz and /readyz (host:port, :port for all)")
      ->capture_default_str();
  cmd->add_option("--default-backup-ttl", flags->default_backup_ttl,
                  "How long to keep backups that set no ttl")
      ->capture_default_str();
  cmd->add_option("--store-validation-frequency", flags->store_validation_frequency,
                  "How often to validate backup storage locations (0: once)")
      ->capture_default_str();
  cmd->add_option("--garbage-collection-frequency", flags->garbage_collection_frequency,
                  "How often to look for expired backups to delete")
      ->capture_default_str();
  cmd->add_option("--backup-sync-period", flags->backup_sync_period,
                  "How often to sync backups from object storage into the cluster (0: never)")
      ->capture_default_str();
  cmd->add_flag("--schedule-skip-immediately", flags->schedule_skip_immediately,
                "Schedules that do not say otherwise skip the run due at creation or unpause");
  cmd->add_option("--concurrent-backups", flags->concurrent_backups,
                  "Backups running at once, when their namespaces do not overlap")
      ->capture_default_str();
  cmd->add_option("--concurrent-restores", flags->concurrent_restores,
                  "Restores running at once, when their target namespaces do not overlap")
      ->capture_default_str();
  cmd->add_option("--log-format", flags->log_format, "Log format: text or json")
      ->capture_default_str();
  cmd->add_option("--log-level", flags->log_level, "Log level: debug, info, warning, error")
      ->capture_default_str();
  cmd->add_option("--disable-controllers", flags->disable_controllers,
                  "Comma-separated controllers not to run (Velero's names)");
  cmd->add_option("--restore-resource-priorities", flags->restore_resource_priorities,
                  "The order restores create resources in: a comma list, and after a \"-\" the "
                  "low-priority ones (default: Velero's)");
  cmd->add_option("--leader-elect-lease-name", flags->lease_name,
                  "Name of the coordination.k8s.io Lease used for leader election")
      ->capture_default_str();
  cmd->callback([flags, &ctx] { ctx.exit_code = RunServer(*flags, ctx); });
}

}  // namespace arca::cli
