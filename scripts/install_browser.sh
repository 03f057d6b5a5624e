#!/usr/bin/env bash
# Installs what the viewer test drives: Debian's Chromium and ChromeDriver (packages chromium, chromium-driver).
# Part of `make install` on a development or CI machine; the pipeline image does not need it.
set -euo pipefail
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver; }
  else
    echo "note: install Debian's chromium and chromium-driver (as root) for the viewer test" >&2
  fi
fi
