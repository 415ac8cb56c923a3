"""The bad-input catalogue: every case exits non-zero with one line on stderr that
names the problem and the fix, prints no traceback, and changes no file."""

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from mytitan_scaffold.cli import run

from .test_cli import tree_hash

CASES = {
    # ------------------------------------------------------------ names
    "keyword": (["new", "class"], "is a Python keyword"),
    "keyword_import": (["new", "import"], "is a Python keyword"),
    "shadows_stdlib": (["new", "os"], "shadows a Python"),
    "shadows_typing": (["new", "typing"], "shadows a Python"),
    "shadows_torch": (["new", "torch"], "shadows a Python, torch"),
    "shadows_torchtitan_module": (["new", "attention"], "shadows"),
    "torchtitan_builtin_model": (["new", "llama3"], "one of torchtitan's own models"),
    "starts_with_digit": (["new", "1model"], "must start with a letter"),
    "starts_with_underscore": (["new", "_model"], "must start with a letter"),
    "dash": (["new", "my-model"], "e.g. my_model"),
    "dot": (["new", "my.model"], "lower_snake_case"),
    "slash": (["new", "a/b"], "lower_snake_case"),
    "dotdot": (["new", ".."], "lower_snake_case"),
    "parent_path": (["new", "../escape"], "lower_snake_case"),
    "absolute_path": (["new", "/tmp/escape"], "lower_snake_case"),
    "space": (["new", "my model"], "e.g. my_model"),
    "uppercase": (["new", "MyModel"], "e.g. mymodel"),
    "empty": (["new", ""], "model_name is empty"),
    "too_long": (["new", "m" * 41], "longer than 40 characters"),
    "existing_model": (["new", "demo"], "already exists"),
    "existing_folder": (["new", "scratch"], "already exists"),
    "bad_class_name": (["new", "x", "--model-class", "lower"], "not a PascalCase"),
    "bad_models_package": (["new", "x", "--models-package", "a..b-c"], "dotted Python"),
    # ------------------------------------------------------------ sizes
    "dim_zero": (["new", "x", "--dim", "0"], "dim must be positive"),
    "dim_negative": (["new", "x", "--dim", "-8"], "dim must be positive"),
    "layers_zero": (["new", "x", "--n-layers", "0"], "n_layers must be positive"),
    "heads_zero": (["new", "x", "--n-heads", "0"], "n_heads must be positive"),
    "kv_heads_zero": (["new", "x", "--n-kv-heads", "0"], "n_kv_heads must be positive"),
    "vocab_zero": (["new", "x", "--vocab-size", "0"], "vocab_size must be positive"),
    "head_dim_negative": (["new", "x", "--head-dim", "-2"], "head_dim must be 0"),
    "ffn_negative": (["new", "x", "--ffn-hidden-dim", "-1"], "ffn_hidden_dim must be"),
    "multiple_of_zero": (["new", "x", "--multiple-of", "0"], "multiple_of must be"),
    "multiplier_zero": (
        ["new", "x", "--ffn-dim-multiplier", "0"],
        "ffn_dim_multiplier",
    ),
    "norm_eps_zero": (["new", "x", "--norm-eps", "0"], "norm_eps must be positive"),
    "max_seq_len_zero": (["new", "x", "--max-seq-len", "0"], "max_seq_len must be"),
    "rope_theta_one": (["new", "x", "--rope-theta", "1"], "rope_theta must be greater"),
    "rope_factor_below_one": (["new", "x", "--rope-scaling-factor", "0.5"], ">= 1"),
    # ------------------------------------------------------------ divisibility
    "heads_not_divisible_by_kv": (
        ["new", "x", "--n-kv-heads", "5"],
        "not divisible by n_kv_heads 5",
    ),
    "dim_not_divisible_by_heads": (
        ["new", "x", "--dim", "1000", "--n-heads", "24", "--n-kv-heads", "8"],
        "not divisible by n_heads 24",
    ),
    "odd_head_dim_with_rope": (
        ["new", "x", "--dim", "96", "--n-heads", "32", "--n-kv-heads", "8"],
        "odd but RoPE",
    ),
    "odd_explicit_head_dim": (["new", "x", "--head-dim", "33"], "odd but RoPE"),
    "rope_fraction_zero": (
        ["new", "x", "--rope-fraction", "0"],
        "rope_fraction must be above 0 and at most 1, got 0.0",
    ),
    "rope_fraction_odd_count": (
        ["new", "x", "--rope-fraction", "0.3"],
        "rope_fraction 0.3 rotates 19 of the 64 head dimensions, but RoPE rotates pairs",
    ),
    "rope_fraction_odd_in_debugmodel": (
        ["new", "x", "--rope-fraction", "0.1875"],
        "rotates 3 of the debugmodel flavor's 16 head dimensions",
    ),
    "rope_fraction_odd_in_extra_flavor": (
        [
            "new",
            "x",
            "--rope-fraction",
            "0.25",
            "-d",
            "extra_flavors={big: {dim: 2176}}",
        ],
        "extra_flavors 'big': rope_fraction 0.25 rotates an odd number",
    ),
    "rope_scaled_in_global_layers_without_any": (
        ["new", "x", "--rope-scaling-layers", "global", "--sliding-window", "1024"],
        "rope_scaling_layers=global scales only the global layers' RoPE, so it needs",
    ),
    "local_rope_base_without_global_layers": (
        ["new", "x", "--rope-local-theta", "10000", "--sliding-window", "1024"],
        "rope_local_theta=10000.0 gives the local layers their own RoPE base, so it",
    ),
    "local_rope_base_below_one": (
        [
            "new",
            "x",
            "--rope-local-theta",
            "0.5",
            "--sliding-window",
            "1024",
            "--global-every",
            "2",
        ],
        "rope_local_theta must be 0 (rope_theta in every layer) or greater than 1",
    ),
    "temperature_negative": (
        ["new", "x", "--positional", "rope_yarn", "--attn-temperature-beta", "-1"],
        "attn_temperature_beta must be 0 (off) or positive, got -1.0",
    ),
    "temperature_without_an_original_context": (
        ["new", "x", "--positional", "rope", "--attn-temperature-beta", "0.1"],
        "attn_temperature_beta=0.1 counts positions in units of the original context",
    ),
    "temperature_with_latent_attention": (
        ["new", "x", "--attention", "mla", "--attn-temperature-beta", "0.1"],
        "attn_temperature_beta does not apply to attention=mla yet",
    ),
    "temperature_with_two_kinds_of_rope": (
        [
            "new",
            "x",
            "--attn-temperature-beta",
            "0.1",
            "--sliding-window",
            "1024",
            "--global-every",
            "2",
            "--rope-local-theta",
            "10000",
        ],
        "attn_temperature_beta does not combine with two kinds of RoPE",
    ),
    "attention_scale_negative": (
        ["new", "x", "--attn-scale-dim", "-1"],
        "attn_scale_dim must be 0 (head_dim) or positive, got -1",
    ),
    "attention_cap_negative": (
        ["new", "x", "--attn-softcap", "-50"],
        "attn_softcap must be 0 (off) or positive, got -50.0",
    ),
    "logit_cap_negative": (
        ["new", "x", "--logit-softcap", "-30"],
        "logit_softcap must be 0 (off) or positive, got -30.0",
    ),
    "embedding_multiplier_zero": (
        ["new", "x", "--embedding-multiplier", "0"],
        "embedding_multiplier must be positive, got 0.0",
    ),
    "embeddings_scaled_twice": (
        ["new", "x", "--embedding-multiplier", "12", "--embedding-scale"],
        "embedding_multiplier=12.0 and embedding_scale both scale the embeddings",
    ),
    "residual_multiplier_negative": (
        ["new", "x", "--residual-multiplier", "-0.22"],
        "residual_multiplier must be positive, got -0.22",
    ),
    "logit_multiplier_negative": (
        ["new", "x", "--logit-multiplier", "-16"],
        "logit_multiplier must be positive, got -16.0",
    ),
    # An answer whose question copier skips (its `when` is false) would be dropped.
    "answer_for_a_question_not_asked": (
        ["new", "x", "--moe-experts", "16"],
        "--moe-experts is not used: copier.yml asks moe_experts only when moe",
    ),
    "data_answer_for_a_question_not_asked": (
        ["new", "x", "-d", "global_every=2"],
        (
            "--data global_every is not used: copier.yml asks global_every only "
            "when sliding_window > 0"
        ),
    ),
    # rotary is computed from positional: the message names the answer to change.
    "rope_answer_without_rope": (
        ["new", "x", "--positional", "learned", "--rope-fraction", "0.5"],
        (
            "--rope-fraction is not used: copier.yml asks rope_fraction only when "
            "(positional not in ['none', 'learned']) and attention != 'mla'"
        ),
    ),
    "rope_base_without_rope": (
        ["new", "x", "--positional", "none", "--rope-theta", "10000"],
        (
            "--rope-theta is not used: copier.yml asks rope_theta only when "
            "positional not in ['none', 'learned'], which"
        ),
    ),
    "fused_projections_with_moe": (
        ["new", "x", "--moe", "--moe-experts", "4", "--hf-layout", "phi3"],
        "hf_layout phi3 is for dense models; MoE checkpoints use Llama's or Cohere's layout",
    ),
    # Latent attention has no key/value heads, qk-norm or window of its own, and
    # rotates pairs of its own share of each head.
    "kv_heads_with_latent_attention": (
        ["new", "x", "--attention", "mla", "--n-kv-heads", "8"],
        "--n-kv-heads is not used: copier.yml asks n_kv_heads only when attention != 'mla'",
    ),
    "qk_norm_with_latent_attention": (
        ["new", "x", "--attention", "mla", "--qk-norm"],
        "qk_norm does not apply to attention=mla, which normalizes its latents instead",
    ),
    "window_with_latent_attention": (
        ["new", "x", "--attention", "mla", "--sliding-window", "4096"],
        "sliding_window does not apply to attention=mla yet: set sliding_window=0",
    ),
    "longrope_with_latent_attention": (
        ["new", "x", "--attention", "mla", "--positional", "rope_longrope"],
        "positional=rope_longrope does not apply to attention=mla yet",
    ),
    "zero_deepseek_mscale": (
        ["new", "x", "--attention", "mla", "--positional", "rope_yarn"]
        + ["--rope-yarn-mscale-all-dim", "1", "--rope-yarn-mscale", "0"],
        "rope_yarn_mscale must be positive, got 0.0",
    ),
    "yarn_mscale_without_yarn": (
        ["new", "x", "--positional", "rope_llama3", "--rope-yarn-mscale-all-dim", "1"],
        "asks rope_yarn_mscale_all_dim only when positional == 'rope_yarn', which",
    ),
    "latent_norm_eps_zero": (
        ["new", "x", "--attention", "mla", "--mla-norm-eps", "0"],
        "mla_norm_eps must be positive, got 0.0",
    ),
    "odd_latent_rope_dims": (
        ["new", "x", "--attention", "mla", "--mla-rope-head-dim", "7"],
        "mla_rope_head_dim must be even and at least 2 (RoPE rotates pairs), got 7",
    ),
    "nope_in_every_layer": (
        ["new", "x", "--nope-every", "1"],
        "nope_every must be 0 (RoPE in every layer) or at least 2, got 1",
    ),
    "nope_layers_without_rope": (
        ["new", "x", "--positional", "none", "--nope-every", "4"],
        "but positional=none has no RoPE in any layer",
    ),
    "nope_layers_with_learned_positions": (
        ["new", "x", "--positional", "learned", "--nope-every", "4"],
        "but positional=learned has no RoPE in any layer",
    ),
    "learned_positions_with_latent_attention": (
        ["new", "x", "--attention", "mla", "--positional", "learned"],
        "positional=learned does not apply to attention=mla yet",
    ),
    "qk_norm_after_learned_positions": (
        ["new", "x", "--positional", "learned", "--qk-norm", "--qk-norm-after-rope"],
        "qk_norm_after_rope needs RoPE, but positional is learned",
    ),
    "llama3_freq_factors": (
        ["new", "x", "--rope-high-freq-factor", "0.5"],
        "must be greater than rope_low_freq_factor",
    ),
    "yarn_betas": (
        ["new", "x", "--positional", "rope_yarn", "--rope-yarn-beta-slow", "64"],
        "must be below rope_yarn_beta_fast",
    ),
    "longrope_factor_count": (
        [
            "new",
            "x",
            "--positional",
            "rope_longrope",
            "-d",
            "rope_short_factor=[1.0, 1.5]",
        ],
        "rope_short_factor has 2 numbers, but the main flavor's head rotates 32 pairs",
    ),
    "longrope_factor_sign": (
        [
            "new",
            "x",
            "--positional",
            "rope_longrope",
            "--rope-fraction",
            "0.25",
            "-d",
            "rope_long_factor=[1.0, 0.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]",
        ],
        "rope_long_factor must hold positive numbers (each divides a frequency), got 0.0",
    ),
    "longrope_factor_list": (
        ["new", "x", "--positional", "rope_longrope", "-d", "rope_short_factor=2.0"],
        "rope_short_factor must be a list of 32 numbers",
    ),
    "extra_flavor_divisibility": (
        ["new", "x", "-d", "extra_flavors={big: {n_heads: 30}}"],
        "not divisible by n_kv_heads",
    ),
    "extra_flavor_unknown_key": (
        ["new", "x", "-d", "extra_flavors={big: {width: 3}}"],
        "unknown keys width",
    ),
    "extra_flavor_name_clash": (
        ["new", "x", "-d", "extra_flavors={debugmodel: {dim: 512}}"],
        "already used",
    ),
    "extra_flavors_not_mapping": (
        ["new", "x", "-d", "extra_flavors=[1, 2]"],
        "must be a mapping",
    ),
    "extra_flavor_mixes_ffn_rules": (
        ["new", "x", "-d", "extra_flavors={big: {ffn_hidden_dim: 512}}"],
        "for every flavor or for none",
    ),
    # ------------------------------------------------------------ mixture of experts
    "moe_without_swiglu": (
        ["new", "x", "--ffn", "gelu", "--moe"],
        "moe needs ffn=swiglu",
    ),
    "moe_with_linear_bias": (
        ["new", "x", "--linear-bias", "--moe"],
        "moe takes linear_bias only with ffn=clamped_swiglu",
    ),
    # gpt-oss's experts: MoE only, with a bias on every projection, all routed.
    "clamped_swiglu_without_moe": (
        ["new", "x", "--ffn", "clamped_swiglu"],
        "ffn=clamped_swiglu is gpt-oss's experts' activation, for MoE models only",
    ),
    "clamped_swiglu_without_biases": (
        ["new", "x", "--ffn", "clamped_swiglu", "--moe"],
        "ffn=clamped_swiglu's experts (torchtitan's gpt-oss ones) have biases",
    ),
    "clamped_swiglu_with_shared_experts": (
        [
            "new",
            "x",
            *("--ffn", "clamped_swiglu", "--moe", "--linear-bias"),
            *("--moe-shared-experts", "1"),
        ],
        "moe_shared_experts does not apply to ffn=clamped_swiglu",
    ),
    "clamped_swiglu_limit_not_positive": (
        ["new", "x", "--ffn", "clamped_swiglu", "--swiglu-limit", "0"],
        "swiglu_limit must be positive, got 0.0",
    ),
    "sinks_with_softcap": (
        ["new", "x", "--attn-sinks", "--attn-softcap", "50"],
        "attn_sinks does not combine with attn_softcap",
    ),
    # linear_bias puts a bias on q, k and v itself.
    "qkv_bias_beside_linear_bias": (
        ["new", "x", "--linear-bias", "--no-qkv-bias"],
        "--qkv-bias is not used: copier.yml asks qkv_bias only when not linear_bias",
    ),
    "moe_one_expert": (
        ["new", "x", "--moe", "--moe-experts", "1"],
        "moe_experts must be at least 2",
    ),
    "moe_top_k_above_experts": (
        ["new", "x", "--moe", "--moe-experts", "4", "--moe-top-k", "8"],
        "must be between 1 and moe_experts 4",
    ),
    "moe_top_k_zero": (
        ["new", "x", "--moe", "--moe-top-k", "0"],
        "lower moe_top_k or add experts",
    ),
    "moe_negative_hidden": (
        ["new", "x", "--moe", "--moe-hidden-dim", "-1"],
        "moe_hidden_dim must be 0",
    ),
    "moe_negative_shared": (
        ["new", "x", "--moe", "--moe-shared-experts", "-1"],
        "moe_shared_experts must be 0 or positive",
    ),
    "moe_route_scale_zero": (
        ["new", "x", "--moe", "--moe-route-scale", "0"],
        "moe_route_scale must be positive",
    ),
    "moe_aux_loss_coeff_zero": (
        ["new", "x", "--moe", "--moe-aux-loss-coeff", "0"],
        "or moe_load_balancing=none",
    ),
    "moe_bias_rate_zero": (
        [
            "new",
            "x",
            "--moe",
            "--moe-load-balancing",
            "expert_bias",
            "--moe-bias-update-rate",
            "0",
        ],
        "moe_bias_update_rate must be positive",
    ),
    "moe_every_layer_dense": (
        ["new", "x", "--moe", "--moe-dense-layers", "16"],
        "moe_dense_layers must be between 0 and n_layers - 1 (15)",
    ),
    "moe_ep_not_dividing_experts": (
        ["new", "x", "--moe", "--moe-experts", "12", "--expert-parallel-degree", "8"],
        "must divide moe_experts 12: pick a divisor such as 4",
    ),
    "moe_no_expert_groups": (
        ["new", "x", "--moe", "--moe-expert-groups", "0"],
        "moe_expert_groups must be at least 1, got 0: 1 routes over all experts",
    ),
    "moe_expert_groups_not_dividing_experts": (
        ["new", "x", "--moe", "--moe-expert-groups", "3"],
        "moe_expert_groups 3 must divide moe_experts 8: pick a divisor",
    ),
    "moe_one_expert_per_group": (
        ["new", "x", "--moe", "--moe-expert-groups", "8"],
        "leaves one expert per group, and groups need two or more: use at most 4 groups, or 1 for none",
    ),
    "moe_every_group_kept": (
        ["new", "x", "--moe", "--moe-expert-groups", "4", "--moe-limited-groups", "4"],
        "moe_limited_groups must be between 1 and moe_expert_groups - 1 (3), got 4",
    ),
    "moe_top_k_beyond_kept_groups": (
        [
            "new",
            "x",
            "--moe",
            "--moe-top-k",
            "4",
            "--moe-expert-groups",
            "4",
            "--moe-limited-groups",
            "1",
        ],
        "moe_top_k 4 exceeds the 2 experts of moe_limited_groups 1",
    ),
    "moe_unknown_score_func": (
        ["new", "x", "--moe", "--moe-score-func", "relu"],
        "Invalid choice for 'moe_score_func'",
    ),
    "moe_extra_flavor_mixes_expert_sizes": (
        ["new", "x", "--moe", "-d", "extra_flavors={big: {moe_hidden_dim: 256}}"],
        "moe_hidden_dim must be given for every flavor or for none",
    ),
    "moe_extra_flavor_too_shallow": (
        [
            "new",
            "x",
            "--moe",
            "--moe-dense-layers",
            "3",
            "-d",
            "extra_flavors={s: {n_layers: 2}}",
        ],
        "n_layers must exceed moe_dense_layers 3",
    ),
    "expert_size_without_moe": (
        ["new", "x", "-d", "extra_flavors={big: {moe_hidden_dim: 256}}"],
        "unknown keys moe_hidden_dim",
    ),
    # ------------------------------------------------------------ choices and values
    "unknown_positional": (
        ["new", "x", "--positional", "alibi"],
        "Invalid choice for 'positional'",
    ),
    "unknown_norm": (["new", "x", "--norm", "batchnorm"], "Invalid choice for 'norm'"),
    "unknown_ffn": (["new", "x", "--ffn", "relu"], "Invalid choice for 'ffn'"),
    "flag_not_an_int": (["new", "x", "--dim", "abc"], "Invalid value for '--dim'"),
    "unknown_flag": (["new", "x", "--width", "3"], "No such option: --width"),
    # ------------------------------------------------------------ --data and --data-file
    "data_unknown_key": (["new", "x", "-d", "dimm=3"], "did you mean dim?"),
    "data_without_equals": (["new", "x", "-d", "dim"], "is not KEY=VALUE"),
    "data_bad_int": (["new", "x", "-d", "n_layers=many"], "n_layers takes an integer"),
    "data_bad_bool": (
        ["new", "x", "-d", "qk_norm=maybe"],
        "qk_norm takes true or false",
    ),
    "data_bad_yaml": (["new", "x", "-d", "extra_flavors={a: [}"], "takes a YAML value"),
    "data_file_missing": (["new", "x", "--data-file", "nope.yml"], "cannot read it"),
    "data_file_malformed": (
        ["new", "x", "--data-file", "broken.yml"],
        "is not valid YAML at line",
    ),
    "data_file_not_mapping": (
        ["new", "x", "--data-file", "list.yml"],
        "must be a KEY: VALUE mapping",
    ),
    "data_file_unknown_key": (
        ["new", "x", "--data-file", "unknown.yml"],
        "unknown answer 'widht'",
    ),
    "data_file_python_tag": (
        ["new", "x", "--data-file", "evil.yml"],
        "is not valid YAML",
    ),
    # ------------------------------------------------------------ places
    "models_dir_is_a_file": (
        ["new", "x", "--models-dir", "notes/readme.txt"],
        "is a file",
    ),
    "models_dir_not_writable": (
        ["new", "x", "--models-dir", "LOCKED"],
        "is not writable",
    ),
    "registry_syntax_error": (
        ["new", "x", "--models-dir", "broken_models"],
        "syntax error",
    ),
    "registry_unknown_shape": (
        ["new", "x", "--models-dir", "odd_models"],
        "is not frozenset",
    ),
    "not_a_torchtitan_checkout": (
        ["new", "x", "--torchtitan-root", "notes"],
        "is not a torchtitan checkout",
    ),
    "both_targets": (
        ["new", "x", "--models-dir", "m", "--torchtitan-root", "notes"],
        "exclude each other",
    ),
    "from_hf_missing": (["new", "x", "--from-hf", "nope.json"], "cannot read it"),
    "from_hf_not_json": (["new", "x", "--from-hf", "broken.yml"], "is not valid JSON"),
    "from_hf_folder_without_config": (
        ["new", "x", "--from-hf", "notes"],
        "the folder has no config.json",
    ),
    "from_hf_hub_model_not_cached": (
        ["new", "x", "--from-hf", "mytitan-tests/no-such-model"],
        "in the local Hugging Face cache: run `hf download",
    ),
    "from_hf_unsupported": (
        ["new", "x", "--from-hf", "sliding.json"],
        "layer_types=['full_attention', 'sliding_attention']",
    ),
    # ------------------------------------------------------------ other commands
    "rehearse_not_a_model": (["rehearse", "notes"], "has no .copier-answers.yml"),
    "rehearse_missing_config": (
        ["rehearse", "models/demo", "--config", "nope.toml"],
        "does not exist",
    ),
    "rehearse_bad_layout": (
        ["rehearse", "models/demo", "--nproc", "2", "--tp", "3"],
        "must equal nproc",
    ),
    "rehearse_pp_without_processes": (
        ["rehearse", "models/demo", "--pp", "2"],
        "replicate * fsdp * tp * cp * pp must equal nproc",
    ),
    "rehearse_ddp_with_tp": (
        ["rehearse", "models/demo", "--nproc", "4", "--replicate", "2", "--tp", "2"],
        "DDP combines with no TP or PP; use HSDP",
    ),
    "rehearse_bad_steps": (
        ["rehearse", "models/demo", "--steps", "0"],
        "--steps must be at least 1",
    ),
    "hf_config_unknown_flavor": (
        ["hf-config", "models/demo", "--output", "out", "--flavor", "3B"],
        "is not a flavor",
    ),
}


@pytest.fixture(scope="module")
def base_project(tmp_path_factory) -> Path:
    """A project with one model, notes, answer files and odd registries."""
    root = tmp_path_factory.mktemp("base")
    old = os.getcwd()
    os.chdir(root)
    try:
        with pytest.raises(SystemExit) as done:
            sys.argv = ["mytitan", "new", "demo", "--defaults"]
            run()
        assert done.value.code == 0
    finally:
        os.chdir(old)
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("notes\n")
    (root / "models" / "scratch").mkdir()
    (root / "models" / "scratch" / "idea.txt").write_text("not a model\n")
    (root / "broken.yml").write_text("dim: [1, 2\n")
    (root / "list.yml").write_text("- dim\n- 3\n")
    (root / "unknown.yml").write_text("widht: 3\n")
    (root / "evil.yml").write_text(
        "dim: !!python/object/apply:os.system ['touch pwned']\n"
    )
    (root / "broken_models").mkdir()
    (root / "broken_models" / "__init__.py").write_text(
        "_supported_models = frozenset([\n"
    )
    (root / "odd_models").mkdir()
    (root / "odd_models" / "__init__.py").write_text("_supported_models = set(NAMES)\n")
    sliding = {
        "model_type": "qwen2",
        "vocab_size": 32000,
        "hidden_size": 256,
        "intermediate_size": 512,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "use_sliding_window": True,
        "sliding_window": 4096,
        # Qwen's layers slide from max_window_layers on: a global, then a local one.
        "max_window_layers": 1,
    }
    (root / "sliding.json").write_text(json.dumps(sliding))
    return root


def _locked_dir(root: Path) -> str:
    """A folder this process cannot create files in (root ignores permission bits)."""
    if os.geteuid() == 0:
        return "/proc/mytitan/models"
    locked = root / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return str(locked / "models")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(base_project, tmp_path, monkeypatch, capsys, case):
    args, expected = CASES[case]
    project = tmp_path / "project"
    shutil.copytree(base_project, project)
    args = [_locked_dir(project) if a == "LOCKED" else a for a in args]
    if args[0] == "new":
        args.append("--defaults")
    before = tree_hash(project)
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["mytitan", *args])
    with pytest.raises(SystemExit) as exit_info:
        run()
    out, err = capsys.readouterr()
    assert exit_info.value.code not in (0, None), out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mytitan: error: ")
    assert expected in lines[0], lines[0]
    # The message names the problem, then the fix after a colon.
    assert ": " in lines[0].removeprefix("mytitan: error: ")
    assert "Traceback" not in out + err
    assert tree_hash(project) == before
    assert not (project / "pwned").exists()
