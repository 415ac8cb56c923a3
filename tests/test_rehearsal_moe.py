"""Mixture-of-experts models (one of them with latent attention) train under
torchtitan's Trainer on CPU, and FSDP,
expert parallelism (alone, and with tensor parallelism splitting each expert),
TP, CP and PP (alone, and with EP) match one process step by step from one seed
checkpoint, in losses and gradient norms; HF checkpoints
written and read under EP (experts one matrix each, or stacked as GraniteMoe's
and, transposed, gpt-oss's are), and weights trained under TP with a gated shared expert, hold the same
weights as one process's; gpt-oss's MXFP4 release trains as its dequantized weights.

Each run takes 25-45 s on 2 cores; the models share their seed and baseline.
"""

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from mytitan_scaffold.cli import app
from mytitan_scaffold.rehearsal import Layout

from .conftest import mxfp4_release
from .test_rehearsal import (
    GRAD_NORM_RTOL,
    STEPS,
    TOLERANCE,
    Project,
    hf_export_args,
    hf_import_args,
    max_diff,
)
from .variants import DEEPSEEK_ROUTING

pytestmark = pytest.mark.slow

MODELS = {
    # Mixtral's routing (softmax, renormalized top-k) with the auxiliary loss.
    "mixtral_aux_loss": {"moe": True, "positional": "rope", "moe_experts": 4},
    # DeepSeek-V3's routing (sigmoid, scaled, within the best expert groups, shared
    # expert, routing biases that the optimizer moves), a dense first block, and
    # its latent attention with a query bottleneck (replicated latents, heads split
    # under TP), in sandwich norms (both TP paths). Its real flavor has 32 experts, so
    # the debug flavor trains 8 of them, routed alike (moe_routing in its __init__.py).
    "deepseek_expert_bias": {
        "attention": "mla",
        "mla_q_lora_rank": 1536,
        **DEEPSEEK_ROUTING,
        "moe_experts": 32,
        "norm_placement": "sandwich",
    },
    # Qwen2-MoE's: qkv bias, a shared expert two experts wide behind a sigmoid gate.
    "qwen2_moe_gated": {
        "moe": True,
        "positional": "rope",
        "qkv_bias": True,
        "moe_experts": 8,
        "moe_hidden_dim": 128,
        "moe_shared_experts": 2,
        "moe_shared_expert_gate": True,
        "moe_route_norm": False,
    },
    # GraniteMoe's: Mixtral's routing in Granite's blocks (constant multipliers,
    # scores scaled by a size of their own); its checkpoints keep each block's
    # experts stacked, gate and up in one tensor.
    "granitemoe_stacked": {
        "moe": True,
        "positional": "rope",
        "moe_experts": 4,
        "attn_scale_dim": 4096,
        "embedding_multiplier": 12.0,
        "residual_multiplier": 0.22,
        "logit_multiplier": 0.125,
    },
    # ERNIE 4.5 MoE's: softmax scores picked with routing biases, a shared expert,
    # a dense first block; its checkpoints keep RoPE rows in pairs and each
    # block's routing biases as one (1, num_experts) row. 32 experts, of which the
    # debug flavor trains 8.
    "ernie_moe_biases": {
        "moe": True,
        "positional": "rope",
        "hf_layout": "cohere",
        "moe_experts": 32,
        "moe_load_balancing": "expert_bias",
        "moe_shared_experts": 1,
        "moe_dense_layers": 1,
    },
    # gpt-oss's: a bias on every projection, attention sinks (sharded by head
    # under TP), a window in every other layer, and clamped-SwiGLU experts with
    # biases (torchtitan's, their output bias once per expert under ETP too); its
    # checkpoints keep each block's experts stacked and transposed.
    "gpt_oss_clamped": {
        "moe": True,
        "ffn": "clamped_swiglu",
        "swiglu_limit": 0.5,
        "linear_bias": True,
        "attn_sinks": True,
        "sliding_window": 64,
        "global_every": 2,
        "positional": "rope_yarn",
        "rope_yarn_truncate": False,
        "moe_experts": 4,
    },
}
LAYOUTS = {
    "FSDP2": Layout(nproc=2, fsdp=2),
    "FSDP2+EP2": Layout(nproc=2, fsdp=2, ep=2),
    "TP2": Layout(nproc=2, tp=2),
    # The aux loss counts expert loads over the CP ranks' parts of each sequence.
    "CP2": Layout(nproc=2, cp=2),
    # Each expert split over TP as well; EP+TP with ETP 1 is refused (see test_render).
    "FSDP2+TP2+EP2+ETP2": Layout(nproc=4, fsdp=2, tp=2, ep=2, etp=2),
    # Gradients scaled per token, and routing-bias counts without the schedule's
    # shape-finding pass (see the rendered infra/pipeline.py).
    "PP2": Layout(nproc=2, pp=2),
    # Experts split over the FSDP ranks of each stage.
    "FSDP2+PP2+EP2": Layout(nproc=4, fsdp=2, pp=2, ep=2),
    # Replicas sum their gradients, the aux loss's included (template v0.4.1).
    "DDP2": Layout(nproc=2, replicate=2),
    # Experts sharded over each replica's FSDP group (torchtitan's efsdp mesh).
    "HSDP2x2+EP2": Layout(nproc=4, replicate=2, fsdp=2, ep=2),
}
# Every layout on the first model; the second takes the expert-parallel and TP ones.
CASES = [("mixtral_aux_loss", layout) for layout in LAYOUTS] + [
    ("deepseek_expert_bias", "FSDP2+EP2"),
    ("deepseek_expert_bias", "TP2"),
    # Latent attention's q and k (one width) through CP's ring attention.
    ("deepseek_expert_bias", "CP2"),
    ("deepseek_expert_bias", "PP2"),
    ("deepseek_expert_bias", "FSDP2+PP2+EP2"),
    ("deepseek_expert_bias", "HSDP2x2+EP2"),
    # The gate replicated over TP and sharded over FSDP, beside split experts.
    ("qwen2_moe_gated", "FSDP2+TP2+EP2+ETP2"),
    ("gpt_oss_clamped", "FSDP2+EP2"),
    ("gpt_oss_clamped", "TP2"),
    # torchtitan 0.2.2 alone would add the experts' output bias on both ETP ranks
    # (losses 0.0188 apart from one process's, measured).
    ("gpt_oss_clamped", "FSDP2+TP2+EP2+ETP2"),
    ("gpt_oss_clamped", "PP2"),
]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    return {}


def _project(projects, tmp_path_factory, name):
    if name not in projects:
        projects[name] = Project(tmp_path_factory.mktemp(name), MODELS[name])
    return projects[name]


@pytest.mark.parametrize(("model", "layout"), CASES)
def test_layout_matches_one_process(projects, tmp_path_factory, model, layout):
    project = _project(projects, tmp_path_factory, model)
    assert project.baseline[-1] < project.baseline[0]
    baseline = "baseline"
    aux_loss = MODELS[model].get("moe_load_balancing", "aux_loss") == "aux_loss"
    if LAYOUTS[layout].pp > 1 and aux_loss:
        # The aux loss is one per micro-batch, as with gradient accumulation.
        baseline = project.micro_batched_baseline(LAYOUTS[layout])
    losses = project.run(LAYOUTS[layout], layout)
    project.assert_matches_baseline(layout, losses, baseline)


def _hf_weights(folder):
    weights = {}
    for shard in folder.glob("*.safetensors"):
        weights.update(load_file(shard))
    return weights


def _trained_weights(project, layout, name, folder, extra_args=(), **kwargs):
    """The HF export of a run of STEPS steps in `layout`, whose losses must be
    the baseline's."""
    losses = project.run(
        layout, name, extra_args=[*hf_export_args(folder), *extra_args], **kwargs
    )
    assert max_diff(project.baseline, losses) <= TOLERANCE, (name, losses)
    return _hf_weights(folder / f"step-{STEPS}")


def _assert_same_weights(expected, actual, key_to_hold):
    assert expected.keys() == actual.keys() and key_to_hold in actual
    for key, value in expected.items():
        torch.testing.assert_close(actual[key], value, atol=1e-5, rtol=0, msg=key)


@pytest.mark.parametrize(
    ("model", "held_key"),
    [
        ("mixtral_aux_loss", "model.layers.0.block_sparse_moe.experts.3.w2.weight"),
        # Routing biases in ERNIE 4.5's moe_statics rows: the debug flavor's 8 (of
        # the real flavor's 32), as its config.json says.
        ("ernie_moe_biases", "model.layers.1.mlp.moe_statics.e_score_correction_bias"),
        # gpt-oss's stacked, transposed experts, and the attention sinks.
        ("gpt_oss_clamped", "model.layers.0.mlp.experts.gate_up_proj"),
    ],
)
def test_hf_checkpoints_under_expert_parallelism(
    projects, tmp_path_factory, tmp_path, model, held_key
):
    """Each EP rank reads and writes only its own experts (torchtitan's
    MoEStateDictAdapter bookkeeping): a step from an HF seed under EP has the
    baseline's first loss and gradient norm, and its HF export is one process's,
    bit for bit. The step runs at learning rate 0, so that the exports can be
    compared exactly: trained weights part by Adam-amplified rounding (1.6e-5 after
    4 steps, measured), and a near-tie token then picks another expert (1e-3)."""
    project = _project(projects, tmp_path_factory, model)
    hf_seed = project.export_hf_seed(tmp_path / "seed")
    seed = _hf_weights(hf_seed)

    exports = {}
    for name, layout in (("1 process", Layout()), ("EP2", LAYOUTS["FSDP2+EP2"])):
        folder = tmp_path / name.replace(" ", "-")
        run_name = f"from-hf-{name}"
        losses = project.run(
            layout,
            run_name,
            steps=1,
            seed_checkpoint=None,
            extra_args=[
                *hf_export_args(folder),
                "--checkpoint.initial_load_in_hf",
                "--model.hf_assets_path",
                str(hf_seed),
                "--optimizer.lr",
                "0",
            ],
        )
        assert losses[0] == pytest.approx(project.baseline[0], abs=TOLERANCE), name
        assert project.grad_norms(run_name) == pytest.approx(
            project.grad_norms("baseline")[:1], rel=GRAD_NORM_RTOL
        ), name
        exports[name] = _hf_weights(folder / "step-1")

    assert exports["1 process"].keys() == exports["EP2"].keys() == seed.keys()
    assert held_key in seed
    for key, value in exports["EP2"].items():
        torch.testing.assert_close(
            value, exports["1 process"][key], atol=0, rtol=0, msg=key
        )
        # Only the routing biases move at learning rate 0: torchtitan's
        # load-balancing hook steps them by the step's expert loads, whatever the rate.
        moved = not torch.equal(value, seed[key])
        assert moved == key.endswith("e_score_correction_bias"), key

    # transformers reads the EP export with the config mytitan writes.
    import transformers

    exported = tmp_path / "EP2" / "step-1"
    result = CliRunner().invoke(
        app, ["hf-config", str(project.model_dir), "--output", str(exported)]
    )
    assert result.exit_code == 0, result.output
    _, info = transformers.AutoModelForCausalLM.from_pretrained(
        exported, dtype=torch.float32, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"], info


@pytest.mark.parametrize(
    ("model", "stacked_key"),
    [
        ("granitemoe_stacked", "model.layers.0.block_sparse_moe.input_linear.weight"),
        ("gpt_oss_clamped", "model.layers.0.mlp.experts.down_proj"),
    ],
)
def test_stacked_experts_convert_under_expert_parallelism(
    projects, tmp_path_factory, tmp_path, model, stacked_key
):
    """GraniteMoe's checkpoints stack each block's experts with gate and up in one
    tensor, gpt-oss's stack them transposed. Sharded by experts (EP), each rank
    converts its own; split within each expert too (ETP), GraniteMoe's rows cross
    the shards and are put together whole, gpt-oss's shards transpose with their
    weights. Either way the export is one process's, bit for bit, and training
    from the HF seed repeats the baseline."""
    project = _project(projects, tmp_path_factory, model)
    expected = project.export_hf_seed_weights(Layout(), "one-process")
    assert stacked_key in expected
    for name in ("FSDP2+EP2", "FSDP2+TP2+EP2+ETP2"):
        weights = project.export_hf_seed_weights(LAYOUTS[name], name)
        assert weights.keys() == expected.keys(), name
        for key, value in expected.items():
            torch.testing.assert_close(weights[key], value, atol=0, rtol=0, msg=key)
        losses = project.run(
            LAYOUTS[name],
            f"from-hf-{name}",
            seed_checkpoint=None,
            extra_args=hf_import_args(project.hf_seed(), tmp_path / name),
        )
        project.assert_matches_baseline(f"from-hf-{name}", losses)


def test_mxfp4_release_trains_as_its_dequantized_weights(
    projects, tmp_path_factory, tmp_path
):
    """gpt-oss's own release of the seed (its experts MXFP4, (out, in), under
    `_blocks`/`_scales` names) trains from --checkpoint.initial_load_in_hf_quantized
    as its dequantized weights do from a bf16 folder: in one process, and with
    each expert split over ETP ranks within EP ones, each reading its own rows (or,
    for the down projections, a range of 32-value groups) of the blocks."""
    project = _project(projects, tmp_path_factory, "gpt_oss_clamped")
    release = mxfp4_release(_hf_weights(project.hf_seed()))
    layouts = {"mxfp4": Layout(), "mxfp4-ETP2": LAYOUTS["FSDP2+TP2+EP2+ETP2"]}
    losses = project.quantized_release_losses(
        tmp_path, release, {"quant_method": "mxfp4"}, layouts
    )
    # The quantization moved the weights enough to show in the losses (5.9e-3
    # apart from the seed's by the third step, measured).
    assert max_diff(losses["dequantized"], project.baseline) > TOLERANCE
    assert max_diff(losses["dequantized"], losses["mxfp4"]) <= TOLERANCE
    assert max_diff(losses["dequantized"], losses["mxfp4-ETP2"]) <= TOLERANCE


def test_gated_shared_experts_train_under_tp_as_in_one_process(
    projects, tmp_path_factory, tmp_path
):
    """The shared experts' gate weighs an output that each TP rank holds only a
    part of, so its gradient must be summed over the ranks. Unsummed, each rank's
    replica of the gate takes Adam steps of its own: the losses of a few steps
    hardly show it (8.2e-5 apart after 5 steps, measured), the trained gate does."""
    project = _project(projects, tmp_path_factory, "qwen2_moe_gated")
    # From the seed checkpoint, saving at the end (a plain run only loads it).
    one, tp = (
        _trained_weights(
            project,
            layout,
            f"export-{name}",
            tmp_path / name,
            extra_args=["--checkpoint.no-load_only"],
        )
        for name, layout in (("one-process", Layout()), ("TP2", LAYOUTS["TP2"]))
    )
    _assert_same_weights(one, tp, "model.layers.0.mlp.shared_expert_gate.weight")


def test_compile_matches_eager(projects, tmp_path_factory):
    """torchtitan's MoE compile recipe (every block part but the experts) runs the
    rendered router and aux loss; Inductor rounds differently, the plan is the same."""
    project = _project(projects, tmp_path_factory, "mixtral_aux_loss")
    losses = project.run(Layout(compile=True), "compiled")
    assert max_diff(project.baseline, losses) <= 1e-3, (project.baseline, losses)
