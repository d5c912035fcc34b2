"""``make drift``: is each deployed stack still what its configuration says?

Usage: python -m modules.ops.drift [--stack NAME ...] [--json PATH] [--outdir cdktf.out]

For each synthesized stack (``<outdir>/stacks/<name>``) it runs, with the stack's own backend
(local, s3 or cloud):

1. ``terraform init -input=false`` (providers from the local mirror when one is found, see
   :mod:`modules.ops.terraform`);
2. ``terraform plan -refresh-only -detailed-exitcode`` saved to a file: what changed *outside*
   Terraform (the drift), read from ``terraform show -json`` (``resource_drift``);
3. ``terraform plan -detailed-exitcode`` saved to a file: what an apply would change
   (``resource_changes``), which includes reverting the drift.

Only resource addresses and attribute *names* are reported, never values (some are secret).

Why the JSON and not only the exit code of step 2: Terraform 1.10/1.11 may exit 2 from a
refresh-only plan that found nothing (hashicorp/terraform#36403: the refreshed state is
"applyable" though no attribute changed); a stack is drifted when the saved plan lists a
changed resource or output.

Exit code: 0 every stack in sync, 2 at least one drifted (and none failed), 1 an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from modules.ops.terraform import (
    MirrorError,
    TerraformNotFoundError,
    offline_env,
    run_terraform,
    select_stacks,
)

Status = Literal["in sync", "drifted", "error"]
EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2
NO_CHANGE_ACTIONS = frozenset({"no-op", "read"})


@dataclass(frozen=True, kw_only=True)
class ResourceChange:
    """One resource that differs: its address, Terraform's actions and the attribute names."""

    address: str
    actions: tuple[str, ...]
    attributes: tuple[str, ...]

    def describe(self) -> str:
        attrs = ",".join(self.attributes)
        action = "/".join(self.actions)
        return f"{self.address} ({action}{': ' + attrs if attrs else ''})"


@dataclass(frozen=True, kw_only=True)
class StackReport:
    """Drift status of one stack."""

    stack: str
    backend: str
    status: Status
    drift: tuple[ResourceChange, ...] = ()
    changes: tuple[ResourceChange, ...] = ()
    outputs_changed: tuple[str, ...] = ()
    exit_codes: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None


#: Computed attributes that only mirror what separate resources of this toolkit manage. The
#: AWS provider fills them in on the first refresh after those resources change (e.g. a role's
#: ``inline_policy`` after an ``aws_iam_role_policy`` apply), which is not drift: a real change
#: behind Terraform's back shows on the managing resource itself (its ``policy``, its
#: ``block_public_acls``, ...), so these are left out of drift reports.
MIRRORED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "aws_iam_role": frozenset({"inline_policy", "managed_policy_arns"}),
    "aws_iam_user": frozenset(),
    "aws_s3_bucket": frozenset(
        {
            "server_side_encryption_configuration",
            "versioning",
            "lifecycle_rule",
            "policy",
            "acl",
            "grant",
        }
    ),
}


def _same(a: Any, b: Any) -> bool:
    # "no value" and "empty value" are not drift: the AWS provider stores tags = null after
    # create and reads back tags = {} (nothing else differs).
    return a == b or (a in (None, {}, [], "") and b in (None, {}, [], ""))


def changed_attributes(before: Any, after: Any, unknown: Any = None) -> tuple[str, ...]:
    """Top-level attribute names whose values differ (or become unknown)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    names = {k for k in set(before) | set(after) if not _same(before.get(k), after.get(k))}
    if isinstance(unknown, dict):
        names |= {k for k, v in unknown.items() if v}
    return tuple(sorted(names))


def _changes(
    entries: Sequence[Mapping[str, Any]], *, ignore: Mapping[str, frozenset[str]] | None = None
) -> tuple[ResourceChange, ...]:
    found = []
    for entry in entries:
        change = entry.get("change", {})
        actions = tuple(change.get("actions", ()))
        if set(actions) <= NO_CHANGE_ACTIONS or entry.get("mode") == "data":
            continue
        attributes: tuple[str, ...] = ()
        if "update" in actions:
            attributes = changed_attributes(
                change.get("before"), change.get("after"), change.get("after_unknown")
            )
            skipped = (ignore or {}).get(str(entry.get("type", "")), frozenset())
            attributes = tuple(a for a in attributes if a not in skipped)
            if not attributes:
                continue  # only null-versus-empty differences
        found.append(
            ResourceChange(address=str(entry["address"]), actions=actions, attributes=attributes)
        )
    return tuple(sorted(found, key=lambda c: c.address))


def drift_from_plan(plan: Mapping[str, Any]) -> tuple[ResourceChange, ...]:
    """Resources changed outside Terraform, from ``terraform show -json`` of a saved plan."""
    return _changes(plan.get("resource_drift", ()), ignore=MIRRORED_ATTRIBUTES)


def changes_from_plan(plan: Mapping[str, Any]) -> tuple[ResourceChange, ...]:
    """Resources an apply would change, from ``terraform show -json`` of a saved plan."""
    return _changes(plan.get("resource_changes", ()))


def outputs_from_plan(plan: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of outputs whose value would change."""
    return tuple(
        sorted(
            name
            for name, change in plan.get("output_changes", {}).items()
            if set(change.get("actions", ())) - NO_CHANGE_ACTIONS
        )
    )


def backend_type(document: Mapping[str, Any]) -> str:
    """``local``, ``s3``, ``cloud``... as configured in a synthesized ``cdk.tf.json``."""
    terraform = document.get("terraform", {})
    if "cloud" in terraform:
        return "cloud"
    backends = terraform.get("backend", {})
    return next(iter(backends), "local")


class _StepError(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step} failed: {detail}")


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _progress(message: str) -> None:
    print(f"drift: {message}", file=sys.stderr, flush=True)


def _saved_plan(
    stack_dir: Path,
    plan_file: Path,
    extra: Sequence[str],
    *,
    lock_flag: Sequence[str],
    env: Mapping[str, str],
) -> tuple[int, dict[str, Any]]:
    args = ["plan", *extra, "-detailed-exitcode", "-input=false", *lock_flag]
    args.append(f"-out={plan_file}")
    result = run_terraform(args, cwd=stack_dir, env=env)
    step = "terraform " + " ".join(args[:2] if extra else args[:1])
    if result.returncode not in (0, 2):
        raise _StepError(step, _tail(result.stderr or result.stdout))
    shown = run_terraform(["show", "-json", str(plan_file)], cwd=stack_dir, env=env)
    if shown.returncode != 0:
        raise _StepError("terraform show -json", _tail(shown.stderr))
    return result.returncode, json.loads(shown.stdout)


def check_stack(stack_dir: Path, *, env: Mapping[str, str], scratch: Path) -> StackReport:
    """Init, refresh-only plan and normal plan of one synthesized stack directory."""
    name = stack_dir.name
    document = json.loads((stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
    backend = backend_type(document)
    # Remote runs (cloud) reject -lock=false; elsewhere a read-only check takes no lock.
    lock_flag = [] if backend in {"cloud", "remote"} else ["-lock=false"]
    codes: dict[str, int] = {}
    try:
        _progress(f"{name}: terraform init ({backend} backend)")
        init = run_terraform(["init", "-input=false"], cwd=stack_dir, env=env)
        codes["init"] = init.returncode
        if init.returncode != 0:
            raise _StepError("terraform init", _tail(init.stderr or init.stdout))
        _progress(f"{name}: terraform plan -refresh-only")
        codes["refresh_only"], refresh = _saved_plan(
            stack_dir,
            scratch / f"{name}.refresh.tfplan",
            ["-refresh-only"],
            lock_flag=lock_flag,
            env=env,
        )
        _progress(f"{name}: terraform plan")
        codes["plan"], plan = _saved_plan(
            stack_dir, scratch / f"{name}.tfplan", [], lock_flag=lock_flag, env=env
        )
    except _StepError as e:
        return StackReport(
            stack=name, backend=backend, status="error", exit_codes=codes, error=str(e)
        )
    drift = drift_from_plan(refresh)
    changes = changes_from_plan(plan)
    outputs = tuple(sorted(set(outputs_from_plan(refresh)) | set(outputs_from_plan(plan))))
    status: Status = "drifted" if drift or changes or outputs else "in sync"
    return StackReport(
        stack=name,
        backend=backend,
        status=status,
        drift=drift,
        changes=changes,
        outputs_changed=outputs,
        exit_codes=codes,
    )


def exit_code(reports: Sequence[StackReport]) -> int:
    """0 all in sync, 2 some drifted (none failed), 1 any error (or no stack at all)."""
    if not reports or any(r.status == "error" for r in reports):
        return EXIT_ERROR
    return EXIT_DRIFT if any(r.status == "drifted" for r in reports) else EXIT_IN_SYNC


def render(reports: Sequence[StackReport]) -> str:
    """The short table: stack, status, and the drifted / to-be-changed resources."""
    lines = [f"{'STACK':<14} {'BACKEND':<7} {'STATUS':<8}  DETAILS"]
    for r in reports:
        details: list[str] = []
        details += [f"drift: {c.describe()}" for c in r.drift]
        details += [f"plan:  {c.describe()}" for c in r.changes]
        details += [f"output: {o}" for o in r.outputs_changed]
        if r.error:
            details += r.error.splitlines()
        first = details[0] if details else "-"
        lines.append(f"{r.stack:<14} {r.backend:<7} {r.status:<8}  {first}")
        lines.extend(f"{'':<32}{d}" for d in details[1:])
    return "\n".join(lines)


def to_json(reports: Sequence[StackReport]) -> dict[str, Any]:
    """The machine-readable report written by ``--json``."""
    data = {"exit_code": exit_code(reports), "stacks": [asdict(r) for r in reports]}
    parsed: dict[str, Any] = json.loads(json.dumps(data))  # tuples become lists
    return parsed


def run(outdir: Path, stacks: Sequence[str] | None = None) -> list[StackReport]:
    """Check every stack of ``outdir`` (or the named ones)."""
    stacks_dir, names = select_stacks(outdir, stacks)
    with tempfile.TemporaryDirectory(prefix="mlops-drift-") as tmp:
        scratch = Path(tmp)
        env, mirror = offline_env(scratch)
        if mirror is not None:
            _progress(f"providers from the mirror {mirror.path}")
        return [check_stack(stacks_dir / n, env=env, scratch=scratch) for n in names]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modules.ops.drift",
        description="Drift detection: refresh-only and normal plans of every stack.",
    )
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    parser.add_argument("--json", type=Path, dest="json_path", metavar="PATH")
    args = parser.parse_args(argv)
    try:
        reports = run(args.outdir, args.stacks)
    except (FileNotFoundError, MirrorError, TerraformNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    print(render(reports))
    if args.json_path is not None:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(
            json.dumps(to_json(reports), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    return exit_code(reports)


if __name__ == "__main__":
    sys.exit(main())
