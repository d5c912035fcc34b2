"""``make validate``: ``terraform init`` + ``terraform validate`` of every synthesized stack.

Usage: python -m modules.ops.validate [--outdir cdktf.out] [--workdir build/validate]
                                      [--stack NAME ...]

Each stack is validated in a copy under ``--workdir`` (the synthesized output is never touched):

* ``<stack>/aws``: the AWS half (github provider and ``github_*`` blocks removed), always;
* ``<stack>/full``: the whole stack, when the integrations/github provider is available (in
  the provider mirror, or from the registry when no mirror is in use).

Providers come from the filesystem mirror found by :mod:`modules.ops.terraform` (no network);
without a mirror Terraform's normal registry installation is used. Exit 0 when every copy is
valid, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from modules.ops.terraform import (
    MirrorError,
    TerraformNotFoundError,
    aws_half,
    copy_stack,
    offline_env,
    run_terraform,
    select_stacks,
)


@dataclass(frozen=True, kw_only=True)
class ValidationResult:
    """Outcome of validating one copy of a stack."""

    stack: str
    variant: str  # "aws" or "full"
    valid: bool
    resources: int
    messages: tuple[str, ...]


def _diagnostics(stdout: str) -> tuple[bool, tuple[str, ...]]:
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        return False, (stdout.strip()[-2000:] or "terraform validate printed no JSON",)
    messages = []
    for diag in report.get("diagnostics", []):
        where = diag.get("range", {}).get("filename", "")
        messages.append(f"{diag.get('severity')}: {diag.get('summary')} {where}".strip())
    return bool(report.get("valid")), tuple(messages)


def validate_copy(
    *, stack: str, variant: str, directory: Path, env: dict[str, str]
) -> ValidationResult:
    """``terraform init -backend=false`` then ``terraform validate -json`` in ``directory``."""
    doc = json.loads((directory / "cdk.tf.json").read_text(encoding="utf-8"))
    count = sum(len(items) for items in doc.get("resource", {}).values())
    init = run_terraform(["init", "-backend=false", "-input=false"], cwd=directory, env=env)
    if init.returncode != 0:
        tail = (init.stderr or init.stdout).strip().splitlines()[-15:]
        return ValidationResult(
            stack=stack, variant=variant, valid=False, resources=count, messages=tuple(tail)
        )
    result = run_terraform(["validate", "-json"], cwd=directory, env=env)
    valid, messages = _diagnostics(result.stdout)
    return ValidationResult(
        stack=stack,
        variant=variant,
        valid=valid and result.returncode == 0,
        resources=count,
        messages=messages,
    )


def validate_outdir(
    outdir: Path, workdir: Path, stacks: list[str] | None = None
) -> list[ValidationResult]:
    """Validate the stacks of ``outdir`` (all, or those named) in copies under ``workdir``."""
    stacks_dir, names = select_stacks(outdir, stacks)
    env, mirror = offline_env(workdir)
    source = f"provider mirror {mirror.path}" if mirror else "the Terraform registry"
    print(f"validate: providers from {source}", file=sys.stderr)
    validate_full = mirror is None or mirror.has_github
    results = []
    for name in names:
        document = json.loads((stacks_dir / name / "cdk.tf.json").read_text(encoding="utf-8"))
        half = aws_half(document)
        print(
            f"validate: {name}: AWS half ({len(half.removed)} GitHub blocks removed)",
            file=sys.stderr,
        )
        target = copy_stack(stacks_dir / name, workdir / name / "aws", half.document)
        results.append(validate_copy(stack=name, variant="aws", directory=target, env=env))
        if validate_full:
            print(f"validate: {name}: whole stack", file=sys.stderr)
            target = copy_stack(stacks_dir / name, workdir / name / "full", document)
            results.append(validate_copy(stack=name, variant="full", directory=target, env=env))
        else:
            print(
                f"validate: {name}: whole stack skipped (no integrations/github provider in "
                f"the mirror {mirror.path if mirror else ''})",
                file=sys.stderr,
            )
    return results


def render(results: list[ValidationResult]) -> str:
    """A short table, one line per validated copy, then any diagnostics."""
    lines = [f"{'STACK':<12} {'COPY':<5} {'RESOURCES':>9}  RESULT"]
    for r in results:
        lines.append(
            f"{r.stack:<12} {r.variant:<5} {r.resources:>9}  {'valid' if r.valid else 'INVALID'}"
        )
        lines.extend(f"    {m}" for m in r.messages)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--workdir", type=Path, default=Path("build/validate"))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        results = validate_outdir(args.outdir, args.workdir.resolve(), args.stacks)
    except (MirrorError, TerraformNotFoundError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(render(results))
    return 0 if results and all(r.valid for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
