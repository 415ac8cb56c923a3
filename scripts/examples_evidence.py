"""Training evidence for the reference model in examples/, on CPU.

    .venv/bin/python -m pip install matplotlib   # for the loss-curve PNG only
    .venv/bin/python scripts/examples_evidence.py

1. The debugmodel flavor trains for --steps steps (default 300) on 1 process with
   torchtitan's Trainer, on the corpus that mytitan generates locally.
2. From one seed checkpoint, 1 process and FSDP2, TP2, CP2, PP2, DDP2 and HSDP
   (2 replicas of FSDP2) train --compare-steps steps each; the largest per-step
   loss difference, validation loss difference (after the first and last steps)
   and relative gradient-norm difference against 1 process are reported.
Logs (JSON lines of step, loss, grad_norm, time), a loss-curve PNG and a summary
with the command and the machine go to examples/evidence/.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from mytitan_scaffold.rehearsal import (
    Comparison,
    Layout,
    StepLoss,
    create_seed_checkpoint,
    run,
)
from mytitan_scaffold.rehearsal.runner import (
    LOCAL_BATCH_SIZE,
    SEQ_LEN,
    logged_steps,
)

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "examples"
CONFIG = PROJECT / "models" / "mytransformer" / "train_configs" / "debug_model.toml"
OUT = PROJECT / "evidence"
LAYOUTS = {
    "FSDP2": Layout(nproc=2, fsdp=2),
    "TP2": Layout(nproc=2, tp=2),
    "CP2": Layout(nproc=2, cp=2),
    "PP2": Layout(nproc=2, pp=2),
    "DDP2": Layout(nproc=2, replicate=2),
    "HSDP2x2": Layout(nproc=4, replicate=2, fsdp=2),
}


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _copy_log(workdir: Path, name: str) -> list[StepLoss]:
    records = logged_steps(workdir)
    with open(OUT / f"{name}.jsonl", "w") as f:
        f.writelines(json.dumps(vars(record)) + "\n" for record in records)
    return records


def _plot(records: list[StepLoss], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the PNG", file=sys.stderr)
        return False
    steps = [r.step for r in records]
    losses = [r.loss for r in records]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, losses, linewidth=1)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("mytransformer debugmodel, 1 process on CPU (torchtitan Trainer)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--compare-steps", type=int, default=10)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mytitan-evidence-"))
    summary = {
        "command": "python scripts/examples_evidence.py "
        f"--steps {args.steps} --compare-steps {args.compare_steps}",
        "machine": f"{_cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d"),
        "batch": f"{LOCAL_BATCH_SIZE} x {SEQ_LEN} tokens per step",
    }
    try:
        start = time.perf_counter()
        run(
            CONFIG,
            Layout(),
            steps=args.steps,
            workdir=work / "long",
            pythonpath=[PROJECT],
        )
        long = _copy_log(work / "long", "train_1process")
        summary["train"] = {
            "steps": len(long),
            "first_loss": long[0].loss,
            "last_loss": long[-1].loss,
            "mean_loss_first_10": sum(r.loss for r in long[:10]) / 10,
            "mean_loss_last_10": sum(r.loss for r in long[-10:]) / 10,
            "wall_seconds": round(time.perf_counter() - start, 1),
        }
        summary["png"] = _plot(long, OUT / "loss_curve.png")

        seed = create_seed_checkpoint(
            CONFIG, workdir=work / "seed", pythonpath=[PROJECT]
        )
        common = {
            "steps": args.compare_steps,
            "pythonpath": [PROJECT],
            "seed_checkpoint": seed,
        }
        run(CONFIG, Layout(), workdir=work / "baseline", **common)
        baseline = _copy_log(work / "baseline", "compare_1process")
        summary["compare"] = {}
        for name, layout in LAYOUTS.items():
            # PP2 runs 2-sequence micro-batches: for a dense model that changes
            # nothing but rounding, so one baseline serves every layout.
            run(CONFIG, layout, workdir=work / name, **common)
            records = _copy_log(work / name, f"compare_{name}")
            comparison = Comparison.of_steps(layout, baseline, records)
            summary["compare"][name] = {
                "max_abs_loss_diff": comparison.max_abs_diff,
                "max_abs_validation_loss_diff": comparison.max_validation_abs_diff,
                "validations": len(comparison.validation),
                "max_rel_grad_norm_diff": comparison.max_grad_norm_rel_diff,
            }
            print(
                f"{name} vs 1 process over {len(records)} steps: max |loss diff| "
                f"{comparison.max_abs_diff:.3g}, max |validation loss diff| "
                f"{comparison.max_validation_abs_diff:.3g}, max relative grad-norm "
                f"diff {comparison.max_grad_norm_rel_diff:.3g}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
