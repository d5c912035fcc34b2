"""A per-project execution role for the SageMaker pipeline's jobs and the deployed models,
with only what they need (the alternative is the account's shared
AmazonSageMakerServiceCatalogProductsUseRole)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.core.account_context import AccountContext
from modules.core.naming import group_in_arn, iam_name, project_bucket
from modules.core.policy import (
    APPROVED,
    MODEL_APPROVAL_STATUS_KEY,
    PENDING_MANUAL_APPROVAL,
    Condition,
    Statement,
    no_self_approval,
    policy_document,
)


@dataclass(frozen=True, kw_only=True)
class PipelineRoleProps:
    """Props of :class:`PipelineRole`.

    Attributes:
        context: partition/region/account tokens.
        environment_name / project_name: parts of the role name.
        project_id: the SageMaker project id (token) when known. Default: any id of the
            project's name (``p-*``).
        allow_registered_approved: whether the pipeline may register a package already
            ``Approved`` (``platform.auto_approve_staging``). Default: no, only
            ``PendingManualApproval``; a person approves.
        permissions_boundary_arn: managed policy set as the role's permissions boundary.
            Default: none.
    """

    context: AccountContext
    environment_name: str
    project_name: str
    project_id: str | None = None
    allow_registered_approved: bool = False
    permissions_boundary_arn: str | None = None


class PipelineRole(Construct):
    """Attributes: ``role_arn``, ``role_name``."""

    def __init__(self, scope: Construct, id_: str, props: PipelineRoleProps) -> None:
        super().__init__(scope, id_)
        ctx = props.context
        group = group_in_arn(props.project_name, props.project_id)
        bucket = f"arn:{ctx.partition}:s3:::{project_bucket(props.project_id)}"
        role = IamRole(
            self,
            "role",
            name=iam_name(props.environment_name, props.project_name, "pipeline"),
            description=f"SageMaker pipeline jobs and models of project {props.project_name}",
            tags={"sagemaker:project-name": props.project_name},
            permissions_boundary=props.permissions_boundary_arn,
            assume_role_policy=policy_document(
                self,
                "trust",
                [
                    Statement(
                        sid="SageMakerService",
                        actions=("sts:AssumeRole",),
                        principals=(("Service", ("sagemaker.amazonaws.com",)),),
                    )
                ],
            ),
        )
        statements = _statements(
            ctx,
            bucket=bucket,
            group=group,
            role_arn=role.arn,
            allow_registered_approved=props.allow_registered_approved,
        )
        IamRolePolicy(
            self,
            "permissions",
            name="pipeline-permissions",
            role=role.id,
            policy=policy_document(self, "permissions-document", statements),
        )
        self.role_arn: str = role.arn
        self.role_name: str = role.name


def _statements(
    ctx: AccountContext,
    *,
    bucket: str,
    group: str,
    role_arn: str,
    allow_registered_approved: bool,
) -> list[Statement]:
    return [
        *_runtime_statements(ctx, bucket),
        *_project_statements(ctx, group, role_arn),
        *_registration_statements(ctx, group, allow_registered_approved),
    ]


def _runtime_statements(ctx: AccountContext, bucket: str) -> list[Statement]:
    """What every job needs: the project's bucket, SageMaker images, logs and metrics."""
    sm = ctx.arn
    return [
        Statement(
            sid="ProjectBucket",
            actions=("s3:GetObject", "s3:ListBucket", "s3:PutObject"),
            resources=(bucket, f"{bucket}/*"),
        ),
        Statement(
            sid="PullSageMakerImages",
            actions=(
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ),
            # The built-in algorithm images live in AWS-owned registry accounts.
            resources=(f"arn:{ctx.partition}:ecr:{ctx.region}:*:repository/sagemaker-*",),
        ),
        Statement(
            sid="EcrToken",
            actions=("ecr:GetAuthorizationToken",),
            # GetAuthorizationToken has no resource-level permissions.
            resources=("*",),
        ),
        Statement(
            sid="Logs",
            actions=(
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ),
            resources=(sm("logs", "log-group:/aws/sagemaker/*"),),
        ),
        Statement(
            sid="Metrics",
            actions=("cloudwatch:PutMetricData",),
            resources=("*",),
            conditions=(
                Condition(
                    test="StringLike",
                    variable="cloudwatch:namespace",
                    values=("/aws/sagemaker/*",),
                ),
            ),
        ),
    ]


def _project_statements(ctx: AccountContext, group: str, role_arn: str) -> list[Statement]:
    """The project's own jobs and model packages, and passing itself to SageMaker."""
    sm = ctx.arn
    return [
        Statement(
            sid="PipelineJobs",
            actions=(
                "sagemaker:AddTags",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:StopTrainingJob",
            ),
            resources=(
                sm("sagemaker", "processing-job/pipelines-*"),
                sm("sagemaker", "training-job/pipelines-*"),
            ),
        ),
        Statement(
            sid="RegisterModel",
            actions=(
                "sagemaker:AddTags",
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
            ),
            resources=(
                sm("sagemaker", f"model-package-group/{group}"),
                sm("sagemaker", f"model-package/{group}/*"),
            ),
        ),
        Statement(
            sid="PassSelfToJobs",
            actions=("iam:PassRole",),
            resources=(role_arn,),
            conditions=(
                Condition(
                    test="StringEquals",
                    variable="iam:PassedToService",
                    values=("sagemaker.amazonaws.com",),
                ),
            ),
        ),
    ]


def _registration_statements(
    ctx: AccountContext, group: str, allow_registered_approved: bool
) -> list[Statement]:
    """Model packages are registered for a person to approve (sagemaker:ModelApprovalStatus,
    which AWS evaluates for CreateModelPackage and UpdateModelPackage), never approved here."""
    sm = ctx.arn
    return [
        Statement(
            sid="RegisterPendingModel",
            actions=("sagemaker:CreateModelPackage",),
            resources=(
                sm("sagemaker", f"model-package-group/{group}"),
                sm("sagemaker", f"model-package/{group}/*"),
            ),
            conditions=(
                Condition(
                    test="StringEquals",
                    variable=MODEL_APPROVAL_STATUS_KEY,
                    values=(
                        (PENDING_MANUAL_APPROVAL, APPROVED)
                        if allow_registered_approved
                        else (PENDING_MANUAL_APPROVAL,)
                    ),
                ),
            ),
        ),
        no_self_approval(allow_registered_approved=allow_registered_approved),
    ]
