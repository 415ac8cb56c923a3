"""The template's release history, shipped inside the package as a git bundle.

`copier update` needs the revision a model was rendered from. Every release of
mytitan records its template (copier.yml + template/) as a tagged commit in
`template_history.bundle`; at run time the bundle's tags are fetched into one
git repository in the user's cache, and models name that repository in
`_src_path` as `~/.cache/mytitan/template-history`: the same text on every machine,
with every released version in it, so that updates work offline and on machines
that never had the older mytitan installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from functools import cache
from pathlib import Path

from . import __version__
from .errors import MytitanError
from .template_source import template_root

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE = PACKAGE_DIR / "template_history.bundle"
DIGESTS = PACKAGE_DIR / "template_history.json"
# No ".git" suffix: copier would take that for a remote URL and not expand "~".
DEFAULT_CACHE_REPO = "~/.cache/mytitan/template-history"
CACHE_ENV = "MYTITAN_CACHE_DIR"
# Author of the commits mytitan makes itself (releases, dry-run scratch copies), so
# that they work on machines without a git identity.
GIT_IDENTITY = ["-c", "user.name=mytitan", "-c", "user.email=mytitan@mytitan.invalid"]


def release_tag(version: str = __version__) -> str:
    return f"v{version}"


def template_files(root: Path) -> list[Path]:
    """copier.yml and everything under template/, as relative paths, sorted."""
    files = [Path("copier.yml")]
    for path in sorted((root / "template").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append(path.relative_to(root))
    return files


def template_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for relative in template_files(root):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update((root / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_digests(path: Path = DIGESTS) -> dict[str, str]:
    """version -> digest of the template released with it."""
    return json.loads(path.read_text()) if path.is_file() else {}


@cache
def is_released() -> bool:
    """Whether this installation's template is exactly the one recorded for its
    version (false in a development checkout with unreleased template changes)."""
    return recorded_digests().get(__version__) == template_digest(template_root())


def cache_repo() -> tuple[str, Path]:
    """(the `_src_path` text models record, the repository's real path)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        path = Path(override).expanduser() / "template-history"
        return str(path), path
    return DEFAULT_CACHE_REPO, Path(DEFAULT_CACHE_REPO).expanduser()


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise MytitanError(
            "git is not installed: install git, which copier needs"
        ) from None
    if check and result.returncode != 0:
        raise MytitanError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _refs(listing: str) -> dict[str, str]:
    """ref -> sha, from `git show-ref` / `git bundle list-heads` output."""
    pairs = (line.split() for line in listing.splitlines() if line.strip())
    return {ref: sha for sha, ref in pairs}


def materialize(bundle: Path | None = None) -> str:
    """Make the cache repository hold every tag of `bundle` (default: the shipped
    history); return the `_src_path` text that names the repository."""
    bundle = bundle or BUNDLE
    src, repo = cache_repo()
    if not (repo / ".git").is_dir():
        # A repository with a work tree: copier only accepts a repository root.
        repo.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", str(repo))
    shipped = _refs(git("bundle", "list-heads", str(bundle)))
    cached = _refs(git("show-ref", "--tags", cwd=repo, check=False))
    if any(
        cached.get(ref) != sha
        for ref, sha in shipped.items()
        if ref.startswith("refs/tags/")
    ):
        # The shipped history is the authority for the versions it holds.
        git(
            "fetch",
            "--quiet",
            "--force",
            str(bundle),
            "+refs/tags/*:refs/tags/*",
            cwd=repo,
        )
    return src


def render_source() -> tuple[str, str | None]:
    """(copier src, vcs_ref) for a new model.

    A released template renders from the cache repository at this version's tag,
    so that the model can be updated anywhere. A development checkout whose
    template differs from its recorded release renders its working tree instead.
    """
    if is_released() and BUNDLE.is_file():
        return materialize(), release_tag()
    root = template_root()
    return str(root), ("HEAD" if (root / ".git").exists() else None)
