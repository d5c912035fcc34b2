"""Which provider submodules the app uses: found in the sources, never listed by hand."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

_SCANNED_SUFFIXES = (".py",)


def _source_files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.suffix in _SCANNED_SUFFIXES)


def scan_used_submodules(python_package: str, roots: Iterable[Path]) -> frozenset[str]:
    """Names ``x`` of every ``<python_package>.x`` (or ``from <python_package> import x``) in
    the sources under ``roots``. A mention in a comment counts too: one more submodule in the
    slim assembly costs little, a missing one would cost a fallback."""
    pkg = re.escape(python_package)
    dotted = re.compile(rf"\b{pkg}\.([A-Za-z_]\w*)")
    from_import = re.compile(rf"\bfrom\s+{pkg}\s+import\s+\(?\s*([\w\s,]+)")
    found: set[str] = set()
    for path in _source_files(roots):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if python_package not in text:
            continue
        found.update(dotted.findall(text))
        for names in from_import.findall(text):
            found.update(n.split()[0] for n in names.split(",") if n.strip())
    return frozenset(n for n in found if not n.startswith("_"))
