#include "objstore/location.h"

#include <filesystem>
#include <utility>

#include "http/uri.h"
#include "objstore/fs_store.h"
#include "objstore/s3_store.h"

namespace arca::objstore {
namespace {

constexpr char kExamples[] =
    "; expected file:///absolute/dir or "
    "s3://bucket[/prefix][?region=R&s3Url=http://host:port&s3ForcePathStyle=true]";

std::string TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == '/') {
    s.remove_suffix(1);
  }
  return std::string(s);
}

Status BadUrl(std::string_view url, std::string_view why) {
  return InvalidArgumentError("storage URL '" + std::string(url) + "': " + std::string(why) +
                              kExamples);
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view url,
                                                      std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return BadUrl(url, "query parameter '" + std::string(pair) + "' is not key=value");
    }
    auto key = http::UriDecode(pair.substr(0, eq), true);
    auto value = http::UriDecode(pair.substr(eq + 1), true);
    if (!key.ok() || !value.ok()) {
      return BadUrl(url, "query parameter '" + std::string(pair) + "' has a malformed %-escape");
    }
    if (!out.emplace(*key, *value).second) {
      return BadUrl(url, "query parameter '" + *key + "' is given twice");
    }
  }
  return out;
}

// The inner store would accept "<prefix>/" for an empty key; refuse it as every store does.
Status CheckKey(const ObjectKey& key) {
  if (key.value().empty()) {
    return InvalidArgumentError("an object key must not be empty");
  }
  return OkStatus();
}

}  // namespace

Result<LocationUrl> ParseLocationUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return BadUrl(url, "no scheme");
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  ASSIGN_OR_RETURN(auto params, ParseQuery(url, query));
  LocationUrl out;
  if (scheme == "file") {
    out.kind = LocationUrl::Kind::kFilesystem;
    if (rest.empty() || rest.front() != '/') {
      return BadUrl(url, "a file URL needs an absolute path (three slashes: file:///dir)");
    }
    auto path = http::UriDecode(rest, false);
    if (!path.ok()) {
      return BadUrl(url, "the path has a malformed %-escape");
    }
    out.path = *path;
    for (auto& [key, value] : params) {
      if (key != "prefix") {
        return BadUrl(url, "unknown parameter '" + key + "' (a file URL takes only 'prefix')");
      }
      out.prefix = TrimSlashes(value);
    }
    return out;
  }
  if (scheme == "s3") {
    out.kind = LocationUrl::Kind::kS3;
    const size_t slash = rest.find('/');
    out.bucket = std::string(rest.substr(0, slash));
    if (out.bucket.empty()) {
      return BadUrl(url, "no bucket name");
    }
    if (slash != std::string_view::npos) {
      auto prefix = http::UriDecode(rest.substr(slash + 1), false);
      if (!prefix.ok()) {
        return BadUrl(url, "the prefix has a malformed %-escape");
      }
      out.prefix = TrimSlashes(*prefix);
    }
    if (params.contains("bucket") || params.contains("prefix")) {
      return BadUrl(url, "give the bucket and prefix in the path, not as parameters");
    }
    out.config = std::move(params);
    return out;
  }
  return BadUrl(url, "unknown scheme '" + std::string(scheme) + "'");
}

Result<ObjectStorePtr> OpenLocation(const LocationUrl& location, Environment& env, Clock& clock) {
  ObjectStorePtr store;
  if (location.kind == LocationUrl::Kind::kFilesystem) {
    ASSIGN_OR_RETURN(auto fs, FsStore::Open(location.path, /*create=*/true));
    store = std::move(fs);
  } else {
    std::map<std::string, std::string> config = location.config;
    config["bucket"] = location.bucket;
    if (auto ca = config.find("caCert"); ca != config.end()) {
      // In a URL, caCert names a PEM file; the BSL config carries the PEM text itself.
      auto pem = env.ReadFile(ca->second);
      if (!pem.ok()) {
        return Status(pem.status().code(),
                      "caCert file '" + ca->second + "': " + pem.status().message());
      }
      ca->second = *pem;
    }
    ASSIGN_OR_RETURN(auto s3, S3Store::Create(config, S3Settings{}, env, clock));
    store = std::move(s3);
  }
  if (location.prefix.empty()) {
    return store;
  }
  return ObjectStorePtr(std::make_unique<PrefixedStore>(std::move(store), location.prefix));
}

PrefixedStore::PrefixedStore(ObjectStorePtr inner, std::string prefix)
    : inner_(std::move(inner)), prefix_(std::move(prefix) + "/") {}

std::string PrefixedStore::Describe() const {
  return inner_->Describe() + " under prefix '" + prefix_ + "'";
}

ObjectKey PrefixedStore::Full(const ObjectKey& key) const {
  return ObjectKey(prefix_ + key.value());
}

ObjectInfo PrefixedStore::Relative(ObjectInfo info) const {
  if (info.key.value().starts_with(prefix_)) {
    info.key = ObjectKey(info.key.value().substr(prefix_.size()));
  }
  return info;
}

Status PrefixedStore::Put(const ObjectKey& key, const ObjectReader& reader,
                          const PutOptions& options) {
  RETURN_IF_ERROR(CheckKey(key));
  return inner_->Put(Full(key), reader, options);
}

Result<ObjectInfo> PrefixedStore::Get(const ObjectKey& key, const ObjectSink& sink) {
  RETURN_IF_ERROR(CheckKey(key));
  ASSIGN_OR_RETURN(ObjectInfo info, inner_->Get(Full(key), sink));
  return Relative(std::move(info));
}

Result<ObjectInfo> PrefixedStore::Head(const ObjectKey& key) {
  RETURN_IF_ERROR(CheckKey(key));
  ASSIGN_OR_RETURN(ObjectInfo info, inner_->Head(Full(key)));
  return Relative(std::move(info));
}

Result<bool> PrefixedStore::Exists(const ObjectKey& key) {
  RETURN_IF_ERROR(CheckKey(key));
  return inner_->Exists(Full(key));
}

Result<ListPage> PrefixedStore::List(const ListOptions& options) {
  ListOptions inner_options = options;
  inner_options.prefix = prefix_ + options.prefix;
  if (!options.start_after.empty()) {
    inner_options.start_after = prefix_ + options.start_after;
  }
  ASSIGN_OR_RETURN(ListPage page, inner_->List(inner_options));
  for (ObjectInfo& info : page.objects) {
    info = Relative(std::move(info));
  }
  for (std::string& common : page.common_prefixes) {
    if (common.starts_with(prefix_)) {
      common.erase(0, prefix_.size());
    }
  }
  return page;
}

Status PrefixedStore::Delete(const ObjectKey& key) {
  RETURN_IF_ERROR(CheckKey(key));
  return inner_->Delete(Full(key));
}

Status PrefixedStore::DeleteMany(std::span<const ObjectKey> keys) {
  std::vector<ObjectKey> full;
  full.reserve(keys.size());
  for (const ObjectKey& key : keys) {
    RETURN_IF_ERROR(CheckKey(key));
    full.push_back(Full(key));
  }
  return inner_->DeleteMany(full);
}

Result<std::string> PrefixedStore::PresignGet(const ObjectKey& key, std::chrono::seconds expiry) {
  RETURN_IF_ERROR(CheckKey(key));
  return inner_->PresignGet(Full(key), expiry);
}

}  // namespace arca::objstore
