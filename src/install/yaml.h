// File: install/yaml.h
//
// YAML in and out for manifests: Kubernetes objects are JSON inside Arca, YAML for people.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::install {

// Every document of a YAML stream ("---"-separated), as JSON. Empty documents are skipped.
// Scalars keep YAML's types the way Kubernetes reads them: true/false are booleans, integers and
// floats numbers (unless quoted), null and ~ null, everything else a string.
// kInvalidArgument with the line and column of a syntax error.
Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text);

// One block-style YAML document for `value` (no leading "---"), laid out as kubectl prints it
// (sequences not indented under their key). Strings that would read back as
// another type ("true", "10", "") are quoted.
std::string ToYaml(const nlohmann::json& value);

}  // namespace arca::install
