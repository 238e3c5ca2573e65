#include "cli/location_cmd.h"

#include <cctype>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <utility>

#include "api/backup_storage_location.h"
#include "api/duration.h"
#include "api/names.h"
#include "cli/format.h"
#include "kube/encoding.h"

namespace arca::cli {
namespace {

constexpr char kLocations[] = "backupstoragelocations";
constexpr char kStorageLocationLabel[] = "velero.io/storage-location";

Status CheckAccessMode(const std::string& mode) {
  if (mode == api::access_mode::kReadWrite || mode == api::access_mode::kReadOnly) {
    return OkStatus();
  }
  return InvalidArgumentError("--access-mode \"" + mode +
                              "\" is not an access mode: use ReadWrite or ReadOnly");
}

Result<api::SecretKeySelector> ParseCredential(const std::vector<std::string>& items) {
  const char* example =
      "; write --credential SECRET=KEY, e.g. --credential cloud-credentials=cloud";
  if (items.size() != 1) {
    return InvalidArgumentError("--credential takes exactly one SECRET=KEY pair, got " +
                                std::to_string(items.size()) + example);
  }
  const std::string& item = items[0];
  const size_t eq = item.find('=');
  if (eq == std::string::npos || Trim(item.substr(0, eq)).empty() ||
      Trim(item.substr(eq + 1)).empty()) {
    return InvalidArgumentError("--credential \"" + item + "\" is not of the form SECRET=KEY" +
                                example);
  }
  return api::SecretKeySelector{.name = Trim(item.substr(0, eq)), .key = Trim(item.substr(eq + 1))};
}

Result<std::optional<api::Duration>> ParseFlagDuration(const std::string& flag,
                                                       const std::string& text) {
  if (text.empty()) {
    return std::optional<api::Duration>();
  }
  Result<api::Duration> d = api::ParseDuration(text);
  if (!d.ok()) {
    return InvalidArgumentError(flag + " \"" + text + "\": " + d.status().message() +
                                "; use a Go duration such as 30s, 5m or 1h (0s disables it)");
  }
  if (d->count() < 0) {
    return InvalidArgumentError(flag + " \"" + text + "\" must not be negative (0s disables it)");
  }
  return std::optional<api::Duration>(*d);
}

Result<std::string> ReadCaCert(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError("--cacert " + path +
                                ": cannot read the file; give a PEM certificate bundle");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) {
    return InvalidArgumentError("--cacert " + path + ": the file is empty");
  }
  return kube::Base64Encode(ss.str());
}

std::string Name(const nlohmann::json& obj) {
  return obj.contains("metadata") ? obj["metadata"].value("name", "") : std::string();
}

bool IsDefault(const nlohmann::json& obj) {
  return obj.contains("spec") && obj["spec"].is_object() && obj["spec"].value("default", false);
}

// Deletes the objects of `resource` labelled with the location, printing one line each.
void DeleteAssociated(VeleroClient& client, const std::string& resource, const std::string& what,
                      const std::string& location, CommandContext& ctx) {
  Result<std::vector<nlohmann::json>> items =
      client.List(resource, std::string(kStorageLocationLabel) + "=" + api::GetValidName(location));
  if (!items.ok()) {
    ctx.Fail(Status(items.status().code(), "find " + what + "s associated with BSL \"" + location +
                                               "\": " + items.status().message()));
    return;
  }
  for (const nlohmann::json& item : *items) {
    Status st = client.Delete(resource, Name(item));
    if (!st.ok() && st.code() != StatusCode::kNotFound) {
      ctx.Fail(Status(st.code(), "delete " + what + " \"" + Name(item) +
                                     "\" associated with deleted BSL: " + st.message()));
      continue;
    }
    std::string label = what;
    label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
    ctx.out << label << " associated with deleted BSL(s) \"" << Name(item)
            << "\" deleted successfully.\n";
  }
}

void RunCreate(CommandContext& ctx, const ClusterFlags& cluster, const LocationCreateFlags& f,
               const std::string& output) {
  Result<std::optional<OutputFormat>> format = ParsePrintOnlyFormat(output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  Result<nlohmann::json> bsl = BuildLocation(f, cluster.Namespace());
  if (!bsl.ok()) {
    ctx.Fail(bsl.status());
    return;
  }
  if (format->has_value()) {
    PrintObject(ctx.out, **format, *bsl);
    return;
  }
  Result<VeleroClient> client = VeleroClient::Connect(cluster, RealClock());
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  Status st = CreateLocation(*client, *bsl, ctx.out);
  if (!st.ok()) {
    ctx.Fail(st);
  }
}

void RunGet(CommandContext& ctx, const ClusterFlags& cluster, const std::vector<std::string>& names,
            const std::string& selector, bool only_default, const std::string& output) {
  Result<OutputFormat> format = ParseOutputFormat(output);
  if (!format.ok()) {
    ctx.Fail(format.status());
    return;
  }
  if (!names.empty() && !selector.empty()) {
    ctx.Fail(InvalidArgumentError("give location names or -l/--selector, not both"));
    return;
  }
  Result<VeleroClient> client = VeleroClient::Connect(cluster, RealClock());
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  std::vector<nlohmann::json> items;
  if (names.empty()) {
    Result<std::vector<nlohmann::json>> all = client->List(kLocations, selector);
    if (!all.ok()) {
      ctx.Fail(all.status());
      return;
    }
    items = std::move(*all);
  } else {
    for (const std::string& name : names) {
      Result<nlohmann::json> obj = client->Get(kLocations, name);
      if (!obj.ok()) {
        ctx.Fail(obj.status());
        return;
      }
      items.push_back(std::move(*obj));
    }
  }
  if (only_default) {
    std::erase_if(items, [](const nlohmann::json& o) { return !IsDefault(o); });
    if (items.empty()) {
      ctx.Fail(NotFoundError("no backup storage location is the default in namespace " +
                             client->namespace_name() +
                             "; make one with `arca backup-location set NAME --default`"));
      return;
    }
  }
  if (*format == OutputFormat::kTable) {
    PrintLocationTable(ctx.out, items);
  } else {
    PrintObjects(ctx.out, *format, items, names.size() == 1 || only_default);
  }
}

}  // namespace

Result<nlohmann::json> BuildLocation(const LocationCreateFlags& f, const std::string& ns) {
  if (f.name.empty()) {
    return InvalidArgumentError(
        "a location name is required: arca backup-location create NAME --provider aws --bucket B");
  }
  if (f.provider.empty()) {
    return InvalidArgumentError(
        "--provider is required (aws for S3 and compatible stores, or "
        "filesystem)");
  }
  std::string bucket = f.bucket;
  while (!bucket.empty() && bucket.front() == '/') {
    bucket.erase(bucket.begin());
  }
  while (!bucket.empty() && bucket.back() == '/') {
    bucket.pop_back();
  }
  if (bucket.empty()) {
    return InvalidArgumentError("--bucket is required: the bucket (or folder) backups go to");
  }
  if (bucket.find('/') != std::string::npos) {
    return InvalidArgumentError("--bucket \"" + f.bucket +
                                "\" must not contain '/'; put the path inside the bucket in "
                                "--prefix");
  }
  RETURN_IF_ERROR(CheckAccessMode(f.access_mode));
  api::BackupStorageLocation bsl;
  bsl.metadata.name = f.name;
  bsl.metadata.namespace_ = ns;
  ASSIGN_OR_RETURN(bsl.metadata.labels, ParseMapFlag("--labels", f.labels));
  bsl.spec.provider = f.provider;
  ASSIGN_OR_RETURN(bsl.spec.config, ParseMapFlag("--config", f.config));
  if (!f.credential.empty()) {
    ASSIGN_OR_RETURN(api::SecretKeySelector cred, ParseCredential(f.credential));
    bsl.spec.credential = std::move(cred);
  }
  bsl.spec.object_storage.bucket = bucket;
  bsl.spec.object_storage.prefix = f.prefix;
  if (!f.cacert_file.empty()) {
    ASSIGN_OR_RETURN(bsl.spec.object_storage.ca_cert, ReadCaCert(f.cacert_file));
  }
  bsl.spec.default_location = f.is_default;
  bsl.spec.access_mode = f.access_mode;
  ASSIGN_OR_RETURN(bsl.spec.backup_sync_period,
                   ParseFlagDuration("--backup-sync-period", f.backup_sync_period));
  ASSIGN_OR_RETURN(bsl.spec.validation_frequency,
                   ParseFlagDuration("--validation-frequency", f.validation_frequency));
  return api::BackupStorageLocationToJson(bsl);
}

Result<std::vector<std::string>> ClearOtherDefaults(VeleroClient& client, const std::string& keep) {
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> all, client.List(kLocations));
  std::vector<std::string> changed;
  for (const nlohmann::json& obj : all) {
    const std::string name = Name(obj);
    if (name == keep || !IsDefault(obj)) {
      continue;
    }
    Result<nlohmann::json> patched =
        client.MergePatch(kLocations, name, {{"spec", {{"default", false}}}});
    if (!patched.ok()) {
      return Status(patched.status().code(), "clearing the default flag of location \"" + name +
                                                 "\": " + patched.status().message());
    }
    changed.push_back(name);
  }
  return changed;
}

Status CreateLocation(VeleroClient& client, const nlohmann::json& location, std::ostream& out) {
  ASSIGN_OR_RETURN(nlohmann::json created, client.Create(kLocations, location));
  const std::string name = Name(created);
  if (IsDefault(created)) {
    ASSIGN_OR_RETURN(std::vector<std::string> cleared, ClearOtherDefaults(client, name));
    for (const std::string& other : cleared) {
      out << "Backup storage location \"" << other << "\" is no longer the default.\n";
    }
  }
  out << "Backup storage location \"" << name << "\" configured successfully.\n";
  return OkStatus();
}

Status SetLocation(VeleroClient& client, const LocationSetFlags& f, std::ostream& out) {
  nlohmann::json spec = nlohmann::json::object();
  if (f.is_default.has_value()) {
    spec["default"] = *f.is_default;
  }
  if (!f.credential.empty()) {
    ASSIGN_OR_RETURN(api::SecretKeySelector cred, ParseCredential(f.credential));
    spec["credential"] = {{"name", cred.name}, {"key", cred.key}};
  }
  if (!f.cacert_file.empty()) {
    ASSIGN_OR_RETURN(std::string ca, ReadCaCert(f.cacert_file));
    spec["objectStorage"] = {{"caCert", ca}};
  }
  if (!f.access_mode.empty()) {
    RETURN_IF_ERROR(CheckAccessMode(f.access_mode));
    spec["accessMode"] = f.access_mode;
  }
  if (spec.empty()) {
    return InvalidArgumentError(
        "nothing to change: give --default, --credential, --cacert or --access-mode");
  }
  // Fails with the namespace named when the location does not exist, before other defaults move.
  RETURN_IF_ERROR(client.Get(kLocations, f.name).status());
  if (f.is_default.value_or(false)) {
    ASSIGN_OR_RETURN(std::vector<std::string> cleared, ClearOtherDefaults(client, f.name));
    for (const std::string& other : cleared) {
      out << "Backup storage location \"" << other << "\" is no longer the default.\n";
    }
  }
  RETURN_IF_ERROR(client.MergePatch(kLocations, f.name, {{"spec", spec}}).status());
  out << "Backup storage location \"" << f.name << "\" configured successfully.\n";
  return OkStatus();
}

void PrintLocationTable(std::ostream& out, const std::vector<nlohmann::json>& locations) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "PROVIDER", "BUCKET/PREFIX", "PHASE", "LAST VALIDATED", "ACCESS MODE", "DEFAULT"}};
  for (const nlohmann::json& j : locations) {
    Result<api::BackupStorageLocation> bsl = api::BackupStorageLocationFromJson(j);
    if (!bsl.ok()) {
      rows.push_back({Name(j), "<error: " + bsl.status().message() + ">"});
      continue;
    }
    std::string where = bsl->spec.object_storage.bucket;
    if (!bsl->spec.object_storage.prefix.empty()) {
      where += "/" + bsl->spec.object_storage.prefix;
    }
    rows.push_back({
        bsl->metadata.name,
        bsl->spec.provider,
        where,
        bsl->status.phase.empty() ? "Unknown" : bsl->status.phase,
        bsl->status.last_validation_time.empty() ? "Unknown"
                                                 : FormatTime(bsl->status.last_validation_time),
        bsl->spec.access_mode.empty() ? api::access_mode::kReadWrite : bsl->spec.access_mode,
        bsl->spec.default_location ? "true" : "",
    });
  }
  PrintTable(out, rows);
}

void DeleteLocations(VeleroClient& client, const Selection& selection, CommandContext& ctx) {
  Result<std::vector<nlohmann::json>> locations = SelectObjects(client, kLocations, selection, ctx);
  if (!locations.ok()) {
    ctx.Fail(locations.status());
    return;
  }
  if (locations->empty()) {
    if (ctx.exit_code == 0) {
      ctx.out << "No backup-locations found\n";
    }
    return;
  }
  for (const nlohmann::json& location : *locations) {
    const std::string name = Name(location);
    Status st = client.Delete(kLocations, name);
    if (!st.ok()) {
      ctx.Fail(st);
      continue;
    }
    ctx.out << "Backup storage location \"" << name << "\" deleted successfully.\n";
    DeleteAssociated(client, "backups", "backup", name, ctx);
    DeleteAssociated(client, "backuprepositories", "backup repository", name, ctx);
  }
}

void AddLocationCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* bsl = app.add_subcommand("backup-location", "Work with backup storage locations");
  bsl->alias("backup-locations");
  bsl->require_subcommand(1);

  // create
  {
    struct State {
      ClusterFlags cluster;
      LocationCreateFlags flags;
      std::string output;
    };
    auto st = std::make_shared<State>();
    LocationCreateFlags& f = st->flags;
    CLI::App* create = bsl->add_subcommand("create", "Create a backup storage location");
    create->add_option("NAME", f.name, "The location's name")->required();
    create->add_option("--provider", f.provider,
                       "The object store: aws (S3 and compatible stores) or filesystem");
    create->add_option("--bucket", f.bucket, "The bucket backups are stored in");
    create->add_option("--prefix", f.prefix, "The path inside the bucket backups go under");
    create
        ->add_option("--config", f.config,
                     "Provider settings: key=value,... (e.g. region=us-east-1,"
                     "s3ForcePathStyle=true,s3Url=http://minio:9000)")
        ->delimiter(',');
    create->add_option("--credential", f.credential,
                       "The Secret (in the server's namespace) and key holding the store's "
                       "credentials: SECRET=KEY");
    create->add_flag("--default", f.is_default,
                     "Make this the default location (the others stop being default)");
    create->add_option("--access-mode", f.access_mode, "ReadWrite (default) or ReadOnly");
    create->add_option("--backup-sync-period", f.backup_sync_period,
                       "How often backups in the store are synced into the cluster (Go duration; "
                       "0s disables; default: the server's --backup-sync-period)");
    create->add_option("--validation-frequency", f.validation_frequency,
                       "How often the location is validated (Go duration; 0s: once; default: the "
                       "server's --store-validation-frequency)");
    create->add_option("--cacert", f.cacert_file,
                       "A PEM bundle to verify the store's TLS certificate with");
    create->add_option("--labels", f.labels, "Labels of the location: key=value,...")
        ->delimiter(',');
    create->add_option("-o,--output", st->output,
                       "Print the BackupStorageLocation as json or yaml instead of creating it");
    st->cluster.AddTo(*create);
    create->callback([&ctx, st] { RunCreate(ctx, st->cluster, st->flags, st->output); });
  }

  // get
  {
    struct State {
      ClusterFlags cluster;
      std::vector<std::string> names;
      std::string selector;
      bool only_default = false;
      std::string output = "table";
    };
    auto st = std::make_shared<State>();
    CLI::App* get = bsl->add_subcommand("get", "List backup storage locations");
    get->add_option("NAMES", st->names, "Only these locations");
    get->add_option("-l,--selector", st->selector, "Only locations matching this label selector");
    get->add_flag("--default", st->only_default, "Only the default location");
    get->add_option("-o,--output", st->output, "table, json or yaml");
    st->cluster.AddTo(*get);
    get->callback([&ctx, st] {
      RunGet(ctx, st->cluster, st->names, st->selector, st->only_default, st->output);
    });
  }

  // set
  {
    struct State {
      ClusterFlags cluster;
      LocationSetFlags flags;
      bool default_value = false;
      CLI::Option* default_opt = nullptr;
    };
    auto st = std::make_shared<State>();
    CLI::App* set = bsl->add_subcommand("set", "Change a backup storage location");
    set->add_option("NAME", st->flags.name, "The location")->required();
    st->default_opt =
        set->add_flag("--default", st->default_value,
                      "Make this the default location (=false: stop being the default)");
    set->add_option("--credential", st->flags.credential,
                    "The Secret and key holding the store's credentials: SECRET=KEY");
    set->add_option("--cacert", st->flags.cacert_file,
                    "A PEM bundle to verify the store's TLS certificate with");
    set->add_option("--access-mode", st->flags.access_mode, "ReadWrite or ReadOnly");
    st->cluster.AddTo(*set);
    set->callback([&ctx, st] {
      if (st->default_opt->count() > 0) {
        st->flags.is_default = st->default_value;
      }
      Result<VeleroClient> client = VeleroClient::Connect(st->cluster, RealClock());
      if (!client.ok()) {
        ctx.Fail(client.status());
        return;
      }
      Status done = SetLocation(*client, st->flags, ctx.out);
      if (!done.ok()) {
        ctx.Fail(done);
      }
    });
  }

  // delete
  {
    struct State {
      ClusterFlags cluster;
      Selection selection;
      bool confirm = false;
    };
    auto st = std::make_shared<State>();
    CLI::App* del = bsl->add_subcommand(
        "delete",
        "Delete backup storage locations, and their Backup objects from the cluster (the data in "
        "object storage stays)");
    AddSelectionFlags(*del, st->selection, "locations");
    del->add_flag("--confirm", st->confirm, "Delete without asking");
    st->cluster.AddTo(*del);
    del->callback([&ctx, st] {
      std::optional<VeleroClient> client = StartSelectionCommand(
          st->cluster, st->selection, "backup-location", st->confirm, &std::cin, ctx);
      if (!client) {
        return;
      }
      DeleteLocations(*client, st->selection, ctx);
    });
  }
}

}  // namespace arca::cli
