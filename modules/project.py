"""Everything one SageMaker project needs, on both sides, fed by the platform pieces.

AWS: the CodeConnection, the SageMaker project (from the product, same plan), the pipeline's
execution role (shared or per project) and the GitHub Actions identity. GitHub: the Actions
variables/secrets, the managed workflow files, the seeded starter code and the deploy
environments. Outputs of the AWS half feed the GitHub half inside one plan.

Where the workflows' credentials go (variables or secrets, repository or GitHub environment) is
mapped by ``project_credentials``; everything is created in this construct's scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from cdktf import TerraformOutput, TerraformProvider
from constructs import Construct

from modules.aws.actions_identity import ActionsIdentity, ActionsIdentityProps
from modules.aws.code_connection import CodeConnection, CodeConnectionProps
from modules.aws.pipeline_role import PipelineRole, PipelineRoleProps
from modules.aws.sagemaker_project import SageMakerProject, SageMakerProjectProps
from modules.aws.stage_account import StageAccountBase
from modules.aws.stage_deploy_identity import StageDeployIdentity, StageDeployIdentityProps
from modules.core.account_context import AccountContext
from modules.core.naming import (
    BUILD_STAGE,
    PRODUCTION_STAGE,
    STAGING_STAGE,
    build_settings_prefix,
    github_environment,
)
from modules.github.build_environment import BuildEnvironment, BuildEnvironmentProps
from modules.github.deploy_environments import DeployEnvironments, DeployEnvironmentsProps
from modules.github.repository_files import RepositoryFiles, RepositoryFilesProps
from modules.github.repository_settings import RepositorySettings, RepositorySettingsProps
from modules.project_credentials import actions_credentials
from modules.render.workflows import (
    StageDeploy,
    WorkflowParams,
    render_build_workflow,
    render_deploy_workflow,
    workflow_paths,
)


@dataclass(frozen=True, kw_only=True)
class CatalogRef:
    """The product version a SageMaker project is created from, and what must exist first."""

    product_id: str
    provisioning_artifact_id: str
    depends_on: tuple[object, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MlopsProjectProps:
    """Props of :class:`MlopsProject`.

    Attributes:
        context: partition/region/account tokens.
        environment_name: the toolkit environment the project belongs to.
        region: the environment's region, written literally into the workflows.
        project_name: SageMaker project name.
        github_provider: the github provider of the repository's owner.
        github_owner / github_repository / branch: the repository.
        code_connection_arn / code_connection_id: an existing connection. Default: create one.
        catalog: the product to create the SageMaker project from. Default: the project is not
            created by the plan (create it in Studio; policies then match any project id).
        token_secret_name: template parameter of the project (the deploy workflow's file name
            comes from ``workflow_paths``, so the template and the committed file agree).
        staging_environment: whether the deploy has a staging stage (its own GitHub
            environment ``<environment>-staging`` and its own deploy identity); without it the
            deploy goes straight to production.
        reviewer_users / reviewer_teams: production approvers.
        auth_mode: ``oidc`` or ``access_keys``.
        oidc_provider_arn: the account's GitHub OIDC provider (``oidc`` only).
        pipeline_role: ``service_catalog`` (use ``shared_pipeline_role_arn``) or
            ``per_project`` (a role made for this project).
        shared_pipeline_role_arn: the account's AmazonSageMakerServiceCatalogProductsUseRole.
        seed_files: path -> content of the starter code. Default: none (nothing seeded).
        workflows_via_pull_request: whether the workflow files are proposed by a pull request
            (protected branch) instead of committed. Default: committed.
        template_updates_reach_project: whether a changed product template is applied to the
            SageMaker project (UpdateProject). Default: no (safe for projects in use).
        stage_accounts: stage -> the stage account it deploys in (``promotion``); such a
            stage gets its deploy and model roles there. Default: every stage deploys here.
        autoscaling_stages: stages whose endpoint scales (Application Auto Scaling
            permissions for the stage's deploy role). Default: none.
        stage_deploys: per stage, how its deploy job differs from the defaults (registry
            account, session length, endpoint settings). Default: none.
        allow_registered_approved: whether the pipeline role may register packages already
            Approved (``platform.auto_approve_staging``). Default: PendingManualApproval only.
        permissions_boundary_arn: permissions boundary of every role and user of the project.
            Default: none.
        pin_build_workflow: whether the build role trusts only the committed build workflow
            (``job_workflow_ref``; ``oidc``). Default: any workflow on the branch.
    """

    context: AccountContext
    environment_name: str
    region: str
    project_name: str
    github_provider: TerraformProvider
    github_owner: str
    github_repository: str
    branch: str
    code_connection_arn: str | None = None
    code_connection_id: str | None = None
    catalog: CatalogRef | None = None
    token_secret_name: str
    staging_environment: bool
    reviewer_users: tuple[str, ...] = ()
    reviewer_teams: tuple[str, ...] = ()
    auth_mode: Literal["oidc", "access_keys"]
    oidc_provider_arn: str | None
    pipeline_role: Literal["service_catalog", "per_project"]
    shared_pipeline_role_arn: str
    seed_files: Mapping[str, str] = field(default_factory=dict)
    template_updates_reach_project: bool = False
    allow_registered_approved: bool = False
    workflows_via_pull_request: bool = False
    stage_accounts: Mapping[str, StageAccountBase] = field(default_factory=dict)
    autoscaling_stages: frozenset[str] = frozenset()
    stage_deploys: tuple[tuple[str, StageDeploy], ...] = ()
    permissions_boundary_arn: str | None = None
    pin_build_workflow: bool = False


def build_job_workflow_ref(props: MlopsProjectProps) -> str | None:
    """The ``job_workflow_ref`` claim of the committed build workflow on the project's branch
    (``OWNER/REPO/.github/workflows/build-<env>.yml@refs/heads/BRANCH``), when pinned."""
    if not props.pin_build_workflow:
        return None
    repo = f"{props.github_owner}/{props.github_repository}"
    build = workflow_paths(props.environment_name)["build"]
    return f"{repo}/{build}@refs/heads/{props.branch}"


class MlopsProject(Construct):
    """Attributes: ``connection``, ``sagemaker_project`` (or ``None``), ``pipeline_role_arn``,
    ``identity``, ``settings``, ``files``, ``environments``, ``workflow_params``."""

    def __init__(self, scope: Construct, id_: str, props: MlopsProjectProps) -> None:
        super().__init__(scope, id_)
        self.connection = CodeConnection(
            self,
            "code-connection",
            CodeConnectionProps(
                project_name=props.project_name,
                existing_arn=props.code_connection_arn,
                existing_unique_id=props.code_connection_id,
                region=props.context.region,
            ),
        )
        self.sagemaker_project: SageMakerProject | None = self._sagemaker_project(props)
        project_id = self.sagemaker_project.project_id if self.sagemaker_project else None
        self.pipeline_role_arn: str = props.shared_pipeline_role_arn
        if props.pipeline_role == "per_project":
            self.pipeline_role_arn = PipelineRole(
                self,
                "pipeline-role",
                PipelineRoleProps(
                    context=props.context,
                    environment_name=props.environment_name,
                    project_name=props.project_name,
                    project_id=project_id,
                    allow_registered_approved=props.allow_registered_approved,
                    permissions_boundary_arn=props.permissions_boundary_arn,
                ),
            ).role_arn
        # Every GitHub object is scoped to this toolkit environment, so a repository deployed by
        # several stacks (dev from main, prod from release) has one owner per object.
        production = github_environment(props.environment_name, PRODUCTION_STAGE)
        staging = (
            github_environment(props.environment_name, STAGING_STAGE)
            if props.staging_environment
            else None
        )
        self.identity = ActionsIdentity(
            self,
            "actions-identity",
            ActionsIdentityProps(
                context=props.context,
                environment_name=props.environment_name,
                project_name=props.project_name,
                project_id=project_id,
                github_owner=props.github_owner,
                github_repository=props.github_repository,
                branch=props.branch,
                production_environment=production,
                staging_environment=staging,
                auth_mode=props.auth_mode,
                oidc_provider_arn=props.oidc_provider_arn,
                pipeline_role_arn=self.pipeline_role_arn,
                remote_stages=frozenset(props.stage_accounts),
                autoscaling_stages=props.autoscaling_stages,
                permissions_boundary_arn=props.permissions_boundary_arn,
                build_job_workflow_ref=build_job_workflow_ref(props),
            ),
        )
        self.stage_identities = self._stage_identities(
            props, project_id, {STAGING_STAGE: staging, PRODUCTION_STAGE: production}
        )
        self._github_side(props, production=production, staging=staging)
        self._outputs(project_id)

    def _sagemaker_project(self, props: MlopsProjectProps) -> SageMakerProject | None:
        if props.catalog is None:
            return None
        return SageMakerProject(
            self,
            "sagemaker-project",
            SageMakerProjectProps(
                project_name=props.project_name,
                product_id=props.catalog.product_id,
                provisioning_artifact_id=props.catalog.provisioning_artifact_id,
                description=f"Built and deployed by GitHub Actions in "
                f"{props.github_owner}/{props.github_repository}",
                parameters={
                    "CodeRepositoryName": props.github_repository,
                    "GitHubRepositoryOwnerName": props.github_owner,
                    "CodestarConnectionUniqueId": self.connection.unique_id,
                    "GitHubTokenSecretName": props.token_secret_name,
                    "GitHubWorkflowNameForDeployment": PurePosixPath(
                        workflow_paths(props.environment_name)["deploy"]
                    ).name,
                    "GitHubRepositoryBranch": props.branch,
                },
                depends_on=props.catalog.depends_on,
                template_updates=props.template_updates_reach_project,
            ),
        )

    def _github_side(
        self, props: MlopsProjectProps, *, production: str, staging: str | None
    ) -> None:
        """Actions variables/secrets, the workflow and seed files, the deploy environments."""
        prefix = build_settings_prefix(props.environment_name)
        credentials = actions_credentials(
            self.identity,
            auth_mode=props.auth_mode,
            pipeline_role_arn=self.pipeline_role_arn,
            prefix=prefix,
            staging=staging is not None,
        )
        credentials.stage_variables.update(self._remote_stage_variables(props))
        self.settings = RepositorySettings(
            self,
            "repository-settings",
            RepositorySettingsProps(
                provider=props.github_provider,
                repository=props.github_repository,
                variables=credentials.build_variables,
            ),
        )
        build_environment = self._build_environment(props, credentials.build_environment_secrets)
        self.workflow_params = WorkflowParams(
            environment_name=props.environment_name,
            aws_region=props.region,
            sagemaker_project_name=props.project_name,
            branch=props.branch,
            auth_mode=props.auth_mode,
            staging_environment=staging,
            production_environment=production,
            build_settings_prefix=prefix,
            stage_deploys=props.stage_deploys,
            build_environment=build_environment,
        )
        paths = workflow_paths(props.environment_name)
        self.files = RepositoryFiles(
            self,
            "repository-files",
            RepositoryFilesProps(
                provider=props.github_provider,
                repository=props.github_repository,
                branch=props.branch,
                managed={
                    paths["build"]: render_build_workflow(self.workflow_params),
                    paths["deploy"]: render_deploy_workflow(self.workflow_params),
                },
                seeded=dict(props.seed_files),
                managed_via_pull_request=props.workflows_via_pull_request,
            ),
        )
        self.environments = DeployEnvironments(
            self,
            "deploy-environments",
            DeployEnvironmentsProps(
                provider=props.github_provider,
                repository=props.github_repository,
                branch=props.branch,
                production_environment=production,
                staging_environment=staging,
                reviewer_users=props.reviewer_users,
                reviewer_teams=props.reviewer_teams,
                production_variables=credentials.stage_variables[PRODUCTION_STAGE],
                production_secrets=credentials.stage_secrets[PRODUCTION_STAGE],
                staging_variables=credentials.stage_variables[STAGING_STAGE],
                staging_secrets=credentials.stage_secrets[STAGING_STAGE],
            ),
        )

    def _build_environment(self, props: MlopsProjectProps, secrets: dict[str, str]) -> str | None:
        """The build job's GitHub environment holding its access key (``access_keys`` only),
        deployable from the project's branch alone; its name, or ``None`` (``oidc``)."""
        if not secrets:
            return None
        return BuildEnvironment(
            self,
            "build-environment",
            BuildEnvironmentProps(
                provider=props.github_provider,
                repository=props.github_repository,
                branch=props.branch,
                environment=github_environment(props.environment_name, BUILD_STAGE),
                secrets=secrets,
            ),
        ).environment_name

    def _outputs(self, project_id: str | None) -> None:
        outputs: dict[str, str] = {"pipeline-role-arn": self.pipeline_role_arn}
        if project_id is not None:
            outputs["sagemaker-project-id"] = project_id
        if self.identity.build_role_arn is not None:
            outputs["build-role-arn"] = self.identity.build_role_arn
        for stage, arn in self.identity.deploy_role_arns.items():
            outputs[f"{stage}-deploy-role-arn"] = arn
        for stage, remote in self.stage_identities.items():
            outputs[f"{stage}-deploy-role-arn"] = remote.deploy_role_arn
            outputs[f"{stage}-model-role-arn"] = remote.model_role_arn
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)

    def _stage_identities(
        self,
        props: MlopsProjectProps,
        project_id: str | None,
        environments: Mapping[str, str | None],
    ) -> dict[str, StageDeployIdentity]:
        """Stages in other accounts: the deploy job's role and the model's role live there."""
        identities: dict[str, StageDeployIdentity] = {}
        for stage, account in props.stage_accounts.items():
            environment = environments[stage]
            if environment is None:
                continue  # the project has no staging stage
            identities[stage] = StageDeployIdentity(
                self,
                f"{stage}-account-identity",
                StageDeployIdentityProps(
                    provider=account.provider,
                    stage_context=account.context,
                    home_context=props.context,
                    environment_name=props.environment_name,
                    project_name=props.project_name,
                    project_id=project_id,
                    stage=stage,
                    github_owner=props.github_owner,
                    github_repository=props.github_repository,
                    github_environment=environment,
                    oidc_provider_arn=account.oidc.provider_arn,
                    capture_bucket_arn=account.capture_bucket_arn,
                    autoscaling=stage in props.autoscaling_stages,
                ),
            )
        return identities

    def _remote_stage_variables(self, props: MlopsProjectProps) -> dict[str, dict[str, str]]:
        """Environment-scoped variables of the stages deployed in other accounts."""
        variables: dict[str, dict[str, str]] = {}
        for stage, remote in self.stage_identities.items():
            variables[stage] = {
                "AWS_DEPLOY_ROLE_ARN": remote.deploy_role_arn,
                "SAGEMAKER_PIPELINE_ROLE_ARN": remote.model_role_arn,
            }
            bucket = props.stage_accounts[stage].capture_bucket_name
            if bucket is not None:
                variables[stage]["DATA_CAPTURE_BUCKET"] = bucket
        return variables
