"""Issue 27 item 5: in ``access_keys`` mode the build key pair is a secret of the
``<env>-build`` GitHub environment, deployable only from the project's branch.

GitHub's own description (api.github.com OpenAPI, "Create or update an environment" and
"Create a deployment branch policy"): ``deployment_branch_policy`` with
``custom_branch_policies: true`` allows only the branches named by the environment's
deployment branch policies; environment secrets are readable only by jobs that reference the
environment (GitHub docs, "Using environments for deployment"). Asserted here on the
synthesized JSON: the secrets, the branch policy and the build job's ``environment:``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from modules.render.workflows import WorkflowParams, WorkflowParamsError, render_build_workflow
from tests.conftest import Synth, resources


def _build_job(stack: dict[str, Any], repository: str) -> dict[str, Any]:
    files = resources(stack, "github_repository_file")
    (text,) = (
        f["content"]
        for f in files.values()
        if re.fullmatch(r"\.github/workflows/build-[a-z0-9-]+\.yml", f["file"])
        and f["repository"] == repository
    )
    (job,) = yaml.safe_load(text)["jobs"].values()
    return dict(job)


def test_build_keys_are_secrets_of_the_build_environment(example_synth: Synth) -> None:
    prod = example_synth.stack("prod")
    environments = resources(prod, "github_repository_environment")
    (key, build) = next((k, e) for k, e in environments.items() if e["environment"] == "prod-build")
    assert build["repository"] == "churn-model"
    assert "reviewers" not in build
    assert build["deployment_branch_policy"] == {
        "protected_branches": False,
        "custom_branch_policies": True,
    }
    reference = f"${{github_repository_environment.{key}.environment}}"
    (policy,) = (
        p
        for p in resources(prod, "github_repository_environment_deployment_policy").values()
        if p["environment"] == reference
    )
    assert policy["branch_pattern"] == "release"  # the project's branch, nothing else
    secrets = {
        s["secret_name"]: s["plaintext_value"]
        for s in resources(prod, "github_actions_environment_secret").values()
        if s["environment"] == reference
    }
    assert set(secrets) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    build_user = next(k for k in resources(prod, "aws_iam_user") if "_build-user_" in k)
    keys = resources(prod, "aws_iam_access_key")
    for name, attribute in (("AWS_ACCESS_KEY_ID", "id"), ("AWS_SECRET_ACCESS_KEY", "secret")):
        match = re.fullmatch(rf"\$\{{aws_iam_access_key\.([^.]+)\.{attribute}\}}", secrets[name])
        assert match, secrets[name]
        assert keys[match.group(1)]["user"] == f"${{aws_iam_user.{build_user}.name}}"


def test_no_repository_secret_holds_a_key(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        assert resources(stack, "github_actions_secret") == {}, name
        for variable in resources(stack, "github_actions_variable").values():
            assert "aws_iam_access_key" not in str(variable["value"]), variable


def test_the_build_job_runs_in_the_build_environment(example_synth: Synth) -> None:
    job = _build_job(example_synth.stack("prod"), "churn-model")
    assert job["environment"] == "prod-build"
    text = yaml.safe_dump(job)
    assert "${{ secrets.AWS_ACCESS_KEY_ID }}" in text
    assert "${{ secrets.AWS_SECRET_ACCESS_KEY }}" in text
    # oidc stacks keep the branch in the token's sub: no build environment
    dev = example_synth.stack("dev")
    assert "dev-build" not in {
        e["environment"] for e in resources(dev, "github_repository_environment").values()
    }
    assert "environment" not in _build_job(dev, "churn-model")


def test_each_access_keys_project_gets_its_own_build_environment(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    data = copy.deepcopy(example)
    prod = data["environments"][1]
    second = copy.deepcopy(prod["projects"][0])
    second["name"] = "fraud-model"
    second["github"]["repository"] = "fraud-model"
    second["github"]["branch"] = "stable"
    prod["projects"].append(second)
    stack = synth_config(data).stack("prod")
    environments = resources(stack, "github_repository_environment")
    builds = {
        e["repository"]: f"${{github_repository_environment.{k}.environment}}"
        for k, e in environments.items()
        if e["environment"] == "prod-build"
    }
    assert set(builds) == {"churn-model", "fraud-model"}
    patterns = {
        p["environment"]: p["branch_pattern"]
        for p in resources(stack, "github_repository_environment_deployment_policy").values()
    }
    assert patterns[builds["churn-model"]] == "release"
    assert patterns[builds["fraud-model"]] == "stable"


def test_renderer_refuses_a_build_environment_with_oidc() -> None:
    base = {
        "environment_name": "dev",
        "aws_region": "eu-west-1",
        "sagemaker_project_name": "churn-model",
        "branch": "main",
    }
    with pytest.raises(WorkflowParamsError, match="build_environment: only with auth_mode"):
        WorkflowParams(**base, auth_mode="oidc", build_environment="dev-build")
    with pytest.raises(WorkflowParamsError, match="also a deploy environment"):
        WorkflowParams(**base, auth_mode="access_keys", build_environment="production")
    text = render_build_workflow(
        WorkflowParams(**base, auth_mode="access_keys", build_environment="dev-build")
    )
    assert '    environment: "dev-build"\n' in text
