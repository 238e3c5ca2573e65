#include "hooks/hooks.h"

#include <algorithm>

#include "api/duration.h"

namespace arca::hooks {
namespace {

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

std::string Annotation(const Json& pod, const std::string& key) {
  const Json* metadata = Field(pod, "metadata");
  const Json* annotations = metadata != nullptr ? Field(*metadata, "annotations") : nullptr;
  return annotations != nullptr ? Str(Field(*annotations, key.c_str())) : "";
}

kube::Labels PodLabels(const Json& pod) {
  kube::Labels labels;
  const Json* metadata = Field(pod, "metadata");
  const Json* l = metadata != nullptr ? Field(*metadata, "labels") : nullptr;
  if (l != nullptr && l->is_object()) {
    for (auto it = l->begin(); it != l->end(); ++it) {
      if (it->is_string()) {
        labels[it.key()] = it->get<std::string>();
      }
    }
  }
  return labels;
}

std::string FirstContainer(const Json& pod) {
  const Json* spec = Field(pod, "spec");
  const Json* containers = spec != nullptr ? Field(*spec, "containers") : nullptr;
  if (containers != nullptr && containers->is_array() && !containers->empty()) {
    return Str(Field((*containers)[0], "name"));
  }
  return "";
}

OnError ParseOnError(const std::string& v) {
  if (v == "Continue") {
    return OnError::kContinue;
  }
  if (v == "Fail") {
    return OnError::kFail;
  }
  return OnError::kUnset;
}

// Parses an optional duration field; problems go to `errors` with the field's path.
std::chrono::nanoseconds DurationField(const Json& obj, const char* key, const std::string& path,
                                       std::vector<std::string>* errors) {
  const Json* v = Field(obj, key);
  if (v == nullptr) {
    return std::chrono::nanoseconds(0);
  }
  if (!v->is_string()) {
    errors->push_back(path + "." + key + ": expected a duration string such as \"30s\"");
    return std::chrono::nanoseconds(0);
  }
  Result<api::Duration> d = api::ParseDuration(v->get<std::string>());
  if (!d.ok()) {
    errors->push_back(path + "." + key + ": " + d.status().message());
    return std::chrono::nanoseconds(0);
  }
  return *d;
}

std::vector<std::string> StringList(const Json& obj, const char* key, const std::string& path,
                                    std::vector<std::string>* errors) {
  std::vector<std::string> out;
  const Json* v = Field(obj, key);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array()) {
    errors->push_back(path + "." + key + ": expected a list of strings");
    return out;
  }
  for (const Json& e : *v) {
    if (!e.is_string()) {
      errors->push_back(path + "." + key + ": expected a list of strings");
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

ExecHook ParseExec(const Json& exec, const std::string& path, bool restore,
                   std::vector<std::string>* errors) {
  ExecHook h;
  h.container = Str(Field(exec, "container"));
  h.command = StringList(exec, "command", path, errors);
  if (h.command.empty()) {
    errors->push_back(path + ".command: an exec hook needs a command");
  }
  std::string on_error = Str(Field(exec, "onError"));
  h.on_error = ParseOnError(on_error);
  if (!on_error.empty() && h.on_error == OnError::kUnset) {
    errors->push_back(path + ".onError: \"" + on_error + "\" is not Continue or Fail");
  }
  if (restore) {
    h.timeout = DurationField(exec, "execTimeout", path, errors);
    h.wait_timeout = DurationField(exec, "waitTimeout", path, errors);
    const Json* ready = Field(exec, "waitForReady");
    h.wait_for_ready = ready != nullptr && ready->is_boolean() && ready->get<bool>();
  } else {
    h.timeout = DurationField(exec, "timeout", path, errors);
  }
  return h;
}

Result<std::vector<ResourceHookSpec>> ParseSpecs(const Json& hooks, bool restore) {
  std::vector<ResourceHookSpec> specs;
  std::vector<std::string> errors;
  const Json* resources = Field(hooks, "resources");
  if (resources == nullptr) {
    return specs;
  }
  if (!resources->is_array()) {
    return InvalidArgumentError("spec.hooks.resources: expected a list");
  }
  for (size_t i = 0; i < resources->size(); ++i) {
    const Json& r = (*resources)[i];
    std::string path = "spec.hooks.resources[" + std::to_string(i) + "]";
    ResourceHookSpec spec;
    spec.name = Str(Field(r, "name"));
    if (spec.name.empty()) {
      errors.push_back(path + ".name: a hook needs a name");
    }
    spec.namespaces = backup::IncludesExcludes(StringList(r, "includedNamespaces", path, &errors),
                                               StringList(r, "excludedNamespaces", path, &errors));
    // Restore hooks always target pods; their resource lists are ignored, as in Velero.
    if (!restore) {
      spec.resources = backup::IncludesExcludes(StringList(r, "includedResources", path, &errors),
                                                StringList(r, "excludedResources", path, &errors));
    }
    if (const Json* sel = Field(r, "labelSelector")) {
      Result<kube::LabelSelector> s = kube::LabelSelector::FromLabelSelector(*sel);
      if (s.ok()) {
        spec.selector = *s;
      } else {
        errors.push_back(path + ".labelSelector: " + s.status().message());
      }
    }
    auto each = [&](const char* key,
                    const std::function<void(const Json&, const std::string&)>& f) {
      const Json* list = Field(r, key);
      if (list == nullptr) {
        return;
      }
      if (!list->is_array()) {
        errors.push_back(path + "." + key + ": expected a list");
        return;
      }
      for (size_t k = 0; k < list->size(); ++k) {
        f((*list)[k], path + "." + key + "[" + std::to_string(k) + "]");
      }
    };
    if (!restore) {
      for (const char* phase : {"pre", "post"}) {
        each(phase, [&](const Json& h, const std::string& p) {
          const Json* exec = Field(h, "exec");
          if (exec == nullptr) {
            errors.push_back(p + ": a backup hook needs exec");
            return;
          }
          ExecHook parsed = ParseExec(*exec, p + ".exec", false, &errors);
          parsed.name = spec.name;
          (phase[1] == 'r' ? spec.pre : spec.post).push_back(std::move(parsed));
        });
      }
    } else {
      each("postHooks", [&](const Json& h, const std::string& p) {
        const Json* exec = Field(h, "exec");
        const Json* init = Field(h, "init");
        if ((exec == nullptr) == (init == nullptr)) {
          errors.push_back(p + ": a restore hook needs exactly one of exec and init");
          return;
        }
        if (exec != nullptr) {
          ExecHook parsed = ParseExec(*exec, p + ".exec", true, &errors);
          parsed.name = spec.name;
          spec.post.push_back(std::move(parsed));
          return;
        }
        const Json* containers = Field(*init, "initContainers");
        if (containers == nullptr || !containers->is_array()) {
          errors.push_back(p + ".init.initContainers: expected a list of containers");
          return;
        }
        for (size_t c = 0; c < containers->size(); ++c) {
          const Json& container = (*containers)[c];
          std::string cp = p + ".init.initContainers[" + std::to_string(c) + "]";
          for (const char* required : {"name", "image", "command"}) {
            if (Field(container, required) == nullptr) {
              errors.push_back(cp + "." + required + ": an init hook container needs it");
            }
          }
          spec.init_containers.push_back(container);
        }
      });
    }
    specs.push_back(std::move(spec));
  }
  if (!errors.empty()) {
    std::string message = "invalid hooks: ";
    for (size_t i = 0; i < errors.size(); ++i) {
      message += (i > 0 ? "; " : "") + errors[i];
    }
    return InvalidArgumentError(message);
  }
  return specs;
}

bool SpecMatches(const ResourceHookSpec& spec, const Json& pod, const std::string& ns) {
  return spec.namespaces.ShouldInclude(ns) && spec.resources.ShouldInclude("pods") &&
         spec.selector.Matches(PodLabels(pod));
}

std::chrono::nanoseconds AnnotationDuration(const Json& pod, const std::string& key,
                                            std::vector<std::string>* warnings) {
  std::string v = Annotation(pod, key);
  if (v.empty()) {
    return std::chrono::nanoseconds(0);
  }
  Result<api::Duration> d = api::ParseDuration(v);
  if (!d.ok()) {
    warnings->push_back("annotation " + key + ": " + d.status().message() + "; using the default");
    return std::chrono::nanoseconds(0);
  }
  return *d;
}

std::vector<ExecHook> Defaulted(std::vector<ExecHook> hooks, const Json& pod) {
  std::string first = FirstContainer(pod);
  for (ExecHook& h : hooks) {
    if (h.container.empty()) {
      h.container = first;
    }
  }
  return hooks;
}

}  // namespace

std::vector<std::string> ParseHookCommand(const std::string& value) {
  if (!value.empty() && value.front() == '[') {
    Json parsed = Json::parse(value, nullptr, false);
    if (parsed.is_array() &&
        std::all_of(parsed.begin(), parsed.end(), [](const Json& e) { return e.is_string(); })) {
      return parsed.get<std::vector<std::string>>();
    }
  }
  return {value};
}

Result<std::vector<ResourceHookSpec>> ParseBackupHookSpecs(const Json& hooks) {
  return ParseSpecs(hooks, false);
}

Result<std::vector<ResourceHookSpec>> ParseRestoreHookSpecs(const Json& hooks) {
  return ParseSpecs(hooks, true);
}

std::vector<ExecHook> BackupHooksForPod(const std::vector<ResourceHookSpec>& specs, const Json& pod,
                                        Phase phase, std::vector<std::string>* warnings) {
  std::string prefix =
      phase == Phase::kPre ? "pre.hook.backup.velero.io/" : "post.hook.backup.velero.io/";
  std::string command = Annotation(pod, prefix + "command");
  if (command.empty() && phase == Phase::kPre) {
    prefix = "hook.backup.velero.io/";  // the legacy keys, for pre hooks only
    command = Annotation(pod, prefix + "command");
  }
  if (!command.empty()) {
    ExecHook h;
    h.name = std::string(kAnnotationHookName);
    h.command = ParseHookCommand(command);
    h.container = Annotation(pod, prefix + "container");
    h.on_error = ParseOnError(Annotation(pod, prefix + "on-error"));
    h.timeout = AnnotationDuration(pod, prefix + "timeout", warnings);
    return Defaulted({h}, pod);
  }
  const Json* metadata = Field(pod, "metadata");
  std::string ns = metadata != nullptr ? Str(Field(*metadata, "namespace")) : "";
  std::vector<ExecHook> out;
  for (const ResourceHookSpec& spec : specs) {
    if (SpecMatches(spec, pod, ns)) {
      const auto& list = phase == Phase::kPre ? spec.pre : spec.post;
      out.insert(out.end(), list.begin(), list.end());
    }
  }
  return Defaulted(std::move(out), pod);
}

std::vector<ExecHook> RestoreExecHooksForPod(const std::vector<ResourceHookSpec>& specs,
                                             const Json& pod, const std::string& target_namespace,
                                             std::vector<std::string>* warnings) {
  const std::string prefix = "post.hook.restore.velero.io/";
  std::string command = Annotation(pod, prefix + "command");
  if (!command.empty()) {
    ExecHook h;
    h.name = std::string(kAnnotationHookName);
    h.command = ParseHookCommand(command);
    h.container = Annotation(pod, prefix + "container");
    h.on_error = ParseOnError(Annotation(pod, prefix + "on-error"));
    h.timeout = AnnotationDuration(pod, prefix + "exec-timeout", warnings);
    h.wait_timeout = AnnotationDuration(pod, prefix + "wait-timeout", warnings);
    h.wait_for_ready = Annotation(pod, prefix + "wait-for-ready") == "true";
    return Defaulted({h}, pod);
  }
  std::vector<ExecHook> out;
  for (const ResourceHookSpec& spec : specs) {
    if (SpecMatches(spec, pod, target_namespace)) {
      out.insert(out.end(), spec.post.begin(), spec.post.end());
    }
  }
  return Defaulted(std::move(out), pod);
}

int ApplyRestoreInitHooks(const std::vector<ResourceHookSpec>& specs, Json& pod,
                          const std::string& target_namespace,
                          const std::function<std::string()>& random_suffix) {
  std::vector<Json> hook_containers;
  const std::string prefix = "init.hook.restore.velero.io/";
  std::string image = Annotation(pod, prefix + "container-image");
  if (!image.empty()) {
    Json c = Json::object();
    std::string name = Annotation(pod, prefix + "container-name");
    c["name"] = name.empty() ? "velero-restore-init-" + random_suffix() : name;
    c["image"] = image;
    std::string command = Annotation(pod, prefix + "command");
    if (!command.empty()) {
      c["command"] = ParseHookCommand(command);
    }
    hook_containers.push_back(std::move(c));
  } else {
    for (const ResourceHookSpec& spec : specs) {
      if (SpecMatches(spec, pod, target_namespace)) {
        hook_containers.insert(hook_containers.end(), spec.init_containers.begin(),
                               spec.init_containers.end());
      }
    }
  }
  if (hook_containers.empty() || !pod.is_object()) {
    return 0;
  }
  Json& spec = pod["spec"];
  if (!spec.is_object()) {
    spec = Json::object();
  }
  Json original = spec.contains("initContainers") && spec["initContainers"].is_array()
                      ? spec["initContainers"]
                      : Json::array();
  const int added = static_cast<int>(hook_containers.size());
  Json merged = Json::array();
  size_t start = 0;
  if (!original.empty() && Str(Field(original[0], "name")) == "restore-wait") {
    merged.push_back(original[0]);
    start = 1;
  }
  for (Json& c : hook_containers) {
    merged.push_back(std::move(c));
  }
  for (size_t i = start; i < original.size(); ++i) {
    merged.push_back(original[i]);
  }
  spec["initContainers"] = std::move(merged);
  return added;
}

}  // namespace arca::hooks
