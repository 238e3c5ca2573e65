#!/usr/bin/env bash
# Runs every test on this machine, from nothing: installs what is missing, builds Arca and the
# pinned test servers (cached per machine), then runs the unit tests and the integration tests
# against a real local control plane and MinIO. Extra arguments go to ctest, e.g. `-L unit` or
# `-R exec`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/build.sh
test/testenv/testenv build
ctest --test-dir build --output-on-failure --no-tests=error -j2 "$@"
