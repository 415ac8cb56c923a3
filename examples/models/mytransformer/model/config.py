"""Hyperparameters of the Mytransformer model."""

import os
from dataclasses import dataclass

from torch import nn
from torchtitan.config import JobConfig
from torchtitan.distributed import ParallelDims
from torchtitan.protocols.model import BaseModelArgs
from torchtitan.tools.logging import logger


@dataclass
class MytransformerModelArgs(BaseModelArgs):
    dim: int = 2048
    n_layers: int = 16
    n_heads: int = 32
    n_kv_heads: int = 8
    vocab_size: int = 128256
    ffn_dim_multiplier: float = 1.5
    multiple_of: int = 256
    norm_eps: float = 1e-05
    rope_theta: float = 500000.0
    rope_scaling_factor: float = 32.0
    rope_original_max_seq_len: int = 8192
    rope_low_freq_factor: float = 1.0
    rope_high_freq_factor: float = 4.0
    max_seq_len: int = 131072
    # Scale each block's output-projection init by its depth (True) or by n_layers.
    depth_init: bool = True

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @property
    def ffn_hidden_dim(self) -> int:
        # Llama rule: 8/3 * dim, scaled, rounded up to multiple_of.
        hidden = int(8 * self.dim / 3)
        hidden = int(self.ffn_dim_multiplier * hidden)
        return self.multiple_of * ((hidden + self.multiple_of - 1) // self.multiple_of)

    def update_from_config(self, job_config: JobConfig, **kwargs) -> None:
        seq_len = job_config.training.seq_len
        if seq_len > self.max_seq_len:
            logger.warning(
                f"training.seq_len {seq_len} exceeds max_seq_len {self.max_seq_len}."
            )
        self.max_seq_len = seq_len
        tp = job_config.parallelism.tensor_parallel_degree
        # TP splits the key/value heads, or replicates them where it outnumbers
        # them (infra/parallelize.py).
        kv_heads_fit = self.n_kv_heads % tp == 0 or tp % self.n_kv_heads == 0
        if self.n_heads % tp != 0 or not kv_heads_fit:
            raise ValueError(
                f"tensor_parallel_degree {tp} must divide n_heads {self.n_heads} and "
                f"divide n_kv_heads {self.n_kv_heads} or be a multiple of it."
            )

    def get_nparams_and_flops(self, model: nn.Module, seq_len: int) -> tuple[int, int]:
        """Parameter count and training FLOPs per token, derived from the args."""
        q_dim = self.n_heads * self.head_dim
        kv_dim = self.n_kv_heads * self.head_dim
        attention = self.dim * (q_dim + 2 * kv_dim) + q_dim * self.dim
        attention += 2 * self.head_dim
        feed_forward = self.n_layers * 3 * self.dim * self.ffn_hidden_dim
        norm = self.dim
        block = attention + 2 * norm
        embedding = self.vocab_size * self.dim
        nparams = 2 * embedding + self.n_layers * block + feed_forward + norm
        # 6 FLOPs per weight per token for every matmul (the output projection
        # included, the embedding lookup not), plus 6 * 2 * head_dim per head
        # and position for the attention scores and values.
        matmul_params = nparams - embedding
        attention_flops = 12 * self.n_layers * self.n_heads * self.head_dim * seq_len
        return nparams, 6 * matmul_params + attention_flops


def tokens_per_step(job_config: JobConfig) -> int:
    """Tokens in one optimizer step over all data-parallel ranks, counted as
    torchtitan's Trainer counts its global batch."""
    training, parallelism = job_config.training, job_config.parallelism
    global_batch_size = training.global_batch_size
    if global_batch_size < 0:
        dims = ParallelDims(
            dp_replicate=parallelism.data_parallel_replicate_degree,
            dp_shard=parallelism.data_parallel_shard_degree,
            cp=parallelism.context_parallel_degree,
            tp=parallelism.tensor_parallel_degree,
            pp=parallelism.pipeline_parallel_degree,
            ep=parallelism.expert_parallel_degree,
            etp=parallelism.expert_tensor_parallel_degree,
            world_size=int(os.environ.get("WORLD_SIZE", "1")),
        )
        data_parallel_degree = dims.dp_replicate * dims.dp_shard
        global_batch_size = training.local_batch_size * data_parallel_degree
    return global_batch_size * training.seq_len
