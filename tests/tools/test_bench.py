"""tools/bench.py: the measurements it takes, the report it builds, and one real round."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from modules.core.config import parse_config
from tests.conftest import ROOT
from tools.bench import (
    EAGER_ENV,
    LARGEST_PEAK_TARGET_MIB,
    PYTHON_PEAK_TARGET_MIB,
    RATIO_TARGET,
    BenchError,
    Sample,
    ScalePoint,
    build_report,
    child_command,
    child_env,
    growth_factor,
    largest_peak_kib,
    parse_kib,
    render,
    scale_config,
)

MIB = 1024  # KiB per MiB

# A stand-in for main.py: holds 32 MiB itself, starts a child holding 64 MiB that lives until
# an atexit hook tells it to stop (as jsii does with its Node kernel), and exits with 3.
FAKE_MAIN = textwrap.dedent(
    """
    import atexit, subprocess, sys
    from pathlib import Path
    Path(sys.argv[1]).write_text(repr(sys.argv[2:]))
    mine = b"p" * (32 << 20)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; held = b'n' * (64 << 20); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout.readline() == "ready\\n"
    def stop():
        child.stdin.close()
        child.wait()
    atexit.register(stop)
    sys.exit(3)
    """
)


def test_parse_kib_reads_proc_sizes() -> None:
    assert parse_kib("   49028 kB") == 49028
    with pytest.raises(BenchError, match="unexpected size"):
        parse_kib("12 MB")


def test_child_env_switches_only_the_eager_knob() -> None:
    base = {"PATH": "/bin", EAGER_ENV: "1", "CDKTF_OUTDIR": "/x", "JSII_NODE": "/n"}
    ours = child_env("ours", base)
    baseline = child_env("baseline", base)
    assert ours == {"PATH": "/bin", "JSII_NODE": "/n"}
    assert baseline == {**ours, EAGER_ENV: "1"}


def test_measure_child_reports_python_and_descendant_peaks(tmp_path: Path) -> None:
    script = tmp_path / "fake_main.py"
    script.write_text(FAKE_MAIN, encoding="utf-8")
    report_path = tmp_path / "report.json"
    argv_seen = tmp_path / "argv.txt"
    proc = subprocess.run(
        child_command(report_path, script, [str(argv_seen), "-x"]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert argv_seen.read_text() == "['-x']"
    report = json.loads(report_path.read_text())
    assert report["exit_code"] == 3
    assert 32 * MIB <= report["python_peak_kib"] < 200 * MIB
    [child] = report["descendants"]
    assert child["name"].startswith("python")
    assert 64 * MIB <= child["peak_kib"] < 200 * MIB
    # The child had been reaped by the time the report was written, and the kernel's own
    # figure for reaped children agrees with the VmHWM read while it was alive (up to the
    # kernel's batched RSS counters: a few pages).
    assert report["all_children_reaped"] is True
    assert report["rusage_children_max_kib"] == pytest.approx(child["peak_kib"], abs=MIB)


def _sample(kind: str, round_no: int, wall: float, python: float, largest: float = 200.0) -> Sample:
    return Sample(
        kind=kind,  # type: ignore[arg-type]
        round=round_no,
        wall_seconds=wall,
        python_peak_mib=python,
        node_peak_mib=600.0 + round_no,
        node_processes=2,
        rusage_children_max_mib=600.0,
        largest_peak_mib=largest,
        cpu_seconds=wall / 2,
    )


def test_report_uses_medians_and_judges_targets() -> None:
    samples = [
        _sample("ours", 1, 1.0, 48.0),
        _sample("baseline", 1, 14.0, 550.0, 610.0),
        _sample("ours", 2, 9.0, 49.0, 210.0),
        _sample("baseline", 2, 12.0, 560.0, 615.0),
        _sample("ours", 3, 1.5, 47.0),
        _sample("baseline", 3, 13.0, 555.0, 612.0),
    ]
    report = build_report(config="c.yaml", warmup=0, machine={"cpus": 2}, samples=samples)
    assert report.runs == 3
    assert report.ours.median_wall_seconds == 1.5
    assert report.baseline.median_wall_seconds == 13.0
    assert report.ratio == round(1.5 / 13.0, 3)
    assert report.cpu_ratio == round(0.75 / 6.5, 3)
    assert report.ours.max_python_peak_mib == 49.0
    assert report.ours.max_largest_peak_mib == 210.0
    assert report.baseline.max_largest_peak_mib == 615.0
    assert report.baseline.max_node_peak_mib == 603.0
    assert report.targets.ratio_met is (report.ratio <= RATIO_TARGET)
    assert report.targets.largest_peak_met is True
    assert report.targets.python_peak_met is True
    text = render(report)
    assert "ratio ours/baseline (median wall)  0.115   target <= 0.12   PASS" in text
    assert "largest process of our synth      210.0 MiB   target <= 250 MiB   PASS" in text
    assert text.count("PASS") == 3
    assert "Scale curve" not in text


def test_report_says_miss_when_a_target_is_missed() -> None:
    samples = [
        _sample("ours", 1, 5.0, PYTHON_PEAK_TARGET_MIB + 1, LARGEST_PEAK_TARGET_MIB + 1),
        _sample("baseline", 1, 10.0, 1),
    ]
    report = build_report(config="c.yaml", warmup=0, machine={}, samples=samples)
    assert report.ratio == 0.5
    assert not report.targets.ratio_met
    assert not report.targets.largest_peak_met
    assert not report.targets.python_peak_met
    assert render(report).count("MISS") == 3


def test_largest_peak_is_the_biggest_single_process() -> None:
    report = {
        "python_peak_kib": 60 * MIB,
        "rusage_children_max_kib": 140 * MIB,
        "descendants": [
            {"pid": 2, "name": "node", "peak_kib": 40 * MIB},
            {"pid": 3, "name": "node", "peak_kib": 141 * MIB},
        ],
    }
    assert largest_peak_kib(report) == 141 * MIB


def test_scale_config_is_valid_with_distinct_projects_and_no_new_connections() -> None:
    base = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
    data = scale_config(base, 12)
    config = parse_config(data)
    [env] = config.environments
    assert env.name == base["environments"][0]["name"]
    names = [p.name for p in env.projects]
    assert names[:2] == ["p001", "p002"] and names[-1] == "p012"
    assert len({p.github.repository for p in env.projects}) == 12
    assert all(p.code_connection != "create" for p in env.projects)


def _point(n: int, cpu: float) -> ScalePoint:
    return ScalePoint(
        projects=n,
        wall_seconds=cpu * 2,
        cpu_seconds=cpu,
        cdk_tf_json_bytes=40_000 + 120_000 * n,
        largest_peak_mib=100 + n,
    )


def test_scale_curve_reports_cost_per_project_and_growth() -> None:
    linear = [_point(1, 1.0), _point(10, 1.9), _point(50, 5.9), _point(200, 20.9)]
    assert growth_factor(linear) == 1.0
    superlinear = [_point(1, 1.0), _point(10, 1.9), _point(50, 5.9), _point(200, 40.9)]
    assert growth_factor(superlinear) == 2.33
    assert growth_factor(linear[:2]) is None
    samples = [_sample("ours", 1, 1.0, 50.0), _sample("baseline", 1, 10.0, 500.0)]
    report = build_report(config="c.yaml", warmup=0, machine={}, samples=samples, scale=linear)
    text = render(report)
    assert "Scale curve" in text
    assert "per added project (10 -> 200): 200 ms wall, 100 ms CPU, 117.2 KiB" in text
    assert "linear or better (<= 1.30)   PASS" in text


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    for args in (["--runs", "0"], ["--config", str(tmp_path / "missing.yaml")]):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "bench.py"), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2, args
        assert "error" in proc.stderr


@pytest.mark.slow
def test_one_real_round_on_the_example(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != EAGER_ENV}
    proc = subprocess.run(
        [
            *(sys.executable, "tools/bench.py", "--runs", "1", "--warmup", "0"),
            *("--scale", "1,2", "--json", str(out)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["config"] == "config/example.yaml"
    assert report["runs"] == 1
    assert {s["kind"] for s in report["samples"]} == {"ours", "baseline"}
    ours, baseline = report["ours"], report["baseline"]
    for kind in (ours, baseline):
        assert kind["median_wall_seconds"] > 0
        assert kind["max_python_peak_mib"] > 0
        assert kind["max_node_peak_mib"] > 0
    assert report["ratio"] == round(
        ours["median_wall_seconds"] / baseline["median_wall_seconds"], 3
    )
    for sample in report["samples"]:
        # jsii runs a Node launcher and the Node kernel below the Python process.
        assert sample["node_processes"] >= 1
    # Eager imports make the baseline's Python process far bigger: the baseline is real.
    assert baseline["max_python_peak_mib"] > 2 * ours["max_python_peak_mib"]
    assert set(report["targets"]) == {
        "ratio_max",
        "largest_peak_mib_max",
        "python_peak_mib_max",
        "ratio_met",
        "largest_peak_met",
        "python_peak_met",
    }
    # The slim assemblies keep even the largest process (the Node kernel) small.
    assert ours["max_largest_peak_mib"] < baseline["max_largest_peak_mib"] / 2
    assert [p["projects"] for p in report["scale"]] == [1, 2]
    one, two = report["scale"]
    assert two["cdk_tf_json_bytes"] > one["cdk_tf_json_bytes"] > 0
    assert f"{report['ratio']:.3f}" in proc.stdout
    assert proc.stdout.count("PASS") + proc.stdout.count("MISS") == 3
    assert "bench: round 1/1" in proc.stderr
    assert "Scale curve" in proc.stdout
