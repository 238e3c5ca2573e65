#include "cli/download.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "api/backup.h"
#include "api/backup_storage_location.h"
#include "api/duration.h"
#include "api/requests.h"
#include "api/restore.h"
#include "archive/gzip.h"
#include "http/curl_transport.h"
#include "http/uri.h"
#include "objstore/s3_config.h"

namespace arca::cli {
namespace {

bool OneOf(std::string_view value, std::initializer_list<std::string_view> set) {
  for (std::string_view s : set) {
    if (s == value) {
      return true;
    }
  }
  return false;
}

bool IsLogKind(std::string_view kind) {
  return kind == api::download_kind::kBackupLog || kind == api::download_kind::kRestoreLog;
}

std::string Phase(const nlohmann::json& obj) {
  if (obj.contains("status") && obj["status"].is_object()) {
    return obj["status"].value("phase", "");
  }
  return "";
}

// Velero's rules on which files exist in which phase.
Status CheckPhase(bool restore, const std::string& name, std::string_view kind,
                  const std::string& phase) {
  const std::string what = restore ? "restore" : "backup";
  const std::string shown = phase.empty() ? "New" : phase;
  const std::string describe = "`arca " + what + " describe " + name + "`";
  if (phase == api::backup_phase::kFailedValidation) {  // same spelling for restores
    return FailedPreconditionError(what + " \"" + name + "\" failed validation, so it has no " +
                                   DownloadWhat(kind) + "; see the reasons with " + describe);
  }
  if (IsLogKind(kind)) {
    // Velero: logs only once the work is done (or waiting for plugin operations).
    if (!OneOf(phase, {api::backup_phase::kCompleted, api::backup_phase::kPartiallyFailed,
                       api::backup_phase::kFailed, api::backup_phase::kWaitingForPluginOperations,
                       api::backup_phase::kWaitingForPluginOperationsPartiallyFailed})) {
      return FailedPreconditionError(what + " \"" + name + "\" has no logs yet: it is " + shown +
                                     "; logs are available once it is Completed, PartiallyFailed "
                                     "or Failed (follow it with " +
                                     describe + ")");
    }
    return OkStatus();
  }
  if (OneOf(phase, {"", api::backup_phase::kNew, api::backup_phase::kQueued,
                    api::backup_phase::kReadyToStart, api::backup_phase::kInProgress})) {
    return FailedPreconditionError(what + " \"" + name + "\" has no " + DownloadWhat(kind) +
                                   " yet: it is " + shown + "; try again once it has finished");
  }
  return OkStatus();
}

std::string RandomSuffix() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::array<char, 37> buf{};
  const uint64_t a = gen();
  const uint64_t b = gen();
  std::snprintf(buf.data(), buf.size(), "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return std::string(buf.data());
}

// A DownloadRequest name: <target>-<uuid>, the target cut so that the name stays valid.
std::string RequestName(const std::string& target) {
  constexpr size_t kMax = 253 - 37;
  std::string prefix = target.substr(0, kMax);
  while (!prefix.empty() && (prefix.back() == '-' || prefix.back() == '.')) {
    prefix.pop_back();
  }
  return prefix + "-" + RandomSuffix();
}

Status FetchFile(const std::string& url, const objstore::ObjectSink& sink) {
  ASSIGN_OR_RETURN(std::string path, http::UriDecode(std::string_view(url).substr(7), false));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("download URL " + url + ": cannot open " + path +
                         " (the URL is a local path on the server's machine)");
  }
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    if (n > 0) {
      RETURN_IF_ERROR(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
    }
  }
  if (in.bad()) {
    return UnavailableError("reading " + path + " failed");
  }
  return OkStatus();
}

Status FetchHttp(const std::string& url, const DownloadOptions& options,
                 const objstore::ObjectSink& sink) {
  std::unique_ptr<http::Transport> own;
  http::Transport* transport = options.transport;
  if (transport == nullptr) {
    http::TransportOptions topts;
    topts.ca_file = options.ca_file;
    topts.insecure_skip_tls_verify = options.insecure_skip_tls_verify;
    own = std::make_unique<http::CurlTransport>(topts);
    transport = own.get();
  }
  http::Request req;
  req.method = "GET";
  req.url = url;
  const http::BodySink body_sink = [&sink](std::string_view chunk) { return sink(chunk); };
  Result<http::Response> resp = transport->Send(req, &body_sink);
  if (!resp.ok()) {
    return resp.status().WithContext("fetching the download URL " + http::RedactUrl(url));
  }
  if (resp->status / 100 == 2) {
    return OkStatus();
  }
  std::string message = "GET " + http::RedactUrl(url) + " answered HTTP " +
                        std::to_string(resp->status) + ": " + resp->body.substr(0, 300);
  if (resp->status == 404) {
    return NotFoundError(message);
  }
  if (resp->status == 403) {
    return PermissionDeniedError(message);
  }
  return UnavailableError(message);
}

Status FetchUrl(const std::string& url, const DownloadOptions& options,
                const objstore::ObjectSink& sink) {
  if (url.starts_with("file://")) {
    return FetchFile(url, sink);
  }
  if (url.starts_with("http://") || url.starts_with("https://")) {
    return FetchHttp(url, options, sink);
  }
  return InvalidArgumentError("the server gave a download URL this CLI cannot fetch: " +
                              http::RedactUrl(url));
}

// Asks the server. `request_name` gets the DownloadRequest's name once it is created.
Status ViaServer(VeleroClient& client, std::string_view kind, const std::string& name,
                 const DownloadOptions& options, const objstore::ObjectSink& sink,
                 std::string& request_name) {
  api::DownloadRequest dr;
  dr.metadata.name = RequestName(name);
  dr.metadata.namespace_ = client.namespace_name();
  dr.target_kind = std::string(kind);
  dr.target_name = name;
  ASSIGN_OR_RETURN(nlohmann::json created,
                   client.Create("downloadrequests", api::DownloadRequestToJson(dr)));
  request_name = dr.metadata.name;
  Result<nlohmann::json> processed = client.WaitFor(
      "downloadrequests", request_name,
      [](const nlohmann::json& obj) {
        return Phase(obj) == api::request_phase::kProcessed &&
               !obj["status"].value("downloadURL", "").empty();
      },
      nullptr, options.timeout, options.poll_every);
  if (!processed.ok()) {
    if (processed.status().code() == StatusCode::kDeadlineExceeded) {
      return DeadlineExceededError("the server did not process DownloadRequest " + request_name +
                                   " within " + api::FormatDuration(options.timeout) +
                                   " (is `arca server` running for namespace " +
                                   client.namespace_name() + "?)");
    }
    return processed.status();
  }
  return FetchUrl((*processed)["status"]["downloadURL"].get<std::string>(), options, sink);
}

// Reads the object from the store of the backup's location.
Status ViaStore(VeleroClient& client, Clock& clock, std::string_view kind, const std::string& name,
                const nlohmann::json& target, const DownloadOptions& options,
                const objstore::ObjectSink& sink, const Status& server_error, std::ostream& err) {
  ASSIGN_OR_RETURN(std::string key, api::DownloadTargetKey(kind, name));
  const bool restore = api::IsRestoreDownloadKind(kind);
  nlohmann::json backup = target;
  if (restore) {
    const std::string backup_name =
        target.contains("spec") ? target["spec"].value("backupName", "") : std::string();
    if (backup_name.empty()) {
      return FailedPreconditionError("restore \"" + name +
                                     "\" names no backup (spec.backupName is empty)");
    }
    ASSIGN_OR_RETURN(backup, client.Get("backups", backup_name));
  }
  std::string location =
      backup.contains("spec") ? backup["spec"].value("storageLocation", "") : std::string();
  nlohmann::json bsl_json;
  if (location.empty()) {
    ASSIGN_OR_RETURN(std::vector<nlohmann::json> all, client.List("backupstoragelocations"));
    for (const nlohmann::json& b : all) {
      if (b.contains("spec") && b["spec"].value("default", false)) {
        bsl_json = b;
        location = b["metadata"].value("name", "");
        break;
      }
    }
    if (location.empty()) {
      return FailedPreconditionError("backup \"" + backup["metadata"].value("name", "") +
                                     "\" names no storage location and namespace " +
                                     client.namespace_name() + " has no default one");
    }
  } else {
    ASSIGN_OR_RETURN(bsl_json, client.Get("backupstoragelocations", location));
  }
  ASSIGN_OR_RETURN(api::BackupStorageLocation bsl, api::BackupStorageLocationFromJson(bsl_json));
  std::unique_ptr<controller::LocationStores> own;
  controller::LocationStores* stores = options.stores;
  if (stores == nullptr) {
    own = std::make_unique<controller::ClusterLocationStores>(
        client.client(), client.namespace_name(), clock, objstore::SystemEnvironment());
    stores = own.get();
  }
  ASSIGN_OR_RETURN(objstore::ObjectStorePtr store, stores->Open(bsl));
  err << "arca: " << server_error.message() << "; reading " << key
      << " from backup storage location \"" << location << "\" (" << store->Describe()
      << ") directly\n";
  Result<objstore::ObjectInfo> got = store->Get(objstore::ObjectKey(key), sink);
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) {
      return NotFoundError((restore ? "restore \"" : "backup \"") + name + "\" has no " +
                           DownloadWhat(kind) + " in backup storage location \"" + location +
                           "\" (" + got.status().message() + ")");
    }
    return got.status();
  }
  return OkStatus();
}

}  // namespace

std::string DownloadWhat(std::string_view kind) {
  namespace k = api::download_kind;
  if (IsLogKind(kind)) {
    return "logs";
  }
  if (kind == k::kBackupContents) {
    return "contents";
  }
  if (kind == k::kBackupResults || kind == k::kRestoreResults) {
    return "results";
  }
  if (kind == k::kBackupResourceList || kind == k::kRestoreResourceList) {
    return "resource list";
  }
  if (kind == k::kBackupVolumeInfos || kind == k::kRestoreVolumeInfo) {
    return "volume info";
  }
  if (kind == k::kBackupItemOperations || kind == k::kRestoreItemOperations) {
    return "item operations";
  }
  if (kind == k::kBackupVolumeSnapshots) {
    return "volume snapshots";
  }
  return std::string(kind);
}

Status Download(VeleroClient& client, Clock& clock, std::string_view kind, const std::string& name,
                const DownloadOptions& options, const objstore::ObjectSink& sink,
                std::ostream& err) {
  RETURN_IF_ERROR(api::DownloadTargetKey(kind, name).status());
  if (options.timeout.count() <= 0) {
    return InvalidArgumentError("the download timeout must be positive, e.g. --timeout 1m");
  }
  const bool restore = api::IsRestoreDownloadKind(kind);
  ASSIGN_OR_RETURN(nlohmann::json target, client.Get(restore ? "restores" : "backups", name));
  RETURN_IF_ERROR(CheckPhase(restore, name, kind, Phase(target)));

  // Bytes handed to the caller's sink: after the first, a failed attempt cannot be retried.
  uint64_t delivered = 0;
  const objstore::ObjectSink counted = [&](std::string_view chunk) {
    delivered += chunk.size();
    return sink(chunk);
  };
  // One attempt: the raw object through gunzip (when asked) into `counted`.
  auto attempt = [&](const std::function<Status(const objstore::ObjectSink&)>& fetch) -> Status {
    if (!options.gunzip) {
      return fetch(counted);
    }
    archive::GunzipStream gunzip(counted);
    RETURN_IF_ERROR(fetch([&gunzip](std::string_view chunk) { return gunzip.Write(chunk); }));
    return gunzip.Finish();
  };

  std::string request_name;
  Status server;
  if (options.server_silent != nullptr && *options.server_silent) {
    server = DeadlineExceededError("the server did not process an earlier DownloadRequest in time");
  } else {
    server = attempt([&](const objstore::ObjectSink& raw) {
      return ViaServer(client, kind, name, options, raw, request_name);
    });
    if (server.code() == StatusCode::kDeadlineExceeded && options.server_silent != nullptr) {
      *options.server_silent = true;
    }
  }
  if (!request_name.empty()) {
    // Best effort: the server also deletes expired requests.
    static_cast<void>(client.Delete("downloadrequests", request_name));
  }
  if (server.ok() || delivered > 0) {
    return server;
  }
  Status fallback = attempt([&](const objstore::ObjectSink& raw) {
    return ViaStore(client, clock, kind, name, target, options, raw, server, err);
  });
  if (fallback.ok() || fallback.code() == StatusCode::kNotFound) {
    return fallback;
  }
  return Status(fallback.code(), server.message() + "; reading the store directly failed too: " +
                                     fallback.message());
}

Result<std::string> DownloadToString(VeleroClient& client, Clock& clock, std::string_view kind,
                                     const std::string& name, const DownloadOptions& options,
                                     std::ostream& err) {
  std::string out;
  RETURN_IF_ERROR(Download(
      client, clock, kind, name, options,
      [&out](std::string_view chunk) {
        out.append(chunk);
        return OkStatus();
      },
      err));
  return out;
}

void DownloadFlags::AddTo(CLI::App& command) {
  command.add_option("--timeout", timeout,
                     "How long to wait for the server to process the download request before "
                     "reading the backup storage location directly (default 1m)");
  command.add_option("--cacert", cacert,
                     "A PEM CA bundle to verify the storage's certificate when downloading");
  command.add_flag("--insecure-skip-tls-verify", insecure_skip_tls_verify,
                   "Do not verify the storage's certificate when downloading (insecure)");
}

Result<DownloadOptions> DownloadFlags::Options() const {
  DownloadOptions o;
  Result<api::Duration> d = api::ParseDuration(timeout);
  if (!d.ok()) {
    return InvalidArgumentError("--timeout: " + d.status().message() + " (e.g. --timeout 1m)");
  }
  if (d->count() <= 0) {
    return InvalidArgumentError("--timeout " + timeout + ": must be positive, e.g. --timeout 1m");
  }
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  if (o.timeout.count() == 0) {
    o.timeout = std::chrono::milliseconds(1);
  }
  o.ca_file = cacert;
  o.insecure_skip_tls_verify = insecure_skip_tls_verify;
  return o;
}

}  // namespace arca::cli
