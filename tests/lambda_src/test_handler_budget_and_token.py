"""Two handler decisions at their bounds (found by `make mutation`): a GitHub request needs the
time to finish and be recorded; a 401 with a cached token reads the secret again once."""

from __future__ import annotations

import json
from typing import Any

import handler
import pytest
import requests
from github_trigger.config import load_settings
from github_trigger.dispatch import RequestBudgetExhaustedError
from github_trigger.errors import GitHubRequestRejectedError
from requests.structures import CaseInsensitiveDict

from tests.lambda_src.trigger_support import ALLOWED_TARGETS, load_fixture

PATH = "/repos/acme-user/churn-model/actions/workflows/deploy.yml/dispatches"


class _DynamoDB:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**_: Any) -> dict[str, Any]:
            self.calls.append(operation)
            return {}

        return call


class _Secrets:
    def __init__(self, value: str) -> None:
        self.value, self.reads = value, 0

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        self.reads += 1
        return {"SecretString": self.value}


class _GitHub:
    """Accepts the ``valid`` token, answers 401 to any other."""

    def __init__(self, valid: str) -> None:
        self.valid = valid
        self.tokens: list[str] = []

    def session(self) -> _GitHub:
        return self

    def post(self, url: str, *, headers: dict[str, str], **_: Any) -> Any:
        token = headers["Authorization"].removeprefix("token ")
        self.tokens.append(token)
        response = requests.Response()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        if token == self.valid:
            response.status_code, response._content = 204, b""
        else:
            response.status_code = 401
            response._content = json.dumps({"message": "Bad credentials"}).encode()
        return response

    def close(self) -> None:
        pass


class _Context:
    aws_request_id = "r-1"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _runtime(dynamodb: _DynamoDB, secrets: _Secrets, github: _GitHub) -> handler.Runtime:
    settings = load_settings(
        {
            "IDEMPOTENCY_TABLE_NAME": "ledger",
            "ALLOWED_TARGETS": ALLOWED_TARGETS,
            "GITHUB_TIMEOUT_SECONDS": "2",
        }
    )
    return handler.build_runtime(
        settings,
        secrets_client=lambda: secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=github.session,
        clock=lambda: 1_700_000_000.0,
        monotonic=lambda: 0.0,
    )


def _handle(runtime: handler.Runtime, context: Any, event_id: str = "e-1") -> Any:
    payload = load_fixture("model_package_approved")
    payload["event"]["id"] = event_id
    return handler.handle(runtime, payload, context)


def test_a_request_is_sent_with_exactly_the_time_it_needs() -> None:
    # GITHUB_TIMEOUT_SECONDS=2: a request (2 s connect + 2 s read), recording its outcome
    # (2 attempts of 1 s + 2 s, 6 s backoff) and the 5 s reserve need 21 s
    github = _GitHub(valid="ghp_a")
    runtime = _runtime(_DynamoDB(), _Secrets("ghp_a"), github)

    assert _handle(runtime, _Context(21_000))["outcome"] == "dispatched"
    assert github.tokens == ["ghp_a"]


def test_no_request_without_the_time_it_needs() -> None:
    dynamodb, github = _DynamoDB(), _GitHub(valid="ghp_a")
    runtime = _runtime(dynamodb, _Secrets("ghp_a"), github)

    with pytest.raises(RequestBudgetExhaustedError) as raised:
        _handle(runtime, _Context(20_940))
    assert str(raised.value) == (
        f"POST {PATH} not sent: 20.9 s left in this invocation, a request and the record of its "
        "outcome need up to 21 s (is the function timeout the one Terraform derived?); Lambda "
        "will retry"
    )
    assert github.tokens == []
    assert dynamodb.calls == ["put_item", "delete_item"]  # claimed, then released


class _NoClock:
    aws_request_id = "r-1"
    get_remaining_time_in_millis = None  # not callable: no time check


def test_a_context_without_a_clock_only_counts_requests() -> None:
    github = _GitHub(valid="ghp_a")
    runtime = _runtime(_DynamoDB(), _Secrets("ghp_a"), github)
    assert _handle(runtime, _NoClock())["outcome"] == "dispatched"


def test_a_rotated_token_is_read_again_after_a_401_and_used_once() -> None:
    secrets, github = _Secrets("ghp_old"), _GitHub(valid="ghp_old")
    runtime = _runtime(_DynamoDB(), secrets, github)
    _handle(runtime, _NoClock(), "e-1")  # caches ghp_old
    secrets.value = github.valid = "ghp_new"

    result = _handle(runtime, _NoClock(), "e-2")

    assert result["outcome"] == "dispatched"
    assert github.tokens == ["ghp_old", "ghp_old", "ghp_new"]
    assert secrets.reads == 2


def test_a_401_with_the_same_token_after_reading_it_again_is_permanent() -> None:
    secrets, github = _Secrets("ghp_old"), _GitHub(valid="ghp_old")
    runtime = _runtime(_DynamoDB(), secrets, github)
    _handle(runtime, _NoClock(), "e-1")
    github.valid = "ghp_other"  # revoked; the secret still holds it

    with pytest.raises(GitHubRequestRejectedError) as raised:
        _handle(runtime, _NoClock(), "e-2")

    assert raised.value.status == 401
    assert github.tokens == ["ghp_old", "ghp_old"]
    assert secrets.reads == 2


def test_a_401_with_a_token_just_read_is_permanent_without_reading_it_again() -> None:
    secrets, github = _Secrets("ghp_old"), _GitHub(valid="ghp_other")
    runtime = _runtime(_DynamoDB(), secrets, github)

    with pytest.raises(GitHubRequestRejectedError) as raised:
        _handle(runtime, _NoClock())

    assert raised.value.status == 401
    assert github.tokens == ["ghp_old"]
    assert secrets.reads == 1
