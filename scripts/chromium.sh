#!/usr/bin/env bash
# Make sure Debian's chromium (headless browser for the report tests) and poppler-utils (pdftoppm,
# pdftotext: PDF pages rendered and read back) are installed, then print chromium's path.
#
#   scripts/chromium.sh          -> /usr/bin/chromium
#
# Installs only Debian packages (needs root or sudo); never downloads a browser from elsewhere.
# The tests launch it through Playwright with executable_path set, so `playwright install` is
# never needed.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ "${#need[@]}" -gt 0 ]; then
  echo "chromium.sh: installing Debian package(s) ${need[*]}..." >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # Several agents may run this at once: one apt at a time.
  exec 9>/tmp/haia-apt.lock
  flock 9
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need[@]}" fonts-dejavu-core >&2
fi
command -v chromium
