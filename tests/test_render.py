"""Every variant renders clean code that builds, runs and counts its parameters."""

import dataclasses
import re
import subprocess
import sys
import tomllib

import pytest
import torch
import yaml

from .conftest import (
    assert_hf_class_gives_equal_logits,
    assert_parameter_counts,
    assert_ruff_clean,
    debug_model,
    import_package,
    render_answers,
)
from .variants import VARIANTS

EXPECTED_FILES = {
    "__init__.py",
    "README.md",
    ".copier-answers.yml",
    "model/__init__.py",
    "model/config.py",
    "model/model.py",
    "model/state_dict_adapter.py",
    "infra/__init__.py",
    "infra/parallelize.py",
    "infra/pipeline.py",
    "train_configs/debug_model.toml",
    "tests/__init__.py",
    "tests/test_model.py",
    "launch/torchrun.sh",
    "launch/slurm.sbatch",
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_layout_and_no_jinja_residue(rendered_variants, variant):
    model_dir = rendered_variants[variant]
    files = {
        p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()
    }
    assert EXPECTED_FILES <= files
    answers = yaml.safe_load((model_dir / ".copier-answers.yml").read_text())
    flavor_configs = {f for f in files if f.startswith("train_configs/")}
    expected = 2 + len(answers["extra_flavors"])  # debug + main + extra
    assert len(flavor_configs) == expected, flavor_configs
    for path in model_dir.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"\{\{|\{%|%\}|\}\}", text), f"Jinja residue in {path}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_ruff_clean_as_rendered(rendered_variants, variant):
    assert_ruff_clean(rendered_variants[variant])


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_backward_and_parameter_count(rendered_variants, variant):
    package = import_package(rendered_variants[variant], f"variant_{variant}")
    spec = package.get_train_spec()
    args = spec.model_args["debugmodel"]
    model = debug_model(spec)
    tokens = torch.randint(0, args.vocab_size, (2, 32))
    logits = model(tokens)
    assert logits.shape == (2, 32, args.vocab_size)
    loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten()
    )
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)

    assert_parameter_counts(spec)


@pytest.mark.parametrize("variant", VARIANTS)
def test_positions_match_default_order(rendered_variants, variant):
    """Context parallelism passes `positions`; in order they change nothing."""
    package = import_package(rendered_variants[variant], f"variant_{variant}")
    spec = package.get_train_spec()
    args = spec.model_args["debugmodel"]
    model = debug_model(spec)
    with torch.no_grad():
        tokens = torch.randint(0, args.vocab_size, (2, 16))
        positions = torch.arange(16).unsqueeze(0)
        torch.testing.assert_close(model(tokens), model(tokens, positions=positions))


@pytest.mark.parametrize("variant", VARIANTS)
def test_state_dict_adapter_round_trip(rendered_variants, variant):
    package = import_package(rendered_variants[variant], f"variant_{variant}")
    spec = package.get_train_spec()
    args = spec.model_args["debugmodel"]
    # Initialized: torch.empty experts may hold NaN, which never equals itself.
    model = debug_model(spec)
    state_dict = model.state_dict()
    adapter = spec.state_dict_adapter(args, None)
    hf = adapter.to_hf(state_dict)
    # Falcon, GPT-2 and GPTBigCode keep their modules in transformer, GPT-NeoX in
    # gpt_neox (its output projection is embed_out), the other classes in model.
    top, output = {
        "FalconForCausalLM": ("transformer.", "lm_head."),
        "GPTNeoXForCausalLM": ("gpt_neox.", "embed_out."),
        "GPT2LMHeadModel": ("transformer.", "lm_head."),
        "GPTBigCodeForCausalLM": ("transformer.", "lm_head."),
    }.get(COUNTERPARTS.get(variant), ("model.", "lm_head."))
    assert all(k.startswith((top, output)) for k in hf)
    back = adapter.from_hf(hf)
    assert back.keys() == state_dict.keys()
    for key, value in state_dict.items():
        assert torch.equal(back[key], value), key


def test_flavors_follow_the_answers(rendered_variants):
    package = import_package(rendered_variants["qwen3_like"], "variant_qwen3_like")
    flavors = package.get_train_spec().model_args
    assert set(flavors) == {"debugmodel", "1B"}
    main = flavors["1B"]
    assert (main.head_dim, main.ffn_hidden_dim, main.dim) == (128, 6144, 2048)
    debug = flavors["debugmodel"]
    assert debug.head_dim * debug.n_heads != debug.dim  # explicit head_dim kept


def test_big_flavors_take_tp_beyond_their_key_value_heads(rendered_variants):
    """A 70B flavor with 4 key/value heads for 64 query heads: its TOML suggests
    TP8 (each key/value head replicated on two ranks), which the model accepts
    (test_tomls_are_valid_torchtitan_job_configs)."""
    model_dir = rendered_variants["yarn_geglu_layernorm_qknorm"]
    (toml,) = (model_dir / "train_configs").glob("*_70b.toml")
    parallelism = tomllib.loads(toml.read_text())["parallelism"]
    assert parallelism["tensor_parallel_degree"] == 8


def test_readme_table_gives_the_latent_width_for_latent_attention(rendered_variants):
    """Latent attention has no key/value heads of its own: the table's column
    is each flavor's key/value latent (the debug flavor's 64, DeepSeek-V3's 512)."""
    readme = (rendered_variants["deepseek_v3_like"] / "README.md").read_text()
    assert "| flavor | dim | layers | heads | kv latent | experts | config |" in readme
    rows = [line.split(" | ") for line in readme.splitlines() if line.startswith("| `")]
    assert [row[4] for row in rows] == ["64", "512"]


def test_tomls_are_valid_torchtitan_job_configs(rendered_variants):
    """torchtitan rejects unknown keys: parse every rendered TOML with its ConfigManager."""
    from torchtitan.config import ConfigManager

    for variant, model_dir in rendered_variants.items():
        for toml in sorted((model_dir / "train_configs").glob("*.toml")):
            config = ConfigManager().parse_args([f"--job.config_file={toml}"])
            data = tomllib.loads(toml.read_text())
            assert config.model.name == data["model"]["name"], (variant, toml)
            spec = import_package(model_dir, f"variant_{variant}").get_train_spec()
            assert config.model.flavor in spec.model_args
            # The model accepts its own TOML's layout (or raises, saying why not).
            spec.model_args[config.model.flavor].update_from_config(config)


COUNTERPARTS = {
    "default": "LlamaForCausalLM",
    "llama_tied": "LlamaForCausalLM",
    "qwen2_like": "Qwen2ForCausalLM",
    "short_yarn_bias": "Qwen2ForCausalLM",
    "qwen3_like": "Qwen3ForCausalLM",
    "short_llama3_tied": "Qwen3ForCausalLM",
    "olmo2_like": "Olmo2ForCausalLM",
    "olmo3_like": "Olmo3ForCausalLM",
    "mistral_like": "MistralForCausalLM",
    "qwen3_alternating_window": "Qwen3ForCausalLM",
    "qwen2_local_window": "Qwen2ForCausalLM",
    "mixtral_like": "MixtralForCausalLM",
    "qwen3_moe_like": "Qwen3MoeForCausalLM",
    "dots1_like": "Dots1ForCausalLM",
    "glm4_moe_like": "Glm4MoeForCausalLM",
    "olmoe_like": "OlmoeForCausalLM",
    "flex_olmo_like": "FlexOlmoForCausalLM",
    "qwen2_moe_like": "Qwen2MoeForCausalLM",
    "stablelm_like": "StableLmForCausalLM",
    "gemma_like": "Gemma3ForCausalLM",
    "gemma2_like": "Gemma2ForCausalLM",
    "phi3_like": "Phi3ForCausalLM",
    "glm4_like": "Glm4ForCausalLM",
    "granite_like": "GraniteForCausalLM",
    "cohere_like": "CohereForCausalLM",
    "cohere2_like": "Cohere2ForCausalLM",
    "exaone4_like": "Exaone4ForCausalLM",
    "arcee_like": "ArceeForCausalLM",
    "hunyuan_like": "HunYuanDenseV1ForCausalLM",
    "ernie_like": "Ernie4_5ForCausalLM",
    "helium_like": "HeliumForCausalLM",
    "llama_biased": "LlamaForCausalLM",
    "starcoder2_like": "Starcoder2ForCausalLM",
    "hyperclovax_like": "HyperCLOVAXForCausalLM",
    "falcon_like": "FalconForCausalLM",
    "neox_like": "GPTNeoXForCausalLM",
    "phi_like": "PhiForCausalLM",
    "olmo1_like": "OlmoForCausalLM",
    "persimmon_like": "PersimmonForCausalLM",
    "nanochat_like": "NanoChatForCausalLM",
    "deepseek_v3_like": "DeepseekV3ForCausalLM",
    "gemma1_like": "GemmaForCausalLM",
    "vaultgemma_like": "VaultGemmaForCausalLM",
    "granitemoe_like": "GraniteMoeForCausalLM",
    "granite4_like": "GraniteMoeHybridForCausalLM",
    "granite4_nope": "GraniteMoeHybridForCausalLM",
    "nemotron_like": "NemotronForCausalLM",
    "gpt2_like": "GPT2LMHeadModel",
    "starcoder_like": "GPTBigCodeForCausalLM",
    "gpt_oss_like": "GptOssForCausalLM",
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_hf_counterpart(rendered_variants, variant):
    package = import_package(rendered_variants[variant], f"variant_{variant}")
    adapter_module = sys.modules[f"variant_{variant}.model.state_dict_adapter"]
    assert adapter_module.HF_ARCHITECTURE == COUNTERPARTS.get(variant)
    args = package.get_train_spec().model_args["debugmodel"]
    if variant in COUNTERPARTS:
        assert adapter_module.hf_config(args)["architectures"] == [
            COUNTERPARTS[variant]
        ]
    else:
        with pytest.raises(NotImplementedError, match="no transformers class"):
            adapter_module.hf_config(args)


def test_generated_tests_pass(variants_project, rendered_variants):
    """Each package's own tests (forward/backward, parameter counts, round trip,
    and HF parity both ways where transformers has the architecture) pass."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "models"],
        cwd=variants_project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    expected = 0
    for variant, model_dir in rendered_variants.items():
        package = import_package(model_dir, f"variant_{variant}")
        flavors = len(package.get_train_spec().model_args)
        expected += 2 + flavors + (2 if variant in COUNTERPARTS else 0)
        answers = yaml.safe_load((model_dir / ".copier-answers.yml").read_text())
        balancing = answers.get("moe") and answers["moe_load_balancing"]
        # The aux-loss test; or, for routing biases, how they move and that
        # evaluation leaves their counts alone.
        expected += {"aux_loss": 1, "expert_bias": 2}.get(balancing, 0)
        # GPT-2's: checkpoints saved from GPT2Model, without `transformer.`.
        expected += COUNTERPARTS.get(variant) == "GPT2LMHeadModel"
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"{expected} passed"), result.stdout[-3000:]
    assert "skipped" not in summary


@pytest.mark.parametrize(
    ("variant", "settings", "message"),
    [
        ("llama_tied", {"pipeline_parallel_degree": 2}, "cannot split tied"),
        # TP replicates the one key/value head, but cannot split 16 query heads 32 ways.
        (
            "mqa_qknorm_bias_tied",
            {"tensor_parallel_degree": 32},
            "must divide n_heads 16",
        ),
        ("mistral_like", {"context_parallel_degree": 2}, "Sliding-window attention"),
        # The debug flavor routes 8 of the real flavor's 12 experts: EP 3 would split
        # the 12, not the 8.
        ("deepseek_like_moe", {"expert_parallel_degree": 3}, "must divide the 8"),
        (
            "softcapped",
            {"context_parallel_degree": 2},
            "Soft-capped attention computes its scores outside SDPA",
        ),
        (
            "gpt_oss_like",
            {"context_parallel_degree": 2},
            "Sliding-window attention masks by position",
        ),
        (
            "mixtral_like",
            {"expert_parallel_degree": 2, "tensor_parallel_degree": 2},
            "needs expert_tensor_parallel_degree = tensor_parallel_degree",
        ),
    ],
)
def test_impossible_layouts_are_refused_before_training(
    rendered_variants, variant, settings, message
):
    from torchtitan.config import JobConfig

    package = import_package(rendered_variants[variant], f"variant_{variant}")
    args = package.get_train_spec().model_args["debugmodel"]
    job_config = JobConfig()
    for name, value in settings.items():
        setattr(job_config.parallelism, name, value)
    with pytest.raises(ValueError, match=message):
        args.update_from_config(job_config)


def test_attention_sinks_refuse_context_parallelism(tmp_path):
    """The sink is a key before the sequence that every query sees, which CP's
    shards of the sequence would not all hold (the windowed gpt-oss variant is
    refused by its window's rule first)."""
    from torchtitan.config import JobConfig

    model_dir = render_answers(
        tmp_path / "m", {"model_name": "sinks", "attn_sinks": True}
    )
    args = import_package(model_dir, "sinks_cp").get_train_spec().model_args
    job_config = JobConfig()
    job_config.parallelism.context_parallel_degree = 2
    with pytest.raises(
        ValueError, match="Attention sinks are a key before the sequence"
    ):
        args["debugmodel"].update_from_config(job_config)


def test_learned_positions_keep_their_table_and_refuse_longer_sequences(
    rendered_variants,
):
    """The position table's size is what checkpoints hold: training on shorter
    sequences keeps it, on longer ones is refused (RoPE models resize instead)."""
    from torchtitan.config import JobConfig

    package = import_package(rendered_variants["gpt2_like"], "variant_gpt2_like")
    args = package.get_train_spec().model_args["1B"]
    job_config = JobConfig()
    job_config.training.seq_len = 128
    args.update_from_config(job_config)
    assert args.max_seq_len == 1024
    job_config.training.seq_len = 1025
    with pytest.raises(ValueError, match="exceeds max_seq_len 1024, the learned"):
        args.update_from_config(job_config)


def test_gpt_bigcode_flavors_with_a_key_value_head_each_export_as_multi_head(
    tmp_path, rendered_variants
):
    """A StarCoder model's flavor with a key/value head per query head is
    GPTBigCode's multi_query false: c_attn's rows, grouped by key/value head, are
    laid out for it, and transformers reads them back to the same logits."""
    package = import_package(
        rendered_variants["starcoder_like"], "variant_starcoder_like"
    )
    adapter = sys.modules["variant_starcoder_like.model.state_dict_adapter"]
    spec = package.get_train_spec()
    args = spec.model_args["debugmodel"]
    assert adapter.hf_config(args)["multi_query"] is True
    multi_head = dataclasses.replace(args, n_kv_heads=args.n_heads)
    assert adapter.hf_config(multi_head)["multi_query"] is False
    spec = dataclasses.replace(spec, model_args={"debugmodel": multi_head})
    assert_hf_class_gives_equal_logits(spec, adapter, tmp_path)


@pytest.mark.parametrize(
    ("routing", "debug_experts"),
    [
        # DeepSeek-V3: 8 of 256 in 8 groups, tokens kept to 4: two experts a group.
        (
            {
                "moe_experts": 256,
                "moe_top_k": 8,
                "moe_expert_groups": 8,
                "moe_limited_groups": 4,
            },
            16,
        ),
        # DeepSeek-V2: 6 of 160 in 8 groups, tokens kept to 3.
        (
            {
                "moe_experts": 160,
                "moe_top_k": 6,
                "moe_expert_groups": 8,
                "moe_limited_groups": 3,
            },
            16,
        ),
        # 5 of 30 in 3 groups, tokens kept to 1: that group holds top_k alone, and the
        # count stays even (6 a group) so that EP 2 splits it.
        (
            {
                "moe_experts": 30,
                "moe_top_k": 5,
                "moe_expert_groups": 3,
                "moe_limited_groups": 1,
            },
            18,
        ),
        # Kimi K2: 8 of 384 without groups, twice top_k.
        ({"moe_experts": 384, "moe_top_k": 8}, 16),
        # Qwen1.5-MoE: 4 of 60.
        ({"moe_experts": 60, "moe_top_k": 4}, 8),
        # Mixtral's 8 are few enough already.
        ({"moe_experts": 8, "moe_top_k": 2}, 8),
    ],
)
def test_the_debug_flavor_routes_alike_over_fewer_experts(
    tmp_path, routing, debug_experts
):
    """A CPU check of a 256-expert model trains 16 experts, routed as the real flavor
    routes its 256 (top_k, groups, scores), in clean code that runs."""
    answers = {"model_name": "routed", "moe": True, "extra_flavors": {}, **routing}
    model_dir = render_answers(tmp_path / "routed", answers)
    assert_ruff_clean(model_dir)
    alias = f"routed_{routing['moe_experts']}_{routing['moe_top_k']}"
    spec = import_package(model_dir, alias).get_train_spec()
    debug = spec.model_args["debugmodel"]
    (main,) = [args for name, args in spec.model_args.items() if name != "debugmodel"]
    assert main.moe_args.num_experts == routing["moe_experts"]
    assert debug.moe_args == dataclasses.replace(
        main.moe_args, num_experts=debug_experts
    )
    model = debug_model(spec)
    tokens = torch.randint(0, debug.vocab_size, (2, 16))
    assert torch.isfinite(model(tokens)).all()
    readme = (model_dir / "README.md").read_text()
    (row,) = [line for line in readme.splitlines() if line.startswith("| `debugmodel`")]
    assert row.split("|")[-3].strip() == str(debug_experts), row  # before config


def test_aux_loss_counts_the_experts_the_grouped_router_picks(tmp_path):
    """With node-limited routing, the Switch loss's expert loads are those of the
    routing itself (experts of each token's best group), not of a plain top-k."""
    answers = {
        "model_name": "grouped",
        "moe": True,
        "moe_experts": 4,
        "moe_top_k": 2,
        "moe_expert_groups": 2,
        "moe_limited_groups": 1,
        "moe_load_balancing": "aux_loss",
        "extra_flavors": {},
    }
    model_dir = render_answers(tmp_path / "grouped", answers)
    model = debug_model(import_package(model_dir, "grouped_aux").get_train_spec())
    moe = model.layers["0"].moe
    x = torch.randn(2, 16, moe.router.gate.in_features)
    with torch.no_grad():
        probs = moe.router.gate(x.reshape(-1, x.shape[-1])).softmax(dim=-1)
        # Two groups of two experts: top_k 2 takes the whole group whose two
        # experts score highest.
        best_group = probs.view(-1, 2, 2).sum(dim=-1).argmax(dim=-1)
        picked = torch.stack([2 * best_group, 2 * best_group + 1], dim=-1)
        load = torch.bincount(picked.flatten(), minlength=4).float()
        plain = torch.bincount(probs.topk(2).indices.flatten(), minlength=4).float()
        assert not torch.equal(load, plain)  # the input tells the two rules apart
        expected = 4 * (load / len(probs) * probs.mean(dim=0)).sum()
        torch.testing.assert_close(moe.load_balance_loss(x), expected)
