// File: objstore/s3_config.h
//
// The configuration of an S3 store, parsed from a Velero BackupStorageLocation's `config` map
// for the AWS provider (velero.io/aws; keys in ../shared/reference/velero-api.md section 9.4),
// and the credentials it uses.
//
// Credentials are looked up like Velero's AWS plugin does:
//   1. `credentialsFile` (set from the BSL's spec.credential): the shared-credentials file of
//      Velero's `cloud` secret, profile `profile` (default "default").
//   2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from the environment.
//   3. AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials, profile `profile`, else
//      AWS_PROFILE, else "default".
// The environment and files are read through an injected Environment, so tests do not depend
// on the machine.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "http/retry.h"
#include "objstore/hash.h"
#include "objstore/object_store.h"
#include "objstore/sigv4.h"

namespace arca::objstore {

struct S3Config {
  BucketName bucket;
  // Velero's `prefix` inside the bucket. Kept for callers; the store itself does not apply it.
  std::string prefix;
  // The bucket's region. Empty means: discover it (AWS) or "us-east-1" (custom s3Url).
  std::string region;
  bool force_path_style = false;
  // The endpoint, e.g. "http://127.0.0.1:9000". Empty means AWS
  // (https://s3.<region>.amazonaws.com).
  std::string s3_url;
  // The endpoint written into pre-signed URLs, when clients reach the store by another name.
  std::string public_url;
  bool insecure_skip_tls_verify = false;
  // PEM text of the CA bundle to trust.
  std::string ca_cert;
  // The credentials profile; empty means AWS_PROFILE, else "default".
  std::string profile;
  std::string credentials_file;
  // "AES256" or "aws:kms"; ignored when kms_key_id is set (then it is aws:kms).
  std::string server_side_encryption;
  std::string kms_key_id;
  // A file with the 32-byte SSE-C key.
  std::string customer_key_encryption_file;
  // "secretName/key" of a Kubernetes Secret with the SSE-C key. The store cannot read Secrets;
  // the caller resolves it into `customer_key`.
  std::string customer_key_encryption_secret;
  // The 32-byte SSE-C key, once read.
  std::string customer_key;
  // Object tags "K1=V1&K2=V2", sent with every upload.
  std::string tagging;
  ChecksumAlgorithm checksum_algorithm = ChecksumAlgorithm::kCrc32;
  // Accepted for compatibility; only SigV4 is implemented.
  std::string signature_version;
  bool enable_shared_config = false;
};

// Parses a BSL config map. Unknown keys, malformed booleans and URLs, bad tagging, an unknown
// checksum algorithm and conflicting encryption settings are kInvalidArgument, with the key
// named in the message.
Result<S3Config> ParseS3Config(const std::map<std::string, std::string>& config);

// Arca's own transfer settings (not BSL keys).
struct S3Settings {
  static constexpr size_t kMinPartSize = size_t{5} * 1024 * 1024;
  // Uploads are backup tarballs, streamed: at most (3 + 1) x 5 MiB held, and up to 48.8 GiB per
  // object (10,000 parts), far beyond what etcd (8 GiB at most) can hold even stored twice.
  static constexpr size_t kDefaultPartSize = kMinPartSize;
  static constexpr int kDefaultConcurrency = 3;
  static constexpr int kMaxParts = 10000;

  // Bytes per multipart part, and the threshold above which uploads go multipart. At least
  // kMinPartSize. An upload holds at most (concurrency + 1) parts in memory.
  size_t part_size = kDefaultPartSize;
  // Parts uploaded at once.
  int concurrency = kDefaultConcurrency;
  http::RetryParams retry;
  // A limit on each request that has no body to stream (list, head, delete, small puts).
  std::chrono::milliseconds request_timeout{60'000};
};

// Where the store reads environment variables and files. Thread-safe.
class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::optional<std::string> Get(const std::string& name) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
};

// The real process environment and filesystem.
Environment& SystemEnvironment();

// Parses an AWS shared-credentials (or config) file and returns `profile`'s keys. `source` names
// the file in messages. Errors: kNotFound (no such profile, the message lists those present),
// kInvalidArgument (the profile lacks a key).
Result<Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                           std::string_view source);

// Finds the credentials for `config` in the order given at the top of this file. Errors:
// kFailedPrecondition when there are none anywhere, or the errors of ParseSharedCredentials and
// of reading the file.
Result<Credentials> ResolveCredentials(const S3Config& config, Environment& env);

// Reads `config.customer_key_encryption_file` into `config.customer_key` when set, checking it
// is 32 bytes.
Status LoadCustomerKey(S3Config& config, Environment& env);

}  // namespace arca::objstore
