#include "kube/discovery.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace arca::kube {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Str(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) {
    return "";
  }
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> Strings(const nlohmann::json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object()) {
    return out;
  }
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) {
    return out;
  }
  for (const nlohmann::json& v : *it) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

const nlohmann::json* Array(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_array() ? &*it : nullptr;
}

bool NameMatches(const ApiResource& r, std::string_view lower_name) {
  if (r.gvr.resource == lower_name || r.singular == lower_name || Lower(r.kind) == lower_name) {
    return true;
  }
  return std::find(r.short_names.begin(), r.short_names.end(), lower_name) != r.short_names.end();
}

}  // namespace

std::string GroupVersionResource::ToString() const {
  return resource + "." + version + (group.empty() ? "" : "." + group);
}

std::string GroupVersionResource::GroupVersion() const {
  return group.empty() ? version : group + "/" + version;
}

bool ApiResource::HasVerb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

bool ApiResource::HasSubresource(std::string_view name) const {
  return std::find(subresources.begin(), subresources.end(), name) != subresources.end();
}

void DiscoveryIndex::Add(ApiResource resource) {
  for (ApiResource& existing : resources_) {
    if (existing.gvr == resource.gvr) {
      existing = std::move(resource);
      return;
    }
  }
  resources_.push_back(std::move(resource));
}

Status DiscoveryIndex::AddAggregated(std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || Str(doc, "kind") != "APIGroupDiscoveryList") {
    return InvalidArgumentError("the discovery document is not an APIGroupDiscoveryList");
  }
  const nlohmann::json* groups = Array(doc, "items");
  if (groups == nullptr) {
    return OkStatus();
  }
  for (const nlohmann::json& group : *groups) {
    const std::string group_name = group.contains("metadata") ? Str(group["metadata"], "name") : "";
    const nlohmann::json* versions = group.is_object() ? Array(group, "versions") : nullptr;
    if (versions == nullptr) {
      continue;
    }
    bool first = true;
    for (const nlohmann::json& version : *versions) {
      const std::string version_name = Str(version, "version");
      const nlohmann::json* resources = version.is_object() ? Array(version, "resources") : nullptr;
      if (version_name.empty() || resources == nullptr) {
        continue;
      }
      for (const nlohmann::json& res : *resources) {
        ApiResource r;
        r.gvr = {group_name, version_name, Str(res, "resource")};
        if (r.gvr.resource.empty()) {
          continue;
        }
        if (const auto kind = res.find("responseKind"); kind != res.end()) {
          r.kind = Str(*kind, "kind");
        }
        r.singular = Str(res, "singularResource");
        r.namespaced = Str(res, "scope") == "Namespaced";
        r.verbs = Strings(res, "verbs");
        r.short_names = Strings(res, "shortNames");
        r.categories = Strings(res, "categories");
        if (const nlohmann::json* subs = Array(res, "subresources"); subs != nullptr) {
          for (const nlohmann::json& sub : *subs) {
            if (std::string name = Str(sub, "subresource"); !name.empty()) {
              r.subresources.push_back(std::move(name));
            }
          }
        }
        r.preferred = first;
        Add(std::move(r));
      }
      first = false;
    }
  }
  return OkStatus();
}

Result<std::vector<DiscoveryIndex::LegacyGroupVersion>> DiscoveryIndex::ParseLegacyGroupList(
    std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || Str(doc, "kind") != "APIGroupList") {
    return InvalidArgumentError("the discovery document is not an APIGroupList");
  }
  std::vector<LegacyGroupVersion> out;
  const nlohmann::json* groups = Array(doc, "groups");
  if (groups == nullptr) {
    return out;
  }
  for (const nlohmann::json& group : *groups) {
    const std::string name = Str(group, "name");
    std::string preferred;
    if (group.is_object() && group.contains("preferredVersion")) {
      preferred = Str(group["preferredVersion"], "version");
    }
    const nlohmann::json* versions = group.is_object() ? Array(group, "versions") : nullptr;
    if (versions == nullptr) {
      continue;
    }
    for (const nlohmann::json& v : *versions) {
      const std::string version = Str(v, "version");
      if (!version.empty()) {
        out.push_back({name, version, version == preferred});
      }
    }
  }
  return out;
}

Status DiscoveryIndex::AddLegacyResourceList(std::string_view group, std::string_view version,
                                             bool preferred, std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || Str(doc, "kind") != "APIResourceList") {
    return InvalidArgumentError(
        "the discovery document for " +
        GroupVersionResource{std::string(group), std::string(version), ""}.GroupVersion() +
        " is not an APIResourceList");
  }
  const nlohmann::json* resources = Array(doc, "resources");
  if (resources == nullptr) {
    return OkStatus();
  }
  // Main resources first, then attach "<resource>/<sub>" entries to them.
  std::vector<ApiResource> found;
  for (const nlohmann::json& res : *resources) {
    const std::string name = Str(res, "name");
    if (name.empty() || name.find('/') != std::string::npos) {
      continue;
    }
    ApiResource r;
    r.gvr = {std::string(group), std::string(version), name};
    r.kind = Str(res, "kind");
    r.singular = Str(res, "singularName");
    if (r.singular.empty()) {
      r.singular = Lower(r.kind);
    }
    const auto namespaced = res.find("namespaced");
    r.namespaced = namespaced != res.end() && namespaced->is_boolean() && namespaced->get<bool>();
    r.verbs = Strings(res, "verbs");
    r.short_names = Strings(res, "shortNames");
    r.categories = Strings(res, "categories");
    r.preferred = preferred;
    found.push_back(std::move(r));
  }
  for (const nlohmann::json& res : *resources) {
    const std::string name = Str(res, "name");
    const size_t slash = name.find('/');
    if (slash == std::string::npos) {
      continue;
    }
    for (ApiResource& r : found) {
      if (r.gvr.resource == name.substr(0, slash)) {
        r.subresources.push_back(name.substr(slash + 1));
      }
    }
  }
  for (ApiResource& r : found) {
    Add(std::move(r));
  }
  return OkStatus();
}

std::vector<ApiResource> DiscoveryIndex::PreferredResources() const {
  std::vector<ApiResource> out;
  for (const ApiResource& r : resources_) {
    if (r.preferred) {
      out.push_back(r);
    }
  }
  return out;
}

Result<ApiResource> DiscoveryIndex::Find(const GroupVersionResource& gvr) const {
  for (const ApiResource& r : resources_) {
    if (r.gvr == gvr) {
      return r;
    }
  }
  return NotFoundError("the server does not serve " + gvr.ToString());
}

Result<ApiResource> DiscoveryIndex::FindByKind(std::string_view group, std::string_view kind,
                                               std::string_view version) const {
  const ApiResource* fallback = nullptr;
  for (const ApiResource& r : resources_) {
    if (r.gvr.group != group || r.kind != kind) {
      continue;
    }
    if (version.empty() ? r.preferred : r.gvr.version == version) {
      return r;
    }
    if (version.empty() && fallback == nullptr) {
      fallback = &r;
    }
  }
  if (fallback != nullptr) {
    return *fallback;
  }
  std::string gvk = group.empty() ? "" : std::string(group) + "/";
  gvk += version.empty() ? "*" : std::string(version);
  return NotFoundError("the server does not serve kind " + std::string(kind) + " in " + gvk);
}

Result<ApiResource> DiscoveryIndex::Resolve(std::string_view name) const {
  const std::string lower = Lower(name);
  // Candidates: (resource, version, group) readings of the name, most specific first.
  struct Reading {
    std::string resource;
    std::optional<std::string> version;
    std::optional<std::string> group;
  };
  std::vector<Reading> readings;
  const size_t dot = lower.find('.');
  if (dot == std::string::npos) {
    readings.push_back({lower, std::nullopt, std::nullopt});
  } else {
    const std::string resource = lower.substr(0, dot);
    const std::string rest = lower.substr(dot + 1);
    if (const size_t dot2 = rest.find('.'); dot2 != std::string::npos) {
      readings.push_back({resource, rest.substr(0, dot2), rest.substr(dot2 + 1)});
    }
    readings.push_back({resource, std::nullopt, rest});
    // "pods.v1" names the core group at a version.
    readings.push_back({resource, rest, std::string()});
  }
  for (const Reading& reading : readings) {
    const ApiResource* best = nullptr;
    for (const ApiResource& r : resources_) {
      if ((reading.group && r.gvr.group != *reading.group) ||
          (reading.version && r.gvr.version != *reading.version) ||
          (!reading.version && !r.preferred) || !NameMatches(r, reading.resource)) {
        continue;
      }
      // The core group wins; otherwise the server's order decides.
      if (best == nullptr || (r.gvr.group.empty() && !best->gvr.group.empty())) {
        best = &r;
      }
    }
    if (best != nullptr) {
      return *best;
    }
  }
  return NotFoundError("the server doesn't have a resource type \"" + std::string(name) + "\"");
}

}  // namespace arca::kube
