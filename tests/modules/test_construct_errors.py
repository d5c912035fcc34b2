"""Constructs fail at construction with a message naming the path, the field and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformStack, Testing
from cdktf_cdktf_provider_github.provider import GithubProvider

from modules.aws.actions_identity import ActionsIdentity, ActionsIdentityProps
from modules.aws.sagemaker_project import SageMakerProject, SageMakerProjectProps
from modules.aws.token_secret import GitHubTokenSecret, GitHubTokenSecretProps
from modules.aws.trigger_function import TriggerFunction, TriggerFunctionProps, ZipArtifact
from modules.core.account_context import AccountContext
from modules.core.config import ConfigError, parse_config
from modules.core.policy import Statement
from modules.github.deploy_environments import DeployEnvironments, DeployEnvironmentsProps
from modules.github.repository_files import RepositoryFiles, RepositoryFilesProps

Testing.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def stack() -> Iterator[TerraformStack]:
    app: App = Testing.app()
    yield TerraformStack(app, "test")


def test_fails_on_wildcard_action_in_a_grant() -> None:
    with pytest.raises(ValueError, match=r"Statement Bad: action 's3:\*' is a wildcard"):
        Statement(sid="Bad", actions=("s3:*",), resources=("arn:aws:s3:::x",))
    with pytest.raises(ValueError, match="is a wildcard"):
        Statement(sid="Bad", actions=("*",), resources=("*",))
    # a Deny may cover everything
    Statement(sid="Ok", effect="Deny", actions=("s3:*",), resources=("*",))


def test_fails_on_oidc_without_provider(stack: TerraformStack) -> None:
    with pytest.raises(
        ValueError, match=r"test/identity: auth_mode 'oidc' needs oidc_provider_arn"
    ):
        ActionsIdentity(
            stack,
            "identity",
            ActionsIdentityProps(
                context=AccountContext(stack, "account"),
                environment_name="dev",
                project_name="p",
                github_owner="o",
                github_repository="r",
                branch="main",
                production_environment="dev-production",
                auth_mode="oidc",
                oidc_provider_arn=None,
                pipeline_role_arn="arn",
            ),
        )


def test_fails_on_one_environment_for_both_stages(stack: TerraformStack) -> None:
    with pytest.raises(
        ValueError, match=r"test/identity: staging_environment must differ from production"
    ):
        ActionsIdentity(
            stack,
            "identity",
            ActionsIdentityProps(
                context=AccountContext(stack, "account"),
                environment_name="dev",
                project_name="p",
                github_owner="o",
                github_repository="r",
                branch="main",
                production_environment="dev-production",
                staging_environment="dev-production",
                auth_mode="access_keys",
                pipeline_role_arn="arn",
            ),
        )


def test_fails_on_staging_settings_without_a_staging_environment(stack: TerraformStack) -> None:
    with pytest.raises(ValueError, match=r"test/envs: staging_variables/staging_secrets need"):
        DeployEnvironments(
            stack,
            "envs",
            DeployEnvironmentsProps(
                provider=GithubProvider(stack, "github", owner="o"),
                repository="r",
                branch="main",
                production_environment="dev-production",
                reviewer_users=("octocat",),
                staging_variables={"X": "y"},
            ),
        )


def test_fails_on_a_stage_variable_that_is_also_a_secret(stack: TerraformStack) -> None:
    with pytest.raises(ValueError, match=r"\['X'\] are both a production variable and a"):
        DeployEnvironments(
            stack,
            "envs",
            DeployEnvironmentsProps(
                provider=GithubProvider(stack, "github", owner="o"),
                repository="r",
                branch="main",
                production_environment="dev-production",
                reviewer_users=("octocat",),
                production_variables={"X": "y"},
                production_secrets={"X": "z"},
            ),
        )


def test_fails_on_restricting_reads_to_nobody(stack: TerraformStack) -> None:
    secret = GitHubTokenSecret(stack, "token", GitHubTokenSecretProps(secret_name="s"))
    with pytest.raises(ValueError, match=r"test/token: restrict_reads needs at least one reader"):
        secret.restrict_reads(())


def _trigger(stack: TerraformStack, **overrides: Any) -> None:
    zip_ = ZipArtifact(path=Path(__file__), base64_sha256="x")
    props: dict[str, Any] = {
        "environment_name": "dev",
        "function_name": "sagemaker-trigger",
        "runtime": "python3.12",
        "architecture": "arm64",
        "function_zip": zip_,
        "layer_zip": zip_,
        "token_secret_arns": ("arn",),
        "log_retention_days": 30,
        "reserved_concurrency": 5,
    }
    props.update(overrides)
    TriggerFunction(stack, "trigger", TriggerFunctionProps(**props))


def test_fails_on_trigger_name_outside_the_launch_role_prefix(stack: TerraformStack) -> None:
    with pytest.raises(
        ValueError, match=r"test/trigger: function_name 'my-trigger' must start with 'sagemaker-'"
    ):
        _trigger(stack, function_name="my-trigger")


def test_fails_on_github_timeout_outside_the_time_budget(stack: TerraformStack) -> None:
    with pytest.raises(
        ValueError, match=r"test/trigger: github_timeout_seconds must be between 1 and 30, got 60"
    ):
        _trigger(stack, github_timeout_seconds=60)


def test_fails_on_invalid_alarm_email(stack: TerraformStack) -> None:
    with pytest.raises(ValueError, match=r"test/trigger: alarm_emails must hold email addresses"):
        _trigger(stack, alarm_emails=("ops at example.com",))


def test_fails_on_invalid_alarm_topic(stack: TerraformStack) -> None:
    with pytest.raises(ValueError, match=r"test/trigger: alarm_topic_arn must be an SNS topic ARN"):
        _trigger(stack, alarm_topic_arn="ops-alarms")


def test_fails_on_unbounded_retries(stack: TerraformStack) -> None:
    with pytest.raises(ValueError, match="max_retry_attempts must be 0, 1 or 2"):
        _trigger(stack, max_retry_attempts=3)


def test_fails_on_template_parameter_mismatch(stack: TerraformStack) -> None:
    with pytest.raises(ValueError, match=r"test/project: template parameters mismatch; missing \["):
        SageMakerProject(
            stack,
            "project",
            SageMakerProjectProps(
                project_name="p",
                product_id="prod",
                provisioning_artifact_id="pa",
                parameters={"CodeRepositoryName": "r", "Unknown": "x"},
                description="d",
            ),
        )


def test_fails_on_file_both_managed_and_seeded(stack: TerraformStack) -> None:
    provider = GithubProvider(stack, "github", owner="o")
    with pytest.raises(ValueError, match=r"\['a.txt'\] are both managed and seeded"):
        RepositoryFiles(
            stack,
            "files",
            RepositoryFilesProps(
                provider=provider,
                repository="r",
                branch="main",
                managed={"a.txt": "1"},
                seeded={"a.txt": "2"},
            ),
        )
    with pytest.raises(ValueError, match="must be a relative POSIX path"):
        RepositoryFiles(
            stack,
            "files2",
            RepositoryFilesProps(
                provider=provider, repository="r", branch="main", managed={"../x": "1"}
            ),
        )


def test_fails_on_production_without_reviewers(stack: TerraformStack) -> None:
    provider = GithubProvider(stack, "github", owner="o")
    with pytest.raises(ValueError, match="production needs at least one reviewer"):
        DeployEnvironments(
            stack,
            "envs",
            DeployEnvironmentsProps(
                provider=provider,
                repository="r",
                branch="main",
                production_environment="production",
            ),
        )


def test_fails_on_oidc_provider_arn_with_access_keys(example: dict[str, Any]) -> None:
    example["environments"][1]["platform"]["oidc_provider_arn"] = (
        "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(example)
    (problem,) = info.value.problems
    assert "oidc_provider_arn is set but auth_mode is 'access_keys'" in problem
