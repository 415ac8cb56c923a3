#!/usr/bin/env bash
# Re-render the reference model in examples/ from its committed answers (after a
# template release); the drift test in tests/test_examples.py asks for this.
set -euo pipefail
cd "$(dirname "$0")/.."
MYTITAN_CACHE_DIR= .venv/bin/mytitan new mytransformer --defaults --force \
  --models-dir examples/models \
  --data-file examples/models/mytransformer/.copier-answers.yml
