#include "kube/informer.h"

#include <algorithm>

namespace arca::kube {
namespace {

std::string KeyOf(const ObjectMeta& meta) {
  return meta.namespace_name.empty() ? meta.name : meta.namespace_name + "/" + meta.name;
}

}  // namespace

Informer::Informer(Client& client, ResourceRef collection, ListOptions selectors, Clock& clock,
                   InformerHandlers handlers, InformerOptions options)
    : client_(client),
      collection_(std::move(collection)),
      selectors_(std::move(selectors)),
      clock_(clock),
      handlers_(std::move(handlers)),
      options_(options) {}

std::optional<std::string> Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = store_.find(key);
  return it == store_.end() ? std::nullopt : std::optional<std::string>(it->second.json);
}

std::vector<std::string> Informer::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(store_.size());
  for (const auto& [key, entry] : store_) {
    keys.push_back(key);
  }
  return keys;
}

size_t Informer::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.size();
}

std::string Informer::ResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

Status Informer::Relist() {
  std::map<std::string, Entry> fresh;
  ListOptions options;
  options.label_selector = selectors_.label_selector;
  options.field_selector = selectors_.field_selector;
  options.limit = options_.page_size;
  ListMeta meta;
  RETURN_IF_ERROR(client_.List(
      collection_, options,
      [&](std::string_view item) -> Status {
        ASSIGN_OR_RETURN(ObjectMeta m, parser_.Parse(item));
        fresh[KeyOf(m)] = Entry{m.resource_version, std::string(item)};
        return OkStatus();
      },
      [&] { fresh.clear(); }, &meta));

  // Swap in the new contents, then tell the handlers what differs from before.
  std::map<std::string, Entry> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(store_);
    store_ = fresh;
    resource_version_ = meta.resource_version;
  }
  for (const auto& [key, entry] : fresh) {
    const auto it = old.find(key);
    if (it == old.end()) {
      if (handlers_.on_add) {
        handlers_.on_add(entry.json);
      }
    } else if (it->second.resource_version != entry.resource_version && handlers_.on_update) {
      handlers_.on_update(it->second.json, entry.json);
    }
  }
  for (const auto& [key, entry] : old) {
    if (fresh.find(key) == fresh.end() && handlers_.on_delete) {
      handlers_.on_delete(entry.json);
    }
  }
  synced_ = true;
  return OkStatus();
}

Status Informer::Apply(std::string_view type, std::string_view object) {
  ASSIGN_OR_RETURN(ObjectMeta m, parser_.Parse(object));
  std::optional<std::string> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!m.resource_version.empty()) {
      resource_version_ = m.resource_version;
    }
    if (type == "BOOKMARK") {
      return OkStatus();
    }
    const std::string key = KeyOf(m);
    const auto it = store_.find(key);
    if (it != store_.end()) {
      previous = std::move(it->second.json);
    }
    if (type == "DELETED") {
      if (it != store_.end()) {
        store_.erase(it);
      }
    } else if (type == "ADDED" || type == "MODIFIED") {
      store_[key] = Entry{m.resource_version, std::string(object)};
    } else {
      return InvalidArgumentError("unknown watch event type \"" + std::string(type) + "\"");
    }
  }
  if (type == "DELETED") {
    if (handlers_.on_delete) {
      handlers_.on_delete(object);
    }
  } else if (previous) {
    if (handlers_.on_update) {
      handlers_.on_update(*previous, object);
    }
  } else if (handlers_.on_add) {
    handlers_.on_add(object);
  }
  return OkStatus();
}

Status Informer::Run(const std::atomic<bool>& stop) {
  int failures = 0;
  const auto backoff = [&](const Status& s) -> bool {
    if (s.code() != StatusCode::kUnavailable) {
      return false;
    }
    ++failures;
    clock_.SleepFor(http::BackoffDelay(options_.retry, std::min(failures, 10)));
    return true;
  };
  while (!stop) {
    if (Status s = Relist(); !s.ok()) {
      if (backoff(s)) {
        continue;
      }
      return s;
    }
    failures = 0;
    int empty_streams = 0;
    while (!stop) {
      int events = 0;
      ListOptions options;
      options.label_selector = selectors_.label_selector;
      options.field_selector = selectors_.field_selector;
      options.resource_version = ResourceVersion();
      options.allow_watch_bookmarks = true;
      options.timeout_seconds = options_.watch_timeout_seconds;
      Status s = client_.WatchOnce(collection_, options,
                                   [&](std::string_view type, std::string_view object) -> Status {
                                     if (stop) {
                                       return CancelledError("stopping");
                                     }
                                     failures = 0;
                                     ++events;
                                     return Apply(type, object);
                                   });
      if (s.ok()) {
        // The stream ended: watch again from where it stopped, spacing out streams that end
        // without a single event.
        empty_streams = events == 0 ? empty_streams + 1 : 0;
        if (empty_streams > 0) {
          clock_.SleepFor(http::BackoffDelay(options_.retry, std::min(empty_streams, 10)));
        }
        continue;
      }
      if (s.code() == StatusCode::kOutOfRange) {
        break;  // too old: relist
      }
      if (!backoff(s)) {
        return s;
      }
    }
  }
  return OkStatus();
}

}  // namespace arca::kube
