// File: objstore/fs_store.h
//
// FsStore: an ObjectStore in a local directory, Arca's embedded default. The directory is laid
// out exactly like the bucket: the object "backups/b1/velero-backup.json" is the file
// <root>/backups/b1/velero-backup.json, so a bucket synced to disk (`aws s3 sync`) can be opened
// as a store and the other way round.
//
// Writes are atomic: the bytes go to a temporary file in the target directory, which is
// fsync'ed and renamed over the final name, and then the directory is fsync'ed. A crash leaves
// either the old object or the new one under the key, never a part of one. Temporary files are
// named ".arca-tmp-*" and never listed.
//
// Keys that cannot be stored faithfully in a directory are refused with kInvalidArgument: empty
// keys, keys with NUL bytes, absolute keys, keys with empty, "." or ".." segments (so no key can
// escape the root), keys ending in '/', and keys with a segment starting ".arca-tmp-". A key that
// needs an existing object as a directory ("a/b" when "a" is an object) is kFailedPrecondition.
//
// Directories left empty by Delete are removed, so listings match S3's.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "objstore/object_store.h"

namespace arca::objstore {

class FsStore : public ObjectStore {
 public:
  // Opens the store rooted at `root`, creating the directory when `create` is true.
  // Errors: kNotFound when `root` does not exist and `create` is false; kFailedPrecondition
  // when it is not a directory.
  static Result<std::unique_ptr<FsStore>> Open(const std::filesystem::path& root, bool create);

  std::string Describe() const override;
  using ObjectStore::Put;
  Status Put(const ObjectKey& key, const ObjectReader& reader, const PutOptions& options) override;
  Result<ObjectInfo> Get(const ObjectKey& key, const ObjectSink& sink) override;
  Result<ObjectInfo> Head(const ObjectKey& key) override;
  Result<bool> Exists(const ObjectKey& key) override;
  Result<ListPage> List(const ListOptions& options) override;
  Status Delete(const ObjectKey& key) override;
  Status DeleteMany(std::span<const ObjectKey> keys) override;
  // A file:// URL to the object's file; `expiry` is ignored.
  Result<std::string> PresignGet(const ObjectKey& key, std::chrono::seconds expiry) override;

  const std::filesystem::path& Root() const { return root_; }

 private:
  explicit FsStore(std::filesystem::path root) : root_(std::move(root)) {}

  Status CheckRoot() const;

  std::filesystem::path root_;
};

// OK when FsStore can store `key` (see the rules at the top of this file).
Status ValidateFsKey(std::string_view key);

// The prefix of FsStore's temporary files.
inline constexpr std::string_view kFsTempPrefix = ".arca-tmp-";

}  // namespace arca::objstore
