"""`mytitan update`: carry template changes into rendered models with copier's
3-way merge, offline, keeping every user edit (conflicts are left inline)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
from copier.errors import CopierError
from plumbum.commands.processes import ProcessExecutionError

from . import registry
from . import template_history as history
from .answers import check_used
from .atomic import replace_file
from .errors import MytitanError
from .render import recorded_answers
from .template_history import git

CONFLICT_EXIT_CODE = 4
_MARKER = "<<<<<<< "


@dataclass
class UpdateResult:
    model_dir: Path
    from_version: str
    to_version: str
    conflicts: list[Path] = field(default_factory=list)
    registry_restored: bool = False
    diff: str = ""
    answers: dict[str, Any] = field(default_factory=dict)  # recorded after it


def model_dirs(models_dir: Path) -> list[Path]:
    """Every rendered model directly under a models folder."""
    return sorted(p.parent for p in models_dir.glob("*/.copier-answers.yml"))


def _project_root(model_dir: Path) -> Path:
    try:
        return Path(git("rev-parse", "--show-toplevel", cwd=model_dir).strip())
    except MytitanError:
        raise MytitanError(
            f"{model_dir} is not in a git repository, which copier update needs: "
            "run `git init && git add -A && git commit -m models` in your project"
        ) from None


def _check_clean(model_dir: Path) -> None:
    status = git(
        "status", "--porcelain", "--untracked-files=all", "--", ".", cwd=model_dir
    )
    if status.strip():
        raise MytitanError(
            f"{model_dir} has uncommitted changes: commit or stash them first, so the "
            "update can merge against them"
        )


def _conflicts(model_dir: Path) -> list[Path]:
    found = []
    for path in sorted(model_dir.rglob("*")):
        if not path.is_file() or ".git" in path.parts:
            continue
        if path.suffix == ".rej":
            found.append(path)
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if any(line.startswith(_MARKER) for line in text.splitlines()):
            found.append(path)
    return found


def _ensure_registered(model_dir: Path, name: str) -> bool:
    """Put `name` back in the models folder's registry if it went missing."""
    path = model_dir.parent / "__init__.py"
    if not path.is_file():
        replace_file(path, registry.new_registry_source(name))
        return True
    source = path.read_text()
    patched = registry.add_model(source, name, str(path))
    if patched != source:
        replace_file(path, patched)
    return patched != source


def _run_copier_update(
    model_dir: Path, data: dict[str, Any], vcs_ref: str | None
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            copier.run_update(
                str(model_dir),
                data=data,
                defaults=True,
                overwrite=True,
                skip_answered=True,
                conflict="inline",
                vcs_ref=vcs_ref,
                quiet=True,
                unsafe=False,
            )
        except ValueError as error:
            raise MytitanError(" ".join(str(error).split())) from None
        except (CopierError, ProcessExecutionError) as error:  # e.g. a lost revision
            name = type(error).__name__
            raise MytitanError(
                f"copier update failed ({name}: {' '.join(str(error).split())}): "
                "check `_src_path` and `_commit` in .copier-answers.yml"
            ) from None


def _target_ref(to: str | None) -> str | None:
    if to is not None:
        return to
    return history.release_tag() if history.is_released() else None


def update_model(
    model_dir: Path,
    data: dict[str, Any] | None = None,
    *,
    to: str | None = None,
    dry_run: bool = False,
) -> UpdateResult:
    """Update one model folder; conflicts stay inline and are reported."""
    answers = recorded_answers(model_dir)
    if history.BUNDLE.is_file():
        history.materialize()  # the old and new template revisions, offline
    _project_root(model_dir)
    _check_clean(model_dir)
    vcs_ref = _target_ref(to)
    if dry_run or data:
        # A throwaway update first: it shows (or, with changed answers, checks that
        # copier uses each one) before the folder changes.
        rehearsed = _dry_run(model_dir, answers, data or {}, vcs_ref)
        check_used({key: f"--data {key}" for key in data or {}}, rehearsed.answers)
        if dry_run:
            return rehearsed
    _run_copier_update(model_dir, data or {}, vcs_ref)
    after = recorded_answers(model_dir)
    return UpdateResult(
        model_dir=model_dir,
        from_version=str(answers.get("_commit")),
        to_version=str(after.get("_commit")),
        conflicts=_conflicts(model_dir),
        registry_restored=_ensure_registered(model_dir, after["model_name"]),
    )


def _dry_run(
    model_dir: Path, answers: dict, data: dict[str, Any], vcs_ref: str | None
) -> UpdateResult:
    """Update a throwaway git copy of the folder and report the diff."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / model_dir.name
        shutil.copytree(model_dir, copy)
        git("init", "--quiet", cwd=copy)
        git("add", "--all", cwd=copy)
        git(*history.GIT_IDENTITY, "commit", "--quiet", "-m", "before", cwd=copy)
        _run_copier_update(copy, data, vcs_ref)
        git("add", "--all", cwd=copy)
        diff = subprocess.run(
            ["git", "diff", "--cached", "--stat", "--patch"],
            cwd=copy,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        after = recorded_answers(copy)
        conflicts = [model_dir / p.relative_to(copy) for p in _conflicts(copy)]
    return UpdateResult(
        model_dir=model_dir,
        from_version=str(answers.get("_commit")),
        to_version=str(after.get("_commit")),
        conflicts=conflicts,
        diff=diff,
        answers=after,
    )
