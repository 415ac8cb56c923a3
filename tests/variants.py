"""Answer sets that together exercise every option the template renders.

Each option value appears in at least one set; names are chosen to also cover
the shortest and the longest model names (line lengths change with them). The
key is the model name unless the set names one. The sets with a transformers
counterpart: default and llama_tied (Llama with Llama 3 RoPE), qwen2_like and
short_yarn_bias (Qwen2: qkv bias), qwen3_like and short_llama3_tied (Qwen3:
qk-norm, explicit head_dim, tying), olmo2_like (OLMo 2: post-norm, qk-norm across
heads), olmo3_like (OLMo 3: the same with a window, every fourth layer global, and
YaRN in the global layers only), mistral_like (Mistral: sliding window in every
layer), qwen3_alternating_window and qwen2_local_window (Qwen's layer_types),
mixtral_like (Mixtral: MoE with a sliding window), qwen3_moe_like (Qwen3-MoE: a
dense first block, unnormalized top-k), dots1_like (Dots1: sigmoid routing within
the best expert groups, shared experts, routing biases), glm4_moe_like (GLM-4.5:
Dots1's routing over all experts, with qkv bias, qk-norm per head, RoPE on half of
each head and heads wider than dim // n_heads), olmoe_like (OLMoE: qk-norm across
heads in pre-norm blocks, every block MoE, unnormalized top-k), flex_olmo_like
(FlexOlmo: the same experts in OLMo 2's post-norm blocks, renormalized top-k, GQA,
tied), qwen2_moe_like (Qwen1.5-MoE: qkv bias, a shared expert four experts wide
behind a sigmoid gate, unnormalized top-k), stablelm_like (StableLM: LayerNorm,
RoPE on a quarter of each head, qkv bias), gemma_like (Gemma 3: sandwich norms,
GeGLU, scaled embeddings, every sixth layer global, the local layers with a
RoPE base of their own), gemma2_like (Gemma 2 27B: local and global layers
alternating, scores scaled by dim // n_heads and soft-capped, logits soft-capped),
phi3_like (Phi-4-mini's shape: LongRoPE on three quarters of each head, with
Phi-3.5 mini's factors, tied embeddings, a window, HF weights with q/k/v and gate/up
stacked), glm4_like (GLM-4:
sandwich norms under GLM's names, qkv bias, RoPE on half of each head in pairs,
gate/up stacked), granite_like (Granite 3.3 8B: embeddings, residual branches and
logits multiplied by constants, scores scaled by 1 / head_dim, tied embeddings),
cohere_like (Aya Expanse 8B: attention and feed-forward side by side from one
bias-free LayerNorm, logits multiplied by 0.125, tied embeddings, RoPE rows in
pairs in the checkpoints), cohere2_like (Command R7B: the same with a window in three
layers of four, the fourth global and without RoPE), exaone4_like (EXAONE 4.0 32B:
post-norm, qk-norm per head, Llama 3 RoPE scaling, a window in three layers of four,
the fourth global and without RoPE), arcee_like (Arcee AFM: Llama's blocks with a
ReLU² MLP, not gated, GQA, YaRN), hunyuan_like (HunYuan dense: Llama's blocks
with qk-norm per head after RoPE, GQA, tied), ernie_like (ERNIE 4.5 0.3B: Llama's
blocks with RoPE rows in pairs in the checkpoints, heads wider than dim // n_heads, tied
embeddings), helium_like (Helium: the same with a qkv bias and plain RoPE),
gemma1_like (Gemma 2B: Gemma's GeGLU and scaled embeddings in pre-norm blocks, MQA,
heads of 256), vaultgemma_like (VaultGemma: the same with GQA, heads wider than
dim // n_heads and Gemma 2's soft caps, full attention in every layer),
granitemoe_like (GraniteMoe: Granite's multipliers and score scale around 40
softmax-routed experts, 8 per token, renormalized; tied embeddings; experts stacked
in the checkpoints, gate and up in one tensor), granite4_like (Granite 4.0's
attention-only models: Granite's blocks with gate and up stacked in the checkpoints,
GQA, tied), granite4_nope (the same without RoPE, scores scaled by head_dim) and
nemotron_like (Minitron 8B's kind: Llama's blocks around LayerNorms that scale by
1 + weight in the checkpoints, a ReLU² MLP, half of each head rotated, 48 heads
wider than dim // n_heads, GQA), llama_biased (Llama with attention_bias and
mlp_bias: a bias on every projection), starcoder2_like (StarCoder2: pre-norm
LayerNorms, a tanh-GELU MLP named c_fc/c_proj in the checkpoints, a bias on every
projection, a window in every layer, tied), hyperclovax_like (HyperCLOVAX:
Granite's multipliers and score scale between sandwich norms, logits multiplied,
GQA, heads wider than dim // n_heads, a bias on every projection), falcon_like
(Falcon: parallel blocks behind one LayerNorm, an exact-GELU MLP, GQA with q, k
and v grouped by key/value head in the checkpoints, a bias on every projection),
neox_like (GPT-NeoX, Pythia: parallel blocks behind a LayerNorm each, an exact-GELU
MLP, multi-head attention with q, k and v grouped by head in the checkpoints, a bias
on every projection, a quarter of each head rotated), phi_like (Phi: parallel blocks
behind one LayerNorm, a tanh-GELU MLP, GQA, a bias on every projection and on the
output one, qk-norm per head with LayerNorm's bias, half of each head rotated),
olmo1_like (OLMo 1B: Llama's blocks around LayerNorms without weight or bias, tied),
persimmon_like (Persimmon, Adept's 8B: pre-norm LayerNorms, multi-head attention
with q, k and v grouped by head in the checkpoints and a LayerNorm per head on queries
and keys, a ReLU² MLP, a bias on every projection, half of each head rotated) and
nanochat_like (nanochat: pre-norm RMSNorms without weight, one more on the
embeddings, GQA with a norm per head on queries and keys after RoPE, a ReLU² MLP,
logits soft-capped), deepseek_v3_like (DeepSeek-V3: multi-head latent attention
with a query bottleneck and DeepSeek's YaRN from 4K to 160K, heads of 128 without RoPE
and 64 with;
sigmoid routing within the best expert groups, a shared expert, routing biases, a
dense first block) and mla_dense_layernorm (latent attention in a dense model of
LayerNorms, no class: DeepSeek's names, tied, linear RoPE), and gpt2_like (GPT-2:
pre-norm LayerNorms, multi-head attention with q, k and v stacked into c_attn and
Conv1D weights in the checkpoints, a tanh-GELU MLP, a bias on every projection,
learned positions, tied), and starcoder_like (GPTBigCode, StarCoder 1's: GPT-2's
blocks with multi-query attention, Linear projections, q, k and v grouped by
key/value head in the checkpoints). learned_swiglu has learned positions and no class.
deepseek_like_moe takes the other MoE branches, and partial RoPE with YaRN.
"""

import json
from pathlib import Path

# Phi-3.5 mini's LongRoPE factors (48 pairs, as Phi-4-mini's heads rotate).
PHI35_ROPE = json.loads(
    (Path(__file__).parent / "data/hf_configs/phi-3.5-mini-instruct.json").read_text()
)["rope_scaling"]

# DeepSeek-V3's routing at toy scale: sigmoid scores within the best 2 of 4 expert
# groups, scaled by 2.5, a shared expert, routing biases, a dense first block.
DEEPSEEK_ROUTING = {
    "moe": True,
    "moe_experts": 8,
    "moe_top_k": 2,
    "moe_expert_groups": 4,
    "moe_limited_groups": 2,
    "moe_shared_experts": 1,
    "moe_score_func": "sigmoid",
    "moe_route_scale": 2.5,
    "moe_load_balancing": "expert_bias",
    "moe_dense_layers": 1,
    "moe_hidden_dim": 512,
}

VARIANTS = {
    "default": {},
    "mha_nope_layernorm_gelu": {
        "n_kv_heads": 32,
        "positional": "none",
        "norm": "layernorm",
        "ffn": "gelu",
    },
    "mqa_qknorm_bias_tied": {
        "n_kv_heads": 1,
        "qk_norm": True,
        "qkv_bias": True,
        "weight_tying": True,
        "positional": "rope",
    },
    "qwen3_like": {
        "model_name": "a_forty_character_model_name_for_testing",
        "head_dim": 128,
        "qk_norm": True,
        "ffn_hidden_dim": 6144,
        "extra_flavors": {},
        "weight_tying": True,
        "positional": "rope",
        "rope_theta": 1000000.0,
        "norm_eps": 1e-6,
    },
    "llama_tied": {"weight_tying": True, "n_kv_heads": 4},
    "qwen2_like": {
        "qkv_bias": True,
        "positional": "rope",
        "rope_theta": 1000000.0,
        "n_kv_heads": 2,
        "weight_tying": True,
    },
    "olmo2_like": {
        "norm_placement": "post",
        "qk_norm": True,
        "qk_norm_scope": "full",
        "positional": "rope",
        "n_kv_heads": 32,
    },
    "olmo3_like": {
        "norm_placement": "post",
        "qk_norm": True,
        "qk_norm_scope": "full",
        "sliding_window": 4096,
        "global_every": 4,
        "positional": "rope_yarn",
        "rope_scaling_layers": "global",
        "n_kv_heads": 8,
        "extra_flavors": {},
    },
    "sandwich_layernorm_fullqk": {
        "norm_placement": "sandwich",
        "qk_norm": True,
        "qk_norm_scope": "full",
        "norm": "layernorm",
        "weight_tying": True,
    },
    "post_nope_gelu": {"norm_placement": "post", "positional": "none", "ffn": "gelu"},
    # GPT-2's recipe: learned positions, LayerNorms, a tanh-GELU MLP, a bias on
    # every projection, MHA, tied embeddings, a table of 1024 positions.
    "gpt2_like": {
        "positional": "learned",
        "norm": "layernorm",
        "ffn": "gelu_tanh",
        "linear_bias": True,
        "n_kv_heads": 32,
        "weight_tying": True,
        "max_seq_len": 1024,
    },
    # StarCoder's recipe: GPT-2's with one key/value head for all query heads
    # and a table of 8192 positions.
    "starcoder_like": {
        "positional": "learned",
        "norm": "layernorm",
        "ffn": "gelu_tanh",
        "linear_bias": True,
        "n_kv_heads": 1,
        "weight_tying": True,
        "max_seq_len": 8192,
    },
    # Learned positions in Llama's blocks, tied: no transformers class has them.
    "learned_swiglu": {"positional": "learned", "weight_tying": True},
    "mistral_like": {"sliding_window": 4096, "positional": "rope", "rope_theta": 1e6},
    "gemma_like": {
        "sliding_window": 512,
        "global_every": 6,
        "norm_placement": "sandwich",
        "ffn": "geglu",
        "qk_norm": True,
        "embedding_scale": True,
        "weight_tying": True,
        "positional": "rope",
        "rope_theta": 1e6,
        "rope_local_theta": 1e4,
    },
    "gemma2_like": {
        "sliding_window": 4096,
        "global_every": 2,
        "norm_placement": "sandwich",
        "ffn": "geglu",
        "embedding_scale": True,
        "weight_tying": True,
        "positional": "rope",
        "rope_theta": 1e4,
        "attn_scale_dim": 144,
        "attn_softcap": 50.0,
        "logit_softcap": 30.0,
    },
    "phi3_like": {
        "n_heads": 24,
        "n_kv_heads": 8,
        "dim": 3072,
        "positional": "rope_longrope",
        "rope_theta": 10000.0,
        "rope_original_max_seq_len": 4096,
        "rope_short_factor": PHI35_ROPE["short_factor"],
        "rope_long_factor": PHI35_ROPE["long_factor"],
        "rope_fraction": 0.75,
        "weight_tying": True,
        "sliding_window": 262144,
        "max_seq_len": 131072,
        "hf_layout": "phi3",
    },
    "glm4_like": {
        "n_kv_heads": 2,
        "head_dim": 128,
        "qkv_bias": True,
        "positional": "rope",
        "rope_fraction": 0.5,
        "norm_placement": "sandwich",
        "norm_eps": 1.5625e-07,
        "hf_layout": "glm",
    },
    "granite_like": {
        "n_kv_heads": 8,
        "rope_theta": 10000000.0,
        "positional": "rope",
        "weight_tying": True,
        "attn_scale_dim": 16384,
        "embedding_multiplier": 12.0,
        "residual_multiplier": 0.22,
        "logit_multiplier": 0.0625,
    },
    "cohere_like": {
        "n_kv_heads": 8,
        "positional": "rope",
        "weight_tying": True,
        "norm": "layernorm_nobias",
        "norm_placement": "parallel",
        "logit_multiplier": 0.125,
        "hf_layout": "cohere",
    },
    "cohere2_like": {
        "n_kv_heads": 8,
        "positional": "rope",
        "rope_theta": 50000.0,
        "weight_tying": True,
        "norm": "layernorm_nobias",
        "norm_placement": "parallel",
        "sliding_window": 4096,
        "global_every": 4,
        "nope_every": 4,
        "logit_multiplier": 0.25,
        "hf_layout": "cohere",
    },
    "exaone4_like": {
        "n_kv_heads": 8,
        "positional": "rope_llama3",
        "rope_theta": 1000000.0,
        "rope_scaling_factor": 16.0,
        "rope_original_max_seq_len": 8192,
        "qk_norm": True,
        "norm_placement": "post",
        "sliding_window": 4096,
        "global_every": 4,
        "nope_every": 4,
    },
    "arcee_like": {
        "ffn": "relu2",
        "n_kv_heads": 4,
        "positional": "rope_yarn",
        "rope_scaling_factor": 16.0,
        "rope_original_max_seq_len": 4096,
        "max_seq_len": 65536,
    },
    "hunyuan_like": {
        "qk_norm": True,
        "qk_norm_after_rope": True,
        "n_kv_heads": 8,
        "positional": "rope",
        "weight_tying": True,
    },
    "ernie_like": {
        "hf_layout": "cohere",
        "n_heads": 16,
        "n_kv_heads": 2,
        "head_dim": 128,
        "weight_tying": True,
    },
    "helium_like": {"hf_layout": "cohere", "qkv_bias": True, "positional": "rope"},
    "llama_biased": {"linear_bias": True, "n_kv_heads": 4},
    "starcoder2_like": {
        "norm": "layernorm",
        "ffn": "gelu_tanh",
        "linear_bias": True,
        "sliding_window": 4096,
        "weight_tying": True,
        "positional": "rope",
        "rope_theta": 1e6,
    },
    "hyperclovax_like": {
        "norm_placement": "sandwich",
        "n_kv_heads": 8,
        "head_dim": 128,
        "positional": "rope",
        "attn_scale_dim": 16384,
        "embedding_multiplier": 12.0,
        "residual_multiplier": 0.22,
        "logit_multiplier": 0.125,
        "linear_bias": True,
    },
    "falcon_like": {
        "norm": "layernorm",
        "norm_placement": "parallel",
        "ffn": "gelu",
        "linear_bias": True,
    },
    "neox_like": {
        "norm": "layernorm",
        "norm_placement": "parallel_two_norms",
        "ffn": "gelu",
        "linear_bias": True,
        "n_kv_heads": 32,
        "rope_fraction": 0.25,
    },
    "phi_like": {
        "norm": "layernorm",
        "norm_placement": "parallel",
        "ffn": "gelu_tanh",
        "linear_bias": True,
        "output_bias": True,
        "qk_norm": True,
        "rope_fraction": 0.5,
    },
    "olmo1_like": {"norm": "layernorm_noparams", "weight_tying": True},
    "persimmon_like": {
        "norm": "layernorm",
        "ffn": "relu2",
        "linear_bias": True,
        "n_kv_heads": 32,
        "qk_norm": True,
        "rope_fraction": 0.5,
    },
    "nanochat_like": {
        "norm": "rmsnorm_noparams",
        "embedding_norm": True,
        "ffn": "relu2",
        "qk_norm": True,
        "qk_norm_after_rope": True,
        "logit_softcap": 15.0,
    },
    "deepseek_v3_like": {
        "attention": "mla",
        "mla_q_lora_rank": 1536,
        "head_dim": 128,
        "norm_eps": 0.000001,
        # Its YaRN, whose mscales (both 1) rescale the scores, not the rotations.
        "positional": "rope_yarn",
        "rope_theta": 10000.0,
        "rope_scaling_factor": 40.0,
        "rope_original_max_seq_len": 4096,
        "rope_yarn_mscale_all_dim": 1.0,
        "max_seq_len": 163840,
        **DEEPSEEK_ROUTING,
        "extra_flavors": {},
    },
    "mla_dense_layernorm": {
        "attention": "mla",
        "norm": "layernorm",
        "positional": "rope_linear",
        "weight_tying": True,
        "extra_flavors": {"8B": {"dim": 4096, "n_layers": 32, "n_heads": 32}},
    },
    "phi3_layout_biased": {"linear_bias": True, "hf_layout": "phi3"},
    "gemma1_like": {
        "ffn": "geglu",
        "embedding_scale": True,
        "weight_tying": True,
        "n_heads": 8,
        "n_kv_heads": 1,
        "positional": "rope",
        "rope_theta": 1e4,
    },
    "vaultgemma_like": {
        "ffn": "geglu",
        "embedding_scale": True,
        "weight_tying": True,
        "n_heads": 16,
        "n_kv_heads": 4,
        "head_dim": 256,
        "positional": "rope",
        "rope_theta": 1e4,
        "attn_softcap": 50.0,
        "logit_softcap": 30.0,
    },
    # Soft caps on full causal attention, in parallel blocks: no transformers class
    # has them.
    "softcapped": {
        "attn_softcap": 30.0,
        "logit_softcap": 20.0,
        "norm_placement": "parallel",
    },
    "short_llama3_tied": {"model_name": "x", "qk_norm": True, "weight_tying": True},
    "short_yarn_bias": {
        "model_name": "y",
        "positional": "rope_yarn",
        "qkv_bias": True,
        "head_dim": 64,
    },
    "yarn_geglu_layernorm_qknorm": {
        "positional": "rope_yarn",
        "ffn": "geglu",
        "norm": "layernorm",
        "qk_norm": True,
        # Fewer key/value heads than the TP degree a 70B model's TOML suggests.
        "extra_flavors": {
            "70B": {"dim": 8192, "n_layers": 80, "n_heads": 64, "n_kv_heads": 4}
        },
    },
    "qwen3_alternating_window": {
        "qk_norm": True,
        "sliding_window": 4096,
        "global_every": 2,
        "positional": "rope",
        "extra_flavors": {},
    },
    "qwen2_local_window": {
        "qkv_bias": True,
        "sliding_window": 1024,
        "positional": "rope",
        "extra_flavors": {},
    },
    "mixtral_like": {
        "moe": True,
        "positional": "rope",
        "rope_theta": 1e6,
        "sliding_window": 4096,
        "moe_aux_loss_coeff": 0.02,
        "extra_flavors": {},
    },
    "qwen3_moe_like": {
        "moe": True,
        "qk_norm": True,
        "head_dim": 128,
        "positional": "rope",
        "weight_tying": True,
        "moe_experts": 16,
        "moe_top_k": 4,
        "moe_hidden_dim": 768,
        "moe_dense_layers": 1,
        "moe_route_norm": False,
        "moe_load_balancing": "none",
        "extra_flavors": {
            "30B_A3B": {
                "n_layers": 48,
                "n_heads": 32,
                "n_kv_heads": 4,
                "moe_hidden_dim": 768,
            }
        },
    },
    "dots1_like": {
        "qk_norm": True,
        "positional": "rope",
        **DEEPSEEK_ROUTING,
        "moe_shared_experts": 2,
        "extra_flavors": {},
    },
    "olmoe_like": {
        "moe": True,
        "qk_norm": True,
        "qk_norm_scope": "full",
        "n_kv_heads": 32,
        "positional": "rope",
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_route_norm": False,
        "moe_aux_loss_coeff": 0.01,
        "extra_flavors": {},
    },
    "flex_olmo_like": {
        "moe": True,
        "norm_placement": "post",
        "qk_norm": True,
        "qk_norm_scope": "full",
        "n_kv_heads": 16,
        "positional": "rope",
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_route_norm": True,
        "moe_aux_loss_coeff": 0.01,
        "weight_tying": True,
        "extra_flavors": {},
    },
    "qwen2_moe_like": {
        "moe": True,
        "qkv_bias": True,
        "n_kv_heads": 32,
        "positional": "rope",
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_route_norm": False,
        "moe_shared_experts": 4,
        "moe_shared_expert_gate": True,
        "moe_hidden_dim": 256,
        "moe_aux_loss_coeff": 0.001,
        "extra_flavors": {},
    },
    "glm4_moe_like": {
        "moe": True,
        "qk_norm": True,
        "qkv_bias": True,
        "head_dim": 128,
        "positional": "rope",
        "rope_fraction": 0.5,
        "moe_experts": 8,
        "moe_top_k": 2,
        "moe_shared_experts": 1,
        "moe_score_func": "sigmoid",
        "moe_route_scale": 2.5,
        "moe_load_balancing": "expert_bias",
        "moe_dense_layers": 1,
        "moe_hidden_dim": 384,
        "extra_flavors": {},
    },
    "granite4_like": {
        "n_heads": 16,
        "n_kv_heads": 4,
        "positional": "rope",
        "rope_theta": 10000000.0,
        "weight_tying": True,
        "ffn_hidden_dim": 8192,
        "attn_scale_dim": 16384,
        "embedding_multiplier": 12.0,
        "residual_multiplier": 0.22,
        "logit_multiplier": 0.0625,
        "hf_layout": "granite4",
    },
    "granite4_nope": {
        "model_name": "g4",
        "positional": "none",
        "embedding_multiplier": 12.0,
        "residual_multiplier": 0.22,
        "hf_layout": "granite4",
        "extra_flavors": {},
    },
    "granitemoe_like": {
        "moe": True,
        "n_kv_heads": 8,
        "positional": "rope",
        "weight_tying": True,
        "moe_experts": 40,
        "moe_top_k": 8,
        "moe_hidden_dim": 512,
        "attn_scale_dim": 4096,
        "embedding_multiplier": 12.0,
        "residual_multiplier": 0.22,
        "logit_multiplier": 0.125,
        "extra_flavors": {},
    },
    "deepseek_like_moe": {
        "moe": True,
        "moe_experts": 12,
        "moe_top_k": 3,
        "moe_shared_experts": 2,
        "moe_score_func": "sigmoid",
        "moe_route_scale": 2.5,
        "moe_load_balancing": "expert_bias",
        "moe_dense_layers": 2,
        "moe_hidden_dim": 512,
        "norm_placement": "post",
        "positional": "rope_yarn",
        "rope_fraction": 0.5,
        "qkv_bias": True,
        "n_kv_heads": 32,
    },
    "nemotron_like": {
        "norm": "layernorm",
        "ffn": "relu2",
        "rope_fraction": 0.5,
        "rope_theta": 10000.0,
        "n_heads": 48,
        "n_kv_heads": 8,
        "head_dim": 128,
        "extra_flavors": {},
    },
    # gpt-oss's recipe: a bias on every projection, attention sinks, a window in
    # every other layer, YaRN with fractional ramp bounds, and clamped-SwiGLU
    # experts with biases (a limit that bites on the tiny model's activations),
    # softmax-routed over each token's top-k in every block.
    "gpt_oss_like": {
        "linear_bias": True,
        "attn_sinks": True,
        "sliding_window": 16,
        "global_every": 2,
        "positional": "rope_yarn",
        "rope_yarn_truncate": False,
        "head_dim": 64,
        "ffn": "clamped_swiglu",
        "swiglu_limit": 0.1,
        "moe": True,
        "moe_experts": 4,
        "extra_flavors": {},
    },
    "stablelm_like": {
        "norm": "layernorm",
        "norm_eps": 1e-5,
        "positional": "rope",
        "rope_theta": 10000.0,
        "rope_fraction": 0.25,
        "qkv_bias": True,
        "extra_flavors": {},
    },
}


def answers_of(variant: str) -> dict:
    return {"model_name": variant, **VARIANTS[variant]}
