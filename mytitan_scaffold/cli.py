"""The `mytitan` command line: `new` renders and registers a model, `rehearse`
trains it briefly on CPU with torchtitan's own Trainer."""

from __future__ import annotations

import inspect
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

try:  # typer >= 0.26 vendors click; its usage errors live there
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:
    from click.exceptions import NoArgsIsHelpError, UsageError

from . import __version__
from .answers import Question, load_data_file, parse_data_pairs, questions
from .errors import MytitanError
from .hf_import import SUPPORTED_MODEL_TYPES, HfImportWarning, answers_from_hf_config
from .project import resolve_target

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Scaffold torchtitan model packages from architecture answers, and "
    "rehearse them on CPU.",
)


def _fail(error: MytitanError) -> None:
    typer.echo(f"mytitan: error: {error}", err=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def _warnings_as_lines(category: type[Warning]) -> Iterator[None]:
    """Print each `category` warning as one `mytitan: warning:` line, as it comes."""
    default = warnings.showwarning

    def show(message, kind, filename, lineno, file=None, line=None) -> None:
        if issubclass(kind, category):
            typer.echo(f"mytitan: warning: {message}", err=True)
        else:
            default(message, kind, filename, lineno, file, line)

    with warnings.catch_warnings():  # Restores showwarning on the way out.
        warnings.simplefilter("always", category)
        warnings.showwarning = show
        yield


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mytitan {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = None,
) -> None:
    """mytitan: a torchtitan model package in one command."""


# ------------------------------------------------------------------ new
_PY_TYPES = {"int": int, "float": float, "bool": bool}


def _answer_parameter(question: Question) -> inspect.Parameter:
    """One `--flag` per copier question; None means "not given"."""
    help_text = question.help
    if question.choices:
        help_text += f" [choices: {', '.join(question.choices)}]"
    if question.type == "yaml":
        help_text += " (YAML)"
    flag = question.flag
    names = [f"{flag}/--no-{flag[2:]}"] if question.type == "bool" else [flag]
    option = typer.Option(
        *names, help=help_text, rich_help_panel="Answers (copier.yml)"
    )
    py_type = _PY_TYPES.get(question.type, str)
    return inspect.Parameter(
        question.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[py_type | None, option],
    )


def new(
    name: Annotated[str, typer.Argument(help="Model name (lower_snake_case).")],
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults", help="Use defaults for every answer not given; never prompt."
        ),
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="An answer as KEY=VALUE (repeatable).",
            metavar="KEY=VALUE",
        ),
    ] = None,
    data_file: Annotated[
        Path | None, typer.Option("--data-file", help="A YAML file of answers.")
    ] = None,
    from_hf: Annotated[
        Path | None,
        typer.Option(
            "--from-hf",
            help=f"A Hugging Face config.json ({', '.join(SUPPORTED_MODEL_TYPES)}), "
            "a model folder, or a Hub id in the local HF cache: its architecture "
            "and sizes become the answers and the main flavor.",
        ),
    ] = None,
    models_dir: Annotated[
        Path | None,
        typer.Option(
            "--models-dir",
            help="Folder of the project's models package [default: ./models].",
        ),
    ] = None,
    torchtitan_root: Annotated[
        Path | None,
        typer.Option(
            "--torchtitan-root",
            help="A torchtitan checkout: render into torchtitan/models/.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print what would be created and the registry diff; write nothing.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an existing model folder (only it and the registry line).",
        ),
    ] = False,
    **flags: Any,
) -> None:
    """Render a model package from the template and register it."""
    from .new_model import create_model

    try:
        answers: dict[str, Any] = {}
        if from_hf is not None:
            with _warnings_as_lines(HfImportWarning):
                answers.update(answers_from_hf_config(from_hf))
        if data_file is not None:
            answers.update(load_data_file(data_file))
        data_answers, flag_answers = parse_data_pairs(data or []), _flag_answers(flags)
        answers.update(data_answers)
        answers.update(flag_answers)
        # The answers typed here must each be used (not those of --from-hf, which
        # gives only used ones, or of --data-file, another model's whole set).
        given = {key: f"--data {key}" for key in data_answers} | {
            key: questions()[key].flag for key in flag_answers
        }
        target = resolve_target(
            models_dir, torchtitan_root, answers.get("models_package")
        )
        interactive = not defaults and sys.stdin.isatty() and sys.stdout.isatty()
        plan = create_model(
            name,
            answers,
            target,
            interactive=interactive,
            dry_run=dry_run,
            force=force,
            given=given,
        )
    except MytitanError as error:
        _fail(error)
    _report(plan, dry_run)


def _flag_answers(flags: dict[str, Any]) -> dict[str, Any]:
    answers = {}
    for key, value in flags.items():
        if value is None:
            continue
        question = questions()[key]
        answers[key] = (
            question.parse(value, question.flag) if question.type == "yaml" else value
        )
    return answers


def _report(plan, dry_run: bool) -> None:
    verb = "would create" if dry_run else "created"
    typer.echo(f"{verb} {plan.model_dir}/ ({len(plan.files)} files)")
    for path in plan.files:
        typer.echo(f"  {path}")
    if plan.registry_diff:
        action = "create" if plan.registry_created else "modify"
        past = {"create": "created", "modify": "modified"}[action]
        typer.echo(f"{'would ' + action if dry_run else past} {plan.registry_file}")
        typer.echo(plan.registry_diff.rstrip("\n"))
    else:
        typer.echo(f"{plan.registry_file} already lists {plan.answers['model_name']}")
    typer.echo(_transformers_line(plan.hf_nearest))
    if not dry_run:
        typer.echo(
            f"next: mytitan rehearse {plan.model_dir} --nproc 2 "
            f"{plan.rehearsal_layout} --compare"
        )


def _transformers_line(nearest: dict) -> str:
    if not nearest["unmet"]:
        return (
            f"transformers: {nearest['architecture']} "
            "(mytitan hf-config writes its config.json)"
        )
    return (
        f"transformers: no class has this architecture; the nearest, "
        f"{nearest['architecture']}, would need {', '.join(nearest['unmet'])}"
    )


def _build_new_signature() -> None:
    """Give `new` one keyword-only option per copier question, so that `--help`
    lists every answer with its help text from copier.yml."""
    signature = inspect.signature(new, eval_str=True)
    fixed = [
        p
        for p in signature.parameters.values()
        if p.kind != inspect.Parameter.VAR_KEYWORD
    ]
    extra = [
        _answer_parameter(q) for q in questions().values() if q.name != "model_name"
    ]
    new.__signature__ = signature.replace(parameters=fixed + extra)


_build_new_signature()
app.command("new")(new)


# ------------------------------------------------------------------ rehearse
TOLERANCE = 1e-4
GRAD_NORM_RTOL = 1e-3


def _fail_comparison(what: str, tolerance: float) -> NoReturn:
    typer.echo(
        f"mytitan: error: {what} from 1 process by more than {tolerance:g}: "
        "the parallel plan is wrong",
        err=True,
    )
    raise typer.Exit(1)


def rehearse(
    model_dir: Annotated[
        Path, typer.Argument(help="A model folder made by `mytitan new`.")
    ],
    config: Annotated[
        str, typer.Option(help="TOML under the model's train_configs/.")
    ] = "debug_model.toml",
    nproc: Annotated[
        int, typer.Option(help="Processes (torchrun --nproc_per_node).")
    ] = 1,
    replicate: Annotated[
        int,
        typer.Option(help="Data-parallel replicas: DDP, or HSDP with FSDP > 1."),
    ] = 1,
    fsdp: Annotated[
        int,
        typer.Option(help="FSDP degree; -1 takes what replicas, TP, CP and PP leave."),
    ] = -1,
    tp: Annotated[int, typer.Option(help="Tensor parallel degree.")] = 1,
    cp: Annotated[int, typer.Option(help="Context parallel degree.")] = 1,
    pp: Annotated[
        int, typer.Option(help="Pipeline parallel degree (stages of layers).")
    ] = 1,
    ep: Annotated[
        int,
        typer.Option(
            help="Expert parallel degree (MoE), borrowed from FSDP * TP * CP."
        ),
    ] = 1,
    etp: Annotated[
        int,
        typer.Option(help="Expert tensor parallel degree with EP: 1 or the TP degree."),
    ] = 1,
    compile: Annotated[
        bool, typer.Option("--compile", help="torch.compile each block.")
    ] = False,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 5,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help=f"Run 1 process and the layout from one seed checkpoint; "
            f"fail when a step's losses (or the validation losses after the first "
            f"and last steps) differ by more than {TOLERANCE:g} or its gradient "
            f"norms by more than {GRAD_NORM_RTOL:g} (relative).",
        ),
    ] = False,
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Where logs and checkpoints go [default: outputs/rehearse/<model>]."
        ),
    ] = None,
) -> None:
    """Train the model briefly on CPU with torchtitan's own Trainer (gloo)."""
    from .rehearsal import Layout, RehearsalError, RehearsalWarning, run_steps
    from .rehearsal import compare as compare_layouts
    from .rehearsal.workdir_lock import hold_workdir
    from .render import recorded_answers

    try:
        answers = recorded_answers(model_dir)
        config_file = model_dir / "train_configs" / config
        if not config_file.is_file():
            raise MytitanError(
                f"{config_file} does not exist: pass --config with a file in "
                f"{model_dir / 'train_configs'}"
            )
        if steps < 1:
            raise MytitanError(
                f"--steps must be at least 1, got {steps}: e.g. --steps 5"
            )
        try:
            layout = Layout(
                nproc=nproc,
                replicate=replicate,
                fsdp=fsdp,
                tp=tp,
                cp=cp,
                pp=pp,
                ep=ep,
                etp=etp,
                compile=compile,
            )
        except ValueError as error:
            raise MytitanError(f"{error}: e.g. --nproc 2 --tp 2") from None
    except MytitanError as error:
        _fail(error)

    package_depth = len(answers.get("models_package", "models").split("."))
    project_root = model_dir.resolve().parents[package_depth]
    workdir = workdir or Path("outputs") / "rehearse" / answers["model_name"]

    def show(each: Layout, step) -> None:
        typer.echo(f"{each.describe():>12}  step {step.step:3d}  loss {step.loss:.6f}")

    with ExitStack() as held:
        try:
            held.enter_context(hold_workdir(workdir))
        except MytitanError as error:
            _fail(error)
        held.enter_context(_warnings_as_lines(RehearsalWarning))
        try:
            if compare:
                typer.echo(
                    f"seed checkpoint, then 1 process and {layout.describe()}, {steps} steps"
                )
                result = compare_layouts(
                    config_file,
                    layout,
                    steps=steps,
                    workdir=workdir,
                    pythonpath=[project_root],
                    on_step=show,
                )
                typer.echo(f"max |loss diff| vs 1 process: {result.max_abs_diff:.3g}")
                typer.echo(
                    "max |validation loss diff| vs 1 process: "
                    f"{result.max_validation_abs_diff:.3g} "
                    f"({len(result.validation)} validations)"
                )
                typer.echo(
                    "max relative gradient-norm diff vs 1 process: "
                    f"{result.max_grad_norm_rel_diff:.3g}"
                )
                if result.max_abs_diff > TOLERANCE:
                    _fail_comparison(f"{layout.describe()}'s losses differ", TOLERANCE)
                if result.max_validation_abs_diff > TOLERANCE:
                    _fail_comparison(
                        f"{layout.describe()}'s validation losses differ", TOLERANCE
                    )
                if result.max_grad_norm_rel_diff > GRAD_NORM_RTOL:
                    _fail_comparison(
                        f"{layout.describe()}'s gradient norms differ (relatively)",
                        GRAD_NORM_RTOL,
                    )
            else:
                logged = run_steps(
                    config_file,
                    layout,
                    steps=steps,
                    workdir=workdir,
                    pythonpath=[project_root],
                    on_step=lambda step: show(layout, step),
                )
                for step in logged:
                    if step.validation_loss is not None:
                        typer.echo(
                            f"validation loss after step {step.step}: "
                            f"{step.validation_loss:.6f}"
                        )
        except RehearsalError as error:
            typer.echo(f"mytitan: error: {error}", err=True)
            raise typer.Exit(3) from None


app.command("rehearse")(rehearse)


# ------------------------------------------------------------------ hf-config
def hf_config(
    model_dir: Annotated[
        Path, typer.Argument(help="A model folder made by `mytitan new`.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            help="Folder to write config.json into, e.g. an HF checkpoint "
            "(checkpoint/step-N) saved with --checkpoint.last_save_in_hf."
        ),
    ],
    flavor: Annotated[
        str, typer.Option(help="Flavor whose sizes to write.")
    ] = "debugmodel",
) -> None:
    """Write the config.json that lets transformers load this model's HF export."""
    import json

    from .model_package import load_model_package
    from .render import recorded_answers

    try:
        answers = recorded_answers(model_dir)
        package = load_model_package(model_dir)
        flavors = package.get_train_spec().model_args
        if flavor not in flavors:
            raise MytitanError(
                f"--flavor {flavor!r} is not a flavor of {answers['model_name']}: "
                f"choose one of {', '.join(flavors)}"
            )
        adapter = sys.modules[f"{package.__name__}.model.state_dict_adapter"]
        if not hasattr(adapter, "hf_config"):
            raise MytitanError(
                f"{model_dir} predates hf_config(): update it from the template first"
            )
        try:
            config = adapter.hf_config(flavors[flavor])
        except NotImplementedError as error:
            raise MytitanError(f"{answers['model_name']}: {error}") from None
        if output.exists() and not output.is_dir():
            raise MytitanError(f"--output {output} is a file: pass a folder")
    except MytitanError as error:
        _fail(error)
    output.mkdir(parents=True, exist_ok=True)
    (output / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    typer.echo(f"wrote {output / 'config.json'} ({config['architectures'][0]})")


app.command("hf-config")(hf_config)


# ------------------------------------------------------------------ update
def update(
    model_dir: Annotated[
        Path | None, typer.Argument(help="A model folder made by `mytitan new`.")
    ] = None,
    all_models: Annotated[
        bool, typer.Option("--all", help="Update every model in --models-dir.")
    ] = False,
    models_dir: Annotated[
        Path, typer.Option("--models-dir", help="Folder of the models, for --all.")
    ] = Path("models"),
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="Change an answer: KEY=VALUE (repeatable).",
            metavar="KEY=VALUE",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            help="Template version (git tag) to update to [default: this mytitan's]."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the changes the update would make; write nothing."
        ),
    ] = False,
) -> None:
    """Merge template changes (and changed answers) into rendered models, keeping your edits."""
    from .update import CONFLICT_EXIT_CODE, model_dirs, update_model

    try:
        if (model_dir is None) == (not all_models):
            raise MytitanError(
                "pass one MODEL_DIR or --all (with --models-dir): e.g. mytitan update models/demo"
            )
        targets = model_dirs(models_dir) if all_models else [model_dir]
        if not targets:
            raise MytitanError(
                f"{models_dir} holds no rendered model: pass the folder with your models"
            )
        answers = parse_data_pairs(data or [])
        results = [update_model(t, answers, to=to, dry_run=dry_run) for t in targets]
    except MytitanError as error:
        _fail(error)
    conflicted = False
    for result in results:
        verb = "would update" if dry_run else "updated"
        typer.echo(
            f"{verb} {result.model_dir}: {result.from_version} -> {result.to_version}"
        )
        if dry_run and result.diff:
            typer.echo(result.diff.rstrip("\n"))
        if result.registry_restored:
            typer.echo(
                f"  restored {result.model_dir.name} in {result.model_dir.parent / '__init__.py'}"
            )
        for path in result.conflicts:
            typer.echo(f"  conflict: {path}")
        conflicted = conflicted or bool(result.conflicts)
    if conflicted:
        typer.echo(
            "mytitan: error: conflicts are marked inline (<<<<<<< / >>>>>>>): resolve "
            "them, then commit",
            err=True,
        )
        raise typer.Exit(CONFLICT_EXIT_CODE)


app.command("update")(update)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run() -> None:
    """The `mytitan` command: usage mistakes get the same one-line errors, and
    SIGTERM unwinds like Ctrl-C so that no half-written file stays behind."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = app(standalone_mode=False, prog_name="mytitan")
    except NoArgsIsHelpError as error:
        typer.echo(error.ctx.get_help())
        code = 0
    except UsageError as error:
        command = error.ctx.command_path if error.ctx else "mytitan"
        message = " ".join(error.format_message().split()).rstrip(".")
        typer.echo(f"mytitan: error: {message}: see `{command} --help`", err=True)
        code = 2
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("mytitan: interrupted; nothing was changed", err=True)
        code = 130
    finally:
        # Called in-process (tests, embedding tools), the caller's handler returns.
        signal.signal(signal.SIGTERM, previous)
    sys.exit(code or 0)
