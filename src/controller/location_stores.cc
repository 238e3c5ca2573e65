#include "controller/location_stores.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "kube/encoding.h"
#include "objstore/fs_store.h"
#include "objstore/location.h"
#include "objstore/s3_store.h"

namespace arca::controller {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == '/') {
    s.erase(0, 1);
  }
  while (!s.empty() && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

// The process environment, plus files served from memory (credentials from a Secret).
class OverlayEnvironment : public objstore::Environment {
 public:
  OverlayEnvironment(objstore::Environment& base, std::map<std::string, std::string> files)
      : base_(base), files_(std::move(files)) {}
  std::optional<std::string> Get(const std::string& name) override { return base_.Get(name); }
  Result<std::string> ReadFile(const std::string& path) override {
    if (auto it = files_.find(path); it != files_.end()) {
      return it->second;
    }
    return base_.ReadFile(path);
  }

 private:
  objstore::Environment& base_;
  std::map<std::string, std::string> files_;
};

objstore::ObjectStorePtr WithPrefix(objstore::ObjectStorePtr store, const std::string& prefix) {
  const std::string p = Trim(prefix);
  if (p.empty()) {
    return store;
  }
  return std::make_unique<objstore::PrefixedStore>(std::move(store), p);
}

}  // namespace

Status ValidateLocationSpec(const api::BackupStorageLocation& bsl) {
  if (bsl.spec.provider.empty()) {
    return InvalidArgumentError("spec.provider is empty: set it to aws or filesystem");
  }
  const std::string bucket = Trim(bsl.spec.object_storage.bucket);
  if (bucket.empty()) {
    return InvalidArgumentError("spec.objectStorage.bucket is empty: name the bucket");
  }
  if (bucket.find('/') != std::string::npos) {
    return InvalidArgumentError("spec.objectStorage.bucket \"" + bucket +
                                "\" contains '/': put the path inside the bucket in "
                                "spec.objectStorage.prefix");
  }
  if (!bsl.spec.object_storage.ca_cert.empty() && bsl.spec.object_storage.ca_cert_ref) {
    return InvalidArgumentError(
        "spec.objectStorage.caCert and spec.objectStorage.caCertRef are both set: keep one");
  }
  return OkStatus();
}

ClusterLocationStores::ClusterLocationStores(kube::Client& client, std::string namespace_name,
                                             Clock& clock, objstore::Environment& env)
    : client_(client), namespace_(std::move(namespace_name)), clock_(clock), env_(env) {}

Result<std::string> ClusterLocationStores::ReadSecretKey(const api::SecretKeySelector& selector) {
  kube::ResourceRef ref;
  ref.gvr = {"", "v1", "secrets"};
  ref.namespace_name = namespace_;
  ref.name = selector.name;
  const std::string what = "secret " + namespace_ + "/" + selector.name;
  Result<std::string> text = client_.Get(ref);
  if (!text.ok()) {
    return Status(text.status().code(), what + ": " + text.status().message());
  }
  nlohmann::json secret = nlohmann::json::parse(*text, nullptr, false);
  const nlohmann::json* data = nullptr;
  if (secret.is_object() && secret.contains("data") && secret["data"].is_object()) {
    data = &secret["data"];
  }
  if (data == nullptr || !data->contains(selector.key) || !(*data)[selector.key].is_string()) {
    return NotFoundError(what + " has no key \"" + selector.key + "\"");
  }
  Result<std::string> decoded = kube::Base64Decode((*data)[selector.key].get<std::string>());
  if (!decoded.ok()) {
    return InvalidArgumentError(what + " key \"" + selector.key + "\" is not valid base64");
  }
  return *decoded;
}

Result<objstore::ObjectStorePtr> ClusterLocationStores::Open(
    const api::BackupStorageLocation& bsl) {
  RETURN_IF_ERROR(ValidateLocationSpec(bsl));
  const std::string bucket = Trim(bsl.spec.object_storage.bucket);
  const std::string& provider = bsl.spec.provider;
  if (provider == "filesystem") {
    auto root = bsl.spec.config.find("root");
    if (root == bsl.spec.config.end() || root->second.empty() || root->second.front() != '/') {
      return InvalidArgumentError(
          "spec.config.root must be an absolute directory for the filesystem provider");
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(root->second, ec)) {
      return NotFoundError("spec.config.root \"" + root->second +
                           "\" is not an existing directory: create it or fix the path");
    }
    ASSIGN_OR_RETURN(auto fs, objstore::FsStore::Open(std::filesystem::path(root->second) / bucket,
                                                      /*create=*/true));
    return WithPrefix(std::move(fs), bsl.spec.object_storage.prefix);
  }
  if (provider != "aws" && provider != "velero.io/aws") {
    return InvalidArgumentError("spec.provider \"" + provider +
                                "\" is not supported; use aws (S3 and compatible stores) or "
                                "filesystem");
  }
  std::map<std::string, std::string> config = bsl.spec.config;
  config.erase("prefix");  // applied by PrefixedStore
  config["bucket"] = bucket;
  std::map<std::string, std::string> files;
  if (bsl.spec.credential) {
    ASSIGN_OR_RETURN(std::string creds, ReadSecretKey(*bsl.spec.credential));
    const std::string path = "<secret " + namespace_ + "/" + bsl.spec.credential->name + " key " +
                             bsl.spec.credential->key + ">";
    files[path] = std::move(creds);
    config["credentialsFile"] = path;
  }
  if (!bsl.spec.object_storage.ca_cert.empty()) {
    Result<std::string> pem = kube::Base64Decode(bsl.spec.object_storage.ca_cert);
    if (!pem.ok()) {
      return InvalidArgumentError("spec.objectStorage.caCert is not valid base64");
    }
    config["caCert"] = *pem;
  } else if (bsl.spec.object_storage.ca_cert_ref) {
    ASSIGN_OR_RETURN(config["caCert"], ReadSecretKey(*bsl.spec.object_storage.ca_cert_ref));
  }
  OverlayEnvironment env(env_, std::move(files));
  ASSIGN_OR_RETURN(auto s3, objstore::S3Store::Create(config, objstore::S3Settings{}, env, clock_));
  return WithPrefix(std::move(s3), bsl.spec.object_storage.prefix);
}

Status ValidateStore(objstore::ObjectStore& store) {
  ASSIGN_OR_RETURN(objstore::ListPage page, store.ListAll("", "/"));
  static const char* const kValid[] = {"backups/",  "restores/", "restic/",
                                       "metadata/", "plugins/",  "kopia/"};
  std::vector<std::string> invalid;
  for (const std::string& p : page.common_prefixes) {
    bool ok = false;
    for (const char* v : kValid) {
      ok = ok || p == v;
    }
    if (!ok) {
      invalid.push_back(p.substr(0, p.size() - 1));
    }
  }
  if (invalid.empty()) {
    return OkStatus();
  }
  std::string list;
  for (size_t i = 0; i < invalid.size() && i < 3; ++i) {
    list += (i == 0 ? "" : " ") + invalid[i];
  }
  if (invalid.size() > 3) {
    list += " ...";
  }
  return FailedPreconditionError("Backup store contains invalid top-level directories: [" + list +
                                 "]");
}

}  // namespace arca::controller
