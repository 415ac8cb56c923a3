"""Shared fixtures: rendered variants (once per session) and a loader for them."""

import copy
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import copier
import copier._template as copier_template
import jinja2
import pytest
import safetensors.torch
import torch
from torchtitan.models.utils import (
    get_dense_model_nparams_and_flops,
    get_moe_model_nparams_and_flops,
)

from mytitan_scaffold import registry
from mytitan_scaffold.model_package import load_model_package
from mytitan_scaffold.render import recorded_answers
from mytitan_scaffold.template_source import template_root

from .variants import VARIANTS, answers_of

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def jinja_compiles_each_source_once():
    """Copier builds a new Jinja environment for every render, so each of copier.yml's
    expressions and template files was compiled again each time. Compiling is a pure
    function of the source and the environment's settings, so the code is kept across
    renders, as Jinja's own bytecode cache keeps it across processes: what renders is
    the same. 38 of the one-option-away tests took 40.1 s without it, 12.6 s with it."""
    compile_ = jinja2.Environment.compile
    compiled = {}

    def compile_once(
        self, source, name=None, filename=None, raw=False, defer_init=False
    ):
        if not isinstance(source, str):  # a parsed tree: nothing to key it by
            return compile_(self, source, name, filename, raw, defer_init)
        # Extensions' preprocess hooks run as on every parse: copier's `yield` tag
        # resets its state in one.
        processed = self.preprocess(source, name, filename)
        key = (
            type(self),
            jinja2.lexer.get_lexer(self),  # one per set of syntax settings
            tuple(type(extension) for extension in self.extensions.values()),
            frozenset(self.filters),
            frozenset(self.tests),
            self.optimized,
            self.autoescape,
            self.finalize,
            self.is_async,
            processed,
            name,
            filename,
            raw,
            defer_init,
        )
        if key not in compiled:
            compiled[key] = compile_(self, source, name, filename, raw, defer_init)
        return compiled[key]

    jinja2.Environment.compile = compile_once
    yield
    jinja2.Environment.compile = compile_


@pytest.fixture(scope="session", autouse=True)
def copier_parses_each_config_once():
    """Copier parses copier.yml (75 kB, with pure-Python YAML) again for every render:
    0.27 s of a one-option-away test's 0.64 s of rendering, measured. Parsing is a
    pure function of the file's bytes (copier.yml includes no other file), so each
    content is parsed once and every render gets its own copy of the result."""
    load = copier_template.load_template_config
    parsed = {}

    def load_once(conf_path, quiet=False):
        key = (str(conf_path), Path(conf_path).read_bytes(), quiet)
        if key not in parsed:
            parsed[key] = load(conf_path, quiet)
        return copy.deepcopy(parsed[key])

    copier_template.load_template_config = load_once
    yield
    copier_template.load_template_config = load


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Keep the template history and rehearsal assets of the tests out of ~/.cache."""
    path = tmp_path_factory.mktemp("mytitan-cache")
    previous = os.environ.get("MYTITAN_CACHE_DIR")
    os.environ["MYTITAN_CACHE_DIR"] = str(path)
    yield path
    if previous is None:
        del os.environ["MYTITAN_CACHE_DIR"]
    else:
        os.environ["MYTITAN_CACHE_DIR"] = previous


@pytest.fixture(scope="session", autouse=True)
def template_snapshot(tmp_path_factory) -> Path:
    """The working tree's copier.yml and template, copied once into a plain folder.
    From the checkout, a git repository, copier cloned it for every render, under a
    new path each time (so the compiled files above were not reused): the same 38
    tests took 42.6 s so. The files rendered are the same."""
    global _TEMPLATE
    root = template_root()
    _TEMPLATE = tmp_path_factory.mktemp("template")
    shutil.copy2(root / "copier.yml", _TEMPLATE / "copier.yml")
    shutil.copytree(
        root / "template",
        _TEMPLATE / "template",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return _TEMPLATE


_TEMPLATE: Path | None = None


def render_answers(destination: Path, answers: dict) -> Path:
    """Render with plain copier, as a `copier copy` user would (from the template
    snapshot above: its answers file records no `_commit`)."""
    copier.run_copy(
        str(_TEMPLATE),
        str(destination),
        data=answers,
        defaults=True,
        quiet=True,
        unsafe=False,
    )
    return destination


def import_package(model_dir: Path, alias: str):
    """Import a rendered model folder as a package named `alias`."""
    return load_model_package(model_dir, alias)


def assert_ruff_clean(model_dir: Path) -> None:
    """Formatted and lint-clean as rendered, under ruff's default rules."""
    for command in (["format", "--check", "--diff"], ["check", "--no-cache"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated", "."],
            cwd=model_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def debug_model(spec, seed: int = 0) -> torch.nn.Module:
    """The debugmodel flavor, initialized as torchtitan does."""
    torch.manual_seed(seed)
    model = spec.model_cls(spec.model_args["debugmodel"])
    with torch.no_grad():
        model.init_weights()
    return model


def randomize_norms_and_biases(model: torch.nn.Module, seed: int = 0) -> None:
    """Norm weights and every bias away from their init (ones, zeros), where a
    block's norms all look alike and zeros in any order are zeros: logit parity
    then tells them apart (one mapped to another's name fails). Routing biases too,
    kept as parameters (ERNIE 4.5 MoE's) or buffers (DeepSeek-V3's, MiniMax-M2's),
    so that they change which experts route; and attention sinks (gpt-oss's)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name or name.endswith(".bias"):
                param.add_(0.1 * torch.randn(param.shape, generator=generator))
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if name.endswith(".e_score_correction_bias"):
                tensor.add_(0.1 * torch.randn(tensor.shape, generator=generator))
            if name.endswith(".sinks"):
                # gpt-oss's attention sinks, each taking a share of its head's
                # attention that tells heads and layers apart.
                tensor.add_(torch.randn(tensor.shape, generator=generator))


def fp8_release(
    weights: dict[str, torch.Tensor], block: int
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """HF `weights` as an FP8 release stores them (DeepSeek-V3's format): every
    linear layer's weight in float8_e4m3fn with one scale per `block`-square block
    (`<name>_scale_inv`, which the stored values are multiplied by); embeddings,
    norms and lm_head as they are. Returns (stored, dequantized weights)."""
    stored, dequantized = dict(weights), dict(weights)
    for name, value in weights.items():
        if value.dim() != 2 or "embed" in name or "lm_head" in name:
            continue
        rows, cols = value.shape
        scale = torch.empty(-(-rows // block), -(-cols // block))
        quantized = torch.empty_like(value, dtype=torch.float8_e4m3fn)
        for i, j in itertools.product(*(range(n) for n in scale.shape)):
            part = (
                slice(i * block, (i + 1) * block),
                slice(j * block, (j + 1) * block),
            )
            scale[i, j] = value[part].abs().max().clamp(min=1e-12) / 448.0
            quantized[part] = (value[part] / scale[i, j]).to(torch.float8_e4m3fn)
        expanded = scale.repeat_interleave(block, 0).repeat_interleave(block, 1)
        stored[name], stored[f"{name}_scale_inv"] = quantized, scale
        dequantized[name] = quantized.float() * expanded[:rows, :cols]
    return stored, dequantized


# FP4 (E2M1) values by their 4-bit codes, as MXFP4 stores them.
FP4_VALUES = torch.tensor(
    [
        0.0,
        0.5,
        1.0,
        1.5,
        2.0,
        3.0,
        4.0,
        6.0,
        -0.0,
        -0.5,
        -1.0,
        -1.5,
        -2.0,
        -3.0,
        -4.0,
        -6.0,
    ]
)


def mxfp4_release(
    weights: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """gpt-oss's HF `weights` as its own releases store them: each block's stacked
    experts (`gate_up_proj`, `down_proj`, (in, out) in bf16 checkpoints) as (out, in)
    MXFP4, every 32 values of a row sharing a power-of-two scale (`<name>_scales`,
    its exponent + 127) and packed two 4-bit codes a byte, the first in the low
    nibble (`<name>_blocks`); the rest as it is. Returns (stored, dequantized)."""
    stored, dequantized = dict(weights), dict(weights)
    for name, value in weights.items():
        if not name.endswith(("mlp.experts.gate_up_proj", "mlp.experts.down_proj")):
            continue
        rows = value.transpose(1, 2).float()
        groups = rows.reshape(*rows.shape[:-1], -1, 32)
        # The smallest power of two that brings each group within FP4's +-6.
        peak = groups.abs().amax(-1).clamp(min=2.0**-126)
        exponent = torch.ceil(torch.log2(peak / 6)).clamp(min=-127)
        scaled = groups / torch.exp2(exponent).unsqueeze(-1)
        codes = (scaled.unsqueeze(-1) - FP4_VALUES).abs().argmin(-1)
        del stored[name]
        stored[f"{name}_blocks"] = (codes[..., 0::2] | codes[..., 1::2] << 4).to(
            torch.uint8
        )
        stored[f"{name}_scales"] = (exponent + 127).to(torch.uint8)
        values = FP4_VALUES[codes] * torch.exp2(exponent).unsqueeze(-1)
        dequantized[name] = (
            values.reshape(rows.shape).transpose(1, 2).contiguous().to(value.dtype)
        )
    return stored, dequantized


def save_hf_folder(
    folder: Path, weights: dict[str, torch.Tensor], config: dict
) -> Path:
    """`weights` and `config` as an HF checkpoint folder: one safetensors file
    (named as the Hub numbers shards, which torchtitan's adapters parse), its index
    (which the quantized readers need, and transformers with its metadata) and
    config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    shard = "model-00001-of-00001.safetensors"
    safetensors.torch.save_file(weights, folder / shard)
    index = {
        "metadata": {"total_size": sum(v.nbytes for v in weights.values())},
        "weight_map": dict.fromkeys(weights, shard),
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def assert_parameter_counts(spec) -> None:
    """The analytic count equals the instantiated one, and the FLOPs equal what
    torchtitan's own counters derive from the instantiated modules, for every flavor."""
    for flavor, args in spec.model_args.items():
        with torch.device("meta"):
            model = spec.model_cls(args)
        counted = sum(p.numel() for p in model.parameters())
        nparams, flops = args.get_nparams_and_flops(model, 2048)
        assert nparams == counted, flavor
        # Active parameters only, for MoE: torchtitan names experts and routers.
        reference = (
            get_moe_model_nparams_and_flops
            if hasattr(args, "moe_args")
            else get_dense_model_nparams_and_flops
        )
        # Each head's query/key and value widths: latent attention's differ.
        head_dims = (
            args.head_dim + args.qk_rope_head_dim + args.v_head_dim
            if hasattr(args, "kv_lora_rank")
            else 2 * args.head_dim
        )
        _, expected = reference(args, model, head_dims, 2048)
        if model.output.weight is model.tok_embeddings.weight:
            # torchtitan leaves a tied output projection out; it is a matmul all the same.
            expected += 6 * args.vocab_size * args.dim
        positions = getattr(model.layers["0"], "pos_embeddings", None)
        if positions is not None and reference is get_dense_model_nparams_and_flops:
            # Its dense count takes only the top-level embeddings for lookups (the
            # MoE one, every parameter named "embedding"); the first block's
            # position table is one too.
            expected -= 6 * positions.weight.numel()
        assert flops == expected, flavor


def assert_hf_class_gives_equal_logits(spec, adapter, folder: Path) -> None:
    """The adapter's export, saved with hf_config's config.json and loaded by
    transformers, gives the debug model's logits over more tokens than its window."""
    import transformers  # only the tests that compare with transformers pay for it
    from safetensors.torch import save_file

    args = spec.model_args["debugmodel"]
    model = debug_model(spec).eval()
    randomize_norms_and_biases(model)
    exported = spec.state_dict_adapter(args, None).to_hf(model.state_dict())
    # Copies: safetensors refuses tensors that share memory (views of one weight).
    save_file({k: v.clone() for k, v in exported.items()}, folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(adapter.hf_config(args)))
    hf_model, info = transformers.AutoModelForCausalLM.from_pretrained(
        folder,
        dtype=torch.float32,
        attn_implementation="eager",
        output_loading_info=True,
    )
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    seqlen = getattr(args, "sliding_window", 0) + 16
    tokens = torch.randint(
        0, args.vocab_size, (2, seqlen), generator=torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        diff = (model(tokens) - hf_model.eval()(tokens).logits).abs().max().item()
    assert diff <= 1e-4, f"{adapter.HF_ARCHITECTURE}: max |logit diff| {diff}"


# Answers that name things, not the architecture, and sizes one shape can be
# written in two ways (derived, or explicit: feed-forward, expert and head sizes).
_NAMES = {"_commit", "_src_path", "model_name", "model_class", "flavor_name"}
_SIZING = {
    "ffn_hidden_dim",
    "ffn_dim_multiplier",
    "multiple_of",
    "head_dim",
    "moe_hidden_dim",
}
# Training-only answers a config.json does not carry; it says whether routing
# biases exist, not how training balances the experts otherwise.
_TRAINING = {"moe_aux_loss_coeff", "moe_bias_update_rate", "expert_parallel_degree"}


def assert_hf_config_reads_back(
    model_dir: Path, spec, adapter, alias: str, workdir: Path
) -> None:
    """`mytitan new --from-hf` on the config.json of the main flavor gives the same
    architecture answers, and a model with the same weight shapes."""
    from mytitan_scaffold.hf_import import answers_from_hf_config

    ours = recorded_answers(model_dir)
    ours["extra_flavors"] = {}
    args = spec.model_args[ours["flavor_name"]]
    config = workdir / "config.json"
    config.write_text(json.dumps(adapter.hf_config(args)))
    answers = answers_from_hf_config(config)
    answers.update(model_name=alias, extra_flavors={})
    back_dir = render_answers(workdir / alias, answers)
    theirs = recorded_answers(back_dir)
    for answers_file in (ours, theirs):
        balancing = answers_file.get("moe_load_balancing")
        answers_file["moe_load_balancing"] = balancing == "expert_bias"
    differ = {
        key: (ours.get(key), theirs.get(key))
        for key in (ours.keys() | theirs.keys()) - _NAMES - _SIZING - _TRAINING
        if ours.get(key) != theirs.get(key)
    }
    assert not differ, differ
    back_spec = import_package(back_dir, alias).get_train_spec()
    with torch.device("meta"):
        model = spec.model_cls(args)
        back_model = back_spec.model_cls(back_spec.model_args[answers["flavor_name"]])
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert {k: v.shape for k, v in back_model.state_dict().items()} == shapes


@pytest.fixture(scope="session")
def variants_project(tmp_path_factory) -> Path:
    """A project folder whose `models` package holds every variant, registered."""
    root = tmp_path_factory.mktemp("variants")
    names = []
    for variant in VARIANTS:
        answers = answers_of(variant)
        render_answers(root / "models" / answers["model_name"], answers)
        names.append(answers["model_name"])
    source = registry.new_registry_source(names[0])
    for name in names[1:]:
        source = registry.add_model(source, name)
    (root / "models" / "__init__.py").write_text(source)
    return root


@pytest.fixture(scope="session")
def rendered_variants(variants_project) -> dict[str, Path]:
    models = variants_project / "models"
    return {v: models / answers_of(v)["model_name"] for v in VARIANTS}
