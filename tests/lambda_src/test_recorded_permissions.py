"""The trigger function's AWS calls, recorded by moto, are all allowed by the role the stack
gives it (and removing any one of their actions from that role's policy denies a call).

The handler runs its real paths (a dispatch, a redelivered duplicate, a GitHub rejection that
records the failure, a 5xx that releases its claim) against moto_server with the recorder on,
using the synthesized stack's own table and secret names. Each recorded request is mapped to
its IAM action and resource (tools/gates/recorded_calls.py, on AWS's authorization data) and
evaluated against the trigger role's policy document from the synthesized example stack, made
concrete for moto's account and region.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import handler
import pytest

from tests.conftest import Synth, resources
from tests.lambda_src.trigger_support import TOKEN, LambdaContext, TriggerEnv, load_fixture
from tests.support.fake_github import FakeResponse
from tests.support.moto_server import MotoServer
from tools.gates.iam_authorization import concrete_policies
from tools.gates.recorded_calls import Evaluation, evaluate

MOTO_ACCOUNT = "123456789012"
#: the error answers GitHub gives outside its description (tests/support/fake_github.py)
UNDOCUMENTED = "create-workflow-dispatch error (the description lists 200 and 204 only)"
RUN_DETAILS = {
    "workflow_run_id": 22334455,
    "run_url": "https://api.github.com/repos/acme-user/churn-model/actions/runs/22334455",
    "html_url": "https://github.com/acme-user/churn-model/actions/runs/22334455",
}


def _trigger_policy(stack: dict[str, Any], region: str) -> dict[str, Any]:
    policies = concrete_policies(stack, account=MOTO_ACCOUNT, region=region)
    (policy,) = [p for origin, p in policies.items() if "trigger_permissions-document" in origin]
    return policy


def _run_handler_paths(
    trigger_env: TriggerEnv,
    moto_server: MotoServer,
    stack: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, int]:
    """Run the handler on the stack's table; (start, end) of its requests in the recording."""
    (table,) = resources(stack, "aws_dynamodb_table").values()
    name = table["name"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "idempotency_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", name)
    handler.reset_runtime()
    start = len(moto_server.recorded())
    approved = load_fixture("model_package_approved")
    trigger_env.github.enqueue(FakeResponse(status=200, body=RUN_DETAILS))
    assert handler.handler(approved, LambdaContext())["outcome"] == "dispatched"
    assert handler.handler(approved, LambdaContext())["outcome"] == "duplicate"
    for status, version in ((401, "4"), (502, "5")):
        event = copy.deepcopy(approved)
        arn = event["event"]["detail"]["ModelPackageArn"].rsplit("/", 1)[0] + f"/{version}"
        event["event"]["detail"]["ModelPackageArn"] = arn
        event["event"]["resources"] = [arn]
        trigger_env.github.enqueue(
            FakeResponse(status=status, body={"message": "nope"}, undocumented=UNDOCUMENTED)
        )
        if status == 502:  # retried by the function before it gives up
            for _ in range(3):
                trigger_env.github.enqueue(
                    FakeResponse(status=status, body={"message": "no"}, undocumented=UNDOCUMENTED)
                )
        with pytest.raises(Exception, match="GitHub"):
            handler.handler(event, LambdaContext())
    return start, len(moto_server.recorded())


@pytest.fixture
def recorded(
    trigger_env: TriggerEnv,
    moto_server: MotoServer,
    example_synth: Synth,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[dict[str, Any]], dict[str, Any], Evaluation]:
    stack = example_synth.stack("dev")
    start, end = _run_handler_paths(trigger_env, moto_server, stack, monkeypatch)
    entries = moto_server.recorded()
    policy = _trigger_policy(stack, moto_server.region)
    report = evaluate(
        entries, {"trigger": [policy]}, [("handler", "trigger", start, end)], account=MOTO_ACCOUNT
    )
    return entries[start:end], policy, report


def test_trigger_calls_are_allowed_by_its_role(
    recorded: tuple[list[dict[str, Any]], dict[str, Any], Evaluation],
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries, _, report = recorded
    with capsys.disabled():
        print(f"\ntrigger function: {report.summary()}")
    assert report.calls == len(entries) >= 6
    assert report.unmapped == []
    assert report.denials == []
    assert {"secretsmanager:GetSecretValue", "dynamodb:PutItem"} <= report.actions
    assert TOKEN not in report.summary()


def test_removing_any_recorded_action_from_the_role_denies_a_call(
    recorded: tuple[list[dict[str, Any]], dict[str, Any], Evaluation],
) -> None:
    _, _, report = recorded
    assert len(report.actions) >= 3
    for action in sorted(report.actions):
        assert report.denied_without(action) >= 1, action
