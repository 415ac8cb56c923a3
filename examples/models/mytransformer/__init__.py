"""Mytransformer: a torchtitan model package rendered by mytitan.

Flavors are the sizes torchtitan's `--model.flavor` selects; `get_train_spec`
tells torchtitan's Trainer how to build, parallelize and train the model.
"""

from torchtitan.components.loss import build_cross_entropy_loss
from torchtitan.components.lr_scheduler import build_lr_schedulers
from torchtitan.components.optimizer import build_optimizers
from torchtitan.components.tokenizer import build_hf_tokenizer
from torchtitan.components.validate import build_validator
from torchtitan.hf_datasets.text_datasets import build_text_dataloader
from torchtitan.protocols.train_spec import TrainSpec

from .infra import (
    build_mytransformer_metrics_processor,
    parallelize_mytransformer,
    pipeline_mytransformer,
)
from .model import (
    MytransformerModel,
    MytransformerModelArgs,
    MytransformerStateDictAdapter,
)

__all__ = [
    "MytransformerModel",
    "MytransformerModelArgs",
    "get_train_spec",
]

mytransformer_args = {
    "debugmodel": MytransformerModelArgs(
        dim=256,
        n_layers=4,
        n_heads=16,
        n_kv_heads=4,
        vocab_size=2048,
        ffn_dim_multiplier=1.5,
        multiple_of=64,
        max_seq_len=2048,
    ),
    "1B": MytransformerModelArgs(
        dim=2048,
        n_layers=16,
        n_heads=32,
        n_kv_heads=8,
        vocab_size=128256,
        ffn_dim_multiplier=1.5,
        multiple_of=256,
        max_seq_len=131072,
    ),
    "8B": MytransformerModelArgs(
        dim=4096,
        n_layers=32,
        n_heads=32,
        n_kv_heads=8,
        vocab_size=128256,
        ffn_dim_multiplier=1.3,
        multiple_of=1024,
        max_seq_len=131072,
    ),
}


def get_train_spec() -> TrainSpec:
    return TrainSpec(
        model_cls=MytransformerModel,
        model_args=mytransformer_args,
        parallelize_fn=parallelize_mytransformer,
        pipelining_fn=pipeline_mytransformer,
        build_optimizers_fn=build_optimizers,
        build_lr_schedulers_fn=build_lr_schedulers,
        build_dataloader_fn=build_text_dataloader,
        build_tokenizer_fn=build_hf_tokenizer,
        build_loss_fn=build_cross_entropy_loss,
        build_validator_fn=build_validator,
        # Reports the validation loss per token under context parallelism too.
        build_metrics_processor_fn=build_mytransformer_metrics_processor,
        state_dict_adapter=MytransformerStateDictAdapter,
    )
