"""The account-wide pieces of an environment: identity mode, token secret, trigger, catalog."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
)

from modules.core.config.base import (
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
    readers: tuple[str, ...] = Field(
        default=(),
        description="IAM role ARNs that may also read the token. The secret's resource policy "
        "denies GetSecretValue to everyone but the trigger function's role and, with "
        "value_from_variable, the principal running the plan (its refresh reads the version "
        "back); list here every other role that runs plans of this stack (e.g. CI besides "
        "you), or its refresh fails with AccessDenied.",
    )

    @field_validator("readers")
    @classmethod
    def _readers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if not IAM_ROLE_ARN_RE.match(arn):
                raise _fail(
                    "bad_secret_reader",
                    f"{arn!r} is not an IAM role ARN; use "
                    "'arn:aws:iam::<12-digit account>:role/<path/name>'",
                )
        return value

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
        default="per_project",
        description="Role the SageMaker pipeline runs as: a least-privilege role per project "
        "('per_project', default: a project's build and deploy identities can pass only its "
        "own role) or the account's AmazonSageMakerServiceCatalogProductsUseRole "
        "('service_catalog', as the original guide: every project's identities can pass the "
        "one account-wide role, so projects are not isolated from each other).",
    )
    enable_sagemaker_project_templates: bool = Field(
        default=False,
        description="Whether to switch on SageMaker project templates for the account "
        "(aws_sagemaker_servicecatalog_portfolio_status).",
    )
    product: ProductSettings = ProductSettings()

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
