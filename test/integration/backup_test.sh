#!/usr/bin/env bash
# Backups of a seeded application on the real test environment, through the real `arca` binary:
# `backup_test.sh ARCA_BINARY CASE`. Each case seeds its own namespaces (unique names), runs
# `arca backup create --standalone`, and checks the tarball's exact entry list (without the
# -preferredversion copies, which are checked to mirror the others), the metadata and the
# side files.
#
# The seed, per case (u = a unique suffix):
#   namespace a-u: ConfigMap app-config, Secret app-secret, ServiceAccount app-sa (+ "default"),
#     Role/RoleBinding, Service web, Deployment web (0 replicas, so no pods of its own), a PVC
#     "data" bound to the PV pv-u, a Pod app-pod mounting it, a Widget w1 of the CRD
#     widgets.u.arca.test; the ClusterRoleBinding crb-u binds app-sa to the ClusterRole cr-u.
#   namespace b-u: ConfigMaps one and two.
#   Objects labelled arca-test=u: app-config, app-secret, app-pod, w1, two (in b-u), pv-u.
#   tier=front-u: app-config; tier=back-u: one.
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
arca=${1:?usage: backup_test.sh ARCA_BINARY CASE}
case_name=${2:?usage: backup_test.sh ARCA_BINARY CASE}
eval "$("$here/../testenv/testenv" env)"

u=$(date +%s%N | sha256sum | cut -c1-8)
A=a-$u
B=b-$u
G=$u.arca.test
work=$(mktemp -d)
store=file://$work/store
cleanup() {
  kubectl delete ns "$A" "$B" --wait=false >/dev/null 2>&1 || true
  kubectl delete pv "pv-$u" clusterrolebinding "crb-$u" clusterrole "cr-$u" \
    "crd/widgets.$G" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $case_name: $*" >&2
  exit 1
}

seed() {
  kubectl apply -f - >/dev/null <<EOF
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.$G, labels: {arca-test: "$u"}}
spec:
  group: $G
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
EOF
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $A}
---
apiVersion: v1
kind: Namespace
metadata: {name: $B}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: $A, labels: {arca-test: "$u", tier: "front-$u"}}
data: {key: value}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret, namespace: $A, labels: {arca-test: "$u"}}
stringData: {password: s3cret}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app-sa, namespace: $A}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app-role, namespace: $A}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-rb, namespace: $A}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app-role}
subjects: [{kind: ServiceAccount, name: app-sa, namespace: $A}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cr-$u}
rules: [{apiGroups: [""], resources: [nodes], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb-$u}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-$u}
subjects: [{kind: ServiceAccount, name: app-sa, namespace: $A}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $A}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $A}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-$u, labels: {arca-test: "$u"}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath: {path: /tmp/pv-$u}
  claimRef: {namespace: $A, name: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: $A}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: pv-$u
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: app-pod, namespace: $A, labels: {arca-test: "$u"}}
spec:
  serviceAccountName: app-sa
  containers: [{name: app, image: busybox}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: $B, labels: {tier: "back-$u"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: $B, labels: {arca-test: "$u"}}
EOF
  kubectl wait --for=condition=Established "crd/widgets.$G" --timeout=60s >/dev/null
  for _ in $(seq 1 100); do
    kubectl apply -f - >/dev/null 2>&1 <<EOF && break
apiVersion: $G/v1
kind: Widget
metadata: {name: w1, namespace: $A, labels: {arca-test: "$u"}}
spec: {size: 3}
EOF
    sleep 0.2
  done
  kubectl -n "$A" get "widgets.$G" w1 >/dev/null
  # Aggregated discovery can lag behind the CRD's Established condition.
  for _ in $(seq 1 100); do
    kubectl api-resources --api-group="$G" -o name 2>/dev/null | grep -qx "widgets.$G" && break
    sleep 0.1
  done
  kubectl -n "$A" wait --for=jsonpath='{.status.phase}'=Bound pvc/data --timeout=60s >/dev/null
  # The default ServiceAccount and kube-root-ca.crt appear shortly after the namespace.
  for _ in $(seq 1 100); do
    kubectl -n "$A" get sa default >/dev/null 2>&1 &&
      kubectl -n "$A" get configmap kube-root-ca.crt >/dev/null 2>&1 && break
    sleep 0.1
  done
}

# The entries of a backup's tarball, sorted, without the -preferredversion copies; checks
# that those mirror the others exactly and that metadata/version is first.
entries() {
  local tarball=$1 all
  all=$(tar tzf "$tarball")
  [ "$(head -1 <<<"$all")" = metadata/version ] || fail "metadata/version is not the first entry"
  local plain versioned
  plain=$(grep -v -- '-preferredversion/' <<<"$all" | grep -v '^metadata/version$' | sort)
  versioned=$(grep -- '-preferredversion/' <<<"$all" | sed -E 's#/v[0-9a-z]+-preferredversion/#/#' | sort)
  [ "$plain" = "$versioned" ] || fail "the -preferredversion entries do not mirror the others"
  echo "$plain"
}

# expect_entries TARBALL ENTRY... : the exact list.
expect_entries() {
  local tarball=$1
  shift
  local want got
  want=$(printf '%s\n' "$@" | sort)
  got=$(entries "$tarball")
  if [ "$want" != "$got" ]; then
    diff <(echo "$want") <(echo "$got") >&2 || true
    fail "tarball entries differ (< expected, > got)"
  fi
}

meta() { # meta STOREDIR NAME JQ-PATH
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d.get(k, "") if isinstance(d, dict) else ""
print(d)' "$1/backups/$2/velero-backup.json" "$3"
}

r() { echo "resources/$1"; }

# create NAME ARGS...: `arca backup create NAME --standalone ARGS`, which must succeed.
create() {
  local name=$1
  shift
  "$arca" backup create "$name" --standalone "$@" >"$work/create.out" 2>&1 || {
    cat "$work/create.out" >&2
    fail "arca backup create $name failed"
  }
}

case_namespace_with_related_items() {
  seed
  create ns --storage "$store" --include-namespaces "$A" \
    --exclude-resources events,pods,replicasets.apps,endpointslices.discovery.k8s.io,endpoints
  expect_entries "$work/store/backups/ns/ns.tar.gz" \
    "$(r "configmaps/namespaces/$A/app-config.json")" \
    "$(r "configmaps/namespaces/$A/kube-root-ca.crt.json")" \
    "$(r "secrets/namespaces/$A/app-secret.json")" \
    "$(r "serviceaccounts/namespaces/$A/default.json")" \
    "$(r "serviceaccounts/namespaces/$A/app-sa.json")" \
    "$(r "services/namespaces/$A/web.json")" \
    "$(r "deployments.apps/namespaces/$A/web.json")" \
    "$(r "roles.rbac.authorization.k8s.io/namespaces/$A/app-role.json")" \
    "$(r "rolebindings.rbac.authorization.k8s.io/namespaces/$A/app-rb.json")" \
    "$(r "widgets.$G/namespaces/$A/w1.json")" \
    "$(r "persistentvolumeclaims/namespaces/$A/data.json")" \
    "$(r "namespaces/cluster/$A.json")" \
    "$(r "persistentvolumes/cluster/pv-$u.json")" \
    "$(r "clusterrolebindings.rbac.authorization.k8s.io/cluster/crb-$u.json")" \
    "$(r "clusterroles.rbac.authorization.k8s.io/cluster/cr-$u.json")" \
    "$(r "customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.$G.json")"
  [ "$(meta "$work/store" ns status.phase)" = Completed ] || fail "phase is not Completed"
  [ "$(meta "$work/store" ns status.progress.itemsBackedUp)" = 16 ] || fail "itemsBackedUp != 16"
  # Items are stored as the API server returned them, with apiVersion and kind.
  tar xzf "$work/store/backups/ns/ns.tar.gz" -C "$work" "resources/secrets/namespaces/$A/app-secret.json"
  python3 - "$work/resources/secrets/namespaces/$A/app-secret.json" <<'EOF' || fail "bad secret file"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["apiVersion"] == "v1" and d["kind"] == "Secret", d
assert d["data"]["password"] == "czNjcmV0", d
assert d["metadata"]["uid"] and d["metadata"]["resourceVersion"], d
EOF
  # Side files: the resource list and results are gzipped JSON, as Velero writes them.
  for f in ns-resource-list.json.gz ns-results.gz ns-logs.gz ns-volumesnapshots.json.gz \
    ns-itemoperations.json.gz ns-podvolumebackups.json.gz ns-volumeinfo.json.gz \
    ns-csi-volumesnapshotclasses.json.gz; do
    [ -s "$work/store/backups/ns/$f" ] || fail "missing $f"
  done
  gunzip -c "$work/store/backups/ns/ns-resource-list.json.gz" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['v1/PersistentVolume'] == ['pv-$u'], d
assert d['v1/ConfigMap'] == ['$A/app-config', '$A/kube-root-ca.crt'], d
assert d['$G/v1/Widget'] == ['$A/w1'], d
" || fail "bad resource list"
}

case_pod_pulls_in_pvc_and_pv() {
  seed
  # Pods only, cluster resources allowed: the pod's PVC is a namespaced type that is not
  # included (skipped, as in Velero); with PVCs included too, the PVC and its PV come.
  create pods --storage "$store" --include-namespaces "$A" \
    --include-resources pods,persistentvolumeclaims --include-cluster-resources=true
  expect_entries "$work/store/backups/pods/pods.tar.gz" \
    "$(r "pods/namespaces/$A/app-pod.json")" \
    "$(r "persistentvolumeclaims/namespaces/$A/data.json")" \
    "$(r "persistentvolumes/cluster/pv-$u.json")" \
    "$(r "namespaces/cluster/$A.json")"
  create nocluster --storage "$store" --include-namespaces "$A" \
    --include-resources pods,persistentvolumeclaims --include-cluster-resources=false
  expect_entries "$work/store/backups/nocluster/nocluster.tar.gz" \
    "$(r "pods/namespaces/$A/app-pod.json")" \
    "$(r "persistentvolumeclaims/namespaces/$A/data.json")" \
    "$(r "namespaces/cluster/$A.json")"
}

case_label_selector_whole_cluster() {
  seed
  create sel --storage "$store" -l "arca-test=$u"
  # Labelled objects of every namespace and the labelled cluster-scoped ones; the pod's PVC and
  # its PV (related); the namespaces holding items.
  expect_entries "$work/store/backups/sel/sel.tar.gz" \
    "$(r "configmaps/namespaces/$A/app-config.json")" \
    "$(r "secrets/namespaces/$A/app-secret.json")" \
    "$(r "pods/namespaces/$A/app-pod.json")" \
    "$(r "persistentvolumeclaims/namespaces/$A/data.json")" \
    "$(r "widgets.$G/namespaces/$A/w1.json")" \
    "$(r "configmaps/namespaces/$B/two.json")" \
    "$(r "persistentvolumes/cluster/pv-$u.json")" \
    "$(r "customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.$G.json")" \
    "$(r "namespaces/cluster/$A.json")" \
    "$(r "namespaces/cluster/$B.json")"
  [ "$(meta "$work/store" sel spec.labelSelector.matchLabels.arca-test)" = "$u" ] ||
    fail "labelSelector not recorded in velero-backup.json"
}

case_or_selector_and_globs() {
  seed
  create orsel --storage "$store" --include-namespaces "?-$u" \
    --or-selector "tier=front-$u or tier=back-$u or arca-test=$u" \
    --include-resources configmaps
  expect_entries "$work/store/backups/orsel/orsel.tar.gz" \
    "$(r "configmaps/namespaces/$A/app-config.json")" \
    "$(r "configmaps/namespaces/$B/one.json")" \
    "$(r "configmaps/namespaces/$B/two.json")" \
    "$(r "namespaces/cluster/$A.json")" \
    "$(r "namespaces/cluster/$B.json")"
}

case_scoped_filters_and_exclusions() {
  seed
  kubectl -n "$B" label configmap one velero.io/exclude-from-backup=true >/dev/null
  create scoped --storage "$store" --include-namespaces "$A,$B" \
    --include-namespace-scoped-resources configmaps,widgets.$G \
    --exclude-cluster-scoped-resources customresourcedefinitions.apiextensions.k8s.io
  expect_entries "$work/store/backups/scoped/scoped.tar.gz" \
    "$(r "configmaps/namespaces/$A/app-config.json")" \
    "$(r "configmaps/namespaces/$A/kube-root-ca.crt.json")" \
    "$(r "configmaps/namespaces/$B/kube-root-ca.crt.json")" \
    "$(r "configmaps/namespaces/$B/two.json")" \
    "$(r "widgets.$G/namespaces/$A/w1.json")" \
    "$(r "namespaces/cluster/$A.json")" \
    "$(r "namespaces/cluster/$B.json")"
}

# Runs alone (RUN_SERIAL): while any namespace carries velero.io/exclude-from-backup, Velero's
# namespace filter is no longer "everything", so a whole-cluster backup with a label selector
# running at the same time would also take every other namespace object (nsTracker rule (b)).
case_excluded_namespace() {
  seed
  # A namespace labelled velero.io/exclude-from-backup is left out entirely.
  kubectl label ns "$B" velero.io/exclude-from-backup=true >/dev/null
  create nsx --storage "$store" --include-namespaces "$A,$B" \
    --include-resources configmaps
  expect_entries "$work/store/backups/nsx/nsx.tar.gz" \
    "$(r "configmaps/namespaces/$A/app-config.json")" \
    "$(r "configmaps/namespaces/$A/kube-root-ca.crt.json")" \
    "$(r "namespaces/cluster/$A.json")"
  # Remove the label before leaving, for the tests that follow.
  kubectl label ns "$B" velero.io/exclude-from-backup- >/dev/null
}

case_same_backup_to_filesystem_and_minio() {
  seed
  local s3="s3://$S3_BUCKET/h1-$u?region=$AWS_REGION&s3Url=$AWS_ENDPOINT_URL&s3ForcePathStyle=true"
  create same --storage "$store" -l "arca-test=$u"
  create same --storage "$s3" -l "arca-test=$u"
  mkdir -p "$work/s3"
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --quiet \
    "s3://$S3_BUCKET/h1-$u/backups/same/" "$work/s3/"
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3 rm --recursive --quiet "s3://$S3_BUCKET/h1-$u/"
  local fs_files s3_files
  fs_files=$(cd "$work/store/backups/same" && ls | sort)
  s3_files=$(cd "$work/s3" && ls | sort)
  [ "$fs_files" = "$s3_files" ] || fail "different files: fs [$fs_files] s3 [$s3_files]"
  diff <(entries "$work/store/backups/same/same.tar.gz") <(entries "$work/s3/same.tar.gz") ||
    fail "the two tarballs hold different entries (diff above: filesystem < > MinIO)"
  [ "$(entries "$work/s3/same.tar.gz" | wc -l)" = 10 ] || fail "unexpected entries in MinIO: $(entries "$work/s3/same.tar.gz")"
  grep -q '"phase": "Completed"' "$work/s3/velero-backup.json" || fail "MinIO metadata not Completed"
  # The store's listing shows it.
  "$arca" backup get --storage "$s3" >"$work/get" 2>&1 || true
}

case_forbidden_resource_is_partially_failed() {
  seed
  # A service account that may get and list every resource type except secrets.
  kubectl -n "$A" create serviceaccount limited >/dev/null
  local resources
  resources=$(kubectl api-resources --verbs=list -o name | grep -vx secrets | paste -sd, -)
  kubectl create clusterrole "limited-$u" --verb=get,list --resource="$resources" >/dev/null
  kubectl create clusterrolebinding "limited-$u" --clusterrole="limited-$u" \
    --serviceaccount="$A:limited" >/dev/null
  local token server
  token=$(kubectl -n "$A" create token limited)
  server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
    base64 -d >"$work/ca.crt"
  local kc=$work/limited.kubeconfig
  kubectl --kubeconfig="$kc" config set-cluster t --server="$server" \
    --certificate-authority="$work/ca.crt" --embed-certs >/dev/null
  kubectl --kubeconfig="$kc" config set-credentials limited --token="$token" >/dev/null
  kubectl --kubeconfig="$kc" config set-context c --cluster=t --user=limited >/dev/null
  kubectl --kubeconfig="$kc" config use-context c >/dev/null
  local rc=0
  "$arca" backup create rbac --standalone --storage "$store" --kubeconfig "$kc" \
    --include-namespaces "$A" --include-resources configmaps,secrets >"$work/out" 2>&1 || rc=$?
  kubectl delete clusterrolebinding "limited-$u" >/dev/null
  kubectl delete clusterrole "limited-$u" >/dev/null
  [ "$rc" = 1 ] || { cat "$work/out" >&2; fail "exit code $rc, want 1"; }
  grep -q 'PartiallyFailed' "$work/out" || fail "summary does not say PartiallyFailed"
  [ "$(meta "$work/store" rbac status.phase)" = PartiallyFailed ] || fail "phase"
  [ "$(meta "$work/store" rbac status.errors)" = 1 ] || fail "errors != 1"
  gunzip -c "$work/store/backups/rbac/rbac-results.gz" | python3 -c "
import json, sys
d = json.load(sys.stdin)
msgs = d['errors']['namespaces']['$A']
assert len(msgs) == 1 and 'resource: /secrets' in msgs[0] and 'forbidden' in msgs[0], d
" || fail "the forbidden list is not recorded in the results"
  expect_entries "$work/store/backups/rbac/rbac.tar.gz" \
    "$(r "configmaps/namespaces/$A/app-config.json")" \
    "$(r "configmaps/namespaces/$A/kube-root-ca.crt.json")" \
    "$(r "namespaces/cluster/$A.json")"
  "$arca" backup describe rbac --details --storage "$store" | grep -q "resource: /secrets" ||
    fail "describe --details does not show the error"
}

case_cli_get_describe_and_refusals() {
  seed
  create one --storage "$store" --include-namespaces "$B" \
    --ttl 24h --labels team=x
  "$arca" backup get --storage "$store" >"$work/get"
  head -1 "$work/get" | grep -q '^NAME *STATUS *ERRORS *WARNINGS *CREATED *EXPIRES *STORAGE LOCATION *QUEUE POSITION *SELECTOR$' ||
    fail "get header: $(head -1 "$work/get")"
  grep -qE '^one +Completed +0 +0 +[0-9-]+ [0-9:]+ \+0000 UTC +23h +default +<none>$' "$work/get" ||
    fail "get row: $(cat "$work/get")"
  "$arca" backup get one --storage "$store" -o json | grep -q '"team": "x"' || fail "get -o json"
  "$arca" backup describe one --details --storage "$store" >"$work/describe"
  grep -q "^Phase:  Completed$" "$work/describe" || fail "describe phase"
  grep -q "    - $B/one" "$work/describe" || fail "describe --details resource list"
  # A second backup of the same name is refused; so are bad flags and server mode.
  if "$arca" backup create one --standalone --storage "$store" >"$work/out" 2>&1; then
    fail "a second backup named one succeeded"
  fi
  grep -q "already exists" "$work/out" || fail "no 'already exists' message"
  local rc=0
  "$arca" backup create x --storage "$store" >"$work/out" 2>&1 || rc=$?
  [ "$rc" = 1 ] && grep -q -- "--standalone" "$work/out" || fail "server mode not refused clearly"
  rc=0
  "$arca" backup create x --standalone --storage "$store" --exclude-resources '*' \
    -l "a=b" --or-selector "c=d" >"$work/out" 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "invalid spec exit code $rc"
  grep -q "excludes list cannot contain" "$work/out" && grep -q "only one can be specified" "$work/out" ||
    fail "validation reasons missing: $(cat "$work/out")"
}

case_go_reader_reads_the_backup() {
  # Velero reads tarballs with Go's archive/tar over compress/gzip: so must it read Arca's.
  seed
  create gocompat --storage "$store" --include-namespaces "$A"
  (cd "$here/../compat/go_tar" && GOTOOLCHAIN=local go build -o "$work/gotar" .)
  local tarball=$work/store/backups/gocompat/gocompat.tar.gz
  "$work/gotar" read "$tarball" >"$work/go-read.txt" || fail "Go's reader refused the tarball"
  diff <(cut -f1 "$work/go-read.txt") <(tar tzf "$tarball") >&2 ||
    fail "Go's reader and GNU tar list different entries"
  [ "$(wc -l <"$work/go-read.txt")" -gt 20 ] || fail "too few entries: $(cat "$work/go-read.txt")"
}

declare -F "case_$case_name" >/dev/null || {
  echo "unknown case $case_name; cases: $(declare -F | sed -n 's/.*case_//p' | tr '\n' ' ')" >&2
  exit 2
}
"case_$case_name"
echo "PASS: $case_name"
