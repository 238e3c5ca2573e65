// File: install/apply.h
//
// Puts a list of objects into a cluster the way `kubectl apply` would for objects Arca owns:
// create each one, or replace it (PUT with the live resourceVersion; read again and retried, up
// to five times, when another writer changed it in between) when it exists. A CRD is
// waited for until it is Established, and discovery refreshed, before objects of its kind are
// created. RemoveObjects deletes them again, in reverse order.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kube/client.h"

namespace arca::install {

// Receives one line per object: "created CustomResourceDefinition/backups.velero.io".
using ApplyLog = std::function<void(std::string_view line)>;

struct ApplyOptions {
  // How long a CRD may take to become Established.
  std::chrono::seconds crd_timeout{60};
};

// Errors: the first failed request, naming the object; kDeadlineExceeded when a CRD is not
// Established in time.
Status ApplyObjects(kube::Client& client, const std::vector<nlohmann::json>& objects, Clock& clock,
                    const ApplyLog& log, const ApplyOptions& options = {});

// Deletes `objects` in reverse order (background propagation). Objects already gone, and
// objects whose kind the server no longer serves, are skipped. With `wait_for`, waits up to that
// long for each deleted Namespace to disappear.
Status RemoveObjects(kube::Client& client, const std::vector<nlohmann::json>& objects, Clock& clock,
                     const ApplyLog& log, std::chrono::seconds wait_for);

}  // namespace arca::install
