// File: test/unit/kube/api_bodies.h
//
// Kubernetes response bodies for client tests (Status, a ConfigMap list page, a watch event) and
// a bearer-token CredentialProvider that counts its uses.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/credentials.h"

namespace arca::kube::fakes {

inline std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                        {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

inline std::string ListBody(const std::vector<std::string>& names, const std::string& cont,
                            const std::string& rv = "100") {
  nlohmann::json list = {{"kind", "ConfigMapList"},
                         {"apiVersion", "v1"},
                         {"metadata", {{"resourceVersion", rv}, {"continue", cont}}},
                         {"items", nlohmann::json::array()}};
  for (const std::string& n : names) {
    list["items"].push_back({{"metadata", {{"name", n}, {"namespace", "ns1"}}}});
  }
  return list.dump();
}

class TokenProvider : public CredentialProvider {
 public:
  Result<Credentials> Get() override {
    ++gets;
    Credentials c;
    c.authorization = "Bearer token-" + std::to_string(generation);
    return c;
  }
  void Invalidate() override { ++generation; }
  int gets = 0;
  int generation = 1;
};

inline std::string Event(const std::string& type, const std::string& name, const std::string& rv) {
  return nlohmann::json{
             {"type", type},
             {"object",
              {{"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
             .dump() +
         "\n";
}

}  // namespace arca::kube::fakes
