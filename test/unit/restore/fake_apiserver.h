// FakeApiServer: an in-memory Kubernetes API server behind the http::Transport interface, for
// unit tests of code that writes objects (the restore engine). It serves the discovery documents
// recorded from the test environment (test/testdata/kube/discovery), and keeps objects by group,
// resource, namespace and name: POST creates (409 AlreadyExists for a taken name), GET reads or
// lists, PUT replaces (also /status), PATCH applies a JSON merge patch, DELETE removes. The server
// adds uid, resourceVersion and creationTimestamp, and appends its own managedFields entry to a
// created object that brings managedFields, as the real server does. A created Service gets the
// fields the real server allocates when the body lacks them (spec.clusterIPs from clusterIP,
// spec.ipFamilies of the cluster's family, spec.ipFamilyPolicy SingleStack). Faults: the next N
// creates can be answered 429. Thread-safe; counts requests by method, and by method and
// resource.
#pragma once

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/transport.h"

namespace arca::restore::testing {

class FakeApiServer : public http::Transport {
 public:
  using Json = nlohmann::json;
  static constexpr char kServer[] = "https://fake-apiserver:6443";

  explicit FakeApiServer(const std::string& testdata_dir) {
    api_ = ReadFile(testdata_dir + "/kube/discovery/api-agg.json");
    apis_ = ReadFile(testdata_dir + "/kube/discovery/apis-agg.json");
  }

  using http::Transport::Send;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override {
    http::Response resp = Handle(request);
    if (sink != nullptr && resp.status >= 200 && resp.status < 300) {
      RETURN_IF_ERROR((*sink)(resp.body));
      resp.body.clear();
    }
    return resp;
  }

  // Stores an object directly (as if it existed before the restore).
  void Put(const std::string& group, const std::string& resource, const std::string& ns,
           const Json& object) {
    const std::lock_guard<std::mutex> lock(mu_);
    objects_[Key(group, resource, ns, object["metadata"]["name"].get<std::string>())] = object;
  }
  // The stored object, or null.
  Json Object(const std::string& group, const std::string& resource, const std::string& ns,
              const std::string& name) {
    const std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(Key(group, resource, ns, name));
    return it == objects_.end() ? Json() : it->second;
  }
  // Names of the objects of a type, "ns/name" (or "name"), sorted.
  std::vector<std::string> Names(const std::string& group, const std::string& resource) {
    const std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    const std::string prefix = group + "|" + resource + "|";
    for (const auto& [k, v] : objects_) {
      if (k.rfind(prefix, 0) == 0) {
        std::string rest = k.substr(prefix.size());
        const auto bar = rest.find('|');
        const std::string ns = rest.substr(0, bar);
        out.push_back((ns.empty() ? "" : ns + "/") + rest.substr(bar + 1));
      }
    }
    return out;
  }
  // The order in which objects were created: "resource ns/name".
  std::vector<std::string> CreationOrder() {
    const std::lock_guard<std::mutex> lock(mu_);
    return creation_order_;
  }
  int Requests(const std::string& method) {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_[method];
  }
  // Requests of one method to one resource ("GET", "namespaces"), whatever the name.
  int Requests(const std::string& method, const std::string& resource) {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_[method + " " + resource];
  }
  // The bodies of the creates of a resource, in order (also the refused ones).
  std::vector<Json> CreateBodies(const std::string& resource) {
    const std::lock_guard<std::mutex> lock(mu_);
    return create_bodies_[resource];
  }
  // The IP family a created Service gets when its body names none ("IPv4" unless set).
  void SetServiceIpFamily(const std::string& family) {
    const std::lock_guard<std::mutex> lock(mu_);
    ip_family_ = family;
  }
  // The stored object goes away at the `reads`-th GET of it (as a terminating namespace does).
  void RemoveAfterReads(const std::string& group, const std::string& resource,
                        const std::string& ns, const std::string& name, int reads) {
    const std::lock_guard<std::mutex> lock(mu_);
    remove_after_reads_[Key(group, resource, ns, name)] = reads;
  }
  // How many times the discovery documents were fetched (GET /apis).
  int DiscoveryFetches() {
    const std::lock_guard<std::mutex> lock(mu_);
    return discovery_fetches_;
  }
  // A created CustomResourceDefinition is Established at once, and its resource appears in the
  // discovery documents only from the `n`-th fetch of /apis after its creation (as the API server
  // publishes a new type on its own schedule).
  void PublishCrdsAfterFetches(int n) {
    const std::lock_guard<std::mutex> lock(mu_);
    publish_after_fetches_ = n;
  }
  // The next `n` creates are answered 429 Too Many Requests.
  void Fail429(int n) { fail_429_ = n; }
  // The highest number of creates that were in the server at once.
  int MaxConcurrentCreates() const { return max_concurrent_; }
  // Makes each create wait this long (real time), so that concurrency can be observed.
  void SetCreateDelayMicros(int us) { create_delay_us_ = us; }

 private:
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static std::string Key(const std::string& group, const std::string& resource,
                         const std::string& ns, const std::string& name) {
    return group + "|" + resource + "|" + ns + "|" + name;
  }
  static http::Response Reply(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = {{"content-type", "application/json"}};
    return r;
  }
  static http::Response StatusReply(int code, const std::string& reason,
                                    const std::string& message) {
    Json s = {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
              {"message", message}, {"reason", reason},   {"code", code}};
    return Reply(code, s.dump());
  }
  static void MergePatch(Json& target, const Json& patch) {
    if (!patch.is_object()) {
      target = patch;
      return;
    }
    if (!target.is_object()) {
      target = Json::object();
    }
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null()) {
        target.erase(k);
      } else {
        MergePatch(target[k], v);
      }
    }
  }

  http::Response Handle(const http::Request& request) {
    std::string path = request.url.substr(std::string(kServer).size());
    if (auto q = path.find('?'); q != std::string::npos) {
      path = path.substr(0, q);
    }
    {
      const std::lock_guard<std::mutex> lock(mu_);
      ++requests_[request.method];
      if (path == "/apis") {
        ++discovery_fetches_;
        PublishDueCrds();
      }
    }
    if (path == "/api") {
      return Reply(200, api_);
    }
    if (path == "/apis") {
      const std::lock_guard<std::mutex> lock(mu_);
      return Reply(200, apis_);
    }
    std::vector<std::string> segs;
    std::stringstream ss(path);
    for (std::string s; std::getline(ss, s, '/');) {
      if (!s.empty()) {
        segs.push_back(s);
      }
    }
    std::string group;
    size_t i = 0;
    if (segs.size() >= 2 && segs[0] == "api") {
      i = 2;
    } else if (segs.size() >= 3 && segs[0] == "apis") {
      group = segs[1];
      i = 3;
    } else {
      return StatusReply(404, "NotFound", "no such path " + path);
    }
    std::string ns;
    std::string resource;
    std::string name;
    std::string sub;
    std::vector<std::string> rest(segs.begin() + static_cast<long>(i), segs.end());
    if (rest.size() >= 3 && rest[0] == "namespaces") {
      ns = rest[1];
      resource = rest[2];
      name = rest.size() > 3 ? rest[3] : "";
      sub = rest.size() > 4 ? rest[4] : "";
    } else if (!rest.empty()) {
      resource = rest[0];
      name = rest.size() > 1 ? rest[1] : "";
      sub = rest.size() > 2 ? rest[2] : "";
    }
    {
      const std::lock_guard<std::mutex> lock(mu_);
      ++requests_[request.method + " " + resource];
    }
    if (request.method == "POST") {
      return Create(group, resource, ns, request.body);
    }
    const std::lock_guard<std::mutex> lock(mu_);
    if (auto r = remove_after_reads_.find(Key(group, resource, ns, name));
        request.method == "GET" && r != remove_after_reads_.end() && --r->second <= 0) {
      objects_.erase(r->first);
      remove_after_reads_.erase(r);
    }
    if (request.method == "GET" && name.empty()) {
      Json list = {{"apiVersion", "v1"},
                   {"kind", "List"},
                   {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                   {"items", Json::array()}};
      const std::string prefix = group + "|" + resource + "|" + ns + "|";
      for (const auto& [k, v] : objects_) {
        if (k.rfind(prefix, 0) == 0) {
          list["items"].push_back(v);
        }
      }
      return Reply(200, list.dump());
    }
    auto it = objects_.find(Key(group, resource, ns, name));
    if (it == objects_.end()) {
      return StatusReply(404, "NotFound", resource + " \"" + name + "\" not found");
    }
    if (request.method == "GET") {
      return Reply(200, it->second.dump());
    }
    if (request.method == "DELETE") {
      objects_.erase(it);
      return Reply(200, "{}");
    }
    Json body = Json::parse(request.body, nullptr, false);
    if (request.method == "PUT") {
      if (sub == "status") {
        it->second["status"] = body["status"];
      } else {
        it->second = body;
      }
    } else if (request.method == "PATCH") {
      MergePatch(it->second, body);
    }
    it->second["metadata"]["resourceVersion"] = std::to_string(++rv_);
    return Reply(200, it->second.dump());
  }

  http::Response Create(const std::string& group, const std::string& resource,
                        const std::string& ns, const std::string& text) {
    const int now = ++in_create_;
    int seen = max_concurrent_.load();
    while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
    }
    if (create_delay_us_ > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(create_delay_us_));
    }
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { --n; }
    } leave{in_create_};
    if (fail_429_.fetch_sub(1) > 0) {
      http::Response r = StatusReply(429, "TooManyRequests", "too many requests");
      return r;
    }
    Json obj = Json::parse(text, nullptr, false);
    if (!obj.is_object() || !obj["metadata"].contains("name")) {
      return StatusReply(422, "Invalid", "metadata.name: Required value");
    }
    const std::string name = obj["metadata"]["name"].get<std::string>();
    if (!ns.empty() && obj["metadata"].value("namespace", ns) != ns) {
      return StatusReply(400, "BadRequest", "the namespace of the object does not match");
    }
    const std::lock_guard<std::mutex> lock(mu_);
    create_bodies_[resource].push_back(obj);
    if (!ns.empty() && objects_.count(Key("", "namespaces", "", ns)) == 0) {
      return StatusReply(404, "NotFound", "namespaces \"" + ns + "\" not found");
    }
    const std::string key = Key(group, resource, ns, name);
    if (objects_.count(key) != 0) {
      return StatusReply(409, "AlreadyExists", resource + " \"" + name + "\" already exists");
    }
    obj["metadata"]["uid"] = "uid-" + std::to_string(++uid_);
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    obj["metadata"]["creationTimestamp"] = "2026-11-26T12:00:00Z";
    if (obj["metadata"].contains("managedFields")) {
      obj["metadata"]["managedFields"].push_back(
          {{"manager", "arca"}, {"operation", "Update"}, {"time", "2026-11-26T12:00:00Z"}});
    }
    if (resource == "namespaces") {
      obj["status"] = {{"phase", "Active"}};
    }
    if (resource == "services" && obj["spec"].is_object()) {
      Json& spec = obj["spec"];
      if (!spec.contains("clusterIPs")) {
        spec["clusterIPs"] = Json::array({spec.value("clusterIP", "10.0.0.1")});
      }
      if (!spec.contains("ipFamilies")) {
        spec["ipFamilies"] = Json::array({ip_family_});
      }
      if (!spec.contains("ipFamilyPolicy")) {
        spec["ipFamilyPolicy"] = "SingleStack";
      }
    }
    if (resource == "customresourcedefinitions") {
      obj["status"]["conditions"] = Json::array({{{"type", "Established"}, {"status", "True"}},
                                                 {{"type", "NamesAccepted"}, {"status", "True"}}});
      unpublished_.emplace_back(obj, publish_after_fetches_);
    }
    objects_[key] = obj;
    creation_order_.push_back(resource + " " + (ns.empty() ? "" : ns + "/") + name);
    return Reply(201, obj.dump());
  }

  // Adds to the /apis document every created CRD whose fetch countdown has run out.
  void PublishDueCrds() {
    for (auto it = unpublished_.begin(); it != unpublished_.end();) {
      if (--it->second > 0) {
        ++it;
        continue;
      }
      const Json& spec = it->first["spec"];
      Json versions = Json::array();
      for (const Json& v : spec["versions"]) {
        versions.push_back(
            {{"version", v["name"]},
             {"resources",
              Json::array({{{"resource", spec["names"]["plural"]},
                            {"responseKind",
                             {{"group", spec["group"]},
                              {"version", v["name"]},
                              {"kind", spec["names"]["kind"]}}},
                            {"scope", spec["scope"]},
                            {"singularResource", spec["names"]["singular"]},
                            {"verbs", {"create", "get", "list", "patch", "update", "delete"}}}})}});
      }
      Json doc = Json::parse(apis_);
      doc["items"].push_back({{"metadata", {{"name", spec["group"]}}}, {"versions", versions}});
      apis_ = doc.dump();
      it = unpublished_.erase(it);
    }
  }

  std::string api_;
  std::string apis_;                               // guarded by mu_ once the server runs
  std::vector<std::pair<Json, int>> unpublished_;  // CRDs and their fetch countdowns
  int publish_after_fetches_ = 1;
  std::mutex mu_;
  std::map<std::string, Json> objects_;
  std::vector<std::string> creation_order_;
  std::map<std::string, int> requests_;
  std::map<std::string, std::vector<Json>> create_bodies_;
  std::map<std::string, int> remove_after_reads_;
  std::string ip_family_ = "IPv4";
  int discovery_fetches_ = 0;
  int64_t rv_ = 100;
  int64_t uid_ = 0;
  std::atomic<int> fail_429_{0};
  std::atomic<int> in_create_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> create_delay_us_{0};
};

}  // namespace arca::restore::testing
