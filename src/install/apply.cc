#include "install/apply.h"

#include <string>

namespace arca::install {
namespace {

using nlohmann::json;

struct Identity {
  std::string group;
  std::string version;
  std::string kind;
  std::string ns;
  std::string name;

  std::string Describe() const { return kind + "/" + (ns.empty() ? "" : ns + "/") + name; }
};

Result<Identity> IdentityOf(const json& object) {
  Identity id;
  const std::string api_version = object.value("apiVersion", "");
  const size_t slash = api_version.find('/');
  if (slash == std::string::npos) {
    id.version = api_version;
  } else {
    id.group = api_version.substr(0, slash);
    id.version = api_version.substr(slash + 1);
  }
  id.kind = object.value("kind", "");
  if (object.contains("metadata") && object["metadata"].is_object()) {
    id.ns = object["metadata"].value("namespace", "");
    id.name = object["metadata"].value("name", "");
  }
  if (id.version.empty() || id.kind.empty() || id.name.empty()) {
    return InvalidArgumentError("object without apiVersion, kind or metadata.name: " +
                                object.dump().substr(0, 200));
  }
  return id;
}

Result<kube::ResourceRef> RefFor(const kube::DiscoveryIndex& index, const Identity& id) {
  auto resource = index.FindByKind(id.group, id.kind, id.version);
  if (!resource.ok()) {
    return Status(resource.status().code(),
                  "the server does not serve " + id.kind + " in " +
                      (id.group.empty() ? std::string("the core group") : id.group) + "/" +
                      id.version + ": " + resource.status().message());
  }
  return kube::ResourceRef::For(*resource, resource->namespaced ? id.ns : "", id.name);
}

bool Established(const json& crd) {
  if (!crd.contains("status") || !crd["status"].contains("conditions")) {
    return false;
  }
  for (const json& c : crd["status"]["conditions"]) {
    if (c.value("type", "") == "Established" && c.value("status", "") == "True") {
      return true;
    }
  }
  return false;
}

// How often a replace that lost a race with another writer is read and tried again.
constexpr int kConflictRetries = 5;

Status WaitEstablished(kube::Client& client, const kube::ResourceRef& ref, Clock& clock,
                       std::chrono::seconds timeout) {
  const auto deadline = clock.Now() + timeout;
  while (true) {
    ASSIGN_OR_RETURN(std::string live, client.Get(ref));
    if (Established(json::parse(live, nullptr, false))) {
      return OkStatus();
    }
    if (clock.Now() >= deadline) {
      return DeadlineExceededError("CustomResourceDefinition " + ref.name +
                                   " is not Established after " + std::to_string(timeout.count()) +
                                   "s");
    }
    clock.SleepFor(std::chrono::milliseconds(100));
  }
}

}  // namespace

Status ApplyObjects(kube::Client& client, const std::vector<json>& objects, Clock& clock,
                    const ApplyLog& log, const ApplyOptions& options) {
  ASSIGN_OR_RETURN(kube::DiscoveryIndex index, client.Discover());
  bool stale = false;  // CRDs were added since the last discovery
  for (const json& object : objects) {
    ASSIGN_OR_RETURN(Identity id, IdentityOf(object));
    if (stale && id.kind != "CustomResourceDefinition") {
      ASSIGN_OR_RETURN(index, client.Discover());
      stale = false;
    }
    ASSIGN_OR_RETURN(kube::ResourceRef ref, RefFor(index, id));
    kube::ResourceRef collection = ref;
    collection.name.clear();
    const std::string body = object.dump();
    auto created = client.Create(collection, body);
    if (created.ok()) {
      log("created " + id.Describe());
    } else if (created.status().code() == StatusCode::kAlreadyExists) {
      // Read, then replace at the version read. Another writer in between (a second install,
      // a controller adding its status) is a conflict: read again and retry, as kubectl does.
      Result<std::string> updated = InternalError("not attempted");
      for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
        ASSIGN_OR_RETURN(std::string live_text, client.Get(ref));
        const json live = json::parse(live_text, nullptr, false);
        json replacement = object;
        replacement["metadata"]["resourceVersion"] =
            live.is_object() ? live["metadata"].value("resourceVersion", "") : "";
        updated = client.Update(ref, replacement.dump());
        if (updated.status().code() != StatusCode::kAborted) {
          break;
        }
      }
      if (!updated.ok()) {
        return Status(updated.status().code(),
                      "updating " + id.Describe() + ": " + updated.status().message());
      }
      log("updated " + id.Describe());
    } else {
      return Status(created.status().code(),
                    "creating " + id.Describe() + ": " + created.status().message());
    }
    if (id.kind == "CustomResourceDefinition") {
      RETURN_IF_ERROR(WaitEstablished(client, ref, clock, options.crd_timeout));
      stale = true;
    }
  }
  return OkStatus();
}

Status RemoveObjects(kube::Client& client, const std::vector<json>& objects, Clock& clock,
                     const ApplyLog& log, std::chrono::seconds wait_for) {
  ASSIGN_OR_RETURN(kube::DiscoveryIndex index, client.Discover());
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    ASSIGN_OR_RETURN(Identity id, IdentityOf(*it));
    auto ref = RefFor(index, id);
    if (!ref.ok()) {
      continue;  // the kind is gone already (its CRD was deleted)
    }
    kube::DeleteOptions options;
    options.propagation_policy = "Background";
    auto deleted = client.Delete(*ref, options);
    if (!deleted.ok()) {
      if (deleted.status().code() == StatusCode::kNotFound) {
        continue;
      }
      return Status(deleted.status().code(),
                    "deleting " + id.Describe() + ": " + deleted.status().message());
    }
    log("deleted " + id.Describe());
    if (id.kind == "Namespace" && wait_for.count() > 0) {
      const auto deadline = clock.Now() + wait_for;
      while (client.Get(*ref).ok()) {
        if (clock.Now() >= deadline) {
          return DeadlineExceededError("namespace " + id.name + " still exists after " +
                                       std::to_string(wait_for.count()) + "s");
        }
        clock.SleepFor(std::chrono::milliseconds(200));
      }
    }
  }
  return OkStatus();
}

}  // namespace arca::install
