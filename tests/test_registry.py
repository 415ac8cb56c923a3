"""The libcst registry patch: layouts kept, idempotent, odd shapes refused."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mytitan_scaffold import registry
from mytitan_scaffold.errors import MytitanError


def _names(source: str) -> list[str]:
    return registry.registered_names(source)


def test_new_registry_lists_the_model_and_registers_it():
    source = registry.new_registry_source("demo")
    assert _names(source) == ["demo"]
    ast.parse(source)
    assert "register_train_spec" in source and "_supported_models" in source


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            '_supported_models = frozenset(["a", "c"])\n',
            '_supported_models = frozenset(["a", "b", "c"])\n',
        ),
        (
            "_supported_models = frozenset([])\n",
            '_supported_models = frozenset(["b"])\n',
        ),
        (  # unsorted lists get the name last
            '_supported_models = frozenset(["z", "a"])\n',
            '_supported_models = frozenset(["z", "a", "b"])\n',
        ),
        (  # torchtitan's own two-level layout
            '_supported_models = frozenset(\n    ["a", "c", "d"]\n)\n',
            '_supported_models = frozenset(\n    ["a", "b", "c", "d"]\n)\n',
        ),
        (  # one element per line, trailing comma, comments
            (
                "# models\n"
                "_supported_models = frozenset(\n"
                "    [\n"
                '        "a",  # first\n'
                '        "c",\n'
                "    ]\n"
                ")  # end\n"
            ),
            (
                "# models\n"
                "_supported_models = frozenset(\n"
                "    [\n"
                '        "a",  # first\n'
                '        "b",\n'
                '        "c",\n'
                "    ]\n"
                ")  # end\n"
            ),
        ),
        (  # one element, multi-line: the new one gets the same indent
            '_supported_models = frozenset(\n    [\n        "a",\n    ]\n)\n',
            (
                "_supported_models = frozenset(\n"
                "    [\n"
                '        "a",\n'
                '        "b",\n'
                "    ]\n"
                ")\n"
            ),
        ),
        (  # set and tuple literals
            '_supported_models = frozenset({"a"})\n',
            '_supported_models = frozenset({"a", "b"})\n',
        ),
        (
            '_supported_models = frozenset(("c",))\n',
            '_supported_models = frozenset(("b", "c",))\n',
        ),
    ],
)
def test_add_keeps_the_layout(before, after):
    assert registry.add_model(before, "b") == after
    assert registry.add_model(after, "b") == after  # idempotent


def test_other_code_and_comments_are_untouched():
    source = (
        '"""Doc."""\n\n'
        "import os  # keep\n\n"
        "_supported_models = frozenset(['x'])  # registry\n\n"
        "def f():\n"
        "    return os.sep\n"
    )
    patched = registry.add_model(source, "y")
    assert patched == source.replace("['x']", "['x', \"y\"]")


def _ruff_format_check(paths: list[Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--diff", "--isolated"]
        + [str(path) for path in paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _torchtitans_registry() -> str:
    """The installed torchtitan's models/__init__.py, read without importing it."""
    package = importlib.util.find_spec("torchtitan").submodule_search_locations[0]
    return (Path(package) / "models" / "__init__.py").read_text()


def test_a_registry_outgrowing_its_line_is_wrapped_as_ruff_format_would(tmp_path):
    """Each name added keeps a formatted registry formatted: one line, then the
    list on its own line, then a name per line (torchtitan's own file is already
    at the second stage, so the first in-tree model takes it to the third)."""
    names = ["deepseek_v3", "gpt_oss", "llama3_ft", "m", "mytransformer", "q"] + [
        f"model_{i}" for i in range(4)
    ]
    starts = {
        "new": registry.new_registry_source("a_model"),
        "torchtitan": _torchtitans_registry(),
    }
    written = []
    for start, source in starts.items():
        _ruff_format_check([_write(tmp_path / f"{start}_0.py", source)])
        for step, name in enumerate(names, 1):
            source = registry.add_model(source, name)
            written.append(_write(tmp_path / f"{start}_{step}.py", source))
        assert sorted(_names(source)) == sorted(set(_names(starts[start]) + names))
    grown = "".join(p.read_text() for p in written if p.name.startswith("new_"))
    for layout in ("frozenset([", 'frozenset(\n    ["', "frozenset(\n    [\n"):
        assert layout in grown, f"the names never took the registry to {layout!r}"
    _ruff_format_check(written)


def test_an_already_long_line_keeps_the_users_layout():
    long = ", ".join(f'"name_{i}"' for i in range(12))
    before = f"_supported_models = frozenset([{long}])\n"
    assert registry.add_model(before, "zz") == before.replace("])", ', "zz"])')


def test_a_comment_inside_the_call_is_kept_rather_than_rewrapped():
    names = ", ".join(f'"name_{i}"' for i in range(8))
    before = f"_supported_models = frozenset(  # ours\n    [{names}]\n)\n"
    after = registry.add_model(before, "zz")
    assert "# ours" in after and _names(after)[-1] == "zz"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("x = 1\n", "no top-level"),
        ("_supported_models = set()\n", "is not frozenset"),
        ("_supported_models = frozenset(NAMES)\n", "is not frozenset"),
        ('_supported_models = frozenset(["a", name])\n', "non-literal"),
        (
            '_supported_models = frozenset(["a"])\n_supported_models = frozenset([])\n',
            "assigned twice",
        ),
        ("_supported_models = frozenset([\n", "syntax error"),
    ],
)
def test_unknown_shapes_are_refused(source, problem):
    with pytest.raises(MytitanError, match=problem):
        registry.add_model(source, "b", "models/__init__.py")
