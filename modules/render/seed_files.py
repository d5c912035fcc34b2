"""The seed code the toolkit commits to a new ML repository, as ``{repo path: text}``.

Everything under ``modules/render/seed/`` is seed code: ``pipelines/`` (run by build.yml) and
``deploy/`` (run by deploy.yml). A file's key is its path below ``modules/render/seed/`` with
``/`` separators, which is also its path from the ML repository's root. Contents are
normalised so the committed files do not depend on the checkout the toolkit runs from: LF line
endings and a final newline (an empty file stays empty). Caches (``__pycache__``, ``*.pyc``)
and hidden files are left out; a file that is not UTF-8 text is an error, not silently dropped.

This module does not import cdktf; the construct that commits the files only calls ``seed_files``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["SEED_ROOT", "SeedFileError", "seed_files"]

SEED_ROOT: Final[Path] = Path(__file__).resolve().parent / "seed"

_SKIPPED_DIRECTORIES: Final[frozenset[str]] = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES: Final[frozenset[str]] = frozenset({".pyc", ".pyo"})


class SeedFileError(ValueError):
    """A file under the seed tree cannot be committed as text."""


def _is_seed_file(relative: Path) -> bool:
    if any(part in _SKIPPED_DIRECTORIES or part.startswith(".") for part in relative.parts):
        return False
    return relative.suffix not in _SKIPPED_SUFFIXES


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def seed_files(root: Path = SEED_ROOT) -> dict[str, str]:
    """Every seed file under ``root`` keyed by its repository path, sorted by that path.

    Default ``root``: the ``seed/`` directory beside this module. Raises ``SeedFileError`` when
    ``root`` is not a directory or a file is not UTF-8 text.
    """
    if not root.is_dir():
        raise SeedFileError(f"seed root {root} is not a directory")
    files: dict[str, str] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or not _is_seed_file(relative):
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            raise SeedFileError(
                f"seed file {relative.as_posix()} is not UTF-8 text ({error.reason} at byte "
                f"{error.start}); only text files can be committed as seed code"
            ) from error
        if "\x00" in text:
            raise SeedFileError(
                f"seed file {relative.as_posix()} holds NUL bytes; only text files can be "
                "committed as seed code"
            )
        files[relative.as_posix()] = _normalise(text)
    return dict(sorted(files.items()))
