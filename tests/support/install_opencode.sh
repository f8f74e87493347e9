#!/usr/bin/env bash
# Installs the pinned OpenCode CLI (npm package opencode-ai) into .tools/opencode
# for the end-to-end test (tests/e2e/opencode_test.ts). Idempotent: does nothing
# when the pinned version is already there and its platform binary runs.
set -euo pipefail

OPENCODE_VERSION="${OPENCODE_VERSION:-1.18.33}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.tools/opencode"
BIN="$PREFIX/node_modules/.bin/opencode"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null || true)" = "$OPENCODE_VERSION" ]; then
  echo "opencode $OPENCODE_VERSION already installed in $PREFIX"
  exit 0
fi

mkdir -p "$PREFIX"
# --no-save keeps no package.json churn; the platform binary is an optional
# dependency, so optional dependencies must not be omitted.
npm install --prefix "$PREFIX" --no-audit --no-fund --include=optional \
  "opencode-ai@$OPENCODE_VERSION"
"$BIN" --version
