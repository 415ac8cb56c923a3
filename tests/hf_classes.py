"""Each transformers class's models in the option matrix's terms: its recipes, the
models one option away from them, and a few more models per class that, with those
neighbours, hold every pair of option values some model of the class holds.

Finding those few means finding every valid combination that names a class: a
search, class by class, over the options each of its needs reads (tens of
minutes on one core; enumerating the valid combinations, hundreds of millions,
takes hours on 2 cores). The choice is committed in tests/data/class_cover.json
with a fingerprint of what it was computed from (copier.yml's class table and
defaults, this module and option_matrix.py). A test fails when the fingerprint is
stale; `.venv/bin/python -m tests.hf_classes` refreshes the file, and `-m
exhaustive` runs the search again and checks it against the full enumeration.
"""

import functools
import hashlib
import inspect
import itertools
import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

from . import option_matrix
from .option_matrix import (
    OPTIONS,
    class_needs,
    hf_class,
    options_hf_class_reads,
    valid,
    value_pairs,
)

COVER_FILE = Path(__file__).parent / "data" / "class_cover.json"
REFRESH = ".venv/bin/python -m tests.hf_classes"

OLMO3 = {"norm_placement": "post", "qk_norm": "full", "attention_window": "interleaved"}
# Each class's recipes in the option matrix's terms, changed from its first values.
RECIPES = [
    ("LlamaForCausalLM", {}),
    # Llama with attention_bias and mlp_bias: a bias on every projection.
    ("LlamaForCausalLM", {"bias": "every"}),
    ("MistralForCausalLM", {"attention_window": "all_local"}),
    ("MinistralForCausalLM", {"attention_window": "interleaved"}),
    ("Qwen2ForCausalLM", {"bias": "qkv"}),
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
    # FlexOlmo: OLMoE's experts in OLMo 2's post-norm blocks.
    (
        "FlexOlmoForCausalLM",
        {"moe": "softmax_aux_loss", "qk_norm": "full", "norm_placement": "post"},
    ),
    ("Qwen2MoeForCausalLM", {"moe": "softmax_gated_shared", "bias": "qkv"}),
    ("Dots1ForCausalLM", {"moe": "sigmoid_bias_shared_groups", "qk_norm": "head"}),
    # GLM-4.5-Air's attention: qkv bias, RoPE on half of each head.
    (
        "Glm4MoeForCausalLM",
        {"moe": "sigmoid_bias_shared_groups", "bias": "qkv", "rope_share": "half"},
    ),
    ("SmolLM3ForCausalLM", {"nope_layers": "every_2nd"}),
    ("StableLmForCausalLM", {"norm": "layernorm"}),
    ("Phi3ForCausalLM", {"hf_layout": "phi3"}),
    ("GlmForCausalLM", {"hf_layout": "glm"}),
    ("Glm4ForCausalLM", {"hf_layout": "glm", "norm_placement": "sandwich"}),
    ("GraniteForCausalLM", {"multipliers": "granite"}),
    # GraniteMoe: Mixtral's routing in Granite's blocks.
    ("GraniteMoeForCausalLM", {"multipliers": "granite", "moe": "softmax_aux_loss"}),
    # Granite 4's attention-only models: Granite's blocks, gate/up stacked.
    (
        "GraniteMoeHybridForCausalLM",
        {"multipliers": "granite", "hf_layout": "granite4"},
    ),
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
    # EXAONE 4.0 32B: OLMo 2's blocks, Qwen3's qk-norm, NoPE in the global layers;
    # 1.2B: the same without a window, RoPE in every layer.
    (
        "Exaone4ForCausalLM",
        {
            "norm_placement": "post",
            "qk_norm": "head",
            "attention_window": "interleaved",
            "nope_layers": "every_2nd",
        },
    ),
    ("Exaone4ForCausalLM", {"norm_placement": "post", "qk_norm": "head"}),
    # HunYuan dense: Llama's blocks with qk-norm per head after RoPE.
    ("HunYuanDenseV1ForCausalLM", {"qk_norm": "head_after_rope"}),
    # Arcee AFM: Llama's blocks with a ReLU² MLP.
    ("ArceeForCausalLM", {"ffn": "relu2"}),
    # Nemotron-4 and Minitron: the same around LayerNorms, half of each head rotated.
    (
        "NemotronForCausalLM",
        {"norm": "layernorm", "ffn": "relu2", "rope_share": "half"},
    ),
    # StarCoder2: LayerNorms, a tanh-GELU MLP, a bias on every projection and a
    # window in every layer.
    (
        "Starcoder2ForCausalLM",
        {
            "norm": "layernorm",
            "ffn": "gelu_tanh",
            "bias": "every",
            "attention_window": "all_local",
        },
    ),
    # HyperCLOVAX: Granite's blocks between sandwich norms (Peri-LN).
    (
        "HyperCLOVAXForCausalLM",
        {"multipliers": "granite", "norm_placement": "sandwich"},
    ),
    # Falcon-7B and Falcon2-11B: parallel blocks behind one LayerNorm with an
    # exact-GELU MLP.
    (
        "FalconForCausalLM",
        {"norm": "layernorm", "ffn": "gelu", "norm_placement": "parallel"},
    ),
    # Falcon-40B and -180B: the same behind a LayerNorm each.
    (
        "FalconForCausalLM",
        {"norm": "layernorm", "ffn": "gelu", "norm_placement": "parallel_two_norms"},
    ),
    # GPT-NeoX (Pythia): two-norm parallel blocks of multi-head attention with a
    # bias on every projection, an exact-GELU MLP, RoPE on part of each head.
    (
        "GPTNeoXForCausalLM",
        {
            "norm": "layernorm",
            "ffn": "gelu",
            "norm_placement": "parallel_two_norms",
            "bias": "every",
            "rope_share": "half",
        },
    ),
    # Phi (1, 1.5, 2): parallel blocks behind one LayerNorm, a tanh-GELU MLP, a
    # bias on every projection and on the output one, RoPE on part of each head.
    (
        "PhiForCausalLM",
        {
            "norm": "layernorm",
            "ffn": "gelu_tanh",
            "norm_placement": "parallel",
            "bias": "every",
            "output_bias": True,
            "rope_share": "half",
        },
    ),
    # GPT-2: pre-norm LayerNorms, multi-head attention and a tanh-GELU MLP with a
    # bias on every projection, learned positions.
    (
        "GPT2LMHeadModel",
        {
            "positional": "learned",
            "norm": "layernorm",
            "ffn": "gelu_tanh",
            "bias": "every",
        },
    ),
    # GPTBigCode (StarCoder 1, SantaCoder): GPT-2's blocks with multi-query
    # attention.
    (
        "GPTBigCodeForCausalLM",
        {
            "positional": "learned",
            "norm": "layernorm",
            "ffn": "gelu_tanh",
            "bias": "every",
            "attention": "mqa",
        },
    ),
    # OLMo (1): Llama's blocks around LayerNorms without weight or bias.
    ("OlmoForCausalLM", {"norm": "layernorm_noparams"}),
    # Persimmon: pre-norm LayerNorms, multi-head attention with a bias on every
    # projection and a LayerNorm per head on queries and keys, a ReLU² MLP, RoPE
    # on half of each head.
    (
        "PersimmonForCausalLM",
        {
            "norm": "layernorm",
            "ffn": "relu2",
            "bias": "every",
            "attention": "mha",
            "qk_norm": "head",
            "rope_share": "half",
        },
    ),
    # Llama's blocks with RoPE rows in pairs in the checkpoints: Helium's heads are
    # dim // n_heads, with or without a qkv bias; ERNIE 4.5's wider, without biases
    # or with one on every projection (use_bias).
    ("HeliumForCausalLM", {"hf_layout": "cohere"}),
    ("HeliumForCausalLM", {"hf_layout": "cohere", "bias": "qkv"}),
    ("Ernie4_5ForCausalLM", {"hf_layout": "cohere", "head_dim": "explicit"}),
    (
        "Ernie4_5ForCausalLM",
        {"hf_layout": "cohere", "head_dim": "explicit", "bias": "every"},
    ),
    # Gemma (1): Gemma's layers in pre-norm blocks; VaultGemma: the same with Gemma
    # 2's soft caps (and windows, when it has them).
    ("GemmaForCausalLM", {"ffn": "geglu", "embeddings": "scaled"}),
    (
        "VaultGemmaForCausalLM",
        {"ffn": "geglu", "embeddings": "scaled", "attention_scores": "capped"},
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
    # nanochat: pre-norm blocks of RMSNorms without weight, one more on the
    # embeddings, queries and keys normalized per head after RoPE, a ReLU² MLP;
    # NanoChatConfig soft-caps the logits by default (at 15), or leaves them be.
    (
        "NanoChatForCausalLM",
        {
            "norm": "rmsnorm_noparams",
            "embedding_norm": True,
            "ffn": "relu2",
            "qk_norm": "head_after_rope",
            "attention_scores": "logits_capped",
        },
    ),
    (
        "NanoChatForCausalLM",
        {
            "norm": "rmsnorm_noparams",
            "embedding_norm": True,
            "ffn": "relu2",
            "qk_norm": "head_after_rope",
        },
    ),
    # DeepSeek-V3: latent attention in pre-norm RMSNorm blocks with a SwiGLU MLP,
    # dense (every block one of its leading dense ones) or with its routing.
    ("DeepseekV3ForCausalLM", {"attention": "mla"}),
    (
        "DeepseekV3ForCausalLM",
        {"attention": "mla_bottleneck", "moe": "sigmoid_bias_shared_groups"},
    ),
    # DeepSeek-V2: the same blocks with softmax routing among the best groups of
    # experts, each group scored by its best.
    (
        "DeepseekV2ForCausalLM",
        {"attention": "mla", "moe": "softmax_groups_dense_first"},
    ),
    # ERNIE 4.5 MoE: ERNIE 4.5's blocks, softmax routing picked with routing biases.
    (
        "Ernie4_5_MoeForCausalLM",
        {"hf_layout": "cohere", "moe": "softmax_bias_shared_dense"},
    ),
    # HunYuan MoE: HunYuan's attention, Mixtral's routing and one shared expert.
    (
        "HunYuanMoEV1ForCausalLM",
        {"qk_norm": "head_after_rope", "moe": "softmax_one_shared"},
    ),
    # MiniMax-M2: qk-norm across heads, RoPE on part of each head, sigmoid routing
    # picked with routing biases, without shared experts.
    (
        "MiniMaxM2ForCausalLM",
        {
            "qk_norm": "full",
            "rope_share": "half",
            "head_dim": "explicit",
            "moe": "sigmoid_bias_unshared",
        },
    ),
    # Ministral 3: Mistral's blocks whose queries warm up past the original
    # context (Llama 4's attention temperature), over YaRN with its two mscales.
    (
        "Ministral3ForCausalLM",
        {"attention": "gqa", "positional": "rope_yarn", "attention_temperature": True},
    ),
    # gpt-oss: a bias on every projection, attention sinks, a window in every other
    # layer, YaRN, clamped SwiGLU experts with biases in every block, routed by
    # softmax over each token's top-k.
    (
        "GptOssForCausalLM",
        {
            "bias": "every",
            "attention_scores": "sinks",
            "attention_window": "interleaved",
            "positional": "rope_yarn",
            "head_dim": "explicit",
            "ffn": "clamped_swiglu",
            "moe": "softmax_clamped_biased",
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


def _need_options(read: list[str]) -> list[list[set[str]]]:
    """For each class of the table, for each of its needs, the options whose
    change turns it: found by changing one option at a time, to every value, in
    combinations that together hold every pair of option values. That finds every
    option of a need that reads at most three (some combination holds any two
    values of the other two); the class table's needs read one or two."""
    bases = [FIRST, *option_matrix.pairwise()]
    found = None
    for base in bases:
        before = class_needs(base)
        found = found or [[set() for _ in needs] for _, needs in before]
        for option in read:
            for value in OPTIONS[option]:
                after = class_needs(base | {option: value})
                for row, ((_, was), (_, now)) in enumerate(zip(before, after)):
                    for index in range(len(was)):
                        if was[index] != now[index]:
                            found[row][index].add(option)
    return found


def _class_members_of(
    row: int, architecture: str, need_options: list[set[str]], read: list[str]
) -> Iterator[dict]:
    """The valid combinations of the options the table reads that name
    `architecture`, the class of `row`, in itertools.product's order: a
    depth-first search over those options that drops a value as soon as a need
    it settles is unmet (the options not yet chosen at their first values, which
    that need does not read)."""
    unread = {name: OPTIONS[name][0] for name in OPTIONS if name not in read}

    def search(chosen: dict) -> Iterator[dict]:
        if len(chosen) == len(read):
            combination = chosen | unread
            if valid(combination) and hf_class(combination) == architecture:
                yield combination
            return
        option = read[len(chosen)]
        settled = [
            index
            for index, options in enumerate(need_options)
            if option in options and options <= set(chosen) | {option}
        ]
        for value in OPTIONS[option]:
            choice = chosen | {option: value}
            needs = class_needs(FIRST | choice)[row][1] if settled else []
            if all(needs[index] for index in settled):
                yield from search(choice)

    # A need that reads no option holds for every model or for none.
    constant = [index for index, options in enumerate(need_options) if not options]
    if all(class_needs(FIRST)[row][1][index] for index in constant):
        yield from search({})


def class_members() -> dict[str, list[dict]]:
    """Every valid combination that names a class, by class, found class by
    class from what each need reads (minutes; `enumerated_class_members` is
    the full enumeration, for checking it). The options the class table does not
    read multiply each member, so they are enumerated last."""
    read = options_hf_class_reads()
    need_options = _need_options(read)
    named = []
    for row, (architecture, _) in enumerate(class_needs(FIRST)):
        members = _class_members_of(row, architecture, need_options[row], read)
        named += [(combination, architecture) for combination in members]
    # Back in the enumeration's order, the order the greedy cover's ties follow.
    position = {name: {v: i for i, v in enumerate(OPTIONS[name])} for name in read}
    named.sort(key=lambda item: [position[name][item[0][name]] for name in read])
    return _with_blind_options(named, read)


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


def enumerated_class_members() -> dict[str, list[dict]]:
    """`class_members` by enumerating every valid combination (hours on 2
    cores), split over the cores this process may use by the first option the
    table reads."""
    read = options_hf_class_reads()
    # Forked workers: only Jinja and json run in them (torch is never imported here).
    cores = len(os.sched_getaffinity(0))
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        named = list(itertools.chain(*pool.map(_classes_of, OPTIONS[read[0]])))
    return _with_blind_options(named, read)


def _with_blind_options(named: list, read: list[str]) -> dict[str, list[dict]]:
    """Each (combination, class) times every value of the options the table
    does not read."""
    blind = [name for name in OPTIONS if name not in read]
    members = {}
    for combination, architecture in named:
        for blind_values in itertools.product(*(OPTIONS[name] for name in blind)):
            members.setdefault(architecture, []).append(
                combination | dict(zip(blind, blind_values))
            )
    return members


def _beyond_neighbours(architecture: str, members: list[dict]) -> list[dict]:
    """Models of the class that, with the neighbours naming it, hold every pair
    of option values some model of the class holds (greedy, deterministic)."""
    uncovered = set().union(*map(value_pairs, members)) - set().union(
        *(value_pairs(c) for _, c in NEIGHBOURS if hf_class(c) == architecture)
    )
    chosen = []
    while uncovered:
        best = max(members, key=lambda c: len(value_pairs(c) & uncovered))
        chosen.append(best)
        uncovered -= value_pairs(best)
    return chosen


def fingerprint() -> str:
    """A hash of everything the cover is computed from."""
    source, _, defaults, templated = option_matrix._hf_nearest()
    digest = hashlib.sha256()
    for part in (
        json.dumps([source, defaults, templated], sort_keys=True),
        inspect.getsource(option_matrix),
        Path(__file__).read_text(),
    ):
        digest.update(part.encode())
    return digest.hexdigest()


def compute_cover() -> dict:
    """Every class's member count and its models beyond the neighbours, from the
    full enumeration; fails if a class has no recipe or a recipe is not a member."""
    members = class_members()
    recipes = {architecture for architecture, _ in RECIPES}
    if recipes != set(members):
        raise AssertionError(f"classes without a recipe: {set(members) - recipes}")
    for architecture, recipe in RECIPES:
        if FIRST | recipe not in members[architecture]:
            raise AssertionError(f"{architecture}'s recipe is not one of its models")
    return {
        "fingerprint": fingerprint(),
        "members": {a: len(members[a]) for a in sorted(members)},
        "beyond_neighbours": {
            a: _beyond_neighbours(a, members[a]) for a in sorted(members)
        },
    }


@functools.cache
def committed_cover() -> dict:
    return json.loads(COVER_FILE.read_text())


def _cover_text(cover: dict) -> str:
    """JSON with one model per line, so that a refresh's diff reads model by model."""
    lines = [
        "{",
        f' "fingerprint": {json.dumps(cover["fingerprint"])},',
        f' "members": {json.dumps(cover["members"])},',
        ' "beyond_neighbours": {',
    ]
    classes = list(cover["beyond_neighbours"].items())
    for index, (architecture, models) in enumerate(classes):
        rows = ",\n".join(f"   {json.dumps(model)}" for model in models)
        comma = "," if index < len(classes) - 1 else ""
        lines.append(f"  {json.dumps(architecture)}: [\n{rows}\n  ]{comma}")
    return "\n".join([*lines, " }", "}", ""])


def main() -> None:
    COVER_FILE.write_text(_cover_text(compute_cover()))
    print(f"wrote {COVER_FILE}")


if __name__ == "__main__":
    main()
