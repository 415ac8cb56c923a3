"""The libcst registry patch: layouts kept, idempotent, odd shapes refused."""

import ast

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
