"""The Makefile's wiring, read with `make -n` (prints the recipes, runs nothing)."""

from __future__ import annotations

import os
import re
import subprocess

from tests.conftest import ROOT

# The install stamps are treated as up to date: -n must not even plan a reinstall.
STAMPS = ("-o", ".venv/.installed", "-o", ".venv/.installed-dev", "-o", "node_modules/.installed")


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"CONFIG", "MAKEFLAGS"}}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env={**full_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plain_make_prints_help_and_runs_nothing() -> None:
    result = make()
    assert result.returncode == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    for target in ("synth", "test", "test-fast", "diff", "deploy", "schema", "addresses"):
        assert re.search(rf"^  {re.escape(target)} +\S", text, re.MULTILINE), target
    assert make("-n").stdout == make("-n", "help").stdout


def test_config_is_passed_only_from_the_command_line() -> None:
    given = make("-n", *STAMPS, "synth", "CONFIG=my.yaml").stdout
    assert 'main.py --config "my.yaml" --outdir "cdktf.out"' in given
    leaked = make("-n", *STAMPS, "synth", CONFIG="config/other.yaml").stdout
    assert "--config" not in leaked and "main.py" in leaked


def test_diff_checks_the_stack_before_the_cli_and_is_quiet_in_logs() -> None:
    lines = make("-n", *STAMPS, "diff", "STACK=mine").stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if "-m modules.ops.stacks" in line)
    cli = next(i for i, line in enumerate(lines) if "node_modules/.bin/cdktf diff mine" in line)
    assert check < cli
    assert "--stack mine" in lines[check]
    assert "[ -t 1 ] || echo CI=true" in lines[cli]
    switched = make("-n", *STAMPS, "deploy", "STACK=mine", "CONFIG=my.yaml").stdout
    assert 'main.py --config "my.yaml" --outdir cdktf.out &&' in switched


def test_test_fast_leaves_out_slow_and_heavy_tests() -> None:
    recipe = make("-n", *STAMPS, "test-fast").stdout
    assert "MLOPS_TEST_FAST=1" in recipe
    assert '-m "not slow and not heavy"' in recipe
    full = make("-n", *STAMPS, "test").stdout
    assert "-m pytest" in full and "not slow" not in full and "MLOPS_TEST_FAST" not in full
