#!/usr/bin/env bash
# Installs the pinned S3-compatible test server (npm package @20minutes/s3rver,
# which checks SigV4 signatures) into .tools/s3rver for the backup tests
# (tests/backup/). Idempotent: does nothing when the pinned version is there.
# Its package asks for Node 24 but runs on the Node 20 these machines have.
set -euo pipefail

S3RVER_VERSION="${S3RVER_VERSION:-5.0.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.tools/s3rver"
PKG="$PREFIX/node_modules/@20minutes/s3rver/package.json"

if [ -f "$PKG" ] && grep -q "\"version\": \"$S3RVER_VERSION\"" "$PKG"; then
  echo "s3rver $S3RVER_VERSION already installed in $PREFIX"
  exit 0
fi

command -v node >/dev/null || { echo "node is needed to run s3rver" >&2; exit 1; }
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --engine-strict=false \
  "@20minutes/s3rver@$S3RVER_VERSION"
