#!/usr/bin/env bash
# First README command: install what the demo needs and run it on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/ova demo "$@"
