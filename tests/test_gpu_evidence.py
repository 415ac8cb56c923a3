"""scripts/gpu_evidence.sh works before a GPU session spends its minutes on it.

The GPU run itself cannot happen here; its whole pipeline can: the wheel step,
the import check, the corpus, torchtitan's Trainer from examples/, the parsing of
torchtitan's metrics lines and the README block. `--cpu` swaps only the device.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gpu_evidence.py"
DEBUG_CONFIG = "models/mytransformer/train_configs/debug_model.toml"


def _load_script():
    spec = importlib.util.spec_from_file_location("gpu_evidence", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gpu_evidence = _load_script()


def test_colored_metrics_lines_parse():
    # torchtitan colors its lines unless told not to, and groups thousands.
    line = (
        "[titan] 2026-11-28 08:07:22,804 - root - INFO - \x1b[31mstep: 20  "
        "\x1b[32mloss:  3.25000  grad_norm:  0.5000  \x1b[38;2;54;234;195mmemory: "
        "41.07GiB(29.25%)  \x1b[34mtps: 12,345  \x1b[36mtflops: 1,234.50  "
        "\x1b[35mmfu: 42.10%\x1b[39m"
    )
    (record,) = gpu_evidence.parse_metrics("noise\n" + line + "\nstep: 21 broken\n")
    assert (record.step, record.tps, record.tflops) == (20, 12345, 1234.5)
    assert (record.memory_gib, record.memory_pct, record.mfu) == (41.07, 29.25, 42.1)


def test_summary_needs_lines_after_the_warmup():
    record = gpu_evidence.StepMetrics(10, 3.0, 1.0, 1.0, 1.0, 100, 1.0, 1.0)
    with pytest.raises(SystemExit, match="no metrics line after step 10"):
        gpu_evidence.summarize([record], warmup=10)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="this machine has a GPU: nothing to refuse"
)
def test_without_a_gpu_nothing_is_written(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "no CUDA device here: run on a GPU machine, or pass --cpu"
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_evidence_pipeline_runs_on_cpu(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHON=sys.executable, WHEELS=str(tmp_path / "no-wheels"))
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu_evidence.sh"), "--cpu"]
        + ["--config", DEBUG_CONFIG, "--steps", "4", "--log-freq", "2"]
        + ["--warmup", "1", "--out", str(out), "--workdir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    records = gpu_evidence.parse_metrics((out / "train.log").read_text())
    assert [r.step for r in records] == [1, 2, 4]  # step 1, then every 2nd
    report = json.loads((out / "summary.json").read_text())
    summary = report["summary"]
    assert summary["measured_steps"] == [2, 4] and summary["lines"] == 2
    assert summary["tps"]["median"] == (records[1].tps + records[2].tps) / 2
    assert summary["peak_memory_gib"] == max(r.memory_gib for r in records) > 0
    assert math.isfinite(summary["loss_last"]) and summary["last_step"] == 4

    command = report["environment"]["command"]
    assert command.startswith("torchrun --nproc_per_node 1 -m torchtitan.train")
    assert str(tmp_path) not in command and "$WORKDIR/assets/tokenizer" in command
    block = (out / "summary.md").read_text()
    assert f"cd examples && {command}" in block
    assert "| tokens/s per device |" in block and "| MFU |" in block
