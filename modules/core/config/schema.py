"""The config's JSON Schema, generated from the pydantic models, for editors.

Usage: python -m modules.core.config.schema (--write | --check) config/schema.json
(``make schema`` writes it.) The output is deterministic (sorted keys, fixed indentation), so
``tests/modules/core/test_config_schema.py`` regenerates it in memory and fails when the
committed file is stale. Editors with the YAML language server (VS Code's YAML extension) read
the ``# yaml-language-server: $schema=...`` line at the top of a config; JetBrains IDEs map the
schema to files in Settings | Languages & Frameworks | Schemas and DTDs | JSON Schema Mappings.

The schema gives structure, allowed keys, enums, defaults and descriptions; the toolkit's own
validation (``load_config``) still checks more (name patterns, ARNs, cross-field rules).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modules.core.config.environments import ToolkitConfig

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a config file (the YAML keys, i.e. the models' aliases)."""
    # pydantic's defaults: keys by alias, for validation (what a config file may hold)
    schema = ToolkitConfig.model_json_schema()
    return {
        "$schema": SCHEMA_DIALECT,
        **schema,
        "title": "sagemaker-github-mlops configuration",
    }


def render_schema() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="write the schema to this file")
    group.add_argument("--check", type=Path, help="exit 1 when this file is not up to date")
    args = parser.parse_args(argv)
    text = render_schema()
    if args.write is not None:
        args.write.write_bytes(text.encode())
        print(f"wrote {args.write}")
        return 0
    if args.check.is_file() and args.check.read_text(encoding="utf-8") == text:
        return 0
    print(f"{args.check} is stale: run `make schema`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
