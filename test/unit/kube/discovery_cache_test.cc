#include "kube/discovery_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_transport.h"

namespace arca::kube {
namespace {

using fakes::FakeTransport;
using fakes::ForPath;

std::string Aggregated(const std::string& group, const std::string& resource) {
  return R"({"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":")" + group +
         R"("},"versions":[{"version":"v1","resources":[{"resource":")" + resource +
         R"(","responseKind":{"kind":"X"},"scope":"Namespaced","verbs":["get"]}]}]}]})";
}

class NoCredentials : public CredentialProvider {
 public:
  Result<Credentials> Get() override { return Credentials{}; }
  void Invalidate() override {}
};

class DiscoveryCacheTest : public ::testing::Test {
 protected:
  DiscoveryCacheTest() : clock_(std::chrono::system_clock::time_point{}) {
    RestConfig config;
    config.server = "https://k8s.test";
    ClientOptions options;
    options.qps = 0;
    client_ = std::make_unique<Client>(config, transport_, creds_, clock_, options);
  }

  // One discovery round: /api, then /apis serving `resource` in group "g".
  void ServeDiscovery(const std::string& resource) {
    // /api and /apis are fetched at once: each answer goes to its own path.
    transport_.script.push_back(ForPath("/api", 200, Aggregated("", "pods")));
    transport_.script.push_back(ForPath("/apis", 200, Aggregated("g", resource)));
  }

  FakeTransport transport_;
  NoCredentials creds_;
  SimulatedClock clock_;
  std::unique_ptr<Client> client_;
};

TEST_F(DiscoveryCacheTest, FetchesOnceAndShares) {
  ServeDiscovery("widgets");
  DiscoveryCache cache(*client_, clock_);
  Result<std::shared_ptr<const DiscoveryIndex>> a = cache.Get();
  Result<std::shared_ptr<const DiscoveryIndex>> b = cache.Get();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.Resolve("pods")->gvr.ToString(), "pods.v1");
  EXPECT_EQ(transport_.requests.size(), 2u);
}

TEST_F(DiscoveryCacheTest, AMissRefreshesOnceThenWaits) {
  ServeDiscovery("widgets");
  DiscoveryCache cache(*client_, clock_, std::chrono::seconds(10));
  ASSERT_TRUE(cache.Get().ok());
  // Too soon after the first fetch: no refresh, the miss stands.
  EXPECT_EQ(cache.Resolve("gadgets").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(transport_.requests.size(), 2u);

  // Later, a miss refreshes and finds the new resource.
  clock_.Advance(std::chrono::seconds(11));
  ServeDiscovery("gadgets");
  Result<ApiResource> r = cache.Resolve("gadgets");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->gvr.ToString(), "gadgets.v1.g");
  EXPECT_EQ(transport_.requests.size(), 4u);
  // A second miss right after does not fetch again.
  EXPECT_EQ(cache.Resolve("gizmos").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(transport_.requests.size(), 4u);
}

TEST_F(DiscoveryCacheTest, ErrorsAreReturnedAndNotCached) {
  for (const char* path : {"/api", "/apis"}) {
    transport_.script.push_back(
        ForPath(path, 403,
                R"({"kind":"Status","code":403,"reason":"Forbidden","message":"no discovery"})"));
  }
  DiscoveryCache cache(*client_, clock_);
  EXPECT_EQ(cache.Get().status().code(), StatusCode::kPermissionDenied);
  ServeDiscovery("widgets");
  EXPECT_TRUE(cache.Get().ok());
}

}  // namespace
}  // namespace arca::kube
