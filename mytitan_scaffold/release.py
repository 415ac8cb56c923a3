"""Release step: record the current template as this version's tag in the shipped history.

    python -m mytitan_scaffold.release

Run it after bumping `__version__` whenever copier.yml or template/ changed, and
commit the updated `template_history.bundle` and `template_history.json`. A
version that is already recorded with different template content is refused:
models rendered from it must keep finding exactly what they were rendered from.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from . import __version__
from .errors import MytitanError
from .template_history import (
    BUNDLE,
    DIGESTS,
    GIT_IDENTITY,
    git,
    recorded_digests,
    release_tag,
    template_digest,
    template_files,
)
from .template_source import template_root

_BRANCH = "history"


def record(
    root: Path,
    version: str,
    bundle: Path = BUNDLE,
    digests_file: Path = DIGESTS,
) -> bool:
    """Add `version` to the history; False when it was already recorded as is."""
    digest = template_digest(root)
    digests = recorded_digests(digests_file)
    if version in digests:
        if digests[version] != digest:
            raise MytitanError(
                f"the template changed since v{version} was recorded: bump __version__ "
                "in mytitan_scaffold/__init__.py, then release again"
            )
        return False
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        git("init", "--quiet", "--initial-branch", _BRANCH, str(repo))
        if bundle.is_file():
            git("pull", "--quiet", str(bundle), _BRANCH, cwd=repo)
            git("fetch", "--quiet", str(bundle), "refs/tags/*:refs/tags/*", cwd=repo)
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        for relative in template_files(root):
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, repo / relative)
        git("add", "--all", cwd=repo)
        git(
            *GIT_IDENTITY,
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            f"mytitan template {release_tag(version)}",
            cwd=repo,
        )
        git(
            *GIT_IDENTITY,
            "tag",
            "-a",
            release_tag(version),
            "-m",
            f"mytitan {version}",
            cwd=repo,
        )
        git("bundle", "create", "--quiet", str(bundle), "--all", cwd=repo)
    digests[version] = digest
    digests_file.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
    return True


def main() -> None:
    try:
        added = record(template_root(), __version__)
    except MytitanError as error:
        print(f"mytitan: error: {error}", file=sys.stderr)
        sys.exit(2)
    state = "recorded" if added else "already recorded"
    print(f"template {release_tag()} {state} in {BUNDLE.name}")


if __name__ == "__main__":
    main()
