"""One time budget: the function timeout, the claim lease, the GitHub timeouts and the boto3
Config all derive from GITHUB_TIMEOUT_SECONDS (github_trigger/budget.py), and the handler uses
exactly those numbers. The fault matrix checks every invocation's call counts against it."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from typing import Any

import handler
import pytest
import requests
from github_trigger.budget import (
    MAX_GITHUB_TIMEOUT_SECONDS,
    MIN_GITHUB_TIMEOUT_SECONDS,
    RESERVE_SECONDS,
    derive_budget,
)
from github_trigger.config import load_settings
from github_trigger.dispatch import RequestBudgetExhaustedError
from github_trigger.errors import GitHubOutcomeUnknownError

from tests.lambda_src.fault_world import FakeDynamoDB, FakeSecrets, World
from tests.lambda_src.trigger_support import ALLOWED_TARGETS, TOKEN, LambdaContext, load_fixture


@pytest.mark.parametrize(
    "github_timeout", range(MIN_GITHUB_TIMEOUT_SECONDS, MAX_GITHUB_TIMEOUT_SECONDS + 1)
)
def test_worst_case_fits_the_function_timeout_and_the_lease_outlives_it(
    github_timeout: int,
) -> None:
    budget = derive_budget(github_timeout)
    aws_call = (
        budget.aws_max_attempts
        * (budget.aws_connect_timeout_seconds + budget.aws_read_timeout_seconds)
        + (budget.aws_max_attempts - 1) * 6
    )  # botocore standard mode: <= 1 s jitter + 5 s header
    until_acceptance = (
        budget.aws_calls_before_acceptance * aws_call
        + budget.max_github_requests
        * (budget.github_connect_timeout_seconds + budget.github_read_timeout_seconds)
    )
    record = budget.aws_calls_after_acceptance * aws_call
    assert until_acceptance + record + RESERVE_SECONDS <= budget.function_timeout_seconds
    assert budget.claim_lease_seconds > budget.function_timeout_seconds
    assert budget.function_timeout_seconds <= 900  # Lambda's maximum
    assert budget.github_connect_timeout_seconds <= budget.github_read_timeout_seconds


def test_default_budget() -> None:
    budget = derive_budget()
    assert (budget.github_connect_timeout_seconds, budget.github_read_timeout_seconds) == (3, 5)
    assert (budget.aws_connect_timeout_seconds, budget.aws_read_timeout_seconds) == (1, 2)
    assert budget.aws_max_attempts == 2
    assert budget.max_github_requests == 3
    assert (budget.function_timeout_seconds, budget.claim_lease_seconds) == (65, 95)


@pytest.mark.parametrize("value", [0, 31, -1])
def test_fails_outside_the_budgets_range(value: int) -> None:
    with pytest.raises(ValueError, match="github_timeout_seconds must be between 1 and 30"):
        derive_budget(value)


def test_aws_clients_are_built_with_the_budgets_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    handler.reset_runtime()
    try:
        for service in ("dynamodb", "secretsmanager"):
            config = handler._aws_client(service, 5).meta.config
            assert (config.connect_timeout, config.read_timeout) == (1, 2)
            assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    finally:
        handler.reset_runtime()


class _RecordingSession:
    timeouts: list[tuple[float, float]] = []  # noqa: RUF012 - one list for the test

    def post(self, url: str, *, timeout: tuple[float, float], **_: Any) -> requests.Response:
        self.timeouts.append(timeout)
        response = requests.Response()
        response.status_code = 204
        response._content = b""
        return response

    def close(self) -> None:
        return None


@pytest.mark.parametrize("github_timeout", [1, 5, 12])
def test_handler_uses_the_budget_for_github_and_the_lease(github_timeout: int) -> None:
    budget = derive_budget(github_timeout)
    world = World()
    dynamodb = FakeDynamoDB(world)
    secrets = FakeSecrets(world, TOKEN)
    _RecordingSession.timeouts = []
    runtime = handler.build_runtime(
        load_settings(
            {
                "IDEMPOTENCY_TABLE_NAME": "t",
                "ALLOWED_TARGETS": ALLOWED_TARGETS,
                "GITHUB_TIMEOUT_SECONDS": str(github_timeout),
            }
        ),
        secrets_client=lambda: secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=_RecordingSession,
        clock=lambda: world.now,
    )
    with redirect_stdout(io.StringIO()):
        assert (
            handler.handle(runtime, load_fixture("model_package_approved"), LambdaContext())[
                "outcome"
            ]
            == "dispatched"
        )

    assert _RecordingSession.timeouts == [
        (budget.github_connect_timeout_seconds, budget.github_read_timeout_seconds)
    ]
    [claim] = dynamodb.puts
    lease = int(claim["lease_expires_at"]["N"]) - int(claim["updated_at"]["N"])
    assert lease == budget.claim_lease_seconds
    [item] = dynamodb.items.values()  # the lease is gone once the outcome is recorded
    assert item["status"] == {"S": "DISPATCHED"}
    assert "lease_expires_at" not in item


class _ContextWithClock(LambdaContext):
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _runtime_with(world: World, dynamodb: FakeDynamoDB) -> handler.Runtime:
    secrets = FakeSecrets(world, TOKEN)
    return handler.build_runtime(
        load_settings({"IDEMPOTENCY_TABLE_NAME": "t", "ALLOWED_TARGETS": ALLOWED_TARGETS}),
        secrets_client=lambda: secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=_RecordingSession,
        clock=lambda: world.now,
    )


def test_no_github_request_without_time_to_finish_and_record_it() -> None:
    # E.g. someone set the function timeout to 10 s in the console.
    world = World()
    dynamodb = FakeDynamoDB(world)
    _RecordingSession.timeouts = []
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(RequestBudgetExhaustedError, match="s left"):
        handler.handle(
            _runtime_with(world, dynamodb),
            load_fixture("model_package_approved"),
            _ContextWithClock(10_000),
        )

    assert _RecordingSession.timeouts == []  # nothing sent
    assert dynamodb.items == {}  # claim released: Lambda's retry may dispatch
    assert '"reason": "not-accepted"' in out.getvalue()


def test_a_full_function_timeout_leaves_time_for_the_request() -> None:
    world = World()
    context = _ContextWithClock(derive_budget().function_timeout_seconds * 1000)
    with redirect_stdout(io.StringIO()):
        result = handler.handle(
            _runtime_with(world, FakeDynamoDB(world)),
            load_fixture("model_package_approved"),
            context,
        )
    assert result["outcome"] == "dispatched"


class _BizarreResponse:
    """An answer whose status cannot even be read."""

    @property
    def status_code(self) -> int:
        raise RuntimeError("injected: unreadable status")


class _BizarreSession(_RecordingSession):
    def post(self, url: str, *, timeout: tuple[float, float], **_: Any) -> Any:
        return _BizarreResponse()


def test_an_unreadable_answer_keeps_the_claim() -> None:
    world = World()
    dynamodb = FakeDynamoDB(world)
    secrets = FakeSecrets(world, TOKEN)
    runtime = handler.build_runtime(
        load_settings({"IDEMPOTENCY_TABLE_NAME": "t", "ALLOWED_TARGETS": ALLOWED_TARGETS}),
        secrets_client=lambda: secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=_BizarreSession,
        clock=lambda: world.now,
    )
    with redirect_stdout(io.StringIO()), pytest.raises(GitHubOutcomeUnknownError):
        handler.handle(runtime, load_fixture("model_package_approved"), LambdaContext())
    [item] = dynamodb.items.values()
    assert item["status"] == {"S": "UNKNOWN"}
