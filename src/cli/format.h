// File: cli/format.h
//
// Output helpers the commands share: Go's tabwriter-style tables as kubectl prints them, times and
// ages as Velero's CLI shows them, `-o json|yaml` printing of one object or a List, and parsing of
// `key=value,...` flags.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::cli {

// Strips leading and trailing spaces.
std::string Trim(std::string s);

// "a=1", "b=2" (already split at commas) -> {a: 1, b: 2}. kInvalidArgument naming `flag` and an
// example for an item without '=' or with an empty key.
Result<std::map<std::string, std::string>> ParseMapFlag(std::string_view flag,
                                                        const std::vector<std::string>& items);

// "2026-11-26 16:47:17 +0000 UTC" for an RFC 3339 time; "<n/a>" for an empty one; the text as
// is when it does not parse.
std::string FormatTime(std::string_view rfc3339);

// Kubernetes' duration.ShortHumanDuration: 45s, 12m, 5h, 3d, 2y.
std::string ShortHumanDuration(std::chrono::seconds d);

// The EXPIRES column: "23h" before the time, "2d ago" after it, "n/a" without one.
std::string Expires(std::string_view rfc3339, std::chrono::system_clock::time_point now);

// Columns padded to the widest cell plus 3 spaces (Go's text/tabwriter as kubectl uses it).
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// -o/--output values.
enum class OutputFormat { kTable, kJson, kYaml };

// "table" | "json" | "yaml" (`allowed_table` false: only json and yaml); kInvalidArgument naming
// the choices otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view text, bool allow_table = true);

// -o on a create command, as Velero has it: empty means "submit"; json or yaml mean "print the
// object instead of submitting it". kInvalidArgument for anything else.
Result<std::optional<OutputFormat>> ParsePrintOnlyFormat(std::string_view text);

// Prints `object` as indented JSON (4 spaces, as Velero) or YAML (kubectl's layout).
void PrintObject(std::ostream& out, OutputFormat format, const nlohmann::json& object);

// Prints objects as Velero's `get -o json|yaml` does: a single named object alone, otherwise a
// {"apiVersion": "v1", "kind": "List", "items": [...]}.
void PrintObjects(std::ostream& out, OutputFormat format, const std::vector<nlohmann::json>& items,
                  bool single);

}  // namespace arca::cli
