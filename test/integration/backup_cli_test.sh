#!/usr/bin/env bash
# `arca backup ...` through the Backup resources of a real `arca server` against the test
# environment. Each case is one ctest test: `backup_cli_test.sh ARCA_BINARY CASE`. Every case
# works in namespaces of its own and stops the servers it started.
set -Eeuo pipefail

arca=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
case_name=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"
ns_prefix=bcli
. "$here/server_lib.sh"

# The namespace backed up: two ConfigMaps.
make_app() {
  app="$ns-app"
  kubectl create namespace "$app" >/dev/null
  trap 'kubectl delete namespace "$app" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  kubectl create configmap -n "$app" c1 --from-literal=k=v >/dev/null
  kubectl create configmap -n "$app" c2 --from-literal=k=v >/dev/null
}

# Runs arca with the namespace, its output in $work/out and $work/err; `ok` fails the test on a
# non-zero exit, `ko` on a zero one.
ok() { "$arca" "$@" -n "$ns" >"$work/out" 2>"$work/err" || fail "arca $*: $(cat "$work/out" "$work/err")"; }
ko() { ! "$arca" "$@" -n "$ns" >"$work/out" 2>"$work/err" || fail "arca $* succeeded: $(cat "$work/out")"; }
out_has() { grep -qF -- "$1" "$work/out" || fail "stdout lacks '$1': $(cat "$work/out" "$work/err")"; }
err_has() { grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1': $(cat "$work/err")"; }

# create --wait, get, describe --details, logs, download and delete on location $1, whose
# backups/ folder listing is `$2` (a command printing the keys under backups/).
lifecycle() {
  local bsl=$1 list_store=$2
  ok backup create b1 --include-namespaces "$app" --storage-location "$bsl" --wait
  out_has 'Backup request "b1" submitted successfully.'
  out_has 'Waiting for backup to complete.'
  grep -qE '^Backing up [0-9]+/[0-9]+ items \([0-9]+%\)$' "$work/out" ||
    fail "no progress line: $(cat "$work/out")"
  out_has 'Backup completed with status: Completed.'
  [ "$(jsonpath backup b1 '{.status.phase}')" = Completed ] || fail "b1 is not Completed"

  ok backup get
  grep -qE "^b1 +Completed +0 +[0-9]+ +[0-9-]+ [0-9:]+ \+0000 UTC +[0-9a-z]+ +$bsl +<none>$" "$work/out" ||
    fail "get: $(cat "$work/out")"
  head -1 "$work/out" | grep -qE '^NAME +STATUS +ERRORS +WARNINGS +CREATED +EXPIRES +STORAGE LOCATION +QUEUE POSITION +SELECTOR$' ||
    fail "get header: $(head -1 "$work/out")"
  ok backup get b1 -o json
  [ "$(jq -r .metadata.name "$work/out")" = b1 ] || fail "get -o json: $(cat "$work/out")"

  ok backup describe b1 --details
  out_has 'Phase:  Completed'
  out_has "Storage Location:  $bsl"
  out_has 'Resource List:'
  out_has '  v1/ConfigMap:'
  out_has "    - $app/c1"
  out_has "    - $app/c2"
  out_has 'Errors:'
  [ ! -s "$work/err" ] || fail "describe fell back or complained: $(cat "$work/err")"

  ok backup logs b1
  grep -qE 'level=info msg=' "$work/out" || fail "logs: $(head -c 2000 "$work/out")"
  [ ! -s "$work/err" ] || fail "logs fell back or complained: $(cat "$work/err")"

  (cd "$work" && ok backup download b1)
  out_has "Backup b1 has been successfully downloaded to $work/b1-data.tar.gz"
  entries=$(tar tzf "$work/b1-data.tar.gz") # not piped into grep -q (SIGPIPE)
  [[ "$entries" == *"resources/configmaps/namespaces/$app/c1.json"* ]] ||
    fail "the tarball lacks c1: $entries"
  (cd "$work" && ko backup download b1)
  err_has "already exists"
  err_has "--force"
  (cd "$work" && ok backup download b1 --force -o "$work/again.tgz")
  cmp -s "$work/b1-data.tar.gz" "$work/again.tgz" || fail "the two downloads differ"

  ko backup delete b1 </dev/null
  err_has "pass --confirm"
  echo n | ok backup delete b1
  out_has "Are you sure you want to continue (Y/N)? "
  out_has "Nothing was deleted."
  echo y | ok backup delete b1
  out_has 'Request to delete backup "b1" submitted successfully.'
  out_has 'The backup will be fully deleted after all associated data (disk snapshots, backup files, restores) are removed.'
  eventually 30 gone backup b1 || fail "b1 is still in the cluster: $(jsonpath backup b1 '{.status}')"
  eventually 10 sh -c "! $list_store | grep -q b1" || fail "b1 is still in the store: $($list_store)"
}

case_lifecycle_fs() {
  make_app
  make_fs_bsl
  start_server a
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  lifecycle default "find $work/fs/bk/backups"
}

case_lifecycle_minio() {
  make_app
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  start_server a
  eventually 20 has_value bsl minio '{.status.phase}' Available ||
    fail "the location is not Available: $(jsonpath bsl minio '{.status}')"
  lifecycle minio "aws --endpoint-url $AWS_ENDPOINT_URL s3 ls --recursive s3://$S3_BUCKET/$ns/backups/"
}

# The server stops after the backup: no DownloadRequest is processed, and logs, download and
# describe --details read the MinIO location directly (credentials from the BSL's Secret).
case_logs_fallback() {
  make_app
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  start_server a
  eventually 20 has_value bsl minio '{.status.phase}' Available || fail "the location is not Available"
  ok backup create fb --include-namespaces "$app" --storage-location minio --wait
  kill "$pid_a"
  wait "$pid_a" 2>/dev/null || true
  ok backup logs fb --timeout 3s
  grep -qE 'level=info msg=' "$work/out" || fail "logs: $(head -c 2000 "$work/out")"
  err_has "did not process DownloadRequest"
  err_has 'from backup storage location "minio"'
  [ -z "$(kubectl get downloadrequests -n "$ns" -o name)" ] || fail "DownloadRequests were left behind"
  (cd "$work" && ok backup download fb --timeout 2s)
  entries=$(tar tzf "$work/fb-data.tar.gz")
  [[ "$entries" == *"resources/configmaps/namespaces/$app/c2.json"* ]] || fail "the tarball lacks c2"
  ok backup describe fb --details --timeout 2s
  out_has "    - $app/c1"
  # It waited for the server once; the results came from the store without a second wait.
  [ "$(grep -c 'did not process DownloadRequest ' "$work/err")" = 1 ] ||
    fail "describe --details waited for the server more than once: $(cat "$work/err")"
  err_has "did not process an earlier DownloadRequest"
}

# --from-schedule: the Schedule's template, the schedule label, the default name; -o prints
# without creating; a missing schedule is a clear error.
case_from_schedule() {
  make_app
  make_fs_bsl
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Schedule
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  paused: true
  template: {includedNamespaces: [$app], ttl: 2h0m0s}
YAML
  ok backup create --from-schedule nightly -o json --include-namespaces ignored
  [ "$(jq -r '.metadata.labels["velero.io/schedule-name"]' "$work/out")" = nightly ] ||
    fail "-o json: $(cat "$work/out")"
  [ "$(jq -c .spec.includedNamespaces "$work/out")" = "[\"$app\"]" ] || fail "filters not ignored: $(cat "$work/out")"
  [ -z "$(kubectl get backups -n "$ns" -o name)" ] || fail "-o created a backup"
  start_server a
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  ok backup create --from-schedule nightly --wait
  name=$(kubectl get backups -n "$ns" -l velero.io/schedule-name=nightly -o jsonpath='{.items[0].metadata.name}')
  [[ "$name" =~ ^nightly-[0-9]{14}$ ]] || fail "name: '$name'"
  out_has "Backup request \"$name\" submitted successfully."
  out_has 'Backup completed with status: Completed.'
  [ "$(jsonpath backup "$name" '{.spec.ttl}')" = 2h0m0s ] || fail "ttl: $(jsonpath backup "$name" '{.spec}')"
  ok backup create mine --from-schedule nightly
  has_value backup mine '{.metadata.labels.velero\.io/schedule-name}' nightly || fail "mine lacks the label"
  ok backup get -l velero.io/schedule-name=nightly
  grep -q "^mine " "$work/out" && grep -q "^$name " "$work/out" || fail "get -l: $(cat "$work/out")"
  ko backup create --from-schedule nope
  err_has "schedules.velero.io \"nope\" not found in namespace $ns"
}

# Clear errors without a server.
case_errors() {
  ko backup get nope
  err_has "backups.velero.io \"nope\" not found in namespace $ns"
  ko backup describe nope
  err_has "backups.velero.io \"nope\" not found in namespace $ns"
  ko backup logs nope --timeout 2s
  err_has "backups.velero.io \"nope\" not found in namespace $ns"
  ko backup get -l 'app in (a'
  err_has '-l/--selector "app in (a"'
  ko backup get -o xml
  err_has "-o xml: use table, json or yaml"
  ko backup create x -o xml
  err_has "-o xml: use json or yaml"
  ko backup delete
  err_has "you must specify exactly one of"
  ko backup logs nope --timeout 0s
  err_has "--timeout 0s: must be positive"
  # A backup that has not run: no logs yet.
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: pending}
spec: {includedNamespaces: [nothing]}
YAML
  ko backup logs pending
  err_has 'backup "pending" has no logs yet: it is New'
  ko backup create x --storage file:///tmp
  err_has "--storage is for standalone mode"
  ok backup create -o yaml x
  out_has "name: x"
  out_has "namespace: $ns"
  gone backup x || fail "-o yaml created x"
}

"case_$case_name"
echo "PASS: $case_name"
