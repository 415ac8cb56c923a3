#!/usr/bin/env bash
# Train Mytransformer with torchtitan on this node's GPUs, or on several nodes.
# Run from the folder that holds models/:
#   one node:  models/mytransformer/launch/torchrun.sh [CONFIG] [--section.key value ...]
#   N nodes:   on every node, NNODES=N MASTER_ADDR=<first node> models/mytransformer/launch/torchrun.sh ...
# SLURM clusters: sbatch models/mytransformer/launch/slurm.sbatch (same arguments).
set -euo pipefail
CONFIG=models/mytransformer/train_configs/mytransformer_1b.toml
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then  # a first argument that is no --override
  CONFIG=$1
  shift
fi
NGPU=${NGPU:-$(nvidia-smi --list-gpus | wc -l)}
exec torchrun \
  --nnodes "${NNODES:-1}" \
  --nproc_per_node "$NGPU" \
  --rdzv_backend c10d \
  --rdzv_endpoint "${MASTER_ADDR:-localhost}:${MASTER_PORT:-29500}" \
  --rdzv_id "${RDZV_ID:-mytransformer}" \
  -m torchtitan.train --job.config_file "$CONFIG" "$@"
