"""Resource addresses are a contract: a rename must come with a `moved` block or a changelog entry.

Terraform identifies a resource by its address (``aws_iam_role.<construct path id>``). CDKTF
derives the name from the construct path, so renaming a construct (or moving it under another
parent) makes the next plan destroy the old resource and create a new one: for a Service
Catalog product, a role or a secret that is an outage. This gate compares the resource
addresses of the example's stacks with a committed snapshot
(``tests/snapshots/addresses.json``):

- an address that is still there, or a new one, is fine;
- a removed address passes only when the new stack holds a ``moved`` block from it (CDKTF:
  ``resource.move_to(...)``/``move_from_id(...)``, rendered as ``"moved": [{"from", "to"}]``),
  or when the ``## [Unreleased]`` section of CHANGELOG.md names it (the replacement is then
  deliberate and announced to users).

Usage: python -m tools.gates.addresses --write tests/snapshots/addresses.json  (``make
addresses``: synthesizes config/example.yaml in a temporary directory and records every
resource address). Regenerate it when cutting a release (after which the changelog no longer
explains old removals) and whenever resources were added, so the guard covers them.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "addresses.json"
CHANGELOG = ROOT / "CHANGELOG.md"
EXAMPLE = ROOT / "config" / "example.yaml"
_UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def resource_addresses(stack: Mapping[str, Any]) -> set[str]:
    """``type.name`` of every managed resource in a synthesized ``cdk.tf.json``."""
    return {
        f"{rtype}.{name}" for rtype, items in stack.get("resource", {}).items() for name in items
    }


def moved_from(stack: Mapping[str, Any]) -> set[str]:
    """The ``from`` addresses of the stack's ``moved`` blocks."""
    return {str(block["from"]) for block in stack.get("moved", []) if "from" in block}


def unreleased(changelog: str) -> str:
    """The text of CHANGELOG.md's ``## [Unreleased]`` section ("" when there is none)."""
    match = _UNRELEASED.search(changelog)
    return match.group(1) if match else ""


def check_addresses(
    snapshot: Mapping[str, Sequence[str]],
    stacks: Mapping[str, Mapping[str, Any]],
    changelog: str,
) -> list[str]:
    """One line per removed address that neither a moved block nor the changelog explains."""
    explained = unreleased(changelog)
    problems: list[str] = []
    for name in sorted(snapshot):
        stack = stacks.get(name, {})
        current = resource_addresses(stack)
        moved = moved_from(stack)
        for address in sorted(set(snapshot[name]) - current):
            if address in moved or address in explained:
                continue
            problems.append(
                f"stack {name}: {address} is gone, so the next plan destroys it (and creates "
                "its replacement); keep the construct id, add a moved block "
                "(resource.move_to/move_from_id), or name the address in CHANGELOG.md's "
                "'## [Unreleased]' section with why it is replaced"
            )
    return problems


def snapshot_of(stacks: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    return {name: sorted(resource_addresses(stacks[name])) for name in sorted(stacks)}


def read_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    return {
        p.parent.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }


def synthesize_example(outdir: Path) -> dict[str, dict[str, Any]]:
    """Synthesize config/example.yaml into ``outdir`` with ``main.py`` (a fresh process)."""
    result = subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, str(ROOT / "main.py"), "--config", str(EXAMPLE), "--outdir", str(outdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"synth of {EXAMPLE} failed:\n{result.stderr}")
    return read_stacks(outdir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True, help="the snapshot file to write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="addresses-") as tmp:
        stacks = synthesize_example(Path(tmp) / "cdktf.out")
    args.write.parent.mkdir(parents=True, exist_ok=True)
    args.write.write_text(json.dumps(snapshot_of(stacks), indent=2) + "\n", encoding="utf-8")
    total = sum(len(v) for v in snapshot_of(stacks).values())
    print(f"wrote {args.write}: {total} addresses in {len(stacks)} stack(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
