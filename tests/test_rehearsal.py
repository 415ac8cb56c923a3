"""torchtitan's own Trainer trains rendered models on CPU, and every parallel
layout matches one process step by step from one seed checkpoint.

These runs are the expensive part of the suite (15-30 s each on 2 cores): the
seed checkpoint and the one-process baseline are shared per model.
"""

import json

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

# What `rehearse --compare` allows: 1e-4 on losses, 1e-3 relative on gradient norms
# (a layout that scales gradients wrongly is off by 2x or more).
from mytitan_scaffold.cli import GRAD_NORM_RTOL, TOLERANCE, app
from mytitan_scaffold.registry import new_registry_source
from mytitan_scaffold.rehearsal import (
    Layout,
    RehearsalError,
    RehearsalWarning,
    baseline_args,
    create_seed_checkpoint,
    ensure_assets,
    logged_steps,
    run,
)

from .conftest import fp8_release, render_answers, save_hf_folder

pytestmark = pytest.mark.slow

STEPS = 4

# The default recipe (GQA, Llama 3 RoPE, SwiGLU, RMSNorm) and one that takes the
# other TP-relevant branches: tied embeddings, qk-norm with a weight per head (sharded
# by heads under TP; bias-free beside biased LayerNorms), a bias on every projection
# (row-parallel ones' replicated under TP), LayerNorm, parallel
# blocks (one norm feeding attention and feed-forward), plus YaRN on half of each
# head with an attention temperature, NoPE layers, GeGLU, and scores scaled by another size than the heads'
# (through CP's ring attention too), with HF weights stacked as Phi-3 stacks them
# (q/k/v and gate/up, biases too), Granite's constant multipliers on the
# embeddings, the residual branches and the (vocabulary-sharded under TP) logits,
# and a LayerNorm of the embeddings in the first block (embedding_norm).
# The Gemma models below take sandwich norms.
MODELS = {
    "default": {},
    "tied_qknorm_bias_layernorm": {
        "norm_placement": "parallel",
        "qk_norm": True,
        "qk_norm_scope": "head_weights",
        "linear_bias": True,
        "weight_tying": True,
        "norm": "layernorm",
        "ffn": "geglu",
        "positional": "rope_yarn",
        "rope_fraction": 0.5,
        # YaRN's mscales apart (the rotations' magnitude), and Llama 4's attention
        # temperature from an original context the 128-token sequences run past
        # thrice: it rides in freqs_cis, which CP shards by position.
        "rope_yarn_mscale": 0.8,
        "rope_yarn_mscale_all_dim": 1.0,
        "rope_original_max_seq_len": 32,
        "attn_temperature_beta": 0.5,
        # Every second layer without RoPE (NoPE), as SmolLM3 does every fourth.
        "nope_every": 2,
        "attn_scale_dim": 24,
        "hf_layout": "phi3",
        "embedding_multiplier": 4.0,
        "embedding_norm": True,
        "residual_multiplier": 0.5,
        "logit_multiplier": 0.5,
    },
    # Gemma 3's recipe: local (64-position window, shorter than the 128-token
    # rehearsal sequence) and global layers alternate; only the global ones scale
    # RoPE, and the local ones rotate with a base of their own, so each kind takes
    # its half of the freqs_cis buffer; sandwich norms, qk-norm per head, GeGLU, and
    # embeddings scaled by sqrt(dim). Plus a logit soft cap, tighter than Gemma 2's
    # 30 so that it bites on the tiny model (TP caps vocabulary-sharded logits).
    # One key/value head, as Gemma 3 1B has: TP replicates it, with its norm.
    "sliding_window": {
        "n_kv_heads": 1,
        "sliding_window": 64,
        "global_every": 2,
        "rope_scaling_layers": "global",
        "rope_local_theta": 10000.0,
        "norm_placement": "sandwich",
        "qk_norm": True,
        "ffn": "geglu",
        "embedding_scale": True,
        "logit_softcap": 10.0,
    },
    # Gemma 2's recipe (untied, so that PP splits it): scores scaled by another size
    # than the heads' and soft-capped, outside SDPA, and so are the logits; caps
    # tighter than its 50 and 30, so that they bite on the tiny model.
    "gemma2": {
        "sliding_window": 64,
        "global_every": 2,
        "norm_placement": "sandwich",
        "ffn": "geglu",
        "embedding_scale": True,
        "positional": "rope",
        "rope_theta": 10000.0,
        "attn_scale_dim": 24,
        "attn_softcap": 5.0,
        "logit_softcap": 10.0,
    },
}
LAYOUTS = {
    "FSDP2": Layout(nproc=2, fsdp=2),
    "TP2": Layout(nproc=2, tp=2),
    "CP2": Layout(nproc=2, cp=2),
    "PP2": Layout(nproc=2, pp=2),
    # torchtitan's DDP (replicas only), and HSDP: FSDP groups of 2, replicated twice.
    "DDP2": Layout(nproc=2, replicate=2),
    "HSDP2x2": Layout(nproc=4, replicate=2, fsdp=2),
}


class Project:
    """A rendered model in a project folder, with its seed and baseline losses."""

    def __init__(self, root, answers):
        self.answers = answers
        self.root = root
        self.model_dir = render_answers(
            root / "models" / "demo", {"model_name": "demo", **answers}
        )
        (root / "models" / "__init__.py").write_text(new_registry_source("demo"))
        self.config = self.model_dir / "train_configs" / "debug_model.toml"
        self.seed = create_seed_checkpoint(
            self.config, workdir=root / "runs" / "seed", pythonpath=[root]
        )
        self.baseline = self.run(Layout(), "baseline")
        self.baselines = {"baseline": self.baseline}

    def export_hf_seed(self, folder):
        """The seed's weights as an HF folder (with the tokenizer, so that the
        Trainer can also start from it); returns that folder."""
        run(
            self.config,
            Layout(),
            steps=1,
            workdir=folder.parent / f"{folder.name}-run",
            pythonpath=[self.root],
            extra_args=[*hf_export_args(folder), "--checkpoint.create_seed_checkpoint"],
        )
        hf_dir = folder / "step-0"
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (hf_dir / name).write_bytes(
                (ensure_assets() / "tokenizer" / name).read_bytes()
            )
        return hf_dir

    def hf_seed(self):
        """The seed exported once as an HF folder (`export_hf_seed`)."""
        if not hasattr(self, "_hf_seed"):
            self._hf_seed = self.export_hf_seed(self.root / "hf-seed")
        return self._hf_seed

    def quantized_release_losses(self, folder, release, quantization, layouts):
        """The losses of training from a quantized release of the seed, `release`
        (stored weights, and their dequantized values): from its dequantized
        weights in an HF folder, under "dequantized", and from the release with
        --checkpoint.initial_load_in_hf_quantized (its config.json's
        quantization_config `quantization`) in each of `layouts` (name: Layout)."""
        stored, dequantized = release
        seed = self.hf_seed()
        result = CliRunner().invoke(
            app, ["hf-config", str(self.model_dir), "--output", str(folder / "hf")]
        )
        assert result.exit_code == 0, result.output
        config = json.loads((folder / "hf" / "config.json").read_text())
        quantized = {**config, "quantization_config": quantization}
        folders = {}
        for name, tensors, hf_config in [
            ("quantized", stored, quantized),
            ("dequantized", dequantized, config),
        ]:
            folders[name] = save_hf_folder(folder / name, tensors, hf_config)
            for extra in ("tokenizer.json", "tokenizer_config.json"):
                (folders[name] / extra).write_bytes((seed / extra).read_bytes())
        runs = {"dequantized": (folders["dequantized"], Layout(), [])}
        flag = ["--checkpoint.initial_load_in_hf_quantized"]
        runs |= {
            name: (folders["quantized"], each, flag) for name, each in layouts.items()
        }
        losses = {}
        for name, (hf_dir, layout, flags) in runs.items():
            args = hf_import_args(hf_dir, folder / f"{name}-unused") + flags
            losses[name] = self.run(
                layout, f"from-{name}", seed_checkpoint=None, extra_args=args
            )
        return losses

    def export_hf_seed_weights(self, layout, name):
        """The seed's weights, saved in HF format by a run in `layout` (so the
        adapter's to_hf runs on the layout's sharded tensors) that leaves them
        unchanged (learning rate 0); returns the consolidated HF weights."""
        folder = self.root / "hf" / name
        self.run(
            layout,
            f"hf-{name}",
            steps=1,
            seed_checkpoint=None,  # the seed's loader would make the run load-only
            extra_args=[
                "--checkpoint.initial_load_path",
                str(self.seed),
                "--checkpoint.initial_load_model_only",
                "--optimizer.lr",
                "0",
                *hf_export_args(folder),
            ],
        )
        weights = {}
        for shard in folder.glob("step-1/model-*.safetensors"):
            weights.update(load_file(shard))
        return weights

    def assert_hf_exports_equal_one_process(self, layouts):
        """The seed saved in HF format by a run in each of `layouts` (HF_LAYOUTS
        names) equals one process's save, bit for bit; returns that save."""
        expected = self.export_hf_seed_weights(Layout(), "one-process")
        for name in layouts:
            weights = self.export_hf_seed_weights(HF_LAYOUTS[name], name)
            assert weights.keys() == expected.keys(), name
            for key, value in expected.items():
                torch.testing.assert_close(weights[key], value, atol=0, rtol=0)
        return expected

    def assert_hf_import_matches_baseline(self, layout, folder):
        """Training in `layout` (an HF_LAYOUTS name) from the seed's HF export
        repeats the baseline (`folder`, the checkpoint folder, stays empty)."""
        name = f"from-hf-{layout}"
        losses = self.run(
            HF_LAYOUTS[layout],
            name,
            seed_checkpoint=None,
            extra_args=hf_import_args(self.hf_seed(), folder),
        )
        self.assert_matches_baseline(name, losses)

    def grad_norms(self, name):
        """Each step's gradient norm (before clipping) in the run called `name`."""
        return [step.grad_norm for step in logged_steps(self.root / "runs" / name)]

    def micro_batched_baseline(self, layout):
        """Name of one process's run over `layout`'s pipeline micro-batches
        (accumulating gradients), for models whose forward pass computes over
        its whole batch (an MoE auxiliary loss)."""
        name = "baseline-micro-batched"
        if name not in self.baselines:
            args = baseline_args(layout)
            self.baselines[name] = self.run(Layout(), name, extra_args=args)
        return name

    def validation_losses(self, name):
        """(step, validation loss) of each validation in the run called `name`."""
        steps = logged_steps(self.root / "runs" / name)
        return [
            (s.step, s.validation_loss) for s in steps if s.validation_loss is not None
        ]

    def assert_matches_baseline(self, name, losses, baseline="baseline"):
        """The run called `name` has the baseline's losses, gradient norms and
        validation losses (eval mode, after the first and the last step)."""
        expected = self.baselines[baseline]
        assert max_diff(expected, losses) <= TOLERANCE, (expected, losses)
        norms, expected_norms = self.grad_norms(name), self.grad_norms(baseline)
        assert norms == pytest.approx(expected_norms, rel=GRAD_NORM_RTOL), (
            expected_norms,
            norms,
        )
        validation = dict(self.validation_losses(name))
        expected_validation = dict(self.validation_losses(baseline))
        assert list(expected_validation) == list(validation) == [1, STEPS]
        assert validation == pytest.approx(expected_validation, abs=TOLERANCE)

    def run(self, layout, name, **kwargs):
        return run(
            self.config,
            layout,
            steps=kwargs.pop("steps", STEPS),
            workdir=self.root / "runs" / name,
            pythonpath=[self.root],
            seed_checkpoint=kwargs.pop("seed_checkpoint", self.seed),
            **kwargs,
        )


@pytest.fixture(scope="module", params=list(MODELS))
def project(request, tmp_path_factory):
    return Project(tmp_path_factory.mktemp(request.param), MODELS[request.param])


def hf_export_args(folder):
    """Trainer flags that write the last step's weights to `folder` as HF safetensors."""
    return [
        "--checkpoint.enable",
        "--checkpoint.folder",
        str(folder),
        "--checkpoint.last_save_model_only",
        "--checkpoint.last_save_in_hf",
        "--checkpoint.export_dtype",
        "float32",
    ]


def max_diff(a, b):
    """The largest per-step difference of two runs of STEPS losses."""
    assert len(a) == len(b) == STEPS, (a, b)
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def test_one_process_trains(project):
    assert len(project.baseline) == STEPS
    assert project.baseline[-1] < project.baseline[0]


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layout_matches_one_process(project, layout):
    if layout == "CP2" and project.answers.get("sliding_window"):
        # Refused up front, with the reason, instead of training on wrong masks.
        with pytest.raises(RehearsalError, match="Sliding-window attention masks"):
            project.run(LAYOUTS[layout], layout)
        return
    if layout == "PP2" and project.answers.get("weight_tying"):
        with pytest.raises(RehearsalError, match="cannot split tied embedding"):
            project.run(LAYOUTS[layout], layout)
        return
    losses = project.run(LAYOUTS[layout], layout)
    project.assert_matches_baseline(layout, losses)


def test_the_embeddings_norm_stays_on_the_first_pipeline_stage(tmp_path_factory):
    """torchtitan's stage split keeps only the modules it names (tok_embeddings,
    layers, norm, output): the embeddings' norm lives in the first block, so that
    the first stage keeps it, and PP2 trains as one process does."""
    project = Project(tmp_path_factory.mktemp("embeds_norm"), {"embedding_norm": True})
    project.assert_matches_baseline("PP2", project.run(LAYOUTS["PP2"], "PP2"))


@pytest.fixture(scope="module")
def learned_positions_project(tmp_path_factory):
    # GPT-2's recipe (untied, so that PP splits it): learned positions added to the
    # token embeddings, LayerNorms, a tanh-GELU MLP, a bias on every projection.
    answers = {"positional": "learned", "norm": "layernorm", "ffn": "gelu_tanh"}
    answers |= {"linear_bias": True, "n_kv_heads": 32, "max_seq_len": 1024}
    return Project(tmp_path_factory.mktemp("learned_positions"), answers)


@pytest.mark.parametrize("layout", ["TP2", "CP2", "PP2"])
def test_learned_positions_match_one_process(learned_positions_project, layout):
    """The position table lives in the first block, so the first pipeline stage
    keeps it; TP splits it by position as the token embeddings are split by token;
    under CP each rank looks up the places its load-balanced chunks hold in the
    whole sequence (the trainer's `positions`), and so does validation."""
    losses = learned_positions_project.run(LAYOUTS[layout], layout)
    learned_positions_project.assert_matches_baseline(layout, losses)


# GPT-2's checkpoints stack q, k and v into c_attn and keep Conv1D weights, the
# transpose of a Linear's, and its position table outside the blocks (wpe): on a
# 2-D mesh, the matrices to transpose are sharded by FSDP and TP at once (the
# output projections along both of their dimensions).
def test_gpt2_checkpoints_save_sharded_as_one_process(learned_positions_project):
    readme = (learned_positions_project.model_dir / "README.md").read_text()
    assert "GPT2LMHeadModel" in readme
    saved = learned_positions_project.assert_hf_exports_equal_one_process(["FSDP2xTP2"])
    assert {"transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight"} <= set(
        saved
    )


def test_gpt2_checkpoints_load_sharded_as_one_process(
    learned_positions_project, tmp_path
):
    learned_positions_project.assert_hf_import_matches_baseline(
        "FSDP2xTP2", tmp_path / "unused"
    )


def test_tp_beyond_the_key_value_heads_matches_one_process(tmp_path_factory):
    """Two key/value heads (of 16 query heads) over four TP ranks: every rank
    computes both and keeps the one its four query heads share, ranks 0-1 the
    first, ranks 2-3 the second; the ranks' parts of each head's gradient sum."""
    project = Project(tmp_path_factory.mktemp("tp4_gqa"), {"n_kv_heads": 4})
    assert "n_kv_heads=2," in (project.model_dir / "__init__.py").read_text()
    layout = Layout(nproc=4, tp=4)
    project.assert_matches_baseline("TP4", project.run(layout, "TP4"))


@pytest.fixture(scope="module")
def olmo2_project(tmp_path_factory):
    # OLMo 2's recipe (post-norm, query/key norms across all heads), with 2 key/value
    # heads for 16 query heads in the debug flavor.
    answers = {"qk_norm": True, "qk_norm_scope": "full", "norm_placement": "post"}
    return Project(tmp_path_factory.mktemp("olmo2"), answers | {"n_kv_heads": 4})


@pytest.mark.parametrize("layout", ["TP2", "TP4"])
def test_norms_across_heads_match_one_process(olmo2_project, layout):
    """TP splits the heads; each norm gathers its projection whole, normalizes it
    and keeps the rank's heads again. TP2 splits the key/value heads; TP4
    replicates them, normalizes the keys whole and keeps each rank's own head."""
    losses = olmo2_project.run(HF_LAYOUTS[layout], layout)
    olmo2_project.assert_matches_baseline(layout, losses)


# The norms' weights, replicated under TP, and the key/value projections, whole on
# every rank under TP4: HF checkpoints save and load there as in one process.
def test_norms_across_heads_save_sharded_as_one_process(olmo2_project):
    readme = (olmo2_project.model_dir / "README.md").read_text()
    assert "Olmo2ForCausalLM" in readme
    saved = olmo2_project.assert_hf_exports_equal_one_process(["TP4"])
    assert "model.layers.0.self_attn.k_norm.weight" in saved


def test_norms_across_heads_load_sharded_as_one_process(olmo2_project, tmp_path):
    olmo2_project.assert_hf_import_matches_baseline("TP4", tmp_path / "unused")


@pytest.fixture(scope="module")
def qwen3_project(tmp_path_factory):
    # Qwen3's recipe: qk-norm per head, one weight of head_dim for every head, its
    # features reordered between RoPE layouts as each head's rows are.
    return Project(tmp_path_factory.mktemp("qwen3"), {"qk_norm": True})


# FSDP splits the norms' one head over its ranks: the reordering takes the weight
# whole (before template v0.45.0, DCP refused the reordered shards).
def test_one_head_norms_save_sharded_as_one_process(qwen3_project):
    layouts = ["FSDP2", "FSDP2xTP2"]
    saved = qwen3_project.assert_hf_exports_equal_one_process(layouts)
    assert "model.layers.0.self_attn.q_norm.weight" in saved


@pytest.mark.parametrize("layout", ["FSDP2", "FSDP2xTP2"])
def test_one_head_norms_load_sharded_as_one_process(qwen3_project, layout, tmp_path):
    qwen3_project.assert_hf_import_matches_baseline(layout, tmp_path / "unused")


@pytest.fixture(scope="module")
def latent_project(tmp_path_factory):
    # Latent attention with queries at full rank (DeepSeek-V2-Lite's), a LayerNorm
    # on its latent, linear RoPE, tied; the MoE rehearsals take the bottleneck.
    answers = {"attention": "mla", "norm": "layernorm", "positional": "rope_linear"}
    return Project(tmp_path_factory.mktemp("latent"), answers | {"weight_tying": True})


@pytest.mark.parametrize("layout", ["TP2", "CP2", "FSDP2"])
def test_latent_attention_matches_one_process(latent_project, layout):
    """The latent and the keys' shared RoPE part are computed whole on every TP
    rank (their gradients summed over the heads each rank holds); q and k, one
    width, pass through CP's ring attention."""
    losses = latent_project.run(LAYOUTS[layout], layout)
    latent_project.assert_matches_baseline(layout, losses)


def test_resume_equals_uninterrupted(project, tmp_path):
    """Save at step 2, resume in a new process, and land on the same losses."""
    folder = tmp_path / "checkpoint"
    checkpoint = [
        "--checkpoint.enable",
        "--checkpoint.folder",
        str(folder),
        "--checkpoint.interval",
        "2",
        "--checkpoint.no-last_save_model_only",
        "--checkpoint.no-load_only",
        # The interrupted run must schedule the learning rate for all STEPS.
        "--lr_scheduler.total_steps",
        str(STEPS),
    ]
    first = project.run(Layout(), "resume-1", steps=2, extra_args=checkpoint)
    assert (folder / "step-2").is_dir()
    second = project.run(
        Layout(),
        "resume-2",
        seed_checkpoint=None,
        extra_args=[*checkpoint, "--training.steps", str(STEPS)],
    )
    assert len(second) == STEPS - 2, second  # it started after step 2
    assert max_diff(project.baseline, first + second) <= TOLERANCE


# Compile is checked on the default model only, to bound the suite's time.
@pytest.mark.parametrize("project", ["default"], indirect=True)
@pytest.mark.parametrize("layout", ["1 process", "TP2"])
def test_compile(project, layout):
    if layout == "TP2":
        pytest.skip(
            "torch 2.13 on CPU: TP + torch.compile fails in AOTAutograd (an assertion "
            "about a DTensor DeviceMesh saved for backward), a torch bug; "
            "`mytitan rehearse --tp 2 --compile` refuses it with that reason"
        )
    losses = project.run(Layout(compile=True), "compiled")
    # Inductor's fused kernels round differently from eager; the plan is the same.
    assert max_diff(project.baseline, losses) <= 1e-3


def test_rehearse_refuses_tp_with_compile(tmp_path):
    model_dir = render_answers(tmp_path / "models" / "demo", {"model_name": "demo"})
    result = CliRunner().invoke(
        app, ["rehearse", str(model_dir), "--nproc", "2", "--tp", "2", "--compile"]
    )
    assert result.exit_code == 3
    assert "torch bug" in result.output


def test_rehearsal_error_carries_the_log_tail(tmp_path):
    model_dir = render_answers(tmp_path / "models" / "demo", {"model_name": "demo"})
    config = model_dir / "train_configs" / "debug_model.toml"
    with pytest.raises(RehearsalError, match="rehearsal failed"):
        # No models package on the path: torchtitan cannot find the model.
        run(config, Layout(), steps=1, workdir=tmp_path / "run")


# Custom imports (each replaces the TOML's, so each imports the models package) that
# make rank 1 die of SIGABRT: as its process exits, after torchtitan's main closed
# the Trainer and destroyed the process group, like gloo's teardown crash
# (docs/upstream.md); or just before, when that rank has not finished.
CRASHES = {
    "at_exit": """
import atexit
import os

import models

if os.environ["RANK"] == "1":
    atexit.register(os.abort)
""",
    "before_finishing": """
import os

import torch.distributed as dist

import models

_destroy_process_group = dist.destroy_process_group


def destroy_process_group(*args, **kwargs):
    if dist.get_rank() == 1:
        os.abort()
    _destroy_process_group(*args, **kwargs)


dist.destroy_process_group = destroy_process_group
""",
}


@pytest.mark.parametrize("project", ["default"], indirect=True)
@pytest.mark.parametrize("crash", list(CRASHES))
def test_a_crash_after_every_rank_finished_keeps_the_results(project, crash):
    module = f"crash_{crash}"
    (project.root / f"{module}.py").write_text(CRASHES[crash])
    name = f"crash-{crash}"
    layout = Layout(nproc=2, fsdp=2)
    env = {"MYTITAN_CUSTOM_IMPORT": module}
    if crash == "before_finishing":
        with pytest.raises(RehearsalError, match="rehearsal failed"):
            project.run(layout, name, env=env)
        return
    with pytest.warns(RehearsalWarning, match="crashed as it shut down .SIGABRT"):
        losses = project.run(layout, name, env=env)
    project.assert_matches_baseline(name, losses)


@pytest.mark.parametrize(
    "project", ["default", "sliding_window", "gemma2"], indirect=True
)
def test_hf_checkpoint_round_trip_through_the_trainer(project, tmp_path):
    """torchtitan saves the seed in HF format through the adapter; transformers
    loads it (with `mytitan hf-config`) to the same logits, and training from that
    HF folder (`initial_load_in_hf`) repeats the baseline losses. The second model
    is Gemma 3's (norm weights offset by one, RoPE per layer type), the third
    Gemma 2's (soft caps)."""
    import safetensors.torch
    import transformers

    from .conftest import import_package

    hf_dir = project.export_hf_seed(tmp_path / "hf")
    assert (hf_dir / "model.safetensors.index.json").is_file()
    result = CliRunner().invoke(
        app, ["hf-config", str(project.model_dir), "--output", str(hf_dir)]
    )
    assert result.exit_code == 0, result.output

    hf_model = transformers.AutoModelForCausalLM.from_pretrained(
        hf_dir, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    # An alias per model: a second import of one alias returns the first package.
    alias = f"hf_round_trip_{project.root.name}"
    spec = import_package(project.model_dir, alias).get_train_spec()
    args = spec.model_args["debugmodel"]
    model = spec.model_cls(args).eval()
    adapter = spec.state_dict_adapter(args, None)
    weights = {}
    for shard in hf_dir.glob("*.safetensors"):
        weights.update(safetensors.torch.load_file(shard))
    model.load_state_dict(adapter.from_hf(weights), strict=True)
    tokens = torch.randint(0, args.vocab_size, (2, 32))
    with torch.no_grad():
        diff = (model(tokens) - hf_model(tokens).logits).abs().max().item()
    assert diff <= 1e-4

    # Train from the HF folder.
    losses = project.run(
        Layout(),
        "from-hf",
        seed_checkpoint=None,
        extra_args=hf_import_args(hf_dir, tmp_path / "unused"),
    )
    assert max_diff(project.baseline, losses) <= TOLERANCE


@pytest.mark.parametrize("project", ["default"], indirect=True)
def test_fp8_hf_checkpoint_trains_as_its_dequantized_weights(project, tmp_path):
    """An FP8 release of the seed (its linear layers' weights in blocks of 16,
    each with its scale, as DeepSeek-V3's and the -FP8 releases store them)
    trains from --checkpoint.initial_load_in_hf_quantized as its dequantized
    weights do from a plain HF folder."""
    weights = {}
    for shard in project.hf_seed().glob("*.safetensors"):
        weights.update(load_file(shard))
    stored, dequantized = fp8_release(weights, block=16)
    assert any(value.dtype == torch.float8_e4m3fn for value in stored.values())
    quantization = {"quant_method": "fp8", "weight_block_size": [16, 16]}
    # Under TP2, each rank reads its rows of the FP8 blocks.
    layouts = {"fp8": Layout(), "fp8-TP2": LAYOUTS["TP2"]}
    losses = project.quantized_release_losses(
        tmp_path, (stored, dequantized), quantization, layouts
    )
    assert max_diff(losses["dequantized"], losses["fp8"]) <= TOLERANCE
    assert max_diff(losses["dequantized"], losses["fp8-TP2"]) <= TOLERANCE


def hf_import_args(hf_dir, folder):
    """Trainer flags that start from the HF weights in `hf_dir` (`folder`, the
    checkpoint folder, stays empty)."""
    return [
        "--checkpoint.enable",
        "--checkpoint.initial_load_in_hf",
        "--checkpoint.load_only",
        "--checkpoint.folder",
        str(folder),
        "--model.hf_assets_path",
        str(hf_dir),
    ]


# Sharded layouts for the HF tests: each alone; FSDP over TP, whose 2-D mesh shards
# the weights by rows twice; HSDP, whose 2-D mesh replicates them over one dimension
# (stacked matrices are sharded as their parts are); TP over more ranks than a debug
# flavor's 2 key/value heads, which it replicates (the norms-across-heads rehearsal
# runs it too).
HF_LAYOUTS = {
    "TP2": LAYOUTS["TP2"],
    "FSDP2": LAYOUTS["FSDP2"],
    "FSDP2xTP2": Layout(nproc=4, fsdp=2, tp=2),
    "HSDP2x2": LAYOUTS["HSDP2x2"],
    "TP4": Layout(nproc=4, tp=4),
}
# Those that shard the Phi-3-layout model's weights each its own way (it has 4
# key/value heads in its debug flavor, which TP4 would only split further).
PHI3_LAYOUTS = ["TP2", "FSDP2", "FSDP2xTP2", "HSDP2x2"]


# The model with RoPE on half of each head, whose adapter reorders part of each
# head's rows: under TP and FSDP those rows are spread over the ranks.
@pytest.mark.parametrize("project", ["tied_qknorm_bias_layernorm"], indirect=True)
def test_hf_export_from_sharded_weights_equals_one_process(project):
    assert len(project.assert_hf_exports_equal_one_process(PHI3_LAYOUTS)) > 10


# The model whose adapter stacks q/k/v and gate/up (Phi-3's layout): loading splits
# those matrices again, into weights the layout shards.
@pytest.mark.parametrize("project", ["tied_qknorm_bias_layernorm"], indirect=True)
@pytest.mark.parametrize("layout", PHI3_LAYOUTS)
def test_hf_import_into_sharded_weights_equals_one_process(project, layout, tmp_path):
    project.assert_hf_import_matches_baseline(layout, tmp_path / "unused")


# StableLM 2 12B's blocks: side by side from one LayerNorm, a bias-free LayerNorm per
# query and key head, RoPE on a quarter of each head. StableLM keeps each head's norm
# under a key of its own, which the adapter splits and stacks.
STABLELM2 = {
    "norm": "layernorm",
    "norm_placement": "parallel",
    "qk_norm": True,
    "qk_norm_scope": "head_weights",
    "positional": "rope",
    "rope_fraction": 0.25,
}


@pytest.fixture(scope="module")
def stablelm_project(tmp_path_factory):
    return Project(tmp_path_factory.mktemp("stablelm2"), STABLELM2)


# The 2-D meshes only (their placements are the hardest to load into): TP and FSDP
# alone take the same code path in the Phi-3-layout tests above.
PER_HEAD_NORM_LAYOUTS = ["FSDP2xTP2", "HSDP2x2"]


def test_hf_per_head_norms_save_sharded_as_one_process(stablelm_project):
    readme = (stablelm_project.model_dir / "README.md").read_text()
    assert "StableLmForCausalLM" in readme
    saved = stablelm_project.assert_hf_exports_equal_one_process(PER_HEAD_NORM_LAYOUTS)
    assert "model.layers.0.self_attn.q_layernorm.norms.3.weight" in saved


@pytest.mark.parametrize("layout", PER_HEAD_NORM_LAYOUTS)
def test_hf_per_head_norms_load_sharded_as_one_process(
    stablelm_project, layout, tmp_path
):
    stablelm_project.assert_hf_import_matches_baseline(layout, tmp_path / "unused")


@pytest.fixture(scope="module")
def multi_query_project(tmp_path_factory):
    # StarCoder's recipe (GPTBigCode): GPT-2's blocks with one key/value head, which
    # TP replicates and whose rows the checkpoints stack after the queries' in c_attn.
    answers = {"positional": "learned", "norm": "layernorm", "ffn": "gelu_tanh"}
    answers |= {"linear_bias": True, "n_kv_heads": 1, "max_seq_len": 1024}
    return Project(tmp_path_factory.mktemp("multi_query"), answers)


# FSDP over TP on a key/value head that TP replicates: its weights are sharded by
# FSDP only, and their gradients, a part on each TP rank, are summed.
def test_multi_query_checkpoints_save_sharded_as_one_process(multi_query_project):
    readme = (multi_query_project.model_dir / "README.md").read_text()
    assert "GPTBigCodeForCausalLM" in readme
    saved = multi_query_project.assert_hf_exports_equal_one_process(["FSDP2xTP2"])
    assert "transformer.h.0.attn.c_attn.weight" in saved


def test_multi_query_checkpoints_load_sharded_as_one_process(
    multi_query_project, tmp_path
):
    multi_query_project.assert_hf_import_matches_baseline(
        "FSDP2xTP2", tmp_path / "unused"
    )
