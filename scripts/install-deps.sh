#!/usr/bin/env bash
# Installs the Debian 12 packages fraudwatch needs to build, run and test, if any are missing.
# Idempotent: when everything is present it only checks, in well under a second.
# Usage: scripts/install-deps.sh [build|test]   (test adds the packages only tests need)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libboost-dev libfmt-dev libspdlog-dev
  libcli11-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev libsodium-dev
  libconcurrentqueue-dev libxgboost-dev libpq-dev librdkafka-dev
)
# postgresql: the tests start their own throw-away server (scripts/with-postgres.sh).
# clang-14 + libclang-rt-14-dev: the optional libFuzzer targets (cmake --preset fuzz).
# kcat: the Kafka tests produce and consume with a second, independent Kafka client.
# python3-*: reference implementations the scoring and training tests compare against.
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev sqlite3 clang-tidy postgresql clang-14
  libclang-rt-14-dev python3-xgboost python3-sklearn python3-pandas kcat)

want=("${build_pkgs[@]}")
if [[ "${1:-build}" == "test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then exit 0; fi

echo "Installing missing packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
