"""``python -m modules.jsii_slim``: prepare the slim tarballs and warm jsii's caches.

``make install`` runs this once, so that the first synth on a fresh machine is already fast: it
builds the slim tarballs under ``build/slim-providers/`` and loads them in Node once, which fills
jsii's package cache (``~/.cache/aws/jsii/package-cache`` or ``JSII_RUNTIME_PACKAGE_CACHE_ROOT``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from modules import runtime
from modules.jsii_slim import DISABLE_ENV, _shown, active_loader, scan_used_submodules


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m modules.jsii_slim``: prepare the slim tarballs and warm jsii's caches."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--no-warm", action="store_true", help="do not load them in Node")
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
            f"{slim.path.stat().st_size / 1e6:.1f} MB -> {_shown([slim.path])}"
        )
        if not args.no_warm:
            # Loads cdktf, constructs and the slim assembly once, so that jsii's package cache
            # holds them before the first synth.
            importlib.import_module(f"{name}._jsii")
    return status


if __name__ == "__main__":
    sys.exit(main())
