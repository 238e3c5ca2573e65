#include "kube/client.h"

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "kube/api_error.h"

namespace arca::kube {
namespace {

constexpr std::string_view kAggregatedAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
constexpr int kMaxListRestarts = 3;

bool IsIdempotent(std::string_view method) {
  return method == "GET" || method == "PUT" || method == "DELETE" || method == "HEAD";
}

}  // namespace

Client::Client(RestConfig config, http::Transport& transport, CredentialProvider& credentials,
               Clock& clock, ClientOptions options)
    : config_(std::move(config)),
      transport_(transport),
      credentials_(credentials),
      clock_(clock),
      options_(options),
      limiter_(options_.qps, options_.burst, clock) {}

Result<http::Response> Client::Do(const Call& call) {
  const std::string url = config_.server + call.path + EncodeQuery(call.query);
  const bool idempotent = IsIdempotent(call.method);
  const int attempts = std::max(1, options_.retry.max_attempts);
  bool reauthenticated = false;
  for (int attempt = 1;; ++attempt) {
    limiter_.Acquire();
    ASSIGN_OR_RETURN(Credentials creds, credentials_.Get());
    http::Request req;
    req.client_cert_pem = creds.client_certificate_pem;
    req.client_key_pem = creds.client_key_pem;
    req.method = call.method;
    req.url = url;
    req.headers.emplace_back("Accept", call.accept);
    if (!call.content_type.empty()) {
      req.headers.emplace_back("Content-Type", call.content_type);
    }
    if (!creds.authorization.empty()) {
      req.headers.emplace_back("Authorization", creds.authorization);
    }
    req.body = call.body;
    if (!call.streaming) {
      req.timeout = options_.timeout;
    }
    bool delivered = false;
    http::BodySink counting;
    if (call.sink != nullptr) {
      counting = [&](std::string_view chunk) {
        delivered = true;
        return (*call.sink)(chunk);
      };
    }
    Result<http::Response> resp = transport_.Send(req, call.sink != nullptr ? &counting : nullptr);
    if (!resp.ok()) {
      if (http::ShouldRetry(resp.status()) && idempotent && !delivered && attempt < attempts) {
        clock_.SleepFor(http::BackoffDelay(options_.retry, attempt));
        continue;
      }
      return resp.status().WithContext(call.what);
    }
    if (resp->status >= 200 && resp->status < 300) {
      return resp;
    }
    if (resp->status == 401 && !reauthenticated) {
      credentials_.Invalidate();
      reauthenticated = true;
      --attempt;
      continue;
    }
    const ApiError error = ParseApiError(resp->status, resp->body, resp->Header("retry-after"));
    const bool retryable = resp->status == 429 || (idempotent && http::ShouldRetry(resp->status));
    if (retryable && attempt < attempts) {
      std::chrono::nanoseconds wait = http::BackoffDelay(options_.retry, attempt);
      if (error.retry_after) {
        wait = std::max<std::chrono::nanoseconds>(wait, *error.retry_after);
      }
      clock_.SleepFor(wait);
      continue;
    }
    return ApiErrorToStatus(error, call.what, call.is_create);
  }
}

Result<std::string> Client::Get(const ResourceRef& ref) {
  Call call;
  ASSIGN_OR_RETURN(call.path, ResourcePath(ref));
  call.what = "get " + ref.Describe();
  ASSIGN_OR_RETURN(http::Response resp, Do(call));
  return std::move(resp.body);
}

Result<std::string> Client::GetRaw(std::string_view path, std::string_view accept) {
  Call call;
  call.path = std::string(path);
  call.accept = std::string(accept);
  call.what = "get " + call.path;
  ASSIGN_OR_RETURN(http::Response resp, Do(call));
  return std::move(resp.body);
}

Status Client::ListPage(const ResourceRef& ref, const ListOptions& options,
                        const ItemCallback& on_item, ListMeta* meta) {
  if (!ref.name.empty()) {
    return InvalidArgumentError("list needs a collection, not the object " + ref.Describe());
  }
  Call call;
  ASSIGN_OR_RETURN(call.path, ResourcePath(ref));
  call.query = options.ToQuery(/*watch=*/false);
  call.what = "list " + ref.Describe();
  call.streaming = true;
  ListStreamParser parser(on_item);
  const http::BodySink sink = [&](std::string_view chunk) { return parser.Feed(chunk); };
  call.sink = &sink;
  ASSIGN_OR_RETURN(http::Response resp, Do(call));
  if (!resp.body.empty()) {
    // A 2xx response the transport did not stream (not expected, but harmless).
    RETURN_IF_ERROR(parser.Feed(resp.body));
  }
  RETURN_IF_ERROR(parser.Finish().WithContext(call.what));
  if (meta != nullptr) {
    *meta = parser.meta();
  }
  return OkStatus();
}

Status Client::List(const ResourceRef& ref, ListOptions options, const ItemCallback& on_item,
                    const std::function<void()>& on_restart, ListMeta* meta) {
  const ListOptions first = options;
  int restarts = 0;
  while (true) {
    ListMeta page;
    Status s = ListPage(ref, options, on_item, &page);
    if (s.code() == StatusCode::kOutOfRange && !options.continue_token.empty() && on_restart &&
        restarts < kMaxListRestarts) {
      // The continue token expired: start again at the latest version.
      ++restarts;
      on_restart();
      options = first;
      options.continue_token.clear();
      options.resource_version.clear();
      options.resource_version_match.clear();
      continue;
    }
    RETURN_IF_ERROR(s);
    if (page.continue_token.empty()) {
      if (meta != nullptr) {
        *meta = std::move(page);
      }
      return OkStatus();
    }
    // A continue token carries its own resourceVersion; the server refuses both.
    options.continue_token = page.continue_token;
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
}

Result<std::string> Client::Write(std::string method, const ResourceRef& ref, std::string_view body,
                                  std::string content_type, const WriteOptions& options,
                                  bool is_create) {
  Call call;
  call.method = std::move(method);
  ASSIGN_OR_RETURN(call.path, ResourcePath(ref));
  call.query = options.ToQuery();
  call.body = std::string(body);
  call.content_type = std::move(content_type);
  call.is_create = is_create;
  std::string verb = call.method == "POST" ? "create" : call.method == "PUT" ? "update" : "patch";
  call.what = verb + " " + ref.Describe();
  ASSIGN_OR_RETURN(http::Response resp, Do(call));
  return std::move(resp.body);
}

Result<std::string> Client::Create(const ResourceRef& ref, std::string_view object,
                                   const WriteOptions& options) {
  if (!ref.name.empty()) {
    return InvalidArgumentError("create posts to the collection; leave the name in the object");
  }
  return Write("POST", ref, object, "application/json", options, /*is_create=*/true);
}

Result<std::string> Client::Update(const ResourceRef& ref, std::string_view object,
                                   const WriteOptions& options) {
  if (ref.name.empty()) {
    return InvalidArgumentError("update needs an object name");
  }
  return Write("PUT", ref, object, "application/json", options, /*is_create=*/false);
}

Result<std::string> Client::Patch(const ResourceRef& ref, PatchType type, std::string_view patch,
                                  const WriteOptions& options) {
  if (ref.name.empty()) {
    return InvalidArgumentError("patch needs an object name");
  }
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return InvalidArgumentError("server-side apply needs a field manager");
  }
  return Write("PATCH", ref, patch, std::string(PatchContentType(type)), options,
               /*is_create=*/false);
}

Result<std::string> Client::Delete(const ResourceRef& ref, const DeleteOptions& options) {
  if (ref.name.empty()) {
    return InvalidArgumentError("delete needs an object name; use DeleteCollection");
  }
  Call call;
  call.method = "DELETE";
  ASSIGN_OR_RETURN(call.path, ResourcePath(ref));
  call.body = options.ToBody();
  call.content_type = "application/json";
  call.what = "delete " + ref.Describe();
  ASSIGN_OR_RETURN(http::Response resp, Do(call));
  return std::move(resp.body);
}

Status Client::DeleteCollection(const ResourceRef& ref, const ListOptions& selectors,
                                const DeleteOptions& options) {
  Call call;
  call.method = "DELETE";
  ASSIGN_OR_RETURN(call.path, ResourcePath(ref));
  ListOptions only_selectors;
  only_selectors.label_selector = selectors.label_selector;
  only_selectors.field_selector = selectors.field_selector;
  call.query = only_selectors.ToQuery(/*watch=*/false);
  call.body = options.ToBody();
  call.content_type = "application/json";
  call.what = "delete collection " + ref.Describe();
  return Do(call).status();
}

Status Client::WatchOnce(const ResourceRef& ref, const ListOptions& options,
                         const WatchCallback& on_event) {
  Call call;
  ASSIGN_OR_RETURN(call.path, ResourcePath(ref));
  call.query = options.ToQuery(/*watch=*/true);
  call.what = "watch " + ref.Describe();
  call.streaming = true;
  ObjectMetaParser parser;
  bool stopped = false;
  Status server_error;
  JsonSeqSplitter splitter([&](std::string_view value) -> Status {
    ASSIGN_OR_RETURN(auto event, parser.ParseWatchEvent(value));
    if (event.first == "ERROR") {
      // The object is a metav1.Status; 410 means the resourceVersion is too old.
      const nlohmann::json status = nlohmann::json::parse(event.second, nullptr, false);
      const int code =
          status.is_object() && status.contains("code") && status["code"].is_number_integer()
              ? status["code"].get<int>()
              : 500;
      server_error =
          ApiErrorToStatus(ParseApiError(code, event.second, std::nullopt), call.what, false);
      return server_error;
    }
    Status s = on_event(event.first, event.second);
    if (s.code() == StatusCode::kCancelled) {
      stopped = true;
    }
    return s;
  });
  const http::BodySink sink = [&](std::string_view chunk) { return splitter.Feed(chunk); };
  call.sink = &sink;
  Result<http::Response> resp = Do(call);
  if (stopped) {
    return OkStatus();
  }
  if (!server_error.ok()) {
    return server_error;
  }
  return resp.status();
}

Status Client::Watch(const ResourceRef& ref, ListOptions options, const WatchCallback& on_event) {
  ObjectMetaParser parser;
  bool stopped = false;
  int failures = 0;
  int empty_streams = 0;
  int events = 0;
  const WatchCallback track = [&](std::string_view type, std::string_view object) -> Status {
    Result<ObjectMeta> meta = parser.Parse(object);
    if (meta.ok() && !meta->resource_version.empty()) {
      options.resource_version = meta->resource_version;
    }
    failures = 0;
    ++events;
    Status s = on_event(type, object);
    stopped = s.code() == StatusCode::kCancelled;
    return s;
  };
  while (true) {
    events = 0;
    Status s = WatchOnce(ref, options, track);
    if (stopped) {
      return OkStatus();
    }
    if (s.ok()) {
      // The server closed the stream (timeoutSeconds): resume. Streams that end without a
      // single event are spaced out, so a misbehaving server cannot make this spin.
      empty_streams = events == 0 ? empty_streams + 1 : 0;
      if (empty_streams > 0) {
        clock_.SleepFor(http::BackoffDelay(options_.retry, empty_streams));
      }
      continue;
    }
    if (s.code() != StatusCode::kUnavailable) {
      return s;
    }
    // A dropped connection: back off and resume from the last version seen.
    ++failures;
    if (failures >= std::max(1, options_.retry.max_attempts)) {
      return s;
    }
    clock_.SleepFor(http::BackoffDelay(options_.retry, failures));
  }
}

Result<DiscoveryIndex> Client::Discover() {
  DiscoveryIndex index;
  // Both aggregated documents at once: two round trips in the time of one. A server without
  // aggregated discovery answers /apis with the legacy group list, which is then not used.
  std::future<Result<std::string>> apis_future =
      std::async(std::launch::async, [this] { return GetRaw("/apis", kAggregatedAccept); });
  ASSIGN_OR_RETURN(std::string api, GetRaw("/api", kAggregatedAccept));
  if (index.AddAggregated(api).ok()) {
    ASSIGN_OR_RETURN(std::string apis, apis_future.get());
    RETURN_IF_ERROR(index.AddAggregated(apis).WithContext("discovery of /apis"));
    return index;
  }
  // A server without aggregated discovery: the legacy documents, one per group version.
  ASSIGN_OR_RETURN(std::string core, GetRaw("/api/v1", "application/json"));
  RETURN_IF_ERROR(index.AddLegacyResourceList("", "v1", true, core));
  Result<std::string> apis = apis_future.get();
  Result<std::vector<DiscoveryIndex::LegacyGroupVersion>> parsed =
      apis.ok() ? DiscoveryIndex::ParseLegacyGroupList(*apis) : apis.status();
  if (!parsed.ok()) {  // not the group list after all: ask for exactly that
    ASSIGN_OR_RETURN(apis, GetRaw("/apis", "application/json"));
    parsed = DiscoveryIndex::ParseLegacyGroupList(*apis);
  }
  ASSIGN_OR_RETURN(auto versions, std::move(parsed));
  for (const auto& gv : versions) {
    ASSIGN_OR_RETURN(std::string list,
                     GetRaw("/apis/" + gv.group + "/" + gv.version, "application/json"));
    RETURN_IF_ERROR(index.AddLegacyResourceList(gv.group, gv.version, gv.preferred, list));
  }
  return index;
}

}  // namespace arca::kube
