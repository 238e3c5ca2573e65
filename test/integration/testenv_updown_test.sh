#!/usr/bin/env bash
# `testenv up` then `down`, twice, in a state folder of its own: each `up` must come up ready and
# each `down` must leave no process, no listening port and no state behind.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testenv=$here/../testenv/testenv
export ARCA_TESTENV_STATE
ARCA_TESTENV_STATE=$(mktemp -d -u "${TMPDIR:-/tmp}/arca-updown-XXXXXX")

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
trap '"$testenv" down || true' EXIT

for round in 1 2; do
  "$testenv" up
  pids=$(cat "$ARCA_TESTENV_STATE"/pids/*)
  [ "$(wc -w <<<"$pids")" = 6 ] || fail "round $round: expected 6 server pids, got: $pids"
  # The ports the servers listen on, from the kernel's own table.
  ports=$(ss -Hltnp | awk -v pids=" $(echo $pids) " '{
      if (match($0, /pid=[0-9]+/)) {
        p = substr($0, RSTART + 4, RLENGTH - 4)
        if (index(pids, " " p " ")) { n = split($4, a, ":"); print a[n] }
      }
    }' | sort -u)
  [ -n "$ports" ] || fail "round $round: the servers listen on no port"
  (eval "$("$testenv" env)" && kubectl get --raw /readyz >/dev/null) ||
    fail "round $round: the API server is not ready after up"

  "$testenv" down

  for p in $pids; do
    # A zombie waiting for init to reap it has stopped; anything else still runs.
    if [ -n "$(ps -o stat= -p "$p" | grep -v '^Z')" ]; then
      fail "round $round: pid $p still runs after down"
    fi
  done
  for port in $ports; do
    if ss -Hltn "sport = :$port" | grep -q .; then
      fail "round $round: port $port still listens after down"
    fi
  done
  stray=$(ps -e -o stat=,pid=,args= | grep -F -- "$ARCA_TESTENV_STATE" | grep -v -e '^Z' -e grep || true)
  [ -z "$stray" ] || fail "round $round: processes still refer to the state folder: $stray"
  [ ! -e "$ARCA_TESTENV_STATE" ] || fail "round $round: the state folder was not removed"
  echo "round $round: up and down left nothing behind (pids: $(echo $pids); ports: $(echo $ports))"
done
echo "PASS: updown"
