#!/usr/bin/env bash
# Installs what the end-to-end tests drive besides Kleis itself: the pinned
# OpenCode, Claude Code and Codex CLIs (npm, into .tools/), the pinned S3 test
# server (npm, into .tools/), Debian's Chromium and the forward proxies tinyproxy and
# microsocks (apt, when root or sudo is available). Idempotent and quick when all are present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/install_opencode.sh" >/dev/null
# The other two agent CLIs the end-to-end tests drive (versions also pinned
# in tests/support/claude_code.ts and tests/support/codex_cli.ts).
bash "$here/install_npm_cli.sh" claude-code @anthropic-ai/claude-code 2.1.332 claude >/dev/null
bash "$here/install_npm_cli.sh" codex @openai/codex 0.171.0 codex >/dev/null
bash "$here/install_s3rver.sh" >/dev/null
if ! bash "$here/install_forward_proxies.sh" >/dev/null 2>&1; then
  echo "warning: could not install tinyproxy and microsocks; the outbound proxy tests will fail." >&2
fi
if ! bash "$here/install_chromium.sh" >/dev/null 2>&1; then
  echo "warning: could not install Chromium; the admin page browser test will fail." >&2
fi
