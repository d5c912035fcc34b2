"""``make preflight`` as a whole: a healthy setup passes and only reads; the command prints one
line per check, exits 1 when something blocks and 2 on a bad config; the README lists every
check."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.ops import preflight
from tests.conftest import ROOT
from tests.modules.ops.preflight_support import (
    CLASSIC,
    FINE,
    REGION,
    STATE_BUCKET,
    Setup,
    aws,
    failing,
    healthy_config,
)
from tests.support.moto_server import MotoServer

# --- healthy --------------------------------------------------------------------------------


def test_healthy_setup_passes_and_only_reads(setup: Setup) -> None:
    checks = setup.run()
    assert failing(checks) == [], [c.line() for c in failing(checks)]
    assert preflight.exit_code(checks) == 0
    ids = {c.check for c in checks if c.status == "ok"}
    assert ids >= {
        "aws.account",
        "aws.oidc_provider",
        "aws.launch_role",
        "aws.use_role",
        "aws.studio_role",
        "aws.code_connection",
        "aws.lambda_concurrency",
        "aws.state_bucket",
        "aws.name_taken",
        "aws.principal",
        "github.token.authenticates",
        "github.token.scopes",
        "github.token.permissions",
        "github.repository.visible",
        "github.repository.archived",
        "github.repository.admin",
        "github.repository.default_branch",
        "github.repository.reviewers_plan",
        "github.branch.exists",
        "github.branch.pull_requests",
        "github.reviewer.access",
    }
    # the fine-grained token's permissions cannot be read back: said, not failed
    warns = {c.check for c in checks if c.status == "warn"}
    assert warns == {"github.token.scopes", "aws.code_connection"}
    # read-only on both sides
    assert {r.method for r in setup.gh.requests} == {"GET"}
    assert setup.fakes.operations
    assert all(op.startswith(("Get", "List", "Describe", "Head")) for op in setup.fakes.operations)
    # each owner's own token: the fine-grained one only ever went to acme-risk
    for request in setup.gh.requests:
        if request.headers["authorization"] == f"Bearer {FINE}":
            assert "acme-ml" not in request.path
    text = preflight.render(checks)
    assert text.splitlines()[-1].startswith(f"preflight: {len(checks)} checks, ")
    assert "nothing blocks the first apply" in text
    assert CLASSIC not in text and FINE not in text


def test_read_only_guard_refuses_a_write_before_sending(setup: Setup) -> None:
    # the command's own factory (what `make preflight` uses), at moto's endpoint
    iam = preflight.boto3_clients()("iam", REGION)
    with pytest.raises(PermissionError, match="read-only: refused CreateRole"):
        iam.create_role(RoleName="x", AssumeRolePolicyDocument="{}")
    assert all(r["RoleName"] != "x" for r in aws(setup.fakes.moto)("iam").list_roles()["Roles"])
    # a read is sent (moto answers it), so the guard is what stopped the write
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="x")
    s3 = preflight.boto3_clients()("s3", REGION)
    with pytest.raises(PermissionError, match="read-only: refused PutObject"):
        s3.put_object(Bucket=STATE_BUCKET, Key="written", Body=b"x")
    assert "Contents" not in aws(setup.fakes.moto)("s3").list_objects_v2(Bucket=STATE_BUCKET)
    # the recording clients of the other tests are built the same way
    recorded = setup.fakes.clients("iam", REGION)
    with pytest.raises(PermissionError, match="read-only: refused CreateRole"):
        recorded.create_role(RoleName="x", AssumeRolePolicyDocument="{}")
    assert "CreateRole" not in setup.fakes.operations  # refused before the recorder saw it


# --- the command ------------------------------------------------------------------------------


def test_command_prints_lines_and_exits_1_when_something_blocks(
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].archived = True
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(setup.config), encoding="utf-8")
    for name, value in setup.environ.items():
        monkeypatch.setenv(name, value)
    report = tmp_path / "preflight.json"
    code = preflight.main(
        ["--config", str(config), "--github-api-url", setup.gh.api_url, "--json", str(report)],
        clients=setup.fakes.clients,
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ [dev] repository acme-ml/churn-model (churn-model): the repository is archived" in out
    assert out.strip().splitlines()[-1].endswith("1 blocking problem(s): fix the lines marked ✗")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["exit_code"] == 1
    assert [c["check"] for c in data["checks"] if c["status"] == "fail"] == [
        "github.repository.archived"
    ]


def test_fails_with_exit_2_on_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    bad = healthy_config()
    bad["environments"][0]["account_id"] = "123"
    config.write_text(yaml.safe_dump(bad), encoding="utf-8")
    assert preflight.main(["--config", str(config)], clients=_no_clients) == 2
    assert "environments[0].account_id" in capsys.readouterr().err


def test_fails_with_exit_2_on_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main(["--stack", "qa"], clients=_no_clients) == 2
    assert (
        "--stack qa: no such environment; the config has dev, forecast, prod"
        in capsys.readouterr().err
    )


def _no_clients(service: str, region: str) -> Any:
    raise AssertionError("no AWS call expected for an invalid config")


# --- properties -------------------------------------------------------------------------------


def test_readme_lists_every_check() -> None:
    """The README's "Before you start" table and docs/preflight.md name every check the
    command can print."""
    source = "\n".join(
        f.read_text(encoding="utf-8")
        for f in sorted((ROOT / "modules" / "ops" / "preflight").glob("*.py"))
    )
    ids = set(re.findall(r'"((?:aws|github)\.[a-z_]+(?:\.[a-z_]+)?)"', source))
    assert len(ids) == 38, sorted(ids)  # 33 + the five aws.stage.* checks of promotion
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Before you start", 1)[1].split("\n## ", 1)[0]
    missing = sorted(i for i in ids if f"`{i}`" not in section)
    assert missing == []
    reference = (ROOT / "docs" / "preflight.md").read_text(encoding="utf-8")
    assert sorted(i for i in ids if f"`{i}`" not in reference) == []


def test_entry_point_uses_the_default_credential_chain(
    setup: Setup, tmp_path: Path, moto_module: MotoServer
) -> None:
    """``python -m modules.ops.preflight`` as ``make preflight`` runs it: boto3's default chain
    (here AWS_ENDPOINT_URL pointing at moto). moto has no Lambda GetAccountSettings: that
    check must say it cannot read, on one line, and block."""
    config = tmp_path / "config.yaml"
    del setup.config["environments"][0]["projects"][0]["code_connection"]
    config.write_text(yaml.safe_dump(setup.config), encoding="utf-8")
    env = {**os.environ, **moto_module.client_env(), **setup.environ}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modules.ops.preflight",
            "--config",
            str(config),
            "--github-api-url",
            setup.gh.api_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert all(line[:2] in ("✓ ", "! ", "✗ ") for line in lines[:-1]), lines
    assert lines[-1].startswith(f"preflight: {len(lines) - 1} checks, ")
    blocking = [line for line in lines if line.startswith("✗")]
    assert len(blocking) == 1
    assert blocking[0].startswith("✗ [dev] Lambda concurrency: cannot be read: 404: ")
    assert "allow lambda:GetAccountSettings" in blocking[0]
    assert "✓ [dev] AWS account 123456789012 region eu-west-1: credentials of" in result.stdout
    assert CLASSIC not in result.stdout + result.stderr


def test_the_package_keeps_files_and_functions_small() -> None:
    """Issue 24: no file of modules/ops/preflight/ over 400 lines, no function over 80."""
    for path in sorted((ROOT / "modules" / "ops" / "preflight").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno is not None
                assert node.end_lineno - node.lineno + 1 <= 80, f"{path.name}: {node.name}"
