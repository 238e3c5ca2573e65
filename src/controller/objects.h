// File: controller/objects.h
//
// Small helpers the reconcilers share for reading and writing velero.io/v1 objects as JSON
// through kube::Client: a get that treats "not found" as an empty optional, a merge patch of
// a JSON value, and name/time helpers.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "kube/client.h"

namespace arca::controller {

// The object, nullopt when it does not exist, or the API's error.
Result<std::optional<nlohmann::json>> GetObject(kube::Client& client, const kube::ResourceRef& ref);

// Sends `patch` as a JSON merge patch (RFC 7386). Velero's status writes are merge patches on
// the main resource (no status subresource).
Status MergePatch(kube::Client& client, const kube::ResourceRef& ref, const nlohmann::json& patch);

// Deletes the object; a missing object is not an error.
Status DeleteObject(kube::Client& client, const kube::ResourceRef& ref);

// Parses an RFC 3339 time; nullopt for an empty or malformed one.
std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& text);

}  // namespace arca::controller
