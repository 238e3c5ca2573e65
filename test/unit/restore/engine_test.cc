#include "restore/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "archive/velero_layout.h"
#include "backup/contents.h"
#include "fake_apiserver.h"
#include "fakes/fake_object_store.h"
#include "unit/kube/api_bodies.h"

namespace arca::restore {
namespace {

using Json = nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using testing::FakeApiServer;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1764158400));

struct Item {
  backup::ItemRef ref;
  Json object;
};

Item MakeItem(std::string group, std::string version, std::string resource, std::string kind,
              std::string ns, std::string name, Json extra = Json::object()) {
  Json obj = {{"apiVersion", group.empty() ? version : group + "/" + version},
              {"kind", kind},
              {"metadata",
               {{"name", name},
                {"uid", "old-uid-" + name},
                {"resourceVersion", "12345"},
                {"creationTimestamp", "2026-01-01T00:00:00Z"}}}};
  if (!ns.empty()) {
    obj["metadata"]["namespace"] = ns;
  }
  obj.merge_patch(extra);
  return Item{{group, version, resource, kind, ns, name}, obj};
}

Item ConfigMap(const std::string& ns, const std::string& name, Json extra = Json::object()) {
  Json e = {{"data", {{"k", "v-" + name}}}};
  e.merge_patch(extra);
  return MakeItem("", "v1", "configmaps", "ConfigMap", ns, name, e);
}
Item NamespaceItem(const std::string& name, Json labels = Json::object()) {
  Json extra = {{"metadata", {{"labels", labels}}}, {"status", {{"phase", "Active"}}}};
  return MakeItem("", "v1", "namespaces", "Namespace", "", name, extra);
}

std::string Tarball(const std::vector<Item>& items) {
  std::string out;
  backup::BackupContentsWriter writer(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      {}, kNow);
  EXPECT_TRUE(writer.Begin().ok());
  for (const Item& i : items) {
    EXPECT_TRUE(writer.AddItem(i.ref, i.object.dump()).ok());
  }
  EXPECT_TRUE(writer.Finish().ok());
  return out;
}

// A tar header block written by hand, for entries the TarWriter refuses to write.
std::string TarHeader(const std::string& name, char type, uint64_t size,
                      const std::string& link = "") {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(100, name.size()));
  std::snprintf(h.data() + 100, 8, "%07o", 0755);
  std::snprintf(h.data() + 108, 8, "%07o", 0);
  std::snprintf(h.data() + 116, 8, "%07o", 0);
  std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(h.data() + 136, 12, "%011o", 0);
  std::memset(h.data() + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h.data() + 157, link.data(), std::min<size_t>(100, link.size()));
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  unsigned sum = 0;
  for (unsigned char c : h) {
    sum += c;
  }
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  h[155] = ' ';
  return h;
}
std::string TarFile(const std::string& name, const std::string& content) {
  std::string out = TarHeader(name, '0', content.size()) + content;
  out.append((512 - content.size() % 512) % 512, '\0');
  return out;
}
std::string Gzip(const std::string& data) {
  std::string out;
  archive::GzipWriter gz(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      {});
  EXPECT_TRUE(gz.Write(data).ok());
  EXPECT_TRUE(gz.Finish().ok());
  return out;
}

class RecordingObserver : public RestoreObserver {
 public:
  void OnProgress(int64_t done, int64_t total) override {
    last_done = done;
    last_total = total;
    ++calls;
  }
  void OnLog(std::string_view line) override { lines.emplace_back(line); }
  int64_t last_done = -1;
  int64_t last_total = -1;
  int calls = 0;
  std::vector<std::string> lines;
};

class RestoreEngineTest : public ::testing::Test {
 protected:
  RestoreEngineTest() : clock_(kNow), server_(ARCA_TESTDATA_DIR) {
    config_.server = FakeApiServer::kServer;
    client_options_.qps = 0;
    client_options_.retry.jitter = 0;
  }

  void StoreBackup(const std::string& name, const std::vector<Item>& items) {
    ASSERT_TRUE(store_
                    .PutString(objstore::ObjectKey(archive::BackupMetadataKey(name)),
                               R"({"apiVersion":"velero.io/v1","kind":"Backup"})")
                    .ok());
    ASSERT_TRUE(
        store_.PutString(objstore::ObjectKey(archive::BackupTarballKey(name)), Tarball(items))
            .ok());
  }

  static api::Restore MakeRestore(const std::string& backup, const std::string& name = "r1") {
    api::Restore r;
    r.metadata.name = name;
    r.metadata.namespace_ = "velero";
    r.spec.backup_name = backup;
    return r;
  }

  RestoreOutcome Run(const api::Restore& restore, RestoreOptions options = {},
                     RestoreObserver* observer = nullptr) {
    kube::Client client(config_, server_, creds_, clock_, client_options_);
    RestoreEngine engine(client, &store_, clock_, std::move(options));
    return engine.Run(restore, observer);
  }

  RestoreOutcome RunBytes(const api::Restore& restore, const std::string& bytes,
                          RestoreOptions options = {}) {
    kube::Client client(config_, server_, creds_, clock_, client_options_);
    RestoreEngine engine(client, &store_, clock_, std::move(options));
    return engine.RunFromSource(restore,
                                [&bytes](const archive::ByteSink& sink) -> Result<std::string> {
                                  RETURN_IF_ERROR(sink(bytes));
                                  return std::string("tag");
                                });
  }

  static std::vector<Item> RichSet() {
    std::vector<Item> items;
    // Deliberately not in restore order: workloads first, namespaces last.
    items.push_back(MakeItem("apps", "v1", "deployments", "Deployment", "shop", "web",
                             {{"spec",
                               {{"replicas", 2},
                                {"selector", {{"matchLabels", {{"app", "web"}}}}},
                                {"template",
                                 {{"metadata", {{"labels", {{"app", "web"}}}}},
                                  {"spec", {{"containers", {{{"name", "c"}, {"image", "x"}}}}}}}}}},
                              {"status", {{"replicas", 2}}}}));
    items.push_back(
        MakeItem("", "v1", "services", "Service", "shop", "web",
                 {{"spec",
                   {{"type", "NodePort"},
                    {"clusterIP", "10.0.0.7"},
                    {"clusterIPs", {"10.0.0.7"}},
                    {"ports", {{{"port", 80}, {"protocol", "TCP"}, {"nodePort", 30080}}}}}}}));
    for (int i = 0; i < 20; ++i) {
      items.push_back(ConfigMap("shop", "cm-" + std::to_string(i)));
    }
    items.push_back(MakeItem("", "v1", "secrets", "Secret", "shop", "s1",
                             {{"type", "Opaque"}, {"data", {{"a", "Yg=="}}}}));
    items.push_back(MakeItem("", "v1", "serviceaccounts", "ServiceAccount", "shop", "builder"));
    items.push_back(MakeItem(
        "rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", "shop", "rb",
        {{"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "r"}}},
         {"subjects",
          {{{"kind", "ServiceAccount"}, {"name", "builder"}, {"namespace", "shop"}}}}}));
    items.push_back(ConfigMap("blog", "cm-a", {{"metadata", {{"labels", {{"tier", "db"}}}}}}));
    items.push_back(ConfigMap("blog", "cm-b", {{"metadata", {{"labels", {{"tier", "web"}}}}}}));
    items.push_back(MakeItem("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", "",
                             "reader", {{"rules", Json::array()}}));
    items.push_back(NamespaceItem("shop", {{"team", "a"}}));
    items.push_back(NamespaceItem("blog"));
    items.push_back(NamespaceItem("empty"));
    return items;
  }

  SimulatedClock clock_;
  FakeApiServer server_;
  kube::RestConfig config_;
  kube::ClientOptions client_options_;
  kube::fakes::TokenProvider creds_;
  objstore::testing::FakeObjectStore store_;
};

int Position(const std::vector<std::string>& order, const std::string& what) {
  auto it = std::find(order.begin(), order.end(), what);
  return it == order.end() ? -1 : static_cast<int>(it - order.begin());
}

TEST_F(RestoreEngineTest, RestoresEverythingInVeleroOrderWithLabelsAndResults) {
  StoreBackup("b1", RichSet());
  RecordingObserver observer;
  RestoreOutcome out = Run(MakeRestore("b1"), {}, &observer);
  const api::RestoreStatus& st = out.restore.status;
  EXPECT_EQ(st.phase, "Completed") << st.failure_reason;
  EXPECT_EQ(st.errors, 0);
  ASSERT_TRUE(st.progress.has_value());
  EXPECT_EQ(st.progress->total_items, 31);
  EXPECT_EQ(st.progress->items_restored, 31);
  EXPECT_EQ(observer.last_done, 31);
  EXPECT_EQ(observer.last_total, 31);
  EXPECT_FALSE(st.start_timestamp.empty());
  EXPECT_FALSE(st.completion_timestamp.empty());

  EXPECT_THAT(server_.Names("", "namespaces"), ElementsAre("blog", "empty", "shop"));
  EXPECT_EQ(server_.Names("", "configmaps").size(), 22u);
  Json ns = server_.Object("", "namespaces", "", "shop");
  EXPECT_EQ(ns["metadata"]["labels"]["team"], "a");
  EXPECT_FALSE(ns["metadata"]["labels"].contains("velero.io/restore-name"));

  Json cm = server_.Object("", "configmaps", "shop", "cm-3");
  EXPECT_EQ(cm["data"]["k"], "v-cm-3");
  EXPECT_EQ(cm["metadata"]["labels"]["velero.io/backup-name"], "b1");
  EXPECT_EQ(cm["metadata"]["labels"]["velero.io/restore-name"], "r1");
  EXPECT_NE(cm["metadata"]["uid"], "old-uid-cm-3");  // reset, then set by the server

  Json svc = server_.Object("", "services", "shop", "web");
  EXPECT_FALSE(svc["spec"].contains("clusterIP"));
  EXPECT_FALSE(svc["spec"]["ports"][0].contains("nodePort"));  // not explicitly specified
  Json deploy = server_.Object("apps", "deployments", "shop", "web");
  EXPECT_FALSE(deploy.contains("status"));  // restoreStatus not asked

  // Velero's order: namespaces, cluster roles, service accounts, role bindings(after SAs),
  // secrets, config maps, services, then the rest (deployments).
  std::vector<std::string> order = server_.CreationOrder();
  const int ns_pos = Position(order, "namespaces shop");
  const int cr = Position(order, "clusterroles reader");
  const int sa = Position(order, "serviceaccounts shop/builder");
  const int rb = Position(order, "rolebindings shop/rb");
  const int secret = Position(order, "secrets shop/s1");
  const int cm0 = Position(order, "configmaps shop/cm-0");
  const int service = Position(order, "services shop/web");
  const int dep = Position(order, "deployments shop/web");
  EXPECT_LT(ns_pos, cr);
  EXPECT_LT(cr, sa);
  EXPECT_LT(sa, rb);
  EXPECT_LT(rb, secret);
  EXPECT_LT(secret, cm0);
  EXPECT_LT(cm0, service);
  EXPECT_LT(service, dep);

  // Result files in Velero's places and formats.
  auto objects = store_.Objects();
  ASSERT_EQ(objects.count("restores/r1/restore-r1-results.gz"), 1u);
  ASSERT_EQ(objects.count("restores/r1/restore-r1-logs.gz"), 1u);
  ASSERT_EQ(objects.count("restores/r1/restore-r1-resource-list.json.gz"), 1u);
  EXPECT_THAT(out.resource_list.ToJson()["v1/ConfigMap"], Contains("shop/cm-3(created)"));
  EXPECT_THAT(out.resource_list.ToJson()["v1/Namespace"], Contains("empty(created)"));
  EXPECT_THAT(out.resource_list.ToJson()["apps/v1/Deployment"], ElementsAre("shop/web(created)"));
  EXPECT_EQ(out.created, 31);
  EXPECT_EQ(out.passes, 1);  // everything fit in the look-ahead buffer
  EXPECT_THAT(observer.lines, Contains(HasSubstr("restore finished")));
  // The priority lists name types this server lacks (snapshots, Cluster API): discovery is
  // fetched once all the same.
  EXPECT_EQ(server_.DiscoveryFetches(), 1);
}

TEST_F(RestoreEngineTest, PrioritiesSetTheOrderAndUnlistedTypesComeAfterThem) {
  StoreBackup("b1", RichSet());
  RestoreOptions options;
  options.priorities = Priorities{{"namespaces", "deployments", "configmaps"}, {}};
  RestoreOutcome out = Run(MakeRestore("b1"), options);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  std::vector<std::string> order = server_.CreationOrder();
  // The positions of the first and the last create of a type.
  auto span = [&order](const std::string& type) {
    int first = -1;
    int last = -1;
    for (int i = 0; i < static_cast<int>(order.size()); ++i) {
      if (order[i].rfind(type + " ", 0) == 0) {
        first = first < 0 ? i : first;
        last = i;
      }
    }
    return std::pair<int, int>{first, last};
  };
  const auto [ns_first, ns_last] = span("namespaces");
  const auto [dep_first, dep_last] = span("deployments");
  const auto [cm_first, cm_last] = span("configmaps");
  const auto [secret_first, secret_last] = span("secrets");
  ASSERT_GE(dep_first, 0);
  ASSERT_GE(cm_first, 0);
  ASSERT_GE(secret_first, 0);
  EXPECT_LT(ns_last, dep_first);
  EXPECT_LT(dep_last, cm_first);
  // Secrets are no longer listed: they come with the other types, after every listed one.
  EXPECT_LT(cm_last, secret_first);
}

TEST_F(RestoreEngineTest, ASmallLookAheadTakesMorePassesWithTheSameResult) {
  StoreBackup("b1", RichSet());
  RestoreOutcome big = Run(MakeRestore("b1"));
  std::vector<std::string> all_big;
  for (const char* r : {"configmaps", "secrets", "services", "serviceaccounts", "namespaces"}) {
    for (const std::string& n : server_.Names("", r)) {
      all_big.push_back(std::string(r) + " " + n);
    }
  }
  FakeApiServer fresh(ARCA_TESTDATA_DIR);
  kube::Client client(config_, fresh, creds_, clock_, client_options_);
  RestoreOptions options;
  options.lookahead_bytes = 0;
  RestoreEngine engine(client, &store_, clock_, options);
  RestoreOutcome small = engine.Run(MakeRestore("b1"));
  EXPECT_EQ(small.restore.status.phase, "Completed") << small.restore.status.failure_reason;
  EXPECT_GT(small.passes, big.passes);
  EXPECT_EQ(small.resource_list.ToJsonText(), big.resource_list.ToJsonText());
  std::vector<std::string> all_small;
  for (const char* r : {"configmaps", "secrets", "services", "serviceaccounts", "namespaces"}) {
    for (const std::string& n : fresh.Names("", r)) {
      all_small.push_back(std::string(r) + " " + n);
    }
  }
  EXPECT_EQ(all_small, all_big);
  // The order still holds with several passes.
  std::vector<std::string> order = fresh.CreationOrder();
  EXPECT_LT(Position(order, "secrets shop/s1"), Position(order, "configmaps shop/cm-0"));
  EXPECT_LT(Position(order, "services shop/web"), Position(order, "deployments shop/web"));
}

TEST_F(RestoreEngineTest, NamespaceFiltersGlobsSelectorsAndMapping) {
  StoreBackup("b1", RichSet());
  api::Restore r = MakeRestore("b1");
  r.spec.included_namespaces = {"b*"};
  r.spec.namespace_mapping = {{"blog", "blog-copy"}};
  r.spec.label_selector = Json{{"matchLabels", {{"tier", "db"}}}};
  RestoreOutcome out = Run(r);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  EXPECT_THAT(server_.Names("", "configmaps"), ElementsAre("blog-copy/cm-a"));
  // The namespace comes from the items it holds; it is created under its new name.
  EXPECT_THAT(server_.Names("", "namespaces"), ElementsAre("blog-copy"));
  // Cluster-scoped types are left out when only some namespaces are included.
  EXPECT_THAT(server_.Names("rbac.authorization.k8s.io", "clusterroles"), IsEmpty());
}

TEST_F(RestoreEngineTest, ResourceFiltersAndOrSelectors) {
  StoreBackup("b1", RichSet());
  api::Restore r = MakeRestore("b1");
  r.spec.excluded_resources = {"cm", "deployments"};  // a short name, resolved by discovery
  r.spec.included_namespaces = {"shop"};
  r.spec.include_cluster_resources = true;
  RestoreOutcome out = Run(r);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  EXPECT_THAT(server_.Names("", "configmaps"), IsEmpty());
  EXPECT_THAT(server_.Names("apps", "deployments"), IsEmpty());
  EXPECT_THAT(server_.Names("", "secrets"), ElementsAre("shop/s1"));
  EXPECT_THAT(server_.Names("rbac.authorization.k8s.io", "clusterroles"), ElementsAre("reader"));

  FakeApiServer fresh(ARCA_TESTDATA_DIR);
  kube::Client client(config_, fresh, creds_, clock_, client_options_);
  RestoreEngine engine(client, &store_, clock_);
  api::Restore r2 = MakeRestore("b1", "r2");
  r2.spec.or_label_selectors = {Json{{"matchLabels", {{"tier", "web"}}}},
                                Json{{"matchLabels", {{"team", "a"}}}}};
  RestoreOutcome out2 = engine.Run(r2);
  EXPECT_EQ(out2.restore.status.phase, "Completed");
  EXPECT_THAT(fresh.Names("", "configmaps"), ElementsAre("blog/cm-b"));
  // "shop" matched by its own label; "blog" ensured for cm-b.
  EXPECT_THAT(fresh.Names("", "namespaces"), ElementsAre("blog", "shop"));
}

TEST_F(RestoreEngineTest, MappingRewritesBindingSubjects) {
  StoreBackup("b1", RichSet());
  api::Restore r = MakeRestore("b1");
  r.spec.namespace_mapping = {{"shop", "shop2"}};
  RestoreOutcome out = Run(r);
  EXPECT_EQ(out.restore.status.phase, "Completed");
  Json rb = server_.Object("rbac.authorization.k8s.io", "rolebindings", "shop2", "rb");
  EXPECT_EQ(rb["subjects"][0]["namespace"], "shop2");
  EXPECT_EQ(server_.Object("", "namespaces", "", "shop2")["metadata"]["labels"]["team"], "a");
  EXPECT_TRUE(server_.Object("", "namespaces", "", "shop").is_null());
}

TEST_F(RestoreEngineTest, ExistingObjectsAreComparedNeverSilentlyOverwritten) {
  std::vector<Item> items = {
      NamespaceItem("ns1"), ConfigMap("ns1", "same"), ConfigMap("ns1", "differs"),
      MakeItem(
          "", "v1", "serviceaccounts", "ServiceAccount", "ns1", "sa",
          {{"secrets", {{{"name", "extra"}}}}, {"metadata", {{"labels", {{"from", "backup"}}}}}})};
  StoreBackup("b1", items);
  server_.Put("", "namespaces", "",
              {{"metadata", {{"name", "ns1"}}}, {"status", {{"phase", "Active"}}}});
  // "same" is what the restore would create; "differs" has other data.
  Json same = ConfigMap("ns1", "same").object;
  same["metadata"].erase("uid");
  same["metadata"].erase("resourceVersion");
  same["metadata"].erase("creationTimestamp");
  same["metadata"]["labels"] = {{"velero.io/backup-name", "b1"}, {"velero.io/restore-name", "r1"}};
  same["metadata"]["uid"] = "live";
  server_.Put("", "configmaps", "ns1", same);
  Json differs = ConfigMap("ns1", "differs").object;
  differs["data"]["k"] = "live-value";
  server_.Put("", "configmaps", "ns1", differs);
  server_.Put("", "serviceaccounts", "ns1",
              {{"apiVersion", "v1"},
               {"kind", "ServiceAccount"},
               {"metadata", {{"name", "sa"}, {"namespace", "ns1"}}},
               {"secrets", {{{"name", "live"}}}}});

  api::Restore r = MakeRestore("b1");
  r.spec.existing_resource_policy = "none";
  RestoreOutcome out = Run(r);
  EXPECT_EQ(out.restore.status.phase, "Completed");
  EXPECT_EQ(out.restore.status.warnings, 1);
  EXPECT_EQ(server_.Object("", "configmaps", "ns1", "differs")["data"]["k"], "live-value");
  EXPECT_THAT(out.results["warnings"]["namespaces"]["ns1"],
              ElementsAre("could not restore, ConfigMap \"differs\" already exists. Warning: the "
                          "in-cluster version is different than the backed-up version"));
  EXPECT_THAT(out.resource_list.ToJson()["v1/ConfigMap"],
              ElementsAre("ns1/differs(skipped)", "ns1/same(skipped)"));
  // The service account is merged whatever the policy.
  Json sa = server_.Object("", "serviceaccounts", "ns1", "sa");
  EXPECT_EQ(sa["secrets"].size(), 2u);
  EXPECT_EQ(sa["secrets"][1]["name"], "extra");
  EXPECT_EQ(sa["metadata"]["labels"]["from"], "backup");

  // With policy update the differing object becomes the backed-up version.
  api::Restore r2 = MakeRestore("b1", "r2");
  r2.spec.existing_resource_policy = "update";
  RestoreOutcome out2 = Run(r2);
  EXPECT_EQ(out2.restore.status.phase, "Completed");
  Json updated = server_.Object("", "configmaps", "ns1", "differs");
  EXPECT_EQ(updated["data"]["k"], "v-differs");
  EXPECT_EQ(updated["metadata"]["labels"]["velero.io/restore-name"], "r2");
  EXPECT_THAT(out2.resource_list.ToJson()["v1/ConfigMap"], Contains("ns1/differs(updated)"));

  // With no policy, Velero's other wording.
  Json again = ConfigMap("ns1", "differs").object;
  again["data"]["k"] = "changed-again";
  server_.Put("", "configmaps", "ns1", again);
  RestoreOutcome out3 = Run(MakeRestore("b1", "r3"));
  EXPECT_THAT(out3.results["warnings"]["namespaces"]["ns1"],
              Contains("could not restore, ConfigMap:differs already exists. Warning: the "
                       "in-cluster version is different than the backed-up version"));
}

TEST_F(RestoreEngineTest, NamespacesAreCreatedFirstAndReadOnlyWhenTheyExist) {
  StoreBackup("b1", {NamespaceItem("fresh", {{"team", "a"}}), ConfigMap("fresh", "c"),
                     NamespaceItem("there"), ConfigMap("there", "c"), NamespaceItem("leaving"),
                     ConfigMap("leaving", "c")});
  server_.Put("", "namespaces", "",
              {{"metadata", {{"name", "there"}}}, {"status", {{"phase", "Active"}}}});
  // Terminating, and gone at the third read.
  server_.Put("", "namespaces", "",
              {{"metadata", {{"name", "leaving"}, {"deletionTimestamp", "2026-11-26T11:59:00Z"}}},
               {"status", {{"phase", "Terminating"}}}});
  server_.RemoveAfterReads("", "namespaces", "", "leaving", 3);
  RestoreOutcome out = Run(MakeRestore("b1"));
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.results.dump();
  EXPECT_EQ(server_.Object("", "namespaces", "", "fresh")["metadata"]["labels"]["team"], "a");
  EXPECT_THAT(server_.Names("", "configmaps"), ElementsAre("fresh/c", "leaving/c", "there/c"));
  // "fresh": one create. "there": a create (409) and a read. "leaving": a create (409) and a
  // read (terminating) twice, a create (409) and the read that finds it gone, the create that
  // makes it.
  EXPECT_EQ(server_.Requests("GET", "namespaces"), 4);
  EXPECT_EQ(server_.Requests("POST", "namespaces"), 6);
  EXPECT_THAT(out.resource_list.ToJson()["v1/Namespace"],
              ElementsAre("fresh(created)", "leaving(created)", "there(skipped)"));
}

TEST_F(RestoreEngineTest, ANamespaceThatStaysTerminatingFailsItsItemsAfterTheTimeout) {
  StoreBackup("b1", {NamespaceItem("leaving"), ConfigMap("leaving", "c")});
  server_.Put("", "namespaces", "",
              {{"metadata", {{"name", "leaving"}, {"deletionTimestamp", "2026-11-26T11:59:00Z"}}},
               {"status", {{"phase", "Terminating"}}}});
  RestoreOptions options;
  options.namespace_terminating_timeout = std::chrono::seconds(5);
  RestoreOutcome out = Run(MakeRestore("b1"), options);
  EXPECT_EQ(out.restore.status.phase, "PartiallyFailed");
  EXPECT_THAT(out.results["errors"]["namespaces"]["leaving"],
              Contains(HasSubstr("namespace \"leaving\" is still terminating; wait until it is "
                                 "gone, or restore into another namespace")));
  EXPECT_THAT(server_.Names("", "configmaps"), IsEmpty());
}

TEST_F(RestoreEngineTest, TheObjectsEveryNamespaceHasAreReadBeforeTheyAreCreated) {
  // kube-root-ca.crt and the default ServiceAccount exist in "ns1" (the cluster made them), not
  // yet in "ns2".
  std::vector<Item> items = {NamespaceItem("ns1"), NamespaceItem("ns2")};
  for (const char* ns : {"ns1", "ns2"}) {
    items.push_back(ConfigMap(ns, "kube-root-ca.crt", {{"data", {{"ca.crt", "PEM"}}}}));
    items.push_back(MakeItem("", "v1", "serviceaccounts", "ServiceAccount", ns, "default"));
    items.push_back(ConfigMap(ns, "app"));
  }
  StoreBackup("b1", items);
  server_.Put("", "namespaces", "",
              {{"metadata", {{"name", "ns1"}}}, {"status", {{"phase", "Active"}}}});
  Json ca = ConfigMap("ns1", "kube-root-ca.crt", {{"data", {{"ca.crt", "PEM"}}}}).object;
  ca["metadata"]["uid"] = "live";
  server_.Put("", "configmaps", "ns1", ca);
  server_.Put("", "serviceaccounts", "ns1",
              {{"apiVersion", "v1"},
               {"kind", "ServiceAccount"},
               {"metadata", {{"name", "default"}, {"namespace", "ns1"}, {"uid", "live"}}}});
  RestoreOutcome out = Run(MakeRestore("b1"));
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.results.dump();
  // ns1's are read and not created; ns2's are read (absent) and created; "app" only created.
  EXPECT_EQ(server_.Requests("GET", "configmaps"), 2);
  EXPECT_EQ(server_.Requests("GET", "serviceaccounts"), 2);
  EXPECT_EQ(server_.Requests("POST", "configmaps"), 3);
  EXPECT_EQ(server_.Requests("POST", "serviceaccounts"), 1);
  EXPECT_EQ(server_.Object("", "configmaps", "ns1", "kube-root-ca.crt")["metadata"]["uid"], "live");
  EXPECT_EQ(server_.Object("", "configmaps", "ns2", "kube-root-ca.crt")["data"]["ca.crt"], "PEM");
  EXPECT_THAT(out.resource_list.ToJson()["v1/ConfigMap"],
              ElementsAre("ns1/app(created)", "ns1/kube-root-ca.crt(skipped)", "ns2/app(created)",
                          "ns2/kube-root-ca.crt(created)"));
  EXPECT_THAT(out.resource_list.ToJson()["v1/ServiceAccount"],
              ElementsAre("ns1/default(skipped)", "ns2/default(created)"));
}

// A headless Service as `kubectl create` leaves it: the API server allocated clusterIPs,
// ipFamilies and ipFamilyPolicy after its field manager ran, so kubectl's entry does not own them.
Item HeadlessService(const std::string& name) {
  Json fields = {{"f:metadata", {{"f:labels", {{".", Json::object()}, {"f:app", Json::object()}}}}},
                 {"f:spec",
                  {{"f:clusterIP", Json::object()},
                   {"f:ports", {{".", Json::object()}}},
                   {"f:selector", Json::object()},
                   {"f:sessionAffinity", Json::object()},
                   {"f:type", Json::object()}}}};
  return MakeItem("", "v1", "services", "Service", "ns1", name,
                  {{"metadata",
                    {{"labels", {{"app", name}}},
                     {"managedFields", Json::array({{{"manager", "kubectl-create"},
                                                     {"operation", "Update"},
                                                     {"apiVersion", "v1"},
                                                     {"time", "2026-01-01T00:00:00Z"},
                                                     {"fieldsType", "FieldsV1"},
                                                     {"fieldsV1", fields}}})}}},
                   {"spec",
                    {{"clusterIP", "None"},
                     {"clusterIPs", {"None"}},
                     {"ipFamilies", {"IPv4"}},
                     {"ipFamilyPolicy", "SingleStack"},
                     {"ports", {{{"port", 80}, {"protocol", "TCP"}}}},
                     {"selector", {{"app", name}}},
                     {"sessionAffinity", "None"},
                     {"type", "ClusterIP"}}}});
}

TEST_F(RestoreEngineTest, AServiceLeavesTheFieldsNoManagerOwnedToTheAllocator) {
  StoreBackup("b1", {NamespaceItem("ns1"), HeadlessService("web")});
  RestoreOutcome out = Run(MakeRestore("b1"));
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.results.dump();
  std::vector<Json> bodies = server_.CreateBodies("services");
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_FALSE(bodies[0]["spec"].contains("clusterIPs"));
  EXPECT_FALSE(bodies[0]["spec"].contains("ipFamilies"));
  EXPECT_FALSE(bodies[0]["spec"].contains("ipFamilyPolicy"));
  EXPECT_EQ(bodies[0]["spec"]["clusterIP"], "None");
  Json svc = server_.Object("", "services", "ns1", "web");
  EXPECT_EQ(svc["spec"]["clusterIPs"], Json::array({"None"}));
  EXPECT_EQ(svc["spec"]["ipFamilies"], Json::array({"IPv4"}));
  EXPECT_EQ(svc["spec"]["ipFamilyPolicy"], "SingleStack");
  EXPECT_EQ(server_.Requests("DELETE", "services"), 0);
}

TEST_F(RestoreEngineTest, AServiceTheClusterAllocatesOtherwiseIsMadeAgainAsBackedUp) {
  server_.SetServiceIpFamily("IPv6");
  StoreBackup("b1", {NamespaceItem("ns1"), HeadlessService("web")});
  RecordingObserver observer;
  RestoreOutcome out = Run(MakeRestore("b1"), {}, &observer);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.results.dump();
  std::vector<Json> bodies = server_.CreateBodies("services");
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_FALSE(bodies[0]["spec"].contains("ipFamilies"));
  EXPECT_EQ(bodies[1]["spec"]["ipFamilies"], Json::array({"IPv4"}));
  EXPECT_EQ(server_.Requests("DELETE", "services"), 1);
  Json svc = server_.Object("", "services", "ns1", "web");
  EXPECT_EQ(svc["spec"]["ipFamilies"], Json::array({"IPv4"}));
  EXPECT_EQ(svc["spec"]["clusterIPs"], Json::array({"None"}));
  EXPECT_EQ(svc["metadata"]["managedFields"][0]["manager"], "kubectl-create");
  EXPECT_THAT(observer.lines, Contains(HasSubstr("the cluster allocated other")));
  EXPECT_THAT(out.resource_list.ToJson()["v1/Service"], ElementsAre("ns1/web(created)"));
}

TEST_F(RestoreEngineTest, HostileTarballsAreRefusedWithNothingRestored) {
  const std::string good =
      TarFile("metadata/version", "1.1.0\n") +
      TarFile("resources/namespaces/cluster/ns1.json", NamespaceItem("ns1").object.dump()) +
      TarFile("resources/configmaps/namespaces/ns1/a.json", ConfigMap("ns1", "a").object.dump());
  const std::string end(1024, '\0');
  struct Case {
    std::string name;
    std::string bytes;
    std::string expect;
  };
  std::string escape =
      good + TarFile("resources/configmaps/namespaces/ns1/../../../../etc/x.json", "{}") + end;
  std::string link =
      good + TarHeader("resources/configmaps/namespaces/ns1/l.json", '2', 0, "/etc/passwd") + end;
  std::string huge =
      good + TarHeader("resources/configmaps/namespaces/ns1/big.json", '0', 077777777777ull) + end;
  std::string corrupt = Gzip(
      good + TarFile("resources/configmaps/namespaces/ns1/b.json", std::string(100000, 'x')) + end);
  corrupt[corrupt.size() / 2] ^= 0x55;
  std::string cut = Gzip(good + end);
  cut.resize(cut.size() - 20);
  std::vector<Case> cases = {{"escape", Gzip(escape), ".."},
                             {"link", Gzip(link), "not regular files"},
                             {"huge", Gzip(huge), "limit"},
                             {"corrupt", corrupt, ""},
                             {"cut", cut, ""},
                             {"not gzip", good + end, ""}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RestoreOutcome out = RunBytes(MakeRestore("b1"), c.bytes);
    EXPECT_EQ(out.restore.status.phase, "Failed");
    EXPECT_THAT(out.restore.status.failure_reason, HasSubstr("reading the backup tarball"));
    EXPECT_THAT(out.restore.status.failure_reason, HasSubstr(c.expect));
    EXPECT_EQ(server_.Requests("POST"), 0);
  }
  // The good part alone restores.
  RestoreOutcome ok = RunBytes(MakeRestore("b1"), Gzip(good + end));
  EXPECT_EQ(ok.restore.status.phase, "Completed") << ok.restore.status.failure_reason;
  EXPECT_THAT(server_.Names("", "configmaps"), ElementsAre("ns1/a"));
}

TEST_F(RestoreEngineTest, ValidationFailuresNameTheProblem) {
  StoreBackup("b1", RichSet());
  api::Restore r = MakeRestore("b1");
  r.spec.included_resources = {"nodes", "pods"};
  r.spec.label_selector = Json{{"matchLabels", {{"a", "b"}}}};
  r.spec.or_label_selectors = {Json{{"matchLabels", {{"c", "d"}}}}};
  r.spec.existing_resource_policy = "replace";
  RestoreOutcome out = Run(r);
  EXPECT_EQ(out.restore.status.phase, "FailedValidation");
  EXPECT_THAT(out.restore.status.validation_errors,
              ElementsAre(HasSubstr("nodes are non-restorable resources"),
                          HasSubstr("only one can be specified"),
                          HasSubstr("Invalid existingResourcePolicy: replace")));
  EXPECT_EQ(server_.Requests("POST"), 0);

  // A schedule resolved to its backup keeps both names, as Velero's controller does.
  api::Restore from_schedule = MakeRestore("b1", "r-sched");
  from_schedule.spec.schedule_name = "nightly";
  EXPECT_EQ(Run(from_schedule).restore.status.phase, "Completed");
  api::Restore unresolved = MakeRestore("", "r-unresolved");
  unresolved.spec.schedule_name = "nightly";
  EXPECT_THAT(Run(unresolved).restore.status.validation_errors,
              ElementsAre(HasSubstr("was not resolved to a backup")));

  RestoreOutcome missing = Run(MakeRestore("nope"));
  EXPECT_EQ(missing.restore.status.phase, "FailedValidation");
  EXPECT_THAT(missing.restore.status.validation_errors,
              ElementsAre(HasSubstr("backup \"nope\" was not found")));
}

TEST_F(RestoreEngineTest, OverloadedServerHalvesConcurrencyAndRetries) {
  std::vector<Item> items = {NamespaceItem("ns1")};
  for (int i = 0; i < 30; ++i) {
    items.push_back(ConfigMap("ns1", "cm-" + std::to_string(i)));
  }
  StoreBackup("b1", items);
  client_options_.retry.max_attempts = 1;  // every 429 reaches the engine
  server_.Fail429(12);
  RestoreOptions options;
  options.concurrency = 8;
  options.unavailable_retries = 20;
  RecordingObserver observer;
  RestoreOutcome out = Run(MakeRestore("b1"), options, &observer);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  EXPECT_EQ(server_.Names("", "configmaps").size(), 30u);
  // 8 -> 4 -> 2 -> 1 requests in flight.
  EXPECT_THAT(observer.lines, Contains(HasSubstr("overloaded; 4 requests in flight")));
  EXPECT_THAT(observer.lines, Contains(HasSubstr("overloaded; 1 requests in flight")));

  // With too few retries, the item that met the 429s fails with the server's words.
  FakeApiServer fresh(ARCA_TESTDATA_DIR);
  fresh.Fail429(100);
  kube::Client client(config_, fresh, creds_, clock_, client_options_);
  options.unavailable_retries = 2;
  RestoreEngine engine(client, &store_, clock_, options);
  RestoreOutcome failed = engine.Run(MakeRestore("b1", "r2"));
  EXPECT_EQ(failed.restore.status.phase, "PartiallyFailed");
  EXPECT_THAT(failed.results["errors"]["namespaces"]["ns1"][0], HasSubstr("429 TooManyRequests"));
}

// The CustomResourceDefinition of example.com's namespaced Widgets (v1).
Item WidgetCrd() {
  const Json spec = {
      {"spec",
       {{"group", "example.com"},
        {"scope", "Namespaced"},
        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
        {"versions", Json::array({{{"name", "v1"}, {"served", true}, {"storage", true}}})}}}};
  return MakeItem("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                  "CustomResourceDefinition", "", "widgets.example.com", spec);
}

// A CRD restored with its custom resources: the API server says Established before discovery
// lists the new type, so discovery is fetched again until it does, and the resources are created.
TEST_F(RestoreEngineTest, CustomResourcesWaitUntilDiscoveryListsTheirNewType) {
  StoreBackup("b1", {NamespaceItem("ns1"), WidgetCrd(),
                     MakeItem("example.com", "v1", "widgets", "Widget", "ns1", "w1"),
                     MakeItem("example.com", "v1", "widgets", "Widget", "ns1", "w2")});
  server_.PublishCrdsAfterFetches(3);
  RestoreOutcome out = Run(MakeRestore("b1"));
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.results.dump();
  EXPECT_THAT(server_.Names("example.com", "widgets"), ElementsAre("ns1/w1", "ns1/w2"));
  EXPECT_GE(server_.DiscoveryFetches(), 3);
}

// A CRD that is Established but never listed (it serves none of its versions, say) holds the
// restore up for 30 s of polling at most; its custom resources then fail as an unserved type's.
TEST_F(RestoreEngineTest, ACrdThatDiscoveryNeverListsStopsTheWaitAfterThirtySeconds) {
  StoreBackup("b1", {NamespaceItem("ns1"), WidgetCrd(),
                     MakeItem("example.com", "v1", "widgets", "Widget", "ns1", "w1")});
  server_.PublishCrdsAfterFetches(1000000);
  const auto start = clock_.Now();
  RecordingObserver observer;
  RestoreOutcome out = Run(MakeRestore("b1"), {}, &observer);
  EXPECT_EQ(out.restore.status.phase, "PartiallyFailed");
  EXPECT_THAT(out.results["errors"]["namespaces"]["ns1"][0],
              HasSubstr("the cluster does not serve widgets.example.com"));
  EXPECT_GE(clock_.Now() - start, std::chrono::seconds(30));
  EXPECT_LT(clock_.Now() - start, std::chrono::seconds(32));
  EXPECT_LE(server_.DiscoveryFetches(), 310);
  EXPECT_THAT(observer.lines, Contains(HasSubstr("level=warning msg=\"discovery does not list")));
}

TEST_F(RestoreEngineTest, CreatesInParallelUpToTheConcurrencyAndResultsAreDeterministic) {
  std::vector<Item> items = {NamespaceItem("ns1")};
  for (int i = 0; i < 40; ++i) {
    items.push_back(ConfigMap("ns1", "cm-" + std::to_string(i)));
    // Types the cluster does not serve: each is an error, reported per namespace.
    items.push_back(
        MakeItem("example.com", "v1", "widgets", "Widget", "ns1", "w-" + std::to_string(i)));
  }
  StoreBackup("b1", items);
  server_.SetCreateDelayMicros(2000);
  RestoreOptions parallel;
  parallel.concurrency = 8;
  RestoreOutcome a = Run(MakeRestore("b1"), parallel);
  EXPECT_GT(server_.MaxConcurrentCreates(), 1);
  EXPECT_LE(server_.MaxConcurrentCreates(), 8);
  EXPECT_EQ(a.restore.status.phase, "PartiallyFailed");
  EXPECT_EQ(a.restore.status.errors, 40);
  EXPECT_THAT(a.results["errors"]["namespaces"]["ns1"][0],
              HasSubstr("the cluster does not serve widgets.example.com"));

  FakeApiServer fresh(ARCA_TESTDATA_DIR);
  kube::Client client(config_, fresh, creds_, clock_, client_options_);
  RestoreOptions serial;
  serial.concurrency = 1;
  RestoreEngine engine(client, &store_, clock_, serial);
  RestoreOutcome b = engine.Run(MakeRestore("b1"));
  EXPECT_EQ(fresh.MaxConcurrentCreates(), 1);
  EXPECT_EQ(a.results, b.results);
  EXPECT_EQ(a.resource_list.ToJsonText(), b.resource_list.ToJsonText());
}

TEST_F(RestoreEngineTest, StatusManagedFieldsPodsJobsAndVolumes) {
  Json managed = Json::array({{{"manager", "kubectl"}, {"operation", "Update"}}});
  std::vector<Item> items = {
      NamespaceItem("ns1"),
      MakeItem("apps", "v1", "deployments", "Deployment", "ns1", "d",
               {{"metadata", {{"managedFields", managed}}},
                {"spec", {{"replicas", 1}}},
                {"status", {{"replicas", 1}, {"readyReplicas", 1}}}}),
      MakeItem("", "v1", "pods", "Pod", "ns1", "done", {{"status", {{"phase", "Succeeded"}}}}),
      MakeItem("", "v1", "pods", "Pod", "ns1", "running",
               {{"spec", {{"nodeName", "n1"}, {"containers", {{{"name", "c"}}}}}},
                {"status", {{"phase", "Running"}}}}),
      MakeItem("batch", "v1", "jobs", "Job", "ns1", "finished",
               {{"status", {{"completionTime", "2026-01-01T00:00:00Z"}}}}),
      MakeItem("", "v1", "persistentvolumes", "PersistentVolume", "", "pv-delete",
               {{"spec", {{"persistentVolumeReclaimPolicy", "Delete"}}}}),
      MakeItem("", "v1", "persistentvolumes", "PersistentVolume", "", "pv-keep",
               {{"spec",
                 {{"persistentVolumeReclaimPolicy", "Retain"},
                  {"claimRef", {{"namespace", "ns1"}, {"name", "c2"}, {"uid", "u"}}}}}}),
      MakeItem("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", "ns1", "c1",
               {{"spec", {{"volumeName", "pv-delete"}}}}),
      MakeItem("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", "ns1", "c2",
               {{"spec", {{"volumeName", "pv-keep"}}}}),
  };
  StoreBackup("b1", items);
  api::Restore r = MakeRestore("b1");
  r.spec.restore_status = api::RestoreStatusSpec{{"deployments"}, {}};
  std::vector<std::string> pods_seen;
  RestoreOptions options;
  options.on_pod_created = [&](const std::string& ns, const Json& pod) {
    pods_seen.push_back(ns + "/" + pod["metadata"]["name"].get<std::string>());
  };
  RestoreOutcome out = Run(r, options);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  Json d = server_.Object("apps", "deployments", "ns1", "d");
  EXPECT_EQ(d["status"]["readyReplicas"], 1);
  EXPECT_EQ(d["metadata"]["managedFields"], managed);  // patched back after the create
  EXPECT_THAT(server_.Names("", "pods"), ElementsAre("ns1/running"));
  EXPECT_FALSE(server_.Object("", "pods", "ns1", "running")["spec"].contains("nodeName"));
  EXPECT_THAT(pods_seen, ElementsAre("ns1/running"));
  EXPECT_THAT(server_.Names("batch", "jobs"), IsEmpty());
  EXPECT_THAT(server_.Names("", "persistentvolumes"), ElementsAre("pv-keep"));
  EXPECT_FALSE(
      server_.Object("", "persistentvolumes", "", "pv-keep")["spec"]["claimRef"].contains("uid"));
  EXPECT_FALSE(
      server_.Object("", "persistentvolumeclaims", "ns1", "c1")["spec"].contains("volumeName"));
  EXPECT_EQ(server_.Object("", "persistentvolumeclaims", "ns1", "c2")["spec"]["volumeName"],
            "pv-keep");
  EXPECT_THAT(out.resource_list.ToJson()["v1/Pod"],
              ElementsAre("ns1/done(skipped)", "ns1/running(created)"));
}

TEST_F(RestoreEngineTest, ABoundClaimBringsItsVolumeUnderANamespaceFilter) {
  auto pv = [](const std::string& name) {
    return MakeItem("", "v1", "persistentvolumes", "PersistentVolume", "", name,
                    {{"spec", {{"persistentVolumeReclaimPolicy", "Retain"}}}});
  };
  std::vector<Item> items = {
      NamespaceItem("ns1"), pv("pv-bound"), pv("pv-other"),
      MakeItem("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", "ns1", "data",
               {{"spec", {{"volumeName", "pv-bound"}}}, {"status", {{"phase", "Bound"}}}})};
  StoreBackup("b1", items);
  api::Restore r = MakeRestore("b1");
  r.spec.included_namespaces = {"ns1"};  // cluster-scoped types are otherwise left out
  RestoreOutcome out = Run(r);
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  EXPECT_THAT(server_.Names("", "persistentvolumes"), ElementsAre("pv-bound"));
  EXPECT_EQ(server_.Object("", "persistentvolumeclaims", "ns1", "data")["spec"]["volumeName"],
            "pv-bound");

  FakeApiServer fresh(ARCA_TESTDATA_DIR);
  kube::Client client(config_, fresh, creds_, clock_, client_options_);
  RestoreEngine engine(client, &store_, clock_);
  api::Restore no_cluster = MakeRestore("b1", "r2");
  no_cluster.spec.included_namespaces = {"ns1"};
  no_cluster.spec.include_cluster_resources = false;
  EXPECT_EQ(engine.Run(no_cluster).restore.status.phase, "Completed");
  EXPECT_THAT(fresh.Names("", "persistentvolumes"), IsEmpty());
  EXPECT_THAT(fresh.Names("", "persistentvolumeclaims"), ElementsAre("ns1/data"));
}

TEST_F(RestoreEngineTest, TarballFileSourceAndNames) {
  const std::string path = ::testing::TempDir() + "/arca-restore-test.tar.gz";
  {
    std::ofstream f(path, std::ios::binary);
    f << Tarball({NamespaceItem("ns1"), ConfigMap("ns1", "a")});
  }
  kube::Client client(config_, server_, creds_, clock_, client_options_);
  RestoreEngine engine(client, nullptr, clock_);
  RestoreOutcome out = engine.RunFromSource(MakeRestore("b1"), FileTarball(path));
  EXPECT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason;
  EXPECT_THAT(server_.Names("", "configmaps"), ElementsAre("ns1/a"));
  std::filesystem::remove(path);
  RestoreOutcome missing = engine.RunFromSource(MakeRestore("b1"), FileTarball(path));
  EXPECT_EQ(missing.restore.status.phase, "Failed");
  EXPECT_THAT(missing.restore.status.failure_reason, HasSubstr("cannot open the backup tarball"));

  EXPECT_THAT(DefaultRestoreName("nightly", kNow), ::testing::MatchesRegex("nightly-[0-9]{14}"));
}

TEST(CreateMergePatchTest, ChangesRemovalsAndNesting) {
  Json from = {{"a", 1}, {"b", {{"c", 1}, {"d", 2}}}, {"e", {1, 2}}, {"gone", true}};
  Json to = {{"a", 1}, {"b", {{"c", 3}, {"d", 2}}}, {"e", {1}}, {"new", "x"}};
  Json patch = CreateMergePatch(from, to);
  EXPECT_EQ(patch, Json({{"b", {{"c", 3}}}, {"e", {1}}, {"gone", nullptr}, {"new", "x"}}));
  Json applied = from;
  applied.merge_patch(patch);
  EXPECT_EQ(applied, to);
  EXPECT_TRUE(CreateMergePatch(to, to).is_null());
}

TEST(ValidateRestoreSpecTest, SourceAndMappings) {
  api::RestoreSpec spec;
  EXPECT_THAT(ValidateRestoreSpec(spec),
              ElementsAre(HasSubstr("Either a backup or schedule must be specified")));
  spec.backup_name = "b";
  spec.namespace_mapping = {{"a", "Not_Valid"}};
  EXPECT_THAT(ValidateRestoreSpec(spec), ElementsAre(HasSubstr("\"Not_Valid\" is not a valid")));
  spec.namespace_mapping = {{"a", "b"}};
  EXPECT_THAT(ValidateRestoreSpec(spec), IsEmpty());
}

}  // namespace
}  // namespace arca::restore
