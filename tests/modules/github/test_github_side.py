"""The GitHub half of each stack: variables/secrets, workflow files, seed code, environments."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from modules.core.config import parse_config
from modules.proposals import collect_proposals
from modules.render.seed_files import seed_files
from modules.render.workflows import workflow_paths
from tests.conftest import Synth, data_sources, resources


def unescape(text: str) -> str:
    return text.replace("$${", "${").replace("%%{", "%{")


def files(stack: dict[str, Any], repository: str) -> dict[str, dict[str, Any]]:
    return {
        f["file"]: f
        for f in resources(stack, "github_repository_file").values()
        if f["repository"] == repository
    }


def workflow(stack: dict[str, Any], repository: str, name: str) -> dict[str, Any]:
    # one managed file of the kind per stack, named after the stack's environment
    (content,) = (
        f["content"]
        for path, f in files(stack, repository).items()
        if re.fullmatch(rf"\.github/workflows/{name}-[a-z0-9-]+\.yml", path)
    )
    parsed = yaml.safe_load(unescape(content))
    assert isinstance(parsed, dict)
    return parsed


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True.
    return doc.get("on", doc.get(True))  # type: ignore[no-any-return]


def test_build_variables_carry_the_environment_and_reference_resources(
    example_synth: Synth,
) -> None:
    dev = example_synth.stack("dev")
    variables = resources(dev, "github_actions_variable")
    names = sorted((v["repository"], v["variable_name"]) for v in variables.values())
    assert names == sorted(
        (repo, name)
        for repo in ("churn-model", "fraud-detection")
        for name in ("MLOPS_DEV_BUILD_ROLE_ARN", "MLOPS_DEV_PIPELINE_ROLE_ARN")
    )
    for v in variables.values():
        assert re.fullmatch(r"\$\{aws_iam_role\.[^.]+\.arn\}", v["value"])
    assert not resources(dev, "github_actions_secret")
    assert not resources(dev, "github_actions_environment_secret")


def test_deploy_role_of_each_stage_lives_only_in_its_environment(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    roles = resources(dev, "aws_iam_role")
    scoped = resources(dev, "github_actions_environment_variable")
    environments = resources(dev, "github_repository_environment")
    found = {}
    for v in scoped.values():
        env_ref = re.fullmatch(
            r"\$\{github_repository_environment\.([^.]+)\.environment\}", v["environment"]
        )
        assert env_ref, v["environment"]
        environment = environments[env_ref.group(1)]
        assert environment["repository"] == v["repository"]
        found[(v["repository"], environment["environment"], v["variable_name"])] = v["value"]
    for repo in ("churn-model", "fraud-detection"):
        for stage in ("staging", "production"):
            role = found[(repo, f"dev-{stage}", "AWS_DEPLOY_ROLE_ARN")]
            (key,) = [k for k in roles if f"{role.split('.')[1]}" == k]
            assert f"actions-identity_{stage}-role" in key
            pipeline = found[(repo, f"dev-{stage}", "SAGEMAKER_PIPELINE_ROLE_ARN")]
            assert "_pipeline-role_" in pipeline
    assert len(found) == 8


def test_access_keys_mode_scopes_each_key_to_its_job(example_synth: Synth) -> None:
    prod = example_synth.stack("prod")
    users = {
        f"${{aws_iam_user.{k}.name}}": v["name"] for k, v in resources(prod, "aws_iam_user").items()
    }
    keys = {k: users[v["user"]] for k, v in resources(prod, "aws_iam_access_key").items()}

    def user_of(reference: str, attribute: str) -> str:
        match = re.fullmatch(rf"\$\{{aws_iam_access_key\.([^.]+)\.{attribute}\}}", reference)
        assert match, reference
        return keys[match.group(1)]

    # no repository-wide secret: any workflow on any branch could read it (issue 27 item 5)
    assert resources(prod, "github_actions_secret") == {}
    environments = resources(prod, "github_repository_environment")
    scoped = resources(prod, "github_actions_environment_secret").values()
    by_environment: dict[str, dict[str, str]] = {}
    for s in scoped:
        env_key = s["environment"].split(".")[1]
        name = environments[env_key]["environment"]
        attribute = "id" if s["secret_name"] == "AWS_ACCESS_KEY_ID" else "secret"
        by_environment.setdefault(name, {})[s["secret_name"]] = user_of(
            s["plaintext_value"], attribute
        )
    assert by_environment == {
        "prod-build": {
            "AWS_ACCESS_KEY_ID": "mlops-prod-churn-model-gha-build",
            "AWS_SECRET_ACCESS_KEY": "mlops-prod-churn-model-gha-build",
        },
        "prod-staging": {
            "AWS_ACCESS_KEY_ID": "mlops-prod-churn-model-gha-staging",
            "AWS_SECRET_ACCESS_KEY": "mlops-prod-churn-model-gha-staging",
        },
        "prod-production": {
            "AWS_ACCESS_KEY_ID": "mlops-prod-churn-model-gha-production",
            "AWS_SECRET_ACCESS_KEY": "mlops-prod-churn-model-gha-production",
        },
    }


def test_build_workflow_has_the_stack_values(example_synth: Synth) -> None:
    for stack_name, repo, region, branch in (
        ("dev", "churn-model", "eu-west-1", "main"),
        ("dev", "fraud-detection", "eu-west-1", "main"),
        ("prod", "churn-model", "us-east-1", "release"),
    ):
        doc = workflow(example_synth.stack(stack_name), repo, "build")
        assert doc["env"]["AWS_REGION"] == region
        assert doc["env"]["SAGEMAKER_PROJECT_NAME"] == repo
        on = triggers(doc)
        assert on["push"]["branches"] == [branch]
        assert "pipelines/**" in on["push"]["paths"]
        assert "workflow_dispatch" in on
        assert doc["permissions"] == {}


def test_build_workflow_permissions_follow_auth_mode(example_synth: Synth) -> None:
    oidc = workflow(example_synth.stack("dev"), "churn-model", "build")
    (job,) = oidc["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    keys = workflow(example_synth.stack("prod"), "churn-model", "build")
    (job,) = keys["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    # access keys: the job runs in the build environment and reads the pair from there
    assert job["environment"] == "prod-build"
    (credentials,) = (s for s in job["steps"] if s["name"] == "Configure AWS credentials")
    assert credentials["with"]["aws-access-key-id"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    assert credentials["with"]["aws-secret-access-key"] == "${{ secrets.AWS_SECRET_ACCESS_KEY }}"
    assert "MLOPS_PROD_AWS_" not in yaml.safe_dump(keys)
    # oidc: no job environment, or the token's sub would no longer name the branch
    (oidc_job,) = oidc["jobs"].values()
    assert "environment" not in oidc_job


def test_deploy_workflow_input_environments_and_concurrency(example_synth: Synth) -> None:
    doc = workflow(example_synth.stack("dev"), "churn-model", "deploy")
    dispatch = triggers(doc)["workflow_dispatch"]
    assert dispatch["inputs"]["model_package_arn"]["required"] is True
    assert doc["env"] == {"AWS_REGION": "eu-west-1", "SAGEMAKER_PROJECT_NAME": "churn-model"}
    assert doc["concurrency"]["cancel-in-progress"] is False
    assert doc["jobs"]["staging"]["environment"] == "dev-staging"
    assert doc["jobs"]["production"]["environment"] == "dev-production"
    assert doc["jobs"]["production"]["needs"] == "staging" or doc["jobs"]["production"][
        "needs"
    ] == ["staging"]
    for job in doc["jobs"].values():
        for step in job["steps"]:
            assert "${{ github.event.inputs" not in step.get("run", "")
            assert "${{ inputs" not in step.get("run", "")


def test_workflow_files_are_managed_with_quiet_settings(example_synth: Synth) -> None:
    for name, f in files(example_synth.stack("dev"), "churn-model").items():
        assert f["branch"] == (
            "main" if name.startswith(".github/workflows/") else "sagemaker-mlops/seed/main"
        )
        assert "commit_author" not in f and "commit_email" not in f
        assert f["commit_message"].endswith("[sagemaker-github-mlops]")
        assert "\r" not in f["content"] and f["content"].endswith("\n")
        assert f["overwrite_on_create"] is True
        if name.startswith(".github/workflows/"):
            assert "lifecycle" not in f  # reverted by the next apply
        else:  # seeded: tests/modules/github/test_seed_lifecycle.py
            assert f["lifecycle"] == {"ignore_changes": ["content"]}


def test_seed_files_are_proposed_not_committed(
    example: dict[str, Any], example_synth: Synth
) -> None:
    """The starter code never enters Terraform state: ``make propose`` opens it once
    (docs/seeding.md; the lifecycle is played through in test_provider_lifecycle.py)."""
    assert set(files(example_synth.stack("dev"), "churn-model")) == set(
        workflow_paths("dev").values()
    )
    (seed,) = [
        p for p in collect_proposals(parse_config(example))["dev"] if p.repository == "churn-model"
    ]
    assert seed.kind == "seed" and dict(seed.files) == seed_files()
    assert "pipelines/run_pipeline.py" in seed.files and "deploy/deploy.py" in seed.files


def test_seed_code_switch(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["seed_code"] = False
    dev = collect_proposals(parse_config(example))["dev"]
    assert [(p.repository, p.kind) for p in dev] == [("fraud-detection", "seed")]


def test_production_environment_requires_reviewers(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    envs = {
        (e["repository"], e["environment"]): e
        for e in resources(dev, "github_repository_environment").values()
    }
    prod = envs[("churn-model", "dev-production")]
    assert prod["can_admins_bypass"] is False
    assert prod["prevent_self_review"] is True
    (reviewers,) = prod["reviewers"]
    assert reviewers["users"] == []
    (team_ref,) = reviewers["teams"]
    (team,) = data_sources(dev, "github_team").values()
    assert team["slug"] == "ml-leads" and team["provider"] == "github.acme-ml"
    assert "github_team" in team_ref
    (user,) = data_sources(dev, "github_user").values()
    assert user["username"] == "octocat"
    assert "reviewers" not in envs[("churn-model", "dev-staging")]
    policies = resources(dev, "github_repository_environment_deployment_policy").values()
    assert {(p["repository"], p["branch_pattern"]) for p in policies} == {
        ("churn-model", "main"),
        ("fraud-detection", "main"),
    }


def test_no_staging_stage_when_switched_off(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    example["environments"][0]["projects"][0]["staging_environment"] = False
    dev = synth_config(example).stack("dev")
    envs = {
        (e["repository"], e["environment"])
        for e in resources(dev, "github_repository_environment").values()
    }
    assert ("churn-model", "dev-staging") not in envs
    assert ("churn-model", "dev-production") in envs
    assert ("fraud-detection", "dev-staging") in envs
    doc = workflow(dev, "churn-model", "deploy")
    assert set(doc["jobs"]) == {"production"}
    assert "needs" not in doc["jobs"]["production"]
    roles = [k for k in resources(dev, "aws_iam_role") if k.startswith("project-churn-model_")]
    assert not [k for k in roles if "staging-role" in k]
    assert [k for k in roles if "production-role" in k]
