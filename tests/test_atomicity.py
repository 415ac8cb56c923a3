"""`mytitan new` killed at random points leaves either nothing or the whole result."""

import hashlib
import random
import re
import signal
import subprocess
import sys
import time

KILLS = 10


def tree_hash(root):
    """Hash of names and contents; the answers' `_commit` is left out because in a
    dirty development checkout copier invents a new commit for every render."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(re.sub(rb"(?m)^_commit: .*$", b"", path.read_bytes()))
    return digest.hexdigest()


def _new(cwd):
    return subprocess.Popen(
        [sys.executable, "-m", "mytitan_scaffold", "new", "demo", "--defaults"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _project(path):
    (path / "models").mkdir(parents=True)
    (path / "models" / "__init__.py").write_text(
        '# existing registry\n_supported_models = frozenset(["other"])\n'
    )
    return path


def test_interrupted_new_is_all_or_nothing(tmp_path):
    reference = _project(tmp_path / "reference")
    nothing = tree_hash(reference)
    start = time.perf_counter()
    assert _new(reference).wait() == 0
    duration = time.perf_counter() - start
    everything = tree_hash(reference)

    rng = random.Random(20261128)
    outcomes = []
    for i in range(KILLS):
        project = _project(tmp_path / f"kill{i}")
        assert tree_hash(project) == nothing
        process = _new(project)
        # Spread the kills over the whole run, the last ones near its end.
        time.sleep(duration * (i + rng.random()) / KILLS)
        process.send_signal(signal.SIGINT if i % 2 else signal.SIGTERM)
        code = process.wait()
        after = tree_hash(project)
        assert after in (nothing, everything), f"kill {i}: partial result (exit {code})"
        outcomes.append("everything" if after == everything else "nothing")
    assert "nothing" in outcomes, outcomes  # some kills did land mid-run
