"""Property tests over the answer space, against plain copier (copier.yml's rules).

Every valid answer set renders Python that compiles and is ruff clean; every
invalid one is refused by a validator with nothing written. The default budget
keeps the suite fast; `pytest -m exhaustive` runs many more examples.
"""

import py_compile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import assert_ruff_clean, render_answers
from .option_matrix import MLA_TAKES, OPTIONS, TEMPERATURE_ROPE, UNROTATED

FAST = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
EXHAUSTIVE = settings(
    max_examples=300, deadline=None, suppress_health_check=list(HealthCheck)
)


@st.composite
def valid_answers(draw):
    kv = draw(st.sampled_from([1, 2, 4, 8]))
    heads = kv * draw(st.sampled_from([1, 2, 4]))
    explicit_head_dim = draw(st.booleans())
    head_dim = draw(st.sampled_from([16, 32, 64, 128])) if explicit_head_dim else 0
    dim = (
        heads * draw(st.sampled_from([16, 32, 64]))
        if not head_dim
        else draw(st.integers(1, 64)) * 64
    )
    explicit_ffn = draw(st.booleans())
    answers = {
        "model_name": "zz" + draw(st.from_regex(r"[a-z0-9_]{0,12}", fullmatch=True)),
        "vocab_size": draw(st.integers(256, 200_000)),
        "dim": dim,
        "n_layers": draw(st.integers(1, 64)),
        "n_heads": heads,
        "n_kv_heads": kv,
        "head_dim": head_dim,
        "qk_norm": draw(st.booleans()),
        "positional": draw(st.sampled_from(OPTIONS["positional"])),
        "norm": draw(st.sampled_from(OPTIONS["norm"])),
        "ffn": draw(st.sampled_from(["swiglu", "geglu", "gelu", "gelu_tanh", "relu2"])),
        "ffn_hidden_dim": draw(st.integers(1, 256)) * 32 if explicit_ffn else 0,
        "weight_tying": draw(st.booleans()),
        "output_bias": draw(st.booleans()),
        "embedding_norm": draw(st.booleans()),
        "max_seq_len": draw(st.sampled_from([2048, 8192, 131072])),
    }
    # qkv_bias is asked only without linear_bias, which implies it.
    if draw(st.booleans()):
        answers["linear_bias"] = True
    else:
        answers["qkv_bias"] = draw(st.booleans())
    if draw(st.sampled_from([False, False, False, True])):
        # Latent attention, with what it takes of the rest: no key/value heads,
        # qk-norm or biases of its own, and RoPE (unscaled, Llama 3's, YaRN or
        # linear) on a part of every head of its own.
        del answers["n_kv_heads"]
        answers.pop("linear_bias", None)
        answers |= {"attention": "mla", "qk_norm": False, "qkv_bias": False}
        answers["positional"] = draw(st.sampled_from(MLA_TAKES["positional"]))
        answers["mla_q_lora_rank"] = draw(st.sampled_from([0, 64, 1536]))
        answers["mla_kv_lora_rank"] = draw(st.sampled_from([32, 512]))
        answers["mla_rope_head_dim"] = draw(st.sampled_from([16, 64]))
        answers["mla_v_head_dim"] = draw(st.sampled_from([32, 128]))
        answers["mla_norm_eps"] = draw(st.sampled_from([1e-6, 1e-5, 0.1]))
    elif answers["qk_norm"]:
        # The option matrix's qk-norm values are scopes, but for the after-RoPE one.
        scopes = [v for v in OPTIONS["qk_norm"][1:] if v != "head_after_rope"]
        answers["qk_norm_scope"] = draw(st.sampled_from(scopes))
        if (
            answers["qk_norm_scope"] != "full"
            and answers["positional"] not in UNROTATED
        ):
            answers["qk_norm_after_rope"] = draw(st.booleans())
    if answers["positional"] not in UNROTATED and "attention" not in answers:
        # Head dimensions here are multiples of 16: every share rotates an even count.
        answers["rope_fraction"] = draw(st.sampled_from([1.0, 0.5, 0.25]))
    if answers["positional"] == "rope_longrope":
        # One factor per rotated pair; their lengths as text decide the layout.
        head = head_dim or dim // heads
        pairs = int(head * answers["rope_fraction"]) // 2
        factors = st.lists(st.floats(1e-6, 100.0), min_size=pairs, max_size=pairs)
        answers["rope_short_factor"] = draw(factors)
        answers["rope_long_factor"] = draw(factors)
    if answers["positional"] == "rope_yarn":
        # YaRN's mscales (0 is the paper's YaRN), any positive mscale.
        mscale_all_dim = draw(st.sampled_from([0.0, 0.707, 1.0]))
        answers["rope_yarn_mscale_all_dim"] = mscale_all_dim
        if mscale_all_dim:
            answers["rope_yarn_mscale"] = draw(st.floats(0.01, 10.0))
    if answers["positional"] in TEMPERATURE_ROPE and "attention" not in answers:
        # Llama 4's attention temperature, or none.
        answers["attn_temperature_beta"] = draw(st.sampled_from([0.0, 0.1, 2.5]))
    extra = {}
    if draw(st.booleans()):
        extra["Big"] = {"n_layers": draw(st.integers(1, 128)), "dim": dim * 2}
        if head_dim:
            extra["Big"]["head_dim"] = head_dim
        if explicit_ffn:
            extra["Big"]["ffn_hidden_dim"] = answers["ffn_hidden_dim"] * 2
    answers["extra_flavors"] = extra
    return answers


def _check_valid(tmp_path_factory, answers):
    destination = tmp_path_factory.mktemp("valid") / answers["model_name"]
    render_answers(destination, answers)
    for path in destination.rglob("*.py"):
        py_compile.compile(str(path), doraise=True)
    assert_ruff_clean(destination)


@FAST
@given(answers=valid_answers())
def test_valid_answers_render_clean_code(tmp_path_factory, answers):
    _check_valid(tmp_path_factory, answers)


@pytest.mark.exhaustive
@EXHAUSTIVE
@given(answers=valid_answers())
def test_valid_answers_render_clean_code_exhaustive(tmp_path_factory, answers):
    _check_valid(tmp_path_factory, answers)


def _expected_valid(a) -> bool:
    """An independent statement of the head-shape and rotated-share rules, as
    the oracle."""
    if min(a["dim"], a["n_heads"], a["n_kv_heads"]) < 1 or a["head_dim"] < 0:
        return False
    if a["n_heads"] % a["n_kv_heads"] or (
        not a["head_dim"] and a["dim"] % a["n_heads"]
    ):
        return False
    if a["positional"] in UNROTATED:
        return True  # nothing rotates; rope_fraction is not asked
    head = a["head_dim"] or a["dim"] // a["n_heads"]
    debug_head = 32 if a["head_dim"] else 16  # the debugmodel flavor's
    share = a["rope_fraction"]
    rotated = [int(size * share) for size in (head, debug_head)]
    return (
        head % 2 == 0
        and 0 < share <= 1
        and all(count >= 2 and count % 2 == 0 for count in rotated)
    )


shapes = st.fixed_dictionaries(
    {
        "model_name": st.just("shape"),
        "dim": st.integers(-4, 96),
        "n_heads": st.integers(-1, 12),
        "n_kv_heads": st.integers(-1, 12),
        "head_dim": st.integers(-2, 40),
        "positional": st.sampled_from(["rope", "none", "learned"]),
        "rope_fraction": st.sampled_from([1.0, 0.5, 0.25, 0.3, 0.125, 0.0, 1.5]),
        "extra_flavors": st.just({}),
    }
)


def _check_accepted_exactly_when(valid: bool, tmp_path_factory, answers):
    """Renders when the oracle says valid; else a validator refuses, writing nothing."""
    name = answers["model_name"]
    destination = tmp_path_factory.mktemp(name) / name
    if valid:
        render_answers(destination, answers)
        assert (destination / "model" / "model.py").is_file()
    else:
        with pytest.raises(ValueError):
            render_answers(destination, answers)
        assert not destination.exists()


@FAST
@given(answers=shapes)
def test_head_shapes_are_accepted_exactly_when_valid(tmp_path_factory, answers):
    _check_accepted_exactly_when(_expected_valid(answers), tmp_path_factory, answers)


@pytest.mark.exhaustive
@EXHAUSTIVE
@given(answers=shapes)
def test_head_shapes_are_accepted_exactly_when_valid_exhaustive(
    tmp_path_factory, answers
):
    _check_accepted_exactly_when(_expected_valid(answers), tmp_path_factory, answers)


def _routing_valid(a) -> bool:
    """An independent statement of the expert-routing rules, as the oracle."""
    experts, top_k, groups = a["moe_experts"], a["moe_top_k"], a["moe_expert_groups"]
    if experts < 2 or not 1 <= top_k <= experts or groups < 1:
        return False
    if groups == 1:
        return True  # moe_limited_groups is not asked then
    per_group, kept = experts // groups, a["moe_limited_groups"]
    return (
        experts % groups == 0
        and per_group >= 2
        and 1 <= kept < groups
        and top_k <= kept * per_group
    )


routings = st.fixed_dictionaries(
    {
        "model_name": st.just("routing"),
        "moe": st.just(True),
        "moe_experts": st.integers(0, 16),
        "moe_top_k": st.integers(0, 8),
        "moe_expert_groups": st.integers(0, 8),
        "moe_limited_groups": st.integers(0, 8),
        # Both ways of scoring a group follow the same validity rules.
        "moe_group_score": st.sampled_from(["top2_sum", "max"]),
        "expert_parallel_degree": st.just(1),
        "extra_flavors": st.just({}),
    }
)


@FAST
@given(answers=routings)
def test_expert_routing_is_accepted_exactly_when_valid(tmp_path_factory, answers):
    _check_accepted_exactly_when(_routing_valid(answers), tmp_path_factory, answers)


@pytest.mark.exhaustive
@EXHAUSTIVE
@given(answers=routings)
def test_expert_routing_is_accepted_exactly_when_valid_exhaustive(
    tmp_path_factory, answers
):
    _check_accepted_exactly_when(_routing_valid(answers), tmp_path_factory, answers)
