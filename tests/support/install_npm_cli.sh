#!/usr/bin/env bash
# Installs one pinned coding-agent CLI from npm into .tools/<dir> for the
# end-to-end tests, e.g.
#   install_npm_cli.sh claude-code @anthropic-ai/claude-code 2.1.332 claude
# Idempotent: does nothing when the pinned version is already there and runs.
# Both CLIs this is used for ship their native binary in a platform package
# (an optional dependency), so optional dependencies must not be omitted; the
# install downloads nothing but npm packages.
set -euo pipefail

DIR="$1"
PACKAGE="$2"
VERSION="$3"
BIN_NAME="$4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.tools/$DIR"
BIN="$PREFIX/node_modules/.bin/$BIN_NAME"

installed() {
  [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qF "$VERSION"
}

if installed; then
  echo "$PACKAGE $VERSION already installed in $PREFIX"
  exit 0
fi

mkdir -p "$PREFIX"
# --no-save keeps no package.json churn in the prefix.
npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --include=optional \
  "$PACKAGE@$VERSION"
installed || { echo "$BIN does not report version $VERSION" >&2; exit 1; }
"$BIN" --version
