"""CPU rehearsal: run torchtitan's Trainer for a few steps on CPU over gloo.

Used by `mytitan rehearse` and by the tests that check a model's parallel plan
(one process vs FSDP / TP / CP from one seed checkpoint).
"""

from .assets import ensure_assets
from .runner import (
    Comparison,
    Layout,
    RehearsalError,
    RehearsalWarning,
    StepLoss,
    baseline_args,
    compare,
    create_seed_checkpoint,
    logged_steps,
    run,
    run_steps,
)

__all__ = [
    "Comparison",
    "Layout",
    "RehearsalError",
    "RehearsalWarning",
    "StepLoss",
    "baseline_args",
    "compare",
    "create_seed_checkpoint",
    "ensure_assets",
    "logged_steps",
    "run",
    "run_steps",
]
