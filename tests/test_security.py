"""Answers are data: no code runs from them, no file lands outside the models folder."""

import sys

import pytest
import yaml

from mytitan_scaffold.answers import questions
from mytitan_scaffold.cli import run
from mytitan_scaffold.template_source import template_root

from .conftest import render_answers
from .test_cli import tree_hash


def test_template_needs_no_trust():
    spec = yaml.safe_load((template_root() / "copier.yml").read_text())
    assert not {"_tasks", "_migrations", "_jinja_extensions"} & spec.keys()


STRING_QUESTIONS = [
    q.name for q in questions().values() if q.type == "str" and not q.choices
]


@pytest.mark.parametrize("question", STRING_QUESTIONS)
def test_jinja_in_answers_is_never_evaluated(tmp_path, question):
    payload = "{{ 7 * 7 }}{% for x in range(3) %}x{% endfor %}"
    with pytest.raises(ValueError):
        render_answers(tmp_path / "m", {question: payload})
    assert not (tmp_path / "m").exists()


def test_jinja_in_flavor_names_is_never_evaluated(tmp_path):
    with pytest.raises(ValueError, match="must be letters"):
        render_answers(tmp_path / "m", {"extra_flavors": {"{{ 7 * 7 }}": {"dim": 512}}})


@pytest.mark.parametrize(
    "name", ["../escape", "/tmp/escape", "a/../../escape", "models/../../x"]
)
def test_model_name_cannot_leave_the_models_dir(tmp_path, monkeypatch, capsys, name):
    project = tmp_path / "outer" / "project"
    project.mkdir(parents=True)
    before = tree_hash(tmp_path)
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["mytitan", "new", name, "--defaults"])
    with pytest.raises(SystemExit) as exit_info:
        run()
    assert exit_info.value.code == 2
    assert "lower_snake_case" in capsys.readouterr().err
    assert tree_hash(tmp_path) == before
