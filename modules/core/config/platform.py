"""The account-wide pieces of an environment: identity mode, token secret, trigger, catalog."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
)

from modules.core.config.base import (
    GITHUB_OWNER_RE,
    IAM_ROLE_ARN_RE,
    OIDC_PROVIDER_ARN_RE,
    SECRET_NAME_RE,
    _fail,
    _Model,
)


class LambdaSettings(_Model):
    """Runtime of the shared trigger function and of its PyGithub layer."""

    runtime: Literal["python3.12", "python3.13"] = "python3.12"
    architecture: Literal["arm64", "x86_64"] = "arm64"
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 30
    reserved_concurrency: int = Field(default=5, ge=1, le=100)


class TokenSecret(_Model):
    """The Secrets Manager secret holding the GitHub token the trigger function uses."""

    name: str = "sagemaker-github-token"
    value_from_variable: bool = Field(
        default=True,
        description="Whether Terraform writes the value from the ephemeral variable "
        "TF_VAR_github_token (write-only, never in state). Default: yes; when false, set the "
        "value out of band (console or CLI) after the first apply.",
    )
    version: int = Field(
        default=1,
        ge=1,
        description="Bump to write a new token value (rotation) from TF_VAR_github_token.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SECRET_NAME_RE.match(value):
            raise _fail(
                "bad_secret_name",
                f"{value!r} is not a valid Secrets Manager name: use letters, digits and "
                "/_+=.@- only",
            )
        return value


class ProductSettings(_Model):
    """What Studio shows for the project template product."""

    owner: str = "ML Platform"
    description: str = "Build and deploy ML models with SageMaker Pipelines and GitHub Actions"
    version: str = Field(default="v1", description="Title of the provisioning artifact")


class GitHubApp(_Model):
    """Authenticate the github providers as a GitHub App installation (integrations/github
    ``app_auth``) for the owners listed; other owners keep using tokens. The private key comes
    from ``TF_VAR_github_app_pem`` (or the provider's own ``GITHUB_APP_PEM_FILE``), never from
    this file."""

    id: str = Field(description="The App ID (Settings > Developer settings > GitHub Apps).")
    installation_ids: dict[str, str] = Field(
        min_length=1,
        description="GitHub owner -> the App's installation id in that owner's account.",
    )

    @field_validator("id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{1,20}", value):
            raise _fail("bad_app_id", f"{value!r} is not a GitHub App id (digits, e.g. '123456')")
        return value

    @field_validator("installation_ids")
    @classmethod
    def _installations(cls, value: dict[str, str]) -> dict[str, str]:
        for owner, installation in value.items():
            if not GITHUB_OWNER_RE.match(owner):
                raise _fail("bad_owner", f"{owner!r} is not a GitHub user or organization name")
            if not re.fullmatch(r"[0-9]{1,20}", installation):
                raise _fail(
                    "bad_installation_id",
                    f"{owner}: {installation!r} is not an installation id (digits; it ends the "
                    "URL of the App's installation settings page)",
                )
        lowered = [o.lower() for o in value]
        if len(set(lowered)) != len(lowered):
            raise _fail("duplicate", "an owner is listed twice (owners are case-insensitive)")
        return {o.lower(): i for o, i in value.items()}


class Platform(_Model):
    """Account-wide settings of one environment."""

    auth_mode: Literal["oidc", "access_keys"] = Field(
        default="oidc",
        description="How GitHub Actions reach AWS. 'oidc' (recommended): short-lived role "
        "credentials. 'access_keys': an IAM user with a long-lived key, as the original guide.",
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        description="An existing GitHub OIDC provider to reuse (an account holds only one). "
        "Default: the stack creates it.",
    )
    token_secret: TokenSecret = TokenSecret()
    trigger_lambda: LambdaSettings = Field(default=LambdaSettings(), alias="lambda")
    studio_execution_role_arns: tuple[str, ...] = Field(min_length=1)
    launch_role_name: str = Field(
        default="AmazonSageMakerServiceCatalogProductsLaunchRole",
        description="Role Service Catalog launches the product with (looked up by name)",
    )
    pipeline_role: Literal["service_catalog", "per_project"] = Field(
        default="service_catalog",
        description="Role the SageMaker pipeline runs as: the account's "
        "AmazonSageMakerServiceCatalogProductsUseRole ('service_catalog', as the original) or "
        "a least-privilege role per project ('per_project').",
    )
    enable_sagemaker_project_templates: bool = Field(
        default=False,
        description="Whether to switch on SageMaker project templates for the account "
        "(aws_sagemaker_servicecatalog_portfolio_status).",
    )
    product: ProductSettings = ProductSettings()
    github_app: GitHubApp | None = Field(
        default=None,
        description="GitHub App authentication for some or all owners. Default: tokens "
        "(TF_VAR_github_owner_token_<owner>, else GITHUB_TOKEN).",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    @field_validator("studio_execution_role_arns")
    @classmethod
    def _roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if not IAM_ROLE_ARN_RE.match(arn):
                raise _fail(
                    "bad_role_arn",
                    f"{arn!r} is not an IAM role ARN; expected "
                    "'arn:aws:iam::<12-digit account>:role/<path/name>'",
                )
        if len(set(value)) != len(value):
            raise _fail("duplicate", "the same role ARN is listed twice; list each role once")
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc(cls, value: str | None) -> str | None:
        if value is not None and not OIDC_PROVIDER_ARN_RE.match(value):
            raise _fail(
                "bad_oidc_arn",
                f"{value!r} is not a GitHub OIDC provider ARN; expected 'arn:aws:iam::<account>:"
                "oidc-provider/token.actions.githubusercontent.com', or leave it out to create one",
            )
        return value
