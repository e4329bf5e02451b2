#!/usr/bin/env bash
# The browser tests drive Debian's Chromium. Install it when it is missing (CI machines run as
# root); otherwise say exactly what to do. A missing browser fails the suite, it never skips.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is needed for the browser tests: install Debian's 'chromium' package or set CHROMIUM_PATH." >&2
exit 1
