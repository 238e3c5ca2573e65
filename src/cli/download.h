// File: cli/download.h
//
// Fetching one stored file of a backup or restore (its log, contents tarball, results, resource
// list, ...) from the CLI, as Velero's CLI does, with a fallback for when that does not work:
//
//   1. The target is read from the cluster: the Backup (or the Restore, for Restore* kinds). A
//      missing one is kNotFound naming the namespace; a log of a backup or restore that has not
//      finished is kFailedPrecondition ("backup \"x\" has no logs yet: it is InProgress; ..."),
//      and so is any file of one that has not started, or failed validation (nothing stored).
//   2. A DownloadRequest <target>-<random> is created in the namespace and polled until
//      status.phase is Processed (at most `timeout`); status.downloadURL is fetched: http(s)
//      pre-signed URLs through the project's HTTP transport (`ca_file`,
//      `insecure_skip_tls_verify` for https), file:// URLs from disk. The request is deleted
//      afterwards in every case.
//   3. Fallback, when the server did not process the request in time, or the request could not be
//      created, or its URL could not be fetched (a pre-signed URL that the laptop cannot reach is
//      a frequent Velero complaint): the BackupStorageLocation the backup names (the default one
//      when it names none) is opened with controller::ClusterLocationStores (its credential
//      Secret read through the API) and the object is read at its key in Velero's layout. Only
//      in this case a line on `err` says what was tried and which path is used. When the fetch
//      fails after bytes already reached the sink, there is no fallback (the sink cannot take the
//      file twice): the error is returned.
//
// With `gunzip`, the gzip stream is decompressed before it reaches the sink (logs, results,
// resource lists; Velero gunzips every kind except BackupContents).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/cluster.h"
#include "common/clock.h"
#include "common/status.h"
#include "controller/location_stores.h"
#include "http/transport.h"
#include "objstore/object_store.h"

namespace arca::cli {

struct DownloadOptions {
  // How long to wait for the server to process the DownloadRequest before reading the store
  // directly. Must be positive.
  std::chrono::milliseconds timeout{60'000};
  // Decompress the (gzip) object before it reaches the sink.
  bool gunzip = false;
  // For https download URLs: a PEM CA bundle to trust, or no verification at all.
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
  // Shared by the downloads of one command (e.g. describe --details of several backups): when
  // the server leaves a DownloadRequest unprocessed past `timeout`, Download sets `*server_silent`
  // and later downloads with it set go to the store directly instead of waiting again.
  bool* server_silent = nullptr;
  // How often the DownloadRequest is polled.
  std::chrono::milliseconds poll_every{100};
  // Seams for tests. Null: a CurlTransport with the TLS options above; ClusterLocationStores on
  // the client's connection with the system environment.
  http::Transport* transport = nullptr;
  controller::LocationStores* stores = nullptr;
};

// Streams the file of kind `kind` (api::download_kind) of the backup or restore `name` to `sink`.
Status Download(VeleroClient& client, Clock& clock, std::string_view kind, const std::string& name,
                const DownloadOptions& options, const objstore::ObjectSink& sink,
                std::ostream& err);

// The same, the whole file as a string (for small files: logs, results, resource lists).
Result<std::string> DownloadToString(VeleroClient& client, Clock& clock, std::string_view kind,
                                     const std::string& name, const DownloadOptions& options,
                                     std::ostream& err);

// The flags of the commands that download: --timeout (a Go duration, default 1m),
// --cacert FILE, --insecure-skip-tls-verify.
struct DownloadFlags {
  std::string timeout = "1m";
  std::string cacert;
  bool insecure_skip_tls_verify = false;

  void AddTo(CLI::App& command);
  // kInvalidArgument naming --timeout for a bad or non-positive duration.
  Result<DownloadOptions> Options() const;
};

// What a download kind is called in messages: "logs", "contents", "results", "resource list",
// ...; the kind itself for the others.
std::string DownloadWhat(std::string_view kind);

}  // namespace arca::cli
