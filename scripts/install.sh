#!/usr/bin/env bash
# Create .venv (if missing) and install mytitan with its test tools into it.
# torch is installed first, pinned, so that pip does not pick a larger build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -qq --upgrade pip
.venv/bin/python -m pip install -qq "$TORCH_SPEC"
.venv/bin/python -m pip install -qq -e '.[test]'
