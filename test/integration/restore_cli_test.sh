#!/usr/bin/env bash
# `arca restore create|get|describe|logs|delete` through the velero.io/v1 Restore resources that a
# real `arca server` acts on, against the test environment with MinIO. Each case is one ctest
# test: `restore_cli_test.sh ARCA_BINARY CASE`. Every case works in a namespace of its own and
# stops the servers it started.
set -Eeuo pipefail

arca=$1
case_name=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"
ns_prefix=rcli
. "$here/server_lib.sh"

app="$ns-app"
copy="$ns-copy"
trap 'kubectl delete namespace "$app" "$copy" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT

# Runs arca in the test's namespace; its output in $work/out and $work/err, its exit code in $rc.
run() {
  rc=0
  "$arca" "$@" -n "$ns" >"$work/out" 2>"$work/err" </dev/null || rc=$?
}
expect_out() { grep -qF -- "$1" "$work/out" || fail "$2: no '$1' in the output: $(cat "$work/out" "$work/err")"; }
expect_line() { grep -qE -- "^$1\$" "$work/out" || fail "$2: no line matching '$1': $(cat "$work/out" "$work/err")"; }
expect_err() { grep -qF -- "$1" "$work/err" || fail "$2: no '$1' in the errors: $(cat "$work/out" "$work/err")"; }

# The app: three ConfigMaps, a Secret and a Deployment.
seed_app() {
  kubectl create namespace "$app" >/dev/null
  for i in 1 2 3; do kubectl create configmap -n "$app" "c$i" --from-literal=k="v$i" >/dev/null; done
  kubectl create secret generic -n "$app" s1 --from-literal=password=hunter2 >/dev/null
  kubectl create deployment -n "$app" web --image=nginx:1.27 --replicas=1 >/dev/null
}

# A MinIO location "minio" under the prefix $ns and a running server.
start_with_location() {
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  start_server a
  eventually 30 has_value bsl minio '{.status.phase}' Available ||
    fail "the location is not Available: $(cat "$work/a.log")"
}

# backup NAME [LABELS_YAML] [LOCATION]: a Backup of the app namespace.
backup() {
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: $1, labels: {${2:-}}}
spec: {includedNamespaces: [$app], storageLocation: ${3:-minio}}
YAML
}
completed() {
  eventually 90 has_value backup "$1" '{.status.phase}' Completed ||
    fail "backup $1 did not complete: $(kubectl get backup -n "$ns" "$1" -o yaml; cat "$work/a.log")"
}

s3_keys() { s3 ls --recursive "s3://$S3_BUCKET/$ns/$1" 2>/dev/null | awk '{print $4}'; }

case_lifecycle() {
  seed_app
  start_with_location
  backup b1
  completed b1
  kubectl delete namespace "$app" --timeout=90s >/dev/null || fail "the app namespace did not go"

  run restore create r1 --from-backup b1 --wait
  [ "$rc" = 0 ] || fail "create --wait exited $rc: $(cat "$work/out" "$work/err")"
  expect_out 'Restore request "r1" submitted successfully.' "create"
  expect_out 'Restore completed with status: Completed.' "create --wait"
  [ "$(kubectl get configmap -n "$app" c2 -o 'jsonpath={.data.k}')" = v2 ] || fail "c2 is not back"
  [ "$(kubectl get configmap -n "$app" c3 -o 'jsonpath={.data.k}')" = v3 ] || fail "c3 is not back"
  [ "$(kubectl get secret -n "$app" s1 -o 'jsonpath={.data.password}' | base64 -d)" = hunter2 ] ||
    fail "the secret is not back"
  kubectl get deployment -n "$app" web >/dev/null 2>&1 || fail "the deployment is not back"
  [ "$(kubectl get configmap -n "$app" c1 -o 'jsonpath={.metadata.labels.velero\.io/restore-name}')" = r1 ] ||
    fail "c1 lacks the restore-name label"

  run restore create r2 --from-backup b1 --namespace-mappings "$app:$copy" --wait
  [ "$rc" = 0 ] || fail "create with mappings exited $rc: $(cat "$work/out" "$work/err")"
  [ "$(kubectl get configmap -n "$copy" c1 -o 'jsonpath={.data.k}')" = v1 ] ||
    fail "c1 is not in the mapped namespace"
  kubectl get deployment -n "$copy" web >/dev/null 2>&1 || fail "the deployment is not in $copy"

  # Without --wait: the request is submitted and the command returns. c1 differs from the
  # backup now, so r3 leaves it and warns.
  kubectl patch configmap -n "$app" c1 --type merge -p '{"data":{"k":"changed"}}' >/dev/null
  run restore create r3 --from-backup b1 --include-resources configmaps --labels team=shop
  [ "$rc" = 0 ] || fail "create without --wait exited $rc: $(cat "$work/err")"
  expect_out 'Run `arca restore describe r3` or `arca restore logs r3` for more details.' "create"
  [ "$(jsonpath restore r3 '{.metadata.labels.team}')" = shop ] || fail "r3 lacks its label"
  eventually 60 has_value restore r3 '{.status.phase}' Completed || fail "r3 did not complete"

  [ "$(kubectl get configmap -n "$app" c1 -o 'jsonpath={.data.k}')" = changed ] || fail "r3 changed c1"
  run restore describe r3 --details
  [ "$rc" = 0 ] || fail "describe r3 --details exited $rc: $(cat "$work/err")"
  expect_line "Warnings:" "describe r3 --details"
  expect_line "  Namespaces:" "describe r3 --details"
  expect_out "ConfigMap:c1 already exists" "describe r3 --details"
  expect_line "  v1/ConfigMap:" "describe r3 --details"

  run restore get
  [ "$rc" = 0 ] || fail "get exited $rc: $(cat "$work/err")"
  head -1 "$work/out" | grep -qE '^NAME +BACKUP +STATUS +STARTED +COMPLETED +ERRORS +WARNINGS +CREATED +SELECTOR$' ||
    fail "get's header: $(cat "$work/out")"
  grep -qE '^r1 +b1 +Completed +[0-9]{4}-' "$work/out" || fail "get lacks r1: $(cat "$work/out")"
  grep -qE '^r2 +b1 +Completed ' "$work/out" || fail "get lacks r2: $(cat "$work/out")"
  run restore get -l team=shop -o json
  [ "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join(i["metadata"]["name"] for i in d["items"]))' "$work/out")" = r3 ] ||
    fail "get -l team=shop -o json: $(cat "$work/out")"
  run restore get r2 -o yaml
  expect_out "  namespaceMapping:" "get -o yaml"

  run restore describe r2
  [ "$rc" = 0 ] || fail "describe exited $rc: $(cat "$work/err")"
  for want in "Name: +r2" "Phase: +Completed" "Items restored: +[1-9][0-9]*" "Backup: +b1" \
    "Namespace mappings: +$app=$copy" "  Included: +all namespaces found in the backup" "Errors: +0"; do
    expect_line "$want" "describe r2"
  done
  run restore describe r1 --details
  [ "$rc" = 0 ] || fail "describe --details exited $rc: $(cat "$work/err")"
  expect_out "Resource List:" "describe --details"
  expect_out "$app/c2(created)" "describe --details"

  run restore logs r1
  [ "$rc" = 0 ] || fail "logs exited $rc: $(cat "$work/err")"
  [ "$(wc -l <"$work/out")" -gt 3 ] || fail "logs printed too little: $(cat "$work/out")"
  expect_out "b1" "logs"

  # --wait on a restore the server refuses: exit code 1 with the reasons.
  run restore create r4 --from-backup b1 --include-resources nodes --wait
  [ "$rc" = 1 ] || fail "create --wait of an invalid restore exited $rc"
  expect_out 'Restore completed with status: FailedValidation.' "create --wait r4"
  expect_err 'restore "r4" failed validation:' "create --wait r4"
  expect_err 'nodes are non-restorable resources' "create --wait r4"

  # A restore that failed validation: describe shows why; it has no logs.
  printf 'apiVersion: velero.io/v1\nkind: Restore\nmetadata: {name: bad}\nspec: {backupName: missing}\n' |
    kubectl apply -n "$ns" -f - >/dev/null
  eventually 30 has_value restore bad '{.status.phase}' FailedValidation || fail "bad is not FailedValidation"
  run restore describe bad
  expect_line "Phase: +FailedValidation" "describe bad"
  expect_line "Validation errors:" "describe bad"
  expect_out "backup missing not found" "describe bad"
  run restore logs bad
  [ "$rc" = 1 ] || fail "logs of a restore that failed validation exited $rc"
  expect_err 'restore "bad" failed validation and never ran, so it has no logs' "logs bad"

  # delete asks first: end of input refuses, "n" keeps it, --confirm deletes it and its files.
  [ -n "$(s3_keys restores/r1/)" ] || fail "no files under restores/r1/ in MinIO"
  rc=0
  "$arca" restore delete r1 -n "$ns" </dev/null >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = 1 ] || fail "delete without an answer exited $rc"
  expect_out "Are you sure you want to continue (Y/N)? " "delete"
  expect_err "pass --confirm to delete without asking" "delete"
  rc=0
  echo n | "$arca" restore delete r1 -n "$ns" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = 0 ] || fail "delete answered n exited $rc: $(cat "$work/err")"
  kubectl get restore -n "$ns" r1 >/dev/null 2>&1 || fail "r1 went although the answer was n"
  run restore delete r1 --confirm
  [ "$rc" = 0 ] || fail "delete --confirm exited $rc: $(cat "$work/err")"
  expect_out 'Request to delete restore "r1" submitted successfully.' "delete"
  eventually 30 gone restore r1 || fail "r1 was not deleted"
  eventually 30 test -z "$(s3_keys restores/r1/)" || fail "r1's files remain: $(s3_keys restores/r1/)"
  [ -n "$(s3_keys restores/r2/)" ] || fail "r2's files went too"
  run restore delete r1 --confirm
  [ "$rc" = 1 ] || fail "deleting a deleted restore exited $rc"
  expect_err 'restores.velero.io "r1" not found in namespace' "delete again"
  run restore delete -l team=shop --confirm
  expect_out 'Request to delete restore "r3" submitted successfully.' "delete -l"
  eventually 30 gone restore r3 || fail "r3 was not deleted"
}

# --from-schedule: the newest Completed backup labelled with the schedule, not a newer failed
# one nor an unlabelled one.
case_from_schedule() {
  seed_app
  start_with_location
  backup nightly-1 "velero.io/schedule-name: nightly"
  completed nightly-1
  sleep 1.1 # startTimestamp has seconds
  backup nightly-2 "velero.io/schedule-name: nightly"
  completed nightly-2
  sleep 1.1
  backup nightly-3 "velero.io/schedule-name: nightly" nowhere # no such location: FailedValidation
  backup manual
  eventually 30 has_value backup nightly-3 '{.status.phase}' FailedValidation ||
    fail "nightly-3 is not FailedValidation"
  completed manual

  run restore create --from-schedule nightly -o json
  [ "$rc" = 0 ] || fail "create -o json exited $rc: $(cat "$work/err")"
  grep -q '"scheduleName": "nightly"' "$work/out" || fail "-o json: $(cat "$work/out")"
  gone restore "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["name"])' "$work/out")" ||
    fail "-o json submitted the restore"

  kubectl delete configmap -n "$app" c1 >/dev/null
  run restore create from-nightly --from-schedule nightly --wait
  [ "$rc" = 0 ] || fail "create --from-schedule exited $rc: $(cat "$work/out" "$work/err")"
  [ "$(jsonpath restore from-nightly '{.spec.backupName}')" = nightly-2 ] ||
    fail "the restore took $(jsonpath restore from-nightly '{.spec.backupName}'), not nightly-2"
  [ "$(jsonpath restore from-nightly '{.spec.scheduleName}')" = nightly ] || fail "scheduleName is lost"
  [ "$(kubectl get configmap -n "$app" c1 -o 'jsonpath={.data.k}')" = v1 ] || fail "c1 is not back"

  # Default name: <schedule>-<timestamp>.
  run restore create --from-schedule nightly
  [ "$rc" = 0 ] || fail "create with the default name exited $rc: $(cat "$work/err")"
  grep -qE '^Restore request "nightly-[0-9]{14}" submitted successfully\.$' "$work/out" ||
    fail "default name: $(cat "$work/out")"

  run restore create --from-schedule weekly
  [ "$rc" = 1 ] || fail "a schedule without backups: exit $rc"
  expect_err "no backups of schedule weekly found in namespace $ns" "--from-schedule weekly"
  backup weekly-1 "velero.io/schedule-name: weekly" nowhere
  eventually 30 has_value backup weekly-1 '{.status.phase}' FailedValidation || fail "weekly-1 is not FailedValidation"
  run restore create --from-schedule weekly
  [ "$rc" = 1 ] || fail "a schedule without a completed backup: exit $rc"
  expect_err "no Completed backup of schedule weekly was found in namespace $ns (its backups: 1 FailedValidation)" \
    "--from-schedule weekly"
}

# Errors the CLI reports itself, before anything is created (no server needed).
case_errors() {
  run restore create --from-backup missing
  [ "$rc" = 1 ] || fail "a missing backup: exit $rc"
  expect_err "--from-backup: backups.velero.io \"missing\" not found in namespace $ns" "missing backup"
  run restore create --from-backup b --from-schedule s
  [ "$rc" = 1 ] || fail "both sources: exit $rc"
  expect_err "give exactly one of --from-backup NAME (a backup) and --from-schedule NAME" "both sources"
  run restore create --from-backup b -o wide
  [ "$rc" = 1 ] || fail "-o wide: exit $rc"
  expect_err "-o wide: use table, json or yaml" "-o wide"
  run restore get -o wide
  [ "$rc" = 1 ] || fail "get -o wide: exit $rc"
  expect_err "-o wide: use table, json or yaml" "get -o wide"
  run restore logs nope
  [ "$rc" = 1 ] || fail "logs of a missing restore: exit $rc"
  expect_err "restores.velero.io \"nope\" not found in namespace $ns" "logs nope"
  run restore describe nope
  [ "$rc" = 1 ] || fail "describe of a missing restore: exit $rc"
  expect_err "restores.velero.io \"nope\" not found in namespace $ns" "describe nope"
  run restore get
  [ "$rc" = 0 ] || fail "get with no restores: exit $rc"
  run restore delete --all --confirm
  [ "$rc" = 0 ] || fail "delete --all with no restores: exit $rc"
  expect_out "No restores found" "delete --all"
  # A Restore that is not finished has no logs yet (no server runs here: it stays New).
  printf 'apiVersion: velero.io/v1\nkind: Restore\nmetadata: {name: pending}\nspec: {backupName: b}\n' |
    kubectl apply -n "$ns" -f - >/dev/null
  run restore logs pending
  [ "$rc" = 1 ] || fail "logs of a New restore: exit $rc"
  expect_err "logs for restore \"pending\" are not available until it's finished processing (it is New)" "logs pending"
  printf 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: b}\nspec: {}\n' |
    kubectl apply -n "$ns" -f - >/dev/null
  run restore create pending --from-backup b
  [ "$rc" = 1 ] || fail "a taken name: exit $rc"
  expect_err "restores.velero.io \"pending\" already exists in namespace $ns; choose another name" "taken name"
}

"case_$case_name"
