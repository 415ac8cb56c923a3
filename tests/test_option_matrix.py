"""Every pair of option values renders clean code that builds, runs and counts its
parameters, and exports to the transformers class it names (if any) with equal
logits; `pytest -m exhaustive tests/test_option_matrix.py` runs the full matrix."""

import itertools
import sys
from pathlib import Path

import pytest
import torch

from . import option_matrix
from .conftest import (
    assert_hf_class_gives_equal_logits,
    assert_parameter_counts,
    assert_ruff_clean,
    debug_model,
    import_package,
    render_answers,
)
from .option_matrix import (
    CLAMPED_MOE,
    MLA_TAKES,
    MOE_LAYOUTS,
    OPTIONS,
    UNROTATED,
    answers,
    full_matrix,
    full_matrix_size,
    pairwise,
    possible_pairs,
    valid,
    value_pairs,
)

PAIRWISE = pairwise()


def test_pairwise_set_covers_every_pair():
    covered = set().union(*map(value_pairs, PAIRWISE))
    assert possible_pairs() <= covered
    assert all(valid(combination) for combination in PAIRWISE)
    # MoE needs SwiGLU, Llama's HF layout and no bias beyond q/k/v (gpt-oss's recipe
    # the clamped SwiGLU, which nothing else takes, and a bias on every
    # projection, which latent attention lacks), a rotated share,
    # NoPE layers and a qk-norm after RoPE need RoPE, scaling the global layers only
    # needs global layers and a scaled RoPE other than LongRoPE, a local RoPE base
    # needs RoPE and global layers, embeddings take one scale, the attention
    # temperature needs one kind of RoPE scaled from an original context, and
    # latent attention takes only some options: the only pairs no valid
    # combination can hold.
    impossible = {
        pair
        for a, b in itertools.combinations(OPTIONS, 2)
        for va, vb in itertools.product(OPTIONS[a], OPTIONS[b])
        if (pair := tuple(sorted([(a, va), (b, vb)]))) not in possible_pairs()
    }
    swiglu_moe = [moe for moe in OPTIONS["moe"][1:] if moe != CLAMPED_MOE]
    assert impossible == {
        (("ffn", ffn), ("moe", moe))
        for ffn in ("geglu", "gelu", "gelu_tanh", "relu2", "clamped_swiglu")
        for moe in swiglu_moe
    } | {
        (("ffn", ffn), ("moe", CLAMPED_MOE))
        for ffn in OPTIONS["ffn"]
        if ffn != "clamped_swiglu"
    } | {(("ffn", "clamped_swiglu"), ("moe", "off"))} | {
        tuple(sorted([("hf_layout", layout), pair]))
        for layout in OPTIONS["hf_layout"]
        if layout not in MOE_LAYOUTS
        for pair in [
            *(("moe", moe) for moe in OPTIONS["moe"][1:]),
            ("ffn", "clamped_swiglu"),
        ]
    } | {(("bias", "every"), ("moe", moe)) for moe in swiglu_moe} | {
        tuple(sorted([("bias", bias), pair]))
        for bias in ("none", "qkv")
        for pair in (("moe", CLAMPED_MOE), ("ffn", "clamped_swiglu"))
    } | {
        tuple(sorted([("attention", latent), pair]))
        for latent in ("mla", "mla_bottleneck")
        for pair in (("moe", CLAMPED_MOE), ("ffn", "clamped_swiglu"))
    } | {
        pair
        for positional in UNROTATED
        for pair in (
            (("positional", positional), ("rope_share", "half")),
            (("positional", positional), ("qk_norm", "head_after_rope")),
            (("nope_layers", "every_2nd"), ("positional", positional)),
            (("local_rope_base", "own"), ("positional", positional)),
        )
    } | {
        (("positional", positional), ("rope_scaling_layers", "global"))
        for positional in ("rope", "rope_longrope", *UNROTATED)
    } | {
        (("attention_window", window), ("rope_scaling_layers", "global"))
        for window in ("full", "all_local")
    } | {
        (("attention_window", window), ("local_rope_base", "own"))
        for window in ("full", "all_local")
    } | {(("embeddings", "scaled"), ("multipliers", "granite"))} | {
        tuple(sorted([("attention", latent), (name, value)]))
        for latent in ("mla", "mla_bottleneck")
        for name, kept in MLA_TAKES.items()
        for value in OPTIONS[name]
        if value not in kept
    } | {
        # Both need global layers, which latent attention's full attention lacks.
        tuple(sorted([("attention", latent), pair]))
        for latent in ("mla", "mla_bottleneck")
        for pair in (("local_rope_base", "own"), ("rope_scaling_layers", "global"))
    } | {
        # The attention temperature counts positions in the original context of
        # a scaled RoPE, of one kind in every layer.
        tuple(sorted([("attention_temperature", True), pair]))
        for pair in [
            *(("positional", p) for p in ("rope", "rope_linear", *UNROTATED)),
            ("local_rope_base", "own"),
            ("rope_scaling_layers", "global"),
        ]
    }
    assert len(PAIRWISE) < full_matrix_size() // 10


def test_readme_gives_the_matrix_sizes():
    """The README's sizes are the matrix's: they went stale once, by hand."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    readme = " ".join(readme.split())
    assert f"{len(PAIRWISE)} combinations cover every pair" in readme
    assert f"all {full_matrix_size()} " in readme


def test_full_matrix_size_counts_what_full_matrix_yields(monkeypatch):
    # The first and last values of the options the rules tie together and of two
    # free ones, the last of the rest: few enough to enumerate, with combinations
    # the rules refuse.
    two = ["moe", "ffn", "hf_layout", "positional", "rope_share", "nope_layers"]
    two += ["embeddings", "multipliers", "attention_window", "local_rope_base"]
    two += ["rope_scaling_layers", "bias", "weight_tying", "attention", "qk_norm"]
    two += ["attention_temperature"]
    small = {
        name: [values[0], values[-1]] if name in two else values[-1:]
        for name, values in OPTIONS.items()
    }
    monkeypatch.setattr(option_matrix, "OPTIONS", small)
    full_matrix_size.cache_clear()
    try:
        assert full_matrix_size() == sum(1 for _ in full_matrix())
        assert 0 < full_matrix_size() < 2 ** len(two)
    finally:
        full_matrix_size.cache_clear()


def _check(tmp_path, combination, alias):
    model_dir = render_answers(tmp_path / "m", answers(combination, "matrix"))
    assert_ruff_clean(model_dir)
    spec = import_package(model_dir, alias).get_train_spec()
    assert_parameter_counts(spec)
    adapter = sys.modules[f"{alias}.model.state_dict_adapter"]
    if adapter.HF_ARCHITECTURE is None:
        assert adapter.NEAREST_HF_NEEDS, combination  # says why
    else:
        assert_hf_class_gives_equal_logits(spec, adapter, model_dir)
    model = debug_model(spec)
    # The adapter's names (and fused matrices) convert back to the same weights.
    hf_adapter = spec.state_dict_adapter(spec.model_args["debugmodel"], None)
    weights = model.state_dict()
    back = hf_adapter.from_hf(hf_adapter.to_hf(weights))
    assert back.keys() == weights.keys(), combination
    assert all(torch.equal(back[key], weights[key]) for key in weights), combination
    tokens = torch.randint(0, spec.model_args["debugmodel"].vocab_size, (2, 16))
    model(tokens).float().logsumexp(-1).mean().backward()
    assert all(p.grad is not None for p in model.parameters()), combination


@pytest.mark.parametrize("index", range(len(PAIRWISE)))
def test_pairwise_combination(tmp_path, index):
    _check(tmp_path, PAIRWISE[index], f"pairwise_{index}")


# One test per CHUNK combinations: one per combination took minutes and
# gigabytes to collect, in every run, for a matrix only `-m exhaustive` runs
# (and a thousand per test, 16 s once the matrix passed a hundred million).
CHUNK = 10000


@pytest.mark.exhaustive
@pytest.mark.parametrize("chunk", range(-(-full_matrix_size() // CHUNK)))
def test_full_matrix_chunk(tmp_path, chunk):
    start = chunk * CHUNK
    combinations = itertools.islice(full_matrix(), start, start + CHUNK)
    for index, combination in enumerate(combinations, start):
        try:
            _check(tmp_path / str(index), combination, f"full_{index}")
        except AssertionError as error:
            raise AssertionError(
                f"combination {index}, {combination}: {error}"
            ) from None
