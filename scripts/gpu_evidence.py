"""Throughput evidence for the reference model in examples/, on one GPU.

    scripts/gpu_wheels.sh                  # here: the wheels a bare GPU image lacks
    scripts/gpu_evidence.sh                # there: installs them, then runs this

Trains examples/models/mytransformer with torchtitan's Trainer from the TOML as
shipped (by default the 1B flavor: bf16, torch.compile, selective activation
checkpointing; FSDP from two GPUs on) on the corpus mytitan generates locally, and
reports what torchtitan measures: tokens/s per device, TFLOPS, MFU and peak
reserved memory. Only what a measurement needs changes: the tokenizer and data
(nothing can be downloaded), the step count, checkpointing and profiling off,
a log line every --log-freq steps.

Into --out: `train.log` (the run's whole output), `summary.json` and
`summary.md` (the table for examples/README.md, with the command and the card);
the corpus, tokenizer and torchtitan's dump folder go to --workdir.
`--cpu` runs the same command on CPU through mytitan's rehearsal shim (fp32, no
compile) to check this pipeline without a GPU; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # mytitan_scaffold, also where it is not installed

from mytitan_scaffold.rehearsal.assets import (
    DATASET_SUBDIR,
    TOKENIZER_SUBDIR,
    ensure_assets,
)
from mytitan_scaffold.rehearsal.runner import (
    CUSTOM_IMPORT_ENV,
    LOCAL_RUN_ENV,
    SEQ_LEN,
    SHIM_MODULE,
)

PROJECT = ROOT / "examples"
CONFIG = "models/mytransformer/train_configs/mytransformer_1b.toml"
# torchtitan's local-JSONL dataset: `load_dataset(path, split="train")` reading
# {"text": ...} lines, from --training.dataset_path instead of its repo's tests/.
DATASET = "c4_test"
# One torchtitan metrics line, e.g. "step: 10  loss: 7.1  grad_norm: 1.2
# memory: 30.12GiB(21.5%)  tps: 40,123  tflops: 310.2  mfu: 31.4%".
METRICS_LINE = re.compile(
    r"step:\s*(?P<step>\d+)\s+loss:\s*(?P<loss>\S+)\s+grad_norm:\s*(?P<grad_norm>\S+)"
    r"\s+memory:\s*(?P<memory_gib>[\d.]+)GiB\((?P<memory_pct>[\d.]+)%\)"
    r"\s+tps:\s*(?P<tps>[\d,]+)\s+tflops:\s*(?P<tflops>[\d,.]+)"
    r"\s+mfu:\s*(?P<mfu>[\d.]+)%"
)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
VERSIONED = ("torch", "torchtitan", "triton", "datasets", "tokenizers")


@dataclass(frozen=True)
class StepMetrics:
    """One metrics line: throughput figures are averages since the previous line."""

    step: int
    loss: float
    grad_norm: float
    memory_gib: float
    memory_pct: float
    tps: int
    tflops: float
    mfu: float


def parse_metrics(log_text: str) -> list[StepMetrics]:
    """The training metrics lines of a torchtitan log, in order."""
    records = []
    for line in ANSI_ESCAPE.sub("", log_text).splitlines():
        match = METRICS_LINE.search(line)
        if match:
            fields = {k: v.replace(",", "") for k, v in match.groupdict().items()}
            records.append(
                StepMetrics(
                    step=int(fields["step"]),
                    loss=float(fields["loss"]),
                    grad_norm=float(fields["grad_norm"]),
                    memory_gib=float(fields["memory_gib"]),
                    memory_pct=float(fields["memory_pct"]),
                    tps=int(fields["tps"]),
                    tflops=float(fields["tflops"]),
                    mfu=float(fields["mfu"]),
                )
            )
    return records


def summarize(records: list[StepMetrics], warmup: int) -> dict:
    """Medians of the lines after step `warmup` (compilation and allocator
    warm-up fall before it), the peak memory of the whole run."""
    measured = [r for r in records if r.step > warmup]
    if not measured:
        raise SystemExit(
            f"no metrics line after step {warmup} in {len(records)} lines: "
            "run more --steps or lower --warmup"
        )

    def median_and_range(name: str) -> dict:
        values = [getattr(r, name) for r in measured]
        return {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }

    peak = max(records, key=lambda r: r.memory_gib)
    return {
        "measured_steps": [measured[0].step, measured[-1].step],
        "lines": len(measured),
        "tps": median_and_range("tps"),
        "tflops": median_and_range("tflops"),
        "mfu": median_and_range("mfu"),
        "peak_memory_gib": peak.memory_gib,
        "peak_memory_pct": peak.memory_pct,
        "loss_first": records[0].loss,
        "loss_last": records[-1].loss,
        "last_step": records[-1].step,
    }


def train_args(
    config: str, *, steps: int, log_freq: int, assets: Path, dump: Path
) -> list[str]:
    """torchtitan arguments: the TOML as shipped, with what a measurement needs."""
    return [
        "--job.config_file",
        config,
        "--job.dump_folder",
        str(dump),
        "--model.hf_assets_path",
        str(assets / TOKENIZER_SUBDIR),
        "--training.dataset",
        DATASET,
        "--training.dataset_path",
        str(assets / DATASET_SUBDIR),
        "--training.steps",
        str(steps),
        # A short run has nothing to save; a 1B checkpoint would only cost time.
        "--checkpoint.no-enable",
        # The TOML's trace lands at step 100; off so it cannot cost time either.
        "--profiling.no-enable_profiling",
        "--metrics.log_freq",
        str(log_freq),
        "--metrics.disable_color_printing",
    ]


def cpu_args() -> list[str]:
    """What turns the run into a CPU check of this pipeline (see --cpu)."""
    return [
        "--experimental.custom_import",
        SHIM_MODULE,
        "--compile.no-enable",
        "--training.mixed_precision_param",
        "float32",
        "--training.seq_len",
        str(SEQ_LEN),
        "--training.local_batch_size",
        "2",
    ]


def _device_name(cpu: bool) -> str:
    if cpu:
        return platform.processor() or platform.machine()
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run on a GPU machine, or pass --cpu")
    return torch.cuda.get_device_name(0)


def _nvidia_smi() -> str:
    try:
        result = subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=name,memory.total,driver_version",
                "--format=csv,noheader",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "no nvidia-smi"
    return result.stdout.strip()


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def markdown(summary: dict, environment: dict) -> str:
    """The block for examples/README.md."""
    tps, tflops, mfu = summary["tps"], summary["tflops"], summary["mfu"]
    first, last = summary["measured_steps"]
    rows = [
        ("tokens/s per device", "{median:,.0f} [{min:,.0f}-{max:,.0f}]".format(**tps)),
        ("TFLOPS per device", "{median:.1f} [{min:.1f}-{max:.1f}]".format(**tflops)),
        ("MFU", "{median:.1f}% [{min:.1f}-{max:.1f}%]".format(**mfu)),
        (
            "peak memory (reserved)",
            f"{summary['peak_memory_gib']:.2f} GiB ({summary['peak_memory_pct']:.1f}% of the card)",
        ),
        (
            "loss",
            f"{summary['loss_first']:.3f} at step 1 -> {summary['loss_last']:.3f} at step {summary['last_step']}",
        ),
    ]
    versions = ", ".join(f"{k} {v}" for k, v in environment["versions"].items())
    card = f"{environment['device']} ({environment['nvidia_smi']})"
    window = f"{summary['lines']} metrics lines of steps {first}-{last}"
    return "\n".join(
        [
            f"Card: {card}; {versions}; {environment['date']}.",
            "",
            "```bash",
            f"cd examples && {environment['command']}",
            "```",
            "",
            f"Medians over the {window} (each averages the steps since the line before) [min-max]:",
            "",
            "| what | measured |",
            "|---|---|",
            *(f"| {what} | {value} |" for what, value in rows),
            "",
        ]
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=CONFIG, help="TOML, relative to examples/")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--log-freq", type=int, default=5)
    parser.add_argument(
        "--warmup", type=int, default=10, help="steps left out of the medians"
    )
    parser.add_argument("--nproc", type=int, default=1, help="processes (GPUs)")
    parser.add_argument(
        "--out", type=Path, default=Path(os.environ.get("OUT", "gpu_evidence"))
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mytitan-gpu-evidence",
        help="corpus, tokenizer and torchtitan's dump folder",
    )
    parser.add_argument("--cpu", action="store_true", help="check this pipeline on CPU")
    parser.add_argument("extra", nargs="*", help="more torchtitan arguments, after --")
    args = parser.parse_args(argv)
    if not (PROJECT / args.config).is_file():
        parser.error(f"no {args.config} under {PROJECT}: name a TOML of examples/")
    if not 0 <= args.warmup < args.steps:
        parser.error("--warmup must be below --steps: the medians need later steps")
    return args


def _train(command: list[str], env: dict[str, str], log_path: Path) -> int:
    """Run `command` in examples/, its output both shown and kept in `log_path`."""
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        return process.wait()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    device = _device_name(args.cpu)  # first: no GPU, nothing written
    out, workdir = args.out.resolve(), args.workdir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    assets = ensure_assets(workdir / "assets")
    torchtitan_args = [
        *train_args(
            args.config,
            steps=args.steps,
            log_freq=args.log_freq,
            assets=assets,
            dump=workdir / "dump",
        ),
        *(cpu_args() if args.cpu else []),
        *args.extra,
    ]
    shown = ["torchrun", "--nproc_per_node", str(args.nproc), "-m", "torchtitan.train"]
    environment = {
        "device": device,
        "nvidia_smi": "CPU run" if args.cpu else _nvidia_smi(),
        "versions": _versions(),
        "date": datetime.date.today().isoformat(),
        "command": shlex.join(shown + torchtitan_args).replace(
            str(workdir), "$WORKDIR"
        ),
    }
    print(json.dumps(environment, indent=2), flush=True)

    env = {**os.environ, **LOCAL_RUN_ENV}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT), str(ROOT), env.get("PYTHONPATH")])
    )
    if args.cpu:
        env[CUSTOM_IMPORT_ENV] = "models"  # the shim chains to the TOML's import
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    launcher += ["--nproc_per_node", str(args.nproc), "-m", "torchtitan.train"]
    log_path = out / "train.log"
    returncode = _train(launcher + torchtitan_args, env, log_path)
    if returncode != 0:
        print(f"training failed (exit {returncode}); log: {log_path}", file=sys.stderr)
        return returncode

    records = parse_metrics(log_path.read_text(encoding="utf-8"))
    summary = summarize(records, args.warmup)
    (out / "summary.json").write_text(
        json.dumps({"environment": environment, "summary": summary}, indent=2) + "\n"
    )
    block = markdown(summary, environment)
    (out / "summary.md").write_text(block)
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
