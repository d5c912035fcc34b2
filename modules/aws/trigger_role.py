"""The trigger function's execution role: logs, its token secrets, its table and queue, X-Ray.

A child of :class:`~modules.aws.trigger_function.TriggerFunction` that creates its resources in
the parent's scope (``scope`` is the trigger construct), so their addresses stay those of the
trigger (see docs/architecture.md, "Child constructs").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.core.naming import iam_name
from modules.core.policy import Statement, policy_document


@dataclass(frozen=True, kw_only=True)
class TriggerRoleProps:
    """Attributes:
    environment_name: part of the role's (account-wide) IAM name.
    function_name: the function the role runs (in its description).
    log_group_arn / table_arn / queue_arn: the function's log group, idempotency table and
        failure queue, the only ones it may write to.
    token_secret_arns: the secrets it may read.
    permissions_boundary_arn: managed policy set as the role's permissions boundary. Default:
        none.
    """

    environment_name: str
    function_name: str
    log_group_arn: str
    table_arn: str
    queue_arn: str
    token_secret_arns: tuple[str, ...]
    permissions_boundary_arn: str | None = None


class TriggerRole:
    """Attributes: ``role_arn``."""

    def __init__(self, scope: Construct, props: TriggerRoleProps) -> None:
        trust = policy_document(
            scope,
            "trust",
            [
                Statement(
                    sid="LambdaService",
                    actions=("sts:AssumeRole",),
                    principals=(("Service", ("lambda.amazonaws.com",)),),
                )
            ],
        )
        role = IamRole(
            scope,
            "role",
            name=iam_name(props.environment_name, "trigger", "lambda"),
            description=f"Runs {props.function_name}: dispatches the deploy workflow of approved "
            "models",
            assume_role_policy=trust,
            permissions_boundary=props.permissions_boundary_arn,
        )
        IamRolePolicy(
            scope,
            "permissions",
            name="trigger-permissions",
            role=role.id,
            policy=policy_document(scope, "permissions-document", _statements(props)),
        )
        self.role_arn: str = role.arn


def _statements(props: TriggerRoleProps) -> list[Statement]:
    return [
        Statement(
            sid="Logs",
            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(f"{props.log_group_arn}:*",),
        ),
        Statement(
            sid="TokenSecret",
            actions=("secretsmanager:GetSecretValue",),
            resources=props.token_secret_arns,
        ),
        Statement(
            sid="Idempotency",
            actions=(
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ),
            resources=(props.table_arn,),
        ),
        Statement(
            sid="FailureDestination",
            actions=("sqs:SendMessage",),
            resources=(props.queue_arn,),
        ),
        Statement(
            sid="Tracing",
            actions=("xray:PutTelemetryRecords", "xray:PutTraceSegments"),
            # X-Ray has no resource-level permissions for these actions.
            resources=("*",),
        ),
    ]
