#!/usr/bin/env bash
# Arca's demo on the embedded default. For now it builds Arca, starts the real local environment
# (Kubernetes control plane, a kwok node, MinIO) and shows that it is ready; the backup and restore
# issues turn it into a backup/restore round trip. With --keep the environment stays up afterwards
# (stop it with test/testenv/testenv down).
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

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "arca version"
build/arca version
step "Kubernetes: server version and the kwok node"
kubectl version
kubectl get nodes -o wide
step "A pod scheduled on the fake node, and a real command run in it"
kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n demo run hello --image=registry.invalid/hello:1 --restart=Never >/dev/null 2>&1 || true
kubectl -n demo wait pod/hello --for=condition=Ready --timeout=60s
kubectl -n demo exec hello -- uname -sm
step "Object storage: MinIO at $AWS_ENDPOINT_URL, bucket $S3_BUCKET"
echo "hello from arca" | aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors - "s3://$S3_BUCKET/demo/hello.txt"
aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls --recursive "s3://$S3_BUCKET/"
step "Ready"
if $keep; then
  echo "The environment stays up. Use it with: eval \"\$($testenv env)\"; stop it with: $testenv down"
fi
