"""Benchmark a synth of the toolkit against the naive way of loading the AWS provider.

``make bench`` runs this. For each of ``--runs`` rounds it starts two fresh processes that
synthesize the same config with ``main.py``:

* **ours**: the toolkit as shipped: ``modules/runtime.py`` loads only the provider resource
  modules the app uses in Python, and ``modules/jsii_slim`` hands Node a slim copy of each
  provider package holding only those submodules;
* **baseline**: the same synth with ``MLOPS_EAGER_PROVIDERS=1``, so the prebuilt provider
  packages' roots are imported first and Node loads the full packages, which is what a plain
  CDKTF app does.

The two kinds alternate inside each round (and swap order every round) so that both share the
machine's noise. Wall time is measured around the child process, and so is its CPU time (user +
system of the child and every descendant it reaped, jsii's Node processes included, from
``RUSAGE_CHILDREN``), which is far less sensitive to other load on the machine. Memory is
measured inside the child: each synth runs through :func:`measure_child`, which, once ``main.py``
has returned and before jsii stops its Node kernel (an ``atexit`` hook), reads the peak resident
set size (``VmHWM`` in ``/proc/<pid>/status``) of the Python process and of every process below it
(the jsii runtime: a small Node launcher and the Node kernel it starts). After jsii has reaped
Node, the child also records ``RUSAGE_CHILDREN``'s ``ru_maxrss`` as a cross-check: the kernel
keeps the largest peak of every reaped descendant there, so it matches the largest ``VmHWM``
read earlier (within a few pages of batched RSS accounting). The **largest process** is the
highest of those peaks, Python or Node.

Then a **scale curve**: one synth each of a config with 1, 10, 50 and 200 projects in one
environment (``--scale``), generated from the config's first environment and first project
(distinct names ``p001``..., one repository each, an existing CodeConnection ARN), reporting wall
time, ``cdk.tf.json`` size and the largest process, and the cost per added project.

Medians, the ours/baseline ratio and peaks are printed as a table; targets (ratio <= 0.12,
largest process <= 250 MiB, Python peak <= 100 MiB) are reported as PASS or MISS, never
asserted. Exit code: 0 when every synth succeeded (targets met or not), 1 when a synth failed
or the two kinds wrote different files, 2 for bad arguments.

Usage: python tools/bench.py [--runs N] [--warmup N] [--config PATH] [--scale 1,10,50,200]
                             [--json PATH]
"""

from __future__ import annotations

import argparse
import atexit
import copy
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

import yaml

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "main.py"
DEFAULT_CONFIG = ROOT / "config" / "example.yaml"
EAGER_ENV = "MLOPS_EAGER_PROVIDERS"  # read by modules/runtime.py

#: Targets (issues 9 and 19), reported as PASS/MISS.
RATIO_TARGET = 0.12
LARGEST_PEAK_TARGET_MIB = 250.0
PYTHON_PEAK_TARGET_MIB = 100.0
DEFAULT_SCALE = (1, 10, 50, 200)
#: Stands in for "an existing CodeConnection" in generated scale configs (no per-project one).
SCALE_CONNECTION_UUID = "00000000-0000-4000-8000-000000000001"

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
    largest_peak_mib: float
    cpu_seconds: float


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
    max_largest_peak_mib: float
    median_cpu_seconds: float


@dataclass(frozen=True, kw_only=True)
class Targets:
    """The issues' targets and whether this run met them."""

    ratio_max: float
    largest_peak_mib_max: float
    python_peak_mib_max: float
    ratio_met: bool
    largest_peak_met: bool
    python_peak_met: bool


@dataclass(frozen=True, kw_only=True)
class ScalePoint:
    """One synth of a generated config with ``projects`` projects in one environment."""

    projects: int
    wall_seconds: float
    cpu_seconds: float
    cdk_tf_json_bytes: int
    largest_peak_mib: float


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
    cpu_ratio: float
    targets: Targets
    samples: list[Sample]
    scale: list[ScalePoint]


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


@dataclass(frozen=True, kw_only=True)
class ChildRun:
    """One measured ``main.py`` process: wall and CPU time, and its memory report."""

    wall_seconds: float
    cpu_seconds: float
    report: dict[str, Any]


def largest_peak_kib(report: Mapping[str, Any]) -> int:
    """The highest peak of any process of one synth: Python, the Node launcher or kernel."""
    peaks = [int(report["python_peak_kib"]), int(report.get("rusage_children_max_kib", 0))]
    peaks += [int(d["peak_kib"]) for d in report["descendants"]]
    return max(peaks)


def run_synth(*, label: str, config: Path, outdir: Path, env: Mapping[str, str]) -> ChildRun:
    """One fresh ``main.py --config config --outdir outdir`` under :func:`measure_child`."""
    report_path = outdir.parent / f"{outdir.parent.name}-report.json"
    cmd = child_command(report_path, MAIN, ["--config", str(config), "--outdir", str(outdir)])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own interpreter and script
        cmd, cwd=ROOT, env=dict(env), capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BenchError(f"{label} exited {proc.returncode}:\n{tail}")
    for line in proc.stderr.splitlines():  # the toolkit's own notices (slim copies prepared
        if line.startswith("mlops:"):  # in this run, or a fallback to the full packages)
            print(f"bench: {label}: {line}", file=sys.stderr, flush=True)
    try:
        report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BenchError(f"{label} wrote no memory report: {e}") from e
    if not report.get("all_children_reaped"):
        raise BenchError(f"{label}: the Node process outlived Python")
    if not any(d["name"] == "node" for d in report["descendants"]):
        raise BenchError(f"{label}: no Node (jsii) process was seen")
    return ChildRun(wall_seconds=wall, cpu_seconds=cpu, report=report)


def run_once(*, kind: Kind, round_no: int, config: Path, workdir: Path) -> tuple[Sample, Path]:
    """One fresh synth of ``config``; returns its sample and output directory."""
    outdir = workdir / f"{kind}-{round_no}" / "cdktf.out"
    run = run_synth(
        label=f"{kind} synth (round {round_no})",
        config=config,
        outdir=outdir,
        env=child_env(kind, os.environ),
    )
    report = run.report
    node = [d for d in report["descendants"] if d["name"] == "node"]
    sample = Sample(
        kind=kind,
        round=round_no,
        wall_seconds=round(run.wall_seconds, 3),
        python_peak_mib=_mib(report["python_peak_kib"]),
        # The launcher and the kernel run side by side: their peaks add up (an upper bound).
        node_peak_mib=_mib(sum(d["peak_kib"] for d in node)),
        node_processes=len(node),
        rusage_children_max_mib=_mib(report["rusage_children_max_kib"]),
        largest_peak_mib=_mib(largest_peak_kib(report)),
        cpu_seconds=round(run.cpu_seconds, 3),
    )
    return sample, outdir


# --------------------------------------------------------------------------------------------
# Scale curve


def scale_config(base: Mapping[str, Any], projects: int) -> dict[str, Any]:
    """``base``'s first environment with ``projects`` copies of its first project.

    Copies are named ``p001``, ``p002``... (each its own repository, same owner) and use one
    existing CodeConnection ARN of the environment's account and region, so that no project
    adds a connection of its own.
    """
    env = copy.deepcopy(base["environments"][0])
    template = copy.deepcopy(env["projects"][0])
    template["code_connection"] = (
        f"arn:aws:codeconnections:{env['region']}:{env['account_id']}:"
        f"connection/{SCALE_CONNECTION_UUID}"
    )
    copies = []
    for i in range(1, projects + 1):
        project = copy.deepcopy(template)
        project["name"] = f"p{i:03d}"
        project["github"] = {**template["github"], "repository": f"p{i:03d}"}
        copies.append(project)
    env["projects"] = copies
    return {"environments": [env]}


def run_scale(*, counts: Sequence[int], config: Path, workdir: Path) -> list[ScalePoint]:
    """One synth (ours) per project count; wall and CPU time, output size, largest process."""
    base = yaml.safe_load(config.read_text(encoding="utf-8"))
    points = []
    for n in counts:
        path = workdir / f"scale-{n}.yaml"
        path.write_text(yaml.safe_dump(scale_config(base, n), sort_keys=False), encoding="utf-8")
        outdir = workdir / f"scale-{n}" / "cdktf.out"
        run = run_synth(
            label=f"scale synth ({n} projects)",
            config=path,
            outdir=outdir,
            env=child_env("ours", os.environ),
        )
        size = sum(p.stat().st_size for p in (outdir / "stacks").glob("*/cdk.tf.json"))
        point = ScalePoint(
            projects=n,
            wall_seconds=round(run.wall_seconds, 3),
            cpu_seconds=round(run.cpu_seconds, 3),
            cdk_tf_json_bytes=size,
            largest_peak_mib=_mib(largest_peak_kib(run.report)),
        )
        print(
            f"bench: scale {n:>4} project(s) {point.wall_seconds:6.2f} s  "
            f"cdk.tf.json {size / 1024:9.1f} KiB  largest {point.largest_peak_mib:6.1f} MiB",
            file=sys.stderr,
            flush=True,
        )
        points.append(point)
    return points


def growth_factor(points: Sequence[ScalePoint]) -> float | None:
    """CPU cost per added project in the last segment over the one before (1.0 = linear).

    None with fewer than three points. The first segment (from 1 project) is left out when
    there are four or more points: it is dominated by the fixed start-up cost.
    """
    pts = sorted(points, key=lambda p: p.projects)
    if len(pts) < 3:
        return None

    def slope(a: ScalePoint, b: ScalePoint) -> float:
        return (b.cpu_seconds - a.cpu_seconds) / (b.projects - a.projects)

    before = slope(pts[-3], pts[-2])
    if before <= 0:
        return None
    return round(slope(pts[-2], pts[-1]) / before, 2)


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
        max_largest_peak_mib=max(s.largest_peak_mib for s in samples),
        median_cpu_seconds=round(statistics.median(s.cpu_seconds for s in samples), 3),
    )


def build_report(
    *,
    config: str,
    warmup: int,
    machine: dict[str, Any],
    samples: Sequence[Sample],
    scale: Sequence[ScalePoint] = (),
) -> BenchReport:
    """Medians per kind, the ratio of medians, and the targets' verdicts."""
    ours = summarize_kind([s for s in samples if s.kind == "ours"])
    baseline = summarize_kind([s for s in samples if s.kind == "baseline"])
    ratio = round(ours.median_wall_seconds / baseline.median_wall_seconds, 3)
    cpu_ratio = (
        round(ours.median_cpu_seconds / baseline.median_cpu_seconds, 3)
        if baseline.median_cpu_seconds > 0
        else 0.0
    )
    return BenchReport(
        config=config,
        runs=ours.runs,
        warmup=warmup,
        machine=machine,
        ours=ours,
        baseline=baseline,
        ratio=ratio,
        cpu_ratio=cpu_ratio,
        targets=Targets(
            ratio_max=RATIO_TARGET,
            largest_peak_mib_max=LARGEST_PEAK_TARGET_MIB,
            python_peak_mib_max=PYTHON_PEAK_TARGET_MIB,
            ratio_met=ratio <= RATIO_TARGET,
            # Judged on the worst run: a peak is a peak.
            largest_peak_met=ours.max_largest_peak_mib <= LARGEST_PEAK_TARGET_MIB,
            python_peak_met=ours.max_python_peak_mib <= PYTHON_PEAK_TARGET_MIB,
        ),
        samples=list(samples),
        scale=list(scale),
    )


def _verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def render_scale(points: Sequence[ScalePoint], config: str) -> list[str]:
    """The scale curve's lines (empty without points)."""
    if not points:
        return []
    pts = sorted(points, key=lambda p: p.projects)
    lines = [
        f"Scale curve (ours, one synth each): one environment of {config} with N projects",
        f"{'projects':>10}{'wall (s)':>11}{'CPU (s)':>10}{'cdk.tf.json (KiB)':>20}"
        f"{'largest process (MiB)':>24}",
    ]
    for p in pts:
        lines.append(
            f"{p.projects:>10}{p.wall_seconds:>11.2f}{p.cpu_seconds:>10.2f}"
            f"{p.cdk_tf_json_bytes / 1024:>20.1f}{p.largest_peak_mib:>24.1f}"
        )
    if len(pts) >= 2:
        first, last = pts[-2] if len(pts) == 2 else pts[1], pts[-1]
        span = last.projects - first.projects
        lines.append(
            f"per added project ({first.projects} -> {last.projects}): "
            f"{(last.wall_seconds - first.wall_seconds) / span * 1000:.0f} ms wall, "
            f"{(last.cpu_seconds - first.cpu_seconds) / span * 1000:.0f} ms CPU, "
            f"{(last.cdk_tf_json_bytes - first.cdk_tf_json_bytes) / span / 1024:.1f} KiB"
        )
    factor = growth_factor(pts)
    if factor is not None:
        lines.append(
            f"growth: CPU per added project, last segment / the one before = {factor:.2f}"
            f"   linear or better (<= 1.30)   {_verdict(factor <= 1.30)}"
        )
    return lines


def render(report: BenchReport) -> str:
    """The table ``make bench`` prints."""
    o, b, t = report.ours, report.baseline, report.targets

    def load(key: str) -> str:
        return "/".join(f"{x:.2f}" for x in report.machine.get(key, []))

    def row(label: str, ours: str, baseline: str) -> str:
        return f"{label:<28}{ours:>14}{baseline:>14}"

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
        row("median CPU time (s)", f"{o.median_cpu_seconds:.2f}", f"{b.median_cpu_seconds:.2f}"),
        row(
            "largest process peak (MiB)",
            f"{o.max_largest_peak_mib:.1f}",
            f"{b.max_largest_peak_mib:.1f}",
        ),
        row("Python peak (MiB)", f"{o.max_python_peak_mib:.1f}", f"{b.max_python_peak_mib:.1f}"),
        row("Node peak (MiB)", f"{o.max_node_peak_mib:.1f}", f"{b.max_node_peak_mib:.1f}"),
        "",
        f"ratio ours/baseline (median wall)  {report.ratio:.3f}   "
        f"target <= {t.ratio_max:.2f}   {_verdict(t.ratio_met)}",
        f"largest process of our synth      {o.max_largest_peak_mib:.1f} MiB   "
        f"target <= {t.largest_peak_mib_max:.0f} MiB   {_verdict(t.largest_peak_met)}",
        f"Python peak of our synth          {o.max_python_peak_mib:.1f} MiB   "
        f"target <= {t.python_peak_mib_max:.0f} MiB   {_verdict(t.python_peak_met)}",
        f"ratio ours/baseline (median CPU)   {report.cpu_ratio:.3f}   (information: CPU time "
        "is less sensitive to other load)",
        "",
        "Peaks are the highest VmHWM over the runs; largest = the biggest single process (Python,",
        "Node launcher or Node kernel); Node = launcher + kernel added up. CPU = user + system of",
        "the synth's whole process tree.",
    ]
    scale = render_scale(report.scale, report.config)
    if scale:
        lines += ["", *scale]
    return "\n".join(lines)


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_bench(
    *, runs: int, warmup: int, config: Path, scale: Sequence[int] = DEFAULT_SCALE
) -> BenchReport:
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
                    f"cpu {sample.cpu_seconds:6.2f} s  "
                    f"python {sample.python_peak_mib:6.1f} MiB  "
                    f"node {sample.node_peak_mib:6.1f} MiB  "
                    f"largest {sample.largest_peak_mib:6.1f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
                if round_no > 0:
                    samples.append(sample)
            if round_no == 1 - warmup and _tree_bytes(outputs["ours"]) != _tree_bytes(
                outputs["baseline"]
            ):
                raise BenchError("ours and baseline synthesized different files")
        points = run_scale(counts=scale, config=config, workdir=workdir)
    machine["loadavg_end"] = _loadavg()
    try:
        shown = str(config.resolve().relative_to(ROOT))
    except ValueError:
        shown = str(config)
    return build_report(config=shown, warmup=warmup, machine=machine, samples=samples, scale=points)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _counts(text: str) -> tuple[int, ...]:
    """``"1,10,50,200"`` -> ``(1, 10, 50, 200)``; ``""`` -> no scale curve."""
    try:
        counts = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError("expected project counts like 1,10,50,200") from e
    if any(n < 1 or n > 999 for n in counts):
        raise argparse.ArgumentTypeError("project counts must be between 1 and 999")
    return tuple(sorted(set(counts)))


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
    parser.add_argument(
        "--scale",
        type=_counts,
        default=DEFAULT_SCALE,
        help="project counts of the scale curve, '' for none [1,10,50,200]",
    )
    parser.add_argument("--json", type=Path, help="also write the full report here")
    args = parser.parse_args(argv)
    if not args.config.is_file():
        parser.error(f"--config: no such file: {args.config}")
    try:
        report = run_bench(
            runs=args.runs, warmup=args.warmup, config=args.config.resolve(), scale=args.scale
        )
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
