"""How one project's GitHub Actions reach AWS: OIDC roles (default) or IAM users' keys.

Three identities per project, one per job kind, so credentials follow the approval gate:

* **build**: upserts and starts the project's pipeline; cannot deploy.
* **staging** deploy: deploys to the ``<name>-staging`` endpoint only; it cannot describe,
  update, create or delete the production endpoint, its configurations or models.
* **production** deploy: the ``<name>-production`` endpoint only.

``oidc``: one role each. The build role trusts pushes to the configured branch
(``repo:O/R:ref:refs/heads/B``); each deploy role trusts exactly its stage's GitHub environment
(``repo:O/R:environment:<env>``), with ``StringEquals`` on ``aud`` and ``sub``. No deploy role
is ever trusted by a branch: any job on the branch (the build, pipeline code) could otherwise
take it.

``access_keys``: the original guide's IAM user, split into one user per identity, each with
its own key (kept in Terraform state, unavoidable for ``aws_iam_access_key``: use an encrypted
remote backend). The GitHub side stores each deploy key only in its stage's environment.

Every statement is scoped to the project's pipeline, model package group, models, endpoints and
bucket with patterns that cannot match another valid project's names
(``modules/core/naming.py``: exact endpoint names, fixed-length ``?`` hashes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.iam_access_key import IamAccessKey
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_user import IamUser
from cdktf_cdktf_provider_aws.iam_user_policy import IamUserPolicy
from constructs import Construct

from modules.aws.stage_deploy_identity import autoscaling_statements
from modules.core.account_context import AccountContext
from modules.core.github_facts import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from modules.core.naming import (
    PRODUCTION_STAGE,
    STAGING_STAGE,
    endpoint_name,
    group_in_arn,
    iam_name,
    project_bucket,
    stage_resource_pattern,
)
from modules.core.policy import (
    ENDPOINT_DEPLOY_ACTIONS,
    Condition,
    Statement,
    no_self_approval,
    policy_document,
)


@dataclass(frozen=True, kw_only=True)
class AccessKey:
    """One IAM user's access key (``access_keys`` mode); ``secret_access_key`` is a
    sensitive token."""

    user_name: str
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True, kw_only=True)
class ActionsIdentityProps:
    """Props of :class:`ActionsIdentity`.

    Attributes:
        context: partition/region/account tokens for ARNs.
        environment_name: the toolkit environment (part of IAM names, which are account-wide).
        project_name: SageMaker project name.
        project_id: SageMaker project id (token) when the stack creates the project.
            Default: policies match any project id of this name (``<name>-p-*``).
        github_owner / github_repository / branch: the repository and its build branch.
        production_environment: GitHub environment of the production deploy job (the
            production role trusts exactly this one).
        staging_environment: GitHub environment of the staging deploy job. Default: no staging
            stage (no staging identity).
        auth_mode: ``oidc`` or ``access_keys``.
        oidc_provider_arn: the GitHub OIDC provider (required with ``oidc``).
        pipeline_role_arn: execution role of the pipeline jobs and models (iam:PassRole target).
        max_session_seconds: role session limit. Default: 1 hour.
        remote_stages: stages deployed in another account (``promotion``): their identity
            is a :class:`~modules.aws.stage_deploy_identity.StageDeployIdentity` there, none
            is made here. Default: none, every stage deploys in this account.
        autoscaling_stages: stages whose endpoint scales: their deploy identity may register
            it with Application Auto Scaling. Default: none.
        permissions_boundary_arn: managed policy set as the permissions boundary of every role
            and user. Default: none.
        build_job_workflow_ref: the only ``job_workflow_ref`` token claim the build role
            trusts (``OWNER/REPO/.github/workflows/FILE@REF``; ``oidc`` only). Default: any
            workflow on the branch.
    """

    context: AccountContext
    environment_name: str
    project_name: str
    project_id: str | None = None
    github_owner: str
    github_repository: str
    branch: str
    production_environment: str
    staging_environment: str | None = None
    auth_mode: Literal["oidc", "access_keys"]
    oidc_provider_arn: str | None = None
    pipeline_role_arn: str
    max_session_seconds: int = 3600
    remote_stages: frozenset[str] = frozenset()
    autoscaling_stages: frozenset[str] = frozenset()
    permissions_boundary_arn: str | None = None
    build_job_workflow_ref: str | None = None


class ActionsIdentity(Construct):
    """Attributes (empty / ``None`` where the mode or config has no such thing):
    ``build_role_arn``; ``deploy_role_arns`` (stage -> role ARN, oidc);
    ``build_key``; ``deploy_keys`` (stage -> :class:`AccessKey`, access_keys)."""

    def __init__(self, scope: Construct, id_: str, props: ActionsIdentityProps) -> None:
        super().__init__(scope, id_)
        if props.auth_mode == "oidc" and not props.oidc_provider_arn:
            raise ValueError(f"{self.node.path}: auth_mode 'oidc' needs oidc_provider_arn")
        if props.staging_environment == props.production_environment:
            raise ValueError(
                f"{self.node.path}: staging_environment must differ from production_environment "
                f"(both {props.production_environment!r}): the stages' credentials would mix"
            )
        self.build_role_arn: str | None = None
        self.deploy_role_arns: dict[str, str] = {}
        self.build_key: AccessKey | None = None
        self.deploy_keys: dict[str, AccessKey] = {}
        self._props = props
        repo = f"{props.github_owner}/{props.github_repository}"
        stages = {PRODUCTION_STAGE: props.production_environment}
        if props.staging_environment is not None:
            stages = {STAGING_STAGE: props.staging_environment, **stages}
        stages = {s: e for s, e in stages.items() if s not in props.remote_stages}
        if props.auth_mode == "oidc":
            assert props.oidc_provider_arn is not None
            self.build_role_arn = self._role(
                "build",
                f"repo:{repo}:ref:refs/heads/{props.branch}",
                self.build_statements(),
                props.oidc_provider_arn,
            )
            for stage, environment in stages.items():
                self.deploy_role_arns[stage] = self._role(
                    stage,
                    f"repo:{repo}:environment:{environment}",
                    self.deploy_statements(stage),
                    props.oidc_provider_arn,
                )
        else:
            self.build_key = self._user("build", self.build_statements())
            for stage in stages:
                self.deploy_keys[stage] = self._user(stage, self.deploy_statements(stage))

    def _user(self, purpose: str, statements: list[Statement]) -> AccessKey:
        p = self._props
        user = IamUser(
            self,
            f"{purpose}-user",
            name=iam_name(p.environment_name, p.project_name, f"gha-{purpose}"),
            path="/github-actions/",
            force_destroy=True,
            tags={"sagemaker:project-name": p.project_name},
            permissions_boundary=p.permissions_boundary_arn,
        )
        IamUserPolicy(
            self,
            f"{purpose}-user-policy",
            name=f"GithubActionsMLOps-{purpose}",
            user=user.name,
            policy=policy_document(self, f"{purpose}-user-permissions", statements),
        )
        key = IamAccessKey(self, f"{purpose}-access-key", user=user.name)
        return AccessKey(user_name=user.name, access_key_id=key.id, secret_access_key=key.secret)

    # ------------------------------------------------------------------ roles

    def _role(
        self,
        purpose: str,
        subject: str,
        statements: list[Statement],
        provider_arn: str,
    ) -> str:
        p = self._props
        trust = policy_document(
            self,
            f"{purpose}-trust",
            [
                Statement(
                    sid="GitHubActionsOidc",
                    actions=("sts:AssumeRoleWithWebIdentity",),
                    principals=(("Federated", (provider_arn,)),),
                    conditions=(
                        Condition(
                            test="StringEquals",
                            variable=f"{GITHUB_OIDC_HOST}:aud",
                            values=(GITHUB_OIDC_AUDIENCE,),
                        ),
                        Condition(
                            test="StringEquals",
                            variable=f"{GITHUB_OIDC_HOST}:sub",
                            values=(subject,),
                        ),
                        *self._workflow_pin(purpose),
                    ),
                )
            ],
        )
        role = IamRole(
            self,
            f"{purpose}-role",
            name=iam_name(p.environment_name, p.project_name, f"gha-{purpose}"),
            description=f"GitHub Actions {purpose} role of SageMaker project {p.project_name} "
            f"({p.github_owner}/{p.github_repository}); trusted only by {subject}",
            assume_role_policy=trust,
            max_session_duration=p.max_session_seconds,
            tags={"sagemaker:project-name": p.project_name},
            permissions_boundary=p.permissions_boundary_arn,
        )
        IamRolePolicy(
            self,
            f"{purpose}-policy",
            name=f"{purpose}-permissions",
            role=role.id,
            policy=policy_document(self, f"{purpose}-permissions", statements),
        )
        return role.arn

    def _workflow_pin(self, purpose: str) -> tuple[Condition, ...]:
        """The build role's optional ``job_workflow_ref`` condition: AWS STS validates this
        GitHub claim as the condition key ``token.actions.githubusercontent.com:
        job_workflow_ref`` (GitHub's OIDC reference: ``OWNER/REPO/.github/workflows/FILE@REF``
        of the workflow the job runs in), so only that file on that ref may assume the role."""
        ref = self._props.build_job_workflow_ref
        if purpose != "build" or ref is None:
            return ()
        return (
            Condition(
                test="StringEquals", variable=f"{GITHUB_OIDC_HOST}:job_workflow_ref", values=(ref,)
            ),
        )

    # ------------------------------------------------------------------ permissions

    def _sm(self, resource: str) -> str:
        return self._props.context.arn("sagemaker", resource)

    @property
    def _group(self) -> str:
        return group_in_arn(self._props.project_name, self._props.project_id)

    def _pass_role(self) -> Statement:
        return Statement(
            sid="PassPipelineRole",
            actions=("iam:PassRole",),
            resources=(self._props.pipeline_role_arn,),
            conditions=(
                Condition(
                    test="StringEquals",
                    variable="iam:PassedToService",
                    values=("sagemaker.amazonaws.com",),
                ),
            ),
        )

    def _describe_project(self) -> Statement:
        return Statement(
            sid="DescribeProject",
            actions=("sagemaker:DescribeProject",),
            resources=(self._sm(f"project/{self._props.project_name.lower()}"),),
        )

    def build_statements(self) -> list[Statement]:
        """Upsert, start and watch the project's pipeline; upload its code to the bucket."""
        p = self._props
        bucket = f"arn:{p.context.partition}:s3:::{project_bucket(p.project_id)}"
        return [
            self._describe_project(),
            Statement(
                sid="Pipeline",
                actions=(
                    "sagemaker:AddTags",
                    "sagemaker:CreatePipeline",
                    "sagemaker:DescribePipeline",
                    "sagemaker:ListTags",
                    "sagemaker:StartPipelineExecution",
                    "sagemaker:UpdatePipeline",
                ),
                resources=(self._sm(f"pipeline/{self._group}"),),
            ),
            Statement(
                sid="PipelineExecution",
                actions=(
                    "sagemaker:DescribePipelineExecution",
                    "sagemaker:ListPipelineExecutionSteps",
                    "sagemaker:StopPipelineExecution",
                ),
                resources=(self._sm(f"pipeline/{self._group}/execution/*"),),
            ),
            Statement(
                sid="ModelPackageGroup",
                # run_pipeline.ensure_model_package_group creates the group `<name>-<id>`
                # (tagged: SageMaker authorizes tags on create as sagemaker:AddTags)
                actions=(
                    "sagemaker:AddTags",
                    "sagemaker:CreateModelPackageGroup",
                    "sagemaker:DescribeModelPackageGroup",
                ),
                resources=(self._sm(f"model-package-group/{self._group}"),),
            ),
            Statement(
                sid="ListPipelinesAndPackages",
                # The build job finds its pipeline and group by listing (ListPipelines,
                # ListModelPackageGroups: no resource-level permissions in AWS's data) and
                # reads the packages it registered.
                actions=(
                    "sagemaker:ListModelPackageGroups",
                    "sagemaker:ListModelPackages",
                    "sagemaker:ListPipelines",
                ),
                resources=("*",),
            ),
            Statement(
                sid="ArtifactsBucket",
                actions=("s3:GetObject", "s3:ListBucket", "s3:PutObject"),
                resources=(bucket, f"{bucket}/*"),
            ),
            self._pass_role(),
            # the build's code never approves a model, whatever else it is granted
            no_self_approval(),
        ]

    def deploy_statements(self, stage: str) -> list[Statement]:
        """Deploy one approved package of the project's group to the stage's endpoint: its
        models and endpoint configurations (``<name>-<stage>-<hash>``) and the endpoint
        ``<name>-<stage>`` itself, nothing of the other stage."""
        endpoint = endpoint_name(self._props.project_name, stage).lower()
        versioned = stage_resource_pattern(self._props.project_name, stage)
        return [
            self._describe_project(),
            Statement(
                sid="ModelPackage",
                actions=("sagemaker:DescribeModelPackage",),
                resources=(self._sm(f"model-package/{self._group}/*"),),
            ),
            Statement(
                sid="Endpoints",
                actions=ENDPOINT_DEPLOY_ACTIONS,
                resources=(
                    self._sm(f"model/{versioned}"),
                    self._sm(f"endpoint-config/{versioned}"),
                    self._sm(f"endpoint/{endpoint}"),
                ),
            ),
            self._pass_role(),
            *(
                autoscaling_statements(self._props.context, endpoint)
                if stage in self._props.autoscaling_stages
                else ()
            ),
        ]
