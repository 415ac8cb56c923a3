"""`mytitan new --from-hf`: HF configs become answers that rebuild the same model."""

import copy
import dataclasses
import json
import sys
import warnings
from pathlib import Path

import huggingface_hub
import pytest
import torch
import torch.distributed.checkpoint as dcp
import transformers
import yaml
from safetensors.torch import load_file, save_file

from mytitan_scaffold.hf_import import (
    HfImportWarning,
    _flavor_name,
    _head_dim,
    answers_from_hf_config,
)

from .conftest import (
    assert_hf_config_reads_back,
    fp8_release,
    import_package,
    mxfp4_release,
    randomize_norms_and_biases,
    save_hf_folder,
)
from .test_cli import mytitan, tree_hash
from .test_render import COUNTERPARTS
from .variants import PHI35_ROPE

CONFIGS = Path(__file__).parent / "data" / "hf_configs"
CONFIG_NAMES = sorted(p.name for p in CONFIGS.glob("*.json"))
# The configs of models whose positions are a learned table: no RoPE keys to read.
LEARNED_POSITIONS = ("gpt2.json", "starcoder.json")


def _hf_model(config: dict, device: str = "cpu") -> torch.nn.Module:
    # A copy: transformers writes into the RoPE dicts it is given, and tests
    # share those (LLAMA3_ROPE) across configs.
    hf_config = transformers.AutoConfig.for_model(**copy.deepcopy(config))
    with torch.device(device):
        return transformers.AutoModelForCausalLM.from_config(
            hf_config, dtype=torch.float32, attn_implementation="eager"
        )


def _render(tmp_path: Path, config_path: Path, name: str):
    result = mytitan(
        "new", name, "--defaults", "--from-hf", str(config_path), cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    model_dir = tmp_path / "models" / name
    answers = yaml.safe_load((model_dir / ".copier-answers.yml").read_text())
    package = import_package(model_dir, f"from_hf_{tmp_path.name}_{name}")
    return package.get_train_spec(), answers


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_main_flavor_has_the_hf_models_parameters(tmp_path, config_name):
    config = json.loads((CONFIGS / config_name).read_text())
    spec, answers = _render(tmp_path, CONFIGS / config_name, "imported")
    assert set(spec.model_args) == {"debugmodel", answers["flavor_name"]}
    args = spec.model_args[answers["flavor_name"]]
    with torch.device("meta"):
        model = spec.model_cls(args)
    ours = sum(p.numel() for p in model.parameters())
    theirs = _hf_nparams(config)
    assert ours == theirs
    assert args.get_nparams_and_flops(model, 2048)[0] == theirs


def _hf_nparams(config: dict) -> int:
    """The trained parameters of transformers' model of `config`: ERNIE 4.5 MoE
    keeps its routing biases (buffers here) as parameters without gradients."""
    parameters = _hf_model(config, "meta").parameters()
    return sum(p.numel() for p in parameters if p.requires_grad)


# GPT-2's spellings of the common fields, which its config class also reads.
GPT2_SPELLINGS = {
    "n_embd": "hidden_size",
    "n_layer": "num_hidden_layers",
    "n_head": "num_attention_heads",
    "n_positions": "max_position_embeddings",
}


def _tiny(config: dict) -> dict:
    """The same architecture at toy sizes (RoPE settings, tying, biases kept)."""
    config = {GPT2_SPELLINGS.get(key, key): value for key, value in config.items()}
    heads, kv = (
        4,
        4 if config.get("num_key_value_heads") == config["num_attention_heads"] else 2,
    )
    tiny = dict(
        config,
        vocab_size=512,
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        # Token ids of the real vocabulary do not fit the toy one.
        pad_token_id=None,
        bos_token_id=None,
        eos_token_id=None,
    )
    # An explicit head_dim that differs from hidden // heads stays explicit.
    explicit = (
        config.get("head_dim")
        and config["head_dim"] * config["num_attention_heads"] != config["hidden_size"]
    )
    tiny["head_dim"] = 32 if explicit else 16
    if tiny.get("sliding_window") and tiny["model_type"] in (
        "mistral",
        "mixtral",
        "olmo3",
        "gemma2",
        "gemma3_text",
        "vaultgemma",
        "phi3",
        "cohere2",
        "exaone4",
        "starcoder2",
        "ministral3",
        "gpt_oss",
    ):
        tiny["sliding_window"] = 8  # shorter than the test's 24 tokens
    rope = config.get("rope_parameters") or {}
    if rope.get("llama_4_scaling_beta"):
        # Ministral 3's attention temperature changes every original context:
        # one of 8 positions, which the test's 24 tokens run past twice.
        tiny["rope_parameters"] = {**rope, "original_max_position_embeddings": 8}
    if "sliding_window_pattern" in config:
        tiny["sliding_window_pattern"] = 2  # a local layer, then a global one
    if config["model_type"] in ("gpt2", "gpt_bigcode"):
        # GPT-2's (and GPTBigCode's) only name for it.
        tiny["n_inner"] = tiny.pop("intermediate_size")
    if "query_pre_attn_scalar" in config:
        # Gemma scales scores by query_pre_attn_scalar ** -0.5: its head size, or
        # (Gemma 2 27B) another.
        own = config["query_pre_attn_scalar"] != _head_dim(config)
        tiny["query_pre_attn_scalar"] = tiny["head_dim"] + (8 if own else 0)
    if "attention_multiplier" in config:
        # Granite 3 scales scores by 1 / head_dim; another model by head_dim's
        # inverse square root, as SDPA does. The same at the toy's heads.
        own = config["attention_multiplier"] != _head_dim(config) ** -0.5
        tiny["attention_multiplier"] = tiny["head_dim"] ** (-1 if own else -0.5)
    if "swiglu_limit" in config:
        # gpt-oss's clamps, biting on about half of the toy's activations.
        tiny["swiglu_limit"] = 0.1
    # Caps that bite on a small random model's scores and logits.
    if config.get("attn_logit_softcapping"):
        tiny["attn_logit_softcapping"] = 0.05
    if config.get("final_logit_softcapping"):
        tiny["final_logit_softcapping"] = 0.5
    if "layer_types" in config:
        # Each kind of layer the model has, in the toy's two layers (local first).
        kinds = sorted(set(config["layer_types"]), reverse=True)
        tiny["layer_types"] = (kinds * 2)[:2]
    for key, size in (
        ("num_local_experts", 4),
        ("num_experts", 4),
        ("n_routed_experts", 4),
    ):
        if config.get(key):  # none stays none (Granite 4's dense models)
            tiny[key] = size
    if "num_experts_per_tok" in config:
        tiny["num_experts_per_tok"] = 2
    if config.get("no_rope_layers"):
        # A RoPE layer, then a NoPE one, in the toy's two layers.
        tiny["no_rope_layers"] = [1, 0]
        tiny["no_rope_layer_interval"] = 2
    if config["model_type"] in ("falcon", "gpt_neox", "persimmon"):
        # Their heads are hidden_size // heads wide (no key of their own); Falcon's
        # key/value heads are num_kv_heads, GPT-NeoX's and Persimmon's as many as
        # their query heads.
        del tiny["head_dim"], tiny["num_key_value_heads"]
    if config["model_type"] == "falcon":
        # Falcon's MLP's width is ffn_hidden_size.
        del tiny["intermediate_size"]
        tiny["ffn_hidden_size"] = 160
    if "moe_intermediate_size" in config:
        tiny["moe_intermediate_size"] = 48
    if config["model_type"] == "ernie4_5_moe":
        tiny |= {"moe_num_experts": 4, "moe_k": 2}  # of 64 and 6 by default
    if "rotary_dim" in config:
        # MiniMax-M2's rotated dimensions: the same share of the toy's heads.
        tiny["rotary_dim"] = (
            tiny["head_dim"] * config["rotary_dim"] // _head_dim(config)
        )
    if "attn_type_list" in config:
        tiny["attn_type_list"] = config["attn_type_list"][:2]
    if config["model_type"] == "hunyuan_v1_moe":
        # Tencent's per-block lists at the toy's two blocks: 2 of the 4 experts,
        # each as wide as intermediate_size, and one shared MLP.
        tiny |= {"moe_topk": [2, 2], "num_shared_expert": [1, 1]}
        tiny["moe_intermediate_size"] = [tiny["intermediate_size"]] * 2
    if config["model_type"] in ("deepseek_v3", "glm4_moe_lite", "deepseek_v2"):
        # Latent attention at toy sizes: value heads narrower than query/key ones
        # (16 + 8), a query bottleneck only where the model has one; DeepSeek's
        # head_dim is no size of its own (transformers sets it to the RoPE part).
        del tiny["head_dim"]
        tiny["num_key_value_heads"] = heads  # every head's own keys and values
        tiny |= {"kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8}
        tiny |= {"v_head_dim": 16, "n_group": 2, "topk_group": 1}
        tiny["num_experts_per_tok"] = 2  # of 4 (its default is 8)
        if config.get("q_lora_rank", 1536):  # DeepseekV3Config's default
            tiny["q_lora_rank"] = 24
    if config["model_type"] == "deepseek_v3":
        # One dense block, then an MoE one; or dense blocks only, as the model.
        dense = config.get("first_k_dense_replace", 3)
        tiny["first_k_dense_replace"] = 2 if dense >= config["num_hidden_layers"] else 1
    if config.get("shared_intermediate_size"):  # MiniMax-M2's 0 means none
        tiny["shared_intermediate_size"] = 160  # Granite 4's dense MLP
    if "shared_expert_intermediate_size" in config:
        # Qwen2-MoE's shared expert: as many experts wide as the model's.
        experts = (
            config["shared_expert_intermediate_size"] // config["moe_intermediate_size"]
        )
        tiny["shared_expert_intermediate_size"] = 48 * experts
    return tiny


def _fit_longrope(tiny: dict) -> dict:
    """LongRoPE factors taken at evenly spaced pairs, one per pair the toy's heads
    rotate (as the template's smaller flavors take them)."""
    rope = tiny.get("rope_scaling") or {}
    if "short_factor" not in rope:
        return tiny
    pairs = int(tiny["head_dim"] * tiny.get("partial_rotary_factor", 1.0)) // 2
    fitted = {
        key: [rope[key][i * len(rope[key]) // pairs] for i in range(pairs)]
        for key in ("short_factor", "long_factor")
    }
    return {**tiny, "rope_scaling": {**rope, **fitted}}


# Llama 3.1's RoPE scaling, for the configs below that take it.
LLAMA3_ROPE = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}
# attention_bias with mlp_bias: a bias on every projection, where transformers'
# code reads both flags as Llama's does.
BOTH_BIAS_FLAGS = {"attention_bias": True, "mlp_bias": True}

# What the shipped configs do not show: Qwen's sliding windows (local everywhere, or
# every second layer global), Ministral's global layers, OLMo 3's global layers and
# per-kind RoPE settings, Dots1 routing within the best of its expert groups,
# GLM-4.5's qk-norm and other GLM-4.5-Air settings, OLMoE's and Qwen2-MoE's other settings,
# StableLM's other rotary share and qkv bias, SmolLM3's NoPE interval alone,
# Phi-4-mini's shape, Phi-3.5 past its original context, GLM's pre-norm blocks
# (GLM-4-9B-chat) and other settings, Granite with the usual attention scale, and
# Cohere's (Command R+'s qk-norm among them) and Cohere 2's other settings,
# EXAONE 4's (its 32B's and its 1.2B's), Arcee's, Seed-OSS's, InternLM3's,
# IQuest-Coder's, Solar Open's, ERNIE 4.5's, Helium's, FlexOlmo's, HunYuan's,
# Gemma 1's and VaultGemma's, StarCoder2's, HyperCLOVAX's (muP multipliers, no
# post-norms), Falcon's (its new decoder architecture with GQA, its first without
# multi-query attention), and a bias on every projection in Llama's, ERNIE 4.5's,
# Arcee's, Nemotron's, Granite's, HyperCLOVAX's, Falcon's and InternLM3's.
CHANGED_CONFIGS = {
    # Llama with attention_bias and mlp_bias: a bias on every projection.
    "llama_every_bias": ("llama-3.2-1b.json", BOTH_BIAS_FLAGS),
    # ERNIE 4.5 with its use_bias: a bias on every projection, RoPE rows in pairs.
    "ernie4_5_use_bias": ("ernie4_5-defaults.json", {"use_bias": True}),
    # Arcee, Nemotron, Granite and HyperCLOVAX with both flags: a bias on every
    # projection.
    "arcee_every_bias": ("arcee-defaults.json", BOTH_BIAS_FLAGS),
    "nemotron_every_bias": ("nemotron-4-4b.json", BOTH_BIAS_FLAGS),
    "granite_every_bias": ("granite-3.3-8b-instruct.json", BOTH_BIAS_FLAGS),
    "hyperclovax_every_bias": ("hyperclovax-defaults.json", BOTH_BIAS_FLAGS),
    # InternLM3 with its qkv_bias and bias (Llama's code: attention_bias and
    # mlp_bias): a bias on every projection, exported as Llama.
    "internlm3_every_bias": (
        "internlm3-defaults.json",
        {"qkv_bias": True, "bias": True},
    ),
    # StarCoder2 without biases or a window, untied, with Llama 3's RoPE scaling.
    "starcoder2_no_bias_no_window_untied_llama3": (
        "starcoder2-3b.json",
        {
            "use_bias": False,
            "sliding_window": None,
            "tie_word_embeddings": False,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # StarCoder2 with MHA (the toy's 4 heads) and YaRN past a 4K original context.
    "starcoder2_mha_yarn": (
        "starcoder2-3b.json",
        {
            "num_key_value_heads": 4,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 999999.0,
                "factor": 4.0,
                "original_max_position_embeddings": 4096,
            },
        },
    ),
    # Falcon-40B's decoder (q, k and v grouped by key/value head) behind one
    # LayerNorm, as Falcon2-11B has it: GQA, a bias on every projection, untied,
    # YaRN.
    "falcon_new_decoder_gqa_bias_untied_yarn": (
        "falcon-7b.json",
        {
            "new_decoder_architecture": True,
            "num_ln_in_parallel_attn": 1,
            "num_kv_heads": 2,
            "bias": True,
            "tie_word_embeddings": False,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 500000.0,
                "factor": 4.0,
                "original_max_position_embeddings": 2048,
            },
        },
    ),
    # Falcon's first decoder without multi-query attention: q, k and v
    # interleaved head by head.
    "falcon_mha": ("falcon-7b.json", {"multi_query": False}),
    # Falcon-7B with a bias on every projection (its one bias flag).
    "falcon_bias": ("falcon-7b.json", {"bias": True}),
    # Falcon-40B's blocks: the new decoder architecture's default of a LayerNorm
    # before each of attention and MLP (ln_attn, ln_mlp), GQA, untied.
    "falcon_40b_two_norms": (
        "falcon-7b.json",
        {
            "new_decoder_architecture": True,
            "num_kv_heads": 2,
            "tie_word_embeddings": False,
        },
    ),
    # GPT-NeoX without its parallel residual (pre-norm blocks), tanh-GELU as
    # GPT-NeoX-20B names it, tied, YaRN on a quarter of each head.
    "gpt_neox_sequential_gelu_fast_tied_yarn": (
        "pythia-160m.json",
        {
            "use_parallel_residual": False,
            "hidden_act": "gelu_fast",
            "tie_word_embeddings": True,
            "rope_scaling": {
                "rope_type": "yarn",
                "factor": 4.0,
                "original_max_position_embeddings": 512,
            },
        },
    ),
    # Phi with GQA, its qk-norm (a LayerNorm per head, one weight for all heads),
    # exact GELU, tied, linear RoPE scaling on half of each head (Phi-1's share).
    "phi_gqa_qk_layernorm_gelu_tied_linear": (
        "phi-2.json",
        {
            "num_key_value_heads": 2,
            "qk_layernorm": True,
            "hidden_act": "gelu",
            "tie_word_embeddings": True,
            "partial_rotary_factor": 0.5,
            "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        },
    ),
    # OLMo 1 as its 7B (untied), with GQA and YaRN.
    "olmo_gqa_untied_yarn": (
        "olmo-1b.json",
        {
            "num_key_value_heads": 2,
            "tie_word_embeddings": False,
            "rope_scaling": {
                "rope_type": "yarn",
                "factor": 4.0,
                "original_max_position_embeddings": 512,
            },
        },
    ),
    # Persimmon tied, rotating whole heads with linear RoPE scaling.
    "persimmon_tied_whole_heads_linear": (
        "persimmon-defaults.json",
        {
            "tie_word_embeddings": True,
            "partial_rotary_factor": 1.0,
            "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        },
    ),
    # nanochat with GQA, tied, its logits uncapped, with YaRN.
    "nanochat_gqa_tied_uncapped_yarn": (
        "nanochat-defaults.json",
        {
            "num_key_value_heads": 2,
            "tie_word_embeddings": True,
            "final_logit_softcapping": None,
            "rope_scaling": {
                "rope_type": "yarn",
                "factor": 4.0,
                "original_max_position_embeddings": 512,
            },
        },
    ),
    # DeepSeek-V3's latent attention in a dense model (every block one of its
    # leading dense ones), queries at full rank (as DeepSeek-V2-Lite's), tied,
    # with Llama 3's RoPE scaling.
    "deepseek_v3_dense_full_rank_tied_llama3": (
        "deepseek-v3-defaults.json",
        {
            "first_k_dense_replace": 61,
            "q_lora_rank": None,
            "tie_word_embeddings": True,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # DeepSeek's YaRN with its two mscales apart (DeepSeek-V2's and -V3's are
    # equal), so that the rotations' magnitude changes beside the scores.
    "deepseek_v3_yarn_unequal_mscales": (
        "deepseek-v3-defaults.json",
        {
            "rope_scaling": {
                "rope_type": "yarn",
                "factor": 40.0,
                "original_max_position_embeddings": 4096,
                "mscale": 1.0,
                "mscale_all_dim": 0.707,
            },
        },
    ),
    # DeepSeek-V2's routing as its 236B model has it (DeepSeek-V2-Lite's routes
    # over all experts): within the best of two groups of experts, each group
    # scored by its best expert, the scores scaled by 16; queries through a
    # bottleneck.
    "deepseek_v2_group_limited_bottleneck": (
        "deepseek-v2-lite.json",
        {
            "topk_method": "group_limited_greedy",
            "routed_scaling_factor": 16.0,
            "q_lora_rank": 24,
        },
    ),
    # ERNIE 4.5 MoE with MoE in every block and no shared experts.
    "ernie4_5_moe_every_block_unshared": (
        "ernie4_5_moe-defaults.json",
        {"moe_layer_start_index": 0, "moe_num_shared_experts": 0},
    ),
    # HunYuan MoE untied, its top-k one number (as transformers' config writes it)
    # and none of Tencent's per-block lists.
    "hunyuan_v1_moe_untied_plain_keys": (
        "hunyuan-a13b.json",
        {
            "tie_word_embeddings": False,
            "moe_topk": 2,
            "num_shared_expert": 1,
            "moe_intermediate_size": 160,
        },
    ),
    # MiniMax-M2 rotating whole heads (no rotary_dim), tied.
    "minimax_m2_whole_heads_tied": (
        "minimax-m2.json",
        {"rotary_dim": None, "tie_word_embeddings": True},
    ),
    # GLM-4.7-Flash's blocks with a coarse norm eps: its latents' norms keep
    # DeepSeek's 1e-6, which a shared eps would make differ visibly.
    "glm4_moe_lite_coarse_block_eps": (
        "glm4-moe-lite-defaults.json",
        {"rms_norm_eps": 0.1},
    ),
    # GPT-NeoX rotating whole heads, Llama 3's RoPE scaling from its own base.
    "gpt_neox_whole_heads_llama3": (
        "pythia-160m.json",
        {"rotary_pct": 1.0, "rotary_emb_base": 500000, "rope_scaling": LLAMA3_ROPE},
    ),
    # Gemma 1 as its 7B (MHA: the toy's 4 heads), untied, with linear RoPE scaling.
    "gemma_mha_untied_linear": (
        "gemma-2b.json",
        {
            "num_key_value_heads": 4,
            "tie_word_embeddings": False,
            "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        },
    ),
    # VaultGemma as released: full attention in every layer (the window is set
    # but no layer slides it), its scores scaled by a size of their own.
    "vaultgemma_full_attention_scaled": (
        "vaultgemma-defaults.json",
        {
            "layer_types": ["full_attention"] * 2,
            "sliding_window": 512,
            "query_pre_attn_scalar": 144,
        },
    ),
    # Seed-OSS without its q/k/v bias (so Llama's blocks), tied, with Llama 3's
    # RoPE scaling.
    "seed_oss_no_bias_tied_llama3": (
        "seed-oss-36b.json",
        {
            "attention_bias": False,
            "tie_word_embeddings": True,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # InternLM3 8B's RoPE: dynamic NTK scaling, which transformers applies only
    # past max_position_embeddings (here the test's 24 tokens, the boundary).
    "internlm3_dynamic_ntk": (
        "internlm3-defaults.json",
        {
            "max_position_embeddings": 24,
            "rope_theta": 50000000.0,
            "rope_scaling": {"rope_type": "dynamic", "factor": 6.0},
        },
    ),
    # Solar Open with a q/k/v bias (its output projection never has one), top-k
    # scores not renormalized and scaled, routing within the better of two groups.
    "solar_open_qkv_bias_node_limited": (
        "solar-open-defaults.json",
        {
            "attention_bias": True,
            "norm_topk_prob": False,
            "routed_scaling_factor": 2.5,
            "n_group": 2,
            "topk_group": 1,
        },
    ),
    # FlexOlmo with renormalized top-k scores, GQA, tied, Llama 3's RoPE scaling.
    "flex_olmo_renormalized_gqa_tied_llama3": (
        "flex_olmo-defaults.json",
        {
            "norm_topk_prob": True,
            "num_key_value_heads": 2,
            "tie_word_embeddings": True,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # HunYuan without its NTK alpha (YaRN instead), MHA, tied.
    "hunyuan_yarn_mha_tied": (
        "hunyuan-7b.json",
        {
            "num_key_value_heads": None,
            "tie_word_embeddings": True,
            "rope_scaling": None,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 10000.0,
                "factor": 4.0,
                "original_max_position_embeddings": 4096,
            },
        },
    ),
    # ERNIE 4.5 untied, with Llama 3's RoPE scaling (on pairs of rows).
    "ernie4_5_untied_llama3": (
        "ernie4_5-defaults.json",
        {"tie_word_embeddings": False, "rope_scaling": LLAMA3_ROPE},
    ),
    # Helium with its attention_bias (on q, k and v), GQA, tied, YaRN.
    "helium_qkv_bias_gqa_yarn": (
        "helium-defaults.json",
        {
            "attention_bias": True,
            "num_key_value_heads": 2,
            "tie_word_embeddings": True,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 100000.0,
                "factor": 4.0,
                "original_max_position_embeddings": 4096,
            },
        },
    ),
    # IQuest-Coder (Llama's code) with MHA and YaRN past a 4K original context.
    "iquestcoder_mha_yarn": (
        "iquestcoder-defaults.json",
        {
            "num_key_value_heads": 4,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 500000.0,
                "factor": 8.0,
                "original_max_position_embeddings": 4096,
            },
        },
    ),
    # Arcee AFM-4.5B's kind (at the toy's sizes): GQA, heads wider than
    # dim // n_heads, YaRN past a 4K original context.
    "arcee_gqa_wide_heads_yarn": (
        "arcee-defaults.json",
        {
            "num_key_value_heads": 2,
            "head_dim": 32,
            "max_position_embeddings": 65536,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 10000.0,
                "factor": 16.0,
                "original_max_position_embeddings": 4096,
            },
        },
    ),
    # Tied, with Llama 3's RoPE scaling.
    "arcee_tied_llama3": (
        "arcee-defaults.json",
        {"tie_word_embeddings": True, "rope_scaling": LLAMA3_ROPE},
    ),
    # EXAONE 4.0 32B's kind: GQA, untied, Llama 3's RoPE scaling (in the local
    # layers, the only ones that rotate), layer_types beside the string pattern
    # that transformers reads only through them.
    "exaone4_gqa_untied_llama3": (
        "exaone4-defaults.json",
        {
            "num_key_value_heads": 2,
            "tie_word_embeddings": False,
            "rope_scaling": LLAMA3_ROPE,
            "sliding_window_pattern": "LG",
            "layer_types": ["sliding_attention", "full_attention"],
        },
    ),
    # EXAONE 4.0 1.2B's kind: no window, so RoPE and full attention in every
    # layer; tied.
    "exaone4_no_window_tied": (
        "exaone4-defaults.json",
        {
            "sliding_window": None,
            "layer_types": ["full_attention"] * 2,
            "tie_word_embeddings": True,
        },
    ),
    # Local attention, and so RoPE, in every layer.
    "exaone4_all_local": (
        "exaone4-defaults.json",
        {"layer_types": ["sliding_attention"] * 2},
    ),
    # Command R's MHA (at the toy's 4 heads) and logit scale, untied, Llama 3's
    # RoPE scaling.
    "cohere_mha_untied_llama3": (
        "aya-expanse-8b.json",
        {
            "num_key_value_heads": 4,
            "logit_scale": 0.0625,
            "tie_word_embeddings": False,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # GQA, untied, Llama 3's RoPE scaling (in the local layers, the only ones that
    # rotate), Command R7B's logit scale.
    "cohere2_gqa_untied_llama3": (
        "cohere2-defaults.json",
        {
            "num_key_value_heads": 2,
            "tie_word_embeddings": False,
            "rope_scaling": LLAMA3_ROPE,
            "logit_scale": 0.25,
        },
    ),
    # Command R+'s LayerNorms on each query and key head, with a weight per head.
    "cohere_qk_norm": ("aya-expanse-8b.json", {"use_qk_norm": True}),
    # Local attention, and so RoPE, in every layer.
    "cohere2_all_local": (
        "cohere2-defaults.json",
        {"layer_types": ["sliding_attention"] * 2},
    ),
    # Scores scaled by head_dim ** -0.5, untied, Llama 3's RoPE scaling.
    "granite_sqrt_scale_llama3": (
        "granite-3.3-8b-instruct.json",
        {
            "attention_multiplier": 128**-0.5,
            "tie_word_embeddings": False,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # Scores scaled by head_dim ** -0.5, one expert per token, no aux loss, tied.
    "granitemoe_sqrt_scale_top1_tied": (
        "granitemoe-defaults.json",
        {
            "attention_multiplier": 16**-0.5,
            "num_experts_per_tok": 1,
            "router_aux_loss_coef": 0.0,
            "tie_word_embeddings": True,
        },
    ),
    # HyperCLOVAX with muP's multipliers (scores scaled by 1 / head_dim, logits
    # multiplied by 0.125), GQA, heads wider than dim // n_heads, tied (at the toy
    # sizes: 4 heads of 32 at width 64).
    "hyperclovax_mup_gqa_wide_heads_tied": (
        "hyperclovax-defaults.json",
        {
            "embedding_multiplier": 12.0,
            "residual_multiplier": 0.22,
            "attention_multiplier": 1 / 32,
            "logits_scaling": 0.125,
            "num_key_value_heads": 2,
            "head_dim": 32,
            "tie_word_embeddings": True,
        },
    ),
    # HyperCLOVAX without Peri-LN's post-norms: Granite's pre-norm blocks with
    # logits multiplied (exported as Granite, which divides), Llama 3's RoPE.
    "hyperclovax_pre_norm_llama3": (
        "hyperclovax-defaults.json",
        {"use_post_norm": False, "logits_scaling": 4.0, "rope_scaling": LLAMA3_ROPE},
    ),
    # Granite 4 without RoPE, GQA, untied.
    "granitemoehybrid_nope_gqa": (
        "granitemoehybrid-dense-defaults.json",
        {"position_embedding_type": "nope", "num_key_value_heads": 2},
    ),
    # Minitron 8B's kind: heads other than dim // n_heads (it has 48 at width
    # 4096), half of each rotated; here with Llama 3's RoPE scaling.
    "nemotron_wide_heads_llama3": (
        "nemotron-4-4b.json",
        {"head_dim": 32, "rope_scaling": LLAMA3_ROPE},
    ),
    # MHA, whole heads rotated with YaRN past a 4K original context, tied.
    "nemotron_mha_whole_heads_tied_yarn": (
        "nemotron-4-4b.json",
        {
            "num_key_value_heads": 4,
            "partial_rotary_factor": 1.0,
            "tie_word_embeddings": True,
            "max_position_embeddings": 16384,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 10000.0,
                "factor": 4.0,
                "original_max_position_embeddings": 4096,
            },
        },
    ),
    "glm_pre_norm": (
        "glm4-9b-defaults.json",
        {"model_type": "glm", "architectures": ["GlmForCausalLM"]},
    ),
    # Whole heads rotated, no qkv bias, tied embeddings, Llama 3's RoPE scaling.
    "glm4_whole_rotary_llama3": (
        "glm4-9b-defaults.json",
        {
            "partial_rotary_factor": 1.0,
            "attention_bias": False,
            "tie_word_embeddings": True,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # Phi-4-mini's shape: GQA, LongRoPE on three quarters of each head, tied
    # embeddings (with Phi-3.5 mini's factors).
    "phi4_mini": (
        "phi-3.5-mini-instruct.json",
        {
            "num_key_value_heads": 2,
            "partial_rotary_factor": 0.75,
            "tie_word_embeddings": True,
        },
    ),
    # Phi-3.5 mini past its original context (16 tokens here, fewer than the
    # test's 24): the long factors, and a larger attention scale.
    "phi35_long_factors": (
        "phi-3.5-mini-instruct.json",
        {"original_max_position_embeddings": 16},
    ),
    # The toy sizes give 4 experts: the best group's 2 experts against the best 2.
    "dots1_node_limited": ("dots.llm1-base.json", {"n_group": 2, "topk_group": 1}),
    # OLMoE with renormalized top-k scores, GQA, tied embeddings, Llama 3's RoPE
    # scaling.
    "olmoe_renormalized_gqa_llama3": (
        "olmoe-1b-7b-0924.json",
        {
            "norm_topk_prob": True,
            "num_key_value_heads": 2,
            "tie_word_embeddings": True,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # Qwen2-MoE with a dense first block, a shared expert one expert wide,
    # renormalized top-k scores, no qkv bias, GQA, tied embeddings, Llama 3's RoPE
    # scaling.
    "qwen2_moe_dense_first_renormalized_gqa": (
        "qwen1.5-moe-a2.7b.json",
        {
            "mlp_only_layers": [0],
            "shared_expert_intermediate_size": 48,  # the toy's expert width
            "norm_topk_prob": True,
            "qkv_bias": False,
            "num_key_value_heads": 2,
            "tie_word_embeddings": True,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # GLM-4.5's qk-norm per head and route scale, routing within the better of two
    # expert groups.
    "glm45_qk_norm_node_limited": (
        "glm-4.5-air.json",
        {
            "use_qk_norm": True,
            "routed_scaling_factor": 2.5,
            "n_group": 2,
            "topk_group": 1,
        },
    ),
    # Whole heads rotated, no qkv bias, tied embeddings, unnormalized top-k scores,
    # Llama 3's RoPE scaling.
    "glm4_moe_whole_rotary_llama3": (
        "glm-4.5-air.json",
        {
            "partial_rotary_factor": 1.0,
            "attention_bias": False,
            "tie_word_embeddings": True,
            "norm_topk_prob": False,
            "rope_scaling": LLAMA3_ROPE,
        },
    ),
    # Half of each head rotated, and biases on q, k and v.
    "stablelm_half_rotary_qkv_bias": (
        "stablelm-3b-4e1t.json",
        {"partial_rotary_factor": 0.5, "use_qkv_bias": True},
    ),
    # Attention and MLP side by side, from one LayerNorm.
    "stablelm_parallel": ("stablelm-3b-4e1t.json", {"use_parallel_residual": True}),
    # StableLM 2 12B's blocks: side by side, with a LayerNorm per query and key
    # head (one checkpoint key per head), in GQA.
    "stablelm2_qk_norm": (
        "stablelm-3b-4e1t.json",
        {
            "use_parallel_residual": True,
            "qk_layernorm": True,
            "num_key_value_heads": 2,
        },
    ),
    "qwen2_all_local": (
        "qwen2.5-0.5b.json",
        {"use_sliding_window": True, "sliding_window": 8, "max_window_layers": 0},
    ),
    # OLMo 3 with both layer kinds at toy sizes, and YaRN set for each kind alike.
    "olmo3_alternating_yarn": (
        "olmo3-7b-defaults.json",
        {
            "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"],
            "max_position_embeddings": 8192,
            "rope_parameters": {
                kind: {
                    "rope_type": "yarn",
                    "rope_theta": 10000.0,
                    "factor": 4.0,
                    "original_max_position_embeddings": 2048,
                }
                for kind in ("sliding_attention", "full_attention")
            },
        },
    ),
    # Gemma 3 4B's text layers: linear RoPE scaling in the global layers only.
    "gemma3_global_linear": (
        "gemma-3-1b-pt.json",
        {"rope_scaling": {"rope_type": "linear", "factor": 8.0}},
    ),
    # Linear position interpolation in every layer.
    "llama_linear": (
        "llama-3.2-1b.json",
        {"rope_scaling": {"rope_type": "linear", "factor": 4.0}},
    ),
    # Gemma 3's bases: 10000 in the local layers, 1000000 in the global ones.
    "olmo3_local_base": (
        "olmo3-7b-defaults.json",
        {
            "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"],
            "rope_parameters": {
                "sliding_attention": {"rope_type": "default", "rope_theta": 1e4},
                "full_attention": {"rope_type": "default", "rope_theta": 1e6},
            },
        },
    ),
    # A local base of its own, and YaRN in the global layers only.
    "olmo3_local_base_global_yarn": (
        "olmo3-7b-defaults.json",
        {
            "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"],
            "max_position_embeddings": 8192,
            "rope_parameters": {
                "sliding_attention": {"rope_type": "default", "rope_theta": 1e4},
                "full_attention": {
                    "rope_type": "yarn",
                    "rope_theta": 5e5,
                    "factor": 4.0,
                    "original_max_position_embeddings": 2048,
                },
            },
        },
    ),
    # Llama 3 RoPE without its pretraining length: transformers takes
    # max_position_embeddings.
    "llama3_rope_without_original_length": (
        "llama-3.1-8b.json",
        {
            "rope_scaling": {
                "rope_type": "llama3",
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
            },
        },
    ),
    # SmolLM3 without no_rope_layers: transformers derives them from the interval.
    "smollm3_nope_interval_only": (
        "smollm3-3b.json",
        {"no_rope_layers": None, "no_rope_layer_interval": 2},
    ),
    # Mistral's blocks with global layers among the local ones.
    "ministral_alternating": (
        "mistral-7b-v0.1.json",
        {
            "model_type": "ministral",
            "architectures": ["MinistralForCausalLM"],
            "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"],
        },
    ),
    "qwen3_alternating": (
        "qwen3-0.6b.json",
        {
            "use_sliding_window": True,
            "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"],
        },
    ),
    # Ministral 3's attention temperature over Llama 3's RoPE scaling (from 8
    # positions), with a window in every layer and tied embeddings.
    "ministral3_window_llama3_tied": (
        "ministral3-defaults.json",
        {
            "sliding_window": 8,
            "tie_word_embeddings": True,
            "rope_parameters": {
                **LLAMA3_ROPE,
                "rope_theta": 1e6,
                "original_max_position_embeddings": 8,
                "llama_4_scaling_beta": 0.3,
            },
        },
    ),
    # YaRN's two mscales apart in Llama's attention: transformers sets the
    # rotations' magnitude to the ratio of their corrections (no score rescale,
    # which is DeepSeek's latent attention's own).
    "llama_yarn_unequal_mscales": (
        "llama-3.2-1b.json",
        {
            "rope_scaling": {
                "rope_type": "yarn",
                "factor": 8.0,
                "original_max_position_embeddings": 8192,
                "mscale": 0.8,
                "mscale_all_dim": 1.2,
            },
        },
    ),
}


def test_answers_for_windowed_qwen(tmp_path):
    base, changes = CHANGED_CONFIGS["qwen3_alternating"]
    config = {**json.loads((CONFIGS / base).read_text()), **changes}
    config["layer_types"] = ["sliding_attention", "full_attention"] * 14
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    assert (answers["sliding_window"], answers["global_every"]) == (8, 2)


FP8_BLOCK = 16  # smaller than the toy matrices, so that each has several blocks


@pytest.mark.parametrize(
    # Experts split per key, q/k rows permuted, q/k/v and gate/up stacked.
    "config_name",
    ["deepseek-v3-defaults.json", "qwen3-0.6b.json", "phi-3-mini-4k-instruct.json"],
)
def test_fp8_checkpoint_loads_dequantized(tmp_path, config_name):
    """torchtitan's --checkpoint.initial_load_in_hf_quantized path: the adapter's
    reader dequantizes the FP8 blocks as they are read; the model then gives the
    logits of transformers' model holding the dequantized weights."""
    tiny = _tiny(json.loads((CONFIGS / config_name).read_text()))
    quantization = {"quant_method": "fp8", "weight_block_size": [FP8_BLOCK] * 2}
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**tiny, "quantization_config": quantization}))
    spec, answers = _render(tmp_path, path, "fp8")
    args = spec.model_args[answers["flavor_name"]]
    torch.manual_seed(0)
    hf_model = _hf_model(tiny).eval()
    randomize_norms_and_biases(hf_model)
    # The Hub's layout (one matrix per expert), quantized as an FP8 release is.
    hf_model.save_pretrained(tmp_path / "plain")
    weights = load_file(tmp_path / "plain" / "model.safetensors")
    stored, dequantized = fp8_release(weights, FP8_BLOCK)
    release = save_hf_folder(tmp_path / "release", stored, json.loads(path.read_text()))
    model = spec.model_cls(args).eval()
    adapter = spec.state_dict_adapter(args, None)
    hf_state_dict = adapter.to_hf(model.state_dict())
    reader = adapter.get_hf_storage_reader(str(release), from_quantized=True)
    dcp.load(hf_state_dict, storage_reader=reader, no_dist=True)  # one process
    assert all(torch.equal(hf_state_dict[k], dequantized[k]) for k in hf_state_dict)
    model.load_state_dict(adapter.from_hf(hf_state_dict), strict=True)
    # transformers' model with the dequantized weights, through its own loader.
    save_file(dequantized, tmp_path / "plain" / "model.safetensors")
    hf_model = transformers.AutoModelForCausalLM.from_pretrained(
        tmp_path / "plain", dtype=torch.float32, attn_implementation="eager"
    ).eval()
    tokens = torch.randint(0, tiny["vocab_size"], (2, 24))
    with torch.no_grad():
        diff = (model(tokens) - hf_model(tokens).logits).abs().max().item()
    assert diff <= 1e-4


def test_fp8_reader_names_a_checkpoint_it_cannot_read(tmp_path):
    spec, answers = _render(tmp_path, CONFIGS / "qwen3-0.6b.json", "plain")
    adapter = spec.state_dict_adapter(spec.model_args[answers["flavor_name"]], None)
    folder = tmp_path / "hf"
    folder.mkdir()
    with pytest.raises(ValueError, match="has no config.json to give its FP8 block"):
        adapter.get_hf_storage_reader(str(folder), from_quantized=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    with pytest.raises(ValueError, match="is not FP8 in square blocks"):
        adapter.get_hf_storage_reader(str(folder), from_quantized=True)


def test_mxfp4_release_loads_dequantized(tmp_path):
    """gpt-oss's own releases keep the experts in MXFP4, (out, in), under
    `_blocks`/`_scales` names: with --checkpoint.initial_load_in_hf_quantized the
    adapter's reader dequantizes them into the bf16 checkpoints' names and layout,
    and the model gives the logits of transformers' model dequantizing the same
    release itself (Mxfp4Config(dequantize=True))."""
    tiny = _tiny(json.loads((CONFIGS / "gpt-oss-20b.json").read_text()))
    assert tiny["quantization_config"]["quant_method"] == "mxfp4"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tiny))
    spec, answers = _render(tmp_path, path, "mxfp4")
    args = spec.model_args[answers["flavor_name"]]
    torch.manual_seed(0)
    unquantized = {k: v for k, v in tiny.items() if k != "quantization_config"}
    hf_model = _hf_model(unquantized).eval()
    randomize_norms_and_biases(hf_model)
    hf_model.save_pretrained(tmp_path / "plain")
    weights = load_file(tmp_path / "plain" / "model.safetensors")
    stored, dequantized = mxfp4_release(weights)
    assert not torch.equal(
        dequantized["model.layers.0.mlp.experts.gate_up_proj"],
        weights["model.layers.0.mlp.experts.gate_up_proj"],
    )
    release = save_hf_folder(tmp_path / "release", stored, tiny)
    model = spec.model_cls(args).eval()
    adapter = spec.state_dict_adapter(args, None)
    hf_state_dict = adapter.to_hf(model.state_dict())
    reader = adapter.get_hf_storage_reader(str(release), from_quantized=True)
    dcp.load(hf_state_dict, storage_reader=reader, no_dist=True)  # one process
    assert hf_state_dict.keys() == dequantized.keys()
    assert all(torch.equal(hf_state_dict[k], dequantized[k]) for k in hf_state_dict)
    model.load_state_dict(adapter.from_hf(hf_state_dict), strict=True)
    hf_model = transformers.AutoModelForCausalLM.from_pretrained(
        release,
        dtype=torch.float32,
        attn_implementation="eager",
        quantization_config=transformers.Mxfp4Config(dequantize=True),
    ).eval()
    tokens = torch.randint(0, tiny["vocab_size"], (2, 24))
    with torch.no_grad():
        diff = (model(tokens) - hf_model(tokens).logits).abs().max().item()
    assert diff <= 1e-4
    # A quantized checkpoint in neither format is named as such.
    plain = save_hf_folder(tmp_path / "bf16", weights, unquantized)
    with pytest.raises(ValueError, match="or gpt-oss's MXFP4 experts"):
        adapter.get_hf_storage_reader(str(plain), from_quantized=True)


@pytest.mark.parametrize("config_name", CONFIG_NAMES + sorted(CHANGED_CONFIGS))
def test_tiny_version_matches_transformers(tmp_path, config_name):
    if config_name in CHANGED_CONFIGS:
        base, changes = CHANGED_CONFIGS[config_name]
        tiny = {**_tiny(json.loads((CONFIGS / base).read_text())), **changes}
    else:
        tiny = _tiny(json.loads((CONFIGS / config_name).read_text()))
    tiny = _fit_longrope(tiny)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tiny))
    spec, answers = _render(tmp_path, path, "tiny")
    seq_len = 24
    # Trained on the test's sequences, as training.seq_len sets it: LongRoPE
    # picks its factors by this length, as transformers does by the input's (a
    # learned position table keeps its size).
    args = spec.model_args[answers["flavor_name"]]
    if answers["positional"] != "learned":
        args = dataclasses.replace(args, max_seq_len=seq_len)
    torch.manual_seed(0)
    hf_model = _hf_model(tiny).eval()
    randomize_norms_and_biases(hf_model)
    model = spec.model_cls(args).eval()
    adapter = spec.state_dict_adapter(args, None)
    # Through a saved checkpoint: its layout (one matrix per expert) is the Hub's.
    hf_model.save_pretrained(tmp_path / "hf")
    weights = load_file(tmp_path / "hf" / "model.safetensors")
    model.load_state_dict(adapter.from_hf(weights), strict=True)
    tokens = torch.randint(0, tiny["vocab_size"], (2, seq_len))
    with torch.no_grad():
        diff = (model(tokens) - hf_model(tokens).logits).abs().max().item()
    assert diff <= 1e-4


@pytest.mark.parametrize(
    "config_name", ["gemma-2b.json", "gemma-2-2b.json", "gemma-3-1b-pt.json"]
)
def test_gemma_embeddings_enter_the_first_block_as_in_transformers_in_bf16(
    tmp_path, config_name
):
    """Gemma rounds its embedding multiplier sqrt(dim) to the activations' dtype
    (sqrt(48) = 6.928 is 6.9375 in bf16): the first block's bf16 input is
    transformers', bit for bit."""
    tiny = {**_tiny(json.loads((CONFIGS / config_name).read_text())), "hidden_size": 48}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tiny))
    spec, answers = _render(tmp_path, path, "tiny")
    model = spec.model_cls(spec.model_args[answers["flavor_name"]])
    hf_model = _hf_model(tiny)
    with torch.no_grad():
        model.tok_embeddings.weight.copy_(hf_model.model.embed_tokens.weight)
    inputs = {}

    def keep(name):
        def hook(module, args, kwargs):
            inputs[name] = args[0] if args else kwargs["hidden_states"]

        return hook

    model.layers["0"].register_forward_pre_hook(keep("ours"), with_kwargs=True)
    hf_model.model.layers[0].register_forward_pre_hook(keep("theirs"), with_kwargs=True)
    tokens = torch.randint(0, tiny["vocab_size"], (2, 24))
    with torch.no_grad():
        model.to(torch.bfloat16)(tokens)
        hf_model.to(torch.bfloat16).eval()(tokens)
    assert inputs["ours"].dtype == torch.bfloat16
    assert torch.equal(inputs["ours"], inputs["theirs"])


def test_a_model_folder_or_a_cached_hub_model_gives_its_config(tmp_path, monkeypatch):
    expected = answers_from_hf_config(CONFIGS / "qwen3-0.6b.json")
    folder = tmp_path / "Qwen3-0.6B"
    folder.mkdir()
    (folder / "config.json").write_text((CONFIGS / "qwen3-0.6b.json").read_text())
    assert answers_from_hf_config(folder) == expected
    # The Hub cache's layout: refs/main names the snapshot that holds the files.
    cache = tmp_path / "hub"
    snapshot = cache / "models--Qwen--Qwen3-0.6B" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text((folder / "config.json").read_text())
    (cache / "models--Qwen--Qwen3-0.6B" / "refs").mkdir()
    (cache / "models--Qwen--Qwen3-0.6B" / "refs" / "main").write_text("0123abc")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(tmp_path / "hub")  # no ./Qwen/Qwen3-0.6B path here
    assert answers_from_hf_config(Path("Qwen/Qwen3-0.6B")) == expected


@pytest.mark.parametrize(
    "nparams, name",
    [
        (999_885_952, "1B"),  # Gemma 3 1B: once "1e+03M"
        (994_900_000, "995M"),
        (1_236_000_000, "1.2B"),
        (99_600_000_000, "100B"),  # once "1e+02B"
        (143_200_000_000, "143B"),
        (135_000_000, "135M"),
    ],
)
def test_flavor_names_round_before_choosing_the_unit(nparams, name):
    assert _flavor_name(nparams) == name


def test_answers_for_qwen3():
    answers = answers_from_hf_config(CONFIGS / "qwen3-0.6b.json")
    assert answers["qk_norm"] and not answers["qkv_bias"]
    assert answers["head_dim"] == 128 and answers["weight_tying"]
    assert answers["positional"] == "rope" and answers["extra_flavors"] == {}
    assert answers["flavor_name"] == "596M"


def test_answers_for_olmo3_follow_transformers_defaults():
    answers = answers_from_hf_config(CONFIGS / "olmo3-7b-defaults.json")
    assert (answers["norm_placement"], answers["qk_norm_scope"]) == ("post", "full")
    # Without layer_types and a window, OLMo 3 slides over 4096 tokens in three
    # layers of four; without RoPE keys, both kinds use rope_theta 500000.
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 4)
    assert (answers["positional"], answers["rope_theta"]) == ("rope", 500000.0)


def test_answers_for_olmo3_long_context(tmp_path):
    """OLMo 3's released checkpoints scale RoPE (YaRN) in their global layers only,
    and write out the attention factor that YaRN would derive anyway."""
    answers = answers_from_hf_config(CONFIGS / "olmo3-7b-think.json")
    # "type", rope_type's old spelling, says the same.
    config = json.loads((CONFIGS / "olmo3-7b-think.json").read_text())
    config["rope_scaling"]["type"] = config["rope_scaling"].pop("rope_type")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert answers_from_hf_config(path) == answers
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 4)
    assert (answers["positional"], answers["rope_scaling_layers"]) == (
        "rope_yarn",
        "global",
    )
    assert (answers["rope_scaling_factor"], answers["rope_original_max_seq_len"]) == (
        8.0,
        8192,
    )
    assert (answers["rope_theta"], answers["max_seq_len"]) == (500000.0, 65536)
    assert answers["flavor_name"] == "7.3B"


def test_answers_for_gemma3(tmp_path):
    """Gemma 3's released configs name the local layers' base in a legacy key;
    transformers 5 writes it into rope_parameters per layer type."""
    answers = answers_from_hf_config(CONFIGS / "gemma-3-1b-pt.json")
    assert (answers["norm_placement"], answers["ffn"]) == ("sandwich", "geglu")
    assert answers["embedding_scale"] and answers["weight_tying"]
    assert (answers["qk_norm"], answers["qk_norm_scope"]) == (True, "head")
    assert (answers["sliding_window"], answers["global_every"]) == (512, 6)
    assert (answers["rope_theta"], answers["rope_local_theta"]) == (1e6, 1e4)
    # 999.9M parameters: once named "1e+03M".
    assert answers["flavor_name"] == "1B"
    config = json.loads((CONFIGS / "gemma-3-1b-pt.json").read_text())
    for key in ("rope_theta", "rope_local_base_freq", "rope_scaling"):
        del config[key]
    config["rope_parameters"] = {
        "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
        "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert answers_from_hf_config(path) == answers


@pytest.mark.parametrize(
    "config_name, scale_dim, flavor",
    # 2B scales its scores by its heads' size, 256; 27B by 144, with heads of 128.
    [("gemma-2-2b.json", 0, "2.6B"), ("gemma-2-27b.json", 144, "27B")],
)
def test_answers_for_gemma2(config_name, scale_dim, flavor):
    answers = answers_from_hf_config(CONFIGS / config_name)
    assert (answers["norm_placement"], answers["ffn"]) == ("sandwich", "geglu")
    assert answers["embedding_scale"] and answers["weight_tying"]
    assert not answers["qk_norm"]
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 2)
    assert (answers["attn_softcap"], answers["logit_softcap"]) == (50.0, 30.0)
    assert (answers["attn_scale_dim"], answers["flavor_name"]) == (scale_dim, flavor)


def test_answers_for_smollm3():
    answers = answers_from_hf_config(CONFIGS / "smollm3-3b.json")
    assert answers["nope_every"] == 4  # layers 4, 8, ... attend without RoPE
    assert (answers["positional"], answers["rope_theta"]) == ("rope", 5000000.0)
    assert answers["weight_tying"] and answers["n_kv_heads"] == 4
    assert answers["flavor_name"] == "3.1B"


@pytest.mark.parametrize(
    "config_name", [name for name in CONFIG_NAMES if name not in LEARNED_POSITIONS]
)
def test_a_config_without_rope_keys_takes_transformers_default_theta(
    tmp_path, config_name
):
    config = json.loads((CONFIGS / config_name).read_text())
    for key in ("rope_theta", "rope_scaling", "rope_parameters"):
        config.pop(key, None)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    rope = transformers.AutoConfig.for_model(**config).rope_parameters
    rope = rope.get("full_attention", rope)  # OLMo 3 keeps one set per layer type
    assert answers_from_hf_config(path)["rope_theta"] == rope["rope_theta"]


# HF keys that configs may leave out, each with the answer it becomes and how
# transformers' config object says the same.
OPTIONAL_KEYS = {
    "num_key_value_heads": ("n_kv_heads", lambda hf: hf.num_key_value_heads),
    "head_dim": (
        "head_dim",
        lambda hf: (
            getattr(hf, "head_dim", None) or hf.hidden_size // hf.num_attention_heads
        ),
    ),
    "max_position_embeddings": ("max_seq_len", lambda hf: hf.max_position_embeddings),
    "rms_norm_eps": ("norm_eps", lambda hf: hf.rms_norm_eps),
    "layer_norm_eps": ("norm_eps", lambda hf: hf.layer_norm_eps),
    "norm_eps": ("norm_eps", lambda hf: hf.norm_eps),
    "tie_word_embeddings": ("weight_tying", lambda hf: hf.tie_word_embeddings),
    "logit_scale": ("logit_multiplier", lambda hf: hf.logit_scale),
}


@pytest.mark.parametrize(
    ("config_name", "key"),
    [
        (name, key)
        for name in CONFIG_NAMES
        for key in OPTIONAL_KEYS
        if key in json.loads((CONFIGS / name).read_text())
        # Nemotron's has no default (it is refused by name: see the refusals);
        # DeepSeek's latent attention has no key/value heads to answer.
        and (name, key) != ("nemotron-4-4b.json", "num_key_value_heads")
        and (name, key) != ("deepseek-v3.json", "num_key_value_heads")
        and (name, key) != ("deepseek-v2-lite.json", "num_key_value_heads")
    ],
)
def test_a_key_left_out_reads_as_transformers_default(tmp_path, config_name, key):
    config = json.loads((CONFIGS / config_name).read_text())
    del config[key]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    answer_key, theirs = OPTIONAL_KEYS[key]
    ours = answers[answer_key]
    if key == "head_dim":  # 0 means dim // n_heads
        ours = ours or answers["dim"] // answers["n_heads"]
    hf_config = transformers.AutoConfig.for_model(**config)
    assert ours == theirs(hf_config)


def _transformers_attention(config: dict) -> tuple[list[str], int]:
    """Each layer's attention kind, and the window, as transformers reads `config`."""
    hf = transformers.AutoConfig.for_model(**config)
    window = getattr(hf, "sliding_window", None) or 0
    kinds = getattr(hf, "layer_types", None) or (
        ["sliding_attention" if window else "full_attention"] * hf.num_hidden_layers
    )
    return list(kinds), (window if "sliding_attention" in kinds else 0)


@pytest.mark.parametrize(
    ("config_name", "changes"),
    [(name, {}) for name in CONFIG_NAMES]
    # Qwen's window turned on in every layer, its size left to the default.
    + [("qwen2.5-0.5b.json", {"use_sliding_window": True, "max_window_layers": 0})],
)
def test_a_config_without_a_window_size_takes_transformers_default(
    tmp_path, config_name, changes
):
    config = {**json.loads((CONFIGS / config_name).read_text()), **changes}
    config.pop("sliding_window", None)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    window, every = answers["sliding_window"], answers.get("global_every", 0)
    kinds = [
        "full_attention"
        if not window or (every and (i + 1) % every == 0)
        else "sliding_attention"
        for i in range(answers["n_layers"])
    ]
    assert (kinds, window) == _transformers_attention(config)


def test_answers_for_mixtral():
    answers = answers_from_hf_config(CONFIGS / "mixtral-8x7b-v0.1.json")
    assert answers["moe"] and (answers["moe_experts"], answers["moe_top_k"]) == (8, 2)
    assert answers["moe_hidden_dim"] == 0  # the experts are intermediate_size wide
    assert answers["moe_route_norm"] and answers["moe_aux_loss_coeff"] == 0.02
    assert not answers["qk_norm"] and answers["sliding_window"] == 0
    assert answers["flavor_name"] == "47B"


def test_answers_for_granitemoe(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "granitemoe-defaults.json")
    # Mixtral's routing (the softmax over the top-k logits renormalizes them), in
    # Granite's blocks: scores scaled by 1 / 128, logits divided by 16.
    assert answers["moe"] and (answers["moe_experts"], answers["moe_top_k"]) == (8, 2)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", True)
    assert answers["moe_hidden_dim"] == 0  # the experts are intermediate_size wide
    assert (answers["attn_scale_dim"], answers["logit_multiplier"]) == (128**2, 1 / 16)
    assert (answers["embedding_multiplier"], answers["residual_multiplier"]) == (
        12.0,
        0.22,
    )
    assert answers["moe_aux_loss_coeff"] == 0.001 and answers["flavor_name"] == "37B"
    _assert_renders_with_counterpart(
        tmp_path, "granitemoe-defaults.json", "GraniteMoeForCausalLM"
    )


def test_answers_for_granitemoehybrid(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "granitemoehybrid-dense-defaults.json")
    # Granite's blocks, attention in every layer, the shared MLP as the dense one,
    # gate and up stacked in the checkpoints (Granite 4's layout).
    assert (answers["hf_layout"], answers["ffn_hidden_dim"]) == ("granite4", 11008)
    assert not answers.get("moe") and answers["positional"] == "rope"
    assert (answers["attn_scale_dim"], answers["logit_multiplier"]) == (128**2, 1 / 16)
    assert answers["flavor_name"] == "6.7B"
    _assert_renders_with_counterpart(
        tmp_path, "granitemoehybrid-dense-defaults.json", "GraniteMoeHybridForCausalLM"
    )


@pytest.mark.parametrize(
    ("config_name", "flavor"),
    [
        ("llama_every_bias", "1.2B"),
        ("ernie4_5_use_bias", "361M"),
        ("arcee_every_bias", "4B"),
        ("nemotron_every_bias", "4.2B"),
        ("internlm3_every_bias", "8.8B"),
        ("granite_every_bias", "8.2B"),
        ("hyperclovax_every_bias", "6.7B"),
        ("falcon_bias", "6.9B"),
    ],
)
def test_a_bias_on_every_projection_reads_as_linear_bias(tmp_path, config_name, flavor):
    base, changes = CHANGED_CONFIGS[config_name]
    config = {**json.loads((CONFIGS / base).read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    # qkv_bias is not asked then: linear_bias implies it.
    assert answers["linear_bias"] and "qkv_bias" not in answers
    assert answers["flavor_name"] == flavor
    spec, rendered = _render(tmp_path, path, "biased")
    args = spec.model_args[rendered["flavor_name"]]
    with torch.device("meta"):
        ours = sum(p.numel() for p in spec.model_cls(args).parameters())
    theirs = _hf_nparams(config)
    assert ours == theirs


def test_answers_for_nemotron(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "nemotron-4-4b.json")
    # Llama's blocks around LayerNorms (with bias), a ReLU² MLP (two matrices),
    # half of each head rotated unless the config says otherwise.
    assert (answers["norm"], answers["norm_eps"]) == ("layernorm", 1e-5)
    assert (answers["ffn"], answers["ffn_hidden_dim"]) == ("relu2", 9216)
    assert (answers["rope_fraction"], answers["norm_placement"]) == (0.5, "pre")
    assert (answers["n_kv_heads"], answers["flavor_name"]) == (8, "4.2B")
    _assert_renders_with_counterpart(
        tmp_path, "nemotron-4-4b.json", "NemotronForCausalLM"
    )


def test_granite_4_without_rope_reads_as_nope(tmp_path):
    config = json.loads((CONFIGS / "granitemoehybrid-dense-defaults.json").read_text())
    # transformers rotates only with "rope" (Granite 4.0-H writes "nope"); the RoPE
    # keys are then not read.
    config |= {"position_embedding_type": "nope", "rope_scaling": {"rope_type": "x"}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    assert answers["positional"] == "none" and "rope_theta" not in answers


def test_answers_for_qwen3_moe():
    answers = answers_from_hf_config(CONFIGS / "qwen3-30b-a3b.json")
    assert answers["qk_norm"] and answers["qk_norm_scope"] == "head"
    assert (answers["moe_experts"], answers["moe_top_k"]) == (128, 8)
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (768, 6144)
    assert answers["moe_route_norm"] and answers["moe_dense_layers"] == 0
    assert answers["flavor_name"] == "31B"


def test_answers_for_dots1():
    answers = answers_from_hf_config(CONFIGS / "dots.llm1-base.json")
    assert (answers["moe_score_func"], answers["moe_load_balancing"]) == (
        "sigmoid",
        "expert_bias",
    )
    assert (answers["moe_experts"], answers["moe_top_k"]) == (128, 6)
    assert (answers["moe_shared_experts"], answers["moe_dense_layers"]) == (2, 1)
    assert answers["moe_route_norm"] and answers["moe_route_scale"] == 2.5
    assert answers["qk_norm"] and answers["qk_norm_scope"] == "head"
    # Whole billions past 100B, never "1.4e+02B".
    assert answers["flavor_name"] == "143B"
    assert "moe_expert_groups" not in answers  # n_group 1: no node-limited routing


def test_answers_for_olmoe():
    answers = answers_from_hf_config(CONFIGS / "olmoe-1b-7b-0924.json")
    # OLMo 2's qk-norm across heads in pre-norm blocks, every block an MoE one.
    assert (answers["qk_norm"], answers["qk_norm_scope"]) == (True, "full")
    assert answers["norm_placement"] == "pre"
    assert (answers["moe_experts"], answers["moe_top_k"]) == (64, 8)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", False)
    assert (answers["moe_load_balancing"], answers["moe_aux_loss_coeff"]) == (
        "aux_loss",
        0.01,
    )
    # Experts as wide as intermediate_size, the dense width: 0 says so.
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (0, 1024)
    assert answers["moe_dense_layers"] == 0 and answers["flavor_name"] == "6.9B"


def test_answers_for_flex_olmo(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "flex_olmo-defaults.json")
    # OLMoE's experts (as wide as the dense width, 0) in OLMo 2's post-norm blocks.
    assert (answers["norm_placement"], answers["qk_norm_scope"]) == ("post", "full")
    assert (answers["moe_experts"], answers["moe_top_k"]) == (7, 5)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", False)
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (0, 11008)
    assert answers["moe_dense_layers"] == 0 and answers["flavor_name"] == "33B"
    _assert_renders_with_counterpart(
        tmp_path, "flex_olmo-defaults.json", "FlexOlmoForCausalLM"
    )


def test_answers_for_qwen15_moe():
    answers = answers_from_hf_config(CONFIGS / "qwen1.5-moe-a2.7b.json")
    # Qwen2's attention (qkv bias, MHA) with softmax routing over 60 experts and
    # one gated shared expert as wide as four of them.
    assert answers["qkv_bias"] and not answers["qk_norm"]
    assert (answers["moe_experts"], answers["moe_top_k"]) == (60, 4)
    assert (answers["moe_shared_experts"], answers["moe_shared_expert_gate"]) == (
        4,
        True,
    )
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (1408, 5632)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", False)
    assert (answers["moe_load_balancing"], answers["moe_aux_loss_coeff"]) == (
        "aux_loss",
        0.001,
    )
    assert answers["moe_dense_layers"] == 0 and answers["sliding_window"] == 0
    assert answers["flavor_name"] == "14B"


def test_answers_for_qwen2_57b_a14b():
    answers = answers_from_hf_config(CONFIGS / "qwen2-57b-a14b.json")
    # Qwen1.5-MoE's recipe with GQA, 8 of 64 experts per token, and a shared
    # expert as wide as eight of them.
    assert (answers["n_heads"], answers["n_kv_heads"]) == (28, 4)
    assert (answers["moe_experts"], answers["moe_top_k"]) == (64, 8)
    assert (answers["moe_shared_experts"], answers["moe_hidden_dim"]) == (8, 2560)
    assert answers["moe_shared_expert_gate"] and answers["qkv_bias"]
    assert answers["flavor_name"] == "57B"


def test_answers_for_glm45_air():
    answers = answers_from_hf_config(CONFIGS / "glm-4.5-air.json")
    # Dots1's routing with GLM-4's attention: qkv bias, half of each head rotated
    # (in halves, as Llama's checkpoints keep them), heads wider than dim // n_heads.
    assert (answers["moe_score_func"], answers["moe_load_balancing"]) == (
        "sigmoid",
        "expert_bias",
    )
    assert (answers["moe_experts"], answers["moe_top_k"]) == (128, 8)
    assert (answers["moe_shared_experts"], answers["moe_dense_layers"]) == (1, 1)
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (1408, 10944)
    assert answers["moe_route_norm"] and answers["moe_route_scale"] == 1.0
    assert answers["qkv_bias"] and not answers["qk_norm"]
    assert (answers["rope_fraction"], answers["head_dim"]) == (0.5, 128)
    assert "hf_layout" not in answers  # Llama's
    assert answers["flavor_name"] == "107B"


def test_glm45_air_exports_as_glm4_moe_without_a_prediction_layer(tmp_path):
    spec, answers = _render(tmp_path, CONFIGS / "glm-4.5-air.json", "glm")
    adapter = sys.modules[spec.state_dict_adapter.__module__]
    config = adapter.hf_config(spec.model_args[answers["flavor_name"]])
    assert config["architectures"] == ["Glm4MoeForCausalLM"]
    # Its checkpoints carry no multi-token-prediction layer: none is announced.
    assert config["num_nextn_predict_layers"] == 0
    released = json.loads((CONFIGS / "glm-4.5-air.json").read_text())
    same = ("partial_rotary_factor", "attention_bias", "n_routed_experts", "head_dim")
    assert {k: config[k] for k in same} == {k: released[k] for k in same}


@pytest.mark.parametrize(
    "groups, kept, answered",
    [
        (8, 4, {"moe_expert_groups": 8, "moe_limited_groups": 4}),
        # Keeping every group routes over all experts.
        (8, 8, {}),
    ],
)
def test_answers_for_dots1_expert_groups(tmp_path, groups, kept, answered):
    config = json.loads((CONFIGS / "dots.llm1-base.json").read_text())
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "n_group": groups, "topk_group": kept}))
    answers = answers_from_hf_config(path)
    assert {k: v for k, v in answers.items() if "groups" in k} == answered


def test_answers_for_stablelm(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "stablelm-3b-4e1t.json")
    assert (answers["norm"], answers["norm_eps"]) == ("layernorm", 1e-5)
    assert answers["positional"] == "rope" and answers["rope_fraction"] == 0.25
    assert not answers["qkv_bias"] and answers["n_kv_heads"] == 32
    assert answers["flavor_name"] == "2.8B"
    # transformers' StableLM rotates a quarter of each head unless told otherwise.
    config = json.loads((CONFIGS / "stablelm-3b-4e1t.json").read_text())
    del config["partial_rotary_factor"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert answers_from_hf_config(path)["rope_fraction"] == 0.25


@pytest.mark.parametrize(
    ("config_name", "window", "flavor"),
    [("phi-3-mini-4k-instruct.json", 2047, "3.8B"), ("phi-4.json", 0, "15B")],
)
def test_answers_for_phi3(config_name, window, flavor):
    answers = answers_from_hf_config(CONFIGS / config_name)
    # Llama's blocks; the checkpoints stack q/k/v and gate/up into one matrix each.
    assert answers["hf_layout"] == "phi3"
    assert (answers["positional"], answers["norm"], answers["ffn"]) == (
        "rope",
        "rmsnorm",
        "swiglu",
    )
    assert "rope_fraction" not in answers  # whole heads
    assert (answers["sliding_window"], answers["flavor_name"]) == (window, flavor)


def test_answers_for_phi35_longrope(tmp_path):
    config = json.loads((CONFIGS / "phi-3.5-mini-instruct.json").read_text())
    answers = answers_from_hf_config(CONFIGS / "phi-3.5-mini-instruct.json")
    assert answers["positional"] == "rope_longrope"
    assert answers["rope_short_factor"] == PHI35_ROPE["short_factor"]
    assert answers["rope_long_factor"] == PHI35_ROPE["long_factor"]
    # 128K over 4K: the attention scale's factor.
    assert answers["rope_original_max_seq_len"] == 4096
    assert answers["rope_scaling_factor"] == 32.0
    # The old names of LongRoPE.
    for kind in ("su", "yarn"):
        path = tmp_path / f"{kind}.json"
        path.write_text(
            json.dumps(config | {"rope_scaling": PHI35_ROPE | {"type": kind}})
        )
        assert answers_from_hf_config(path) == answers
    # Left out, it is Phi3Config's default.
    del config["original_max_position_embeddings"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    hf = transformers.AutoConfig.for_model(**config)
    assert (
        answers_from_hf_config(path)["rope_original_max_seq_len"]
        == hf.rope_parameters["original_max_position_embeddings"]
    )


def test_answers_for_glm4():
    answers = answers_from_hf_config(CONFIGS / "glm4-9b-defaults.json")
    # Glm4Config's defaults: sandwich norms, qkv bias, half of each head rotated,
    # gate/up stacked in the checkpoints, RoPE rows in pairs.
    assert answers["hf_layout"] == "glm"
    assert (answers["norm_placement"], answers["qkv_bias"]) == ("sandwich", True)
    assert (answers["rope_fraction"], answers["n_kv_heads"]) == (0.5, 2)
    assert answers["flavor_name"] == "9.4B"


def test_answers_for_granite():
    answers = answers_from_hf_config(CONFIGS / "granite-3.3-8b-instruct.json")
    # Llama's blocks, with constant multipliers; scores scaled by 1 / 128 (heads
    # of 128), logits divided by 16.
    assert answers["attn_scale_dim"] == 128**2
    assert (answers["embedding_multiplier"], answers["residual_multiplier"]) == (
        12.0,
        0.22,
    )
    assert answers["logit_multiplier"] == 1 / 16
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "8.2B")


def test_answers_for_hyperclovax(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "hyperclovax-defaults.json")
    # Granite's blocks between sandwich norms (Peri-LN); its null
    # attention_multiplier scales scores as SDPA does.
    assert (answers["norm_placement"], answers["attn_scale_dim"]) == ("sandwich", 0)
    assert (answers["head_dim"], answers["logit_multiplier"]) == (0, 1.0)
    assert answers["flavor_name"] == "6.7B"
    _assert_renders_with_counterpart(
        tmp_path, "hyperclovax-defaults.json", "HyperCLOVAXForCausalLM"
    )


def test_hyperclovax_multiplies_its_logits_and_without_post_norms_is_granite(
    tmp_path,
):
    base, changes = CHANGED_CONFIGS["hyperclovax_pre_norm_llama3"]
    config = {**json.loads((CONFIGS / base).read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    assert (answers["norm_placement"], answers["logit_multiplier"]) == ("pre", 4.0)
    result = mytitan("new", "x", "--defaults", "--from-hf", str(path), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "transformers: GraniteForCausalLM (mytitan hf-config" in result.output


def test_answers_for_cohere():
    answers = answers_from_hf_config(CONFIGS / "aya-expanse-8b.json")
    # Attention and MLP side by side from one bias-free LayerNorm, logits
    # multiplied by logit_scale, RoPE rows in pairs in the checkpoints.
    assert (answers["norm"], answers["norm_eps"]) == ("layernorm_nobias", 1e-5)
    assert (answers["norm_placement"], answers["hf_layout"]) == ("parallel", "cohere")
    assert (answers["logit_multiplier"], answers["n_kv_heads"]) == (0.125, 8)
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "8B")


@pytest.mark.parametrize(
    ("base", "changes"),
    [
        ("aya-expanse-8b.json", {"use_qk_norm": True}),
        (
            "stablelm-3b-4e1t.json",
            {"qk_layernorm": True, "use_parallel_residual": True},
        ),
    ],
)
def test_qk_norms_with_a_weight_per_head(tmp_path, base, changes):
    """Command R+'s and StableLM 2 12B's bias-free LayerNorms on each query and key
    head, each head with its own weight: at the base config's sizes with them on,
    the main flavor has as many parameters as transformers counts (the import's
    flavor name included)."""
    config = {**json.loads((CONFIGS / base).read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    spec, answers = _render(tmp_path, path, "imported")
    assert (answers["qk_norm"], answers["qk_norm_scope"]) == (True, "head_weights")
    args = spec.model_args[answers["flavor_name"]]
    with torch.device("meta"):
        model = spec.model_cls(args)
    theirs = _hf_nparams(config)
    assert sum(p.numel() for p in model.parameters()) == theirs
    assert args.get_nparams_and_flops(model, 2048)[0] == theirs
    assert answers["flavor_name"] == _flavor_name(theirs)


def test_answers_for_cohere2():
    answers = answers_from_hf_config(CONFIGS / "cohere2-defaults.json")
    # Cohere's blocks, with a window in three layers of four; the fourth attends
    # globally without RoPE.
    assert (answers["norm"], answers["norm_placement"]) == (
        "layernorm_nobias",
        "parallel",
    )
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 4)
    assert (answers["nope_every"], answers["hf_layout"]) == (4, "cohere")
    assert (answers["logit_multiplier"], answers["flavor_name"]) == (0.0625, "35B")


def test_answers_for_exaone4():
    answers = answers_from_hf_config(CONFIGS / "exaone4-defaults.json")
    # OLMo 2's post-norm blocks with Qwen3's qk-norm (one weight for every head),
    # a window in three layers of four; the fourth attends globally without RoPE.
    assert (answers["norm_placement"], answers["qk_norm_scope"]) == ("post", "head")
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 4)
    assert (answers["nope_every"], answers["flavor_name"]) == (4, "9.4B")


def test_answers_for_exaone4_without_a_window(tmp_path):
    """Without a window EXAONE 4 rotates every layer (1.2B)."""
    base, changes = CHANGED_CONFIGS["exaone4_no_window_tied"]
    config = json.loads((CONFIGS / base).read_text()) | changes
    config["layer_types"] = ["full_attention"] * config["num_hidden_layers"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    answers = answers_from_hf_config(path)
    assert (answers["sliding_window"], answers.get("nope_every", 0)) == (0, 0)
    assert (answers["qk_norm"], answers["weight_tying"]) == (True, True)


def test_answers_for_arcee():
    answers = answers_from_hf_config(CONFIGS / "arcee-defaults.json")
    # Llama's blocks with a ReLU² MLP: two matrices, 4B parameters, not 5.5B.
    assert (answers["ffn"], answers["ffn_hidden_dim"]) == ("relu2", 18432)
    assert (answers["norm_placement"], answers["flavor_name"]) == ("pre", "4B")


def test_answers_for_starcoder2():
    answers = answers_from_hf_config(CONFIGS / "starcoder2-3b.json")
    # Pre-norm blocks of LayerNorms, a tanh-GELU MLP without a gate, a bias on
    # every projection and a window in every layer: its card's 3B (3.03B).
    assert (answers["norm"], answers["ffn"]) == ("layernorm", "gelu_tanh")
    assert answers["linear_bias"] and "qkv_bias" not in answers
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 0)
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "3B")


def test_answers_for_gpt2(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "gpt2.json")
    # 12 pre-norm blocks of LayerNorms, multi-head attention and a tanh-GELU MLP
    # four times as wide, a bias on every projection, a table of 1024 learned
    # positions, tied embeddings: GPT-2 small (124M parameters).
    assert (answers["positional"], answers["max_seq_len"]) == ("learned", 1024)
    assert "rope_theta" not in answers
    assert (answers["norm"], answers["norm_placement"]) == ("layernorm", "pre")
    assert (answers["ffn"], answers["ffn_hidden_dim"]) == ("gelu_tanh", 4 * 768)
    assert (answers["n_heads"], answers["n_kv_heads"]) == (12, 12)
    assert answers["linear_bias"] and "qkv_bias" not in answers
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "124M")
    _assert_renders_with_counterpart(tmp_path, "gpt2.json", "GPT2LMHeadModel")


def test_answers_for_starcoder(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "starcoder.json")
    # GPT-2's blocks at StarCoder's sizes: 40 of width 6144, 48 query heads and
    # one key/value head (multi_query), an MLP four times as wide with GPTBigCode's
    # default tanh GELU, a table of 8192 learned positions, tied embeddings.
    assert (answers["positional"], answers["max_seq_len"]) == ("learned", 8192)
    assert (answers["norm"], answers["norm_placement"]) == ("layernorm", "pre")
    assert (answers["ffn"], answers["ffn_hidden_dim"]) == ("gelu_tanh", 4 * 6144)
    assert (answers["n_heads"], answers["n_kv_heads"]) == (48, 1)
    assert answers["linear_bias"] and "qkv_bias" not in answers
    assert answers["weight_tying"]
    _assert_renders_with_counterpart(
        tmp_path, "starcoder.json", "GPTBigCodeForCausalLM"
    )


def test_answers_for_falcon(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "falcon-7b.json")
    # Parallel blocks behind one LayerNorm, an exact-GELU MLP four times as wide
    # without a gate, multi-query attention: Falcon-7B (6.9B parameters).
    assert (answers["norm"], answers["norm_placement"]) == ("layernorm", "parallel")
    assert (answers["ffn"], answers["ffn_hidden_dim"]) == ("gelu", 4 * 4544)
    assert (answers["n_heads"], answers["n_kv_heads"]) == (71, 1)
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "6.9B")
    _assert_renders_with_counterpart(tmp_path, "falcon-7b.json", "FalconForCausalLM")


def test_answers_for_falcon_40b(tmp_path):
    # Falcon-40B's sizes in Falcon-7B's file: the new decoder architecture, whose
    # default is a LayerNorm before each of attention and MLP (ln_attn, ln_mlp).
    config = json.loads((CONFIGS / "falcon-7b.json").read_text()) | {
        "new_decoder_architecture": True,
        "num_kv_heads": 8,
        "num_attention_heads": 128,
        "hidden_size": 8192,
        "num_hidden_layers": 60,
    }
    (tmp_path / "falcon-40b.json").write_text(json.dumps(config))
    answers = answers_from_hf_config(tmp_path / "falcon-40b.json")
    assert (answers["norm_placement"], answers["n_kv_heads"]) == (
        "parallel_two_norms",
        8,
    )
    _assert_renders_with_counterpart(
        tmp_path, tmp_path / "falcon-40b.json", "FalconForCausalLM"
    )


def test_answers_for_pythia(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "pythia-160m.json")
    # Parallel blocks behind a LayerNorm each, multi-head attention with a bias
    # on every projection, a quarter of each head rotated, untied: Pythia-160M's
    # 162,322,944 parameters, as the Pythia paper counts them.
    assert (answers["norm"], answers["norm_placement"]) == (
        "layernorm",
        "parallel_two_norms",
    )
    assert answers["linear_bias"] and answers["n_kv_heads"] == answers["n_heads"]
    assert (answers["ffn"], answers["rope_fraction"]) == ("gelu", 0.25)
    assert (answers["weight_tying"], answers["flavor_name"]) == (False, "162M")
    _assert_renders_with_counterpart(tmp_path, "pythia-160m.json", "GPTNeoXForCausalLM")


def test_answers_for_phi2(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "phi-2.json")
    # Parallel blocks behind one LayerNorm, multi-head attention, a bias on every
    # projection and on the output one, 40% of each head rotated, a tanh-GELU MLP
    # (gelu_new), untied: 2.8B parameters, as transformers counts Phi-2's.
    assert (answers["norm"], answers["norm_placement"]) == ("layernorm", "parallel")
    assert answers["linear_bias"] and answers["output_bias"]
    assert (answers["ffn"], answers["rope_fraction"]) == ("gelu_tanh", 0.4)
    assert (answers["n_kv_heads"], answers["qk_norm"]) == (32, False)
    assert (answers["weight_tying"], answers["flavor_name"]) == (False, "2.8B")
    _assert_renders_with_counterpart(tmp_path, "phi-2.json", "PhiForCausalLM")


def test_answers_for_olmo1(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "olmo-1b.json")
    # Llama's blocks around LayerNorms without weight or bias, whose eps OLMo
    # fixes (no key), tied: 1.2B parameters, as transformers counts OLMo 1B's.
    assert (answers["norm"], answers["norm_eps"]) == ("layernorm_noparams", 1e-5)
    assert (answers["norm_placement"], answers["ffn"]) == ("pre", "swiglu")
    assert not answers["qkv_bias"] and "linear_bias" not in answers
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "1.2B")
    _assert_renders_with_counterpart(tmp_path, "olmo-1b.json", "OlmoForCausalLM")


def test_answers_for_persimmon(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "persimmon-defaults.json")
    # Pre-norm LayerNorms, multi-head attention with a bias on every projection and
    # a LayerNorm per head on queries and keys, half of each head rotated, a ReLU²
    # MLP, untied: 9.4B parameters at PersimmonConfig's defaults.
    assert (answers["norm"], answers["norm_placement"]) == ("layernorm", "pre")
    assert (answers["qk_norm"], answers["qk_norm_scope"]) == (True, "head")
    assert answers["linear_bias"] and answers["n_kv_heads"] == answers["n_heads"]
    assert (answers["ffn"], answers["rope_fraction"]) == ("relu2", 0.5)
    assert (answers["weight_tying"], answers["flavor_name"]) == (False, "9.4B")
    _assert_renders_with_counterpart(
        tmp_path, "persimmon-defaults.json", "PersimmonForCausalLM"
    )


def test_answers_for_nanochat(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "nanochat-defaults.json")
    # Pre-norm blocks of RMSNorms without weight, one more on the embeddings, a
    # norm per head on queries and keys after RoPE, a ReLU² MLP, logits capped at
    # 15, untied: 257M parameters at NanoChatConfig's defaults.
    assert (answers["norm"], answers["norm_placement"]) == ("rmsnorm_noparams", "pre")
    assert answers["embedding_norm"] and answers["ffn"] == "relu2"
    assert (answers["qk_norm_scope"], answers["qk_norm_after_rope"]) == ("head", True)
    assert (answers["logit_softcap"], answers["n_kv_heads"]) == (15.0, 6)
    assert (answers["weight_tying"], answers["flavor_name"]) == (False, "257M")
    _assert_renders_with_counterpart(
        tmp_path, "nanochat-defaults.json", "NanoChatForCausalLM"
    )


def test_answers_for_deepseek_v3(tmp_path):
    path = CONFIGS / "deepseek-v3-defaults.json"
    answers = answers_from_hf_config(path)
    # Latent attention: queries through a 1536-wide bottleneck, keys and values
    # from a 512-wide latent, heads of 128 features without RoPE and 64 with,
    # values of 128; no key/value heads of its own.
    assert (answers["attention"], answers["head_dim"]) == ("mla", 128)
    assert (answers["mla_q_lora_rank"], answers["mla_kv_lora_rank"]) == (1536, 512)
    assert (answers["mla_rope_head_dim"], answers["mla_v_head_dim"]) == (64, 128)
    assert "n_kv_heads" not in answers and answers["norm_eps"] == 1e-6
    # DeepSeek-V3's routing after three dense blocks: 8 of 256 experts within the
    # 4 best of 8 groups, a shared expert, routing biases, scores scaled by 2.5.
    assert (answers["moe_dense_layers"], answers["moe_experts"]) == (3, 256)
    assert (answers["moe_expert_groups"], answers["moe_limited_groups"]) == (8, 4)
    assert (answers["moe_score_func"], answers["moe_route_scale"]) == ("sigmoid", 2.5)
    assert answers["flavor_name"] == "671B"
    _assert_renders_with_counterpart(tmp_path, path.name, "DeepseekV3ForCausalLM")
    # The main flavor has transformers' 671,026,404,352 parameters, as the config
    # counts them too.
    spec, rendered = _render(tmp_path, path, "deepseek")
    args = spec.model_args[rendered["flavor_name"]]
    with torch.device("meta"):
        model = spec.model_cls(args)
    ours = sum(p.numel() for p in model.parameters())
    config = json.loads(path.read_text())
    theirs = _hf_nparams(config)
    assert ours == theirs == args.get_nparams_and_flops(model, 4096)[0]


def test_answers_for_deepseek_v3_as_released(tmp_path):
    path = CONFIGS / "deepseek-v3.json"
    answers = answers_from_hf_config(path)
    # DeepseekV3Config's defaults are DeepSeek-V3's sizes: only RoPE and the
    # context differ.
    defaults = answers_from_hf_config(CONFIGS / "deepseek-v3-defaults.json")
    rope = {"positional", "rope_theta", "max_seq_len"} | {
        key for key in answers if key.startswith("rope_")
    }
    assert {k: v for k, v in answers.items() if k not in rope} == {
        k: v for k, v in defaults.items() if k not in rope
    }
    # YaRN from 4096 positions, 40 times longer; both mscales 1: the rotations
    # keep their magnitude, the scores are rescaled.
    assert (answers["positional"], answers["rope_theta"]) == ("rope_yarn", 10000.0)
    assert answers["rope_scaling_factor"] == 40.0
    assert answers["rope_original_max_seq_len"] == 4096
    assert (answers["rope_yarn_beta_fast"], answers["rope_yarn_beta_slow"]) == (32, 1)
    assert (answers["rope_yarn_mscale"], answers["rope_yarn_mscale_all_dim"]) == (1, 1)
    assert answers["max_seq_len"] == 163840
    # Exported back, transformers reads the same RoPE keys.
    spec, rendered = _render(tmp_path, path, "deepseek")
    adapter = sys.modules[spec.state_dict_adapter.__module__]
    config = adapter.hf_config(spec.model_args[rendered["flavor_name"]])
    exported = config.get("rope_parameters") or config["rope_scaling"]
    released = dict(json.loads(path.read_text())["rope_scaling"])
    released["rope_type"] = released.pop("type")
    assert {k: exported[k] for k in released} == released


def test_answers_for_glm4_moe_lite(tmp_path):
    path = CONFIGS / "glm4-moe-lite-defaults.json"
    answers = answers_from_hf_config(path)
    # DeepSeek-V3's latent attention, 20 heads of 192 + 64 query/key features and
    # 256 value ones, its blocks' norms at 1e-5 and the latents' at DeepSeek's 1e-6.
    assert (answers["attention"], answers["head_dim"]) == ("mla", 192)
    assert (answers["mla_q_lora_rank"], answers["mla_kv_lora_rank"]) == (768, 512)
    assert (answers["mla_rope_head_dim"], answers["mla_v_head_dim"]) == (64, 256)
    assert answers["norm_eps"] == 1e-5 and "mla_norm_eps" not in answers
    # One dense block (mlp_layer_types' default), then 4 of 64 experts, routed as
    # GLM-4.5 and DeepSeek-V3 do, scaled by 1.8.
    assert (answers["moe_dense_layers"], answers["moe_experts"]) == (1, 64)
    assert (answers["moe_top_k"], answers["moe_route_scale"]) == (4, 1.8)
    assert answers["flavor_name"] == "30B"
    # DeepSeek-V3's architecture and weight names: it exports as DeepSeek-V3.
    _assert_renders_with_counterpart(tmp_path, path.name, "DeepseekV3ForCausalLM")


def test_answers_for_deepseek_v2_lite(tmp_path):
    path = CONFIGS / "deepseek-v2-lite.json"
    with pytest.warns(HfImportWarning, match="seq_aux read as the model's auxiliary"):
        answers = answers_from_hf_config(path)
    # Latent attention with queries at full rank, 16 heads of 128 + 64 query/key
    # features and 128 value ones, a 512-wide latent; DeepSeek's YaRN with equal
    # mscales (0.707): the scores rescaled, the rotations' magnitude kept.
    assert (answers["attention"], answers["mla_q_lora_rank"]) == ("mla", 0)
    assert (answers["mla_kv_lora_rank"], answers["mla_rope_head_dim"]) == (512, 64)
    assert answers["positional"] == "rope_yarn"
    assert (answers["rope_yarn_mscale"], answers["rope_yarn_mscale_all_dim"]) == (
        0.707,
        0.707,
    )
    # One dense block, then 6 of 64 softmax-routed experts over all of them
    # (greedy), not renormalized, two shared experts, the aux loss it trained with.
    assert (answers["moe_dense_layers"], answers["moe_experts"]) == (1, 64)
    assert (answers["moe_top_k"], answers["moe_shared_experts"]) == (6, 2)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", False)
    assert "moe_expert_groups" not in answers
    assert (answers["moe_load_balancing"], answers["moe_aux_loss_coeff"]) == (
        "aux_loss",
        0.001,
    )
    assert answers["flavor_name"] == "16B"
    _assert_renders_with_counterpart(tmp_path, path.name, "DeepseekV2ForCausalLM")


def test_answers_for_ernie_4_5_moe(tmp_path):
    path = CONFIGS / "ernie4_5_moe-defaults.json"
    answers = answers_from_hf_config(path)
    # ERNIE 4.5's blocks, RoPE rows in pairs in the checkpoints; one dense block
    # 12288 wide, then 6 of 64 softmax-routed experts, picked with the routing
    # biases its class always reads and renormalized, and two shared experts.
    assert (answers["hf_layout"], answers["norm_placement"]) == ("cohere", "pre")
    assert (answers["moe_dense_layers"], answers["ffn_hidden_dim"]) == (1, 12288)
    assert (answers["moe_experts"], answers["moe_top_k"]) == (64, 6)
    assert (answers["moe_hidden_dim"], answers["moe_shared_experts"]) == (1536, 2)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", True)
    assert answers["moe_load_balancing"] == "expert_bias"
    assert (answers["n_kv_heads"], answers["weight_tying"]) == (4, True)
    assert answers["flavor_name"] == "22B"
    _assert_renders_with_counterpart(tmp_path, path.name, "Ernie4_5_MoeForCausalLM")


def test_ernie_4_5_moe_exports_its_layers_and_routing_biases_as_released(tmp_path):
    spec, rendered = _render(tmp_path, CONFIGS / "ernie4_5_moe-defaults.json", "e")
    adapter = sys.modules[spec.state_dict_adapter.__module__]
    args = spec.model_args[rendered["flavor_name"]]
    config = adapter.hf_config(args)
    # MoE from the second block to the last, as transformers' class reads them.
    hf_config = transformers.AutoConfig.for_model(**config)
    assert hf_config.moe_layer_start_index == 1 and hf_config.moe_layer_interval == 1
    assert hf_config.moe_layer_end_index == 27
    # Its routing biases are one row per block, the shape its checkpoints hold.
    bias, converter = torch.arange(64.0), spec.state_dict_adapter(args, None)
    hf = converter.to_hf({"layers.1.moe.expert_bias": bias})
    assert list(hf) == ["model.layers.1.mlp.moe_statics.e_score_correction_bias"]
    [row] = hf.values()
    assert row.shape == (1, 64)
    back = converter.from_hf(hf)
    assert torch.equal(back["layers.1.moe.expert_bias"], bias)


def test_deepseek_v2_group_limited_routing_exports_as_released(tmp_path):
    base, changes = CHANGED_CONFIGS["deepseek_v2_group_limited_bottleneck"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**json.loads((CONFIGS / base).read_text()), **changes}))
    answers = answers_from_hf_config(path)
    # The best 1 of 1 group routes over all experts: transformers' n_group 1.
    assert "moe_expert_groups" not in answers
    grouped = {**json.loads(path.read_text()), "n_group": 8, "topk_group": 3}
    path.write_text(json.dumps(grouped))
    answers = answers_from_hf_config(path)
    assert answers["moe_group_score"] == "max"
    assert (answers["moe_expert_groups"], answers["moe_limited_groups"]) == (8, 3)
    assert answers["moe_route_scale"] == 16.0
    # Exported back, transformers reads the same routing keys.
    spec, rendered = _render(tmp_path, path, "grouped")
    adapter = sys.modules[spec.state_dict_adapter.__module__]
    config = adapter.hf_config(spec.model_args[rendered["flavor_name"]])
    keys = ("topk_method", "n_group", "topk_group", "routed_scaling_factor")
    keys += ("aux_loss_alpha",)
    assert {key: config[key] for key in keys} == {key: grouped[key] for key in keys}
    assert config["architectures"] == ["DeepseekV2ForCausalLM"]
    # Its aux loss is over each batch, as DeepSeek's code reads seq_aux false: read
    # back, the same routing and training, with no warning line.
    assert config["seq_aux"] is False
    path.write_text(json.dumps(config))
    with warnings.catch_warnings():
        warnings.simplefilter("error", HfImportWarning)
        back = answers_from_hf_config(path)
    assert {k: v for k, v in back.items() if k.startswith("moe")} == {
        k: v for k, v in answers.items() if k.startswith("moe")
    }


def test_kimi_k2_reads_as_deepseek_v3(tmp_path):
    # Kimi K2's configs name their own model_type, which transformers has no class
    # for, on DeepSeek-V3's architecture (its card: run it as deepseek_v3); here
    # with K2's routing over all of 384 experts, scaled by 2.827, and RoPE base.
    k2_changes = {
        "num_attention_heads": 64,
        "num_key_value_heads": 64,
        "n_routed_experts": 384,
        "n_group": 1,
        "topk_group": 1,
        "routed_scaling_factor": 2.827,
        "first_k_dense_replace": 1,
        "rope_theta": 50000.0,
    }
    released = {**json.loads((CONFIGS / "deepseek-v3.json").read_text()), **k2_changes}
    paths = {}
    for model_type in ("kimi_k2", "deepseek_v3"):
        paths[model_type] = tmp_path / model_type / "config.json"
        paths[model_type].parent.mkdir()
        paths[model_type].write_text(json.dumps({**released, "model_type": model_type}))
    with pytest.warns(HfImportWarning, match="FP8 in 128x128 blocks"):
        answers = answers_from_hf_config(paths["kimi_k2"])
    with pytest.warns(HfImportWarning, match="FP8 in 128x128 blocks"):
        assert answers == answers_from_hf_config(paths["deepseek_v3"])
    assert (answers["moe_experts"], answers["moe_route_scale"]) == (384, 2.827)
    assert "moe_expert_groups" not in answers
    _assert_renders_with_counterpart(
        tmp_path, paths["kimi_k2"], "DeepseekV3ForCausalLM"
    )


def test_answers_for_dense_deepseek_v3(tmp_path):
    base, changes = CHANGED_CONFIGS["deepseek_v3_dense_full_rank_tied_llama3"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**json.loads((CONFIGS / base).read_text()), **changes}))
    answers = answers_from_hf_config(path)
    # Dense blocks only, and queries projected at full rank.
    assert "moe" not in answers and answers["mla_q_lora_rank"] == 0
    assert (answers["positional"], answers["weight_tying"]) == ("rope_llama3", True)
    _assert_renders_with_counterpart(tmp_path, path, "DeepseekV3ForCausalLM")


def test_answers_for_gemma1(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "gemma-2b.json")
    # Gemma's GeGLU, scaled embeddings and (1 + weight) norms in pre-norm blocks.
    assert (answers["norm_placement"], answers["ffn"]) == ("pre", "geglu")
    assert answers["embedding_scale"] and answers["weight_tying"]
    # Scores scaled by head_dim, as SDPA does, and nothing capped.
    assert "attn_scale_dim" not in answers and "attn_softcap" not in answers
    assert (answers["n_kv_heads"], answers["head_dim"]) == (1, 0)  # 8 * 256 = dim
    assert (answers["sliding_window"], answers["flavor_name"]) == (0, "2.5B")
    _assert_renders_with_counterpart(tmp_path, "gemma-2b.json", "GemmaForCausalLM")


def test_answers_for_vaultgemma(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "vaultgemma-defaults.json")
    # Gemma 2 without its post-norms: pre-norm blocks, the same caps and windows.
    assert (answers["norm_placement"], answers["ffn"]) == ("pre", "geglu")
    assert answers["embedding_scale"] and answers["weight_tying"]
    assert (answers["attn_softcap"], answers["logit_softcap"]) == (50.0, 30.0)
    assert (answers["sliding_window"], answers["global_every"]) == (4096, 2)
    assert (answers["attn_scale_dim"], answers["flavor_name"]) == (0, "2.6B")
    _assert_renders_with_counterpart(
        tmp_path, "vaultgemma-defaults.json", "VaultGemmaForCausalLM"
    )


def test_answers_for_hunyuan(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "hunyuan-7b.json")
    # Llama's blocks with qk-norm per head, after RoPE.
    assert (answers["qk_norm"], answers["qk_norm_scope"]) == (True, "head")
    assert answers["qk_norm_after_rope"] and answers["norm_placement"] == "pre"
    # Its fixed NTK alpha stretches the base once: plain RoPE with that base.
    assert answers["positional"] == "rope"
    assert answers["rope_theta"] == pytest.approx(10000 * 1000 ** (128 / 126))
    assert (answers["n_kv_heads"], answers["flavor_name"]) == (8, "8B")
    _assert_renders_with_counterpart(
        tmp_path, "hunyuan-7b.json", "HunYuanDenseV1ForCausalLM"
    )


def test_answers_for_hunyuan_moe(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "hunyuan-a13b.json")
    # HunYuan's attention: qk-norm per head after RoPE, its NTK alpha in the base.
    assert (answers["qk_norm_scope"], answers["qk_norm_after_rope"]) == ("head", True)
    assert answers["rope_theta"] == pytest.approx(10000 * 1000 ** (128 / 126))
    # Mixtral's routing in every block, 8 of 64 experts as wide as
    # intermediate_size (moe_hidden_dim 0), one shared expert beside them; no
    # load-balancing loss, as the config names none.
    assert (answers["moe_experts"], answers["moe_top_k"]) == (64, 8)
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (0, 3072)
    assert (answers["moe_shared_experts"], answers["moe_dense_layers"]) == (1, 0)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", True)
    assert answers["moe_load_balancing"] == "none"
    assert (answers["weight_tying"], answers["flavor_name"]) == (True, "80B")
    _assert_renders_with_counterpart(
        tmp_path, "hunyuan-a13b.json", "HunYuanMoEV1ForCausalLM"
    )


def test_answers_for_minimax_m2(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "minimax-m2.json")
    # qk-norm across heads in pre-norm blocks; RoPE on the first 64 of each
    # head's 128 dimensions (rotary_dim), 48 heads at width 3072.
    assert (answers["qk_norm_scope"], answers["norm_placement"]) == ("full", "pre")
    assert (answers["rope_fraction"], answers["head_dim"]) == (0.5, 128)
    # 8 of 256 experts as wide as intermediate_size in every block, by sigmoid
    # scores picked with routing biases and renormalized; no shared expert.
    assert (answers["moe_experts"], answers["moe_top_k"]) == (256, 8)
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (0, 1536)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("sigmoid", True)
    assert answers["moe_load_balancing"] == "expert_bias"
    assert (answers["moe_shared_experts"], answers["moe_dense_layers"]) == (0, 0)
    assert (answers["rope_theta"], answers["flavor_name"]) == (5e6, "229B")
    _assert_renders_with_counterpart(
        tmp_path, "minimax-m2.json", "MiniMaxM2ForCausalLM"
    )


def test_answers_for_gpt_oss(tmp_path):
    with pytest.warns(
        HfImportWarning, match="experts in MXFP4; the model trains in full precision"
    ):
        answers = answers_from_hf_config(CONFIGS / "gpt-oss-20b.json")
    # 64 heads of 64 with 8 key/value heads at width 2880, a bias on every
    # projection, a sink per head; a 128-token window in every other layer.
    assert (answers["n_heads"], answers["n_kv_heads"], answers["head_dim"]) == (
        64,
        8,
        64,
    )
    assert (answers["linear_bias"], answers["attn_sinks"]) == (True, True)
    assert (answers["sliding_window"], answers["global_every"]) == (128, 2)
    # 4 of 32 clamped-SwiGLU experts as wide as intermediate_size in every block,
    # by softmax over the top-k logits (renormalized top-k scores).
    assert (answers["ffn"], answers["swiglu_limit"]) == ("clamped_swiglu", 7.0)
    assert (answers["moe_experts"], answers["moe_top_k"]) == (32, 4)
    assert (answers["moe_hidden_dim"], answers["ffn_hidden_dim"]) == (0, 2880)
    assert (answers["moe_score_func"], answers["moe_route_norm"]) == ("softmax", True)
    assert (answers["moe_load_balancing"], answers["moe_aux_loss_coeff"]) == (
        "aux_loss",
        0.9,
    )
    # YaRN from 4096 positions, 32 times longer, its ramp's bounds not rounded.
    assert (answers["positional"], answers["rope_scaling_factor"]) == ("rope_yarn", 32)
    assert answers["rope_yarn_truncate"] is False
    assert (answers["rope_theta"], answers["flavor_name"]) == (150000.0, "21B")
    _assert_renders_with_counterpart(tmp_path, "gpt-oss-20b.json", "GptOssForCausalLM")


def test_gpt_oss_rotations_are_transformers_with_fractional_yarn_bounds(tmp_path):
    config = json.loads((CONFIGS / "gpt-oss-20b.json").read_text())
    spec, answers = _render(tmp_path, CONFIGS / "gpt-oss-20b.json", "oss")
    args = spec.model_args[answers["flavor_name"]]
    model_module = sys.modules[f"from_hf_{tmp_path.name}_oss.model.model"]
    rotations = model_module.precompute_freqs_cis(args)[1]  # position 1
    hf_config = transformers.AutoConfig.for_model(**config)
    rope = transformers.models.gpt_oss.modeling_gpt_oss.GptOssRotaryEmbedding
    hf_rope = rope(hf_config)
    expected = torch.polar(
        torch.full_like(hf_rope.inv_freq, hf_rope.attention_scaling), hf_rope.inv_freq
    )
    assert torch.allclose(rotations, expected, rtol=1e-5, atol=0)
    # Rounded bounds (transformers' default, truncate) would rotate otherwise.
    hf_config.rope_parameters["truncate"] = True
    rounded = rope(hf_config).inv_freq
    assert ((rounded - hf_rope.inv_freq) / hf_rope.inv_freq).abs().max() > 1e-3


def test_answers_for_ministral3(tmp_path):
    answers = answers_from_hf_config(CONFIGS / "ministral3-defaults.json")
    # Mistral's blocks without a window: GQA with 8 key/value heads of 128.
    assert (answers["n_kv_heads"], answers["sliding_window"]) == (8, 0)
    # YaRN from 16K positions, 16 times longer, both mscales 1 (so rotations of
    # magnitude 1); queries warm up by 0.1 * ln(1 + p // 16384).
    assert (answers["positional"], answers["rope_scaling_factor"]) == ("rope_yarn", 16)
    assert answers["rope_original_max_seq_len"] == 16384
    assert (answers["rope_yarn_mscale"], answers["rope_yarn_mscale_all_dim"]) == (1, 1)
    assert answers["attn_temperature_beta"] == 0.1
    assert (answers["rope_theta"], answers["flavor_name"]) == (1e6, "8.5B")
    _assert_renders_with_counterpart(
        tmp_path, "ministral3-defaults.json", "Ministral3ForCausalLM"
    )


def test_answers_for_seed_oss():
    with pytest.warns(HfImportWarning, match="attention_dropout=0.1, residual_dropout"):
        answers = answers_from_hf_config(CONFIGS / "seed-oss-36b.json")
    # Qwen2's q/k/v bias, heads wider than dim // n_heads.
    assert (answers["qkv_bias"], answers["head_dim"]) == (True, 128)
    assert (answers["rope_theta"], answers["flavor_name"]) == (1e7, "36B")


def test_answers_for_solar_open():
    answers = answers_from_hf_config(CONFIGS / "solar-open-defaults.json")
    # GLM-4.5's routing in every block: no dense block, so no dense width of its own.
    assert (answers["moe_experts"], answers["moe_top_k"]) == (128, 8)
    assert (answers["moe_score_func"], answers["moe_shared_experts"]) == ("sigmoid", 1)
    assert (answers["moe_dense_layers"], answers["ffn_hidden_dim"]) == (0, 1280)
    # Whole heads rotated, 64 heads of 128 at width 4096; 102.6B parameters.
    assert "rope_fraction" not in answers
    assert (answers["head_dim"], answers["flavor_name"]) == (128, "103B")


@pytest.mark.parametrize(
    ("config_name", "head_dim", "tied", "flavor", "counterpart"),
    [
        ("ernie4_5-defaults.json", 128, True, "361M", "Ernie4_5ForCausalLM"),
        ("helium-defaults.json", 0, False, "2.2B", "HeliumForCausalLM"),
    ],
)
def test_answers_for_llama_blocks_with_rope_rows_in_pairs(
    tmp_path, config_name, head_dim, tied, flavor, counterpart
):
    answers = answers_from_hf_config(CONFIGS / config_name)
    # Their checkpoints keep RoPE rows in pairs, as torchtitan and Cohere do.
    assert (answers["hf_layout"], answers["norm_placement"]) == ("cohere", "pre")
    assert (answers["head_dim"], answers["weight_tying"]) == (head_dim, tied)
    assert answers["flavor_name"] == flavor
    _assert_renders_with_counterpart(tmp_path, config_name, counterpart)


@pytest.mark.parametrize(
    ("config_name", "kv_heads", "flavor"),
    [("internlm3-defaults.json", 2, "8.8B"), ("iquestcoder-defaults.json", 8, "40B")],
)
def test_answers_for_config_classes_on_llamas_code(config_name, kv_heads, flavor):
    answers = answers_from_hf_config(CONFIGS / config_name)
    # Their config classes' defaults, where the files leave keys out.
    assert (answers["n_kv_heads"], answers["head_dim"]) == (kv_heads, 0)
    assert (answers["qkv_bias"], answers["flavor_name"]) == (False, flavor)


@pytest.mark.parametrize(
    ("config_name", "counterpart"),
    [
        ("seed-oss-36b.json", "Qwen2ForCausalLM"),
        ("internlm3-defaults.json", "LlamaForCausalLM"),
        ("solar-open-defaults.json", "Glm4MoeForCausalLM"),
    ],
)
def test_classes_without_their_own_row_export_as_the_class_they_run_on(
    tmp_path, config_name, counterpart
):
    _assert_renders_with_counterpart(tmp_path, config_name, counterpart)


def _assert_renders_with_counterpart(tmp_path, config, counterpart):
    """`mytitan new --from-hf` renders the config (a file of tests/data/hf_configs,
    or a path) and names `counterpart` as the class that `mytitan hf-config`
    exports to."""
    result = mytitan(
        "new", "x", "--defaults", "--from-hf", str(CONFIGS / config), cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert f"transformers: {counterpart} (mytitan hf-config" in result.output


def _render_warnings(tmp_path: Path, config: dict) -> tuple[Path, list[str]]:
    """`mytitan new --from-hf` of `config` (written to tmp_path): the config's
    path and the warning lines it printed."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = mytitan("new", "x", "--defaults", "--from-hf", str(path), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    return path, [line for line in result.output.splitlines() if "warning" in line]


@pytest.mark.parametrize(
    ("base", "changes", "named"),
    [
        ("seed-oss-36b.json", {}, "attention_dropout=0.1, residual_dropout=0.1"),
        ("stablelm-3b-4e1t.json", {"hidden_dropout": 0.1}, "hidden_dropout=0.1"),
        ("pythia-160m.json", {"hidden_dropout": 0.1}, "hidden_dropout=0.1"),
        ("gpt2.json", {}, "resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1"),
        # GPTBigCodeConfig's defaults, which StarCoder's file leaves them to.
        ("starcoder.json", {}, "resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1"),
        (
            "phi-3-mini-4k-instruct.json",
            {"resid_pdrop": 0.1, "embd_pdrop": 0.2},
            "resid_pdrop=0.1, embd_pdrop=0.2",
        ),
        ("llama-3.2-1b.json", {"attention_dropout": 0.05}, "attention_dropout=0.05"),
        ("falcon-7b.json", {"hidden_dropout": 0.1}, "hidden_dropout=0.1"),
        ("phi-2.json", {"embd_pdrop": 0.2}, "resid_pdrop=0.1, embd_pdrop=0.2"),
        ("persimmon-defaults.json", {"hidden_dropout": 0.1}, "hidden_dropout=0.1"),
    ],
)
def test_dropout_is_left_out_with_a_warning_line(tmp_path, base, changes, named):
    config = {**json.loads((CONFIGS / base).read_text()), **changes}
    path, warning = _render_warnings(tmp_path, config)
    expected = (
        f"mytitan: warning: --from-hf {path}: {named} left out: the model trains "
        "without dropout, as torchtitan's models do (the logits, in evaluation, are "
        "the same); add it to model.py by hand if the recipe needs it"
    )
    assert warning == [expected]


def test_an_fp8_release_renders_with_a_warning_line(tmp_path):
    """DeepSeek-V3's checkpoints are FP8 in 128x128 blocks: the model is rendered
    in full precision, and the line names the flag that dequantizes them."""
    config = json.loads((CONFIGS / "deepseek-v3-defaults.json").read_text())
    quantization = {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    }
    config = {**config, "quantization_config": quantization}
    path, warning = _render_warnings(tmp_path, config)
    expected = (
        f"mytitan: warning: --from-hf {path}: its checkpoints are FP8 in 128x128 "
        "blocks; the model trains in full precision: start from them with "
        "--checkpoint.initial_load_in_hf_quantized, which dequantizes as it reads"
    )
    assert warning == [expected]


def test_dynamic_ntk_scaling_reads_as_plain_rope_with_a_warning(tmp_path):
    config = json.loads((CONFIGS / "internlm3-defaults.json").read_text())
    config["rope_scaling"] = {"rope_type": "dynamic", "factor": 6.0}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    # transformers rescales only past max_position_embeddings: up to it, plain RoPE.
    with pytest.warns(HfImportWarning, match=r"past max_position_embeddings \(32768\)"):
        answers = answers_from_hf_config(path)
    assert (answers["positional"], answers["max_seq_len"]) == ("rope", 32768)
    assert "rope_scaling_factor" not in answers


def test_answers_for_llama_rope_scaling():
    answers = answers_from_hf_config(CONFIGS / "llama-3.1-8b.json")
    assert answers["positional"] == "rope_llama3"
    assert answers["rope_scaling_factor"] == 8.0
    assert answers["rope_original_max_seq_len"] == 8192
    assert answers["head_dim"] == 0  # derived: dim // n_heads
    assert answers["flavor_name"] == "8B"


@pytest.mark.parametrize(
    ("base", "changes", "named"),
    [
        (
            "llama-3.2-1b.json",
            {
                "attention_bias": True,
                "rope_scaling": {"rope_type": "proportional", "factor": 2.0},
            },
            ["attention_bias=True", "rope_type='proportional'"],
        ),
        (
            # Qwen's default: full attention up to max_window_layers, local after.
            "qwen2.5-0.5b.json",
            {"use_sliding_window": True, "max_window_layers": 12},
            ["layer_types=['full_attention'"],
        ),
        ("qwen3-0.6b.json", {"hidden_act": "gelu"}, ["hidden_act='gelu'"]),
        (
            # Arcee's MLP with another activation, or with biases.
            "arcee-defaults.json",
            {"hidden_act": "silu", "mlp_bias": True},
            ["hidden_act='silu'", "mlp_bias=True"],
        ),
        (
            # Nemotron with biases on the attention projections only.
            "nemotron-4-4b.json",
            {"attention_bias": True},
            ["attention_bias=True"],
        ),
        (
            # StarCoder2 with another activation, or with head_dim's rotary share cut.
            "starcoder2-3b.json",
            {"hidden_act": "gelu", "partial_rotary_factor": 0.5},
            ["hidden_act='gelu'", "partial_rotary_factor=0.5"],
        ),
        (
            # Nemotron's config class has no KV head count of its own: not MHA.
            "nemotron-4-4b.json",
            {"num_key_value_heads": None},
            ["lacks num_key_value_heads"],
        ),
        (
            # Scores scaled by no size's inverse square root; biases on all four
            # attention projections; a zero logits_scaling.
            "granite-3.3-8b-instruct.json",
            {"attention_multiplier": 0.3, "attention_bias": True, "logits_scaling": 0},
            ["attention_multiplier=0.3", "attention_bias=True", "logits_scaling=0"],
        ),
        (
            # HyperCLOVAX: scores scaled by no size's inverse square root; a bias
            # on the MLP alone.
            "hyperclovax-defaults.json",
            {"attention_multiplier": 0.3, "mlp_bias": True},
            ["attention_multiplier=0.3", "mlp_bias=True"],
        ),
        (
            # Cohere's biases on all four attention projections; no logit scale.
            "aya-expanse-8b.json",
            {"attention_bias": True, "logit_scale": None},
            ["attention_bias=True", "logit_scale=None"],
        ),
        (
            # Cohere 2 without local layers rotates nothing.
            "cohere2-defaults.json",
            {"layer_types": ["full_attention"] * 40},
            ["layer_types='no sliding layers (so no RoPE in any layer)'"],
        ),
        (
            # EXAONE 4 with a window but no local layers rotates nothing.
            "exaone4-defaults.json",
            {"layer_types": ["full_attention"] * 32},
            ["layer_types='no sliding layers (so no RoPE in any layer)'"],
        ),
        (
            # A period that transformers cannot read without layer_types.
            "exaone4-defaults.json",
            {"sliding_window_pattern": "LLLG"},
            ["no layer_types", "sliding_window_pattern='LLLG'", "add layer_types"],
        ),
        (
            # The same for Cohere 2 (a TypeError from the arithmetic before).
            "cohere2-defaults.json",
            {"sliding_window_pattern": "LLLG"},
            ["no layer_types", "sliding_window_pattern='LLLG'", "add layer_types"],
        ),
        (
            # No window: transformers' period is then 0 layers.
            "exaone4-defaults.json",
            {"sliding_window": None},
            ["no layer_types", "sliding_window=None", "add layer_types"],
        ),
        (
            "qwen3-30b-a3b.json",
            {"decoder_sparse_step": 2, "mlp_only_layers": [3, 7]},
            ["decoder_sparse_step=2", "mlp_only_layers=[3, 7]"],
        ),
        (
            "mixtral-8x7b-v0.1.json",
            {"router_jitter_noise": 0.1},
            ["router_jitter_noise=0.1"],
        ),
        # GraniteMoe with biases on all four attention projections.
        ("granitemoe-defaults.json", {"attention_bias": True}, ["attention_bias=True"]),
        # Granite 4 with Mamba layers (transformers' default without layer_types),
        # or with experts beside its shared MLP.
        (
            "granitemoehybrid-dense-defaults.json",
            {"layer_types": None, "num_local_experts": 8},
            ["layer_types=['linear_attention']", "num_local_experts=8"],
        ),
        # Dots1 without shared experts; local layers.
        ("dots.llm1-base.json", {"n_shared_experts": None}, ["n_shared_experts=None"]),
        # OLMoE with q, k and v clamped, or biases on all four projections.
        ("olmoe-1b-7b-0924.json", {"clip_qkv": 8.0}, ["clip_qkv=8.0"]),
        ("olmoe-1b-7b-0924.json", {"attention_bias": True}, ["attention_bias=True"]),
        # HunYuan with keys its own code reads and transformers' class does not:
        # no qk-norm, keys and values shared across layers; biases on all four
        # projections.
        (
            "hunyuan-7b.json",
            {"use_qk_norm": False, "use_cla": True},
            ["use_qk_norm=False", "use_cla=True"],
        ),
        ("hunyuan-7b.json", {"attention_bias": True}, ["attention_bias=True"]),
        # HunYuan's NTK alpha with heads of 2 (transformers divides by head_dim - 2).
        (
            "hunyuan-7b.json",
            {"head_dim": 2},
            ["rope alpha='1000.0 with heads of 2'"],
        ),
        # FlexOlmo with biases on all four projections.
        ("flex_olmo-defaults.json", {"attention_bias": True}, ["attention_bias=True"]),
        # Qwen2-MoE's shared expert as wide as no whole number of experts; MoE
        # blocks every second layer.
        (
            "qwen1.5-moe-a2.7b.json",
            {"shared_expert_intermediate_size": 2000, "decoder_sparse_step": 2},
            ["shared_expert_intermediate_size=2000", "decoder_sparse_step=2"],
        ),
        # Experts of no width (the template's 0 would mean the dense width).
        (
            "qwen1.5-moe-a2.7b.json",
            {"moe_intermediate_size": 0},
            ["moe_intermediate_size=0"],
        ),
        (
            "qwen3-30b-a3b.json",
            {"moe_intermediate_size": 0},
            ["moe_intermediate_size=0"],
        ),
        (
            "dots.llm1-base.json",
            {"moe_intermediate_size": None},
            ["moe_intermediate_size=None"],
        ),
        (
            "glm-4.5-air.json",
            {"moe_intermediate_size": -8},
            ["moe_intermediate_size=-8"],
        ),
        # GLM-4.5 without shared experts.
        ("glm-4.5-air.json", {"n_shared_experts": 0}, ["n_shared_experts=0"]),
        # transformers' Llama rotates whole heads: a share would be ignored there.
        (
            "llama-3.2-1b.json",
            {"partial_rotary_factor": 0.5},
            ["partial_rotary_factor=0.5"],
        ),
        (
            "dots.llm1-base.json",
            {"sliding_window": 4096, "max_window_layers": 31},
            ["layer_types="],
        ),
        (
            # Dynamic NTK scaling, and linear scaling without its factor.
            "gemma-3-1b-pt.json",
            {"rope_scaling": {"rope_type": "dynamic", "factor": 8.0}},
            ["rope_type='dynamic'"],
        ),
        (
            # Dynamic NTK scaling without the factor that transformers needs.
            "internlm3-defaults.json",
            {"rope_scaling": {"rope_type": "dynamic"}},
            ["rope factor=None"],
        ),
        (
            "llama-3.2-1b.json",
            {"rope_scaling": {"rope_type": "linear"}},
            ["rope factor=None"],
        ),
        (
            # A scale by no size; another activation; attention both ways; a cap
            # on the scores, which transformers' Gemma 3 ignores.
            "gemma-3-1b-pt.json",
            {
                "query_pre_attn_scalar": 168.5,
                "hidden_activation": "gelu",
                "use_bidirectional_attention": True,
                "attn_logit_softcapping": 50.0,
            },
            [
                "query_pre_attn_scalar=168.5",
                "hidden_activation='gelu'",
                "use_bidirectional_attention=True",
                "attn_logit_softcapping=50.0",
            ],
        ),
        (
            "gemma-2-2b.json",
            {"query_pre_attn_scalar": None, "attention_bias": True},
            ["query_pre_attn_scalar=None", "attention_bias=True"],
        ),
        # Gemma 1 gated by SiLU (SwiGLU), or attending both ways.
        (
            "gemma-2b.json",
            {"hidden_act": "silu", "use_bidirectional_attention": True},
            ["hidden_act='silu'", "use_bidirectional_attention=True"],
        ),
        (
            "vaultgemma-defaults.json",
            {"hidden_activation": "gelu", "query_pre_attn_scalar": 0.5},
            ["hidden_activation='gelu'", "query_pre_attn_scalar=0.5"],
        ),
        (
            # Scaled RoPE in the local layers only.
            "olmo3-7b-think.json",
            {
                "rope_parameters": {
                    "sliding_attention": {
                        "rope_type": "yarn",
                        "rope_theta": 1e4,
                        "factor": 4.0,
                        "original_max_position_embeddings": 8192,
                    },
                    "full_attention": {"rope_type": "default", "rope_theta": 1e6},
                },
            },
            ["rope_parameters='different for sliding and full layers'"],
        ),
        (
            # transformers 4.x and 5 read this legacy theta differently.
            "olmo3-7b-think.json",
            {"rope_theta": 10000.0, "rope_scaling": None},
            ["rope_theta='10000.0 (transformers 5 gives it to the full layers only"],
        ),
        (
            # YaRN with an attention factor of its own, not the one it derives.
            "olmo3-7b-think.json",
            {
                "rope_scaling": {
                    "rope_type": "yarn",
                    "factor": 8.0,
                    "original_max_position_embeddings": 8192,
                    "attention_factor": 1.5,
                }
            },
            ["rope attention_factor=1.5"],
        ),
        (
            # NoPE layers that follow no period.
            "smollm3-3b.json",
            {"no_rope_layers": [1, 0, 1, 1] * 9},
            ["no_rope_layers=[1, 0, 1, 1,"],
        ),
        (
            # Without no_rope_layers, a period that gives no RoPE layer at all.
            "smollm3-3b.json",
            {"no_rope_layers": None, "no_rope_layer_interval": 1},
            ["no_rope_layer_interval=1"],
        ),
        (
            # SmolLM3's window slides in its NoPE layers.
            "smollm3-3b.json",
            {"use_sliding_window": True, "sliding_window": 4096},
            ["use_sliding_window=True"],
        ),
        (
            # Seed-OSS's bias on the attention's output, and on the MLP.
            "seed-oss-36b.json",
            {"attention_out_bias": True, "mlp_bias": True},
            ["attention_out_bias=True", "mlp_bias=True"],
        ),
        (
            # InternLM3's bias on the output projection and the MLP (Llama's code
            # with mlp_bias) without its q/k/v bias, named as the file spells it.
            "internlm3-defaults.json",
            {"bias": True},
            ["bias=True"],
        ),
        (
            # ERNIE 4.5 rotates whole heads; Helium's mlp_bias without one on o_proj.
            "ernie4_5-defaults.json",
            {"partial_rotary_factor": 0.5},
            ["partial_rotary_factor=0.5"],
        ),
        ("helium-defaults.json", {"mlp_bias": True}, ["mlp_bias=True"]),
        # Llama's MLP biased but not its attention: the template biases both or
        # only q, k and v.
        ("llama-3.2-1b.json", {"mlp_bias": True}, ["mlp_bias=True"]),
        (
            # Solar Open's attention is Llama's: it rotates whole heads.
            "solar-open-defaults.json",
            {"partial_rotary_factor": 0.5},
            ["partial_rotary_factor=0.5"],
        ),
        (
            # IQuest-Coder's own code's options, which transformers refuses.
            "iquestcoder-defaults.json",
            {"clip_qkv": 8.0, "use_sliding_window": True},
            ["clip_qkv=8.0", "use_sliding_window=True"],
        ),
        (
            # The pretraining length given twice, differently: transformers reads
            # one or the other by class, RoPE kind and version.
            "phi-3.5-mini-instruct.json",
            {"rope_scaling": PHI35_ROPE | {"original_max_position_embeddings": 2048}},
            ["original_max_position_embeddings='4096 beside 2048"],
        ),
        (
            # LongRoPE with an attention scale other than its own.
            "phi-3.5-mini-instruct.json",
            {"rope_scaling": PHI35_ROPE | {"attention_factor": 1.5}},
            ["rope attention_factor=1.5"],
        ),
        (
            # transformers' Phi-3 refuses RoPE scaling other than LongRoPE.
            "phi-4.json",
            {"rope_scaling": {"rope_type": "linear", "factor": 2.0}},
            ["rope_type='linear'"],
        ),
        (
            "llama-3.2-1b.json",
            {"quantization_config": {"bits": 4}},
            ["quantization_config='present'"],
        ),
        (
            # The adapter dequantizes FP8 in square blocks only.
            "deepseek-v3-defaults.json",
            {
                "quantization_config": {
                    "quant_method": "fp8",
                    "weight_block_size": [128, 64],
                }
            },
            ["quantization_config='fp8 [128, 64]'"],
        ),
        (
            "qwen3-0.6b.json",
            {"quantization_config": {"quant_method": "awq", "bits": 4}},
            ["quantization_config='awq'"],
        ),
        (
            # Falcon with ALiBi instead of RoPE, attention then MLP in turn.
            "falcon-7b.json",
            {"alibi": True, "parallel_attn": False},
            ["alibi=True", "parallel_attn=False"],
        ),
        (
            # A LayerNorm each outside the new decoder architecture: transformers'
            # Falcon builds ln_attn and ln_mlp, then reads input_layernorm.
            "falcon-7b.json",
            {"num_ln_in_parallel_attn": 2},
            ["num_ln_in_parallel_attn='2 with new_decoder_architecture false'"],
        ),
        (
            # GPT-NeoX without attention biases keeps its MLP's: no answer has
            # biases on the MLP alone; nor is a ReLU MLP one.
            "pythia-160m.json",
            {"attention_bias": False, "hidden_act": "relu"},
            ["hidden_act='relu'", "attention_bias='False (its MLP keeps its biases)'"],
        ),
        (
            # Falcon's first decoder holds a key and a value per query head
            # unless multi_query: its num_kv_heads would be misread.
            "falcon-7b.json",
            {"multi_query": False, "num_kv_heads": 8, "activation": "relu"},
            [
                "activation='relu'",
                "num_kv_heads='8 with multi_query and new_decoder_architecture false'",
            ],
        ),
        (
            # Phi's heads (and its qk-norm) are hidden_size // heads wide.
            "phi-2.json",
            {"head_dim": 128, "hidden_act": "relu"},
            ["hidden_act='relu'", "head_dim=128"],
        ),
        (
            # Persimmon reads no head_dim (its heads are hidden_size // heads) and
            # has a ReLU² MLP.
            "persimmon-defaults.json",
            {"head_dim": 128, "hidden_act": "gelu"},
            ["hidden_act='gelu'", "head_dim=128"],
        ),
        (
            # Without its qk-norm, Persimmon's blocks are Nemotron's: the model
            # would export under Nemotron's names, not load Persimmon's.
            "persimmon-defaults.json",
            {"qk_layernorm": False},
            ["qk_layernorm='False (Nemotron blocks, exported as Nemotron)'"],
        ),
        (
            # nanochat's attention_bias is on all four attention projections (its
            # MLP has none), and its MLP squares a ReLU.
            "nanochat-defaults.json",
            {"attention_bias": True, "hidden_act": "silu"},
            ["hidden_act='silu'", "attention_bias=True"],
        ),
        (
            # DeepSeek's RoPE features in halves, not pairs, in the checkpoints;
            # biases on its attention's projections.
            "deepseek-v3-defaults.json",
            {"rope_interleave": False, "attention_bias": True},
            ["rope_interleave=False", "attention_bias=True"],
        ),
        (
            # Without mscale, transformers rescales DeepSeek's scores by
            # mscale_all_dim but keeps the paper's rotations; and it rescales them
            # under Llama 3's RoPE too.
            "deepseek-v3-defaults.json",
            {
                "rope_scaling": {
                    "rope_type": "yarn",
                    "factor": 40.0,
                    "original_max_position_embeddings": 4096,
                    "mscale_all_dim": 1.0,
                }
            },
            ["rope mscale='None beside mscale_all_dim 1.0'"],
        ),
        (
            "deepseek-v3-defaults.json",
            {"rope_scaling": {**LLAMA3_ROPE, "mscale_all_dim": 0.707}},
            ["rope mscale_all_dim='0.707 (llama3)'"],
        ),
        (
            # DeepSeek-V3's router, which transformers' DeepSeek-V2 cannot run; and
            # keys by which DeepSeek's code would route otherwise than
            # transformers' class, which passes over them.
            "deepseek-v2-lite.json",
            {
                "topk_method": "noaux_tc",
                "norm_topk_prob": True,
                "moe_layer_freq": 2,
                "scoring_func": "sigmoid",
            },
            [
                "topk_method='noaux_tc'",
                "norm_topk_prob=\"True (DeepSeek's code routes by it, transformers'",
                "DeepSeek-V2 as if False)",
                "moe_layer_freq=\"2 (DeepSeek's code",
                "scoring_func=\"'sigmoid' (DeepSeek's code",
            ],
        ),
        (
            # Group-limited routing without its groups (transformers cannot run
            # it), and no shared experts (the template's DeepSeek-V2 has some).
            "deepseek-v2-lite.json",
            {
                "topk_method": "group_limited_greedy",
                "n_group": None,
                "n_shared_experts": 0,
            },
            ["n_group, topk_group=(None, 1)", "n_shared_experts=0"],
        ),
        (
            # ERNIE 4.5 MoE with biases (torchtitan's experts have none), MoE only
            # in every second block and not in the last, a floor on the top-k
            # scores' sum above the least it can be (6 / 64).
            "ernie4_5_moe-defaults.json",
            {
                "use_bias": True,
                "moe_layer_interval": 2,
                "moe_layer_end_index": 26,
                "moe_norm_min": 0.1,
            },
            [
                "use_bias=True",
                "moe_layer_interval=2",
                "moe_layer_end_index=26",
                "moe_norm_min=0.1",
            ],
        ),
        (
            # HunYuan MoE with a top-k, shared experts and expert widths that
            # Tencent's code reads per block and transformers' class does not: a
            # top-k that differs between blocks (the template routes all alike),
            # two shared experts or none, experts narrower than intermediate_size.
            "hunyuan-a13b.json",
            {
                "moe_topk": [8] * 16 + [4] * 16,
                "num_shared_expert": 2,
                "use_mixed_mlp_moe": False,
                "moe_intermediate_size": [1536] * 32,
            },
            [
                "moe_topk='32 values, 4, 8'",
                'num_shared_expert="2 (transformers\' class: 1)"',
                'use_mixed_mlp_moe="False (transformers\' class keeps a shared MLP)"',
                'moe_intermediate_size="32 values, 1536',
            ],
        ),
        (
            # HunYuan MoE with an expert count per block (transformers' class
            # cannot build its experts from a list).
            "hunyuan-a13b.json",
            {"num_experts": [64] * 32},
            ["num_experts='32 values, 64 (one count, 2 or more)'"],
        ),
        (
            # MiniMax-M2 with keys of MiniMax's own code that transformers' class
            # does not read, set otherwise than it runs: no qk-norm, qk-norm per
            # head, softmax scores, no routing biases, a shared expert,
            # MiniMax-Text-01's linear-attention layers; and router jitter.
            "minimax-m2.json",
            {
                "use_qk_norm": False,
                "qk_norm_type": "per_head",
                "scoring_func": "softmax",
                "use_routing_bias": False,
                "shared_intermediate_size": 1536,
                "attn_type_list": [0, 1] * 31,
                "router_jitter_noise": 0.01,
            },
            [
                "use_qk_norm=False",
                "qk_norm_type='per_head'",
                "scoring_func='softmax'",
                "use_routing_bias=False",
                "shared_intermediate_size=1536",
                "attn_type_list=[0, 1]",
                "router_jitter_noise=0.01",
            ],
        ),
        (
            # ERNIE 4.5 MoE whose first MoE block would be past the last block.
            "ernie4_5_moe-defaults.json",
            {"moe_layer_start_index": 28},
            ["moe_layer_start_index='28 (no MoE block)'"],
        ),
        (
            # A dense block after MoE ones.
            "glm4-moe-lite-defaults.json",
            {"mlp_layer_types": ["dense"] + ["sparse"] * 45 + ["dense"]},
            ["mlp_layer_types='dense blocks after MoE ones'"],
        ),
        (
            # OLMo 1.7's q, k and v clamped to a range; biases on the attention's
            # four projections alone.
            "olmo-1b.json",
            {"clip_qkv": 8.0, "attention_bias": True},
            ["clip_qkv=8.0", "attention_bias=True"],
        ),
        (
            "llama-3.2-1b.json",
            {"model_type": "opt"},
            ["model_type 'opt' is not supported"],
        ),
        (
            # transformers' Ministral 3 multiplies by the temperature's beta,
            # and counts positions in the scaled RoPE's original context.
            "ministral3-defaults.json",
            {"rope_parameters": {"rope_type": "yarn", "factor": 16.0}},
            ["rope llama_4_scaling_beta='none (the class needs one)'"],
        ),
        (
            "ministral3-defaults.json",
            {"rope_parameters": {"rope_type": "default", "llama_4_scaling_beta": 0.1}},
            ["rope llama_4_scaling_beta='0.1 with rope_type default'"],
        ),
        (
            # GPT-2's scores also divided by the layer's depth, or not scaled at
            # all; blocks that attend to an encoder; an activation of another kind.
            "gpt2.json",
            {
                "scale_attn_by_inverse_layer_idx": True,
                "scale_attn_weights": False,
                "add_cross_attention": True,
                "activation_function": "relu",
            },
            [
                "scale_attn_by_inverse_layer_idx=True",
                "scale_attn_weights=False",
                "add_cross_attention=True",
                "activation_function='relu'",
            ],
        ),
        (
            # GPTBigCode with a key/value head per query head: GPT-2's
            # architecture, which a model names before GPTBigCode, though
            # GPT-2's checkpoints stack q, k and v another way.
            "starcoder.json",
            {"multi_query": False, "scale_attn_weights": False},
            [
                "multi_query='False (a multi-head model exports as GPT-2)'",
                "scale_attn_weights=False",
            ],
        ),
    ],
)
def test_unsupported_features_are_refused_by_name(tmp_path, base, changes, named):
    config = {**json.loads((CONFIGS / base).read_text()), **changes}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    before = tree_hash(tmp_path)
    result = mytitan("new", "x", "--defaults", "--from-hf", str(path), cwd=tmp_path)
    assert result.exit_code == 2
    for text in named:
        assert text in result.output
    assert tree_hash(tmp_path) == before


def test_a_multimodal_config_names_its_language_model_and_the_way_to_read_it(
    tmp_path,
):
    text = json.loads((CONFIGS / "gemma-3-1b-pt.json").read_text())
    wrapper = tmp_path / "config.json"
    wrapper.write_text(
        json.dumps(
            {
                "architectures": ["Gemma3ForConditionalGeneration"],
                "model_type": "gemma3",
                "text_config": text,
                "vision_config": {"model_type": "siglip_vision_model"},
            }
        )
    )
    before = tree_hash(tmp_path)
    result = mytitan("new", "x", "--defaults", "--from-hf", str(wrapper), cwd=tmp_path)
    assert result.exit_code == 2
    assert "model_type 'gemma3' wraps its language model" in result.output
    assert "text_config, model_type 'gemma3_text'" in result.output
    assert tree_hash(tmp_path) == before
    # The way out the message gives: text_config alone, as its own config.json.
    alone = tmp_path / "text" / "config.json"
    alone.parent.mkdir()
    alone.write_text(json.dumps(text))
    result = mytitan("new", "x", "--defaults", "--from-hf", str(alone), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "transformers: Gemma3ForCausalLM (mytitan hf-config" in result.output


def test_kimi_k25_names_its_kimi_k2_language_model(tmp_path):
    text = {**json.loads((CONFIGS / "deepseek-v3.json").read_text())}
    text["model_type"] = "kimi_k2"
    wrapper = tmp_path / "config.json"
    wrapper.write_text(json.dumps({"model_type": "kimi_k25", "text_config": text}))
    result = mytitan("new", "x", "--defaults", "--from-hf", str(wrapper), cwd=tmp_path)
    assert result.exit_code == 2
    assert "text_config, model_type 'kimi_k2'" in result.output


def test_flags_override_the_hf_answers(tmp_path):
    result = mytitan(
        "new",
        "x",
        "--defaults",
        "--from-hf",
        str(CONFIGS / "qwen3-0.6b.json"),
        "--flavor-name",
        "0.6B",
        "--n-layers",
        "4",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.output
    answers = yaml.safe_load((tmp_path / "models/x/.copier-answers.yml").read_text())
    assert (answers["flavor_name"], answers["n_layers"], answers["qk_norm"]) == (
        "0.6B",
        4,
        True,
    )


@pytest.mark.parametrize("variant", COUNTERPARTS)
def test_the_exported_config_reads_back_as_the_same_model(
    tmp_path, rendered_variants, variant
):
    """hf_config and --from-hf are inverse: what a model writes for transformers,
    mytitan reads back as that model."""
    model_dir = rendered_variants[variant]
    package = import_package(model_dir, f"readback_{variant}")
    adapter = sys.modules[f"readback_{variant}.model.state_dict_adapter"]
    assert_hf_config_reads_back(
        model_dir, package.get_train_spec(), adapter, f"back_{variant}", tmp_path
    )
