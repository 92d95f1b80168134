#!/bin/sh
# Set-up for `make demo` / `make test` on a fresh machine: Debian packages (installed when
# running as root, else one apt-get line is printed), then .venv with the project in it.
# Usage: tools/setup.sh [DEBIAN_PACKAGE ...]
set -eu
missing=""
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian packages:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "setup: ictus needs these Debian packages; please run:"
        echo "  sudo apt-get install$missing"
    fi
fi
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# constraints.txt holds the versions `make test` last passed with, so a new release
# upstream cannot break a fresh clone; `make lock` (tools/lock.sh) refreshes it on purpose.
# Every extra (plot, musicxml, video, live, web, and link, which `all` leaves out for its
# GPL library) is installed: the tests use them all.
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,all,link]'
