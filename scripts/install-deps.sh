#!/usr/bin/env bash
# Installs what Arca needs to build and test from Debian's packages (the C++ libraries, the
# tools, and the clients the integration tests use). Idempotent: when every package is already
# installed it only runs dpkg-query and exits. Needs root (or sudo) only when something is missing.
# The reasons for each choice are in docs/dependencies.md.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy
  # libraries
  libcurl4-openssl-dev libssl-dev libnghttp2-dev
  libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev
  libdeflate-dev libisal-dev libpugixml-dev libhowardhinnant-date-dev tzdata
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev
  # test environment: certificates, S3 client, process tools
  openssl awscli curl procps iproute2 psmisc
  # Go builds the test servers (test/testenv); Debian's is only a fallback when none is on PATH
)

# One dpkg-query for all packages keeps the no-op case fast.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null |
  awk '$2 == "installed" { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-deps: no 'go' on PATH; the test servers need Go >= 1.26 (see docs/development.md)" >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${go_minor:-0}" -lt 26 ]; then
  echo "install-deps: $(go env GOVERSION) is too old; the test servers need Go >= 1.26" >&2
  exit 1
fi
