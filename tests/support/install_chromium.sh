#!/usr/bin/env bash
# Installs Debian's chromium for the admin page browser tests. Idempotent: does nothing when present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
apt_install chromium fonts-dejavu-core
