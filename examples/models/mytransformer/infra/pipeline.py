"""Pipeline parallelism for the Mytransformer model: torchtitan's `pipeline_llm`,
with the gradients one process computes.

torchtitan 0.2.2 runs each micro-batch's backward on its summed loss and divides
by the step's token count only for the loss it reports (pytorch/torchtitan#2972),
so pipelined gradients come out that many times too large and gradient clipping
always fires.
"""

import torch
from torch import nn
from torch.distributed.pipelining.schedules import _PipelineSchedule
from torchtitan.components.loss import LossFunction
from torchtitan.config import JobConfig
from torchtitan.distributed import ParallelDims
from torchtitan.distributed.pipeline_parallel import pipeline_llm
from torchtitan.protocols.train_spec import BaseModelArgs, ParallelizeFunction

from ..model.config import tokens_per_step


class ScaleGradient(torch.autograd.Function):
    """Identity on `x` whose backward multiplies the gradient by `scale`."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad_output * ctx.scale, None


def pipeline_mytransformer(
    model: nn.Module,
    parallel_dims: ParallelDims,
    job_config: JobConfig,
    device: torch.device,
    model_args: BaseModelArgs,
    parallelize_fn: ParallelizeFunction,
    loss_fn: LossFunction,
) -> tuple[_PipelineSchedule, list[nn.Module], bool, bool]:
    """Split `model` into stages and build their schedule, as `pipeline_llm` does."""
    # The Trainer divides by the step's labelled tokens, known only inside its
    # step; all tokens are labelled in torchtitan's text datasets, so this is it.
    scale = 1.0 / tokens_per_step(job_config)

    def per_token_loss(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        # The value stays the sum the Trainer reports; its gradient is per token,
        # as the Trainer's own backward outside pipelining is.
        return ScaleGradient.apply(loss_fn(pred, labels), scale)

    schedule, model_parts, has_first_stage, has_last_stage = pipeline_llm(
        model,
        parallel_dims,
        job_config,
        device,
        model_args,
        parallelize_fn,
        per_token_loss,
    )
    return schedule, model_parts, has_first_stage, has_last_stage
