"""`mytitan new`: render a model package and register it, all or nothing.

The package is rendered into a temporary folder beside its destination (same
filesystem), moved into place with one rename once it is complete, and the
registry is replaced last through a temporary file: an interrupted run leaves
either nothing or the complete result.
"""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .answers import check_used
from .atomic import replace_file
from .errors import MytitanError
from .new_registry import new_registry_source
from .project import Target, torchtitan_builtin_models
from .render import render


@dataclass
class Plan:
    """What `new` creates and changes; `registry_diff` is a unified diff."""

    model_dir: Path
    files: list[Path] = field(default_factory=list)
    registry_file: Path | None = None
    registry_created: bool = False
    registry_diff: str = ""
    answers: dict = field(default_factory=dict)
    # The transformers class nearest to the answers, and what it still needs.
    hf_nearest: dict = field(default_factory=dict)
    # Rehearse flags for the parallelism to check first (e.g. "--tp 2").
    rehearsal_layout: str = ""


def _staging_parent(path: Path) -> Path:
    """The nearest existing folder at or above `path`: a same-filesystem temp home."""
    while not path.exists():
        path = path.parent
    return path


def _new_registry_source(target: Target, name: str) -> tuple[str, str | None]:
    """(new source, old source or None when the file does not exist yet)."""
    path = target.registry_file
    if path.is_file():
        from . import registry

        old = path.read_text()
        return registry.add_model(old, name, str(path)), old
    if target.in_tree:
        raise MytitanError(f"{path} is missing: is this a torchtitan checkout?")
    return new_registry_source(name), None


def create_model(
    name: str,
    answers: dict[str, Any],
    target: Target,
    *,
    interactive: bool = False,
    dry_run: bool = False,
    force: bool = False,
    given: dict[str, str] | None = None,
) -> Plan:
    """Render model `name` under `target`, register it, and say what was done.
    `given` maps the answers typed on the command line to their options: each
    must be one the model uses."""
    if target.registry_file.exists():
        from . import registry  # libcst: only needed to edit an existing registry

        # Fail on a broken registry before anything is rendered.
        registry.registered_names(
            target.registry_file.read_text(), str(target.registry_file)
        )
    answers = {**answers, "model_name": name, "models_package": target.models_package}
    staging = _make_staging(target.models_dir)
    try:
        rendered = staging / "model"
        recorded, computed = render(rendered, answers, interactive=interactive)
        name = recorded["model_name"]  # validated by copier.yml from here on
        check_used(given or {}, recorded)
        if not target.in_tree and name in torchtitan_builtin_models():
            raise MytitanError(
                f"model_name {name!r} is one of torchtitan's own models: choose another name"
            )
        destination = target.model_dir(name)
        if destination.exists() and not force:
            raise MytitanError(
                f"{destination} already exists: choose another name, or pass --force to replace it"
            )
        new_source, old_source = _new_registry_source(target, name)
        plan = Plan(
            model_dir=destination,
            files=sorted(
                destination / p.relative_to(rendered)
                for p in rendered.rglob("*")
                if p.is_file()
            ),
            registry_file=target.registry_file,
            registry_created=old_source is None,
            registry_diff=_diff(old_source or "", new_source, target.registry_file),
            answers=recorded,
            hf_nearest=computed["hf_nearest"],
            rehearsal_layout=computed["rehearsal_layout"],
        )
        if not dry_run:
            # Both changes land, or (interrupted before this block) neither does.
            with _signals_deferred():
                _install(rendered, destination, staging)
                if new_source != old_source:
                    replace_file(target.registry_file, new_source)
        return plan
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _make_staging(models_dir: Path) -> Path:
    parent = _staging_parent(models_dir)
    try:
        return Path(tempfile.mkdtemp(prefix=".mytitan-", dir=parent))
    except OSError as error:
        raise MytitanError(
            f"{parent} is not writable ({error.strerror}): fix its permissions "
            "or pass another --models-dir"
        ) from None


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block is done (they are delivered after it)."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _install(rendered: Path, destination: Path, staging: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists():
        # --force: swap the old folder out with one rename; it dies with staging.
        os.replace(destination, staging / "replaced")
    os.replace(rendered, destination)


def _diff(old: str, new: str, path: Path) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=str(path) if old else "/dev/null",
            tofile=str(path),
        )
    )
