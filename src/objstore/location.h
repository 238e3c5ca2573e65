// File: objstore/location.h
//
// Where a backup storage location's objects live, named by one URL, and the prefix inside it.
//
//   file:///var/backups/arca           a local directory (the embedded default); created if absent
//   file:///var/backups/arca?prefix=p  the same, under the sub-folder p
//   s3://bucket                        an S3 bucket, credentials as Velero's AWS plugin finds them
//   s3://bucket/some/prefix?region=us-east-2&s3Url=http://127.0.0.1:9000&s3ForcePathStyle=true
//
// The query parameters of an s3:// URL are BackupStorageLocation config keys for the AWS provider
// (objstore/s3_config.h): region, s3Url, s3ForcePathStyle, insecureSkipTLSVerify, caCert (a file
// path here, read into the CA bundle), profile, credentialsFile, serverSideEncryption, kmsKeyId,
// checksumAlgorithm, tagging, ... Values are percent-decoded. An unknown key is an error that
// names it.
//
// A location's prefix (Velero's BSL `objectStorage.prefix`) is applied by PrefixedStore, so that
// the engines always see keys relative to the location's root: "backups/<name>/...".
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "objstore/object_store.h"
#include "objstore/s3_config.h"

namespace arca::objstore {

struct LocationUrl {
  enum class Kind { kFilesystem, kS3 };
  Kind kind = Kind::kFilesystem;
  std::string path;                           // kFilesystem: the directory (absolute)
  std::string bucket;                         // kS3
  std::string prefix;                         // without leading or trailing '/'; may be empty
  std::map<std::string, std::string> config;  // kS3: BSL config keys from the query
};

// Parses a location URL. kInvalidArgument with the reason and an example of a valid URL.
Result<LocationUrl> ParseLocationUrl(std::string_view url);

// Opens the store a URL names, wrapped in a PrefixedStore when it has a prefix. For S3, the
// credentials and files are read through `env` (SystemEnvironment() in production).
Result<ObjectStorePtr> OpenLocation(const LocationUrl& location, Environment& env, Clock& clock);

// Every key of `inner` seen under "<prefix>/". Keys passed in are relative; keys returned (List)
// are relative again; common prefixes likewise.
class PrefixedStore : public ObjectStore {
 public:
  // REQUIRES: `prefix` is not empty and has no leading or trailing '/'.
  PrefixedStore(ObjectStorePtr inner, std::string prefix);

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

 private:
  ObjectKey Full(const ObjectKey& key) const;
  ObjectInfo Relative(ObjectInfo info) const;

  ObjectStorePtr inner_;
  std::string prefix_;  // with a trailing '/'
};

}  // namespace arca::objstore
