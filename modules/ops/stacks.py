"""Which config and stacks ``make diff``/``deploy``/``destroy``/``drift`` work on.

Usage: python -m modules.ops.stacks [--outdir cdktf.out] [--stack NAME]

Prints the config the next synth uses (the same rule as ``main.py``: MLOPS_CONFIG, the config
recorded in ``<outdir>/synthesized-from.json``, mlops.yaml, config/example.yaml) and its stacks.
With ``--stack`` the name must be one of them: otherwise exit 2 with the list, before the
``cdktf`` CLI would re-synthesize and report "Could not find stack".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from modules.core.config import ConfigError, choose_config, load_config
from modules.core.config.selection import display_path

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def check_stack(
    *, outdir: Path, stack: str | None, environ: Mapping[str, str]
) -> tuple[str, list[str]]:
    """(a line naming the config, its stack names); ConfigError when ``stack`` is not one."""
    choice = choose_config(explicit=None, environ=environ, outdir=outdir)
    config = load_config(choice.path)
    names = [env.stack_name for env in config.environments]
    where = f"{display_path(choice.path)} ({choice.explanation})"
    if stack is not None and stack not in names:
        raise ConfigError(
            f"STACK={stack}",
            [f"not a stack of {where}; its stacks: {', '.join(names)}"],
        )
    return f"config: {where}; stacks: {', '.join(names)}", names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--stack", default=None)
    args = parser.parse_args(argv)
    try:
        line, _ = check_stack(outdir=args.outdir, stack=args.stack, environ=os.environ)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(line)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
