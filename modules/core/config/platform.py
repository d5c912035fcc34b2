"""The account-wide pieces of an environment: identity mode, token secret, trigger, catalog."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from modules.core.aws_facts import LAMBDA_UNRESERVED_MINIMUM
from modules.core.config.base import (
    EMAIL_RE,
    GITHUB_OWNER_RE,
    IAM_POLICY_ARN_RE,
    IAM_PRINCIPAL_ARN_RE,
    IAM_ROLE_ARN_RE,
    IAM_ROLE_NAME_RE,
    INVISIBLE_RE,
    OIDC_PROVIDER_ARN_RE,
    SECRET_NAME_RE,
    SNS_TOPIC_ARN_RE,
    _fail,
    _Model,
)
from modules.core.github_facts import oidc_provider_arn_template


class LambdaSettings(_Model):
    """Runtime of the shared trigger function and of its layer."""

    runtime: Literal["python3.12", "python3.13"] = "python3.12"
    architecture: Literal["arm64", "x86_64"] = "arm64"
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 30
    reserved_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Concurrent executions reserved for the trigger function (1-100). Default: "
        "none reserved (the function shares the account's unreserved pool). Lambda keeps "
        f"{LAMBDA_UNRESERVED_MINIMUM} of the account's concurrency unreserved, so an account "
        f"whose quota is {LAMBDA_UNRESERVED_MINIMUM} or less (a new account may start with 10) "
        "cannot reserve any.",
    )


class Alarms(_Model):
    """Who hears about the trigger function's alarms (failure queue not empty, function errors).

    The two CloudWatch alarms always exist; these only add notifications.
    """

    sns_topic_arn: str | None = Field(
        default=None,
        description="An existing SNS topic the alarms notify. Default: no topic.",
    )
    emails: tuple[str, ...] = Field(
        default=(),
        max_length=20,
        description="Addresses subscribed to a topic the plan creates for the alarms (each "
        "confirms its subscription by mail). Default: none.",
    )

    @field_validator("sns_topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not SNS_TOPIC_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_topic_arn",
                f"{value!r} is not an SNS topic ARN; expected "
                "'arn:aws:sns:<region>:<account>:<topic name>'",
            )
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for email in value:
            if not EMAIL_RE.fullmatch(email):
                raise _fail("bad_email", f"{email!r} is not an e-mail address; e.g. ml@acme.com")
        if len(set(value)) != len(value):
            raise _fail("duplicate_email", "an address is listed twice; list each once")
        return value


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
            if not IAM_ROLE_ARN_RE.fullmatch(arn):
                raise _fail(
                    "bad_secret_reader",
                    f"{arn!r} is not an IAM role ARN; use "
                    "'arn:aws:iam::<12-digit account>:role/<path/name>'",
                )
        return value

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
#: Earlier template versions a product keeps (a toolkit choice, well under Service Catalog's
#: per-product version quota): enough for every version a project may still run.
MAX_RETAINED_VERSIONS = 20
TEMPLATE_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ProductSettings(_Model):
    """What Studio shows for the project template product.

    Free text: it may hold any character a person would type, including ``${`` and ``%{``; the
    catalog construct passes it through :func:`modules.core.hcl.literal`, so Terraform stores
    exactly this text.
    """

    owner: str = "ML Platform"
    description: str = "Build and deploy ML models with SageMaker Pipelines and GitHub Actions"
    version: str = Field(default="v1", description="Title of the provisioning artifact")
    retained_versions: tuple[str, ...] = Field(
        default=(),
        max_length=MAX_RETAINED_VERSIONS,
        description="Earlier template versions to keep, by their template sha256 (64 hex "
        "digits: the `product-template-sha256` output, or the end of the version's description "
        "'Template sha256 <digest>'). Each stays a provisioning artifact of the product, "
        "deactivated (active: false, guidance: DEPRECATED) so no new project uses it while "
        "projects built from it keep running; remove an entry once no project uses that "
        "version, and the next apply deletes it. Default: none kept (a template change deletes "
        "the previous version's artifact).",
    )

    @field_validator("retained_versions")
    @classmethod
    def _retained(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for digest in value:
            if not TEMPLATE_SHA256_RE.fullmatch(digest):
                raise _fail(
                    "bad_template_sha256",
                    f"{digest!r} is not a template sha256: give the 64 lowercase hex digits of "
                    "`terraform output product-template-sha256` (or of the version's "
                    "description 'Template sha256 <digest>')",
                )
        if len(set(value)) != len(value):
            raise _fail("duplicate", "a template sha256 is listed twice; list each version once")
        return value

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
            if not GITHUB_OWNER_RE.fullmatch(owner):
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
    alarms: Alarms = Alarms()
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
    deployer_principal_arn: str | None = Field(
        default=None,
        description="The IAM role (or user) that runs applies, associated with the portfolio "
        "so the plan can create SageMaker projects from the product. Required when a project "
        "has create_sagemaker_project: true; otherwise default: no association (the projects "
        "are created in Studio).",
    )
    drift_principal_arn: str | None = Field(
        default=None,
        description="The IAM role (or user) that runs read-only plans (`make drift`, the "
        "READ_ONLY=1 policy of `make deployer-policy`). Its refresh reads the token secret's "
        "version back, so it is added to the secret's readers. Default: none (plans run as "
        "the deployer).",
    )
    auto_approve_staging: bool = Field(
        default=False,
        description="Whether a model package registered already Approved (by the pipeline's "
        "code, not a person) still starts the deploy: the pipeline role may then register "
        "Approved packages and the trigger dispatches them, so staging deploys without a "
        "human approval (production keeps its GitHub environment reviewers). Default: no; "
        "packages are registered PendingManualApproval and only a person's approval deploys.",
    )
    project_updates: Literal["manual", "automatic"] = Field(
        default="manual",
        description="Whether a changed product template reaches SageMaker projects the plan "
        "created ('automatic': UpdateProject on the next apply) or only new projects "
        "('manual', safe for projects in use).",
    )
    permissions_boundary_arn: str | None = Field(
        default=None,
        description="A managed policy set as the permissions boundary of every IAM role and "
        "user the stack creates (trigger function, pipeline and GitHub Actions identities). "
        "Default: no boundary.",
    )
    pin_build_workflow: bool = Field(
        default=False,
        description="Whether the build role trusts only the toolkit's build workflow: its trust "
        "also requires the token claim job_workflow_ref to be "
        "'<owner>/<repository>/.github/workflows/build-<env>.yml@refs/heads/<branch>', so another "
        "workflow on the branch cannot assume it (auth_mode oidc only). Default: any workflow "
        "on the branch (the token's sub names only the repository and branch).",
    )
    github_app: GitHubApp | None = Field(
        default=None,
        description="GitHub App authentication for some or all owners. Default: tokens "
        "(TF_VAR_github_owner_token_<owner>, else GITHUB_TOKEN).",
    )

    # The schema says what _token_reader requires: a deployer, a reader, or no written value.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["deployer_principal_arn"]},
                {
                    "required": ["token_secret"],
                    "properties": {
                        "token_secret": {
                            "required": ["readers"],
                            "properties": {"readers": {"minItems": 1}},
                        }
                    },
                },
                {
                    "required": ["token_secret"],
                    "properties": {
                        "token_secret": {
                            "required": ["value_from_variable"],
                            "properties": {"value_from_variable": {"const": False}},
                        }
                    },
                },
            ]
        },
    )

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

    @field_validator("deployer_principal_arn")
    @classmethod
    def _deployer(cls, value: str | None) -> str | None:
        if value is not None and not IAM_PRINCIPAL_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_deployer_arn",
                f"{value!r} is not an IAM role or user ARN; give the role that runs applies, "
                "e.g. 'arn:aws:iam::<account>:role/terraform-apply' (not an assumed-role "
                "session ARN), or leave it out",
            )
        return value

    @field_validator("drift_principal_arn")
    @classmethod
    def _drift(cls, value: str | None) -> str | None:
        if value is not None and not IAM_PRINCIPAL_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_drift_arn",
                f"{value!r} is not an IAM role or user ARN; give the role that runs read-only "
                "plans, e.g. 'arn:aws:iam::<account>:role/terraform-drift' (not an "
                "assumed-role session ARN), or leave it out",
            )
        return value

    @model_validator(mode="after")
    def _token_reader(self) -> Platform:
        # The secret's resource policy lets only named principals read it, and hashicorp/aws
        # reads a version it wrote back on every refresh (GetSecretValue): the principal that
        # runs plans must be named, or its next plan fails with AccessDenied.
        secret = self.token_secret
        if secret.value_from_variable and not self.deployer_principal_arn and not secret.readers:
            raise _fail(
                "token_reader",
                "deployer_principal_arn: required while token_secret."
                "value_from_variable is true: the plan writes the token and reads it back on "
                "every refresh, and only named principals may read it; give the IAM role that "
                "runs plans (e.g. 'arn:aws:iam::<account>:role/terraform'), list it in "
                "token_secret.readers, or set token_secret.value_from_variable: false and put "
                "the token in the secret yourself",
            )
        return self

    @field_validator("permissions_boundary_arn")
    @classmethod
    def _boundary(cls, value: str | None) -> str | None:
        if value is not None and not IAM_POLICY_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_boundary_arn",
                f"{value!r} is not an IAM managed policy ARN; give 'arn:aws:iam::<account>:"
                "policy/<path/name>' (or an AWS managed policy 'arn:aws:iam::aws:policy/...'), "
                "or leave it out",
            )
        return value

    @model_validator(mode="after")
    def _pin_needs_oidc(self) -> Platform:
        if self.pin_build_workflow and self.auth_mode != "oidc":
            raise _fail(
                "pin_needs_oidc",
                "pin_build_workflow: only with auth_mode: oidc (it is a condition of the build "
                "role's trust; access keys have no token to check): remove it, or set "
                "auth_mode: oidc",
            )
        return self

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
                f"{value!r} is not a GitHub OIDC provider ARN; expected "
                f"'{oidc_provider_arn_template('aws')}', or leave it out to create one",
            )
        return value
