"""Answers from a Hugging Face config.json (`mytitan new NAME --from-hf config.json`,
a model folder, or a Hub id already in the local Hugging Face cache).

The HF sizes become the main flavor (plus the template's tiny debugmodel). A
field the config leaves out means what it means to the installed transformers
(its config class's default). Every field that changes the computation and that
the template cannot express is reported by name; nothing is dropped silently:
dropout, which the rendered models (as torchtitan's) leave out and which changes
no logit in evaluation, and dynamic NTK RoPE scaling, which acts only past the
model's max_seq_len, are named in a warning.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

from .errors import MytitanError

SUPPORTED_MODEL_TYPES = (
    "llama",
    "mistral",
    "ministral",
    "qwen2",
    "qwen3",
    "olmo2",
    "olmo3",
    "mixtral",
    "qwen3_moe",
    "qwen2_moe",
    "olmoe",
    "flex_olmo",
    "dots1",
    "glm4_moe",
    "smollm3",
    "stablelm",
    "gemma",
    "gemma2",
    "gemma3_text",
    "vaultgemma",
    "phi3",
    "glm",
    "glm4",
    "granite",
    "granitemoe",
    "granitemoehybrid",
    "cohere",
    "cohere2",
    "exaone4",
    "arcee",
    "seed_oss",
    "internlm3",
    "iquestcoder",
    "solar_open",
    "ernie4_5",
    "helium",
    "hunyuan_v1_dense",
    "nemotron",
    "starcoder2",
    "hyperclovax",
    "falcon",
    "gpt_neox",
    "phi",
    "olmo",
    "persimmon",
    "nanochat",
    "deepseek_v3",
    "glm4_moe_lite",
    "deepseek_v2",
    "kimi_k2",
    "ernie4_5_moe",
    "hunyuan_v1_moe",
    "minimax_m2",
    "ministral3",
    "gpt2",
    "gpt_bigcode",
    "gpt_oss",
)
# Model types with no transformers class of their own whose releases are another
# type's architecture under their own name: Moonshot's Kimi K2 (Instruct,
# Thinking) is DeepSeek-V3's, and its card says to run it as that.
_RENAMED_TYPES = {"kimi_k2": "deepseek_v3"}
# Config classes that transformers runs on its Llama code (LlamaForCausalLM):
# their models export as Llama.
_LLAMA_ALIASES = ("internlm3", "iquestcoder")
# Dropout rates, per model type beyond attention_dropout (which all read).
_DROPOUT_KEYS = {
    "seed_oss": ("residual_dropout",),
    "stablelm": ("hidden_dropout",),
    "phi3": ("resid_pdrop", "embd_pdrop"),
    "starcoder2": ("residual_dropout", "embedding_dropout"),
    "falcon": ("hidden_dropout",),
    "gpt_neox": ("hidden_dropout",),
    "phi": ("resid_pdrop", "embd_pdrop"),
    "persimmon": ("hidden_dropout",),
    "gpt2": ("resid_pdrop", "embd_pdrop", "attn_pdrop"),
    "gpt_bigcode": ("resid_pdrop", "embd_pdrop", "attn_pdrop"),
}
# Granite 3's blocks (constant multipliers on the embeddings, residual branches,
# scores and logits), dense or with Mixtral's routing (GraniteMoe), Granite 4's
# attention-only models (GraniteMoeHybrid without Mamba layers or experts), and
# HyperCLOVAX's (Granite's between sandwich norms, its logits multiplied).
_GRANITE_TYPES = ("granite", "granitemoe", "granitemoehybrid", "hyperclovax")
# Granite 4's dense MLP is its shared_mlp, shared_intermediate_size wide
# (intermediate_size is its experts'); RoPE only with position_embedding_type "rope".
_SHARED_MLP_TYPES = ("granitemoehybrid",)
# Llama's blocks with a ReLU² MLP, not gated (Arcee AFM), and Nemotron's: the same
# around LayerNorms that scale by 1 + weight (the adapter's business).
_RELU2_TYPES = ("arcee", "nemotron")
# Model types whose attention_bias is on all four attention projections and whose
# mlp_bias is on the MLP's: both together are a bias on every projection
# (InternLM3 spells them qkv_bias and bias).
_TWO_FLAG_BIAS_TYPES = (
    "llama",
    *_LLAMA_ALIASES,
    "arcee",
    "nemotron",
    "granite",
    "hyperclovax",
)
# Model types with one flag for a bias on every projection, and its key.
_ONE_FLAG_BIAS_KEYS = {
    "ernie4_5": "use_bias",
    "starcoder2": "use_bias",
    "falcon": "bias",
    # GPT-NeoX's MLP always has biases: attention_bias puts them on the rest.
    "gpt_neox": "attention_bias",
    # gpt-oss's experts and router always have biases: attention_bias puts them
    # on the rest.
    "gpt_oss": "attention_bias",
}
# Model types with a bias on every projection and no flag to drop it.
_ALWAYS_BIASED_TYPES = ("phi", "persimmon", "gpt2", "gpt_bigcode")
# GPT-2 and GPTBigCode (StarCoder 1, SantaCoder): GPT-2's config keys and blocks,
# GPTBigCode's with one key/value head (multi_query).
_GPT2_TYPES = ("gpt2", "gpt_bigcode")
# Model types with a table of learned positions, added to the token embeddings.
_LEARNED_POSITION_TYPES = _GPT2_TYPES
# Model types with a bias on the output projection too (output_bias).
_OUTPUT_BIAS_TYPES = ("phi",)
# gpt-oss: attention sinks, and clamped SwiGLU experts that, as its router, always
# have biases (attention_bias puts them on the attention's projections).
_SINK_TYPES = ("gpt_oss",)
_CLAMPED_SWIGLU_TYPES = ("gpt_oss",)
# torchtitan's clamped SwiGLU fixes the gate's sigmoid scale at gpt-oss's.
_SWIGLU_ALPHA = 1.702
# GeGLU blocks, embeddings scaled by sqrt(dim), and RMSNorms that scale by
# 1 + weight (the adapter's business); Gemma 2's and 3's between sandwich norms.
_GEMMA_TYPES = ("gemma", "gemma2", "gemma3_text", "vaultgemma")
# Gemmas that scale scores by query_pre_attn_scalar and may soft-cap them and the
# logits (Gemma 1 scales by head_dim and caps nothing).
_GEMMA_SCORE_TYPES = ("gemma2", "gemma3_text", "vaultgemma")
_QK_NORM_TYPES = (
    "qwen3",
    "olmo2",
    "olmo3",
    "qwen3_moe",
    "olmoe",
    "flex_olmo",
    "dots1",
    "gemma3_text",
    "exaone4",
    "hunyuan_v1_dense",
    "hunyuan_v1_moe",
    "nanochat",
    "minimax_m2",
)
# HunYuan's blocks, dense or MoE: Llama's with qk-norm per head after RoPE, a
# fixed NTK alpha on the RoPE base, and keys of Tencent's own code.
_HUNYUAN_TYPES = ("hunyuan_v1_dense", "hunyuan_v1_moe")
# qk-norm per head after RoPE rather than before (HunYuan, nanochat).
_QK_NORM_AFTER_ROPE_TYPES = (*_HUNYUAN_TYPES, "nanochat")
# A norm on the token embeddings before the first block (nanochat).
_EMBEDDING_NORM_TYPES = ("nanochat",)
# Logits soft-capped by final_logit_softcapping, beside the Gemmas' own caps.
_LOGIT_SOFTCAP_TYPES = ("nanochat",)
# qk-norm across heads (OLMo 2 and 3 and FlexOlmo in post-norm blocks, OLMoE and
# MiniMax-M2 in pre-norm ones).
_FULL_QK_NORM_TYPES = ("olmo2", "olmo3", "olmoe", "flex_olmo", "minimax_m2")
# qk-norm per head with a weight per head, bias-free (Command R+, StableLM 2 12B).
_HEAD_WEIGHT_QK_NORM_TYPES = ("cohere", "stablelm")
# Where the norms sit, for the model types whose blocks are not pre-norm.
_NORM_PLACEMENTS = {
    "olmo2": "post",
    "olmo3": "post",
    "flex_olmo": "post",
    "exaone4": "post",
    "gemma2": "sandwich",
    "gemma3_text": "sandwich",
    "glm4": "sandwich",
    "cohere": "parallel",
    "cohere2": "parallel",
    "falcon": "parallel",
    "phi": "parallel",
}
# How checkpoints hold the weights (hf_layout), where it is not Llama's.
_HF_LAYOUTS = {
    "phi3": "phi3",
    "glm": "glm",
    "glm4": "glm",
    "cohere": "cohere",
    "cohere2": "cohere",
    # Llama's blocks whose checkpoints keep RoPE rows in pairs, as Cohere's do.
    "ernie4_5": "cohere",
    "ernie4_5_moe": "cohere",
    "helium": "cohere",
    "granitemoehybrid": "granite4",  # gate and up stacked in shared_mlp.input_linear
}
# Cohere's blocks: one bias-free LayerNorm (its eps is layer_norm_eps) before
# attention and MLP side by side, logits multiplied by logit_scale.
_COHERE_TYPES = ("cohere", "cohere2")
# The LayerNorm kinds (norm), where it is not RMSNorm.
_LAYER_NORMS = {
    "stablelm": "layernorm",
    "cohere": "layernorm_nobias",
    "cohere2": "layernorm_nobias",
    "nemotron": "layernorm",
    "starcoder2": "layernorm",
    "falcon": "layernorm",
    "gpt_neox": "layernorm",
    "phi": "layernorm",
    "olmo": "layernorm_noparams",  # OLMo 1's non-parametric LayerNorms
    "persimmon": "layernorm",
    "gpt2": "layernorm",
    "gpt_bigcode": "layernorm",
    "nanochat": "rmsnorm_noparams",  # RMSNorms without weight
}
# The key of the norms' eps, where it is neither rms_norm_eps (RMSNorm) nor
# layer_norm_eps (LayerNorm).
_NORM_EPS_KEYS = {
    "nemotron": "norm_eps",
    "starcoder2": "norm_epsilon",
    "falcon": "layer_norm_epsilon",
    "gpt2": "layer_norm_epsilon",
    "gpt_bigcode": "layer_norm_epsilon",
}
# The norms' eps of the model types that fix it (no config key).
_FIXED_NORM_EPS = {"olmo": 1e-5}
# Model types whose q/k/v bias is the attention_bias flag.
_ATTENTION_BIAS_TYPES = ("glm", "glm4", "glm4_moe", "seed_oss", "solar_open", "helium")
# Model types that may rotate only part of each head, with transformers' default share.
_PARTIAL_ROTARY_DEFAULTS = {
    "stablelm": 0.25,
    "phi3": 1.0,
    "glm": 0.5,
    "glm4": 0.5,
    "glm4_moe": 0.5,
    "nemotron": 0.5,
    "gpt_neox": 0.25,
    "phi": 0.5,
    "persimmon": 0.5,
    # MiniMax-M2's released configs give the rotated dimensions, rotary_dim.
    "minimax_m2": 1.0,
}
# GPT-2's spellings of the common fields, which GPTBigCode's configs share.
_GPT2_SPELLINGS = {
    "n_embd": "hidden_size",
    "n_layer": "num_hidden_layers",
    "n_head": "num_attention_heads",
    "n_positions": "max_position_embeddings",
    "n_inner": "intermediate_size",
}
# Config keys that a model type's config class reads as another one's field
# (GPT-NeoX's RoPE base and rotated share, read into rope_parameters).
_OWN_SPELLINGS = {
    # GPT-2's and GPTBigCode's configs spell the common fields their own way (their
    # attribute_map reads the common names as these, the other way round).
    **dict.fromkeys(_GPT2_TYPES, _GPT2_SPELLINGS),
    "gpt_neox": {
        "rotary_emb_base": "rope_theta",
        "rotary_pct": "partial_rotary_factor",
    },
}
# The tanh approximations of GELU that transformers names (GPT-NeoX-20B's is
# gelu_fast): one function, computed as the template's gelu_tanh computes it.
_TANH_GELUS = ("gelu_pytorch_tanh", "gelu_new", "gelu_fast")
# Keys of the expert count, and of the expert hidden size, per MoE model type.
_MOE_KEYS = {
    "mixtral": ("num_local_experts", "intermediate_size"),
    "granitemoe": ("num_local_experts", "intermediate_size"),
    "qwen3_moe": ("num_experts", "moe_intermediate_size"),
    "qwen2_moe": ("num_experts", "moe_intermediate_size"),
    "olmoe": ("num_experts", "intermediate_size"),
    "flex_olmo": ("num_experts", "intermediate_size"),
    "dots1": ("n_routed_experts", "moe_intermediate_size"),
    "glm4_moe": ("n_routed_experts", "moe_intermediate_size"),
    "solar_open": ("n_routed_experts", "moe_intermediate_size"),
    "deepseek_v3": ("n_routed_experts", "moe_intermediate_size"),
    "glm4_moe_lite": ("n_routed_experts", "moe_intermediate_size"),
    "deepseek_v2": ("n_routed_experts", "moe_intermediate_size"),
    "ernie4_5_moe": ("moe_num_experts", "moe_intermediate_size"),
    "hunyuan_v1_moe": ("num_experts", "intermediate_size"),
    "minimax_m2": ("num_local_experts", "intermediate_size"),
    "gpt_oss": ("num_local_experts", "intermediate_size"),
}
# Keys that a model type's config must give, beyond the sizes every one must:
# Nemotron's config class leaves num_key_value_heads unset (None, not MHA), and
# transformers' model cannot divide by that.
_REQUIRED_KEYS = {"nemotron": ("num_key_value_heads",)}
# MoE model types without dense blocks, whose configs have no intermediate_size
# (Solar Open: GLM-4.5's routing in Llama's attention, in every block).
_NO_DENSE_TYPES = ("solar_open",)
# Qwen's MoE model types: MoE blocks from a period and a list of dense layers.
_QWEN_MOE_TYPES = ("qwen3_moe", "qwen2_moe")
# MoE model types that route as DeepSeek-V3 does: sigmoid scores, routing biases,
# shared experts. (GLM-4.5's multi-token-prediction layers, num_nextn_predict_layers,
# are no part of transformers' forward pass, so they change no logit.)
_SIGMOID_MOE_TYPES = (
    "dots1",
    "glm4_moe",
    "solar_open",
    "deepseek_v3",
    "glm4_moe_lite",
)
# Multi-head latent attention (DeepSeek-V3, GLM-4.7-Flash on its code, DeepSeek-V2):
# its sizes have keys of their own, and its RoPE is unscaled, Llama 3's, YaRN
# (DeepSeek's, with mscales) or linear.
_MLA_TYPES = ("deepseek_v3", "glm4_moe_lite", "deepseek_v2")
# DeepSeek-V2's routing keys that transformers' class passes over and DeepSeek's
# own code reads, at the values that route as transformers' class does (those of
# every release).
_DEEPSEEK_V2_ROUTING = {
    "scoring_func": "softmax",
    "norm_topk_prob": False,
    "moe_layer_freq": 1,
}
_MLA_ROPE_TYPES = ("default", "llama3", "yarn", "linear")
# transformers' global-layer period without layer_types (the config classes
# derive them; OLMo 3's, Gemma 2's and VaultGemma's period is no field, Gemma
# 3's, Cohere 2's and EXAONE 4's an optional sliding_window_pattern).
_GLOBAL_EVERY = {
    "olmo3": 4,
    "gemma2": 2,
    "gemma3_text": 6,
    "vaultgemma": 2,
    "cohere2": 4,
    "exaone4": 4,
    "gpt_oss": 2,
}
_WINDOW_PATTERN_TYPES = ("gemma3_text", "cohere2", "exaone4")
# Model types that keep RoPE parameters per layer type (rope_parameters).
_PER_TYPE_ROPE = ("olmo3", "gemma3_text")
_ROPE_TYPES = {
    "default": "rope",
    "llama3": "rope_llama3",
    "yarn": "rope_yarn",
    "linear": "rope_linear",
    "longrope": "rope_longrope",
}
_SCALED_ROPE_TYPES = ("llama3", "yarn", "linear")
# The RoPE kinds that scale from an original context (original_max_position_embeddings).
_ORIGINAL_CONTEXT_ROPE_TYPES = ("llama3", "yarn", "longrope")
# "owner/name", as the Hub spells a model (checked only when no such path exists).
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


class HfImportWarning(UserWarning):
    """Something of an HF config that the rendered model leaves out, though it
    changes no logit it computes: dropout, dynamic NTK RoPE scaling."""


def _config_class(model_type: str) -> type:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    return CONFIG_MAPPING[model_type]


def _with_transformers_defaults(
    config: dict[str, Any], model_type: str
) -> dict[str, Any]:
    """`config` with each field it leaves out set as transformers would: to its
    config class's default (a key given as null keeps its own meaning)."""
    defaults = {
        field.name: field.default
        for field in dataclasses.fields(_config_class(model_type))
        if field.default is not dataclasses.MISSING
    }
    return {**defaults, **config}


def _aliases(model_type: str) -> dict[str, str]:
    """The config keys that transformers' config class reads as another field."""
    config_class = _config_class(model_type)
    names = {field.name for field in dataclasses.fields(config_class)}
    own = _OWN_SPELLINGS.get(model_type, {})
    return {
        alias: field
        for alias, field in getattr(config_class, "attribute_map", {}).items()
        # GPT-2's are the other way round: their own spellings become the common names.
        if alias not in names and field in names and field not in own
    } | own


def _unaliased(config: dict[str, Any], model_type: str) -> dict[str, Any]:
    """`config` with each key that transformers reads as another field (InternLM3's
    "bias", which is mlp_bias) under that field's name."""
    aliases = _aliases(model_type)
    return {aliases.get(key, key): value for key, value in config.items()}


def _dropout(config: dict[str, Any], model_type: str) -> dict[str, Any]:
    """The config's nonzero dropout rates, by key."""
    keys = ("attention_dropout", *_DROPOUT_KEYS.get(model_type, ()))
    return {key: config[key] for key in keys if config.get(key)}


def _biased_everywhere(config: dict[str, Any], model_type: str) -> bool:
    """Whether every projection has a bias (linear_bias): attention_bias with
    mlp_bias (Llama, Arcee, Nemotron, Granite, HyperCLOVAX), use_bias (ERNIE
    4.5, StarCoder2), bias (Falcon) or attention_bias (GPT-NeoX, whose MLP
    always has biases); Phi's and Persimmon's are always there."""
    if model_type in _ALWAYS_BIASED_TYPES:
        return True
    if model_type in _TWO_FLAG_BIAS_TYPES:
        return bool(config.get("attention_bias")) and bool(config.get("mlp_bias"))
    key = _ONE_FLAG_BIAS_KEYS.get(model_type)
    return key is not None and bool(config.get(key))


def _ffn(config: dict[str, Any], model_type: str) -> str:
    if model_type in _GEMMA_TYPES:
        return "geglu"
    if model_type == "starcoder2":
        return "gelu_tanh"  # an MLP without a gate, c_fc then c_proj
    if model_type == "falcon":
        return "gelu"  # an MLP without a gate, exact GELU
    if model_type in ("persimmon", "nanochat"):
        return "relu2"  # an MLP without a gate, its hidden_act relu2
    if model_type in ("gpt_neox", "phi"):
        # An MLP without a gate, exact GELU (Pythia) or its tanh approximation
        # (Phi's gelu_new).
        return "gelu_tanh" if config["hidden_act"] in _TANH_GELUS else "gelu"
    if model_type in _GPT2_TYPES:
        # GPT-2's MLP: c_fc then c_proj, its gelu_new (GPTBigCode's
        # gelu_pytorch_tanh) the tanh approximation.
        return "gelu_tanh" if config["activation_function"] in _TANH_GELUS else "gelu"
    if model_type in _CLAMPED_SWIGLU_TYPES:
        return "clamped_swiglu"  # its experts'; its hidden_act is not read
    return "relu2" if model_type in _RELU2_TYPES else "swiglu"


def _default_theta(model_type: str) -> float:
    """transformers' RoPE base for a config that names none."""
    return float(_config_class(model_type).default_theta)


def _config_file(source: Path) -> Path:
    """The config.json that --from-hf names: the file itself, a model folder's,
    or a Hub model's in the local Hugging Face cache (nothing is downloaded)."""
    if source.is_dir():
        if not (source / "config.json").is_file():
            raise MytitanError(
                f"--from-hf {source}: the folder has no config.json: "
                "pass a model folder that has one, or the config.json itself"
            )
        return source / "config.json"
    if source.exists() or not _HUB_ID.fullmatch(str(source)):
        return source
    # Imported here: it adds a fifth to every mytitan command's start-up.
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(str(source), "config.json")
    if not isinstance(cached, str):
        raise MytitanError(
            f"--from-hf {source}: no such file or folder, and no config.json of "
            f"Hub model {source} in the local Hugging Face cache: run "
            f"`hf download {source} config.json` first, or pass a path"
        )
    return Path(cached)


def _load(source: Path) -> dict[str, Any]:
    path = _config_file(source)
    try:
        config = json.loads(path.read_text())
    except OSError as error:
        raise MytitanError(
            f"--from-hf {source}: cannot read it ({error.strerror})"
        ) from None
    except json.JSONDecodeError as error:
        raise MytitanError(
            f"--from-hf {source} is not valid JSON (line {error.lineno}): "
            "pass a Hugging Face config.json"
        ) from None
    if not isinstance(config, dict):
        raise MytitanError(f"--from-hf {source} must hold a JSON object")
    return config


def _per_type_rope(
    config: dict[str, Any], model_type: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the RoPE parameters of OLMo 3's or Gemma 3's layers, unsupported ones):
    they keep one set per layer type. The template rotates every layer alike, or
    scales the global (full-attention) layers only, as OLMo 3's long-context
    checkpoints do, and may give the local (sliding-window) layers a base of
    their own (`local_theta`), as Gemma 3 does."""
    # Where a layer type names no base, transformers takes the legacy key, else
    # its class's default (one for OLMo 3, one per type for Gemma 3).
    default = _config_class(model_type).default_theta
    if model_type == "gemma3_text":
        full_base = config.get("rope_theta", default["global"])
        sliding_base = config.get("rope_local_base_freq", default["local"])
    else:
        full_base = config.get("rope_theta", default)
        # The legacy rope_theta went to the full layers; the sliding ones default.
        sliding_base = default
    params = config.get("rope_parameters") or {}
    if "full_attention" in params or "sliding_attention" in params:
        full = params.get("full_attention") or {}
        sliding = params.get("sliding_attention") or {}
    else:
        full, sliding = params, {}
    # A legacy rope_scaling goes to the full layers, over rope_parameters.
    full = {**full, **(config.get("rope_scaling") or {})}
    full, sliding = (
        {"rope_theta": base}
        | {key: value for key, value in kind.items() if key != "type"}
        | {"rope_type": _rope_type(kind)}
        for kind, base in ((full, full_base), (sliding, sliding_base))
    )
    kinds = set(_layer_types(config, model_type))
    if kinds != {"sliding_attention", "full_attention"} or full == sliding:
        return (sliding if kinds == {"sliding_attention"} else full), {}
    own_base = sliding["rope_theta"] != full["rope_theta"]
    legacy = not config.get("rope_parameters") and "rope_theta" in config
    if model_type == "olmo3" and own_base and legacy:
        # A config from transformers 4.x, which gave rope_theta to every layer.
        return full, {
            "rope_theta": f"{config['rope_theta']} (transformers 5 gives it to the "
            f"full layers only, the sliding ones {default}; 4.x gave it to all: "
            "say which with rope_parameters per layer type)"
        }
    local_base = {"local_theta": sliding["rope_theta"]} if own_base else {}
    # Alike but for the base, or unscaled where the global layers are scaled.
    sliding = {**sliding, "rope_theta": full["rope_theta"]}
    if sliding == full:
        return {**full, **local_base}, {}
    unscaled_full = {"rope_type": "default", "rope_theta": full["rope_theta"]}
    if sliding == unscaled_full and full["rope_type"] in _SCALED_ROPE_TYPES:
        return {**full, "scaled_layers": "global", **local_base}, {}
    return full, {"rope_parameters": "different for sliding and full layers"}


def _rope_type(params: dict[str, Any]) -> str:
    """The RoPE kind of HF rope parameters ("type" is its old spelling)."""
    return params.get("rope_type", params.get("type", "default"))


def _rope(
    config: dict[str, Any], model_type: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(RoPE parameters, the unsupported ones), from either HF rope layout."""
    per_type_unsupported = {}
    if model_type in ("ministral3", "gpt_oss") and not (
        config.get("rope_parameters") or config.get("rope_scaling")
    ):
        # Their config classes then set RoPE keys of their own (YaRN, with the
        # attention temperature in Ministral 3's), whatever rope_theta says.
        own = _config_class(model_type)().rope_parameters
        config = {**config, "rope_parameters": dict(own)}
    if model_type in _PER_TYPE_ROPE:
        layer_rope, per_type_unsupported = _per_type_rope(config, model_type)
        config = {**config, "rope_parameters": layer_rope, "rope_scaling": None}
    params = dict(config.get("rope_parameters") or {})
    legacy = config.get("rope_scaling") or {}
    params = {**legacy, **params}
    if "rope_theta" not in params:
        params["rope_theta"] = config.get("rope_theta", _default_theta(model_type))
    kind = _rope_type(params)
    unsupported = {}
    if model_type == "phi3" and kind in ("su", "yarn"):
        kind = "longrope"  # transformers' Phi-3 reads its old names as LongRoPE
    if model_type == "phi3" and kind not in ("default", "longrope"):
        unsupported["rope_type"] = kind  # transformers' Phi-3 refuses the others
    elif kind == "dynamic" and model_type in _HUNYUAN_TYPES and params.get("alpha"):
        # HunYuan's fixed alpha stretches the base once, as transformers computes
        # it (its ntk_alpha): plain RoPE with that base at every length.
        head = _head_dim(config)
        alpha = params.pop("alpha")
        if head > 2:
            params["rope_theta"] = params["rope_theta"] * alpha ** (head / (head - 2))
        else:  # transformers divides by head_dim - 2
            unsupported["rope alpha"] = f"{alpha} with heads of {head}"
        kind = "default"
    elif kind == "dynamic" and model_type not in _PER_TYPE_ROPE:
        # Dynamic NTK rescales only past max_position_embeddings, the longest
        # sequence the rendered model takes: up to it, this is plain RoPE.
        if params.get("factor"):
            params["dynamic_factor"] = params.pop("factor")
            kind = "default"
        else:
            unsupported["rope factor"] = params.get("factor")  # transformers needs one
    elif kind not in _ROPE_TYPES:
        unsupported["rope_type"] = kind
    if kind in _ORIGINAL_CONTEXT_ROPE_TYPES:
        # The pretraining length: the config's own original_max_position_embeddings
        # (as Phi-3 writes it) or the one in the RoPE keys, else
        # max_position_embeddings; a missing factor is the ratio of the two lengths.
        longest = config["max_position_embeddings"]
        top = config.get("original_max_position_embeddings")
        inner = params.get("original_max_position_embeddings")
        if top is not None and inner is not None and top != inner:
            # transformers reads one or the other by class, RoPE kind and version.
            unsupported["original_max_position_embeddings"] = (
                f"{top} beside {inner} in the RoPE keys (keep one)"
            )
        original = top or inner or longest
        params["original_max_position_embeddings"] = original
        if not params.get("factor"):
            params["factor"] = longest / original
    if kind == "longrope":
        # LongRoPE reads its factor only for the attention scale, which is 1 up to 1.
        params["factor"] = max(params["factor"], 1.0)
        # An attention_factor equal to LongRoPE's own changes nothing.
        derived = _longrope_magnitude(
            params["factor"], params["original_max_position_embeddings"]
        )
        given = params.pop("attention_factor", None)
        if given is not None and not math.isclose(given, derived, rel_tol=1e-9):
            unsupported["rope attention_factor"] = given
    deepseek_scaled = model_type in _MLA_TYPES and kind in ("llama3", "linear")
    if deepseek_scaled and params.get("mscale_all_dim"):
        # transformers rescales the scores by it under any scaled RoPE.
        unsupported["rope mscale_all_dim"] = f"{params['mscale_all_dim']} ({kind})"
    if kind == "linear" and not params.get("factor"):
        unsupported["rope factor"] = params.get("factor")  # transformers needs one
    if kind == "yarn":
        if model_type in _MLA_TYPES:
            unsupported.update(_deepseek_mscales(params))
        else:
            _keep_yarn_mscales(params)
        # An attention_factor equal to YaRN's own (OLMo 3 writes it out) changes nothing.
        if params.get("attention_factor") is not None and math.isclose(
            params["attention_factor"], _yarn_magnitude(params), rel_tol=1e-9
        ):
            del params["attention_factor"]
        if params.get("attention_factor") is not None:
            unsupported["rope attention_factor"] = params["attention_factor"]
        if params.get("truncate", True) not in (True, False):
            unsupported["rope truncate"] = params["truncate"]
    if model_type == "ministral3":
        unsupported.update(_ministral3_temperature_unsupported(params, kind))
    default_factor = _PARTIAL_ROTARY_DEFAULTS.get(model_type, 1.0)
    if model_type == "minimax_m2" and config.get("rotary_dim") is not None:
        # transformers reads rotary_dim only where no factor is given.
        default_factor = config["rotary_dim"] / _head_dim(config)
    factor = params.get(
        "partial_rotary_factor", config.get("partial_rotary_factor", default_factor)
    )
    # transformers' other classes rotate whole heads, whatever the config says.
    if factor != 1.0 and model_type not in _PARTIAL_ROTARY_DEFAULTS:
        unsupported["partial_rotary_factor"] = factor
    params["partial_rotary_factor"] = float(factor)
    params["rope_type"] = kind
    return params, {**per_type_unsupported, **unsupported}


def _longrope_magnitude(factor: float, original: int) -> float:
    """The attention factor LongRoPE derives from its scaling factor (the template's)."""
    return math.sqrt(1 + math.log(factor) / math.log(original)) if factor > 1 else 1.0


def _yarn_mscale(factor: float, mscale: float = 1.0) -> float:
    """YaRN's magnitude correction for a context `factor` times longer."""
    return 0.1 * mscale * math.log(factor) + 1.0 if factor > 1 else 1.0


def _yarn_magnitude(params: dict[str, Any]) -> float:
    """The attention factor YaRN derives from its RoPE keys (the template's):
    with DeepSeek's mscales, the ratio of the two."""
    factor = params["factor"]
    if params.get("mscale_all_dim"):
        return _yarn_mscale(factor, params["mscale"]) / _yarn_mscale(
            factor, params["mscale_all_dim"]
        )
    return _yarn_mscale(factor)


def _keep_yarn_mscales(params: dict[str, Any]) -> None:
    """Keeps YaRN's mscales in `params` where transformers reads them (both set:
    the rotations' magnitude is the ratio of their corrections, as Ministral 3's
    YaRN has it), and drops them where they change nothing."""
    mscale = params.pop("mscale", None)
    all_dim = params.pop("mscale_all_dim", None)
    if mscale and all_dim:
        params["mscale"], params["mscale_all_dim"] = float(mscale), float(all_dim)


def _ministral3_temperature_unsupported(
    params: dict[str, Any], kind: str
) -> dict[str, Any]:
    """What of Ministral 3's attention temperature transformers cannot run: it
    multiplies by llama_4_scaling_beta and counts positions in units of the RoPE
    keys' original_max_position_embeddings, so it needs both."""
    beta = params.get("llama_4_scaling_beta")
    if beta is None:
        return {"rope llama_4_scaling_beta": "none (the class needs one)"}
    if kind not in _ORIGINAL_CONTEXT_ROPE_TYPES:
        return {"rope llama_4_scaling_beta": f"{beta} with rope_type {kind}"}
    return {}


def _deepseek_mscales(params: dict[str, Any]) -> dict[str, Any]:
    """Keeps DeepSeek's YaRN mscales in `params` as the template reads them (the
    scores rescaled only with mscale_all_dim, the rotations by the ratio of both);
    returns what transformers reads otherwise."""
    mscale = params.pop("mscale", None)
    all_dim = params.pop("mscale_all_dim", None)
    if not all_dim:
        return {}  # mscale alone changes nothing in transformers
    if not mscale:
        # transformers then keeps the paper's magnitude but rescales the scores.
        return {"rope mscale": f"{mscale} beside mscale_all_dim {all_dim}"}
    params["mscale"], params["mscale_all_dim"] = float(mscale), float(all_dim)
    return {}


def _fp8_block_size(config: dict[str, Any]) -> int | None:
    """The block side of an FP8 checkpoint quantized in square blocks (DeepSeek-V3's
    and the -FP8 releases' format), which the adapter dequantizes as it reads."""
    quantization = config.get("quantization_config") or {}
    block = quantization.get("weight_block_size") or []
    if quantization.get("quant_method") == "fp8" and len(set(block)) == 1:
        return block[0]
    return None


def _mxfp4_experts(config: dict[str, Any], model_type: str) -> bool:
    """Whether the checkpoints are gpt-oss's as released: the experts in MXFP4."""
    quantization = config.get("quantization_config") or {}
    return model_type == "gpt_oss" and quantization.get("quant_method") == "mxfp4"


def _unsupported_fields(config: dict[str, Any], model_type: str) -> dict[str, Any]:
    found = {}

    def expect(key: str, allowed, default=None) -> None:
        value = config.get(key, default)
        if value not in allowed:
            found[key] = value

    if model_type == "gemma":
        # GeGLU with tanh GELU: transformers reads Gemma 1's legacy "gelu" as that.
        expect("hidden_act", ("gelu_pytorch_tanh", "gelu"))
    elif model_type in _GEMMA_TYPES:
        # GeGLU with tanh GELU (the legacy hidden_act is not read).
        expect("hidden_activation", ("gelu_pytorch_tanh",))
    elif model_type == "falcon":
        expect("activation", ("gelu",))
    elif model_type in ("gpt_neox", "phi"):
        expect("hidden_act", ("gelu", *_TANH_GELUS))
    elif model_type in _GPT2_TYPES:
        expect("activation_function", ("gelu", *_TANH_GELUS))
    elif model_type in _CLAMPED_SWIGLU_TYPES:
        expect("swiglu_alpha", (_SWIGLU_ALPHA,), _SWIGLU_ALPHA)
        limit = config["swiglu_limit"]
        if not (isinstance(limit, (int, float)) and limit > 0):
            found["swiglu_limit"] = limit
    else:
        activation = {
            "swiglu": "silu",
            "gelu_tanh": "gelu_pytorch_tanh",
            "relu2": "relu2",
        }[_ffn(config, model_type)]
        expect("hidden_act", (activation,), activation)
    if model_type in _GEMMA_TYPES:
        expect("use_bidirectional_attention", (False, None))  # causal
    if model_type == "gemma3_text":
        # transformers' Gemma 3 stores this cap but does not apply it (5.24):
        # a model that reads it would depend on the version.
        expect("attn_logit_softcapping", (None,))
    if model_type in _GEMMA_SCORE_TYPES:
        scalar = config["query_pre_attn_scalar"]
        if not (isinstance(scalar, (int, float)) and scalar >= 1 and scalar % 1 == 0):
            found["query_pre_attn_scalar"] = scalar  # attn_scale_dim is a size
    if "quantization_config" in config and not (
        _fp8_block_size(config) or _mxfp4_experts(config, model_type)
    ):
        # The adapter dequantizes FP8 in square blocks as it reads, nothing else.
        quantization = config["quantization_config"] or {}
        method = quantization.get("quant_method", "present")
        block = quantization.get("weight_block_size")
        found["quantization_config"] = f"{method} {block}" if block else method
    # These attention_bias flags are on all four projections, not q/k/v alone:
    # the template has them with mlp_bias only (a bias on every projection).
    two_flag_biased = model_type in _TWO_FLAG_BIAS_TYPES and _biased_everywhere(
        config, model_type
    )
    if not two_flag_biased and model_type in (
        "llama",
        *_LLAMA_ALIASES,
        "smollm3",
        *_GRANITE_TYPES,
        *_RELU2_TYPES,
    ):
        expect("attention_bias", (False, None))
        expect("mlp_bias", (False, None))
    if model_type in _GPT2_TYPES:
        # Scores scaled by head_dim ** -0.5 alone, as SDPA scales them; no
        # encoder to attend to. (reorder_and_upcast_attn and GPTBigCode's softmax
        # in fp32 change only rounding.)
        expect("scale_attn_weights", (True,))
        expect("add_cross_attention", (False,))
    if model_type == "gpt2":
        expect("scale_attn_by_inverse_layer_idx", (False,))
    if model_type == "gpt_bigcode" and not config["multi_query"]:
        # Its multi-head models are GPT-2's architecture, and a model names its
        # first class: GPT-2, whose checkpoints stack q, k and v another way.
        found["multi_query"] = "False (a multi-head model exports as GPT-2)"
    if model_type == "seed_oss":
        # Its attention_bias is Qwen2's q/k/v bias; the output's is another.
        expect("attention_out_bias", (False, None))
        expect("mlp_bias", (False, None))
    if model_type == "helium":
        expect("mlp_bias", (False, None))
    if model_type == "iquestcoder":
        # Options of IQuest's own code that transformers refuses to load.
        expect("clip_qkv", (None,))
        expect("use_sliding_window", (False, None))
    if model_type in _GRANITE_TYPES:
        # The template scales scores by a size (attn_scale_dim ** -0.5): Granite's
        # attention_multiplier must be one over the square root of an integer.
        multiplier = _attention_multiplier(config, model_type)
        if _scale_dim(multiplier) is None:
            found["attention_multiplier"] = multiplier
        for key in ("embedding_multiplier", "residual_multiplier", "logits_scaling"):
            if not (isinstance(config[key], (int, float)) and config[key] > 0):
                found[key] = config[key]
    if model_type in _COHERE_TYPES:
        # A bias on all four attention projections.
        expect("attention_bias", (False, None))
        scale = config["logit_scale"]
        if not (isinstance(scale, (int, float)) and scale > 0):
            found["logit_scale"] = scale
    if model_type == "falcon":
        found.update(_falcon_unsupported(config))
    if model_type == "gpt_neox" and not config["attention_bias"]:
        found["attention_bias"] = "False (its MLP keeps its biases)"
    if model_type == "gpt_oss" and not config["attention_bias"]:
        found["attention_bias"] = "False (its experts and router keep their biases)"
    if model_type == "persimmon" and not config["qk_layernorm"]:
        # Its blocks are then Nemotron's, the class such a model exports to: it
        # would not load Persimmon's checkpoint names.
        found["qk_layernorm"] = "False (Nemotron blocks, exported as Nemotron)"
    heads = config["num_attention_heads"]
    if model_type in ("phi", "persimmon") and (
        _head_dim(config) * heads != config["hidden_size"]
    ):
        # Their qk-norms are hidden_size // num_attention_heads wide (Persimmon
        # reads no head_dim at all), as every released model's heads are: the
        # classes take no other.
        found["head_dim"] = config["head_dim"]
    if model_type == "smollm3":
        # SmolLM3 slides its window in the NoPE layers: not in the template.
        expect("use_sliding_window", (False, None))
    if model_type in _MLA_TYPES:
        # Pairs of RoPE features in the checkpoints, as the model keeps them, and
        # each head's own keys and values from the latent (transformers would
        # share them between heads otherwise).
        expect("rope_interleave", (True, None))
        expect("num_key_value_heads", (config["num_attention_heads"], None))
    if model_type in (*_QK_NORM_TYPES, *_GEMMA_TYPES, "olmo", *_MLA_TYPES):
        # On all four attention projections (OLMo 1's MLP has none): no answer.
        expect("attention_bias", (False, None))
    if model_type in _SHARED_MLP_TYPES:
        # Attention in every layer (transformers' default is Mamba layers, which it
        # names "linear_attention"), and no experts beside the shared MLP.
        layer_types = config["layer_types"] or ["linear_attention"]
        if set(layer_types) != {"attention"}:
            found["layer_types"] = sorted(set(layer_types))
        expect("num_local_experts", (0,))
    if model_type in _HUNYUAN_TYPES:
        # Keys of Tencent's own code that transformers' class does not read: it
        # always normalizes q and k and never shares keys and values across layers.
        expect("use_qk_norm", (True, None))
        expect("use_cla", (False, None))
    if model_type == "hunyuan_v1_moe":
        found.update(_hunyuan_moe_unsupported(config))
    if model_type == "minimax_m2":
        # Keys of MiniMax's own code that transformers' class does not read: it
        # always normalizes q and k across heads, routes by sigmoid scores with
        # routing biases, has no shared expert and no linear-attention layers
        # (MiniMax-Text-01's, 0 in attn_type_list).
        expect("use_qk_norm", (True, None))
        expect("qk_norm_type", ("per_layer", None))
        expect("scoring_func", ("sigmoid", None))
        expect("use_routing_bias", (True, None))
        expect("shared_intermediate_size", (0, None))
        attention_kinds = set(config.get("attn_type_list") or [1])
        if attention_kinds != {1}:
            found["attn_type_list"] = sorted(attention_kinds)
    if model_type in ("olmoe", "olmo"):
        # q, k and v clamped to a range: not in the template.
        expect("clip_qkv", (None,))
    if model_type in ("mixtral", "minimax_m2", "gpt_oss"):
        # Noise on the router's input during training: not in the template.
        expect("router_jitter_noise", (0, 0.0, None))
    if model_type in _QWEN_MOE_TYPES:
        expect("use_sliding_window", (False, None))
        # Dense blocks only as a leading run (moe_dense_layers).
        expect("decoder_sparse_step", (1, None), 1)
        dense = config.get("mlp_only_layers") or []
        if sorted(dense) != list(range(len(dense))):
            found["mlp_only_layers"] = dense
    expert = config.get("moe_intermediate_size")
    expert_width_key = _MOE_KEYS.get(model_type, (None, None))[1]
    if expert_width_key == "moe_intermediate_size" and not (
        isinstance(expert, int) and expert > 0
    ):
        # Experts of no width: the template's 0 would mean the dense width.
        found["moe_intermediate_size"] = expert
    elif model_type == "qwen2_moe":
        # torchtitan's shared experts are as wide as a whole number of experts.
        shared = config["shared_expert_intermediate_size"]
        if not (isinstance(shared, int) and shared > 0 and shared % expert == 0):
            found["shared_expert_intermediate_size"] = shared
    if model_type == "ernie4_5_moe":
        found.update(_ernie_moe_unsupported(config))
    elif _leading_dense_blocks(config, model_type) is None:
        found["mlp_layer_types"] = "dense blocks after MoE ones"
    # Dots1 and GLM-4.5 route as the sigmoid recipe does only with shared experts
    # (as DeepSeek-V2 does softmax's).
    shared_types = (*_SIGMOID_MOE_TYPES, "deepseek_v2")
    if model_type in shared_types and not config.get("n_shared_experts"):
        found["n_shared_experts"] = config.get("n_shared_experts")
    if model_type == "deepseek_v2" and not _all_dense(config, model_type):
        found.update(_deepseek_v2_routing_unsupported(config))
    if model_type == "dots1" and "sliding_attention" in _layer_types(
        config, model_type
    ):
        found["layer_types"] = "sliding layers (no MoE window in the template)"
    return found


def _ernie_moe_unsupported(config: dict[str, Any]) -> dict[str, Any]:
    """ERNIE 4.5 MoE's fields the template cannot express: biases (torchtitan's
    experts have none), MoE blocks other than every one after the first few, and a
    floor on the top-k scores' sum that could bind (it never does below
    moe_k / moe_num_experts, the least that sum can be)."""
    found = {}
    if config.get("use_bias"):
        found["use_bias"] = config["use_bias"]
    layers = config["num_hidden_layers"]
    if config.get("moe_layer_interval", 1) != 1:
        found["moe_layer_interval"] = config["moe_layer_interval"]
    if config.get("moe_layer_end_index", -1) not in (-1, layers - 1):
        found["moe_layer_end_index"] = config["moe_layer_end_index"]
    start = config.get("moe_layer_start_index", 0)
    if not 0 <= start < layers:
        found["moe_layer_start_index"] = f"{start} (no MoE block)"
    floor = config.get("moe_norm_min") or 0
    if floor > config["moe_k"] / config["moe_num_experts"]:
        found["moe_norm_min"] = floor
    return found


def _hunyuan_moe_unsupported(config: dict[str, Any]) -> dict[str, Any]:
    """HunYuan MoE's fields that the template or transformers' class cannot follow:
    Tencent's code may give a top-k, shared-expert count and expert width per
    block, but the template routes every block alike, and transformers' class
    builds one shared MLP as wide as the experts, which are intermediate_size
    wide, in every block (num_shared_expert, use_mixed_mlp_moe and
    moe_intermediate_size must say so)."""
    found = {}
    layers = config["num_hidden_layers"]
    experts = config["num_experts"]
    if isinstance(experts, list) or experts < 2:
        found["num_experts"] = f"{_per_block(experts)} (one count, 2 or more)"
    if _per_layer(config["moe_topk"], layers) is None:
        found["moe_topk"] = _per_block(config["moe_topk"])
    shared = config.get("num_shared_expert", 1)
    if _per_layer(shared, layers) != 1:
        found["num_shared_expert"] = f"{_per_block(shared)} (transformers' class: 1)"
    if config.get("use_mixed_mlp_moe") is False:
        found["use_mixed_mlp_moe"] = "False (transformers' class keeps a shared MLP)"
    width = config.get("moe_intermediate_size", config["intermediate_size"])
    if _per_layer(width, layers) != config["intermediate_size"]:
        found["moe_intermediate_size"] = (
            f"{_per_block(width)} (transformers' class: intermediate_size)"
        )
    return found


def _per_layer(value: Any, layers: int) -> Any:
    """The one value of a field that Tencent's code may give per block, as a list
    of num_hidden_layers values; None when the blocks' values differ."""
    if not isinstance(value, list):
        return value
    return value[0] if len(value) == layers and len(set(value)) == 1 else None


def _per_block(value: Any) -> Any:
    """A per-block list named by its distinct values, for a one-line error."""
    if not isinstance(value, list):
        return value
    return f"{len(value)} values, {', '.join(map(str, sorted(set(value))))}"


def _deepseek_v2_routing_unsupported(config: dict[str, Any]) -> dict[str, Any]:
    """DeepSeek-V2's routing keys that transformers' class cannot run, or that it
    passes over where DeepSeek's code would route otherwise."""
    found = {}
    method = config.get("topk_method") or "greedy"
    if method not in ("greedy", "group_limited_greedy"):
        found["topk_method"] = method  # transformers' class routes these two only
    if not config.get("num_experts_per_tok"):
        found["num_experts_per_tok"] = config.get("num_experts_per_tok")
    if method == "group_limited_greedy" and not (
        config.get("n_group") and config.get("topk_group")
    ):
        found["n_group, topk_group"] = (config.get("n_group"), config.get("topk_group"))
    for key, value in _DEEPSEEK_V2_ROUTING.items():
        if config.get(key, value) not in (value, None):
            found[key] = (
                f"{config[key]!r} (DeepSeek's code routes by it, transformers' "
                f"DeepSeek-V2 as if {value!r})"
            )
    return found


def _falcon_unsupported(config: dict[str, Any]) -> dict[str, Any]:
    """Falcon's blocks that the template or transformers lacks: ALiBi, attention
    and MLP one after the other, a LayerNorm each outside the new decoder
    architecture (transformers' class builds them, then reads another)."""
    found = {}
    if config["alibi"]:
        found["alibi"] = True
    if not config["parallel_attn"]:
        found["parallel_attn"] = False
    norms = config["num_ln_in_parallel_attn"]
    if config["new_decoder_architecture"] and norms not in (None, 1, 2):
        found["num_ln_in_parallel_attn"] = norms
    elif not config["new_decoder_architecture"] and norms == 2:
        found["num_ln_in_parallel_attn"] = "2 with new_decoder_architecture false"
    multi_head = not (config["new_decoder_architecture"] or config["multi_query"])
    kv_heads = config["num_kv_heads"]
    if multi_head and kv_heads not in (None, config["num_attention_heads"]):
        # Its checkpoints then hold a key and a value per query head, whatever
        # num_kv_heads says.
        found["num_kv_heads"] = (
            f"{kv_heads} with multi_query and new_decoder_architecture false"
        )
    return found


def _falcon_norms(config: dict[str, Any]) -> int:
    """LayerNorms in a Falcon block: two (ln_attn, ln_mlp) in the new decoder
    architecture unless num_ln_in_parallel_attn says one, else one."""
    if config["new_decoder_architecture"]:
        return config["num_ln_in_parallel_attn"] or 2
    return 1


def _kv_heads(config: dict[str, Any], model_type: str) -> int:
    """Key/value heads: Falcon's are num_kv_heads in its new decoder architecture,
    one with multi_query (GPTBigCode's too), else one per query head; GPT-NeoX,
    Persimmon and GPT-2 have one per query head, whatever the config says."""
    heads = config["num_attention_heads"]
    if model_type in ("gpt_neox", "persimmon", "gpt2"):
        return heads  # multi-head attention only
    if model_type == "gpt_bigcode":
        return 1 if config["multi_query"] else heads
    if model_type != "falcon":
        return config.get("num_key_value_heads") or heads
    if config["new_decoder_architecture"]:
        return config["num_kv_heads"] or heads
    return 1 if config["multi_query"] else heads


def _ffn_hidden_dim(config: dict[str, Any], model_type: str) -> int:
    if model_type == "falcon":
        # Falcon's config class makes a missing width four times hidden_size.
        return config["ffn_hidden_size"] or 4 * config["hidden_size"]
    if model_type in _NO_DENSE_TYPES:
        # Without dense blocks the dense width is unused: the experts' stands in.
        return config["moe_intermediate_size"]
    if model_type in _SHARED_MLP_TYPES:
        return config["shared_intermediate_size"]
    if model_type in _GPT2_TYPES:
        # Their config classes make a missing width (n_inner) four times n_embd.
        return config.get("intermediate_size") or 4 * config["hidden_size"]
    return config["intermediate_size"]


def _norm_placement(config: dict[str, Any], model_type: str) -> str:
    if model_type == "stablelm" and config.get("use_parallel_residual"):
        return "parallel"  # one norm, attention and MLP side by side
    if model_type == "gpt_neox":
        # Attention and MLP side by side, a LayerNorm each, or one after the other.
        return "parallel_two_norms" if config["use_parallel_residual"] else "pre"
    if model_type == "falcon" and _falcon_norms(config) == 2:
        return "parallel_two_norms"  # Falcon-40B's and -180B's ln_attn, ln_mlp
    if model_type == "hyperclovax" and config["use_post_norm"]:
        return "sandwich"  # Peri-LN: a norm after each sublayer too
    return _NORM_PLACEMENTS.get(model_type, "pre")


def _norm_eps_key(model_type: str) -> str:
    if model_type in _NORM_EPS_KEYS:
        return _NORM_EPS_KEYS[model_type]
    layer_norm = _LAYER_NORMS.get(model_type, "rmsnorm").startswith("layernorm")
    return "layer_norm_eps" if layer_norm else "rms_norm_eps"


def _head_dim(config: dict[str, Any]) -> int:
    """transformers' head size: the config's own, else hidden_size // heads."""
    return (
        config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    )


def _window_size(config: dict[str, Any], model_type: str) -> int:
    if model_type in (
        "qwen2",
        "qwen3",
        *_QWEN_MOE_TYPES,
        "smollm3",
    ) and not config.get("use_sliding_window"):
        return 0  # transformers ignores their window then
    return config.get("sliding_window") or 0


def _layer_types(config: dict[str, Any], model_type: str) -> list[str]:
    """Each layer's attention, as transformers derives it from the config."""
    layers = config.get("num_hidden_layers", 0)
    if config.get("layer_types"):
        return list(config["layer_types"])
    if model_type in _GLOBAL_EVERY:
        every = _GLOBAL_EVERY[model_type]
        if model_type in _WINDOW_PATTERN_TYPES:
            every = config.get("sliding_window_pattern", every)
        return [
            "full_attention" if (i + 1) % every == 0 else "sliding_attention"
            for i in range(layers)
        ]
    window = _window_size(config, model_type)
    # Qwen and Dots1 slide only from layer max_window_layers on; Mistral and
    # Mixtral everywhere.
    first = config.get("max_window_layers") or 0
    return [
        "sliding_attention" if window and i >= first else "full_attention"
        for i in range(layers)
    ]


def _check_layer_types_derivable(
    config: dict[str, Any], model_type: str, path: Path
) -> None:
    """Refuse a config without layer_types whose period transformers cannot
    read: a string ("LLLG", which EXAONE 4's docs allow), or EXAONE 4's period
    of 0 without a sliding_window (transformers takes each layer's index modulo
    the period, which fails for both)."""
    if config.get("layer_types") or model_type not in _WINDOW_PATTERN_TYPES:
        return
    pattern = config.get("sliding_window_pattern", _GLOBAL_EVERY[model_type])
    no_window = model_type == "exaone4" and config.get("sliding_window") is None
    if isinstance(pattern, int) and pattern >= 1 and not no_window:
        return
    given = (
        "sliding_window=None" if no_window else f"sliding_window_pattern={pattern!r}"
    )
    raise MytitanError(
        f"--from-hf {path}: no layer_types, and transformers cannot derive them "
        f'from {given}: add layer_types to the config, one "sliding_attention" '
        'or "full_attention" per layer'
    )


def _attention_window(
    config: dict[str, Any], model_type: str
) -> tuple[int, int] | None:
    """(sliding_window, global_every) for the template, or None when the layers'
    pattern is not all-global, all-local, or local with every k-th layer global."""
    kinds = _layer_types(config, model_type)
    window = _window_size(config, model_type)
    if "sliding_attention" not in kinds:
        return 0, 0
    if not window:
        return None  # local layers without a window size
    if "full_attention" not in kinds:
        return window, 0
    every = kinds.index("full_attention") + 1
    pattern = [
        "full_attention" if (i + 1) % every == 0 else "sliding_attention"
        for i in range(len(kinds))
    ]
    return (window, every) if every >= 2 and kinds == pattern else None


def _rotates_sliding_layers_only(config: dict[str, Any], model_type: str) -> bool:
    """Whether the full-attention layers rotate nothing (NoPE): Cohere 2's always,
    EXAONE 4's when it has a window (without one, every layer rotates)."""
    if model_type == "exaone4":
        return config.get("sliding_window") is not None
    return model_type == "cohere2"


def _nope_every(
    config: dict[str, Any], model_type: str, window_pattern: tuple[int, int] | None
) -> int | None:
    """The period of SmolLM3's NoPE layers for the template (0: RoPE in every
    layer), or None when its no_rope_layers follow no period. Cohere 2's and
    EXAONE 4's are their global layers (`window_pattern`'s period)."""
    if _rotates_sliding_layers_only(config, model_type):
        return window_pattern[1] if window_pattern else 0
    if model_type != "smollm3":
        return 0
    layers = config["num_hidden_layers"]
    interval = config["no_rope_layer_interval"]
    if not config.get("no_rope_layers") and not (
        isinstance(interval, int) and interval >= 2
    ):
        return None  # transformers would divide by it, or make every layer NoPE
    rotary = config.get("no_rope_layers") or [
        int((i + 1) % interval != 0) for i in range(layers)
    ]
    # transformers reads one entry per layer; a longer list's tail is unused.
    rotary = [bool(flag) for flag in rotary[:layers]]
    if all(rotary):
        return 0
    every = rotary.index(False) + 1
    pattern = [(i + 1) % every != 0 for i in range(layers)]
    return every if every >= 2 and rotary == pattern else None


def _flavor_name(nparams: int) -> str:
    """Two significant digits in billions ("1.2B"), three in millions ("135M"),
    rounded before the unit is chosen: 999.9M is "1B", not "1e+03M"."""
    billions = float(f"{nparams / 10**9:.2g}")
    if billions >= 100:  # "143B", where two significant digits would print 1.4e+02
        return f"{round(nparams / 10**9)}B"
    if billions >= 1:
        return f"{billions:g}B"
    return f"{float(f'{nparams / 10**6:.3g}'):g}M"


def _nparams(answers: dict[str, Any]) -> int:
    dim, heads = answers["dim"], answers["n_heads"]
    kv = answers.get("n_kv_heads", heads)
    head_dim = answers["head_dim"] or dim // heads
    if answers.get("attention") == "mla":
        attention = _mla_nparams(answers, head_dim)
    else:
        attention = dim * head_dim * (2 * heads + 2 * kv)
    every_bias = answers.get("linear_bias", False)
    if answers.get("qkv_bias") or every_bias:
        attention += (heads + 2 * kv) * head_dim
    attention += dim if every_bias else 0  # the output projection's bias
    # Parameters per normalized feature: LayerNorm's weight and bias, RMSNorm's
    # weight; OLMo 1's LayerNorms and nanochat's RMSNorms have neither.
    per_feature = {"layernorm": 2, "layernorm_noparams": 0, "rmsnorm_noparams": 0}.get(
        answers["norm"], 1
    )
    if answers["qk_norm"]:
        # Full and head_weights norms weigh each head on its own; head ones share
        # one; head_weights ones have no bias.
        scope = answers.get("qk_norm_scope")
        width = (heads + kv) * head_dim if scope != "head" else 2 * head_dim
        attention += width if scope == "head_weights" else width * per_feature
    layers = answers["n_layers"]
    # A gated feed-forward has three matrices, an MLP (ReLU², tanh-GELU) two.
    matrices = 3 if answers["ffn"] in ("swiglu", "geglu") else 2
    feed_forward = layers * matrices * dim * answers["ffn_hidden_dim"]
    if every_bias:
        feed_forward += layers * ((matrices - 1) * answers["ffn_hidden_dim"] + dim)
    if answers.get("moe"):
        experts = answers["moe_experts"]
        all_experts = experts + answers["moe_shared_experts"]
        expert = 3 * dim * (answers["moe_hidden_dim"] or answers["ffn_hidden_dim"])
        moe_layers = layers - answers["moe_dense_layers"]
        feed_forward = (layers - moe_layers) * 3 * dim * answers["ffn_hidden_dim"]
        feed_forward += moe_layers * (dim * experts + all_experts * expert)
        if answers.get("moe_shared_expert_gate"):
            feed_forward += moe_layers * dim
    embeddings = answers["vocab_size"] * dim * (1 if answers["weight_tying"] else 2)
    if answers.get("output_bias"):
        embeddings += answers["vocab_size"]  # the output projection's bias
    norm = dim * per_feature
    block_norms = {"sandwich": 4, "parallel": 1}.get(answers["norm_placement"], 2)
    if answers.get("embedding_norm"):
        embeddings += norm
    if answers["positional"] == "learned":
        embeddings += answers["max_seq_len"] * dim  # the position table
    return embeddings + layers * (attention + block_norms * norm) + feed_forward + norm


def _mla_nparams(answers: dict[str, Any], nope: int) -> int:
    """Latent attention's weights (RMSNorm latents, no biases)."""
    dim, heads = answers["dim"], answers["n_heads"]
    q_rank, kv_rank = answers["mla_q_lora_rank"], answers["mla_kv_lora_rank"]
    rope, v = answers["mla_rope_head_dim"], answers["mla_v_head_dim"]
    q_out = heads * (nope + rope)
    q = dim * q_rank + q_rank + q_rank * q_out if q_rank else dim * q_out
    kv = dim * (kv_rank + rope) + kv_rank + kv_rank * heads * (nope + v)
    return q + kv + heads * v * dim


def _gemma_score_answers(config: dict[str, Any], head_dim: int) -> dict[str, Any]:
    """Gemma's attention scale and soft caps; a scale by head_dim, as SDPA's, is
    left implicit so that the debug flavor's smaller heads keep it."""
    scalar = int(config["query_pre_attn_scalar"])
    return {
        "attn_scale_dim": 0 if scalar == head_dim else scalar,
        "attn_softcap": float(config["attn_logit_softcapping"] or 0.0),
        "logit_softcap": float(config["final_logit_softcapping"] or 0.0),
    }


def _scale_dim(multiplier: Any) -> int | None:
    """The size whose ** -0.5 is `multiplier` (1 / 128 -> 16384), if one is."""
    if not (isinstance(multiplier, (int, float)) and multiplier > 0):
        return None
    size = round(multiplier**-2)
    return size if size >= 1 and math.isclose(size**-0.5, multiplier) else None


def _attention_multiplier(config: dict[str, Any], model_type: str) -> Any:
    """The factor on the attention scores; HyperCLOVAX's null means SDPA's."""
    multiplier = config["attention_multiplier"]
    if model_type == "hyperclovax" and multiplier is None:
        return _head_dim(config) ** -0.5
    return multiplier


def _granite_answers(
    config: dict[str, Any], model_type: str, head_dim: int
) -> dict[str, Any]:
    """Granite's constant multipliers; a scale by head_dim ** -0.5, as SDPA's, is
    left implicit so that the debug flavor's smaller heads keep it."""
    scale_dim = _scale_dim(_attention_multiplier(config, model_type))
    logits_scaling = float(config["logits_scaling"])
    return {
        "attn_scale_dim": 0 if scale_dim == head_dim else scale_dim,
        "embedding_multiplier": float(config["embedding_multiplier"]),
        "residual_multiplier": float(config["residual_multiplier"]),
        # HyperCLOVAX multiplies its logits by logits_scaling, Granite divides.
        "logit_multiplier": logits_scaling
        if model_type == "hyperclovax"
        else 1 / logits_scaling,
    }


def _moe_answers(config: dict[str, Any], model_type: str) -> dict[str, Any]:
    """Mixtral, GraniteMoe, Qwen3-MoE, OLMoE, FlexOlmo, Qwen2-MoE and gpt-oss route
    with a softmax over the experts and train with the Switch auxiliary loss
    (Qwen2-MoE adds a gated shared expert); Dots1 and GLM-4.5 route with sigmoid scores,
    shared experts and routing biases (DeepSeek-V3's recipe); DeepSeek-V2 and
    ERNIE 4.5 MoE, HunYuan MoE and MiniMax-M2 as `_deepseek_v2_moe_answers`,
    `_ernie_moe_answers`, `_hunyuan_moe_answers` and `_minimax_moe_answers` say."""
    experts_key, hidden_key = _MOE_KEYS[model_type]
    if model_type in _SIGMOID_MOE_TYPES:
        answers = {
            "moe": True,
            "moe_experts": config[experts_key],
            "moe_top_k": config.get("num_experts_per_tok") or 1,
            "moe_hidden_dim": config[hidden_key],
            "moe_shared_experts": config["n_shared_experts"],
            "moe_score_func": "sigmoid",
            "moe_route_norm": bool(config["norm_topk_prob"]),
            "moe_route_scale": float(config["routed_scaling_factor"]),
            "moe_load_balancing": "expert_bias",
            "moe_dense_layers": _leading_dense_blocks(config, model_type),
        }
        return answers | _limited_groups(config)
    if model_type == "deepseek_v2":
        return _deepseek_v2_moe_answers(config)
    if model_type == "ernie4_5_moe":
        return _ernie_moe_answers(config)
    if model_type == "hunyuan_v1_moe":
        return _hunyuan_moe_answers(config)
    if model_type == "minimax_m2":
        return _minimax_moe_answers(config)
    aux_loss_coeff = config["router_aux_loss_coef"]
    answers = {
        "moe": True,
        "moe_experts": config[experts_key],
        "moe_top_k": config["num_experts_per_tok"],
        # Mixtral's, GraniteMoe's, OLMoE's and FlexOlmo's experts are as wide as
        # the (unused) dense feed-forward.
        "moe_hidden_dim": 0
        if hidden_key == "intermediate_size"
        else config[hidden_key],
        "moe_shared_experts": 0,
        "moe_score_func": "softmax",
        # GraniteMoe's and gpt-oss's softmax over the top-k logits is Mixtral's
        # renormalization.
        "moe_route_norm": model_type in ("mixtral", "granitemoe", "gpt_oss")
        or bool(config.get("norm_topk_prob", False)),
        "moe_route_scale": 1.0,
        "moe_load_balancing": "aux_loss" if aux_loss_coeff else "none",
        "moe_dense_layers": len(config.get("mlp_only_layers") or []),
    }
    if model_type == "qwen2_moe":
        # One gated shared expert, as wide as a whole number of routed ones.
        shared = config["shared_expert_intermediate_size"] // config[hidden_key]
        answers |= {"moe_shared_experts": shared, "moe_shared_expert_gate": True}
    if aux_loss_coeff:
        answers["moe_aux_loss_coeff"] = float(aux_loss_coeff)
    return answers


def _deepseek_v2_moe_answers(config: dict[str, Any]) -> dict[str, Any]:
    """DeepSeek-V2's routing: softmax scores, never renormalized, times
    routed_scaling_factor, shared experts beside; group_limited_greedy scores each
    group by its best expert (greedy routes over all of them)."""
    aux_loss_coeff = config.get("aux_loss_alpha")
    answers = {
        "moe": True,
        "moe_experts": config["n_routed_experts"],
        "moe_top_k": config["num_experts_per_tok"],
        "moe_hidden_dim": config["moe_intermediate_size"],
        "moe_shared_experts": config["n_shared_experts"],
        "moe_score_func": "softmax",
        "moe_route_norm": False,
        "moe_route_scale": float(config["routed_scaling_factor"]),
        "moe_load_balancing": "aux_loss" if aux_loss_coeff else "none",
        "moe_dense_layers": _leading_dense_blocks(config, "deepseek_v2"),
    }
    if aux_loss_coeff:
        answers["moe_aux_loss_coeff"] = float(aux_loss_coeff)
    limited = _limited_groups(config)
    if config.get("topk_method") == "group_limited_greedy" and limited:
        answers |= limited | {"moe_group_score": "max"}
    return answers


def _ernie_moe_answers(config: dict[str, Any]) -> dict[str, Any]:
    """ERNIE 4.5 MoE's routing: softmax scores, the top-k picked with the routing
    biases its class always adds (moe_statics), renormalized; shared experts
    beside; MoE from block moe_layer_start_index on."""
    return {
        "moe": True,
        "moe_experts": config["moe_num_experts"],
        "moe_top_k": config["moe_k"],
        "moe_hidden_dim": config["moe_intermediate_size"],
        "moe_shared_experts": config["moe_num_shared_experts"] or 0,
        "moe_score_func": "softmax",
        "moe_route_norm": True,
        "moe_route_scale": 1.0,
        "moe_load_balancing": "expert_bias",
        "moe_dense_layers": config.get("moe_layer_start_index", 0),
    }


def _hunyuan_moe_answers(config: dict[str, Any]) -> dict[str, Any]:
    """HunYuan MoE's routing: Mixtral's (softmax, the top-k renormalized) in every
    block, one shared expert beside, every expert as wide as intermediate_size.
    Its config names no load-balancing loss, and transformers' class computes
    none."""
    return {
        "moe": True,
        "moe_experts": config["num_experts"],
        "moe_top_k": _per_layer(config["moe_topk"], config["num_hidden_layers"]),
        "moe_hidden_dim": 0,
        "moe_shared_experts": 1,
        "moe_score_func": "softmax",
        "moe_route_norm": True,
        "moe_route_scale": 1.0,
        "moe_load_balancing": "none",
        "moe_dense_layers": 0,
    }


def _minimax_moe_answers(config: dict[str, Any]) -> dict[str, Any]:
    """MiniMax-M2's routing: sigmoid scores, the top-k picked with the routing
    biases its class always adds, renormalized, in every block; no shared
    experts; every expert as wide as intermediate_size."""
    return {
        "moe": True,
        "moe_experts": config["num_local_experts"],
        "moe_top_k": config["num_experts_per_tok"],
        "moe_hidden_dim": 0,
        "moe_shared_experts": 0,
        "moe_score_func": "sigmoid",
        "moe_route_norm": True,
        "moe_route_scale": 1.0,
        "moe_load_balancing": "expert_bias",
        "moe_dense_layers": 0,
    }


def _limited_groups(config: dict[str, Any]) -> dict[str, Any]:
    """Node-limited routing's answers from n_group and topk_group; none when every
    group is kept, which is routing over all experts."""
    groups, kept = config.get("n_group") or 1, config.get("topk_group") or 1
    if kept < groups:
        return {"moe_expert_groups": groups, "moe_limited_groups": kept}
    return {}


def _leading_dense_blocks(config: dict[str, Any], model_type: str) -> int | None:
    """The dense blocks before the MoE ones (first_k_dense_replace; GLM-4.7-Flash's
    mlp_layer_types, by default one dense block and then MoE); None when dense
    blocks come after MoE ones, which the template does not build."""
    if model_type != "glm4_moe_lite":
        return config.get("first_k_dense_replace") or 0
    layers = config.get("num_hidden_layers", 1)
    kinds = config.get("mlp_layer_types") or ["dense"] + ["sparse"] * (layers - 1)
    dense = next((i for i, kind in enumerate(kinds) if kind != "dense"), len(kinds))
    expected = ["dense"] * dense + ["sparse"] * (layers - dense)
    return dense if kinds == expected else None


def _all_dense(config: dict[str, Any], model_type: str) -> bool:
    """A latent-attention model whose leading dense blocks are all of them has
    no MoE."""
    dense = _leading_dense_blocks(config, model_type) or 0
    return model_type in _MLA_TYPES and dense >= config.get("num_hidden_layers", 1)


def _mla_answers(config: dict[str, Any]) -> dict[str, Any]:
    """Latent attention's sizes; head_dim is the part of each query/key head
    without RoPE, explicit only when it differs from dim // n_heads."""
    nope = config["qk_nope_head_dim"]
    return {
        "attention": "mla",
        "head_dim": 0
        if nope * config["num_attention_heads"] == config["hidden_size"]
        else nope,
        "mla_q_lora_rank": config.get("q_lora_rank") or 0,
        "mla_kv_lora_rank": config["kv_lora_rank"],
        "mla_rope_head_dim": config["qk_rope_head_dim"],
        "mla_v_head_dim": config["v_head_dim"],
    }


def answers_from_hf_config(path: Path) -> dict[str, Any]:
    """Template answers equal to the architecture of an HF config.json."""
    config = _load(path)
    model_type = config.get("model_type")
    text = config.get("text_config")
    inner = text.get("model_type") if isinstance(text, dict) else None
    if model_type not in SUPPORTED_MODEL_TYPES and inner in SUPPORTED_MODEL_TYPES:
        # A multimodal model (Gemma 3 4B and up, Mistral Small 3.1): its language
        # model is a decoder mytitan reads, but its checkpoints and keys at the top
        # level belong to the whole model, so the user says what to take.
        raise MytitanError(
            f"--from-hf {path}: model_type {model_type!r} wraps its language model "
            f"(text_config, model_type {inner!r}) with other towers, and mytitan "
            "renders decoders only: write text_config alone to a config.json "
            "(with the top-level keys it needs, such as tie_word_embeddings) and "
            "pass that file"
        )
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise MytitanError(
            f"--from-hf {path}: model_type {model_type!r} is not supported: "
            f"mytitan reads {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    if model_type in _RENAMED_TYPES:
        model_type = _RENAMED_TYPES[model_type]
        config = {**config, "model_type": model_type}
    # Named as the file spells them (InternLM3's "bias" is mlp_bias).
    spelled = {
        field: alias for alias, field in _aliases(model_type).items() if alias in config
    }
    config = _unaliased(config, model_type)
    missing = [
        key
        for key in (
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
        )
        if key not in config
    ] + (
        []
        if "intermediate_size" in config
        or model_type in (*_NO_DENSE_TYPES, *_SHARED_MLP_TYPES, "falcon", *_GPT2_TYPES)
        else ["intermediate_size"]
    )
    if not _all_dense(config, model_type):
        missing += [key for key in _MOE_KEYS.get(model_type, ()) if key not in config]
    missing += [
        key for key in _REQUIRED_KEYS.get(model_type, ()) if config.get(key) is None
    ]
    if missing:
        raise MytitanError(f"--from-hf {path} lacks {', '.join(missing)}")
    config = _with_transformers_defaults(config, model_type)
    # Granite 4 rotates only with position_embedding_type "rope": otherwise it
    # reads no RoPE keys.
    nope = (
        model_type in _SHARED_MLP_TYPES and config["position_embedding_type"] != "rope"
    )
    if nope:
        config = {**config, "rope_parameters": None, "rope_scaling": None}
    _check_layer_types_derivable(config, model_type, path)
    rope, rope_unsupported = _rope(config, model_type)
    if model_type in _MLA_TYPES and rope["rope_type"] not in _MLA_ROPE_TYPES:
        rope_unsupported["rope_type"] = (
            f"{rope['rope_type']} (with latent attention, only default, llama3, "
            "yarn or linear)"
        )
    window_pattern = _attention_window(config, model_type)
    nope_every = _nope_every(config, model_type, window_pattern)
    unsupported = {**_unsupported_fields(config, model_type), **rope_unsupported}
    if window_pattern is None:
        unsupported["layer_types"] = _layer_types(config, model_type)
    elif window_pattern == (0, 0) and _rotates_sliding_layers_only(config, model_type):
        unsupported["layer_types"] = "no sliding layers (so no RoPE in any layer)"
    if nope_every is None:
        key = (
            "no_rope_layers"
            if config.get("no_rope_layers")
            else "no_rope_layer_interval"
        )
        unsupported[key] = config[key]

    def named(fields: dict[str, Any]) -> str:
        return ", ".join(f"{spelled.get(k, k)}={v!r}" for k, v in fields.items())

    if unsupported:
        raise MytitanError(
            f"--from-hf {path}: the template cannot express {named(unsupported)}: "
            "render the closest model without --from-hf and adapt it by hand"
        )
    if rope.get("dynamic_factor"):
        warnings.warn(
            f"--from-hf {path}: rope_type='dynamic' (factor "
            f"{rope['dynamic_factor']}) read as plain RoPE: transformers rescales "
            f"only past max_position_embeddings ({config['max_position_embeddings']}),"
            " the model's max_seq_len; the config.json that `mytitan hf-config` "
            "writes has no such scaling (add it back to serve longer sequences)",
            HfImportWarning,
            stacklevel=2,
        )
    if _mxfp4_experts(config, model_type):
        warnings.warn(
            f"--from-hf {path}: its released checkpoints keep the experts in MXFP4; "
            "the model trains in full precision: start from them with "
            "--checkpoint.initial_load_in_hf_quantized, which dequantizes as it reads",
            HfImportWarning,
            stacklevel=2,
        )
    if block := _fp8_block_size(config):
        warnings.warn(
            f"--from-hf {path}: its checkpoints are FP8 in {block}x{block} blocks; "
            "the model trains in full precision: start from them with "
            "--checkpoint.initial_load_in_hf_quantized, which dequantizes as it reads",
            HfImportWarning,
            stacklevel=2,
        )
    sequence_aux = config.get("seq_aux") and config.get("aux_loss_alpha")
    if (
        model_type == "deepseek_v2"
        and sequence_aux
        and not _all_dense(config, model_type)
    ):
        warnings.warn(
            f"--from-hf {path}: seq_aux read as the model's auxiliary loss, which "
            "balances the experts over each micro-batch, not within each sequence "
            "as DeepSeek-V2 trained (the logits are the same)",
            HfImportWarning,
            stacklevel=2,
        )
    if dropout := _dropout(config, model_type):
        warnings.warn(
            f"--from-hf {path}: {named(dropout)} left out: the model trains without "
            "dropout, as torchtitan's models do (the logits, in evaluation, are "
            "the same); add it to model.py by hand if the recipe needs it",
            HfImportWarning,
            stacklevel=2,
        )

    dim, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim = _head_dim(config)
    window, global_every = window_pattern
    answers: dict[str, Any] = {
        "vocab_size": config["vocab_size"],
        "dim": dim,
        "n_layers": config["num_hidden_layers"],
        "n_heads": heads,
        "n_kv_heads": _kv_heads(config, model_type),
        # Explicit only when it differs from dim // n_heads (as in Qwen3).
        "head_dim": head_dim if head_dim * heads != dim else 0,
        "qk_norm": model_type in _QK_NORM_TYPES
        or (model_type in ("glm4_moe", "cohere") and bool(config["use_qk_norm"]))
        or (
            model_type in ("stablelm", "phi", "persimmon")
            and bool(config["qk_layernorm"])
        ),
        "qkv_bias": model_type == "qwen2"
        or bool(config.get("use_qkv_bias"))
        or (model_type == "qwen2_moe" and bool(config["qkv_bias"]))
        or (model_type in _ATTENTION_BIAS_TYPES and bool(config["attention_bias"])),
        "positional": _ROPE_TYPES[rope["rope_type"]],
        "rope_theta": float(rope["rope_theta"]),
        "max_seq_len": config["max_position_embeddings"],
        "sliding_window": window,
        "norm": _LAYER_NORMS.get(model_type, "rmsnorm"),
        "norm_placement": _norm_placement(config, model_type),
        "norm_eps": float(
            _FIXED_NORM_EPS.get(model_type) or config[_norm_eps_key(model_type)]
        ),
        "ffn": _ffn(config, model_type),
        "ffn_hidden_dim": _ffn_hidden_dim(config, model_type),
        "weight_tying": bool(config["tie_word_embeddings"]),
        "embedding_scale": model_type in _GEMMA_TYPES,
        "extra_flavors": {},
    }
    if _biased_everywhere(config, model_type):
        # qkv_bias is asked only without linear_bias, which implies it.
        del answers["qkv_bias"]
        answers["linear_bias"] = True
    if model_type in _OUTPUT_BIAS_TYPES:
        answers["output_bias"] = True
    if model_type in _SINK_TYPES:
        answers["attn_sinks"] = True
    if model_type in _CLAMPED_SWIGLU_TYPES:
        answers["swiglu_limit"] = float(config["swiglu_limit"])
    if model_type in _EMBEDDING_NORM_TYPES:
        answers["embedding_norm"] = True
    if model_type in _LOGIT_SOFTCAP_TYPES:
        answers["logit_softcap"] = float(config["final_logit_softcapping"] or 0.0)
    if nope:
        answers["positional"] = "none"
        del answers["rope_theta"]
    if model_type in _LEARNED_POSITION_TYPES:
        answers["positional"] = "learned"  # its table is max_seq_len long
        del answers["rope_theta"]
    if rope["partial_rotary_factor"] != 1.0:
        answers["rope_fraction"] = rope["partial_rotary_factor"]
    if window:
        answers["global_every"] = global_every
    if nope_every:
        answers["nope_every"] = nope_every
    if model_type in _GEMMA_SCORE_TYPES:
        answers.update(_gemma_score_answers(config, head_dim))
    if model_type in _GRANITE_TYPES:
        answers.update(_granite_answers(config, model_type, head_dim))
    if model_type in _COHERE_TYPES:
        answers["logit_multiplier"] = float(config["logit_scale"])
    if answers["qk_norm"]:
        answers["qk_norm_scope"] = (
            "full"
            if model_type in _FULL_QK_NORM_TYPES
            else "head_weights"
            if model_type in _HEAD_WEIGHT_QK_NORM_TYPES
            else "head"
        )
    if model_type in _QK_NORM_AFTER_ROPE_TYPES:
        answers["qk_norm_after_rope"] = True
    if model_type in _MLA_TYPES:
        # No key/value heads of its own: every head's come from one latent.
        del answers["n_kv_heads"]
        answers.update(_mla_answers(config))
    if model_type in _MOE_KEYS and not _all_dense(config, model_type):
        answers.update(_moe_answers(config, model_type))
    if model_type in _HF_LAYOUTS:
        answers["hf_layout"] = _HF_LAYOUTS[model_type]  # stacked projections
    if rope["rope_type"] in (*_SCALED_ROPE_TYPES, "longrope"):
        answers["rope_scaling_factor"] = float(rope["factor"])
    if rope["rope_type"] in _ORIGINAL_CONTEXT_ROPE_TYPES:
        answers["rope_original_max_seq_len"] = int(
            rope["original_max_position_embeddings"]
        )
    if rope.get("scaled_layers") == "global":
        answers["rope_scaling_layers"] = "global"
    if rope.get("local_theta"):
        answers["rope_local_theta"] = float(rope["local_theta"])
    if rope["rope_type"] == "llama3":
        answers["rope_low_freq_factor"] = float(rope.get("low_freq_factor", 1.0))
        answers["rope_high_freq_factor"] = float(rope.get("high_freq_factor", 4.0))
    if rope["rope_type"] == "longrope":
        answers["rope_short_factor"] = rope.get("short_factor")
        answers["rope_long_factor"] = rope.get("long_factor")
    if rope["rope_type"] == "yarn":
        answers["rope_yarn_beta_fast"] = float(rope.get("beta_fast") or 32.0)
        answers["rope_yarn_beta_slow"] = float(rope.get("beta_slow") or 1.0)
        if rope.get("truncate") is False:
            answers["rope_yarn_truncate"] = False
    if rope["rope_type"] == "yarn" and rope.get("mscale_all_dim"):
        answers["rope_yarn_mscale_all_dim"] = rope["mscale_all_dim"]
        answers["rope_yarn_mscale"] = rope["mscale"]
    if model_type == "ministral3":
        answers["attn_temperature_beta"] = float(rope["llama_4_scaling_beta"])
    answers["flavor_name"] = _flavor_name(_nparams(answers))
    return answers
