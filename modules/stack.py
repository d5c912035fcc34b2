"""One Terraform stack per environment: the AWS and GitHub halves in one plan.

The stack wires constructs together; it reads nothing itself. Account-wide pieces are built
once, then one :class:`~modules.project.MlopsProject` per configured project. Stacks never
reference each other, so each can be its own Terraform Cloud workspace.

Its helpers live next to it: ``stack_providers`` (backend, AWS and per-owner GitHub providers),
``stack_inputs`` (the sensitive, ephemeral Terraform variables) and ``stack_props`` (the
constructs' props from the config). They create nothing under a node of their own, so every
address is the stack's (docs/architecture.md, "Child constructs").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_github.provider import GithubProvider
from constructs import Construct

from modules.artifacts import BuildArtifacts
from modules.aws.github_oidc import GitHubOidcProvider, GitHubOidcProviderProps
from modules.aws.project_template_catalog import ProjectTemplateCatalog
from modules.aws.stage_account import StageAccountBase, StageAccountBaseProps
from modules.aws.token_secret import GitHubTokenSecret, GitHubTokenSecretProps
from modules.aws.trigger_function import TriggerFunction
from modules.core.account_context import AccountContext
from modules.core.config import Environment
from modules.core.naming import MANAGED_BY_TAG
from modules.core.tagging import apply_explicit_tags
from modules.project import CatalogRef, MlopsProject
from modules.stack_inputs import APP_PEM_VARIABLE, TOKEN_VARIABLE, trigger_token
from modules.stack_props import catalog_props, project_props, trigger_props
from modules.stack_providers import StackProviders, StackProvidersProps, github_alias

__all__ = [
    "APP_PEM_VARIABLE",
    "TOKEN_VARIABLE",
    "EnvironmentStack",
    "EnvironmentStackProps",
    "github_alias",
]


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


class EnvironmentStack(TerraformStack):
    """Attributes: ``context``, ``stage_accounts`` (stage -> :class:`StageAccountBase`, with
    ``promotion``), ``oidc`` (or ``None``), ``token_secret``, ``trigger``,
    ``catalog``, ``projects`` (name -> :class:`MlopsProject`), ``github_providers``
    (lowercased owner -> provider)."""

    def __init__(self, scope: Construct, props: EnvironmentStackProps) -> None:
        env = props.environment
        platform = env.platform
        super().__init__(scope, env.stack_name)
        providers = StackProviders(self, StackProvidersProps(environment=env))
        self.github_providers: dict[str, GithubProvider] = providers.github_providers
        self.context = AccountContext(self, "account")
        self.stage_accounts = self._stage_accounts(env)
        self.oidc: GitHubOidcProvider | None = None
        if platform.auth_mode == "oidc":
            self.oidc = GitHubOidcProvider(
                self,
                "github-oidc",
                GitHubOidcProviderProps(existing_provider_arn=platform.oidc_provider_arn),
            )
        self.token_secret = GitHubTokenSecret(
            self,
            "token-secret",
            GitHubTokenSecretProps(
                secret_name=platform.token_secret.name,
                value=trigger_token(self) if platform.token_secret.value_from_variable else None,
                value_version=platform.token_secret.version,
                missing_value_hint=f"TF_VAR_{TOKEN_VARIABLE} is not set: an apply writes the "
                "trigger function's GitHub token to Secrets Manager (write-only, never stored). "
                f"Export TF_VAR_{TOKEN_VARIABLE} and apply again; plans and `make drift` need "
                "no token.",
            ),
        )
        self.trigger = TriggerFunction(
            self,
            "trigger",
            trigger_props(
                env,
                artifacts=props.artifacts,
                context=self.context,
                token_secret_arn=self.token_secret.secret_arn,
            ),
        )
        # Only the trigger reads the token (and the deployer, whose refresh reads the version
        # Terraform wrote); a GetSecretValue on "*" granted elsewhere in the account does not.
        deployer = platform.deployer_principal_arn
        drift = platform.drift_principal_arn
        self.token_secret.restrict_reads(
            (
                self.trigger.role_arn,
                *((deployer,) if self.token_secret.writes_value and deployer else ()),
                # the read-only drift identity's refresh reads the version back too
                *((drift,) if self.token_secret.writes_value and drift else ()),
                *platform.token_secret.readers,
            )
        )
        self.catalog = ProjectTemplateCatalog(
            self,
            "project-template",
            catalog_props(env, context=self.context, stage_accounts=self.stage_accounts),
        )
        self.projects: dict[str, MlopsProject] = self._projects(env, props.seed_files)
        self._outputs()
        apply_explicit_tags(self)

    def _projects(self, env: Environment, seed_files: Mapping[str, str]) -> dict[str, MlopsProject]:
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
        projects: dict[str, MlopsProject] = {}
        for project in env.projects:
            projects[project.name] = MlopsProject(
                self,
                f"project-{project.name.lower()}",
                project_props(
                    env,
                    project,
                    context=self.context,
                    github_provider=self.github_providers[project.github.owner.lower()],
                    catalog=catalog_ref,
                    oidc_provider_arn=self.oidc.provider_arn if self.oidc else None,
                    shared_pipeline_role_arn=shared_pipeline_role_arn,
                    seed_files=seed_files,
                    stage_accounts=self.stage_accounts,
                ),
            )
        return projects

    def _stage_accounts(self, env: Environment) -> dict[str, StageAccountBase]:
        """Promotion: one aliased provider (and OIDC trust anchor) per stage account."""
        accounts: dict[str, StageAccountBase] = {}
        for stage, account in (env.promotion.stages() if env.promotion else {}).items():
            settings = env.endpoint_settings(stage)
            accounts[stage] = StageAccountBase(
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
        return accounts

    def _outputs(self) -> None:
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
            (
                "product-template-sha256",
                self.catalog.template_sha256,
                "The current template version (keep it: platform.product.retained_versions)",
            ),
        ):
            TerraformOutput(self, name, value=value, description=description)
