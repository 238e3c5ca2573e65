// File: kube/informer.h
//
// Informer: keeps a local copy of one collection (a resource, optionally in one namespace and
// filtered by selectors) up to date, and tells handlers what changed. It lists (paginated),
// then watches from the list's resourceVersion with bookmarks, resuming after dropped
// connections and relisting when the server says the version is too old (410). After a relist,
// objects that vanished while the informer was not watching are reported as deleted, changed
// ones as updated.
//
// Handlers run on the thread that called Run, one at a time, with no lock held; they may read
// the store.
//
// Example:
//   Informer informer(client, ResourceRef::For(backups, "velero"), {}, clock,
//                     {.on_add = [&](std::string_view obj) { queue.Add(obj); }});
//   std::thread t([&] { informer.Run(stop).IgnoreError(); });
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/retry.h"
#include "kube/client.h"

namespace arca::kube {

struct InformerHandlers {
  std::function<void(std::string_view object)> on_add;
  std::function<void(std::string_view old_object, std::string_view new_object)> on_update;
  std::function<void(std::string_view object)> on_delete;
};

struct InformerOptions {
  static constexpr int64_t kDefaultPageSize = 500;
  static constexpr int64_t kDefaultWatchTimeoutSeconds = 300;

  int64_t page_size = kDefaultPageSize;
  // Each watch request asks the server to end the stream after this long; Run notices a stop
  // request at the latest then.
  int64_t watch_timeout_seconds = kDefaultWatchTimeoutSeconds;
  // Backoff between failed lists and watches, and between watch streams that end empty.
  http::RetryParams retry;
};

class Informer {
 public:
  // `client` and `clock` must outlive the informer. `selectors` may set label and field
  // selectors; its other fields are ignored.
  Informer(Client& client, ResourceRef collection, ListOptions selectors, Clock& clock,
           InformerHandlers handlers, InformerOptions options = {});

  // Lists and watches until `stop` becomes true (then OK). Errors: those of the client that
  // retrying cannot fix (kPermissionDenied, kNotFound, ...); kUnavailable is retried with
  // backoff forever.
  Status Run(const std::atomic<bool>& stop);

  // True once the first list has been stored.
  bool HasSynced() const { return synced_.load(); }

  // The object with this key ("namespace/name", or "name" for cluster-scoped objects).
  std::optional<std::string> Get(const std::string& key) const;
  std::vector<std::string> Keys() const;
  size_t Size() const;

  // The resourceVersion the informer has caught up to.
  std::string ResourceVersion() const;

 private:
  struct Entry {
    std::string resource_version;
    std::string json;
  };

  Status Relist();
  Status Apply(std::string_view type, std::string_view object);

  Client& client_;
  const ResourceRef collection_;
  const ListOptions selectors_;
  Clock& clock_;
  const InformerHandlers handlers_;
  const InformerOptions options_;
  ObjectMetaParser parser_;  // used only by the Run thread
  std::atomic<bool> synced_{false};

  mutable std::mutex mu_;
  std::map<std::string, Entry> store_;  // GUARDED_BY(mu_)
  std::string resource_version_;        // GUARDED_BY(mu_)
};

}  // namespace arca::kube
