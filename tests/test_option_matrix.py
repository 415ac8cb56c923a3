"""Every pair of option values renders clean code that builds, runs and counts its
parameters; `pytest -m exhaustive tests/test_option_matrix.py` runs the full matrix."""

import itertools
import subprocess
import sys

import pytest
import torch

from .conftest import import_package, render_answers
from .option_matrix import OPTIONS, answers, full_matrix, pairwise

PAIRWISE = pairwise()


def test_pairwise_set_covers_every_pair():
    covered = {
        tuple(sorted(pair))
        for combination in PAIRWISE
        for pair in itertools.combinations(combination.items(), 2)
    }
    for a, b in itertools.combinations(OPTIONS, 2):
        for va, vb in itertools.product(OPTIONS[a], OPTIONS[b]):
            assert tuple(sorted([(a, va), (b, vb)])) in covered, (a, va, b, vb)
    assert len(PAIRWISE) < len(full_matrix()) // 10


def _check(tmp_path, combination, alias):
    model_dir = render_answers(tmp_path / "m", answers(combination, "matrix"))
    for command in (["format", "--check"], ["check", "--no-cache"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated", "."],
            cwd=model_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (combination, result.stdout)
    spec = import_package(model_dir, alias).get_train_spec()
    for flavor, args in spec.model_args.items():
        with torch.device("meta"):
            meta_model = spec.model_cls(args)
        counted = sum(p.numel() for p in meta_model.parameters())
        assert args.get_nparams_and_flops(meta_model, 2048)[0] == counted, flavor
    args = spec.model_args["debugmodel"]
    torch.manual_seed(0)
    model = spec.model_cls(args)
    with torch.no_grad():
        model.init_weights()
    tokens = torch.randint(0, args.vocab_size, (2, 16))
    loss = model(tokens).float().logsumexp(-1).mean()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("index", range(len(PAIRWISE)))
def test_pairwise_combination(tmp_path, index):
    _check(tmp_path, PAIRWISE[index], f"pairwise_{index}")


@pytest.mark.exhaustive
@pytest.mark.parametrize("index", range(len(full_matrix())))
def test_full_matrix_combination(tmp_path, index):
    _check(tmp_path, full_matrix()[index], f"full_{index}")
