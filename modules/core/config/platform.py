"""The account-wide pieces of an environment: identity mode, token secret, trigger, catalog."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from modules.core.config.base import (
    IAM_ROLE_ARN_RE,
    IAM_ROLE_NAME_RE,
    INVISIBLE_RE,
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
    # secret_string_wo_version is an integer attribute of the AWS provider; 2^31-1 fits every
    # integer type Terraform and the provider convert it to, and exceeds any real rotation count.
    version: int = Field(
        default=1,
        ge=1,
        le=2**31 - 1,
        description="Bump to write a new token value (rotation) from TF_VAR_github_token.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SECRET_NAME_RE.fullmatch(value):
            raise _fail(
                "bad_secret_name",
                f"{value!r} is not a valid Secrets Manager name: use letters, digits and "
                "/_+=.@- only",
            )
        return value


# Service Catalog API limits (botocore servicecatalog service model): the owner is both the
# product's Owner (max 8191) and the portfolio's ProviderName (1-50), the description the
# product's Description (max 8191), the version title the provisioning artifact's Name (max
# 8192), to which the toolkit appends " (initial)" or " (<8-hex digest>)" (11 characters).
PRODUCT_OWNER_MAX = 50
PRODUCT_DESCRIPTION_MAX = 8191
PRODUCT_VERSION_MAX = 8192 - 11


class ProductSettings(_Model):
    """What Studio shows for the project template product.

    Free text: it may hold any character a person would type, including ``${`` and ``%{``; the
    catalog construct passes it through :func:`modules.core.hcl.literal`, so Terraform stores
    exactly this text.
    """

    owner: str = "ML Platform"
    description: str = "Build and deploy ML models with SageMaker Pipelines and GitHub Actions"
    version: str = Field(default="v1", description="Title of the provisioning artifact")

    @field_validator("owner", "version", "description")
    @classmethod
    def _text(cls, value: str, info: ValidationInfo) -> str:
        limit = {
            "owner": PRODUCT_OWNER_MAX,
            "version": PRODUCT_VERSION_MAX,
            "description": PRODUCT_DESCRIPTION_MAX,
        }[str(info.field_name)]
        if info.field_name != "description" and not value.strip():
            raise _fail("empty_text", "is empty; Service Catalog needs a non-blank value")
        if len(value) > limit:
            raise _fail(
                "text_too_long",
                f"is {len(value)} characters; Service Catalog accepts at most {limit}",
            )
        bad = INVISIBLE_RE.search(value)
        if bad is None and info.field_name != "description" and ("\n" in value or "\t" in value):
            bad = re.search(r"[\n\t]", value)
        if bad is not None:
            raise _fail(
                "control_character",
                f"holds the control or invisible character {bad.group()!r} at position "
                f"{bad.start()}; remove it",
            )
        return value


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

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    @field_validator("studio_execution_role_arns")
    @classmethod
    def _roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if not IAM_ROLE_ARN_RE.fullmatch(arn):
                raise _fail(
                    "bad_role_arn",
                    f"{arn!r} is not an IAM role ARN; expected "
                    "'arn:aws:iam::<12-digit account>:role/<path/name>'",
                )
        if len(set(value)) != len(value):
            raise _fail("duplicate", "the same role ARN is listed twice; list each role once")
        return value

    @field_validator("launch_role_name")
    @classmethod
    def _launch_role(cls, value: str) -> str:
        if not IAM_ROLE_NAME_RE.fullmatch(value):
            raise _fail(
                "bad_role_name",
                f"{value!r} is not an IAM role name: 1-64 letters, digits and '+=,.@_-' "
                "(the name only, without a path or ARN)",
            )
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc(cls, value: str | None) -> str | None:
        if value is not None and not OIDC_PROVIDER_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_oidc_arn",
                f"{value!r} is not a GitHub OIDC provider ARN; expected 'arn:aws:iam::<account>:"
                "oidc-provider/token.actions.githubusercontent.com', or leave it out to create one",
            )
        return value
