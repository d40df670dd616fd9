#!/usr/bin/env bash
# Second README command: install what the tests need, check style and types, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
scripts/system-deps.sh
# Azurite (the Azure Blob emulator the storage tests start) comes from npm, pinned in package.json.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
.venv/bin/mypy
.venv/bin/lint-imports  # DESIGN's layering, as the contract in pyproject.toml
exec .venv/bin/pytest -p no:cacheprovider "$@"
