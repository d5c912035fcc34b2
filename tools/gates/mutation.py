"""``make mutation``: mutmut over lambda_src/ and modules/core/, then the kill ratio and survivors.

``run`` starts one moto_server on 127.0.0.1 for the whole run (the function's tests would
otherwise start one per mutant, see tests/support/moto_server.py), runs ``mutmut run`` with one
child process (settings in pyproject.toml, ``[tool.mutmut]``) and prints the report; mutmut keeps
its results in ``mutants/``, so a second run only tests mutants of functions that changed.
``report`` prints the report of the last run.

mutmut 3 keeps one ``<source>.meta`` JSON file per mutated source file under ``mutants/``, with
an exit code per mutant (mutmut's ``status_by_exit_code``: 1 and 3 killed, 0 survived, 33 and 5
no test reached the function, 36/24/152/255 timeout, 37 caught by the type checker, None not
run). A mutant counts as killed when a test failed on it or it ran into the timeout (a mutant
that loops forever is detected too); every other mutant of the run counts against the ratio,
including those no test reached.

Usage: python -m tools.gates.mutation run [--children N] [--fail-under PERCENT] [MUTANT_PATTERN ...]
       python -m tools.gates.mutation report [--mutants DIR] [--fail-under PERCENT] [--limit N]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The two mutated trees (``[tool.mutmut] source_paths``), each also reported on its own.
TREES = ("modules/core/", "lambda_src/")
_KILLED = frozenset({1, 3})
_TIMEOUT = frozenset({36, 24, -24, 152, 255})
_NO_TESTS = frozenset({33, 5})


def status(exit_code: int | None) -> str:
    """mutmut's name for a mutant's exit code."""
    if exit_code is None:
        return "not checked"
    if exit_code in _KILLED:
        return "killed"
    if exit_code in _TIMEOUT:
        return "timeout"
    if exit_code in _NO_TESTS:
        return "no tests"
    return {0: "survived", 34: "skipped", 37: "caught by type check"}.get(exit_code, "suspicious")


@dataclass(frozen=True)
class Report:
    counts: Counter[str]
    survivors: list[str]
    """Mutants not killed, ``<mutant name>: <status>``, sorted."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        return self.counts["killed"] + self.counts["timeout"]

    @property
    def ratio(self) -> float:
        return self.killed / self.total if self.total else 0.0


def _left_out(pyproject: Path = Path("pyproject.toml")) -> tuple[str, ...]:
    """``[tool.mutmut] do_not_mutate``: results an earlier run left for these files are stale."""
    if not pyproject.is_file():
        return ()
    settings = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return tuple(settings.get("tool", {}).get("mutmut", {}).get("do_not_mutate", ()))


def collect(mutants: Path, under: str = "") -> Report:
    """The report of every mutant recorded in ``mutants``, or of the sources below ``under``
    (a path prefix such as ``lambda_src/``)."""
    counts: Counter[str] = Counter()
    survivors = []
    left_out = _left_out()
    for meta in sorted(mutants.rglob("*.meta")):
        source = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        if any(fnmatch.fnmatch(source, pattern) for pattern in left_out):
            continue
        if not source.startswith(under):
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, exit_code in data["exit_code_by_key"].items():
            state = status(exit_code)
            counts[state] += 1
            if state not in ("killed", "timeout"):
                survivors.append(f"{name}: {state}")
    return Report(counts=counts, survivors=sorted(survivors))


def run(patterns: Sequence[str], children: int = 1) -> int:
    """``mutmut run`` (``children`` at a time, default one) with a shared moto_server; mutmut's
    own exit code."""
    from tests.support.moto_server import (  # noqa: PLC0415 - developer tooling only
        SHARED_PORT_VARIABLE,
        running_moto_server,
    )

    # The tests read GitHub's OpenAPI description from node_modules/ (hundreds of MB): the copy
    # of the tree mutmut runs in links to it instead of copying it.
    Path("mutants").mkdir(exist_ok=True)
    link = Path("mutants") / "node_modules"
    if Path("node_modules").exists() and not link.exists():
        link.symlink_to(Path("node_modules").resolve(), target_is_directory=True)
    with running_moto_server() as moto:
        env = {**os.environ, SHARED_PORT_VARIABLE: str(moto.port)}
        command = [
            sys.executable,
            "-m",
            "mutmut",
            "run",
            "--max-children",
            str(children),
            *patterns,
        ]
        return subprocess.run(command, env=env, check=False).returncode  # noqa: S603


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "report"))
    parser.add_argument("patterns", nargs="*", help="run: only mutants matching (fnmatch)")
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--fail-under", type=float, default=0.0, help="percent; exit 1 below")
    parser.add_argument("--limit", type=int, default=200, help="survivors listed at most")
    parser.add_argument(
        "--children", type=int, default=1, help="run: mutants tested at once (default 1)"
    )
    args = parser.parse_intermixed_args(argv)
    if args.command == "run":
        code = run(args.patterns, args.children)
        if code != 0:
            print(f"mutmut run exited with {code}", file=sys.stderr)
            return code
    if not args.mutants.is_dir():
        print(f"no {args.mutants}/: run `make mutation` first", file=sys.stderr)
        return 2
    report = collect(args.mutants)
    if report.total == 0:
        print(f"no mutants recorded in {args.mutants}/", file=sys.stderr)
        return 2
    for line in report.survivors[: args.limit]:
        print(f"  {line}")
    if len(report.survivors) > args.limit:
        print(f"  ... and {len(report.survivors) - args.limit} more")
    by_state = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
    print(f"mutation: {by_state}")
    for tree in TREES:
        part = collect(args.mutants, tree)
        if part.total:
            print(f"  {tree}: {part.killed}/{part.total} = {100 * part.ratio:.1f}%")
    print(
        f"mutation kill ratio: {report.killed}/{report.total} = {100 * report.ratio:.1f}% "
        "(killed or timed out / all mutants)"
    )
    return 1 if 100 * report.ratio < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
