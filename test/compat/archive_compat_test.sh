#!/usr/bin/env bash
# Arca's tarballs against Go's archive/tar and compress/gzip, which is what Velero reads and
# writes with: Arca writes and Go reads, Go writes and Arca reads, and both listings must match.
# Also: gunzip and GNU tar accept Arca's multi-member output.
set -euo pipefail
archive_tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

(cd "$here/go_tar" && GOTOOLCHAIN=local go build -o "$work/gotar" .)

"$archive_tool" write "$work/arca.tar.gz" >"$work/arca-wrote.txt"
"$work/gotar" read "$work/arca.tar.gz" >"$work/go-read.txt"
diff -u "$work/arca-wrote.txt" "$work/go-read.txt"
echo "Go's reader read Arca's tarball: $(wc -l <"$work/go-read.txt") entries match"

"$work/gotar" write "$work/go.tar.gz" >"$work/go-wrote.txt"
"$archive_tool" read "$work/go.tar.gz" >"$work/arca-read.txt"
diff -u "$work/go-wrote.txt" "$work/arca-read.txt"
echo "Arca's reader read Go's tarball: $(wc -l <"$work/arca-read.txt") entries match"

# Standard tools read the multi-member stream as one.
gzip -t "$work/arca.tar.gz"
tar -tzf "$work/arca.tar.gz" | cut -f1 >"$work/tar-list.txt"
diff -u <(cut -f1 "$work/arca-wrote.txt") "$work/tar-list.txt"
echo "gzip and GNU tar accept it"
echo "PASS: archive compatibility"
