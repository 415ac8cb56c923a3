"""Apply tensor, context and data parallelism, activation checkpointing and
torch.compile to the Mytransformer model (pipeline parallelism is
`pipeline_mytransformer` in pipeline.py, which calls this function once per stage)."""

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed._composable.replicate import replicate
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import (
    CPUOffloadPolicy,
    FSDPModule,
    MixedPrecisionPolicy,
    fully_shard,
)
from torch.distributed.tensor import (
    DTensor,
    Partial,
    Replicate,
    Shard,
    distribute_module,
)
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    RowwiseParallel,
    SequenceParallel,
    parallelize_module,
)
from torch.distributed.tensor.parallel.style import ParallelStyle
from torchtitan.config import TORCH_DTYPE_MAP, JobConfig
from torchtitan.config.job_config import Compile as CompileConfig
from torchtitan.distributed import ParallelDims
from torchtitan.distributed.activation_checkpoint import apply_ac
from torchtitan.distributed.context_parallel import apply_cp_to_attention_module
from torchtitan.distributed.tensor_parallel import maybe_enable_async_tp
from torchtitan.tools.logging import logger

# Ops whose outputs selective activation checkpointing keeps instead of recomputing.
_op_sac_save_list = {
    torch.ops.aten.mm.default,
    torch.ops.aten._scaled_dot_product_efficient_attention.default,
    torch.ops.aten._scaled_dot_product_flash_attention.default,
    torch.ops.aten._scaled_dot_product_cudnn_attention.default,
    torch.ops.aten._scaled_dot_product_attention_math.default,
    torch.ops.aten._scaled_dot_product_fused_attention_overrideable.default,
    torch.ops._c10d_functional.reduce_scatter_tensor.default,
    # float8 scaling needs the absolute maximum: keep it rather than recompute.
    torch.ops.aten.max.default,
    torch._higher_order_ops.inductor_compiled_code,
}


def parallelize_mytransformer(
    model: nn.Module,
    parallel_dims: ParallelDims,
    job_config: JobConfig,
) -> nn.Module:
    """Parallelize `model` in place (on the meta device) and return it."""
    if job_config.training.seq_len % parallel_dims.seq_len_divisor != 0:
        raise ValueError(
            f"training.seq_len {job_config.training.seq_len} must be divisible by "
            f"{parallel_dims.seq_len_divisor} (TP degree times 2 * CP degree)."
        )

    if parallel_dims.tp_enabled:
        float8 = "float8" in job_config.model.converters
        rowwise_recipe = job_config.quantize.linear.float8.recipe_name in (
            "rowwise",
            "rowwise_with_gw_hp",
        )
        tp_mesh = parallel_dims.get_mesh("tp")
        apply_tp(
            model,
            tp_mesh,
            loss_parallel=not job_config.parallelism.disable_loss_parallel,
            # Float8 all-gather under TP exists only for tensorwise scaling.
            enable_float8_tensorwise_tp=float8 and not rowwise_recipe,
        )
        maybe_enable_async_tp(job_config, tp_mesh)

    if parallel_dims.cp_enabled:
        apply_cp_to_attention_module(
            [block.attention.inner_attention for block in model.layers.values()],
            parallel_dims.get_mesh("cp"),
            "sdpa",
        )

    compile_model = (
        job_config.compile.enable and "model" in job_config.compile.components
    )
    if job_config.activation_checkpoint.mode != "none":
        apply_ac(
            model,
            job_config.activation_checkpoint,
            model_compile_enabled=compile_model,
            op_sac_save_list=_op_sac_save_list,
            base_folder=job_config.job.dump_folder,
        )
    # Compile each block after AC wrapping and before FSDP.
    if compile_model:
        apply_compile(model, job_config.compile)

    if parallel_dims.fsdp_enabled:
        # HSDP: replicate over dp_replicate, shard over the rest.
        replicate = ["dp_replicate"] if parallel_dims.dp_replicate_enabled else []
        apply_fsdp(
            model,
            parallel_dims.get_mesh([*replicate, "fsdp"]),
            param_dtype=TORCH_DTYPE_MAP[job_config.training.mixed_precision_param],
            reduce_dtype=TORCH_DTYPE_MAP[job_config.training.mixed_precision_reduce],
            pp_enabled=parallel_dims.pp_enabled,
            cpu_offload=job_config.training.enable_cpu_offload,
            reshard_after_forward_policy=job_config.parallelism.fsdp_reshard_after_forward,
        )
        logger.info(
            f"Applied {'HSDP' if parallel_dims.dp_replicate_enabled else 'FSDP'} to the model"
        )
    elif parallel_dims.dp_replicate_enabled:
        dp_mesh = parallel_dims.get_mesh("dp_replicate")
        if parallel_dims.world_size != dp_mesh.size():
            raise RuntimeError(
                "DDP cannot be combined with other parallelisms; use HSDP."
            )
        apply_ddp(model, dp_mesh, enable_compile=compile_model)
    return model


def apply_tp(
    model: nn.Module,
    tp_mesh: DeviceMesh,
    loss_parallel: bool,
    enable_float8_tensorwise_tp: bool,
):
    """Megatron-style TP with sequence parallelism on the norms and, when
    `loss_parallel`, vocabulary-sharded logits fed straight to the loss."""
    parallelize_module(
        model,
        tp_mesh,
        {
            "tok_embeddings": RowwiseParallel(
                input_layouts=Replicate(), output_layouts=Shard(1)
            ),
            "norm": SequenceParallel(),
            "output": ColwiseParallel(
                input_layouts=Shard(1),
                output_layouts=Shard(-1) if loss_parallel else Replicate(),
                use_local_output=not loss_parallel,
            ),
        },
    )

    if enable_float8_tensorwise_tp:
        from torchao.float8.float8_tensor_parallel import (
            Float8ColwiseParallel,
            Float8RowwiseParallel,
            PrepareFloat8ModuleInput,
        )

        rowwise, colwise, prepare_input = (
            Float8RowwiseParallel,
            Float8ColwiseParallel,
            PrepareFloat8ModuleInput,
        )
    else:
        rowwise, colwise, prepare_input = (
            RowwiseParallel,
            ColwiseParallel,
            PrepareModuleInput,
        )

    n_kv_heads = model.model_args.n_kv_heads
    # More ranks than key/value heads: each rank computes them all and keeps its own.
    key_value = (
        ReplicatedKeyValueHeads(n_kv_heads)
        if n_kv_heads < tp_mesh.size()
        else colwise()
    )

    for block in model.layers.values():
        plan = {
            "attention_norm": SequenceParallel(),
            # Inputs: x, then freqs_cis and positions, which stay plain tensors.
            "attention": prepare_input(
                input_layouts=(Shard(1), None, None),
                desired_input_layouts=(Replicate(), None, None),
            ),
            "attention.wq": colwise(),
            "attention.wk": key_value,
            "attention.wv": key_value,
            # Per-head norms see local heads (dim 2); keep their weights replicated.
            "attention.q_norm": SequenceParallel(sequence_dim=2, use_local_output=True),
            "attention.k_norm": SequenceParallel(sequence_dim=2, use_local_output=True),
            "attention.wo": rowwise(output_layouts=Shard(1)),
            "ffn_norm": SequenceParallel(),
            "feed_forward": prepare_input(
                input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)
            ),
            "feed_forward.w1": colwise(),
            "feed_forward.w2": rowwise(output_layouts=Shard(1)),
            "feed_forward.w3": colwise(),
        }
        parallelize_module(block, tp_mesh, plan)

    logger.info(
        f"Applied {'Float8 tensorwise ' if enable_float8_tensorwise_tp else ''}"
        "Tensor Parallelism to the model"
    )


class ReplicatedKeyValueHeads(ParallelStyle):
    """For TP splitting the query heads finer than the key/value heads
    (tensor_parallel_degree a multiple of n_kv_heads), as Megatron does: the
    weights stay whole on every rank, which computes every key/value head and keeps
    the one its query heads share. The ranks sharing a head each give a part of its
    gradient, so the output's gradient is their sum (Partial). It takes the
    key and value projections."""

    def __init__(self, n_kv_heads: int):
        super().__init__()
        self.n_kv_heads = n_kv_heads

    def _apply(self, module: nn.Module, device_mesh: DeviceMesh) -> nn.Module:
        # The rank's query heads are its share of n_heads, in order: all of them
        # belong to one group, key/value head `head`.
        head = device_mesh.get_local_rank() * self.n_kv_heads // device_mesh.size()

        def own_head(
            module: nn.Module, output: DTensor, mesh: DeviceMesh
        ) -> torch.Tensor:
            whole = output.to_local(grad_placements=(Partial(),))
            width = whole.shape[-1] // self.n_kv_heads
            return whole.narrow(-1, head * width, width)

        # Without a partition_fn the parameters are replicated.
        return distribute_module(module, device_mesh, output_fn=own_head)


def apply_compile(model: nn.Module, compile_config: CompileConfig):
    """Compile each block on its own: the blocks are alike, so one compilation serves all."""
    for layer_id, block in model.layers.named_children():
        block = torch.compile(block, backend=compile_config.backend, fullgraph=True)
        model.layers.register_module(layer_id, block)
    logger.info("Compiling each TransformerBlock with torch.compile")


def apply_fsdp(
    model: nn.Module,
    dp_mesh: DeviceMesh,
    param_dtype: torch.dtype,
    reduce_dtype: torch.dtype,
    pp_enabled: bool,
    cpu_offload: bool = False,
    reshard_after_forward_policy: str = "default",
):
    """FSDP2 (HSDP on a 2-D mesh): one unit per block, plus the ends of the model."""
    config = {
        "mesh": dp_mesh,
        "mp_policy": MixedPrecisionPolicy(
            param_dtype=param_dtype, reduce_dtype=reduce_dtype
        ),
    }
    if cpu_offload:
        config["offload_policy"] = CPUOffloadPolicy()
    match reshard_after_forward_policy:
        case "always":
            reshard_after_forward = True
        case "never":
            reshard_after_forward = False
        case "default":
            # Under PP, resharding would cost one all-gather per microbatch.
            reshard_after_forward = not pp_enabled
        case _:
            raise ValueError(
                f"Unknown fsdp_reshard_after_forward {reshard_after_forward_policy!r}: "
                "use 'default', 'always' or 'never'."
            )

    if model.tok_embeddings is not None:
        fully_shard(
            model.tok_embeddings, **config, reshard_after_forward=reshard_after_forward
        )
    for block in model.layers.values():
        fully_shard(block, **config, reshard_after_forward=reshard_after_forward)
    # The last units are needed again right away by backward: keep them unsharded.
    if model.norm is not None and model.output is not None:
        fully_shard(
            [model.norm, model.output],
            **config,
            reshard_after_forward=reshard_after_forward_policy == "always",
        )
    fully_shard(model, **config)

    # torchtitan's loss is already normalized by the global token count.
    for module in model.modules():
        if isinstance(module, FSDPModule):
            module.set_gradient_divide_factor(1.0)


def apply_ddp(model: nn.Module, dp_mesh: DeviceMesh, enable_compile: bool):
    if enable_compile:
        torch._dynamo.config.optimize_ddp = "ddp_optimizer"
    replicate(model, device_mesh=dp_mesh, bucket_cap_mb=100)
    # torchtitan 0.2.2's Trainer divides the loss by the tokens of all replicas
    # already; DDP's default hook would average the gradients once more
    # (pytorch/torchtitan#2323), as FSDP's divide factor of 1 avoids.
    model.register_comm_hook(dp_mesh.get_group(), _sum_gradients)
    logger.info("Applied DDP to the model")


def _sum_gradients(
    group: dist.ProcessGroup, bucket: dist.GradBucket
) -> torch.futures.Future[torch.Tensor]:
    """DDP communication hook: all-reduce a gradient bucket as a sum."""
    work = dist.all_reduce(bucket.buffer(), group=group, async_op=True)
    return work.get_future().then(lambda future: future.value()[0])
