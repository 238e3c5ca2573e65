// Integration tests of the Kubernetes client against the real test environment
// (test/testenv): run through with-testenv.sh, which exports KUBECONFIG and puts kubectl on PATH.
//
// The admin kubeconfig authenticates with a client certificate (AdminKubeconfigClientCertificate
// checks that path). The other tests use kubectl once to create service accounts and tokens: one
// bound to cluster-admin for the API calls, one without any RBAC rights for the forbidden case.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "http/curl_transport.h"
#include "kube/client.h"
#include "kube/connection.h"
#include "kube/credentials.h"
#include "kube/discovery_cache.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"
#include "kube/label_selector.h"

namespace arca::kube {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// Runs kubectl; fails the test on a non-zero exit.
std::string Kubectl(const std::vector<std::string>& args) {
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  Result<CommandOutput> out = runner->Run("kubectl", args, {});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) {
    return "";
  }
  EXPECT_EQ(out->exit_code, 0) << "kubectl failed: " << out->stderr_text;
  return out->stdout_text;
}

void KubectlApply(const std::string& manifest) {
  std::unique_ptr<CommandRunner> runner = MakeProcessRunner();
  Result<CommandOutput> out =
      runner->Run("/bin/sh", {"-c", "printf '%s' \"$MANIFEST\" | kubectl apply -f -"},
                  {{"MANIFEST", manifest}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->exit_code, 0) << out->stderr_text;
}

std::string TokenFor(const std::string& service_account) {
  std::string token =
      Kubectl({"create", "token", service_account, "-n", "default", "--duration=1h"});
  while (!token.empty() && token.back() == '\n') {
    token.pop_back();
  }
  return token;
}

// A TCP relay on 127.0.0.1 in front of the API server that can cut every open connection at once,
// to test what a client does when its connection drops mid-stream. TLS passes through untouched.
class CuttableRelay {
 public:
  CuttableRelay(std::string upstream_host, int upstream_port)
      : host_(std::move(upstream_host)), upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~CuttableRelay() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    CutAll();
    for (std::thread& t : pumps_) {
      t.join();
    }
    for (int fd : open_fds_) {
      ::close(fd);
    }
  }
  int port() const { return port_; }
  int connections() const { return connections_; }
  // Shuts down every relayed connection, both ways.
  void CutAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) {
        return;
      }
      int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(upstream);
        continue;
      }
      ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.push_back(client);
      open_fds_.push_back(upstream);
      pumps_.emplace_back([client, upstream] { Pump(client, upstream); });
      pumps_.emplace_back([client, upstream] { Pump(upstream, client); });
    }
  }
  static void Pump(int from, int to) {
    char buf[16384];
    while (true) {
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0 || ::write(to, buf, static_cast<size_t>(n)) != n) {
        ::shutdown(from, SHUT_RDWR);
        ::shutdown(to, SHUT_RDWR);
        return;
      }
    }
  }

  std::string host_;
  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> pumps_;
};

class KubeIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* kubeconfig = std::getenv("KUBECONFIG");  // NOLINT(concurrency-mt-unsafe)
    ASSERT_NE(kubeconfig, nullptr) << "KUBECONFIG is not set: run through with-testenv.sh";
    KubectlApply(R"(
apiVersion: v1
kind: ServiceAccount
metadata: {name: arca-kube-admin, namespace: default}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: arca-kube-nobody, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: arca-kube-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: arca-kube-admin, namespace: default}]
)");
    admin_token = TokenFor("arca-kube-admin");
    nobody_token = TokenFor("arca-kube-nobody");
  }

  void SetUp() override {
    ASSERT_FALSE(admin_token.empty());
    // The real kubeconfig, loaded the way the CLI loads it.
    Result<RestConfig> config = LoadRestConfig(LoadOptions::FromEnvironment(std::nullopt, ""));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    ASSERT_FALSE(config->client_certificate_pem.empty());
    config_ = *config;
    config_.token = admin_token;
    // The token is used; the admin certificate is dropped when a token is set.
    ClientOptions client_options;
    client_options.qps = 0;  // the tests create thousands of objects
    Result<ConnectionPtr> conn = Connection::Open(config_, RealClock(), client_options);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    connection_ = std::move(*conn);
    client_ = &connection_->client();
    config_ = connection_->config();
    http::TransportOptions options;
    options.ca_pem = config_.ca_pem;
    options.ca_file = config_.ca_file;
    transport_ = std::make_unique<http::CurlTransport>(options);
    Result<DiscoveryIndex> index = client_->Discover();
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = *index;
    namespace_ = "arca-kube-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : namespace_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    namespace_ = namespace_.substr(0, 63);
    ASSERT_TRUE(client_
                    ->Create(Ref("namespaces"), json{{"apiVersion", "v1"},
                                                     {"kind", "Namespace"},
                                                     {"metadata", {{"name", namespace_}}}}
                                                    .dump())
                    .ok());
  }

  void TearDown() override {
    if (client_ != nullptr) {
      client_->Delete(Ref("namespaces", "", namespace_)).status().IgnoreError();
    }
  }

  ResourceRef Ref(std::string_view resource, std::string ns = "", std::string name = "") {
    Result<ApiResource> r = index_.Resolve(resource);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? ResourceRef::For(*r, std::move(ns), std::move(name)) : ResourceRef{};
  }

  static json ConfigMap(const std::string& name, const json& labels = json::object()) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", labels}}},
            {"data", {{"k", "v"}}}};
  }

  // Tokens shared by the suite, made once by SetUpTestSuite.
  static inline std::string admin_token;
  static inline std::string nobody_token;
  std::unique_ptr<CommandRunner> runner_ = MakeProcessRunner();
  RestConfig config_;
  ConnectionPtr connection_;
  Client* client_ = nullptr;
  // For the clients the tests make with other credentials.
  std::unique_ptr<http::Transport> transport_;
  DiscoveryIndex index_;
  std::string namespace_;
};

TEST_F(KubeIntegrationTest, DiscoveryResolvesLikeKubectl) {
  EXPECT_EQ(index_.Resolve("po")->gvr.ToString(), "pods.v1");
  EXPECT_EQ(index_.Resolve("deploy")->gvr.ToString(), "deployments.v1.apps");
  EXPECT_EQ(index_.Resolve("deployments.apps")->gvr.ToString(), "deployments.v1.apps");
  EXPECT_TRUE(index_.Resolve("pods")->HasSubresource("status"));
  EXPECT_TRUE(index_.Resolve("deploy")->HasSubresource("scale"));
  EXPECT_FALSE(index_.Resolve("nodes")->namespaced);
  EXPECT_EQ(index_.Resolve("nonsense").status().code(), StatusCode::kNotFound);
}

TEST_F(KubeIntegrationTest, ConfigMapCrudPatchAndDryRun) {
  const ResourceRef cms = Ref("configmaps", namespace_);
  Result<std::string> created = client_->Create(cms, ConfigMap("one").dump());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(client_->Create(cms, ConfigMap("one").dump()).status().code(),
            StatusCode::kAlreadyExists);

  ResourceRef one = Ref("configmaps", namespace_, "one");
  json obj = json::parse(*client_->Get(one));
  EXPECT_EQ(obj["data"]["k"], "v");
  const std::string stale_version = obj["metadata"]["resourceVersion"];

  obj["data"]["k"] = "v2";
  Result<std::string> updated = client_->Update(one, obj.dump());
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  // Updating from the old resourceVersion conflicts: re-read and retry.
  obj["metadata"]["resourceVersion"] = stale_version;
  obj["data"]["k"] = "v3";
  Result<std::string> conflict = client_->Update(one, obj.dump());
  EXPECT_EQ(conflict.status().code(), StatusCode::kAborted);
  EXPECT_THAT(conflict.status().message(), HasSubstr("409 Conflict"));

  ASSERT_TRUE(client_->Patch(one, PatchType::kMerge, R"({"data":{"merge":"1"}})").ok());
  ASSERT_TRUE(
      client_->Patch(one, PatchType::kStrategicMerge, R"({"data":{"strategic":"1"}})").ok());
  ASSERT_TRUE(
      client_->Patch(one, PatchType::kJson, R"([{"op":"add","path":"/data/json","value":"1"}])")
          .ok());
  WriteOptions apply;
  apply.field_manager = "arca-test";
  apply.force = true;
  Result<std::string> applied =
      client_->Patch(one, PatchType::kApply,
                     R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"one"},
                         "data":{"applied":"1"}})",
                     apply);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  json now = json::parse(*client_->Get(one));
  EXPECT_EQ(now["data"]["k"], "v2");
  EXPECT_EQ(now["data"]["merge"], "1");
  EXPECT_EQ(now["data"]["strategic"], "1");
  EXPECT_EQ(now["data"]["json"], "1");
  EXPECT_EQ(now["data"]["applied"], "1");
  bool has_manager = false;
  for (const json& f : now["metadata"]["managedFields"]) {
    has_manager = has_manager || f["manager"] == "arca-test";
  }
  EXPECT_TRUE(has_manager);

  // Invalid objects are InvalidArgument with the server's reason.
  Result<std::string> invalid = client_->Create(cms, ConfigMap("Bad_Name").dump());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("422 Invalid"));

  // A dry-run create stores nothing.
  WriteOptions dry;
  dry.dry_run = true;
  ASSERT_TRUE(client_->Create(cms, ConfigMap("dry").dump(), dry).ok());
  EXPECT_EQ(client_->Get(Ref("configmaps", namespace_, "dry")).status().code(),
            StatusCode::kNotFound);

  // Delete with a wrong uid precondition is refused; with none it works.
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(client_->Delete(one, wrong_uid).status().code(), StatusCode::kAborted);
  ASSERT_TRUE(client_->Delete(one).ok());
  Result<std::string> gone = client_->Get(one);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("configmaps \"one\" not found"));
}

TEST_F(KubeIntegrationTest, DeploymentWithScaleAndStatusSubresources) {
  const json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}}}}}};
  ASSERT_TRUE(client_->Create(Ref("deployments.apps", namespace_), deployment.dump()).ok());
  ResourceRef scale = Ref("deploy", namespace_, "web");
  scale.subresource = "scale";
  json s = json::parse(*client_->Get(scale));
  EXPECT_EQ(s["kind"], "Scale");
  EXPECT_EQ(s["spec"]["replicas"], 1);
  ASSERT_TRUE(client_->Patch(scale, PatchType::kMerge, R"({"spec":{"replicas":3}})").ok());
  EXPECT_EQ(json::parse(*client_->Get(Ref("deploy", namespace_, "web")))["spec"]["replicas"], 3);

  ResourceRef status = Ref("deploy", namespace_, "web");
  status.subresource = "status";
  json st = json::parse(*client_->Get(status));
  EXPECT_EQ(st["kind"], "Deployment");
  DeleteOptions foreground;
  foreground.propagation_policy = "Foreground";
  EXPECT_TRUE(client_->Delete(Ref("deploy", namespace_, "web"), foreground).ok());
}

TEST_F(KubeIntegrationTest, FreshCrdIsDiscoveredAndServed) {
  const std::string group = "arca" + std::to_string(::getpid()) + ".example.com";
  const json crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "widgets." + group}}},
      {"spec",
       {{"group", group},
        {"scope", "Namespaced"},
        {"names",
         {{"plural", "widgets"},
          {"singular", "widget"},
          {"kind", "Widget"},
          {"shortNames", {"wdg"}}}},
        {"versions",
         {{{"name", "v1"},
           {"served", true},
           {"storage", true},
           {"subresources", {{"status", json::object()}}},
           {"schema",
            {{"openAPIV3Schema",
              {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}}};
  ResourceRef crd_ref = Ref("crd", "", "widgets." + group);
  // Discovery picks it up once the API server serves it: the cache, fetched before the CRD
  // existed, refreshes when the name misses.
  DiscoveryCache cache(*client_, RealClock(), std::chrono::milliseconds(100));
  ASSERT_TRUE(cache.Get().ok());
  EXPECT_EQ(cache.Resolve("wdg." + group).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(client_->Create(Ref("crd"), crd.dump()).ok());
  Result<ApiResource> widget = NotFoundError("not yet");
  for (int i = 0; i < 100 && !widget.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    widget = cache.Resolve("wdg." + group);
  }
  ASSERT_TRUE(widget.ok()) << widget.status().ToString();
  EXPECT_EQ(widget->gvr.ToString(), "widgets.v1." + group);
  EXPECT_TRUE(widget->namespaced);
  EXPECT_TRUE(widget->HasSubresource("status"));

  const ResourceRef widgets = ResourceRef::For(*widget, namespace_);
  Result<std::string> created = NotFoundError("not yet");
  for (int i = 0; i < 50; ++i) {  // the CRD may take a moment to be served
    created = client_->Create(widgets, json{{"apiVersion", group + "/v1"},
                                            {"kind", "Widget"},
                                            {"metadata", {{"name", "w1"}}},
                                            {"spec", {{"size", 3}}}}
                                           .dump());
    if (created.ok()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ResourceRef status = ResourceRef::For(*widget, namespace_, "w1");
  status.subresource = "status";
  ASSERT_TRUE(client_->Patch(status, PatchType::kMerge, R"({"status":{"ready":true}})").ok());
  std::vector<std::string> items;
  ASSERT_TRUE(client_
                  ->List(widgets, {},
                         [&](std::string_view item) {
                           items.emplace_back(item);
                           return OkStatus();
                         })
                  .ok());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(json::parse(items[0])["spec"]["size"], 3);
  EXPECT_EQ(json::parse(items[0])["status"]["ready"], true);
  EXPECT_TRUE(client_->Delete(crd_ref).ok());
}

TEST_F(KubeIntegrationTest, PaginatesOverThousandsOfConfigMaps) {
  constexpr int kCount = 5000;
  constexpr int kThreads = 4;
  const ResourceRef cms = Ref("configmaps", namespace_);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kCount; i += kThreads) {
        const json labels = {{"parity", i % 2 == 0 ? "even" : "odd"}};
        if (!client_->Create(cms, ConfigMap("cm-" + std::to_string(i), labels).dump()).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  ASSERT_EQ(failures.load(), 0);

  // Page by page: 500 per page, every name once.
  ListOptions options;
  options.limit = 500;
  std::set<std::string> names;
  ObjectMetaParser parser;
  int pages = 0;
  while (true) {
    ListMeta meta;
    int in_page = 0;
    Status s = client_->ListPage(
        cms, options,
        [&](std::string_view item) {
          ++in_page;
          ASSIGN_OR_RETURN(ObjectMeta m, parser.Parse(item));
          names.insert(m.name);
          return OkStatus();
        },
        &meta);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ++pages;
    EXPECT_LE(in_page, 500);
    if (meta.continue_token.empty()) {
      break;
    }
    options.continue_token = meta.continue_token;
  }
  // kube-root-ca.crt is created in every namespace.
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount) + 1);
  EXPECT_EQ(pages, (kCount + 1 + 499) / 500);

  // List() does the paging itself, and label selectors filter on the server.
  Result<LabelSelector> even = LabelSelector::Parse("parity in (even)");
  ASSERT_TRUE(even.ok());
  ListOptions selected;
  selected.limit = 500;
  selected.label_selector = even->ToString();
  int count = 0;
  ASSERT_TRUE(client_
                  ->List(cms, selected,
                         [&](std::string_view item) -> Status {
                           ASSIGN_OR_RETURN(ObjectMeta m, parser.Parse(item));
                           EXPECT_TRUE(even->Matches(m.labels)) << m.name;
                           ++count;
                           return OkStatus();
                         })
                  .ok());
  EXPECT_EQ(count, kCount / 2);

  ListOptions odd;
  odd.label_selector = "parity=odd";
  ASSERT_TRUE(client_->DeleteCollection(cms, odd).ok());
  count = 0;
  ASSERT_TRUE(client_
                  ->List(cms, {},
                         [&](std::string_view) {
                           ++count;
                           return OkStatus();
                         })
                  .ok());
  EXPECT_EQ(count, kCount / 2 + 1);
}

TEST_F(KubeIntegrationTest, WatchSeesCreateUpdateDeleteAcrossReconnects) {
  const ResourceRef cms = Ref("configmaps", namespace_);
  ListMeta meta;
  ASSERT_TRUE(client_
                  ->List(
                      cms, {}, [](std::string_view) { return OkStatus(); }, nullptr, &meta)
                  .ok());
  ASSERT_FALSE(meta.resource_version.empty());

  std::vector<std::string> events;
  std::mutex mu;
  Status watch_status;
  std::thread watcher([&] {
    ListOptions options;
    options.resource_version = meta.resource_version;
    // The controller manager adds kube-root-ca.crt to new namespaces; watch only ours.
    options.field_selector = "metadata.name=watched";
    options.allow_watch_bookmarks = true;
    options.timeout_seconds = 1;  // the server ends each stream after a second; Watch resumes
    watch_status =
        client_->Watch(cms, options, [&](std::string_view type, std::string_view object) -> Status {
          if (type == "BOOKMARK") {
            return OkStatus();
          }
          const json obj = json::parse(object);
          std::lock_guard<std::mutex> lock(mu);
          events.push_back(std::string(type) + " " + obj["metadata"]["name"].get<std::string>() +
                           " " + obj["data"].value("k", ""));
          return type == "DELETED" ? CancelledError("seen the delete") : OkStatus();
        });
  });
  ResourceRef w = Ref("configmaps", namespace_, "watched");
  ASSERT_TRUE(client_->Create(cms, ConfigMap("watched").dump()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // spans a reconnect
  ASSERT_TRUE(client_->Patch(w, PatchType::kMerge, R"({"data":{"k":"changed"}})").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(client_->Delete(w).ok());
  watcher.join();
  EXPECT_TRUE(watch_status.ok()) << watch_status.ToString();
  EXPECT_THAT(events, ::testing::ElementsAre("ADDED watched v", "MODIFIED watched changed",
                                             "DELETED watched changed"));
}

TEST_F(KubeIntegrationTest, WatchSurvivesADroppedConnection) {
  // The watcher reaches the API server through a relay whose connections the test cuts.
  const std::string server = config_.server;  // https://127.0.0.1:<port>
  const int upstream_port = std::stoi(server.substr(server.rfind(':') + 1));
  CuttableRelay relay("127.0.0.1", upstream_port);
  RestConfig relayed = config_;
  relayed.server = "https://127.0.0.1:" + std::to_string(relay.port());
  Result<ConnectionPtr> conn = Connection::Open(relayed, RealClock());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  Client& watch_client = (*conn)->client();

  const ResourceRef cms = Ref("configmaps", namespace_);
  ListMeta meta;
  ASSERT_TRUE(client_
                  ->List(
                      cms, {}, [](std::string_view) { return OkStatus(); }, nullptr, &meta)
                  .ok());
  std::vector<std::string> events;
  std::mutex mu;
  std::atomic<bool> added{false};
  Status watch_status;
  std::thread watcher([&] {
    ListOptions options;
    options.resource_version = meta.resource_version;
    options.field_selector = "metadata.name=dropped";
    options.allow_watch_bookmarks = true;
    options.timeout_seconds = 300;  // the server would keep this stream open; only the cut ends it
    watch_status = watch_client.Watch(
        cms, options, [&](std::string_view type, std::string_view object) -> Status {
          if (type == "BOOKMARK") {
            return OkStatus();
          }
          const json obj = json::parse(object);
          std::lock_guard<std::mutex> lock(mu);
          events.push_back(std::string(type) + " " + obj["data"].value("k", ""));
          if (type == "ADDED") {
            added = true;
          }
          return type == "DELETED" ? CancelledError("seen the delete") : OkStatus();
        });
  });
  ResourceRef d = Ref("configmaps", namespace_, "dropped");
  ASSERT_TRUE(client_->Create(cms, ConfigMap("dropped").dump()).ok());
  for (int i = 0; i < 100 && !added; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(added) << "the watch did not see the create";
  relay.CutAll();  // the stream breaks mid-watch
  ASSERT_TRUE(client_->Patch(d, PatchType::kMerge, R"({"data":{"k":"after-cut"}})").ok());
  ASSERT_TRUE(client_->Delete(d).ok());
  watcher.join();
  EXPECT_TRUE(watch_status.ok()) << watch_status.ToString();
  // Nothing lost and nothing repeated across the reconnect.
  EXPECT_THAT(events, ::testing::ElementsAre("ADDED v", "MODIFIED after-cut", "DELETED after-cut"));
  EXPECT_GE(relay.connections(), 2) << "the watch did not reconnect";
}

TEST_F(KubeIntegrationTest, ForbiddenRequestGivesAClearPermissionError) {
  RestConfig nobody = config_;
  nobody.token = nobody_token;
  CredentialProviderPtr creds = MakeCredentialProvider(nobody, RealClock(), *runner_);
  Client client(nobody, *transport_, *creds, RealClock());
  Status s =
      client.List(Ref("configmaps", namespace_), {}, [](std::string_view) { return OkStatus(); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("cannot list resource \"configmaps\""));
  EXPECT_THAT(s.message(), HasSubstr("system:serviceaccount:default:arca-kube-nobody"));
  EXPECT_THAT(s.message(), HasSubstr("403 Forbidden"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr(nobody_token)));

  // A bad token is Unauthenticated, after one refresh attempt.
  RestConfig bad = config_;
  bad.token = "not-a-token";
  CredentialProviderPtr bad_creds = MakeCredentialProvider(bad, RealClock(), *runner_);
  Client bad_client(bad, *transport_, *bad_creds, RealClock());
  EXPECT_EQ(bad_client.Get(Ref("namespaces", "", namespace_)).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(KubeIntegrationTest, AdminKubeconfigClientCertificate) {
  // The testenv's admin kubeconfig as it is: a client certificate in system:masters, no token.
  Result<RestConfig> config = LoadRestConfig(LoadOptions::FromEnvironment(std::nullopt, ""));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_FALSE(config->client_certificate_pem.empty());
  ASSERT_TRUE(config->token.empty());
  Result<ConnectionPtr> conn = Connection::Open(*config, RealClock());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  // Listing secrets in kube-system needs an authenticated administrator.
  int secrets = 0;
  Status s = (*conn)->client().List(Ref("secrets", "kube-system"), {}, [&](std::string_view) {
    ++secrets;
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  Result<std::string> ns = (*conn)->client().Get(Ref("namespaces", "", "kube-system"));
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  EXPECT_THAT(*ns, HasSubstr("\"name\":\"kube-system\""));
}

TEST_F(KubeIntegrationTest, TlsServerNameIsVerifiedInsteadOfTheUrlHost) {
  // The API server's certificate names kubernetes.default.svc (and 127.0.0.1). Connecting to
  // 127.0.0.1 while verifying against a name the certificate has works; against one it lacks,
  // TLS verification must fail, which proves the name is used.
  RestConfig good = config_;
  good.tls_server_name = "kubernetes.default.svc";
  Result<ConnectionPtr> conn = Connection::Open(good, RealClock());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  Result<std::string> ns = (*conn)->client().Get(Ref("namespaces", "", "default"));
  EXPECT_TRUE(ns.ok()) << ns.status().ToString();

  RestConfig wrong = config_;
  wrong.tls_server_name = "not-in-the-certificate.example";
  ClientOptions once;
  once.retry.max_attempts = 1;
  Result<ConnectionPtr> bad = Connection::Open(wrong, RealClock(), once);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  Result<std::string> refused = (*bad)->client().Get(Ref("namespaces", "", "default"));
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("certificate subject name matches target host name "
                        "'not-in-the-certificate.example'"));
}

TEST_F(KubeIntegrationTest, ExecPluginUserAuthenticates) {
  RestConfig exec_config = config_;
  exec_config.token.clear();
  ExecConfig exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  exec.command = "/bin/sh";
  exec.args = {"-c",
               "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
               "\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$ARCA_TEST_TOKEN\""};
  exec.env = {{"ARCA_TEST_TOKEN", admin_token}};
  exec.interactive_mode = "Never";
  exec_config.exec = exec;
  CredentialProviderPtr creds = MakeCredentialProvider(exec_config, RealClock(), *runner_);
  Client client(exec_config, *transport_, *creds, RealClock());
  Result<std::string> ns = client.Get(Ref("namespaces", "", namespace_));
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  EXPECT_EQ(json::parse(*ns)["metadata"]["name"], namespace_);
}

TEST_F(KubeIntegrationTest, InformerTracksAConfigMap) {
  const ResourceRef cms = Ref("configmaps", namespace_);
  std::mutex mu;
  std::vector<std::string> events;
  const auto record = [&](const std::string& what, std::string_view object) {
    const std::string name = json::parse(object)["metadata"]["name"];
    if (name != "kube-root-ca.crt") {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(what + " " + name);
    }
  };
  InformerHandlers handlers;
  handlers.on_add = [&](std::string_view o) { record("add", o); };
  handlers.on_update = [&](std::string_view, std::string_view o) { record("update", o); };
  handlers.on_delete = [&](std::string_view o) { record("delete", o); };
  InformerOptions options;
  options.watch_timeout_seconds = 1;
  Informer informer(*client_, cms, {}, RealClock(), handlers, options);
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread runner([&] { run_status = informer.Run(stop); });
  const auto wait_for = [&](const std::function<bool()>& condition) {
    for (int i = 0; i < 100 && !condition(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return condition();
  };
  EXPECT_TRUE(wait_for([&] { return informer.HasSynced(); }));
  const std::string key = namespace_ + "/tracked";
  ASSERT_TRUE(client_->Create(cms, ConfigMap("tracked").dump()).ok());
  EXPECT_TRUE(wait_for([&] { return informer.Get(key).has_value(); }));
  ASSERT_TRUE(client_
                  ->Patch(Ref("configmaps", namespace_, "tracked"), PatchType::kMerge,
                          R"({"data":{"k":"v2"}})")
                  .ok());
  EXPECT_TRUE(wait_for([&] {
    std::optional<std::string> obj = informer.Get(key);
    return obj && json::parse(*obj)["data"]["k"] == "v2";
  }));
  ASSERT_TRUE(client_->Delete(Ref("configmaps", namespace_, "tracked")).ok());
  EXPECT_TRUE(wait_for([&] { return !informer.Get(key).has_value(); }));
  stop = true;
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(events, ::testing::ElementsAre("add tracked", "update tracked", "delete tracked"));
}

}  // namespace
}  // namespace arca::kube

namespace arca::kube {
namespace {

// Sends `count` GETs of `path` at once from `count` threads through `transport` and returns
// the responses.
std::vector<Result<http::Response>> ConcurrentGets(http::Transport& transport,
                                                   const std::string& url, const std::string& token,
                                                   int count) {
  std::vector<Result<http::Response>> out(count, Result<http::Response>(UnknownError("unset")));
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      http::Request req;
      req.url = url;
      req.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
      out[i] = transport.Send(req);
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  return out;
}

TEST_F(KubeIntegrationTest, ConcurrentRequestsMultiplexOverFewHttp2Connections) {
  constexpr int kRequests = 200;
  const std::string url = config_.server + "/api/v1/namespaces/" + namespace_ + "/configmaps";
  http::TransportOptions h2;
  h2.ca_pem = config_.ca_pem;
  h2.ca_file = config_.ca_file;
  http::CurlTransport multiplexed(h2);
  int h2_connections = 0;
  for (const auto& resp : ConcurrentGets(multiplexed, url, admin_token, kRequests)) {
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->http_version, 2);
    h2_connections += resp->new_connections;
  }
  // The same burst over HTTP/1.1, where a connection carries one request at a time.
  http::TransportOptions h1 = h2;
  h1.http2 = false;
  http::CurlTransport serial(h1);
  int h1_connections = 0;
  for (const auto& resp : ConcurrentGets(serial, url, admin_token, kRequests)) {
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->http_version, 1);
    h1_connections += resp->new_connections;
  }
  std::printf("%d concurrent requests: %d HTTP/2 connections, %d HTTP/1.1 connections\n", kRequests,
              h2_connections, h1_connections);
  // The transport opens at most 8 connections per host and multiplexes streams over them;
  // HTTP/1.1 needs a connection per request in flight.
  EXPECT_GE(h2_connections, 1);
  EXPECT_LE(h2_connections, 8);
  EXPECT_GE(h1_connections, 10 * h2_connections);
}

TEST_F(KubeIntegrationTest, SlowSinkDoesNotHoldUpOtherStreamsOnTheConnection) {
  http::TransportOptions options;
  options.ca_pem = config_.ca_pem;
  options.ca_file = config_.ca_file;
  http::CurlTransport transport(options);
  // The OpenAPI document is megabytes: more than the transport buffers for a caller (1 MiB).
  const std::string big_url = config_.server + "/openapi/v2";
  const http::Headers auth = {{"Authorization", "Bearer " + admin_token},
                              {"Accept", "application/json"}};
  http::Request whole;
  whole.url = big_url;
  whole.headers = auth;
  Result<http::Response> reference = transport.Send(whole);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  ASSERT_GT(reference->body.size(), size_t{2} << 20);

  std::mutex mu;
  std::condition_variable cv;
  bool others_done = false;
  bool released_by_others = false;
  std::string received;
  const http::BodySink blocked = [&](std::string_view chunk) -> Status {
    std::unique_lock<std::mutex> lock(mu);
    // The first chunk waits until the other requests have finished (or 60 s pass).
    if (received.empty()) {
      released_by_others = cv.wait_for(lock, std::chrono::seconds(60), [&] { return others_done; });
    }
    received.append(chunk);
    return OkStatus();
  };
  Result<http::Response> big = UnknownError("unset");
  std::thread slow([&] { big = transport.Send(whole, &blocked); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the big stream is under way
  const std::string small_url = config_.server + "/api/v1/namespaces/" + namespace_ + "/configmaps";
  int ok = 0;
  int reused = 0;
  for (const auto& resp : ConcurrentGets(transport, small_url, admin_token, 50)) {
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    ok += resp->status == 200 ? 1 : 0;
    reused += resp->new_connections == 0 ? 1 : 0;
  }
  {
    const std::lock_guard<std::mutex> lock(mu);
    others_done = true;
  }
  cv.notify_all();
  slow.join();
  // Had the paused stream blocked the connection, the small requests would have waited for the
  // sink's 60 s limit instead of releasing it.
  EXPECT_TRUE(released_by_others);
  EXPECT_EQ(ok, 50);
  EXPECT_EQ(reused, 50);  // all on the connection the paused stream is using
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 200);
  EXPECT_EQ(received.size(), reference->body.size());
  EXPECT_TRUE(json::accept(received));
}

}  // namespace
}  // namespace arca::kube
