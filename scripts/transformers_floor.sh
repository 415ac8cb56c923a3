#!/usr/bin/env bash
# The HF interop tests (--from-hf, parity, the class sweep) with the oldest transformers
# that pyproject.toml allows; CI runs them with the newest. That release and the
# dependencies it pins go to .floor/ (git-ignored), first on the path; pytest options
# pass through. Run scripts/install.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
floor=$(sed -n 's/^ *"transformers>=\([0-9.]*\)",.*/\1/p' pyproject.toml)
if [[ -z "$floor" ]]; then
    echo "pyproject.toml has no \"transformers>=X\" line: restore it, then rerun" >&2
    exit 2
fi
target=".floor/transformers-$floor"
if [[ ! -d "$target" ]]; then
    .venv/bin/pip install -q --target "$target.partial" "transformers==$floor"
    mv "$target.partial" "$target"
fi
export PYTHONPATH="$PWD/$target"
.venv/bin/python -c 'import transformers; print("transformers", transformers.__version__)'
.venv/bin/python -m pytest tests/test_hf_import.py tests/test_hf_counterparts.py "$@"
