// File: objstore/s3_store.h
//
// S3Store: an ObjectStore on the S3 API (AWS S3, MinIO, Ceph RGW, R2, Wasabi, GCS in XML mode),
// configured like Velero's AWS plugin (objstore/s3_config.h). Requests are signed with SigV4
// and sent through an http::Transport; the request building and error mapping are pure
// functions declared here so they can be tested without a server.
//
// Behaviour worth knowing:
//   - Addressing is virtual-hosted (bucket.host) unless s3ForcePathStyle is set, the endpoint
//     is an IP address or localhost, or the bucket name is not DNS-safe; then path-style.
//   - Objects up to the part size go up in one PutObject; larger ones in a multipart upload of
//     `part_size` parts, `concurrency` at a time, holding at most concurrency + 1 parts in
//     memory. A failed multipart upload is aborted so no parts are left behind.
//   - Every upload carries Content-MD5 and, unless checksumAlgorithm is "", an
//     x-amz-checksum-* header. Downloads are checked against the ETag when it is a plain MD5
//     and against a full-object x-amz-checksum-* when the server returns one; a mismatch is
//     kDataLoss.
//   - Requests are retried with backoff (S3Settings::retry) on 5xx, 429, SlowDown,
//     RequestTimeout, timeouts and connection resets. A GET cut off after some bytes reached
//     the sink resumes where it stopped (Range + If-Match on the first response's ETag).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "http/transport.h"
#include "objstore/object_store.h"
#include "objstore/s3_config.h"
#include "objstore/s3_xml.h"

namespace arca::objstore {

// What an error message should name.
struct S3ErrorContext {
  std::string operation;  // "GET object", "ListObjectsV2", ...
  std::string bucket;
  std::string key;  // empty for bucket operations
  std::string endpoint;
  std::string credentials_source;
};

// Maps an S3 error response to a Status with an actionable message that carries the S3 code
// and request id. `error.code` may be empty (HEAD responses have no body).
Status MapS3Error(int http_status, const S3Error& error, const S3ErrorContext& context);

class S3Store : public ObjectStore {
 public:
  // Makes a store from a BSL config map: parses it, reads the credentials and the SSE-C key
  // through `env`, and builds a CurlTransport with the TLS settings. A missing region with no
  // s3Url is looked up with one request to AWS.
  static Result<std::unique_ptr<S3Store>> Create(const std::map<std::string, std::string>& config,
                                                 const S3Settings& settings, Environment& env,
                                                 Clock& clock);
  // The same with the transport given (tests); `transport` replaces the CurlTransport, so the
  // TLS config keys are then up to it.
  static Result<std::unique_ptr<S3Store>> Create(const std::map<std::string, std::string>& config,
                                                 const S3Settings& settings, Environment& env,
                                                 Clock& clock, http::TransportPtr transport);

  // Everything injected (tests use a fake transport). REQUIRES: config.region is set.
  S3Store(S3Config config, Credentials credentials, S3Settings settings,
          http::TransportPtr transport, Clock& clock);
  ~S3Store() override;

  std::string Describe() const override;
  using ObjectStore::Put;
  Status Put(const ObjectKey& key, const ObjectReader& reader, const PutOptions& options) override;
  Result<ObjectInfo> Get(const ObjectKey& key, const ObjectSink& sink) override;
  Result<ObjectInfo> Head(const ObjectKey& key) override;
  Result<bool> Exists(const ObjectKey& key) override;
  Result<ListPage> List(const ListOptions& options) override;
  Status Delete(const ObjectKey& key) override;
  Status DeleteMany(std::span<const ObjectKey> keys) override;
  Result<std::string> PresignGet(const ObjectKey& key, std::chrono::seconds expiry) override;

  // Checks that the bucket exists and the credentials may use it (HEAD bucket).
  Status CheckBucket();

  const S3Config& Config() const { return config_; }
  // True when requests use path-style addressing.
  bool UsesPathStyle() const { return path_style_; }

 private:
  // HEAD of one object, shared by Head and Exists.
  Result<http::Response> HeadObject(const ObjectKey& key);
  // The size of part 1 of a multipart object (HEAD ?partNumber=1), for composite checksums.
  Result<uint64_t> FirstPartSize(const ObjectKey& key);
  struct Op;
  class Multipart;

  // The URL and signed headers of `op` at `base_url`.
  http::Request Build(Op& op, const std::string& base_url);
  // Sends `op` with retries; returns 2xx responses, maps the rest to errors.
  Result<http::Response> Execute(Op& op, const http::BodySink* sink);
  Status ErrorFor(const http::Response& response, const Op& op);
  void AddSseHeaders(http::Headers& headers, bool for_upload) const;
  Status PutSingle(const ObjectKey& key, std::string_view data, const PutOptions& options);
  Result<ObjectInfo> InfoFromHeaders(const ObjectKey& key, const http::Response& response);

  S3Config config_;
  Credentials credentials_;
  S3Settings settings_;
  http::TransportPtr transport_;
  Clock& clock_;
  std::string scheme_;
  std::string endpoint_host_;  // host[:port]
  bool path_style_ = false;
};

}  // namespace arca::objstore
