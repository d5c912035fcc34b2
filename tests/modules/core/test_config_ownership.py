"""Config-level refusals of ownership clashes that cannot be scoped apart (each message names
both claimants and the fix), and the settings issue 14 added: deployer association, template
updates, reserved concurrency."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.core.config import ConfigError, parse_config
from tests.conftest import run_main


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    return list(info.value.problems)


def one_problem(data: dict[str, Any]) -> str:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def _second_project(example: dict[str, Any], **github: str) -> dict[str, Any]:
    project = copy.deepcopy(example["environments"][0]["projects"][0])
    project["name"] = "other-model"
    project["github"].update(github)
    return project


def test_example_deploys_one_repository_from_two_accounts(example: dict[str, Any]) -> None:
    config = parse_config(example)
    dev, prod, _ = config.environments
    assert dev.account_id != prod.account_id
    shared = {(p.github.owner, p.github.repository) for p in dev.projects} & {
        (p.github.owner, p.github.repository) for p in prod.projects
    }
    assert shared == {("acme-ml", "churn-model")}


def test_fails_on_one_repository_twice_in_one_environment(example: dict[str, Any]) -> None:
    # case-insensitive, as GitHub: ACME-ML/Churn-Model is acme-ml/churn-model
    example["environments"][0]["projects"].append(
        _second_project(example, owner="ACME-ML", repository="Churn-Model", branch="develop")
    )
    msg = one_problem(example)
    assert msg.startswith("environments[0].projects[2].github: ACME-ML/Churn-Model is already")
    assert "projects[0] ('churn-model')" in msg
    assert "give each project its own repository" in msg


def test_fails_on_two_environments_deploying_one_branch(example: dict[str, Any]) -> None:
    example["environments"][1]["projects"][0]["github"]["branch"] = "main"
    msg = one_problem(example)
    assert msg.startswith(
        "environments[1].projects[0].github: acme-ml/churn-model branch 'main' is also used by "
        "environments[0].projects[0] (dev/churn-model)"
    )
    assert "deploy each environment from its own branch" in msg


def test_same_repository_from_two_branches_is_supported(example: dict[str, Any]) -> None:
    example["environments"][1]["projects"][0]["github"]["branch"] = "Main"  # git refs: case
    config = parse_config(example)
    branches = [
        (p.github.owner, p.github.repository, p.github.branch)
        for e in config.environments
        for p in e.projects
        if p.github.repository == "churn-model"
    ]
    assert branches == [("acme-ml", "churn-model", "main"), ("acme-ml", "churn-model", "Main")]


def _two_envs_one_account(example: dict[str, Any]) -> dict[str, Any]:
    dev = example["environments"][0]
    other = copy.deepcopy(dev)
    other["name"] = "dev-eu"
    other["region"] = "eu-central-1"
    other["platform"]["oidc_provider_arn"] = (
        "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    )
    for project in other["projects"]:
        project["github"]["branch"] = "eu"
        project["code_connection"] = "create"
    example["environments"] = [dev, other]
    return example


def test_fails_on_iam_names_two_environments_would_share(example: dict[str, Any]) -> None:
    data = _two_envs_one_account(example)
    # mlops-dev-eu-churn-model-... from both sides
    data["environments"][0]["projects"][0]["name"] = "eu-churn-model"
    data["environments"][1]["projects"][0]["name"] = "churn-model"
    msg = one_problem(data)
    assert msg.startswith("environments[0].projects[0].name: 'eu-churn-model' in environment 'dev'")
    assert "environments[1].projects[0] ('churn-model') in environment 'dev-eu'" in msg
    assert "mlops-dev-eu-churn-model-..." in msg and "account 111111111111" in msg


def test_environments_with_prefixed_names_are_fine_without_a_clash(
    example: dict[str, Any],
) -> None:
    data = _two_envs_one_account(example)
    config = parse_config(data)
    assert [e.name for e in config.environments] == ["dev", "dev-eu"]


def test_iam_clash_needs_one_account(example: dict[str, Any]) -> None:
    data = _two_envs_one_account(example)
    data["environments"][0]["projects"][0]["name"] = "eu-churn-model"
    data["environments"][1]["projects"][0]["name"] = "churn-model"
    data["environments"][1]["account_id"] = "333333333333"
    data["environments"][1]["platform"]["studio_execution_role_arns"] = [
        "arn:aws:iam::333333333333:role/studio"
    ]
    del data["environments"][1]["platform"]["oidc_provider_arn"]
    data["environments"][1]["platform"]["deployer_principal_arn"] = (
        "arn:aws:iam::333333333333:role/terraform-apply"
    )
    config = parse_config(data)
    # the two IAM names that clash in one account coexist in two accounts
    assert [(e.account_id, e.projects[0].name) for e in config.environments] == [
        ("111111111111", "eu-churn-model"),
        ("333333333333", "churn-model"),
    ]


def test_bad_ownership_config_exits_2_and_writes_nothing(
    example: dict[str, Any], tmp_path: Path
) -> None:
    example["environments"][1]["projects"][0]["github"]["branch"] = "main"
    config = tmp_path / "clash.yaml"
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    result = run_main(config, tmp_path / "cdktf.out")
    assert result.returncode == 2
    assert "environments[0].projects[0] (dev/churn-model)" in result.stderr
    assert not (tmp_path / "cdktf.out").exists()


# --- deployer association ---------------------------------------------------------------------


def test_deployer_is_explicit_or_left_out(example: dict[str, Any]) -> None:
    config = parse_config(example)
    dev, prod, _ = config.environments
    assert dev.platform.deployer_principal_arn == "arn:aws:iam::111111111111:role/terraform-apply"
    assert prod.platform.deployer_principal_arn == "arn:aws:iam::222222222222:role/terraform-apply"
    del example["environments"][1]["platform"]["deployer_principal_arn"]
    example["environments"][1]["projects"][0]["create_sagemaker_project"] = False
    assert parse_config(example).environments[1].platform.deployer_principal_arn is None


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sts::111111111111:assumed-role/terraform-apply/session",
        "terraform-apply",
        "arn:aws:iam::111111111111:group/admins",
    ],
)
def test_fails_on_deployer_that_is_not_a_role_or_user(example: dict[str, Any], arn: str) -> None:
    example["environments"][0]["platform"]["deployer_principal_arn"] = arn
    msg = one_problem(example)
    assert msg.startswith("environments[0].platform.deployer_principal_arn:")
    assert "not an IAM role or user ARN" in msg and "not an assumed-role session ARN" in msg


def test_fails_on_deployer_of_another_account(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["deployer_principal_arn"] = (
        "arn:aws:iam::222222222222:user/ci"
    )
    msg = one_problem(example)
    assert msg.startswith("environments[0].platform.deployer_principal_arn:")
    assert "belongs to account 222222222222, not 111111111111" in msg


# --- template updates and concurrency -----------------------------------------------------------


def test_template_updates_are_manual_by_default(example: dict[str, Any]) -> None:
    config = parse_config(example)
    assert {e.platform.project_updates for e in config.environments} == {"manual"}
    example["environments"][0]["platform"]["project_updates"] = "automatic"
    assert parse_config(example).environments[0].platform.project_updates == "automatic"


def test_fails_on_unknown_template_update_setting(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["project_updates"] = "always"
    msg = one_problem(example)
    assert msg.startswith("environments[0].platform.project_updates: 'always' is not allowed")
    assert "'manual'" in msg and "'automatic'" in msg


def test_reserved_concurrency_is_unreserved_by_default(example: dict[str, Any]) -> None:
    config = parse_config(example)
    assert config.environments[0].platform.trigger_lambda.reserved_concurrency is None
    assert config.environments[1].platform.trigger_lambda.reserved_concurrency == 5
    example["environments"][1]["platform"]["lambda"]["reserved_concurrency"] = None
    assert (
        parse_config(example).environments[1].platform.trigger_lambda.reserved_concurrency is None
    )


@pytest.mark.parametrize("value", [0, 101])
def test_fails_on_reserved_concurrency_out_of_range(example: dict[str, Any], value: int) -> None:
    example["environments"][1]["platform"]["lambda"]["reserved_concurrency"] = value
    msg = one_problem(example)
    assert msg.startswith("environments[1].platform.lambda.reserved_concurrency:")


def test_workflows_are_committed_directly_unless_the_branch_requires_pull_requests(
    example: dict[str, Any],
) -> None:
    assert (
        parse_config(example).environments[0].projects[0].github.workflows_via_pull_request is False
    )
    example["environments"][0]["projects"][0]["github"]["workflows_via_pull_request"] = True
    project = parse_config(example).environments[0].projects[0]
    assert project.github.workflows_via_pull_request is True


def test_fails_on_non_boolean_pull_request_switch(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["github"]["workflows_via_pull_request"] = "yes"
    msg = one_problem(example)
    assert msg.startswith("environments[0].projects[0].github.workflows_via_pull_request:")
