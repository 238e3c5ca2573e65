// File: objstore/object_store.h
//
// ObjectStore: where Arca keeps backups. One interface, two implementations: FsStore (a local
// directory laid out like a bucket, the embedded default) and S3Store (AWS S3 and everything that
// speaks its API). A store is bound to one bucket when it is made; keys are relative to it.
//
// Errors are chosen by what the caller should do next:
//   kNotFound          the object or the bucket does not exist (the message says which).
//   kPermissionDenied  the credentials are refused; the message says where they came from.
//   kUnavailable       a transient failure that survived the store's own retries; retry later.
//   kInvalidArgument   a bad key, option or configuration.
//   kDataLoss          the bytes read or written did not match their checksum.
// Messages carry the store's own error code and request id when it gives them, e.g.
//   "bucket 'velero' not found at endpoint http://127.0.0.1:9000 (NoSuchBucket, request id 17A...)"
//
// Thread-safety: all methods may be called from many threads at once.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::objstore {

// A bucket name. A tagged string, so a bucket cannot be passed where a key is expected.
class BucketName {
 public:
  BucketName() = default;
  explicit BucketName(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  friend auto operator<=>(const BucketName&, const BucketName&) = default;

 private:
  std::string value_;
};

// An object key: a UTF-8 path-like name such as "backups/b1/velero-backup.json".
class ObjectKey {
 public:
  ObjectKey() = default;
  explicit ObjectKey(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  friend auto operator<=>(const ObjectKey&, const ObjectKey&) = default;

 private:
  std::string value_;
};

struct ObjectInfo {
  ObjectKey key;
  uint64_t size = 0;
  // An opaque version tag. For S3 it is the ETag without quotes.
  std::string etag;
  std::chrono::system_clock::time_point last_modified;
};

// Fills `buffer` with the next bytes of an object and returns how many it wrote; 0 means the
// object is complete. Called from one thread at a time.
using ObjectReader = std::function<Result<size_t>(std::span<char> buffer)>;

// Receives the next chunk of an object, in order. Called from one thread at a time.
using ObjectSink = std::function<Status(std::string_view chunk)>;

struct PutOptions {
  // The object's size when known in advance (lets S3 pick a part size); -1 when not.
  int64_t size_hint = -1;
  std::string content_type = "application/octet-stream";
};

struct ListOptions {
  // Only keys that start with `prefix`.
  std::string prefix;
  // When not empty, keys with `delimiter` after the prefix are rolled up into one common prefix
  // ending in the delimiter, as S3 does.
  std::string delimiter;
  // Resume after a previous page: that page's `next_continuation_token`.
  std::string continuation_token;
  // Only keys after this one (ignored when `continuation_token` is set).
  std::string start_after;
  // Entries (objects and common prefixes) per page, 1 to 1000.
  int max_keys = 1000;
};

struct ListPage {
  // Objects in lexicographic (byte) order of key.
  std::vector<ObjectInfo> objects;
  // Common prefixes in lexicographic order, each ending in the delimiter.
  std::vector<std::string> common_prefixes;
  // Non-empty when more entries follow; pass it back in ListOptions::continuation_token.
  std::string next_continuation_token;
};

class ObjectStore {
 public:
  // S3's DeleteObjects limit. DeleteMany accepts any number and batches them.
  static constexpr size_t kMaxDeleteBatch = 1000;

  virtual ~ObjectStore() = default;

  // A short description for messages and logs, e.g. "s3://velero at http://127.0.0.1:9000".
  virtual std::string Describe() const = 0;

  // Writes the object `key` from `reader`, replacing any object of that name. The object is
  // either written whole or not at all. Memory use is bounded whatever the size.
  // @param key     the object's name; see each store for the keys it refuses.
  // @param reader  the bytes, read until it returns 0.
  // @return OK, or an error listed at the top of this file, or the reader's own error.
  virtual Status Put(const ObjectKey& key, const ObjectReader& reader,
                     const PutOptions& options) = 0;
  Status Put(const ObjectKey& key, const ObjectReader& reader) { return Put(key, reader, {}); }
  // Convenience for small in-memory objects.
  Status PutString(const ObjectKey& key, std::string_view data);

  // Streams the object `key` to `sink`.
  // @return the object's metadata; kNotFound when it does not exist; kDataLoss when the bytes do
  //         not match the store's checksum; or the sink's own error.
  virtual Result<ObjectInfo> Get(const ObjectKey& key, const ObjectSink& sink) = 0;
  // Convenience for small objects: the whole body as a string.
  Result<std::string> GetString(const ObjectKey& key);

  // The object's metadata without its body; kNotFound when it does not exist.
  virtual Result<ObjectInfo> Head(const ObjectKey& key) = 0;

  // Whether the object exists. A missing bucket is an error (kNotFound), not `false`.
  virtual Result<bool> Exists(const ObjectKey& key) = 0;

  // One page of keys, see ListOptions. An empty result is not an error.
  virtual Result<ListPage> List(const ListOptions& options) = 0;

  // Every object and common prefix under `prefix`, following continuation tokens.
  Result<ListPage> ListAll(std::string_view prefix, std::string_view delimiter);

  // Removes the object. Removing an object that does not exist succeeds, as in S3.
  virtual Status Delete(const ObjectKey& key) = 0;

  // Removes every object in `keys` (any number; S3 gets them in batches of kMaxDeleteBatch).
  // Keys that do not exist are not errors. On failure the message names how many keys failed
  // and the first failure.
  virtual Status DeleteMany(std::span<const ObjectKey> keys) = 0;

  // A URL that lets anyone holding it GET the object for `expiry` (S3 allows at most 7 days).
  // FsStore returns a file:// URL that does not expire.
  virtual Result<std::string> PresignGet(const ObjectKey& key, std::chrono::seconds expiry) = 0;
};

using ObjectStorePtr = std::unique_ptr<ObjectStore>;

// An ObjectReader over an in-memory string that must outlive the reader.
ObjectReader StringReader(std::string_view data);

}  // namespace arca::objstore
