# The scaffolding of tests that run a real `arca server`; source it after lib.sh and the testenv's
# env, with $arca set: `. "$here/server_lib.sh"`. It makes $work (a temporary folder) and $ns (a
# namespace of the test's own, deleted on exit with the servers started by start_server),
# installs the CRDs (idempotent) and waits until they are served.

work=$(mktemp -d)
ns="it-${ns_prefix:-server}-$$-$RANDOM"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

"$arca" install --crds-only >"$work/install.out" 2>&1 || fail "install --crds-only: $(cat "$work/install.out")"
kubectl create namespace "$ns" >/dev/null
eventually 30 kubectl get serverstatusrequests.velero.io -n "$ns" || fail "the CRDs are not served"

# start_server NAME [ARGS...]: runs `arca server` in the namespace with its log in $work/NAME.log,
# waits until it serves metrics, and sets port_NAME and pid_NAME.
start_server() {
  local name=$1
  shift
  "$arca" server -n "$ns" --metrics-address 127.0.0.1:0 "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  # Text (msg="Serving metrics ... port=N) or JSON ("msg":"Serving metrics ...","port":"N").
  eventually 20 grep -qE 'msg"?[=:]"Serving metrics' "$work/$name.log" ||
    fail "server $name did not start: $(cat "$work/$name.log")"
  local port
  port=$(grep -E 'msg"?[=:]"Serving metrics' "$work/$name.log" | head -1 |
    grep -oE '(port=|"port":")[0-9]+' | grep -oE '[0-9]+')
  printf -v "port_$name" '%s' "$port"
  printf -v "pid_$name" '%s' "$pid"
}

jsonpath() { kubectl get -n "$ns" "$1" "$2" -o "jsonpath=$3" 2>/dev/null; }
has_value() { [ "$(jsonpath "$1" "$2" "$3")" = "$4" ]; }
gone() { ! kubectl get -n "$ns" "$1" "$2" >/dev/null 2>&1; }
s3() { aws --endpoint-url "$AWS_ENDPOINT_URL" s3 "$@"; }

# The credentials Secret and a BSL on MinIO: make_minio_bsl NAME BUCKET PREFIX [ACCESS_MODE].
make_minio_bsl() {
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: cloud-credentials}
stringData:
  cloud: |
    [default]
    aws_access_key_id=$AWS_ACCESS_KEY_ID
    aws_secret_access_key=$AWS_SECRET_ACCESS_KEY
---
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: $1}
spec:
  provider: aws
  accessMode: ${4:-ReadWrite}
  objectStorage: {bucket: $2, prefix: $3}
  credential: {name: cloud-credentials, key: cloud}
  config: {region: us-east-1, s3Url: "$AWS_ENDPOINT_URL", s3ForcePathStyle: "true"}
YAML
}


# The default BSL on a folder of this machine ($work/fs), Available once a server validates it.
make_fs_bsl() {
  mkdir -p "$work/fs"
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default}
spec: {provider: filesystem, default: true, objectStorage: {bucket: bk}, config: {root: "$work/fs"}}
YAML
}
