#!/usr/bin/env bash
# Configures and builds Arca into build/ (the binary is build/arca). Extra arguments go to cmake's
# configure step, e.g. -DCMAKE_BUILD_TYPE=Debug.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
if [ ! -f build/build.ninja ] || [ $# -gt 0 ]; then
  cmake -S . -B build -G Ninja "$@" >/dev/null
fi
cmake --build build
