#!/usr/bin/env bash
# Arca's cron parser and next-run computation against robfig/cron v3.0.1, the library Velero's
# schedules use: thousands of cases, including DST gaps and overlaps in four time zones (one with
# a 30-minute DST shift), impossible dates, descriptors and malformed expressions, must agree.
set -euo pipefail
cron_tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

(cd "$here/go_cron" && GOTOOLCHAIN=local go build -o "$work/gocron" .)
"$cron_tool" cases >"$work/cases.txt"
"$work/gocron" <"$work/cases.txt" >"$work/go.txt"
"$cron_tool" eval <"$work/cases.txt" >"$work/arca.txt"
if ! cmp -s "$work/go.txt" "$work/arca.txt"; then
  echo "FAIL: Arca and robfig/cron disagree (spec, time, robfig, arca):" >&2
  paste "$work/cases.txt" "$work/go.txt" "$work/arca.txt" | awk -F'\t' '$3 != $4' | head -20 >&2
  exit 1
fi
echo "PASS: $(wc -l <"$work/cases.txt") cron cases agree with robfig/cron ($(grep -c error "$work/go.txt") of them errors)"
