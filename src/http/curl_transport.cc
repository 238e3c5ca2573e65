#include "http/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "archive/gzip.h"

namespace arca::http {
namespace {

constexpr long kReceiveBufferSize = 256L * 1024;
constexpr long kUploadBufferSize = 512L * 1024;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
// A curl_slist that frees itself.
class HeaderList {
 public:
  void Append(const std::string& line) {
    curl_slist* next = curl_slist_append(list_.get(), line.c_str());
    if (next != nullptr) {
      static_cast<void>(list_.release());
      list_.reset(next);
    }
  }
  curl_slist* Get() const { return list_.get(); }

 private:
  std::unique_ptr<curl_slist, SlistDeleter> list_;
};

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// For tls-server-name: `url` with its host replaced by `server_name`, and the CURLOPT_CONNECT_TO
// entry that still sends the connection to the original host and port. nullopt when `url` does
// not parse.
struct ServerNameRoute {
  std::string url;
  std::string connect_to;
};
std::optional<ServerNameRoute> RouteWithServerName(const std::string& url,
                                                   const std::string& server_name) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto part = [&](CURLUPart which, unsigned flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(u.get(), which, &value, flags) != CURLUE_OK || value == nullptr) {
      return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
  };
  std::optional<std::string> host = part(CURLUPART_HOST, 0);
  std::optional<std::string> port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!host || !port ||
      curl_url_set(u.get(), CURLUPART_HOST, server_name.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  std::optional<std::string> rewritten = part(CURLUPART_URL, 0);
  if (!rewritten) {
    return std::nullopt;
  }
  return ServerNameRoute{*rewritten, server_name + ":" + *port + ":" + *host + ":" + *port};
}

// How many response bytes a multiplexed transfer may hold for its caller before the event loop
// pauses it (the caller's sink then runs on the caller's thread and the transfer resumes).
constexpr size_t kHandoffBytes = size_t{1} << 20;

// What the callbacks of one transfer share.
struct TransferState {
  const Request* request = nullptr;
  const BodySink* sink = nullptr;
  CURL* easy = nullptr;
  size_t body_offset = 0;  // into request->body
  Response response;
  Status callback_error;
  bool status_known = false;
  bool to_sink = false;
  bool headers_reported = false;
  // With accept_compressed, a gzip response body is decompressed here rather than by libcurl:
  // on the caller's thread (not the event loop's, which serves every transfer) and with igzip.
  bool accept_gzip = false;
  std::unique_ptr<archive::GunzipStream> gunzip;  // for a sink, once the body is known to be gzip

  // Set for transfers run by the event loop: the write callback (loop thread) hands the body to
  // the caller's thread through `chunks` instead of calling the sink itself, so that a slow sink
  // never holds up the other transfers. Guarded by `mu`.
  bool handoff = false;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> chunks;
  size_t buffered = 0;
  bool paused = false;
  bool abort = false;  // the caller gave up (its sink or on_headers failed)
  bool done = false;
  CURLcode result = CURLE_OK;
  Response head;  // status and headers, copied when the first body byte arrives
};

bool HasHeader(const Request& req, std::string_view name) {
  return std::any_of(req.headers.begin(), req.headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

bool IsGzip(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (name == "content-encoding") {
      return EqualsIgnoreCase(value, "gzip") || EqualsIgnoreCase(value, "x-gzip");
    }
  }
  return false;
}

// The sink a 2xx body goes to: the caller's, or a decompressor in front of it. `headers` are the
// response's. Called once, before the first body byte.
void PrepareSink(TransferState& state, const Headers& headers) {
  if (state.accept_gzip && IsGzip(headers)) {
    state.gunzip = std::make_unique<archive::GunzipStream>(
        [sink = state.sink](std::string_view d) { return (*sink)(d); });
  }
}

Status Deliver(TransferState& state, std::string_view data) {
  return state.gunzip ? state.gunzip->Write(data) : (*state.sink)(data);
}

// A body kept in the response (not given to a sink), decompressed when it came gzipped. Error
// bodies are capped, so their end may be missing: what decompresses is kept.
Status DecodeBody(Response& response) {
  std::string plain;
  archive::GunzipStream gunzip([&](std::string_view d) {
    plain.append(d);
    if (response.status >= 300 && plain.size() > Response::kMaxErrorBody) {
      plain.resize(Response::kMaxErrorBody);
      return CancelledError("enough of the error body");
    }
    return OkStatus();
  });
  Status s = gunzip.Write(response.body);
  if (s.ok()) {
    s = gunzip.Finish();
  }
  if (!s.ok() && response.status < 300) {
    return s.WithContext("decompressing the gzip response body");
  }
  response.body = std::move(plain);
  return OkStatus();
}

size_t ReadCallback(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t capacity = size * count;
  const Request& req = *state->request;
  if (req.body_reader) {
    Result<size_t> n = req.body_reader(std::span<char>(buffer, capacity));
    if (!n.ok()) {
      state->callback_error = n.status();
      return CURL_READFUNC_ABORT;
    }
    return std::min(*n, capacity);
  }
  const size_t n = std::min(capacity, req.body.size() - state->body_offset);
  // NOLINTNEXTLINE(bugprone-not-null-terminated-result): a byte buffer, not a string.
  std::memcpy(buffer, req.body.data() + state->body_offset, n);
  state->body_offset += n;
  return n;
}

int SeekCallback(void* user, curl_off_t offset, int origin) {
  auto* state = static_cast<TransferState*>(user);
  if (state->request->body_reader || origin != SEEK_SET || offset < 0 ||
      static_cast<size_t>(offset) > state->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  state->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t HeaderCallback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue or a redirect): forget earlier headers.
    state->response.headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return n;
  }
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  state->response.headers.emplace_back(std::move(name), std::string(value));
  return n;
}

size_t WriteCallback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t n = size * count;
  if (!state->status_known) {
    long code = 0;
    curl_easy_getinfo(state->easy, CURLINFO_RESPONSE_CODE, &code);
    state->response.status = static_cast<int>(code);
    state->to_sink = state->sink != nullptr && code >= 200 && code < 300;
    state->status_known = true;
    if (state->handoff) {
      if (state->to_sink) {
        const std::lock_guard<std::mutex> lock(state->mu);
        state->head.status = state->response.status;
        state->head.headers = state->response.headers;
      }
    } else if (state->to_sink) {
      PrepareSink(*state, state->response.headers);
      if (state->request->on_headers) {
        state->headers_reported = true;
        Status s = state->request->on_headers(state->response);
        if (!s.ok()) {
          state->callback_error = std::move(s);
          return 0;
        }
      }
    }
  }
  if (state->to_sink && state->handoff) {
    const std::lock_guard<std::mutex> lock(state->mu);
    if (state->abort) {
      return 0;
    }
    if (state->buffered >= kHandoffBytes) {
      state->paused = true;
      return CURL_WRITEFUNC_PAUSE;  // curl delivers the same bytes again after the unpause
    }
    state->chunks.emplace_back(data, n);
    state->buffered += n;
    state->cv.notify_one();
    return n;
  }
  if (state->to_sink) {
    Status s = Deliver(*state, std::string_view(data, n));
    if (!s.ok()) {
      state->callback_error = std::move(s);
      return 0;
    }
    return n;
  }
  std::string& body = state->response.body;
  if (state->response.status >= 300) {
    const size_t room = Response::kMaxErrorBody - std::min(body.size(), Response::kMaxErrorBody);
    body.append(data, std::min(n, room));
  } else {
    body.append(data, n);
  }
  return n;
}

Status MapCurlError(CURLcode code, const Request& req, const char* detail) {
  std::string message = req.method + " " + RedactUrl(req.url) + ": " + curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') {
    message += " (" + std::string(detail) + ")";
  }
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(std::move(message));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return FailedPreconditionError(
          message + "; check the CA bundle (caCert) or, for tests only, insecureSkipTLSVerify");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return UnavailableError(std::move(message));
    default:
      return UnknownError(std::move(message));
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string_view out = url.substr(0, url.find_first_of("?#"));
  const size_t scheme_end = out.find("://");
  if (scheme_end != std::string_view::npos) {
    const size_t host_start = scheme_end + 3;
    const size_t path_start = out.find('/', host_start);
    const size_t at = out.substr(0, path_start).find('@', host_start);
    if (at != std::string_view::npos) {
      return std::string(out.substr(0, host_start)) + std::string(out.substr(at + 1));
    }
  }
  return std::string(out);
}

class CurlTransport::Impl {
 public:
  explicit Impl(TransportOptions options) : options_(std::move(options)) {
    GlobalInit();
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Impl::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Impl::Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    // The event loop's transfers share DNS answers and TLS sessions with the others, but keep
    // their connections in the multi handle, where HTTP/2 streams are multiplexed.
    loop_share_ = curl_share_init();
    curl_share_setopt(loop_share_, CURLSHOPT_LOCKFUNC, &Impl::Lock);
    curl_share_setopt(loop_share_, CURLSHOPT_UNLOCKFUNC, &Impl::Unlock);
    curl_share_setopt(loop_share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(loop_share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(loop_share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, kMaxHostConnections);
    loop_ = std::thread([this] { Loop(); });
  }

  ~Impl() {
    {
      const std::lock_guard<std::mutex> lock(commands_mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    loop_.join();
    curl_multi_cleanup(multi_);
    idle_.clear();  // easy handles go before the share handles they use
    curl_share_cleanup(loop_share_);
    curl_share_cleanup(share_);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Result<Response> Send(const Request& req, const BodySink* sink) {
    EasyHandle easy = Acquire();
    if (!easy) {
      return InternalError("curl_easy_init failed");
    }
    TransferState state;
    state.request = &req;
    state.sink = sink;
    state.easy = easy.get();
    state.accept_gzip = options_.accept_compressed && !HasHeader(req, "Accept-Encoding");
    // Requests that can be multiplexed (HTTP/2 over TLS) go through the event loop. The others
    // run on the calling thread: cleartext HTTP/1.1 gains nothing from the loop, and a body
    // reader may block (another thread can be feeding it), which would stall every transfer.
    state.handoff =
        options_.multiplex && options_.http2 && !req.body_reader && req.url.starts_with("https://");
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    HeaderList headers;
    HeaderList connect_to;
    if (Status s = Configure(state, headers, connect_to, error_buffer.data()); !s.ok()) {
      Release(std::move(easy));
      return s;
    }
    CURL* h = easy.get();
    CURLcode code = CURLE_OK;
    if (state.handoff) {
      code = RunOnLoop(state);
    } else {
      curl_easy_setopt(h, CURLOPT_SHARE, share_);
      code = curl_easy_perform(h);
    }
    if (!state.status_known) {
      long status = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
      state.response.status = static_cast<int>(status);
    }
    long version = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    state.response.http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : 1;
    long new_connections = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
    state.response.new_connections = static_cast<int>(new_connections);
    Release(std::move(easy));
    if (!state.callback_error.ok()) {
      return state.callback_error;
    }
    if (code != CURLE_OK) {
      return MapCurlError(code, req, error_buffer.data());
    }
    if (state.gunzip) {
      // A body cut short would otherwise pass for a whole one.
      RETURN_IF_ERROR(state.gunzip->Finish().WithContext(req.method + " " + RedactUrl(req.url) +
                                                         ": the gzip response body"));
    } else if (state.accept_gzip && !state.to_sink && !state.response.body.empty() &&
               IsGzip(state.response.headers)) {
      RETURN_IF_ERROR(
          DecodeBody(state.response).WithContext(req.method + " " + RedactUrl(req.url)));
    }
    const int status = state.response.status;
    if (sink != nullptr && req.on_headers && !state.headers_reported && status >= 200 &&
        status < 300) {
      RETURN_IF_ERROR(req.on_headers(state.response));
    }
    return std::move(state.response);
  }

 private:
  // HTTP/2 streams per connection before the loop opens another connection to the same host;
  // the server's own limit (SETTINGS_MAX_CONCURRENT_STREAMS, 250 for Go servers such as
  // kube-apiserver) applies when lower.
  static constexpr long kMaxStreamsPerConnection = 1000;
  // Connections per host the loop opens at most; further requests queue inside curl until a
  // stream is free. Without it, every request beyond a full connection would open its own.
  static constexpr long kMaxHostConnections = 8;

  // A request for the event loop thread, which alone touches the multi handle.
  struct Command {
    enum class Kind { kAdd, kResume, kAbort };
    Kind kind;
    TransferState* state;
  };

  Status Configure(TransferState& state, HeaderList& headers, HeaderList& connect_to,
                   char* error_buffer) {
    const Request& req = *state.request;
    CURL* h = state.easy;
    if (!options_.tls_server_name.empty()) {
      std::optional<ServerNameRoute> route = RouteWithServerName(req.url, options_.tls_server_name);
      if (!route) {
        return InvalidArgumentError("cannot apply tls-server-name to the URL " +
                                    RedactUrl(req.url));
      }
      curl_easy_setopt(h, CURLOPT_URL, route->url.c_str());
      connect_to.Append(route->connect_to);
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to.Get());
    } else {
      curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    }
    curl_easy_setopt(h, CURLOPT_PRIVATE, &state);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBufferSize);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferSize);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(options_.stall_timeout.count() / 1000)));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     options_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (options_.insecure_skip_tls_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!options_.ca_pem.empty()) {
      curl_blob blob{};
      blob.data = options_.ca_pem.data();
      blob.len = options_.ca_pem.size();
      blob.flags = CURL_BLOB_COPY;
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    } else if (!options_.ca_file.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    if (!options_.proxy_url.empty()) {
      curl_easy_setopt(h, CURLOPT_PROXY, options_.proxy_url.c_str());
    }
    if (!req.client_cert_pem.empty()) {
      // The blobs are copied, and curl reuses a connection only for the same certificate.
      curl_blob cert{};
      cert.data = const_cast<char*>(req.client_cert_pem.data());
      cert.len = req.client_cert_pem.size();
      cert.flags = CURL_BLOB_COPY;
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_blob key{};
      key.data = const_cast<char*>(req.client_key_pem.data());
      key.len = req.client_key_pem.size();
      key.flags = CURL_BLOB_COPY;
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }

    const bool has_body = req.body_reader || !req.body.empty();
    if (req.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadCallback);
      curl_easy_setopt(h, CURLOPT_READDATA, &state);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &SeekCallback);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &state);
      const curl_off_t size = req.body_reader ? static_cast<curl_off_t>(req.body_size)
                                              : static_cast<curl_off_t>(req.body.size());
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
      if (req.method != "PUT") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      }
    } else if (req.method == "PUT" || req.method == "POST") {
      // An empty body still needs a Content-Length: 0.
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadCallback);
      curl_easy_setopt(h, CURLOPT_READDATA, &state);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(0));
      if (req.method != "PUT") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      }
    } else if (req.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    for (const auto& [name, value] : req.headers) {
      std::string line = name;
      line += value.empty() ? ";" : ": ";
      line += value;
      headers.Append(line);
    }
    if (state.accept_gzip) {
      headers.Append("Accept-Encoding: gzip");  // decompressed by TransferState::gunzip
    }
    headers.Append("Expect:");  // no 100-continue round trip
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.Get());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &HeaderCallback);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteCallback);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
    return OkStatus();
  }

  // Hands the transfer to the event loop and, on this thread, feeds the body the loop receives
  // to the sink (and on_headers before it). Returns when the loop has finished the transfer.
  CURLcode RunOnLoop(TransferState& state) {
    curl_easy_setopt(state.easy, CURLOPT_SHARE, loop_share_);
    // Wait for a connection being set up to say whether it multiplexes, rather than opening a
    // connection per request when many start at once. Only here: a transfer run by
    // curl_easy_perform on its own thread would wait for a connection another thread holds.
    curl_easy_setopt(state.easy, CURLOPT_PIPEWAIT, 1L);
    Post({Command::Kind::kAdd, &state});
    const Request& req = *state.request;
    bool failed = false;
    std::deque<std::string> batch;
    while (true) {
      bool resume = false;
      {
        std::unique_lock<std::mutex> lock(state.mu);
        state.cv.wait(lock, [&] { return !state.chunks.empty() || state.done; });
        if (state.chunks.empty()) {
          break;  // done, and every byte delivered
        }
        batch.swap(state.chunks);
        state.buffered = 0;
        resume = state.paused;
        state.paused = false;
        if (!state.headers_reported && !failed) {
          state.headers_reported = true;
          PrepareSink(state, state.head.headers);
          if (req.on_headers) {
            lock.unlock();
            if (Status s = req.on_headers(state.head); !s.ok()) {
              state.callback_error = std::move(s);
              failed = true;
            }
          }
        }
      }
      if (resume && !failed) {
        Post({Command::Kind::kResume, &state});  // refill while the sink works on this batch
      }
      for (const std::string& chunk : batch) {
        if (failed) {
          break;
        }
        if (Status s = Deliver(state, chunk); !s.ok()) {
          state.callback_error = std::move(s);
          failed = true;
        }
      }
      batch.clear();
      if (failed) {
        bool done = false;
        {
          const std::lock_guard<std::mutex> lock(state.mu);
          state.abort = true;
          state.chunks.clear();
          done = state.done;
        }
        if (!done) {
          Post({Command::Kind::kAbort, &state});
        }
        std::unique_lock<std::mutex> lock(state.mu);
        state.cv.wait(lock, [&] { return state.done; });
        break;
      }
    }
    const std::lock_guard<std::mutex> lock(state.mu);
    return state.result;
  }

  void Post(Command command) {
    {
      const std::lock_guard<std::mutex> lock(commands_mu_);
      commands_.push_back(command);
    }
    curl_multi_wakeup(multi_);
  }

  static void Complete(TransferState* state, CURLcode result) {
    const std::lock_guard<std::mutex> lock(state->mu);
    state->done = true;
    state->result = result;
    state->cv.notify_all();
  }

  // The event loop: the only thread that calls into the multi handle and runs the write,
  // read and header callbacks of its transfers.
  void Loop() {
    std::vector<TransferState*> running;
    std::vector<Command> commands;
    while (true) {
      bool stopping = false;
      {
        const std::lock_guard<std::mutex> lock(commands_mu_);
        commands.swap(commands_);
        stopping = stopping_;
      }
      for (const Command& c : commands) {
        const auto it = std::find(running.begin(), running.end(), c.state);
        switch (c.kind) {
          case Command::Kind::kAdd:
            if (curl_multi_add_handle(multi_, c.state->easy) == CURLM_OK) {
              running.push_back(c.state);
            } else {
              Complete(c.state, CURLE_FAILED_INIT);
            }
            break;
          case Command::Kind::kResume:
            if (it != running.end()) {
              curl_easy_pause(c.state->easy, CURLPAUSE_CONT);
            }
            break;
          case Command::Kind::kAbort:
            if (it != running.end()) {
              curl_multi_remove_handle(multi_, c.state->easy);
              running.erase(it);
              Complete(c.state, CURLE_ABORTED_BY_CALLBACK);
            }
            break;
        }
      }
      commands.clear();
      if (stopping) {
        for (TransferState* state : running) {
          curl_multi_remove_handle(multi_, state->easy);
          Complete(state, CURLE_ABORTED_BY_CALLBACK);
        }
        return;
      }
      int still_running = 0;
      curl_multi_perform(multi_, &still_running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) {
          continue;
        }
        CURL* easy = msg->easy_handle;
        const CURLcode result = msg->data.result;
        void* priv = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        auto* state = static_cast<TransferState*>(priv);
        curl_multi_remove_handle(multi_, easy);
        running.erase(std::remove(running.begin(), running.end(), state), running.end());
        Complete(state, result);
      }
      curl_multi_poll(multi_, nullptr, 0, kPollMillis, nullptr);
    }
  }

  static constexpr int kPollMillis = 1000;

  static void Lock(CURL* /*handle*/, curl_lock_data data, curl_lock_access /*access*/, void* user) {
    static_cast<Impl*>(user)->LockFor(data).lock();
  }
  static void Unlock(CURL* /*handle*/, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->LockFor(data).unlock();
  }
  std::mutex& LockFor(curl_lock_data data) {
    const auto index = static_cast<size_t>(data);
    return share_locks_[index < share_locks_.size() ? index : 0];
  }

  EasyHandle Acquire() {
    {
      const std::lock_guard<std::mutex> lock(pool_mu_);
      if (!idle_.empty()) {
        EasyHandle easy = std::move(idle_.back());
        idle_.pop_back();
        return easy;
      }
    }
    return EasyHandle(curl_easy_init());
  }

  void Release(EasyHandle easy) {
    curl_easy_reset(easy.get());
    const std::lock_guard<std::mutex> lock(pool_mu_);
    idle_.push_back(std::move(easy));
  }

  TransportOptions options_;
  CURLSH* share_ = nullptr;
  CURLSH* loop_share_ = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks_;
  std::mutex pool_mu_;
  std::vector<EasyHandle> idle_;

  CURLM* multi_ = nullptr;
  std::mutex commands_mu_;
  std::vector<Command> commands_;
  bool stopping_ = false;
  std::thread loop_;
};

CurlTransport::CurlTransport(TransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CurlTransport::~CurlTransport() = default;

Result<Response> CurlTransport::Send(const Request& request, const BodySink* sink) {
  return impl_->Send(request, sink);
}

}  // namespace arca::http
