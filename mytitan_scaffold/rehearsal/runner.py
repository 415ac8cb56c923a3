"""Run torchtitan's own Trainer on CPU for a few steps, and compare layouts.

Each run is `python -m torch.distributed.run -m torchtitan.train` with the
user's TOML plus overrides: a tiny local tokenizer and dataset, a short
sequence, the layout's parallel degrees, and `cpu_shim` as the custom_import
(which chains to the TOML's own custom_import).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: torchtitan depends on tomli there.
    import tomli as tomllib

from .assets import DATASET_SUBDIR, TOKENIZER_SUBDIR, ensure_assets

# Names shared with cpu_shim, which runs inside the training processes.
SHIM_MODULE = "mytitan_scaffold.rehearsal.cpu_shim"
LOSS_LOG_ENV = "MYTITAN_LOSS_LOG"
FINISHED_DIR_ENV = "MYTITAN_FINISHED_DIR"
CUSTOM_IMPORT_ENV = "MYTITAN_CUSTOM_IMPORT"
DATASET_NAME = "mytitan_rehearsal"

SEQ_LEN = 128
LOCAL_BATCH_SIZE = 8
# Pipelines split each batch into LOCAL_BATCH_SIZE // PP_MICROBATCH_SIZE
# micro-batches (at least one per stage, so the schedules have no idle stage).
PP_MICROBATCH_SIZE = 2
SEED = 42
# Fixed rather than a fraction of `steps`, so a run cut short (then resumed)
# warms up like the uninterrupted run.
WARMUP_STEPS = 2
# Each run's steps (losses, gradient norms), one JSON line per step, in its workdir.
LOSS_LOG_NAME = "losses.jsonl"
# cpu_shim touches rank-<N> here when rank N has trained and closed its Trainer.
FINISHED_DIR_NAME = "finished"
LOG_TAIL_LINES = 40
# Set for every training process: output as it happens, and the data is local,
# so never let datasets or the hub reach the network.
LOCAL_RUN_ENV = {
    "PYTHONUNBUFFERED": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_OFFLINE": "1",
}
# Folder that holds the mytitan_scaffold package, so workers can import the shim.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StepLoss:
    """One line of the loss log that cpu_shim writes on rank 0."""

    step: int
    loss: float
    grad_norm: float
    # time.perf_counter() when the step was logged, and the peak RSS then (bytes);
    # 0 in logs written before these fields existed.
    time: float = 0.0
    peak_rss: int = 0
    # The validation loss torchtitan computed right after this step, if it did.
    validation_loss: float | None = None


StepCallback = Callable[[StepLoss], None]


class RehearsalError(RuntimeError):
    """A rehearsal could not run, or its training process failed."""


class RehearsalWarning(UserWarning):
    """A rehearsal's results are complete, but something after them went wrong."""


@dataclass(frozen=True)
class Layout:
    """How one rehearsal spreads the model over processes.

    `replicate` is torchtitan's data-parallel replicate degree: DDP on its own,
    HSDP (replicas of an FSDP group) with `fsdp` > 1. `fsdp=-1` means "whatever
    is left" once replicate, pp, tp and cp are placed, as in torchtitan. `ep`
    splits MoE experts over ranks it borrows from fsdp * cp * tp (torchtitan's
    rule); `etp` (1 or tp) splits each expert over TP ranks as well. `pp` cuts
    the layers into that many stages, one per rank group.
    """

    nproc: int = 1
    replicate: int = 1
    fsdp: int = 1
    tp: int = 1
    cp: int = 1
    pp: int = 1
    ep: int = 1
    etp: int = 1
    compile: bool = False

    def __post_init__(self) -> None:
        degrees = (self.nproc, self.replicate, self.tp, self.cp, self.pp)
        if min(degrees) < 1 or self.fsdp == 0 or self.fsdp < -1:
            raise ValueError(f"degrees must be positive (fsdp may be -1): {self}")
        if self.nproc % self._ranks_besides_fsdp != 0 or (
            self.fsdp != -1 and self.fsdp * self._ranks_besides_fsdp != self.nproc
        ):
            raise ValueError(
                f"replicate * fsdp * tp * cp * pp must equal nproc: {self}"
            )
        borrowable = self.nproc // (self.pp * self.replicate)
        if self.ep < 1 or borrowable % (self.ep * self.etp) != 0:
            raise ValueError(f"ep * etp must divide fsdp * tp * cp: {self}")
        if self.etp not in (1, self.tp):
            raise ValueError(f"etp must be 1 or tp: {self}")
        ddp = self.replicate > 1 and self.fsdp_degree == 1 and self.cp == 1
        if ddp and self.nproc > self.replicate:
            # torchtitan applies DDP only when nothing else splits the model
            # (with CP, it shards over the CP ranks: HSDP).
            raise ValueError(f"DDP combines with no TP or PP; use HSDP: {self}")

    @property
    def _ranks_besides_fsdp(self) -> int:
        return self.replicate * self.tp * self.cp * self.pp

    @property
    def fsdp_degree(self) -> int:
        if self.fsdp == -1:
            return self.nproc // self._ranks_besides_fsdp
        return self.fsdp

    def describe(self) -> str:
        if self.replicate == 1:
            data = [("FSDP", self.fsdp_degree)]
        elif self.fsdp_degree == 1:
            data = [("DDP", self.replicate)]
        else:
            data = [("HSDP", f"{self.replicate}x{self.fsdp_degree}")]
        degrees = (
            *data,
            ("TP", self.tp),
            ("CP", self.cp),
            ("PP", self.pp),
            ("EP", self.ep),
            ("ETP", self.etp),
        )
        text = "+".join(f"{name}{n}" for name, n in degrees if n != 1) or "1 process"
        return f"{text} compiled" if self.compile else text


@dataclass(frozen=True)
class Comparison:
    """Per-step losses and gradient norms of one process and of a layout, from
    the same seed checkpoint."""

    layout: Layout
    baseline: list[float]
    losses: list[float]
    baseline_grad_norms: list[float]
    grad_norms: list[float]
    # Validation losses of the steps both runs validated after.
    baseline_validation: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)

    @classmethod
    def of_steps(
        cls, layout: Layout, baseline: Sequence[StepLoss], steps: Sequence[StepLoss]
    ) -> Comparison:
        """The comparison of two runs' logged steps."""
        validated = [
            (ours.validation_loss, theirs.validation_loss)
            for ours, theirs in zip(baseline, steps, strict=False)
            if ours.validation_loss is not None and theirs.validation_loss is not None
        ]
        return cls(
            layout,
            [step.loss for step in baseline],
            [step.loss for step in steps],
            [step.grad_norm for step in baseline],
            [step.grad_norm for step in steps],
            [ours for ours, _ in validated],
            [theirs for _, theirs in validated],
        )

    @property
    def max_abs_diff(self) -> float:
        return max(abs(a - b) for a, b in zip(self.baseline, self.losses, strict=True))

    @property
    def max_validation_abs_diff(self) -> float:
        """The evaluation path (eval mode, the validator's own batches) agrees too."""
        pairs = zip(self.baseline_validation, self.validation, strict=True)
        return max((abs(a - b) for a, b in pairs), default=0.0)

    @property
    def max_grad_norm_rel_diff(self) -> float:
        """Losses can agree while gradients are scaled wrongly (Adam and clipping
        hide a constant factor): the norms, before clipping, cannot."""
        pairs = zip(self.baseline_grad_norms, self.grad_norms, strict=True)
        return max(abs(a - b) / max(abs(a), 1e-12) for a, b in pairs)


def run(config_file: str | Path, layout: Layout, **kwargs: Any) -> list[float]:
    """Train as `run_steps` does and return the loss of each step that ran."""
    return [step.loss for step in run_steps(config_file, layout, **kwargs)]


def run_steps(
    config_file: str | Path,
    layout: Layout,
    *,
    steps: int,
    workdir: str | Path,
    pythonpath: Sequence[str | Path] = (),
    seed_checkpoint: str | Path | None = None,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    on_step: StepCallback | None = None,
) -> list[StepLoss]:
    """Train for `steps` steps and return each step that ran, as logged.

    Checkpointing is off unless `seed_checkpoint` is given (loaded as the
    initial model-only state) or `extra_args` turn it on; `extra_args` come
    last, so they override everything else. torchtitan's dump folder is
    `workdir/dump`, so a later run in the same workdir with checkpointing on
    resumes from the checkpoints saved there. Output goes to
    `workdir/rehearsal.log`; `on_step` sees each step's loss as it arrives.
    """
    _check_supported(layout)
    args = [
        "--training.steps",
        str(steps),
        "--lr_scheduler.warmup_steps",
        str(min(WARMUP_STEPS, steps)),
        *_checkpoint_args(seed_checkpoint),
        *_validation_args(steps),
        *extra_args,
    ]
    return _launch(config_file, layout, args, workdir, pythonpath, env, on_step)


def _validation_args(steps: int) -> list[str]:
    """Run torchtitan's validator after the first and the last step, as a GPU
    run with `[validation]` on would: it is the one path that runs the model in
    eval mode. Its data is set with the training data, in `_common_args`."""
    return ["--validation.enable", "--validation.freq", str(steps)]


def create_seed_checkpoint(
    config_file: str | Path,
    *,
    workdir: str | Path,
    pythonpath: Sequence[str | Path] = (),
    env: Mapping[str, str] | None = None,
) -> Path:
    """Save the initial model from one process and return its folder.

    Pass the folder as `seed_checkpoint` so every layout starts from the same
    weights (torchtitan's initialisation differs between layouts otherwise).
    """
    args = [
        "--checkpoint.enable",
        "--checkpoint.create_seed_checkpoint",
        "--checkpoint.folder",
        "checkpoint",
        "--checkpoint.last_save_model_only",
        "--checkpoint.no-last_save_in_hf",
        "--checkpoint.export_dtype",
        "float32",
    ]
    _launch(config_file, Layout(), args, workdir, pythonpath, env, None)
    seed = _dump_folder(Path(workdir).resolve()) / "checkpoint" / "step-0"
    if not seed.is_dir():
        raise RehearsalError(f"the seed checkpoint run did not write {seed}")
    return seed


def compare(
    config_file: str | Path,
    layout: Layout,
    *,
    steps: int,
    workdir: str | Path,
    pythonpath: Sequence[str | Path] = (),
    on_step: Callable[[Layout, StepLoss], None] | None = None,
) -> Comparison:
    """Run one process and `layout` from one seed checkpoint; return both losses.

    The baseline uses the layout's compile setting, so only parallelism differs,
    and accumulates gradients over the micro-batches a pipeline would run.
    """
    workdir = Path(workdir)
    seed = create_seed_checkpoint(
        config_file, workdir=workdir / "seed", pythonpath=pythonpath
    )
    logged: dict[str, list[StepLoss]] = {}
    for name, each, extra_args in (
        ("baseline", Layout(compile=layout.compile), baseline_args(layout)),
        ("layout", layout, []),
    ):
        logged[name] = run_steps(
            config_file,
            each,
            steps=steps,
            workdir=workdir / name,
            pythonpath=pythonpath,
            seed_checkpoint=seed,
            extra_args=extra_args,
            on_step=partial(on_step, each) if on_step else None,
        )
    if len(logged["layout"]) != steps or len(logged["baseline"]) != steps:
        raise RehearsalError(f"expected {steps} steps per run, got {logged}")
    return Comparison.of_steps(layout, logged["baseline"], logged["layout"])


def baseline_args(layout: Layout) -> list[str]:
    """Arguments that make one process take `layout`'s micro-batches.

    A pipeline runs each batch as several micro-batches; one process then
    accumulates gradients over the same ones. Only what a forward pass computes
    over its whole batch (an MoE auxiliary loss) can tell the two apart.
    """
    if layout.pp == 1:
        return []
    return [
        "--training.local_batch_size",
        str(PP_MICROBATCH_SIZE),
        "--training.global_batch_size",
        str(LOCAL_BATCH_SIZE),
    ]


def _check_supported(layout: Layout) -> None:
    if SEQ_LEN % (2 * layout.tp * layout.cp) != 0:
        raise RehearsalError(
            f"{layout.describe()}: sequence length {SEQ_LEN} must divide by 2 * tp * cp"
        )
    micro_batches = LOCAL_BATCH_SIZE // PP_MICROBATCH_SIZE
    if layout.pp > micro_batches:
        raise RehearsalError(
            f"{layout.describe()}: a batch of {LOCAL_BATCH_SIZE} sequences makes "
            f"{micro_batches} micro-batches, fewer than the {layout.pp} stages"
        )
    if layout.compile and layout.tp > 1:
        raise RehearsalError(
            f"{layout.describe()}: tensor parallel with torch.compile fails on CPU "
            "with torch 2.13, a torch bug: AOTAutograd's save_from_forward raises "
            "'expected all tensors_saved_with_vc_check to be Tensors' because a "
            "DTensor DeviceMesh is saved for backward; rehearse TP without compile"
        )


def _layout_args(layout: Layout) -> list[str]:
    return [
        "--parallelism.data_parallel_replicate_degree",
        str(layout.replicate),
        "--parallelism.data_parallel_shard_degree",
        str(layout.fsdp),
        "--parallelism.tensor_parallel_degree",
        str(layout.tp),
        "--parallelism.context_parallel_degree",
        str(layout.cp),
        "--parallelism.pipeline_parallel_degree",
        str(layout.pp),
        "--parallelism.pipeline_parallel_microbatch_size",
        str(PP_MICROBATCH_SIZE),
        "--parallelism.expert_parallel_degree",
        str(layout.ep),
        "--parallelism.expert_tensor_parallel_degree",
        str(layout.etp),
        "--compile.enable" if layout.compile else "--compile.no-enable",
    ]


def _checkpoint_args(seed_checkpoint: str | Path | None) -> list[str]:
    if seed_checkpoint is None:
        return ["--checkpoint.no-enable"]
    return [
        "--checkpoint.enable",
        "--checkpoint.initial_load_path",
        str(Path(seed_checkpoint).resolve()),
        "--checkpoint.initial_load_model_only",
        "--checkpoint.no-initial_load_in_hf",
        # Load the seed but write nothing, so the run leaves no checkpoint behind.
        "--checkpoint.load_only",
    ]


def _common_args(config_file: Path, workdir: Path) -> list[str]:
    assets = ensure_assets()
    return [
        "--job.config_file",
        str(config_file),
        "--job.dump_folder",
        str(_dump_folder(workdir)),
        "--experimental.custom_import",
        SHIM_MODULE,
        "--model.hf_assets_path",
        str(assets / TOKENIZER_SUBDIR),
        "--training.dataset",
        DATASET_NAME,
        "--training.dataset_path",
        str(assets / DATASET_SUBDIR),
        "--training.seq_len",
        str(SEQ_LEN),
        "--training.local_batch_size",
        str(LOCAL_BATCH_SIZE),
        # One micro-batch per step: a TOML global batch may not divide any more.
        "--training.global_batch_size",
        "-1",
        # CPU autocast and FSDP would compute in bf16, and layouts would disagree.
        "--training.mixed_precision_param",
        "float32",
        # One batch of the training corpus (a rehearsal checks code, not fit);
        # run_steps turns validation on, so the seed checkpoint run skips it.
        "--validation.no-enable",
        "--validation.dataset",
        DATASET_NAME,
        "--validation.dataset_path",
        str(assets / DATASET_SUBDIR),
        "--validation.seq_len",
        str(SEQ_LEN),
        "--validation.local_batch_size",
        str(LOCAL_BATCH_SIZE),
        "--validation.steps",
        "1",
        # The profiler's memory snapshot needs CUDA, and wandb uploads.
        "--profiling.no-enable_profiling",
        "--profiling.no-enable_memory_snapshot",
        "--metrics.no-enable_wandb",
        "--metrics.log_freq",
        "1",
        "--metrics.disable_color_printing",
        # A fixed seed makes CPU runs repeat exactly; --debug.deterministic adds
        # nothing measurable there and makes steps about 10x slower.
        "--debug.seed",
        str(SEED),
    ]


def _dump_folder(workdir: Path) -> Path:
    return workdir / "dump"


def _launch(
    config_file: str | Path,
    layout: Layout,
    args: list[str],
    workdir: str | Path,
    pythonpath: Sequence[str | Path],
    env: Mapping[str, str] | None,
    on_step: StepCallback | None,
) -> list[StepLoss]:
    config_file = Path(config_file).resolve()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    loss_log = workdir / LOSS_LOG_NAME
    loss_log.unlink(missing_ok=True)
    finished_dir = workdir / FINISHED_DIR_NAME
    shutil.rmtree(finished_dir, ignore_errors=True)
    finished_dir.mkdir()
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        str(layout.nproc),
        "-m",
        "torchtitan.train",
        *_common_args(config_file, workdir),
        *_layout_args(layout),
        *args,
    ]
    process_env = _process_env(config_file, loss_log, finished_dir, pythonpath, env)
    log_file = workdir / "rehearsal.log"
    with open(log_file, "w", encoding="utf-8") as log:
        log.write(" ".join(command) + "\n\n")
        log.flush()
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=process_env
        )
        returncode = _wait(process, loss_log, on_step)
    if returncode != 0:
        _check_teardown_crash(layout, returncode, log_file, finished_dir)
    return read_step_losses(loss_log)


def _check_teardown_crash(
    layout: Layout, returncode: int, log_file: Path, finished_dir: Path
) -> None:
    """Warn if the run failed only after all its results were written; else raise."""
    log_text = log_file.read_text(encoding="utf-8", errors="replace")
    finished = len(list(finished_dir.glob("rank-*")))
    signals = teardown_signals(log_text, finished, layout.nproc)
    if not signals:
        raise RehearsalError(
            f"{layout.describe()} rehearsal failed (exit {returncode}); "
            f"log: {log_file}\n{_tail(log_text)}"
        )
    warnings.warn(
        f"{layout.describe()}: every rank finished training and closed its "
        f"Trainer, then a rank crashed as it shut down ({', '.join(signals)}; "
        "a known crash in gloo's teardown, see docs/upstream.md); the results "
        f"are kept. log: {log_file}",
        RehearsalWarning,
        stacklevel=3,
    )


def teardown_signals(log_text: str, finished: int, nproc: int) -> list[str]:
    """The signals that ended ranks after all `nproc` had finished, or [].

    torchrun reports each failed rank's exit code (negative: the signal that
    ended it). A run counts as crashed in teardown only when every rank had
    finished and every failure it reports is a signal; an exception, or a
    rank that never finished, stays a failure.
    """
    codes = [int(code) for code in re.findall(r"exitcode\s*:\s*(-?\d+)", log_text)]
    if finished < nproc or not codes or any(code >= 0 for code in codes):
        return []
    return sorted({_signal_name(-code) for code in codes})


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _process_env(
    config_file: Path,
    loss_log: Path,
    finished_dir: Path,
    pythonpath: Sequence[str | Path],
    env: Mapping[str, str] | None,
) -> dict[str, str]:
    inherited = os.environ.get("PYTHONPATH", "")
    paths = [*map(str, pythonpath), *_shim_path(), *filter(None, [inherited])]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        **LOCAL_RUN_ENV,
        LOSS_LOG_ENV: str(loss_log),
        FINISHED_DIR_ENV: str(finished_dir),
        CUSTOM_IMPORT_ENV: _toml_custom_import(config_file),
        **(env or {}),
    }


def _shim_path() -> list[str]:
    # A source checkout must go on the workers' path; an installed package is there.
    site_dirs = {*site.getsitepackages(), site.getusersitepackages()}
    return [] if str(_PACKAGE_ROOT) in site_dirs else [str(_PACKAGE_ROOT)]


def _toml_custom_import(config_file: Path) -> str:
    with open(config_file, "rb") as f:
        config = tomllib.load(f)
    return config.get("experimental", {}).get("custom_import", "")


def _wait(
    process: subprocess.Popen, loss_log: Path, on_step: StepCallback | None
) -> int:
    """Wait for the process, reporting new losses; stop it if the caller fails."""
    reported = 0
    try:
        while True:
            try:
                returncode = process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                returncode = None
            if on_step is not None:
                records = read_step_losses(loss_log)
                for record in records[reported:]:
                    on_step(record)
                reported = len(records)
            if returncode is not None:
                return returncode
    finally:
        if process.poll() is None:
            # SIGTERM lets torchrun stop its workers; SIGKILL would orphan them.
            process.terminate()
            process.wait()


def logged_steps(workdir: str | Path) -> list[StepLoss]:
    """The steps that the run in `workdir` logged."""
    return read_step_losses(Path(workdir) / LOSS_LOG_NAME)


def read_step_losses(loss_log: Path) -> list[StepLoss]:
    """The complete lines of a loss log (a line being written is skipped)."""
    if not loss_log.exists():
        return []
    text = loss_log.read_text(encoding="utf-8")
    steps: list[StepLoss] = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            continue
        record = json.loads(line)
        if "validation_loss" in record:  # Logged after its step's line.
            steps[-1] = replace(steps[-1], validation_loss=record["validation_loss"])
        else:
            steps.append(StepLoss(**record))
    return steps


def _tail(log_text: str) -> str:
    lines = log_text.splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])
