#include "cli/install_cmd.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "api/duration.h"
#include "install/apply.h"
#include "install/manifests.h"
#include "install/yaml.h"

namespace arca::cli {
namespace {

struct InstallFlags {
  install::InstallOptions options;
  std::vector<std::string> config;  // k=v entries of --backup-location-config
  std::string secret_file;
  bool dry_run = false;
  std::string output = "yaml";
  int concurrent_backups = 0;  // 0: the server's default
  std::string gc_frequency;
  KubeFlags kube;
};

struct UninstallFlags {
  std::string namespace_;
  bool wait = false;
  KubeFlags kube;
};

std::string DefaultNamespace() {
  const char* env = std::getenv("VELERO_NAMESPACE");  // NOLINT(concurrency-mt-unsafe)
  return env != nullptr && env[0] != '\0' ? env : "velero";
}

Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& items,
                                                          std::string_view flag) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    std::stringstream parts(item);
    std::string pair;
    while (std::getline(parts, pair, ',')) {
      const size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgumentError(std::string(flag) + ": '" + pair +
                                    "' is not key=value (e.g. region=us-east-1,s3Url=http://...)");
      }
      out[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  return out;
}

Status RunInstall(InstallFlags& f, CommandContext& ctx) {
  // Velero's install flags that become server arguments.
  if (f.concurrent_backups < 0) {
    return InvalidArgumentError("--concurrent-backups " + std::to_string(f.concurrent_backups) +
                                ": give at least 1");
  }
  if (f.concurrent_backups > 0) {
    f.options.server_args.push_back("--concurrent-backups=" + std::to_string(f.concurrent_backups));
  }
  if (!f.gc_frequency.empty()) {
    if (Result<api::Duration> d = api::ParseDuration(f.gc_frequency); !d.ok()) {
      return InvalidArgumentError("--garbage-collection-frequency " + f.gc_frequency + ": " +
                                  d.status().message() + " (use a Go duration such as 1h)");
    }
    f.options.server_args.push_back("--garbage-collection-frequency=" + f.gc_frequency);
  }
  ASSIGN_OR_RETURN(f.options.backup_location_config,
                   ParseKeyValues(f.config, "--backup-location-config"));
  if (!f.secret_file.empty()) {
    std::ifstream in(f.secret_file, std::ios::binary);
    if (!in) {
      return InvalidArgumentError("--secret-file " + f.secret_file + ": cannot be read");
    }
    std::stringstream text;
    text << in.rdbuf();
    f.options.secret_data = text.str();
  }
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> objects, install::InstallObjects(f.options));
  if (f.dry_run) {
    for (const nlohmann::json& object : objects) {
      if (f.output == "json") {
        ctx.out << object.dump(2) << "\n";
      } else {
        ctx.out << "---\n" << install::ToYaml(object);
      }
    }
    return OkStatus();
  }
  ASSIGN_OR_RETURN(kube::ConnectionPtr conn, f.kube.Connect(RealClock()));
  RETURN_IF_ERROR(install::ApplyObjects(conn->client(), objects, RealClock(),
                                        [&](std::string_view line) { ctx.out << line << "\n"; }));
  ctx.out << "Arca is installed in namespace " << f.options.namespace_ << ".";
  if (f.options.no_deployment) {
    ctx.out << " Run the server yourself: arca server --namespace " << f.options.namespace_;
  }
  ctx.out << "\n";
  return OkStatus();
}

Status RunUninstall(const UninstallFlags& f, CommandContext& ctx) {
  install::InstallOptions options;
  options.namespace_ = f.namespace_;
  options.no_default_backup_location = true;
  options.no_secret = true;
  // Everything install can create, whatever flags it was given.
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> objects, install::InstallObjects(options));
  objects.push_back({{"apiVersion", "v1"},
                     {"kind", "Secret"},
                     {"metadata", {{"name", "cloud-credentials"}, {"namespace", f.namespace_}}}});
  objects.push_back({{"apiVersion", "velero.io/v1"},
                     {"kind", "BackupStorageLocation"},
                     {"metadata", {{"name", "default"}, {"namespace", f.namespace_}}}});
  // RemoveObjects goes in reverse: the Deployment and the location first, the CRDs last.
  std::vector<nlohmann::json> ordered;
  for (const auto& o : objects) {
    if (o["kind"] == "CustomResourceDefinition") {
      ordered.push_back(o);
    }
  }
  for (const auto& o : objects) {
    if (o["kind"] != "CustomResourceDefinition") {
      ordered.push_back(o);
    }
  }
  ASSIGN_OR_RETURN(kube::ConnectionPtr conn, f.kube.Connect(RealClock()));
  RETURN_IF_ERROR(install::RemoveObjects(
      conn->client(), ordered, RealClock(), [&](std::string_view line) { ctx.out << line << "\n"; },
      std::chrono::seconds(f.wait ? 300 : 0)));
  ctx.out << "Arca is uninstalled from namespace " << f.namespace_ << ".\n";
  return OkStatus();
}

}  // namespace

void AddInstallCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<InstallFlags>();
  flags->options.namespace_ = DefaultNamespace();
  CLI::App* install = app.add_subcommand(
      "install", "Install Arca's CRDs, RBAC, storage location and server into a cluster");
  install->add_option("-n,--namespace", flags->options.namespace_, "The namespace to install into")
      ->capture_default_str();
  install->add_option("--provider", flags->options.provider,
                      "Object storage provider of the default location: aws or filesystem");
  install->add_option("--bucket", flags->options.bucket, "Bucket of the default location");
  install->add_option("--prefix", flags->options.prefix, "Prefix inside the bucket");
  install->add_option("--backup-location-config", flags->config,
                      "Location config, key=value pairs separated by commas");
  install->add_option("--secret-file", flags->secret_file,
                      "Credentials file for the provider (AWS shared-credentials format)");
  install->add_flag("--no-secret", flags->options.no_secret,
                    "Create no credentials secret (credentials come from elsewhere)");
  install->add_flag("--no-default-backup-location", flags->options.no_default_backup_location,
                    "Create no default BackupStorageLocation");
  install->add_option("--image", flags->options.image, "The server's container image")
      ->capture_default_str();
  install->add_flag("--no-deployment", flags->options.no_deployment,
                    "Leave out the server Deployment (run `arca server` elsewhere)");
  install->add_flag("--crds-only", flags->options.crds_only, "Install only the CRDs");
  install->add_option("--server-arg", flags->options.server_args,
                      "An extra argument for `arca server` in the Deployment (repeatable)");
  install->add_option("--concurrent-backups", flags->concurrent_backups,
                      "Backups the server runs at once (its --concurrent-backups)");
  install->add_option("--garbage-collection-frequency", flags->gc_frequency,
                      "How often the server looks for expired backups (e.g. 1h)");
  install->add_flag("--dry-run", flags->dry_run, "Print the objects instead of creating them");
  install->add_option("-o,--output", flags->output, "Output format with --dry-run")
      ->check(CLI::IsMember({"yaml", "json"}))
      ->capture_default_str();
  flags->kube.AddTo(*install);
  install->callback([flags, &ctx] {
    if (Status s = RunInstall(*flags, ctx); !s.ok()) {
      ctx.Fail(s);
    }
  });

  auto uflags = std::make_shared<UninstallFlags>();
  uflags->namespace_ = DefaultNamespace();
  CLI::App* uninstall = app.add_subcommand("uninstall", "Remove everything `arca install` created");
  uninstall->add_option("-n,--namespace", uflags->namespace_, "The namespace Arca is in")
      ->capture_default_str();
  uninstall->add_flag("--wait", uflags->wait, "Wait until the namespace is gone");
  uflags->kube.AddTo(*uninstall);
  uninstall->callback([uflags, &ctx] {
    if (Status s = RunUninstall(*uflags, ctx); !s.ok()) {
      ctx.Fail(s);
    }
  });
}

}  // namespace arca::cli
