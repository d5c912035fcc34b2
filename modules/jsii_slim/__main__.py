"""``python -m modules.jsii_slim``: prepare the slim tarballs and warm jsii's caches.

``make install`` runs this once, so that the first synth on a fresh machine is already fast: it
builds the slim tarballs in the shared cache (``DEFAULT_CACHE_DIR``) and loads them in Node
once, which fills jsii's package cache (``~/.cache/aws/jsii/package-cache`` or
``JSII_RUNTIME_PACKAGE_CACHE_ROOT``).

jsii 1.142 writes each cached package's runtime type index from a background thread after the
load; a process that exits first never writes it, and the next synth pays for it. So this
command keeps Node running until the index of every package it loaded is on disk (at most
``--wait`` seconds; best effort: a missing index only makes the first synth slower).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from modules import runtime
from modules.jsii_slim import DISABLE_ENV, active_loader, scan_used_submodules, shown_paths


def package_cache_root() -> Path | None:
    """jsii's package cache directory (as ``@jsii/kernel`` picks it on Linux and macOS), or
    None when the cache is disabled."""
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return None
    configured = os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "")
    if configured:
        return Path(configured)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "com.amazonaws.jsii" / "package-cache"
    return Path.home() / ".cache" / "aws" / "jsii" / "package-cache"


def package_cache_entry(root: Path, name: str, version: str, tarball: Path) -> Path:
    """Where the kernel unpacks ``tarball``: ``<root>/<name>/<version>/<sha256>``, the digest
    covering the tarball's bytes, then NUL + name and NUL + version."""
    digest = hashlib.sha256(tarball.read_bytes())
    for comment in (name, version):
        digest.update(b"\0" + comment.encode("utf-8"))
    parts: list[str] = []
    for key in (name, version, digest.hexdigest()):
        parts += re.sub(r"[^@a-z0-9_.\\/-]+", "_", key).replace("\\", "/").split("/")
    return root.joinpath(*parts)


def wait_for_runtime_indexes(entries: Sequence[Path], timeout_seconds: float) -> list[Path]:
    """Wait until every entry holds a runtime index manifest; returns those that do not."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        missing = [e for e in entries if not any(e.glob(".jsii.runtime.v*.json"))]
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m modules.jsii_slim``: prepare the slim tarballs and warm jsii's caches."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--no-warm", action="store_true", help="do not load them in Node")
    parser.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for jsii's indexes [30]"
    )
    args = parser.parse_args(argv)
    runtime.prepare()
    loader = active_loader()
    if loader is None:
        print(f"jsii_slim: disabled ({DISABLE_ENV}=0 or eager providers)")
        return 0
    status = 0
    for name, state in loader.states.items():
        used = scan_used_submodules(name, loader.scan_roots)
        try:
            slim = loader.cache.ensure(name, state.source, used, quiet=True)
        except Exception as e:  # reported; a synth falls back the same way
            print(f"jsii_slim: {name}: cannot prepare a slim assembly: {e}", file=sys.stderr)
            status = 1
            continue
        m = slim.manifest
        print(
            f"jsii_slim: {m['assembly']}@{m['version']}: {len(m['submodules'])} of "
            f"{m['total_submodules']} submodules, {m['types']} of {m['total_types']} types, "
            f"{slim.path.stat().st_size / 1e6:.1f} MB -> {shown_paths([slim.path])}"
        )
        if not args.no_warm:
            # Loads cdktf, constructs and the slim assembly once, so that jsii's package cache
            # holds them before the first synth.
            importlib.import_module(f"{name}._jsii")
    root = package_cache_root()
    if args.no_warm or root is None or not loader.loaded:
        return status
    entries = [package_cache_entry(root, n, v, Path(t)) for n, v, t in loader.loaded]
    missing = wait_for_runtime_indexes(entries, args.wait)
    names = ", ".join(n for n, _, _ in loader.loaded)
    if missing:
        print(f"jsii_slim: jsii has not indexed {len(missing)} package(s) yet: {missing}")
    else:
        print(f"jsii_slim: jsii's package cache holds {names}, indexed ({root})")
    return status


if __name__ == "__main__":
    sys.exit(main())
