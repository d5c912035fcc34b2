"""Everything one SageMaker project needs, on both sides, from already-built platform pieces.

AWS: the GitHub Actions identity (roles or user). GitHub: the repository's Actions variables
and secrets. (Later pieces of a project plug in here, fed by the same props.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformProvider
from constructs import Construct

from modules.account_context import AccountContext
from modules.actions_identity import ActionsIdentity, ActionsIdentityProps
from modules.naming import PRODUCTION_ENVIRONMENT, STAGING_ENVIRONMENT
from modules.repository_settings import RepositorySettings, RepositorySettingsProps


@dataclass(frozen=True, kw_only=True)
class MlopsProjectProps:
    """Props of :class:`MlopsProject`.

    Attributes:
        context: partition/region/account tokens.
        environment_name: the toolkit environment the project belongs to.
        project_name: SageMaker project name.
        github_provider: the github provider of the repository's owner.
        github_owner / github_repository / branch: the repository.
        staging_environment: whether the deploy workflow's staging job runs in a GitHub
            environment named ``staging``.
        auth_mode: ``oidc`` or ``access_keys``.
        oidc_provider_arn: the account's GitHub OIDC provider (``oidc`` only).
        pipeline_role_arn: execution role of the project's pipeline jobs and models.
    """

    context: AccountContext
    environment_name: str
    project_name: str
    github_provider: TerraformProvider
    github_owner: str
    github_repository: str
    branch: str
    staging_environment: bool
    auth_mode: Literal["oidc", "access_keys"]
    oidc_provider_arn: str | None
    pipeline_role_arn: str


class MlopsProject(Construct):
    """Attributes: ``identity`` (:class:`ActionsIdentity`), ``settings``
    (:class:`RepositorySettings`)."""

    def __init__(self, scope: Construct, id_: str, props: MlopsProjectProps) -> None:
        super().__init__(scope, id_)
        deploy_envs = (
            (STAGING_ENVIRONMENT, PRODUCTION_ENVIRONMENT)
            if props.staging_environment
            else (PRODUCTION_ENVIRONMENT,)
        )
        self.identity = ActionsIdentity(
            self,
            "actions-identity",
            ActionsIdentityProps(
                context=props.context,
                environment_name=props.environment_name,
                project_name=props.project_name,
                github_owner=props.github_owner,
                github_repository=props.github_repository,
                branch=props.branch,
                deploy_environments=deploy_envs,
                deploy_trusts_branch=not props.staging_environment,
                auth_mode=props.auth_mode,
                oidc_provider_arn=props.oidc_provider_arn,
                pipeline_role_arn=props.pipeline_role_arn,
            ),
        )
        variables = {"SAGEMAKER_PIPELINE_ROLE_ARN": props.pipeline_role_arn}
        secrets: dict[str, str] = {}
        if props.auth_mode == "oidc":
            assert self.identity.build_role_arn and self.identity.deploy_role_arn
            variables["AWS_BUILD_ROLE_ARN"] = self.identity.build_role_arn
            variables["AWS_DEPLOY_ROLE_ARN"] = self.identity.deploy_role_arn
        else:
            assert self.identity.access_key_id and self.identity.secret_access_key
            secrets["AWS_ACCESS_KEY_ID"] = self.identity.access_key_id
            secrets["AWS_SECRET_ACCESS_KEY"] = self.identity.secret_access_key
        self.settings = RepositorySettings(
            self,
            "repository-settings",
            RepositorySettingsProps(
                provider=props.github_provider,
                repository=props.github_repository,
                variables=variables,
                secrets=secrets,
            ),
        )
