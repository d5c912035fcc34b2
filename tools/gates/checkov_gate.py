"""checkov on every synthesized stack, offline, with no way for an unread file to look clean.

checkov 3.x reads ``cdk.tf.json`` with its ``terraform_json`` runner. Three of its behaviours
would let a broken scan pass silently, so the gate treats each as a failure:

- a file it cannot parse (for example one with ``terraform.required_version``) is listed under
  ``parsing_errors`` while checkov reports "0 failed" and exits 0;
- a framework that does not match the file runs no runner at all: the output is a bare summary
  and the exit code is 0;
- its summary's ``resource_count`` is always 0 for this runner, so it proves nothing.

The gate therefore requires exactly one ``terraform_json`` report without parsing errors per
stack, and runs checkov's own parser on the file to prove that it sees every ``resource`` and
``data`` block of ``cdk.tf.json`` (same addresses, same number).

Skipped checks live in one file, ``checkov_skips.yaml`` at the project root: check id -> reason
and the construct paths it applies to. Skips are applied to checkov's results here (checkov runs
every check), so a skip can be scoped to some resources and an unused skip can be reported.

checkov pins libraries (boto3, networkx, packaging) that conflict with the project's own pins,
so it runs from its own virtualenv, ``build/checkov-venv``, installed from
``tools/gates/checkov-requirements.txt`` on first use.

Usage: ``python -m tools.gates.checkov_gate [--outdir cdktf.out] [--install-only]``
"""

from __future__ import annotations

import argparse
import fcntl
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).resolve().parent / "checkov-requirements.txt"
DEFAULT_VENV = ROOT / "build" / "checkov-venv"
DEFAULT_SKIPS = ROOT / "checkov_skips.yaml"
FRAMEWORK = "terraform_json"
CHECK_ID_RE = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
MIN_REASON_LENGTH = 20
# Environment variables that could make checkov talk to a platform or leak a key into a request.
_PLATFORM_VARIABLES = ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL", "CKV_API_KEY")

# Runs inside the checkov virtualenv: checkov's own parser, exactly what its runner calls.
_PARSER_PROBE = """
import json, sys
from pathlib import Path
from checkov.terraform_json.parser import parse
template, _ = parse(Path(sys.argv[1]))
if template is None:
    print(json.dumps(None))
else:
    print(json.dumps(sorted(
        f"{kind}.{rtype}.{name}"
        for kind in ("resource", "data")
        for block in template.get(kind, [])
        for rtype, named in block.items()
        for name in named
    )))
"""


class CheckovGateError(Exception):
    """checkov could not be installed or run, or its output proves nothing."""


class SkipsFileError(CheckovGateError):
    """``checkov_skips.yaml`` is malformed (names the entry and the problem)."""


# --------------------------------------------------------------------------- skips


@dataclass(frozen=True, kw_only=True)
class Skip:
    """One skipped check.

    Attributes:
        check_id: checkov check id (``CKV_AWS_117``, ``CKV2_AWS_57``).
        reason: why the check does not apply or cannot be met.
        paths: glob patterns matched against construct paths (``dev/token-secret``) or
            ``provider/<name>``; the skip applies only to matching resources.
    """

    check_id: str
    reason: str
    paths: tuple[str, ...]

    def applies_to(self, construct_path: str) -> bool:
        return any(fnmatch.fnmatchcase(construct_path, p) for p in self.paths)


def load_skips(path: Path = DEFAULT_SKIPS) -> tuple[Skip, ...]:
    """Read the skips file: ``{check id: {reason: str, paths: [glob, ...]}}``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SkipsFileError(f"{path}: cannot read the skips file: {e}") from e
    return parse_skips(data or {}, source=str(path))


def parse_skips(data: Any, *, source: str = "skips") -> tuple[Skip, ...]:
    if not isinstance(data, dict):
        raise SkipsFileError(f"{source}: expected a mapping of check id -> {{reason, paths}}")
    skips = []
    for check_id, entry in data.items():
        where = f"{source}: {check_id}"
        if not isinstance(check_id, str) or not CHECK_ID_RE.match(check_id):
            raise SkipsFileError(f"{where}: not a checkov check id (CKV_AWS_1, CKV2_AWS_57)")
        if not isinstance(entry, dict) or set(entry) != {"reason", "paths"}:
            raise SkipsFileError(f"{where}: give exactly 'reason' and 'paths'")
        reason, paths = entry["reason"], entry["paths"]
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
            raise SkipsFileError(f"{where}: the reason must say why, in a sentence")
        if (
            not isinstance(paths, list)
            or not paths
            or not all(isinstance(p, str) and p.strip() for p in paths)
        ):
            raise SkipsFileError(f"{where}: 'paths' must be a non-empty list of glob patterns")
        skips.append(Skip(check_id=check_id, reason=" ".join(reason.split()), paths=tuple(paths)))
    return tuple(skips)


# --------------------------------------------------------------------------- install


def ensure_checkov(venv: Path = DEFAULT_VENV, requirements: Path = REQUIREMENTS) -> Path:
    """Return the checkov executable, installing the pinned virtualenv when it is missing or
    was installed from other requirements. Safe against concurrent callers (file lock)."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    marker = venv / f".installed-{digest}"
    executable = venv / "bin" / "checkov"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f".{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and executable.exists():
            return executable
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(requirements),
            ],
        ]
        for step in steps:
            result = subprocess.run(  # noqa: S603 - fixed argv: our interpreter, pinned file
                step, capture_output=True, text=True, check=False, timeout=1200
            )
            if result.returncode != 0:
                raise CheckovGateError(
                    f"installing checkov failed ({' '.join(step[:4])} ...):\n"
                    f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
                )
        marker.touch()
    return executable


# --------------------------------------------------------------------------- scanning


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A failed check on one resource of one stack."""

    stack: str
    check_id: str
    check_name: str
    address: str
    construct_path: str


@dataclass(frozen=True, kw_only=True)
class StackScan:
    stack: str
    passed: int
    failed: tuple[Finding, ...]


def stack_addresses(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``kind.type.name`` of every resource and data source -> (logical name, construct path)."""
    out: dict[str, tuple[str, str]] = {}
    for kind in ("resource", "data"):
        for rtype, named in doc.get(kind, {}).items():
            for name, config in named.items():
                path = config.get("//", {}).get("metadata", {}).get("path", f"{rtype}.{name}")
                out[f"{kind}.{rtype}.{name}"] = (name, path)
    return out


def _checkov_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_VARIABLES}
    env.update({"BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING", "PYTHONUTF8": "1"})
    return env


def parsed_addresses(checkov: Path, stack_file: Path) -> list[str] | None:
    """Addresses checkov's own parser reads from ``stack_file`` (None: it cannot parse it)."""
    python = checkov.resolve().parent / "python"
    result = subprocess.run(  # noqa: S603 - the checkov venv's interpreter, our probe
        [str(python), "-c", _PARSER_PROBE, str(stack_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=_checkov_env(),
    )
    if result.returncode != 0:
        raise CheckovGateError(f"checkov parser probe failed on {stack_file}:\n{result.stderr}")
    value = json.loads(result.stdout.strip().splitlines()[-1])
    return None if value is None else [str(a) for a in value]


def run_checkov(checkov: Path, stack_file: Path) -> dict[str, Any]:
    """Run checkov on one file and return its ``terraform_json`` report (raises if absent)."""
    result = subprocess.run(  # noqa: S603 - the pinned checkov, fixed options
        [
            str(checkov.resolve()),
            "--file",
            stack_file.name,
            "--framework",
            FRAMEWORK,
            "--skip-download",
            "--output",
            "json",
            "--compact",
        ],
        cwd=stack_file.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=_checkov_env(),
    )
    if result.returncode not in (0, 1):
        raise CheckovGateError(
            f"checkov exited {result.returncode} on {stack_file}:\n{result.stderr[-4000:]}"
        )
    try:
        output = json.loads(result.stdout)
    except json.JSONDecodeError as e:
        raise CheckovGateError(
            f"checkov printed no JSON for {stack_file}: {e}\n{result.stderr[-4000:]}"
        ) from e
    reports = output if isinstance(output, list) else [output]
    ours = [r for r in reports if isinstance(r, dict) and r.get("check_type") == FRAMEWORK]
    if len(ours) != 1:
        raise CheckovGateError(
            f"checkov ran no {FRAMEWORK} scan on {stack_file} (output: {result.stdout[:500]!r}); "
            "a scan that reads nothing must not pass"
        )
    return dict(ours[0])


def _index(expected: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """checkov's resource ids -> (``type.name``, construct path). Python checks name a block
    ``resource.<name>`` or ``data.<name>``, graph checks ``<type>.<name>``."""
    index: dict[str, tuple[str, str]] = {}
    for address, (name, path) in expected.items():
        kind, rtype, _ = address.split(".", 2)
        index[f"{kind}.{name}"] = (f"{rtype}.{name}", path)
        index[f"{rtype}.{name}"] = (f"{rtype}.{name}", path)
    return index


def _resolve(result_resource: str, index: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    prefix, _, name = result_resource.partition(".")
    if prefix == "provider":
        return result_resource, f"provider/{name}"
    if result_resource in index:
        return index[result_resource]
    raise CheckovGateError(f"checkov reported {result_resource!r}, which the stack does not hold")


# Blocks that only move or forget state addresses: nothing in them is a resource setting a
# check could judge, and checkov 3.x's terraform_json parser cannot read them (its
# ``handle_block_type`` passes each ``moved`` entry's ``from``/``to`` strings to ``hclify``,
# which raises "this method receives only dicts", so the whole file counts as unparsable).
STATE_ONLY_BLOCKS = ("moved", "removed", "import")


@contextmanager
def scannable(stack_file: Path, doc: Mapping[str, Any]) -> Iterator[Path]:
    """``stack_file``, or a temporary copy without the state-only blocks when it has any."""
    if not any(key in doc for key in STATE_ONLY_BLOCKS):
        yield stack_file
        return
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        copy = Path(tmp) / stack_file.name
        kept = {k: v for k, v in doc.items() if k not in STATE_ONLY_BLOCKS}
        copy.write_text(json.dumps(kept, indent=2), encoding="utf-8")
        yield copy


def scan_stack(checkov: Path, stack_file: Path) -> StackScan:
    """Scan one ``cdk.tf.json``; raise :class:`CheckovGateError` when the scan proves nothing."""
    doc = json.loads(stack_file.read_text(encoding="utf-8"))
    with scannable(stack_file, doc) as scanned:
        return _scan(checkov, scanned, stack_file.parent.name, doc)


def _scan(checkov: Path, stack_file: Path, stack: str, doc: Mapping[str, Any]) -> StackScan:
    expected = stack_addresses(doc)
    parsed = parsed_addresses(checkov, stack_file)
    if parsed is None:
        raise CheckovGateError(f"{stack}: checkov cannot parse {stack_file}")
    if sorted(parsed) != sorted(expected):
        missing = sorted(set(expected) - set(parsed))
        extra = sorted(set(parsed) - set(expected))
        raise CheckovGateError(
            f"{stack}: checkov parsed {len(parsed)} of {len(expected)} blocks "
            f"(missing {missing[:10]}, unexpected {extra[:10]})"
        )
    report = run_checkov(checkov, stack_file)
    errors = report["results"].get("parsing_errors") or []
    if errors or report["summary"].get("parsing_errors"):
        raise CheckovGateError(f"{stack}: checkov could not parse {errors or stack_file}")
    index = _index(expected)
    passed = report["results"]["passed_checks"]
    failed = report["results"]["failed_checks"]
    if expected and not passed and not failed:
        raise CheckovGateError(f"{stack}: checkov evaluated no check on {len(expected)} blocks")
    findings = []
    for record in failed:
        address, path = _resolve(str(record["resource"]), index)
        findings.append(
            Finding(
                stack=stack,
                check_id=str(record["check_id"]),
                check_name=str(record["check_name"]),
                address=address,
                construct_path=path,
            )
        )
    return StackScan(stack=stack, passed=len(passed), failed=tuple(findings))


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, kw_only=True)
class GateResult:
    failures: tuple[Finding, ...]
    skipped: tuple[tuple[Finding, Skip], ...]
    unused_skips: tuple[Skip, ...]

    @property
    def ok(self) -> bool:
        return not self.failures

    def render(self) -> str:
        lines = []
        if self.failures:
            lines.append(f"checkov: {len(self.failures)} failed check(s):")
            lines += [
                f"  {f.stack:<8} {f.check_id:<12} {f.construct_path}  ({f.address}): {f.check_name}"
                for f in self.failures
            ]
        lines.append(f"checkov: {len(self.skipped)} finding(s) skipped by checkov_skips.yaml")
        for skip in self.unused_skips:
            lines.append(f"checkov: skip {skip.check_id} {list(skip.paths)} matched nothing")
        return "\n".join(lines)


def evaluate(scans: Sequence[StackScan], skips: Sequence[Skip]) -> GateResult:
    """Split findings into failures and skipped ones; list skips that matched nothing."""
    failures: list[Finding] = []
    skipped: list[tuple[Finding, Skip]] = []
    used: set[int] = set()
    for scan in scans:
        for finding in scan.failed:
            match = next(
                (
                    (i, s)
                    for i, s in enumerate(skips)
                    if s.check_id == finding.check_id and s.applies_to(finding.construct_path)
                ),
                None,
            )
            if match is None:
                failures.append(finding)
            else:
                used.add(match[0])
                skipped.append((finding, match[1]))
    unused = tuple(s for i, s in enumerate(skips) if i not in used)
    return GateResult(failures=tuple(failures), skipped=tuple(skipped), unused_skips=unused)


def stack_files(outdir: Path) -> list[Path]:
    files = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    if not files:
        raise CheckovGateError(f"no stacks under {outdir}/stacks: run `make synth` first")
    return files


def run_gate(
    outdir: Path, *, skips: Sequence[Skip] | None = None, checkov: Path | None = None
) -> GateResult:
    """Scan every stack under ``outdir`` and apply the skips."""
    executable = checkov or ensure_checkov()
    scans = [scan_stack(executable, f) for f in stack_files(outdir)]
    return evaluate(scans, load_skips() if skips is None else skips)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default="cdktf.out", type=Path)
    parser.add_argument("--install-only", action="store_true", help="install checkov and exit")
    args = parser.parse_args(argv)
    try:
        checkov = ensure_checkov()
        if args.install_only:
            print(f"checkov ready: {checkov}")
            return 0
        result = run_gate(args.outdir, checkov=checkov)
    except CheckovGateError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(result.render())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
