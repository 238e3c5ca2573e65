#include "install/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <exception>
#include <string>

namespace arca::install {
namespace {

nlohmann::json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") {  // quoted: always a string
    return text;
  }
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  if (text.empty() || text == "null" || text == "Null" || text == "NULL" || text == "~") {
    return nullptr;
  }
  int64_t integer = 0;
  if (YAML::convert<int64_t>::decode(node, integer) &&
      text.find_first_not_of("+-0123456789") == std::string::npos) {
    return integer;
  }
  double real = 0;
  if (text.find_first_of("0123456789") != std::string::npos &&
      text.find_first_not_of("+-0123456789.eE") == std::string::npos &&
      YAML::convert<double>::decode(node, real)) {
    return real;
  }
  return text;
}

nlohmann::json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node) {
        out[entry.first.as<std::string>()] = NodeToJson(entry.second);
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) {
        out.push_back(NodeToJson(item));
      }
      return out;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
  }
  return nullptr;
}

// Whether a plain scalar `text` would be read back as something other than this string.
bool NeedsQuotes(const std::string& text) {
  if (text.empty()) {
    return true;
  }
  YAML::Node probe = YAML::Load(text);
  if (!probe.IsScalar() || probe.Scalar() != text) {
    return true;
  }
  return !ScalarToJson(probe).is_string();
}

std::string Scalar(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    bool quote = true;
    try {
      quote = NeedsQuotes(text);
    } catch (const std::exception&) {
      quote = true;
    }
    return quote ? nlohmann::json(text).dump() : text;
  }
  if (value.is_null()) {
    return "null";
  }
  if (value.is_object()) {
    return "{}";
  }
  if (value.is_array()) {
    return "[]";
  }
  return value.dump();  // numbers and booleans
}

bool IsBlock(const nlohmann::json& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

// Block style as kubectl prints it: maps indent their members by two, sequences are not
// indented under their key ("key:\n- item").
void Emit(const nlohmann::json& value, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      out += pad + Scalar(key) + ":";
      if (!IsBlock(item)) {
        out += " " + Scalar(item) + "\n";
      } else {
        out += "\n";
        Emit(item, item.is_array() ? indent : indent + 2, out);
      }
    }
    return;
  }
  for (const auto& item : value) {
    if (!IsBlock(item)) {
      out += pad + "- " + Scalar(item) + "\n";
      continue;
    }
    std::string nested;
    Emit(item, indent + 2, nested);
    out += pad + "- " + nested.substr(indent + 2);  // the first line goes after "- "
  }
}

}  // namespace

Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text) {
  try {
    std::vector<nlohmann::json> out;
    for (const YAML::Node& doc : YAML::LoadAll(std::string(text))) {
      nlohmann::json j = NodeToJson(doc);
      if (!j.is_null()) {
        out.push_back(std::move(j));
      }
    }
    return out;
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("malformed YAML at line " + std::to_string(e.mark.line + 1) +
                                ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

std::string ToYaml(const nlohmann::json& value) {
  if (!IsBlock(value)) {
    return Scalar(value) + "\n";
  }
  std::string out;
  Emit(value, 0, out);
  return out;
}

}  // namespace arca::install
