// File: cli/common.h
//
// What the commands share: the output streams and exit code of one run, the flags that pick a
// cluster (--kubeconfig, --context, client rate limits) and a storage location (--storage URL),
// and a progress display that redraws one line on a terminal and prints plain lines otherwise.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "kube/connection.h"
#include "objstore/object_store.h"

namespace arca::cli {

// One run of the CLI. A command's callback writes to `out`/`err` and sets `exit_code`.
struct CommandContext {
  std::ostream& out;
  std::ostream& err;
  int exit_code = 0;
  // Whether `out` is a terminal (progress bars) or a pipe/file (plain lines).
  bool out_is_terminal = false;

  // Prints "arca: <message>" to `err` and sets exit_code to 1.
  void Fail(const Status& status);
};

// --kubeconfig, --context, --client-qps, --client-burst.
struct KubeFlags {
  std::string kubeconfig;
  std::string context;
  double qps = kube::ClientOptions::kDefaultQps;
  int burst = kube::ClientOptions::kDefaultBurst;

  void AddTo(CLI::App& command);
  // Loads the configuration as kubectl does (flag, KUBECONFIG, ~/.kube/config, in-cluster).
  Result<kube::ConnectionPtr> Connect(Clock& clock) const;
};

// --storage URL (objstore/location.h); for --standalone commands.
struct StorageFlag {
  std::string url;

  void AddTo(CLI::App& command);
  // kInvalidArgument when the URL is empty or malformed; the store's errors otherwise.
  Result<objstore::ObjectStorePtr> Open(Clock& clock) const;
};

// A progress display: "Backing up  12345/100000 items (12%)". On a terminal the line is redrawn
// in place at most 10 times a second; otherwise a plain line is printed at most every 5 seconds.
class ProgressDisplay {
 public:
  ProgressDisplay(std::ostream& out, bool terminal, Clock& clock);
  // `total` <= 0 means not known yet.
  void Update(std::string_view what, int64_t done, int64_t total);
  // Shows the last update if it was held back, and ends the line (terminal) so that what
  // follows starts on a new one.
  void Finish();

 private:
  void Draw();

  std::ostream& out_;
  const bool terminal_;
  Clock& clock_;
  std::chrono::system_clock::time_point last_{};
  bool drawn_ = false;
  bool pending_ = false;  // an update not shown yet
  std::string what_;
  int64_t done_ = 0;
  int64_t total_ = 0;
};

}  // namespace arca::cli
