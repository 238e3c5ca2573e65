#include "cli/common.h"

#include <utility>

#include "kube/kubeconfig.h"
#include "objstore/location.h"

namespace arca::cli {

void CommandContext::Fail(const Status& status) {
  err << "arca: " << status.message() << "\n";
  exit_code = 1;
}

void KubeFlags::AddTo(CLI::App& command) {
  command.add_option("--kubeconfig", kubeconfig,
                     "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)");
  command.add_option("--kubecontext,--context", context, "The kubeconfig context to use");
  command.add_option("--client-qps", qps, "Requests per second to the API server (<= 0: no limit)")
      ->capture_default_str();
  command.add_option("--client-burst", burst, "Burst of requests above --client-qps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

Result<kube::ConnectionPtr> KubeFlags::Connect(Clock& clock) const {
  std::optional<std::string> flag;
  if (!kubeconfig.empty()) {
    flag = kubeconfig;
  }
  ASSIGN_OR_RETURN(kube::RestConfig config,
                   kube::LoadRestConfig(kube::LoadOptions::FromEnvironment(flag, context)));
  kube::ClientOptions options;
  options.qps = qps;
  options.burst = burst;
  return kube::Connection::Open(std::move(config), clock, options);
}

void StorageFlag::AddTo(CLI::App& command) {
  command.add_option("--storage", url,
                     "Where backups are kept: file:///dir or "
                     "s3://bucket[/prefix]?region=..&s3Url=..&s3ForcePathStyle=true");
}

Result<objstore::ObjectStorePtr> StorageFlag::Open(Clock& clock) const {
  if (url.empty()) {
    return InvalidArgumentError(
        "--storage is required in standalone mode, e.g. --storage file:///var/backups/arca");
  }
  ASSIGN_OR_RETURN(objstore::LocationUrl location, objstore::ParseLocationUrl(url));
  return objstore::OpenLocation(location, objstore::SystemEnvironment(), clock);
}

ProgressDisplay::ProgressDisplay(std::ostream& out, bool terminal, Clock& clock)
    : out_(out), terminal_(terminal), clock_(clock) {}

void ProgressDisplay::Update(std::string_view what, int64_t done, int64_t total) {
  what_ = std::string(what);
  done_ = done;
  total_ = total;
  const auto now = clock_.Now();
  const auto every = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (drawn_ && now - last_ < every) {
    pending_ = true;
    return;
  }
  last_ = now;
  Draw();
}

void ProgressDisplay::Draw() {
  drawn_ = true;
  pending_ = false;
  std::string line = what_ + " " + std::to_string(done_);
  if (total_ > 0) {
    line += "/" + std::to_string(total_) + " items (" + std::to_string(done_ * 100 / total_) + "%)";
  } else {
    line += " items";
  }
  if (terminal_) {
    out_ << "\r\033[K" << line << std::flush;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void ProgressDisplay::Finish() {
  if (pending_) {
    Draw();
  }
  if (terminal_ && drawn_) {
    out_ << "\n" << std::flush;
  }
  drawn_ = false;
}

}  // namespace arca::cli
