# Helpers for the shell integration tests; source it: `. "$here/lib.sh"`.

# Prints the reason and fails the test.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Polls `cmd` every 0.2 s until it succeeds or `seconds` pass: `eventually 30 kubectl get ns x`.
eventually() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
