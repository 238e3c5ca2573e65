// File: controller/log.h
//
// Logger: the server's structured log, one line per entry, in logrus's text format (Velero's
// default) or as JSON lines (--log-format json):
//   time="2026-11-26T14:00:00Z" level=info msg="Validated location" controller=bsl name=default
//   {"level":"info","msg":"Validated location","controller":"bsl","name":"default","time":"..."}
// Fields are key/value pairs in the order given. Thread-safe: lines never interleave.
#pragma once

#include <initializer_list>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace arca::controller {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarning, kError };

// "text" or "json"; kInvalidArgument otherwise.
Result<LogFormat> ParseLogFormat(std::string_view text);
// "debug", "info", "warning" (or "warn"), "error"; kInvalidArgument otherwise.
Result<LogLevel> ParseLogLevel(std::string_view text);

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
 public:
  // `out` and `clock` must outlive the logger.
  Logger(std::ostream& out, Clock& clock, LogFormat format, LogLevel min_level = LogLevel::kInfo);

  void Log(LogLevel level, std::string_view message, const LogFields& fields = {});
  void Debug(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kDebug, message, fields);
  }
  void Info(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kInfo, message, fields);
  }
  void Warn(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kWarning, message, fields);
  }
  void Error(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kError, message, fields);
  }

  // One formatted line without its newline (for tests and for Log).
  std::string Format(LogLevel level, std::string_view message, const LogFields& fields);

 private:
  std::ostream& out_;
  Clock& clock_;
  const LogFormat format_;
  const LogLevel min_level_;
  std::mutex mu_;
};

}  // namespace arca::controller
