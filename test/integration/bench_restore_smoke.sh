#!/usr/bin/env bash
# Runs `bench/run restore` once with a small N against the test environment, so the benchmark
# does not rot. Checks that it finishes and that its last line is the JSON summary with both
# restore modes Completed and every object restored, the replay of a restore's requests
# ("ideal") sent in more than one phase, and the restore against the recorded answers ("engine")
# Completed with every request answered from the recording; never judges the figures (so it does not wait for the
# API server to settle between phases: --no-settle).
# Usage: bench_restore_smoke.sh BUILD_DIR
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(ARCA_BUILD_DIR=$1 "$here/with-testenv.sh" "$here/../../bench/run" restore --n 200 --no-settle)
printf '%s\n' "$out"
printf '%s\n' "$out" | tail -n 1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["benchmark"] == "restore" and d["n"] == 200, d
assert d["ceiling"]["objects_per_s"] > 0, d
for mode in ("restore_default", "restore_velero", "restore_no-managed-fields-patch",
             "restore_engine"):
    r = d[mode]
    assert r["phase"] == "Completed" and r["created"] >= 202 and r["failed"] == 0, (mode, r)
    assert r["peak_rss_kib"] > 0 and r["objects_per_s"] > 0, (mode, r)
ideal = d["ideal"]
assert ideal["requests"] >= 202 and ideal["phases"] >= 3 and ideal["objects_per_s"] > 0, ideal
assert ideal["differing_answers"] == 0, ideal
engine = d["restore_engine"]
assert engine["unmatched_requests"] == 0 and engine["restore_cpu_seconds"] > 0, engine
assert engine["created"] == d["restore_default"]["created"], engine
'
