#!/bin/sh
# Make sure Debian's chromium is at /usr/bin/chromium for the real-browser UI tests (tests/ui).
# Idempotent; never fails the build: without chromium the UI tests skip themselves.
CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: $CHROMIUM missing; installing Debian's chromium (apt-get) ..."
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq >/dev/null 2>&1 &&
       apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 &&
       [ -x "$CHROMIUM" ]; then
        echo "ensure_chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
    else
        echo "ensure_chromium: could not install chromium; browser UI tests (tests/ui) will be skipped."
    fi
else
    echo "ensure_chromium: $CHROMIUM not found (need root and apt-get to install it); browser UI tests (tests/ui) will be skipped."
fi
exit 0
