"""The shared trigger function: approved model package -> deploy workflow dispatched.

One function per environment (the product template points every project's EventBridge rule at
it by name). Around it: the PyGithub layer, a least-privilege role, a log group with
retention, an idempotency table, asynchronous invocation with bounded retries whose
failures land in an encrypted SQS queue, and alarms on that queue and on function errors.

The function timeout and ``GITHUB_TIMEOUT_SECONDS`` come from the function's own time budget
(``lambda_src/github_trigger/budget.py``), and ``ALLOWED_TARGETS`` from its own encoder
(``lambda_src/github_trigger/allowlist.py``): both are plain Python with no dependencies, so the
plan and the function derive the same numbers from the same code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
)
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from modules.core.aws_facts import LAMBDA_ENVIRONMENT_LIMIT_BYTES
from modules.core.config.base import EMAIL_RE, SNS_TOPIC_ARN_RE
from modules.core.naming import bounded, iam_name
from modules.core.policy import Statement, policy_document

# The function's own time budget and allowlist encoder, imported under the names the function
# uses (lambda_src/ is its zip root): one module each, one identity for mypy, no copy.
_LAMBDA_SRC = str(Path(__file__).resolve().parents[2] / "lambda_src")
if _LAMBDA_SRC not in sys.path:
    sys.path.append(_LAMBDA_SRC)

from github_trigger.allowlist import DispatchTarget, encode_allowed_targets  # noqa: E402
from github_trigger.budget import (  # noqa: E402
    DEFAULT_GITHUB_TIMEOUT_SECONDS,
    TimeBudget,
    derive_budget,
)
from github_trigger.ledger_schema import HASH_KEY, TTL_ATTRIBUTE  # noqa: E402

__all__ = ["DispatchTarget", "TriggerFunction", "TriggerFunctionProps", "ZipArtifact"]


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
            ``None``: unreserved (shares the account pool; Lambda keeps
            ``LAMBDA_UNRESERVED_MINIMUM`` (100) unreserved, so an account whose quota is 100 or
            less, e.g. a new account's 10, cannot reserve any).
        event_rule_arn_pattern: the EventBridge rules that may invoke the function, as one
            ``ArnLike`` pattern (the product template names its rules to match it), with
            ``event_rule_account`` as the source account. Default: no rule may invoke it.
        github_api_url: GitHub API base URL. Default: ``https://api.github.com`` (set another for
            GitHub Enterprise Server).
        max_retry_attempts: async retries (0-2). Default: 2.
        max_event_age_seconds: how long Lambda keeps retrying an event. Default: 1 hour.
        github_timeout_seconds: read timeout of each GitHub request (1-30); the function
            timeout, the claim lease and the AWS client timeouts derive from it
            (``lambda_src/github_trigger/budget.py``). Default: 5 s, which gives a 65 s
            function timeout and a 95 s claim lease.
        idempotency_ttl_seconds: how long an approval's outcome is remembered. Default: 1 day.
        allowed_targets: the (owner, repository, workflow, ref) the function may dispatch; an
            event naming anything else is ignored (reason ``not-configured``). Default: none, so
            nothing is dispatched (fail closed: the Studio user who provisions a project
            chooses what the event names).
        alarm_topic_arn: an existing SNS topic notified when an alarm fires. Default: no topic
            (the alarms still show in the CloudWatch console).
        alarm_emails: addresses subscribed to a topic this construct creates for the alarms
            (each must confirm the subscription). Default: no topic, no subscription.
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
    github_timeout_seconds: int = DEFAULT_GITHUB_TIMEOUT_SECONDS
    idempotency_ttl_seconds: int = 86400
    allowed_targets: tuple[DispatchTarget, ...] = ()
    alarm_topic_arn: str | None = None
    alarm_emails: tuple[str, ...] = ()


class TriggerFunction(Construct):
    """Attributes: ``function_name``, ``function_arn``, ``role_arn``, ``layer_version_arn``,
    ``failure_queue_arn``, ``failure_queue_url``, ``idempotency_table_name``,
    ``log_group_name``, ``failure_alarm_arn``, ``error_alarm_arn``, ``alarm_topic_arns`` and
    ``time_budget`` (the derived timeouts)."""

    def __init__(self, scope: Construct, id_: str, props: TriggerFunctionProps) -> None:
        super().__init__(scope, id_)
        budget = _validate(self.node.path, props)
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
            name=bounded(name, "dispatches", max_length=255),  # = table_name below
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            attribute=[{"name": HASH_KEY, "type": "S"}],
            ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
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
        table_name = bounded(name, "dispatches", max_length=255)
        variables = {
            "GITHUB_API_URL": props.github_api_url,
            "IDEMPOTENCY_TABLE_NAME": table_name,
            "IDEMPOTENCY_TTL_SECONDS": str(props.idempotency_ttl_seconds),
            "GITHUB_TIMEOUT_SECONDS": str(budget.github_read_timeout_seconds),
            "TOKEN_CACHE_SECONDS": "300",
            "LOG_LEVEL": "INFO",
            "ALLOWED_TARGETS": encode_allowed_targets(props.allowed_targets),
        }
        size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
        if size > LAMBDA_ENVIRONMENT_LIMIT_BYTES:
            raise ValueError(
                f"{self.node.path}: the function's environment would take {size} bytes, over "
                f"Lambda's {LAMBDA_ENVIRONMENT_LIMIT_BYTES}; allowed_targets holds "
                f"{len(props.allowed_targets)} targets (17 bytes each)"
            )
        variables["IDEMPOTENCY_TABLE_NAME"] = table.name
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
            timeout=budget.function_timeout_seconds,
            reserved_concurrent_executions=props.reserved_concurrency,
            tracing_config={"mode": "Active"},
            # The handler prints its own one-line JSON records (lambda_src/github_trigger/logs.py).
            logging_config={"log_format": "Text", "log_group": log_group.name},
            environment={"variables": variables},
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
        topic_arns, failure_alarm, error_alarm = self._alarms(
            props, queue_name=queue.name, function_name=function.function_name
        )
        self.time_budget: TimeBudget = budget
        self.failure_alarm_arn: str = failure_alarm.arn
        self.error_alarm_arn: str = error_alarm.arn
        self.alarm_topic_arns: tuple[str, ...] = tuple(topic_arns)
        self.function_name: str = function.function_name
        self.function_arn: str = function.arn
        self.role_arn: str = role.arn
        self.layer_version_arn: str = layer.arn
        self.failure_queue_arn: str = queue.arn
        self.failure_queue_url: str = queue.url
        self.idempotency_table_name: str = table.name
        self.log_group_name: str = log_group.name

    def _alarms(
        self, props: TriggerFunctionProps, *, queue_name: str, function_name: str
    ) -> tuple[list[str], CloudwatchMetricAlarm, CloudwatchMetricAlarm]:
        """Alarms on the failure queue and on function errors, and whom they notify."""
        topic_arns: list[str] = []
        if props.alarm_topic_arn is not None:
            topic_arns.append(props.alarm_topic_arn)
        if props.alarm_emails:
            # Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed
            # aws/sns key, and alarm notifications carry no secret (alarm name, metric, state).
            topic = SnsTopic(
                self,
                "alarm-topic",
                name=bounded(props.function_name, "alarms", max_length=256),
                display_name="SageMaker GitHub trigger alarms",
            )
            for index, email in enumerate(sorted(set(props.alarm_emails))):
                SnsTopicSubscription(
                    self,
                    f"alarm-email-{index}",
                    topic_arn=topic.arn,
                    protocol="email",
                    endpoint=email,
                )
            topic_arns.append(topic.arn)

        def alarm(
            id_: str, suffix: str, description: str, metric: tuple[str, str, str, str]
        ) -> CloudwatchMetricAlarm:
            namespace, metric_name, dimension, statistic = metric
            return CloudwatchMetricAlarm(
                self,
                id_,
                alarm_name=bounded(props.function_name, suffix, max_length=255),
                alarm_description=description,
                namespace=namespace,
                metric_name=metric_name,
                dimensions={"QueueName" if namespace == "AWS/SQS" else "FunctionName": dimension},
                statistic=statistic,
                period=300,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=topic_arns,
                ok_actions=topic_arns,
            )

        failure_alarm = alarm(
            "failures-alarm",
            "failed-events",
            f"Approvals that {props.function_name} could not dispatch are waiting in the "
            "failure queue: read the message and the function's log lines with outcome failed",
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue_name, "Maximum"),
        )
        error_alarm = alarm(
            "errors-alarm",
            "errors",
            f"{props.function_name} raised errors (Lambda retries them; see the log lines "
            "with outcome retry or failed)",
            ("AWS/Lambda", "Errors", function_name, "Sum"),
        )
        return topic_arns, failure_alarm, error_alarm


def _validate(path: str, props: TriggerFunctionProps) -> TimeBudget:
    """Fail early, naming the construct path and the prop; return the derived time budget."""
    if not props.function_name.startswith("sagemaker-"):
        raise ValueError(
            f"{path}: function_name {props.function_name!r} must start with "
            "'sagemaker-' (the Service Catalog launch role may only change such functions)"
        )
    if not 0 <= props.max_retry_attempts <= 2:
        raise ValueError(f"{path}: max_retry_attempts must be 0, 1 or 2")
    try:
        budget: TimeBudget = derive_budget(props.github_timeout_seconds)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    for email in props.alarm_emails:
        if not EMAIL_RE.fullmatch(email):
            raise ValueError(f"{path}: alarm_emails must hold email addresses, got {email!r}")
    if props.alarm_topic_arn is not None and not SNS_TOPIC_ARN_RE.fullmatch(props.alarm_topic_arn):
        raise ValueError(
            f"{path}: alarm_topic_arn must be an SNS topic ARN, got {props.alarm_topic_arn!r}"
        )
    return budget
