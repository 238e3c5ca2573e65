// File: hooks/executor.h
//
// Running exec hooks in pods through a kube::PodExecutor, with Velero's semantics
// (../shared/reference/velero-api.md §6). Which hooks run for a pod is decided by hooks.h; this
// file runs them, counts them and says what the engine must do with the item.
//
// Backup (§6.1), for one pod:
//   BackupPodHooks hooks(executor, specs);
//   HookRunResult pre = hooks.RunPre(pod_json, log);
//   if (pre.skip_item) { /* pre hook with onError Fail failed: do not write the pod */ }
//   ... write the pod and the rest of its item block ...
//   HookRunResult post = hooks.RunPost(pod_json, log);   // not when pre.skip_item
//   status.hookStatus.hooksAttempted += pre.attempted + post.attempted; (and failed likewise)
//   every entry of pre.errors/post.errors is an error of the backup (=> PartiallyFailed).
//
// Restore (§6.2), one RestorePodHooks per restore, then for each restored pod, after it is
// created (engines run one per pod, on a thread of their own; the call blocks until the hooks
// ran, failed or gave up):
//   KubePodStateSource pods(client, clock);
//   RestorePodHooks hooks(executor, pods, clock, specs);
//   HookRunResult r = hooks.Run(restored_pod_json, log);
//   status.hookStatus and the restore's errors as for backups.
// A pod whose hooks end with any error cancels the not-yet-run hooks of the restore's other
// pods, as Velero's code does. RunRestoreExecHooks is the same for a given list of hooks.
//
// Semantics kept from Velero:
//   - The container defaults to the pod's first; a named container must be a regular container
//     or a restartable (sidecar) init container, else the hook fails with `no such container`.
//   - A timeout of 0 means 30s; a timeout is an error "timed out after <d>" (the remote command
//     is not stopped). A non-zero exit code is a failure.
//   - stdout and stderr of each hook are logged (info), failures at error level.
//   - Backup: pods already Succeeded/Failed get no hooks (no error). Every executed hook counts
//     as attempted; a failed one as failed too. Only onError exactly Fail stops the pod's
//     remaining hooks of that phase (they are not counted) and, for pre hooks, skips the pod.
//     Unset onError behaves as Continue (the code's behaviour; Velero's docs say Fail).
//   - Restore: hooks are grouped by container; a container's hooks run in order once it is
//     running (ready, if any of its hooks has waitForReady). A hook whose waitTimeout has
//     passed before it could run is an error ("expired before executing"). The whole wait lasts
//     at most the largest waitTimeout (0: no limit). The pod reaching Succeeded/Failed or being
//     deleted aborts. After an onError Fail failure the pod's remaining hooks are not run. Hooks
//     that never ran are errors ("not executed") and count as attempted and failed. Hooks for
//     containers the pod does not have are dropped with a warning.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "hooks/hooks.h"
#include "kube/client.h"
#include "kube/exec.h"

namespace arca::hooks {

enum class LogLevel { kInfo, kWarning, kError };

// One log line about hooks. `fields` are Velero's logrus fields (hookName, hookSource,
// hookType, hookPhase, hookContainer, hookCommand, hookOnError, hookTimeout, name, namespace,
// error), in a stable order; engines format them into the backup or restore log.
struct HookLogEntry {
  LogLevel level = LogLevel::kInfo;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
};
// Receives log lines. Called from the thread that runs the hooks.
using HookLog = std::function<void(const HookLogEntry&)>;

// What happened to one hook.
struct HookOutcome {
  ExecHook hook;          // with container and timeout defaulted
  bool executed = false;  // it ran (or was tried, and failed before running)
  bool failed = false;
  int exit_code = -1;  // when the command ran
  std::string stdout_text;
  std::string stderr_text;
  std::string error;  // why it failed (empty when it did not)
};

struct HookRunResult {
  int attempted = 0;  // for status.hookStatus.hooksAttempted
  int failed = 0;     // for status.hookStatus.hooksFailed
  // Backup pre hooks: a hook with onError Fail failed, so the pod must not be written (and gets
  // no post hooks). Restore: a hook with onError Fail failed.
  bool skip_item = false;
  // One message per failed or unexecuted hook, naming pod, hook and container: the errors to
  // add to the backup's or restore's results.
  std::vector<std::string> errors;
  std::vector<HookOutcome> hooks;  // in the order they were considered
};

// Runs `hooks` (already chosen for `pod`, e.g. by BackupHooksForPod) in order in `pod` (its
// JSON), with the backup semantics above. `phase` is "pre" or "post" (for logs and messages).
// Never fails as a call: problems are in the result.
HookRunResult RunBackupExecHooks(kube::PodExecutor& executor, const Json& pod,
                                 const std::vector<ExecHook>& hooks, std::string_view phase,
                                 const HookLog& log);

// Backup hooks of a Backup's spec, run per pod. Thread-safe: holds only references; `executor`
// and `specs` must outlive it.
class BackupPodHooks {
 public:
  BackupPodHooks(kube::PodExecutor& executor, const std::vector<ResourceHookSpec>& specs)
      : executor_(executor), specs_(specs) {}

  // The pre (post) hooks of `pod`: from its annotations, else from the matching specs.
  // Warnings about the annotations (a bad timeout) are logged.
  HookRunResult RunPre(const Json& pod, const HookLog& log) { return Run(pod, Phase::kPre, log); }
  HookRunResult RunPost(const Json& pod, const HookLog& log) { return Run(pod, Phase::kPost, log); }

 private:
  HookRunResult Run(const Json& pod, Phase phase, const HookLog& log);

  kube::PodExecutor& executor_;
  const std::vector<ResourceHookSpec>& specs_;
};

// Where restore hooks learn a pod's state: the I/O boundary over the API, faked in tests.
class PodStateSource {
 public:
  virtual ~PodStateSource() = default;

  // Calls `on_pod` with the pod's JSON now, after every change, and at least every
  // `poll_interval` or so (so that cancellation is noticed), until `on_pod` returns kCancelled
  // (then OK) or another error (returned). kNotFound when the pod is or becomes deleted;
  // kDeadlineExceeded when `deadline` (if any) passes first.
  virtual Status WatchPod(const std::string& namespace_name, const std::string& name,
                          std::optional<std::chrono::system_clock::time_point> deadline,
                          const std::function<Status(const Json& pod)>& on_pod) = 0;
};

// PodStateSource on kube::Client: a GET, then a watch of that one pod (field selector on its
// name) from the GET's resourceVersion, in stretches of at most `poll_interval`, with a fresh
// GET before each stretch. `client` and `clock` must outlive it. Thread-safe.
class KubePodStateSource : public PodStateSource {
 public:
  static constexpr std::chrono::seconds kDefaultPollInterval{5};

  KubePodStateSource(kube::Client& client, Clock& clock,
                     std::chrono::seconds poll_interval = kDefaultPollInterval)
      : client_(client), clock_(clock), poll_interval_(poll_interval) {}

  Status WatchPod(const std::string& namespace_name, const std::string& name,
                  std::optional<std::chrono::system_clock::time_point> deadline,
                  const std::function<Status(const Json& pod)>& on_pod) override;

 private:
  kube::Client& client_;
  Clock& clock_;
  std::chrono::seconds poll_interval_;
};

// Shared by all pods of one restore: set when any pod's hooks end with an error, after which
// other pods' hooks that have not run yet are not run ("not executed" errors), as in Velero.
using RestoreHookCancel = std::atomic<bool>;

// Runs the restore exec hooks of the restored `pod` (the JSON as created; its namespace and
// name are used, the state comes from `pods`). Blocks until every hook ran or cannot run.
// `cancel` may be null (no cross-pod cancellation).
HookRunResult RunRestoreExecHooks(kube::PodExecutor& executor, PodStateSource& pods, Clock& clock,
                                  const Json& pod, const std::vector<ExecHook>& hooks,
                                  const HookLog& log, RestoreHookCancel* cancel);

// The restore exec hooks of a Restore's spec, run per restored pod: one instance per restore
// (it holds the restore's RestoreHookCancel). Thread-safe: Run may be called for many pods at
// once, from threads of the engine's choosing. `executor`, `pods`, `clock` and `specs` must
// outlive it.
class RestorePodHooks {
 public:
  RestorePodHooks(kube::PodExecutor& executor, PodStateSource& pods, Clock& clock,
                  const std::vector<ResourceHookSpec>& specs)
      : executor_(executor), pods_(pods), clock_(clock), specs_(specs) {}

  // Runs the exec hooks for `pod`, the restored pod as created (in its target namespace, with
  // the backed-up annotations): from its post.hook.restore.velero.io annotations, else from the
  // specs matching its namespace. Blocks until they ran or cannot run; a pod without hooks
  // returns at once. Warnings about the annotations are logged.
  HookRunResult Run(const Json& pod, const HookLog& log);

  // Set once any pod's hooks ended with an error.
  bool cancelled() const { return cancel_.load(); }

 private:
  kube::PodExecutor& executor_;
  PodStateSource& pods_;
  Clock& clock_;
  const std::vector<ResourceHookSpec>& specs_;
  RestoreHookCancel cancel_{false};
};

// True when the pod's container `name` is running (and ready, when `need_ready`), from
// status.containerStatuses.
bool ContainerUp(const Json& pod, const std::string& name, bool need_ready);

}  // namespace arca::hooks
