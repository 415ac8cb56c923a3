"""Where models go: a project's models folder, or a torchtitan checkout."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .errors import MytitanError


@dataclass(frozen=True)
class Target:
    models_dir: Path
    models_package: str
    in_tree: bool

    @property
    def registry_file(self) -> Path:
        return self.models_dir / "__init__.py"

    def model_dir(self, name: str) -> Path:
        return self.models_dir / name


def resolve_target(
    models_dir: Path | None,
    torchtitan_root: Path | None,
    models_package: str | None,
) -> Target:
    if models_dir is not None and torchtitan_root is not None:
        raise MytitanError(
            "--models-dir and --torchtitan-root exclude each other: pass one"
        )
    if torchtitan_root is not None:
        models = torchtitan_root / "torchtitan" / "models"
        if (
            not (models / "__init__.py").is_file()
            or not (torchtitan_root / "torchtitan" / "train.py").is_file()
        ):
            raise MytitanError(
                f"--torchtitan-root {torchtitan_root} is not a torchtitan checkout "
                "(no torchtitan/models/__init__.py or torchtitan/train.py): "
                "pass the folder that holds torchtitan/"
            )
        return Target(models, models_package or "torchtitan.models", in_tree=True)
    models = models_dir if models_dir is not None else Path("models")
    if models.exists() and not models.is_dir():
        raise MytitanError(
            f"--models-dir {models} is a file: pass a folder (it is created if missing)"
        )
    return Target(models, models_package or models.resolve().name, in_tree=False)


def torchtitan_builtin_models() -> frozenset[str]:
    """torchtitan's own model names, read from its source without importing it."""
    spec = importlib.util.find_spec("torchtitan")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = Path(spec.submodule_search_locations[0], "models", "__init__.py")
    try:
        tree = ast.parse(source.read_text())
    except (OSError, SyntaxError):
        return frozenset()
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "_supported_models" for t in node.targets)
            and isinstance(node.value, ast.Call)
            and node.value.args
        ):
            try:
                return frozenset(ast.literal_eval(node.value.args[0]))
            except ValueError:
                return frozenset()
    return frozenset()
