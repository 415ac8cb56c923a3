"""Render the template with copier (no tasks, no extensions: no --trust needed)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import copier
import yaml

from .errors import MytitanError
from .template_history import render_source


def render(
    destination: Path, answers: dict[str, Any], *, interactive: bool
) -> tuple[dict, dict]:
    """Render a model package into `destination`; return its recorded answers and
    two of copier.yml's computed values: the transformers class nearest to them
    (`hf_nearest`), and the layout to rehearse first (`rehearsal_layout`).

    Copier's validators (copier.yml) reject bad answers with a ValueError whose
    message says what is wrong and how to fix it.
    """
    src, vcs_ref = render_source()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # copier warns about a dirty checkout
            worker = copier.run_copy(
                src,
                str(destination),
                data=answers,
                defaults=not interactive,
                quiet=True,
                vcs_ref=vcs_ref,
                unsafe=False,
                overwrite=True,
            )
    except ValueError as error:
        raise MytitanError(_one_line(str(error))) from None
    combined = worker.answers.combined
    computed = {key: combined[key] for key in ("hf_nearest", "rehearsal_layout")}
    return recorded_answers(destination), computed


def recorded_answers(model_dir: Path) -> dict:
    """The answers a rendered model records in its .copier-answers.yml."""
    path = model_dir / ".copier-answers.yml"
    if not path.is_file():
        raise MytitanError(
            f"{model_dir} has no .copier-answers.yml: pass a folder made by `mytitan new`"
        )
    return yaml.safe_load(path.read_text()) or {}


def _one_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return " ".join(lines) or "copier rejected the answers"
