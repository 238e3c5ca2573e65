#include "backup/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "archive/gzip.h"
#include "archive/tar.h"
#include "test/fakes/fake_object_store.h"
#include "unit/backup/fake_api_server.h"
#include "unit/kube/api_bodies.h"

namespace arca::backup {
namespace {

using objstore::testing::FakeObjectStore;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::FakeApiServer;
using ::testing::HasSubstr;

const auto kStart = std::chrono::system_clock::time_point(std::chrono::seconds(1764158400));

nlohmann::json Labelled(std::map<std::string, std::string> labels, nlohmann::json obj = {}) {
  if (obj.is_null()) {
    obj = nlohmann::json::object();
  }
  obj["metadata"]["labels"] = labels;
  return obj;
}

// Records the order of Puts.
class RecordingStore : public FakeObjectStore {
 public:
  using ObjectStore::Put;
  Status Put(const objstore::ObjectKey& key, const objstore::ObjectReader& reader,
             const objstore::PutOptions& options) override {
    Status s = FakeObjectStore::Put(key, reader, options);
    if (s.ok()) {
      const std::lock_guard<std::mutex> lock(order_mu_);
      order_.push_back(key.value());
    }
    return s;
  }
  std::vector<std::string> Order() {
    const std::lock_guard<std::mutex> lock(order_mu_);
    return order_;
  }

 private:
  std::mutex order_mu_;
  std::vector<std::string> order_;
};

struct Entry {
  std::string name;
  std::string content;
};

std::vector<Entry> ReadTarball(const std::string& tar_gz) {
  std::vector<Entry> entries;
  archive::TarReader tar([&](const archive::TarEntry& e) {
    entries.push_back({e.name, std::string(e.content)});
    return OkStatus();
  });
  archive::GunzipStream gunzip(tar.AsSink());
  EXPECT_TRUE(gunzip.Write(tar_gz).ok());
  EXPECT_TRUE(gunzip.Finish().ok());
  EXPECT_TRUE(tar.Finish().ok());
  return entries;
}

std::string Gunzip(const std::string& gz) {
  std::string out;
  archive::GunzipStream gunzip([&](std::string_view d) {
    out.append(d);
    return OkStatus();
  });
  EXPECT_TRUE(gunzip.Write(gz).ok());
  EXPECT_TRUE(gunzip.Finish().ok());
  return out;
}

class BackupEngineTest : public ::testing::Test {
 protected:
  BackupEngineTest() : clock_(kStart) {
    config_.server = FakeApiServer::kServer;
    client_options_.qps = 0;
    Seed();
  }

  // ns1: the application; ns2: labelled velero.io/exclude-from-backup; ns3: small.
  void Seed() {
    nlohmann::json active = {{"status", {{"phase", "Active"}}}};
    api_.Add("", "namespaces", "", "ns1", active);
    api_.Add("", "namespaces", "", "ns2",
             Labelled({{"velero.io/exclude-from-backup", "true"}}, active));
    api_.Add("", "namespaces", "", "ns3", Labelled({{"team", "db"}}, active));
    api_.Add("", "configmaps", "ns1", "cm1", Labelled({{"app", "web"}}));
    api_.Add("", "configmaps", "ns1", "cm2", Labelled({{"app", "web"}, {"tier", "front"}}));
    api_.Add("", "configmaps", "ns1", "skipped",
             Labelled({{"velero.io/exclude-from-backup", "true"}}));
    api_.Add(
        "", "configmaps", "ns1", "dying",
        {{"metadata", {{"deletionTimestamp", "2026-01-01T00:00:00Z"}, {"finalizers", {"x/y"}}}}});
    api_.Add("", "configmaps", "ns2", "hidden");
    api_.Add("", "configmaps", "ns3", "db-config", Labelled({{"app", "db"}}));
    api_.Add("", "secrets", "ns1", "s1", Labelled({{"app", "web"}}));
    api_.Add("", "serviceaccounts", "ns1", "sa1");
    api_.Add("", "pods", "ns1", "p1",
             Labelled({{"app", "web"}},
                      {{"spec",
                        {{"priorityClassName", "high"},
                         {"volumes",
                          {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "c1"}}}},
                           {{"name", "tmp"}, {"emptyDir", nlohmann::json::object()}}}}}}}));
    api_.Add("", "persistentvolumeclaims", "ns1", "c1",
             {{"spec",
               {{"volumeName", "pv1"},
                {"storageClassName", "standard"},
                {"dataSource", {{"kind", "VolumeSnapshot"}, {"name", "snap"}}},
                {"selector", {{"matchLabels", {{"a", "b"}}}}}}}});
    api_.Add("", "persistentvolumes", "", "pv1", {{"spec", {{"capacity", {{"storage", "1Gi"}}}}}});
    api_.Add("", "persistentvolumes", "", "pv-unused");
    api_.Add("apps", "deployments", "ns1", "d1", Labelled({{"app", "web"}}));
    api_.Add("scheduling.k8s.io", "priorityclasses", "", "high", {{"value", 1000}});
    api_.Add(
        "rbac.authorization.k8s.io", "clusterrolebindings", "", "b1",
        {{"subjects", {{{"kind", "ServiceAccount"}, {"name", "sa1"}, {"namespace", "ns1"}}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "r1"}}}});
    api_.Add("rbac.authorization.k8s.io", "clusterrolebindings", "", "b2",
             {{"subjects", {{{"kind", "User"}, {"name", "alice"}}}},
              {"roleRef", {{"kind", "ClusterRole"}, {"name", "r2"}}}});
    api_.Add("rbac.authorization.k8s.io", "clusterroles", "", "r1");
    api_.Add("rbac.authorization.k8s.io", "clusterroles", "", "r2");
    api_.Add("example.com", "widgets", "ns1", "w1",
             {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"spec", {{"size", 3}}}});
    api_.Add("apiextensions.k8s.io", "customresourcedefinitions", "", "widgets.example.com",
             {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"spec", {{"group", "example.com"}}}});
  }

  api::Backup Run(api::Backup b, BackupEngineOptions options = {},
                  const BackupObserver& observer = {}) {
    options.gzip.workers = 1;
    kube::Client client(config_, api_, creds_, clock_, client_options_);
    BackupEngine engine(client, store_, clock_, options);
    return engine.Run(std::move(b), observer);
  }

  static api::Backup Named(std::string name) {
    api::Backup b;
    b.metadata.name = std::move(name);
    return b;
  }

  // The tarball's entry names, without the -preferredversion copies (checked separately),
  // sorted.
  std::vector<std::string> Entries(const std::string& name) {
    std::vector<std::string> out;
    for (const Entry& e :
         ReadTarball(store_.Objects().at("backups/" + name + "/" + name + ".tar.gz"))) {
      if (e.name.find("-preferredversion/") == std::string::npos) {
        out.push_back(e.name);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  nlohmann::json SideFile(const std::string& name, const std::string& suffix) {
    return nlohmann::json::parse(
        Gunzip(store_.Objects().at("backups/" + name + "/" + name + "-" + suffix)));
  }

  kube::RestConfig config_;
  FakeApiServer api_;
  kube::fakes::TokenProvider creds_;
  SimulatedClock clock_;
  kube::ClientOptions client_options_;
  RecordingStore store_;
};

TEST_F(BackupEngineTest, FullBackupHasEveryIncludedItemOnceAndEveryClusterScopedType) {
  // No namespace excluded at all: a full backup, which takes every cluster-scoped type.
  api_.Add("", "namespaces", "", "ns2", {{"status", {{"phase", "Active"}}}});
  api::Backup done = Run(Named("full"));
  ASSERT_EQ(done.status.phase, "Completed") << done.status.failure_reason;
  EXPECT_THAT(
      Entries("full"),
      ElementsAre("metadata/version",
                  "resources/clusterrolebindings.rbac.authorization.k8s.io/cluster/b1.json",
                  "resources/clusterrolebindings.rbac.authorization.k8s.io/cluster/b2.json",
                  "resources/clusterroles.rbac.authorization.k8s.io/cluster/r1.json",
                  "resources/clusterroles.rbac.authorization.k8s.io/cluster/r2.json",
                  "resources/configmaps/namespaces/ns1/cm1.json",
                  "resources/configmaps/namespaces/ns1/cm2.json",
                  "resources/configmaps/namespaces/ns2/hidden.json",
                  "resources/configmaps/namespaces/ns3/db-config.json",
                  "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/"
                  "widgets.example.com.json",
                  "resources/deployments.apps/namespaces/ns1/d1.json",
                  "resources/namespaces/cluster/ns1.json", "resources/namespaces/cluster/ns2.json",
                  "resources/namespaces/cluster/ns3.json",
                  "resources/persistentvolumeclaims/namespaces/ns1/c1.json",
                  "resources/persistentvolumes/cluster/pv-unused.json",
                  "resources/persistentvolumes/cluster/pv1.json",
                  "resources/pods/namespaces/ns1/p1.json",
                  "resources/priorityclasses.scheduling.k8s.io/cluster/high.json",
                  "resources/secrets/namespaces/ns1/s1.json",
                  "resources/serviceaccounts/namespaces/ns1/sa1.json",
                  "resources/widgets.example.com/namespaces/ns1/w1.json"));

  // Each item also under its preferred version, with apiVersion and kind filled in.
  std::map<std::string, std::string> all;
  for (const Entry& e : ReadTarball(store_.Objects().at("backups/full/full.tar.gz"))) {
    EXPECT_TRUE(all.emplace(e.name, e.content).second) << "twice: " << e.name;
  }
  EXPECT_EQ(all.at("metadata/version"), "1.1.0\n");
  EXPECT_EQ(all.size(), 1 + 2 * (Entries("full").size() - 1));
  nlohmann::json d1 = nlohmann::json::parse(
      all.at("resources/deployments.apps/v1-preferredversion/namespaces/ns1/d1.json"));
  EXPECT_EQ(d1["apiVersion"], "apps/v1");
  EXPECT_EQ(d1["kind"], "Deployment");
  EXPECT_EQ(d1["metadata"]["uid"], "uid-deployments-ns1-d1");
  nlohmann::json w1 =
      nlohmann::json::parse(all.at("resources/widgets.example.com/namespaces/ns1/w1.json"));
  EXPECT_EQ(w1["kind"], "Widget");
  EXPECT_EQ(w1["spec"]["size"], 3);
  // The PVC as Velero's PVC action leaves it.
  nlohmann::json c1 =
      nlohmann::json::parse(all.at("resources/persistentvolumeclaims/namespaces/ns1/c1.json"));
  EXPECT_FALSE(c1["spec"].contains("dataSource"));
  EXPECT_FALSE(c1["spec"].contains("selector"));
  EXPECT_EQ(c1["spec"]["volumeName"], "pv1");
  EXPECT_EQ(c1["kind"], "PersistentVolumeClaim");

  EXPECT_EQ(done.status.format_version, "1.1.0");
  EXPECT_EQ(done.status.version, 1);
  EXPECT_EQ(done.status.errors, 0);
  EXPECT_EQ(done.status.start_timestamp, "2025-11-26T12:00:00Z");
  EXPECT_EQ(done.status.expiration, "2025-12-26T12:00:00Z");  // 720h default
  ASSERT_TRUE(done.status.progress.has_value());
  EXPECT_EQ(done.status.progress->items_backed_up, 21);
  EXPECT_EQ(done.status.progress->total_items, 21);
  EXPECT_EQ(done.metadata.annotations["velero.io/source-cluster-k8s-gitversion"], "v1.36.3");
  EXPECT_EQ(done.metadata.labels["velero.io/storage-location"], "default");
  EXPECT_TRUE(done.spec.excluded_namespaces.empty());

  nlohmann::json list = SideFile("full", "resource-list.json.gz");
  EXPECT_EQ(list["v1/ConfigMap"],
            nlohmann::json({"ns1/cm1", "ns1/cm2", "ns2/hidden", "ns3/db-config"}));
  EXPECT_EQ(list["v1/Namespace"], nlohmann::json({"ns1", "ns2", "ns3"}));
  EXPECT_EQ(list["example.com/v1/Widget"], nlohmann::json({"ns1/w1"}));
  EXPECT_EQ(SideFile("full", "results.gz"),
            nlohmann::json::parse(R"({"errors":{},"warnings":{}})"));
  EXPECT_EQ(SideFile("full", "volumesnapshots.json.gz"), nlohmann::json::array());
  nlohmann::json meta =
      nlohmann::json::parse(store_.Objects().at("backups/full/velero-backup.json"));
  EXPECT_EQ(meta["kind"], "Backup");
  EXPECT_EQ(meta["status"]["phase"], "Completed");
}

TEST_F(BackupEngineTest, MetadataIsUploadedLast) {
  api::Backup done = Run(Named("b"));
  ASSERT_EQ(done.status.phase, "Completed");
  std::vector<std::string> order = store_.Order();
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.front(), "backups/b/b.tar.gz");
  EXPECT_EQ(order.back(), "backups/b/velero-backup.json");
  EXPECT_THAT(std::set<std::string>(order.begin(), order.end()),
              ElementsAre("backups/b/b-csi-volumesnapshotclasses.json.gz",
                          "backups/b/b-itemoperations.json.gz", "backups/b/b-logs.gz",
                          "backups/b/b-podvolumebackups.json.gz",
                          "backups/b/b-resource-list.json.gz", "backups/b/b-results.gz",
                          "backups/b/b-volumeinfo.json.gz", "backups/b/b-volumesnapshots.json.gz",
                          "backups/b/b.tar.gz", "backups/b/velero-backup.json"));
  EXPECT_THAT(Gunzip(store_.Objects().at("backups/b/b-logs.gz")),
              HasSubstr("level=info msg=\"Starting backup\" backup=velero/b"));
}

struct FilterCase {
  std::string name;
  std::function<void(api::BackupSpec&)> spec;
  std::vector<std::string> entries;
};

class BackupFilterTest : public BackupEngineTest,
                         public ::testing::WithParamInterface<FilterCase> {};

TEST_P(BackupFilterTest, ExactEntries) {
  api::Backup b = Named("f");
  GetParam().spec(b.spec);
  api::Backup done = Run(b);
  ASSERT_EQ(done.status.phase, "Completed") << done.status.failure_reason;
  std::vector<std::string> want = GetParam().entries;
  want.insert(want.begin(), "metadata/version");
  std::sort(want.begin(), want.end());
  EXPECT_THAT(Entries("f"), ElementsAreArray(want));
}

const char kCm1[] = "resources/configmaps/namespaces/ns1/cm1.json";
const char kCm2[] = "resources/configmaps/namespaces/ns1/cm2.json";
const char kDb[] = "resources/configmaps/namespaces/ns3/db-config.json";
const char kNs1[] = "resources/namespaces/cluster/ns1.json";
const char kNs3[] = "resources/namespaces/cluster/ns3.json";
const char kPod[] = "resources/pods/namespaces/ns1/p1.json";
const char kPvc[] = "resources/persistentvolumeclaims/namespaces/ns1/c1.json";
const char kPv[] = "resources/persistentvolumes/cluster/pv1.json";
const char kPc[] = "resources/priorityclasses.scheduling.k8s.io/cluster/high.json";
const char kSa[] = "resources/serviceaccounts/namespaces/ns1/sa1.json";
const char kB1[] = "resources/clusterrolebindings.rbac.authorization.k8s.io/cluster/b1.json";
const char kR1[] = "resources/clusterroles.rbac.authorization.k8s.io/cluster/r1.json";
const char kW1[] = "resources/widgets.example.com/namespaces/ns1/w1.json";
const char kCrd[] =
    "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com.json";
const char kSecret[] = "resources/secrets/namespaces/ns1/s1.json";
const char kDeploy[] = "resources/deployments.apps/namespaces/ns1/d1.json";

INSTANTIATE_TEST_SUITE_P(
    Filters, BackupFilterTest,
    ::testing::Values(
        // No filters, but ns2 is labelled velero.io/exclude-from-backup: it is added to the
        // excluded namespaces, so the namespace filter is no longer "everything" and only
        // related cluster-scoped items come (as in Velero).
        FilterCase{"LabelExcludedNamespace",
                   [](api::BackupSpec&) {},
                   {kCm1, kCm2, kDb, kNs1, kNs3, kPod, kPvc, kPv, kPc, kSa, kB1, kR1, kW1, kCrd,
                    kSecret, kDeploy}},
        // One namespace, no resource filter: its items, the related cluster-scoped ones only.
        FilterCase{
            "OneNamespace",
            [](api::BackupSpec& s) { s.included_namespaces = {"ns1"}; },
            {kCm1, kCm2, kNs1, kPod, kPvc, kPv, kPc, kSa, kB1, kR1, kW1, kCrd, kSecret, kDeploy}},
        // Globs, expanded against the live namespaces.
        FilterCase{"NamespaceGlob",
                   [](api::BackupSpec& s) {
                     s.included_namespaces = {"ns*"};
                     s.excluded_namespaces = {"ns1"};
                     s.included_resources = {"configmaps"};
                   },
                   {kDb, kNs3}},
        // Old filter, short names resolved through discovery: pods only; the PVC is a
        // namespaced type that is not included, the PV and PriorityClass are not in the list.
        FilterCase{"IncludeResourcesShortNames",
                   [](api::BackupSpec& s) {
                     s.included_namespaces = {"ns1"};
                     s.included_resources = {"po", "cm"};
                   },
                   {kCm1, kCm2, kPod, kNs1}},
        // includeClusterResources=true lets related cluster-scoped items in.
        FilterCase{"IncludeClusterResourcesTrue",
                   [](api::BackupSpec& s) {
                     s.included_namespaces = {"ns1"};
                     s.included_resources = {"pods", "persistentvolumeclaims"};
                     s.include_cluster_resources = true;
                   },
                   {kPod, kPvc, kPv, kPc, kNs1}},
        // includeClusterResources=false: no cluster-scoped item at all, Namespaces aside.
        FilterCase{"IncludeClusterResourcesFalse",
                   [](api::BackupSpec& s) {
                     s.included_namespaces = {"ns1"};
                     s.include_cluster_resources = false;
                     s.excluded_resources = {"secrets", "deployments"};
                   },
                   {kCm1, kCm2, kNs1, kPod, kPvc, kSa, kW1}},
        // Scoped filters.
        FilterCase{"ScopedFilters",
                   [](api::BackupSpec& s) {
                     s.included_namespace_scoped_resources = {"configmaps"};
                     s.included_cluster_scoped_resources = {"priorityclasses"};
                     s.excluded_namespaces = {"ns3"};
                   },
                   {kCm1, kCm2, kNs1, kPc}},
        // A label selector: matching items, related items, the namespaces they live in, and
        // (the namespace filter not being "everything" because of ns2) every included one.
        FilterCase{"LabelSelector",
                   [](api::BackupSpec& s) {
                     s.label_selector = nlohmann::json{{"matchLabels", {{"app", "web"}}}};
                   },
                   {kCm1, kCm2, kNs1, kNs3, kPod, kPvc, kPv, kPc, kSecret, kDeploy}},
        // OR selectors: one list each, an item matching both written once; ns3 matches by
        // its own labels and has an item.
        FilterCase{"OrLabelSelectors",
                   [](api::BackupSpec& s) {
                     s.or_label_selectors = {nlohmann::json{{"matchLabels", {{"tier", "front"}}}},
                                             nlohmann::json{{"matchLabels", {{"app", "web"}}}},
                                             nlohmann::json{{"matchLabels", {{"team", "db"}}}}};
                     s.included_resources = {"configmaps"};
                   },
                   {kCm1, kCm2, kNs1, kNs3}}),
    [](const ::testing::TestParamInfo<FilterCase>& p) { return p.param.name; });

TEST_F(BackupEngineTest, ForbiddenListIsARecordedErrorAndPartiallyFailed) {
  api_.ForbidList("secrets");
  api::Backup b = Named("rbac");
  b.spec.included_namespaces = {"ns1"};
  api::Backup done = Run(b);
  EXPECT_EQ(done.status.phase, "PartiallyFailed");
  EXPECT_EQ(done.status.errors, 1);
  nlohmann::json results = SideFile("rbac", "results.gz");
  ASSERT_EQ(results["errors"]["namespaces"]["ns1"].size(), 1u);
  EXPECT_THAT(results["errors"]["namespaces"]["ns1"][0].get<std::string>(),
              HasSubstr("resource: /secrets name: / message: /Error listing items error: /"));
  EXPECT_THAT(results["errors"]["namespaces"]["ns1"][0].get<std::string>(), HasSubstr("forbidden"));
  // Everything else is there.
  std::vector<std::string> entries = Entries("rbac");
  EXPECT_EQ(std::count(entries.begin(), entries.end(), kSecret), 0);
  EXPECT_EQ(std::count(entries.begin(), entries.end(), kCm1), 1);
  nlohmann::json meta =
      nlohmann::json::parse(store_.Objects().at("backups/rbac/velero-backup.json"));
  EXPECT_EQ(meta["status"]["phase"], "PartiallyFailed");
  EXPECT_EQ(meta["status"]["errors"], 1);
}

// A type deleted between discovery and its list (a CRD removed meanwhile) has nothing left to back
// up: a warning naming it, and the backup still Completed with everything else.
TEST_F(BackupEngineTest, ATypeRemovedAfterDiscoveryIsAWarningNotAnError) {
  api_.Unserve("secrets");
  api::Backup b = Named("gone");
  b.spec.included_namespaces = {"ns1"};
  api::Backup done = Run(b);
  EXPECT_EQ(done.status.phase, "Completed");
  EXPECT_EQ(done.status.errors, 0);
  EXPECT_EQ(done.status.warnings, 1);
  nlohmann::json results = SideFile("gone", "results.gz");
  ASSERT_EQ(results["warnings"]["namespaces"]["ns1"].size(), 1u);
  const std::string warning = results["warnings"]["namespaces"]["ns1"][0].get<std::string>();
  EXPECT_THAT(warning, HasSubstr("resource: /secrets name: / message: /Resource type no longer "
                                 "served (removed during the backup)"));
  EXPECT_THAT(warning, HasSubstr("404"));
  std::vector<std::string> entries = Entries("gone");
  EXPECT_EQ(std::count(entries.begin(), entries.end(), kSecret), 0);
  EXPECT_EQ(std::count(entries.begin(), entries.end(), kCm1), 1);
}

TEST_F(BackupEngineTest, MissingIncludedNamespaceIsAnError) {
  api::Backup b = Named("missing");
  b.spec.included_namespaces = {"ns1", "nope"};
  api::Backup done = Run(b);
  EXPECT_EQ(done.status.phase, "PartiallyFailed");
  nlohmann::json results = SideFile("missing", "results.gz");
  EXPECT_THAT(results["errors"]["namespaces"]["nope"][0].get<std::string>(),
              HasSubstr("Namespace nope not found"));
}

TEST_F(BackupEngineTest, StoreFailureIsFailedAndNothingClaimsCompleted) {
  store_.FailNext(FakeObjectStore::Method::kPut, UnavailableError("connection refused"), 1,
                  ".tar.gz");
  api::Backup done = Run(Named("broken"));
  EXPECT_EQ(done.status.phase, "Failed");
  EXPECT_THAT(done.status.failure_reason, HasSubstr("connection refused"));
  EXPECT_THAT(done.status.failure_reason, HasSubstr("backups/broken/broken.tar.gz"));
  EXPECT_FALSE(done.status.completion_timestamp.empty());
  std::map<std::string, std::string> objects = store_.Objects();
  EXPECT_FALSE(objects.contains("backups/broken/broken.tar.gz"));
  EXPECT_FALSE(objects.contains("backups/broken/broken-resource-list.json.gz"));
  ASSERT_TRUE(objects.contains("backups/broken/velero-backup.json"));
  nlohmann::json meta = nlohmann::json::parse(objects.at("backups/broken/velero-backup.json"));
  EXPECT_EQ(meta["status"]["phase"], "Failed");
}

TEST_F(BackupEngineTest, UnreachableStoreFailsBeforeTheLists) {
  store_.FailNext(FakeObjectStore::Method::kExists, UnavailableError("no route to host"), 1);
  api::Backup done = Run(Named("x"));
  EXPECT_EQ(done.status.phase, "Failed");
  EXPECT_THAT(done.status.failure_reason, HasSubstr("no route to host"));
  EXPECT_TRUE(store_.Objects().empty());
  // Only the reads made beside the store check (discovery, /version, the namespaces) were sent.
  for (const std::string& r : api_.Requests()) {
    EXPECT_TRUE(r == "/api" || r == "/apis" || r == "/version" ||
                r.starts_with("/api/v1/namespaces?"))
        << r;
  }
}

TEST_F(BackupEngineTest, AQueueSmallerThanOneItemStillMovesEverything) {
  // Items bigger than the writer's whole queue, from several lists at once: each is let in
  // alone, and a producer blocked on a full queue must wake the writer.
  for (int i = 0; i < 40; ++i) {
    api_.Add("", i % 2 == 0 ? "configmaps" : "secrets", "ns3", "big-" + std::to_string(i),
             {{"data", {{"payload", std::string(3000 + i, 'x')}}}});
  }
  BackupEngineOptions options;
  options.queue_bytes = 1024;
  options.list_concurrency = 4;
  options.page_size = 3;
  api::Backup b = Named("small-queue");
  b.spec.included_namespaces = {"ns3"};
  api::Backup done = Run(b, options);
  ASSERT_EQ(done.status.phase, "Completed") << done.status.failure_reason;
  const std::vector<std::string> entries = Entries("small-queue");
  EXPECT_EQ(
      std::count_if(entries.begin(), entries.end(),
                    [](const std::string& e) { return e.find("/big-") != std::string::npos; }),
      40);
}

// Every list's first page asks for data not older than the namespace list (answered from the API
// server's watch cache); a continued page carries only its continue token, as the API server
// requires.
TEST_F(BackupEngineTest, ListsAreNotOlderThanTheNamespaceList) {
  BackupEngineOptions options;
  options.page_size = 1;
  api::Backup done = Run(Named("fresh"), options);
  ASSERT_EQ(done.status.phase, "Completed") << done.status.failure_reason;
  const std::vector<std::string> requests = api_.Requests();
  std::string namespaces_rv;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].starts_with("/api/v1/namespaces?")) {
      namespaces_rv = FakeApiServer::ListResourceVersion(i);
      break;  // the first page
    }
  }
  ASSERT_FALSE(namespaces_rv.empty());
  const std::string not_older =
      "resourceVersion=" + namespaces_rv + "&resourceVersionMatch=NotOlderThan";
  int first_pages = 0;
  int continued = 0;
  for (const std::string& r : requests) {
    if (r.starts_with("/api/v1/namespaces?") || r.find("limit=") == std::string::npos) {
      continue;  // the namespace list itself, discovery, gets
    }
    SCOPED_TRACE(r);
    if (r.find("continue=") != std::string::npos) {
      ++continued;
      EXPECT_EQ(r.find("resourceVersion"), std::string::npos);
    } else {
      ++first_pages;
      EXPECT_NE(r.find(not_older), std::string::npos);
    }
  }
  EXPECT_GT(first_pages, 10);
  EXPECT_GT(continued, 0);
}

TEST_F(BackupEngineTest, ExistingBackupIsNotOverwritten) {
  ASSERT_TRUE(store_.PutString(objstore::ObjectKey("backups/x/velero-backup.json"), "{}").ok());
  api::Backup done = Run(Named("x"));
  EXPECT_EQ(done.status.phase, "Failed");
  EXPECT_EQ(done.status.failure_reason, "backup already exists in object storage");
  EXPECT_EQ(store_.Objects().size(), 1u);
}

TEST_F(BackupEngineTest, ValidationListsEveryReasonAndWritesNothing) {
  api::Backup b = Named("Bad_Name");
  b.spec.label_selector = nlohmann::json{{"matchLabels", {{"a", "b"}}}};
  b.spec.or_label_selectors = {nlohmann::json{{"matchLabels", {{"c", "d"}}}}};
  b.spec.excluded_resources = {"*"};
  b.spec.included_namespaces = {"ns[1"};
  api::Backup done = Run(b);
  EXPECT_EQ(done.status.phase, "FailedValidation");
  std::string all;
  for (const std::string& e : done.status.validation_errors) {
    all += e + "\n";
  }
  EXPECT_EQ(done.status.validation_errors.size(), 4u) << all;
  EXPECT_THAT(all, HasSubstr("invalid backup name \"Bad_Name\""));
  EXPECT_THAT(all, HasSubstr("only one can be specified"));
  EXPECT_THAT(all, HasSubstr("excludes list cannot contain '*'"));
  EXPECT_THAT(all, HasSubstr("ns[1"));
  EXPECT_TRUE(store_.Objects().empty());
  EXPECT_TRUE(api_.Requests().empty());

  // Both filter generations at once.
  api::Backup mixed = Named("mixed");
  mixed.spec.included_resources = {"pods"};
  mixed.spec.included_cluster_scoped_resources = {"persistentvolumes"};
  api::Backup refused = Run(mixed);
  EXPECT_EQ(refused.status.phase, "FailedValidation");
  ASSERT_EQ(refused.status.validation_errors.size(), 1u);
  EXPECT_THAT(refused.status.validation_errors[0], HasSubstr("cannot be used together"));
}

TEST_F(BackupEngineTest, PaginatesAndReportsProgress) {
  for (int i = 0; i < 57; ++i) {
    api_.Add("", "configmaps", "ns3", "many-" + std::to_string(i));
  }
  std::vector<api::BackupProgress> seen;
  BackupObserver observer;
  observer.on_progress = [&](const api::BackupProgress& p) { seen.push_back(p); };
  BackupEngineOptions options;
  options.page_size = 5;
  options.progress_interval = std::chrono::milliseconds(0);
  api::Backup b = Named("paged");
  b.spec.included_namespaces = {"ns3"};
  b.spec.included_resources = {"configmaps"};
  api::Backup done = Run(b, options, observer);
  ASSERT_EQ(done.status.phase, "Completed");
  EXPECT_EQ(Entries("paged").size(), 1u + 58 + 1);  // version, configmaps, the namespace
  ASSERT_GE(seen.size(), 10u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].items_backed_up, seen[i - 1].items_backed_up);
    EXPECT_LE(seen[i].items_backed_up, seen[i].total_items);
  }
  EXPECT_EQ(seen.back().items_backed_up, 59);
  // The first page's remainingItemCount told the total before everything was written.
  bool early_total = std::any_of(seen.begin(), seen.end(), [](const api::BackupProgress& p) {
    return p.total_items >= 58 && p.items_backed_up < 30;
  });
  EXPECT_TRUE(early_total);
  int pages = 0;
  for (const std::string& r : api_.Requests()) {
    pages += r.starts_with("/api/v1/namespaces/ns3/configmaps?") ? 1 : 0;
  }
  EXPECT_EQ(pages, 12);
}

TEST_F(BackupEngineTest, OrderedResourcesComeFirstInTheGivenOrder) {
  api::Backup b = Named("ord");
  b.spec.included_namespaces = {"ns1"};
  b.spec.ordered_resources = {{"configmaps", "ns1/cm2,ns1/cm1,ns1/absent"}};
  api::Backup done = Run(b);
  ASSERT_EQ(done.status.phase, "Completed");
  std::vector<Entry> entries = ReadTarball(store_.Objects().at("backups/ord/ord.tar.gz"));
  ASSERT_GE(entries.size(), 5u);
  EXPECT_EQ(entries[1].name, kCm2);
  EXPECT_EQ(entries[3].name, kCm1);
  EXPECT_EQ(done.status.warnings, 1);  // ns1/absent
}

TEST_F(BackupEngineTest, HooksSeamSeesPodsAndCanSkipThem) {
  std::vector<std::string> before;
  std::vector<std::string> after;
  BackupObserver observer;
  observer.before_pod = [&](const ItemRef& pod, std::string_view json) {
    before.push_back(pod.ns + "/" + pod.name);
    EXPECT_THAT(std::string(json), HasSubstr("\"kind\":\"Pod\""));
    return FailedPreconditionError("pre hook exited 1");
  };
  observer.after_pod = [&](const ItemRef& pod, std::string_view) {
    after.push_back(pod.name);
    return OkStatus();
  };
  api::Backup b = Named("hooks");
  b.spec.included_namespaces = {"ns1"};
  api::Backup done = Run(b, {}, observer);
  EXPECT_THAT(before, ElementsAre("ns1/p1"));
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(done.status.phase, "PartiallyFailed");
  std::vector<std::string> entries = Entries("hooks");
  EXPECT_EQ(std::count(entries.begin(), entries.end(), kPod), 0);
}

// Runs nothing: records each exec and answers by the command's first word ("fail": exit 1 with
// stderr, "hang": the timeout, anything else: exit 0 echoing the last argument).
class FakeExecutor : public kube::PodExecutor {
 public:
  explicit FakeExecutor(std::vector<std::string>* events) : events_(events) {}
  Result<kube::ExecResult> Exec(const kube::ExecRequest& request) override {
    events_->push_back("exec " + request.namespace_name + "/" + request.pod + " " +
                       request.container + " " + request.command.back());
    kube::ExecResult r;
    if (request.command.front() == "hang") {
      return DeadlineExceededError("exec timed out");
    }
    if (request.command.front() == "fail") {
      r.exit_code = 1;
      r.stderr_text = "failing on purpose";
      return r;
    }
    r.stdout_text = "ran " + request.command.back();
    return r;
  }

 private:
  std::vector<std::string>* events_;
};

class BackupHooksTest : public BackupEngineTest {
 protected:
  BackupHooksTest() : executor_(&events_) {}

  // A running pod in ns3 with the given annotations.
  void AddPod(const std::string& name, std::map<std::string, std::string> annotations,
              std::string phase = "Running") {
    api_.Add("", "pods", "ns3", name,
             {{"metadata", {{"annotations", annotations}, {"labels", {{"app", "db"}}}}},
              {"spec", {{"containers", {{{"name", "main"}}, {{"name", "side"}}}}}},
              {"status", {{"phase", phase}}}});
  }

  api::Backup RunHooked(api::Backup b) {
    BackupEngineOptions options;
    options.pod_executor = &executor_;
    BackupObserver observer;
    observer.before_pod = [&](const ItemRef& pod, std::string_view) {
      events_.push_back("write " + pod.ns + "/" + pod.name);
      return OkStatus();
    };
    b.spec.included_namespaces = {"ns3"};
    return Run(std::move(b), options, observer);
  }

  std::string Log(const std::string& name) {
    return Gunzip(store_.Objects().at("backups/" + name + "/" + name + "-logs.gz"));
  }

  std::vector<std::string> events_;
  FakeExecutor executor_;
};

TEST_F(BackupHooksTest, AnnotationHooksRunAroundThePodAndAreCounted) {
  AddPod("db-0", {{"pre.hook.backup.velero.io/command", R"(["/bin/freeze","-f","/data"])"},
                  {"pre.hook.backup.velero.io/container", "side"},
                  {"post.hook.backup.velero.io/command", "thaw"}});
  api::Backup done = RunHooked(Named("hk"));
  ASSERT_EQ(done.status.phase, "Completed") << done.status.failure_reason;
  EXPECT_THAT(events_,
              ElementsAre("exec ns3/db-0 side /data", "write ns3/db-0", "exec ns3/db-0 main thaw"));
  EXPECT_EQ(done.status.hooks_attempted, 2);
  EXPECT_EQ(done.status.hooks_failed, 0);
  EXPECT_THAT(Entries("hk"), ::testing::Contains("resources/pods/namespaces/ns3/db-0.json"));
  const std::string log = Log("hk");
  const size_t pre = log.find("msg=\"running exec hook\"");
  const size_t item = log.find("msg=\"Backing up item\"");
  const size_t post = log.find("hookPhase=post");
  ASSERT_NE(pre, std::string::npos) << log;
  ASSERT_NE(item, std::string::npos) << log;
  ASSERT_NE(post, std::string::npos) << log;
  EXPECT_LT(pre, item);
  EXPECT_LT(item, post);
  EXPECT_THAT(log, HasSubstr("hookCommand=\"[/bin/freeze -f /data]\" "));
  EXPECT_THAT(log, HasSubstr("msg=\"stdout: ran /data\""));
  // The status as written to the store has Velero's field names (zero counts omitted, as Go's
  // omitempty does).
  nlohmann::json meta = nlohmann::json::parse(store_.Objects().at("backups/hk/velero-backup.json"));
  EXPECT_EQ(meta["status"]["hookStatus"], nlohmann::json({{"hooksAttempted", 2}}));
}

TEST_F(BackupHooksTest, FailingPreHookWithFailSkipsThePodAndItsPostHook) {
  AddPod("db-0", {{"pre.hook.backup.velero.io/command", R"(["fail","now"])"},
                  {"pre.hook.backup.velero.io/on-error", "Fail"},
                  {"post.hook.backup.velero.io/command", "thaw"}});
  api::Backup done = RunHooked(Named("hf"));
  EXPECT_EQ(done.status.phase, "PartiallyFailed");
  EXPECT_THAT(events_, ElementsAre("exec ns3/db-0 main now"));
  EXPECT_EQ(done.status.hooks_attempted, 1);
  EXPECT_EQ(done.status.hooks_failed, 1);
  EXPECT_EQ(done.status.errors, 2);  // the hook, and the pod left out (as Velero logs both)
  EXPECT_THAT(Entries("hf"),
              ::testing::Not(::testing::Contains("resources/pods/namespaces/ns3/db-0.json")));
  const std::string log = Log("hf");
  EXPECT_THAT(log, HasSubstr("msg=\"stderr: failing on purpose\""));
  EXPECT_THAT(log, HasSubstr("level=error msg=\"Error executing hook\""));
  EXPECT_THAT(SideFile("hf", "results.gz").dump(),
              HasSubstr("command terminated with non-zero exit code 1"));
}

TEST_F(BackupHooksTest, FailingHookWithContinueKeepsThePod) {
  AddPod("db-0", {{"pre.hook.backup.velero.io/command", R"(["fail","now"])"},
                  {"pre.hook.backup.velero.io/on-error", "Continue"},
                  {"post.hook.backup.velero.io/command", R"(["hang","post"])"},
                  {"post.hook.backup.velero.io/timeout", "2s"}});
  api::Backup done = RunHooked(Named("hc"));
  EXPECT_EQ(done.status.phase, "PartiallyFailed");
  EXPECT_THAT(events_,
              ElementsAre("exec ns3/db-0 main now", "write ns3/db-0", "exec ns3/db-0 main post"));
  EXPECT_EQ(done.status.hooks_attempted, 2);
  EXPECT_EQ(done.status.hooks_failed, 2);
  EXPECT_EQ(done.status.errors, 2);
  EXPECT_THAT(Entries("hc"), ::testing::Contains("resources/pods/namespaces/ns3/db-0.json"));
  EXPECT_THAT(Log("hc"), HasSubstr("timed out after 2s"));
}

TEST_F(BackupHooksTest, SpecHooksMatchByLabelAndSkipFinishedPods) {
  AddPod("db-0", {});
  AddPod("done", {}, "Succeeded");
  AddPod("own", {{"pre.hook.backup.velero.io/command", "mine"}});
  api::Backup b = Named("hs");
  b.spec.hooks = nlohmann::json::parse(R"({"resources": [{
      "name": "freeze", "labelSelector": {"matchLabels": {"app": "db"}},
      "pre": [{"exec": {"command": ["spec-pre"]}}],
      "post": [{"exec": {"container": "side", "command": ["spec-post"]}}]}]})");
  api::Backup done = RunHooked(b);
  ASSERT_EQ(done.status.phase, "Completed") << done.status.failure_reason;
  // Pods come in name order; "own" has an annotation, which replaces the spec's pre hook only.
  EXPECT_THAT(events_, ElementsAre("exec ns3/db-0 main spec-pre", "write ns3/db-0",
                                   "exec ns3/db-0 side spec-post", "write ns3/done",
                                   "exec ns3/own main mine", "write ns3/own",
                                   "exec ns3/own side spec-post"));
  EXPECT_EQ(done.status.hooks_attempted, 4);
}

TEST_F(BackupHooksTest, MalformedSpecHooksFailTheBackup) {
  api::Backup b = Named("bad");
  b.spec.hooks = nlohmann::json::parse(R"({"resources": [{"pre": [{"exec": {}}]}]})");
  api::Backup done = RunHooked(b);
  EXPECT_EQ(done.status.phase, "Failed");
  EXPECT_THAT(done.status.failure_reason, HasSubstr("invalid spec.hooks"));
  EXPECT_THAT(done.status.failure_reason, HasSubstr("name"));
  EXPECT_TRUE(events_.empty());
}

TEST_F(BackupHooksTest, WithoutAnExecutorSpecHooksAreAWarning) {
  AddPod("db-0", {{"pre.hook.backup.velero.io/command", "x"}});
  api::Backup b = Named("nx");
  b.spec.included_namespaces = {"ns3"};
  b.spec.hooks = nlohmann::json::parse(
      R"({"resources": [{"name": "h", "pre": [{"exec": {"command": ["x"]}}]}]})");
  api::Backup done = Run(b);
  EXPECT_EQ(done.status.phase, "Completed");
  EXPECT_EQ(done.status.warnings, 1);
  EXPECT_EQ(done.status.hooks_attempted, 0);
  EXPECT_TRUE(events_.empty());
}

TEST(PvcActionTest, StripsWhatVeleroStrips) {
  Result<std::string> same = ApplyPvcAction(R"({"spec":{"volumeName":"v"}})", "b");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, R"({"spec":{"volumeName":"v"}})");

  Result<std::string> out = ApplyPvcAction(
      R"({"metadata":{"labels":{"velero.io/backup-name":"other","velero.io/restore-name":"r",
         "keep":"1"}},"spec":{"selector":{},"storageClassName":"","dataSourceRef":{}}})",
      "b");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(
      nlohmann::json::parse(*out),
      nlohmann::json::parse(
          R"({"metadata":{"labels":{"keep":"1"}},"spec":{"selector":{},"storageClassName":""}})"));

  Result<std::string> own =
      ApplyPvcAction(R"({"metadata":{"labels":{"velero.io/backup-name":"b"}},"spec":{}})", "b");
  ASSERT_TRUE(own.ok());
  EXPECT_THAT(*own, HasSubstr("velero.io/backup-name"));
  EXPECT_EQ(ApplyPvcAction("{", "b").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::backup
