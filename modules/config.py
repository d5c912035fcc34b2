"""The toolkit's configuration: one YAML file, validated once into frozen models.

This module must not import cdktf: the config is checked (and a bad one rejected) before any
construct exists, so a wrong field never leaves a half-written ``cdktf.out/`` behind.

Every validation message names the field (as a path such as
``environments[0].projects[1].name``), says what was given and how to fix it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

PARTITION = r"aws|aws-cn|aws-us-gov"
ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")
# SageMaker CreateProject: ProjectName pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$
SAGEMAKER_PROJECT_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
GITHUB_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
GITHUB_LOGIN_RE = GITHUB_OWNER_RE
GITHUB_TEAM_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
IAM_ROLE_ARN_RE = re.compile(rf"^arn:(?:{PARTITION}):iam::(\d{{12}}):role/[\w+=,.@/-]{{1,512}}$")
OIDC_PROVIDER_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITION}):iam::(\d{{12}}):oidc-provider/token\.actions\.githubusercontent\.com$"
)
CONNECTION_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITION}):(?:codeconnections|codestar-connections):"
    r"([a-z0-9-]+):(\d{12}):connection/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
S3_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
TF_CLOUD_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,90}$")
TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")
TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{0,256}$")

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "example.yaml"


class ConfigError(Exception):
    """A configuration file that cannot be used; ``problems`` holds one line per field."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun} in the configuration:\n{lines}")


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


class _Model(BaseModel):
    """Base: unknown keys are errors, values are frozen, types are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --------------------------------------------------------------------------- backends


class LocalBackend(_Model):
    """State in a local file, relative to the stack's directory in ``cdktf.out/stacks/<stack>``."""

    type: Literal["local"]
    path: str | None = Field(
        default=None,
        description="State file path relative to the stack directory. "
        "Default: terraform.<stack>.tfstate next to cdk.tf.json.",
    )

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is None:
            return value
        p = PurePosixPath(value)
        if p.is_absolute() or re.match(r"^[A-Za-z]:[\\/]", value):
            raise _fail(
                "absolute_path",
                f"{value!r} is absolute; use a path relative to the stack directory "
                "(an absolute path would make the synthesized JSON differ between machines)",
            )
        if not value.strip() or value.endswith("/"):
            raise _fail("bad_path", f"{value!r} is not a file path; e.g. 'terraform.tfstate'")
        return value


class S3Backend(_Model):
    """State in S3, encrypted, with S3-native locking (``use_lockfile``)."""

    type: Literal["s3"]
    bucket: str
    key: str | None = Field(default=None, description="Default: <stack>/terraform.tfstate")
    region: str | None = Field(default=None, description="Default: the environment's region")
    kms_key_id: str | None = Field(
        default=None, description="Default: the bucket's default encryption (SSE-S3 or SSE-KMS)"
    )

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not S3_BUCKET_RE.match(value) or ".." in value:
            raise _fail(
                "bad_bucket",
                f"{value!r} is not a valid S3 bucket name: use 3-63 lowercase letters, digits, "
                "dots and hyphens, starting and ending with a letter or digit",
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else _check_region(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and (not value or value.startswith("/") or value.endswith("/")):
            raise _fail("bad_key", f"{value!r}: use an object key like 'mlops/dev.tfstate'")
        return value


class CloudBackend(_Model):
    """HCP Terraform / Terraform Enterprise: one workspace per stack."""

    type: Literal["cloud"]
    organization: str
    workspace: str | None = Field(
        default=None, description="Default: the stack name (one workspace per stack)"
    )
    hostname: str = Field(default="app.terraform.io", description="Terraform Enterprise host")
    project: str | None = Field(default=None, description="Default: the organization's default")

    @field_validator("organization", "workspace")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not TF_CLOUD_NAME_RE.match(value):
            raise _fail(
                "bad_name",
                f"{value!r}: use letters, digits, '-' and '_' (at most 90 characters)",
            )
        return value


Backend = Annotated[LocalBackend | S3Backend | CloudBackend, Field(discriminator="type")]


# --------------------------------------------------------------------------- platform


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


# --------------------------------------------------------------------------- projects


class GitHubRepository(_Model):
    """The project's GitHub repository (it must exist; the toolkit commits into it)."""

    owner: str
    repository: str
    branch: str = "main"

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not GITHUB_OWNER_RE.match(value):
            raise _fail(
                "bad_owner",
                f"{value!r} is not a GitHub user or organization name: 1-39 letters, digits "
                "or single hyphens, not starting or ending with a hyphen",
            )
        return value

    @field_validator("repository")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not GITHUB_REPO_RE.match(value) or value in {".", ".."} or value.endswith(".git"):
            raise _fail(
                "bad_repository",
                f"{value!r} is not a GitHub repository name: use letters, digits, '.', '-' "
                "and '_' (no owner prefix, no '.git' suffix)",
            )
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        bad = (
            not value
            or value.startswith(("/", "-", "refs/"))
            or value.endswith(("/", ".", ".lock"))
            or ".." in value
            or "//" in value
            or "@{" in value
            or re.search(r"[\x00-\x20~^:?*\[\\\x7f]", value) is not None
        )
        if bad:
            raise _fail(
                "bad_branch",
                f"{value!r} is not a valid branch name; give the short name, e.g. 'main'",
            )
        return value


class Reviewers(_Model):
    """Who approves production deploys (GitHub environment protection)."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    @field_validator("users")
    @classmethod
    def _users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for login in value:
            if not GITHUB_LOGIN_RE.match(login):
                raise _fail("bad_login", f"{login!r} is not a GitHub login")
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for slug in value:
            if not GITHUB_TEAM_RE.match(slug):
                raise _fail("bad_team", f"{slug!r} is not a team slug (e.g. 'ml-leads')")
        return value


class Project(_Model):
    """One SageMaker project and the GitHub repository that builds and deploys it."""

    name: str
    github: GitHubRepository
    code_connection: str = Field(
        default="create",
        description="ARN of an existing CodeConnection (codeconnections or "
        "codestar-connections) in the environment's account and region, or 'create' to have "
        "the plan create one (it stays PENDING until someone completes the console handshake).",
    )
    create_sagemaker_project: bool = Field(
        default=True,
        description="Whether the plan creates the SageMaker project from the product.",
    )
    seed_code: bool = Field(
        default=True,
        description="Whether to commit the starter pipeline and deploy code to the repository "
        "(once; later edits are the data scientists' own).",
    )
    production_reviewers: Reviewers = Reviewers()
    staging_environment: bool = Field(
        default=True, description="Whether to create a 'staging' GitHub environment."
    )

    @model_validator(mode="after")
    def _reviewers(self) -> Project:
        if not self.production_reviewers.users and not self.production_reviewers.teams:
            raise _fail(
                "no_reviewers",
                "production_reviewers: name at least one GitHub user or team (of the owner "
                "organization) who approves production deploys, e.g. "
                "production_reviewers: {teams: [ml-leads]}",
            )
        return self

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SAGEMAKER_PROJECT_RE.match(value):
            raise _fail(
                "bad_project_name",
                f"{value!r} is not a name SageMaker accepts for a project: use 1-32 letters, "
                "digits and hyphens, starting and ending with a letter or digit "
                "(e.g. 'churn-model')",
            )
        return value

    @field_validator("code_connection")
    @classmethod
    def _connection(cls, value: str) -> str:
        if value != "create" and not CONNECTION_ARN_RE.match(value):
            raise _fail(
                "bad_connection",
                f"{value!r} is neither 'create' nor a CodeConnection ARN like 'arn:aws:"
                "codeconnections:<region>:<account>:connection/<uuid>'",
            )
        return value

    def _connection_part(self, group: int) -> str | None:
        m = CONNECTION_ARN_RE.match(self.code_connection)
        return m.group(group) if m else None

    @property
    def connection_region(self) -> str | None:
        return self._connection_part(1)

    @property
    def connection_account(self) -> str | None:
        return self._connection_part(2)

    @property
    def connection_unique_id(self) -> str | None:
        """The id the product template needs (the UUID at the end of the ARN)."""
        return self._connection_part(3)


# --------------------------------------------------------------------------- environments


def _check_region(value: str) -> str:
    if not REGION_RE.match(value):
        raise _fail("bad_region", f"{value!r} is not an AWS region code; e.g. 'eu-west-1'")
    return value


class Environment(_Model):
    """An AWS account + region: one Terraform stack (one plan) with all its projects."""

    name: str
    account_id: str
    region: str
    backend: Backend = LocalBackend(type="local")
    tags: dict[str, str] = Field(default_factory=dict)
    platform: Platform
    projects: tuple[Project, ...] = Field(min_length=1)

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise _fail(
                "account_not_string",
                f'{value} is a number; quote the account id (e.g. "012345678901") so YAML '
                "keeps its leading zeros",
            )
        if isinstance(value, str) and not ACCOUNT_RE.match(value):
            raise _fail("bad_account", f"{value!r} is not a 12-digit AWS account id")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @field_validator("name")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_RE.match(value):
            raise _fail(
                "bad_env_name",
                f"{value!r}: an environment name is 1-32 lowercase letters, digits and hyphens, "
                "starting with a letter (it names the stack directory and workspace)",
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if key.lower().startswith("aws:"):
                raise _fail("reserved_tag", f"tag key {key!r}: the 'aws:' prefix is reserved")
            if not TAG_KEY_RE.match(key):
                raise _fail("bad_tag_key", f"tag key {key!r}: 1-128 letters, digits, ' .:/=+-@_'")
            if not TAG_VALUE_RE.match(val):
                raise _fail(
                    "bad_tag_value",
                    f"tag {key!r} value {val!r}: at most 256 letters, digits, ' .:/=+-@_'",
                )
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Environment:
        seen: dict[str, int] = {}
        for i, project in enumerate(self.projects):
            key = project.name.lower()
            if key in seen:
                raise _fail(
                    "duplicate_project",
                    f"projects[{i}].name: {project.name!r} is already used by "
                    f"projects[{seen[key]}]; SageMaker project names are unique per account "
                    "and region (case-insensitively): rename one",
                )
            seen[key] = i
            if project.code_connection != "create":
                if project.connection_region != self.region:
                    raise _fail(
                        "connection_region",
                        f"projects[{i}].code_connection: the connection is in region "
                        f"{project.connection_region!r} but this environment is in "
                        f"{self.region!r}; SageMaker code repositories need a connection in the "
                        "same region: create one there, or use 'create'",
                    )
                if project.connection_account != self.account_id:
                    raise _fail(
                        "connection_account",
                        f"projects[{i}].code_connection: the connection belongs to account "
                        f"{project.connection_account} but this environment is account "
                        f"{self.account_id}; use a connection of the same account, or 'create'",
                    )
        oidc = self.platform.oidc_provider_arn
        if oidc is not None:
            m = OIDC_PROVIDER_ARN_RE.match(oidc)
            if m and m.group(1) != self.account_id:
                raise _fail(
                    "oidc_account",
                    f"platform.oidc_provider_arn: the provider belongs to account {m.group(1)} "
                    f"but this environment is account {self.account_id}",
                )
            if self.platform.auth_mode == "access_keys":
                raise _fail(
                    "oidc_unused",
                    "platform.oidc_provider_arn is set but auth_mode is 'access_keys'; remove "
                    "it, or set auth_mode: oidc",
                )
        for role in self.platform.studio_execution_role_arns:
            m = IAM_ROLE_ARN_RE.match(role)
            if m and m.group(1) != self.account_id:
                raise _fail(
                    "role_account",
                    f"platform.studio_execution_role_arns: {role!r} belongs to account "
                    f"{m.group(1)}, not {self.account_id}; list this account's Studio roles",
                )
        return self

    @property
    def stack_name(self) -> str:
        return self.name

    @property
    def github_owners(self) -> tuple[str, ...]:
        """Distinct GitHub owners of the projects, in first-seen order."""
        owners: dict[str, None] = {}
        for project in self.projects:
            owners.setdefault(project.github.owner.lower(), None)
        return tuple(owners)


class ToolkitConfig(_Model):
    """The whole file: a list of environments, each one stack."""

    environments: tuple[Environment, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ToolkitConfig:
        names: dict[str, int] = {}
        places: dict[tuple[str, str, str], tuple[int, int]] = {}
        regions: dict[tuple[str, str], int] = {}
        oidc_creators: dict[str, int] = {}
        for i, env in enumerate(self.environments):
            if env.name in names:
                raise _fail(
                    "duplicate_environment",
                    f"environments[{i}].name: {env.name!r} is already used by "
                    f"environments[{names[env.name]}]; each environment names its own stack",
                )
            names[env.name] = i
            place = (env.account_id, env.region)
            if place in regions:
                raise _fail(
                    "duplicate_place",
                    f"environments[{i}]: account {env.account_id} region {env.region} is already "
                    f"environments[{regions[place]}]; the account-wide pieces (trigger function, "
                    "portfolio, token secret) exist once per account and region: put both "
                    "environments' projects in one environment",
                )
            regions[place] = i
            creates_oidc = (
                env.platform.auth_mode == "oidc" and env.platform.oidc_provider_arn is None
            )
            if creates_oidc:
                if env.account_id in oidc_creators:
                    raise _fail(
                        "duplicate_oidc_provider",
                        f"environments[{i}].platform.oidc_provider_arn: environments"
                        f"[{oidc_creators[env.account_id]}] already creates the GitHub OIDC "
                        f"provider of account {env.account_id} (an account holds only one); set "
                        "oidc_provider_arn here to 'arn:aws:iam::<account>:oidc-provider/"
                        "token.actions.githubusercontent.com' to reuse it",
                    )
                oidc_creators[env.account_id] = i
            for j, project in enumerate(env.projects):
                key = (env.account_id, env.region, project.name.lower())
                if key in places:
                    pi, pj = places[key]
                    raise _fail(
                        "duplicate_project",
                        f"environments[{i}].projects[{j}].name: {project.name!r} is also "
                        f"environments[{pi}].projects[{pj}] in the same account and region; "
                        "rename one",
                    )
                places[key] = (i, j)
        return self


# --------------------------------------------------------------------------- loading

_HINTS = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "dict_type": "expected a mapping of key: value",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "model_type": "expected a mapping of key: value",
    "model_attributes_type": "expected a mapping of key: value",
}


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"local", "s3", "cloud"} and out.endswith("backend"):
            continue  # the discriminated union's tag adds noise to the path
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(error: Mapping[str, Any], allowed: Mapping[str, Sequence[str]]) -> str:
    where = _location(tuple(error["loc"]))
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        parent = where.rsplit(".", 1)[0] if "." in where else "(top level)"
        hint = allowed.get(_strip_indexes(parent))
        known = f"; allowed keys here: {', '.join(hint)}" if hint else ""
        return f"{where}: unknown key; remove it or fix its spelling{known}"
    if kind == "missing":
        return f"{where}: required but missing; add it"
    if kind in {"literal_error", "enum"}:
        expected = error.get("ctx", {}).get("expected", "")
        return f"{where}: {given!r} is not allowed; use one of {expected}"
    if kind == "union_tag_invalid":
        expected = error.get("ctx", {}).get("expected_tags", "")
        tag = error.get("ctx", {}).get("tag", given)
        return f"{where}.type: {tag!r} is not a backend type; use one of {expected}"
    if kind == "union_tag_not_found":
        return f"{where}.type: required; use one of 'local', 's3', 'cloud'"
    if kind in _HINTS:
        return f"{where}: {_HINTS[kind]}, got {given!r} ({type(given).__name__})"
    if kind in {"too_short"} and isinstance(given, list | tuple) and not given:
        return f"{where}: the list is empty; give at least one entry"
    msg = str(error["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    # Cross-field checks name their own sub-path first.
    if kind in {
        "duplicate_project",
        "connection_region",
        "connection_account",
        "no_reviewers",
    } or msg.startswith(("projects[", "platform.", "environments[", "production_reviewers")):
        head = f"{where}." if where != "(top level)" else ""
        return f"{head}{msg}"
    return f"{where}: {msg}"


def _strip_indexes(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


def _allowed_keys() -> dict[str, list[str]]:
    """Allowed keys for each config path, for 'unknown key' messages."""
    out: dict[str, list[str]] = {}

    def walk(model: type[BaseModel], path: str) -> None:
        out[path] = [f.alias or n for n, f in model.model_fields.items()]
        for name, field in model.model_fields.items():
            key = field.alias or name
            sub = f"{path}.{key}" if path != "(top level)" else key
            for candidate in _models_in(field.annotation):
                walk(candidate, sub)

    walk(ToolkitConfig, "(top level)")
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys (YAML would silently keep the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r}: each key may appear once; merge the two entries",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_config(data: Any, source: str = "config") -> ToolkitConfig:
    """Validate already-parsed YAML data; raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping with an 'environments' list"])
    try:
        # JSON mode: strict types (no "5" -> 5, no 1 -> "1") while YAML lists still become tuples.
        return ToolkitConfig.model_validate_json(json.dumps(data, default=str))
    except ValidationError as e:
        allowed = _allowed_keys()
        problems = [_describe(err, allowed) for err in e.errors(include_url=False)]
        raise ConfigError(source, problems) from None


def load_config(path: Path | str) -> ToolkitConfig:
    """Read and validate a YAML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found; pass an existing file with --config"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(p), [f"cannot read the file: {e}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise ConfigError(str(p), [f"not valid YAML: {e}"]) from None
    return parse_config(data, str(p))
