"""custom_import for the benchmark's torchtitan llama3 runs: add one llama3 flavor.

torchtitan's llama3 has no flavor at the benchmark's larger size, so bench.py
names this module in `$MYTITAN_CUSTOM_IMPORT` (cpu_shim imports it in each
training process) and passes the flavor as JSON in `$MYTITAN_BENCH_LLAMA3_FLAVOR`:
{"name": ..., "args": {TransformerModelArgs keyword: value}}.
"""

from __future__ import annotations

import json
import os

from torchtitan.models.llama3 import TransformerModelArgs, llama3_args

FLAVOR_ENV = "MYTITAN_BENCH_LLAMA3_FLAVOR"


def register_flavor(spec: str | None) -> None:
    if not spec:
        return
    flavor = json.loads(spec)
    # get_train_spec() hands torchtitan this very dict, so the flavor is visible.
    llama3_args.setdefault(flavor["name"], TransformerModelArgs(**flavor["args"]))


register_flavor(os.environ.get(FLAVOR_ENV))
