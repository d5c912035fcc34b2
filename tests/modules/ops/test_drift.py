"""``make drift`` (``python -m modules.ops.drift``): plan parsing, statuses, exit codes, table/JSON.

The AWS round trip (drift made with boto3 and reported) is in tests/e2e; here the parsing is
checked on crafted ``terraform show -json`` documents, and the command end to end with the
real terraform on a provider-free stack (``terraform_data``), which needs no network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modules.ops.drift import (
    ResourceChange,
    StackReport,
    backend_type,
    changed_attributes,
    changes_from_plan,
    drift_from_plan,
    exit_code,
    outputs_from_plan,
    render,
    to_json,
)
from modules.ops.terraform import run_terraform, terraform_env
from tests.conftest import ROOT

SECRET = "s3cr3t-value-never-printed"


def change(
    address: str, actions: list[str], before: Any, after: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "address": address,
        "mode": extra.pop("mode", "managed"),
        "change": {"actions": actions, "before": before, "after": after, **extra},
    }


PLAN: dict[str, Any] = {
    "resource_drift": [
        change(
            "aws_iam_role_policy.p",
            ["update"],
            {"policy": '{"a":1}', "name": "n", "role": "r"},
            {"policy": '{"a":2}', "name": "n", "role": "r"},
        ),
        change("aws_secretsmanager_secret.s", ["update"], {"tags": None}, {"tags": {}}),
        change("aws_lambda_function.f", ["delete"], {"timeout": 30}, None),
    ],
    "resource_changes": [
        change("aws_s3_bucket.b", ["no-op"], {"bucket": "b"}, {"bucket": "b"}),
        change("data.aws_region.r", ["read"], None, {}, mode="data"),
        change(
            "aws_secretsmanager_secret_version.v",
            ["update"],
            {"secret_string": SECRET, "version_stages": ["A"]},
            {"secret_string": SECRET + "2", "version_stages": ["A"]},
        ),
        change(
            "aws_lambda_function.f",
            ["delete", "create"],
            {"timeout": 30},
            {"timeout": 31},
        ),
        change(
            "aws_iam_role.r",
            ["update"],
            {"arn": "x", "x": 1},
            {"x": 2},
            after_unknown={"arn": True},
        ),
    ],
    "output_changes": {
        "same": {"actions": ["no-op"]},
        "new": {"actions": ["create"]},
    },
}


def test_drift_names_resources_and_attributes_not_values() -> None:
    drift = drift_from_plan(PLAN)
    assert drift == (
        ResourceChange(
            address="aws_iam_role_policy.p", actions=("update",), attributes=("policy",)
        ),
        ResourceChange(address="aws_lambda_function.f", actions=("delete",), attributes=()),
    )


def test_null_and_empty_tags_are_not_drift() -> None:
    assert changed_attributes({"tags": None, "a": []}, {"tags": {}, "a": None}) == ()
    assert changed_attributes({"tags": None}, {"tags": {"k": "v"}}) == ("tags",)


def test_changes_skip_no_op_and_data_sources() -> None:
    changes = changes_from_plan(PLAN)
    assert [c.address for c in changes] == [
        "aws_iam_role.r",
        "aws_lambda_function.f",
        "aws_secretsmanager_secret_version.v",
    ]
    assert changes[0].attributes == ("arn", "x")
    assert changes[1].actions == ("delete", "create")
    assert changes[2].attributes == ("secret_string",)
    assert outputs_from_plan(PLAN) == ("new",)


@pytest.mark.parametrize(
    ("terraform", "expected"),
    [
        ({"backend": {"local": {"path": "x"}}}, "local"),
        ({"backend": {"s3": {"bucket": "b"}}}, "s3"),
        ({"cloud": {"organization": "o"}}, "cloud"),
        ({}, "local"),
    ],
)
def test_backend_type(terraform: dict[str, Any], expected: str) -> None:
    assert backend_type({"terraform": terraform}) == expected


def report(stack: str, status: str) -> StackReport:
    return StackReport(stack=stack, backend="local", status=status)  # type: ignore[arg-type]


def test_exit_codes() -> None:
    assert exit_code([report("a", "in sync"), report("b", "in sync")]) == 0
    assert exit_code([report("a", "in sync"), report("b", "drifted")]) == 2
    assert exit_code([report("a", "drifted"), report("b", "error")]) == 1
    assert exit_code([]) == 1


def test_table_and_json_carry_addresses_never_values() -> None:
    reports = [
        StackReport(
            stack="dev",
            backend="s3",
            status="drifted",
            drift=drift_from_plan(PLAN),
            changes=changes_from_plan(PLAN),
            outputs_changed=outputs_from_plan(PLAN),
            exit_codes={"init": 0, "refresh_only": 2, "plan": 2},
        ),
        StackReport(
            stack="prod", backend="cloud", status="error", error="terraform init failed: x"
        ),
    ]
    table = render(reports)
    lines = table.splitlines()
    assert lines[0].split() == ["STACK", "BACKEND", "STATUS", "DETAILS"]
    assert lines[1].split()[:3] == ["dev", "s3", "drifted"]
    assert "drift: aws_iam_role_policy.p (update: policy)" in table
    assert "plan:  aws_secretsmanager_secret_version.v (update: secret_string)" in table
    assert "output: new" in table
    assert "prod" in table and "terraform init failed: x" in table
    data = to_json(reports)
    assert data["exit_code"] == 1
    assert data["stacks"][0]["drift"][0] == {
        "address": "aws_iam_role_policy.p",
        "actions": ["update"],
        "attributes": ["policy"],
    }
    assert SECRET not in table + json.dumps(data)


# ----------------------------------------------------------------- the command, real terraform


def write_stack(outdir: Path, name: str, value: str) -> Path:
    stack = outdir / "stacks" / name
    stack.mkdir(parents=True, exist_ok=True)
    doc = {
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
        "resource": {"terraform_data": {"marker": {"input": value}}},
        "output": {"marker": {"value": "${terraform_data.marker.output}"}},
    }
    (stack / "cdk.tf.json").write_text(json.dumps(doc), encoding="utf-8")
    return stack


def drift_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modules.ops.drift", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_command_in_sync_then_pending_change_then_error(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    stack = write_stack(outdir, "dev", "one")
    env = terraform_env(None)
    assert run_terraform(["init", "-input=false"], cwd=stack, env=env).returncode == 0
    applied = run_terraform(["apply", "-auto-approve", "-input=false"], cwd=stack, env=env)
    assert applied.returncode == 0, applied.stderr

    result = drift_command("--outdir", str(outdir), "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].split()[:3] == ["dev", "local", "in"]
    assert "dev: terraform plan -refresh-only" in result.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exit_code"] == 0
    assert data["stacks"][0]["exit_codes"]["plan"] == 0

    write_stack(outdir, "dev", "two")
    result = drift_command("--outdir", str(outdir), "--stack", "dev")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "plan:  terraform_data.marker (update: input,output)" in result.stdout
    assert "output: marker" in result.stdout

    (stack / "cdk.tf.json").write_text('{"resource": {"nope_thing": {"x": {}}}}')
    result = drift_command("--outdir", str(outdir))
    assert result.returncode == 1
    assert "error" in result.stdout.splitlines()[1]


def test_command_fails_without_synthesized_output(tmp_path: Path) -> None:
    result = drift_command("--outdir", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "run `make synth` first" in result.stderr


def test_mirrored_attributes_are_not_drift_but_real_changes_are() -> None:
    def drift_entry(rtype: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        entry = change(f"{rtype}.x", ["update"], before, after)
        entry["type"] = rtype
        return entry

    plan = {
        "resource_drift": [
            # filled in by the first refresh after an aws_iam_role_policy apply: not drift
            drift_entry("aws_iam_role", {"inline_policy": []}, {"inline_policy": [{"name": "p"}]}),
            drift_entry(
                "aws_s3_bucket",
                {"versioning": [], "bucket": "b"},
                {"versioning": [{"enabled": True}], "bucket": "b"},
            ),
            # a real change on the same role type is still reported
            drift_entry(
                "aws_iam_role",
                {"max_session_duration": 3600, "inline_policy": []},
                {"max_session_duration": 7200, "inline_policy": [{"name": "p"}]},
            ),
        ]
    }
    (only,) = drift_from_plan(plan)
    assert only.attributes == ("max_session_duration",)
