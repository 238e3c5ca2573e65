#include "hooks/executor.h"

#include <algorithm>

#include "api/duration.h"
#include "kube/request.h"

namespace arca::hooks {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

const Json* Field(const Json& j, const char* key) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string Str(const Json* j) {
  return j != nullptr && j->is_string() ? j->get<std::string>() : "";
}

std::string Meta(const Json& pod, const char* key) {
  const Json* metadata = Field(pod, "metadata");
  return metadata != nullptr ? Str(Field(*metadata, key)) : "";
}

std::string PodPhase(const Json& pod) {
  const Json* status = Field(pod, "status");
  return status != nullptr ? Str(Field(*status, "phase")) : "";
}

bool Terminal(const std::string& phase) { return phase == "Succeeded" || phase == "Failed"; }

std::string FirstContainer(const Json& pod) {
  const Json* spec = Field(pod, "spec");
  const Json* containers = spec != nullptr ? Field(*spec, "containers") : nullptr;
  if (containers != nullptr && containers->is_array() && !containers->empty()) {
    return Str(Field((*containers)[0], "name"));
  }
  return "";
}

// A regular container, or an init container with restartPolicy Always (a sidecar).
bool HasContainer(const Json& pod, const std::string& name) {
  const Json* spec = Field(pod, "spec");
  if (spec == nullptr) {
    return false;
  }
  for (const char* list : {"containers", "initContainers"}) {
    const Json* containers = Field(*spec, list);
    if (containers == nullptr || !containers->is_array()) {
      continue;
    }
    for (const Json& c : *containers) {
      if (Str(Field(c, "name")) != name) {
        continue;
      }
      if (list[0] == 'c' || Str(Field(c, "restartPolicy")) == "Always") {
        return true;
      }
    }
  }
  return false;
}

// Go's fmt of a []string: [a b c].
std::string GoList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? " " : "") + items[i];
  }
  return out + "]";
}

std::string OnErrorName(OnError e) {
  switch (e) {
    case OnError::kContinue:
      return "Continue";
    case OnError::kFail:
      return "Fail";
    case OnError::kUnset:
      break;
  }
  return "Fail";  // what Velero's executor logs for an unset mode
}

bool FromAnnotation(const ExecHook& h) { return h.name == kAnnotationHookName; }

void Emit(const HookLog& log, LogLevel level, std::string message, Fields fields) {
  if (log) {
    log(HookLogEntry{level, std::move(message), std::move(fields)});
  }
}

Fields BaseFields(const ExecHook& hook, const Json& pod, std::string_view phase) {
  Fields f = {{"hookName", hook.name},
              {"hookSource", FromAnnotation(hook) ? "annotation" : "spec"},
              {"hookType", "exec"}};
  if (!phase.empty()) {
    f.emplace_back("hookPhase", std::string(phase));
  }
  f.emplace_back("namespace", Meta(pod, "namespace"));
  f.emplace_back("name", Meta(pod, "name"));
  return f;
}

std::chrono::nanoseconds EffectiveTimeout(const ExecHook& hook) {
  return hook.timeout.count() > 0 ? hook.timeout : std::chrono::nanoseconds(kDefaultExecTimeout);
}

// Runs one hook in `pod`: checks, logs, exec, outcome. The hook's container must be defaulted.
HookOutcome ExecuteHook(kube::PodExecutor& executor, const Json& pod, ExecHook hook,
                        std::string_view phase, const HookLog& log) {
  HookOutcome o;
  if (hook.container.empty()) {
    hook.container = FirstContainer(pod);
  }
  const std::chrono::nanoseconds timeout = EffectiveTimeout(hook);
  hook.timeout = timeout;
  o.hook = hook;
  o.executed = true;
  Fields fields = BaseFields(hook, pod, phase);
  if (hook.command.empty()) {
    o.error = "command is required";
  } else if (hook.container.empty()) {
    o.error = "the pod has no containers to run the hook in";
  } else if (!HasContainer(pod, hook.container)) {
    o.error = "no such container: \"" + hook.container + "\"";
  }
  if (o.error.empty()) {
    Fields run = fields;
    run.emplace_back("hookContainer", hook.container);
    run.emplace_back("hookCommand", GoList(hook.command));
    run.emplace_back("hookOnError", OnErrorName(hook.on_error));
    run.emplace_back("hookTimeout", api::FormatDuration(timeout));
    Emit(log, LogLevel::kInfo, "running exec hook", run);
    kube::ExecRequest req;
    req.namespace_name = Meta(pod, "namespace");
    req.pod = Meta(pod, "name");
    req.container = hook.container;
    req.command = hook.command;
    req.timeout = std::max(std::chrono::milliseconds(1),
                           std::chrono::ceil<std::chrono::milliseconds>(timeout));
    Result<kube::ExecResult> r = executor.Exec(req);
    if (!r.ok()) {
      o.error = r.status().code() == StatusCode::kDeadlineExceeded
                    ? "timed out after " + api::FormatDuration(timeout)
                    : r.status().message();
    } else {
      o.exit_code = r->exit_code;
      o.stdout_text = r->stdout_text;
      o.stderr_text = r->stderr_text;
      Emit(log, LogLevel::kInfo, "stdout: " + r->stdout_text, run);
      Emit(log, LogLevel::kInfo, "stderr: " + r->stderr_text, run);
      if (r->exit_code != 0) {
        o.error = "command terminated with non-zero exit code " + std::to_string(r->exit_code);
      }
    }
  }
  if (!o.error.empty()) {
    o.failed = true;
    Fields err = fields;
    err.emplace_back("hookContainer", hook.container);
    err.emplace_back("error", o.error);
    Emit(log, LogLevel::kError, "Error executing hook", err);
  }
  return o;
}

std::string PodRef(const Json& pod) {
  std::string out = Meta(pod, "namespace");
  out.append("/").append(Meta(pod, "name"));
  return out;
}

// "hook NAME in container C in pod NS/NAME", for restore messages.
std::string HookWhere(const ExecHook& hook, const Json& pod) {
  std::string out = "hook ";
  out.append(hook.name).append(" in container ").append(hook.container);
  out.append(" in pod ").append(PodRef(pod));
  return out;
}

}  // namespace

bool ContainerUp(const Json& pod, const std::string& name, bool need_ready) {
  const Json* status = Field(pod, "status");
  const Json* statuses = status != nullptr ? Field(*status, "containerStatuses") : nullptr;
  if (statuses == nullptr || !statuses->is_array()) {
    return false;
  }
  for (const Json& cs : *statuses) {
    if (Str(Field(cs, "name")) != name) {
      continue;
    }
    const Json* ready = Field(cs, "ready");
    if (need_ready && !(ready != nullptr && ready->is_boolean() && ready->get<bool>())) {
      return false;
    }
    const Json* state = Field(cs, "state");
    return state != nullptr && Field(*state, "running") != nullptr;
  }
  return false;
}

HookRunResult RunBackupExecHooks(kube::PodExecutor& executor, const Json& pod,
                                 const std::vector<ExecHook>& hooks, std::string_view phase,
                                 const HookLog& log) {
  HookRunResult result;
  if (hooks.empty()) {
    return result;
  }
  const std::string pod_phase = PodPhase(pod);
  if (Terminal(pod_phase)) {
    Emit(log, LogLevel::kInfo,
         "pod is in phase " + pod_phase + ", skipping its " + std::string(phase) + " hooks",
         {{"namespace", Meta(pod, "namespace")}, {"name", Meta(pod, "name")}});
    return result;
  }
  for (const ExecHook& hook : hooks) {
    HookOutcome o = ExecuteHook(executor, pod, hook, phase, log);
    ++result.attempted;
    const bool stop = o.failed && hook.on_error == OnError::kFail;
    if (o.failed) {
      ++result.failed;
      result.errors.push_back("pod " + PodRef(pod) + ": " + std::string(phase) + " hook " +
                              o.hook.name + " in container " + o.hook.container +
                              " failed: " + o.error);
    }
    result.hooks.push_back(std::move(o));
    if (stop) {
      // onError Fail: the remaining hooks of this phase are not run, and a pod whose pre hook
      // failed is not backed up.
      result.skip_item = phase == "pre";
      break;
    }
  }
  return result;
}

HookRunResult BackupPodHooks::Run(const Json& pod, Phase phase, const HookLog& log) {
  std::vector<std::string> warnings;
  std::vector<ExecHook> hooks = BackupHooksForPod(specs_, pod, phase, &warnings);
  for (const std::string& w : warnings) {
    Emit(log, LogLevel::kWarning, w,
         {{"namespace", Meta(pod, "namespace")}, {"name", Meta(pod, "name")}});
  }
  return RunBackupExecHooks(executor_, pod, hooks, phase == Phase::kPre ? "pre" : "post", log);
}

HookRunResult RestorePodHooks::Run(const Json& pod, const HookLog& log) {
  std::vector<std::string> warnings;
  std::vector<ExecHook> hooks =
      RestoreExecHooksForPod(specs_, pod, Meta(pod, "namespace"), &warnings);
  for (const std::string& w : warnings) {
    Emit(log, LogLevel::kWarning, w,
         {{"namespace", Meta(pod, "namespace")}, {"name", Meta(pod, "name")}});
  }
  if (hooks.empty()) {
    return {};
  }
  return RunRestoreExecHooks(executor_, pods_, clock_, pod, hooks, log, &cancel_);
}

Status KubePodStateSource::WatchPod(const std::string& namespace_name, const std::string& name,
                                    std::optional<std::chrono::system_clock::time_point> deadline,
                                    const std::function<Status(const Json& pod)>& on_pod) {
  kube::ResourceRef pods;
  pods.gvr = {"", "v1", "pods"};
  pods.namespaced = true;
  pods.namespace_name = namespace_name;
  kube::ResourceRef one = pods;
  one.name = name;
  const std::string what = "pod " + namespace_name + "/" + name;
  bool done = false;
  auto deliver = [&](const Json& pod) -> Status {
    Status s = on_pod(pod);
    if (s.code() == StatusCode::kCancelled) {
      done = true;
    }
    return s;
  };
  while (true) {
    if (deadline && clock_.Now() >= *deadline) {
      return DeadlineExceededError("waiting for " + what + ": deadline passed");
    }
    Result<std::string> got = client_.Get(one);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) {
        return NotFoundError(what + " was deleted");
      }
      return got.status();
    }
    Json pod = Json::parse(*got, nullptr, false);
    if (pod.is_discarded()) {
      return DataLossError("the API server returned " + what + " as invalid JSON");
    }
    Status s = deliver(pod);
    if (done) {
      return OkStatus();
    }
    RETURN_IF_ERROR(s);
    std::chrono::seconds stretch = poll_interval_;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::seconds>(*deadline - clock_.Now());
      stretch = std::clamp(left, std::chrono::seconds(1), poll_interval_);
    }
    kube::ListOptions options;
    options.field_selector = "metadata.name=" + name;
    options.resource_version = Meta(pod, "resourceVersion");
    options.timeout_seconds = stretch.count();
    Status watched = client_.WatchOnce(
        pods, options, [&](std::string_view type, std::string_view object) -> Status {
          if (type == "DELETED") {
            return NotFoundError(what + " was deleted");
          }
          if (type != "ADDED" && type != "MODIFIED") {
            return OkStatus();
          }
          Json changed = Json::parse(object, nullptr, false);
          if (changed.is_discarded()) {
            return DataLossError("a watch event for " + what + " is not valid JSON");
          }
          return deliver(changed);
        });
    if (done) {
      return OkStatus();
    }
    if (watched.code() == StatusCode::kNotFound || watched.code() == StatusCode::kDataLoss) {
      return watched;
    }
    if (!watched.ok() && watched.code() != StatusCode::kOutOfRange) {
      // A broken watch: the next GET starts over; do not spin.
      clock_.SleepFor(std::chrono::milliseconds(200));
    }
  }
}

HookRunResult RunRestoreExecHooks(kube::PodExecutor& executor, PodStateSource& pods, Clock& clock,
                                  const Json& pod, const std::vector<ExecHook>& hooks,
                                  const HookLog& log, RestoreHookCancel* cancel) {
  HookRunResult result;
  const std::string ns = Meta(pod, "namespace");
  const std::string name = Meta(pod, "name");
  // Group by container, in order of first appearance; drop hooks for missing containers.
  struct Group {
    std::string container;
    std::vector<ExecHook> hooks;
    size_t next = 0;  // hooks before it are done
    bool need_ready = false;
  };
  std::vector<Group> groups;
  for (ExecHook hook : hooks) {
    if (hook.container.empty()) {
      hook.container = FirstContainer(pod);
    }
    if (!HasContainer(pod, hook.container)) {
      std::string warning = "hook ";
      warning.append(hook.name).append(" names container \"").append(hook.container);
      warning.append("\", which pod ").append(PodRef(pod)).append(" does not have; skipping it");
      Emit(log, LogLevel::kWarning, std::move(warning), BaseFields(hook, pod, ""));
      continue;
    }
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const Group& x) { return x.container == hook.container; });
    if (g == groups.end()) {
      groups.push_back(Group{hook.container, {}, 0, false});
      g = groups.end() - 1;
    }
    g->need_ready = g->need_ready || hook.wait_for_ready;
    g->hooks.push_back(std::move(hook));
  }
  if (groups.empty()) {
    return result;
  }
  // The whole wait lasts the largest waitTimeout; any hook without one makes it unbounded.
  std::chrono::nanoseconds max_wait{0};
  bool bounded = true;
  for (const Group& g : groups) {
    for (const ExecHook& h : g.hooks) {
      if (h.wait_timeout.count() <= 0) {
        bounded = false;
      }
      max_wait = std::max(max_wait, h.wait_timeout);
    }
  }
  const auto start = clock.Now();
  std::optional<std::chrono::system_clock::time_point> deadline;
  if (bounded) {
    deadline = start + std::chrono::duration_cast<std::chrono::system_clock::duration>(max_wait);
  }

  auto record = [&](HookOutcome o, std::string message) {
    ++result.attempted;
    if (o.failed) {
      ++result.failed;
      result.errors.push_back(std::move(message));
    }
    result.hooks.push_back(std::move(o));
  };
  std::string abort_reason;
  bool stopped = false;  // an onError Fail failure
  auto cancelled = [&] { return cancel != nullptr && cancel->load(); };

  Status watched = pods.WatchPod(ns, name, deadline, [&](const Json& now) -> Status {
    if (cancelled()) {
      abort_reason = "the restore's hooks were cancelled after a hook of another pod failed";
      return CancelledError(abort_reason);
    }
    const std::string phase = PodPhase(now);
    if (Terminal(phase)) {
      abort_reason = "the pod reached phase " + phase;
      return CancelledError(abort_reason);
    }
    bool all_done = true;
    for (Group& g : groups) {
      if (g.next == g.hooks.size()) {
        continue;
      }
      if (!ContainerUp(now, g.container, g.need_ready)) {
        all_done = false;
        continue;
      }
      for (; g.next < g.hooks.size(); ++g.next) {
        const ExecHook& hook = g.hooks[g.next];
        if (cancelled()) {
          abort_reason = "the restore's hooks were cancelled after a hook of another pod failed";
          return CancelledError(abort_reason);
        }
        if (hook.wait_timeout.count() > 0 && clock.Now() - start > hook.wait_timeout) {
          HookOutcome o;
          o.hook = hook;
          o.executed = false;
          o.failed = true;
          o.error =
              "hook " + hook.name + " in container " + hook.container + " expired before executing";
          Fields f = BaseFields(hook, now, "");
          f.emplace_back("hookContainer", hook.container);
          Emit(log, LogLevel::kError, o.error, f);
          std::string message = o.error;
          message.append(" (pod ").append(PodRef(pod)).append(")");
          record(std::move(o), std::move(message));
          if (hook.on_error == OnError::kFail) {
            ++g.next;
            stopped = true;
            abort_reason = "an earlier hook with onError Fail failed";
            return CancelledError(abort_reason);
          }
          continue;
        }
        HookOutcome o = ExecuteHook(executor, now, hook, "", log);
        const bool failed = o.failed;
        std::string message = HookWhere(hook, pod);
        message.append(" failed to execute: ").append(o.error);
        record(std::move(o), std::move(message));
        if (failed && hook.on_error == OnError::kFail) {
          ++g.next;
          stopped = true;
          abort_reason = "an earlier hook with onError Fail failed";
          return CancelledError(abort_reason);
        }
      }
    }
    return all_done ? CancelledError("all hooks ran") : OkStatus();
  });
  if (!watched.ok()) {
    if (watched.code() == StatusCode::kDeadlineExceeded) {
      abort_reason = "the pod's containers were not up within the largest waitTimeout (" +
                     api::FormatDuration(max_wait) + ")";
    } else if (watched.code() == StatusCode::kNotFound) {
      abort_reason = "the pod was deleted";
    } else if (abort_reason.empty()) {
      abort_reason = watched.message();
    }
  }
  // Hooks that never ran are errors.
  for (Group& g : groups) {
    for (; g.next < g.hooks.size(); ++g.next) {
      const ExecHook& hook = g.hooks[g.next];
      HookOutcome o;
      o.hook = hook;
      o.failed = true;
      o.error = "not executed: " + abort_reason;
      std::string message = HookWhere(hook, pod);
      message.append(" not executed: ").append(abort_reason);
      Fields f = BaseFields(hook, pod, "");
      f.emplace_back("hookContainer", hook.container);
      Emit(log, LogLevel::kError, message, f);
      record(std::move(o), message);
    }
  }
  result.skip_item = stopped;
  if (!result.errors.empty() && cancel != nullptr) {
    cancel->store(true);
  }
  return result;
}

}  // namespace arca::hooks
