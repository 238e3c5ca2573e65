// File: hooks/hooks.h
//
// Which hooks run for a pod, and with what settings, as Velero decides it
// (../shared/reference/velero-api.md §6). Pure functions of the Backup/Restore spec and the pod's
// JSON; running the commands (pods/exec) is hooks/executor.h's business.
//
// Backup: pod annotations (pre.hook.backup.velero.io/..., post.hook.backup.velero.io/..., and the
// legacy hook.backup.velero.io/... for pre) replace spec.hooks for that pod and phase.
// Restore: init-container hooks (spec or init.hook.restore.velero.io/... annotations) are placed
// in the pod as Velero places them; exec hooks come from spec postHooks or
// post.hook.restore.velero.io/... annotations.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/filters.h"
#include "common/status.h"
#include "kube/label_selector.h"

namespace arca::hooks {

using Json = nlohmann::json;

inline constexpr std::chrono::seconds kDefaultExecTimeout{30};

enum class OnError { kUnset, kContinue, kFail };

// The name hooks from annotations go by in logs, as in Velero.
inline constexpr std::string_view kAnnotationHookName = "<from-annotation>";

struct ExecHook {
  // The spec.hooks.resources[] name it came from, or kAnnotationHookName.
  std::string name;
  std::string container;  // empty: the pod's first container
  std::vector<std::string> command;
  OnError on_error = OnError::kUnset;
  std::chrono::nanoseconds timeout{0};  // 0: kDefaultExecTimeout
  // Restore exec hooks only.
  std::chrono::nanoseconds wait_timeout{0};  // 0: wait indefinitely
  bool wait_for_ready = false;
};

// A spec.hooks.resources[] entry, with its filters resolved.
struct ResourceHookSpec {
  std::string name;
  backup::IncludesExcludes namespaces;
  backup::IncludesExcludes resources;
  kube::LabelSelector selector;       // empty matches every pod
  std::vector<ExecHook> pre;          // backup
  std::vector<ExecHook> post;         // backup, and restore exec hooks
  std::vector<Json> init_containers;  // restore init hooks, in order
};

// Annotation command syntax: a value starting with '[' is a JSON string array (if it parses as
// one); anything else is a single argument.
std::vector<std::string> ParseHookCommand(const std::string& value);

// Parses Backup spec.hooks ({"resources": [...]}). Every problem is listed: a hook without a
// name, an exec hook without a command, an unknown onError, a malformed timeout or selector.
Result<std::vector<ResourceHookSpec>> ParseBackupHookSpecs(const Json& hooks);
// Parses Restore spec.hooks; init hook containers must have name, image and command.
Result<std::vector<ResourceHookSpec>> ParseRestoreHookSpecs(const Json& hooks);

enum class Phase { kPre, kPost };

// The backup hooks to run for `pod` (its JSON) in `phase`, in order, with the container defaulted
// to the pod's first. Annotations win over specs. `warnings` receives notes such as an invalid
// timeout annotation (the default is then used).
std::vector<ExecHook> BackupHooksForPod(const std::vector<ResourceHookSpec>& specs, const Json& pod,
                                        Phase phase, std::vector<std::string>* warnings);

// The restore exec hooks for `pod`, matched against `target_namespace`.
std::vector<ExecHook> RestoreExecHooksForPod(const std::vector<ResourceHookSpec>& specs,
                                             const Json& pod, const std::string& target_namespace,
                                             std::vector<std::string>* warnings);

// Adds the restore init-container hooks to `pod` (in place): [restore-wait, if it is first] +
// hook containers + the original init containers. `random_suffix` makes the default container
// name (velero-restore-init-<8 hex>). Returns the number of containers added.
int ApplyRestoreInitHooks(const std::vector<ResourceHookSpec>& specs, Json& pod,
                          const std::string& target_namespace,
                          const std::function<std::string()>& random_suffix);

}  // namespace arca::hooks
