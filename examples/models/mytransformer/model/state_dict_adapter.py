"""Convert Mytransformer state dicts to and from Hugging Face's Llama-family names."""

import json
from pathlib import Path
from typing import Any

import torch
from torch.distributed.checkpoint import HuggingFaceStorageReader
from torch.distributed.checkpoint.quantized_hf_storage import (
    QuantizedHuggingFaceStorageReader,
)
from torch.distributed.tensor import DTensor, Replicate
from torchtitan.protocols.state_dict_adapter import StateDictAdapter

from .config import MytransformerModelArgs

# torchtitan name -> Hugging Face name, for the keys outside the blocks.
_TOP_LEVEL_KEYS = {
    "tok_embeddings.weight": "model.embed_tokens.weight",
    "norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}

# torchtitan name -> Hugging Face name, inside block `layers.<i>` / `model.layers.<i>`.
_BLOCK_KEYS = {
    "attention.wq.weight": "self_attn.q_proj.weight",
    "attention.wk.weight": "self_attn.k_proj.weight",
    "attention.wv.weight": "self_attn.v_proj.weight",
    "attention.wo.weight": "self_attn.o_proj.weight",
    "attention.q_norm.weight": "self_attn.q_norm.weight",
    "attention.k_norm.weight": "self_attn.k_norm.weight",
    "feed_forward.w1.weight": "mlp.gate_proj.weight",
    "feed_forward.w3.weight": "mlp.up_proj.weight",
    "feed_forward.w2.weight": "mlp.down_proj.weight",
    "attention_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
}


def _interleaved_to_halves(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Reorder each head's rows from RoPE pairs (x0, y0, x1, y1, ...) to (x0, x1, ..., y0, y1, ...)."""
    return w.reshape(n_heads, -1, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def _halves_to_interleaved(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Inverse of `_interleaved_to_halves`."""
    return w.reshape(n_heads, 2, -1, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def _whole_heads(value: Any, n_heads: int) -> Any:
    """`value` with each of its `n_heads` heads whole on a rank, for reordering its
    rows: a weight whose shards split a head (FSDP over a norm's one head, or
    over more ranks than key/value heads) is replicated; DCP could not save the
    reordered shards."""
    if not isinstance(value, DTensor):
        return value
    shards = 1
    for size, placement in zip(value.device_mesh.shape, value.placements):
        if placement.is_shard(0):
            shards *= size
    if n_heads % shards == 0:
        return value
    mesh = value.device_mesh
    return value.redistribute(mesh, [Replicate()] * mesh.ndim)


# The transformers class that has this exact architecture.
HF_ARCHITECTURE = "Qwen3ForCausalLM"


def hf_config(
    model_args: MytransformerModelArgs,
) -> dict[str, Any]:
    """config.json that makes `Qwen3ForCausalLM` load weights from `to_hf`."""
    return {
        "architectures": [HF_ARCHITECTURE],
        "model_type": "qwen3",
        "vocab_size": model_args.vocab_size,
        "hidden_size": model_args.dim,
        "intermediate_size": model_args.ffn_hidden_dim,
        "num_hidden_layers": model_args.n_layers,
        "num_attention_heads": model_args.n_heads,
        "num_key_value_heads": model_args.n_kv_heads,
        "head_dim": model_args.head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": model_args.max_seq_len,
        "rms_norm_eps": model_args.norm_eps,
        "rope_theta": model_args.rope_theta,
        "rope_scaling": {
            "rope_type": "llama3",
            "factor": model_args.rope_scaling_factor,
            "low_freq_factor": model_args.rope_low_freq_factor,
            "high_freq_factor": model_args.rope_high_freq_factor,
            "original_max_position_embeddings": model_args.rope_original_max_seq_len,
        },
        "attention_bias": False,
        "use_sliding_window": False,
        "tie_word_embeddings": False,
    }


def _fp8_block_size(path: str) -> int:
    """The side of the square blocks that share one scale in the FP8 Hugging Face
    checkpoint at `path`, as the quantization_config of its config.json gives it."""
    config = Path(path) / "config.json"
    if not config.is_file():
        raise ValueError(f"{path} has no config.json to give its FP8 block size")
    quantization = json.loads(config.read_text()).get("quantization_config") or {}
    block = quantization.get("weight_block_size") or []
    if quantization.get("quant_method") != "fp8" or len(set(block)) != 1:
        raise ValueError(
            f"{config}: quantization_config {quantization} is not FP8 in square "
            "blocks (quant_method fp8, weight_block_size [b, b]), the quantized "
            "format this adapter reads"
        )
    return block[0]


class MytransformerStateDictAdapter(StateDictAdapter):
    def __init__(
        self,
        model_args: MytransformerModelArgs,
        hf_assets_path: str | None,
    ):
        super().__init__(model_args, hf_assets_path)
        self.model_args = model_args
        self.from_hf_map = {hf: tt for tt, hf in _TOP_LEVEL_KEYS.items()}
        self.from_hf_block_map = {hf: tt for tt, hf in _BLOCK_KEYS.items()}
        # Heads whose rows RoPE rotates; a norm's weight follows the rows it scales.
        self.rotary_heads = {
            "attention.wq.weight": model_args.n_heads,
            "attention.wk.weight": model_args.n_kv_heads,
            "attention.q_norm.weight": 1,
            "attention.k_norm.weight": 1,
        }

    def get_hf_storage_reader(
        self, path: str, from_quantized: bool = False
    ) -> HuggingFaceStorageReader:
        """Reads the Hugging Face checkpoint at `path`; with
        --checkpoint.initial_load_in_hf_quantized, one whose weights are FP8 in
        square blocks, each block with its scale in weight_scale_inv (DeepSeek-V3's
        and the -FP8 releases' format), dequantized as they are read."""
        if not from_quantized:
            return HuggingFaceStorageReader(path)
        return QuantizedHuggingFaceStorageReader(path, block_size=_fp8_block_size(path))

    def to_hf(self, state_dict: dict[str, Any]) -> dict[str, Any]:
        hf_state_dict = {}
        for key, value in state_dict.items():
            if key.startswith("layers."):
                _, layer, name = key.split(".", 2)
                if name not in _BLOCK_KEYS:
                    raise KeyError(f"no Hugging Face name for {key!r}")
                if name in self.rotary_heads:
                    heads = self.rotary_heads[name]
                    value = _interleaved_to_halves(_whole_heads(value, heads), heads)
                hf_state_dict[f"model.layers.{layer}.{_BLOCK_KEYS[name]}"] = value
            elif key in _TOP_LEVEL_KEYS:
                hf_state_dict[_TOP_LEVEL_KEYS[key]] = value
            else:
                raise KeyError(f"no Hugging Face name for {key!r}")
        return hf_state_dict

    def from_hf(self, hf_state_dict: dict[str, Any]) -> dict[str, Any]:
        state_dict = {}
        for hf_key, value in hf_state_dict.items():
            if hf_key.startswith("model.layers."):
                layer, hf_name = hf_key.removeprefix("model.layers.").split(".", 1)
                if hf_name.endswith("rotary_emb.inv_freq"):
                    continue  # a buffer some checkpoints carry; recomputed here
                if hf_name not in self.from_hf_block_map:
                    raise KeyError(f"unexpected Hugging Face key {hf_key!r}")
                name = self.from_hf_block_map[hf_name]
                if name in self.rotary_heads:
                    heads = self.rotary_heads[name]
                    value = _halves_to_interleaved(_whole_heads(value, heads), heads)
                state_dict[f"layers.{layer}.{name}"] = value
            elif hf_key in self.from_hf_map:
                state_dict[self.from_hf_map[hf_key]] = value
            else:
                raise KeyError(f"unexpected Hugging Face key {hf_key!r}")
        return state_dict
