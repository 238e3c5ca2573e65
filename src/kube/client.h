// File: kube/client.h
//
// Client: a dynamic Kubernetes REST client on the http::Transport interface. It works on any
// group/version/resource (see ResourceRef), moves objects as JSON text, and never builds a tree
// of a whole list: lists and watches are streamed item by item (kube/list_stream.h).
//
// Every request goes through, in order: the client-side rate limiter (QPS and burst), the
// credential provider (bearer token, token file or exec plugin; a 401 invalidates the cached
// credentials and retries once), the transport, and the error mapping of kube/api_error.h.
// Retries with backoff on the injected Clock: idempotent requests (GET, PUT, DELETE) on
// connection errors, 429 and 5xx; non-idempotent ones (POST, PATCH) only on 429, when the
// server guarantees it did nothing. Retry-After is honoured. A streamed response that has
// already delivered items is never retried.
//
// Thread-safe: one Client serves many threads.
//
// Example:
//   Client client(config, transport, *credentials, RealClock());
//   ASSIGN_OR_RETURN(DiscoveryIndex index, client.Discover());
//   ASSIGN_OR_RETURN(ApiResource cm, index.Resolve("configmaps"));
//   RETURN_IF_ERROR(client.List(ResourceRef::For(cm, "ns1"), {.limit = 500},
//                               [&](std::string_view item) { return Handle(item); }));
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "http/retry.h"
#include "http/transport.h"
#include "kube/credentials.h"
#include "kube/discovery.h"
#include "kube/kubeconfig.h"
#include "kube/list_stream.h"
#include "kube/rate_limiter.h"
#include "kube/request.h"

namespace arca::kube {

struct ClientOptions {
  static constexpr double kDefaultQps = 100;
  static constexpr int kDefaultBurst = 200;
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};

  double qps = kDefaultQps;  // <= 0: no client-side limit
  int burst = kDefaultBurst;
  http::RetryParams retry;
  // The limit on one non-streaming request.
  std::chrono::milliseconds timeout = kDefaultTimeout;
};

// Receives a watch event: its type (ADDED, MODIFIED, DELETED, BOOKMARK) and the object's JSON.
// Returning kCancelled stops the watch cleanly; any other error stops it with that error.
using WatchCallback = std::function<Status(std::string_view type, std::string_view object)>;

class Client {
 public:
  // `transport`, `credentials` and `clock` must outlive the client.
  Client(RestConfig config, http::Transport& transport, CredentialProvider& credentials,
         Clock& clock, ClientOptions options = {});

  const RestConfig& config() const { return config_; }

  // The object's JSON. Errors: those of kube/api_error.h (kNotFound, kPermissionDenied, ...),
  // kUnavailable when retries ran out, kInvalidArgument for a bad ref.
  Result<std::string> Get(const ResourceRef& ref);

  // One page of a list: each item to `on_item`, the list's metadata to `*meta` (if given).
  Status ListPage(const ResourceRef& ref, const ListOptions& options, const ItemCallback& on_item,
                  ListMeta* meta);

  // Every item, page by page (`options.limit` items per page; 0 for one request). When the
  // continue token expires (410) and `on_restart` is given, calls it and lists again from the
  // start at the latest resourceVersion, as client-go's pager does; without it the kOutOfRange
  // error is returned. `*meta` gets the last page's metadata (its resourceVersion is the
  // list's).
  Status List(const ResourceRef& ref, ListOptions options, const ItemCallback& on_item,
              const std::function<void()>& on_restart = nullptr, ListMeta* meta = nullptr);

  // POST to the collection; returns the created object. kAlreadyExists for a taken name.
  Result<std::string> Create(const ResourceRef& ref, std::string_view object,
                             const WriteOptions& options = {});

  // PUT; returns the stored object. kAborted on a resourceVersion conflict.
  Result<std::string> Update(const ResourceRef& ref, std::string_view object,
                             const WriteOptions& options = {});

  // PATCH with the given patch type; kApply needs options.field_manager.
  Result<std::string> Patch(const ResourceRef& ref, PatchType type, std::string_view patch,
                            const WriteOptions& options = {});

  // DELETE; returns the server's answer (the object while finalizers run, or a Status).
  Result<std::string> Delete(const ResourceRef& ref, const DeleteOptions& options = {});

  // DELETE on the collection, with the selectors of `selectors`.
  Status DeleteCollection(const ResourceRef& ref, const ListOptions& selectors,
                          const DeleteOptions& options = {});

  // One watch connection from `options.resource_version`. Returns OK when the server ends the
  // stream or the callback returns kCancelled; kOutOfRange when the resourceVersion is too old
  // (relist); kUnavailable when the connection breaks.
  Status WatchOnce(const ResourceRef& ref, const ListOptions& options,
                   const WatchCallback& on_event);

  // Watches until the callback returns kCancelled (then OK) or another error, reconnecting from
  // the last resourceVersion seen (bookmarks included) whenever the stream ends or breaks.
  // Returns kOutOfRange when the server has compacted that version: the caller must relist.
  Status Watch(const ResourceRef& ref, ListOptions options, const WatchCallback& on_event);

  // Discovery: aggregated (apidiscovery.k8s.io/v2) with a fallback to the legacy documents.
  Result<DiscoveryIndex> Discover();

  // A GET of any path (with query), returning the body.
  Result<std::string> GetRaw(std::string_view path, std::string_view accept);

 private:
  struct Call {
    std::string method = "GET";
    std::string path;
    QueryParams query;
    std::string body;
    std::string content_type;
    std::string accept = "application/json";
    const http::BodySink* sink = nullptr;
    bool streaming = false;  // no overall timeout
    bool is_create = false;
    std::string what;  // for messages
  };

  Result<http::Response> Do(const Call& call);
  Result<std::string> Write(std::string method, const ResourceRef& ref, std::string_view body,
                            std::string content_type, const WriteOptions& options, bool is_create);

  const RestConfig config_;
  http::Transport& transport_;
  CredentialProvider& credentials_;
  Clock& clock_;
  const ClientOptions options_;
  RateLimiter limiter_;
};

}  // namespace arca::kube
