#!/usr/bin/env bash
# A real `arca server` process against the test environment. Each case is one ctest test:
# `server_test.sh ARCA_BINARY CASE`. Every case installs the CRDs (idempotent), works in a
# namespace of its own and stops the servers it started.
set -Eeuo pipefail

arca=$1
case_name=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"
. "$here/server_lib.sh"

# A Schedule with `@every 5s` makes Backups named <schedule>-<timestamp> with the schedule label,
# and they complete; status.lastBackup follows; pausing it stops new ones.
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
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Schedule
metadata: {name: often}
spec:
  schedule: "@every 5s"
  template: {includedNamespaces: [$app], ttl: 1h0m0s}
YAML
  count() { kubectl get backups -n "$ns" -l velero.io/schedule-name=often -o name | wc -l; }
  completed() {
    [ "$(kubectl get backups -n "$ns" -l velero.io/schedule-name=often \
      -o 'jsonpath={range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Completed$')" -ge "$1" ]
  }
  eventually 60 completed 3 ||
    fail "fewer than 3 completed scheduled backups: $(kubectl get backups -n "$ns" -o wide; cat "$work/a.log")"
  has_value schedule often '{.status.phase}' Enabled || fail "schedule not Enabled"
  [ -n "$(jsonpath schedule often '{.status.lastBackup}')" ] || fail "no status.lastBackup"
  names=$(kubectl get backups -n "$ns" -l velero.io/schedule-name=often -o name)
  for n in $names; do
    [[ "$n" =~ ^backup.velero.io/often-[0-9]{14}$ ]] || fail "backup name $n is not often-<timestamp>"
  done
  kubectl patch schedule -n "$ns" often --type merge -p '{"spec":{"paused":true}}' >/dev/null
  sleep 3  # a run already being reconciled may still land
  before=$(count)
  sleep 12  # more than two periods
  after=$(count)
  [ "$before" = "$after" ] || fail "a paused schedule made backups: $before then $after"
}

# GC: a backup with a ttl of a few seconds is deleted with its stored data once expired; an
# expired backup on a ReadOnly location stays, labelled velero.io/gc-failure=BSLReadOnly.
case_gc() {
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
---
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: ro}
spec:
  provider: filesystem
  accessMode: ReadOnly
  objectStorage: {bucket: robk}
  config: {root: "$work/fs"}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: kept}
spec: {includedNamespaces: [$app], storageLocation: ro}
status: {phase: Completed, expiration: "2026-01-01T00:00:00Z"}
YAML
  start_server a --garbage-collection-frequency 2s
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: short}
spec: {includedNamespaces: [$app], ttl: 4s}
YAML
  eventually 30 has_value backup short '{.status.phase}' Completed ||
    fail "short did not complete: $(kubectl get backup -n "$ns" short -o yaml; cat "$work/a.log")"
  [ -s "$work/fs/bk/backups/short/velero-backup.json" ] || fail "no stored data for short"
  eventually 40 gone backup short ||
    fail "the expired backup is still there: $(kubectl get backup,deletebackuprequests -n "$ns" -o yaml; cat "$work/a.log")"
  [ ! -e "$work/fs/bk/backups/short" ] || fail "the stored data of short is left: $(ls -R "$work/fs/bk/backups/short")"
  eventually 20 has_value backup kept '{.metadata.labels.velero\.io/gc-failure}' BSLReadOnly ||
    fail "kept not labelled: $(kubectl get backup -n "$ns" kept -o yaml)"
  [ -z "$(kubectl get deletebackuprequests -n "$ns" -l velero.io/backup-name=kept -o name)" ] ||
    fail "a deletion was requested for a backup on a ReadOnly location"
}

# Backup sync: Backup CRs deleted from the cluster come back from the bucket (MinIO) with the
# location label, and one of them restores through a Restore CR; a Backup whose stored data is
# removed is deleted from the cluster; lastSyncedTime is written.
case_backup_sync() {
  app="$ns-app"
  kubectl create namespace "$app" >/dev/null
  trap 'kubectl delete namespace "$app" --wait=false >/dev/null 2>&1 || true; s3 rm --recursive "s3://$S3_BUCKET/$ns" >/dev/null 2>&1 || true; cleanup' EXIT
  kubectl create configmap -n "$app" c1 --from-literal=k=v1 >/dev/null
  make_minio_bsl default "$S3_BUCKET" "$ns"
  kubectl patch bsl -n "$ns" default --type merge -p '{"spec":{"default":true}}' >/dev/null
  start_server a --backup-sync-period 2s
  eventually 30 has_value bsl default '{.status.phase}' Available ||
    fail "the location is not Available: $(kubectl get bsl -n "$ns" default -o yaml)"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b1}
spec: {includedNamespaces: [$app]}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b2}
spec: {includedNamespaces: [$app]}
YAML
  eventually 60 has_value backup b1 '{.status.phase}' Completed || fail "b1 did not complete"
  eventually 60 has_value backup b2 '{.status.phase}' Completed || fail "b2 did not complete"
  eventually 20 test -n "$(jsonpath bsl default '{.status.lastSyncedTime}')" || fail "no lastSyncedTime"
  uid=$(jsonpath backup b1 '{.metadata.uid}')
  kubectl delete backup -n "$ns" b1 b2 >/dev/null
  eventually 30 has_value backup b1 '{.status.phase}' Completed ||
    fail "b1 did not come back from the bucket: $(kubectl get backups -n "$ns"; cat "$work/a.log")"
  eventually 30 has_value backup b2 '{.status.phase}' Completed || fail "b2 did not come back"
  [ "$(jsonpath backup b1 '{.metadata.uid}')" != "$uid" ] || fail "b1 was never deleted"
  [ "$(jsonpath backup b1 '{.metadata.labels.velero\.io/storage-location}')" = default ] ||
    fail "no storage-location label on the synced b1"
  [ "$(jsonpath backup b1 '{.spec.storageLocation}')" = default ] || fail "synced b1 storageLocation"
  # b2's data goes: its Backup goes too.
  s3 rm --recursive "s3://$S3_BUCKET/$ns/backups/b2/" >/dev/null
  eventually 30 gone backup b2 || fail "b2 stays although its data is gone"
  # The location becomes ReadOnly: a new backup to it is refused with Velero's message, nothing
  # is written, and the restore below reads from it.
  kubectl patch bsl -n "$ns" default --type merge -p '{"spec":{"accessMode":"ReadOnly"}}' >/dev/null
  before=$(s3 ls --recursive "s3://$S3_BUCKET/$ns/backups/")
  printf 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: b3}\nspec: {includedNamespaces: [%s]}\n' \
    "$app" | kubectl apply -n "$ns" -f - >/dev/null
  eventually 20 has_value backup b3 '{.status.phase}' FailedValidation ||
    fail "b3 to a ReadOnly location: $(kubectl get backup -n "$ns" b3 -o yaml)"
  [[ "$(jsonpath backup b3 '{.status.validationErrors[0]}')" == *"default is currently in read-only mode"* ]] ||
    fail "b3 reason: $(jsonpath backup b3 '{.status.validationErrors}')"
  kubectl delete configmap -n "$app" c1 >/dev/null
  printf 'apiVersion: velero.io/v1\nkind: Restore\nmetadata: {name: r1}\nspec: {backupName: b1}\n' |
    kubectl apply -n "$ns" -f - >/dev/null
  eventually 60 has_value restore r1 '{.status.phase}' Completed ||
    fail "r1 did not complete: $(kubectl get restore -n "$ns" r1 -o yaml; cat "$work/a.log")"
  [ "$(kubectl get configmap -n "$app" c1 -o 'jsonpath={.data.k}')" = v1 ] || fail "c1 is not back"
  # Restore artefacts may be written to a ReadOnly location (Velero allows them); backups/ is
  # untouched.
  after=$(s3 ls --recursive "s3://$S3_BUCKET/$ns/backups/")
  [ -n "$before" ] && [ "$after" = "$before" ] ||
    fail "backups/ changed on a ReadOnly location: before $before after $after"
}

# ServerStatusRequests get phase Processed and the server's version.
case_ssr_processed() {
  start_server a
  kubectl apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: velero.io/v1
kind: ServerStatusRequest
metadata: {name: s1}
YAML
  eventually 20 has_value serverstatusrequest s1 '{.status.phase}' Processed ||
    fail "the request was not processed: $(kubectl get ssr -n "$ns" s1 -o yaml)"
  version=$(jsonpath serverstatusrequest s1 '{.status.serverVersion}')
  expected=$("$arca" version | sed -n 's/.*Version: //p' | head -1)
  [ "$version" = "$expected" ] || fail "serverVersion '$version', expected '$expected'"
  [ -n "$(jsonpath serverstatusrequest s1 '{.status.processedTimestamp}')" ] ||
    fail "no processedTimestamp"
  # `arca version` asks the server the same way.
  "$arca" version -n "$ns" >"$work/version" 2>&1 || fail "arca version failed: $(cat "$work/version")"
  grep -A1 '^Server:' "$work/version" | grep -qF "Version: $expected" ||
    fail "arca version does not report the server: $(cat "$work/version")"
  kubectl create namespace "$ns-idle" >/dev/null
  trap 'kubectl delete namespace "$ns-idle" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  VELERO_NAMESPACE="$ns-idle" "$arca" version --timeout 1s >"$work/version" 2>&1 ||
    fail "arca version failed without a server"
  grep -q 'error getting server version: timed out' "$work/version" ||
    fail "no timeout reported: $(cat "$work/version")"
}

# A location on MinIO is Available; a missing bucket is Unavailable with the reason, and a
# filesystem location with a foreign top-level directory too.
case_bsl_validation() {
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  make_minio_bsl wrong "no-such-bucket-$RANDOM" ""
  mkdir -p "$work/fs/bk/backups" "$work/fs/bad/junk"
  echo x >"$work/fs/bad/junk/file"  # an empty directory is no prefix, as in S3
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: fs}
spec: {provider: filesystem, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
---
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: fs-bad}
spec: {provider: filesystem, objectStorage: {bucket: bad}, config: {root: "$work/fs"}}
---
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: gcp}
spec: {provider: gcp, objectStorage: {bucket: b}}
YAML
  start_server a --store-validation-frequency 1m
  eventually 20 has_value bsl minio '{.status.phase}' Available ||
    fail "minio is not Available: $(kubectl get bsl -n "$ns" minio -o yaml)"
  eventually 20 has_value bsl fs '{.status.phase}' Available || fail "fs is not Available"
  eventually 20 has_value bsl wrong '{.status.phase}' Unavailable || fail "wrong is not Unavailable"
  msg=$(jsonpath bsl wrong '{.status.message}')
  case "$msg" in
    *'BackupStorageLocation "wrong" is unavailable'*no-such-bucket*'not found'*) ;;
    *) fail "unhelpful message: $msg" ;;
  esac
  case "$msg" in *"$AWS_SECRET_ACCESS_KEY"*) fail "the message holds the secret key" ;; esac
  eventually 20 has_value bsl fs-bad '{.status.phase}' Unavailable || fail "fs-bad is not Unavailable"
  [[ "$(jsonpath bsl fs-bad '{.status.message}')" == *"invalid top-level directories: [junk]"* ]] ||
    fail "fs-bad message: $(jsonpath bsl fs-bad '{.status.message}')"
  eventually 20 has_value bsl gcp '{.status.phase}' Unavailable || fail "gcp is not Unavailable"
  [[ "$(jsonpath bsl gcp '{.status.message}')" == *'provider "gcp" is not supported'* ]] ||
    fail "gcp message: $(jsonpath bsl gcp '{.status.message}')"
  [ -n "$(jsonpath bsl minio '{.status.lastValidationTime}')" ] || fail "no lastValidationTime"
  # Validated once per frequency, not in a loop on its own status writes.
  sleep 3
  n=$(grep -c 'unavailable' "$work/a.log" || true)
  [ "$n" -le 6 ] || fail "locations were validated $n times in a few seconds"
}

# A DownloadRequest gets a URL that curl fetches: pre-signed for MinIO, file:// for a directory.
case_download_request() {
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  echo "the log of b1 $RANDOM" >"$work/log"
  s3 cp --quiet "$work/log" "s3://$S3_BUCKET/$ns/backups/b1/b1-logs.gz"
  mkdir -p "$work/fs/bk/backups/b2"
  echo "tarball of b2" >"$work/fs/bk/backups/b2/b2.tar.gz"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: fs}
spec: {provider: filesystem, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b1}
spec: {storageLocation: minio}
status: {phase: Completed}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b2}
spec: {storageLocation: fs}
status: {phase: Completed}
---
apiVersion: velero.io/v1
kind: DownloadRequest
metadata: {name: d1}
spec: {target: {kind: BackupLog, name: b1}}
---
apiVersion: velero.io/v1
kind: DownloadRequest
metadata: {name: d2}
spec: {target: {kind: BackupContents, name: b2}}
YAML
  start_server a
  eventually 20 has_value downloadrequest d1 '{.status.phase}' Processed ||
    fail "d1 not processed: $(cat "$work/a.log")"
  url=$(jsonpath downloadrequest d1 '{.status.downloadURL}')
  [[ "$url" == http*X-Amz-Signature=* ]] || fail "not a pre-signed URL: $url"
  curl -fsS "$url" -o "$work/got" || fail "curl could not fetch $url"
  cmp -s "$work/got" "$work/log" || fail "the URL served other bytes"
  [ -n "$(jsonpath downloadrequest d1 '{.status.expiration}')" ] || fail "no expiration"
  eventually 20 has_value downloadrequest d2 '{.status.phase}' Processed || fail "d2 not processed"
  url=$(jsonpath downloadrequest d2 '{.status.downloadURL}')
  [[ "$url" == file://* ]] || fail "not a file URL: $url"
  curl -fsS "$url" -o "$work/got2" || fail "curl could not fetch $url"
  cmp -s "$work/got2" "$work/fs/bk/backups/b2/b2.tar.gz" || fail "the file URL served other bytes"
}

# A DeleteBackupRequest removes the backup's data, its restores (data and CR) and the Backup; on
# a ReadOnly location it is refused with Velero's message and nothing is touched.
case_delete_backup_request() {
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  make_minio_bsl ro "$S3_BUCKET" "$ns" ReadOnly
  for key in backups/b1/velero-backup.json backups/b1/b1.tar.gz restores/r1/restore-r1-logs.gz \
    backups/b2/velero-backup.json; do
    echo "$key" | s3 cp --quiet - "s3://$S3_BUCKET/$ns/$key"
  done
  kubectl apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b1}
spec: {storageLocation: minio}
status: {phase: Completed}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b2}
spec: {storageLocation: ro}
status: {phase: Completed}
---
apiVersion: velero.io/v1
kind: Restore
metadata: {name: r1}
spec: {backupName: b1}
YAML
  start_server a
  eventually 20 has_value bsl minio '{.status.phase}' Available || fail "minio not Available"
  eventually 20 has_value bsl ro '{.status.phase}' Available || fail "ro not Available"
  kubectl apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: velero.io/v1
kind: DeleteBackupRequest
metadata: {name: del-b1, labels: {velero.io/backup-name: b1}}
spec: {backupName: b1}
---
apiVersion: velero.io/v1
kind: DeleteBackupRequest
metadata: {name: del-b2}
spec: {backupName: b2}
YAML
  eventually 30 gone backup b1 || fail "backup b1 still exists: $(cat "$work/a.log")"
  eventually 10 gone restore r1 || fail "restore r1 still exists"
  eventually 10 gone deletebackuprequest del-b1 || fail "the processed request was not removed"
  listing=$(s3 ls --recursive "s3://$S3_BUCKET/$ns/")
  [[ "$listing" != *backups/b1/* ]] || fail "backups/b1 is still stored: $listing"
  [[ "$listing" != *restores/r1/* ]] || fail "restores/r1 is still stored: $listing"
  [[ "$listing" == *backups/b2/velero-backup.json* ]] || fail "b2's data went too: $listing"
  eventually 20 has_value deletebackuprequest del-b2 '{.status.phase}' Processed ||
    fail "del-b2 not processed"
  [ "$(jsonpath deletebackuprequest del-b2 '{.status.errors[0]}')" = \
    "cannot delete backup because backup storage location ro is currently in read-only mode" ] ||
    fail "del-b2 errors: $(jsonpath deletebackuprequest del-b2 '{.status.errors}')"
  kubectl get -n "$ns" backup b2 >/dev/null || fail "b2 was deleted from a ReadOnly location"
}

# Two servers: one holds the Lease and acts, the other waits; when the leader stops it releases
# the Lease and the other takes over.
case_leader_election() {
  start_server a
  eventually 20 grep -q 'msg="Acquired the leader lease"' "$work/a.log" || fail "a did not lead"
  start_server b
  eventually 10 grep -q 'msg="Attempting to acquire' "$work/b.log" || fail "b did not campaign"
  id_a=$(sed -n 's/.*msg="Starting arca server".* identity=\([^ ]*\).*/\1/p' "$work/a.log")
  [ "$(jsonpath lease arca-server '{.spec.holderIdentity}')" = "$id_a" ] ||
    fail "the Lease is not held by a"
  for i in 1 2 3; do
    printf 'apiVersion: velero.io/v1\nkind: ServerStatusRequest\nmetadata: {name: s%s}\n' "$i" |
      kubectl apply -n "$ns" -f - >/dev/null
  done
  for i in 1 2 3; do
    eventually 20 has_value serverstatusrequest "s$i" '{.status.phase}' Processed ||
      fail "s$i not processed"
  done
  [ "$(grep -c 'msg="Processed server status request"' "$work/a.log")" = 3 ] ||
    fail "the leader did not process the requests"
  ! grep -q 'Processed server status request\|Starting controller' "$work/b.log" ||
    fail "the follower acted: $(cat "$work/b.log")"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port_a/readyz")" = 200 ] ||
    fail "the leader is not ready"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port_b/readyz")" = 503 ] ||
    fail "the follower says it is ready"
  [ "$(curl -s "127.0.0.1:$port_b/healthz")" = ok ] || fail "the follower is not healthy"

  kill -TERM "$pid_a"
  wait "$pid_a" || fail "a did not exit 0 on SIGTERM: $(tail -5 "$work/a.log")"
  eventually 10 grep -q 'msg="Acquired the leader lease"' "$work/b.log" ||
    fail "b did not take over: $(cat "$work/b.log")"
  printf 'apiVersion: velero.io/v1\nkind: ServerStatusRequest\nmetadata: {name: s4}\n' |
    kubectl apply -n "$ns" -f - >/dev/null
  eventually 20 has_value serverstatusrequest s4 '{.status.phase}' Processed ||
    fail "the new leader does not act"
  grep -q 'Processed server status request.* name=s4' "$work/b.log" || fail "b did not process s4"
}

# /metrics has Velero's names and follows the locations; /healthz answers; JSON logs parse; bad
# flags are refused with a reason.
case_metrics_and_flags() {
  make_minio_bsl minio "$S3_BUCKET" "$ns"
  make_minio_bsl wrong "no-such-bucket-$RANDOM" ""
  start_server a --log-format json
  eventually 20 has_value bsl wrong '{.status.phase}' Unavailable || fail "wrong not validated"
  eventually 20 has_value bsl minio '{.status.phase}' Available || fail "minio not validated"
  curl -fsS "127.0.0.1:$port_a/metrics" >"$work/metrics" || fail "no /metrics"
  for line in 'velero_backup_location_status_gauge{backup_location_name="minio"} 1' \
    'velero_backup_location_status_gauge{backup_location_name="wrong"} 0' \
    'velero_backup_attempt_total{schedule=""} 0' 'velero_backup_success_total{schedule=""} 0' \
    'velero_restore_attempt_total{schedule=""} 0' '# TYPE velero_backup_duration_seconds histogram' \
    'velero_backup_total 0'; do
    grep -qF "$line" "$work/metrics" || fail "/metrics lacks '$line': $(cat "$work/metrics")"
  done
  [ "$(curl -fsS "127.0.0.1:$port_a/healthz")" = ok ] || fail "/healthz"
  python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no log lines"
for l in lines:
    e = json.loads(l)
    assert {"level", "msg", "time"} <= e.keys(), l
' "$work/a.log" || fail "the JSON log does not parse: $(head -3 "$work/a.log")"

  if "$arca" server -n "$ns" --log-format yaml >"$work/bad" 2>&1; then fail "--log-format yaml accepted"; fi
  grep -q 'use text or json' "$work/bad" || fail "unclear error: $(cat "$work/bad")"
  if "$arca" server -n "$ns" --disable-controllers bogus >"$work/bad" 2>&1; then
    fail "--disable-controllers bogus accepted"
  fi
  grep -q 'unknown controller "bogus"; valid names' "$work/bad" || fail "unclear error: $(cat "$work/bad")"
  for flag in --backup-sync-period --garbage-collection-frequency; do
    if "$arca" server -n "$ns" "$flag" 5 >"$work/bad" 2>&1; then fail "$flag 5 accepted"; fi
    grep -q -- "$flag: .*use a Go duration" "$work/bad" || fail "unclear error: $(cat "$work/bad")"
  done
  for flag in --concurrent-backups --concurrent-restores; do
    if "$arca" server -n "$ns" "$flag" 0 >"$work/bad" 2>&1; then fail "$flag 0 accepted"; fi
    grep -q -- "$flag 0: give at least 1" "$work/bad" || fail "unclear error: $(cat "$work/bad")"
  done
  if "$arca" server -n "$ns" --restore-resource-priorities "namespaces,,pods" >"$work/bad" 2>&1; then
    fail "--restore-resource-priorities with an empty element accepted"
  fi
  grep -q -- '--restore-resource-priorities: invalid restore resource priorities "namespaces,,pods": empty element' "$work/bad" ||
    fail "unclear error: $(cat "$work/bad")"
  if "$arca" server -n "$ns" --metrics-address "127.0.0.1:$port_a" >"$work/bad" 2>&1; then
    fail "a busy metrics port was accepted"
  fi
  grep -q 'Address already in use' "$work/bad" || fail "unclear error: $(cat "$work/bad")"
}

# Backups through the server: one Completed with its files in the location and the metrics
# counted; one with a missing location ends FailedValidation with the reason; one left
# InProgress by a killed server is marked Failed with a reason when a server starts.
case_backup_lifecycle() {
  app="$ns-app"
  kubectl create namespace "$app" >/dev/null
  trap 'kubectl delete namespace "$app" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  kubectl create configmap -n "$app" c1 --from-literal=k=v >/dev/null
  kubectl create configmap -n "$app" c2 --from-literal=k=v >/dev/null
  mkdir -p "$work/fs"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default}
spec: {provider: filesystem, default: true, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: killed}
spec: {includedNamespaces: [$app]}
status: {phase: InProgress, startTimestamp: "2026-01-01T00:00:00Z"}
YAML
  start_server a
  eventually 20 has_value backup killed '{.status.phase}' Failed ||
    fail "the orphaned backup is not Failed: $(kubectl get backup -n "$ns" killed -o yaml)"
  [[ "$(jsonpath backup killed '{.status.failureReason}')" == *"server stopped while this backup was in progress"* ]] ||
    fail "no reason for the orphan: $(jsonpath backup killed '{.status.failureReason}')"
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b1}
spec: {includedNamespaces: [$app], ttl: 1h0m0s}
---
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b2}
spec: {includedNamespaces: [$app], storageLocation: nowhere}
YAML
  eventually 60 has_value backup b1 '{.status.phase}' Completed ||
    fail "b1 did not complete: $(kubectl get backup -n "$ns" b1 -o yaml; cat "$work/a.log")"
  [ "$(jsonpath backup b1 '{.spec.storageLocation}')" = default ] || fail "storageLocation not set"
  [ "$(jsonpath backup b1 '{.metadata.labels.velero\.io/storage-location}')" = default ] ||
    fail "no storage-location label"
  [ -n "$(jsonpath backup b1 '{.metadata.annotations.velero\.io/source-cluster-k8s-gitversion}')" ] ||
    fail "no source-cluster annotation"
  [ -n "$(jsonpath backup b1 '{.status.expiration}')" ] || fail "no expiration"
  [ "$(jsonpath backup b1 '{.status.progress.itemsBackedUp}')" -ge 3 ] ||
    fail "progress: $(jsonpath backup b1 '{.status.progress}')"
  for f in velero-backup.json b1.tar.gz b1-logs.gz b1-resource-list.json.gz; do
    [ -s "$work/fs/bk/backups/b1/$f" ] || fail "backups/b1/$f is missing"
  done
  entries=$(tar -tzf "$work/fs/bk/backups/b1/b1.tar.gz")  # not piped into grep -q (SIGPIPE)
  [[ "$entries" == *"resources/configmaps/namespaces/$app/c2.json"* ]] ||
    fail "the tarball lacks c2: $entries"
  eventually 20 has_value backup b2 '{.status.phase}' FailedValidation || fail "b2 not FailedValidation"
  [[ "$(jsonpath backup b2 '{.status.validationErrors[0]}')" == *nowhere*"needs to be created"* ]] ||
    fail "b2 reason: $(jsonpath backup b2 '{.status.validationErrors}')"
  curl -fsS "127.0.0.1:$port_a/metrics" >"$work/metrics"
  for line in 'velero_backup_attempt_total{schedule=""} 1' 'velero_backup_success_total{schedule=""} 1' \
    'velero_backup_validation_failure_total{schedule=""} 1' 'velero_backup_failure_total{schedule=""} 1' \
    'velero_backup_duration_seconds_count{schedule=""} 1'; do
    grep -qF "$line" "$work/metrics" || fail "/metrics lacks '$line': $(grep velero_backup "$work/metrics")"
  done
}

# Restores through the server: a backup restored as-is and into a new namespace, the files of
# the restore written to the location and removed when the Restore is deleted; a restore of a
# missing backup ends FailedValidation.
case_restore_lifecycle() {
  app="$ns-app"
  copy="$ns-copy"
  kubectl create namespace "$app" >/dev/null
  trap 'kubectl delete namespace "$app" "$copy" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  kubectl create configmap -n "$app" c1 --from-literal=k=v1 >/dev/null
  kubectl create configmap -n "$app" c2 --from-literal=k=v2 >/dev/null
  mkdir -p "$work/fs"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default}
spec: {provider: filesystem, default: true, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
YAML
  # Velero's order puts ServiceAccounts before ConfigMaps; the flag turns them round.
  start_server a --restore-resource-priorities namespaces,configmaps,serviceaccounts
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  printf 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: b1}\nspec: {includedNamespaces: [%s]}\n' \
    "$app" | kubectl apply -n "$ns" -f - >/dev/null
  eventually 60 has_value backup b1 '{.status.phase}' Completed || fail "b1 did not complete"
  kubectl delete configmap -n "$app" c1 >/dev/null
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Restore
metadata: {name: r1}
spec: {backupName: b1}
---
apiVersion: velero.io/v1
kind: Restore
metadata: {name: r2}
spec: {backupName: b1, namespaceMapping: {$app: $copy}}
---
apiVersion: velero.io/v1
kind: Restore
metadata: {name: r3}
spec: {backupName: missing}
YAML
  eventually 60 has_value restore r1 '{.status.phase}' Completed ||
    fail "r1 did not complete: $(kubectl get restore -n "$ns" r1 -o yaml; cat "$work/a.log")"
  [ "$(kubectl get configmap -n "$app" c1 -o 'jsonpath={.data.k}')" = v1 ] || fail "c1 is not back"
  eventually 60 has_value restore r2 '{.status.phase}' Completed || fail "r2 did not complete"
  [ "$(kubectl get configmap -n "$copy" c2 -o 'jsonpath={.data.k}')" = v2 ] ||
    fail "c2 is not in the mapped namespace"
  order=$(zcat "$work/fs/bk/restores/r2/restore-r2-logs.gz" |
    sed -n 's/.*restoring resource \\"\([^\\]*\)\\".*/\1/p' | paste -sd' ')
  [[ "$order" == "namespaces configmaps serviceaccounts"* ]] ||
    fail "r2 did not follow --restore-resource-priorities: $order"
  eventually 20 has_value restore r3 '{.status.phase}' FailedValidation || fail "r3 not FailedValidation"
  [ "$(jsonpath restore r3 '{.status.validationErrors[0]}')" = "backup missing not found" ] ||
    fail "r3 reason: $(jsonpath restore r3 '{.status.validationErrors}')"
  [ -s "$work/fs/bk/restores/r1/restore-r1-results.gz" ] || fail "no results file for r1"
  [ "$(jsonpath restore r1 '{.metadata.finalizers[0]}')" = restores.velero.io/external-resources-finalizer ] ||
    fail "r1 has no finalizer"
  kubectl delete restore -n "$ns" r1 --wait=false >/dev/null
  eventually 20 gone restore r1 || fail "r1 was not finalized"
  [ ! -e "$work/fs/bk/restores/r1/restore-r1-results.gz" ] || fail "r1's files are still there"
  [ -s "$work/fs/bk/restores/r2/restore-r2-results.gz" ] || fail "r2's files went too"
  curl -fsS "127.0.0.1:$port_a/metrics" >"$work/metrics"
  for line in 'velero_restore_attempt_total{schedule=""} 2' 'velero_restore_success_total{schedule=""} 2' \
    'velero_restore_validation_failed_total{schedule=""} 1'; do
    grep -qF "$line" "$work/metrics" || fail "/metrics lacks '$line': $(grep velero_restore "$work/metrics")"
  done
}

# The server is killed with SIGKILL while a backup runs and started again: the backup ends
# Failed with a reason, or Completed and whole; never stuck InProgress, never Completed and torn.
case_backup_survives_sigkill() {
  app="$ns-app"
  kubectl create namespace "$app" >/dev/null
  trap 'kubectl delete namespace "$app" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  python3 - "$app" >"$work/cms.json" <<'PY'
import json, sys
items = [{"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "cm-%04d" % i, "namespace": sys.argv[1]},
          "data": {"k": "x" * 2000}} for i in range(1500)]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
  kubectl create -f "$work/cms.json" >/dev/null
  mkdir -p "$work/fs"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default}
spec: {provider: filesystem, default: true, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
YAML
  start_server a
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  printf 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: big}\nspec: {includedNamespaces: [%s]}\n' \
    "$app" | kubectl apply -n "$ns" -f - >/dev/null
  eventually 30 grep -q 'msg="Backup started"' "$work/a.log" || fail "the backup did not start"
  kill -KILL "$pid_a"
  wait "$pid_a" 2>/dev/null || true
  phase_at_kill=$(jsonpath backup big '{.status.phase}')
  echo "phase when killed: $phase_at_kill"
  start_server b
  final() { case "$(jsonpath backup big '{.status.phase}')" in Failed | Completed) return 0 ;; esac; return 1; }
  eventually 60 final || fail "the backup is stuck: $(kubectl get backup -n "$ns" big -o yaml)"
  phase=$(jsonpath backup big '{.status.phase}')
  echo "final phase: $phase"
  meta="$work/fs/bk/backups/big/velero-backup.json"
  if [ "$phase" = Failed ]; then
    [[ "$(jsonpath backup big '{.status.failureReason}')" == *"server stopped while this backup was in progress"* ]] ||
      fail "no reason: $(jsonpath backup big '{.status.failureReason}')"
    if [ -e "$meta" ]; then
      ! grep -q '"phase": *"Completed"' "$meta" || fail "a killed backup's metadata says Completed"
    fi
  else
    [ -s "$meta" ] || fail "Completed without velero-backup.json"
    n=$(tar -tzf "$work/fs/bk/backups/big/big.tar.gz" | grep -c "namespaces/$app/cm-") ||
      fail "the tarball does not read"
    [ "$n" -ge 1500 ] || fail "Completed with $n of 1500 config maps"
  fi
}

# The backup queue with --concurrent-backups 2. Each app namespace has a pod whose pre-backup
# hook waits for a release file on this machine (kwok pods run exec here; the wait also ends when
# the test's folder is removed, so a failed run leaves no loop behind), so a backup of it
# stays InProgress until the test lets it go: b1 (n1) and b2 (n2) run at the same time; b3 (n1
# again) waits Queued at position 1 even after b2 ends and frees a slot, because it overlaps b1;
# once b1 is released, b3 runs and completes. Every backup passes through Queued/ReadyToStart.
case_backup_queue() {
  n1="$ns-n1" n2="$ns-n2"
  trap 'kubectl delete namespace "$n1" "$n2" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  for n in "$n1" "$n2"; do
    kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $n}
---
apiVersion: v1
kind: Pod
metadata:
  name: gate
  namespace: $n
  annotations:
    pre.hook.backup.velero.io/command: '["sh", "-c", "while [ ! -f $work/release-$n ] && [ -d $work ]; do sleep 0.1; done"]'
    pre.hook.backup.velero.io/timeout: 120s
spec:
  containers: [{name: app, image: registry.invalid/app:1}]
YAML
  done
  kubectl -n "$n1" wait pod/gate --for=condition=Ready --timeout=60s >/dev/null
  kubectl -n "$n2" wait pod/gate --for=condition=Ready --timeout=60s >/dev/null
  make_fs_bsl
  start_server a --concurrent-backups 2
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  # Every phase each backup shows, in order, from a watch that starts at the resource version of
  # an empty list, so that no change is missed however late the watch connects.
  local rv
  # (From the raw list: `kubectl get -o jsonpath` prints the empty version of the list it builds.)
  rv=$(kubectl get --raw "/apis/velero.io/v1/namespaces/$ns/backups" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
  [ -n "$rv" ] || fail "no resourceVersion for the backup list"
  kubectl get --raw "/apis/velero.io/v1/namespaces/$ns/backups?watch=1&resourceVersion=$rv" \
    >"$work/watch.json" 2>/dev/null &
  pids+=($!)
  make_backup() {
    kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: $1}
spec: {includedNamespaces: [$2]}
YAML
  }
  make_backup b1 "$n1"
  eventually 30 has_value backup b1 '{.status.phase}' InProgress || fail "b1 is not InProgress"
  make_backup b2 "$n2"
  eventually 30 has_value backup b2 '{.status.phase}' InProgress ||
    fail "b2 did not start beside b1: $(jsonpath backup b2 '{.status}')"
  [ "$(jsonpath backup b1 '{.status.phase}')" = InProgress ] || fail "b1 is no longer InProgress"
  make_backup b3 "$n1"
  eventually 30 has_value backup b3 '{.status.phase}' Queued || fail "b3 is not Queued"
  [ "$(jsonpath backup b3 '{.status.queuePosition}')" = 1 ] || fail "b3's queuePosition"
  touch "$work/release-$n2"
  eventually 60 has_value backup b2 '{.status.phase}' Completed ||
    fail "b2 did not complete: $(jsonpath backup b2 '{.status}')"
  # A slot is free, but b3 overlaps b1, which still runs.
  sleep 3
  [ "$(jsonpath backup b3 '{.status.phase}')" = Queued ] ||
    fail "b3 left the queue while b1 ran: $(jsonpath backup b3 '{.status}')"
  touch "$work/release-$n1"
  for b in b1 b3; do
    eventually 60 has_value backup "$b" '{.status.phase}' Completed ||
      fail "$b did not complete: $(jsonpath backup "$b" '{.status}'; tail -20 "$work/a.log")"
  done
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if not line.endswith("\n"):
        break  # an event still being written
    o = json.loads(line)["object"]
    print(o["metadata"]["name"], o.get("status", {}).get("phase", ""))
' "$work/watch.json" >"$work/watch"
  for b in b1 b2 b3; do
    local phases
    phases=$(awk -v b="$b" '$1 == b {print $2}' "$work/watch" | uniq | paste -sd' ')
    [[ "$phases" == *Queued*ReadyToStart*InProgress*Completed* ]] ||
      fail "$b's phases: $phases"
  done
  # b1 ended before b3 started (they share n1).
  local end1 start3
  end1=$(jsonpath backup b1 '{.status.completionTimestamp}')
  start3=$(jsonpath backup b3 '{.status.startTimestamp}')
  [[ ! "$start3" < "$end1" ]] || fail "b3 started at $start3, before b1 ended at $end1"
}

# Restores with --concurrent-restores 2. The backed-up pod has a post-restore exec hook that
# waits for a release file on this machine, so a restore stays InProgress until the test lets it
# go: r1 (app -> r1) and r2 (app -> r2) run at the same time; r3 (app -> r1 again) overlaps r1
# and waits (New) until r1 is done, then runs.
case_restore_concurrency() {
  app="$ns-app" t1="$ns-r1" t2="$ns-r2"
  trap 'kubectl delete namespace "$app" "$t1" "$t2" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $app}
---
apiVersion: v1
kind: Pod
metadata:
  name: gate
  namespace: $app
  annotations:
    post.hook.restore.velero.io/command: '["sh", "-c", "while [ ! -f $work/release ] && [ -d $work ]; do sleep 0.1; done"]'
    post.hook.restore.velero.io/exec-timeout: 120s
    post.hook.restore.velero.io/wait-timeout: 2m
spec:
  containers: [{name: app, image: registry.invalid/app:1}]
YAML
  kubectl -n "$app" wait pod/gate --for=condition=Ready --timeout=60s >/dev/null
  make_fs_bsl
  start_server a --concurrent-restores 2
  # A backup made before the location is validated would end FailedValidation (as in Velero).
  eventually 20 has_value bsl default '{.status.phase}' Available || fail "the location is not Available"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Backup
metadata: {name: b}
spec: {includedNamespaces: [$app]}
YAML
  eventually 60 has_value backup b '{.status.phase}' Completed ||
    fail "the backup did not complete: $(jsonpath backup b '{.status}'; tail -30 "$work/a.log")"
  make_restore() {
    kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: Restore
metadata: {name: $1}
spec: {backupName: b, includedNamespaces: [$app], namespaceMapping: {$app: $2}}
YAML
  }
  make_restore r1 "$t1"
  eventually 30 has_value restore r1 '{.status.phase}' InProgress || fail "r1 is not InProgress"
  make_restore r2 "$t2"
  eventually 30 has_value restore r2 '{.status.phase}' InProgress ||
    fail "r2 did not start beside r1: $(jsonpath restore r2 '{.status}')"
  [ "$(jsonpath restore r1 '{.status.phase}')" = InProgress ] || fail "r1 is no longer InProgress"
  make_restore r3 "$t1"
  sleep 3
  case "$(jsonpath restore r3 '{.status.phase}')" in
    "" | New) ;;
    *) fail "r3 started while r1, which writes the same namespace, ran: $(jsonpath restore r3 '{.status}')" ;;
  esac
  touch "$work/release"
  for r in r1 r2; do
    eventually 60 has_value restore "$r" '{.status.phase}' Completed ||
      fail "$r did not complete: $(jsonpath restore "$r" '{.status}'; tail -20 "$work/a.log")"
  done
  eventually 60 sh -c "kubectl get restore -n $ns r3 -o jsonpath='{.status.phase}' | grep -qE '^(Completed|PartiallyFailed)$'" ||
    fail "r3 did not finish: $(jsonpath restore r3 '{.status}')"
  local end1 start3
  end1=$(jsonpath restore r1 '{.status.completionTimestamp}')
  start3=$(jsonpath restore r3 '{.status.startTimestamp}')
  [[ ! "$start3" < "$end1" ]] || fail "r3 started at $start3, before r1 ended at $end1"
}

"case_$case_name"
echo "PASS: $case_name"
