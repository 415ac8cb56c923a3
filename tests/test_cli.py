"""`mytitan new` end to end: files, registry, dry run, in-tree mode, errors."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mytitan_scaffold import registry
from mytitan_scaffold.cli import app

runner = CliRunner()


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def mytitan(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(old)


def test_new_renders_registers_and_lists_files(tmp_path):
    result = mytitan(
        "new", "demo", "--defaults", "--n-layers", "2", "--qk-norm", cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    model = tmp_path / "models" / "demo"
    assert "created models/demo/" in result.output
    assert "models/demo/model/model.py" in result.output
    assert "created models/__init__.py" in result.output
    # Per-head qk-norm on Llama's layers is Qwen3's architecture.
    assert "transformers: Qwen3ForCausalLM (mytitan hf-config" in result.output
    answers = yaml.safe_load((model / ".copier-answers.yml").read_text())
    assert answers["n_layers"] == 2 and answers["qk_norm"] is True
    assert answers["models_package"] == "models"
    assert "q_norm" in (model / "model" / "model.py").read_text()
    registry_source = (tmp_path / "models" / "__init__.py").read_text()
    assert registry.registered_names(registry_source) == ["demo"]

    # A second model is added to the same registry.
    result = mytitan("new", "other", "--defaults", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "modified models/__init__.py" in result.output
    source = (tmp_path / "models" / "__init__.py").read_text()
    assert registry.registered_names(source) == ["demo", "other"]


@pytest.mark.parametrize(
    "flags, layout",
    [
        ([], "--tp 2"),
        # TP replicates one key/value head, and gathers what norms across heads
        # normalize; it cannot replicate a key norm with a weight per head.
        (["--n-kv-heads", "1"], "--tp 2"),
        (["--qk-norm", "--qk-norm-scope", "full"], "--tp 2"),
        (
            ["--n-kv-heads", "1", "--qk-norm", "--qk-norm-scope", "head_weights"],
            "--fsdp 2",
        ),
        (["--moe"], "--ep 2"),
        # Seven experts cannot be split in two.
        (["--moe", "--moe-experts", "7", "--moe-top-k", "5"], "--tp 2"),
    ],
)
def test_new_suggests_a_rehearsal_the_model_accepts(
    tmp_path, monkeypatch, flags, layout
):
    from torchtitan.config import JobConfig

    from .conftest import import_package

    # Two processes, as suggested: the aux loss sizes its batch by the world.
    monkeypatch.setenv("WORLD_SIZE", "2")

    result = mytitan("new", "demo", "--defaults", *flags, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    command = f"mytitan rehearse models/demo --nproc 2 {layout} --compare"
    assert f"next: {command}" in result.output
    model_dir = tmp_path / "models" / "demo"
    assert command in (model_dir / "README.md").read_text()
    spec = import_package(model_dir, f"suggested_{len(sys.modules)}").get_train_spec()
    args = spec.model_args["debugmodel"]
    degrees = {
        "--tp 2": {"tensor_parallel_degree": 2},
        "--fsdp 2": {"data_parallel_shard_degree": 2},
        "--ep 2": {"expert_parallel_degree": 2},
    }
    for other, settings in degrees.items():
        job_config = JobConfig()
        for name, value in settings.items():
            setattr(job_config.parallelism, name, value)
        if other == layout:
            args.update_from_config(job_config)  # accepted
        elif other == "--tp 2" and layout == "--fsdp 2":
            with pytest.raises(ValueError):  # why TP is not suggested
                args.update_from_config(job_config)


def test_dry_run_writes_nothing(tmp_path):
    assert mytitan("new", "demo", "--defaults", cwd=tmp_path).exit_code == 0
    before = tree_hash(tmp_path)
    result = mytitan("new", "second", "--defaults", "--dry-run", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "would create models/second/" in result.output
    assert "would modify models/__init__.py" in result.output
    assert '+_supported_models = frozenset(["demo", "second"])' in result.output
    assert tree_hash(tmp_path) == before
    assert not any(p.name.startswith(".mytitan-") for p in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    "flags, nearest",
    [
        (["--norm-placement", "parallel"], "LlamaForCausalLM, would need pre-norm"),
        # An MoE model is compared with the MoE classes only: DeepSeek-style
        # routing in post-norm blocks is one change away from Glm4Moe (OLMo 2's
        # post-norm is a dense class).
        (
            [
                "--norm-placement",
                "post",
                "--moe",
                "--moe-score-func",
                "sigmoid",
                "--moe-shared-experts",
                "1",
                "--moe-load-balancing",
                "expert_bias",
            ],
            "Glm4MoeForCausalLM, would need pre-norm",
        ),
    ],
)
def test_new_names_the_nearest_transformers_class_when_none_fits(
    tmp_path, flags, nearest
):
    result = mytitan("new", "demo", "--defaults", *flags, "--dry-run", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    expected = f"transformers: no class has this architecture; the nearest, {nearest}"
    assert expected in result.output


def test_data_file_and_data_pairs(tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("n_layers: 3\nffn: gelu\n_src_path: ignored\n")
    result = mytitan(
        "new",
        "demo",
        "--defaults",
        "--data-file",
        str(answers),
        "-d",
        "n_layers=4",
        "-d",
        "extra_flavors={}",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load(
        (tmp_path / "models/demo/.copier-answers.yml").read_text()
    )
    assert (recorded["n_layers"], recorded["ffn"], recorded["extra_flavors"]) == (
        4,
        "gelu",
        {},
    )
    assert sorted(
        p.name for p in (tmp_path / "models/demo/train_configs").iterdir()
    ) == [
        "debug_model.toml",
        "demo_1b.toml",
    ]


def test_force_replaces_only_the_model_folder(tmp_path):
    assert mytitan("new", "demo", "--defaults", cwd=tmp_path).exit_code == 0
    (tmp_path / "models" / "demo" / "stray.txt").write_text("old")
    (tmp_path / "keep.txt").write_text("mine")
    result = mytitan("new", "demo", "--defaults", "--n-layers", "3", cwd=tmp_path)
    assert result.exit_code == 2 and "--force" in result.output
    result = mytitan(
        "new", "demo", "--defaults", "--n-layers", "3", "--force", cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "models" / "demo" / "stray.txt").exists()
    assert (tmp_path / "keep.txt").read_text() == "mine"
    source = (tmp_path / "models" / "__init__.py").read_text()
    assert registry.registered_names(source) == ["demo"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-kv-heads", "5"], "n_heads 32 is not divisible by n_kv_heads 5"),
        (["-d", "nope=1"], "unknown answer 'nope'"),
        (["-d", "n_layers=abc"], "n_layers takes an integer"),
        (["--positional", "alibi"], "positional"),
        (["--dim", "0"], "dim must be positive"),
    ],
)
def test_bad_answers_fail_cleanly_and_write_nothing(tmp_path, args, message):
    (tmp_path / "marker").write_text("x")
    before = tree_hash(tmp_path)
    result = mytitan("new", "demo", "--defaults", *args, cwd=tmp_path)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert tree_hash(tmp_path) == before


def test_broken_registry_is_refused_before_rendering(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text(
        "_supported_models = frozenset([\n"
    )
    before = tree_hash(tmp_path)
    result = mytitan("new", "demo", "--defaults", cwd=tmp_path)
    assert result.exit_code == 2 and "syntax error" in result.output
    assert tree_hash(tmp_path) == before


def _torchtitan_copy(root: Path) -> Path:
    import torchtitan

    source = Path(torchtitan.__file__).parent
    shutil.copytree(
        source, root / "torchtitan", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def test_in_tree_mode_patches_torchtitans_registry(tmp_path):
    checkout = _torchtitan_copy(tmp_path / "torchtitan_checkout")
    result = mytitan(
        "new", "demo", "--defaults", "--torchtitan-root", str(checkout), cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    models = checkout / "torchtitan" / "models"
    assert (models / "demo" / "model" / "model.py").is_file()
    names = registry.registered_names((models / "__init__.py").read_text())
    assert "demo" in names and "llama3" in names
    toml = (models / "demo" / "train_configs" / "debug_model.toml").read_text()
    assert "custom_import" not in toml  # torchtitan finds in-tree models itself
    # torchtitan's own lookup finds the model through its patched registry.
    probe = (
        "from torchtitan.protocols.train_spec import get_train_spec;"
        "spec = get_train_spec('demo'); print(sorted(spec.model_args))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "debugmodel" in out.stdout and "1B" in out.stdout


def test_not_a_torchtitan_checkout_is_refused(tmp_path):
    result = mytitan(
        "new", "demo", "--defaults", "--torchtitan-root", str(tmp_path), cwd=tmp_path
    )
    assert result.exit_code == 2
    assert "is not a torchtitan checkout" in result.output


def test_console_script_version_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "mytitan_scaffold", "--version"],
        capture_output=True,
        check=False,
        text=True,
    )
    assert out.returncode == 0 and out.stdout.startswith("mytitan ")
    out = subprocess.run(
        [sys.executable, "-m", "mytitan_scaffold", "new", "--help"],
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0
    for flag in (
        "--n-kv-heads",
        "--qk-norm",
        "--positional",
        "--dry-run",
        "--data-file",
    ):
        assert flag in out.stdout


def test_interactive_prompts_on_a_terminal(tmp_path):
    """On a terminal, `mytitan new` asks every answer not given (copier's prompts);
    pressing Enter keeps each default, and flags are not asked again."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the real CLI on a pseudo-terminal
        os.chdir(tmp_path)
        os.environ.update(TERM="xterm", COLUMNS="120", LINES="40")
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "mytitan_scaffold",
                "new",
                "demo",
                "--n-layers",
                "3",
            ],
        )
    output, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.3)
        if not ready:
            os.write(fd, b"\r")  # Enter: keep the default of the current question
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text[-2000:]
    assert "Number of query heads" in text  # a prompt from copier.yml's help
    assert "Number of transformer blocks" not in text  # given as a flag
    answers = yaml.safe_load((tmp_path / "models/demo/.copier-answers.yml").read_text())
    assert (answers["n_layers"], answers["n_heads"]) == (3, 32)


@pytest.mark.parametrize(
    ("losses", "grad_norms", "validation", "exit_code", "message"),
    [
        ([2.0, 1.5], [1.0, 0.8], [2.1, 1.6], 0, "max |loss diff| vs 1 process: 0"),
        ([2.0, 1.5], [1.0, 0.8], [2.1, 1.6], 0, "vs 1 process: 0 (2 validations)"),
        ([2.0, 1.501], [1.0, 0.8], [2.1, 1.6], 1, "PP2's losses differ from 1"),
        # torchtitan 0.2.2's pipeline bug: equal losses, gradients 1024x too large.
        ([2.0, 1.5], [1024.0, 819.2], [2.1, 1.6], 1, "PP2's gradient norms differ"),
        # Training agrees, the eval-mode forward does not.
        ([2.0, 1.5], [1.0, 0.8], [2.1, 1.7], 1, "PP2's validation losses differ"),
    ],
)
def test_rehearse_compare_verdict(
    tmp_path, monkeypatch, losses, grad_norms, validation, exit_code, message
):
    """`--compare` fails on losses, validation losses or gradient norms, each
    with its own line."""
    from mytitan_scaffold import rehearsal

    def fake_compare(config_file, layout, **kwargs):
        return rehearsal.Comparison(
            layout, [2.0, 1.5], losses, [1.0, 0.8], grad_norms, [2.1, 1.6], validation
        )

    monkeypatch.setattr(rehearsal, "compare", fake_compare)
    assert mytitan("new", "demo", "--defaults", cwd=tmp_path).exit_code == 0
    args = ["rehearse", "models/demo", "--nproc", "2", "--pp", "2", "--compare"]
    result = mytitan(*args, cwd=tmp_path)
    assert result.exit_code == exit_code, result.output
    assert message in result.output


def test_rehearse_prints_the_validation_losses(tmp_path, monkeypatch):
    """Without --compare, the run's validation losses follow its steps."""
    from mytitan_scaffold import rehearsal

    def fake_run_steps(config_file, layout, *, on_step, **kwargs):
        steps = [
            rehearsal.StepLoss(1, 8.0, 1.2, validation_loss=7.5),
            rehearsal.StepLoss(2, 7.0, 1.1, validation_loss=6.25),
        ]
        for step in steps:
            on_step(step)
        return steps

    monkeypatch.setattr(rehearsal, "run_steps", fake_run_steps)
    assert mytitan("new", "demo", "--defaults", cwd=tmp_path).exit_code == 0
    result = mytitan("rehearse", "models/demo", "--steps", "2", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-2:] == [
        "validation loss after step 1: 7.500000",
        "validation loss after step 2: 6.250000",
    ]


def test_rehearse_refuses_a_work_folder_another_rehearsal_holds(tmp_path, monkeypatch):
    """Two rehearsals in one work folder would overwrite each other's loss logs:
    the second is refused in one line, and runs once the first has finished."""
    from mytitan_scaffold import rehearsal
    from mytitan_scaffold.rehearsal.workdir_lock import hold_workdir

    runs = []

    def fake_run_steps(config_file, layout, *, workdir, **kwargs):
        runs.append(workdir)
        return [rehearsal.StepLoss(1, 8.0, 1.2)]

    monkeypatch.setattr(rehearsal, "run_steps", fake_run_steps)
    assert mytitan("new", "demo", "--defaults", cwd=tmp_path).exit_code == 0
    workdir = tmp_path / "outputs" / "rehearse" / "demo"
    with hold_workdir(workdir):
        result = mytitan("rehearse", "models/demo", "--steps", "1", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    busy = (
        "mytitan: error: another `mytitan rehearse` is running in "
        f"{workdir.relative_to(tmp_path)}: wait for it to finish, or pass --workdir "
        "with a folder of this run's own"
    )
    assert result.output.splitlines() == [busy]
    assert runs == []
    result = mytitan("rehearse", "models/demo", "--steps", "1", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert runs == [workdir.relative_to(tmp_path)]


def test_rehearse_prints_a_teardown_crash_as_one_warning_line(tmp_path, monkeypatch):
    """A run whose ranks all finished before one crashed keeps its results, and
    the CLI says what happened in one line."""
    import warnings

    from mytitan_scaffold import rehearsal

    def fake_run_steps(config_file, layout, *, on_step, **kwargs):
        warnings.warn(
            "SIGABRT ended a rank as it shut down", rehearsal.RehearsalWarning
        )
        return [rehearsal.StepLoss(1, 8.0, 1.2)]

    monkeypatch.setattr(rehearsal, "run_steps", fake_run_steps)
    assert mytitan("new", "demo", "--defaults", cwd=tmp_path).exit_code == 0
    result = mytitan("rehearse", "models/demo", "--steps", "1", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (
        "mytitan: warning: SIGABRT ended a rank as it shut down"
        in result.output.splitlines()
    )


def test_in_process_run_gives_back_the_callers_sigterm_handler(monkeypatch):
    """`run()` turns SIGTERM into a clean interrupt while it runs; called in-process
    it must not leave that handler behind (a killed pytest once reported
    KeyboardInterrupt from it, long after the command had returned)."""
    import signal

    from mytitan_scaffold.cli import run

    def callers_handler(signum, frame):
        pass

    monkeypatch.setattr(sys, "argv", ["mytitan", "--version"])
    previous = signal.signal(signal.SIGTERM, callers_handler)
    try:
        with pytest.raises(SystemExit) as exit_info:
            run()
        assert exit_info.value.code == 0
        assert signal.getsignal(signal.SIGTERM) is callers_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
