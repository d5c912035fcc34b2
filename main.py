"""Synthesize the toolkit: load the config, build the app, write cdktf.out/.

Usage: python main.py [--config PATH] [--outdir DIR]   (CONFIG=PATH works too)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from modules.config import DEFAULT_CONFIG_PATH, ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.environ.get("CONFIG") or str(DEFAULT_CONFIG_PATH))
    parser.add_argument("--outdir", default=os.environ.get("CDKTF_OUTDIR") or "cdktf.out")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from modules.synth import OutdirError, synthesize  # noqa: PLC0415 - cdktf loads only for a valid config

    try:
        summary = synthesize(config, Path(args.outdir))
    except OutdirError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # Under the cdktf CLI (it sets CDKTF_OUTDIR) the CLI prints its own summary.
    text = summary.render()
    print(text.splitlines()[0] if os.environ.get("CDKTF_OUTDIR") else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
