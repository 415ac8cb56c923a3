"""Import a rendered model folder as a package, without its project's registry."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .errors import MytitanError


def load_model_package(model_dir: Path, alias: str | None = None) -> ModuleType:
    """The package in `model_dir`, imported as `alias` (default: a private name
    derived from the path); its relative imports work."""
    init = model_dir / "__init__.py"
    if not init.is_file():
        raise MytitanError(
            f"{model_dir} is not a model package: pass a folder made by `mytitan new`"
        )
    alias = alias or f"_mytitan_model_{abs(hash(model_dir.resolve()))}"
    if alias in sys.modules:
        return sys.modules[alias]
    spec = importlib.util.spec_from_file_location(
        alias, init, submodule_search_locations=[str(model_dir)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[alias]
        raise
    return module
