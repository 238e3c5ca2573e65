#!/usr/bin/env bash
# Arca's demo on the embedded default (a backup location in a local directory): builds Arca,
# starts the real local environment (Kubernetes control plane, a kwok node, MinIO), installs the
# velero.io CRDs and a filesystem BackupStorageLocation, runs `arca server` as a local process
# (as it would run in the cluster), deploys a small application in its own namespace, backs it
# up with the CLI, deletes the namespace, restores it as it was and once more into a new
# namespace, and shows that the objects are back. Then a schedule, and a second location on
# MinIO. Every CLI command here goes through the server's custom resources.
# With --keep the environment stays up afterwards (stop it with test/testenv/testenv down).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
keep=false
[ "${1:-}" = "--keep" ] && keep=true

scripts/build.sh
testenv=test/testenv/testenv
export ARCA_TESTENV_STATE=${ARCA_TESTENV_STATE:-$PWD/.cache/demo-env}
arca=build/arca
server_pid=
server_log=$PWD/.cache/demo-server.log
finish() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  $keep || $testenv down
}
trap finish EXIT
$testenv up
eval "$($testenv env)"
store_dir=$PWD/.cache/demo-backups
rm -rf "$store_dir"
mkdir -p "$store_dir"
run_id=$(date +%H%M%S)
backup=shop-$run_id
export VELERO_NAMESPACE=velero

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {
  kubectl -n "$1" get deployments,services,configmaps,secrets,serviceaccounts,roles,rolebindings \
    -l app=shop -o custom-columns=KIND:.kind,NAME:.metadata.name,RESTORED-BY:.metadata.labels.velero\\.io/restore-name
}

step "Install the CRDs and a filesystem location (the embedded default: $store_dir)"
# A kept environment may still hold an earlier run's objects.
kubectl delete namespace shop shop-copy velero --ignore-not-found --wait=true >/dev/null
$arca install --no-deployment --no-secret --provider filesystem --bucket demo \
  --backup-location-config "root=$store_dir"

step "Start arca server (a local process here; a Deployment in a real cluster)"
$arca server --metrics-address 127.0.0.1:0 --backup-sync-period 10s >"$server_log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q 'Serving metrics' "$server_log" && break
  sleep 0.1
done
echo "server pid $server_pid, log $server_log"
$arca version
for _ in $(seq 1 100); do
  [ "$(kubectl -n velero get bsl default -o jsonpath='{.status.phase}')" = Available ] && break
  sleep 0.2
done
$arca backup-location get

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

step "Back it up (arca backup create --wait)"
$arca backup create "$backup" --include-namespaces shop --wait
$arca backup get
$arca backup describe "$backup" --details
echo "--- the first lines of its log (arca backup logs):"
$arca backup logs "$backup" | head -5
ls -l "$store_dir/demo/backups/$backup"

step "Disaster: delete the namespace"
kubectl delete namespace shop --wait=true
kubectl get namespace shop 2>&1 || true

step "Restore it as it was"
$arca restore create "$backup-restore" --from-backup "$backup" --wait
kubectl -n shop rollout status deployment/shop-web --timeout=60s
show shop

step "Restore it once more, into a new namespace (shop -> shop-copy)"
$arca restore create "$backup-copy" --from-backup "$backup" --namespace-mappings shop:shop-copy --wait
kubectl -n shop-copy rollout status deployment/shop-web --timeout=60s
show shop-copy
kubectl -n shop-copy get rolebinding shop-reader -o jsonpath='RoleBinding subject namespace: {.subjects[0].namespace}{"\n"}'
$arca restore get

step "A daily schedule for the namespace"
$arca schedule create shop-daily --schedule "0 3 * * *" --include-namespaces shop --ttl 168h
$arca schedule get

step "A second location on MinIO ($AWS_ENDPOINT_URL, bucket $S3_BUCKET), and a backup to it"
kubectl -n velero create secret generic minio-credentials --from-literal=cloud="[default]
aws_access_key_id=$AWS_ACCESS_KEY_ID
aws_secret_access_key=$AWS_SECRET_ACCESS_KEY" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
$arca backup-location create minio --provider aws --bucket "$S3_BUCKET" --prefix "demo-$run_id" \
  --config "region=us-east-1,s3Url=$AWS_ENDPOINT_URL,s3ForcePathStyle=true" \
  --credential minio-credentials=cloud
for _ in $(seq 1 100); do
  [ "$(kubectl -n velero get bsl minio -o jsonpath='{.status.phase}')" = Available ] && break
  sleep 0.2
done
$arca backup create "$backup-minio" --include-namespaces shop --storage-location minio --wait
aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls --recursive "s3://$S3_BUCKET/demo-$run_id/backups/"

step "Done"
if $keep; then
  echo "The environment stays up (the server does not). Use it with: eval \"\$($testenv env)\"; stop it with: $testenv down"
fi
