#include "objstore/s3_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "http/curl_transport.h"
#include "http/retry.h"
#include "http/uri.h"
#include "objstore/sigv4.h"

namespace arca::objstore {
namespace {

constexpr std::string_view kXmlType = "application/xml";

// The module's logger, "objstore". Messages never contain credentials.
spdlog::logger& Log() {
  static const std::shared_ptr<spdlog::logger> kLogger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("objstore");
    return existing != nullptr ? existing : spdlog::default_logger()->clone("objstore");
  }();
  return *kLogger;
}

bool IsIpOrLocalhost(std::string_view host) {
  const std::string_view name =
      host.substr(0, host.rfind(':') == std::string_view::npos ? host.size() : host.rfind(':'));
  if (name == "localhost" || host.starts_with('[')) {
    return true;
  }
  return !name.empty() && name.find_first_not_of("0123456789.") == std::string_view::npos;
}

bool IsDnsSafeBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    return false;
  }
  return bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") ==
             std::string_view::npos &&
         bucket.front() != '-' && bucket.back() != '-';
}

// Splits "https://host:port/ignored" into scheme and host[:port].
void SplitUrl(const std::string& url, std::string* scheme, std::string* host) {
  const size_t sep = url.find("://");
  *scheme = url.substr(0, sep);
  std::string rest = url.substr(sep + 3);
  *host = rest.substr(0, rest.find('/'));
  // The Host header leaves out default ports, as curl does.
  if ((*scheme == "http" && host->ends_with(":80")) ||
      (*scheme == "https" && host->ends_with(":443"))) {
    host->resize(host->rfind(':'));
  }
}

bool IsRetryableCode(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestTimeTooSkewed" || code == "XMinioServerNotInitialized";
}

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return std::string(etag.substr(1, etag.size() - 2));
  }
  return std::string(etag);
}

bool IsPlainMd5(std::string_view etag) {
  return etag.size() == 32 && etag.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Reads up to `limit` bytes into `buffer`, growing it from `initial` bytes as data keeps coming,
// so small objects never cost a whole part's memory. Returns the bytes read.
Result<size_t> FillGrowing(const ObjectReader& reader, std::string& buffer, size_t initial,
                           size_t limit) {
  size_t filled = 0;
  buffer.resize(std::min(std::max<size_t>(initial, 1), limit));
  while (true) {
    ASSIGN_OR_RETURN(size_t n,
                     reader(std::span<char>(buffer.data() + filled, buffer.size() - filled)));
    if (n == 0) {
      break;
    }
    filled += std::min(n, buffer.size() - filled);
    if (filled == buffer.size()) {
      if (buffer.size() == limit) {
        break;
      }
      buffer.resize(std::min(buffer.size() * 2, limit));
    }
  }
  buffer.resize(filled);
  return filled;
}

// Reads from `reader` until `buffer` is full or the reader ends; returns the bytes read.
Result<size_t> Fill(const ObjectReader& reader, std::string& buffer) {
  size_t filled = 0;
  while (filled < buffer.size()) {
    ASSIGN_OR_RETURN(size_t n,
                     reader(std::span<char>(buffer.data() + filled, buffer.size() - filled)));
    if (n == 0) {
      break;
    }
    filled += std::min(n, buffer.size() - filled);
  }
  return filled;
}

}  // namespace

Status MapS3Error(int http_status, const S3Error& error, const S3ErrorContext& context) {
  std::string code = error.code;
  if (code.empty()) {
    code = "HTTP " + std::to_string(http_status);
  }
  std::string detail = code;
  if (!error.message.empty()) {
    detail += ": " + error.message;
  }
  if (!error.request_id.empty()) {
    detail += ", request id " + error.request_id;
  }
  const std::string object = "object '" + context.key + "' in bucket '" + context.bucket + "'";
  const std::string at = " at endpoint " + context.endpoint;
  const std::string op = context.operation + ": ";

  if (code == "NoSuchBucket") {
    return NotFoundError(op + "bucket '" + context.bucket + "' not found" + at + " (" + detail +
                         "); create it or fix the bucket name");
  }
  if (code == "NoSuchKey" || code == "NoSuchUpload" || http_status == 404) {
    const std::string what = context.key.empty() ? "bucket '" + context.bucket + "'" : object;
    return NotFoundError(op + what + " not found" + at + " (" + detail + ")");
  }
  if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
      code == "IllegalLocationConstraintException" || http_status == 301) {
    std::string hint = "set the config key region to the bucket's region";
    if (!error.region.empty()) {
      hint += " ('" + error.region + "')";
    }
    return FailedPreconditionError(op + "bucket '" + context.bucket + "' is not in the region " +
                                   "used" + at + " (" + detail + "); " + hint);
  }
  if (http_status == 403 || http_status == 401 || code == "AccessDenied" ||
      code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "InvalidToken" ||
      code == "ExpiredToken") {
    return PermissionDeniedError(op + "access denied to bucket '" + context.bucket + "'" + at +
                                 " (" + detail + "): check the credentials in " +
                                 context.credentials_source);
  }
  if (code == "BadDigest" || code == "InvalidDigest" || code == "XAmzContentChecksumMismatch" ||
      code == "XAmzContentSHA256Mismatch") {
    return DataLossError(op + object + ": the server saw different bytes than were sent (" +
                         detail + ")");
  }
  if (http::ShouldRetry(http_status) || IsRetryableCode(code)) {
    return UnavailableError(op + "the store is unavailable" + at + " (" + detail + ")");
  }
  if (http_status == 412 || http_status == 409) {
    return FailedPreconditionError(op + object + " (" + detail + ")");
  }
  if (http_status >= 400 && http_status < 500) {
    return InvalidArgumentError(op + object + " refused" + at + " (" + detail + ")");
  }
  return UnknownError(op + object + at + " (" + detail + ")");
}

// One S3 request before signing.
struct S3Store::Op {
  std::string operation;  // for messages
  std::string method;
  std::string key;  // empty for bucket-level requests
  std::vector<std::pair<std::string, std::string>> query;
  http::Headers headers;
  // The body: in memory and re-sendable, so every Op can be retried.
  std::string_view body;
  std::string payload_hash = std::string(kEmptyPayloadHash);
  std::chrono::milliseconds timeout{0};
  bool retry_after_partial_sink = false;
  std::function<Status(const http::Response&)> on_headers;
};

S3Store::S3Store(S3Config config, Credentials credentials, S3Settings settings,
                 http::TransportPtr transport, Clock& clock)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      settings_(settings),
      transport_(std::move(transport)),
      clock_(clock) {
  settings_.part_size = std::max(settings_.part_size, S3Settings::kMinPartSize);
  settings_.concurrency = std::max(1, settings_.concurrency);
  const std::string endpoint =
      config_.s3_url.empty() ? "https://s3." + config_.region + ".amazonaws.com" : config_.s3_url;
  SplitUrl(endpoint, &scheme_, &endpoint_host_);
  path_style_ = config_.force_path_style || IsIpOrLocalhost(endpoint_host_) ||
                !IsDnsSafeBucket(config_.bucket.value()) ||
                (scheme_ == "https" && config_.bucket.value().find('.') != std::string::npos);
}

S3Store::~S3Store() = default;

Result<std::unique_ptr<S3Store>> S3Store::Create(const std::map<std::string, std::string>& config,
                                                 const S3Settings& settings, Environment& env,
                                                 Clock& clock) {
  return Create(config, settings, env, clock, nullptr);
}

Result<std::unique_ptr<S3Store>> S3Store::Create(const std::map<std::string, std::string>& config,
                                                 const S3Settings& settings, Environment& env,
                                                 Clock& clock, http::TransportPtr transport) {
  ASSIGN_OR_RETURN(S3Config parsed, ParseS3Config(config));
  if (!parsed.customer_key_encryption_secret.empty()) {
    return UnimplementedError(
        "customerKeyEncryptionSecret must be resolved by the caller (it needs the Kubernetes "
        "Secret); use customerKeyEncryptionFile here");
  }
  RETURN_IF_ERROR(LoadCustomerKey(parsed, env));
  ASSIGN_OR_RETURN(Credentials creds, ResolveCredentials(parsed, env));
  if (transport == nullptr) {
    http::TransportOptions options;
    options.ca_pem = parsed.ca_cert;
    options.insecure_skip_tls_verify = parsed.insecure_skip_tls_verify;
    transport = std::make_unique<http::CurlTransport>(options);
  }
  if (parsed.region.empty() && !parsed.s3_url.empty()) {
    parsed.region = "us-east-1";
  }
  if (parsed.region.empty()) {
    // GetBucketRegion: any answer from the global endpoint names the region in a header.
    http::Request probe;
    probe.method = "HEAD";
    probe.url = "https://s3.amazonaws.com/" + http::UriEncode(parsed.bucket.value(), true);
    probe.timeout = settings.request_timeout;
    ASSIGN_OR_RETURN(http::Response resp, transport->Send(probe));
    const auto region = resp.Header("x-amz-bucket-region");
    if (!region) {
      return NotFoundError("cannot find the region of bucket '" + parsed.bucket.value() +
                           "' (HTTP " + std::to_string(resp.status) +
                           "); set the config key region");
    }
    parsed.region = std::string(*region);
  }
  return std::make_unique<S3Store>(std::move(parsed), std::move(creds), settings,
                                   std::move(transport), clock);
}

std::string S3Store::Describe() const {
  return "s3://" + config_.bucket.value() + " at " + scheme_ + "://" + endpoint_host_;
}

http::Request S3Store::Build(Op& op, const std::string& base_url) {
  std::string scheme;
  std::string host;
  SplitUrl(base_url, &scheme, &host);
  SigningRequest sr;
  sr.method = op.method;
  if (path_style_) {
    sr.path = "/" + config_.bucket.value() + (op.key.empty() ? "" : "/" + op.key);
  } else {
    host = config_.bucket.value() + "." + host;
    sr.path = "/" + op.key;
  }
  sr.query = op.query;
  sr.headers = op.headers;
  sr.headers.emplace_back("host", host);
  sr.payload_hash = op.payload_hash;
  SignRequest(sr, credentials_, config_.region, "s3", clock_.Now());

  http::Request req;
  req.method = op.method;
  req.url = scheme + "://" + host + CanonicalUri(sr.path);
  const std::string query = CanonicalQueryString(sr.query);
  if (!query.empty()) {
    req.url += "?" + query;
  }
  req.headers = std::move(sr.headers);
  req.timeout = op.timeout;
  return req;
}

Status S3Store::ErrorFor(const http::Response& response, const Op& op) {
  S3Error error;
  if (!response.body.empty()) {
    Result<S3Error> parsed = ParseS3Error(response.body);
    if (parsed.ok()) {
      error = std::move(parsed).value();
    } else {
      error.message = response.body.substr(0, 200);
    }
  }
  if (error.request_id.empty()) {
    error.request_id = std::string(response.Header("x-amz-request-id").value_or(""));
  }
  if (error.region.empty()) {
    error.region = std::string(response.Header("x-amz-bucket-region").value_or(""));
  }
  S3ErrorContext context{op.operation, config_.bucket.value(), op.key,
                         scheme_ + "://" + endpoint_host_, credentials_.source};
  return MapS3Error(response.status, error, context);
}

Result<http::Response> S3Store::Execute(Op& op, const http::BodySink* sink) {
  size_t delivered = 0;
  http::BodySink counting;
  if (sink != nullptr) {
    counting = [&](std::string_view chunk) {
      delivered += chunk.size();
      return (*sink)(chunk);
    };
  }
  const int attempts = std::max(1, settings_.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    http::Request req = Build(op, scheme_ + "://" + endpoint_host_);
    req.on_headers = op.on_headers;
    size_t offset = 0;
    if (!op.body.empty()) {
      const std::string_view body = op.body;
      req.body_size = static_cast<int64_t>(body.size());
      req.body_reader = [body, &offset](std::span<char> buffer) -> Result<size_t> {
        const size_t n = std::min(buffer.size(), body.size() - offset);
        std::memcpy(buffer.data(), body.data() + offset, n);
        offset += n;
        return n;
      };
    }
    Result<http::Response> resp = transport_->Send(req, sink != nullptr ? &counting : nullptr);
    Status failure;
    if (!resp.ok()) {
      failure = resp.status().WithContext(op.operation);
    } else if (resp->status >= 200 && resp->status < 300) {
      return resp;
    } else {
      failure = ErrorFor(*resp, op);
    }
    const bool can_retry = delivered == 0 || op.retry_after_partial_sink;
    if (attempt >= attempts || !can_retry || !http::ShouldRetry(failure)) {
      return failure;
    }
    const std::chrono::milliseconds wait = http::BackoffDelay(settings_.retry, attempt);
    Log().warn("{} (attempt {} of {}); retrying in {} ms", failure.ToString(), attempt, attempts,
               wait.count());
    clock_.SleepFor(wait);
  }
}

void S3Store::AddSseHeaders(http::Headers& headers, bool for_upload) const {
  if (!config_.customer_key.empty()) {
    headers.emplace_back("x-amz-server-side-encryption-customer-algorithm", "AES256");
    headers.emplace_back("x-amz-server-side-encryption-customer-key",
                         Base64Encode(config_.customer_key));
    headers.emplace_back("x-amz-server-side-encryption-customer-key-md5",
                         Base64Encode(Md5(config_.customer_key)));
    return;
  }
  if (!for_upload) {
    return;
  }
  if (!config_.kms_key_id.empty()) {
    headers.emplace_back("x-amz-server-side-encryption", "aws:kms");
    headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", config_.kms_key_id);
  } else if (!config_.server_side_encryption.empty()) {
    headers.emplace_back("x-amz-server-side-encryption", config_.server_side_encryption);
  }
}

Status S3Store::PutSingle(const ObjectKey& key, std::string_view data, const PutOptions& options) {
  Op op;
  op.operation = "PutObject '" + key.value() + "'";
  op.method = "PUT";
  op.key = key.value();
  op.body = data;
  op.payload_hash = std::string(kUnsignedPayload);
  op.headers.emplace_back("content-type", options.content_type);
  op.headers.emplace_back("content-md5", Base64Encode(Md5(data)));
  if (config_.checksum_algorithm != ChecksumAlgorithm::kNone) {
    Hasher hasher = Hasher::ForChecksum(config_.checksum_algorithm);
    hasher.Update(data);
    op.headers.emplace_back(
        "x-amz-checksum-" + std::string(ChecksumHeaderSuffix(config_.checksum_algorithm)),
        Base64Encode(hasher.Final()));
  }
  if (!config_.tagging.empty()) {
    op.headers.emplace_back("x-amz-tagging", config_.tagging);
  }
  AddSseHeaders(op.headers, /*for_upload=*/true);
  ASSIGN_OR_RETURN(http::Response resp, Execute(op, nullptr));
  static_cast<void>(resp);
  return OkStatus();
}

// One multipart upload: parts go up on worker threads, at most `concurrency` at once.
class S3Store::Multipart {
 public:
  Multipart(S3Store& store, const ObjectKey& key, std::string upload_id)
      : store_(store), key_(key), upload_id_(std::move(upload_id)) {}

  // Starts uploading `data` as part `number` once a slot is free. False when an earlier part
  // failed (then stop reading).
  bool Submit(int number, std::string data) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return in_flight_ < store_.settings_.concurrency || !error_.ok(); });
    if (!error_.ok()) {
      return false;
    }
    ++in_flight_;
    threads_.emplace_back([this, number, part = std::move(data)]() mutable {
      Result<CompletedPart> done = UploadPart(number, part);
      part.clear();
      part.shrink_to_fit();
      const std::lock_guard<std::mutex> guard(mu_);
      --in_flight_;
      if (done.ok()) {
        parts_.push_back(std::move(done).value());
      } else if (error_.ok()) {
        error_ = done.status();
      }
      cv_.notify_all();
    });
    return true;
  }

  // Waits for every part; then completes the upload, or aborts it after any failure.
  Status Finish(const Status& reader_status) {
    for (std::thread& t : threads_) {
      t.join();
    }
    threads_.clear();
    Status status = reader_status.ok() ? error_ : reader_status;
    if (status.ok()) {
      status = Complete();
    }
    if (!status.ok()) {
      Log().info("aborting the multipart upload of '{}': {}", key_.value(), status.ToString());
      Abort();
    }
    return status;
  }

 private:
  Result<CompletedPart> UploadPart(int number, std::string_view data) {
    Op op;
    op.operation = "UploadPart " + std::to_string(number) + " of '" + key_.value() + "'";
    op.method = "PUT";
    op.key = key_.value();
    op.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    op.body = data;
    op.payload_hash = std::string(kUnsignedPayload);
    op.headers.emplace_back("content-md5", Base64Encode(Md5(data)));
    CompletedPart part;
    part.number = number;
    const ChecksumAlgorithm algorithm = store_.config_.checksum_algorithm;
    if (algorithm != ChecksumAlgorithm::kNone) {
      Hasher hasher = Hasher::ForChecksum(algorithm);
      hasher.Update(data);
      part.checksum = Base64Encode(hasher.Final());
      op.headers.emplace_back("x-amz-checksum-" + std::string(ChecksumHeaderSuffix(algorithm)),
                              part.checksum);
    }
    if (!store_.config_.customer_key.empty()) {
      store_.AddSseHeaders(op.headers, /*for_upload=*/true);
    }
    ASSIGN_OR_RETURN(http::Response resp, store_.Execute(op, nullptr));
    const auto etag = resp.Header("etag");
    if (!etag) {
      return InternalError(op.operation + ": the response has no ETag");
    }
    part.etag = std::string(*etag);
    return part;
  }

  Status Complete() {
    std::sort(parts_.begin(), parts_.end(),
              [](const CompletedPart& a, const CompletedPart& b) { return a.number < b.number; });
    const std::string body =
        BuildCompleteMultipartUpload(parts_, store_.config_.checksum_algorithm);
    Op op;
    op.operation = "CompleteMultipartUpload '" + key_.value() + "'";
    op.method = "POST";
    op.key = key_.value();
    op.query = {{"uploadId", upload_id_}};
    op.body = body;
    op.payload_hash = Sha256Hex(body);
    op.headers.emplace_back("content-type", std::string(kXmlType));
    if (!store_.config_.customer_key.empty()) {
      store_.AddSseHeaders(op.headers, /*for_upload=*/true);
    }
    ASSIGN_OR_RETURN(http::Response resp, store_.Execute(op, nullptr));
    S3Error error;
    Result<std::string> etag = ParseCompleteMultipartUpload(resp.body, &error);
    if (!etag.ok() && !error.code.empty()) {
      S3ErrorContext context{op.operation, store_.config_.bucket.value(), key_.value(),
                             store_.scheme_ + "://" + store_.endpoint_host_,
                             store_.credentials_.source};
      return MapS3Error(500, error, context);
    }
    return etag.status();
  }

  void Abort() {
    Op op;
    op.operation = "AbortMultipartUpload '" + key_.value() + "'";
    op.method = "DELETE";
    op.key = key_.value();
    op.query = {{"uploadId", upload_id_}};
    store_.Execute(op, nullptr).status().IgnoreError();
  }

  S3Store& store_;
  const ObjectKey& key_;
  const std::string upload_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  Status error_;
  std::vector<CompletedPart> parts_;
  std::vector<std::thread> threads_;
};

Status S3Store::Put(const ObjectKey& key, const ObjectReader& reader, const PutOptions& options) {
  if (key.value().empty()) {
    return InvalidArgumentError("an S3 object key cannot be empty");
  }
  size_t part_size = settings_.part_size;
  if (options.size_hint > 0) {
    // Keep within S3's 10,000 parts, in whole MiB.
    constexpr size_t kMiB = 1 << 20;
    const auto needed = static_cast<size_t>(options.size_hint) / S3Settings::kMaxParts + 1;
    part_size = std::max(part_size, (needed + kMiB - 1) / kMiB * kMiB);
  }
  // Small objects start with a small buffer: a size hint one byte over the object's size
  // lets the first read see the end.
  constexpr size_t kInitialBuffer = size_t{64} * 1024;
  const size_t initial =
      options.size_hint >= 0 ? static_cast<size_t>(options.size_hint) + 1 : kInitialBuffer;
  std::string first;
  ASSIGN_OR_RETURN(size_t n, FillGrowing(reader, first, initial, part_size));
  if (n < part_size) {
    return PutSingle(key, first, options);
  }

  Op create;
  create.operation = "CreateMultipartUpload '" + key.value() + "'";
  create.method = "POST";
  create.key = key.value();
  create.query = {{"uploads", ""}};
  create.headers.emplace_back("content-type", options.content_type);
  if (config_.checksum_algorithm != ChecksumAlgorithm::kNone) {
    create.headers.emplace_back("x-amz-checksum-algorithm",
                                std::string(ChecksumAlgorithmName(config_.checksum_algorithm)));
  }
  if (!config_.tagging.empty()) {
    create.headers.emplace_back("x-amz-tagging", config_.tagging);
  }
  AddSseHeaders(create.headers, /*for_upload=*/true);
  ASSIGN_OR_RETURN(http::Response created, Execute(create, nullptr));
  ASSIGN_OR_RETURN(std::string upload_id, ParseInitiateMultipartUpload(created.body));

  Multipart upload(*this, key, std::move(upload_id));
  Status reader_status;
  int number = 1;
  std::string part = std::move(first);
  while (true) {
    if (number > S3Settings::kMaxParts) {
      reader_status = InvalidArgumentError(
          "object '" + key.value() + "' needs more than 10000 parts of " +
          std::to_string(part_size) + " bytes; pass PutOptions::size_hint or raise part_size");
      break;
    }
    if (!upload.Submit(number++, std::move(part))) {
      break;
    }
    part.assign(part_size, '\0');
    Result<size_t> filled = Fill(reader, part);
    if (!filled.ok()) {
      reader_status = filled.status();
      break;
    }
    if (*filled == 0) {
      break;
    }
    part.resize(*filled);
  }
  return upload.Finish(reader_status);
}

Result<ObjectInfo> S3Store::InfoFromHeaders(const ObjectKey& key, const http::Response& response) {
  ObjectInfo info;
  info.key = key;
  info.etag = StripQuotes(response.Header("etag").value_or(""));
  const std::string length(response.Header("content-length").value_or("0"));
  info.size = std::strtoull(length.c_str(), nullptr, 10);
  const std::string modified(response.Header("last-modified").value_or(""));
  if (!modified.empty()) {
    std::tm tm{};
    if (strptime(modified.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) != nullptr) {
      info.last_modified = std::chrono::system_clock::from_time_t(timegm(&tm));
    }
  }
  return info;
}

Result<ObjectInfo> S3Store::Get(const ObjectKey& key, const ObjectSink& sink) {
  if (key.value().empty()) {
    return InvalidArgumentError("an S3 object key cannot be empty");
  }
  Op op;
  op.operation = "GetObject '" + key.value() + "'";
  op.method = "GET";
  op.key = key.value();
  op.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  AddSseHeaders(op.headers, /*for_upload=*/false);

  // What to verify is decided from the response headers, so only useful digests are computed:
  // the MD5 when the ETag is one (single-part, not KMS or SSE-C encrypted), and the
  // x-amz-checksum-* the server returns. A multipart object's checksum is composite, "<c>-N":
  // the checksum of its N parts' checksums; its part size comes from a HEAD of part 1, fetched
  // before the download when the first GET reveals a composite checksum.
  std::optional<Hasher> md5;
  std::optional<Hasher> checksum;
  ChecksumAlgorithm checksum_algorithm = ChecksumAlgorithm::kNone;
  std::string expected_checksum;
  std::optional<uint64_t> part_size;  // set for a composite checksum
  bool need_part_size = false;
  uint64_t part_received = 0;
  std::string part_digests;  // the finished parts' raw checksums, concatenated
  uint64_t received = 0;
  // Set by the first response; a download cut short resumes from `received` with a Range
  // request that only succeeds while the object still has this ETag.
  std::string etag;
  uint64_t total_size = 0;
  bool resuming = false;
  op.on_headers = [&](const http::Response& head) {
    if (resuming) {
      if (head.status != 206) {
        return DataLossError("GetObject '" + key.value() +
                             "': the server ignored the Range of a "
                             "resumed download (HTTP " +
                             std::to_string(head.status) + ")");
      }
      return OkStatus();
    }
    received = 0;
    md5.reset();
    checksum.reset();
    checksum_algorithm = ChecksumAlgorithm::kNone;
    etag = std::string(head.Header("etag").value_or(""));
    total_size = std::strtoull(std::string(head.Header("content-length").value_or("0")).c_str(),
                               nullptr, 10);
    const bool encrypted = !config_.customer_key.empty() ||
                           head.Header("x-amz-server-side-encryption").value_or("") == "aws:kms";
    if (IsPlainMd5(StripQuotes(etag)) && !encrypted) {
      md5.emplace(Hasher::Kind::kMd5);
    }
    part_received = 0;
    part_digests.clear();
    for (const ChecksumAlgorithm a : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                                      ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}) {
      const auto value = head.Header("x-amz-checksum-" + std::string(ChecksumHeaderSuffix(a)));
      if (!value) {
        continue;
      }
      const bool composite = value->find('-') != std::string_view::npos;
      if (composite && !part_size) {
        // Stop before the body: the part size is needed to hash part by part.
        need_part_size = true;
        return AbortedError("GetObject '" + key.value() + "': composite checksum " +
                            std::string(*value) + " needs the part size");
      }
      checksum.emplace(Hasher::ForChecksum(a));
      checksum_algorithm = a;
      expected_checksum = std::string(*value);
      if (!composite) {
        part_size.reset();
      }
      break;
    }
    return OkStatus();
  };
  // Ends the current part of a composite checksum: its digest joins the list.
  auto finish_part = [&] {
    part_digests += checksum->Final();
    checksum.emplace(Hasher::ForChecksum(checksum_algorithm));
    part_received = 0;
  };
  const http::BodySink hashing = [&](std::string_view chunk) {
    if (md5) {
      md5->Update(chunk);
    }
    if (checksum && part_size && *part_size > 0) {
      std::string_view rest = chunk;
      while (!rest.empty()) {
        const size_t take =
            static_cast<size_t>(std::min<uint64_t>(rest.size(), *part_size - part_received));
        checksum->Update(rest.substr(0, take));
        part_received += take;
        rest.remove_prefix(take);
        if (part_received == *part_size) {
          finish_part();
        }
      }
    } else if (checksum) {
      checksum->Update(chunk);
    }
    received += chunk.size();
    return sink(chunk);
  };
  http::Response resp;
  for (int resume = 1;; ++resume) {
    Result<http::Response> attempt = Execute(op, &hashing);
    if (attempt.ok()) {
      resp = std::move(attempt).value();
      break;
    }
    if (need_part_size && received == 0) {
      need_part_size = false;
      ASSIGN_OR_RETURN(uint64_t size, FirstPartSize(key));
      part_size = size;
      --resume;  // not a failure: ask again, now able to verify
      continue;
    }
    if (!http::ShouldRetry(attempt.status()) || received == 0 || etag.empty() ||
        resume >= std::max(1, settings_.retry.max_attempts)) {
      if (attempt.status().code() == StatusCode::kFailedPrecondition && resuming) {
        return FailedPreconditionError("GetObject '" + key.value() +
                                       "': the object changed while it was being downloaded (" +
                                       attempt.status().message() + ")");
      }
      return attempt.status();
    }
    Log().warn("{} after {} bytes; resuming the download", attempt.status().ToString(), received);
    clock_.SleepFor(http::BackoffDelay(settings_.retry, resume));
    resuming = true;
    std::erase_if(op.headers,
                  [](const auto& h) { return h.first == "range" || h.first == "if-match"; });
    op.headers.emplace_back("range", "bytes=" + std::to_string(received) + "-");
    op.headers.emplace_back("if-match", etag);
  }
  ASSIGN_OR_RETURN(ObjectInfo info, InfoFromHeaders(key, resp));
  info.size = total_size;
  if (received != total_size) {
    return DataLossError("GetObject '" + key.value() + "': received " + std::to_string(received) +
                         " bytes, Content-Length said " + std::to_string(total_size));
  }
  if (md5) {
    const std::string got = HexEncode(md5->Final());
    if (got != info.etag) {
      return DataLossError("GetObject '" + key.value() + "': MD5 " + got +
                           " does not match the ETag " + info.etag);
    }
  }
  if (checksum && part_size) {
    if (part_received > 0 || part_digests.empty()) {
      finish_part();
    }
    const size_t digest_size = Hasher::ForChecksum(checksum_algorithm).Final().size();
    Hasher composite = Hasher::ForChecksum(checksum_algorithm);
    composite.Update(part_digests);
    const std::string got =
        Base64Encode(composite.Final()) + "-" + std::to_string(part_digests.size() / digest_size);
    if (got != expected_checksum) {
      return DataLossError("GetObject '" + key.value() + "': composite " +
                           std::string(ChecksumAlgorithmName(checksum_algorithm)) + " " + got +
                           " does not match the stored checksum " + expected_checksum);
    }
  } else if (checksum) {
    const std::string got = Base64Encode(checksum->Final());
    if (got != expected_checksum) {
      return DataLossError("GetObject '" + key.value() +
                           "': " + std::string(ChecksumAlgorithmName(checksum_algorithm)) + " " +
                           got + " does not match the stored checksum " + expected_checksum);
    }
  }
  return info;
}

Result<http::Response> S3Store::HeadObject(const ObjectKey& key) {
  if (key.value().empty()) {
    return InvalidArgumentError("an S3 object key cannot be empty");
  }
  Op op;
  op.operation = "HeadObject '" + key.value() + "'";
  op.method = "HEAD";
  op.key = key.value();
  op.timeout = settings_.request_timeout;
  AddSseHeaders(op.headers, /*for_upload=*/false);
  return Execute(op, nullptr);
}

Result<uint64_t> S3Store::FirstPartSize(const ObjectKey& key) {
  Op op;
  op.operation = "HeadObject '" + key.value() + "' part 1";
  op.method = "HEAD";
  op.key = key.value();
  op.query = {{"partNumber", "1"}};
  op.timeout = settings_.request_timeout;
  AddSseHeaders(op.headers, /*for_upload=*/false);
  ASSIGN_OR_RETURN(http::Response resp, Execute(op, nullptr));
  const uint64_t size =
      std::strtoull(std::string(resp.Header("content-length").value_or("0")).c_str(), nullptr, 10);
  if (size == 0) {
    return DataLossError("HeadObject '" + key.value() +
                         "' part 1: no part size, so its composite checksum cannot be verified");
  }
  return size;
}

Result<ObjectInfo> S3Store::Head(const ObjectKey& key) {
  Result<http::Response> resp = HeadObject(key);
  if (!resp.ok()) {
    if (resp.status().code() == StatusCode::kNotFound) {
      // HEAD has no body to say whether the key or the bucket is missing; ask.
      RETURN_IF_ERROR(CheckBucket());
    }
    return resp.status();
  }
  return InfoFromHeaders(key, *resp);
}

Result<bool> S3Store::Exists(const ObjectKey& key) {
  Result<http::Response> resp = HeadObject(key);
  if (resp.ok()) {
    return true;
  }
  if (resp.status().code() == StatusCode::kNotFound) {
    // A missing bucket is an error, not "does not exist".
    RETURN_IF_ERROR(CheckBucket());
    return false;
  }
  return resp.status();
}

Status S3Store::CheckBucket() {
  Op op;
  op.operation = "HeadBucket";
  op.method = "HEAD";
  op.timeout = settings_.request_timeout;
  Result<http::Response> resp = Execute(op, nullptr);
  if (!resp.ok() && resp.status().code() == StatusCode::kNotFound) {
    S3Error error;
    error.code = "NoSuchBucket";
    S3ErrorContext context{op.operation, config_.bucket.value(), "",
                           scheme_ + "://" + endpoint_host_, credentials_.source};
    return MapS3Error(404, error, context);
  }
  return resp.status();
}

Result<ListPage> S3Store::List(const ListOptions& options) {
  if (options.max_keys <= 0) {
    return InvalidArgumentError("max_keys must be positive, got " +
                                std::to_string(options.max_keys));
  }
  Op op;
  op.operation = "ListObjectsV2 prefix '" + options.prefix + "'";
  op.method = "GET";
  op.timeout = settings_.request_timeout;
  op.query = {{"list-type", "2"},
              {"encoding-type", "url"},
              {"max-keys", std::to_string(std::min(options.max_keys, 1000))}};
  if (!options.prefix.empty()) {
    op.query.emplace_back("prefix", options.prefix);
  }
  if (!options.delimiter.empty()) {
    op.query.emplace_back("delimiter", options.delimiter);
  }
  if (!options.continuation_token.empty()) {
    op.query.emplace_back("continuation-token", options.continuation_token);
  } else if (!options.start_after.empty()) {
    op.query.emplace_back("start-after", options.start_after);
  }
  ASSIGN_OR_RETURN(http::Response resp, Execute(op, nullptr));
  return ParseListObjectsV2(resp.body);
}

Status S3Store::Delete(const ObjectKey& key) {
  if (key.value().empty()) {
    return InvalidArgumentError("an S3 object key cannot be empty");
  }
  Op op;
  op.operation = "DeleteObject '" + key.value() + "'";
  op.method = "DELETE";
  op.key = key.value();
  op.timeout = settings_.request_timeout;
  return Execute(op, nullptr).status();
}

Status S3Store::DeleteMany(std::span<const ObjectKey> keys) {
  size_t failed = 0;
  std::string first;
  StatusCode first_code = StatusCode::kOk;
  for (size_t start = 0; start < keys.size(); start += kMaxDeleteBatch) {
    const std::span<const ObjectKey> batch =
        keys.subspan(start, std::min(kMaxDeleteBatch, keys.size() - start));
    const std::string body = BuildDeleteObjects(batch);
    Op op;
    op.operation = "DeleteObjects";
    op.method = "POST";
    op.query = {{"delete", ""}};
    op.body = body;
    op.payload_hash = Sha256Hex(body);
    op.timeout = settings_.request_timeout;
    op.headers.emplace_back("content-type", std::string(kXmlType));
    op.headers.emplace_back("content-md5", Base64Encode(Md5(body)));
    ASSIGN_OR_RETURN(http::Response resp, Execute(op, nullptr));
    ASSIGN_OR_RETURN(std::vector<DeleteFailure> failures, ParseDeleteResult(resp.body));
    for (const DeleteFailure& f : failures) {
      if (failed++ == 0) {
        S3Error error{f.code, f.message, "", "", "", ""};
        S3ErrorContext context{"DeleteObjects '" + f.key + "'", config_.bucket.value(), f.key,
                               scheme_ + "://" + endpoint_host_, credentials_.source};
        const int status = f.code == "AccessDenied" ? 403 : 500;
        const Status mapped = MapS3Error(status, error, context);
        first = mapped.message();
        first_code = mapped.code();
      }
    }
  }
  if (failed == 0) {
    return OkStatus();
  }
  return Status(first_code, std::to_string(failed) + " of " + std::to_string(keys.size()) +
                                " deletes failed; first: " + first);
}

Result<std::string> S3Store::PresignGet(const ObjectKey& key, std::chrono::seconds expiry) {
  constexpr std::chrono::seconds kMaxExpiry{7 * 24 * 3600};
  if (expiry < std::chrono::seconds(1) || expiry > kMaxExpiry) {
    return InvalidArgumentError("a pre-signed URL expires after 1 second to 7 days, not " +
                                std::to_string(expiry.count()) + " seconds");
  }
  if (key.value().empty()) {
    return InvalidArgumentError("an S3 object key cannot be empty");
  }
  const std::string base =
      config_.public_url.empty() ? scheme_ + "://" + endpoint_host_ : config_.public_url;
  std::string scheme;
  std::string host;
  SplitUrl(base, &scheme, &host);
  SigningRequest sr;
  sr.method = "GET";
  if (path_style_) {
    sr.path = "/" + config_.bucket.value() + "/" + key.value();
  } else {
    host = config_.bucket.value() + "." + host;
    sr.path = "/" + key.value();
  }
  sr.headers = {{"host", host}};
  PresignRequest(sr, credentials_, config_.region, "s3", clock_.Now(), expiry);
  return scheme + "://" + host + CanonicalUri(sr.path) + "?" + CanonicalQueryString(sr.query);
}

}  // namespace arca::objstore
