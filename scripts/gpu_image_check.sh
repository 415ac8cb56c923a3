#!/usr/bin/env bash
# Check scripts/gpu_evidence.sh against the GPU image's software, on this CPU
# machine, before a GPU session spends device minutes on it.
#
# The image (see the device notes) has Python 3.12, torch 2.11.0+cu130 and
# triton 3.6.0 but not torchtitan, datasets, torchdata or tyro; the suite here
# runs torch 2.13 on Python 3.11. This builds a Python 3.12 venv with the image's
# versions (the CUDA torch wheel imports and runs on a CPU), fills .whl/ with
# scripts/gpu_wheels.sh, and runs gpu_evidence.sh --cpu with the debug flavor,
# torch.compile and selective activation checkpointing, as the 1B TOML sets them.
# Downloads about 3.5 GB into the venv (torch and CUDA's libraries), once.
set -euo pipefail
cd "$(dirname "$0")/.."
# A Python 3.12 that runs (a pyenv shim may exist without its version active).
find_python312() {
  local candidate
  for candidate in "${PYTHON312:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
    if [ -n "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo "gpu_image_check.sh: no Python 3.12 here: set PYTHON312 to one" >&2
  exit 2
}
VENV=${VENV:-${TMPDIR:-/tmp}/mytitan-gpu-image}
WORK=${WORK:-${TMPDIR:-/tmp}/mytitan-gpu-image-check}
# As `pip list` read them on the image (2026-11); pyarrow and pandas unpinned.
IMAGE_PACKAGES=(torch==2.11.0 triton==3.6.0 tokenizers==0.23.2 numpy==2.5.2
  safetensors==0.8.0 huggingface-hub==1.33.0 pyarrow pandas xxhash einops
  tensorboard pyyaml requests tqdm psutil)

if [ ! -x "$VENV/bin/python" ]; then
  "$(find_python312)" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q "${IMAGE_PACKAGES[@]}"
fi
bash scripts/gpu_wheels.sh
rm -rf "$WORK"
mkdir -p "$WORK"
PYTHON="$VENV/bin/python" TMPDIR="$WORK" bash scripts/gpu_evidence.sh --cpu \
  --config models/mytransformer/train_configs/debug_model.toml \
  --steps 8 --log-freq 2 --warmup 2 --out "$WORK/out" --workdir "$WORK/work" \
  -- --compile.enable --activation_checkpoint.mode selective
cat "$WORK/out/summary.md"
