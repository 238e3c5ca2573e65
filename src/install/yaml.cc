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

void Emit(YAML::Emitter& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      return;
    case nlohmann::json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& item : value) {
        Emit(out, item);
      }
      out << YAML::EndSeq;
      return;
    case nlohmann::json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      bool quote = false;
      try {
        quote = NeedsQuotes(text);
      } catch (const std::exception&) {
        quote = true;
      }
      if (quote) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      return;
    }
    case nlohmann::json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      return;
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out << YAML::Null;
      return;
    default:
      out << value.dump();  // numbers
      return;
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
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  Emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace arca::install
