#include "kube/informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_transport.h"

namespace arca::kube {
namespace {

using fakes::Fail;
using fakes::FakeTransport;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Object(const std::string& name, const std::string& rv) {
  return nlohmann::json{
      {"kind", "ConfigMap"},
      {"metadata", {{"name", name}, {"namespace", "ns1"}, {"resourceVersion", rv}}}}
      .dump();
}

std::string List(const std::vector<std::pair<std::string, std::string>>& objects,
                 const std::string& rv) {
  std::string items;
  for (const auto& [name, obj_rv] : objects) {
    items += (items.empty() ? "" : ",") + Object(name, obj_rv);
  }
  return R"({"kind":"ConfigMapList","metadata":{"resourceVersion":")" + rv + R"("},"items":[)" +
         items + "]}";
}

std::string Event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":)" + Object(name, rv) + "}\n";
}

class NoCredentials : public CredentialProvider {
 public:
  Result<Credentials> Get() override { return Credentials{}; }
  void Invalidate() override {}
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() : clock_(std::chrono::system_clock::time_point{}) {
    RestConfig config;
    config.server = "https://k8s.test";
    ClientOptions options;
    options.qps = 0;
    options.retry.max_attempts = 1;  // the informer's own backoff is under test
    client_ = std::make_unique<Client>(config, transport_, creds_, clock_, options);
    ref_.gvr = {"", "v1", "configmaps"};
    ref_.namespace_name = "ns1";
  }

  static std::string Name(std::string_view object) {
    return nlohmann::json::parse(object)["metadata"]["name"];
  }

  InformerHandlers Recording() {
    InformerHandlers h;
    h.on_add = [this](std::string_view o) { events_.push_back("add " + Name(o)); };
    h.on_update = [this](std::string_view old_obj, std::string_view new_obj) {
      events_.push_back(
          "update " + Name(old_obj) + "->" +
          nlohmann::json::parse(new_obj)["metadata"]["resourceVersion"].get<std::string>());
    };
    h.on_delete = [this](std::string_view o) { events_.push_back("delete " + Name(o)); };
    return h;
  }

  FakeTransport transport_;
  NoCredentials creds_;
  SimulatedClock clock_;
  std::unique_ptr<Client> client_;
  ResourceRef ref_;
  std::vector<std::string> events_;
};

TEST_F(InformerTest, ListsWatchesAndRelistsAfterGone) {
  transport_.script.emplace_back(200, List({{"a", "1"}, {"b", "2"}}, "10"));
  transport_.script.emplace_back(200, Event("ADDED", "c", "11") + Event("MODIFIED", "a", "12") +
                                          Event("DELETED", "b", "13") +
                                          Event("BOOKMARK", "", "14"));
  transport_.script.emplace_back(
      410, R"({"kind":"Status","code":410,"reason":"Expired","message":"too old"})");
  // While not watching: c changed, d appeared, a is unchanged.
  transport_.script.emplace_back(200, List({{"a", "12"}, {"c", "20"}, {"d", "21"}}, "25"));
  transport_.script.emplace_back(200, Event("ADDED", "e", "26") + Event("MODIFIED", "e", "27"));

  std::atomic<bool> stop{false};
  InformerHandlers handlers = Recording();
  auto record_add = handlers.on_add;
  handlers.on_add = [&](std::string_view o) {
    record_add(o);
    if (Name(o) == "e") {
      stop = true;  // the next event ends the run
    }
  };
  ListOptions selectors;
  selectors.label_selector = "app=web";
  InformerOptions options;
  options.page_size = 100;
  options.watch_timeout_seconds = 30;
  Informer informer(*client_, ref_, selectors, clock_, handlers, options);
  EXPECT_FALSE(informer.HasSynced());
  Status s = informer.Run(stop);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(informer.HasSynced());
  EXPECT_THAT(events_, ElementsAre("add a", "add b", "add c", "update a->12", "delete b",
                                   "update c->20", "add d", "add e"));
  EXPECT_THAT(informer.Keys(), ElementsAre("ns1/a", "ns1/c", "ns1/d", "ns1/e"));
  EXPECT_EQ(Name(*informer.Get("ns1/d")), "d");
  EXPECT_FALSE(informer.Get("ns1/b").has_value());
  EXPECT_EQ(informer.ResourceVersion(), "26");

  const auto& r = transport_.requests;
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].url,
            "https://k8s.test/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb&limit=100");
  EXPECT_EQ(r[1].url,
            "https://k8s.test/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb&"
            "resourceVersion=10&watch=true&allowWatchBookmarks=true&timeoutSeconds=30");
  EXPECT_THAT(r[2].url, HasSubstr("resourceVersion=14&watch=true"));
  EXPECT_EQ(r[3].url, r[0].url);
  EXPECT_THAT(r[4].url, HasSubstr("resourceVersion=25&watch=true"));
}

TEST_F(InformerTest, RetriesUnavailableWithBackoffAndStopsOnOtherErrors) {
  transport_.script.push_back(Fail(UnavailableError("connection refused")));
  transport_.script.push_back(Fail(UnavailableError("connection refused")));
  transport_.script.emplace_back(200, List({}, "5"));
  transport_.script.emplace_back(
      403, R"({"kind":"Status","code":403,"reason":"Forbidden","message":"no watch for you"})");
  std::atomic<bool> stop{false};
  InformerOptions exact;
  exact.retry.jitter = 0;
  Informer informer(*client_, ref_, {}, clock_, Recording(), exact);
  Status s = informer.Run(stop);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("no watch for you"));
  EXPECT_TRUE(informer.HasSynced());
  EXPECT_EQ(informer.Size(), 0u);
  EXPECT_THAT(clock_.Sleeps(),
              ElementsAre(std::chrono::milliseconds(100), std::chrono::milliseconds(400)));
}

TEST_F(InformerTest, StreamsThatEndEmptyAreSpacedOut) {
  transport_.script.emplace_back(200, List({}, "1"));
  transport_.script.emplace_back(200, "");
  transport_.script.emplace_back(200, Event("ADDED", "a", "2") + Event("MODIFIED", "a", "3"));
  std::atomic<bool> stop{false};
  InformerHandlers handlers;
  handlers.on_add = [&](std::string_view) { stop = true; };
  InformerOptions exact;
  exact.retry.jitter = 0;
  Informer informer(*client_, ref_, {}, clock_, handlers, exact);
  ASSERT_TRUE(informer.Run(stop).ok());
  EXPECT_THAT(clock_.Sleeps(), ElementsAre(std::chrono::milliseconds(100)));
  EXPECT_THAT(informer.Keys(), ElementsAre("ns1/a"));
}

TEST_F(InformerTest, StopsBeforeStartingWhenAskedTo) {
  std::atomic<bool> stop{true};
  InformerOptions exact;
  exact.retry.jitter = 0;
  Informer informer(*client_, ref_, {}, clock_, Recording(), exact);
  EXPECT_TRUE(informer.Run(stop).ok());
  EXPECT_TRUE(transport_.requests.empty());
}

}  // namespace
}  // namespace arca::kube
