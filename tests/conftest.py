"""Shared fixtures: rendered variants (once per session) and a loader for them."""

import importlib.util
import sys
import warnings
from pathlib import Path

import copier
import pytest

from mytitan_scaffold.template_source import template_root

from .variants import VARIANTS

REPO = Path(__file__).resolve().parents[1]


def render_answers(destination: Path, answers: dict) -> Path:
    """Render with plain copier, as a `copier copy` user would."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(template_root()),
            str(destination),
            data=answers,
            defaults=True,
            quiet=True,
            vcs_ref="HEAD",
            unsafe=False,
        )
    return destination


def import_package(model_dir: Path, alias: str):
    """Import a rendered model folder as a package named `alias`."""
    if alias in sys.modules:
        return sys.modules[alias]
    spec = importlib.util.spec_from_file_location(
        alias, model_dir / "__init__.py", submodule_search_locations=[str(model_dir)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def rendered_variants(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("variants")
    return {
        name: render_answers(root / name, answers) for name, answers in VARIANTS.items()
    }
