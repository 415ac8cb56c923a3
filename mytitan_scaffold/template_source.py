"""Where the Copier template is: inside a wheel, or at the root of a source checkout."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def template_root() -> Path:
    """The folder holding copier.yml (its `_subdirectory` holds the template)."""
    packaged = _PACKAGE_DIR / "_template"
    if (packaged / "copier.yml").is_file():
        return packaged
    checkout = _PACKAGE_DIR.parent
    if (checkout / "copier.yml").is_file():
        return checkout
    raise FileNotFoundError(
        f"mytitan's template is missing: neither {packaged} nor {checkout} has copier.yml"
    )
