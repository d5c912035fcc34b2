"""The log lines and outcomes of the handler's failure paths (found by `make mutation`): an
invalid function configuration, a claim that could not be released, how a rejected dispatch
is classified, and GitHub answers whose headers are not text.

The handler runs in-process with fake AWS clients and a fake ``requests.Session``; each test
reads the function's JSON log lines from stdout and compares them field by field.
"""

from __future__ import annotations

import json
from typing import Any

import handler
import pytest
import requests
from botocore.exceptions import ClientError
from github_trigger import dispatch
from github_trigger.config import GitHubTarget, load_settings
from github_trigger.dispatch import RequestCounter, WorkflowDispatcher
from github_trigger.errors import (
    ConfigurationError,
    GitHubRateLimitedError,
    GitHubRequestRejectedError,
    GitHubUnavailableError,
    NonRetryableError,
    TokenSecretError,
)
from requests.structures import CaseInsensitiveDict

from tests.lambda_src.trigger_support import (
    ALLOWED_TARGETS,
    TOKEN,
    LambdaContext,
    load_fixture,
)

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model-p-abc123def456/3"


def _lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for line in lines:
        line.pop("timestamp")
    return lines


@pytest.fixture(autouse=True)
def _cold_start() -> Any:
    handler.reset_runtime()
    yield
    handler.reset_runtime()


# --- Invalid function configuration ---------------------------------------------------------


def test_an_invalid_configuration_logs_one_failed_line_and_raises(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE_NAME", raising=False)
    message = (
        "IDEMPOTENCY_TABLE_NAME is required: the DynamoDB table that makes dispatches "
        "idempotent per model package ARN"
    )

    with pytest.raises(ConfigurationError) as raised:
        handler.handler(load_fixture("model_package_approved"), LambdaContext())

    assert str(raised.value) == message
    assert _lines(capsys.readouterr().out) == [
        {
            "level": "ERROR",
            "logger": "github_trigger",
            "message": "invalid function configuration",
            "outcome": "failed",
            "reason": "configuration",
            "error": message,
        }
    ]


# --- Releasing the claim after a dispatch GitHub never received -------------------------------


class _DynamoDB:
    """put_item claims; delete_item (the release) succeeds or raises ``release_error``."""

    def __init__(self, release_error: BaseException | None) -> None:
        self.release_error = release_error
        self.deleted: list[dict[str, Any]] = []

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        if self.release_error is not None:
            raise self.release_error
        self.deleted.append(kwargs["Key"])
        return {}


class _Secrets:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": TOKEN}


class _UnreachableGitHub:
    """A session whose connection never gets through (nothing reached GitHub)."""

    def post(self, url: str, **_: Any) -> Any:
        raise requests.exceptions.ConnectTimeout("connect timed out")

    def close(self) -> None:
        pass


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "DeleteItem")


def _runtime(dynamodb: _DynamoDB) -> handler.Runtime:
    settings = load_settings(
        {
            "IDEMPOTENCY_TABLE_NAME": "ledger",
            "ALLOWED_TARGETS": ALLOWED_TARGETS,
            "GITHUB_TIMEOUT_SECONDS": "2",
        }
    )
    return handler.build_runtime(
        settings,
        secrets_client=_Secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=_UnreachableGitHub,
        clock=lambda: 1_700_000_000.0,
        monotonic=lambda: 0.0,
    )


CONTEXT = {
    "model_package_arn": ARN,
    "approval_time": "1772460311000",
    "repository": "acme-user/churn-model",
    "workflow": "deploy.yml",
    "ref": "main",
    "event_id": "5b8f6c1e-2d4a-4f0e-9c61-0b7d3e1a9f42",
    "aws_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
}
NOT_ACCEPTED = {
    "level": "ERROR",
    "logger": "github_trigger",
    "message": "dispatch failed before GitHub accepted it, Lambda will retry",
    **CONTEXT,
    "outcome": "retry",
    "reason": "not-accepted",
    "error": (
        "POST /repos/acme-user/churn-model/actions/workflows/deploy.yml/dispatches failed before "
        "reaching GitHub: ConnectTimeout (connect timeout 2s); Lambda will retry"
    ),
    "error_type": "GitHubUnavailableError",
    "github_requests": 1,
}


def _dispatch_not_accepted(
    dynamodb: _DynamoDB, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    runtime = _runtime(dynamodb)
    capsys.readouterr()
    with pytest.raises(GitHubUnavailableError, match="failed before reaching GitHub") as raised:
        handler.handle(runtime, load_fixture("model_package_approved"), LambdaContext())
    assert str(raised.value) == NOT_ACCEPTED["error"]
    return _lines(capsys.readouterr().out)


def test_a_released_claim_is_logged_as_released(capsys: pytest.CaptureFixture[str]) -> None:
    dynamodb = _DynamoDB(release_error=None)

    lines = _dispatch_not_accepted(dynamodb, capsys)

    assert len(dynamodb.deleted) == 1
    assert lines == [{**NOT_ACCEPTED, "claim_released": True}]


def test_a_claim_lost_before_its_release_is_logged_as_not_released(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dynamodb = _DynamoDB(release_error=_client_error("ConditionalCheckFailedException"))

    lines = _dispatch_not_accepted(dynamodb, capsys)

    assert lines == [{**NOT_ACCEPTED, "claim_released": False}]


RELEASE_FAILED = (
    "could not release the claim; retries will find it and end in the failure destination "
    "once its lease has expired"
)


@pytest.mark.parametrize(
    ("error", "text", "error_type"),
    [
        (
            _client_error("ThrottlingException"),
            "DynamoDB delete_item on 'ledger' failed: ThrottlingException",
            "AwsServiceError",
        ),
        (RuntimeError("socket closed"), "socket closed", "RuntimeError"),
    ],
    ids=["aws error", "unexpected error"],
)
def test_a_release_that_fails_is_logged_and_the_claim_reported_kept(
    capsys: pytest.CaptureFixture[str], error: BaseException, text: str, error_type: str
) -> None:
    lines = _dispatch_not_accepted(_DynamoDB(release_error=error), capsys)

    assert lines == [
        {
            "level": "ERROR",
            "logger": "github_trigger",
            "message": RELEASE_FAILED,
            **CONTEXT,
            "error": text,
            "error_type": error_type,
        },
        {**NOT_ACCEPTED, "claim_released": False},
    ]


# --- How a permanent failure is classified ----------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (GitHubRequestRejectedError("m", status=299), "github-rejected"),
        (GitHubRequestRejectedError("m", status=300), "github-redirect"),
        (GitHubRequestRejectedError("m", status=301), "github-redirect"),
        (GitHubRequestRejectedError("m", status=399), "github-redirect"),
        (GitHubRequestRejectedError("m", status=400), "github-rejected"),
        (GitHubRequestRejectedError("m", status=404), "github-rejected"),
        (TokenSecretError("m"), "token-secret"),
        (NonRetryableError("m"), "failed"),
    ],
)
def test_failure_reasons(error: NonRetryableError, reason: str) -> None:
    assert handler._failure_reason(error) == reason


# --- Headers that are not text ------------------------------------------------------------------


class _Answering:
    def __init__(self, response: requests.Response) -> None:
        self.response = response

    def post(self, url: str, **_: Any) -> Any:
        return self.response

    def close(self) -> None:
        pass


def _answer(status: int, headers: dict[str, Any]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
    response._content = b'{"message": "Resource not accessible by integration"}'
    return response


def _dispatch(response: requests.Response) -> Any:
    return WorkflowDispatcher(
        api_url="https://api.github.invalid",
        connect_timeout_seconds=1,
        read_timeout_seconds=2,
        session_factory=lambda: _Answering(response),
    ).dispatch(
        token="ghp_UnitTestToken0000000000000000000000",
        target=GitHubTarget(
            owner="acme",
            repository="churn-model",
            workflow="deploy.yml",
            ref="main",
            token_secret_name="sagemaker-github-token",
            model_package_group_name="churn-model-p-abc123def456",
        ),
        inputs={"model_package_arn": "a"},
        counter=RequestCounter(3),
    )


def test_a_retry_after_header_that_is_not_text_is_no_rate_limit_signal() -> None:
    with pytest.raises(GitHubRequestRejectedError) as raised:
        _dispatch(_answer(403, {"retry-after": 60}))
    assert raised.value.status == 403


def test_a_retry_after_header_marks_a_403_as_rate_limited() -> None:
    with pytest.raises(GitHubRateLimitedError, match="rate limited; Lambda will retry"):
        _dispatch(_answer(403, {"retry-after": "60"}))


def test_a_location_that_is_not_text_is_reported_as_missing() -> None:
    with pytest.raises(GitHubRequestRejectedError, match=r"moved to no Location header;"):
        _dispatch(_answer(307, {"Location": 7}))


@pytest.mark.parametrize(
    "headers",
    [{"x-ratelimit-remaining": "0"}, {"retry-after": "60"}],
    ids=["primary limit", "secondary limit"],
)
def test_rate_limit_headers_are_read_by_their_documented_lowercase_names(
    headers: dict[str, str],
) -> None:
    # GitHub documents the names in lowercase (as HTTP/2 sends them); they are looked up by
    # those names even when the answer's headers are a plain mapping, not a case-insensitive one.
    response = _answer(403, {})
    response.headers = headers  # type: ignore[assignment]
    with pytest.raises(GitHubRateLimitedError, match="rate limited; Lambda will retry"):
        _dispatch(response)


# --- GitHub's error text in the raised message ------------------------------------------------

PATH = "/repos/acme/churn-model/actions/workflows/deploy.yml/dispatches"
NOT_FOUND_HINT = (
    "the repository or workflow file does not exist, or the token cannot see the repository"
)


def _rejected(body: bytes, status: int = 404) -> str:
    response = _answer(status, {})
    response._content = body
    with pytest.raises(GitHubRequestRejectedError) as raised:
        _dispatch(response)
    return str(raised.value)


def test_a_json_error_answer_is_quoted_by_its_message() -> None:
    assert _rejected(b'{"message": "Not Found", "documentation_url": "https://x"}') == (
        f"GitHub answered 404 to POST {PATH}: Not Found ({NOT_FOUND_HINT})"
    )


def test_a_message_that_is_not_text_is_left_out() -> None:
    body = b'{"message": 42, "errors": ["ref does not exist", {"message": "bad input"}]}'
    assert _rejected(body) == (
        f"GitHub answered 404 to POST {PATH}: ref does not exist; bad input ({NOT_FOUND_HINT})"
    )


@pytest.mark.parametrize(
    ("filler", "limited"),
    [("XXXX " * 52, True), ("XXXX " * 60, False)],
    ids=["phrase inside the first 300 characters", "phrase past them"],
)
def test_the_secondary_limit_phrase_is_looked_for_in_the_first_300_characters(
    filler: str, limited: bool
) -> None:
    # 52 * 5 + 40 = 300 characters; with 60 the phrase starts at character 300 and is cut off
    message = filler + "You have exceeded a secondary rate limit"
    response = _answer(403, {})
    response._content = json.dumps({"message": message}).encode()
    expected = GitHubRateLimitedError if limited else GitHubRequestRejectedError
    with pytest.raises(expected):
        _dispatch(response)


def test_only_the_first_five_text_errors_are_quoted() -> None:
    errors = [7, "", {"message": 8}, "one", "two", "three", "four", "five", "six"]
    body = json.dumps({"message": "Validation Failed", "errors": errors}).encode()
    assert _rejected(body, status=422).startswith(
        f"GitHub answered 422 to POST {PATH}: Validation Failed; one; two ("
    )
    six = ["one", "two", "three", "four", "five", "six"]
    body = json.dumps({"errors": six}).encode()
    assert _rejected(body) == (
        f"GitHub answered 404 to POST {PATH}: one; two; three; four; five ({NOT_FOUND_HINT})"
    )


def test_a_body_that_is_not_json_is_quoted_scrubbed_and_cut_to_100_characters() -> None:
    token = "ghp_UnitTestToken0000000000000000000000"
    assert _rejected(b"<" + b"a" * 99 + b"bc>") == (
        f"GitHub answered 404 to POST {PATH}: non-JSON body: '<{'a' * 99}' ({NOT_FOUND_HINT})"
    )
    # the token is replaced before the cut: no prefix of it is left behind
    assert _rejected(b"<" + b"a" * 89 + token.encode() + b">") == (
        f"GitHub answered 404 to POST {PATH}: non-JSON body: '<{'a' * 89}***>' ({NOT_FOUND_HINT})"
    )


class _Unreadable:
    """An answer whose body can be read neither as JSON nor as text."""

    status_code = 404
    headers = CaseInsensitiveDict({"Content-Type": "text/plain"})

    def json(self) -> Any:
        raise ValueError("no JSON")

    @property
    def text(self) -> str:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")


def test_an_unreadable_body_is_no_message() -> None:
    with pytest.raises(GitHubRequestRejectedError) as raised:
        _dispatch(_Unreadable())  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"GitHub answered 404 to POST {PATH}: no message ({NOT_FOUND_HINT})"
    )


# --- Helpers called without a token scrub nothing -----------------------------------------------


def test_without_a_token_nothing_is_replaced() -> None:
    # `XXXX` stands for any text that a default token would wrongly match
    response = _answer(404, {})
    response._content = b'{"message": "XXXX not found"}'
    assert dispatch._github_message(response) == "XXXX not found"
    assert dispatch._url_or_none("https://x.example/XXXX") == "https://x.example/XXXX"
    with pytest.raises(GitHubRequestRejectedError) as raised:
        dispatch._interpret(response, "/p")
    assert str(raised.value) == f"GitHub answered 404 to POST /p: XXXX not found ({NOT_FOUND_HINT})"
    accepted = _answer(200, {})
    accepted._content = b'{"run_url": "https://x.example/XXXX"}'
    assert dispatch._accepted(accepted, 200).run_url == "https://x.example/XXXX"
