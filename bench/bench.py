"""Benchmark mytitan against its references, side by side in one run.

1. Training step: a model rendered by `mytitan new` against torchtitan's own
   llama3 at the same sizes and seed, both through torchtitan's Trainer on CPU
   with the rehearsal runner (so both get the same CPU overrides): median step
   time and peak RSS, generated / hand-written.
2. Rendering: `mytitan new` against plain `copier copy` of the same template
   and answers (cold processes), and `create_model(dry_run=True)` in-process.

Repetitions are interleaved (the order of the two sides alternates) and every
figure is a median. Run from the repository root, after scripts/install.sh:

    .venv/bin/python bench/bench.py            # about 7 minutes on 2 cores

Results and the machine they came from: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from mytitan_scaffold.rehearsal import Layout, StepLoss, run
from mytitan_scaffold.template_history import render_source

BENCH_DIR = Path(__file__).resolve().parent
FLAVOR_MODULE = "titan_llama3_flavor"  # bench/titan_llama3_flavor.py
FLAVOR_ENV = "MYTITAN_BENCH_LLAMA3_FLAVOR"
CUSTOM_IMPORT_ENV = "MYTITAN_CUSTOM_IMPORT"  # cpu_shim imports it last
FLAVOR = "bench"  # the rendered models' main flavor
OURS, THEIRS = "mytitan", "torchtitan llama3"

# torchtitan 0.2.2's llama3 `debugmodel` as template answers: llama3 always
# applies Llama 3 RoPE scaling with RoPEScalingArgs' defaults, has no FFN
# multiplier (ours: 1.0, the same hidden size) and MHA.
LLAMA3_ANSWERS: dict[str, Any] = {
    "flavor_name": FLAVOR,
    "vocab_size": 2048,
    "head_dim": 0,
    "qk_norm": False,
    "qkv_bias": False,
    "positional": "rope_llama3",
    "rope_theta": 500000.0,
    "rope_scaling_factor": 8.0,
    "rope_low_freq_factor": 1.0,
    "rope_high_freq_factor": 4.0,
    "rope_original_max_seq_len": 8192,
    "max_seq_len": 131072,
    "norm": "rmsnorm",
    "norm_eps": 1e-5,
    "ffn": "swiglu",
    "ffn_hidden_dim": 0,
    "ffn_dim_multiplier": 1.0,
    "multiple_of": 256,
    "weight_tying": False,
    "extra_flavors": {},
}
# Passed to both sides; a benchmark writes no TensorBoard events.
TRAIN_ARGS = ["--metrics.no-enable_tensorboard"]


@dataclass(frozen=True)
class Size:
    """One model size, trained on both sides."""

    label: str
    dim: int
    n_layers: int
    n_heads: int
    titan_flavor: str  # llama3's own flavor, or one registered at run time

    @property
    def model_name(self) -> str:
        return f"bench_{self.label}"

    def describe(self) -> str:
        heads = f"{self.n_layers} layers, {self.n_heads} heads"
        return f"{self.label} (dim {self.dim}, {heads})"

    def answers(self) -> dict[str, Any]:
        sizes = {"dim": self.dim, "n_layers": self.n_layers, "n_heads": self.n_heads}
        return {**LLAMA3_ANSWERS, **sizes, "n_kv_heads": self.n_heads}

    def titan_flavor_spec(self) -> str:
        args = {
            "dim": self.dim,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "vocab_size": LLAMA3_ANSWERS["vocab_size"],
            "rope_theta": LLAMA3_ANSWERS["rope_theta"],
        }
        return json.dumps({"name": self.titan_flavor, "args": args})

    def titan_env(self) -> dict[str, str]:
        # Replaces the TOML's custom_import (`models`) on the llama3 side.
        return {CUSTOM_IMPORT_ENV: FLAVOR_MODULE, FLAVOR_ENV: self.titan_flavor_spec()}


DEBUGMODEL = Size("debugmodel", 256, 6, 16, "debugmodel")


@dataclass
class TrainRun:
    """One training run: losses, post-warm-up step times, final peak RSS."""

    losses: list[float]
    step_seconds: list[float]
    peak_rss: int


@dataclass
class SideResults:
    runs: list[TrainRun] = field(default_factory=list)

    @property
    def step_medians(self) -> list[float]:
        return [statistics.median(r.step_seconds) for r in self.runs]

    @property
    def step_seconds(self) -> float:
        return statistics.median(self.step_medians)

    @property
    def fastest_step(self) -> float:
        return min(min(r.step_seconds) for r in self.runs)

    @property
    def peak_rss(self) -> float:
        return statistics.median(r.peak_rss for r in self.runs)


@dataclass
class SizeBench:
    """One size: its rendered model, the architecture check, both sides' runs."""

    size: Size
    project: Path  # holds models/<the size's model>
    config: Path
    ffn_hidden: int
    sides: dict[str, SideResults] = field(
        default_factory=lambda: {OURS: SideResults(), THEIRS: SideResults()}
    )


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s [{min(values):.3f}-{max(values):.3f}]"


def alternate(items: list[Any], rep: int) -> list[Any]:
    """Odd repetitions run the sides in reverse, so neither always goes first."""
    return items if rep % 2 == 0 else items[::-1]


# ---------------------------------------------------------------- rendering


def mytitan_new_command(name: str, answers_file: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "mytitan_scaffold", "new", name, "--defaults"),
        *("--data-file", str(answers_file)),
    ]


def copier_copy_command(
    destination: Path, answers_file: Path, source: tuple[str, str | None]
) -> list[str]:
    src, vcs_ref = source
    return [
        *(sys.executable, "-m", "copier", "copy", "--defaults", "--quiet"),
        *(("--vcs-ref", vcs_ref) if vcs_ref else ()),
        *("--data-file", str(answers_file), src, str(destination)),
    ]


def template_source() -> tuple[str, str | None]:
    """Where `mytitan new` renders from (copier src, vcs_ref), so that plain
    copier renders the very same template: the shipped release history at this
    version's tag, or a development checkout's HEAD."""
    src, vcs_ref = render_source()  # also creates the history repository
    return str(Path(src).expanduser()), vcs_ref


def write_answers(path: Path, answers: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(answers, sort_keys=False))
    return path


def time_cold(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def bench_rendering(
    root: Path, repeats: int, source: tuple[str, str | None]
) -> dict[str, list[float]]:
    """Cold `mytitan new` vs cold `copier copy`, interleaved; then the dry run."""
    name, answers = DEBUGMODEL.model_name, DEBUGMODEL.answers()
    ours = write_answers(root / "answers.yml", answers)
    theirs = write_answers(
        root / "copier-answers.yml",
        {**answers, "model_name": name, "models_package": "models"},
    )
    times: dict[str, list[float]] = {"mytitan new": [], "copier copy": []}
    for rep in range(repeats):
        for what in alternate(list(times), rep):
            workdir = Path(tempfile.mkdtemp(prefix="render-", dir=root))
            command = (
                mytitan_new_command(name, ours)
                if what == "mytitan new"
                else copier_copy_command(workdir / "models" / name, theirs, source)
            )
            times[what].append(time_cold(command, workdir))
        log(
            f"render {rep + 1}/{repeats}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
        )
    times["mytitan new --dry-run (in-process)"] = bench_dry_run(root, answers, repeats)
    return times


def bench_dry_run(root: Path, answers: dict[str, Any], repeats: int) -> list[float]:
    # Imported before the clock starts: this times the work of one call.
    from mytitan_scaffold.new_model import create_model
    from mytitan_scaffold.project import resolve_target

    target = resolve_target(root / "dry-run" / "models", None, None)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        create_model(DEBUGMODEL.model_name, answers, target, dry_run=True)
        times.append(time.perf_counter() - started)
    return times


# ---------------------------------------------------------------- same model?


@contextmanager
def project_models(project: Path) -> Iterator[None]:
    """Import `models` from `project`; forget it afterwards (each size has its own)."""
    sys.path.insert(0, str(project))
    try:
        yield
    finally:
        sys.path.remove(str(project))
        for name in [
            m for m in sys.modules if m == "models" or m.startswith("models.")
        ]:
            del sys.modules[name]


def build_model(module_name: str, flavor: str) -> Any:
    """The train spec's model at `flavor` on the CPU, initialised as the Trainer does."""
    import torch

    spec = importlib.import_module(module_name).get_train_spec()
    args = dataclasses.replace(spec.model_args[flavor], max_seq_len=64)
    torch.manual_seed(0)
    with torch.device("meta"):
        model = spec.model_cls(args)
    model.to_empty(device="cpu")
    with torch.no_grad():
        model.init_weights(buffer_device=torch.device("cpu"))
    return model


def op_counts(model: Any) -> dict[str, int]:
    """How often each aten op runs in one forward and backward."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    tokens = torch.randint(0, LLAMA3_ANSWERS["vocab_size"], (2, 64))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model(tokens).sum().backward()
    return {event.key: event.count for event in prof.key_averages()}


def check_same_model(project: Path, size: Size) -> int:
    """Fail unless both sides have the same parameters and run the same ops.

    Returns the feed-forward hidden size, which both derive from the sizes.
    """
    importlib.import_module(FLAVOR_MODULE).register_flavor(size.titan_flavor_spec())
    with project_models(project):
        ours = build_model(f"models.{size.model_name}", FLAVOR)
    theirs = build_model("torchtitan.models.llama3", size.titan_flavor)
    shapes = [
        {n: tuple(p.shape) for n, p in m.named_parameters()} for m in (ours, theirs)
    ]
    if shapes[0] != shapes[1]:
        differ = sorted(set(shapes[0].items()) ^ set(shapes[1].items()))
        raise RuntimeError(f"{size.label}: parameters differ from llama3: {differ[:6]}")
    ops = [op_counts(m) for m in (ours, theirs)]
    if ops[0] != ops[1]:
        differ = {
            k: (ops[0].get(k), ops[1].get(k)) for k in ops[0].keys() | ops[1].keys()
        }
        differ = {k: v for k, v in differ.items() if v[0] != v[1]}
        raise RuntimeError(f"{size.label}: ops (ours, llama3) differ: {differ}")
    return shapes[0]["layers.0.feed_forward.w1.weight"][0]


# ---------------------------------------------------------------- training


def prepare_size(root: Path, size: Size) -> SizeBench:
    """Render the size's model into its own project and check it against llama3."""
    project = root / "projects" / size.label
    shutil.rmtree(project, ignore_errors=True)  # a kept --workdir may hold an old one
    project.mkdir(parents=True)
    answers = write_answers(project / "answers.yml", size.answers())
    subprocess.run(
        mytitan_new_command(size.model_name, answers),
        cwd=project,
        check=True,
        capture_output=True,
    )
    config = (
        project
        / "models"
        / size.model_name
        / "train_configs"
        / f"{size.model_name}_{FLAVOR}.toml"
    )
    return SizeBench(size, project, config, check_same_model(project, size))


def train_once(
    bench: SizeBench, side: str, workdir: Path, steps: int, warmup: int
) -> TrainRun:
    size = bench.size
    records: list[StepLoss] = []
    titan = side == THEIRS
    model_args = ["--model.name", "llama3", "--model.flavor", size.titan_flavor]
    run(
        bench.config,  # one TOML: the llama3 side swaps only the model
        Layout(),
        steps=steps,
        workdir=workdir,
        pythonpath=[bench.project, BENCH_DIR],
        extra_args=[*TRAIN_ARGS, *(model_args if titan else [])],
        env=size.titan_env() if titan else None,
        on_step=records.append,
    )
    # Step k's time is the gap between the log lines of steps k-1 and k.
    gaps = [b.time - a.time for a, b in pairwise(records)]
    return TrainRun([r.loss for r in records], gaps[warmup - 1 :], records[-1].peak_rss)


def bench_training(
    root: Path, sizes: list[Size], repeats: int, steps: int, warmup: int
) -> list[SizeBench]:
    benches = [prepare_size(root, size) for size in sizes]
    for rep in range(repeats):
        for bench in benches:
            for side in alternate([OURS, THEIRS], rep):
                slug = "mytitan" if side == OURS else "llama3"
                workdir = root / "train" / bench.size.label / slug / str(rep)
                result = train_once(bench, side, workdir, steps, warmup)
                bench.sides[side].runs.append(result)
                log(
                    f"train {rep + 1}/{repeats} {bench.size.label} {side}: "
                    f"median step {statistics.median(result.step_seconds):.3f} s, "
                    f"peak RSS {result.peak_rss / 2**20:.0f} MiB"
                )
    return benches


# ---------------------------------------------------------------- report


def machine() -> str:
    import torch

    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("torchtitan", "copier")
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, {versions}"
    )


def max_loss_diff(bench: SizeBench) -> float:
    pairs = zip(bench.sides[OURS].runs, bench.sides[THEIRS].runs, strict=True)
    return max(
        abs(a - b)
        for ours, theirs in pairs
        for a, b in zip(ours.losses, theirs.losses, strict=True)
    )


def report_training(benches: list[SizeBench], steps: int, warmup: int) -> list[str]:
    lines = [
        (
            f"Training step (CPU, 1 process, {steps} steps per run, first {warmup} "
            "left out; step time: median over runs of each run's median [min-max of "
            "those]; peak RSS: median over runs)"
        ),
        "",
        "| size | ffn hidden | side | step time | fastest step | peak RSS | step-1 loss |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for bench in benches:
        for side, res in bench.sides.items():
            cells = [
                bench.size.describe(),
                str(bench.ffn_hidden),
                side,
                spread(res.step_medians),
                f"{res.fastest_step:.3f} s",
                f"{res.peak_rss / 2**20:.0f} MiB",
                f"{res.runs[0].losses[0]:.6f}",
            ]
            lines.append(f"| {' | '.join(cells)} |")
        ours, theirs = bench.sides[OURS], bench.sides[THEIRS]
        ratios.append(
            f"- {bench.size.label}: step time "
            f"{ours.step_seconds / theirs.step_seconds:.3f} (fastest step "
            f"{ours.fastest_step / theirs.fastest_step:.3f}), peak RSS "
            f"{ours.peak_rss / theirs.peak_rss:.3f} (goal <= 1.00 each); "
            f"max |loss diff| over all steps {max_loss_diff(bench):.1e}"
        )
    return [*lines, "", "Ratios, generated / hand-written:", "", *ratios]


def report_rendering(
    times: dict[str, list[float]], source: tuple[str, str | None]
) -> list[str]:
    ratio = statistics.median(times["mytitan new"]) / statistics.median(
        times["copier copy"]
    )
    dry = statistics.median(times["mytitan new --dry-run (in-process)"])
    where = f"{source[0]} at {source[1]}" if source[1] else source[0]
    return [
        f"Rendering (debugmodel answers; template {where}; median [min-max])",
        "",
        "| what | time |",
        "|---|---|",
        *(f"| {name} | {spread(values)} |" for name, values in times.items()),
        "",
        f"- mytitan new / copier copy (cold processes): {ratio:.3f} (goal <= 1.2)",
        f"- mytitan new --dry-run in-process: {dry:.3f} s (goal well under 1 s)",
    ]


def gpu_line(device: str) -> str:
    import torch

    if not torch.cuda.is_available():
        return "GPU: not measured (no GPU)"
    # cpu_shim pins torchtitan to the CPU on purpose; a GPU run needs another launcher.
    reason = "not implemented" if device == "cuda" else "pass --device cuda"
    return f"GPU: not measured ({reason}: the rehearsal runner trains on the CPU)"


# ---------------------------------------------------------------- main


def parse_size(text: str) -> Size:
    dim, n_layers, n_heads = (int(part) for part in text.split(","))
    label = f"{dim}x{n_layers}"
    return Size(label, dim, n_layers, n_heads, f"bench_{label}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--repeats", type=int, default=5, help="training runs per side and size [5]")
    add("--steps", type=int, default=8, help="training steps per run [8]")
    add(
        "--warmup",
        type=int,
        default=2,
        help="first steps left out of the step time [2]",
    )
    add(
        "--large",
        type=parse_size,
        default="512,8,8",
        metavar="DIM,LAYERS,HEADS",
        help="the size besides llama3's debugmodel [512,8,8]",
    )
    add(
        "--render-repeats",
        type=int,
        default=5,
        help="repetitions of each rendering [5]",
    )
    add("--skip-train", action="store_true", help="only the rendering benchmark")
    add("--skip-render", action="store_true", help="only the training benchmark")
    add(
        "--device",
        choices=["cpu", "cuda"],
        default="cpu",
        help="cuda: reserved for a GPU training benchmark; not implemented, says so",
    )
    add("--workdir", type=Path, help="keep runs and logs here [a temp folder, removed]")
    args = parser.parse_args(argv)
    if not 1 <= args.warmup < args.steps - 1:
        parser.error("need 1 <= --warmup <= --steps - 2 (step 1 has no start time)")
    if min(args.repeats, args.render_repeats) < 1:
        parser.error("--repeats and --render-repeats must be at least 1")
    return args


@contextmanager
def work_folder(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="mytitan-bench-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    lines = [f"Machine: {machine()}", ""]
    load = [os.getloadavg()[0]]
    with work_folder(args.workdir) as root:
        if not args.skip_render:
            source = template_source()
            times = bench_rendering(root, args.render_repeats, source)
            lines += [*report_rendering(times, source), ""]
        if args.device == "cuda":
            lines += ["Training: skipped (--device cuda is not implemented yet)", ""]
        elif not args.skip_train:
            sizes = [DEBUGMODEL, args.large]
            benches = bench_training(root, sizes, args.repeats, args.steps, args.warmup)
            lines += [*report_training(benches, args.steps, args.warmup), ""]
    load.append(os.getloadavg()[0])
    lines += [
        gpu_line(args.device),
        f"1-minute load average at start and end: {load[0]:.2f}, {load[1]:.2f}",
        f"Total {time.perf_counter() - started:.0f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
