"""Combinations of the template's options: the full matrix, and a pairwise-covering
subset (every pair of values of two options appears in at least one combination)."""

import functools
import itertools
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import yaml

OPTIONS = {
    # Multi-head latent attention (attention=mla) with its queries at full rank or
    # through a bottleneck (mla_q_lora_rank), as DeepSeek-V2-Lite and -V3.
    "attention": ["mha", "gqa", "mqa", "mla", "mla_bottleneck"],
    "head_dim": ["derived", "explicit"],
    # qk-norm per head, one weight for all heads, after RoPE (HunYuan) is
    # head_after_rope.
    "qk_norm": ["off", "head", "head_weights", "full", "head_after_rope"],
    # Biases: none, on q/k/v alone (qkv_bias), on every projection (linear_bias).
    "bias": ["none", "qkv", "every"],
    # A bias on the output projection too (output_bias), as in Phi.
    "output_bias": [False, True],
    "positional": [
        "rope",
        "rope_llama3",
        "rope_yarn",
        "rope_linear",
        "rope_longrope",
        "none",
        # GPT-2's table of position embeddings, added to the token embeddings.
        "learned",
    ],
    # Share of each head that RoPE rotates (rope_fraction); none rotates nothing.
    "rope_share": ["whole", "half"],
    "norm": [
        "rmsnorm",
        "layernorm",
        "layernorm_nobias",
        "layernorm_noparams",
        "rmsnorm_noparams",
    ],
    "norm_placement": ["pre", "post", "sandwich", "parallel", "parallel_two_norms"],
    # gpt-oss's clamped SwiGLU is its experts' alone: it comes with their recipe.
    "ffn": ["swiglu", "geglu", "gelu", "gelu_tanh", "relu2", "clamped_swiglu"],
    "ffn_size": ["rule", "explicit"],
    "weight_tying": [False, True],
    # Token embeddings scaled by sqrt(dim) (embedding_scale), as in Gemma.
    "embeddings": ["plain", "scaled"],
    # The token embeddings normalized on the way in (embedding_norm), as in nanochat.
    "embedding_norm": [False, True],
    # Scores scaled by attn_scale_dim instead of head_dim, and Gemma 2's soft caps
    # on the attention scores and the logits besides, or on the logits alone;
    # gpt-oss's attention sinks (attn_sinks), a logit per head in every softmax.
    "attention_scores": ["plain", "scaled", "capped", "logits_capped", "sinks"],
    # Granite's constant multipliers on the embeddings (unless embedding_scale
    # scales them), the residual branches and the logits.
    "multipliers": ["none", "granite"],
    "attention_window": ["full", "all_local", "interleaved"],
    # Layers whose RoPE is scaled: global needs scaled RoPE and global layers.
    "rope_scaling_layers": ["all", "global"],
    # The local layers' own RoPE base (rope_local_theta): needs RoPE and global layers.
    "local_rope_base": ["shared", "own"],
    # Every second layer without RoPE (nope_every 2): needs RoPE in the others.
    "nope_layers": ["none", "every_2nd"],
    # Llama 4's attention temperature (attn_temperature_beta), as Ministral 3 has
    # it: needs scaled RoPE with an original context, one kind of RoPE.
    "attention_temperature": [False, True],
    # How HF checkpoints hold the weights (hf_layout; MoE models take Llama's or
    # Cohere's): Phi-3 stacks q/k/v and gate/up, GLM gate/up and keeps RoPE rows in
    # pairs, Cohere keeps RoPE rows in pairs, Granite 4 stacks gate/up under its
    # own names.
    "hf_layout": ["llama", "phi3", "glm", "cohere", "granite4"],
    # Whole MoE recipes: together they take every MoE branch of the template.
    "moe": [
        "off",
        "softmax_aux_loss",
        "softmax_groups_dense_first",
        "sigmoid_bias_shared_groups",
        "sigmoid_aux_loss_shared_dense",
        "softmax_gated_shared",
        "softmax_bias_shared_dense",
        "softmax_one_shared",
        "sigmoid_bias_unshared",
        "softmax_clamped_biased",
    ],
}

MOE_RECIPES = {
    "softmax_aux_loss": {"moe_experts": 8, "moe_top_k": 2},
    # DeepSeek-V2's: groups scored by their best expert, shared experts, the
    # top-k scores scaled, not renormalized.
    "softmax_groups_dense_first": {
        "moe_experts": 4,
        "moe_top_k": 1,
        "moe_expert_groups": 2,
        "moe_limited_groups": 1,
        "moe_group_score": "max",
        "moe_route_norm": False,
        "moe_route_scale": 16.0,
        "moe_shared_experts": 1,
        "moe_load_balancing": "none",
        "moe_dense_layers": 1,
        "moe_hidden_dim": 512,
    },
    "sigmoid_bias_shared_groups": {
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_expert_groups": 4,
        "moe_limited_groups": 2,
        "moe_score_func": "sigmoid",
        "moe_load_balancing": "expert_bias",
        "moe_shared_experts": 1,
        "moe_route_scale": 2.5,
    },
    "sigmoid_aux_loss_shared_dense": {
        "moe_experts": 6,
        "moe_top_k": 3,
        "moe_score_func": "sigmoid",
        "moe_route_norm": False,
        "moe_shared_experts": 2,
        "moe_dense_layers": 2,
        "moe_hidden_dim": 256,
        "moe_route_scale": 1.5,
    },
    # Qwen2-MoE's: a shared expert (two experts wide) behind a sigmoid gate.
    "softmax_gated_shared": {
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_route_norm": False,
        "moe_shared_experts": 2,
        "moe_shared_expert_gate": True,
        "moe_hidden_dim": 256,
    },
    # ERNIE 4.5 MoE's: softmax scores picked with routing biases, renormalized,
    # shared experts, a dense first block.
    "softmax_bias_shared_dense": {
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_load_balancing": "expert_bias",
        "moe_shared_experts": 2,
        "moe_dense_layers": 1,
        "moe_hidden_dim": 128,
    },
    # HunYuan MoE's: Mixtral's routing in every block, one shared expert beside,
    # no load-balancing loss.
    "softmax_one_shared": {
        "moe_experts": 4,
        "moe_top_k": 2,
        "moe_shared_experts": 1,
        "moe_load_balancing": "none",
    },
    # MiniMax-M2's: sigmoid scores picked with routing biases, renormalized, in
    # every block, no shared experts.
    "sigmoid_bias_unshared": {
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_score_func": "sigmoid",
        "moe_load_balancing": "expert_bias",
    },
    # gpt-oss's: softmax over each token's top-k, clamped SwiGLU experts with
    # biases (and a biased router), in every block. The limit is tight, so that
    # the clamps bite on the debug models' small activations.
    "softmax_clamped_biased": {
        "moe_experts": 8,
        "moe_top_k": 2,
        "swiglu_limit": 0.05,
    },
}

# The MoE recipe of gpt-oss's experts: the one that takes ffn=clamped_swiglu, and
# needs a bias on every projection.
CLAMPED_MOE = "softmax_clamped_biased"

# The checkpoint layouts of MoE models: Llama's, and Cohere's (ERNIE 4.5 MoE).
MOE_LAYOUTS = ("llama", "cohere")

# What latent attention takes of the options it shares with the others: its own
# query/key norms and biases (none), RoPE on its own share of every head in every
# layer (unscaled, Llama 3's, DeepSeek's YaRN or linear), full attention, plain or
# logit-capped scores, Llama's checkpoint layout.
MLA_TAKES = {
    "qk_norm": ("off",),
    "bias": ("none",),
    "positional": ("rope", "rope_llama3", "rope_yarn", "rope_linear"),
    "rope_share": ("whole",),
    "attention_scores": ("plain", "logits_capped"),
    "attention_window": ("full",),
    "nope_layers": ("none",),
    "attention_temperature": (False,),
    "hf_layout": ("llama",),
}


def _latent(combination: dict) -> bool:
    return combination["attention"] in ("mla", "mla_bottleneck")


def valid(combination: dict) -> bool:
    """torchtitan's experts are SwiGLU, so MoE recipes need the SwiGLU feed-forward,
    but gpt-oss's (and it alone) the clamped SwiGLU, which has no dense form, and a
    bias on every projection, which the others' experts lack; MoE checkpoints use
    Llama's layout or Cohere's; a rotated share, NoPE layers among
    RoPE ones, and a qk-norm after RoPE need RoPE; scaling the global layers only needs scaled RoPE
    and global layers; a local RoPE base needs RoPE and global layers; embeddings
    take one scale, sqrt(dim) or a multiplier; the
    attention temperature needs RoPE scaled from an original context, of one kind
    in every layer; latent attention takes what MLA_TAKES says."""
    return (
        (
            not _latent(combination)
            or all(combination[name] in kept for name, kept in MLA_TAKES.items())
        )
        and combination["ffn"] == _moe_ffn(combination, combination["ffn"])
        and combination["bias"] == _moe_bias(combination, combination["bias"])
        and (
            combination["embeddings"] == "plain" or combination["multipliers"] == "none"
        )
        and (combination["moe"] == "off" or combination["hf_layout"] in MOE_LAYOUTS)
        and (
            combination["rope_share"] == "whole"
            or combination["positional"] not in UNROTATED
        )
        and (
            combination["rope_scaling_layers"] == "all" or _scales_globally(combination)
        )
        and (
            combination["nope_layers"] == "none"
            or combination["positional"] not in UNROTATED
        )
        and (
            combination["qk_norm"] != "head_after_rope"
            or combination["positional"] not in UNROTATED
        )
        and (
            combination["local_rope_base"] == "shared"
            or _rotates_global_layers(combination)
        )
        and (not combination["attention_temperature"] or _can_warm_queries(combination))
    )


def _moe_ffn(combination: dict, ffn: str) -> str:
    """The feed-forward the MoE recipe takes (`ffn` when it takes that one)."""
    if combination["moe"] == CLAMPED_MOE:
        return "clamped_swiglu"
    if combination["moe"] != "off":
        return "swiglu"
    return "swiglu" if ffn == "clamped_swiglu" else ffn


def _moe_bias(combination: dict, bias: str) -> str:
    """The biases the MoE recipe takes (`bias` when it takes those)."""
    if combination["moe"] == CLAMPED_MOE:
        return "every"
    if combination["moe"] != "off" and bias == "every":
        return "qkv"
    return bias


def _repair_experts(combination: dict, keep: set) -> None:
    """Make the MoE recipe, the feed-forward and the biases agree: gpt-oss's
    recipe and the clamped SwiGLU come together, with a bias on every projection
    (which latent attention lacks); the other recipes take SwiGLU without."""
    clamped = combination["moe"] == CLAMPED_MOE
    if clamped and _latent(combination) and "moe" not in keep:
        combination["moe"] = "off"
    elif clamped and _latent(combination) and "attention" not in keep:
        combination["attention"] = "gqa"
    wanted = (combination["ffn"] == "clamped_swiglu" and "ffn" in keep) or (
        combination["moe"] == CLAMPED_MOE and "moe" in keep
    )
    if wanted:
        # Both clamped: the recipe and its feed-forward.
        if "moe" not in keep:
            combination["moe"] = CLAMPED_MOE
        if "ffn" not in keep:
            combination["ffn"] = "clamped_swiglu"
    elif combination["ffn"] == "clamped_swiglu" or combination["moe"] == CLAMPED_MOE:
        # Neither: what is not kept is set apart from gpt-oss's.
        if combination["ffn"] == "clamped_swiglu":
            combination["ffn"] = "swiglu"
        if combination["moe"] == CLAMPED_MOE:
            combination["moe"] = "off"
    for option, taken in (("ffn", _moe_ffn), ("bias", _moe_bias)):
        if combination[option] == taken(combination, combination[option]):
            continue
        if option not in keep or "moe" in keep:
            combination[option] = taken(combination, combination[option])
        elif combination["moe"] == CLAMPED_MOE:
            # A kept option gpt-oss's recipe cannot take: drop the recipe.
            combination["moe"] = "off"
            if "ffn" not in keep:
                combination["ffn"] = "swiglu"
        else:
            combination["moe"] = "off"


def _can_warm_queries(combination: dict) -> bool:
    """Whether the attention temperature applies: RoPE scaled from an original
    context, one kind of RoPE in every layer."""
    return (
        combination["positional"] in TEMPERATURE_ROPE
        and combination["rope_scaling_layers"] == "all"
        and combination["local_rope_base"] == "shared"
    )


def _rotates_global_layers(combination: dict) -> bool:
    """Whether RoPE rotates global layers interleaved with local ones."""
    return (
        combination["positional"] not in UNROTATED
        and combination["attention_window"] == "interleaved"
    )


def _scales_globally(combination: dict) -> bool:
    """Whether the RoPE can be scaled in the global layers only: it is scaled, and
    global layers interleave with local ones."""
    return (
        combination["positional"] in SCALED_ROPE
        and combination["attention_window"] == "interleaved"
    )


def _make_valid(combination: dict, keep: set) -> None:
    """Change the options outside `keep` that break one of `valid`'s rules."""
    if _latent(combination):
        for name, kept in MLA_TAKES.items():
            if combination[name] in kept:
                continue
            if "attention" not in keep:
                combination["attention"] = "gqa"
                break
            if name not in keep:
                combination[name] = kept[0]
    _repair_experts(combination, keep)
    if combination["moe"] != "off" and combination["hf_layout"] not in MOE_LAYOUTS:
        if "moe" in keep or "hf_layout" not in keep:
            combination["hf_layout"] = "llama"
        else:
            combination["moe"] = "off"
            _repair_experts(combination, keep)
    if combination["embeddings"] != "plain" and combination["multipliers"] != "none":
        if "multipliers" in keep:
            combination["embeddings"] = "plain"
        else:
            combination["multipliers"] = "none"
    if combination["rope_share"] != "whole" and combination["positional"] in UNROTATED:
        if "rope_share" in keep:
            combination["positional"] = "rope"
        else:
            combination["rope_share"] = "whole"
    if combination["nope_layers"] != "none" and combination["positional"] in UNROTATED:
        if "nope_layers" in keep:
            combination["positional"] = "rope"
        else:
            combination["nope_layers"] = "none"
    if (
        combination["qk_norm"] == "head_after_rope"
        and combination["positional"] in UNROTATED
    ):
        if "qk_norm" in keep:
            combination["positional"] = "rope"
        else:
            combination["qk_norm"] = "head"
    if combination["rope_scaling_layers"] == "global" and not _scales_globally(
        combination
    ):
        _repair_global_rope(
            combination, keep, ("rope_scaling_layers", "all"), SCALED_ROPE
        )
    if combination["local_rope_base"] == "own" and not _rotates_global_layers(
        combination
    ):
        _repair_global_rope(combination, keep, ("local_rope_base", "shared"), ROTARY)
    if combination["attention_temperature"] and not _can_warm_queries(combination):
        if "attention_temperature" not in keep:
            combination["attention_temperature"] = False
            return
        if (
            combination["positional"] not in TEMPERATURE_ROPE
            and "positional" not in keep
        ):
            combination["positional"] = TEMPERATURE_ROPE[0]
        for option, one_kind in (
            ("rope_scaling_layers", "all"),
            ("local_rope_base", "shared"),
        ):
            if option not in keep:
                combination[option] = one_kind


# The positional encodings that rotate nothing: the options that shape RoPE need another.
UNROTATED = ("none", "learned")
SCALED_ROPE = ("rope_yarn", "rope_llama3", "rope_linear")
ROTARY = ("rope", *SCALED_ROPE, "rope_longrope")
# The RoPE kinds with an original context, which the temperature counts in.
TEMPERATURE_ROPE = ("rope_yarn", "rope_llama3", "rope_longrope")


def _repair_global_rope(
    combination: dict, keep: set, option_off: tuple, positionals: tuple
) -> None:
    """An option that needs global layers rotated by one of `positionals`: off
    (its `option_off` value) unless kept, else what it needs is set."""
    option, off = option_off
    if option not in keep:
        combination[option] = off
        return
    if combination["positional"] not in positionals and "positional" not in keep:
        combination["positional"] = positionals[0]
    if "attention_window" not in keep:
        combination["attention_window"] = "interleaved"


def full_matrix() -> Iterator[dict]:
    """Every valid combination, always in the same order; a generator, since
    there are hundreds of thousands."""
    names = list(OPTIONS)
    combinations = (dict(zip(names, v)) for v in itertools.product(*OPTIONS.values()))
    return (c for c in combinations if valid(c))


class _ReadRecorder(dict):
    """A combination that remembers which options were read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)


@functools.cache
def full_matrix_size() -> int:
    """How many combinations `full_matrix` yields, counted without enumerating
    them (millions). Latent attention's and the other attentions' are counted
    apart: latent attention takes few values of the options MLA_TAKES names, and
    counted together every value of those would be tried against every other
    (minutes instead of seconds). `valid` tells attentions apart only by whether
    they are latent, so each kind is counted at one of its values, times how many
    it has."""
    latent = [value for value in OPTIONS["attention"] if _latent({"attention": value})]
    others = [value for value in OPTIONS["attention"] if value not in latent]
    taken = {
        name: [value for value in OPTIONS[name] if value in kept]
        for name, kept in MLA_TAKES.items()
    }
    kinds = [
        (OPTIONS | {"attention": others[:1]}, len(others)),
        (OPTIONS | {"attention": latent[:1]} | taken, len(latent)),
    ]
    return sum(
        values * _valid_count(space) for space, values in kinds if all(space.values())
    )


def _valid_count(options: dict) -> int:
    """How many combinations of `options` are valid: over the options `valid`
    reads, times the sizes of the rest. The options it reads are found by trying
    every value of those it has read so far, until no new one turns up: a rule can
    only skip a read on what it read."""
    ruled: list = []
    while True:
        read, count = set(), 0
        for values in itertools.product(*(options[name] for name in ruled)):
            probe = _ReadRecorder({n: options[n][0] for n in options})
            probe.update(zip(ruled, values))
            count += valid(probe)
            read |= probe.read
        if read <= set(ruled):
            free = [len(options[name]) for name in options if name not in ruled]
            return count * functools.reduce(int.__mul__, free, 1)
        ruled += sorted(read - set(ruled))


def possible_pairs() -> set:
    """Every pair of option values that some valid combination holds."""
    pairs = set()
    for a, b in itertools.combinations(list(OPTIONS), 2):
        for va in OPTIONS[a]:
            for vb in OPTIONS[b]:
                # The first values of the rest, changed where a rule needs it.
                probe = {n: OPTIONS[n][0] for n in OPTIONS} | {a: va, b: vb}
                _make_valid(probe, {a, b})
                if valid(probe) and (probe[a], probe[b]) == (va, vb):
                    pairs.add(tuple(sorted([(a, va), (b, vb)])))
    return pairs


def value_pairs(combination: dict) -> set:
    """The pairs of (option, value) that `combination` holds, each sorted."""
    return set(itertools.combinations(sorted(combination.items()), 2))


def pairwise(seed: int = 0, candidates: int = 40) -> list[dict]:
    """Greedy covering: repeatedly keep the random candidate that covers the most
    uncovered pairs, until every pair of option values is covered."""
    rng = random.Random(seed)
    names = list(OPTIONS)
    uncovered = possible_pairs()
    chosen = []
    while uncovered:
        # Seed each candidate with one uncovered pair, so every round makes progress.
        first = sorted(uncovered, key=repr)[rng.randrange(len(uncovered))]
        best, best_gain = None, -1
        for _ in range(candidates):
            combination = {n: rng.choice(OPTIONS[n]) for n in names}
            combination.update(dict(first))
            # Keep the seeded pair; change what it leaves free.
            _make_valid(combination, set(dict(first)))
            gain = len(value_pairs(combination) & uncovered)
            if gain > best_gain:
                best, best_gain = combination, gain
        chosen.append(best)
        uncovered -= value_pairs(best)
    return chosen


def answers(combination: dict, name: str) -> dict:
    """Template answers for one combination, at the default 2048-wide sizes."""
    result = {
        "model_name": name,
        "n_heads": 32,
        "head_dim": 128 if combination["head_dim"] == "explicit" else 0,
        "qk_norm": combination["qk_norm"] != "off",
        "positional": combination["positional"],
        "norm": combination["norm"],
        "norm_placement": combination["norm_placement"],
        "ffn": combination["ffn"],
        "ffn_hidden_dim": 5632 if combination["ffn_size"] == "explicit" else 0,
        "weight_tying": combination["weight_tying"],
        "output_bias": combination["output_bias"],
        "embedding_scale": combination["embeddings"] == "scaled",
        "embedding_norm": combination["embedding_norm"],
        "extra_flavors": {},
    }
    if _latent(combination):
        # No key/value heads of its own (n_kv_heads is not asked).
        result["attention"] = "mla"
        if combination["attention"] == "mla_bottleneck":
            result["mla_q_lora_rank"] = 512
        if combination["positional"] == "rope_yarn":
            # DeepSeek's YaRN, its two mscales apart so that both the rotations'
            # magnitude and the scores change.
            result |= {"rope_yarn_mscale": 1.0, "rope_yarn_mscale_all_dim": 0.707}
    else:
        result["n_kv_heads"] = {"mha": 32, "gqa": 8, "mqa": 1}[combination["attention"]]
    # qkv_bias is asked only without linear_bias, which implies it.
    if combination["bias"] == "every":
        result["linear_bias"] = True
    else:
        result["qkv_bias"] = combination["bias"] == "qkv"
    if combination["attention_scores"] in ("scaled", "capped"):
        result["attn_scale_dim"] = 96
    # Tight, so that they bite on the debug models' small scores and logits.
    if combination["attention_scores"] == "capped":
        result.update(attn_softcap=0.1, logit_softcap=1.0)
    if combination["attention_scores"] == "logits_capped":
        result["logit_softcap"] = 1.0
    if combination["attention_scores"] == "sinks":
        result["attn_sinks"] = True
    if combination["multipliers"] == "granite":
        result.update(
            embedding_multiplier=12.0, residual_multiplier=0.22, logit_multiplier=0.0625
        )
    if combination["attention_window"] != "full":
        result["sliding_window"] = 1024
    if combination["attention_window"] == "interleaved":
        # Every second layer global: with nope_layers every_2nd, the global layers
        # are the NoPE ones, as in Cohere 2.
        result["global_every"] = 2
    if combination["rope_scaling_layers"] == "global":
        result["rope_scaling_layers"] = "global"
    if combination["local_rope_base"] == "own":
        result["rope_local_theta"] = 10000.0
    if combination["nope_layers"] == "every_2nd":
        result["nope_every"] = 2
    if combination["attention_temperature"]:
        # An original context of 4 positions, which the tests' sequences run past,
        # so that the temperature bites; YaRN with Ministral 3's mscales, apart.
        result |= {"attn_temperature_beta": 0.1, "rope_original_max_seq_len": 4}
        if combination["positional"] == "rope_yarn":
            result |= {"rope_yarn_mscale": 1.0, "rope_yarn_mscale_all_dim": 0.8}
    if combination["rope_share"] == "half":
        result["rope_fraction"] = 0.5
    if combination["positional"] == "rope_longrope":
        # One factor per pair the 2048-wide flavor's heads rotate, each its own.
        head = 128 if combination["head_dim"] == "explicit" else 2048 // 32
        pairs = int(head * result.get("rope_fraction", 1.0)) // 2
        result["rope_short_factor"] = [1.0 + 0.02 * i for i in range(pairs)]
        result["rope_long_factor"] = [1.0 + 0.5 * i for i in range(pairs)]
    if combination["qk_norm"] == "head_after_rope":
        result.update(qk_norm_scope="head", qk_norm_after_rope=True)
    elif combination["qk_norm"] != "off":
        result["qk_norm_scope"] = combination["qk_norm"]
    if combination["hf_layout"] != "llama":
        result["hf_layout"] = combination["hf_layout"]
    if combination["moe"] != "off":
        result.update(moe=True, **MOE_RECIPES[combination["moe"]])
    return result


@functools.cache
def _hf_nearest():
    """copier.yml's `hf_nearest` computation, the plain defaults it may read, and
    the templated defaults of the questions asked before it (such as qkv_bias's),
    which copier renders in order when a question is not asked."""
    questions = yaml.safe_load((Path(__file__).parents[1] / "copier.yml").read_text())
    source = questions["hf_nearest"]["default"]
    defaults, templated = {}, {}
    for name, question in questions.items():
        if name == "hf_nearest":
            break
        if not (isinstance(question, dict) and "default" in question):
            continue
        default = question["default"]
        if not (isinstance(default, str) and "{" in default):
            defaults[name] = default
        elif re.search(rf"\b{name}\b", source):  # a templated answer it reads
            templated[name] = (question.get("type"), default)
    return source, _compiled(source), defaults, templated


@functools.cache
def _compiled(source: str) -> jinja2.Template:
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(source)


def hf_class(combination: dict) -> str | None:
    """The transformers class a model of `combination` names (None when even the
    nearest has unmet needs), from copier.yml's own table, without rendering."""
    nearest = json.loads(_hf_nearest()[1].render(_table_context(combination)))
    return None if nearest["unmet"] else nearest["architecture"]


def class_needs(combination: dict) -> list[tuple[str, list[bool]]]:
    """Every row of copier.yml's class table, in its order: the class and whether
    each of its needs holds for `combination`."""
    rows = json.loads(_class_rows().render(_table_context(combination)))
    return [
        (architecture, [met for _, met in needs]) for _, architecture, needs in rows
    ]


def _table_context(combination: dict) -> dict:
    """What the class table reads: the answers, the plain defaults, and the
    templated defaults rendered as copier renders them."""
    _, _, defaults, templated = _hf_nearest()
    context = defaults | answers(combination, "probe")
    for name, (kind, default) in templated.items():
        if name not in context:
            rendered = _compiled(default).render(context)
            context[name] = rendered == "True" if kind == "bool" else rendered
    return context


@functools.cache
def _class_rows() -> jinja2.Template:
    """copier.yml's class table up to its `classes` list, printing that list (each
    class's needs, met or not) instead of the nearest class: the same Jinja, cut
    at its syntax tree."""
    environment = _compiled(_hf_nearest()[0]).environment
    body = []
    for node in environment.parse(_hf_nearest()[0]).body:
        body.append(node)
        if isinstance(node, jinja2.nodes.Assign) and node.target.name == "classes":
            break
    else:
        raise AssertionError("copier.yml's hf_nearest sets no `classes` list")
    body += environment.parse("{{ classes | tojson }}").body
    code = environment.compile(jinja2.nodes.Template(body))
    return environment.template_class.from_code(
        environment, code, environment.make_globals(None)
    )


def options_hf_class_reads() -> list[str]:
    """The options whose answers copier.yml's class table reads: the others never
    change which class a model names."""
    source = _hf_nearest()[0]
    first = {name: values[0] for name, values in OPTIONS.items()}
    read = []
    for name, values in OPTIONS.items():
        keys = set()
        for value in values[1:]:
            before, after = (
                answers(first, "probe"),
                answers(first | {name: value}, "probe"),
            )
            keys |= {
                key
                for key in before.keys() | after.keys()
                if before.get(key) != after.get(key)
            }
        if any(re.search(rf"\b{key}\b", source) for key in keys):
            read.append(name)
    return read
