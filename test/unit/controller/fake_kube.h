// File: test/unit/controller/fake_kube.h
//
// FakeKube: an in-memory Kubernetes API server for namespaced objects of any resource, behind the
// http::Transport interface, so that controller code runs on the real kube::Client in unit tests.
// It serves GET of objects and of collections (with equality label selectors), POST with name
// or generateName (409 AlreadyExists), PUT with resourceVersion checks (409 Conflict), JSON
// merge patches, DELETE (objects with finalizers get a deletionTimestamp and go when the last
// finalizer is removed), and DELETE of a collection by label selector. Watches answer with an
// empty stream. resourceVersion, uid and creationTimestamp are filled in as the API server does;
// `now` gives the creation time. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "http/transport.h"
#include "kube/connection.h"
#include "kube/encoding.h"

namespace arca::controller::testing {

class FakeKube : public http::Transport {
 public:
  static constexpr char kServer[] = "https://k8s.test";

  explicit FakeKube(Clock& clock) : clock_(clock) {}

  // Stores an object at /apis/<group>/<version>/namespaces/<ns>/<resource>/<name> (group ""
  // means /api/v1). Fills metadata as a create would.
  void Put(const std::string& group, const std::string& resource, const std::string& ns,
           nlohmann::json object, const std::string& version = "v1") {
    const std::lock_guard<std::mutex> lock(mu_);
    object["metadata"]["namespace"] = ns;
    Fill(object);
    objects_[Base(group, version, ns, resource) + "/" +
             object["metadata"]["name"].get<std::string>()] = object;
  }

  // The object, or null.
  nlohmann::json Get(const std::string& group, const std::string& resource, const std::string& ns,
                     const std::string& name, const std::string& version = "v1") {
    const std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(Base(group, version, ns, resource) + "/" + name);
    return it == objects_.end() ? nlohmann::json() : it->second;
  }

  // Names of the objects of a collection.
  std::vector<std::string> Names(const std::string& group, const std::string& resource,
                                 const std::string& ns, const std::string& version = "v1") {
    const std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    const std::string base = Base(group, version, ns, resource) + "/";
    for (const auto& [path, obj] : objects_) {
      if (path.starts_with(base) && path.find('/', base.size()) == std::string::npos) {
        out.push_back(path.substr(base.size()));
      }
    }
    return out;
  }

  // "METHOD path" of every request.
  std::vector<std::string> Requests() {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  // The next `count` requests whose "METHOD path" contains `part` answer `status` (e.g. 500).
  void FailNext(std::string part, int status, int count = 1) {
    const std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back({std::move(part), status, count});
  }

  using http::Transport::Send;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override {
    std::string url = request.url.substr(sizeof(kServer) - 1);
    std::string path = url;
    std::map<std::string, std::string> query;
    if (size_t q = url.find('?'); q != std::string::npos) {
      path = url.substr(0, q);
      std::stringstream ss(url.substr(q + 1));
      for (std::string kv; std::getline(ss, kv, '&');) {
        size_t eq = kv.find('=');
        query[kv.substr(0, eq)] = eq == std::string::npos ? "" : Unescape(kv.substr(eq + 1));
      }
    }
    http::Response resp;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      const std::string line = request.method + " " + path;
      requests_.push_back(line);
      resp = Fault(line);
      if (resp.status == 0) {
        resp = Serve(request.method, path, query, request.body);
      }
    }
    resp.headers.emplace_back("Content-Type", "application/json");
    if (sink != nullptr && resp.status >= 200 && resp.status < 300) {
      if (request.on_headers) {
        RETURN_IF_ERROR(request.on_headers(resp));
      }
      if (!resp.body.empty()) {
        RETURN_IF_ERROR((*sink)(resp.body));
      }
      resp.body.clear();
    }
    return resp;
  }

  // A kube::Connection on this fake (which must outlive it).
  static kube::ConnectionPtr Connect(FakeKube& fake, Clock& clock) {
    kube::RestConfig config;
    config.server = kServer;
    kube::ClientOptions options;
    options.qps = 0;
    options.retry.max_attempts = 1;
    auto conn = kube::Connection::OpenWithTransport(config, std::make_unique<Forwarder>(fake),
                                                    clock, options);
    return std::move(conn).value();
  }

 private:
  class Forwarder : public http::Transport {
   public:
    explicit Forwarder(FakeKube& fake) : fake_(fake) {}
    using http::Transport::Send;
    Result<http::Response> Send(const http::Request& r, const http::BodySink* s) override {
      return fake_.Send(r, s);
    }

   private:
    FakeKube& fake_;
  };

  struct FaultRule {
    std::string part;
    int status;
    int count;
  };

  static std::string Base(const std::string& group, const std::string& version,
                          const std::string& ns, const std::string& resource) {
    return (group.empty() ? "/api/" + version : "/apis/" + group + "/" + version) + "/namespaces/" +
           ns + "/" + resource;
  }

  static std::string Unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else if (s[i] == '+') {
        out += ' ';
      } else {
        out += s[i];
      }
    }
    return out;
  }

  static http::Response Reply(int status, const nlohmann::json& body) {
    http::Response r;
    r.status = status;
    r.body = body.dump();
    return r;
  }

  static http::Response Error(int code, const std::string& reason, const std::string& message) {
    return Reply(code, {{"kind", "Status"},
                        {"apiVersion", "v1"},
                        {"status", "Failure"},
                        {"message", message},
                        {"reason", reason},
                        {"code", code}});
  }

  http::Response Fault(const std::string& line) {
    for (FaultRule& f : faults_) {
      if (f.count > 0 && line.find(f.part) != std::string::npos) {
        --f.count;
        return Error(f.status, f.status == 500 ? "InternalError" : "Unknown", "injected fault");
      }
    }
    return {};
  }

  void Fill(nlohmann::json& object) {
    nlohmann::json& meta = object["metadata"];
    meta["resourceVersion"] = std::to_string(++version_);
    if (!meta.contains("uid")) {
      meta["uid"] = "uid-" + std::to_string(version_);
    }
    if (!meta.contains("creationTimestamp")) {
      meta["creationTimestamp"] = kube::FormatRfc3339(clock_.Now());
    }
  }

  static bool Matches(const nlohmann::json& obj, const std::string& selector) {
    if (selector.empty()) {
      return true;
    }
    const nlohmann::json labels = obj["metadata"].value("labels", nlohmann::json::object());
    std::stringstream ss(selector);
    for (std::string term; std::getline(ss, term, ',');) {
      size_t eq = term.find('=');
      const std::string k = term.substr(0, eq);
      const std::string v = term.substr(eq + 1);
      if (!labels.contains(k) || labels[k] != v) {
        return false;
      }
    }
    return true;
  }

  // Path of a collection ("/apis/g/v/namespaces/ns/res") and the name ("" for the collection).
  static void Split(const std::string& path, std::string& collection, std::string& name) {
    const size_t ns = path.find("/namespaces/");
    // After "/namespaces/<ns>/<resource>" an optional "/<name>".
    size_t p = path.find('/', ns + 12);  // end of <ns>
    size_t q = path.find('/', p + 1);    // end of <resource>
    if (q == std::string::npos) {
      collection = path;
      name.clear();
    } else {
      collection = path.substr(0, q);
      name = path.substr(q + 1);
    }
  }

  http::Response Serve(const std::string& method, const std::string& path,
                       const std::map<std::string, std::string>& query, const std::string& body) {
    if (path.find("/namespaces/") == std::string::npos) {
      return Error(404, "NotFound", "the fake serves namespaced objects only: " + path);
    }
    std::string collection;
    std::string name;
    Split(path, collection, name);
    const std::string selector = query.contains("labelSelector") ? query.at("labelSelector") : "";
    const std::string key = collection + "/" + name;
    const std::string what = collection.substr(collection.rfind('/') + 1) + " \"" + name + "\"";
    if (method == "GET" && name.empty()) {
      if (query.contains("watch")) {
        http::Response r;
        r.status = 200;
        return r;  // an empty watch stream
      }
      nlohmann::json items = nlohmann::json::array();
      for (const auto& [k, obj] : objects_) {
        if (k.starts_with(collection + "/") &&
            k.find('/', collection.size() + 1) == std::string::npos && Matches(obj, selector)) {
          items.push_back(obj);
        }
      }
      return Reply(200, {{"kind", "List"},
                         {"apiVersion", "v1"},
                         {"metadata", {{"resourceVersion", std::to_string(version_)}}},
                         {"items", items}});
    }
    if (method == "GET") {
      auto it = objects_.find(key);
      if (it == objects_.end()) {
        return Error(404, "NotFound", what + " not found");
      }
      return Reply(200, it->second);
    }
    if (method == "POST") {
      nlohmann::json obj = nlohmann::json::parse(body);
      nlohmann::json& meta = obj["metadata"];
      std::string n = meta.value("name", "");
      if (n.empty()) {
        n = meta.value("generateName", "") + std::to_string(++generated_);
        meta["name"] = n;
      }
      const std::string k = collection + "/" + n;
      if (objects_.contains(k)) {
        return Error(409, "AlreadyExists", "\"" + n + "\" already exists");
      }
      Fill(obj);
      objects_[k] = obj;
      return Reply(201, obj);
    }
    if (method == "DELETE" && name.empty()) {
      for (auto it = objects_.begin(); it != objects_.end();) {
        if (it->first.starts_with(collection + "/") && Matches(it->second, selector)) {
          it = objects_.erase(it);
        } else {
          ++it;
        }
      }
      return Reply(200, {{"kind", "Status"}, {"status", "Success"}});
    }
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      return Error(404, "NotFound", what + " not found");
    }
    nlohmann::json& stored = it->second;
    if (method == "PUT") {
      nlohmann::json obj = nlohmann::json::parse(body);
      if (obj["metadata"].value("resourceVersion", "") != stored["metadata"]["resourceVersion"]) {
        return Error(409, "Conflict",
                     "Operation cannot be fulfilled on " + what +
                         ": the object has been modified; please apply your changes to the "
                         "latest version and try again");
      }
      Fill(obj);
      stored = obj;
      return Reply(200, stored);
    }
    if (method == "PATCH") {
      stored.merge_patch(nlohmann::json::parse(body));
      Fill(stored);
      nlohmann::json out = stored;
      MaybeFinalize(it);
      return Reply(200, out);
    }
    if (method == "DELETE") {
      nlohmann::json out = stored;
      if (!stored["metadata"].value("finalizers", nlohmann::json::array()).empty()) {
        stored["metadata"]["deletionTimestamp"] = kube::FormatRfc3339(clock_.Now());
        Fill(stored);
        return Reply(200, stored);
      }
      objects_.erase(it);
      return Reply(200, out);
    }
    return Error(405, "MethodNotAllowed", method + " is not served by the fake");
  }

  void MaybeFinalize(std::map<std::string, nlohmann::json>::iterator it) {
    const nlohmann::json& meta = it->second["metadata"];
    if (meta.contains("deletionTimestamp") &&
        meta.value("finalizers", nlohmann::json::array()).empty()) {
      objects_.erase(it);
    }
  }

  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> objects_;  // path -> object
  std::vector<std::string> requests_;
  std::vector<FaultRule> faults_;
  int64_t version_ = 0;
  int generated_ = 0;
};

}  // namespace arca::controller::testing
