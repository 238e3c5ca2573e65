#include "api/schedule.h"

#include "api/json_fields.h"

namespace arca::api {

Result<Schedule> ScheduleFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "Schedule"));
  Schedule out;
  FieldReader top(j, "");
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(out.metadata, ObjectMetaFromJson(*it));
  }
  FieldReader spec = top.Child("spec");
  spec.String("schedule", out.spec.schedule);
  spec.OptionalBool("useOwnerReferencesInBackup", out.spec.use_owner_references_in_backup);
  spec.Bool("paused", out.spec.paused);
  spec.OptionalBool("skipImmediately", out.spec.skip_immediately);
  nlohmann::json template_json;
  spec.Json("template", template_json);
  RETURN_IF_ERROR(spec.status());
  if (!template_json.is_null()) {
    if (!template_json.is_object()) {
      return InvalidArgumentError("spec.template: expected an object");
    }
    auto backup = BackupFromJson(nlohmann::json{{"spec", template_json}});
    if (!backup.ok()) {
      std::string message = backup.status().message();
      if (message.starts_with("spec.")) {
        message.insert(5, "template.");
      }
      return InvalidArgumentError(std::move(message));
    }
    out.spec.template_ = std::move(backup->spec);
  }
  FieldReader status = top.Child("status");
  status.String("phase", out.status.phase);
  status.String("lastBackup", out.status.last_backup);
  status.String("lastSkipped", out.status.last_skipped);
  status.StringList("validationErrors", out.status.validation_errors);
  RETURN_IF_ERROR(status.status());
  return out;
}

nlohmann::json ScheduleToJson(const Schedule& s) {
  nlohmann::json j = {{"apiVersion", kVeleroApiVersion}, {"kind", "Schedule"}};
  j["metadata"] = ObjectMetaToJson(s.metadata);
  Backup holder;
  holder.spec = s.spec.template_;
  nlohmann::json spec = nlohmann::json::object();
  nlohmann::json template_json = BackupToJson(holder).value("spec", nlohmann::json::object());
  spec["template"] = template_json;
  spec["schedule"] = s.spec.schedule;
  SetOptionalBool(spec, "useOwnerReferencesInBackup", s.spec.use_owner_references_in_backup);
  if (s.spec.paused) {
    spec["paused"] = true;
  }
  SetOptionalBool(spec, "skipImmediately", s.spec.skip_immediately);
  j["spec"] = spec;
  nlohmann::json status = nlohmann::json::object();
  SetString(status, "phase", s.status.phase);
  SetString(status, "lastBackup", s.status.last_backup);
  SetString(status, "lastSkipped", s.status.last_skipped);
  SetStringList(status, "validationErrors", s.status.validation_errors);
  if (!status.empty()) {
    j["status"] = status;
  }
  return j;
}

}  // namespace arca::api
