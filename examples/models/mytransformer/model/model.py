"""The Mytransformer decoder-only transformer.

RoPE is applied to interleaved pairs in complex form, as in Meta's Llama code; the
state dict adapter permutes q/k weights to and from Hugging Face's half-split layout.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torchtitan.components.tokenizer import BaseTokenizer
from torchtitan.models.attention import ScaledDotProductAttentionWrapper
from torchtitan.models.utils import trunc_normal_
from torchtitan.protocols.model import AttentionMasksType
from torchtitan.protocols.train_spec import ModelProtocol

from .config import MytransformerModelArgs


def precompute_freqs_cis(
    model_args: MytransformerModelArgs,
) -> torch.Tensor:
    """Rotation of every (position, pair) as a complex number, shape (max_seq_len, head_dim // 2)."""
    dim = model_args.head_dim
    theta = model_args.rope_theta
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim))
    freqs = _llama3_scaled(freqs, model_args)
    t = torch.arange(model_args.max_seq_len, device=freqs.device)
    freqs = torch.outer(t, freqs).float()
    return torch.polar(torch.ones_like(freqs), freqs)


def _llama3_scaled(
    freqs: torch.Tensor,
    model_args: MytransformerModelArgs,
) -> torch.Tensor:
    """Llama 3 scaling: slow the low frequencies, keep the high ones, blend between."""
    factor = model_args.rope_scaling_factor
    low_freq_factor = model_args.rope_low_freq_factor
    high_freq_factor = model_args.rope_high_freq_factor
    old_context_len = model_args.rope_original_max_seq_len
    wavelen = 2 * math.pi / freqs
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    scaled = torch.where(wavelen > low_freq_wavelen, freqs / factor, freqs)
    smooth = (old_context_len / wavelen - low_freq_factor) / (
        high_freq_factor - low_freq_factor
    )
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
    return torch.where(is_medium, smoothed, scaled)


def apply_rotary_emb(
    xq: torch.Tensor,
    xk: torch.Tensor,
    freqs_cis: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate (bs, seqlen, heads, head_dim) queries and keys.

    `positions` (1 or bs rows of seqlen indices) picks rotations for shuffled or
    sharded sequences, as context parallelism passes them.
    """
    seqlen = xq.shape[1]
    if positions is None:
        freqs_cis = freqs_cis[:seqlen].view(1, seqlen, 1, -1)
    else:
        freqs_cis = freqs_cis[positions].view(positions.shape[0], seqlen, 1, -1)
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


class Attention(nn.Module):
    """Causal self-attention with grouped-query key/value heads."""

    def __init__(self, model_args: MytransformerModelArgs):
        super().__init__()
        self.n_heads = model_args.n_heads
        self.n_kv_heads = model_args.n_kv_heads
        self.head_dim = model_args.head_dim
        self.enable_gqa = self.n_heads > self.n_kv_heads
        q_dim = self.n_heads * self.head_dim
        kv_dim = self.n_kv_heads * self.head_dim
        self.wq = nn.Linear(model_args.dim, q_dim, bias=False)
        self.wk = nn.Linear(model_args.dim, kv_dim, bias=False)
        self.wv = nn.Linear(model_args.dim, kv_dim, bias=False)
        self.wo = nn.Linear(q_dim, model_args.dim, bias=False)
        self.q_norm = nn.RMSNorm(self.head_dim, eps=model_args.norm_eps)
        self.k_norm = nn.RMSNorm(self.head_dim, eps=model_args.norm_eps)
        # A module (not a function call) so that context parallelism can wrap it.
        self.inner_attention = ScaledDotProductAttentionWrapper()

    def init_weights(self, init_std: float):
        for linear in (self.wq, self.wk, self.wv):
            trunc_normal_(linear.weight, mean=0.0, std=0.02)
        trunc_normal_(self.wo.weight, mean=0.0, std=init_std)
        self.q_norm.reset_parameters()
        self.k_norm.reset_parameters()

    def forward(
        self,
        x: torch.Tensor,
        freqs_cis: torch.Tensor,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        bs, seqlen, _ = x.shape
        # -1 infers the local head count: tensor parallelism shards the heads.
        xq = self.wq(x).view(bs, seqlen, -1, self.head_dim)
        xk = self.wk(x).view(bs, seqlen, -1, self.head_dim)
        xv = self.wv(x).view(bs, seqlen, -1, self.head_dim)
        xq, xk = self.q_norm(xq), self.k_norm(xk)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis, positions)
        output = self.inner_attention(
            xq.transpose(1, 2),  # (bs, n_local_heads, seqlen, head_dim)
            xk.transpose(1, 2),  # (bs, n_local_kv_heads, seqlen, head_dim)
            xv.transpose(1, 2),
            enable_gqa=self.enable_gqa,
        )
        output = output.transpose(1, 2).contiguous().view(bs, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1(x)) * w3(x))."""

    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))

    def init_weights(self, init_std: float):
        trunc_normal_(self.w1.weight, mean=0.0, std=0.02)
        for linear in (self.w2, self.w3):
            trunc_normal_(linear.weight, mean=0.0, std=init_std)


class TransformerBlock(nn.Module):
    """Pre-norm block: x + attention(norm(x)), then h + feed_forward(norm(h))."""

    def __init__(
        self,
        layer_id: int,
        model_args: MytransformerModelArgs,
    ):
        super().__init__()
        self.attention = Attention(model_args)
        self.feed_forward = FeedForward(model_args.dim, model_args.ffn_hidden_dim)
        self.attention_norm = nn.RMSNorm(model_args.dim, eps=model_args.norm_eps)
        self.ffn_norm = nn.RMSNorm(model_args.dim, eps=model_args.norm_eps)
        depth = layer_id + 1 if model_args.depth_init else model_args.n_layers
        self.weight_init_std = 0.02 / (2 * depth) ** 0.5

    def forward(
        self,
        x: torch.Tensor,
        freqs_cis: torch.Tensor,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = x + self.attention(self.attention_norm(x), freqs_cis, positions)
        return h + self.feed_forward(self.ffn_norm(h))

    def init_weights(self):
        for norm in (self.attention_norm, self.ffn_norm):
            norm.reset_parameters()
        self.attention.init_weights(self.weight_init_std)
        self.feed_forward.init_weights(self.weight_init_std)


class MytransformerModel(ModelProtocol):
    """Token embedding, `n_layers` blocks, final norm and output projection.

    Each attribute may be None so that pipeline parallelism can keep one stage's part.
    """

    def __init__(self, model_args: MytransformerModelArgs):
        super().__init__(model_args)
        self.model_args = model_args
        self.tok_embeddings = nn.Embedding(model_args.vocab_size, model_args.dim)
        self.register_buffer(
            "freqs_cis", precompute_freqs_cis(model_args), persistent=False
        )
        self.layers = nn.ModuleDict(
            {
                str(i): TransformerBlock(i, model_args)
                for i in range(model_args.n_layers)
            }
        )
        self.norm = nn.RMSNorm(model_args.dim, eps=model_args.norm_eps)
        self.output = nn.Linear(model_args.dim, model_args.vocab_size, bias=False)

    def init_weights(self, buffer_device: torch.device | None = None):
        buffer_device = buffer_device or self.freqs_cis.device
        with torch.device(buffer_device):
            self.freqs_cis = precompute_freqs_cis(self.model_args)
        if self.tok_embeddings is not None:
            nn.init.normal_(self.tok_embeddings.weight)
        for layer in self.layers.values():
            if layer is not None:
                layer.init_weights()
        if self.norm is not None:
            self.norm.reset_parameters()
        # Small output weights keep the initial logits, and so the first losses, sane.
        std = self.model_args.dim**-0.5
        if self.output is not None:
            trunc_normal_(self.output.weight, mean=0.0, std=std, a=-3 * std, b=3 * std)

    def get_attention_masks(
        self,
        input_batch: torch.Tensor,
        tokenizer: BaseTokenizer,
        extra_inputs: dict[str, torch.Tensor] | None = None,
    ) -> AttentionMasksType:
        # torchtitan's validator asks every model for masks and takes a TypeError
        # (not the protocol's NotImplementedError) for "none needed", as with SDPA.
        raise TypeError(f"{type(self).__name__} attends with SDPA: no masks to build")

    def forward(
        self,
        tokens: torch.Tensor,
        attention_masks: AttentionMasksType | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (bs, seqlen, vocab_size); `tokens` are activations on later PP stages.

        The trainer passes `positions` under context parallelism; SDPA with a causal
        mask needs no `attention_masks`.
        """
        h = self.tok_embeddings(tokens) if self.tok_embeddings is not None else tokens
        for layer in self.layers.values():
            h = layer(h, self.freqs_cis, positions)
        h = self.norm(h) if self.norm is not None else h
        return self.output(h) if self.output is not None else h
