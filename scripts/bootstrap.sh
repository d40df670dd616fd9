#!/usr/bin/env bash
# Create .venv and install the project into it (with test extras when asked: bootstrap.sh test).
# Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
python="${PYTHON:-python3}"
venv=.venv
stamp="$venv/.installed-${extras:-base}"
digest=$(sha256sum pyproject.toml | cut -c1-16)

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    if [ -n "$extras" ]; then
        "$venv/bin/python" -m pip install --quiet -e ".[$extras]"
    else
        "$venv/bin/python" -m pip install --quiet -e .
    fi
    echo "$digest" > "$stamp"
fi

# The player page's scripts (hls.js, dash.js) come from npm.
if [ ! -f player/node_modules/.package-lock.json ] || [ player/package-lock.json -nt player/node_modules/.package-lock.json ]; then
    (cd player && npm ci --no-audit --no-fund --loglevel=error)
fi
