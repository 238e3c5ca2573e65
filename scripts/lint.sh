#!/usr/bin/env bash
# Style checks. `scripts/lint.sh format` fails when a C++ file is not clang-format clean (the test
# suite runs this); `scripts/lint.sh tidy` runs the curated clang-tidy checks over src/ (needs a
# configured build/ for compile_commands.json); `scripts/lint.sh fix` reformats in place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files() { git ls-files -co --exclude-standard -- '*.h' '*.cc' | while read -r f; do [ -f "$f" ] && echo "$f"; done; }
case "${1:-format}" in
  format)
    bad=()
    while read -r f; do
      clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
    done < <(files)
    if [ ${#bad[@]} -gt 0 ]; then
      echo "not clang-format clean (run scripts/lint.sh fix): ${bad[*]}" >&2
      exit 1
    fi
    echo "clang-format: $(files | wc -l) files clean"
    ;;
  fix) files | xargs -r clang-format -i ;;
  tidy) run-clang-tidy -p build -quiet src ;;
  *)
    echo "usage: scripts/lint.sh [format|fix|tidy]" >&2
    exit 2
    ;;
esac
