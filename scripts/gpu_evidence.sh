#!/usr/bin/env bash
# On a GPU machine that cannot install from an index, from the repository root:
# install the wheels scripts/gpu_wheels.sh put in $WHEELS (.whl/), check that
# torchtitan imports, then measure with scripts/gpu_evidence.py (same arguments).
# .whl/ is git-ignored: copy (or carry) it to the GPU machine with the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-.whl}
if compgen -G "$WHEELS/*.whl" >/dev/null; then
  site=${TMPDIR:-/tmp}/mytitan-gpu-site
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target "$site" "$WHEELS"/*.whl
  export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
fi
# Fails in seconds, not after the model compiled, when a package is missing.
"$PYTHON" -c "import datasets, torchdata, tyro, torchtitan.train"
exec "$PYTHON" scripts/gpu_evidence.py "$@"
