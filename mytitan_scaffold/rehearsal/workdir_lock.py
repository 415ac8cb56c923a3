"""One rehearsal per work folder: two at once would delete and overwrite each
other's loss logs and checkpoints, and compare the mixture."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import MytitanError

LOCK_NAME = ".rehearsal.lock"


@contextmanager
def hold_workdir(workdir: Path) -> Iterator[None]:
    """Hold `workdir` for the body, or refuse at once if another rehearsal holds it.

    The lock is the kernel's (flock): it ends with the process that holds it, so a
    killed rehearsal leaves no stale lock behind."""
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir / LOCK_NAME, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MytitanError(
                f"another `mytitan rehearse` is running in {workdir}: wait for it to "
                "finish, or pass --workdir with a folder of this run's own"
            ) from None
        yield
