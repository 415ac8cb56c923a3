"""Checks that travel with the Mytransformer model; keep them passing as you edit it.

Run from the folder that holds `models/`:
    python -m pytest models/mytransformer/tests
"""

import json

import pytest
import torch

from .. import get_train_spec
from ..model.state_dict_adapter import hf_config

SPEC = get_train_spec()
ARGS = SPEC.model_args["debugmodel"]
SEQLEN = 16
# fp32 on CPU: both implementations agree far below this.
TOLERANCE = 1e-4


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = SPEC.model_cls(ARGS)
    with torch.no_grad():
        model.init_weights()
    _randomize_norms_and_biases(model, seed)
    return model.eval()


def _randomize_norms_and_biases(model: torch.nn.Module, seed: int) -> None:
    """Norm weights and every bias away from their init (ones, zeros), where a
    block's norms all look alike and zeros in any order are zeros: parity then
    tells them apart (and one given another's name fails it)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name or name.endswith(".bias"):
                param.add_(0.1 * torch.randn(param.shape, generator=generator))


def _tokens(seqlen: int = SEQLEN) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, ARGS.vocab_size, (2, seqlen), generator=generator)


def test_forward_backward():
    model = _model().train()
    tokens = _tokens()
    logits = model(tokens)
    assert logits.shape == (*tokens.shape, ARGS.vocab_size)
    loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten()
    )
    loss.backward()
    assert torch.isfinite(loss)
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name


@pytest.mark.parametrize("flavor", sorted(SPEC.model_args))
def test_parameter_count_matches_config(flavor):
    args = SPEC.model_args[flavor]
    with torch.device("meta"):
        model = SPEC.model_cls(args)
    nparams, _ = args.get_nparams_and_flops(model, seq_len=2048)
    assert nparams == sum(p.numel() for p in model.parameters())


def test_state_dict_adapter_round_trip():
    state_dict = _model().state_dict()
    adapter = SPEC.state_dict_adapter(ARGS, None)
    back = adapter.from_hf(adapter.to_hf(state_dict))
    assert back.keys() == state_dict.keys()
    for key, value in state_dict.items():
        assert torch.equal(back[key], value), key


transformers = pytest.importorskip(
    "transformers", reason="HF parity needs transformers"
)
# A transformers dependency, so only imported once transformers is there.
from safetensors.torch import load_file, save_file


def _hf_model(seed: int = 1) -> torch.nn.Module:
    config = transformers.AutoConfig.for_model(**hf_config(ARGS))
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(
        config, dtype=torch.float32, attn_implementation="eager"
    )
    _randomize_norms_and_biases(model, seed)
    return model.eval()


def _max_logit_diff(model: torch.nn.Module, hf_model: torch.nn.Module) -> float:
    tokens = _tokens()
    with torch.no_grad():
        return (model(tokens) - hf_model(tokens).logits).abs().max().item()


def test_loads_hugging_face_weights_with_equal_logits(tmp_path):
    hf_model = _hf_model()
    # Through the files a Hub checkpoint has, in the layout the Hub uses.
    hf_model.save_pretrained(tmp_path)
    hf_state_dict = load_file(tmp_path / "model.safetensors")
    adapter = SPEC.state_dict_adapter(ARGS, None)
    model = _model(seed=2)
    # strict: a key missing or unexpected on either side fails with its name.
    model.load_state_dict(adapter.from_hf(hf_state_dict), strict=True)
    assert _max_logit_diff(model, hf_model) <= TOLERANCE


def test_exports_weights_hugging_face_loads_with_equal_logits(tmp_path):
    model = _model()
    adapter = SPEC.state_dict_adapter(ARGS, None)
    # Copies: safetensors refuses tensors that share memory (views of one weight).
    hf_state_dict = {k: v.clone() for k, v in adapter.to_hf(model.state_dict()).items()}
    save_file(hf_state_dict, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps(hf_config(ARGS)))
    hf_model, info = transformers.AutoModelForCausalLM.from_pretrained(
        tmp_path,
        dtype=torch.float32,
        attn_implementation="eager",
        output_loading_info=True,
    )
    assert not info["missing_keys"], info["missing_keys"]
    assert not info["unexpected_keys"], info["unexpected_keys"]
    assert _max_logit_diff(model, hf_model.eval()) <= TOLERANCE
