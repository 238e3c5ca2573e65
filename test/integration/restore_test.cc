// Integration tests of the restore engine against the real test environment (test/testenv):
// kube-apiserver, controller-manager, scheduler, a kwok node and MinIO. Run through
// with-testenv.sh, which exports KUBECONFIG, the MinIO variables and puts kubectl on PATH.
//
// Backups are made by Arca's backup engine into MinIO; objects are seeded with kubectl. Each test
// uses namespaces and cluster objects of its own (prefix per test), so tests can run in any order
// against one environment.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "archive/gzip.h"
#include "archive/velero_layout.h"
#include "backup/engine.h"
#include "kube/connection.h"
#include "kube/credentials.h"
#include "kube/kubeconfig.h"
#include "objstore/location.h"
#include "objstore/s3_config.h"
#include "restore/contents_reader.h"
#include "restore/engine.h"
#include "restore/transform.h"

namespace arca::restore {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandResult Sh(const std::string& script, const std::string& input = "") {
  std::unique_ptr<kube::CommandRunner> runner = kube::MakeProcessRunner();
  Result<kube::CommandOutput> out = runner->Run("/bin/sh", {"-c", script}, {{"INPUT", input}});
  if (!out.ok()) {
    return {-1, "", out.status().ToString()};
  }
  return {out->exit_code, out->stdout_text, out->stderr_text};
}

void Apply(const std::string& manifest) {
  CommandResult r = Sh("printf '%s' \"$INPUT\" | kubectl apply -f -", manifest);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

void Kubectl(const std::string& args) {
  CommandResult r = Sh("kubectl " + args);
  ASSERT_EQ(r.exit_code, 0) << "kubectl " << args << ": " << r.err;
}

// Polls `check` every 200 ms for up to `seconds`.
bool WaitFor(const std::function<bool()>& check, int seconds = 120) {
  for (int i = 0; i < seconds * 5; ++i) {
    if (check()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

class RestoreIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<kube::RestConfig> config =
        kube::LoadRestConfig(kube::LoadOptions::FromEnvironment(std::nullopt, ""));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    kube::ClientOptions options;
    options.qps = 0;
    Result<kube::ConnectionPtr> conn = kube::Connection::Open(*config, RealClock(), options);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    const std::string prefix =
        std::string("restore-it/") +
        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    const std::string url = "s3://" + Env("S3_BUCKET") + "/" + prefix +
                            "?region=" + Env("AWS_REGION") + "&s3Url=" + Env("AWS_ENDPOINT_URL") +
                            "&s3ForcePathStyle=true";
    Result<objstore::LocationUrl> loc = objstore::ParseLocationUrl(url);
    ASSERT_TRUE(loc.ok()) << loc.status().ToString();
    Result<objstore::ObjectStorePtr> store =
        objstore::OpenLocation(*loc, objstore::SystemEnvironment(), RealClock());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  kube::Client& client() { return conn_->client(); }

  api::Backup Backup(const std::string& name, const std::vector<std::string>& namespaces,
                     const std::string& selector) {
    api::Backup b;
    b.metadata.name = name;
    b.metadata.namespace_ = "velero";
    b.spec.included_namespaces = namespaces;
    b.spec.include_cluster_resources = true;
    b.spec.label_selector = Json{{"matchLabels", {{"arca-test", selector}}}};
    backup::BackupEngine engine(client(), *store_, RealClock());
    api::Backup out = engine.Run(b);
    EXPECT_EQ(out.status.phase, "Completed") << out.status.failure_reason << "\n"
                                             << BackupResults(name);
    return out;
  }

  RestoreOutcome Restore(api::Restore r, RestoreOptions options = {}) {
    RestoreEngine engine(client(), store_.get(), RealClock(), std::move(options));
    RestoreOutcome out = engine.Run(std::move(r));
    return out;
  }

  static api::Restore MakeRestore(const std::string& backup, const std::string& name) {
    api::Restore r;
    r.metadata.name = name;
    r.metadata.namespace_ = "velero";
    r.spec.backup_name = backup;
    return r;
  }

  // Every item of the backup's tarball: "gr|ns|name" -> object.
  // The backup's results side file (its errors and warnings), as text.
  std::string BackupResults(const std::string& backup) {
    std::string text;
    archive::GunzipStream gunzip([&](std::string_view d) {
      text.append(d);
      return OkStatus();
    });
    Result<objstore::ObjectInfo> got = store_->Get(
        objstore::ObjectKey(archive::BackupFileKey(backup, "results.gz")), gunzip.AsSink());
    Status s = got.ok() ? gunzip.Finish() : got.status();
    return s.ok() ? text : "(no results: " + s.ToString() + ")";
  }

  std::map<std::string, Json> BackupItems(const std::string& backup) {
    std::map<std::string, Json> items;
    BackupContentsReader reader([&](const BackupItem& item) {
      items[item.path.group_resource + "|" + item.path.ns + "|" + item.path.name] =
          Json::parse(item.json);
      return OkStatus();
    });
    Result<objstore::ObjectInfo> got =
        store_->Get(objstore::ObjectKey(archive::BackupTarballKey(backup)), reader.Sink());
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(reader.Finish().ok());
    return items;
  }

  // GET of an object given its group-resource string, namespace and name.
  Result<Json> Live(const std::string& gr, const std::string& ns, const std::string& name,
                    const std::string& api_version) {
    kube::ResourceRef ref;
    const auto dot = gr.find('.');
    ref.gvr.resource = gr.substr(0, dot);
    ref.gvr.group = dot == std::string::npos ? "" : gr.substr(dot + 1);
    ref.gvr.version = api_version.substr(api_version.find('/') + 1);
    ref.namespaced = !ns.empty();
    ref.namespace_name = ns;
    ref.name = name;
    ASSIGN_OR_RETURN(std::string text, client().Get(ref));
    return Json::parse(text);
  }

  kube::ConnectionPtr conn_;
  objstore::ObjectStorePtr store_;
};

// What a restore may change, as Velero does: server-set metadata, status, the restore labels,
// service cluster IPs, binding details of volumes and claims, a pod's node, the job controller's
// uid labels.
Json Normalise(const std::string& gr, Json obj) {
  Json& md = obj["metadata"];
  for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "generation", "generateName",
                        "managedFields", "ownerReferences", "selfLink"}) {
    md.erase(k);
  }
  if (md.contains("labels")) {
    md["labels"].erase("velero.io/backup-name");
    md["labels"].erase("velero.io/restore-name");
    md["labels"].erase("controller-uid");
    md["labels"].erase("batch.kubernetes.io/controller-uid");
    if (md["labels"].empty()) {
      md.erase("labels");
    }
  }
  if (md.contains("annotations")) {
    for (const char* k : {"pv.kubernetes.io/bound-by-controller", "pv.kubernetes.io/bind-completed",
                          "volume.kubernetes.io/storage-provisioner",
                          "volume.beta.kubernetes.io/storage-provisioner"}) {
      md["annotations"].erase(k);
    }
    if (md["annotations"].empty()) {
      md.erase("annotations");
    }
  }
  obj.erase("status");
  if (gr == "services") {
    obj["spec"].erase("clusterIP");
    obj["spec"].erase("clusterIPs");
  }
  if (gr == "persistentvolumes" && obj["spec"].contains("claimRef")) {
    obj["spec"]["claimRef"].erase("uid");
    obj["spec"]["claimRef"].erase("resourceVersion");
  }
  if (gr == "pods") {
    obj["spec"].erase("nodeName");
  }
  if (gr == "jobs.batch") {
    for (Json* labels : {&obj["spec"]["selector"]["matchLabels"],
                         &obj["spec"]["template"]["metadata"]["labels"]}) {
      labels->erase("controller-uid");
      labels->erase("batch.kubernetes.io/controller-uid");
    }
  }
  return obj;
}

constexpr char kRichSet[] = R"(
apiVersion: v1
kind: Namespace
metadata: {name: rt-a, labels: {arca-test: rt, team: blue}, annotations: {note: kept}}
---
apiVersion: v1
kind: Namespace
metadata: {name: rt-b, labels: {arca-test: rt}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.rt.arca.test, labels: {arca-test: rt}}
spec:
  group: rt.arca.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v2
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: rt-a, labels: {arca-test: rt}}
data: {mode: fast, size: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: rt-a, labels: {arca-test: rt}}
type: Opaque
stringData: {password: hunter2}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: rt-a, labels: {arca-test: rt}}
imagePullSecrets: [{name: creds}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: rt-a, labels: {arca-test: rt}}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: rt-a, labels: {arca-test: rt}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: builder, namespace: rt-a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rt-arca-viewer, labels: {arca-test: rt}}
rules: [{apiGroups: [""], resources: [namespaces], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rt-arca-viewer, labels: {arca-test: rt}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rt-arca-viewer}
subjects: [{kind: ServiceAccount, name: builder, namespace: rt-a}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: rt-a, labels: {arca-test: rt}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, arca-test: rt}}
    spec: {containers: [{name: web, image: "registry.example/web:1"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: rt-a, labels: {arca-test: rt}}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, arca-test: rt}}
    spec: {containers: [{name: db, image: "registry.example/db:1"}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: rt-a, labels: {arca-test: rt}}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent, arca-test: rt}}
    spec: {containers: [{name: agent, image: "registry.example/agent:1"}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: rt-a, labels: {arca-test: rt}}
spec:
  template:
    metadata: {labels: {arca-test: rt}}
    spec: {restartPolicy: Never, containers: [{name: once, image: "registry.example/once:1"}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: rt-a, labels: {arca-test: rt}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: cron, image: "registry.example/cron:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: rt-a, labels: {arca-test: rt}}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-nodeport, namespace: rt-a, labels: {arca-test: rt}}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, nodePort: 31777}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: rt-a, labels: {arca-test: rt}}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: rt-a, labels: {arca-test: rt}}
spec:
  rules:
  - host: web.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: rt-a, labels: {arca-test: rt}}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: rt-arca-pv, labels: {arca-test: rt}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath: {path: /tmp/rt-arca-pv}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: rt-a, labels: {arca-test: rt}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  volumeName: rt-arca-pv
  resources: {requests: {storage: 1Gi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: rt-a, labels: {arca-test: rt}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: rt-a, labels: {arca-test: rt}}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: rt-b, labels: {arca-test: rt}}
data: {x: "1"}
)";

constexpr char kWidgets[] = R"(
apiVersion: rt.arca.test/v1
kind: Widget
metadata: {name: w1, namespace: rt-a, labels: {arca-test: rt}}
size: 1
---
apiVersion: rt.arca.test/v2
kind: Widget
metadata: {name: w2, namespace: rt-a, labels: {arca-test: rt}}
size: 2
)";

// Groups whose objects the controllers rewrite after a restore; they are restored, but not
// compared field by field.
bool ControllerOwned(const std::string& gr) {
  return gr == "endpoints" || gr == "endpointslices.discovery.k8s.io" || gr == "events" ||
         gr == "events.events.k8s.io";
}

// Removes what an earlier, interrupted run may have left, and waits until it is gone.
void CleanUp(const std::string& namespaces, const std::string& cluster_objects = "") {
  Sh("kubectl delete namespace " + namespaces + " --ignore-not-found --wait=true --timeout=180s");
  if (!cluster_objects.empty()) {
    Sh("kubectl delete " + cluster_objects + " --ignore-not-found --wait=true --timeout=60s");
  }
}

TEST_F(RestoreIntegrationTest, RoundTripRestoresEveryObjectFaithfully) {
  CleanUp("rt-a rt-b",
          "crd/widgets.rt.arca.test pv/rt-arca-pv clusterrole/rt-arca-viewer "
          "clusterrolebinding/rt-arca-viewer");
  Apply(kRichSet);
  Kubectl("wait --for condition=established --timeout=60s crd/widgets.rt.arca.test");
  Apply(kWidgets);
  // Let the controllers make their pods, replica sets and revisions.
  ASSERT_TRUE(WaitFor([] {
    CommandResult r = Sh("kubectl get pods -n rt-a -l arca-test=rt -o name | wc -l");
    return r.exit_code == 0 && std::stoi(r.out) >= 5;  // web x2, db-0, agent, once
  }));
  ASSERT_TRUE(WaitFor([] {
    return Sh("kubectl get pvc data -n rt-a -o jsonpath='{.status.phase}'").out == "Bound";
  }));
  api::Backup b = Backup("rt", {"rt-a", "rt-b"}, "rt");
  std::map<std::string, Json> originals = BackupItems("rt");
  std::set<std::string> grs;
  for (const auto& [key, obj] : originals) {
    grs.insert(key.substr(0, key.find('|')));
  }
  for (const char* gr : {"deployments.apps",
                         "statefulsets.apps",
                         "daemonsets.apps",
                         "jobs.batch",
                         "cronjobs.batch",
                         "services",
                         "ingresses.networking.k8s.io",
                         "networkpolicies.networking.k8s.io",
                         "configmaps",
                         "secrets",
                         "serviceaccounts",
                         "roles.rbac.authorization.k8s.io",
                         "rolebindings.rbac.authorization.k8s.io",
                         "clusterroles.rbac.authorization.k8s.io",
                         "clusterrolebindings.rbac.authorization.k8s.io",
                         "persistentvolumes",
                         "persistentvolumeclaims",
                         "horizontalpodautoscalers.autoscaling",
                         "poddisruptionbudgets.policy",
                         "widgets.rt.arca.test",
                         "customresourcedefinitions.apiextensions.k8s.io",
                         "pods",
                         "namespaces"}) {
    EXPECT_EQ(grs.count(gr), 1u) << gr << " is not in the backup";
  }

  // Delete everything and wait until it is gone.
  Kubectl("delete namespace rt-a rt-b --wait=true --timeout=180s");
  Kubectl("delete crd widgets.rt.arca.test --wait=true");
  Kubectl("delete pv rt-arca-pv --wait=true");
  Kubectl("delete clusterrole rt-arca-viewer");
  Kubectl("delete clusterrolebinding rt-arca-viewer");
  ASSERT_TRUE(WaitFor([] {
    return Sh("kubectl get namespace rt-a rt-b -o name 2>/dev/null | wc -l").out == "0\n";
  }));

  RestoreOutcome out = Restore(MakeRestore("rt", "rt-restore"));
  ASSERT_EQ(out.restore.status.phase, "Completed") << out.restore.status.failure_reason << "\n"
                                                   << out.results.dump(2);
  EXPECT_EQ(out.restore.status.progress->items_restored, out.restore.status.progress->total_items);

  // Every backed-up object is back, unchanged but for what Velero changes.
  int compared = 0;
  int skipped = 0;
  for (const auto& [key, original] : originals) {
    const std::string gr = key.substr(0, key.find('|'));
    const std::string rest = key.substr(key.find('|') + 1);
    const std::string ns = rest.substr(0, rest.find('|'));
    const std::string name = rest.substr(rest.find('|') + 1);
    SCOPED_TRACE(key);
    if (ControllerOwned(gr)) {
      continue;  // restored, then rewritten or replaced by their controllers
    }
    if (!SkipReason(gr, original).empty()) {
      ++skipped;  // a finished job or pod: Velero does not restore it
      continue;
    }
    Result<Json> live = Live(gr, ns, name, original["apiVersion"].get<std::string>());
    ASSERT_TRUE(live.ok()) << live.status().ToString();
    if (gr != "namespaces") {
      EXPECT_EQ((*live)["metadata"]["labels"]["velero.io/restore-name"], "rt-restore");
      EXPECT_EQ((*live)["metadata"]["labels"]["velero.io/backup-name"], "rt");
    }
    EXPECT_EQ(Normalise(gr, *live).dump(2), Normalise(gr, original).dump(2));
    ++compared;
  }
  EXPECT_GT(compared, 30);
  EXPECT_EQ(out.skipped, skipped + 0) << out.resource_list.ToJsonText();
  // The explicitly chosen node port is kept; the PVC binds to its PV again.
  Result<Json> np = Live("services", "rt-a", "web-nodeport", "v1");
  ASSERT_TRUE(np.ok());
  EXPECT_EQ((*np)["spec"]["ports"][0]["nodePort"], 31777);
  EXPECT_TRUE(WaitFor([] {
    return Sh("kubectl get pvc data -n rt-a -o jsonpath='{.status.phase}'").out == "Bound";
  }));
  // Nothing extra: every object labelled with this restore was in the backup.
  CommandResult extra =
      Sh("kubectl get all,cm,secret,sa,role,rolebinding,ingress,networkpolicy,pvc,hpa,pdb,widgets "
         "-A -l velero.io/restore-name=rt-restore -o name | wc -l");
  ASSERT_EQ(extra.exit_code, 0) << extra.err;
  EXPECT_GT(std::stoi(extra.out), 0);
  size_t namespaced_in_backup = 0;
  for (const auto& [key, original] : originals) {
    const std::string gr = key.substr(0, key.find('|'));
    namespaced_in_backup +=
        (original["metadata"].contains("namespace") && !ControllerOwned(gr)) ? 1 : 0;
  }
  EXPECT_LE(static_cast<size_t>(std::stoi(extra.out)), namespaced_in_backup);

  // The result files are in the store.
  for (const char* suffix : {"results.gz", "logs.gz", "resource-list.json.gz"}) {
    Result<bool> exists =
        store_->Exists(objstore::ObjectKey(archive::RestoreFileKey("rt-restore", suffix)));
    EXPECT_TRUE(exists.ok() && *exists) << suffix;
  }
}

// Field ownership comes back as it was: an object with one Update manager in the create itself
// (only the entry's time changes, and the restore's labels are owned too), one with several
// managers or an Apply manager through Velero's patch after the create, exactly.
TEST_F(RestoreIntegrationTest, ManagedFieldsKeepTheirOwners) {
  CleanUp("mf-a mf-b mf-c");
  Kubectl("create namespace mf-a");
  Kubectl("label namespace mf-a arca-test=mf");
  Apply(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: single, namespace: mf-a, labels: {arca-test: mf}}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: multi, namespace: mf-a, labels: {arca-test: mf}}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: mf-a, labels: {arca-test: mf}}
spec: {clusterIP: None, selector: {app: mf}, ports: [{port: 80}]}
)");
  Kubectl("label configmap multi -n mf-a extra=1");
  CommandResult ssa =
      Sh("printf '%s' \"$INPUT\" | kubectl apply --server-side --field-manager=ssa-owner -f -",
         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, namespace: mf-a, labels: "
         "{arca-test: mf}}\ndata: {a: \"1\"}\n");
  ASSERT_EQ(ssa.exit_code, 0) << ssa.err;
  Backup("mf", {"mf-a"}, "mf");
  std::map<std::string, Json> originals = BackupItems("mf");
  const auto original_fields = [&](const std::string& name) {
    return originals["configmaps|mf-a|" + name]["metadata"]["managedFields"];
  };
  ASSERT_EQ(original_fields("single").size(), 1u) << original_fields("single").dump();
  ASSERT_EQ(original_fields("single")[0]["manager"], "kubectl-client-side-apply");
  ASSERT_EQ(original_fields("multi").size(), 2u) << original_fields("multi").dump();
  ASSERT_EQ(original_fields("applied")[0]["operation"], "Apply");
  Kubectl("delete namespace mf-a --wait=true --timeout=180s");

  // Default: single in the create, the others patched.
  RestoreOutcome out = Restore(MakeRestore("mf", "mf-restore"));
  ASSERT_EQ(out.restore.status.phase, "Completed") << out.results.dump(2);
  const auto live_fields = [&](const std::string& ns, const std::string& name) {
    Result<Json> live = Live("configmaps", ns, name, "v1");
    EXPECT_TRUE(live.ok()) << live.status().ToString();
    return live.ok() ? (*live)["metadata"]["managedFields"] : Json();
  };
  Json single = live_fields("mf-a", "single");
  ASSERT_EQ(single.size(), 1u) << single.dump();
  EXPECT_TRUE(SameOwnershipAfterCreate(original_fields("single"), single)) << single.dump();
  // Made in the create, not patched: the restore labels belong to the manager too.
  EXPECT_TRUE(single[0]["fieldsV1"]["f:metadata"]["f:labels"].contains("f:velero.io/restore-name"));
  EXPECT_EQ(live_fields("mf-a", "multi"), original_fields("multi"));
  EXPECT_EQ(live_fields("mf-a", "applied"), original_fields("applied"));
  // The headless Service: the API server allocated clusterIPs, ipFamilies and ipFamilyPolicy, so
  // kubectl's entry does not own them; the create leaves them to the allocator, which gives the
  // same values, and the entry comes back as it was.
  const Json& headless = originals["services|mf-a|headless"];
  ASSERT_EQ(headless["metadata"]["managedFields"].size(), 1u) << headless.dump();
  ASSERT_FALSE(
      headless["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"].contains("f:ipFamilies"))
      << headless.dump();
  Result<Json> service = Live("services", "mf-a", "headless", "v1");
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  EXPECT_TRUE(SameOwnershipAfterCreate(headless["metadata"]["managedFields"],
                                       (*service)["metadata"]["managedFields"]))
      << (*service)["metadata"]["managedFields"].dump();
  for (const char* field : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}) {
    EXPECT_EQ((*service)["spec"][field], headless["spec"][field]) << field;
  }
  // Ownership works as before the backup: another manager's apply conflicts with the owner.
  CommandResult conflict =
      Sh("printf '%s' \"$INPUT\" | kubectl apply --server-side --field-manager=intruder -f -",
         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: single, namespace: mf-a}\ndata: "
         "{a: \"2\"}\n");
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_THAT(conflict.err, ::testing::HasSubstr("kubectl-client-side-apply"));

  // The backup again, into another namespace, with other options.
  const auto restore_into = [&](const std::string& ns, bool restore_fields, bool exact) {
    RestoreOptions options;
    options.restore_managed_fields = restore_fields;
    options.exact_managed_fields = exact;
    api::Restore r = MakeRestore("mf", "mf-restore-" + ns);
    r.spec.namespace_mapping = {{"mf-a", ns}};
    RestoreOutcome o = Restore(r, options);
    EXPECT_EQ(o.restore.status.phase, "Completed") << o.results.dump(2);
  };
  // exact: Velero's patch after every create, the backed-up entries to the letter.
  restore_into("mf-b", true, true);
  for (const char* name : {"single", "multi", "applied"}) {
    EXPECT_EQ(live_fields("mf-b", name), original_fields(name)) << name;
  }
  // Off: the restore's own manager owns everything.
  restore_into("mf-c", false, false);
  Json owned = live_fields("mf-c", "single");
  ASSERT_EQ(owned.size(), 1u) << owned.dump();
  EXPECT_NE(owned[0]["manager"], "kubectl-client-side-apply");
  Kubectl("delete namespace mf-a mf-b mf-c --wait=false");
}

constexpr char kSmallSet[] = R"(
apiVersion: v1
kind: Namespace
metadata: {name: NS, labels: {arca-test: SEL}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: NS, labels: {arca-test: SEL, tier: web}}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: db, namespace: NS, labels: {arca-test: SEL, tier: db}}
data: {v: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: NS, labels: {arca-test: SEL}}
stringData: {k: v}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: NS, labels: {arca-test: SEL}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: NS, labels: {arca-test: SEL}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: sa, namespace: NS}]
)";

std::string SmallSet(const std::string& ns, const std::string& sel) {
  std::string s = kSmallSet;
  for (auto [from, to] : {std::pair<std::string, std::string>{"NS", ns}, {"SEL", sel}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
      s.replace(p, from.size(), to);
    }
  }
  return s;
}

TEST_F(RestoreIntegrationTest, NamespaceMappingWhileTheSourceStillExists) {
  CleanUp("map-a map-b");
  Apply(SmallSet("map-a", "map"));
  Backup("map", {"map-a"}, "map");
  api::Restore r = MakeRestore("map", "map-restore");
  r.spec.namespace_mapping = {{"map-a", "map-b"}};
  RestoreOutcome out = Restore(r);
  ASSERT_EQ(out.restore.status.phase, "Completed") << out.results.dump(2);
  Result<Json> rb = Live("rolebindings.rbac.authorization.k8s.io", "map-b", "rb", "v1");
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_EQ((*rb)["subjects"][0]["namespace"], "map-b");
  Result<Json> ns = Live("namespaces", "", "map-b", "v1");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ((*ns)["metadata"]["labels"]["arca-test"], "map");
  // The source is untouched.
  Result<Json> src = Live("configmaps", "map-a", "app", "v1");
  ASSERT_TRUE(src.ok());
  EXPECT_FALSE((*src)["metadata"]["labels"].contains("velero.io/restore-name"));
  Kubectl("delete namespace map-a map-b --wait=false");
}

TEST_F(RestoreIntegrationTest, FiltersAndExistingResourcePolicies) {
  CleanUp("flt-a");
  Apply(SmallSet("flt-a", "flt"));
  Backup("flt", {"flt-a"}, "flt");
  Kubectl("delete namespace flt-a --wait=true --timeout=120s");
  ASSERT_TRUE(WaitFor([] { return Sh("kubectl get ns flt-a").exit_code != 0; }));

  // Only config maps labelled tier=db.
  api::Restore r = MakeRestore("flt", "flt-1");
  r.spec.included_resources = {"configmaps"};
  r.spec.label_selector = Json{{"matchLabels", {{"tier", "db"}}}};
  RestoreOutcome out = Restore(r);
  ASSERT_EQ(out.restore.status.phase, "Completed") << out.results.dump(2);
  EXPECT_EQ(Sh("kubectl get cm,secret,sa -n flt-a -l arca-test=flt -o name").out, "configmap/db\n");

  // Someone changes the restored object; a restore with policy none warns and keeps it...
  Kubectl("patch configmap db -n flt-a --type merge -p '{\"data\":{\"v\":\"changed\"}}'");
  api::Restore none = MakeRestore("flt", "flt-2");
  none.spec.included_resources = {"configmaps"};
  none.spec.existing_resource_policy = "none";
  RestoreOutcome out2 = Restore(none);
  EXPECT_EQ(out2.restore.status.phase, "Completed");
  EXPECT_EQ(out2.restore.status.warnings, 1) << out2.results.dump(2);
  EXPECT_THAT(out2.results["warnings"]["namespaces"]["flt-a"][0].get<std::string>(),
              HasSubstr("ConfigMap \"db\" already exists"));
  EXPECT_EQ(Sh("kubectl get cm db -n flt-a -o jsonpath='{.data.v}'").out, "changed");
  EXPECT_EQ(Sh("kubectl get cm app -n flt-a -o jsonpath='{.data.v}'").out, "1");  // created

  // ... and policy update puts the backed-up version back.
  api::Restore update = MakeRestore("flt", "flt-3");
  update.spec.included_resources = {"configmaps"};
  update.spec.existing_resource_policy = "update";
  RestoreOutcome out3 = Restore(update);
  EXPECT_EQ(out3.restore.status.phase, "Completed") << out3.results.dump(2);
  EXPECT_EQ(Sh("kubectl get cm db -n flt-a -o jsonpath='{.data.v}'").out, "1");
  EXPECT_EQ(
      Sh("kubectl get cm db -n flt-a -o jsonpath='{.metadata.labels.velero\\.io/restore-name}'")
          .out,
      "flt-3");
  Kubectl("delete namespace flt-a --wait=false");
}

TEST_F(RestoreIntegrationTest, HostileTarballIsRefusedAndNothingIsRestored) {
  // A good item followed by an entry that escapes its directory, written by hand.
  auto header = [](const std::string& name, uint64_t size) {
    std::string h(512, '\0');
    std::memcpy(h.data(), name.data(), name.size());
    std::snprintf(h.data() + 100, 8, "%07o", 0755);
    std::snprintf(h.data() + 108, 8, "%07o", 0);
    std::snprintf(h.data() + 116, 8, "%07o", 0);
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(h.data() + 136, 12, "%011o", 0);
    std::memset(h.data() + 148, ' ', 8);
    h[156] = '0';
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
  };
  auto file = [&](const std::string& name, const std::string& body) {
    std::string out = header(name, body.size()) + body;
    out.append((512 - body.size() % 512) % 512, '\0');
    return out;
  };
  const std::string cm =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"evil-ns"}})";
  std::string tar = file("metadata/version", "1.1.0\n") +
                    file("resources/configmaps/namespaces/evil-ns/x.json", cm) +
                    file("resources/configmaps/namespaces/evil-ns/../../../../../tmp/y.json", cm) +
                    std::string(1024, '\0');
  std::string gz;
  archive::GzipWriter writer(
      [&gz](std::string_view d) {
        gz.append(d);
        return OkStatus();
      },
      {});
  ASSERT_TRUE(writer.Write(tar).ok());
  ASSERT_TRUE(writer.Finish().ok());
  ASSERT_TRUE(
      store_->PutString(objstore::ObjectKey(archive::BackupMetadataKey("evil")), "{}").ok());
  ASSERT_TRUE(store_->PutString(objstore::ObjectKey(archive::BackupTarballKey("evil")), gz).ok());
  RestoreOutcome out = Restore(MakeRestore("evil", "evil-restore"));
  EXPECT_EQ(out.restore.status.phase, "Failed");
  EXPECT_THAT(out.restore.status.failure_reason, HasSubstr(".."));
  EXPECT_NE(Sh("kubectl get namespace evil-ns").exit_code, 0);  // nothing was created
}

}  // namespace
}  // namespace arca::restore
