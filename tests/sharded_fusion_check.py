"""Run by torchrun, 2 processes on gloo (tests/test_sharded_fusion.py): an adapter
whose checkpoints stack projections into one matrix (Phi-3's, GLM's and Granite 4's
layouts, Falcon's, GPT-NeoX's, GPT-2's and GPTBigCode's q/k/v), or keep RoPE rows
another way (nanochat's signs), converts
FSDP-sharded weights to and from HF names as it converts whole ones, and keeps them
sharded: no rank holds a stacked matrix whole once it is built. argv[1]: a rendered
model folder; argv[2]: "stacked" or "unstacked", whether its layout stacks any."""

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Shard, distribute_tensor

from mytitan_scaffold.model_package import load_model_package

CHECKS_PASSED = "every check passed"


def local_elements(state_dict: dict) -> int:
    return sum(value.to_local().numel() for value in state_dict.values())


def assert_sharded_copies(state_dict: dict, transposed: tuple = ()) -> None:
    """Each value sharded by rows (by columns where the layout transposes it:
    GPT-2's Conv1D weights, named in `transposed`), its local part a tensor of
    its own (not a view that keeps a whole matrix alive)."""
    for key, value in state_dict.items():
        dim = 1 if key.split(".", 3)[-1] in transposed else 0
        assert isinstance(value, DTensor) and value.placements == (Shard(dim),), key
        local = value.to_local()
        assert (
            local.untyped_storage().nbytes() == local.numel() * local.element_size()
        ), key


def main(model_dir: Path, stacked: bool) -> None:
    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    spec = load_model_package(model_dir, "sharded_fusion_check").get_train_spec()
    args = spec.model_args["debugmodel"]
    torch.manual_seed(0)
    model = spec.model_cls(args)
    with torch.no_grad():
        model.init_weights()
    whole = model.state_dict()
    sharded = {
        key: distribute_tensor(value, mesh, [Shard(0)]) for key, value in whole.items()
    }
    adapter = spec.state_dict_adapter(args, None)

    expected = adapter.to_hf(whole)
    hf = adapter.to_hf(sharded)
    assert hf.keys() == expected.keys()
    for key, value in hf.items():
        torch.testing.assert_close(value.full_tensor(), expected[key], atol=0, rtol=0)
    # The stacked matrices, by the names the layout gives them (none in Llama's).
    module = sys.modules[type(adapter).__module__]
    stacked_names = getattr(module, "_FUSED_KEYS", {})
    assert bool(stacked_names) == stacked, f"stacks {sorted(stacked_names)}"
    fused = {key: hf[key] for key in hf if key.split(".", 3)[-1] in stacked_names}
    assert len(fused) == len(stacked_names) * args.n_layers, sorted(fused)
    assert_sharded_copies(fused, getattr(module, "_CONV1D_WEIGHTS", ()))
    # The HF state dict holds no more than the model's shards (less when tied).
    ratio = local_elements(hf) / local_elements(sharded)
    print(f"rank {dist.get_rank()}: HF/model local elements {ratio:.3f}")
    assert ratio <= 1.0, ratio

    back = adapter.from_hf(hf)
    assert back.keys() == whole.keys()
    for key, value in back.items():
        torch.testing.assert_close(value.full_tensor(), whole[key], atol=0, rtol=0)
    assert_sharded_copies(back)
    print(f"rank {dist.get_rank()}: {CHECKS_PASSED}", flush=True)
    # No rank tears gloo down while another may still be talking to it.
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]), {"stacked": True, "unstacked": False}[sys.argv[2]])
