#!/bin/sh
# Make sure Debian's PostgreSQL server binaries are installed for the team-mode tests
# (tests/pg.py starts a throwaway server from them). Idempotent; never fails the build:
# without them the PostgreSQL half of the tests skips itself and says why.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_postgresql: initdb missing; installing Debian's postgresql (apt-get) ..."
    export DEBIAN_FRONTEND=noninteractive
    # Other installers may run apt-get at the same time: one at a time.
    if flock /tmp/apt.lock sh -c 'apt-get update -qq >/dev/null 2>&1 &&
            apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1' &&
       ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "ensure_postgresql: installed $(ls -d /usr/lib/postgresql/*/ | head -1)"
        # The package starts a cluster of its own; the tests never use it.
        if command -v pg_lsclusters >/dev/null 2>&1; then
            pg_lsclusters -h 2>/dev/null | while read -r version name _rest; do
                pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
            done
        fi
    else
        echo "ensure_postgresql: could not install postgresql; PostgreSQL tests will be skipped."
    fi
else
    echo "ensure_postgresql: initdb not found (need root and apt-get to install postgresql); PostgreSQL tests will be skipped."
fi
exit 0
