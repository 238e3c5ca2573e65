#include "install/apply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../kube/api_bodies.h"
#include "../kube/fake_transport.h"

namespace arca::install {
namespace {

using kube::fakes::FakeTransport;
using kube::fakes::ForPath;
using kube::fakes::StatusBody;
using kube::fakes::TokenProvider;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kCore[] =
    R"({"kind":"APIGroupDiscoveryList","items":[{"metadata":{},"versions":[{"version":"v1",
    "resources":[{"resource":"configmaps","responseKind":{"kind":"ConfigMap"},
    "scope":"Namespaced","singularResource":"configmap","verbs":["create","get","update"]}]}]}]})";
constexpr char kGroups[] = R"({"kind":"APIGroupDiscoveryList","items":[]})";
constexpr char kPath[] = "/api/v1/namespaces/ns1/configmaps/settings";

class ApplyTest : public ::testing::Test {
 protected:
  ApplyTest() : clock_(std::chrono::system_clock::time_point{}) {
    config_.server = "https://k8s.test:6443";
    options_.qps = 0;
    options_.retry.jitter = 0;
    transport_.script.push_back(ForPath("/apis", 200, kGroups));
    transport_.script.push_back(ForPath("/api", 200, kCore));
    // The create finds the object there.
    transport_.script.push_back(ForPath("/api/v1/namespaces/ns1/configmaps", 409,
                                        StatusBody(409, "AlreadyExists", "already exists")));
  }

  // A read answering version `rv`, then the replace's answer.
  void ReadThenReplace(const std::string& rv, int status) {
    transport_.script.push_back(
        ForPath(kPath, 200, R"({"metadata":{"name":"settings","resourceVersion":")" + rv + "\"}}"));
    transport_.script.push_back(
        ForPath(kPath, status,
                status == 200 ? R"({"metadata":{"name":"settings"}})"
                              : StatusBody(409, "Conflict",
                                           "Operation cannot be fulfilled: the object has been "
                                           "modified")));
  }

  Status Apply() {
    kube::Client client(config_, transport_, creds_, clock_, options_);
    const nlohmann::json cm = {{"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"metadata", {{"name", "settings"}, {"namespace", "ns1"}}},
                               {"data", {{"a", "1"}}}};
    return ApplyObjects(client, {cm}, clock_, [&](std::string_view l) { log_.emplace_back(l); });
  }

  // The resourceVersion in each replace's body.
  std::vector<std::string> ReplacedAt() const {
    std::vector<std::string> out;
    for (const http::Request& r : transport_.requests) {
      if (r.method == "PUT") {
        out.push_back(nlohmann::json::parse(r.body)["metadata"]["resourceVersion"]);
      }
    }
    return out;
  }

  kube::RestConfig config_;
  FakeTransport transport_;
  TokenProvider creds_;
  SimulatedClock clock_;
  kube::ClientOptions options_;
  std::vector<std::string> log_;
};

// Another writer changed the object between the read and the replace (two installs at once):
// the object is read again and replaced at the newer version.
TEST_F(ApplyTest, AReplaceThatLosesARaceIsReadAndTriedAgain) {
  ReadThenReplace("1", 409);
  ReadThenReplace("2", 200);
  Status s = Apply();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(ReplacedAt(), ElementsAre("1", "2"));
  EXPECT_THAT(log_, ElementsAre("updated ConfigMap/ns1/settings"));
}

TEST_F(ApplyTest, ConflictsThatNeverEndAreAnErrorNamingTheObject) {
  for (int i = 0; i < 5; ++i) {
    ReadThenReplace(std::to_string(i + 1), 409);
  }
  Status s = Apply();
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_THAT(s.message(), HasSubstr("updating ConfigMap/ns1/settings"));
  EXPECT_THAT(s.message(), HasSubstr("has been modified"));
  EXPECT_EQ(ReplacedAt().size(), 5u);
  EXPECT_TRUE(log_.empty());
}

}  // namespace
}  // namespace arca::install
