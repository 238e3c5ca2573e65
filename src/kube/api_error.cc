#include "kube/api_error.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace arca::kube {
namespace {

constexpr size_t kMaxRawMessage = 256;

std::string StringField(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) {
    return "";
  }
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<std::chrono::seconds> ParseSeconds(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  long long seconds = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  if (ec != std::errc() || ptr != end || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::seconds(seconds);
}

std::string RawMessage(std::string_view body) {
  std::string out(body.substr(0, kMaxRawMessage));
  for (char& c : out) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  if (body.size() > kMaxRawMessage) {
    out += "...";
  }
  return out;
}

}  // namespace

ApiError ParseApiError(int http_status, std::string_view body,
                       std::optional<std::string_view> retry_after_header) {
  ApiError out;
  out.http_status = http_status;
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && StringField(doc, "kind") == "Status") {
    out.reason = StringField(doc, "reason");
    out.message = StringField(doc, "message");
    if (const auto details = doc.find("details"); details != doc.end() && details->is_object()) {
      out.name = StringField(*details, "name");
      out.group = StringField(*details, "group");
      out.kind = StringField(*details, "kind");
      if (const auto causes = details->find("causes");
          causes != details->end() && causes->is_array()) {
        for (const nlohmann::json& cause : *causes) {
          if (std::string m = StringField(cause, "message"); !m.empty()) {
            const std::string field = StringField(cause, "field");
            out.causes.push_back(field.empty() ? m : field + ": " + std::move(m));
          }
        }
      }
      if (const auto ra = details->find("retryAfterSeconds");
          ra != details->end() && ra->is_number_integer() && ra->get<long long>() >= 0) {
        out.retry_after = std::chrono::seconds(ra->get<long long>());
      }
    }
  } else {
    out.message = RawMessage(body);
  }
  if (retry_after_header) {
    if (auto seconds = ParseSeconds(*retry_after_header)) {
      out.retry_after = seconds;
    }
  }
  return out;
}

Status ApiErrorToStatus(const ApiError& error, std::string_view context, bool is_create) {
  const int code = error.http_status;
  StatusCode status_code = StatusCode::kUnknown;
  // 400, 413, 415, 422 and any other 4xx fall through to kInvalidArgument.
  if (code == 401) {
    status_code = StatusCode::kUnauthenticated;
  } else if (code == 403) {
    status_code = StatusCode::kPermissionDenied;
  } else if (code == 404) {
    status_code = StatusCode::kNotFound;
  } else if (code == 405 || code == 501) {
    status_code = StatusCode::kUnimplemented;
  } else if (code == 409) {
    const bool exists = error.reason == "AlreadyExists" || (error.reason.empty() && is_create);
    status_code = exists ? StatusCode::kAlreadyExists : StatusCode::kAborted;
  } else if (code == 410) {
    status_code = StatusCode::kOutOfRange;
  } else if (code == 429 || code >= 500) {
    status_code = StatusCode::kUnavailable;
  } else if (code >= 400) {
    status_code = StatusCode::kInvalidArgument;
  }

  std::string message(context);
  message += ": ";
  message += error.message.empty() ? "the server gave no message" : error.message;
  for (const std::string& cause : error.causes) {
    if (error.message.find(cause) == std::string::npos) {
      message += "; " + cause;
    }
  }
  message += " (" + std::to_string(code);
  if (!error.reason.empty()) {
    message += " " + error.reason;
  }
  message += ")";
  if (error.retry_after) {
    message += ", retry after " + std::to_string(error.retry_after->count()) + "s";
  }
  return Status(status_code, std::move(message));
}

}  // namespace arca::kube
