"""Add a model name to a `_supported_models = frozenset([...])` registry with libcst.

libcst keeps the file's formatting and comments; the new name goes where a sorted
list wants it (or last when the list is not sorted), in the list's own layout. A
one-line list that the new name pushes past 88 characters is wrapped as ruff format
(and black) would wrap it, so a formatted file stays formatted.
"""

from __future__ import annotations

import libcst as cst

from .errors import MytitanError

REGISTRY_NAME = "_supported_models"
# ruff's and black's default, which torchtitan's own formatting keeps.
LINE_LENGTH = 88

from .new_registry import new_registry_source  # noqa: F401 (part of this API)


def _shape_error(path: str, detail: str) -> MytitanError:
    return MytitanError(
        f"registry {path}: {detail}; mytitan needs "
        f"`{REGISTRY_NAME} = frozenset([...])` of string literals there "
        "(fix the file, or add the name by hand)"
    )


def _registry_elements(
    module: cst.Module, path: str
) -> tuple[cst.Call, cst.BaseSet | cst.List | cst.Tuple]:
    """The frozenset call and its literal collection; refuse any other shape."""
    found = None
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == REGISTRY_NAME
                for t in small.targets
            ):
                if found is not None:
                    raise _shape_error(path, f"`{REGISTRY_NAME}` is assigned twice")
                found = small.value
    if found is None:
        raise _shape_error(path, f"no top-level `{REGISTRY_NAME} = ...`")
    if not (
        isinstance(found, cst.Call)
        and isinstance(found.func, cst.Name)
        and found.func.value == "frozenset"
        and len(found.args) == 1
        and isinstance(found.args[0].value, (cst.List, cst.Set, cst.Tuple))
    ):
        raise _shape_error(path, f"`{REGISTRY_NAME}` is not frozenset([...])")
    collection = found.args[0].value
    for element in collection.elements:
        if not isinstance(element.value, cst.SimpleString):
            raise _shape_error(path, f"`{REGISTRY_NAME}` holds a non-literal")
    return found, collection


def registered_names(source: str, path: str = "<registry>") -> list[str]:
    """The names a registry source lists, in order."""
    module = _parse(source, path)
    _, collection = _registry_elements(module, path)
    return [e.value.evaluated_value for e in collection.elements]


def _parse(source: str, path: str) -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise MytitanError(
            f"registry {path} has a Python syntax error at line {error.raw_line}: "
            "fix it first, then run mytitan again"
        ) from None


class _AddName(cst.CSTTransformer):
    def __init__(self, collection: cst.CSTNode, name: str):
        self.collection = collection
        self.name = name

    def leave_List(self, original, updated):
        return self._add(original, updated)

    def leave_Set(self, original, updated):
        return self._add(original, updated)

    def leave_Tuple(self, original, updated):
        return self._add(original, updated)

    def _add(self, original, updated):
        if original is not self.collection:
            return updated
        elements = list(updated.elements)
        values = [e.value.evaluated_value for e in elements]
        at = len(elements)
        if values == sorted(values):
            at = next((i for i, v in enumerate(values) if v > self.name), len(values))
        new = cst.Element(cst.SimpleString(f'"{self.name}"'))
        if not elements:
            return updated.with_changes(elements=[new])
        separator = _separator(updated, elements)
        if at == len(elements):
            last_comma = elements[-1].comma
            elements[-1] = elements[-1].with_changes(comma=separator)
            elements.append(new.with_changes(comma=last_comma))
        else:
            elements.insert(at, new.with_changes(comma=separator))
        return updated.with_changes(elements=elements)


def _without_comment(comma: cst.Comma) -> cst.Comma:
    """The same comma, minus any comment that followed it (it belongs to its element)."""
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        return comma.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace())
        )
    return comma


def _separator(collection, elements) -> cst.Comma:
    """The comma-and-whitespace between two elements, in the collection's layout."""
    for element in elements[:-1]:
        if isinstance(element.comma, cst.Comma):
            return _without_comment(element.comma)
    # One element: a multi-line collection indents elements as after its opening.
    if isinstance(collection, cst.Tuple):
        opening = collection.lpar[0] if collection.lpar else None
    else:
        opening = getattr(collection, "lbracket", None) or collection.lbrace
    whitespace = opening.whitespace_after if opening is not None else None
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=whitespace)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


_BRACKETS = {cst.List: "[]", cst.Set: "{}", cst.Tuple: "()"}


def _statement_fits(module: cst.Module, call: cst.Call) -> bool:
    """Whether every line of the registry's statement is within LINE_LENGTH."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and any(
            isinstance(small, cst.Assign) and small.value is call
            for small in statement.body
        ):
            code = cst.Module(body=[statement.with_changes(leading_lines=[])]).code
            return all(len(line) <= LINE_LENGTH for line in code.splitlines())
    return True


def _wrapped(collection: cst.BaseSet | cst.List | cst.Tuple) -> cst.Call:
    """`frozenset(...)` as ruff format lays out a line too long: the collection on
    its own line when that fits, else one name per line with a trailing comma."""
    opening, closing = _BRACKETS[type(collection)]
    names = [element.value.value for element in collection.elements]
    inner = f"    {opening}{', '.join(names)}{closing}"
    if len(inner) <= LINE_LENGTH:
        return cst.parse_expression(f"frozenset(\n{inner}\n)")
    lines = "".join(f"        {name},\n" for name in names)
    return cst.parse_expression(f"frozenset(\n    {opening}\n{lines}    {closing}\n)")


def add_model(source: str, name: str, path: str = "<registry>") -> str:
    """`source` with `name` in its registry; unchanged when already listed."""
    module = _parse(source, path)
    call, collection = _registry_elements(module, path)
    if name in [e.value.evaluated_value for e in collection.elements]:
        return source
    fitted = _statement_fits(module, call)
    patched = module.visit(_AddName(collection, name))
    call, collection = _registry_elements(patched, path)
    one_line = "\n" not in patched.code_for_node(collection)
    # A comment inside the call (after "frozenset(") would not survive the rewrap.
    commented = "#" in patched.code_for_node(call)
    if fitted and one_line and not commented and not _statement_fits(patched, call):
        patched = patched.deep_replace(call, _wrapped(collection))
    return patched.code
