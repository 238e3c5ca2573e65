// FakeObjectStore: an in-memory ObjectStore for unit tests of code that keeps things in object
// storage, with S3's semantics (any non-empty key, lexicographic listing, common prefixes,
// continuation tokens, deleting a missing key succeeds) and fault injection: FailNext makes the
// next matching calls fail with a chosen Status. Thread-safe. Header-only; include it as
// "test/fakes/fake_object_store.h" with the repository root on the include path.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>

#include "objstore/object_store.h"

namespace arca::objstore::testing {

class FakeObjectStore : public ObjectStore {
 public:
  enum class Method { kPut, kGet, kHead, kExists, kList, kDelete, kPresign };

  // The next `count` calls of `method` whose key (or list prefix) contains `key_part` fail with
  // `status` instead of running.
  void FailNext(Method method, Status status, int count = 1, std::string key_part = "") {
    const std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back({method, std::move(status), count, std::move(key_part)});
  }

  // How many times `method` was called (failed calls included).
  int Calls(Method method) {
    const std::lock_guard<std::mutex> lock(mu_);
    return calls_[method];
  }

  // The stored objects, key to bytes.
  std::map<std::string, std::string> Objects() {
    const std::lock_guard<std::mutex> lock(mu_);
    return objects_;
  }

  std::string Describe() const override { return "fake://memory"; }

  using ObjectStore::Put;
  Status Put(const ObjectKey& key, const ObjectReader& reader, const PutOptions&) override {
    RETURN_IF_ERROR(Enter(Method::kPut, key.value()));
    std::string data;
    std::string buffer(64 * 1024, '\0');
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader(std::span<char>(buffer)));
      if (n == 0) {
        break;
      }
      data.append(buffer.data(), std::min(n, buffer.size()));
    }
    const std::lock_guard<std::mutex> lock(mu_);
    objects_[key.value()] = std::move(data);
    return OkStatus();
  }

  Result<ObjectInfo> Get(const ObjectKey& key, const ObjectSink& sink) override {
    RETURN_IF_ERROR(Enter(Method::kGet, key.value()));
    ASSIGN_OR_RETURN(ObjectInfo info, Find(key));
    std::string data;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      data = objects_[key.value()];
    }
    RETURN_IF_ERROR(sink(data));
    return info;
  }

  Result<ObjectInfo> Head(const ObjectKey& key) override {
    RETURN_IF_ERROR(Enter(Method::kHead, key.value()));
    return Find(key);
  }

  Result<bool> Exists(const ObjectKey& key) override {
    RETURN_IF_ERROR(Enter(Method::kExists, key.value()));
    const std::lock_guard<std::mutex> lock(mu_);
    return objects_.contains(key.value());
  }

  Result<ListPage> List(const ListOptions& options) override {
    RETURN_IF_ERROR(Enter(Method::kList, options.prefix));
    if (options.max_keys <= 0) {
      return InvalidArgumentError("max_keys must be positive");
    }
    const int max_keys = std::min(options.max_keys, 1000);
    std::string after =
        options.continuation_token.empty() ? options.start_after : options.continuation_token;
    const std::lock_guard<std::mutex> lock(mu_);
    ListPage page;
    int count = 0;
    for (auto it = objects_.upper_bound(after); it != objects_.end(); ++it) {
      const std::string& key = it->first;
      if (!key.starts_with(options.prefix)) {
        if (key > options.prefix) {
          break;
        }
        continue;
      }
      const size_t d = options.delimiter.empty()
                           ? std::string::npos
                           : key.find(options.delimiter, options.prefix.size());
      std::string entry =
          d == std::string::npos ? key : key.substr(0, d + options.delimiter.size());
      if (d != std::string::npos && !page.common_prefixes.empty() &&
          page.common_prefixes.back() == entry) {
        continue;
      }
      if (count == max_keys) {
        page.next_continuation_token = after;
        break;
      }
      if (d == std::string::npos) {
        page.objects.push_back(InfoLocked(key));
        after = key;
      } else {
        page.common_prefixes.push_back(entry);
        // Resume after every key under this prefix: the prefix followed by the highest byte.
        after = entry + std::string(1, '\xff');
      }
      ++count;
    }
    return page;
  }

  Status Delete(const ObjectKey& key) override {
    RETURN_IF_ERROR(Enter(Method::kDelete, key.value()));
    const std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(key.value());
    return OkStatus();
  }

  Status DeleteMany(std::span<const ObjectKey> keys) override {
    for (const ObjectKey& key : keys) {
      RETURN_IF_ERROR(Delete(key));
    }
    return OkStatus();
  }

  Result<std::string> PresignGet(const ObjectKey& key, std::chrono::seconds expiry) override {
    RETURN_IF_ERROR(Enter(Method::kPresign, key.value()));
    ASSIGN_OR_RETURN(ObjectInfo info, Find(key));
    static_cast<void>(info);
    return "fake://memory/" + key.value() + "?expires=" + std::to_string(expiry.count());
  }

 private:
  struct Fault {
    Method method;
    Status status;
    int remaining;
    std::string key_part;
  };

  Status Enter(Method method, const std::string& key) {
    const std::lock_guard<std::mutex> lock(mu_);
    ++calls_[method];
    for (Fault& f : faults_) {
      if (f.method == method && f.remaining > 0 && key.find(f.key_part) != std::string::npos) {
        --f.remaining;
        return f.status;
      }
    }
    if (key.empty() && method != Method::kList) {
      return InvalidArgumentError("an object key cannot be empty");
    }
    return OkStatus();
  }

  Result<ObjectInfo> Find(const ObjectKey& key) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (!objects_.contains(key.value())) {
      return NotFoundError("object '" + key.value() + "' not found in fake://memory (NoSuchKey)");
    }
    return InfoLocked(key.value());
  }

  ObjectInfo InfoLocked(const std::string& key) const {
    ObjectInfo info;
    info.key = ObjectKey(key);
    info.size = objects_.at(key).size();
    info.etag = std::to_string(std::hash<std::string>{}(objects_.at(key)));
    return info;
  }

  std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::map<Method, int> calls_;
  std::vector<Fault> faults_;
};

}  // namespace arca::objstore::testing
