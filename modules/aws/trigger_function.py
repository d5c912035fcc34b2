"""The shared trigger function: approved model package -> deploy workflow dispatched.

One function per environment (the product template points every project's EventBridge rule at it
by name). Around it: the layer with `requests` (what the function imports), a least-privilege
role, a log group with retention, an idempotency table, asynchronous invocation with bounded
retries whose failures land in an encrypted SQS queue, and alarms on that queue and on function
errors.

The function timeout and ``GITHUB_TIMEOUT_SECONDS`` come from the function's own time budget
(``lambda_src/github_trigger/budget.py``), and ``ALLOWED_TARGETS`` from its own encoder
(``lambda_src/github_trigger/allowlist.py``): both are plain Python with no dependencies, so the
plan and the function derive the same numbers from the same code.

The parts are child constructs in their own files (``idempotency_table``, ``trigger_role``,
``trigger_lambda``, ``trigger_alarms``), each with its own props; they create their resources
in this construct's scope, so every resource address is the same as when it was one
constructor (docs/architecture.md, "Child constructs").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from modules.aws.idempotency_table import (
    IDEMPOTENCY_HASH_KEY,
    IdempotencyTable,
    IdempotencyTableProps,
)
from modules.aws.trigger_alarms import TriggerAlarms, TriggerAlarmsProps
from modules.aws.trigger_contract import (
    DEFAULT_GITHUB_TIMEOUT_SECONDS,
    DispatchTarget,
    TimeBudget,
    derive_budget,
)
from modules.aws.trigger_lambda import (
    LAMBDA_ENVIRONMENT_LIMIT_BYTES,
    TriggerLambda,
    TriggerLambdaProps,
    ZipArtifact,
)
from modules.aws.trigger_role import TriggerRole, TriggerRoleProps
from modules.core.config.base import EMAIL_RE, SNS_TOPIC_ARN_RE
from modules.core.naming import bounded

__all__ = [
    "IDEMPOTENCY_HASH_KEY",
    "LAMBDA_ENVIRONMENT_LIMIT_BYTES",
    "DispatchTarget",
    "TriggerFunction",
    "TriggerFunctionProps",
    "ZipArtifact",
]


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
        allow_registered_approved: whether a package registered already Approved (not by a
            person) dispatches too (``platform.auto_approve_staging``). Default: no.
        permissions_boundary_arn: managed policy set as the function role's permissions
            boundary. Default: none.
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
    allow_registered_approved: bool = False
    idempotency_ttl_seconds: int = 86400
    allowed_targets: tuple[DispatchTarget, ...] = ()
    alarm_topic_arn: str | None = None
    alarm_emails: tuple[str, ...] = ()
    permissions_boundary_arn: str | None = None


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
        table = IdempotencyTable(self, IdempotencyTableProps(function_name=name))
        role = TriggerRole(
            self,
            TriggerRoleProps(
                environment_name=props.environment_name,
                function_name=name,
                log_group_arn=log_group.arn,
                table_arn=table.arn,
                queue_arn=queue.arn,
                token_secret_arns=props.token_secret_arns,
                permissions_boundary_arn=props.permissions_boundary_arn,
            ),
        )
        function = TriggerLambda(
            self,
            _lambda_props(
                props, budget=budget, role=role, table=table, queue=queue, log_group=log_group
            ),
        )
        alarms = TriggerAlarms(
            self,
            TriggerAlarmsProps(
                function_name=name,
                queue_name=queue.name,
                function_name_ref=function.function_name,
                alarm_topic_arn=props.alarm_topic_arn,
                alarm_emails=props.alarm_emails,
            ),
        )
        self.time_budget: TimeBudget = budget
        self.failure_alarm_arn: str = alarms.failure_alarm_arn
        self.error_alarm_arn: str = alarms.error_alarm_arn
        self.alarm_topic_arns: tuple[str, ...] = alarms.topic_arns
        self.function_name: str = function.function_name
        self.function_arn: str = function.function_arn
        self.role_arn: str = role.role_arn
        self.layer_version_arn: str = function.layer_version_arn
        self.failure_queue_arn: str = queue.arn
        self.failure_queue_url: str = queue.url
        self.idempotency_table_name: str = table.name
        self.log_group_name: str = log_group.name


def _lambda_props(
    props: TriggerFunctionProps,
    *,
    budget: TimeBudget,
    role: TriggerRole,
    table: IdempotencyTable,
    queue: SqsQueue,
    log_group: CloudwatchLogGroup,
) -> TriggerLambdaProps:
    return TriggerLambdaProps(
        function_name=props.function_name,
        runtime=props.runtime,
        architecture=props.architecture,
        function_zip=props.function_zip,
        layer_zip=props.layer_zip,
        reserved_concurrency=props.reserved_concurrency,
        github_api_url=props.github_api_url,
        idempotency_ttl_seconds=props.idempotency_ttl_seconds,
        allowed_targets=props.allowed_targets,
        max_retry_attempts=props.max_retry_attempts,
        max_event_age_seconds=props.max_event_age_seconds,
        event_rule_arn_pattern=props.event_rule_arn_pattern,
        event_rule_account=props.event_rule_account,
        allow_registered_approved=props.allow_registered_approved,
        budget=budget,
        role_arn=role.role_arn,
        log_group_name=log_group.name,
        table_name=table.name,
        table_name_literal=table.table_name,
        queue_arn=queue.arn,
        depends_on=(log_group,),
    )


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
