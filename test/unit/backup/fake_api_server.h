// File: test/unit/backup/fake_api_server.h
//
// FakeApiServer: an in-memory Kubernetes API server behind the http::Transport interface, for
// unit tests of code that lists and gets many kinds of objects concurrently (the backup engine).
// It serves the discovery documents recorded from the test environment (test/testdata/kube,
// plus an "example.com" group with the namespaced custom resource "widgets"), /version,
// paginated lists (limit/continue, remainingItemCount) with server-side label selectors, and
// GETs of single objects. Chosen resources can be made to answer 403 to lists. Thread-safe.
#pragma once

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "http/transport.h"
#include "kube/label_selector.h"

namespace arca::backup::testing {

class FakeApiServer : public http::Transport {
 public:
  static constexpr char kServer[] = "https://k8s.test:6443";

  // Adds an object. `group` "" is the core group; `ns` "" a cluster-scoped object. The object's
  // metadata.name (and namespace) are filled in.
  void Add(const std::string& group, const std::string& resource, const std::string& ns,
           const std::string& name, nlohmann::json object = nlohmann::json::object()) {
    object["metadata"]["name"] = name;
    if (!ns.empty()) {
      object["metadata"]["namespace"] = ns;
    }
    if (!object["metadata"].contains("uid")) {
      object["metadata"]["uid"] = "uid-" + resource + "-" + ns + "-" + name;
    }
    const std::lock_guard<std::mutex> lock(mu_);
    objects_[Key{group, resource, ns, name}] = std::move(object);
  }

  // Lists of `resource` answer 403 Forbidden.
  void ForbidList(const std::string& resource) {
    const std::lock_guard<std::mutex> lock(mu_);
    forbidden_.insert(resource);
  }

  // Lists of `resource` answer 404 with the plain text of the API server's router, as they do
  // once a custom resource's definition is deleted after discovery.
  void Unserve(const std::string& resource) {
    const std::lock_guard<std::mutex> lock(mu_);
    unserved_.insert(resource);
  }

  // The resourceVersion a list answers: 100 plus the index of its first page's request in
  // Requests().
  static std::string ListResourceVersion(size_t request_index) {
    return std::to_string(100 + request_index);
  }

  // The paths (with query) of every request so far.
  std::vector<std::string> Requests() {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  using http::Transport::Send;
  Result<http::Response> Send(const http::Request& request, const http::BodySink* sink) override {
    std::string url = request.url.substr(sizeof(kServer) - 1);
    size_t index = 0;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      index = requests_.size();
      requests_.push_back(url);
    }
    std::string path = url;
    std::map<std::string, std::string> query;
    if (size_t q = url.find('?'); q != std::string::npos) {
      path = url.substr(0, q);
      std::stringstream ss(url.substr(q + 1));
      std::string kv;
      while (std::getline(ss, kv, '&')) {
        size_t eq = kv.find('=');
        query[kv.substr(0, eq)] = eq == std::string::npos ? "" : Unescape(kv.substr(eq + 1));
      }
    }
    http::Response resp = Serve(path, query, index);
    if (sink != nullptr && resp.status >= 200 && resp.status < 300) {
      if (request.on_headers) {
        RETURN_IF_ERROR(request.on_headers(resp));
      }
      RETURN_IF_ERROR((*sink)(resp.body));
      resp.body.clear();
    }
    return resp;
  }

 private:
  struct Key {
    std::string group, resource, ns, name;
    friend auto operator<=>(const Key&, const Key&) = default;
  };

  static std::string Unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  static std::string ReadFile(const std::string& name) {
    std::ifstream in(std::string(ARCA_TESTDATA_DIR) + "/kube/discovery/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static http::Response Json(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.headers = {{"content-type", "application/json"}};
    r.body = std::move(body);
    return r;
  }

  static http::Response StatusResponse(int code, const std::string& reason,
                                       const std::string& message) {
    return Json(code, nlohmann::json{{"kind", "Status"},
                                     {"apiVersion", "v1"},
                                     {"status", "Failure"},
                                     {"reason", reason},
                                     {"message", message},
                                     {"code", code}}
                          .dump());
  }

  static std::string Apis() {
    nlohmann::json apis = nlohmann::json::parse(ReadFile("apis-agg.json"));
    apis["items"].push_back(nlohmann::json::parse(R"({
      "metadata": {"name": "example.com"},
      "versions": [{"version": "v1", "freshness": "Current", "resources": [{
        "resource": "widgets", "scope": "Namespaced", "singularResource": "widget",
        "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}]})"));
    return apis.dump();
  }

  http::Response Serve(const std::string& path, const std::map<std::string, std::string>& query,
                       size_t index) {
    if (path == "/api") {
      return Json(200, ReadFile("api-agg.json"));
    }
    if (path == "/apis") {
      return Json(200, Apis());
    }
    if (path == "/version") {
      return Json(200, R"({"major":"1","minor":"36","gitVersion":"v1.36.3"})");
    }
    std::vector<std::string> seg;
    std::stringstream ss(path);
    std::string s;
    while (std::getline(ss, s, '/')) {
      if (!s.empty()) {
        seg.push_back(s);
      }
    }
    std::string group;
    size_t i = 0;
    if (seg.size() >= 2 && seg[0] == "api") {
      i = 2;
    } else if (seg.size() >= 3 && seg[0] == "apis") {
      group = seg[1];
      i = 3;
    } else {
      return StatusResponse(404, "NotFound", "no route for " + path);
    }
    std::vector<std::string> rest(seg.begin() + static_cast<std::ptrdiff_t>(i), seg.end());
    std::string ns;
    std::string resource;
    std::string name;
    if (rest.size() >= 3 && rest[0] == "namespaces") {
      ns = rest[1];
      resource = rest[2];
      name = rest.size() > 3 ? rest[3] : "";
    } else if (!rest.empty()) {
      resource = rest[0];
      name = rest.size() > 1 ? rest[1] : "";
    } else {
      return StatusResponse(404, "NotFound", "no route for " + path);
    }
    const std::lock_guard<std::mutex> lock(mu_);
    if (!name.empty()) {
      auto it = objects_.find(Key{group, resource, ns, name});
      if (it == objects_.end()) {
        return StatusResponse(404, "NotFound", resource + " \"" + name + "\" not found");
      }
      return Json(200, it->second.dump());
    }
    if (unserved_.contains(resource)) {
      http::Response r;
      r.status = 404;
      r.headers = {{"content-type", "text/plain; charset=utf-8"}};
      r.body = "404 page not found\n";
      return r;
    }
    if (forbidden_.contains(resource)) {
      return StatusResponse(
          403, "Forbidden",
          resource + " is forbidden: User \"u\" cannot list resource \"" + resource + "\"");
    }
    kube::LabelSelector selector;
    if (auto it = query.find("labelSelector"); it != query.end()) {
      Result<kube::LabelSelector> parsed = kube::LabelSelector::Parse(it->second);
      if (!parsed.ok()) {
        return StatusResponse(400, "BadRequest", parsed.status().message());
      }
      selector = *parsed;
    }
    std::vector<const nlohmann::json*> matching;
    for (const auto& [key, obj] : objects_) {
      if (key.group != group || key.resource != resource || (!ns.empty() && key.ns != ns)) {
        continue;
      }
      kube::Labels labels;
      if (obj["metadata"].contains("labels")) {
        for (const auto& [k, v] : obj["metadata"]["labels"].items()) {
          labels[k] = v.get<std::string>();
        }
      }
      if (selector.Matches(labels)) {
        matching.push_back(&obj);
      }
    }
    // A continue token is "<next index>/<resourceVersion>": every page of a list carries the
    // first page's resourceVersion, as the API server's do.
    size_t start = 0;
    std::string resource_version = ListResourceVersion(index);
    if (auto it = query.find("continue"); it != query.end() && !it->second.empty()) {
      start = std::stoul(it->second);
      resource_version = it->second.substr(it->second.find('/') + 1);
    }
    size_t limit = matching.size();
    if (auto it = query.find("limit"); it != query.end()) {
      limit = std::stoul(it->second);
    }
    const size_t end = std::min(matching.size(), start + limit);
    nlohmann::json list = {{"kind", "List"},
                           {"apiVersion", "v1"},
                           {"metadata", {{"resourceVersion", resource_version}}},
                           {"items", nlohmann::json::array()}};
    for (size_t k = start; k < end; ++k) {
      list["items"].push_back(*matching[k]);
    }
    if (end < matching.size()) {
      list["metadata"]["continue"] = std::to_string(end) + "/" + resource_version;
      list["metadata"]["remainingItemCount"] = matching.size() - end;
    }
    return Json(200, list.dump());
  }

  std::mutex mu_;
  std::map<Key, nlohmann::json> objects_;
  std::set<std::string> forbidden_;
  std::set<std::string> unserved_;
  std::vector<std::string> requests_;
};

}  // namespace arca::backup::testing
