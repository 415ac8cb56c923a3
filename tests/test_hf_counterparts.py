"""The transformers class a model names is one it matches: each class's recipe,
and every model one option away from it, either exports to the class it names
with equal logits (and its config.json reads back through --from-hf as the same
model), or names none and says what the nearest class would need (rendered for
each option change and each nearest class; the table's answer checked for all).

One option away is where a counterpart rule can be too loose: post-norm with
qk-norm across heads is OLMo 2, but with a sliding window it is OLMo 3 (OLMo 2
has no window, and once claimed such models with logits 1.49 apart).

Two options away is where a class can take a model its table forgets a need of:
Ministral (one RoPE for every layer) once claimed models scaling RoPE in their
global layers only, a change that needs scaled RoPE first (logits 0.028 apart). So
within each class, every pair of option values that some model of the class
holds is also exported, by the neighbours or by a few more of its models (chosen
from an enumeration of millions, and committed: tests/hf_classes.py says how).
"""

import json
import sys

import pytest

from . import option_matrix
from .conftest import (
    assert_hf_class_gives_equal_logits,
    assert_hf_config_reads_back,
    import_package,
    render_answers,
)
from .hf_classes import (
    FIRST,
    NEIGHBOURS,
    RECIPES,
    REFRESH,
    class_members,
    committed_cover,
    compute_cover,
    enumerated_class_members,
    fingerprint,
)
from .option_matrix import answers, hf_class, valid


@pytest.mark.parametrize("architecture, recipe", RECIPES, ids=[a for a, _ in RECIPES])
def test_each_recipe_names_its_class(tmp_path, architecture, recipe):
    combination = FIRST | recipe
    # One of the class's models, by copier.yml's table, and so by the rendered adapter.
    assert valid(combination) and hf_class(combination) == architecture
    model_dir = render_answers(tmp_path / "m", answers(combination, "recipe"))
    alias = f"recipe_{architecture}_{len(sys.modules)}"
    import_package(model_dir, alias)
    adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
    assert adapter.HF_ARCHITECTURE == architecture


def _nearest(combination: dict) -> dict:
    """The nearest class of copier.yml's table and its unmet needs (none when the
    model names it), without rendering."""
    table = option_matrix._hf_nearest()[1]
    return json.loads(table.render(option_matrix._table_context(combination)))


# Each neighbour's nearest class, in NEIGHBOURS' order (their names repeat where a
# class has two recipes), read from the table once for both tests below.
NEAREST = [_nearest(combination) for _, combination in NEIGHBOURS]


def _rendered_neighbours() -> list[tuple[str, dict, dict]]:
    """The neighbours that name a class, all of them, and of those that name none
    (most of them) each first one to change an option to a value or to be nearest
    to a class: what rendering them adds is that the adapter says what the table
    says, and the test below checks the table's answer for all of them."""
    seen, result = set(), []
    for (name, combination), nearest in zip(NEIGHBOURS, NEAREST, strict=True):
        if nearest["unmet"]:
            marks = {name.partition("-")[2], nearest["architecture"]}
            if marks <= seen:
                continue
            seen |= marks
        result.append((name, combination, nearest))
    return result


RENDERED_NEIGHBOURS = _rendered_neighbours()


def test_a_model_one_option_away_from_every_class_is_nearest_one_of_its_kind():
    """A model one option away that names no class is told what the nearest class
    of its own kind, dense or MoE, would need."""
    refused = [
        (name, nearest)
        for (name, _), nearest in zip(NEIGHBOURS, NEAREST, strict=True)
        if nearest["unmet"]
    ]
    assert refused
    for name, nearest in refused:
        assert not {"MoE", "no MoE"} & set(nearest["unmet"]), name


@pytest.mark.slow
@pytest.mark.parametrize(
    ("combination", "nearest"),
    [(c, n) for _, c, n in RENDERED_NEIGHBOURS],
    ids=[i for i, _, _ in RENDERED_NEIGHBOURS],
)
def test_one_option_away_exports_to_the_class_it_names(tmp_path, combination, nearest):
    model_dir = render_answers(tmp_path / "m", answers(combination, "neighbour"))
    alias = f"neighbour_{len(sys.modules)}"
    spec = import_package(model_dir, alias).get_train_spec()
    adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
    if adapter.HF_ARCHITECTURE is None:
        assert nearest["unmet"]
        assert adapter.NEAREST_HF_ARCHITECTURE == nearest["architecture"]
        assert list(adapter.NEAREST_HF_NEEDS) == nearest["unmet"], combination
        with pytest.raises(NotImplementedError, match=adapter.NEAREST_HF_ARCHITECTURE):
            adapter.hf_config(spec.model_args["debugmodel"])
    else:
        assert not nearest["unmet"]
        assert adapter.HF_ARCHITECTURE == nearest["architecture"]
        assert_hf_class_gives_equal_logits(spec, adapter, model_dir)
        assert_hf_config_reads_back(model_dir, spec, adapter, f"{alias}_back", tmp_path)


def test_committed_class_cover_is_current():
    """The models beyond the neighbours were chosen from what the class table and
    the option matrix are now, and every class that some model names has a recipe."""
    cover = committed_cover()
    assert cover["fingerprint"] == fingerprint(), (
        f"tests/data/class_cover.json is stale: run `{REFRESH}` (twenty to forty minutes) "
        "and commit it"
    )
    assert set(cover["members"]) == {a for a, _ in RECIPES}
    assert all(count > 0 for count in cover["members"].values())


# The search again (three minutes of every CI run, 183 s in the last): the
# fingerprint above already fails when anything it reads changes, so this checks
# only that the search gives what it gave, beside the enumeration below.
@pytest.mark.exhaustive
def test_committed_class_cover_is_what_the_search_gives():
    assert compute_cover() == committed_cover()


@pytest.mark.exhaustive  # the enumeration: hours on 2 cores
def test_the_search_finds_every_model_the_enumeration_names():
    assert class_members() == enumerated_class_members()


@pytest.mark.slow
@pytest.mark.parametrize("architecture", sorted({a for a, _ in RECIPES}))
def test_every_pair_within_a_class_exports_to_it(tmp_path, architecture):
    beyond = committed_cover()["beyond_neighbours"][architecture]
    for index, combination in enumerate(beyond):
        model_dir = render_answers(tmp_path / f"m{index}", answers(combination, "pair"))
        alias = f"pair_{len(sys.modules)}"
        spec = import_package(model_dir, alias).get_train_spec()
        adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
        assert hf_class(combination) == adapter.HF_ARCHITECTURE == architecture
        try:
            assert_hf_class_gives_equal_logits(spec, adapter, model_dir)
            back = tmp_path / f"back{index}"
            back.mkdir()
            assert_hf_config_reads_back(model_dir, spec, adapter, f"{alias}_back", back)
        except AssertionError as error:
            raise AssertionError(f"{combination}: {error}") from None
