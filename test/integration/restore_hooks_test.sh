#!/usr/bin/env bash
# Restore hooks through the real `arca` binary on the real test environment:
# `restore_hooks_test.sh ARCA_BINARY`. Pods on the kwok node run exec commands on this machine
# (the environment's ClusterExec), so an exec hook can leave a marker file here.
#   1. A pod with a post.hook.restore.velero.io exec hook that writes a marker, and an
#      init.hook.restore.velero.io init container, is backed up with `arca backup create`,
#      deleted with its namespace, and restored with `arca restore create --standalone`: the
#      restore is Completed once the hook ran (the marker exists), the summary counts 1 hook
#      attempted and 0 failed, the restore log in MinIO shows the hook and its output, and the
#      restored pod spec has the hook's init container before its own.
#   2. A pod whose exec hook fails (exit 3): the restore ends PartiallyFailed (exit 1), counts the
#      hook as failed, and its errors name the hook's failure.
#   3. Through a real `arca server`: a Backup and a Restore resource whose spec.hooks has an exec
#      hook and an init-container hook for the pod: the Restore is Completed with
#      status.hookStatus.hooksAttempted 1, the hook's marker exists and the pod has the init
#      container.
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
arca=${1:?usage: restore_hooks_test.sh ARCA_BINARY}
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"

u=$(date +%s%N | sha256sum | cut -c1-8)
ns=rh-$u
bad_ns=rh-bad-$u
work=$(mktemp -d)
marker=$work/restored-marker
prefix=restore-hooks-$u
storage="s3://$S3_BUCKET/$prefix?region=$AWS_REGION&s3Url=$AWS_ENDPOINT_URL&s3ForcePathStyle=true"
srv_ns=rh-srv-$u
app_ns=rh-app-$u
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  kubectl delete ns "$ns" "$bad_ns" "$srv_ns" "$app_ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A pod of the kwok node with the given annotations (YAML flow mapping), once it is Ready.
run_pod() {
  local namespace=$1 name=$2 annotations=$3
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $namespace}
---
apiVersion: v1
kind: Pod
metadata:
  name: $name
  namespace: $namespace
  annotations: $annotations
spec:
  containers:
  - {name: app, image: registry.invalid/app:1}
  - {name: sidecar, image: registry.invalid/side:1}
YAML
  kubectl -n "$namespace" wait "pod/$name" --for=condition=Ready --timeout=60s >/dev/null
}

backup_delete_restore() {
  local namespace=$1 name=$2
  "$arca" backup create "b-$name" --standalone --storage "$storage" \
    --include-namespaces "$namespace" >"$work/b-$name.out" 2>&1 ||
    fail "backup failed: $(cat "$work/b-$name.out")"
  kubectl delete ns "$namespace" --wait=true --timeout=120s >/dev/null
  eventually 120 sh -c "! kubectl get ns $namespace" || fail "namespace $namespace is still there"
  set +e
  "$arca" restore create "$name" --from-backup "b-$name" --standalone --storage "$storage" \
    >"$work/$name.out" 2>&1
  echo $? >"$work/$name.rc"
  set -e
}

# --- 1. An exec hook that writes a marker, and an init-container hook.
cmd="[\"/bin/sh\", \"-c\", \"echo restored > $marker; echo hook-stdout-$u\"]"
run_pod "$ns" web "{post.hook.restore.velero.io/command: '$cmd',
  post.hook.restore.velero.io/container: sidecar,
  post.hook.restore.velero.io/wait-timeout: 2m,
  init.hook.restore.velero.io/container-image: registry.invalid/init:1,
  init.hook.restore.velero.io/container-name: restore-init,
  init.hook.restore.velero.io/command: '[\"/bin/true\"]'}"
[ ! -e "$marker" ] || fail "the marker exists before the restore"
backup_delete_restore "$ns" "r-$u"
out=$(cat "$work/r-$u.out")
[ "$(cat "$work/r-$u.rc")" = 0 ] || fail "restore failed: $out"
grep -q "Restore \"r-$u\": Completed" <<<"$out" || fail "not Completed: $out"
grep -q "Exec hooks: 1 attempted, 0 failed." <<<"$out" || fail "hook counts: $out"
[ "$(cat "$marker" 2>/dev/null)" = restored ] || fail "the exec hook did not write $marker"

aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp \
  "s3://$S3_BUCKET/$prefix/restores/r-$u/restore-r-$u-logs.gz" "$work/log.gz" >/dev/null
gunzip -c "$work/log.gz" >"$work/log"
grep 'msg="running exec hook"' "$work/log" | grep -q 'hookContainer="sidecar"' ||
  fail "the log does not show the hook: $(cat "$work/log")"
grep -q "hook-stdout-$u" "$work/log" || fail "the log lacks the hook's stdout: $(cat "$work/log")"
grep -q 'exec hooks done: 1 attempted, 0 failed' "$work/log" ||
  fail "the log lacks the hook summary: $(cat "$work/log")"

inits=$(kubectl -n "$ns" get pod web -o jsonpath='{range .spec.initContainers[*]}{.name}={.image}:{.command}{"\n"}{end}')
[ "$(head -1 <<<"$inits")" = 'restore-init=registry.invalid/init:1:["/bin/true"]' ] ||
  fail "the restored pod lacks the init-container hook: $inits"

# --- 2. A failing exec hook.
bad="[\"/bin/sh\", \"-c\", \"echo broken-$u >&2; exit 3\"]"
run_pod "$bad_ns" bad "{post.hook.restore.velero.io/command: '$bad',
  post.hook.restore.velero.io/on-error: Fail}"
backup_delete_restore "$bad_ns" "rbad-$u"
out=$(cat "$work/rbad-$u.out")
[ "$(cat "$work/rbad-$u.rc")" = 1 ] || fail "a failed hook did not exit 1: $out"
grep -q "Restore \"rbad-$u\": PartiallyFailed" <<<"$out" || fail "not PartiallyFailed: $out"
grep -q "Exec hooks: 1 attempted, 1 failed." <<<"$out" || fail "hook counts: $out"
grep -A3 "^Errors" <<<"$out" | grep -q "$bad_ns" || fail "no error in the pod's namespace: $out"
grep -q "non-zero exit code 3" <<<"$out" ||
  fail "the error does not say how the hook failed: $out"

# --- 3. Through the server, with hooks from the Restore's spec.
"$arca" install --crds-only >"$work/install.out" 2>&1 ||
  fail "install --crds-only: $(cat "$work/install.out")"
kubectl create namespace "$srv_ns" >/dev/null
eventually 30 kubectl get restores.velero.io -n "$srv_ns" || fail "the CRDs are not served"
run_pod "$app_ns" api "{}"
mkdir -p "$work/fs"
kubectl apply -n "$srv_ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default}
spec: {provider: filesystem, default: true, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
YAML
"$arca" server -n "$srv_ns" --metrics-address 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
srv() { kubectl get -n "$srv_ns" "$1" "$2" -o "jsonpath=$3" 2>/dev/null; }
is() { [ "$(srv "$1" "$2" "$3")" = "$4" ]; }
eventually 30 is bsl default '{.status.phase}' Available ||
  fail "the location is not Available: $(cat "$work/server.log")"
printf 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: b1}\nspec: {includedNamespaces: [%s]}\n' \
  "$app_ns" | kubectl apply -n "$srv_ns" -f - >/dev/null
eventually 60 is backup b1 '{.status.phase}' Completed || fail "b1 did not complete"
kubectl delete ns "$app_ns" --wait=true --timeout=120s >/dev/null
eventually 120 sh -c "! kubectl get ns $app_ns" || fail "namespace $app_ns is still there"
srv_marker=$work/server-marker
kubectl apply -n "$srv_ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Restore
metadata: {name: r1}
spec:
  backupName: b1
  hooks:
    resources:
    - name: mark
      includedNamespaces: [$app_ns]
      postHooks:
      - exec:
          container: app
          command: [/bin/sh, -c, "echo from-server > $srv_marker"]
          waitTimeout: 2m
      - init:
          initContainers:
          - {name: spec-init, image: registry.invalid/init:2, command: [/bin/true]}
YAML
eventually 120 is restore r1 '{.status.phase}' Completed ||
  fail "r1 did not complete: $(kubectl get restore -n "$srv_ns" r1 -o yaml; cat "$work/server.log")"
is restore r1 '{.status.hookStatus.hooksAttempted}' 1 ||
  fail "hookStatus: $(srv restore r1 '{.status.hookStatus}')"
[ -z "$(srv restore r1 '{.status.hookStatus.hooksFailed}')" ] ||
  fail "hooks failed: $(srv restore r1 '{.status}')"
[ "$(cat "$srv_marker" 2>/dev/null)" = from-server ] || fail "the server's exec hook did not run"
[ "$(kubectl -n "$app_ns" get pod api -o 'jsonpath={.spec.initContainers[0].name}')" = spec-init ] ||
  fail "the restored pod lacks the spec's init container"
echo "PASS"
