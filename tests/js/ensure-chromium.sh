#!/usr/bin/env bash
# Installs Debian's Chromium for the headless browser tests, only when it is missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
	echo "chromium: /usr/bin/chromium is missing; install it (apt-get install -y chromium) as root" >&2
	exit 1
fi
echo "chromium: installing (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
