"""examples/ is exactly what the template renders from the committed answers."""

import filecmp
from pathlib import Path

from mytitan_scaffold.answers import load_data_file
from mytitan_scaffold.new_model import create_model
from mytitan_scaffold.project import resolve_target

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "models"
REFRESH = "scripts/refresh_examples.sh"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_reference_model_has_no_drift(tmp_path, monkeypatch):
    # Render as the refresh script does: the default template cache, so that
    # `_src_path` is the same text as in the committed answers.
    monkeypatch.delenv("MYTITAN_CACHE_DIR", raising=False)
    answers = load_data_file(EXAMPLES / "mytransformer" / ".copier-answers.yml")
    target = resolve_target(tmp_path / "models", None, "models")
    create_model("mytransformer", answers, target)
    fresh, committed = tmp_path / "models", EXAMPLES
    assert _files(fresh) == _files(committed), f"file set drifted: run {REFRESH}"
    drifted = [
        name
        for name in sorted(_files(committed))
        if not filecmp.cmp(fresh / name, committed / name, shallow=False)
    ]
    assert not drifted, f"{drifted} differ from a fresh render: run {REFRESH}"
