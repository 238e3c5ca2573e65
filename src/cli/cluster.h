// File: cli/cluster.h
//
// What the commands that work through the server share: the flags that pick the cluster and the
// server's namespace (-n/--namespace, default $VELERO_NAMESPACE, else "velero"), and a small
// client for the velero.io/v1 custom resources in that namespace (create, get, list, patch,
// delete, and waiting for a condition). Errors name the resource and say what to do: a missing
// CRD suggests `arca install`, a missing object names the namespace searched.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/common.h"
#include "common/clock.h"
#include "common/status.h"
#include "kube/connection.h"

namespace arca::cli {

// --kubeconfig, --kubecontext, client rate limits and -n/--namespace.
struct ClusterFlags {
  KubeFlags kube;
  std::string namespace_name;  // empty: $VELERO_NAMESPACE, else "velero"

  void AddTo(CLI::App& command);
  // The namespace the server watches.
  std::string Namespace() const;
};

// velero.io/v1 objects in one namespace. Resources are plural names: "backups", "restores",
// "schedules", "backupstoragelocations", "deletebackuprequests", "downloadrequests", ...
class VeleroClient {
 public:
  // Connects as kubectl would. The CLI's default rate limit applies.
  static Result<VeleroClient> Connect(const ClusterFlags& flags, Clock& clock);
  // Over an existing client (tests); `client` must outlive this.
  VeleroClient(kube::Client& client, std::string namespace_name, Clock& clock);

  const std::string& namespace_name() const { return namespace_; }
  kube::Client& client() { return *client_; }

  // POST; returns the created object. kAlreadyExists says the name is taken in the namespace.
  Result<nlohmann::json> Create(const std::string& resource, const nlohmann::json& object);
  // kNotFound: "<kind> \"x\" not found in namespace velero".
  Result<nlohmann::json> Get(const std::string& resource, const std::string& name);
  // Every object (optionally matching a label selector), sorted by name.
  Result<std::vector<nlohmann::json>> List(const std::string& resource,
                                           const std::string& label_selector = "");
  // A JSON merge patch; returns the patched object.
  Result<nlohmann::json> MergePatch(const std::string& resource, const std::string& name,
                                    const nlohmann::json& patch);
  // DELETE. kNotFound when it is gone already.
  Status Delete(const std::string& resource, const std::string& name);

  // Polls the object every `every` until `done(object)` returns true (then returns the object),
  // `on_update(object)` is called for every poll; kDeadlineExceeded after `timeout` (0: no
  // limit). kNotFound when the object disappears.
  Result<nlohmann::json> WaitFor(const std::string& resource, const std::string& name,
                                 const std::function<bool(const nlohmann::json&)>& done,
                                 const std::function<void(const nlohmann::json&)>& on_update,
                                 std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds every = std::chrono::milliseconds(500));

 private:
  VeleroClient(kube::ConnectionPtr connection, std::string namespace_name, Clock& clock);
  kube::ResourceRef Ref(const std::string& resource, const std::string& name) const;
  Status Explain(const Status& status, const std::string& resource, const std::string& name) const;

  std::shared_ptr<kube::Connection> connection_;  // null over an existing client
  kube::Client* client_;
  std::string namespace_;
  Clock* clock_;
};

// What the commands that act on several objects share (get, delete, pause, ...).

// For get/describe/logs: NAMES (each must exist) or -l/--selector (every object when both are
// empty), not both; connects and fetches them. The client comes back for later requests and for
// messages that name the namespace.
struct Fetched {
  VeleroClient client;
  std::vector<nlohmann::json> items;
};
Result<Fetched> ConnectAndFetch(const ClusterFlags& cluster, std::string_view singular,
                                const std::string& resource, const std::vector<std::string>& names,
                                const std::string& selector);

// What `pause`, `unpause` and `delete` act on: NAMES, --all or -l/--selector, exactly one.
struct Selection {
  std::vector<std::string> names;
  bool all = false;
  std::string selector;

  // kInvalidArgument unless exactly one of names, --all and --selector is given (Velero's
  // wording: "you must specify exactly one of: specific schedule name(s), the --all flag, or the
  // --selector flag"), or when the selector does not parse.
  Status Validate(std::string_view singular) const;
};

// The objects of `resource` the selection names, sorted by name. A name that does not exist is
// reported on ctx.err (exit code 1) and skipped, as Velero does; a failing list is returned.
Result<std::vector<nlohmann::json>> SelectObjects(VeleroClient& client, const std::string& resource,
                                                  const Selection& selection, CommandContext& ctx);

enum class Confirmation { kYes, kNo, kNoInput };

// Velero's prompt: prints "Are you sure you want to continue (Y/N)? " to `out` and reads lines
// from `in` until one is y or n (any case); kNoInput at end of input.
Confirmation AskConfirmation(std::istream& in, std::ostream& out);

// Asks unless `confirmed`; on kNo prints that nothing was done, on kNoInput fails with a hint to
// pass --confirm. True when the command may go on.
bool ConfirmOrRefuse(bool confirmed, std::istream& in, CommandContext& ctx);

// NAMES, --all and -l/--selector on `command`, helped as "The <plural> by name", ...
void AddSelectionFlags(CLI::App& command, Selection& selection, const std::string& plural);

// The start of a command that acts on a selection: validates it (`singular` names the kind in
// the message), asks unless `confirmed` (`in` is nullptr for commands that do not ask), and
// connects. nullopt when the command must stop; `ctx` then says why (or that nothing was done).
std::optional<VeleroClient> StartSelectionCommand(const ClusterFlags& cluster,
                                                  const Selection& selection,
                                                  std::string_view singular, bool confirmed,
                                                  std::istream* in, CommandContext& ctx);

}  // namespace arca::cli
