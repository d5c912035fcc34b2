"""An environment (one stack) and the whole file, with the checks that span projects."""

from __future__ import annotations

from typing import Any

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from modules.core.config.backends import Backend, LocalBackend
from modules.core.config.base import (
    ACCOUNT_RE,
    AWS_TAG_LIMIT,
    ENV_NAME_RE,
    IAM_PRINCIPAL_ARN_RE,
    IAM_ROLE_ARN_RE,
    MAX_USER_TAGS,
    OIDC_PROVIDER_ARN_RE,
    TAG_KEY_RE,
    TAG_VALUE_RE,
    TOOLKIT_TAG_KEYS,
    _fail,
    _Model,
    check_region,
)
from modules.core.config.platform import Platform
from modules.core.config.projects import Project
from modules.core.config.promotion import (
    EndpointSettings,
    Promotion,
    StageAccount,
    StageEndpoints,
)


class Environment(_Model):
    """An AWS account + region: one Terraform stack (one plan) with all its projects."""

    name: str
    account_id: str
    region: str
    backend: Backend = LocalBackend(type="local")
    tags: dict[str, str] = Field(default_factory=dict)
    platform: Platform
    projects: tuple[Project, ...] = Field(min_length=1)
    promotion: Promotion | None = Field(
        default=None,
        description="Stage accounts the approved model is deployed to (production required, "
        "staging optional); this environment's account stays the home of the registry, "
        "training and trigger. Default: every stage deploys in this account.",
    )
    endpoints: StageEndpoints = Field(
        default=StageEndpoints(),
        description="Endpoint settings of the stages deployed in this account (a stage in "
        "another account takes promotion.<stage>.endpoint). Default: ml.m5.large, one instance.",
    )

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise _fail(
                "account_not_string",
                f'{value} is a number; quote the account id (e.g. "012345678901") so YAML '
                "keeps its leading zeros",
            )
        if isinstance(value, str) and not ACCOUNT_RE.fullmatch(value):
            raise _fail("bad_account", f"{value!r} is not a 12-digit AWS account id")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("name")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_RE.fullmatch(value):
            raise _fail(
                "bad_env_name",
                f"{value!r}: an environment name is 1-32 lowercase letters, digits and hyphens, "
                "starting with a letter (it names the stack directory and workspace)",
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        # Tag values pass TAG_VALUE_RE, which has no '$', '%' or '{': they reach Terraform
        # (provider default_tags) as literals without escaping.
        if len(value) > MAX_USER_TAGS:
            raise _fail(
                "too_many_tags",
                f"{len(value)} tags; the Service Catalog product and portfolio take at most "
                f"{AWS_TAG_LIMIT} and the toolkit adds its own {len(TOOLKIT_TAG_KEYS)} "
                f"({', '.join(TOOLKIT_TAG_KEYS)}): give at most {MAX_USER_TAGS}",
            )
        for key, val in value.items():
            if key.lower().startswith("aws:"):
                raise _fail("reserved_tag", f"tag key {key!r}: the 'aws:' prefix is reserved")
            if key in TOOLKIT_TAG_KEYS:
                raise _fail(
                    "toolkit_tag",
                    f"tag key {key!r} is set by the toolkit itself; use another key",
                )
            if not TAG_KEY_RE.fullmatch(key):
                raise _fail("bad_tag_key", f"tag key {key!r}: 1-128 letters, digits, ' .:/=+-@_'")
            if not TAG_VALUE_RE.fullmatch(val):
                raise _fail(
                    "bad_tag_value",
                    f"tag {key!r} value {val!r}: at most 256 letters, digits, ' .:/=+-@_'",
                )
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Environment:
        self._one_project_per_repository()
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
            m = OIDC_PROVIDER_ARN_RE.fullmatch(oidc)
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
        deployer = self.platform.deployer_principal_arn
        if deployer is not None:
            m = IAM_PRINCIPAL_ARN_RE.fullmatch(deployer)
            if m and m.group(1) != self.account_id:
                raise _fail(
                    "deployer_account",
                    f"platform.deployer_principal_arn: {deployer!r} belongs to account "
                    f"{m.group(1)}, not {self.account_id}; give the role that runs applies in "
                    "this account",
                )
        for role in self.platform.studio_execution_role_arns:
            m = IAM_ROLE_ARN_RE.fullmatch(role)
            if m and m.group(1) != self.account_id:
                raise _fail(
                    "role_account",
                    f"platform.studio_execution_role_arns: {role!r} belongs to account "
                    f"{m.group(1)}, not {self.account_id}; list this account's Studio roles",
                )
        return self

    def _one_project_per_repository(self) -> None:
        repositories: dict[tuple[str, str], int] = {}
        for i, project in enumerate(self.projects):
            # GitHub owner and repository names are case-insensitive.
            repo = (project.github.owner.lower(), project.github.repository.lower())
            if repo in repositories:
                j = repositories[repo]
                raise _fail(
                    "duplicate_repository",
                    f"projects[{i}].github: {project.github.owner}/{project.github.repository} "
                    f"is already the repository of projects[{j}] "
                    f"({self.projects[j].name!r}) in this environment; both projects would write "
                    "the same workflow files, variables and environments: give each project its "
                    "own repository",
                )
            repositories[repo] = i

    @model_validator(mode="after")
    def _promotion(self) -> Environment:
        if self.promotion is None:
            return self
        if self.platform.auth_mode != "oidc":
            raise _fail(
                "promotion_needs_oidc",
                "promotion: stage accounts trust the deploy jobs through GitHub OIDC; set "
                "platform.auth_mode: oidc (access keys are not supported with promotion)",
            )
        for stage, account in self.promotion.stages().items():
            where = f"promotion.{stage}"
            if account.account_id == self.account_id:
                raise _fail(
                    "stage_is_home",
                    f"{where}.account_id: {account.account_id} is this environment's own "
                    "(home) account; a stage account is another account: remove "
                    f"promotion.{stage} to deploy {stage} at home, or give another account",
                )
            if getattr(self.endpoints, stage) is not None:
                raise _fail(
                    "endpoint_twice",
                    f"endpoints.{stage}: the {stage} stage deploys in account "
                    f"{account.account_id} (promotion.{stage}); move these settings to "
                    f"promotion.{stage}.endpoint",
                )
        return self

    def stage_account(self, stage: str) -> StageAccount | None:
        """The stage account ``stage`` deploys in, or ``None`` for the home account."""
        return self.promotion.stages().get(stage) if self.promotion is not None else None

    def endpoint_settings(self, stage: str) -> EndpointSettings | None:
        """The configured endpoint settings of ``stage`` (``None``: the deploy code's
        defaults, ml.m5.large with one instance)."""
        account = self.stage_account(stage)
        if account is not None:
            return account.endpoint
        settings: EndpointSettings | None = getattr(self.endpoints, stage)
        return settings

    @model_validator(mode="after")
    def _app_owners(self) -> Environment:
        app = self.platform.github_app
        owners = set(self.github_owners)
        for owner in app.installation_ids if app is not None else ():
            if owner not in owners:
                raise _fail(
                    "app_owner_unused",
                    f"platform.github_app.installation_ids: no project of this environment is "
                    f"owned by {owner!r} (owners: {', '.join(sorted(owners))}); remove it or fix "
                    "the owner",
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


def _stage_oidc_creators(i: int, env: Environment, creators: dict[str, int]) -> None:
    """Stage accounts whose GitHub OIDC provider environment ``i`` creates (one per account)."""
    for stage, account in (env.promotion.stages() if env.promotion else {}).items():
        if account.oidc_provider_arn is not None:
            continue
        if account.account_id in creators:
            raise _fail(
                "duplicate_oidc_provider",
                f"environments[{i}].promotion.{stage}.oidc_provider_arn: environments"
                f"[{creators[account.account_id]}] already creates the GitHub OIDC "
                f"provider of account {account.account_id} (an account holds only "
                "one); set oidc_provider_arn here to 'arn:aws:iam::"
                f"{account.account_id}:oidc-provider/token.actions.githubusercontent.com'"
                " to reuse it",
            )
        creators[account.account_id] = i


class ToolkitConfig(_Model):
    """The whole file: a list of environments, each one stack."""

    environments: tuple[Environment, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ToolkitConfig:
        names: dict[str, int] = {}
        places: dict[tuple[str, str, str], tuple[int, int]] = {}
        regions: dict[tuple[str, str], int] = {}
        oidc_creators: dict[str, int] = {}
        branches: dict[tuple[str, str, str], tuple[int, int]] = {}
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
            _stage_oidc_creators(i, env, oidc_creators)
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
                gh = project.github
                claim = (gh.owner.lower(), gh.repository.lower(), gh.branch)
                if claim in branches:
                    pi, pj = branches[claim]
                    raise _fail(
                        "duplicate_branch",
                        f"environments[{i}].projects[{j}].github: {gh.owner}/{gh.repository} "
                        f"branch {gh.branch!r} is also used by environments[{pi}].projects[{pj}] "
                        f"({self.environments[pi].name}/"
                        f"{self.environments[pi].projects[pj].name}); both would seed the "
                        "branch and train on every push: deploy each environment from its own "
                        "branch (e.g. 'main' for dev, 'release' for prod), or train once and "
                        "promote the model to other accounts with 'promotion:' "
                        "(docs/multi-account.md)",
                    )
                branches[claim] = (i, j)
        self._iam_names_apart()
        return self

    def _iam_names_apart(self) -> None:
        """IAM names ``mlops-<environment>-<project>-<purpose>`` are account-wide. Environment
        ``a`` with project ``b-c`` and environment ``a-b`` with project ``c`` would name the
        same role in one account; refuse that pair (the only way two names can meet, since
        environment names are unique)."""
        for i, env in enumerate(self.environments):
            for k, other in enumerate(self.environments):
                if other.account_id != env.account_id or not other.name.startswith(env.name + "-"):
                    continue
                rest = other.name[len(env.name) + 1 :]
                theirs = {p.name.lower(): n for n, p in enumerate(other.projects)}
                for j, project in enumerate(env.projects):
                    name = project.name.lower()
                    if name.startswith(rest + "-") and name[len(rest) + 1 :] in theirs:
                        n = theirs[name[len(rest) + 1 :]]
                        raise _fail(
                            "iam_name_clash",
                            f"environments[{i}].projects[{j}].name: {project.name!r} in "
                            f"environment {env.name!r} and environments[{k}].projects[{n}] "
                            f"({other.projects[n].name!r}) in environment {other.name!r} give "
                            f"the same IAM role names (mlops-{env.name}-{name}-...) in account "
                            f"{env.account_id}; rename one project or environment",
                        )
