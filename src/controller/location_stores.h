// File: controller/location_stores.h
//
// LocationStores: opens the object store a BackupStorageLocation names, with keys relative to
// the location's root (its prefix applied), the way the engines and controllers want them.
//
// ClusterLocationStores is the real one. Providers:
//   aws, velero.io/aws  S3 (objstore::S3Store) with the BSL's config keys; spec.credential's
//                       Secret key is read from the API server and handed to the store as its
//                       credentials file (served from memory through an objstore::Environment,
//                       never written to disk); objectStorage.caCert / caCertRef as the CA bundle.
//   filesystem          config.root (an absolute directory that must exist); the store's root is
//                       <root>/<bucket>, created when missing.
// Anything else is kInvalidArgument naming the supported providers.
//
// ValidateStore is Velero's IsValid: the top-level "directories" of the location's root must be
// among backups/, restores/, restic/, metadata/, plugins/, kopia/.
#pragma once

#include <memory>
#include <string>

#include "api/backup_storage_location.h"
#include "common/clock.h"
#include "common/status.h"
#include "kube/client.h"
#include "objstore/object_store.h"
#include "objstore/s3_config.h"

namespace arca::controller {

class LocationStores {
 public:
  virtual ~LocationStores() = default;
  // The store of `bsl`, rooted at its prefix. Errors: kInvalidArgument for a bad spec (the
  // message names the field), the secret's and the store's own errors.
  virtual Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation& bsl) = 0;
};

class ClusterLocationStores : public LocationStores {
 public:
  // Secrets are read from `namespace_name`. Every reference must outlive this object.
  ClusterLocationStores(kube::Client& client, std::string namespace_name, Clock& clock,
                        objstore::Environment& env);

  Result<objstore::ObjectStorePtr> Open(const api::BackupStorageLocation& bsl) override;

 private:
  Result<std::string> ReadSecretKey(const api::SecretKeySelector& selector);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  objstore::Environment& env_;
};

// Checks the location's root holds only Velero's top-level directories. kFailedPrecondition
// "Backup store contains invalid top-level directories: [a b c ...]" otherwise; the store's
// errors (a missing bucket, refused credentials) as they are.
Status ValidateStore(objstore::ObjectStore& store);

// Checks the parts of a spec Velero validates before opening: provider and bucket set, bucket
// without '/', not both caCert and caCertRef. kInvalidArgument naming the field.
Status ValidateLocationSpec(const api::BackupStorageLocation& bsl);

}  // namespace arca::controller
