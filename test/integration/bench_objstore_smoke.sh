#!/usr/bin/env bash
# Runs `bench/run objstore` once with a small N against the test environment, so the benchmark
# does not rot. Checks that it finishes and that its last line is the JSON summary with all four
# phases and positive times; never judges the figures. Usage: bench_objstore_smoke.sh BUILD_DIR
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(ARCA_BUILD_DIR=$1 "$here/with-testenv.sh" "$here/../../bench/run" objstore --n 20 --big-mib 8)
printf '%s\n' "$out"
printf '%s\n' "$out" | tail -n 1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["benchmark"] == "objstore", d
phases = d["phases"]
assert sorted(phases) == ["big-down", "big-up", "small-down", "small-up"], phases
for name, p in phases.items():
    assert p["arca_seconds"] > 0 and p["aws_seconds"] > 0, (name, p)
'
