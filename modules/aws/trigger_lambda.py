"""The trigger's Lambda function itself: its layer (requests), code, environment, asynchronous
invocation (bounded retries, failures to the queue) and the permission for the project rules.

A child of :class:`~modules.aws.trigger_function.TriggerFunction` that creates its resources in
the parent's scope (``scope`` is the trigger construct), so their addresses stay those of the
trigger (see docs/architecture.md, "Child constructs").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, ITerraformDependable, TerraformAsset
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
)
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from modules.aws.trigger_contract import DispatchTarget, TimeBudget, encode_allowed_targets
from modules.core.naming import bounded

# Lambda's limit on the environment: all keys and values together.
LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096


@dataclass(frozen=True, kw_only=True)
class ZipArtifact:
    """A zip built by ``layer_build`` and its digests (``base64_sha256`` drives
    ``source_code_hash``)."""

    path: Path
    base64_sha256: str


@dataclass(frozen=True, kw_only=True)
class TriggerLambdaProps:
    """Attributes (see :class:`~modules.aws.trigger_function.TriggerFunctionProps` for the
    ones given by the user of the trigger):
    function_name, runtime, architecture, function_zip, layer_zip, reserved_concurrency,
    github_api_url, idempotency_ttl_seconds, allowed_targets, max_retry_attempts,
    max_event_age_seconds, event_rule_arn_pattern, event_rule_account,
    allow_registered_approved: as there.
    budget: the derived time budget (function timeout, GitHub read timeout).
    role_arn: the execution role.
    log_group_name: the function's log group (created before the function).
    table_name / table_name_literal: the idempotency table (a reference, and the literal name
        used to size the environment before apply).
    queue_arn: the failure destination.
    depends_on: resources the function waits for (its log group).
    """

    function_name: str
    runtime: str
    architecture: str
    function_zip: ZipArtifact
    layer_zip: ZipArtifact
    reserved_concurrency: int | None
    github_api_url: str
    idempotency_ttl_seconds: int
    allowed_targets: tuple[DispatchTarget, ...]
    allow_registered_approved: bool
    max_retry_attempts: int
    max_event_age_seconds: int
    event_rule_arn_pattern: str | None
    event_rule_account: str | None
    budget: TimeBudget
    role_arn: str
    log_group_name: str
    table_name: str
    table_name_literal: str
    queue_arn: str
    depends_on: tuple[ITerraformDependable, ...]


class TriggerLambda:
    """Attributes: ``function_name``, ``function_arn``, ``layer_version_arn``."""

    def __init__(self, scope: Construct, props: TriggerLambdaProps) -> None:
        layer_arn = _layer(scope, props)
        variables = environment_variables(scope.node.path, props)
        function_asset = TerraformAsset(
            scope, "function-zip", path=str(props.function_zip.path), type=AssetType.FILE
        )
        function = LambdaFunction(
            scope,
            "function",
            function_name=props.function_name,
            description="Dispatches the GitHub deploy workflow when a SageMaker model package "
            "is approved",
            role=props.role_arn,
            handler="handler.handler",
            runtime=props.runtime,
            architectures=[props.architecture],
            filename=function_asset.path,
            source_code_hash=props.function_zip.base64_sha256,
            layers=[layer_arn],
            memory_size=256,
            timeout=props.budget.function_timeout_seconds,
            reserved_concurrent_executions=props.reserved_concurrency,
            tracing_config={"mode": "Active"},
            # The handler prints its own one-line JSON records (lambda_src/github_trigger/logs.py).
            logging_config={"log_format": "Text", "log_group": props.log_group_name},
            environment={"variables": variables},
            depends_on=list(props.depends_on),
        )
        _invocation(scope, props, function.function_name)
        self.function_name: str = function.function_name
        self.function_arn: str = function.arn
        self.layer_version_arn: str = layer_arn


def _layer(scope: Construct, props: TriggerLambdaProps) -> str:
    layer_asset = TerraformAsset(
        scope, "layer-zip", path=str(props.layer_zip.path), type=AssetType.FILE
    )
    layer = LambdaLayerVersion(
        scope,
        "layer",
        layer_name=bounded(
            "sagemaker-github-requests",
            props.runtime.replace(".", ""),
            props.architecture,
            max_length=64,
        ),
        description="requests for the SageMaker GitHub workflow trigger",
        filename=layer_asset.path,
        source_code_hash=props.layer_zip.base64_sha256,
        compatible_runtimes=[props.runtime],
        compatible_architectures=[props.architecture],
    )
    return layer.arn


def environment_variables(path: str, props: TriggerLambdaProps) -> dict[str, str]:
    """The function's environment; fails (naming ``path``) when it exceeds Lambda's 4 KB."""
    variables = {
        "GITHUB_API_URL": props.github_api_url,
        "IDEMPOTENCY_TABLE_NAME": props.table_name_literal,
        "IDEMPOTENCY_TTL_SECONDS": str(props.idempotency_ttl_seconds),
        "GITHUB_TIMEOUT_SECONDS": str(props.budget.github_read_timeout_seconds),
        "TOKEN_CACHE_SECONDS": "300",
        "LOG_LEVEL": "INFO",
        "ALLOWED_TARGETS": encode_allowed_targets(props.allowed_targets),
        "ALLOW_REGISTERED_APPROVED": "true" if props.allow_registered_approved else "false",
    }
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > LAMBDA_ENVIRONMENT_LIMIT_BYTES:
        raise ValueError(
            f"{path}: the function's environment would take {size} bytes, over "
            f"Lambda's {LAMBDA_ENVIRONMENT_LIMIT_BYTES}; allowed_targets holds "
            f"{len(props.allowed_targets)} targets (17 bytes each)"
        )
    # Sized with the literal name; the function gets the reference (the table comes first).
    variables["IDEMPOTENCY_TABLE_NAME"] = props.table_name
    return variables


def _invocation(scope: Construct, props: TriggerLambdaProps, function_name: str) -> None:
    LambdaFunctionEventInvokeConfig(
        scope,
        "async",
        function_name=function_name,
        maximum_retry_attempts=props.max_retry_attempts,
        maximum_event_age_in_seconds=props.max_event_age_seconds,
        destination_config={"on_failure": {"destination": props.queue_arn}},
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
            scope,
            "invoke-from-rules",
            statement_id="ProjectModelApprovedRules",
            action="lambda:InvokeFunction",
            function_name=function_name,
            principal="events.amazonaws.com",
            source_arn=props.event_rule_arn_pattern,
            source_account=props.event_rule_account,
        )
