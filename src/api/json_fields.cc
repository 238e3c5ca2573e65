#include "api/json_fields.h"

#include "api/backup.h"

namespace arca::api {
namespace {
const nlohmann::json& EmptyObject() {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  return kEmpty;
}
}  // namespace

FieldReader::FieldReader(const nlohmann::json& object, std::string path)
    : object_(object.is_object() ? object : EmptyObject()), path_(std::move(path)) {
  if (!object.is_object() && !object.is_null()) {
    status_ = InvalidArgumentError((path_.empty() ? std::string("the document") : path_) +
                                   ": expected an object, got " + object.type_name());
  }
}

const nlohmann::json* FieldReader::Find(const char* key) {
  if (!status_.ok()) {
    return nullptr;
  }
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

void FieldReader::Fail(const char* key, const std::string& what) {
  if (status_.ok()) {
    std::string field = path_.empty() ? std::string(key) : path_ + "." + key;
    status_ = InvalidArgumentError(field + ": " + what);
  }
}

void FieldReader::String(const char* key, std::string& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_string()) {
      return Fail(key, std::string("expected a string, got ") + v->type_name());
    }
    out = v->get<std::string>();
  }
}

void FieldReader::StringList(const char* key, std::vector<std::string>& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_array()) {
      return Fail(key, std::string("expected a list of strings, got ") + v->type_name());
    }
    std::vector<std::string> list;
    for (const nlohmann::json& e : *v) {
      if (!e.is_string()) {
        return Fail(key, std::string("expected a list of strings, found ") + e.type_name());
      }
      list.push_back(e.get<std::string>());
    }
    out = std::move(list);
  }
}

void FieldReader::StringMap(const char* key, std::map<std::string, std::string>& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_object()) {
      return Fail(key, std::string("expected a map of strings, got ") + v->type_name());
    }
    std::map<std::string, std::string> map;
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it->is_string()) {
        return Fail(key, "value of \"" + it.key() + "\" is not a string");
      }
      map[it.key()] = it->get<std::string>();
    }
    out = std::move(map);
  }
}

void FieldReader::Bool(const char* key, bool& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_boolean()) {
      return Fail(key, std::string("expected true or false, got ") + v->type_name());
    }
    out = v->get<bool>();
  }
}

void FieldReader::OptionalBool(const char* key, std::optional<bool>& out) {
  if (Find(key) != nullptr) {
    bool b = false;
    Bool(key, b);
    if (status_.ok()) {
      out = b;
    }
  }
}

void FieldReader::Int(const char* key, int64_t& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_number_integer()) {
      return Fail(key, std::string("expected an integer, got ") + v->type_name());
    }
    out = v->get<int64_t>();
  }
}

void FieldReader::OptionalDuration(const char* key, std::optional<Duration>& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_string()) {
      return Fail(
          key, std::string("expected a duration string such as \"720h\", got ") + v->type_name());
    }
    Result<Duration> d = ParseDuration(v->get<std::string>());
    if (!d.ok()) {
      return Fail(key, d.status().message());
    }
    out = *d;
  }
}

void FieldReader::Json(const char* key, nlohmann::json& out) {
  if (const nlohmann::json* v = Find(key)) {
    out = *v;
  }
}

void FieldReader::OptionalJson(const char* key, std::optional<nlohmann::json>& out) {
  if (const nlohmann::json* v = Find(key)) {
    out = *v;
  }
}

void FieldReader::JsonList(const char* key, std::vector<nlohmann::json>& out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_array()) {
      return Fail(key, std::string("expected a list, got ") + v->type_name());
    }
    out.assign(v->begin(), v->end());
  }
}

FieldReader FieldReader::Child(const char* key) {
  std::string path = path_.empty() ? std::string(key) : path_ + "." + key;
  const nlohmann::json* v = Find(key);
  return FieldReader(v != nullptr ? *v : EmptyObject(), std::move(path));
}

void FieldReader::Absorb(const FieldReader& child) {
  if (status_.ok() && !child.status().ok()) {
    status_ = child.status();
  }
}

void SetString(nlohmann::json& j, const char* key, const std::string& v) {
  if (!v.empty()) {
    j[key] = v;
  }
}

void SetStringList(nlohmann::json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) {
    j[key] = v;
  }
}

void SetStringMap(nlohmann::json& j, const char* key, const std::map<std::string, std::string>& v) {
  if (!v.empty()) {
    j[key] = v;
  }
}

void SetOptionalBool(nlohmann::json& j, const char* key, const std::optional<bool>& v) {
  if (v.has_value()) {
    j[key] = *v;
  }
}

void SetInt(nlohmann::json& j, const char* key, int64_t v) {
  if (v != 0) {
    j[key] = v;
  }
}

void SetOptionalDuration(nlohmann::json& j, const char* key, const std::optional<Duration>& v) {
  if (v.has_value()) {
    j[key] = FormatDuration(*v);
  }
}

void SetJson(nlohmann::json& j, const char* key, const nlohmann::json& v) {
  if (!v.is_null() && !(v.is_object() && v.empty()) && !(v.is_array() && v.empty())) {
    j[key] = v;
  }
}

Status CheckTypeMeta(const nlohmann::json& j, std::string_view kind) {
  if (!j.is_object()) {
    return InvalidArgumentError("a " + std::string(kind) + " must be a JSON object, got " +
                                j.type_name());
  }
  FieldReader top(j, "");
  std::string api_version;
  std::string got_kind;
  top.String("apiVersion", api_version);
  top.String("kind", got_kind);
  RETURN_IF_ERROR(top.status());
  if (!api_version.empty() && api_version != kVeleroApiVersion) {
    return InvalidArgumentError("apiVersion is \"" + api_version + "\", expected \"" +
                                kVeleroApiVersion + "\"");
  }
  if (!got_kind.empty() && got_kind != kind) {
    return InvalidArgumentError("kind is \"" + got_kind + "\", expected \"" + std::string(kind) +
                                "\"");
  }
  return OkStatus();
}

}  // namespace arca::api
