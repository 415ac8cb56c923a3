"""The rehearsal runner's reading of a failed run, without training anything."""

import pytest

from mytitan_scaffold.rehearsal.runner import teardown_signals


def torchrun_failure(*exitcodes: int) -> str:
    """The failure report torchrun prints when workers exit non-zero."""
    failures = [
        f"[{rank}]:\n"
        "  time      : 2026-11-28_22:00:00\n"
        "  host      : box\n"
        f"  rank      : {rank} (local_rank: {rank})\n"
        f"  exitcode  : {code} (pid: {1000 + rank})\n"
        "  error_file: <N/A>\n"
        f"  traceback : {'Signal 6 (SIGABRT)' if code < 0 else 'To enable traceback'}"
        for rank, code in enumerate(exitcodes)
    ]
    return (
        "[rank0]: step: 4  loss: 7.1\n"
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError:\n"
        "Failures:\n" + "\n".join(failures[1:] or ["  <NO_OTHER_FAILURES>"]) + "\n"
        "Root Cause (first observed failure):\n" + failures[0] + "\n"
    )


@pytest.mark.parametrize(
    ("log_text", "finished", "nproc", "signals"),
    [
        # Every rank finished, then one died of SIGABRT: gloo's teardown crash.
        (torchrun_failure(-6), 2, 2, ["SIGABRT"]),
        (torchrun_failure(-6, -11), 4, 4, ["SIGABRT", "SIGSEGV"]),
        # A rank that never finished: its results may be missing.
        (torchrun_failure(-6), 1, 2, []),
        # An exception (positive exit code) is a failure even after finishing.
        (torchrun_failure(1), 2, 2, []),
        (torchrun_failure(-6, 1), 2, 2, []),
        # No failure report at all (torchrun itself failed).
        ("RuntimeError: address already in use\n", 2, 2, []),
    ],
)
def test_teardown_signals(log_text, finished, nproc, signals):
    assert teardown_signals(log_text, finished, nproc) == signals
