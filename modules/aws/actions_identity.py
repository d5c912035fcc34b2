"""How one project's GitHub Actions reach AWS: OIDC roles (default) or an IAM user's key.

``oidc``: a build role (trusted by pushes to the configured branch) and a deploy role (trusted
by the deploy workflow's GitHub environments). The trust pins ``aud = sts.amazonaws.com`` and
the exact ``sub`` values, never a wildcard.

``access_keys``: the original guide's IAM user with the permissions of its
GithubActionsMLOpsExecutionPolicy, scoped to this project, and one access key. The secret key
is kept in Terraform state (unavoidable for ``aws_iam_access_key``): use an encrypted remote
backend.

In both modes every statement is scoped to the project's pipeline, model package group,
models, endpoints, bucket and stacks as far as SageMaker's resource types allow.
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

from modules.core.account_context import AccountContext
from modules.core.naming import GITHUB_OIDC_AUDIENCE, group_in_arn, iam_name, project_bucket
from modules.core.policy import Condition, Statement, policy_document

OIDC_HOST = "token.actions.githubusercontent.com"


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
        deploy_environments: GitHub environments of the deploy workflow's jobs (the deploy
            role trusts exactly these). When staging has no environment, its job's subject is
            the branch ref, so ``deploy_trusts_branch`` adds it.
        deploy_trusts_branch: whether the deploy role also trusts the branch ref subject.
        auth_mode: ``oidc`` or ``access_keys``.
        oidc_provider_arn: the GitHub OIDC provider (required with ``oidc``).
        pipeline_role_arn: execution role of the pipeline jobs and models (iam:PassRole target).
        max_session_seconds: role session limit. Default: 1 hour.
    """

    context: AccountContext
    environment_name: str
    project_name: str
    project_id: str | None = None
    github_owner: str
    github_repository: str
    branch: str
    deploy_environments: tuple[str, ...]
    deploy_trusts_branch: bool = False
    auth_mode: Literal["oidc", "access_keys"]
    oidc_provider_arn: str | None = None
    pipeline_role_arn: str
    max_session_seconds: int = 3600


class ActionsIdentity(Construct):
    """Attributes (``None`` where the mode has no such thing):
    ``build_role_arn``, ``deploy_role_arn`` (oidc); ``user_name``, ``access_key_id``,
    ``secret_access_key`` (access_keys; the last is a sensitive token)."""

    def __init__(self, scope: Construct, id_: str, props: ActionsIdentityProps) -> None:
        super().__init__(scope, id_)
        if props.auth_mode == "oidc" and not props.oidc_provider_arn:
            raise ValueError(f"{self.node.path}: auth_mode 'oidc' needs oidc_provider_arn")
        self.build_role_arn: str | None = None
        self.deploy_role_arn: str | None = None
        self.user_name: str | None = None
        self.access_key_id: str | None = None
        self.secret_access_key: str | None = None
        self._props = props
        repo = f"{props.github_owner}/{props.github_repository}"
        if props.auth_mode == "oidc":
            assert props.oidc_provider_arn is not None
            build_subjects = (f"repo:{repo}:ref:refs/heads/{props.branch}",)
            deploy_subjects = tuple(
                f"repo:{repo}:environment:{env}" for env in props.deploy_environments
            ) + (build_subjects if props.deploy_trusts_branch else ())
            self.build_role_arn = self._role(
                "build", build_subjects, self.build_statements(), props.oidc_provider_arn
            )
            self.deploy_role_arn = self._role(
                "deploy", deploy_subjects, self.deploy_statements(), props.oidc_provider_arn
            )
        else:
            user = IamUser(
                self,
                "user",
                name=iam_name(props.environment_name, props.project_name, "github-actions"),
                path="/github-actions/",
                force_destroy=True,
                tags={"sagemaker:project-name": props.project_name},
            )
            statements = [
                *self.build_statements(),
                *self.deploy_statements(),
                *self.stack_statements(),
            ]
            IamUserPolicy(
                self,
                "policy",
                name="GithubActionsMLOpsExecutionPolicy",
                user=user.name,
                policy=policy_document(self, "policy-document", _merge_sids(statements)),
            )
            key = IamAccessKey(self, "access-key", user=user.name)
            self.user_name = user.name
            self.access_key_id = key.id
            self.secret_access_key = key.secret

    # ------------------------------------------------------------------ roles

    def _role(
        self,
        purpose: str,
        subjects: tuple[str, ...],
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
                            variable=f"{OIDC_HOST}:aud",
                            values=(GITHUB_OIDC_AUDIENCE,),
                        ),
                        Condition(
                            test="StringEquals", variable=f"{OIDC_HOST}:sub", values=subjects
                        ),
                    ),
                )
            ],
        )
        role = IamRole(
            self,
            f"{purpose}-role",
            name=iam_name(p.environment_name, p.project_name, f"gha-{purpose}"),
            description=f"GitHub Actions {purpose} role of SageMaker project {p.project_name} "
            f"({p.github_owner}/{p.github_repository})",
            assume_role_policy=trust,
            max_session_duration=p.max_session_seconds,
            tags={"sagemaker:project-name": p.project_name},
        )
        IamRolePolicy(
            self,
            f"{purpose}-policy",
            name=f"{purpose}-permissions",
            role=role.id,
            policy=policy_document(self, f"{purpose}-permissions", statements),
        )
        return role.arn

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
                sid="ModelPackages",
                actions=("sagemaker:ListModelPackages",),
                # ListModelPackages has no resource-level permissions.
                resources=("*",),
            ),
            Statement(
                sid="ArtifactsBucket",
                actions=("s3:GetObject", "s3:ListBucket", "s3:PutObject"),
                resources=(bucket, f"{bucket}/*"),
            ),
            self._pass_role(),
        ]

    def deploy_statements(self) -> list[Statement]:
        """Deploy one approved package of the project's group to its endpoints."""
        name = self._props.project_name.lower()
        return [
            self._describe_project(),
            Statement(
                sid="ModelPackage",
                actions=("sagemaker:DescribeModelPackage",),
                resources=(self._sm(f"model-package/{self._group}/*"),),
            ),
            Statement(
                sid="Endpoints",
                actions=(
                    "sagemaker:AddTags",
                    "sagemaker:CreateEndpoint",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateModel",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DeleteModel",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeModel",
                    "sagemaker:InvokeEndpoint",
                    "sagemaker:ListTags",
                    "sagemaker:UpdateEndpoint",
                ),
                resources=(
                    self._sm(f"model/{name}-*"),
                    self._sm(f"endpoint-config/{name}-*"),
                    self._sm(f"endpoint/{name}-*"),
                ),
            ),
            self._pass_role(),
        ]

    def stack_statements(self) -> list[Statement]:
        """The original guide's CloudFormation permissions, on this project's stacks only."""
        name = self._props.project_name.lower()
        stacks = self._props.context.arn("cloudformation", f"stack/sagemaker-{name}-*/*")
        return [
            Statement(
                sid="CloudFormation",
                actions=(
                    "cloudformation:CreateStack",
                    "cloudformation:DeleteStack",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:DescribeStacks",
                    "cloudformation:UpdateStack",
                ),
                resources=(stacks,),
            )
        ]


def _merge_sids(statements: list[Statement]) -> list[Statement]:
    """Drop repeated statements (same sid) when build and deploy permissions are combined."""
    seen: dict[str, Statement] = {}
    for s in statements:
        seen.setdefault(s.sid, s)
    return list(seen.values())
