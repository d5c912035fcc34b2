"""Which config and stacks ``make diff``/``deploy``/``destroy``/``drift`` work on.

Usage: python -m modules.ops.stacks [--outdir cdktf.out] [--config PATH] [--stack NAME]
                                    [--print-path]

Prints the config the next synth uses (the same rule as ``main.py``: ``--config``, MLOPS_CONFIG,
the config recorded in ``<outdir>/synthesized-from.json``, mlops.yaml, config/example.yaml) and
its stacks. With ``--stack`` the name must be one of them: otherwise exit 2 with the list, at
once (it only reads the config: no synth first), before the ``cdktf`` CLI would re-synthesize
and report "Could not find stack". ``--print-path`` prints only the config's path (for
``make preflight``, whose module takes ``--config``). A passed-over mlops.yaml is announced on
stderr.
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
    *,
    outdir: Path,
    stack: str | None,
    environ: Mapping[str, str],
    explicit: str | None = None,
) -> tuple[str, list[str]]:
    """(a line naming the config, its stack names); ConfigError when ``stack`` is not one.

    ``explicit``: a config given on the command line (``CONFIG=``), which wins as in synth."""
    choice = choose_config(explicit=explicit, environ=environ, outdir=outdir)
    if choice.notice is not None:
        print(choice.notice, file=sys.stderr)
    config = load_config(choice.path)
    names = [env.stack_name for env in config.environments]
    where = f"{display_path(choice.path)} ({choice.explanation})"
    if stack is not None and stack not in names:
        raise ConfigError(
            f"STACK={stack}",
            [f"not a stack of {where}; its stacks: {', '.join(names)}"],
        )
    return f"config: {where}; stacks: {', '.join(names)}", names


def config_path(*, outdir: Path, environ: Mapping[str, str], explicit: str | None) -> Path:
    """The config file the next synth uses (ConfigError as :func:`check_stack`)."""
    return choose_config(explicit=explicit, environ=environ, outdir=outdir).path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--config", default=None, help="a config given on the command line")
    parser.add_argument("--stack", default=None)
    parser.add_argument("--print-path", action="store_true", help="print only the config path")
    args = parser.parse_args(argv)
    try:
        line, _ = check_stack(
            outdir=args.outdir, stack=args.stack, environ=os.environ, explicit=args.config
        )
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.print_path:
        print(line, file=sys.stderr)
        print(config_path(outdir=args.outdir, environ=os.environ, explicit=args.config))
    else:
        print(line)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
