#include "controller/server_status.h"

#include "api/requests.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {

ServerStatusReconciler::ServerStatusReconciler(kube::Client& client, std::string namespace_name,
                                               Clock& clock, Logger& log,
                                               std::string server_version)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      version_(std::move(server_version)) {}

Result<ReconcileResult> ServerStatusReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("serverstatusrequests", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(api::ServerStatusRequest ssr, api::ServerStatusRequestFromJson(*obj));
  const auto now = clock_.Now();
  if (ssr.phase.empty() || ssr.phase == api::request_phase::kNew) {
    nlohmann::json patch = {{"status",
                             {{"phase", api::request_phase::kProcessed},
                              {"processedTimestamp", kube::FormatRfc3339(now)},
                              {"serverVersion", version_},
                              {"plugins", nlohmann::json::array()}}}};
    RETURN_IF_ERROR(MergePatch(client_, ref, patch));
    log_.Info("Processed server status request",
              {{"controller", "server-status-request"}, {"name", name}});
    return ReconcileResult{.requeue_after = kTtl};
  }
  if (ssr.phase == api::request_phase::kProcessed) {
    auto processed = ParseTime(ssr.processed_timestamp);
    if (!processed || now - *processed >= kTtl) {
      RETURN_IF_ERROR(DeleteObject(client_, ref));
      return ReconcileResult{};
    }
    return ReconcileResult{.requeue_after = *processed + kTtl - now};
  }
  return ReconcileResult{};
}

}  // namespace arca::controller
