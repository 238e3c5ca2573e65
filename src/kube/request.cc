#include "kube/request.h"

#include <nlohmann/json.hpp>

namespace arca::kube {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

Status CheckSegment(std::string_view value, std::string_view what) {
  if (value.empty() || value == "." || value == ".." || value.find('/') != std::string_view::npos ||
      value.find('%') != std::string_view::npos) {
    return InvalidArgumentError(std::string(what) + " \"" + std::string(value) +
                                "\" is not valid in a request path");
  }
  return OkStatus();
}

}  // namespace

ResourceRef ResourceRef::For(const ApiResource& resource, std::string namespace_name,
                             std::string name) {
  ResourceRef ref;
  ref.gvr = resource.gvr;
  ref.namespaced = resource.namespaced;
  ref.namespace_name = resource.namespaced ? std::move(namespace_name) : "";
  ref.name = std::move(name);
  return ref;
}

std::string ResourceRef::Describe() const {
  std::string out = gvr.resource;
  if (!gvr.group.empty()) {
    out += "." + gvr.group;
  }
  if (!name.empty() || !namespace_name.empty()) {
    out += " ";
    if (!namespace_name.empty()) {
      out += namespace_name + (name.empty() ? "" : "/");
    }
    out += name;
  }
  if (!subresource.empty()) {
    out += " (" + subresource + ")";
  }
  return out;
}

Result<std::string> ResourcePath(const ResourceRef& ref) {
  RETURN_IF_ERROR(CheckSegment(ref.gvr.resource, "resource"));
  RETURN_IF_ERROR(CheckSegment(ref.gvr.version, "version"));
  std::string path;
  if (ref.gvr.group.empty()) {
    path = "/api/" + ref.gvr.version;
  } else {
    RETURN_IF_ERROR(CheckSegment(ref.gvr.group, "group"));
    path = "/apis/" + ref.gvr.group + "/" + ref.gvr.version;
  }
  if (ref.namespaced && !ref.namespace_name.empty()) {
    RETURN_IF_ERROR(CheckSegment(ref.namespace_name, "namespace"));
    path += "/namespaces/" + ref.namespace_name;
  } else if (!ref.namespaced && !ref.namespace_name.empty()) {
    return InvalidArgumentError(ref.gvr.resource + " are not namespaced");
  } else if (ref.namespaced && !ref.name.empty()) {
    return InvalidArgumentError("a namespace is needed to address " + ref.gvr.resource + " \"" +
                                ref.name + "\"");
  }
  path += "/" + ref.gvr.resource;
  if (!ref.name.empty()) {
    RETURN_IF_ERROR(CheckSegment(ref.name, "name"));
    path += "/" + ref.name;
  }
  if (!ref.subresource.empty()) {
    if (ref.name.empty()) {
      return InvalidArgumentError("subresource " + ref.subresource + " needs an object name");
    }
    RETURN_IF_ERROR(CheckSegment(ref.subresource, "subresource"));
    path += "/" + ref.subresource;
  }
  return path;
}

std::string EncodeQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    out += out.empty() ? "?" : "&";
    out += QueryEscape(key);
    out += '=';
    out += QueryEscape(value);
  }
  return out;
}

QueryParams ListOptions::ToQuery(bool watch) const {
  QueryParams q;
  if (!label_selector.empty()) {
    q.emplace_back("labelSelector", label_selector);
  }
  if (!field_selector.empty()) {
    q.emplace_back("fieldSelector", field_selector);
  }
  if (!watch && limit > 0) {
    q.emplace_back("limit", std::to_string(limit));
  }
  if (!watch && !continue_token.empty()) {
    q.emplace_back("continue", continue_token);
  }
  if (!resource_version.empty()) {
    q.emplace_back("resourceVersion", resource_version);
  }
  if (!resource_version_match.empty()) {
    q.emplace_back("resourceVersionMatch", resource_version_match);
  }
  if (watch) {
    q.emplace_back("watch", "true");
    if (allow_watch_bookmarks) {
      q.emplace_back("allowWatchBookmarks", "true");
    }
    if (send_initial_events) {
      q.emplace_back("sendInitialEvents", "true");
    }
  }
  if (timeout_seconds) {
    q.emplace_back("timeoutSeconds", std::to_string(*timeout_seconds));
  }
  return q;
}

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/json";
}

QueryParams WriteOptions::ToQuery() const {
  QueryParams q;
  if (dry_run) {
    q.emplace_back("dryRun", "All");
  }
  if (!field_manager.empty()) {
    q.emplace_back("fieldManager", field_manager);
  }
  if (force) {
    q.emplace_back("force", "true");
  }
  return q;
}

std::string DeleteOptions::ToBody() const {
  nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (propagation_policy) {
    body["propagationPolicy"] = *propagation_policy;
  }
  if (grace_period_seconds) {
    body["gracePeriodSeconds"] = *grace_period_seconds;
  }
  if (!precondition_uid.empty()) {
    body["preconditions"]["uid"] = precondition_uid;
  }
  if (!precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = precondition_resource_version;
  }
  if (dry_run) {
    body["dryRun"] = nlohmann::json::array({"All"});
  }
  return body.dump();
}

}  // namespace arca::kube
