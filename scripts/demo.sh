#!/usr/bin/env bash
# The main job: install, render a model into demo/models/demo, and train it on
# CPU with torchtitan's Trainer: one process and TP2 from one seed checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
mkdir -p demo
cd demo
../.venv/bin/mytitan new demo --defaults --force
../.venv/bin/mytitan rehearse models/demo --nproc 2 --tp 2 --compare --steps 5
