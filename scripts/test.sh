#!/usr/bin/env bash
# Install, then run the whole test suite (pass pytest options through, e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/python -m pytest "$@"
