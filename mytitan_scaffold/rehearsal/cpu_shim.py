"""CPU workarounds that let torchtitan's own Trainer run on CPU over gloo.

The rehearsal runner passes this module as `--experimental.custom_import`, so
torchtitan imports it at the start of `Trainer.__init__`, before it touches a
device. Every workaround patches torch or torchtitan objects in memory (never
their files) and is safe to apply twice. The user's own custom_import, taken
from `$MYTITAN_CUSTOM_IMPORT`, is imported last.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.fsdp import FSDPModule
from torch.distributed.tensor import DTensor, Shard
from torch.distributed.tensor._op_schema import OpSchema, OpStrategy
from torch.distributed.tensor._ops.utils import expand_to_full_mesh_op_strategy
from torch.distributed.tensor.experimental._context_parallel import (
    _attention as cp_attention,
)
from torch.distributed.tensor.experimental._context_parallel import (
    _sharding_rules as cp_sharding_rules,
)
from torchtitan.components.metrics import MetricsProcessor, _get_metrics_rank
from torchtitan.hf_datasets import DatasetConfig, text_datasets
from torchtitan.tools import utils as titan_utils

from .runner import CUSTOM_IMPORT_ENV, DATASET_NAME, FINISHED_DIR_ENV, LOSS_LOG_ENV

_PATCHED = "_mytitan_cpu_shim"
_SEQ_DIM = 2  # SDPA tensors are (batch, heads, sequence, head_dim).
_aten = torch.ops.aten
_CPU_FLASH = _aten._scaled_dot_product_flash_attention_for_cpu.default
_CPU_FLASH_BACKWARD = _aten._scaled_dot_product_flash_attention_for_cpu_backward.default


def _patch_method(owner: Any, name: str, make: Callable[[Callable], Callable]) -> None:
    """Replace `owner.name` with `make(original)`, once."""
    original = getattr(owner, name)
    if getattr(original, _PATCHED, False):
        return
    replacement = make(original)
    setattr(replacement, _PATCHED, True)
    setattr(owner, name, replacement)


def _peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class CpuDeviceModule:
    """`torch.cpu` plus the `torch.cuda`-style calls torchtitan makes on its device module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(torch.cpu, name)

    @staticmethod
    def current_device() -> int:
        # torch.cpu returns "cpu"; torchtitan passes it to barrier(device_ids=[...]).
        return 0

    @staticmethod
    def set_device(device: torch.device | str | int) -> None:
        pass

    @staticmethod
    def get_device_name(device: torch.device | str | None = None) -> str:
        return platform.processor() or "cpu"

    @staticmethod
    def get_device_properties(device: torch.device | str | None = None) -> Any:
        total_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return SimpleNamespace(total_memory=total_memory)

    @staticmethod
    def memory_stats(device: torch.device | str | None = None) -> dict[str, int]:
        # The metrics' memory column shows the process's peak resident memory.
        peak_rss = _peak_rss_bytes()
        return {"active_bytes.all.peak": peak_rss, "reserved_bytes.all.peak": peak_rss}

    @staticmethod
    def reset_peak_memory_stats(device: torch.device | str | None = None) -> None:
        pass

    @staticmethod
    def empty_cache() -> None:
        pass


def use_cpu_device() -> None:
    # With no accelerator torchtitan falls back to "cuda"; every module that
    # imported device_type/device_module by name must see the CPU instead.
    if titan_utils.device_type == "cpu":
        return
    cuda_type, cuda_module = titan_utils.device_type, titan_utils.device_module
    cpu_module = CpuDeviceModule()
    titan_utils.get_device_info = lambda: ("cpu", cpu_module)
    for name, module in list(sys.modules.items()):
        if not name.startswith("torchtitan") or module is None:
            continue
        if getattr(module, "device_type", None) == cuda_type:
            module.device_type = "cpu"
        if getattr(module, "device_module", None) is cuda_module:
            module.device_module = cpu_module


def force_sum_reduction_in_fsdp() -> None:
    # torchtitan sets gradient divide factor 1.0, which makes FSDP reduce with
    # ReduceOp.PREMUL_SUM; gloo lacks it, and SUM plus a local divide is the same math.
    def make(original: Callable) -> Callable:
        def set_gradient_divide_factor(self: FSDPModule, factor: float) -> None:
            original(self, factor)
            self.set_force_sum_reduction_for_comms(True)

        return set_gradient_divide_factor

    _patch_method(FSDPModule, "set_gradient_divide_factor", make)


def _ring_cpu_flash_attention(
    mesh: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    attn_mask: torch.Tensor | None = None,  # always None: the handler rejects masks
    scale: float | None = None,
) -> tuple[torch.Tensor, ...]:
    return cp_attention._templated_ring_attention(
        mesh.get_group(),
        _SEQ_DIM,
        _CPU_FLASH,
        query=query,
        key=key,
        value=value,
        is_causal=is_causal,
        dropout_p=dropout_p,
        scale=scale,
    )


def _ring_cpu_flash_attention_backward(
    mesh: Any,
    grad_out: torch.Tensor,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    out: torch.Tensor,
    logsumexp: torch.Tensor,
    dropout_p: float,
    is_causal: bool,
    *,
    attn_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, ...]:
    return cp_attention._templated_ring_attention_backward(
        mesh.get_group(),
        _SEQ_DIM,
        _CPU_FLASH_BACKWARD,
        grad_out=grad_out,
        grad_out_name="grad_out",
        query=query,
        key=key,
        value=value,
        out=out,
        logsumexp=logsumexp,
        is_causal=is_causal,
        dropout_p=dropout_p,
        scale=scale,
    )


_RING_CPU_OPS: dict[Any, Callable[..., tuple[torch.Tensor, ...]]] = {
    _CPU_FLASH: _ring_cpu_flash_attention,
    _CPU_FLASH_BACKWARD: _ring_cpu_flash_attention_backward,
}


def _cpu_sdpa_handler(
    op_call: Any, args: tuple[object, ...], kwargs: dict[str, object]
) -> object:
    """Mirror of torch's CP `_sdpa_handler`, for the CPU flash attention ops."""
    if kwargs.get("attn_mask") is not None:
        raise NotImplementedError(
            "context parallel on CPU needs SDPA without attn_mask"
        )
    dispatcher = DTensor._op_dispatcher
    op_info = dispatcher.unwrap_to_op_info(op_call, args, kwargs)
    dispatcher.sharding_propagator.propagate(op_info)
    output_sharding = op_info.output_sharding
    if output_sharding is None or output_sharding.needs_redistribute:
        raise AssertionError(
            f"{op_call}: CP inputs must all be sharded on the sequence"
        )
    local_results = _RING_CPU_OPS[op_call](
        op_info.compute_mesh, *op_info.local_args, **op_info.local_kwargs
    )
    return dispatcher.wrap(local_results, output_sharding.output_spec)


# The CP handler always runs ring attention, so the only strategy it can honour
# is every tensor sharded on the sequence; anything else fails in the handler.
def _cpu_flash_cp_strategy(op_schema: OpSchema) -> OpStrategy:
    # Tensors: output, logsumexp | query, key, value.
    return expand_to_full_mesh_op_strategy(
        op_schema.get_mesh_from_args(),
        op_schema,
        [[Shard(_SEQ_DIM)] * 5],
        input_index=2,
    )


def _cpu_flash_backward_cp_strategy(op_schema: OpSchema) -> OpStrategy:
    # Tensors: grad query, key, value | grad_out, query, key, value, out, logsumexp.
    return expand_to_full_mesh_op_strategy(
        op_schema.get_mesh_from_args(validate=False),
        op_schema,
        [[Shard(_SEQ_DIM)] * 9],
        input_index=3,
    )


def _register_cpu_flash_cp_strategies() -> None:
    # Joins torch's CP rules so they are installed and removed together.
    contexts = cp_sharding_rules._cp_strategy_contexts
    for op, strategy in (
        (_CPU_FLASH, _cpu_flash_cp_strategy),
        (_CPU_FLASH_BACKWARD, _cpu_flash_backward_cp_strategy),
    ):
        if op not in contexts:
            context = cp_sharding_rules._op_strategy_context(op, strategy)
            context.__enter__()
            contexts[op] = context


def enable_context_parallel_on_cpu() -> None:
    # torch's CP dispatcher only knows the CUDA SDPA ops; on CPU SDPA lowers to
    # _scaled_dot_product_flash_attention_for_cpu, so route it to the same ring attention.
    for op in _RING_CPU_OPS:
        cp_attention.custom_ops[op] = _cpu_sdpa_handler

    def make(original: Callable[[], None]) -> Callable[[], None]:
        def register_cp_sharding_rules() -> None:
            original()
            _register_cpu_flash_cp_strategies()

        return register_cp_sharding_rules

    _patch_method(cp_sharding_rules, "register_cp_sharding_rules", make)


def enable_expert_parallel_on_cpu() -> None:
    # Expert parallelism regroups the tokens each rank receives with a Triton
    # kernel, which cannot run on CPU tensors; torchtitan ships a CPU version of it.
    from torchtitan.models.moe import utils as moe_utils

    def make(original: Callable) -> Callable:
        def generate_permute_indices(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **{**kwargs, "use_cpu": True})

        return generate_permute_indices

    _patch_method(moe_utils, "generate_permute_indices", make)


# Datasets loaded under DATASET_NAME; kept alive so identity checks stay valid.
_rehearsal_datasets: list[Any] = []


def _load_jsonl_folder(path: str) -> Any:
    if not path:
        raise ValueError(f"dataset {DATASET_NAME!r} needs --training.dataset_path")
    dataset = text_datasets.load_dataset(path, split="train")
    _rehearsal_datasets.append(dataset)
    return dataset


def _sample_text(sample: dict[str, Any]) -> str:
    return sample["text"]


def register_rehearsal_dataset() -> None:
    # Lets `--training.dataset mytitan_rehearsal --training.dataset_path DIR` load local JSONL.
    text_datasets.DATASETS.setdefault(
        DATASET_NAME,
        DatasetConfig(
            path="", loader=_load_jsonl_folder, sample_processor=_sample_text
        ),
    )


def share_rehearsal_data_across_ranks() -> None:
    # Every data-parallel rank reads the same batches, so an FSDP run computes
    # exactly the loss and gradients of one process on the same seed.
    def make(original: Callable) -> Callable:
        def split_dataset_by_node(dataset: Any, rank: int, world_size: int) -> Any:
            if any(dataset is ours for ours in _rehearsal_datasets):
                return dataset
            return original(dataset, rank, world_size)

        return split_dataset_by_node

    _patch_method(text_datasets, "split_dataset_by_node", make)


def record_losses() -> None:
    # The console log rounds losses; the runner compares exact values from this file.
    path = os.environ.get(LOSS_LOG_ENV)
    if not path:
        return

    def append(metrics: MetricsProcessor, record: dict[str, Any]) -> None:
        # From the rank torchtitan logs from: under PP, the one holding the loss.
        rank = _get_metrics_rank(metrics.parallel_dims, metrics.job_config)
        if not dist.is_initialized() or dist.get_rank() == rank:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    def make(original: Callable) -> Callable:
        def log(
            self: MetricsProcessor,
            step: int,
            global_avg_loss: float,
            global_max_loss: float,
            grad_norm: float,
            extra_metrics: dict[str, Any] | None = None,
        ) -> None:
            original(
                self, step, global_avg_loss, global_max_loss, grad_norm, extra_metrics
            )
            record = {
                "step": step,
                "loss": float(global_avg_loss),
                "grad_norm": float(grad_norm),
                # For benchmarks: step times are differences of `time`.
                "time": time.perf_counter(),
                "peak_rss": _peak_rss_bytes(),
            }
            append(self, record)

        return log

    def make_validation(original: Callable) -> Callable:
        def log_validation(
            self: MetricsProcessor,
            loss: float,
            step: int,
            extra_metrics: dict[str, Any] | None = None,
        ) -> None:
            original(self, loss, step, extra_metrics)
            append(self, {"step": step, "validation_loss": float(loss)})

        return log_validation

    _patch_method(MetricsProcessor, "log", make)
    _patch_method(MetricsProcessor, "log_validation", make_validation)


def mark_finished_ranks() -> None:
    # torchtitan.train's main destroys the process group only once training
    # and Trainer.close() (checkpoint saves included) succeeded. A rank marked
    # here has written everything it will write, so the runner can tell a crash
    # in gloo's teardown from a failed run. The barrier keeps every rank alive
    # until all are marked: torchrun stops the others as soon as one dies.
    folder = os.environ.get(FINISHED_DIR_ENV)
    if not folder:
        return

    def make(original: Callable) -> Callable:
        def destroy_process_group(*args: Any, **kwargs: Any) -> None:
            if dist.is_initialized() and not (args or kwargs):
                Path(folder, f"rank-{dist.get_rank()}").touch()
                dist.barrier()
            original(*args, **kwargs)

        return destroy_process_group

    _patch_method(dist, "destroy_process_group", make)


def import_user_custom_import() -> None:
    # The runner replaced the TOML's custom_import with this module; chain to it.
    module = os.environ.get(CUSTOM_IMPORT_ENV)
    if module:
        importlib.import_module(module)


use_cpu_device()
force_sum_reduction_in_fsdp()
enable_context_parallel_on_cpu()
enable_expert_parallel_on_cpu()
register_rehearsal_dataset()
share_rehearsal_data_across_ranks()
record_losses()
mark_finished_ranks()
import_user_custom_import()
