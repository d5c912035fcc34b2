"""200 projects in one environment: one synth (in-process), and the shared function's resource
policy does not grow with the number of projects."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modules.core.config import parse_config
from tests.support.ownership import conflicts, describe

PROJECTS = 200
ACCOUNT = "111111111111"
#: AWS Lambda's resource-based policy limit (Lambda quotas: "Function resource-based policy").
LAMBDA_POLICY_LIMIT_BYTES = 20 * 1024


def _config() -> dict[str, Any]:
    return {
        "environments": [
            {
                "name": "dev",
                "account_id": ACCOUNT,
                "region": "eu-west-1",
                "platform": {
                    "studio_execution_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/studio"],
                    "deployer_principal_arn": f"arn:aws:iam::{ACCOUNT}:role/terraform-apply",
                },
                "projects": [
                    {
                        "name": f"model-{i:03d}",
                        "github": {"owner": "acme-ml", "repository": f"model-{i:03d}"},
                        "production_reviewers": {"teams": ["ml-leads"]},
                        # seeding adds 14 files per project; not what this test measures
                        "seed_code": False,
                    }
                    for i in range(PROJECTS)
                ],
            }
        ]
    }


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    from modules.synth import synthesize  # noqa: PLC0415 - cdktf only for this module

    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        out = Path(tmp) / "cdktf.out"
        synthesize(parse_config(_config()), out)
        yield json.loads((out / "stacks" / "dev" / "cdk.tf.json").read_text(encoding="utf-8"))


def test_every_project_is_synthesized(stack: dict[str, Any]) -> None:
    projects = stack["resource"]["aws_sagemaker_project"]
    assert len(projects) == PROJECTS
    assert {p["project_name"] for p in projects.values()} == {
        f"model-{i:03d}" for i in range(PROJECTS)
    }


def test_one_function_permission_for_every_project(stack: dict[str, Any]) -> None:
    (permission,) = stack["resource"]["aws_lambda_permission"].values()
    # What Lambda stores for it (AddPermission with SourceArn and SourceAccount), at the
    # longest partition, region and account: far below the limit, whatever PROJECTS is.
    statement = {
        "Sid": permission["statement_id"],
        "Effect": "Allow",
        "Principal": {"Service": permission["principal"]},
        "Action": permission["action"],
        "Resource": "arn:aws-us-gov:lambda:ap-southeast-99:123456789012:function:"
        "sagemaker-github-workflow-trigger",
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {
                "AWS:SourceArn": "arn:aws-us-gov:events:ap-southeast-99:123456789012:rule/"
                "sagemaker-github-mlops-*"
            },
        },
    }
    size = len(json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": [statement]}))
    assert size < 1024 < LAMBDA_POLICY_LIMIT_BYTES


def test_scale_keeps_one_owner_per_object(stack: dict[str, Any]) -> None:
    found = conflicts({"dev": stack})
    assert not found, describe(found)
