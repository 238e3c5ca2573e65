// File: api/json_fields.h
//
// Small helpers for decoding Kubernetes-style JSON objects field by field, with errors that name
// the field's path ("spec.ttl: ..."), and for encoding with Go's `omitempty` rules.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/duration.h"
#include "common/status.h"

namespace arca::api {

// Reads fields of one JSON object. The first problem is kept in status(); later reads are no-ops.
// A missing or null field leaves the output unchanged.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string path);

  void String(const char* key, std::string& out);
  void StringList(const char* key, std::vector<std::string>& out);
  void StringMap(const char* key, std::map<std::string, std::string>& out);
  void Bool(const char* key, bool& out);
  void OptionalBool(const char* key, std::optional<bool>& out);
  void Int(const char* key, int64_t& out);
  void OptionalDuration(const char* key, std::optional<Duration>& out);
  void Json(const char* key, nlohmann::json& out);
  void OptionalJson(const char* key, std::optional<nlohmann::json>& out);
  void JsonList(const char* key, std::vector<nlohmann::json>& out);
  // The nested object at `key` (an empty object when absent); an error when it is not an object.
  FieldReader Child(const char* key);

  // Merges a child's error into this reader.
  void Absorb(const FieldReader& child);
  const Status& status() const { return status_; }

 private:
  const nlohmann::json* Find(const char* key);
  void Fail(const char* key, const std::string& what);

  const nlohmann::json& object_;
  std::string path_;
  Status status_;
};

// Checks that `j` is an object and that its apiVersion and kind, when present, are velero.io/v1
// and `kind` (shared by the decoders of every kind). kInvalidArgument naming what is wrong.
Status CheckTypeMeta(const nlohmann::json& j, std::string_view kind);

// Omit-empty setters for encoding.
void SetString(nlohmann::json& j, const char* key, const std::string& v);
void SetStringList(nlohmann::json& j, const char* key, const std::vector<std::string>& v);
void SetStringMap(nlohmann::json& j, const char* key, const std::map<std::string, std::string>& v);
void SetOptionalBool(nlohmann::json& j, const char* key, const std::optional<bool>& v);
void SetInt(nlohmann::json& j, const char* key, int64_t v);
void SetOptionalDuration(nlohmann::json& j, const char* key, const std::optional<Duration>& v);
void SetJson(nlohmann::json& j, const char* key, const nlohmann::json& v);

}  // namespace arca::api
