#!/usr/bin/env bash
# Enforces .clang-tidy's short list on every source file; fails on any finding.
# REQUIRES: build/dev/compile_commands.json (make build). Runs as part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-tidy >/dev/null; then
  echo "lint: clang-tidy not found (apt-get install clang-tidy)" >&2
  exit 1
fi
out=$(git ls-files 'src/*.cc' | xargs -P "$(nproc)" -n 4 clang-tidy -p build/dev --quiet \
  --header-filter='src/.*' 2>/dev/null | grep -E "(warning|error):" | sort -u || true)
if [[ -n "$out" ]]; then
  echo "$out"
  echo "lint: clang-tidy found problems (see .clang-tidy)" >&2
  exit 1
fi
echo "lint: clang-tidy clean"
