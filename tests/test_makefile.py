"""The Makefile's wiring, read with `make -n` (prints the recipes, runs nothing)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from modules.core.config import write_record
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


def _order(lines: list[str], *needles: str) -> list[int]:
    return [next(i for i, line in enumerate(lines) if needle in line) for needle in needles]


def test_preflight_uses_the_remembered_config() -> None:
    recipe = make("-n", *STAMPS, "preflight", "STACK=dev").stdout
    assert '-m modules.ops.stacks --outdir "cdktf.out"' in recipe
    assert "--stack dev --print-path" in recipe
    assert '-m modules.ops.preflight --config "$config" --stack dev' in recipe
    assert '--config ""' not in recipe
    given = make("-n", *STAMPS, "preflight", "CONFIG=my.yaml").stdout
    assert '-m modules.ops.stacks --outdir "cdktf.out" --config "my.yaml"' in given


def test_targets_check_the_stack_before_any_synth() -> None:
    for target, module in (
        ("deployer-policy", "modules.ops.deployer_policy"),
        ("drift", "modules.ops.drift"),
        ("inventory", "modules.ops.inventory"),
    ):
        lines = make("-n", *STAMPS, target, "STACK=dev").stdout.splitlines()
        check, synth, run = _order(lines, "-m modules.ops.stacks", "main.py", f"-m {module}")
        assert check < synth < run, target
        assert "--stack dev" in lines[check] and "--config" not in lines[synth], target
        assert "--stack dev" in lines[run], target


def test_install_comes_from_the_locks() -> None:
    synth = make("-n", "-W", "requirements.lock", "-o", "node_modules/.installed", "install")
    assert "modules/ops/install.py --venv .venv --lock requirements.lock" in synth.stdout
    dev = make("-n", "-W", "requirements-dev.lock", "-o", ".venv/.installed", "install-dev")
    assert "modules/ops/install.py --venv .venv --lock requirements-dev.lock" in dev.stdout
    assert "--compile" in make("-n", "lock").stdout


def test_an_unknown_stack_is_listed_at_once_without_a_synth(tmp_path: Path) -> None:
    """Through the real Makefile: the stack check reads only the config."""
    out = tmp_path / "out"
    for target in ("deployer-policy", "drift", "inventory", "preflight"):
        result = make(*STAMPS, target, "STACK=nope", f"OUTDIR={out}")
        assert result.returncode == 2, (target, result.stdout, result.stderr)
        assert "STACK=nope: 1 problem" in result.stderr, target
        assert "its stacks: dev, prod" in result.stderr, target
        assert "Synthesized" not in result.stdout + result.stderr, target
        assert not (out / "stacks").exists(), target


def test_preflight_without_config_names_the_remembered_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    data = yaml.safe_load((ROOT / "config" / "example.yaml").read_text(encoding="utf-8"))
    data["environments"] = data["environments"][:1]
    data["environments"][0]["name"] = "mine"
    mine.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    write_record(out, mine)
    result = make(*STAMPS, "preflight", "STACK=nope", f"OUTDIR={out}")
    assert result.returncode == 2
    assert f"not a stack of {mine} (remembered from the last synth); its stacks: mine" in (
        result.stderr
    )
