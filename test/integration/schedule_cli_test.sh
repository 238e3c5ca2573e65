#!/usr/bin/env bash
# `arca schedule ...` and `arca backup-location ...` against a real `arca server` process and the
# test environment. Each case is one ctest test: `schedule_cli_test.sh ARCA_BINARY CASE`. Every
# case works in a namespace of its own and stops the servers it started.
set -Eeuo pipefail

arca=$1
case_name=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"
ns_prefix=schedcli
. "$here/server_lib.sh"

# Runs arca in the test's namespace; stdout in $work/out, stderr in $work/err, returns its code.
a() {
  local rc=0
  "$arca" "$@" -n "$ns" >"$work/out" 2>"$work/err" </dev/null || rc=$?
  return $rc
}
out() { cat "$work/out"; }
err() { cat "$work/err"; }
expect_out() { grep -qE -- "$1" "$work/out" || fail "expected /$1/ in the output of ${2:-arca}: $(out; err)"; }
expect_err() { grep -qF -- "$1" "$work/err" || fail "expected '$1' on stderr: $(out; err)"; }

scheduled() { kubectl get backups -n "$ns" -l velero.io/schedule-name=s -o name | wc -l; }
completed() {
  [ "$(kubectl get backups -n "$ns" -l velero.io/schedule-name=s \
    -o 'jsonpath={range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Completed$')" -ge "$1" ]
}

# A schedule made with the CLI runs (completed Backups labelled with it), get and describe show
# its last backup and next run, pause stops it, unpause resumes it, delete asks and removes it.
case_schedule() {
  app="$ns-app"
  kubectl create namespace "$app" >/dev/null
  trap 'kubectl delete namespace "$app" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  kubectl create configmap -n "$app" c1 --from-literal=k=v >/dev/null
  mkdir -p "$work/fs"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default}
spec: {provider: filesystem, default: true, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
YAML
  start_server a
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"

  a schedule create s --schedule "@every 5s" --include-namespaces "$app" --ttl 1h ||
    fail "schedule create: $(err)"
  [ "$(out)" = 'Schedule "s" created successfully.' ] || fail "create said: $(out)"
  has_value schedule s '{.spec.template.includedNamespaces[0]}' "$app" || fail "no template namespace"
  eventually 60 completed 2 ||
    fail "fewer than 2 completed scheduled backups: $(kubectl get backups -n "$ns" -o wide; cat "$work/a.log")"
  for n in $(kubectl get backups -n "$ns" -l velero.io/schedule-name=s -o name); do
    [[ "$n" =~ ^backup.velero.io/s-[0-9]{14}$ ]] || fail "backup name $n is not s-<timestamp>"
  done

  a schedule get || fail "schedule get: $(err)"
  expect_out '^NAME +STATUS +CREATED +SCHEDULE +BACKUP TTL +LAST BACKUP +SELECTOR +PAUSED$' get
  expect_out '^s +Enabled +[0-9-]+ [0-9:]+ \+0000 UTC +@every 5s +1h0m0s +([0-9]+s ago|now) +<none> +false$' get
  a schedule get s -o json || fail "schedule get -o json: $(err)"
  [ "$(jq -r .kind "$work/out")" = Schedule ] || fail "get s -o json is not the schedule: $(out)"
  [ "$(jq -r .status.lastBackup "$work/out")" != null ] || fail "no lastBackup in $(out)"
  a schedule describe s || fail "schedule describe: $(err)"
  expect_out '^Phase: +Enabled$' describe
  expect_out '^Schedule: +@every 5s$' describe
  expect_out "^    Included: +$app\$" describe
  expect_out '^Last Backup: +20[0-9-]+ [0-9:]+ \+0000 UTC$' describe
  expect_out '^Next Run: +20[0-9-]+ [0-9:]+ \+0000 UTC' describe
  # The next run is 5 s after the last backup (or overdue, at the next reconcile).
  last=$(grep '^Last Backup:' "$work/out" | sed -E 's/^Last Backup: +//; s/ \+0000 UTC//')
  next=$(grep '^Next Run:' "$work/out" | sed -E 's/^Next Run: +//; s/ \+0000 UTC.*//')
  [ $(($(date -ud "$next" +%s) - $(date -ud "$last" +%s))) = 5 ] ||
    fail "next run $next is not 5s after the last backup $last"

  a schedule pause s || fail "pause: $(err)"
  [ "$(out)" = "Schedule s paused successfully" ] || fail "pause said: $(out)"
  has_value schedule s '{.spec.paused}' true || fail "spec.paused is not true"
  a schedule pause s || fail "pause again: $(err)"
  expect_err "Schedule s is already paused, skip"
  sleep 3 # a run already being reconciled may still land
  before=$(scheduled)
  sleep 12 # more than two periods
  after=$(scheduled)
  [ "$before" = "$after" ] || fail "a paused schedule made backups: $before then $after"
  a schedule get s || fail "get: $(err)"
  expect_out '^s +.* +true$' "get (paused)"
  a schedule describe s || fail "describe: $(err)"
  expect_out '^Next Run: +<paused>$' "describe (paused)"

  a schedule unpause s || fail "unpause: $(err)"
  [ "$(out)" = "Schedule s unpaused successfully" ] || fail "unpause said: $(out)"
  has_value schedule s '{.spec.paused}' false || fail "spec.paused is not false"
  resumed() { [ "$(scheduled)" -gt "$after" ]; }
  eventually 30 resumed || fail "no backup after unpause: still $(scheduled)"

  # delete asks: N keeps it, no answer refuses, --confirm deletes.
  echo n | "$arca" schedule delete s -n "$ns" >"$work/out" 2>"$work/err" || fail "delete (n): $(err)"
  expect_out 'Are you sure you want to continue \(Y/N\)\? ' "delete (n)"
  kubectl get schedule -n "$ns" s >/dev/null || fail "answering N deleted the schedule"
  ! a schedule delete s || fail "delete without an answer succeeded"
  expect_err "pass --confirm"
  kubectl get schedule -n "$ns" s >/dev/null || fail "delete without an answer deleted the schedule"
  a schedule delete s --confirm || fail "delete --confirm: $(err)"
  [ "$(out)" = "Schedule deleted: s" ] || fail "delete said: $(out)"
  eventually 10 gone schedule s || fail "the schedule is still there"
  [ "$(scheduled)" -gt 0 ] || fail "deleting the schedule deleted its backups"
  a schedule get || fail "get after delete: $(err)"
  ! grep -q '^s ' "$work/out" || fail "get still lists s: $(out)"
}

# backup-location create (MinIO) becomes Available; --default moves the default; set
# --access-mode ReadOnly makes a new backup fail validation; delete removes the location and the
# Backup objects labelled with it.
case_location() {
  make_minio_bsl first "$S3_BUCKET" "$ns/first" # also the cloud-credentials Secret
  kubectl patch bsl -n "$ns" first --type merge -p '{"spec":{"default":true}}' >/dev/null
  start_server a --store-validation-frequency 1m
  a backup-location create second --provider aws --bucket "$S3_BUCKET" --prefix "$ns/second" \
    --config "region=us-east-1,s3Url=$AWS_ENDPOINT_URL,s3ForcePathStyle=true" \
    --credential cloud-credentials=cloud --default --validation-frequency 10s ||
    fail "backup-location create: $(err)"
  expect_out '^Backup storage location "second" configured successfully.$' create
  has_value bsl second '{.spec.default}' true || fail "second is not the default"
  has_value bsl first '{.spec.default}' false || fail "first is still the default"
  has_value bsl second '{.spec.validationFrequency}' 10s || fail "no validationFrequency"
  eventually 30 has_value bsl second '{.status.phase}' Available ||
    fail "second is not Available: $(kubectl get bsl -n "$ns" second -o yaml; cat "$work/a.log")"
  eventually 30 has_value bsl first '{.status.phase}' Available || fail "first is not Available"
  a backup-location get || fail "get: $(err)"
  expect_out '^NAME +PROVIDER +BUCKET/PREFIX +PHASE +LAST VALIDATED +ACCESS MODE +DEFAULT$' get
  expect_out "^second +aws +$S3_BUCKET/$ns/second +Available +20[0-9-]+ [0-9:]+ \\+0000 UTC +ReadWrite +true\$" get
  expect_out "^first +aws +$S3_BUCKET/$ns/first +Available +.* +ReadWrite *\$" get

  a backup-location set second --access-mode ReadOnly || fail "set --access-mode: $(err)"
  has_value bsl second '{.spec.accessMode}' ReadOnly || fail "second is not ReadOnly"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: to-ro, labels: {velero.io/storage-location: second}}
spec: {includedNamespaces: [$ns], storageLocation: second}
YAML
  eventually 30 has_value backup to-ro '{.status.phase}' FailedValidation ||
    fail "a backup to a ReadOnly location is not FailedValidation: $(kubectl get backup -n "$ns" to-ro -o yaml)"
  [[ "$(jsonpath backup to-ro '{.status.validationErrors}')" == *"backup can't be created because backup storage location second is currently in read-only mode"* ]] ||
    fail "validation errors: $(jsonpath backup to-ro '{.status.validationErrors}')"
  a backup-location get second || fail "get second: $(err)"
  expect_out '^second +.* +ReadOnly +true$' "get (ReadOnly)"

  a backup-location set first --default || fail "set --default: $(err)"
  has_value bsl first '{.spec.default}' true || fail "first is not the default"
  has_value bsl second '{.spec.default}' false || fail "second is still the default"
  a backup-location get --default -o json || fail "get --default: $(err)"
  [ "$(jq -r .metadata.name "$work/out")" = first ] || fail "get --default: $(out)"

  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: on-first, labels: {velero.io/storage-location: first}}
spec: {includedNamespaces: [$ns], storageLocation: first}
YAML
  ! a backup-location delete second || fail "delete without an answer succeeded"
  expect_err "pass --confirm"
  a backup-location delete second --confirm || fail "delete: $(err)"
  expect_out '^Backup storage location "second" deleted successfully.$' delete
  expect_out '^Backup associated with deleted BSL\(s\) "to-ro" deleted successfully.$' delete
  eventually 10 gone bsl second || fail "second is still there"
  eventually 10 gone backup to-ro || fail "the backup of the deleted location is still there"
  kubectl get backup -n "$ns" on-first >/dev/null || fail "a backup of another location was deleted"
  kubectl get bsl -n "$ns" first >/dev/null || fail "first was deleted"
}

# Malformed input: clear messages, and nothing is created.
case_malformed() {
  ! a schedule create bad --schedule "61 * * * *" || fail "a bad cron was accepted"
  expect_err 'invalid schedule "61 * * * *": minute field'
  ! a schedule create bad --schedule "0 0 * * * *" || fail "six fields were accepted"
  expect_err 'invalid schedule "0 0 * * * *"'
  ! a schedule create bad || fail "a schedule without --schedule was accepted"
  expect_err "--schedule is required"
  gone schedule bad || fail "a bad schedule was created"
  ! a schedule create bad --schedule @daily --storage-location nope || fail "a missing location was accepted"
  expect_err '--storage-location: backupstoragelocations.velero.io "nope" not found in namespace'
  gone schedule bad || fail "a schedule with a missing location was created"
  ! a backup-location create bad --provider aws --bucket b --access-mode Write ||
    fail "a bad access mode was accepted"
  expect_err '--access-mode "Write" is not an access mode: use ReadWrite or ReadOnly'
  ! a backup-location create bad --provider aws --bucket b --credential cloud ||
    fail "a bad --credential was accepted"
  expect_err 'is not of the form SECRET=KEY'
  ! a backup-location create bad --provider aws --bucket b --backup-sync-period soon ||
    fail "a bad duration was accepted"
  expect_err '--backup-sync-period "soon"'
  gone bsl bad || fail "a bad location was created"
  ! a schedule get nope || fail "get of a missing schedule succeeded"
  expect_err "schedules.velero.io \"nope\" not found in namespace $ns"
  ! a schedule pause || fail "pause without a selection succeeded"
  expect_err "you must specify exactly one of"
  ! a backup-location set nope --default || fail "set of a missing location succeeded"
  expect_err "\"nope\" not found in namespace $ns"
  a schedule create ok --schedule "0 3 * * *" -o yaml || fail "-o yaml: $(err)"
  expect_out '^  schedule: 0 3 \* \* \*$' "-o yaml"
  gone schedule ok || fail "-o yaml submitted the schedule"
}

"case_$case_name"
echo "PASS: $case_name"
