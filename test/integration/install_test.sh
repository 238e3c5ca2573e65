#!/usr/bin/env bash
# `arca install` / `arca uninstall` and the CRD schemas against the real API server. Each case is
# one ctest test: `install_test.sh ARCA_BINARY CASE`. The environment is up (ctest fixture).
set -Eeuo pipefail

arca=$1
case_name=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A malformed Backup is refused by the schema with every bad field named; well-formed objects of
# each kind are accepted and printed with Velero's columns.
case_crd_schemas_reject_malformed_resources() {
  "$arca" install --crds-only >"$work/out" || fail "install --crds-only failed: $(cat "$work/out")"
  ns="it-crd-$$-$RANDOM"
  kubectl create namespace "$ns" >/dev/null
  trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  eventually 30 kubectl get backups.velero.io -n "$ns" || fail "the Backup kind is not served"
  if kubectl apply -n "$ns" -f - >"$work/out" 2>&1 <<'YAML'; then
apiVersion: velero.io/v1
kind: Backup
metadata: {name: bad}
spec:
  includedNamespaces: shop
  ttl: 5
  includeClusterResources: "yes"
  hooks: {resources: [{name: h, pre: [{exec: {command: []}}]}]}
YAML
    fail "a malformed Backup was accepted"
  fi
  for field in spec.ttl spec.includedNamespaces spec.includeClusterResources \
    'spec.hooks.resources\[0\].pre\[0\].exec.command'; do
    grep -q "$field" "$work/out" || fail "the rejection does not name $field: $(cat "$work/out")"
  done
  if kubectl apply -n "$ns" -f - >"$work/out" 2>&1 <<'YAML'; then
apiVersion: velero.io/v1
kind: DownloadRequest
metadata: {name: bad}
spec: {target: {kind: Everything, name: b1}}
YAML
    fail "a DownloadRequest with an unknown target kind was accepted"
  fi
  grep -q 'spec.target.kind' "$work/out" || fail "the rejection does not name the field"

  kubectl apply -n "$ns" -f - >/dev/null <<'YAML' || fail "well-formed objects were refused"
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b1}
spec:
  includedNamespaces: [shop, "web-*"]
  excludedResources: [secrets]
  includeClusterResources: false
  labelSelector: {matchLabels: {app: shop}, matchExpressions: [{key: tier, operator: In, values: [web]}]}
  ttl: 72h0m0s
  orderedResources: {pods: "shop/a,shop/b"}
  hooks: {resources: [{name: freeze, pre: [{exec: {command: [/sbin/fsfreeze, --freeze], onError: Fail, timeout: 1m}}]}]}
status: {phase: Completed, errors: 0, warnings: 2, startTimestamp: "2026-11-26T10:00:00Z"}
---
apiVersion: velero.io/v1
kind: Restore
metadata: {name: r1}
spec: {backupName: b1, namespaceMapping: {shop: shop-copy}, existingResourcePolicy: update,
       restoreStatus: {includedResources: [deployments]}}
---
apiVersion: velero.io/v1
kind: Schedule
metadata: {name: nightly}
spec: {schedule: "0 0 * * *", template: {includedNamespaces: ["*"], ttl: 720h0m0s}, paused: true}
---
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: minio}
spec: {provider: aws, objectStorage: {bucket: velero, prefix: a}, accessMode: ReadOnly,
       config: {region: us-east-1, s3ForcePathStyle: "true"}, backupSyncPeriod: 1m0s}
---
apiVersion: velero.io/v1
kind: DeleteBackupRequest
metadata: {name: b1-del}
spec: {backupName: b1}
---
apiVersion: velero.io/v1
kind: ServerStatusRequest
metadata: {name: ssr1}
spec: {}
YAML
  kubectl get backups.velero.io -n "$ns" >"$work/out"
  head -1 "$work/out" | grep -q "NAME *STATUS *ERRORS *WARNINGS *CREATED *EXPIRES *STORAGE LOCATION" ||
    fail "unexpected Backup columns: $(head -1 "$work/out")"
  grep -q "b1 *Completed *0 *2" "$work/out" || fail "the Backup row is wrong: $(cat "$work/out")"
  kubectl get bsl -n "$ns" minio >/dev/null || fail "the bsl short name is not served"
  kubectl get ssr -n "$ns" ssr1 >/dev/null || fail "the ssr short name is not served"
}

# A full install (without the Deployment: the server runs elsewhere), installed twice, its
# dry-run output accepted by the API server, then removed by uninstall.
case_install_twice_and_uninstall() {
  local ns="it-install-$$-$RANDOM"
  printf '[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$work/cloud"
  local args=(--namespace "$ns" --provider aws --bucket "$S3_BUCKET" --prefix "it-$$"
    --backup-location-config "region=us-east-1,s3Url=$AWS_ENDPOINT_URL,s3ForcePathStyle=true"
    --secret-file "$work/cloud")
  "$arca" install "${args[@]}" --dry-run -o yaml >"$work/all.yaml" || fail "dry run failed"
  grep -q "^kind: Deployment" "$work/all.yaml" || fail "the dry run has no Deployment"

  "$arca" install "${args[@]}" --no-deployment >"$work/out" || fail "install failed"
  grep -q "created BackupStorageLocation/$ns/default" "$work/out" || fail "$(cat "$work/out")"
  # Every printed manifest is one the API server accepts: the installed ones exist already, and
  # the Deployment (left out above) passes the server's validation.
  kubectl create --dry-run=server -f "$work/all.yaml" >"$work/out" 2>&1 || true
  grep -q "deployment.apps/velero created (server dry run)" "$work/out" ||
    fail "the API server refuses the Deployment: $(cat "$work/out")"
  if grep -v "AlreadyExists" "$work/out" | grep -qi "error"; then
    fail "the API server refuses a printed manifest: $(cat "$work/out")"
  fi
  "$arca" install "${args[@]}" --no-deployment >"$work/out" || fail "a second install failed"
  grep -q "updated BackupStorageLocation/$ns/default" "$work/out" || fail "$(cat "$work/out")"
  [ "$(kubectl get bsl -n "$ns" default -o jsonpath='{.spec.objectStorage.prefix}')" = "it-$$" ] ||
    fail "the location's prefix is wrong"
  [ "$(kubectl get secret -n "$ns" cloud-credentials -o jsonpath='{.data.cloud}' | base64 -d |
    grep -c aws_secret_access_key)" = 1 ] || fail "the credentials secret is wrong"
  kubectl get clusterrolebinding "velero-$ns" -o jsonpath='{.roleRef.name}' | grep -qx cluster-admin ||
    fail "the service account is not bound to cluster-admin"
  kubectl get deployment -n "$ns" velero >/dev/null 2>&1 && fail "--no-deployment made a Deployment"

  "$arca" uninstall --namespace "$ns" --wait >"$work/out" || fail "uninstall failed: $(cat "$work/out")"
  kubectl get namespace "$ns" >/dev/null 2>&1 && fail "the namespace is still there"
  kubectl get clusterrolebinding "velero-$ns" >/dev/null 2>&1 && fail "the binding is still there"
  eventually 60 bash -c '! kubectl get crd backups.velero.io' || fail "the CRDs are still there"
}

# The Helm chart installs what `arca install` installs: the same objects (kind and name), the
# same location, and manifests the API server accepts.
case_helm_chart_matches_install() {
  command -v helm >/dev/null || fail "helm is not on PATH (testenv build makes it)"
  local chart=$here/../../deploy/helm/arca
  helm lint "$chart" >"$work/out" 2>&1 || fail "helm lint: $(cat "$work/out")"
  ns="it-helm-$$-$RANDOM"
  kubectl create namespace "$ns" >/dev/null
  trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  "$arca" install --crds-only >/dev/null || fail "install --crds-only failed"
  helm template arca "$chart" --namespace "$ns" --include-crds \
    --set backupStorageLocation.bucket=velero --set backupStorageLocation.prefix=p1 \
    --set backupStorageLocation.config.region=us-east-1 \
    --set credentials.cloud="[default]" >"$work/helm.yaml" 2>"$work/out" ||
    fail "helm template: $(cat "$work/out")"
  printf '[default]' >"$work/cloud"
  "$arca" install --namespace "$ns" --provider aws --bucket velero --prefix p1 \
    --backup-location-config region=us-east-1 --secret-file "$work/cloud" --dry-run -o yaml \
    >"$work/arca.yaml" || fail "arca install --dry-run failed"
  objects() { kubectl create --dry-run=client -f "$1" -o name | sort; }
  objects "$work/helm.yaml" >"$work/helm.names" || fail "kubectl cannot read the chart's output"
  objects "$work/arca.yaml" | grep -v "^namespace/" >"$work/arca.names"
  diff -u "$work/arca.names" "$work/helm.names" || fail "the chart and arca install differ"
  kubectl apply --dry-run=server -n "$ns" -f "$work/helm.yaml" >"$work/out" 2>&1 ||
    fail "the API server refuses the chart: $(cat "$work/out")"
  # The location and the Deployment's container are the same, field for field.
  kubectl create --dry-run=client -f "$work/helm.yaml" -o json >"$work/helm.json"
  kubectl create --dry-run=client -f "$work/arca.yaml" -o json >"$work/arca.json"
  python3 - "$work/arca.json" "$work/helm.json" <<'PY' || fail "the chart and arca install differ"
import json, sys
def find(path, kind):  # kubectl prints one JSON object after another
    text, pos, dec = open(path).read(), 0, json.JSONDecoder()
    while pos < len(text):
        obj, pos = dec.raw_decode(text, pos)
        while pos < len(text) and text[pos].isspace():
            pos += 1
        for item in obj.get("items", [obj]):
            if item["kind"] == kind:
                return item
    raise SystemExit("no " + kind + " in " + path)
arca, helm = sys.argv[1], sys.argv[2]
a, h = find(arca, "BackupStorageLocation"), find(helm, "BackupStorageLocation")
h["spec"].pop("accessMode", None)  # the chart spells out the default, ReadWrite
assert a["spec"] == h["spec"], (a["spec"], h["spec"])
ca = find(arca, "Deployment")["spec"]["template"]["spec"]["containers"][0]
ch = find(helm, "Deployment")["spec"]["template"]["spec"]["containers"][0]
assert ca["args"] == ch["args"][:3], (ca["args"], ch["args"])
assert ca["env"] == ch["env"], (ca["env"], ch["env"])
assert ca["volumeMounts"] == ch["volumeMounts"], (ca["volumeMounts"], ch["volumeMounts"])
PY
}

# Bad flags are refused before anything is created, with the flag to fix named.
case_install_refuses_bad_flags() {
  if "$arca" install --provider gcp --bucket a/b >"$work/out" 2>&1; then
    fail "bad flags were accepted"
  fi
  grep -q -- "--provider 'gcp' is not supported" "$work/out" || fail "$(cat "$work/out")"
  grep -q -- "--bucket 'a/b' must not contain '/'" "$work/out" || fail "$(cat "$work/out")"
  if "$arca" install --provider aws --bucket b --backup-location-config region >"$work/out" 2>&1; then
    fail "a malformed --backup-location-config was accepted"
  fi
  grep -q "is not key=value" "$work/out" || fail "$(cat "$work/out")"
}

"case_$case_name"
echo "PASS: $case_name"
