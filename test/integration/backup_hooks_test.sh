#!/usr/bin/env bash
# Backup exec hooks through the real `arca` binary on the real test environment:
# `backup_hooks_test.sh ARCA_BINARY CASE`. Pods on the kwok node run exec commands on this
# machine (the environment's ClusterExec), so a hook can leave a marker file here. Cases:
#   around_the_pod   a pre hook writes a marker, the post hook prints and removes it: the backup
#                    is Completed with 2 hooks attempted, the log shows the pre hook, the pod's
#                    backup and the post hook in that order (the post hook saw the marker), the
#                    marker is gone, and velero-backup.json has status.hookStatus.
#   fail_skips_pod   a pre hook exiting 3 with on-error Fail: PartiallyFailed (exit 1), the pod
#                    is not in the tarball, its post hook did not run, the log has the stderr.
#   continue_keeps_pod  the same hook with on-error Continue: PartiallyFailed, the pod is in the
#                    tarball and its post hook ran.
#   timeout          a pre hook sleeping past its 1s timeout: "timed out after 1s", counted as
#                    failed, the pod is backed up (unset on-error behaves as Continue).
#   server_spec_hooks  through a real `arca server`: a Backup whose spec.hooks has a pre and a
#                    post hook for the pod: Completed, status.hookStatus.hooksAttempted 2, and the
#                    hooks' effects on the host.
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
arca=${1:?usage: backup_hooks_test.sh ARCA_BINARY CASE}
case_name=${2:?usage: backup_hooks_test.sh ARCA_BINARY CASE}
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"

u=$(date +%s%N | sha256sum | cut -c1-8)
ns=bh-$u
work=$(mktemp -d)
marker=$work/frozen
prefix=backup-hooks-$u
storage="s3://$S3_BUCKET/$prefix?region=$AWS_REGION&s3Url=$AWS_ENDPOINT_URL&s3ForcePathStyle=true"
srv_ns=bh-srv-$u
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  kubectl delete ns "$ns" "$srv_ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A pod of the kwok node with the given annotations (YAML flow mapping), once it is Ready.
run_pod() {
  local name=$1 annotations=$2
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: Pod
metadata:
  name: $name
  namespace: $ns
  labels: {app: db}
  annotations: $annotations
spec:
  containers:
  - {name: app, image: registry.invalid/app:1}
  - {name: sidecar, image: registry.invalid/side:1}
YAML
  kubectl -n "$ns" wait "pod/$name" --for=condition=Ready --timeout=60s >/dev/null
}

# Runs `arca backup create NAME --standalone` for the namespace; output in $work/NAME.out,
# exit code in $work/NAME.rc.
backup() {
  local name=$1
  set +e
  "$arca" backup create "$name" --standalone --storage "$storage" --include-namespaces "$ns" \
    >"$work/$name.out" 2>&1
  echo $? >"$work/$name.rc"
  set -e
}

# Fetches backups/NAME/NAME-SUFFIX from MinIO to $work/NAME-SUFFIX.
fetch() {
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp \
    "s3://$S3_BUCKET/$prefix/backups/$1/$2" "$work/$2" >/dev/null
}

# The backup's log, gunzipped, in $work/NAME.log; its tarball's entries in $work/NAME.entries.
fetch_log_and_entries() {
  local name=$1
  fetch "$name" "$name-logs.gz"
  gunzip -c "$work/$name-logs.gz" >"$work/$name.log"
  fetch "$name" "$name.tar.gz"
  tar tzf "$work/$name.tar.gz" >"$work/$name.entries"
}

# The line number of the first log line matching all the given fixed strings.
line_of() {
  local file=$1
  shift
  local lines
  lines=$(cat "$file")
  for s in "$@"; do
    lines=$(grep -F -- "$s" <<<"$lines" || true)
  done
  [ -n "$lines" ] || return 1
  grep -n -F -x -- "$(head -1 <<<"$lines")" "$file" | head -1 | cut -d: -f1
}

pod_entry=resources/pods/namespaces/$ns/web.json

case "$case_name" in
around_the_pod)
  pre="[\"/bin/sh\", \"-c\", \"echo frozen-$u > $marker; echo pre-ran-$u\"]"
  post="[\"/bin/sh\", \"-c\", \"cat $marker; rm $marker\"]"
  run_pod web "{pre.hook.backup.velero.io/command: '$pre',
    pre.hook.backup.velero.io/container: sidecar,
    post.hook.backup.velero.io/command: '$post'}"
  [ ! -e "$marker" ] || fail "the marker exists before the backup"
  backup b1
  out=$(cat "$work/b1.out")
  [ "$(cat "$work/b1.rc")" = 0 ] || fail "backup failed: $out"
  grep -q 'Backup "b1": Completed' <<<"$out" || fail "not Completed: $out"
  grep -q "Exec hooks: 2 attempted, 0 failed." <<<"$out" || fail "hook counts: $out"
  [ ! -e "$marker" ] || fail "the post hook did not remove the marker"
  fetch_log_and_entries b1
  log=$work/b1.log
  grep -qx "$pod_entry" "$work/b1.entries" || fail "the pod is not in the tarball"
  pre_line=$(line_of "$log" 'msg="running exec hook"' hookPhase=pre hookContainer=sidecar \
    "name=web") || fail "no pre hook in the log: $(cat "$log")"
  item_line=$(line_of "$log" 'msg="Backing up item"' "namespace=$ns" resource=pods name=web) ||
    fail "no line for the pod's backup: $(cat "$log")"
  post_line=$(line_of "$log" 'msg="running exec hook"' hookPhase=post hookContainer=app) ||
    fail "no post hook in the log: $(cat "$log")"
  [ "$pre_line" -lt "$item_line" ] && [ "$item_line" -lt "$post_line" ] ||
    fail "not pre ($pre_line) < pod ($item_line) < post ($post_line): $(cat "$log")"
  grep -q "msg=\"stdout: pre-ran-$u" "$log" || fail "no pre hook stdout: $(cat "$log")"
  # The post hook printed the marker the pre hook wrote: it existed while the pod was backed up.
  grep -q "msg=\"stdout: frozen-$u" "$log" || fail "the post hook saw no marker: $(cat "$log")"
  fetch b1 velero-backup.json
  [ "$(jq -c .status.hookStatus "$work/velero-backup.json")" = '{"hooksAttempted":2}' ] ||
    fail "hookStatus: $(jq -c .status "$work/velero-backup.json")"
  "$arca" backup describe b1 --storage "$storage" >"$work/describe.out" 2>&1 ||
    fail "describe: $(cat "$work/describe.out")"
  grep -q "HooksAttempted:  2" "$work/describe.out" || fail "describe: $(cat "$work/describe.out")"
  ;;
fail_skips_pod | continue_keeps_pod)
  mode=Fail
  [ "$case_name" = continue_keeps_pod ] && mode=Continue
  bad="[\"/bin/sh\", \"-c\", \"echo broken-$u >&2; exit 3\"]"
  post="[\"/bin/sh\", \"-c\", \"echo post-ran-$u\"]"
  run_pod web "{pre.hook.backup.velero.io/command: '$bad',
    pre.hook.backup.velero.io/on-error: $mode,
    post.hook.backup.velero.io/command: '$post'}"
  backup b2
  out=$(cat "$work/b2.out")
  [ "$(cat "$work/b2.rc")" = 1 ] || fail "a failed hook did not exit 1: $out"
  grep -q 'Backup "b2": PartiallyFailed' <<<"$out" || fail "not PartiallyFailed: $out"
  fetch_log_and_entries b2
  log=$work/b2.log
  grep -q "msg=\"stderr: broken-$u" "$log" || fail "the log lacks the hook's stderr: $(cat "$log")"
  line_of "$log" 'level=error msg="Error executing hook"' "non-zero exit code 3" >/dev/null ||
    fail "the log lacks the hook's error: $(cat "$log")"
  "$arca" backup describe b2 --details --storage "$storage" >"$work/describe.out" 2>&1 || true
  grep -q "non-zero exit code 3" "$work/describe.out" ||
    fail "describe --details does not show the hook's error: $(cat "$work/describe.out")"
  if [ "$mode" = Fail ]; then
    grep -q "Exec hooks: 1 attempted, 1 failed." <<<"$out" || fail "hook counts: $out"
    ! grep -qx "$pod_entry" "$work/b2.entries" || fail "the pod was backed up: $(cat "$log")"
    ! grep -q "post-ran-$u" "$log" || fail "the post hook of a skipped pod ran: $(cat "$log")"
    grep -q "Error running pre hooks for pod" "$log" || fail "no skip error: $(cat "$log")"
  else
    grep -q "Exec hooks: 2 attempted, 1 failed." <<<"$out" || fail "hook counts: $out"
    grep -qx "$pod_entry" "$work/b2.entries" || fail "the pod is not in the tarball"
    grep -q "msg=\"stdout: post-ran-$u" "$log" || fail "the post hook did not run: $(cat "$log")"
  fi
  ;;
timeout)
  slow="[\"/bin/sh\", \"-c\", \"sleep 5; echo late-$u\"]"
  run_pod web "{pre.hook.backup.velero.io/command: '$slow',
    pre.hook.backup.velero.io/timeout: 1s}"
  backup b3
  out=$(cat "$work/b3.out")
  [ "$(cat "$work/b3.rc")" = 1 ] || fail "a timed out hook did not exit 1: $out"
  grep -q 'Backup "b3": PartiallyFailed' <<<"$out" || fail "not PartiallyFailed: $out"
  grep -q "Exec hooks: 1 attempted, 1 failed." <<<"$out" || fail "hook counts: $out"
  fetch_log_and_entries b3
  grep -q "timed out after 1s" "$work/b3.log" || fail "no timeout in the log: $(cat "$work/b3.log")"
  grep -qx "$pod_entry" "$work/b3.entries" || fail "the pod is not in the tarball"
  ;;
server_spec_hooks)
  "$arca" install --crds-only >"$work/install.out" 2>&1 ||
    fail "install --crds-only: $(cat "$work/install.out")"
  kubectl create namespace "$srv_ns" >/dev/null
  eventually 30 kubectl get backups.velero.io -n "$srv_ns" || fail "the CRDs are not served"
  run_pod web "{}"
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
  kubectl apply -n "$srv_ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: sb}
spec:
  includedNamespaces: [$ns]
  hooks:
    resources:
    - name: freeze
      labelSelector: {matchLabels: {app: db}}
      pre:
      - exec: {command: [/bin/sh, -c, "echo spec-pre > $marker"]}
      post:
      - exec: {container: sidecar, command: [/bin/sh, -c, "mv $marker $marker.done"]}
YAML
  eventually 60 is backup sb '{.status.phase}' Completed ||
    fail "sb did not complete: $(kubectl get backup -n "$srv_ns" sb -o yaml; cat "$work/server.log")"
  is backup sb '{.status.hookStatus.hooksAttempted}' 2 ||
    fail "hookStatus: $(srv backup sb '{.status}')"
  [ -z "$(srv backup sb '{.status.hookStatus.hooksFailed}')" ] ||
    fail "hooks failed: $(srv backup sb '{.status}')"
  [ ! -e "$marker" ] && [ "$(cat "$marker.done" 2>/dev/null)" = spec-pre ] ||
    fail "the spec's hooks did not run in order on the host"
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "PASS"
