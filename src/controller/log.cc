#include "controller/log.h"

#include <nlohmann/json.hpp>

#include "kube/encoding.h"

namespace arca::controller {
namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// logrus quotes a value when it holds anything but [A-Za-z0-9-._/@^+].
bool NeedsQuoting(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' ||
                       c == '+';
    if (!plain) {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string& line, std::string_view v) {
  if (!NeedsQuoting(v)) {
    line += v;
    return;
  }
  line +=
      nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") {
    return LogFormat::kText;
  }
  if (text == "json") {
    return LogFormat::kJson;
  }
  return InvalidArgumentError("log format \"" + std::string(text) +
                              "\" is not supported; use text or json");
}

Result<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") {
    return LogLevel::kDebug;
  }
  if (text == "info") {
    return LogLevel::kInfo;
  }
  if (text == "warning" || text == "warn") {
    return LogLevel::kWarning;
  }
  if (text == "error") {
    return LogLevel::kError;
  }
  return InvalidArgumentError("log level \"" + std::string(text) +
                              "\" is not supported; use debug, info, warning or error");
}

Logger::Logger(std::ostream& out, Clock& clock, LogFormat format, LogLevel min_level)
    : out_(out), clock_(clock), format_(format), min_level_(min_level) {}

std::string Logger::Format(LogLevel level, std::string_view message, const LogFields& fields) {
  const std::string time = kube::FormatRfc3339(clock_.Now());
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["level"] = LevelName(level);
    j["msg"] = message;
    for (const auto& [k, v] : fields) {
      j[k] = v;
    }
    j["time"] = time;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = "time=\"" + time + "\" level=" + std::string(LevelName(level)) + " msg=";
  AppendValue(line, message);
  for (const auto& [k, v] : fields) {
    line += " " + k + "=";
    AppendValue(line, v);
  }
  return line;
}

void Logger::Log(LogLevel level, std::string_view message, const LogFields& fields) {
  if (level < min_level_) {
    return;
  }
  std::string line = Format(level, message, fields);
  line += '\n';
  const std::lock_guard<std::mutex> lock(mu_);
  out_ << line << std::flush;
}

}  // namespace arca::controller
