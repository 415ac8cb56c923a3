"""Answers for the template, read from the CLI's flags, `--data` and `--data-file`.

The questions, their types, choices, defaults and validators all live in copier.yml;
this module only reads that file to know which keys exist and how to parse a
command-line string into the question's type. Copier itself validates the values.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .errors import MytitanError
from .template_source import template_root

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    help: str
    choices: tuple[str, ...]
    # copier.yml's `when` condition without its braces; empty when always asked.
    when: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str, source: str) -> Any:
        """Convert a command-line string to this question's type."""
        try:
            match self.type:
                case "int":
                    return int(text)
                case "float":
                    return float(text)
                case "bool":
                    if text.lower() in _TRUE | _FALSE:
                        return text.lower() in _TRUE
                    raise ValueError
                case "yaml":
                    return yaml.safe_load(text)
                case _:
                    return text
        except (ValueError, yaml.YAMLError):
            raise MytitanError(
                f"{source}: {self.name} takes {_TYPE_WORDS[self.type]}, got {text!r}"
            ) from None


_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "yaml": "a YAML value such as {} or {8B: {dim: 4096}}",
    "str": "a string",
}


@cache
def questions() -> dict[str, Question]:
    """The askable questions of copier.yml, in order (computed values excluded)."""
    spec = yaml.safe_load((template_root() / "copier.yml").read_text())
    computed = _computed_conditions(spec)
    result = {}
    for name, body in spec.items():
        if name.startswith("_") or body.get("when") is False:
            continue
        choices = body.get("choices") or {}
        values = choices.values() if isinstance(choices, dict) else choices
        result[name] = Question(
            name=name,
            type=body.get("type", "str"),
            help=" ".join(str(body.get("help", "")).split()),
            choices=tuple(str(v) for v in values),
            when=_spelled_out(_condition(body.get("when")), computed),
        )
    return result


def _computed_conditions(spec: dict[str, Any]) -> dict[str, str]:
    """copier.yml's computed yes/no values (rotary), each as the condition on the
    answers that defines it."""
    return {
        name: _condition(body.get("default"))
        for name, body in spec.items()
        if not name.startswith("_")
        and body.get("when") is False
        and body.get("type") == "bool"
    }


def _spelled_out(condition: str, computed: dict[str, str]) -> str:
    """`condition` in terms of answers a user gives: each computed value in it
    replaced by its definition, as an error message must name what to change."""
    if condition in computed:
        return computed[condition]
    for name, definition in computed.items():
        condition = re.sub(rf"\b{name}\b", f"({definition})", condition)
    return condition


def _condition(when: Any) -> str:
    """A `when` template without its braces: "moe" for "{{ moe }}"."""
    return str(when or "").strip().removeprefix("{{").removesuffix("}}").strip()


def check_used(given: dict[str, str], recorded: dict[str, Any]) -> None:
    """Refuse an answer from the command line that the rendered model does not
    record: copier asks its question only when a condition (copier.yml's `when`)
    holds, so the answer would be dropped silently. `given` maps each answer to
    the option that gave it."""
    for key, source in given.items():
        if key not in recorded:
            raise MytitanError(
                f"{source} is not used: copier.yml asks {key} only when "
                f"{questions()[key].when}, which these answers leave false: "
                f"give that answer too, or drop {source}"
            )


def _question(key: str, source: str) -> Question:
    known = questions()
    if key in known:
        return known[key]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "see `mytitan new --help`"
    raise MytitanError(f"{source}: unknown answer {key!r}: {hint}")


def parse_data_pairs(pairs: list[str]) -> dict[str, Any]:
    """`--data KEY=VALUE` pairs, each parsed into its question's type."""
    answers = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise MytitanError(
                f"--data {pair!r} is not KEY=VALUE: write e.g. --data n_layers=12"
            )
        question = _question(key.strip(), f"--data {pair}")
        answers[question.name] = question.parse(text, f"--data {pair}")
    return answers


def load_data_file(path: Path) -> dict[str, Any]:
    """Answers from a YAML mapping (e.g. another model's .copier-answers.yml).

    Keys that start with `_` are copier's bookkeeping and are skipped.
    """
    source = f"--data-file {path}"
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise MytitanError(f"{source}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MytitanError(
            f"{source} is not valid YAML{where}: fix it to a KEY: VALUE mapping"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MytitanError(f"{source} must be a KEY: VALUE mapping of answers")
    answers = {}
    for key, value in data.items():
        if isinstance(key, str) and key.startswith("_"):
            continue
        answers[_question(str(key), source).name] = value
    return answers
