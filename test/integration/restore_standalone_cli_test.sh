#!/usr/bin/env bash
# `arca restore create` through the real binary on the real test environment:
# `restore_standalone_cli_test.sh ARCA_BINARY` (--standalone: no server). Seeds a namespace, backs it up with
# `arca backup create --standalone` into MinIO, deletes it, restores it with
# `arca restore create --from-backup`, then restores the same tarball, downloaded to a file, with
# `--from-file` under a namespace mapping; checks exit codes, objects, labels and the result
# files. A restore that cannot complete (a missing backup) must exit 1 with a clear message.
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
arca=${1:?usage: restore_standalone_cli_test.sh ARCA_BINARY}
eval "$("$here/../testenv/testenv" env)"
. "$here/lib.sh"

u=$(date +%s%N | sha256sum | cut -c1-8)
ns=rc-$u
work=$(mktemp -d)
prefix=restore-cli-$u
storage="s3://$S3_BUCKET/$prefix?region=$AWS_REGION&s3Url=$AWS_ENDPOINT_URL&s3ForcePathStyle=true"
cleanup() {
  kubectl delete ns "$ns" "$ns-copy" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $ns}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: $ns}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $ns}
spec: {selector: {app: web}, ports: [{port: 80}]}
YAML

"$arca" backup create "b-$u" --standalone --storage "$storage" --include-namespaces "$ns" \
  >"$work/backup.out" 2>&1 || fail "backup failed: $(cat "$work/backup.out")"

kubectl delete ns "$ns" --wait=true --timeout=120s >/dev/null
eventually 120 sh -c "! kubectl get ns $ns" || fail "namespace $ns is still there"

"$arca" restore create "r-$u" --from-backup "b-$u" --standalone --storage "$storage" \
  >"$work/restore.out" 2>&1 || fail "restore failed: $(cat "$work/restore.out")"
grep -q "Restore \"r-$u\": Completed" "$work/restore.out" ||
  fail "no summary: $(cat "$work/restore.out")"
[ "$(kubectl get cm settings -n "$ns" -o jsonpath='{.data.mode}')" = fast ] || fail "configmap"
label=$(kubectl get secret creds -n "$ns" -o jsonpath='{.metadata.labels.velero\.io/restore-name}')
[ "$label" = "r-$u" ] || fail "restore label is '$label'"
kubectl get svc web -n "$ns" >/dev/null || fail "service not restored"
aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://$S3_BUCKET/$prefix/restores/r-$u/" >"$work/ls"
for f in "restore-r-$u-results.gz" "restore-r-$u-logs.gz" "restore-r-$u-resource-list.json.gz"; do
  grep -q "$f" "$work/ls" || fail "$f not written: $(cat "$work/ls")"
done

# The same tarball from a file, into another namespace, while the first one exists.
aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp \
  "s3://$S3_BUCKET/$prefix/backups/b-$u/b-$u.tar.gz" "$work/b.tar.gz" >/dev/null
"$arca" restore create --from-file "$work/b.tar.gz" --standalone \
  --namespace-mappings "$ns:$ns-copy" >"$work/file.out" 2>&1 ||
  fail "restore from file failed: $(cat "$work/file.out")"
[ "$(kubectl get cm settings -n "$ns-copy" -o jsonpath='{.data.mode}')" = fast ] ||
  fail "configmap not restored from the file"

# A backup that does not exist: exit 1 and a message naming it.
if "$arca" restore create --from-backup "nope-$u" --standalone --storage "$storage" \
  >"$work/nope.out" 2>&1; then
  fail "restoring a missing backup succeeded"
fi
grep -q "backup \"nope-$u\" was not found" "$work/nope.out" ||
  fail "unclear error: $(cat "$work/nope.out")"
echo "PASS"
