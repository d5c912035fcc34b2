"""Template updates reach SageMaker projects only when the config says so; the deployer's
portfolio association is configured, never derived from whoever runs the plan."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.conftest import example_data
from tests.support.inprocess import synth_stacks

ARTIFACT_PATH = "service_catalog_provisioning_details[0].provisioning_artifact_id"


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return example_data()


def _projects(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return list(stack["resource"]["aws_sagemaker_project"].values())


def test_template_updates_do_not_reach_projects_by_default(example: dict[str, Any]) -> None:
    stacks = synth_stacks(example)
    for name in ("dev", "prod"):
        for project in _projects(stacks[name]):
            # new projects start from the current version; existing ones keep theirs
            assert project["service_catalog_provisioning_details"][
                "provisioning_artifact_id"
            ].startswith("${aws_servicecatalog_provisioning_artifact.")
            assert project["lifecycle"] == {"ignore_changes": [ARTIFACT_PATH]}


def test_template_updates_reach_projects_when_automatic(example: dict[str, Any]) -> None:
    data = copy.deepcopy(example)
    data["environments"][0]["platform"]["project_updates"] = "automatic"
    stacks = synth_stacks(data)
    assert all("lifecycle" not in p for p in _projects(stacks["dev"]))
    # per environment: prod keeps the safe default
    assert all("lifecycle" in p for p in _projects(stacks["prod"]))


def test_no_argument_depends_on_who_runs_the_plan(example: dict[str, Any]) -> None:
    """The caller's ARN or session issuer in any argument would change with the principal
    (apply role, read-only drift role, HCP Terraform run role) and replace what uses it."""
    for name, stack in synth_stacks(example).items():
        assert "aws_iam_session_context" not in stack.get("data", {})
        text = json.dumps({k: stack.get(k, {}) for k in ("resource", "output")})
        caller = re.findall(r"\$\{data\.aws_caller_identity\.[^}]+\.(\w+)\}", text)
        assert set(caller) == {"account_id"}, (name, set(caller))


def test_deployer_association_only_when_configured(example: dict[str, Any]) -> None:
    data = copy.deepcopy(example)
    data["environments"][0]["platform"].pop("deployer_principal_arn")
    # without a deployer the plan may not write the token (nobody could read it back)
    data["environments"][0]["platform"].setdefault("token_secret", {})["value_from_variable"] = (
        False
    )
    # ... and may not create SageMaker projects (no portfolio access: issue 27 item 7)
    for project in data["environments"][0]["projects"]:
        project["create_sagemaker_project"] = False
    dev = synth_stacks(data)["dev"]
    principals = [
        p["principal_arn"]
        for p in dev["resource"]["aws_servicecatalog_principal_portfolio_association"].values()
    ]
    assert principals == [
        "arn:aws:iam::111111111111:role/service-role/AmazonSageMaker-ExecutionRole-dev"
    ]
    with_deployer = synth_stacks(example)["dev"]
    (deployer,) = (
        p
        for key, p in with_deployer["resource"][
            "aws_servicecatalog_principal_portfolio_association"
        ].items()
        if key.startswith("project-template_deployer")
    )
    assert deployer["principal_arn"] == "arn:aws:iam::111111111111:role/terraform-apply"
    assert deployer["principal_type"] == "IAM"
    # SageMaker projects wait for it
    for project in _projects(with_deployer):
        assert any("project-template_deployer" in d for d in project["depends_on"])
