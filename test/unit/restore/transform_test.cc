#include "restore/transform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/names.h"

namespace arca::restore {
namespace {

Json J(const char* text) { return Json::parse(text); }

TEST(SkipReasonTest, FinishedPodsJobsAndMirrorPods) {
  EXPECT_EQ(SkipReason("pods", J(R"({"status":{"phase":"Succeeded"}})")),
            "pod has phase Succeeded");
  EXPECT_EQ(SkipReason("pods", J(R"({"status":{"phase":"Failed"}})")), "pod has phase Failed");
  EXPECT_EQ(SkipReason("pods", J(R"({"status":{"phase":"Running"}})")), "");
  EXPECT_EQ(
      SkipReason("pods", J(R"({"metadata":{"annotations":{"kubernetes.io/config.mirror":"x"}}})")),
      "mirror pod");
  EXPECT_EQ(SkipReason("jobs.batch", J(R"({"status":{"completionTime":"2026-11-26T00:00:00Z"}})")),
            "job has completed");
  EXPECT_EQ(SkipReason("jobs.batch", J(R"({"status":{"active":1}})")), "");
  EXPECT_EQ(SkipReason("configmaps", J(R"({"status":{"phase":"Failed"}})")), "");
  EXPECT_EQ(SkipReason("pods", J("[]")), "");  // malformed input is not a crash
}

TEST(ResetTest, RemovesServerFieldsKeepsUserOnes) {
  Json item = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{
      "name":"c","namespace":"a","generateName":"c-","selfLink":"/x","uid":"u","resourceVersion":"9",
      "generation":2,"creationTimestamp":"t","deletionTimestamp":"t","deletionGracePeriodSeconds":30,
      "ownerReferences":[{"kind":"X"}],"labels":{"l":"1"},"annotations":{"a":"2"},
      "finalizers":["f"],"managedFields":[{"manager":"m"}]},"data":{"k":"v"},"status":{"s":1}})");
  Json status = ResetMetadataAndStatus(item);
  EXPECT_EQ(status, J(R"({"s":1})"));
  EXPECT_EQ(item, J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c",
      "namespace":"a","labels":{"l":"1"},"annotations":{"a":"2"},"finalizers":["f"],
      "managedFields":[{"manager":"m"}]},"data":{"k":"v"}})"));
  Json bare = J(R"({"kind":"X"})");
  EXPECT_TRUE(ResetMetadataAndStatus(bare).is_null());
}

ActionOutcome Apply(std::string_view gr, Json& item, const ActionContext& ctx = {}) {
  std::string why;
  return ApplyBuiltinActions(gr, item, ctx, &why);
}

TEST(ActionsTest, Job) {
  Json job = J(R"({"spec":{"selector":{"matchLabels":{"controller-uid":"1","app":"x"}},
      "template":{"metadata":{"labels":{"batch.kubernetes.io/controller-uid":"1","app":"x"}}}}})");
  Apply("jobs.batch", job);
  EXPECT_EQ(job, J(R"({"spec":{"selector":{"matchLabels":{"app":"x"}},
      "template":{"metadata":{"labels":{"app":"x"}}}}})"));
}

TEST(ActionsTest, PodDropsNodeAndServiceAccountTokenVolumes) {
  Json pod = J(R"({"spec":{"nodeName":"n1","priority":100,"serviceAccountName":"web",
      "volumes":[{"name":"web-token-abcde"},{"name":"data"}],
      "containers":[{"name":"c","volumeMounts":[{"name":"web-token-abcde"},{"name":"data"}]}],
      "initContainers":[{"name":"i","volumeMounts":[{"name":"web-token-abcde"}]}]}})");
  Apply("pods", pod);
  EXPECT_EQ(pod, J(R"({"spec":{"serviceAccountName":"web","volumes":[{"name":"data"}],
      "containers":[{"name":"c","volumeMounts":[{"name":"data"}]}],
      "initContainers":[{"name":"i","volumeMounts":[]}]}})"));
}

TEST(ActionsTest, ServiceClusterIpAndNodePorts) {
  // nodePort 30080 was set by the user (last-applied); 30443 was allocated by the server.
  Json svc = J(R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":
      "{\"spec\":{\"ports\":[{\"port\":80,\"nodePort\":30080}]}}"}},
      "spec":{"type":"NodePort","clusterIP":"10.0.0.5","clusterIPs":["10.0.0.5"],
      "ports":[{"port":80,"protocol":"TCP","nodePort":30080},{"port":443,"protocol":"TCP","nodePort":30443}]}})");
  Apply("services", svc);
  EXPECT_EQ(svc["spec"],
            J(R"({"type":"NodePort","ports":[{"port":80,"protocol":"TCP","nodePort":30080},
      {"port":443,"protocol":"TCP"}]})"));

  // Explicit via managedFields, and a LoadBalancer health check port set by the user.
  Json lb = J(R"({"metadata":{"managedFields":[{"fieldsV1":{"f:spec":{"f:healthCheckNodePort":{},
      "f:ports":{"k:{\"port\":443,\"protocol\":\"TCP\"}":{"f:nodePort":{}}}}}}]},
      "spec":{"type":"LoadBalancer","clusterIP":"10.0.0.6","healthCheckNodePort":31000,
      "ports":[{"port":443,"protocol":"TCP","nodePort":30443},{"port":80,"protocol":"TCP","nodePort":30080}]}})");
  Apply("services", lb);
  EXPECT_EQ(lb["spec"], J(R"({"type":"LoadBalancer","healthCheckNodePort":31000,
      "ports":[{"port":443,"protocol":"TCP","nodePort":30443},{"port":80,"protocol":"TCP"}]})"));

  // Headless keeps clusterIP None; preserveNodePorts keeps every node port.
  Json headless = J(R"({"spec":{"clusterIP":"None","ports":[{"port":1,"nodePort":30001}]}})");
  ActionContext keep;
  keep.preserve_node_ports = true;
  Apply("services", headless, keep);
  EXPECT_EQ(headless, J(R"({"spec":{"clusterIP":"None","ports":[{"port":1,"nodePort":30001}]}})"));

  Json external =
      J(R"({"spec":{"type":"ExternalName","externalName":"x.example.com","clusterIP":"1.2.3.4"}})");
  Json before = external;
  Apply("services", external);
  EXPECT_EQ(external, before);
}

TEST(ActionsTest, ServiceAccountDropsFirstTokenSecret) {
  Json sa = J(
      R"({"metadata":{"name":"web"},"secrets":[{"name":"other"},{"name":"web-token-1"},{"name":"web-token-2"}]})");
  Apply("serviceaccounts", sa);
  EXPECT_EQ(sa["secrets"], J(R"([{"name":"other"},{"name":"web-token-2"}])"));
}

TEST(ActionsTest, BindingSubjectsFollowNamespaceMapping) {
  ActionContext ctx;
  ctx.namespace_mapping = {{"shop", "shop-restored"}};
  Json rb = J(R"({"subjects":[{"kind":"ServiceAccount","name":"a","namespace":"shop"},
      {"kind":"ServiceAccount","name":"b","namespace":"other"},{"kind":"User","name":"u"}]})");
  Apply("clusterrolebindings.rbac.authorization.k8s.io", rb, ctx);
  EXPECT_EQ(rb["subjects"][0]["namespace"], "shop-restored");
  EXPECT_EQ(rb["subjects"][1]["namespace"], "other");
  EXPECT_FALSE(rb["subjects"][2].contains("namespace"));
}

TEST(ActionsTest, PvcAnnotations) {
  Json pvc = J(R"({"metadata":{"annotations":{"pv.kubernetes.io/bind-completed":"yes",
      "volume.kubernetes.io/selected-node":"n","keep":"me"}}})");
  Apply("persistentvolumeclaims", pvc);
  EXPECT_EQ(pvc["metadata"]["annotations"], J(R"({"keep":"me"})"));
}

TEST(ActionsTest, ManagedApiServiceIsSkipped) {
  Json api =
      J(R"({"metadata":{"labels":{"kube-aggregator.kubernetes.io/automanaged":"onstart"}}})");
  std::string why;
  EXPECT_EQ(ApplyBuiltinActions("apiservices.apiregistration.k8s.io", api, {}, &why),
            ActionOutcome::kSkip);
  EXPECT_EQ(why, "APIService managed by the API server");
}

TEST(ActionsTest, WebhookSideEffects) {
  Json hook = J(R"({"webhooks":[{"sideEffects":"Unknown"},{"sideEffects":"NoneOnDryRun"},{}]})");
  Apply("validatingwebhookconfigurations.admissionregistration.k8s.io", hook);
  EXPECT_EQ(
      hook,
      J(R"({"webhooks":[{"sideEffects":"None"},{"sideEffects":"NoneOnDryRun"},{"sideEffects":"None"}]})"));
}

TEST(ActionsTest, ServiceAccountTokenSecrets) {
  ActionContext ctx;
  ctx.namespace_mapping = {{"a", "b"}};
  ctx.service_accounts = [](const std::string& ns) {
    return ns == "b" ? std::vector<std::string>{"web"} : std::vector<std::string>{};
  };
  Json owned = J(
      R"({"type":"kubernetes.io/service-account-token","metadata":{"name":"web-token-x","namespace":"a"}})");
  std::string why;
  EXPECT_EQ(ApplyBuiltinActions("secrets", owned, ctx, &why), ActionOutcome::kSkip);
  EXPECT_EQ(why, "service account token secret of existing service account web");

  Json orphan = J(R"({"type":"kubernetes.io/service-account-token","metadata":{"name":"db-token-x",
      "namespace":"a","annotations":{"kubernetes.io/service-account.uid":"u","k":"v"}},
      "data":{"token":"dA==","ca.crt":"Yw==","namespace":"YQ=="}})");
  EXPECT_EQ(ApplyBuiltinActions("secrets", orphan, ctx, &why), ActionOutcome::kRestore);
  EXPECT_EQ(orphan["metadata"]["annotations"], J(R"({"k":"v"})"));
  EXPECT_EQ(orphan["data"], J(R"({"namespace":"YQ=="})"));
}

TEST(ActionsTest, CrdPreserveUnknownFields) {
  Json crd = J(R"({"apiVersion":"apiextensions.k8s.io/v1","spec":{"preserveUnknownFields":true,
      "versions":[{"name":"v1","schema":{"openAPIV3Schema":{"type":"object"}}}]}})");
  Apply("customresourcedefinitions.apiextensions.k8s.io", crd);
  EXPECT_EQ(crd["spec"], J(R"({"preserveUnknownFields":false,"versions":[{"name":"v1","schema":
      {"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]})"));
}

TEST(ActionsTest, StorageClassAndImageMappings) {
  ActionContext ctx;
  ctx.storage_class_mapping = {{"gp2", "gp3"}};
  ctx.image_name_rules = {"registry.old.io/,registry.new.io/"};
  Json sts = J(R"({"spec":{"volumeClaimTemplates":[{"spec":{"storageClassName":"gp2"}},
      {"spec":{"storageClassName":"other"}}],"template":{"spec":{"containers":[
      {"image":"registry.old.io/app:1"}],"initContainers":[{"image":"busybox"}]}}}})");
  Apply("statefulsets.apps", sts, ctx);
  EXPECT_EQ(sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "gp3");
  EXPECT_EQ(sts["spec"]["volumeClaimTemplates"][1]["spec"]["storageClassName"], "other");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["containers"][0]["image"], "registry.new.io/app:1");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["initContainers"][0]["image"], "busybox");

  Json cron = J(R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
      {"image":"registry.old.io/job"}]}}}}}})");
  Apply("cronjobs.batch", cron, ctx);
  EXPECT_EQ(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.new.io/job");
}

TEST(ActionsTest, MalformedObjectsAreNotACrash) {
  for (const char* text : {R"([])", R"({"spec":[]})", R"({"spec":{"volumes":7,"containers":"x"}})",
                           R"({"metadata":"x","subjects":{}})"}) {
    for (const char* gr : {"pods", "services", "serviceaccounts", "secrets", "jobs.batch",
                           "rolebindings.rbac.authorization.k8s.io", "persistentvolumeclaims"}) {
      Json item = J(text);
      std::string why;
      ApplyBuiltinActions(gr, item, {}, &why);
      ResetMetadataAndStatus(item);
    }
  }
}

TEST(LabelsTest, TargetNamespaceAndRestoreLabels) {
  Json item = J(R"({"metadata":{"name":"c","namespace":"shop","labels":{"app":"x"}}})");
  std::string long_backup(70, 'b');
  SetTargetNamespaceAndLabels(item, "shop-restored", long_backup, "r1");
  EXPECT_EQ(item["metadata"]["namespace"], "shop-restored");
  EXPECT_EQ(item["metadata"]["labels"]["app"], "x");
  EXPECT_EQ(item["metadata"]["labels"]["velero.io/restore-name"], "r1");
  EXPECT_EQ(item["metadata"]["labels"]["velero.io/backup-name"], api::GetValidName(long_backup));

  Json cluster = J(R"({"metadata":{"name":"pv1"}})");
  SetTargetNamespaceAndLabels(cluster, "", "b", "r");
  EXPECT_FALSE(cluster["metadata"].contains("namespace"));
}

TEST(NamesTest, GetValidName) {
  EXPECT_EQ(api::GetValidName("short"), "short");
  std::string exactly63(63, 'x');
  EXPECT_EQ(api::GetValidName(exactly63), exactly63);
  // sha256("a" * 70) starts with 6bd5e5 (checked with sha256sum).
  EXPECT_EQ(api::GetValidName(std::string(70, 'a')), std::string(57, 'a') + "6bd5e5");
}

// What the test environment's API server (v1.36) returned: a ConfigMap made by `kubectl create`,
// and its copy created with that entry in the body, ?fieldManager=kubectl-create and the restore
// labels.
constexpr char kBackedUp[] = R"([{"manager":"kubectl-create","operation":"Update",
    "apiVersion":"v1","time":"2026-11-26T19:27:05Z","fieldsType":"FieldsV1",
    "fieldsV1":{"f:data":{".":{},"f:a":{}}}}])";
constexpr char kCreated[] = R"([{"manager":"kubectl-create","operation":"Update",
    "apiVersion":"v1","time":"2026-11-26T19:27:06Z","fieldsType":"FieldsV1",
    "fieldsV1":{"f:data":{".":{},"f:a":{}},"f:metadata":{"f:labels":{".":{},
    "f:velero.io/backup-name":{},"f:velero.io/restore-name":{}}}}}])";

TEST(ManagedFieldsTest, FieldsPresentLooksThroughMapsOnly) {
  const Json fields = J(kBackedUp)[0]["fieldsV1"];
  EXPECT_TRUE(FieldsPresent(fields, J(R"({"data":{"a":"1","b":"2"},"metadata":{}})")));
  EXPECT_FALSE(FieldsPresent(fields, J(R"({"data":{"b":"2"}})")));  // f:a is gone
  EXPECT_FALSE(FieldsPresent(fields, J(R"({"metadata":{}})")));
  EXPECT_FALSE(FieldsPresent(fields, J(R"({"data":"not a map"})")));
  const Json nested = J(R"({"f:metadata":{"f:labels":{".":{},"f:app":{}},"f:annotations":{".":{}}},
      "f:spec":{"f:clusterIP":{},"f:ports":{".":{},"k:{\"port\":80}":{".":{}}}}})");
  const Json service = J(R"({"metadata":{"labels":{"app":"x"},"annotations":{}},
      "spec":{"clusterIP":"10.0.0.1","ports":[{"port":80}]}})");
  // A list element (k:) cannot be checked here.
  EXPECT_FALSE(FieldsPresent(nested, service));
  Json no_list = nested;
  no_list["f:spec"].erase("f:ports");
  EXPECT_TRUE(FieldsPresent(no_list, service));
  Json without_ip = service;
  without_ip["spec"].erase("clusterIP");  // as the service action leaves a Service
  EXPECT_FALSE(FieldsPresent(no_list, without_ip));
  EXPECT_FALSE(FieldsPresent(Json(), service));
}

TEST(ManagedFieldsTest, AServiceGivesUpTheAllocatedFieldsItsManagerDoesNotOwn) {
  const Json fields = J(R"({"f:spec":{"f:clusterIP":{},"f:ipFamilyPolicy":{},"f:ports":{}}})");
  Json service = J(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},
      "spec":{"clusterIP":"None","clusterIPs":["None"],"ipFamilies":["IPv4"],
      "ipFamilyPolicy":"PreferDualStack","ports":[{"port":80}]}})");
  const Json taken = TakeUnownedAllocatedFields(fields, service);
  // ipFamilyPolicy is the manager's (it asked for PreferDualStack): it stays in the create.
  EXPECT_EQ(taken, J(R"({"clusterIPs":["None"],"ipFamilies":["IPv4"]})"));
  EXPECT_EQ(service["spec"], J(R"({"clusterIP":"None","ipFamilyPolicy":"PreferDualStack",
      "ports":[{"port":80}]})"));
  Json allocated = service;
  allocated["spec"]["clusterIPs"] = J(R"(["None"])");
  allocated["spec"]["ipFamilies"] = J(R"(["IPv4"])");
  EXPECT_TRUE(AllocatedFieldsMatch(taken, allocated));
  allocated["spec"]["ipFamilies"] = J(R"(["IPv6"])");
  EXPECT_FALSE(AllocatedFieldsMatch(taken, allocated));
  allocated["spec"].erase("ipFamilies");
  EXPECT_FALSE(AllocatedFieldsMatch(taken, allocated));
  EXPECT_TRUE(AllocatedFieldsMatch(Json::object(), J(R"({"spec":{}})")));
  // Not a Service: nothing taken.
  Json cm = J(R"({"apiVersion":"v1","kind":"ConfigMap","spec":{"ipFamilies":["IPv4"]}})");
  EXPECT_TRUE(TakeUnownedAllocatedFields(fields, cm).empty());
  EXPECT_TRUE(cm["spec"].contains("ipFamilies"));
}

TEST(ManagedFieldsTest, OnlyKubeRootCaAndTheDefaultAccountAreMadeInEveryNamespace) {
  EXPECT_TRUE(MadeInEveryNamespace("configmaps", "kube-root-ca.crt"));
  EXPECT_TRUE(MadeInEveryNamespace("serviceaccounts", "default"));
  EXPECT_FALSE(MadeInEveryNamespace("configmaps", "default"));
  EXPECT_FALSE(MadeInEveryNamespace("secrets", "kube-root-ca.crt"));
}

TEST(ManagedFieldsTest, SingleUpdateEntryNamesItsManager) {
  EXPECT_EQ(SingleUpdateManager(J(kBackedUp), "v1"), "kubectl-create");
  EXPECT_EQ(SingleUpdateManager(J(kBackedUp), "apps/v1"), "");  // another version
  Json two = J(kBackedUp);
  two.push_back(two[0]);
  two[1]["manager"] = "kubectl-label";
  EXPECT_EQ(SingleUpdateManager(two, "v1"), "");
  Json apply = J(kBackedUp);
  apply[0]["operation"] = "Apply";
  EXPECT_EQ(SingleUpdateManager(apply, "v1"), "");
  Json status = J(kBackedUp);
  status[0]["subresource"] = "status";
  EXPECT_EQ(SingleUpdateManager(status, "v1"), "");
  status[0]["subresource"] = "";
  EXPECT_EQ(SingleUpdateManager(status, "v1"), "kubectl-create");
  Json long_name = J(kBackedUp);
  long_name[0]["manager"] = std::string(129, 'm');
  EXPECT_EQ(SingleUpdateManager(long_name, "v1"), "");
  long_name[0]["manager"] = std::string(128, 'm');
  EXPECT_EQ(SingleUpdateManager(long_name, "v1"), std::string(128, 'm'));
  Json unprintable = J(kBackedUp);
  unprintable[0]["manager"] = "a\nb";
  EXPECT_EQ(SingleUpdateManager(unprintable, "v1"), "");
  Json no_fields = J(kBackedUp);
  no_fields[0].erase("fieldsV1");
  EXPECT_EQ(SingleUpdateManager(no_fields, "v1"), "");
  // Malformed values are not a crash.
  EXPECT_EQ(SingleUpdateManager(J("[]"), "v1"), "");
  EXPECT_EQ(SingleUpdateManager(J("{}"), "v1"), "");
  EXPECT_EQ(SingleUpdateManager(J(R"([{"manager":7}])"), "v1"), "");
}

TEST(ManagedFieldsTest, SameOwnershipAllowsOnlyTheTimeAndTheRestoreLabels) {
  EXPECT_TRUE(SameOwnershipAfterCreate(J(kBackedUp), J(kCreated)));
  // The manager also owned labels: they stay, the restore's join them.
  Json with_labels = J(kBackedUp);
  with_labels[0]["fieldsV1"]["f:metadata"] = J(R"({"f:labels":{".":{},"f:app":{}}})");
  Json created_with_labels = J(kCreated);
  created_with_labels[0]["fieldsV1"]["f:metadata"]["f:labels"]["f:app"] = Json::object();
  EXPECT_TRUE(SameOwnershipAfterCreate(with_labels, created_with_labels));
  EXPECT_FALSE(SameOwnershipAfterCreate(with_labels, J(kCreated)));
  // A field the backed-up entry did not own (a label someone else had set) is a difference.
  Json extra = J(kCreated);
  extra[0]["fieldsV1"]["f:metadata"]["f:labels"]["f:app"] = Json::object();
  EXPECT_FALSE(SameOwnershipAfterCreate(J(kBackedUp), extra));
  Json other_manager = J(kCreated);
  other_manager[0]["manager"] = "arca";
  EXPECT_FALSE(SameOwnershipAfterCreate(J(kBackedUp), other_manager));
  Json two = J(kCreated);
  two.push_back(two[0]);
  EXPECT_FALSE(SameOwnershipAfterCreate(J(kBackedUp), two));
  Json no_labels = J(kCreated);
  no_labels[0]["fieldsV1"].erase("f:metadata");
  EXPECT_FALSE(SameOwnershipAfterCreate(J(kBackedUp), no_labels));
  // Malformed values are not a crash.
  Json bad = J(kBackedUp);
  bad[0]["fieldsV1"]["f:metadata"] = 3;
  EXPECT_FALSE(SameOwnershipAfterCreate(bad, J(kCreated)));
  EXPECT_FALSE(SameOwnershipAfterCreate(J("[]"), J("[]")));
  EXPECT_FALSE(SameOwnershipAfterCreate(J("{}"), J(kCreated)));
}

TEST(NonRestorableTest, List) {
  EXPECT_THAT(NonRestorableResources(), ::testing::Contains("nodes"));
  EXPECT_THAT(NonRestorableResources(), ::testing::Contains("events.events.k8s.io"));
  EXPECT_EQ(NonRestorableResources().size(), 9u);
}

}  // namespace
}  // namespace arca::restore
