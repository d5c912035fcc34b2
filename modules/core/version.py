"""The toolkit's version (``python main.py --version``); CHANGELOG.md has a section per release.

Keep ``VERSION`` equal to ``[project] version`` in pyproject.toml and to the newest released
heading of CHANGELOG.md (``tests/test_versioning.py`` checks both).
"""

from __future__ import annotations

from importlib import metadata

VERSION = "0.1.0"
#: The pinned packages whose versions decide the synthesized JSON.
PINNED = ("cdktf", "cdktf-cdktf-provider-aws", "cdktf-cdktf-provider-github")


def version_text() -> str:
    """``sagemaker-github-mlops 0.1.0 (cdktf 0.21.0, ...)``; a missing package says so."""
    parts = []
    for name in PINNED:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} not installed")
    return f"sagemaker-github-mlops {VERSION} ({', '.join(parts)})"
