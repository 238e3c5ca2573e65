#include "cli/format.h"

#include <algorithm>
#include <ctime>

#include "install/yaml.h"
#include "kube/encoding.h"

namespace arca::cli {

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') {
    s.erase(s.begin());
  }
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  return s;
}

Result<std::map<std::string, std::string>> ParseMapFlag(std::string_view flag,
                                                        const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError(std::string(flag) + ": \"" + item +
                                  "\" is not of the form key=value (e.g. " + std::string(flag) +
                                  " app=web,tier=front)");
    }
    out[Trim(item.substr(0, eq))] = Trim(item.substr(eq + 1));
  }
  return out;
}

std::string FormatTime(std::string_view rfc3339) {
  Result<std::chrono::system_clock::time_point> t = kube::ParseRfc3339(rfc3339);
  if (!t.ok()) {
    return rfc3339.empty() ? "<n/a>" : std::string(rfc3339);
  }
  std::time_t tt = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

std::string ShortHumanDuration(std::chrono::seconds d) {
  const int64_t s = d.count();
  if (s < 0) {
    return "0s";
  }
  if (s < 60) {
    return std::to_string(s) + "s";
  }
  if (s < 3600) {
    return std::to_string(s / 60) + "m";
  }
  if (s < 86400) {
    return std::to_string(s / 3600) + "h";
  }
  if (s < 86400 * 365) {
    return std::to_string(s / 86400) + "d";
  }
  return std::to_string(s / (86400 * 365)) + "y";
}

std::string Expires(std::string_view rfc3339, std::chrono::system_clock::time_point now) {
  Result<std::chrono::system_clock::time_point> t = kube::ParseRfc3339(rfc3339);
  if (!t.ok()) {
    return "n/a";
  }
  if (*t >= now) {
    return ShortHumanDuration(std::chrono::duration_cast<std::chrono::seconds>(*t - now));
  }
  return ShortHumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t)) + " ago";
}

void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(widths[i] - row[i].size() + 3, ' ');
      }
    }
    out << line << "\n";
  }
}

Result<OutputFormat> ParseOutputFormat(std::string_view text, bool allow_table) {
  if (text == "json") {
    return OutputFormat::kJson;
  }
  if (text == "yaml") {
    return OutputFormat::kYaml;
  }
  if (allow_table && text == "table") {
    return OutputFormat::kTable;
  }
  return InvalidArgumentError("-o " + std::string(text) + ": use " +
                              (allow_table ? "table, json or yaml" : "json or yaml"));
}

Result<std::optional<OutputFormat>> ParsePrintOnlyFormat(std::string_view text) {
  if (text.empty()) {
    return std::optional<OutputFormat>();
  }
  ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(text, /*allow_table=*/false));
  return std::optional<OutputFormat>(format);
}

void PrintObject(std::ostream& out, OutputFormat format, const nlohmann::json& object) {
  if (format == OutputFormat::kYaml) {
    out << install::ToYaml(object);
  } else {
    out << object.dump(4) << "\n";
  }
}

void PrintObjects(std::ostream& out, OutputFormat format, const std::vector<nlohmann::json>& items,
                  bool single) {
  if (single && items.size() == 1) {
    PrintObject(out, format, items[0]);
    return;
  }
  nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
  PrintObject(out, format, list);
}

}  // namespace arca::cli
