#!/usr/bin/env bash
# S3Store over TLS: starts a second MinIO (the test environment's binary) serving HTTPS with a
# certificate from a throw-away CA, then runs the S3StoreTlsTest cases of
# objstore_s3_integration_test against it: caCert trusted, no caCert refused,
# insecureSkipTLSVerify accepted. MinIO speaks only HTTP/1.1, so HTTP/2 is checked against the
# environment's kube-apiserver. Usage: objstore_tls_test.sh TEST_BINARY
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary=$1
eval "$("$here/../testenv/testenv" env)" || {
  echo "objstore_tls_test: the test environment is not up" >&2
  exit 1
}
# testenv links kubectl from its binary cache; MinIO sits beside it.
minio=$(dirname "$(readlink "$(command -v kubectl)")")/minio
[ -x "$minio" ] || {
  echo "objstore_tls_test: no MinIO binary at $minio" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/arca-tls-test.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.crt" \
  -subj "/CN=arca-tls-test-ca" -days 1 2>/dev/null
mkdir -p "$work/certs" "$work/data"
openssl req -newkey rsa:2048 -nodes -keyout "$work/certs/private.key" -out "$work/server.csr" \
  -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext.cnf"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
  -CAcreateserial -out "$work/certs/public.crt" -days 1 -extfile "$work/ext.cnf" 2>/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
console=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=arca-tls
secret=$(openssl rand -hex 16)
MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$secret "$minio" server --quiet \
  --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
  --certs-dir "$work/certs" "$work/data" >"$work/minio.log" 2>&1 &
pid=$!
endpoint="https://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fsS --cacert "$work/ca.crt" "$endpoint/minio/health/live" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS --cacert "$work/ca.crt" "$endpoint/minio/health/live" >/dev/null || {
  cat "$work/minio.log" >&2
  exit 1
}
curl -fsS --cacert "$work/ca.crt" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$user:$secret" \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$endpoint/arca-tls" >/dev/null
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$user" "$secret" \
  >"$work/credentials"

kube_server=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
  base64 -d >"$work/kube-ca.crt"

TLS_ENDPOINT=$endpoint TLS_BUCKET=arca-tls TLS_CA_FILE=$work/ca.crt \
  TLS_CREDENTIALS_FILE=$work/credentials KUBE_SERVER=$kube_server KUBE_CA_FILE=$work/kube-ca.crt \
  "$binary" --gtest_filter='S3StoreTlsTest.*'
