#include "controller/objects.h"

#include "kube/encoding.h"

namespace arca::controller {

Result<std::optional<nlohmann::json>> GetObject(kube::Client& client,
                                                const kube::ResourceRef& ref) {
  Result<std::string> text = client.Get(ref);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return std::optional<nlohmann::json>();
    }
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return InternalError("the API server sent " + ref.Describe() +
                         " as something else than a "
                         "JSON object");
  }
  return std::optional<nlohmann::json>(std::move(j));
}

Status MergePatch(kube::Client& client, const kube::ResourceRef& ref, const nlohmann::json& patch) {
  return client.Patch(ref, kube::PatchType::kMerge, patch.dump()).status();
}

Status DeleteObject(kube::Client& client, const kube::ResourceRef& ref) {
  Result<std::string> r = client.Delete(ref);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
    return r.status();
  }
  return OkStatus();
}

std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  auto t = kube::ParseRfc3339(text);
  if (!t.ok()) {
    return std::nullopt;
  }
  return *t;
}

}  // namespace arca::controller
