#!/usr/bin/env bash
# Arca's demo on the embedded default (a backup location in a local directory): builds Arca,
# starts the real local environment (Kubernetes control plane, a kwok node, MinIO), deploys a
# small application in its own namespace, backs it up, deletes the namespace, restores it as it
# was and once more into a new namespace, and shows that the objects are back. The CLI runs the
# engines in-process (--standalone); `arca server` takes over that role with issue 7.
# With --keep the environment stays up afterwards (stop it with test/testenv/testenv down).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
keep=false
[ "${1:-}" = "--keep" ] && keep=true

scripts/build.sh
testenv=test/testenv/testenv
export ARCA_TESTENV_STATE=${ARCA_TESTENV_STATE:-$PWD/.cache/demo-env}
if ! $keep; then trap '$testenv down' EXIT; fi
$testenv up
eval "$($testenv env)"
arca=build/arca
store_dir=$PWD/.cache/demo-backups
rm -rf "$store_dir"
storage="file://$store_dir"
run_id=$(date +%H%M%S)
backup=shop-$run_id

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {
  kubectl -n "$1" get deployments,services,configmaps,secrets,serviceaccounts,roles,rolebindings \
    -l app=shop -o custom-columns=KIND:.kind,NAME:.metadata.name,RESTORED-BY:.metadata.labels.velero\\.io/restore-name
}

step "arca version"
$arca version
step "Deploy the sample application in namespace shop"
# A kept environment may still hold the namespaces of an earlier run.
kubectl delete namespace shop shop-copy --ignore-not-found --wait=true >/dev/null
kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n shop apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: shop, labels: {app: shop}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config, labels: {app: shop}}
data: {currency: EUR, greeting: "Welcome to the shop"}
---
apiVersion: v1
kind: Secret
metadata: {name: shop-db, labels: {app: shop}}
stringData: {password: s3cr3t}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: shop-reader, labels: {app: shop}}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shop-reader, labels: {app: shop}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: shop-reader}
subjects: [{kind: ServiceAccount, name: shop, namespace: shop}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-web, labels: {app: shop}}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      serviceAccountName: shop
      containers: [{name: web, image: registry.invalid/shop:1.0, envFrom: [{configMapRef: {name: shop-config}}]}]
---
apiVersion: v1
kind: Service
metadata: {name: shop-web, labels: {app: shop}}
spec: {selector: {app: shop}, ports: [{port: 80, targetPort: 8080}]}
YAML
kubectl -n shop rollout status deployment/shop-web --timeout=60s
show shop

step "Back it up to $storage"
$arca backup create "$backup" --include-namespaces shop --standalone --storage "$storage"
$arca backup get --storage "$storage"
$arca backup describe "$backup" --details --storage "$storage"
ls -l "$store_dir/backups/$backup"

step "Disaster: delete the namespace"
kubectl delete namespace shop --wait=true
kubectl get namespace shop 2>&1 || true

step "Restore it as it was"
$arca restore create "$backup-restore" --from-backup "$backup" --standalone --storage "$storage"
kubectl -n shop rollout status deployment/shop-web --timeout=60s
show shop

step "Restore it once more, into a new namespace (shop -> shop-copy)"
$arca restore create "$backup-copy" --from-backup "$backup" --namespace-mappings shop:shop-copy \
  --standalone --storage "$storage"
kubectl -n shop-copy rollout status deployment/shop-web --timeout=60s
show shop-copy
kubectl -n shop-copy get rolebinding shop-reader -o jsonpath='RoleBinding subject namespace: {.subjects[0].namespace}{"\n"}'

step "The same backup to MinIO ($AWS_ENDPOINT_URL, bucket $S3_BUCKET)"
s3="s3://$S3_BUCKET/demo?region=us-east-1&s3Url=$AWS_ENDPOINT_URL&s3ForcePathStyle=true"
$arca backup create "$backup" --include-namespaces shop --standalone --storage "$s3"
aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls --recursive "s3://$S3_BUCKET/demo/backups/$backup/"

step "Done"
if $keep; then
  echo "The environment stays up. Use it with: eval \"\$($testenv env)\"; stop it with: $testenv down"
fi
