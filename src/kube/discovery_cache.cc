#include "kube/discovery_cache.h"

namespace arca::kube {

DiscoveryCache::DiscoveryCache(Client& client, Clock& clock, std::chrono::nanoseconds min_refresh)
    : client_(client), clock_(clock), min_refresh_(min_refresh) {}

Result<std::shared_ptr<const DiscoveryIndex>> DiscoveryCache::Get() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (index_) {
      return index_;
    }
  }
  return Refresh();
}

Result<std::shared_ptr<const DiscoveryIndex>> DiscoveryCache::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(DiscoveryIndex fresh, client_.Discover());
  index_ = std::make_shared<const DiscoveryIndex>(std::move(fresh));
  fetched_at_ = clock_.Now();
  return index_;
}

Result<ApiResource> DiscoveryCache::Resolve(std::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<const DiscoveryIndex> index, Get());
  Result<ApiResource> r = index->Resolve(name);
  if (r.ok() || r.status().code() != StatusCode::kNotFound) {
    return r;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (index_ != index || clock_.Now() - fetched_at_ < min_refresh_) {
      // Someone refreshed meanwhile, or the index is fresh: use what there is.
      return index_->Resolve(name);
    }
  }
  ASSIGN_OR_RETURN(index, Refresh());
  return index->Resolve(name);
}

}  // namespace arca::kube
