#!/usr/bin/env bash
# Integration tests that prove the test environment is the real thing: a control plane whose
# controllers act, a fake node whose pods run and exec real commands, and an S3 server that
# checks signatures. Each case is one ctest test: `testenv_test.sh CASE`. The environment is
# already up (the ctest fixture started it); cases read it through `testenv env`.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testenv=$here/../testenv/testenv
eval "$("$testenv" env)"
. "$here/lib.sh"

# A namespace of this test's own, removed on exit whatever happens.
unique_ns() {
  ns="it-$1-$$-$RANDOM"
  kubectl create namespace "$ns" >/dev/null
  trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT
}

case_namespace_lifecycle() {
  local ns="it-ns-$$-$RANDOM"
  kubectl create namespace "$ns" >/dev/null
  kubectl -n "$ns" create configmap settings --from-literal=colour=blue >/dev/null
  [ "$(kubectl -n "$ns" get configmap settings -o jsonpath='{.data.colour}')" = blue ] ||
    fail "the ConfigMap did not read back"
  # The controller-manager's service-account controller fills the new namespace.
  eventually 30 kubectl -n "$ns" get serviceaccount default ||
    fail "no default ServiceAccount appeared: the controller-manager is not running controllers"
  kubectl delete namespace "$ns" --wait=false >/dev/null
  # The namespace controller must empty it and remove it: a real namespace termination.
  eventually 60 bash -c "! kubectl get namespace '$ns'" ||
    fail "namespace $ns was not removed within 60 s: $(kubectl get namespace "$ns" -o yaml)"
  if kubectl -n "$ns" get configmap settings >/dev/null 2>&1; then
    fail "the ConfigMap outlived its namespace"
  fi
}

case_deployment_runs_on_kwok_node() {
  unique_ns deploy
  kubectl -n "$ns" create deployment web --image=registry.invalid/web:1 --replicas=2 >/dev/null
  kubectl -n "$ns" rollout status deployment/web --timeout=60s >/dev/null ||
    fail "the Deployment did not become available: $(kubectl -n "$ns" get pods -o wide)"
  local phases nodes
  phases=$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}')
  nodes=$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}')
  [ "$(grep -cx Running <<<"$phases")" = 2 ] || fail "expected 2 Running pods, got: $phases"
  [ "$(sort -u <<<"$nodes")" = arca-node ] || fail "pods were not scheduled on arca-node: $nodes"
}

case_exec_runs_a_real_command() {
  unique_ns exec
  kubectl -n "$ns" run shell --image=registry.invalid/shell:1 --restart=Never >/dev/null
  kubectl -n "$ns" wait pod/shell --for=condition=Ready --timeout=60s >/dev/null ||
    fail "pod did not become Ready"
  local marker="arca-$RANDOM-$$" out
  # A computed result and a file the command writes prove that something really ran.
  out=$(kubectl -n "$ns" exec shell -- sh -c "echo \$((6 * 7)); echo $marker > exec-marker; cat exec-marker")
  [ "$out" = "$(printf '42\n%s' "$marker")" ] || fail "unexpected exec output: '$out'"
  # Exit codes come back too.
  if kubectl -n "$ns" exec shell -- sh -c 'exit 3' >/dev/null 2>&1; then
    fail "a failing command was reported as a success"
  fi
}

aws_s3() { aws --endpoint-url "$AWS_ENDPOINT_URL" --region "$AWS_REGION" "$@"; }

case_s3_put_get() {
  local key
  dir=$(mktemp -d) # global: the EXIT trap runs after this function returns
  trap 'rm -rf "$dir"' EXIT
  key="it/$$-$RANDOM/object.bin"
  head -c 3000000 /dev/urandom >"$dir/in"
  aws_s3 s3 cp --only-show-errors "$dir/in" "s3://$S3_BUCKET/$key"
  aws_s3 s3 cp --only-show-errors "s3://$S3_BUCKET/$key" "$dir/out"
  cmp -s "$dir/in" "$dir/out" || fail "the object read back differs from what was written"
  aws_s3 s3api head-object --bucket "$S3_BUCKET" --key "$key" --query ContentLength --output text |
    grep -qx 3000000 || fail "head-object reported the wrong size"
  aws_s3 s3 rm --only-show-errors "s3://$S3_BUCKET/$key"
  if aws_s3 s3api head-object --bucket "$S3_BUCKET" --key "$key" >/dev/null 2>&1; then
    fail "the object survived its deletion"
  fi
}

case_s3_wrong_secret_refused() {
  local out
  if out=$(AWS_SECRET_ACCESS_KEY="not-the-secret-$RANDOM" aws_s3 s3 ls "s3://$S3_BUCKET" 2>&1); then
    fail "a wrong secret key was accepted: $out"
  fi
  grep -q SignatureDoesNotMatch <<<"$out" || fail "expected SignatureDoesNotMatch, got: $out"
  # The credentials file (Velero's `cloud` secret format) holds the right ones.
  (unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY && aws_s3 s3 ls "s3://$S3_BUCKET" >/dev/null) ||
    fail "the shared credentials file was not accepted"
}

case_rbac_is_enforced() {
  # With RBAC on, a service account with no bindings may not list secrets.
  unique_ns rbac
  kubectl -n "$ns" create serviceaccount nobody >/dev/null
  [ "$(kubectl auth can-i list secrets -n "$ns" --as="system:serviceaccount:$ns:nobody")" = no ] ||
    fail "RBAC allowed an unbound service account to list secrets"
  [ "$(kubectl auth can-i list secrets -n "$ns")" = yes ] || fail "the admin user cannot list secrets"
}

case_version_is_real() {
  kubectl version -o json | grep -q '"gitVersion": "v1\.36\.' ||
    fail "the API server does not report a real v1.36 version: $(kubectl version 2>&1)"
}

name=${1:-}
declare -F "case_$name" >/dev/null || {
  echo "usage: testenv_test.sh CASE; cases: $(declare -F | sed -n 's/.*case_//p' | tr '\n' ' ')" >&2
  exit 2
}
"case_$name"
echo "PASS: $name"
