"""docs/examples/drift.yml: the scheduled drift workflow passes zizmor and the GitHub workflow
schema, reaches AWS only through OIDC, and keeps drift's exit codes (0 in sync, 2 drift,
1 error) because it calls the module, not make."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.render.workflows import ACTION_PINS
from tests.conftest import ROOT

WORKFLOW = ROOT / "docs" / "examples" / "drift.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True)  # PyYAML reads `on` as a YAML 1.1 boolean
    return data


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: make install-dev")
    return str(path)


def test_zizmor_finds_nothing() -> None:
    result = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-config",
            "--no-progress",
            "--persona",
            "pedantic",
            "--format",
            "json",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert json.loads(result.stdout) == [], result.stderr
    assert result.returncode == 0


def test_matches_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_on_a_schedule_through_oidc_with_pinned_actions(workflow: dict[str, Any]) -> None:
    assert workflow["on"]["schedule"][0]["cron"]
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    steps = job["steps"]
    pins = {p.repository: p.commit_sha for p in ACTION_PINS.values()}
    for step in steps:
        if "uses" in step:
            repository, _, sha = step["uses"].partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", sha), step["uses"]
            assert pins.get(repository, sha) == sha, f"{repository}: not the toolkit's pin"
    (credentials,) = [s for s in steps if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"] == "${{ matrix.role }}"
    assert "aws-access-key-id" not in credentials["with"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "make drift" not in runs
    assert ".venv/bin/python -m modules.ops.drift --stack" in runs
    for entry in job["strategy"]["matrix"]["include"]:
        assert entry["role"] == f"${{{{ vars.MLOPS_DRIFT_ROLE_ARN_{entry['stack'].upper()} }}}}"


@pytest.mark.parametrize(
    ("code", "annotation"),
    [(0, "::notice::dev is in sync"), (2, "::warning::dev has drifted"), (1, "::error::")],
)
def test_the_drift_step_keeps_the_exit_code(
    workflow: dict[str, Any], tmp_path: Path, code: int, annotation: str
) -> None:
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("id") == "drift"]
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\nexit {code}\n')
    fake.chmod(0o755)
    script = step["run"].replace(".venv/bin/python", str(fake))
    output = tmp_path / "github_output"
    result = subprocess.run(
        ["bash", "-e", "-c", script],  # GitHub runs `bash -e {0}`
        env={"STACK": "dev", "GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == code
    assert annotation in result.stdout
    assert output.read_text() == f"exit-code={code}\n"
    assert (tmp_path / "args").read_text().split() == [
        "-m", "modules.ops.drift", "--stack", "dev", "--json", "drift-dev.json"
    ]  # fmt: skip
