#!/usr/bin/env bash
# Runs a command with the test environment's variables (KUBECONFIG, AWS_ENDPOINT_URL, S3_BUCKET,
# AWS_* credentials, ...) exported: `with-testenv.sh <command> [args...]`. Fails when the
# environment is not up, so a test run without it fails instead of skipping.
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
env_lines=$("$here/../testenv/testenv" env) || {
  echo "with-testenv: the test environment is not up (run test/testenv/testenv up)" >&2
  exit 1
}
eval "$env_lines"
exec "$@"
