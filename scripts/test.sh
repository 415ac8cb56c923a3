#!/usr/bin/env bash
# Install, then run the test suite (pytest options pass through, e.g. -m "not slow and not
# exhaustive"; a -m of your own replaces the default that leaves the exhaustive tests out).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/python -m pytest "$@"
