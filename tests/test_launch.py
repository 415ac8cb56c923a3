"""The rendered launchers call torchrun (directly or under srun) with the right arguments."""

import os
import subprocess
from pathlib import Path

import pytest

FAKES = {
    "torchrun": 'echo "torchrun $*"',
    "nvidia-smi": "printf 'GPU 0\\nGPU 1\\nGPU 2\\nGPU 3\\n'",
    "srun": 'echo "srun $*"; "$@"',
    "scontrol": "printf 'node-a\\nnode-b\\n'",
}


@pytest.fixture
def fake_bin(tmp_path) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in FAKES.items():
        path = bin_dir / name
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _launch(script: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        ["bash", str(script), *args],
        cwd=script.parents[3],  # the folder that holds models/
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_torchrun_launcher(rendered_variants, fake_bin):
    script = rendered_variants["default"] / "launch" / "torchrun.sh"
    assert os.access(script, os.X_OK)
    out = _launch(script, fake_bin, "--training.steps", "10")
    assert "--nnodes 1 --nproc_per_node 4" in out  # GPUs counted by nvidia-smi
    assert "--rdzv_endpoint localhost:29500" in out
    assert (
        "-m torchtitan.train --job.config_file "
        "models/default/train_configs/default_1b.toml --training.steps 10"
    ) in out
    out = _launch(
        script,
        {**fake_bin, "NNODES": "4", "MASTER_ADDR": "node-a"},
        "models/default/train_configs/debug_model.toml",
    )
    assert "--nnodes 4" in out and "--rdzv_endpoint node-a:29500" in out
    assert out.strip().endswith(
        "--job.config_file models/default/train_configs/debug_model.toml"
    )


def test_slurm_launcher(rendered_variants, fake_bin):
    script = rendered_variants["default"] / "launch" / "slurm.sbatch"
    env = {
        **fake_bin,
        "SLURM_JOB_NODELIST": "node-[a-b]",
        "SLURM_NNODES": "2",
        "SLURM_JOB_ID": "77",
    }
    out = _launch(script, env, "--parallelism.data_parallel_replicate_degree", "2")
    assert out.startswith("srun torchrun")
    assert "--nnodes 2 --nproc_per_node 8" in out
    assert "--rdzv_endpoint node-a:29500 --rdzv_id 77" in out
    assert out.strip().endswith("--parallelism.data_parallel_replicate_degree 2")
