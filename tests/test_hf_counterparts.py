"""The transformers class a model names is one it matches: each class's recipe,
and every model one option away from it, either exports to the class it names
with equal logits (and its config.json reads back through --from-hf as the same
model), or names none and says what the nearest class would need.

One option away is where a counterpart rule can be too loose: post-norm with
qk-norm across heads is OLMo 2, but with a sliding window it is OLMo 3 (OLMo 2
has no window, and once claimed such models with logits 1.49 apart).

Two options away is where a class can take a model its table forgets a need of:
Ministral (one RoPE for every layer) once claimed models scaling RoPE in their
global layers only, a change that needs scaled RoPE first (logits 0.028 apart). So
within each class, every pair of option values that some model of the class
holds is also exported, by the neighbours or by a few more of its models.
"""

import functools
import itertools
import multiprocessing
import os
import sys

import pytest

from .conftest import (
    assert_hf_class_gives_equal_logits,
    assert_hf_config_reads_back,
    import_package,
    render_answers,
)
from .option_matrix import (
    OPTIONS,
    answers,
    hf_class,
    options_hf_class_reads,
    valid,
    value_pairs,
)

OLMO3 = {"norm_placement": "post", "qk_norm": "full", "attention_window": "interleaved"}
# Each class's recipes in the option matrix's terms, changed from its first values.
RECIPES = [
    ("LlamaForCausalLM", {}),
    ("MistralForCausalLM", {"attention_window": "all_local"}),
    ("MinistralForCausalLM", {"attention_window": "interleaved"}),
    ("Qwen2ForCausalLM", {"qkv_bias": True}),
    ("Qwen3ForCausalLM", {"qk_norm": "head"}),
    ("Olmo2ForCausalLM", {"norm_placement": "post", "qk_norm": "full"}),
    ("Olmo3ForCausalLM", OLMO3),
    # OLMo 3's released checkpoints: YaRN in the global layers only.
    (
        "Olmo3ForCausalLM",
        OLMO3 | {"positional": "rope_yarn", "rope_scaling_layers": "global"},
    ),
    ("MixtralForCausalLM", {"moe": "softmax_aux_loss"}),
    ("Qwen3MoeForCausalLM", {"moe": "softmax_aux_loss", "qk_norm": "head"}),
    ("OlmoeForCausalLM", {"moe": "softmax_aux_loss", "qk_norm": "full"}),
    ("Qwen2MoeForCausalLM", {"moe": "softmax_gated_shared", "qkv_bias": True}),
    ("Dots1ForCausalLM", {"moe": "sigmoid_bias_shared_groups", "qk_norm": "head"}),
    # GLM-4.5-Air's attention: qkv bias, RoPE on half of each head.
    (
        "Glm4MoeForCausalLM",
        {"moe": "sigmoid_bias_shared_groups", "qkv_bias": True, "rope_share": "half"},
    ),
    ("SmolLM3ForCausalLM", {"nope_layers": "every_2nd"}),
    ("StableLmForCausalLM", {"norm": "layernorm"}),
    ("Phi3ForCausalLM", {"hf_layout": "phi3"}),
    ("GlmForCausalLM", {"hf_layout": "glm"}),
    ("Glm4ForCausalLM", {"hf_layout": "glm", "norm_placement": "sandwich"}),
    ("GraniteForCausalLM", {"multipliers": "granite"}),
    (
        "CohereForCausalLM",
        {
            "norm": "layernorm_nobias",
            "norm_placement": "parallel",
            "hf_layout": "cohere",
        },
    ),
    (
        "Cohere2ForCausalLM",
        {
            "norm": "layernorm_nobias",
            "norm_placement": "parallel",
            "hf_layout": "cohere",
            "attention_window": "interleaved",
            "nope_layers": "every_2nd",
        },
    ),
    (
        "Gemma2ForCausalLM",
        {
            "norm_placement": "sandwich",
            "ffn": "geglu",
            "embeddings": "scaled",
            "attention_window": "interleaved",
            "attention_scores": "capped",
        },
    ),
    (
        "Gemma3ForCausalLM",
        {
            "norm_placement": "sandwich",
            "qk_norm": "head",
            "ffn": "geglu",
            "embeddings": "scaled",
            "attention_window": "interleaved",
            "local_rope_base": "own",
        },
    ),
]
FIRST = {name: values[0] for name, values in OPTIONS.items()}


def _neighbours() -> list[tuple[str, dict]]:
    """Each recipe, and each valid change of one of its options, once."""
    seen, result = set(), []
    for architecture, recipe in RECIPES:
        base = FIRST | recipe
        for option, values in OPTIONS.items():
            for value in values:
                combination = base | {option: value}
                key = tuple(sorted(combination.items()))
                if valid(combination) and key not in seen:
                    seen.add(key)
                    changed = "" if combination == base else f"-{option}={value}"
                    result.append((f"{architecture}{changed}", combination))
    return result


NEIGHBOURS = _neighbours()


@pytest.mark.parametrize("architecture, recipe", RECIPES, ids=[a for a, _ in RECIPES])
def test_each_recipe_names_its_class(tmp_path, architecture, recipe):
    combination = FIRST | recipe
    model_dir = render_answers(tmp_path / "m", answers(combination, "recipe"))
    alias = f"recipe_{architecture}_{len(sys.modules)}"
    import_package(model_dir, alias)
    adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
    assert adapter.HF_ARCHITECTURE == architecture


@pytest.mark.slow
@pytest.mark.parametrize(
    "combination", [c for _, c in NEIGHBOURS], ids=[i for i, _ in NEIGHBOURS]
)
def test_one_option_away_exports_to_the_class_it_names(tmp_path, combination):
    model_dir = render_answers(tmp_path / "m", answers(combination, "neighbour"))
    alias = f"neighbour_{len(sys.modules)}"
    spec = import_package(model_dir, alias).get_train_spec()
    adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
    if adapter.HF_ARCHITECTURE is None:
        assert adapter.NEAREST_HF_NEEDS, combination
        # The nearest class is of the model's own kind, dense or MoE.
        assert not {"MoE", "no MoE"} & set(adapter.NEAREST_HF_NEEDS)
        with pytest.raises(NotImplementedError, match=adapter.NEAREST_HF_ARCHITECTURE):
            adapter.hf_config(spec.model_args["debugmodel"])
    else:
        assert_hf_class_gives_equal_logits(spec, adapter, model_dir)
        assert_hf_config_reads_back(model_dir, spec, adapter, f"{alias}_back", tmp_path)


def _classes_of(first_value: str) -> list[tuple[dict, str]]:
    """(combination, class) for every valid combination of the options the class
    table reads, whose first such option has `first_value`, that names a class
    (the unread options at their first values)."""
    read = options_hf_class_reads()
    rest = {name: OPTIONS[name][0] for name in OPTIONS if name not in read}
    named = []
    for values in itertools.product(*(OPTIONS[name] for name in read[1:])):
        combination = {read[0]: first_value} | dict(zip(read[1:], values)) | rest
        if valid(combination) and (architecture := hf_class(combination)):
            named.append((combination, architecture))
    return named


@functools.cache
def _class_members() -> dict[str, list[dict]]:
    """Every valid combination that names a class, by class. The options the
    class table does not read multiply each member, so they are enumerated last.
    Millions of combinations: split over the CPU's cores, by the first option."""
    read = options_hf_class_reads()
    blind = [name for name in OPTIONS if name not in read]
    # Forked workers: only Jinja and json run in them.
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        named = itertools.chain(*pool.map(_classes_of, OPTIONS[read[0]]))
    members = {}
    for combination, architecture in named:
        for blind_values in itertools.product(*(OPTIONS[name] for name in blind)):
            members.setdefault(architecture, []).append(
                combination | dict(zip(blind, blind_values))
            )
    return members


def _beyond_neighbours(architecture: str) -> list[dict]:
    """Models of the class that, with the neighbours naming it, hold every pair
    of option values some model of the class holds (greedy, deterministic)."""
    members = _class_members()[architecture]
    uncovered = set().union(*map(value_pairs, members)) - set().union(
        *(value_pairs(c) for _, c in NEIGHBOURS if hf_class(c) == architecture)
    )
    chosen = []
    while uncovered:
        best = max(members, key=lambda c: len(value_pairs(c) & uncovered))
        chosen.append(best)
        uncovered -= value_pairs(best)
    return chosen


@pytest.mark.slow  # the enumeration: about 10 minutes on 2 cores, shared below
def test_every_class_has_models_and_its_recipe_is_one():
    members = _class_members()
    assert {a for a, _ in RECIPES} == set(members)
    for architecture, recipe in RECIPES:
        assert FIRST | recipe in members[architecture]


@pytest.mark.slow
@pytest.mark.parametrize("architecture", sorted({a for a, _ in RECIPES}))
def test_every_pair_within_a_class_exports_to_it(tmp_path, architecture):
    for index, combination in enumerate(_beyond_neighbours(architecture)):
        model_dir = render_answers(tmp_path / f"m{index}", answers(combination, "pair"))
        alias = f"pair_{len(sys.modules)}"
        spec = import_package(model_dir, alias).get_train_spec()
        adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
        assert adapter.HF_ARCHITECTURE == architecture, combination
        try:
            assert_hf_class_gives_equal_logits(spec, adapter, model_dir)
            back = tmp_path / f"back{index}"
            back.mkdir()
            assert_hf_config_reads_back(model_dir, spec, adapter, f"{alias}_back", back)
        except AssertionError as error:
            raise AssertionError(f"{combination}: {error}") from None
