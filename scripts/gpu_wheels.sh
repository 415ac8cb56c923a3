#!/usr/bin/env bash
# Fill .whl/ with the wheels a bare GPU image lacks for torchtitan 0.2.2, for
# scripts/gpu_evidence.sh to install there (an image with torch, triton,
# tokenizers, numpy, pyarrow, pandas, xxhash, einops, tensorboard and
# huggingface-hub, but no index to install from).
#
# Versions are the ones this checkout's .venv holds, so the GPU run uses the
# packages the CPU test suite passed with. Python 3.12 (the image's) by default.
set -euo pipefail
cd "$(dirname "$0")/.."
PY_VERSION=${PY_VERSION:-3.12}
PACKAGES=(torchtitan torchdata tyro docstring-parser typeguard datasets dill multiprocess fsspec)

pins=$(.venv/bin/python - "${PACKAGES[@]}" <<'EOF'
import importlib.metadata
import sys

print(" ".join(f"{name}=={importlib.metadata.version(name)}" for name in sys.argv[1:]))
EOF
)
rm -rf .whl
mkdir -p .whl
# shellcheck disable=SC2086  # one word per pin
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: \
  --python-version "$PY_VERSION" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any \
  -d .whl $pins
echo "$(ls .whl | wc -l) wheels in .whl/ ($(du -sh .whl | cut -f1)): $pins"
