"""Command line: ``python -m layer_build --runtime python3.12 --architecture arm64 --out build/``.

Builds (or reuses) the layer zip and, with ``--function-src``, the function zip; prints
one line per artifact: ``<path> sha256=<hex> base64sha256=<base64>``. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from layer_build.build import LayerBuildError, build_function_zip, build_layer
from layer_build.deterministic_zip import Artifact
from layer_build.targets import DEFAULT_ARCHITECTURE, UnsupportedTargetError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m layer_build",
        description="Build the trigger Lambda's layer (and function zip) reproducibly.",
    )
    parser.add_argument("--runtime", default="python3.12", help="Lambda runtime (python3.12)")
    parser.add_argument(
        "--architecture",
        default=DEFAULT_ARCHITECTURE,
        help=f"Lambda architecture: arm64 or x86_64 (default {DEFAULT_ARCHITECTURE})",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="wheel cache (default: OUT/wheel-cache)"
    )
    parser.add_argument(
        "--function-src", type=Path, default=None, help="also zip this function source directory"
    )
    parser.add_argument(
        "--function-zip-name", default="function.zip", help="name of the function zip in OUT"
    )
    return parser


def _line(artifact: Artifact) -> str:
    return f"{artifact.path} sha256={artifact.sha256_hex} base64sha256={artifact.base64_sha256}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        layer = build_layer(
            runtime=args.runtime,
            architecture=args.architecture,
            out_dir=args.out,
            cache_dir=args.cache_dir,
        )
        print(_line(layer))
        if args.function_src is not None:
            print(
                _line(
                    build_function_zip(
                        src_dir=args.function_src, out_path=args.out / args.function_zip_name
                    )
                )
            )
    except (UnsupportedTargetError, LayerBuildError) as e:
        print(f"layer_build: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
