"""Writing ``cdktf.out`` is all or nothing under SIGTERM and SIGINT.

A synth is stopped by a signal at several points (the ``MLOPS_SYNTH_PAUSE`` hook of
modules/synth.py holds it there, so each case is deterministic); afterwards the output tree is
exactly the old one or exactly the new one, Terraform's own files are still there, and no
staging directory is left anywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.core.config import parse_config
from modules.synth import PAUSE_ENV, STAGING_PREFIX
from tests.conftest import ROOT, example_data

LOCK = Path("stacks") / "dev" / ".terraform.lock.hcl"


def tree(outdir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()
    }


def configs() -> tuple[dict[str, Any], dict[str, Any]]:
    old = example_data()
    new = example_data()
    for env in new["environments"]:
        env["platform"]["product"] = {"version": "v2"}  # changes both stacks' cdk.tf.json
    return old, new


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The old and the new output trees, synthesized in this process."""
    from modules.synth import synthesize  # noqa: PLC0415 - cdktf only here

    out: list[dict[str, bytes]] = []
    for data in configs():
        outdir = tmp_path_factory.mktemp("tree") / "cdktf.out"
        synthesize(parse_config(data), outdir)
        (outdir / LOCK).write_text("# terraform's own file\n", encoding="utf-8")
        out.append(tree(outdir))
    assert out[0] != out[1]
    assert {k for k in out[0] if out[0][k] != out[1].get(k)} >= {
        "stacks/dev/cdk.tf.json",
        "stacks/prod/cdk.tf.json",
    }
    return out[0], out[1]


def start_old_tree(base: Path, old_tree: dict[str, bytes]) -> Path:
    outdir = base / "cdktf.out"
    for name, content in old_tree.items():
        (outdir / name).parent.mkdir(parents=True, exist_ok=True)
        (outdir / name).write_bytes(content)
    return outdir


def interrupted_synth(base: Path, point: str, signum: int, pause_seconds: float) -> int:
    """Run `python main.py` on the new config, signal it at ``point``; its exit status."""
    _, new = configs()
    config = base / "new.yaml"
    config.write_text(yaml.safe_dump(new), encoding="utf-8")
    ready = base / "ready"
    env = {**os.environ, PAUSE_ENV: f"{point}:{ready}:{pause_seconds}"}
    env.pop("CDKTF_OUTDIR", None)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--outdir", "cdktf.out"],
        cwd=base,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "synth never reached the pause point"
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    return proc.returncode


def no_staging_left(base: Path) -> None:
    leftovers = [p for p in base.rglob("*") if p.name.startswith((STAGING_PREFIX, ".synth-"))]
    assert leftovers == []


@pytest.mark.parametrize(
    ("point", "signum"),
    [("building", signal.SIGINT), ("staged", signal.SIGTERM)],
    ids=["sigint-while-building", "sigterm-before-moving"],
)
def test_interrupted_before_the_moves_keeps_the_old_tree(
    tmp_path: Path,
    trees: tuple[dict[str, bytes], dict[str, bytes]],
    point: str,
    signum: signal.Signals,
) -> None:
    old_tree, _ = trees
    outdir = start_old_tree(tmp_path, old_tree)
    assert interrupted_synth(tmp_path, point, signum, pause_seconds=120) == -signum
    assert tree(outdir) == old_tree
    no_staging_left(tmp_path)


def test_interrupted_between_the_moves_finishes_the_new_tree(
    tmp_path: Path, trees: tuple[dict[str, bytes], dict[str, bytes]]
) -> None:
    """The signal arrives after the first stack was moved: it waits until the last move."""
    old_tree, new_tree = trees
    outdir = start_old_tree(tmp_path, old_tree)
    assert interrupted_synth(tmp_path, "committing", signal.SIGINT, pause_seconds=3) == -2
    after = tree(outdir)
    # main.py also records which config produced the output, inside the same deferral
    record = json.loads(after.pop("synthesized-from.json"))
    assert record == {"config": "../new.yaml"}
    assert after == new_tree
    no_staging_left(tmp_path)


def test_staging_of_a_killed_synth_is_removed_by_the_next(
    tmp_path: Path, trees: tuple[dict[str, bytes], dict[str, bytes]]
) -> None:
    """SIGKILL cannot be handled: the tree stays old, and the next synth cleans up."""
    from modules.synth import synthesize  # noqa: PLC0415

    old_tree, new_tree = trees
    outdir = start_old_tree(tmp_path, old_tree)
    assert interrupted_synth(tmp_path, "staged", signal.SIGKILL, pause_seconds=120) == -9
    assert tree(outdir) != old_tree  # the dead process's staging directory is still there
    assert {k: v for k, v in tree(outdir).items() if not k.startswith(STAGING_PREFIX)} == old_tree
    synthesize(parse_config(configs()[1]), outdir)
    assert tree(outdir) == new_tree
    no_staging_left(tmp_path)
