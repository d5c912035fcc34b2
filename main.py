"""Synthesize the toolkit: load the config, build the app, write cdktf.out/.

Usage: python main.py [--config PATH] [--outdir DIR] [--version]
Without --config: MLOPS_CONFIG, else the config cdktf.out/ was last synthesized from, else
mlops.yaml, else config/example.yaml (modules/core/config/selection.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from modules.core.config import ConfigError, choose_config, load_config
from modules.core.config.selection import check_replaces
from modules.core.version import version_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="the config file (remembered)")
    parser.add_argument("--outdir", default=os.environ.get("CDKTF_OUTDIR") or "cdktf.out")
    parser.add_argument("--version", action="store_true", help="print the versions and exit")
    args = parser.parse_args(argv)
    if args.version:
        print(version_text())
        return 0
    outdir = Path(args.outdir)
    try:
        choice = choose_config(explicit=args.config, environ=os.environ, outdir=outdir)
        config = load_config(choice.path)
        check_replaces(choice, {env.stack_name for env in config.environments}, outdir)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # cdktf loads only for a valid config, and only after the runtime is prepared (Node 22,
    # lazy provider packages, slim assemblies: modules/runtime.py); importing modules.* does not.
    from modules import runtime  # noqa: PLC0415

    runtime.prepare()
    from modules.synth import OutdirError, synthesize  # noqa: PLC0415

    # Under the cdktf CLI (it sets CDKTF_OUTDIR) everything the app writes to stderr is logged
    # as [ERROR] (@cdktf/commons util.js: processLoggerError); progress goes to stdout there.
    under_cli = bool(os.environ.get("CDKTF_OUTDIR"))
    progress = contextlib.redirect_stderr(sys.stdout) if under_cli else contextlib.nullcontext()
    try:
        with progress:
            summary = synthesize(config, outdir, choice=choice)
    except OutdirError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # Under the cdktf CLI the CLI prints its own summary.
    text = summary.render()
    print(text.splitlines()[0] if under_cli else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
