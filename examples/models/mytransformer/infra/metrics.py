"""Metrics for the Mytransformer model: torchtitan's, with the validation loss
per token under context parallelism too.

torchtitan 0.2.2's validator counts a batch's tokens after cutting its sequences
over the context-parallel ranks and sums that count over the data-parallel ranks
only, so the validation loss it reports is CP-degree times too large
(pytorch/torchtitan#3257, fixed after 0.2.2). The training loss is counted right.
"""

from typing import Any

from torchtitan.components.metrics import MetricsProcessor
from torchtitan.config import JobConfig
from torchtitan.distributed import ParallelDims
from torchtitan.protocols.train_spec import BaseModelArgs


class MytransformerMetricsProcessor(MetricsProcessor):
    def log_validation(
        self, loss: float, step: int, extra_metrics: dict[str, Any] | None = None
    ) -> None:
        # Exact: all tokens are labelled in torchtitan's text datasets, so every
        # CP rank holds the same share of them.
        super().log_validation(loss / self.parallel_dims.cp, step, extra_metrics)


def build_mytransformer_metrics_processor(
    job_config: JobConfig,
    parallel_dims: ParallelDims,
    model_args: BaseModelArgs | None = None,
    tag: str | None = None,
) -> MetricsProcessor:
    """torchtitan's `build_metrics_processor`, with the class above."""
    return MytransformerMetricsProcessor(
        job_config,
        parallel_dims,
        tag,
    )
