"""Benchmark a synth of the toolkit against the naive way of loading the AWS provider.

``make bench`` runs this. For each of ``--runs`` rounds it starts two fresh processes that
synthesize the same config with ``main.py``:

* **ours**: the toolkit as shipped, where ``modules/runtime.py`` loads only the provider
  resource modules the app uses;
* **baseline**: the same synth with ``MLOPS_EAGER_PROVIDERS=1``, so the prebuilt provider
  packages' roots are imported first, which is what a plain CDKTF app does.

The two kinds alternate inside each round (and swap order every round) so that both share the
machine's noise. Wall time is measured around the child process. Memory is measured inside the
child: each synth runs through :func:`measure_child`, which, once ``main.py`` has returned and
before jsii stops its Node kernel (an ``atexit`` hook), reads the peak resident set size
(``VmHWM`` in ``/proc/<pid>/status``) of the Python process and of every process below it (the
jsii runtime: a small Node launcher and the Node kernel it starts). After jsii has reaped Node,
the child also records ``RUSAGE_CHILDREN``'s ``ru_maxrss`` as a cross-check: the kernel keeps the
largest peak of every reaped descendant there, so it matches the largest ``VmHWM`` read earlier
(within a few pages of batched RSS accounting).

Medians, the ours/baseline ratio and peaks are printed as a table; targets (ratio <= 0.25,
Python peak <= 100 MiB) are reported as PASS or MISS, never asserted. Exit code: 0 when every
synth succeeded (targets met or not), 1 when a synth failed or the two kinds wrote different
files, 2 for bad arguments.

Usage: python tools/bench.py [--runs N] [--warmup N] [--config PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import resource
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "main.py"
DEFAULT_CONFIG = ROOT / "config" / "example.yaml"
EAGER_ENV = "MLOPS_EAGER_PROVIDERS"  # read by modules/runtime.py

#: Targets of issue 9, reported as PASS/MISS.
RATIO_TARGET = 0.25
PYTHON_PEAK_TARGET_MIB = 100.0

Kind = Literal["ours", "baseline"]
KINDS: tuple[Kind, Kind] = ("ours", "baseline")

#: What a child runs: import this module and hand it the report path, script and arguments.
_CHILD_CODE = (
    "import sys; sys.path[0] = sys.argv.pop(1); "
    "from tools.bench import measure_child; sys.exit(measure_child(sys.argv[1:]))"
)


class BenchError(Exception):
    """A synth failed, or a measurement could not be taken."""


# --------------------------------------------------------------------------------------------
# Inside the measured child process


@dataclass(frozen=True, kw_only=True)
class ProcessPeak:
    """Peak resident set size of one process (``VmHWM``)."""

    pid: int
    name: str
    peak_kib: int


def _status_fields(pid: int | str) -> dict[str, str]:
    text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value.strip()
    return fields


def parse_kib(value: str) -> int:
    """``'  49028 kB'`` (a ``/proc/<pid>/status`` size) -> ``49028``."""
    number, _, unit = value.strip().partition(" ")
    if unit.strip() != "kB" or not number.isdigit():
        raise BenchError(f"unexpected size in /proc status: {value!r}")
    return int(number)


def _parent_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible in ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8")
        except OSError:  # the process ended while we were looking
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendant_peaks(pid: int) -> list[ProcessPeak]:
    """``VmHWM`` of every live process below ``pid`` (children, grandchildren...)."""
    tree = _parent_map()
    peaks: list[ProcessPeak] = []
    todo = sorted(tree.get(pid, []))
    while todo:
        child = todo.pop(0)
        try:
            fields = _status_fields(child)
        except OSError:
            continue
        if "VmHWM" in fields:  # zombies have no memory figures left
            peaks.append(
                ProcessPeak(pid=child, name=fields["Name"], peak_kib=parse_kib(fields["VmHWM"]))
            )
        todo.extend(sorted(tree.get(child, [])))
    return peaks


def _all_children_reaped() -> bool:
    """True when this process has no child left, running or zombie (reaping any zombie)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False


def measure_child(argv: Sequence[str]) -> int:
    """Run ``script`` as ``python script args...`` would, then write a memory report.

    ``argv`` is ``[report_path, script, *args]``. Returns the script's exit code.
    """
    report_path, script, *args = argv
    report: dict[str, Any] = {}

    def write_report() -> None:
        # Registered first, so it runs after jsii's own atexit hook has stopped Node.
        report["all_children_reaped"] = _all_children_reaped()
        report["rusage_children_max_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        Path(report_path).write_text(json.dumps(report), encoding="utf-8")

    atexit.register(write_report)
    sys.argv = [script, *args]
    sys.path[0] = str(Path(script).resolve().parent)
    code: int = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if isinstance(e.code, int):
            code = e.code
        elif e.code is not None:
            print(e.code, file=sys.stderr)
            code = 1
    report["exit_code"] = code
    report["python_peak_kib"] = parse_kib(_status_fields("self")["VmHWM"])
    report["descendants"] = [asdict(p) for p in descendant_peaks(os.getpid())]
    return code


# --------------------------------------------------------------------------------------------
# In the benchmark process


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One measured synth."""

    kind: Kind
    round: int
    wall_seconds: float
    python_peak_mib: float
    node_peak_mib: float
    node_processes: int
    rusage_children_max_mib: float


@dataclass(frozen=True, kw_only=True)
class KindSummary:
    """Medians and peaks of one kind over all rounds."""

    runs: int
    median_wall_seconds: float
    min_wall_seconds: float
    max_wall_seconds: float
    median_python_peak_mib: float
    max_python_peak_mib: float
    median_node_peak_mib: float
    max_node_peak_mib: float


@dataclass(frozen=True, kw_only=True)
class Targets:
    """The issue's targets and whether this run met them."""

    ratio_max: float
    python_peak_mib_max: float
    ratio_met: bool
    python_peak_met: bool


@dataclass(frozen=True, kw_only=True)
class BenchReport:
    """Everything ``--json`` writes."""

    config: str
    runs: int
    warmup: int
    machine: dict[str, Any]
    ours: KindSummary
    baseline: KindSummary
    ratio: float
    targets: Targets
    samples: list[Sample]


def _mib(kib: float) -> float:
    return round(kib / 1024, 1)


def child_env(kind: Kind, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of one synth: ``base`` minus our knobs, plus eager mode for baseline."""
    env = {k: v for k, v in base.items() if k not in {EAGER_ENV, "CDKTF_OUTDIR"}}
    if kind == "baseline":
        env[EAGER_ENV] = "1"
    return env


def child_command(report_path: Path, script: Path, args: Sequence[str]) -> list[str]:
    """The command that runs ``python script args...`` under :func:`measure_child`."""
    return [sys.executable, "-c", _CHILD_CODE, str(ROOT), str(report_path), str(script), *args]


def run_once(*, kind: Kind, round_no: int, config: Path, workdir: Path) -> tuple[Sample, Path]:
    """One fresh synth of ``config``; returns its sample and output directory."""
    outdir = workdir / f"{kind}-{round_no}" / "cdktf.out"
    report_path = workdir / f"{kind}-{round_no}.json"
    cmd = child_command(report_path, MAIN, ["--config", str(config), "--outdir", str(outdir)])
    start = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own interpreter and script
        cmd,
        cwd=ROOT,
        env=child_env(kind, os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BenchError(f"{kind} synth (round {round_no}) exited {proc.returncode}:\n{tail}")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BenchError(f"{kind} synth (round {round_no}) wrote no memory report: {e}") from e
    if not report.get("all_children_reaped"):
        raise BenchError(f"{kind} synth (round {round_no}): the Node process outlived Python")
    node = [d for d in report["descendants"] if d["name"] == "node"]
    if not node:
        raise BenchError(f"{kind} synth (round {round_no}): no Node (jsii) process was seen")
    sample = Sample(
        kind=kind,
        round=round_no,
        wall_seconds=round(wall, 3),
        python_peak_mib=_mib(report["python_peak_kib"]),
        # The launcher and the kernel run side by side: their peaks add up (an upper bound).
        node_peak_mib=_mib(sum(d["peak_kib"] for d in node)),
        node_processes=len(node),
        rusage_children_max_mib=_mib(report["rusage_children_max_kib"]),
    )
    return sample, outdir


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def summarize_kind(samples: Sequence[Sample]) -> KindSummary:
    if not samples:
        raise BenchError("no samples to summarize")
    walls = [s.wall_seconds for s in samples]
    pys = [s.python_peak_mib for s in samples]
    nodes = [s.node_peak_mib for s in samples]
    return KindSummary(
        runs=len(samples),
        median_wall_seconds=round(statistics.median(walls), 3),
        min_wall_seconds=min(walls),
        max_wall_seconds=max(walls),
        median_python_peak_mib=round(statistics.median(pys), 1),
        max_python_peak_mib=max(pys),
        median_node_peak_mib=round(statistics.median(nodes), 1),
        max_node_peak_mib=max(nodes),
    )


def build_report(
    *, config: str, warmup: int, machine: dict[str, Any], samples: Sequence[Sample]
) -> BenchReport:
    """Medians per kind, the ratio of medians, and the targets' verdicts."""
    ours = summarize_kind([s for s in samples if s.kind == "ours"])
    baseline = summarize_kind([s for s in samples if s.kind == "baseline"])
    ratio = round(ours.median_wall_seconds / baseline.median_wall_seconds, 3)
    return BenchReport(
        config=config,
        runs=ours.runs,
        warmup=warmup,
        machine=machine,
        ours=ours,
        baseline=baseline,
        ratio=ratio,
        targets=Targets(
            ratio_max=RATIO_TARGET,
            python_peak_mib_max=PYTHON_PEAK_TARGET_MIB,
            ratio_met=ratio <= RATIO_TARGET,
            # Judged on the worst run: a peak is a peak.
            python_peak_met=ours.max_python_peak_mib <= PYTHON_PEAK_TARGET_MIB,
        ),
        samples=list(samples),
    )


def render(report: BenchReport) -> str:
    """The table ``make bench`` prints."""

    def verdict(met: bool) -> str:
        return "PASS" if met else "MISS"

    o, b, t = report.ours, report.baseline, report.targets

    def load(key: str) -> str:
        return "/".join(f"{x:.2f}" for x in report.machine.get(key, []))

    def row(label: str, ours: str, baseline: str) -> str:
        return f"{label:<24}{ours:>14}{baseline:>14}"

    lines = [
        f"Synth benchmark: {report.config}, {report.runs} run(s) per kind "
        f"(+{report.warmup} warm-up), {report.machine.get('cpus')} CPU(s), "
        f"load average {load('loadavg_start')} at start, {load('loadavg_end')} at end",
        "",
        row("", "ours", "baseline"),
        row("median wall time (s)", f"{o.median_wall_seconds:.2f}", f"{b.median_wall_seconds:.2f}"),
        row(
            "  min..max (s)",
            f"{o.min_wall_seconds:.2f}..{o.max_wall_seconds:.2f}",
            f"{b.min_wall_seconds:.2f}..{b.max_wall_seconds:.2f}",
        ),
        row("Python peak (MiB)", f"{o.max_python_peak_mib:.1f}", f"{b.max_python_peak_mib:.1f}"),
        row("Node peak (MiB)", f"{o.max_node_peak_mib:.1f}", f"{b.max_node_peak_mib:.1f}"),
        "",
        f"ratio ours/baseline (median wall)  {report.ratio:.3f}   "
        f"target <= {t.ratio_max:.2f}   {verdict(t.ratio_met)}",
        f"Python peak of our synth           {o.max_python_peak_mib:.1f} MiB   "
        f"target <= {t.python_peak_mib_max:.0f} MiB   {verdict(t.python_peak_met)}",
        "",
        "Peaks are the highest VmHWM over the runs; Node = jsii launcher + kernel processes.",
    ]
    return "\n".join(lines)


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_bench(*, runs: int, warmup: int, config: Path) -> BenchReport:
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": _loadavg(),
    }
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        workdir = Path(tmp)
        for round_no in range(1 - warmup, runs + 1):
            # Swap the order every round so neither kind always runs on a warmer machine.
            order = KINDS if round_no % 2 else KINDS[::-1]
            outputs: dict[Kind, Path] = {}
            for kind in order:
                sample, outputs[kind] = run_once(
                    kind=kind, round_no=round_no, config=config, workdir=workdir
                )
                label = f"round {round_no}/{runs}" if round_no > 0 else "warm-up"
                print(
                    f"bench: {label:<12} {kind:<8} {sample.wall_seconds:6.2f} s  "
                    f"python {sample.python_peak_mib:6.1f} MiB  "
                    f"node {sample.node_peak_mib:6.1f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
                if round_no > 0:
                    samples.append(sample)
            if round_no == 1 - warmup and _tree_bytes(outputs["ours"]) != _tree_bytes(
                outputs["baseline"]
            ):
                raise BenchError("ours and baseline synthesized different files")
    machine["loadavg_end"] = _loadavg()
    try:
        shown = str(config.resolve().relative_to(ROOT))
    except ValueError:
        shown = str(config)
    return build_report(config=shown, warmup=warmup, machine=machine, samples=samples)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time our synth against the naive eager-import baseline."
    )
    parser.add_argument("--runs", type=_positive, default=5, help="measured rounds [5]")
    parser.add_argument(
        "--warmup", type=_non_negative, default=1, help="unmeasured rounds first [1]"
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="[config/example.yaml]")
    parser.add_argument("--json", type=Path, help="also write the full report here")
    args = parser.parse_args(argv)
    if not args.config.is_file():
        parser.error(f"--config: no such file: {args.config}")
    try:
        report = run_bench(runs=args.runs, warmup=args.warmup, config=args.config.resolve())
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    print(render(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
