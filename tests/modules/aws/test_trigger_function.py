"""The shared trigger function's Terraform resources."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformStack, Testing

from modules.aws.trigger_function import (
    DispatchTarget,
    TriggerFunction,
    TriggerFunctionProps,
    ZipArtifact,
)
from tests.conftest import Synth, data_sources, resources

Testing.__test__ = False  # type: ignore[attr-defined]


def one(stack: dict[str, Any], rtype: str) -> dict[str, Any]:
    (item,) = resources(stack, rtype).values()
    return item


def test_function_settings(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    fn = one(dev, "aws_lambda_function")
    assert fn["function_name"] == "sagemaker-github-workflow-trigger"
    assert fn["handler"] == "handler.handler"
    assert fn["runtime"] == "python3.12" and fn["architectures"] == ["arm64"]
    assert fn["tracing_config"] == {"mode": "Active"}
    # unreserved by default: an account whose concurrency quota is 10 cannot reserve any
    assert "reserved_concurrent_executions" not in fn
    # Derived from the function's own time budget (lambda_src/github_trigger/budget.py).
    assert fn["timeout"] == 65
    env = fn["environment"]["variables"]
    assert env["GITHUB_API_URL"] == "https://api.github.com"
    assert env["GITHUB_TIMEOUT_SECONDS"] == "5"
    assert "ALLOWED_TARGETS" in env
    assert env["IDEMPOTENCY_TABLE_NAME"].startswith("${aws_dynamodb_table.")
    prod_fn = one(example_synth.stack("prod"), "aws_lambda_function")
    assert prod_fn["runtime"] == "python3.13" and prod_fn["architectures"] == ["x86_64"]
    assert prod_fn["reserved_concurrent_executions"] == 5


def test_zips_are_assets_hashed_by_their_own_sha256(example_synth: Synth) -> None:
    for stack_name in ("dev", "prod"):
        stack = example_synth.stack(stack_name)
        fn = one(stack, "aws_lambda_function")
        layer = one(stack, "aws_lambda_layer_version")
        for resource in (fn, layer):
            path = example_synth.outdir / "stacks" / stack_name / resource["filename"]
            assert not resource["filename"].startswith("/")
            digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
            assert resource["source_code_hash"] == digest
        assert fn["layers"] == [
            "${aws_lambda_layer_version."
            + next(iter(resources(stack, "aws_lambda_layer_version")))
            + ".arn}"
        ]
        assert layer["compatible_runtimes"] == [fn["runtime"]]
        assert layer["compatible_architectures"] == fn["architectures"]


def test_async_invocation_bounded_with_failure_queue(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    invoke = one(dev, "aws_lambda_function_event_invoke_config")
    assert invoke["maximum_retry_attempts"] == 2
    assert invoke["maximum_event_age_in_seconds"] == 3600
    assert invoke["destination_config"]["on_failure"]["destination"].startswith("${aws_sqs_queue.")
    queue = one(dev, "aws_sqs_queue")
    assert queue["sqs_managed_sse_enabled"] is True


def test_log_group_retention_and_idempotency_table(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    logs = one(dev, "aws_cloudwatch_log_group")
    assert logs["name"] == "/aws/lambda/sagemaker-github-workflow-trigger"
    assert logs["retention_in_days"] == 30
    table = one(dev, "aws_dynamodb_table")
    assert table["hash_key"] == "idempotency_key"
    assert table["attribute"] == [{"name": "idempotency_key", "type": "S"}]
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["billing_mode"] == "PAY_PER_REQUEST"


def test_role_has_only_what_the_function_needs(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    policy = next(
        v for k, v in resources(dev, "aws_iam_role_policy").items() if k.startswith("trigger_")
    )
    ref = policy["policy"].split(".")[2]
    doc = data_sources(dev, "aws_iam_policy_document")[ref]
    actions = sorted(a for s in doc["statement"] for a in s["actions"])
    assert actions == sorted(
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "secretsmanager:GetSecretValue",
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "sqs:SendMessage",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ]
    )
    by_sid = {s["sid"]: s for s in doc["statement"]}
    assert by_sid["TokenSecret"]["resources"] == [
        "${aws_secretsmanager_secret.token-secret_secret_1E5CA5CA.arn}"
    ] or (by_sid["TokenSecret"]["resources"][0].startswith("${aws_secretsmanager_secret."))
    assert json.dumps(by_sid).count('"*"') == 1  # only X-Ray, which has no resource ARNs


def test_alarms_on_failure_queue_and_function_errors(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    alarms = {a["metric_name"]: a for a in resources(dev, "aws_cloudwatch_metric_alarm").values()}
    queue = alarms["ApproximateNumberOfMessagesVisible"]
    assert queue["namespace"] == "AWS/SQS"
    assert queue["dimensions"]["QueueName"].startswith("${aws_sqs_queue.")
    assert (queue["comparison_operator"], queue["threshold"]) == ("GreaterThanThreshold", 0)
    errors = alarms["Errors"]
    assert errors["namespace"] == "AWS/Lambda"
    assert errors["dimensions"]["FunctionName"].startswith("${aws_lambda_function.")
    assert (errors["statistic"], errors["threshold"]) == ("Sum", 0)
    # No topic configured (the stack does not pass one yet): alarms without actions.
    assert queue["alarm_actions"] == [] and errors["alarm_actions"] == []


# --- the construct alone -------------------------------------------------------------------------

_ZIP = ZipArtifact(path=Path(__file__), base64_sha256="x")


def _synth(**overrides: Any) -> dict[str, Any]:
    app: App = Testing.app()
    stack = TerraformStack(app, "test")
    props: dict[str, Any] = {
        "environment_name": "dev",
        "function_name": "sagemaker-trigger",
        "runtime": "python3.12",
        "architecture": "arm64",
        "function_zip": _ZIP,
        "layer_zip": _ZIP,
        "token_secret_arns": ("arn",),
        "log_retention_days": 30,
        "reserved_concurrency": 5,
    }
    props.update(overrides)
    TriggerFunction(stack, "trigger", TriggerFunctionProps(**props))
    synthesized: dict[str, Any] = json.loads(Testing.synth(stack))
    return synthesized


def _target(index: int) -> DispatchTarget:
    # Long, realistic names: 39-character owners, 60-character repositories.
    return DispatchTarget(
        owner=f"example-organisation-with-a-long-name-{index % 10}",
        repository=f"credit-risk-scoring-model-for-the-retail-bank-project-{index:04d}",
        workflow="deploy.yml",
        ref="main",
    )


def test_allowed_targets_reach_the_function_sorted_and_compact() -> None:
    targets = (
        DispatchTarget(owner="acme", repository="b", workflow="deploy.yml", ref="main"),
        DispatchTarget(owner="acme", repository="a", workflow="deploy.yml", ref="main"),
    )
    fn = one(_synth(allowed_targets=targets), "aws_lambda_function")
    env = fn["environment"]["variables"]
    digests = env["ALLOWED_TARGETS"].split(",")
    assert digests == sorted(t.digest() for t in targets)
    # Same list in another order: same bytes (deterministic synth).
    again = one(_synth(allowed_targets=targets[::-1]), "aws_lambda_function")
    assert again["environment"]["variables"]["ALLOWED_TARGETS"] == env["ALLOWED_TARGETS"]


def test_environment_fits_lambdas_limit_with_200_projects() -> None:
    targets = tuple(_target(i) for i in range(200))
    fn = one(_synth(allowed_targets=targets), "aws_lambda_function")
    env = fn["environment"]["variables"]
    env["IDEMPOTENCY_TABLE_NAME"] = "sagemaker-trigger-dispatches"  # a token in the JSON
    size = sum(len(k) + len(v) for k, v in env.items())
    # Lambda quotas: "Function environment variables: 4 KB" (all keys and values together)
    print(f"environment with 200 allowed targets: {size} of 4096 bytes")
    assert size <= 4096
    assert len(env["ALLOWED_TARGETS"].split(",")) == 200


def test_fails_on_more_targets_than_the_environment_holds() -> None:
    targets = tuple(_target(i) for i in range(300))
    with pytest.raises(ValueError, match=r"test/trigger: the function's environment would take"):
        _synth(allowed_targets=targets)


def test_timeout_and_lease_follow_the_github_timeout() -> None:
    fn = one(_synth(github_timeout_seconds=10), "aws_lambda_function")
    assert fn["environment"]["variables"]["GITHUB_TIMEOUT_SECONDS"] == "10"
    assert fn["timeout"] == 80  # 2 x 12 + 3 x (3 + 10) + 12 + 5 = 80 (AWS calls 12 s each)


def test_alarm_emails_get_a_topic_and_subscriptions() -> None:
    stack = _synth(
        alarm_emails=("ops@example.com", "ml@example.com"),
        alarm_topic_arn="arn:aws:sns:eu-west-1:111122223333:platform-alarms",
    )
    topic_ref = "${aws_sns_topic." + next(iter(resources(stack, "aws_sns_topic"))) + ".arn}"
    subscriptions = resources(stack, "aws_sns_topic_subscription").values()
    endpoints = sorted(s["endpoint"] for s in subscriptions)
    assert endpoints == ["ml@example.com", "ops@example.com"]
    for alarm in resources(stack, "aws_cloudwatch_metric_alarm").values():
        assert alarm["alarm_actions"] == [
            "arn:aws:sns:eu-west-1:111122223333:platform-alarms",
            topic_ref,
        ]


def test_one_permission_lets_every_project_rule_invoke_the_function(example_synth: Synth) -> None:
    for name in ("dev", "prod"):
        stack = example_synth.stack(name)
        fn_address = next(iter(resources(stack, "aws_lambda_function")))
        permission = one(stack, "aws_lambda_permission")
        assert permission["function_name"] == (
            "${aws_lambda_function." + fn_address + ".function_name}"
        )
        assert permission["principal"] == "events.amazonaws.com"
        assert permission["action"] == "lambda:InvokeFunction"
        assert permission["statement_id"] == "ProjectModelApprovedRules"
        assert re.fullmatch(
            r"\$\{data\.aws_caller_identity\.[^}]+\.account_id\}", permission["source_account"]
        )
        assert re.fullmatch(
            r"arn:\$\{data\.aws_partition\.[^}]+\.partition\}:events:"
            r"\$\{data\.aws_region\.[^}]+\.name\}:"
            r"\$\{data\.aws_caller_identity\.[^}]+\.account_id\}:"
            r"rule/sagemaker-github-mlops-\*",
            permission["source_arn"],
        )


def _concrete_pattern(example_synth: Synth) -> str:
    permission = one(example_synth.stack("dev"), "aws_lambda_permission")
    return re.sub(
        r"\$\{data\.aws_(partition|region|caller_identity)\.[^}]+\}",
        lambda m: {"partition": "aws", "region": "eu-west-1", "caller_identity": "111111111111"}[
            m.group(1)
        ],
        permission["source_arn"],
    )


def test_permission_pattern_matches_only_the_toolkit_rules(example_synth: Synth) -> None:
    """ArnLike semantics ('*' any characters): the toolkit's rules of this account and region
    match; other templates' sagemaker-* rules, other accounts and regions do not."""
    from modules.render.product_template import RULE_NAME_SUB  # noqa: PLC0415

    pattern = _concrete_pattern(example_synth)
    rule = RULE_NAME_SUB.replace("${SageMakerProjectId}", "p-abc123def456")
    base = "arn:aws:events:eu-west-1:111111111111:rule/"
    assert fnmatch.fnmatchcase(base + rule, pattern)
    for other in (
        base + "sagemaker-churn-model-p-abc123def456",  # the old per-project naming
        base + "sagemaker-other-template-rule",
        base + "github-mlops-p-abc123def456",
        "arn:aws:events:eu-west-1:222222222222:rule/" + rule,
        "arn:aws:events:us-east-1:111111111111:rule/" + rule,
    ):
        assert not fnmatch.fnmatchcase(other, pattern), other
