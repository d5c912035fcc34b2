"""Settings, the error type and the notice line shared by the slim-assembly modules."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

#: Bump when the slim tarball's layout or selection rules change: old cache entries are rebuilt.
BUILDER_VERSION = "1"
CACHE_DIR_ENV = "MLOPS_SLIM_CACHE_DIR"
#: ``MLOPS_SLIM_ASSEMBLIES=0`` loads the full tarballs (the Python side stays lazy).
DISABLE_ENV = "MLOPS_SLIM_ASSEMBLIES"
ROOT = Path(__file__).resolve().parent.parent.parent
#: Shared by every clone on the machine (entries are keyed by what they were built from, and
#: written atomically): ``$XDG_CACHE_HOME`` or ``~/.cache``.
DEFAULT_CACHE_DIR = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "sagemaker-github-mlops"
    / "slim-providers"
)
DEFAULT_SCAN_ROOTS = (ROOT / "modules", ROOT / "main.py")


class SlimError(Exception):
    """The slim tarball cannot be built or used; the full package is loaded instead."""


def notice(message: str) -> None:
    print(f"mlops: {message}", file=sys.stderr, flush=True)


def shown_paths(paths: Iterable[Path]) -> str:
    shown = []
    for p in paths:
        try:
            shown.append(str(p.relative_to(ROOT)))
        except ValueError:
            shown.append(str(p))
    return ", ".join(shown)
