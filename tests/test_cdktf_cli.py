"""`cdktf synth` through the pinned CLI gives the same stacks as `make synth`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from modules.runtime import node22_path
from tests.conftest import ROOT, Synth

CLI = ROOT / "node_modules" / ".bin" / "cdktf"


@pytest.mark.slow
def test_cdktf_cli_synth_matches_make_synth(tmp_path: Path, example_synth: Synth) -> None:
    assert CLI.exists(), "run `make node` (npm ci) first: the cdktf CLI is pinned in package.json"
    node = node22_path()
    assert node is not None
    project = tmp_path / "project"
    project.mkdir()
    for name in ("cdktf.json", "main.py", "modules", "config", "lambda_src", "layer_build"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, project / name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    env = {
        **os.environ,
        "PATH": f"{node.parent}:{os.environ['PATH']}",
        "JSII_NODE": str(node),
        "CHECKPOINT_DISABLE": "1",
        "CI": "1",
    }
    env.pop("CDKTF_OUTDIR", None)
    # a CLI config file that does not exist makes every terraform call warn (not our output)
    env.pop("TF_CLI_CONFIG_FILE", None)
    result = subprocess.run(
        [str(CLI), "synth"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Generated Terraform code for the stacks: dev, forecast, prod" in result.stdout
    # progress is not tagged as an error, and CI=1 leaves no spinner frames in the log
    assert "[ERROR]" not in result.stdout + result.stderr, result.stdout
    assert "Synthesizing" not in result.stdout, result.stdout
    for name in ("dev", "prod"):
        cli = json.loads((project / "cdktf.out" / "stacks" / name / "cdk.tf.json").read_text())
        assert cli == example_synth.stack(name)
