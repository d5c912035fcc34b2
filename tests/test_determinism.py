"""Synth output is byte-identical from two checkouts at different paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def project_files() -> list[str]:
    """Tracked files plus untracked ones git does not ignore: what a clone would hold."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def make_checkout(dest: Path) -> Path:
    for rel in project_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
        # A fresh clone has new mtimes: make them differ on purpose.
        os.utime(target, (1_700_000_000 + len(str(dest)), 1_700_000_000 + len(str(dest))))
    return dest


def synth_in(checkout: Path) -> dict[str, bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CDKTF_OUTDIR"}
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outdir = checkout / "cdktf.out"
    return {
        str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()
    }


@pytest.mark.slow
def test_two_checkouts_synthesize_identical_bytes(tmp_path: Path) -> None:
    first = synth_in(make_checkout(tmp_path / "a"))
    second = synth_in(make_checkout(tmp_path / "somewhere" / "much" / "deeper" / "b"))
    assert sorted(first) == sorted(second)
    assert any(name.endswith("cdk.tf.json") for name in first)
    different = [name for name in first if first[name] != second[name]]
    assert different == []
