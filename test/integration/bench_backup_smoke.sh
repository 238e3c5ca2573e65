#!/usr/bin/env bash
# Runs `bench/run backup` once with a small N against the test environment, so the benchmark does
# not rot. Checks that it finishes and that its last line is the JSON summary in which both
# ceilings listed every object and the backups (filesystem, MinIO, filesystem at gzip level 1) took
# at least every object and its namespace (the cluster adds labelled EndpointSlices), with a CPU
# time and, on the filesystem, a tarball size; never judges the figures.
# Usage: bench_backup_smoke.sh BUILD_DIR
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(ARCA_BUILD_DIR=$1 "$here/with-testenv.sh" "$here/../../bench/run" backup --n 200 --gzip-level 1)
printf '%s\n' "$out"
printf '%s\n' "$out" | tail -n 1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["benchmark"] == "backup" and d["n"] == 200, d
runs = d["runs"]
assert sorted(runs) == ["arca-backup-fs", "arca-backup-fs-gzip1", "arca-backup-minio",
                        "list-ceiling", "list-ceiling-cache"], runs
assert runs["list-ceiling"]["objects"] == 200, runs
assert runs["list-ceiling-cache"]["objects"] == 200, runs
for name in ("arca-backup-fs", "arca-backup-fs-gzip1", "arca-backup-minio"):
    r = runs[name]
    assert r["objects"] >= 202 and r["seconds"] > 0 and r["peak_rss_kib"] > 0, (name, r)
    assert r["cpu_seconds"] > 0, (name, r)
    assert (r["tarball_bytes"] > 0) == name.startswith("arca-backup-fs"), (name, r)
'
