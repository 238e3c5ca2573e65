#!/usr/bin/env bash
# Runs `bench/run list` once with a small N against the test environment, so the benchmark does
# not rot. Checks that it finishes and that its last line is the JSON summary with all three
# clients having listed every object; never judges the figures. Usage: bench_list_smoke.sh BUILD_DIR
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(ARCA_BUILD_DIR=$1 "$here/with-testenv.sh" "$here/../../bench/run" list --n 300 --namespaces 3)
printf '%s\n' "$out"
printf '%s\n' "$out" | tail -n 1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["benchmark"] == "list", d
clients = d["clients"]
assert sorted(clients) == ["arca-paged", "arca-single", "arca-single-no-loop", "kubectl-get-raw"], clients
for name, c in clients.items():
    assert c["objects"] == 300 and c["seconds"] > 0 and c["peak_rss_kib"] > 0, (name, c)
'
