"""The shared trigger function: approved model package -> deploy workflow dispatched.

One function per environment (the product template points every project's EventBridge rule at
it by name). Around it: the PyGithub layer, a least-privilege role, a log group with
retention, an idempotency table, and asynchronous invocation with bounded retries whose
failures land in an encrypted SQS queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
)
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from modules.core.naming import bounded, iam_name
from modules.core.policy import Statement, policy_document


@dataclass(frozen=True, kw_only=True)
class ZipArtifact:
    """A zip built by ``layer_build`` and its digests (``base64_sha256`` drives
    ``source_code_hash``)."""

    path: Path
    base64_sha256: str


@dataclass(frozen=True, kw_only=True)
class TriggerFunctionProps:
    """Props of :class:`TriggerFunction`.

    Attributes:
        environment_name: part of IAM names (account-wide).
        function_name: must start with ``sagemaker-`` (the launch role adds permissions to it).
        runtime / architecture: e.g. ``python3.12`` / ``arm64``.
        function_zip / layer_zip: deterministic zips (see ``layer_build``).
        token_secret_arns: secrets the function may read.
        log_retention_days: CloudWatch Logs retention.
        reserved_concurrency: concurrent executions reserved for (and capping) the function.
            ``None``: unreserved (shares the account pool; AWS keeps 10 unreserved, so an
            account whose quota is 10 cannot reserve any).
        event_rule_arn_pattern: the EventBridge rules that may invoke the function, as one
            ``ArnLike`` pattern (the product template names its rules to match it), with
            ``event_rule_account`` as the source account. Default: no rule may invoke it.
        github_api_url: GitHub API base URL. Default: ``https://api.github.com`` (set another for
            GitHub Enterprise Server).
        max_retry_attempts: async retries (0-2). Default: 2.
        max_event_age_seconds: how long Lambda keeps retrying an event. Default: 1 hour.
        timeout_seconds: function timeout. Default: 30 s (the idempotency lease is 60 s).
        idempotency_ttl_seconds: how long a dispatch is remembered. Default: 1 day.
    """

    environment_name: str
    function_name: str
    runtime: str
    architecture: str
    function_zip: ZipArtifact
    layer_zip: ZipArtifact
    token_secret_arns: tuple[str, ...]
    log_retention_days: int
    reserved_concurrency: int | None
    event_rule_arn_pattern: str | None = None
    event_rule_account: str | None = None
    github_api_url: str = "https://api.github.com"
    max_retry_attempts: int = 2
    max_event_age_seconds: int = 3600
    timeout_seconds: int = 30
    idempotency_ttl_seconds: int = 86400


class TriggerFunction(Construct):
    """Attributes: ``function_name``, ``function_arn``, ``role_arn``, ``layer_version_arn``,
    ``failure_queue_arn``, ``failure_queue_url``, ``idempotency_table_name``,
    ``log_group_name``."""

    def __init__(self, scope: Construct, id_: str, props: TriggerFunctionProps) -> None:
        super().__init__(scope, id_)
        if not props.function_name.startswith("sagemaker-"):
            raise ValueError(
                f"{self.node.path}: function_name {props.function_name!r} must start with "
                "'sagemaker-' (the Service Catalog launch role may only change such functions)"
            )
        if not 0 <= props.max_retry_attempts <= 2:
            raise ValueError(f"{self.node.path}: max_retry_attempts must be 0, 1 or 2")
        if props.timeout_seconds >= 60:
            raise ValueError(
                f"{self.node.path}: timeout_seconds must stay below the 60 s idempotency lease"
            )
        name = props.function_name

        log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=f"/aws/lambda/{name}",
            retention_in_days=props.log_retention_days,
        )
        queue = SqsQueue(
            self,
            "failures",
            name=bounded(name, "failures", max_length=80),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=1209600,
        )
        table = DynamodbTable(
            self,
            "dispatches",
            name=bounded(name, "dispatches", max_length=255),
            billing_mode="PAY_PER_REQUEST",
            hash_key="model_package_arn",
            attribute=[{"name": "model_package_arn", "type": "S"}],
            ttl={"attribute_name": "expires_at", "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
        )

        trust = policy_document(
            self,
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
            self,
            "role",
            name=iam_name(props.environment_name, "trigger", "lambda"),
            description=f"Runs {name}: dispatches the deploy workflow of approved models",
            assume_role_policy=trust,
        )
        IamRolePolicy(
            self,
            "permissions",
            name="trigger-permissions",
            role=role.id,
            policy=policy_document(
                self,
                "permissions-document",
                [
                    Statement(
                        sid="Logs",
                        actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                        resources=(f"{log_group.arn}:*",),
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
                        resources=(table.arn,),
                    ),
                    Statement(
                        sid="FailureDestination",
                        actions=("sqs:SendMessage",),
                        resources=(queue.arn,),
                    ),
                    Statement(
                        sid="Tracing",
                        actions=("xray:PutTelemetryRecords", "xray:PutTraceSegments"),
                        # X-Ray has no resource-level permissions for these actions.
                        resources=("*",),
                    ),
                ],
            ),
        )

        layer_asset = TerraformAsset(
            self, "layer-zip", path=str(props.layer_zip.path), type=AssetType.FILE
        )
        layer = LambdaLayerVersion(
            self,
            "layer",
            layer_name=bounded(
                "sagemaker-github-pygithub",
                props.runtime.replace(".", ""),
                props.architecture,
                max_length=64,
            ),
            description="PyGithub for the SageMaker GitHub workflow trigger",
            filename=layer_asset.path,
            source_code_hash=props.layer_zip.base64_sha256,
            compatible_runtimes=[props.runtime],
            compatible_architectures=[props.architecture],
        )
        function_asset = TerraformAsset(
            self, "function-zip", path=str(props.function_zip.path), type=AssetType.FILE
        )
        function = LambdaFunction(
            self,
            "function",
            function_name=name,
            description="Dispatches the GitHub deploy workflow when a SageMaker model package "
            "is approved",
            role=role.arn,
            handler="handler.handler",
            runtime=props.runtime,
            architectures=[props.architecture],
            filename=function_asset.path,
            source_code_hash=props.function_zip.base64_sha256,
            layers=[layer.arn],
            memory_size=256,
            timeout=props.timeout_seconds,
            reserved_concurrent_executions=props.reserved_concurrency,
            tracing_config={"mode": "Active"},
            # The handler prints its own one-line JSON records (lambda_src/github_trigger/logs.py).
            logging_config={"log_format": "Text", "log_group": log_group.name},
            environment={
                "variables": {
                    "GITHUB_API_URL": props.github_api_url,
                    "IDEMPOTENCY_TABLE_NAME": table.name,
                    "IDEMPOTENCY_TTL_SECONDS": str(props.idempotency_ttl_seconds),
                    "GITHUB_TIMEOUT_SECONDS": "10",
                    "TOKEN_CACHE_SECONDS": "300",
                    "LOG_LEVEL": "INFO",
                }
            },
            depends_on=[log_group],
        )
        LambdaFunctionEventInvokeConfig(
            self,
            "async",
            function_name=function.function_name,
            maximum_retry_attempts=props.max_retry_attempts,
            maximum_event_age_in_seconds=props.max_event_age_seconds,
            destination_config={"on_failure": {"destination": queue.arn}},
        )
        if props.event_rule_arn_pattern is not None:
            # One statement for every project's rule, instead of one per project added by the
            # product template: the resource policy stays ~400 bytes whatever the number of
            # projects (its limit is 20 KB), and it follows the function when it is replaced.
            # Lambda stores SourceArn as the condition ArnLike AWS:SourceArn (IAM condition
            # operators: '*' matches any characters), so the pattern admits exactly the rules
            # named with the toolkit's prefix; SourceAccount pins the account. A rule on a
            # custom event bus (rule/<bus>/<name>) matches only if the bus itself is named
            # with the toolkit's prefix.
            LambdaPermission(
                self,
                "invoke-from-rules",
                statement_id="ProjectModelApprovedRules",
                action="lambda:InvokeFunction",
                function_name=function.function_name,
                principal="events.amazonaws.com",
                source_arn=props.event_rule_arn_pattern,
                source_account=props.event_rule_account,
            )
        self.function_name: str = function.function_name
        self.function_arn: str = function.arn
        self.role_arn: str = role.arn
        self.layer_version_arn: str = layer.arn
        self.failure_queue_arn: str = queue.arn
        self.failure_queue_url: str = queue.url
        self.idempotency_table_name: str = table.name
        self.log_group_name: str = log_group.name
