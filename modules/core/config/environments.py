"""An environment (one stack) and the whole file, with the checks that span projects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from modules.core.config.backends import Backend, LocalBackend
from modules.core.config.base import (
    AWS_TAG_LIMIT,
    ENV_NAME_RE,
    IAM_POLICY_ARN_RE,
    IAM_PRINCIPAL_ARN_RE,
    IAM_ROLE_ARN_RE,
    MAX_USER_TAGS,
    OIDC_PROVIDER_ARN_RE,
    TAG_KEY_RE,
    TAG_VALUE_RE,
    TOOLKIT_TAG_KEYS,
    _fail,
    _Model,
    arn_partition_problem,
    check_account_id,
    check_region,
    fail_all,
)
from modules.core.config.platform import Platform
from modules.core.config.projects import Project
from modules.core.config.promotion import (
    EndpointSettings,
    Promotion,
    StageAccount,
    StageEndpoints,
)
from modules.core.github_facts import oidc_provider_arn_template


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

    # The schema says what _portfolio_access requires: a deployer, or no project created.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"properties": {"platform": {"required": ["deployer_principal_arn"]}}},
                {
                    "properties": {
                        "projects": {
                            "items": {
                                "required": ["create_sagemaker_project"],
                                "properties": {"create_sagemaker_project": {"const": False}},
                            }
                        }
                    }
                },
            ]
        },
    )

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return check_account_id(value)

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
        # Every problem is collected, and all are reported in one run (fail_all).
        found = self._one_project_per_repository()
        seen: dict[str, int] = {}
        for i, project in enumerate(self.projects):
            key = project.name.lower()
            if key in seen:
                found.append(
                    f"projects[{i}].name: {project.name!r} is already used by "
                    f"projects[{seen[key]}]; SageMaker project names are unique per account "
                    "and region (case-insensitively): rename one",
                )
            seen.setdefault(key, i)
            if project.code_connection != "create":
                if project.connection_region != self.region:
                    found.append(
                        f"projects[{i}].code_connection: the connection is in region "
                        f"{project.connection_region!r} but this environment is in "
                        f"{self.region!r}; SageMaker code repositories need a connection in the "
                        "same region: create one there, or use 'create'",
                    )
                if project.connection_account != self.account_id:
                    found.append(
                        f"projects[{i}].code_connection: the connection belongs to account "
                        f"{project.connection_account} but this environment is account "
                        f"{self.account_id}; use a connection of the same account, or 'create'",
                    )
        found += self._project_patterns_apart()
        oidc = self.platform.oidc_provider_arn
        if oidc is not None:
            m = OIDC_PROVIDER_ARN_RE.fullmatch(oidc)
            if m and m.group(1) != self.account_id:
                found.append(
                    f"platform.oidc_provider_arn: the provider belongs to account {m.group(1)} "
                    f"but this environment is account {self.account_id}",
                )
            if self.platform.auth_mode == "access_keys":
                found.append(
                    "platform.oidc_provider_arn is set but auth_mode is 'access_keys'; remove "
                    "it, or set auth_mode: oidc",
                )
        found += self._principals_in_account()
        found += self._portfolio_access()
        found += self._boundary_account()
        for role in self.platform.studio_execution_role_arns:
            m = IAM_ROLE_ARN_RE.fullmatch(role)
            if m and m.group(1) != self.account_id:
                found.append(
                    f"platform.studio_execution_role_arns: {role!r} belongs to account "
                    f"{m.group(1)}, not {self.account_id}; list this account's Studio roles",
                )
        found += self._topic_in_place()
        found += self._arn_partitions()
        fail_all(found)
        return self

    def _boundary_account(self) -> list[str]:
        boundary = self.platform.permissions_boundary_arn
        if boundary is None:
            return []
        m = IAM_POLICY_ARN_RE.fullmatch(boundary)
        if m and m.group(1) not in ("aws", self.account_id):
            return [
                f"platform.permissions_boundary_arn: {boundary!r} belongs to account "
                f"{m.group(1)}, not {self.account_id}; a permissions boundary is a managed "
                "policy of this account (or an AWS managed policy)",
            ]
        return []

    def _portfolio_access(self) -> list[str]:
        """A SageMaker project is created from the product by the principal running the apply
        (CreateProject provisions it through Service Catalog), which needs the portfolio's
        access: only ``deployer_principal_arn`` gives it in the same plan. Deriving it from the
        caller instead would make every plan by another principal replace the association
        (docs/service-catalog.md), so the config must name it. One line, for the first project
        the plan creates."""
        if self.platform.deployer_principal_arn is not None:
            return []
        for i, project in enumerate(self.projects):
            if project.create_sagemaker_project:
                return [
                    f"platform.deployer_principal_arn: required because projects[{i}] "
                    f"({project.name!r}) has create_sagemaker_project: true, and only a "
                    "principal associated with the portfolio can create it from the product; "
                    "give the IAM role (or user) that runs applies, e.g. 'arn:aws:iam::"
                    f"{self.account_id}:role/terraform-apply', or set create_sagemaker_project: "
                    "false and create the project in Studio",
                ]
        return []

    def _one_project_per_repository(self) -> list[str]:
        found = []
        repositories: dict[tuple[str, str], int] = {}
        for i, project in enumerate(self.projects):
            # GitHub owner and repository names are case-insensitive.
            repo = (project.github.owner.lower(), project.github.repository.lower())
            if repo in repositories:
                j = repositories[repo]
                found.append(
                    f"projects[{i}].github: {project.github.owner}/{project.github.repository} "
                    f"is already the repository of projects[{j}] "
                    f"({self.projects[j].name!r}) in this environment; both projects would write "
                    "the same workflow files, variables and environments: give each project its "
                    "own repository",
                )
            repositories.setdefault(repo, i)
        return found

    def _project_patterns_apart(self) -> list[str]:
        """A project's policies match its resources by name pattern when the stack does not
        know its project id: ``<name>-p-*`` (modules.core.naming.group_in_arn; SageMaker
        project ids are ``p-`` and 12 letters or digits). Project ``a``'s pattern matches the
        resources ``<b>-p-<id>`` of project ``b`` exactly when ``b`` is ``a`` followed by
        ``-p-...`` or by ``-p`` (then ``a-p-p-<id>``): refuse such pairs."""
        found = []
        names = [(i, p.name.lower()) for i, p in enumerate(self.projects)]
        for i, short in names:
            for j, long in names:
                if long != short and (long + "-").startswith(short + "-p-"):
                    found.append(
                        f"projects[{j}].name: {self.projects[j].name!r} is projects[{i}]'s name "
                        f"{self.projects[i].name!r} followed by '-p'; the name pattern of "
                        f"{self.projects[i].name!r}'s resources ('{short}-p-*') would match this "
                        f"project's ('{long}-p-<id>'): rename one",
                    )
        return found

    def _principals_in_account(self) -> list[str]:
        """The principals named for plans and refreshes (token_secret.readers,
        deployer_principal_arn and any other ``*_principal_arn`` of the platform, such as a
        drift identity) are of this account: the token secret's resource policy only denies
        (it grants nothing), and a principal of another account would need an Allow there and
        a customer-managed KMS key, which the toolkit does not create."""
        platform = self.platform
        named = [
            (f"platform.token_secret.readers[{n}]", arn)
            for n, arn in enumerate(platform.token_secret.readers)
        ]
        for name in sorted(type(platform).model_fields):
            value = getattr(platform, name)
            if name.endswith("_principal_arn") and isinstance(value, str):
                named.append((f"platform.{name}", value))
        found = []
        for where, arn in named:
            m = IAM_PRINCIPAL_ARN_RE.fullmatch(arn)
            if m and m.group(1) != self.account_id:
                found.append(
                    f"{where}: {arn!r} belongs to account {m.group(1)}, not {self.account_id}; "
                    "the token secret's policy only denies, so a principal of another account "
                    "could not read it (that needs an Allow and a customer-managed KMS key, "
                    f"which the toolkit does not create): give a role of account "
                    f"{self.account_id}",
                )
        return found

    def _topic_in_place(self) -> list[str]:
        """CloudWatch alarm actions notify an SNS topic of the alarm's own region, and the
        toolkit grants nothing on another account's topic."""
        topic = self.platform.alarms.sns_topic_arn
        if topic is None:
            return []
        region, account = topic.split(":")[3:5]  # arn:<partition>:sns:<region>:<account>:<name>
        if region == self.region and account == self.account_id:
            return []
        return [
            f"platform.alarms.sns_topic_arn: {topic!r} is in region {region}, account "
            f"{account}, but this environment is region {self.region}, account "
            f"{self.account_id}; CloudWatch alarms notify a topic of their own region and the "
            "toolkit grants nothing on another account's topic: give a topic of this account "
            "and region, or list emails instead",
        ]

    def _arn_partitions(self) -> list[str]:
        """Every ARN anywhere in the environment is of the region's partition
        (base.arn_partition_problem): found generically, so a field added later is covered."""
        found = []
        for where, text in _strings(self.model_dump(by_alias=True)):
            problem = arn_partition_problem(text, self.region)
            if problem is not None:
                found.append(f"{where}: {problem}")
        return found

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


def _stage_oidc_creators(i: int, env: Environment, creators: dict[str, int]) -> list[str]:
    """Stage accounts whose GitHub OIDC provider environment ``i`` creates (one per account):
    the problems found."""
    found = []
    for stage, account in (env.promotion.stages() if env.promotion else {}).items():
        if account.oidc_provider_arn is not None:
            continue
        if account.account_id in creators:
            found.append(
                f"environments[{i}].promotion.{stage}.oidc_provider_arn: environments"
                f"[{creators[account.account_id]}] already creates the GitHub OIDC "
                f"provider of account {account.account_id} (an account holds only "
                "one); set oidc_provider_arn here to "
                f"'{oidc_provider_arn_template('aws', account.account_id)}' to reuse it",
            )
        creators.setdefault(account.account_id, i)
    return found


class ToolkitConfig(_Model):
    """The whole file: a list of environments, each one stack."""

    environments: tuple[Environment, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ToolkitConfig:
        # Every problem is collected, and all are reported in one run (fail_all).
        found: list[str] = []
        names: dict[str, int] = {}
        places: dict[tuple[str, str, str], tuple[int, int]] = {}
        regions: dict[tuple[str, str], int] = {}
        oidc_creators: dict[str, int] = {}
        branches: dict[tuple[str, str, str], tuple[int, int]] = {}
        for i, env in enumerate(self.environments):
            if env.name in names:
                found.append(
                    f"environments[{i}].name: {env.name!r} is already used by "
                    f"environments[{names[env.name]}]; each environment names its own stack",
                )
            names.setdefault(env.name, i)
            place = (env.account_id, env.region)
            if place in regions:
                found.append(
                    f"environments[{i}]: account {env.account_id} region {env.region} is already "
                    f"environments[{regions[place]}]; the account-wide pieces (trigger function, "
                    "portfolio, token secret) exist once per account and region: put both "
                    "environments' projects in one environment",
                )
            regions.setdefault(place, i)
            creates_oidc = (
                env.platform.auth_mode == "oidc" and env.platform.oidc_provider_arn is None
            )
            if creates_oidc:
                if env.account_id in oidc_creators:
                    found.append(
                        f"environments[{i}].platform.oidc_provider_arn: environments"
                        f"[{oidc_creators[env.account_id]}] already creates the GitHub OIDC "
                        f"provider of account {env.account_id} (an account holds only one); set "
                        "oidc_provider_arn here to "
                        f"'{oidc_provider_arn_template('aws', env.account_id)}' to reuse it",
                    )
                oidc_creators.setdefault(env.account_id, i)
            found += _stage_oidc_creators(i, env, oidc_creators)
            for j, project in enumerate(env.projects):
                key = (env.account_id, env.region, project.name.lower())
                if key in places:
                    pi, pj = places[key]
                    found.append(
                        f"environments[{i}].projects[{j}].name: {project.name!r} is also "
                        f"environments[{pi}].projects[{pj}] in the same account and region; "
                        "rename one",
                    )
                places.setdefault(key, (i, j))
                gh = project.github
                claim = (gh.owner.lower(), gh.repository.lower(), gh.branch)
                if claim in branches:
                    pi, pj = branches[claim]
                    found.append(
                        f"environments[{i}].projects[{j}].github: {gh.owner}/{gh.repository} "
                        f"branch {gh.branch!r} is also used by environments[{pi}].projects[{pj}] "
                        f"({self.environments[pi].name}/"
                        f"{self.environments[pi].projects[pj].name}); both would seed the "
                        "branch and train on every push: deploy each environment from its own "
                        "branch (e.g. 'main' for dev, 'release' for prod), or train once and "
                        "promote the model to other accounts with 'promotion:' "
                        "(docs/multi-account.md)",
                    )
                branches.setdefault(claim, (i, j))
        found += self._iam_names_apart()
        fail_all(found)
        return self

    def _iam_names_apart(self) -> list[str]:
        """IAM names ``mlops-<environment>-<project>-<purpose>`` are account-wide. Environment
        ``a`` with project ``b-c`` and environment ``a-b`` with project ``c`` would name the
        same role in one account; refuse that pair (the only way two names can meet, since
        environment names are unique)."""
        found = []
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
                        found.append(
                            f"environments[{i}].projects[{j}].name: {project.name!r} in "
                            f"environment {env.name!r} and environments[{k}].projects[{n}] "
                            f"({other.projects[n].name!r}) in environment {other.name!r} give "
                            f"the same IAM role names (mlops-{env.name}-{name}-...) in account "
                            f"{env.account_id}; rename one project or environment",
                        )
        return found


def _strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every text in dumped config data, with its path (keys as in the YAML)."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from _strings(item, f"{where}[{i}]")
