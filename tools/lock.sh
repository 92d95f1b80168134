#!/bin/sh
# Refresh constraints.txt: the exact Python package versions that tools/setup.sh installs,
# so a fresh clone gets the versions `make test` last passed with, not whatever was
# released overnight.
#
#   tools/lock.sh                upgrade .venv to the newest releases pyproject.toml
#                                allows, then record them (what `make lock` runs)
#   tools/lock.sh --freeze-only  record what .venv holds now, upgrading nothing
#
# Then run `make test` on the result and commit constraints.txt in a commit of its own.
# VENV=path uses another virtual environment (default .venv).
set -eu
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
PIP="$PY -m pip --disable-pip-version-check"
if [ ! -x "$PY" ]; then
    echo "lock: no $PY; run tools/setup.sh (or make setup) first" >&2
    exit 1
fi
if [ "${1:-}" != "--freeze-only" ]; then
    # the same project and extras that setup.sh installs, read from its install line
    spec=$(sed -n "s/^.*pip install.* -e '\(\.\[[^]]*\]\)'.*$/\1/p" tools/setup.sh | tail -n 1)
    spec=${spec:-.[dev,live,film]}
    echo "lock: upgrading $VENV to the newest releases of $spec"
    $PIP install -q --upgrade --upgrade-strategy eager -e "$spec"
fi
tmp=constraints.txt.tmp
{
    echo "# Python packages as installed when the tests last passed; tools/setup.sh installs"
    echo "# with -c constraints.txt. Refresh on purpose with \`make lock\` (tools/lock.sh),"
    echo "# run \`make test\`, and commit this file alone."
    echo "# $("$PY" --version 2>&1), $(uname -s) $(uname -m)"
    # ictus itself is the editable install: it is no constraint of its own
    $PIP freeze --exclude-editable | grep -viE '^ictus( |=|@)'
} >"$tmp"
mv "$tmp" constraints.txt
echo "lock: wrote constraints.txt ($(grep -c '==' constraints.txt) packages); now run make test"
