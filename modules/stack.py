"""One Terraform stack per environment: the AWS and GitHub halves in one plan.

The stack wires constructs together; it reads nothing itself. Account-wide pieces are built
once, then one :class:`~modules.project.MlopsProject` per configured project. Stacks never
reference each other, so each can be its own Terraform Cloud workspace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from cdktf import (
    CloudBackend,
    LocalBackend,
    NamedCloudWorkspace,
    S3Backend,
    TerraformOutput,
    TerraformStack,
    TerraformVariable,
    Token,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_github.provider import GithubProvider, GithubProviderAppAuth
from constructs import Construct

from modules.artifacts import BuildArtifacts
from modules.aws.github_oidc import GitHubOidcProvider, GitHubOidcProviderProps
from modules.aws.project_template_catalog import ProjectTemplateCatalog, ProjectTemplateCatalogProps
from modules.aws.stage_account import StageAccountBase, StageAccountBaseProps
from modules.aws.token_secret import GitHubTokenSecret, GitHubTokenSecretProps
from modules.aws.trigger_function import DispatchTarget, TriggerFunction, TriggerFunctionProps
from modules.core.account_context import AccountContext
from modules.core.config import CloudBackend as CloudBackendConfig
from modules.core.config import Environment
from modules.core.config import LocalBackend as LocalBackendConfig
from modules.core.naming import (
    MANAGED_BY_TAG,
    PRODUCTION_STAGE,
    STAGE_SESSION_SECONDS,
    STAGING_STAGE,
    TRIGGER_FUNCTION_NAME,
    artifacts_bucket_prefix,
    launch_role_policy_name,
    owner_token_variable,
    slug,
)
from modules.core.tagging import apply_explicit_tags
from modules.core.template_contract import PROJECT_RULE_PREFIX
from modules.project import CatalogRef, MlopsProject, MlopsProjectProps
from modules.render.product_template import (
    ProductTemplateProps,
    StageGrant,
    launch_role_supplement_statements,
    render_product_template,
)
from modules.render.workflows import StageDeploy, workflow_paths

TOKEN_VARIABLE = "github_token"  # noqa: S105 - a variable name, not a value
APP_PEM_VARIABLE = "github_app_pem"


def github_alias(owner: str) -> str:
    """Terraform alias of the github provider for ``owner`` (a valid identifier)."""
    name = slug(owner)
    return name if re.match(r"^[a-z]", name) else f"owner-{name}"


@dataclass(frozen=True, kw_only=True)
class EnvironmentStackProps:
    """Props of :class:`EnvironmentStack`.

    Attributes:
        environment: the validated environment (one stack).
        artifacts: the function and layer zips (built before the app).
        seed_files: path -> content of the starter code committed to repositories whose
            project has ``seed_code`` on. Default: none.
    """

    environment: Environment
    artifacts: BuildArtifacts
    seed_files: Mapping[str, str] = field(default_factory=dict)


def stage_deploys(env: Environment) -> tuple[tuple[str, StageDeploy], ...]:
    """Per stage, what its deploy job passes beyond the defaults: the registry account and a
    session covering the job when the stage is another account, and the configured endpoint
    settings. Stages with neither are left out (their job keeps the plain command)."""
    found: list[tuple[str, StageDeploy]] = []
    for stage in (STAGING_STAGE, PRODUCTION_STAGE):
        settings = env.endpoint_settings(stage)
        remote = env.stage_account(stage) is not None
        if settings is None and not remote:
            continue
        values: dict[str, object] = {}
        if remote:
            values.update(
                registry_account_id=env.account_id, role_duration_seconds=STAGE_SESSION_SECONDS
            )
        if settings is not None and settings.serverless is not None:
            values.update(
                serverless_memory_mb=settings.serverless.memory_mb,
                serverless_max_concurrency=settings.serverless.max_concurrency,
            )
        elif settings is not None:
            values.update(
                instance_type=settings.instance_type, instance_count=settings.instance_count
            )
            if settings.autoscaling is not None:
                values.update(
                    min_instances=settings.autoscaling.min_instances,
                    max_instances=settings.autoscaling.max_instances,
                    target_invocations=settings.autoscaling.target_invocations_per_instance,
                )
            if settings.data_capture is not None:
                values.update(
                    capture_percent=settings.data_capture.sampling_percentage,
                    capture_prefix=settings.data_capture.s3_prefix,
                    capture_bucket_variable=remote,
                )
        found.append((stage, StageDeploy(**values)))  # type: ignore[arg-type]
    return tuple(found)


class EnvironmentStack(TerraformStack):
    """Attributes: ``context``, ``oidc`` (or ``None``), ``token_secret``, ``trigger``,
    ``catalog``, ``projects`` (name -> :class:`MlopsProject`), ``github_providers``
    (lowercased owner -> provider)."""

    def __init__(self, scope: Construct, props: EnvironmentStackProps) -> None:
        env = props.environment
        super().__init__(scope, env.stack_name)
        self._backend(env)
        AwsProvider(
            self,
            "aws",
            region=env.region,
            allowed_account_ids=[env.account_id],
            default_tags=[AwsProviderDefaultTags(tags=dict([MANAGED_BY_TAG, *env.tags.items()]))],
        )
        self.github_providers: dict[str, GithubProvider] = {}
        app = env.platform.github_app
        for owner in env.github_owners:
            installation = app.installation_ids.get(owner) if app is not None else None
            self.github_providers[owner] = GithubProvider(
                self,
                f"github-{slug(owner)}",
                owner=owner,
                alias=github_alias(owner),
                token=None if installation else self._owner_token(owner),
                app_auth=GithubProviderAppAuth(
                    id=app.id, installation_id=installation, pem_file=self._app_pem()
                )
                if app is not None and installation
                else None,
            )

        self.context = AccountContext(self, "account")
        platform = env.platform

        # Promotion: one aliased provider (and OIDC trust anchor) per stage account.
        self.stage_accounts: dict[str, StageAccountBase] = {}
        for stage, account in (env.promotion.stages() if env.promotion else {}).items():
            settings = env.endpoint_settings(stage)
            self.stage_accounts[stage] = StageAccountBase(
                self,
                f"stage-{stage}",
                StageAccountBaseProps(
                    environment_name=env.name,
                    stage=stage,
                    account_id=account.account_id,
                    region=env.region,
                    deployer_role_arn=account.deployer_role_arn,
                    default_tags=dict([MANAGED_BY_TAG, *env.tags.items()]),
                    existing_oidc_provider_arn=account.oidc_provider_arn,
                    capture_bucket=settings is not None and settings.data_capture is not None,
                ),
            )
        stage_grants = tuple(
            StageGrant(stage=stage, account_id=base.account_id, environment_name=env.name)
            for stage, base in self.stage_accounts.items()
        )

        self.oidc: GitHubOidcProvider | None = None
        if platform.auth_mode == "oidc":
            self.oidc = GitHubOidcProvider(
                self,
                "github-oidc",
                GitHubOidcProviderProps(existing_provider_arn=platform.oidc_provider_arn),
            )

        token_value: str | None = None
        if platform.token_secret.value_from_variable:
            variable = TerraformVariable(
                self,
                TOKEN_VARIABLE,
                type="string",
                sensitive=True,
                nullable=True,
                default=None,
                description="GitHub token for the trigger function (set TF_VAR_github_token). "
                "Ephemeral: written to Secrets Manager write-only, never stored in state. "
                "Needed by applies, not by plans or drift checks.",
            )
            # cdktf 0.21 predates ephemeral variables (Terraform >= 1.10); set it directly.
            variable.add_override("ephemeral", True)
            # An explicit null default: plans and drift checks need no token (GitHubTokenSecret
            # stops applies without it); cdktf drops a Python None default, so render a null.
            variable.add_override("default", Token.null_value())
            token_value = variable.string_value
        self.token_secret = GitHubTokenSecret(
            self,
            "token-secret",
            GitHubTokenSecretProps(
                secret_name=platform.token_secret.name,
                value=token_value,
                value_version=platform.token_secret.version,
                missing_value_hint=f"TF_VAR_{TOKEN_VARIABLE} is not set: an apply writes the "
                "trigger function's GitHub token to Secrets Manager (write-only, never stored). "
                f"Export TF_VAR_{TOKEN_VARIABLE} and apply again; plans and `make drift` need "
                "no token.",
            ),
        )

        lambda_settings = platform.trigger_lambda
        self.trigger = TriggerFunction(
            self,
            "trigger",
            TriggerFunctionProps(
                environment_name=env.name,
                function_name=TRIGGER_FUNCTION_NAME,
                runtime=lambda_settings.runtime,
                architecture=lambda_settings.architecture,
                function_zip=props.artifacts.function_zip,
                layer_zip=props.artifacts.layer(
                    lambda_settings.runtime, lambda_settings.architecture
                ),
                token_secret_arns=(self.token_secret.secret_arn,),
                log_retention_days=lambda_settings.log_retention_days,
                reserved_concurrency=lambda_settings.reserved_concurrency,
                # The function dispatches only to what this plan configured (a Studio user
                # chooses the provisioning parameters that reach it in the event).
                allowed_targets=tuple(
                    DispatchTarget(
                        owner=p.github.owner,
                        repository=p.github.repository,
                        workflow=PurePosixPath(workflow_paths(env.name)["deploy"]).name,
                        ref=p.github.branch,
                    )
                    for p in env.projects
                ),
                alarm_topic_arn=platform.alarms.sns_topic_arn,
                alarm_emails=platform.alarms.emails,
                event_rule_arn_pattern=self.context.arn("events", f"rule/{PROJECT_RULE_PREFIX}*"),
                event_rule_account=self.context.account_id,
            ),
        )

        # Only the trigger reads the token (and the deployer, whose refresh reads the version
        # Terraform wrote); a GetSecretValue on "*" granted elsewhere in the account does not.
        self.token_secret.restrict_reads(
            (
                self.trigger.role_arn,
                *(
                    (platform.deployer_principal_arn,)
                    if self.token_secret.writes_value and platform.deployer_principal_arn
                    else ()
                ),
                *platform.token_secret.readers,
            )
        )

        self.catalog = ProjectTemplateCatalog(
            self,
            "project-template",
            ProjectTemplateCatalogProps(
                context=self.context,
                template_body=render_product_template(
                    ProductTemplateProps(
                        trigger_function_name=TRIGGER_FUNCTION_NAME,
                        default_token_secret_name=platform.token_secret.name,
                        default_workflow=PurePosixPath(workflow_paths(env.name)["deploy"]).name,
                        stage_grants=stage_grants,
                    )
                ),
                bucket_prefix=artifacts_bucket_prefix(env.name),
                launch_role_name=platform.launch_role_name,
                studio_role_arns=platform.studio_execution_role_arns,
                # Explicit, never the caller's identity: a plan by another principal (the
                # read-only drift role, an HCP Terraform run role) then shows no change.
                deployer_principal_arn=platform.deployer_principal_arn,
                launch_role_policy_name=launch_role_policy_name(env.name),
                product_owner=platform.product.owner,
                product_description=platform.product.description,
                version_title=platform.product.version,
                enable_sagemaker_project_templates=platform.enable_sagemaker_project_templates,
                launch_role_supplement=tuple(
                    launch_role_supplement_statements(
                        partition=self.context.partition,
                        region=self.context.region,
                        account_id=self.context.account_id,
                        group_policy=bool(stage_grants),
                    )
                ),
            ),
        )
        catalog_ref = CatalogRef(
            product_id=self.catalog.product_id,
            provisioning_artifact_id=self.catalog.provisioning_artifact_id,
            depends_on=self.catalog.ready,
        )

        shared_pipeline_role_arn = self.context.arn(
            "iam",
            "role/service-role/AmazonSageMakerServiceCatalogProductsUseRole",
            region=False,
        )
        self.projects: dict[str, MlopsProject] = {}
        for project in env.projects:
            self.projects[project.name] = MlopsProject(
                self,
                f"project-{project.name.lower()}",
                MlopsProjectProps(
                    context=self.context,
                    environment_name=env.name,
                    region=env.region,
                    project_name=project.name,
                    github_provider=self.github_providers[project.github.owner.lower()],
                    github_owner=project.github.owner,
                    github_repository=project.github.repository,
                    branch=project.github.branch,
                    code_connection_arn=None
                    if project.code_connection == "create"
                    else project.code_connection,
                    code_connection_id=project.connection_unique_id,
                    catalog=catalog_ref if project.create_sagemaker_project else None,
                    token_secret_name=platform.token_secret.name,
                    staging_environment=project.staging_environment,
                    reviewer_users=project.production_reviewers.users,
                    reviewer_teams=project.production_reviewers.teams,
                    auth_mode=platform.auth_mode,
                    oidc_provider_arn=self.oidc.provider_arn if self.oidc else None,
                    pipeline_role=platform.pipeline_role,
                    shared_pipeline_role_arn=shared_pipeline_role_arn,
                    seed_files=props.seed_files if project.seed_code else {},
                    template_updates_reach_project=platform.project_updates == "automatic",
                    workflows_via_pull_request=project.github.workflows_via_pull_request,
                    stage_accounts=self.stage_accounts,
                    autoscaling_stages=frozenset(
                        stage
                        for stage, deploy in stage_deploys(env)
                        if deploy.min_instances is not None
                    ),
                    stage_deploys=stage_deploys(env),
                ),
            )
        for name, value, description in (
            ("token-secret-arn", self.token_secret.secret_arn, "Secret holding the GitHub token"),
            ("trigger-function-arn", self.trigger.function_arn, "The shared trigger function"),
            (
                "trigger-failure-queue-url",
                self.trigger.failure_queue_url,
                "Events the trigger could not dispatch",
            ),
            ("product-id", self.catalog.product_id, "Service Catalog product build-deploy-github"),
            ("portfolio-id", self.catalog.portfolio_id, "SageMaker Organization Templates"),
        ):
            TerraformOutput(self, name, value=value, description=description)
        apply_explicit_tags(self)

    def _owner_token(self, owner: str) -> str:
        """A per-owner token from ``TF_VAR_github_owner_token_<owner>`` (sensitive, ephemeral:
        never in state or plan files). A fine-grained token covers one resource owner, so
        projects under two owners need two tokens. Left unset (null), the provider falls back
        to ``GITHUB_TOKEN``: integrations/github 6.9.0 declares ``token`` with
        ``DefaultFunc: schema.EnvDefaultFunc("GITHUB_TOKEN", nil)`` (github/provider.go), and
        the plugin SDK treats a null argument as absent."""
        name = owner_token_variable(owner)
        variable = TerraformVariable(
            self,
            name,
            type="string",
            sensitive=True,
            nullable=True,
            description=f"GitHub token for the repositories of {owner} (TF_VAR_{name}). "
            "Default: GITHUB_TOKEN.",
        )
        variable.add_override("ephemeral", True)
        variable.add_override("default", Token.null_value())
        return variable.string_value

    def _app_pem(self) -> str:
        """The App's private key from ``TF_VAR_github_app_pem`` (sensitive, ephemeral), once
        per stack. Null falls back to the provider's ``GITHUB_APP_PEM_FILE``
        (``app_auth.pem_file`` has ``EnvDefaultFunc("GITHUB_APP_PEM_FILE")``)."""
        existing = self.node.try_find_child(APP_PEM_VARIABLE)
        if isinstance(existing, TerraformVariable):
            return existing.string_value
        variable = TerraformVariable(
            self,
            APP_PEM_VARIABLE,
            type="string",
            sensitive=True,
            nullable=True,
            description=f"PEM private key of the GitHub App (TF_VAR_{APP_PEM_VARIABLE}). "
            "Default: GITHUB_APP_PEM_FILE.",
        )
        variable.add_override("ephemeral", True)
        variable.add_override("default", Token.null_value())
        return variable.string_value

    def _backend(self, env: Environment) -> None:
        backend = env.backend
        if isinstance(backend, LocalBackendConfig):
            # Relative on purpose: cdktf's default is an absolute path, which would make the
            # synthesized JSON differ between checkouts. The default resolves from
            # cdktf.out/stacks/<stack>/ to the project directory, so state survives
            # `make clean` and re-synths.
            LocalBackend(self, path=backend.path or f"../../../terraform.{env.stack_name}.tfstate")
        elif isinstance(backend, CloudBackendConfig):
            CloudBackend(
                self,
                organization=backend.organization,
                hostname=backend.hostname,
                workspaces=NamedCloudWorkspace(
                    backend.workspace or env.stack_name, project=backend.project
                ),
            )
        else:
            S3Backend(
                self,
                bucket=backend.bucket,
                key=backend.key or f"{env.stack_name}/terraform.tfstate",
                region=backend.region or env.region,
                encrypt=True,
                kms_key_id=backend.kms_key_id,
            )
            # S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no such field.
            self.add_override("terraform.backend.s3.use_lockfile", True)
