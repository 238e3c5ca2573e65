#include "kube/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_bodies.h"
#include "fake_transport.h"
#include "kube/connection.h"

namespace arca::kube {
namespace {

using fakes::Event;
using fakes::Fail;
using fakes::FakeTransport;
using fakes::ForPath;
using fakes::Header;
using fakes::ListBody;
using fakes::Scripted;
using fakes::StatusBody;
using fakes::TokenProvider;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : clock_(std::chrono::system_clock::time_point{}) {
    config_.server = "https://k8s.test:6443";
    options_.qps = 0;
    options_.retry.jitter = 0;  // exact waits
  }

  Client MakeClient() { return Client(config_, transport_, creds_, clock_, options_); }

  static ResourceRef ConfigMaps(std::string name = "") {
    ResourceRef ref;
    ref.gvr = {"", "v1", "configmaps"};
    ref.namespace_name = "ns1";
    ref.name = std::move(name);
    return ref;
  }

  RestConfig config_;
  FakeTransport transport_;
  TokenProvider creds_;
  SimulatedClock clock_;
  ClientOptions options_;
};

TEST_F(ClientTest, GetSendsTheRightRequest) {
  transport_.script.emplace_back(200, R"({"metadata":{"name":"x"}})");
  Client client = MakeClient();
  Result<std::string> r = client.Get(ConfigMaps("x"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, R"({"metadata":{"name":"x"}})");
  ASSERT_EQ(transport_.requests.size(), 1u);
  const http::Request& req = transport_.requests[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.url, "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps/x");
  EXPECT_EQ(Header(req, "Authorization"), "Bearer token-1");
  EXPECT_EQ(Header(req, "Accept"), "application/json");
  EXPECT_EQ(req.timeout, ClientOptions::kDefaultTimeout);
}

TEST_F(ClientTest, ErrorsAreTyped) {
  transport_.script.emplace_back(404, StatusBody(404, "NotFound", "configmaps \"x\" not found"));
  transport_.script.emplace_back(403, StatusBody(403, "Forbidden", "configmaps is forbidden"));
  transport_.script.emplace_back(409, StatusBody(409, "AlreadyExists", "exists"));
  transport_.script.emplace_back(409, StatusBody(409, "Conflict", "modified"));
  Client client = MakeClient();
  Result<std::string> r = client.Get(ConfigMaps("x"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "get configmaps ns1/x: configmaps \"x\" not found (404 NotFound)");
  EXPECT_EQ(client.Get(ConfigMaps("x")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(client.Create(ConfigMaps(), "{}").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(client.Update(ConfigMaps("x"), "{}").status().code(), StatusCode::kAborted);
  EXPECT_EQ(transport_.requests.size(), 4u);  // none retried
}

TEST_F(ClientTest, RetriesIdempotentCallsHonouringRetryAfter) {
  transport_.script.push_back(Fail(UnavailableError("connection reset")));
  transport_.script.push_back(
      {429, StatusBody(429, "TooManyRequests", "slow down"), {{"retry-after", "3"}}});
  transport_.script.emplace_back(503, StatusBody(503, "ServiceUnavailable", "busy"));
  transport_.script.emplace_back(200, "{}");
  Client client = MakeClient();
  ASSERT_TRUE(client.Get(ConfigMaps("x")).ok());
  EXPECT_EQ(transport_.requests.size(), 4u);
  // Backoff 100 ms, then Retry-After 3 s (longer than the 400 ms backoff), then 1600 ms.
  EXPECT_THAT(clock_.Sleeps(), ElementsAre(milliseconds(100), seconds(3), milliseconds(1600)));
}

TEST_F(ClientTest, GivesUpAfterMaxAttempts) {
  options_.retry.max_attempts = 2;
  transport_.script.emplace_back(503, StatusBody(503, "ServiceUnavailable", "busy"));
  transport_.script.emplace_back(503, StatusBody(503, "ServiceUnavailable", "still busy"));
  Client client = MakeClient();
  Result<std::string> r = client.Get(ConfigMaps("x"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("still busy"));
}

TEST_F(ClientTest, PostAndPatchAreRetriedOnlyOn429) {
  transport_.script.emplace_back(503, StatusBody(503, "ServiceUnavailable", "busy"));
  Client client = MakeClient();
  EXPECT_EQ(client.Create(ConfigMaps(), "{}").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(transport_.requests.size(), 1u);

  transport_.script.push_back(Fail(UnavailableError("reset")));
  EXPECT_EQ(client.Patch(ConfigMaps("x"), PatchType::kMerge, "{}").status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(transport_.requests.size(), 2u);

  transport_.script.emplace_back(429, StatusBody(429, "TooManyRequests", "later"));
  transport_.script.emplace_back(201, R"({"created":true})");
  EXPECT_EQ(*client.Create(ConfigMaps(), "{}"), R"({"created":true})");
  EXPECT_EQ(transport_.requests.size(), 4u);
}

TEST_F(ClientTest, A401RefreshesCredentialsOnce) {
  transport_.script.emplace_back(401, StatusBody(401, "Unauthorized", "Unauthorized"));
  transport_.script.emplace_back(200, "{}");
  Client client = MakeClient();
  ASSERT_TRUE(client.Get(ConfigMaps("x")).ok());
  EXPECT_EQ(Header(transport_.requests[0], "Authorization"), "Bearer token-1");
  EXPECT_EQ(Header(transport_.requests[1], "Authorization"), "Bearer token-2");

  transport_.script.emplace_back(401, StatusBody(401, "Unauthorized", "Unauthorized"));
  transport_.script.emplace_back(401, StatusBody(401, "Unauthorized", "Unauthorized"));
  Result<std::string> r = client.Get(ConfigMaps("x"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(transport_.requests.size(), 4u);
  // The token never appears in the error.
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("token-")));
}

TEST_F(ClientTest, WritesUseTheRightMethodsAndContentTypes) {
  for (int i = 0; i < 6; ++i) {
    transport_.script.emplace_back(200, "{}");
  }
  Client client = MakeClient();
  WriteOptions dry;
  dry.dry_run = true;
  dry.field_manager = "arca";
  ASSERT_TRUE(client.Create(ConfigMaps(), R"({"a":1})", dry).ok());
  ASSERT_TRUE(client.Update(ConfigMaps("x"), R"({"a":2})").ok());
  ASSERT_TRUE(client.Patch(ConfigMaps("x"), PatchType::kStrategicMerge, "{}").ok());
  ASSERT_TRUE(client.Patch(ConfigMaps("x"), PatchType::kApply, "{}", dry).ok());
  DeleteOptions del;
  del.propagation_policy = "Background";
  ASSERT_TRUE(client.Delete(ConfigMaps("x"), del).ok());
  ListOptions sel;
  sel.label_selector = "app=web";
  sel.limit = 5;  // ignored by deletecollection
  ASSERT_TRUE(client.DeleteCollection(ConfigMaps(), sel).ok());

  const auto& r = transport_.requests;
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].url,
            "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps?dryRun=All&fieldManager=arca");
  EXPECT_EQ(r[0].body, R"({"a":1})");
  EXPECT_EQ(Header(r[0], "Content-Type"), "application/json");
  EXPECT_EQ(r[1].method, "PUT");
  EXPECT_EQ(r[1].url, "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps/x");
  EXPECT_EQ(r[2].method, "PATCH");
  EXPECT_EQ(Header(r[2], "Content-Type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(Header(r[3], "Content-Type"), "application/apply-patch+yaml");
  EXPECT_EQ(r[4].method, "DELETE");
  EXPECT_EQ(nlohmann::json::parse(r[4].body)["propagationPolicy"], "Background");
  EXPECT_EQ(r[5].method, "DELETE");
  EXPECT_EQ(r[5].url,
            "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb");

  // Misuse is refused before any request.
  EXPECT_EQ(client.Patch(ConfigMaps("x"), PatchType::kApply, "{}").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(client.Create(ConfigMaps("x"), "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client.Update(ConfigMaps(), "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client.Delete(ConfigMaps()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.requests.size(), 6u);
}

TEST_F(ClientTest, ListPaginatesWithContinueTokens) {
  transport_.script.emplace_back(200, ListBody({"a", "b"}, "c1", "100"));
  transport_.script.emplace_back(200, ListBody({"c", "d"}, "c2", "100"));
  transport_.script.emplace_back(200, ListBody({"e"}, "", "100"));
  Client client = MakeClient();
  std::vector<std::string> names;
  ObjectMetaParser parser;
  ListOptions options;
  options.limit = 2;
  options.resource_version = "0";
  options.label_selector = "app=web";
  ListMeta meta;
  Status s = client.List(
      ConfigMaps(), options,
      [&](std::string_view item) {
        names.push_back(parser.Parse(item)->name);
        return OkStatus();
      },
      nullptr, &meta);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(names, ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(meta.resource_version, "100");
  const auto& r = transport_.requests;
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].url,
            "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb&"
            "limit=2&resourceVersion=0");
  // Later pages carry the continue token and no resourceVersion.
  EXPECT_EQ(r[1].url,
            "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb&"
            "limit=2&continue=c1");
  EXPECT_EQ(r[2].url,
            "https://k8s.test:6443/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb&"
            "limit=2&continue=c2");
  EXPECT_EQ(r[0].timeout, milliseconds(0));  // streamed: no overall timeout
}

TEST_F(ClientTest, ExpiredContinueTokenRelistsFromTheStart) {
  transport_.script.emplace_back(200, ListBody({"a", "b"}, "c1"));
  transport_.script.emplace_back(
      410, StatusBody(410, "Expired", "The provided continue parameter is too old"));
  transport_.script.emplace_back(200, ListBody({"a", "b"}, "c9"));
  transport_.script.emplace_back(200, ListBody({"c"}, ""));
  Client client = MakeClient();
  std::vector<std::string> names;
  int restarts = 0;
  ObjectMetaParser parser;
  ListOptions options;
  options.limit = 2;
  Status s = client.List(
      ConfigMaps(), options,
      [&](std::string_view item) {
        names.push_back(parser.Parse(item)->name);
        return OkStatus();
      },
      [&] {
        ++restarts;
        names.clear();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(restarts, 1);
  EXPECT_THAT(names, ElementsAre("a", "b", "c"));
  EXPECT_THAT(transport_.requests[2].url, ::testing::EndsWith("configmaps?limit=2"));

  // Without a restart hook the error comes back as kOutOfRange.
  transport_.script.emplace_back(200, ListBody({"a"}, "c1"));
  transport_.script.emplace_back(410, StatusBody(410, "Expired", "too old"));
  EXPECT_EQ(client.List(ConfigMaps(), options, [](std::string_view) { return OkStatus(); }).code(),
            StatusCode::kOutOfRange);
}

TEST_F(ClientTest, AStreamThatBreaksAfterItemsIsNotRetried) {
  Scripted broken{200, ListBody({"a", "b", "c"}, "")};
  broken.error = UnavailableError("connection reset");
  broken.error_after = 80;
  transport_.script.push_back(broken);
  Client client = MakeClient();
  int items = 0;
  Status s = client.ListPage(
      ConfigMaps(), {},
      [&](std::string_view) {
        ++items;
        return OkStatus();
      },
      nullptr);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(transport_.requests.size(), 1u);
  EXPECT_GE(items, 1);
}

TEST_F(ClientTest, RateLimiterPacesRequests) {
  options_.qps = 5;
  options_.burst = 1;
  for (int i = 0; i < 3; ++i) {
    transport_.script.emplace_back(200, "{}");
  }
  Client client = MakeClient();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Get(ConfigMaps("x")).ok());
  }
  EXPECT_THAT(clock_.Sleeps(), ElementsAre(milliseconds(200), milliseconds(200)));
}

TEST_F(ClientTest, WatchResumesFromTheLastVersionAfterADrop) {
  // First connection: two events, then the connection breaks.
  Scripted first{200, Event("ADDED", "a", "11") + Event("BOOKMARK", "", "15")};
  first.error = UnavailableError("connection reset");
  first.error_after = first.body.size();
  transport_.script.push_back(first);
  // Second: resumes at 15, the server ends the stream (timeoutSeconds).
  transport_.script.emplace_back(200, Event("MODIFIED", "a", "16"));
  // Third: resumes at 16; the consumer stops after the delete.
  transport_.script.emplace_back(200, Event("DELETED", "a", "17") + Event("ADDED", "z", "18"));
  Client client = MakeClient();
  std::vector<std::string> seen;
  ListOptions options;
  options.resource_version = "10";
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = 30;
  Status s = client.Watch(
      ConfigMaps(), options, [&](std::string_view type, std::string_view object) -> Status {
        seen.push_back(std::string(type) + " " +
                       nlohmann::json::parse(object)["metadata"].value("name", std::string()));
        return type == "DELETED" ? CancelledError("done") : OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(seen, ElementsAre("ADDED a", "BOOKMARK ", "MODIFIED a", "DELETED a"));
  const auto& r = transport_.requests;
  ASSERT_EQ(r.size(), 3u);
  EXPECT_THAT(r[0].url, HasSubstr("resourceVersion=10&watch=true&allowWatchBookmarks=true"
                                  "&timeoutSeconds=30"));
  EXPECT_THAT(r[1].url, HasSubstr("resourceVersion=15&watch=true"));
  EXPECT_THAT(r[2].url, HasSubstr("resourceVersion=16&watch=true"));
  EXPECT_THAT(clock_.Sleeps(), ElementsAre(milliseconds(100)));
}

TEST_F(ClientTest, WatchSpacesOutStreamsThatEndEmpty) {
  transport_.script.emplace_back(200, "");
  transport_.script.emplace_back(200, "");
  transport_.script.emplace_back(200, Event("ADDED", "a", "5"));
  transport_.script.emplace_back(200, "");
  transport_.script.emplace_back(200, Event("DELETED", "a", "6"));
  Client client = MakeClient();
  Status s = client.Watch(ConfigMaps(), {}, [](std::string_view type, std::string_view) {
    return type == "DELETED" ? CancelledError("done") : OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Backoff grows over consecutive empty streams and starts over after an event.
  EXPECT_THAT(clock_.Sleeps(),
              ElementsAre(milliseconds(100), milliseconds(400), milliseconds(100)));
  EXPECT_EQ(transport_.requests.size(), 5u);
}

TEST_F(ClientTest, WatchReportsTooOldResourceVersions) {
  // As an ERROR event inside the stream...
  transport_.script.emplace_back(
      200, nlohmann::json{{"type", "ERROR"},
                          {"object", nlohmann::json::parse(StatusBody(
                                         410, "Expired", "too old resource version: 1 (50)"))}}
               .dump());
  // ... or as a plain 410 response.
  transport_.script.emplace_back(410, StatusBody(410, "Gone", "too old"));
  Client client = MakeClient();
  ListOptions options;
  options.resource_version = "1";
  const auto ignore = [](std::string_view, std::string_view) { return OkStatus(); };
  Status s = client.Watch(ConfigMaps(), options, ignore);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("too old resource version"));
  EXPECT_EQ(client.Watch(ConfigMaps(), options, ignore).code(), StatusCode::kOutOfRange);
}

TEST_F(ClientTest, DiscoveryPrefersAggregatedAndFallsBackToLegacy) {
  const std::string core_agg =
      R"({"kind":"APIGroupDiscoveryList","items":[{"metadata":{},"versions":[{"version":"v1",
      "resources":[{"resource":"pods","responseKind":{"kind":"Pod"},"scope":"Namespaced",
      "singularResource":"pod","shortNames":["po"],"verbs":["get","list"]}]}]}]})";
  const std::string apis_agg =
      R"({"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":"apps"},"versions":[
      {"version":"v1","resources":[{"resource":"deployments","responseKind":{"kind":"Deployment"},
      "scope":"Namespaced","singularResource":"deployment","shortNames":["deploy"],
      "verbs":["get"]}]}]}]})";
  // /api and /apis are asked for at once, so their answers are matched by path.
  transport_.script.push_back(ForPath("/apis", 200, apis_agg));
  transport_.script.push_back(ForPath("/api", 200, core_agg));
  Client client = MakeClient();
  Result<DiscoveryIndex> index = client.Discover();
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->Resolve("deploy")->gvr.ToString(), "deployments.v1.apps");
  ASSERT_EQ(transport_.requests.size(), 2u);
  EXPECT_THAT(Header(transport_.requests[0], "Accept"), HasSubstr("as=APIGroupDiscoveryList"));
  EXPECT_THAT(Header(transport_.requests[1], "Accept"), HasSubstr("as=APIGroupDiscoveryList"));

  // A server that answers with the legacy documents.
  // The group list that came back for the aggregated /apis request is used as it is.
  transport_.requests.clear();
  transport_.script.push_back(ForPath("/api", 200, R"({"kind":"APIVersions","versions":["v1"]})"));
  transport_.script.push_back(ForPath(
      "/api/v1", 200, R"({"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods",
      "singularName":"pod","namespaced":true,"kind":"Pod","shortNames":["po"],"verbs":["get"]}]})"));
  transport_.script.push_back(ForPath(
      "/apis", 200, R"({"kind":"APIGroupList","groups":[{"name":"apps","versions":[{"groupVersion":
      "apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]})"));
  transport_.script.push_back(
      ForPath("/apis/apps/v1", 200,
              R"({"kind":"APIResourceList","groupVersion":"apps/v1","resources":[{"name":
      "deployments","singularName":"deployment","namespaced":true,"kind":"Deployment",
      "shortNames":["deploy"],"verbs":["get"]},{"name":"deployments/scale","namespaced":true,
      "kind":"Scale","verbs":["get"]}]})"));
  index = client.Discover();
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_TRUE(index->Resolve("deploy")->HasSubresource("scale"));
  EXPECT_EQ(index->Resolve("po")->gvr.ToString(), "pods.v1");
  ASSERT_EQ(transport_.requests.size(), 4u);
  EXPECT_EQ(transport_.requests[3].url, "https://k8s.test:6443/apis/apps/v1");
}

TEST_F(ClientTest, ClientCertificatesGoToTheTransport) {
  class CertProvider : public CredentialProvider {
   public:
    Result<Credentials> Get() override {
      Credentials c;
      c.client_certificate_pem = "CERT";
      c.client_key_pem = "KEY";
      return c;
    }
    void Invalidate() override {}
  } certs;
  transport_.script.emplace_back(200, R"({"kind":"ConfigMap"})");
  Client client(config_, transport_, certs, clock_, options_);
  Result<std::string> r = client.Get(ConfigMaps("x"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(transport_.requests.size(), 1u);
  EXPECT_EQ(transport_.requests[0].client_cert_pem, "CERT");
  EXPECT_EQ(transport_.requests[0].client_key_pem, "KEY");
  for (const auto& [name, value] : transport_.requests[0].headers) {
    EXPECT_NE(name, "Authorization");
  }
}

TEST_F(ClientTest, ConnectionAcceptsEveryTransportSetting) {
  RestConfig config = config_;
  config.proxy_url = "http://proxy:3128";
  config.tls_server_name = "api.internal";
  config.client_certificate_pem = "CERT";
  config.client_key_pem = "KEY";
  EXPECT_TRUE(Connection::Open(config, clock_).ok());
}

TEST_F(ClientTest, ConnectionUsesTheTokenWhenACertificateIsAlsoConfigured) {
  RestConfig config = config_;
  config.client_certificate_pem = "CERT";
  config.client_key_pem = "KEY";
  config.token = "tok";
  auto transport = std::make_unique<FakeTransport>();
  FakeTransport* fake = transport.get();
  fake->script.emplace_back(200, "{}");
  Result<ConnectionPtr> conn =
      Connection::OpenWithTransport(config, std::move(transport), clock_, options_);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->client().Get(ConfigMaps("x")).ok());
  ASSERT_EQ(fake->requests.size(), 1u);
  EXPECT_EQ(Header(fake->requests[0], "Authorization"), "Bearer tok");
  EXPECT_EQ((*conn)->config().client_certificate_pem, "");
}

}  // namespace
}  // namespace arca::kube
