#!/usr/bin/env bash
# Installs the real forward proxies the outbound-proxy tests start
# (tests/support/forward_proxies.ts): Debian's tinyproxy (HTTP proxy:
# plain forwarding and CONNECT) and microsocks (SOCKS5). Idempotent: does
# nothing when both are present.
set -euo pipefail
if command -v tinyproxy >/dev/null 2>&1 && command -v microsocks >/dev/null 2>&1; then
  exit 0
fi
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
apt_install tinyproxy microsocks
# The package enables a system-wide tinyproxy on port 8888; the tests start their own.
$SUDO systemctl disable --now tinyproxy >/dev/null 2>&1 || true
