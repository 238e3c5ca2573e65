// File: kube/discovery_cache.h
//
// DiscoveryCache: the discovery documents of one cluster, fetched once and shared, refreshed on
// request or when a name does not resolve (a CRD created since the last fetch), as kubectl's
// deferred discovery mapper does. At most one refresh runs per miss window (`min_refresh`),
// so a stream of unknown names cannot hammer the API server.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "kube/client.h"
#include "kube/discovery.h"

namespace arca::kube {

class DiscoveryCache {
 public:
  static constexpr std::chrono::seconds kDefaultMinRefresh{10};

  // `client` and `clock` must outlive the cache.
  DiscoveryCache(Client& client, Clock& clock,
                 std::chrono::nanoseconds min_refresh = kDefaultMinRefresh);

  // The current index, fetched on first use. Errors: those of Client::Discover. Thread-safe;
  // the returned index never changes (a refresh makes a new one).
  Result<std::shared_ptr<const DiscoveryIndex>> Get();

  // Fetches the documents again now.
  Result<std::shared_ptr<const DiscoveryIndex>> Refresh();

  // Resolves `name` (DiscoveryIndex::Resolve); on kNotFound refreshes once, unless the last
  // fetch is younger than `min_refresh`, and tries again.
  Result<ApiResource> Resolve(std::string_view name);

 private:
  Client& client_;
  Clock& clock_;
  const std::chrono::nanoseconds min_refresh_;
  std::mutex mu_;  // serializes fetches
  std::shared_ptr<const DiscoveryIndex> index_;
  std::chrono::system_clock::time_point fetched_at_;
};

}  // namespace arca::kube
