"""Every outcome of one approval, with the exact log lines and results (found by `make
mutation`): dispatched (recorded or not), claim failed, held by another invocation, already
dispatched / failed / unknown / unfinished, and a permanent failure recorded or not.

The handler runs in-process (``handler.handle`` on ``handler.build_runtime``) with a scripted
DynamoDB client, a Secrets Manager stand-in and a scripted ``requests.Session``.
"""

from __future__ import annotations

import json
from typing import Any

import handler
import pytest
import requests
from botocore.exceptions import ClientError
from github_trigger.config import load_settings
from requests.structures import CaseInsensitiveDict

from tests.lambda_src.trigger_support import ALLOWED_TARGETS, TOKEN, LambdaContext, load_fixture

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model-p-abc123def456/3"
NOW = 1_700_000_000
CONTEXT = {
    "model_package_arn": ARN,
    "approval_time": "1772460311000",
    "repository": "acme-user/churn-model",
    "workflow": "deploy.yml",
    "ref": "main",
    "event_id": "5b8f6c1e-2d4a-4f0e-9c61-0b7d3e1a9f42",
    "aws_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
}
ERROR = {"level": "ERROR", "logger": "github_trigger"}
INFO = {"level": "INFO", "logger": "github_trigger"}
RUN_URL = "https://github.com/acme-user/churn-model/actions/runs/22334455"
RUN_API_URL = "https://api.github.com/repos/acme-user/churn-model/actions/runs/22334455"
DISPATCH = "POST /repos/acme-user/churn-model/actions/workflows/deploy.yml/dispatches"


def _client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, operation)


class _DynamoDB:
    """``existing``: the item a claim finds (its put's condition fails); ``errors``: what an
    operation raises instead of succeeding."""

    def __init__(
        self,
        *,
        existing: dict[str, Any] | None = None,
        errors: dict[str, BaseException] | None = None,
    ) -> None:
        self.existing = existing
        self.errors = errors or {}
        self.updates: list[dict[str, Any]] = []

    def _maybe_fail(self, operation: str) -> None:
        if operation in self.errors:
            raise self.errors[operation]

    def put_item(self, **_: Any) -> dict[str, Any]:
        self._maybe_fail("put_item")
        if self.existing is not None:
            raise _client_error("ConditionalCheckFailedException", "PutItem")
        return {}

    def get_item(self, **_: Any) -> dict[str, Any]:
        self._maybe_fail("get_item")
        return {"Item": self.existing}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self._maybe_fail("update_item")
        self.updates.append(kwargs["ExpressionAttributeValues"])
        return {}

    def delete_item(self, **_: Any) -> dict[str, Any]:
        self._maybe_fail("delete_item")
        return {}


class _Secrets:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": TOKEN}


class _GitHub:
    """Answers ``status`` with ``body`` or raises ``error``."""

    def __init__(
        self, status: int = 204, body: Any = None, error: BaseException | None = None
    ) -> None:
        self.status, self.body, self.error = status, body, error
        self.posts = 0

    def session(self) -> _GitHub:
        return self

    def post(self, url: str, **_: Any) -> Any:
        self.posts += 1
        if self.error is not None:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response._content = json.dumps(self.body).encode() if self.body is not None else b""
        return response

    def close(self) -> None:
        pass


def _run(
    dynamodb: _DynamoDB, github: _GitHub, capsys: pytest.CaptureFixture[str]
) -> tuple[Any, list[dict[str, Any]]]:
    """(the result, or the exception raised; the log lines without their timestamps)."""
    settings = load_settings(
        {
            "IDEMPOTENCY_TABLE_NAME": "ledger",
            "ALLOWED_TARGETS": ALLOWED_TARGETS,
            "GITHUB_TIMEOUT_SECONDS": "2",
        }
    )
    runtime = handler.build_runtime(
        settings,
        secrets_client=_Secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=github.session,
        clock=lambda: float(NOW),
        monotonic=lambda: 0.0,
    )
    capsys.readouterr()
    outcome: Any
    try:
        outcome = handler.handle(runtime, load_fixture("model_package_approved"), LambdaContext())
    except Exception as e:
        outcome = e
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    for line in lines:
        line.pop("timestamp")
    return outcome, lines


# --- Dispatched ---------------------------------------------------------------------------------


def test_a_dispatch_with_run_details_is_recorded_logged_and_returned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = {"workflow_run_id": 22334455, "run_url": RUN_API_URL, "html_url": RUN_URL}
    dynamodb = _DynamoDB()

    result, lines = _run(dynamodb, _GitHub(200, body), capsys)

    assert result == {
        "outcome": "dispatched",
        "model_package_arn": ARN,
        "repository": "acme-user/churn-model",
        "workflow": "deploy.yml",
        "ref": "main",
        "run_url": RUN_URL,
        "workflow_run_id": 22334455,
        "recorded": True,
    }
    assert lines == [
        {
            **INFO,
            "message": "dispatched deploy.yml in acme-user/churn-model on main",
            **CONTEXT,
            "outcome": "dispatched",
            "run_url": RUN_URL,
            "run_api_url": RUN_API_URL,
            "workflow_run_id": 22334455,
            "recorded": True,
            "github_requests": 1,
        }
    ]
    [update] = dynamodb.updates
    assert update[":dispatched"] == {"S": "DISPATCHED"}
    assert update[":run_url"] == {"S": RUN_URL}


def test_a_dispatch_without_an_html_url_keeps_the_api_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, lines = _run(_DynamoDB(), _GitHub(200, {"run_url": RUN_API_URL}), capsys)

    assert (result["run_url"], result["workflow_run_id"]) == (RUN_API_URL, None)
    assert (lines[0]["run_url"], lines[0]["run_api_url"]) == (RUN_API_URL, RUN_API_URL)


def test_a_dispatch_that_could_not_be_recorded_still_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dynamodb = _DynamoDB(errors={"update_item": RuntimeError("connection reset")})

    result, lines = _run(dynamodb, _GitHub(204), capsys)

    assert result == {
        "outcome": "dispatched",
        "model_package_arn": ARN,
        "repository": "acme-user/churn-model",
        "workflow": "deploy.yml",
        "ref": "main",
        "run_url": None,
        "workflow_run_id": None,
        "recorded": False,
    }
    assert lines == [
        {
            **ERROR,
            "message": "dispatched, but could not record it in the idempotency table",
            **CONTEXT,
            "error": "connection reset",
            "error_type": "RuntimeError",
        },
        {
            **INFO,
            "message": "dispatched deploy.yml in acme-user/churn-model on main",
            **CONTEXT,
            "outcome": "dispatched",
            "recorded": False,
            "github_requests": 1,
        },
    ]


# --- Nothing claimed ----------------------------------------------------------------------------


def test_a_claim_that_fails_is_logged_for_a_retry(capsys: pytest.CaptureFixture[str]) -> None:
    dynamodb = _DynamoDB(errors={"put_item": _client_error("ThrottlingException", "PutItem")})
    github = _GitHub()

    raised, lines = _run(dynamodb, github, capsys)

    assert type(raised).__name__ == "AwsServiceError"
    assert str(raised) == "DynamoDB put_item on 'ledger' failed: ThrottlingException"
    assert github.posts == 0
    assert lines == [
        {
            **ERROR,
            "message": "could not claim the approval, Lambda will retry",
            **CONTEXT,
            "outcome": "retry",
            "reason": "claim-failed",
            "error": "DynamoDB put_item on 'ledger' failed: ThrottlingException",
            "error_type": "AwsServiceError",
        }
    ]


# --- Someone else holds the approval ------------------------------------------------------------

OTHER_EVENT = "0a1b2c3d-0000-4000-8000-000000000001"


def _existing(status: str, *, lease: int | None = None, **texts: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "status": {"S": status},
        "event_id": {"S": OTHER_EVENT},
        "expires_at": {"N": str(NOW + 3600)},
        **{name: {"S": value} for name, value in texts.items()},
    }
    if lease is not None:
        item["lease_expires_at"] = {"N": str(lease)}
    return item


def test_an_approval_already_dispatched_is_a_duplicate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    github = _GitHub()
    record = _existing("DISPATCHED", run_url=RUN_URL)

    result, lines = _run(_DynamoDB(existing=record), github, capsys)

    assert result == {
        "outcome": "duplicate",
        "model_package_arn": ARN,
        "repository": "acme-user/churn-model",
        "run_url": RUN_URL,
    }
    assert github.posts == 0
    assert lines == [
        {
            **INFO,
            "message": "duplicate: this approval was already dispatched, nothing to do",
            **CONTEXT,
            "outcome": "duplicate",
            "reason": "already-dispatched",
            "run_url": RUN_URL,
        }
    ]


@pytest.mark.parametrize(
    ("record", "error_type", "reason", "error"),
    [
        (
            _existing("FAILED", error="GitHub answered 404"),
            "PreviouslyFailedError",
            "previously-failed",
            f"dispatch of this approval already failed permanently (event {OTHER_EVENT}); "
            "not calling GitHub again: GitHub answered 404",
        ),
        (
            _existing("UNKNOWN", error="read timed out"),
            "GitHubOutcomeUnknownError",
            "outcome-unknown",
            f"an earlier dispatch of this approval (event {OTHER_EVENT}) got no usable answer "
            "from GitHub and may have run; not dispatching again: read timed out",
        ),
        (
            _existing("IN_PROGRESS", lease=NOW - 1),
            "UnfinishedClaimError",
            "unfinished-claim",
            f"the invocation that claimed this approval (event {OTHER_EVENT}) ended without "
            "recording an outcome; it may have dispatched, so this one does not: check the "
            "repository's Actions runs, re-approve the package to redeploy",
        ),
    ],
    ids=["failed", "unknown", "unfinished"],
)
def test_an_approval_that_ended_badly_is_not_dispatched_again(
    capsys: pytest.CaptureFixture[str],
    record: dict[str, Any],
    error_type: str,
    reason: str,
    error: str,
) -> None:
    github = _GitHub()

    raised, lines = _run(_DynamoDB(existing=record), github, capsys)

    assert (type(raised).__name__, str(raised)) == (error_type, error)
    assert github.posts == 0
    assert lines == [
        {
            **ERROR,
            "message": "not dispatching this approval again",
            **CONTEXT,
            "outcome": "failed",
            "reason": reason,
            "error": error,
        }
    ]


def test_an_approval_another_invocation_is_dispatching_is_retried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    github = _GitHub()
    record = _existing("IN_PROGRESS", lease=NOW)
    error = (
        f"another invocation is dispatching this approval (event {OTHER_EVENT}); "
        "Lambda will retry this one"
    )

    raised, lines = _run(_DynamoDB(existing=record), github, capsys)

    assert (type(raised).__name__, str(raised)) == ("DispatchInProgressError", error)
    assert github.posts == 0
    assert lines == [
        {
            "level": "WARNING",
            "logger": "github_trigger",
            "message": "another invocation holds the claim, retrying later",
            **CONTEXT,
            "outcome": "retry",
            "reason": "in-progress",
            "error": error,
        }
    ]


# --- Permanent failures -------------------------------------------------------------------------

NOT_FOUND = (
    f"GitHub answered 404 to {DISPATCH}: Not Found (the repository or workflow file does not "
    "exist, or the token cannot see the repository)"
)
PERMANENT = "dispatch failed permanently; retries of this event will not call GitHub"


def test_a_rejected_dispatch_is_recorded_as_failed(capsys: pytest.CaptureFixture[str]) -> None:
    dynamodb = _DynamoDB()

    raised, lines = _run(dynamodb, _GitHub(404, {"message": "Not Found"}), capsys)

    assert (type(raised).__name__, str(raised)) == ("GitHubRequestRejectedError", NOT_FOUND)
    [update] = dynamodb.updates
    assert (update[":status"], update[":error"]) == ({"S": "FAILED"}, {"S": NOT_FOUND})
    assert lines == [
        {
            **ERROR,
            "message": PERMANENT,
            **CONTEXT,
            "outcome": "failed",
            "reason": "github-rejected",
            "error": NOT_FOUND,
            "error_type": "GitHubRequestRejectedError",
            "recorded": True,
        }
    ]


def test_a_failure_that_could_not_be_recorded_is_logged_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dynamodb = _DynamoDB(errors={"update_item": _client_error("InternalServerError", "Update")})

    raised, lines = _run(dynamodb, _GitHub(404, {"message": "Not Found"}), capsys)

    assert str(raised) == NOT_FOUND
    assert lines == [
        {
            **ERROR,
            "message": "could not record the failure; the claim expires with its lease",
            **CONTEXT,
            "error": "DynamoDB update_item on 'ledger' failed: InternalServerError",
            "error_type": "AwsServiceError",
        },
        {
            **ERROR,
            "message": PERMANENT,
            **CONTEXT,
            "outcome": "failed",
            "reason": "github-rejected",
            "error": NOT_FOUND,
            "error_type": "GitHubRequestRejectedError",
            "recorded": False,
        },
    ]


def test_a_dispatch_whose_answer_was_lost_is_recorded_as_unknown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dynamodb = _DynamoDB()
    github = _GitHub(error=requests.exceptions.ReadTimeout("read timed out"))

    raised, lines = _run(dynamodb, github, capsys)

    error = (
        f"{DISPATCH} got no usable answer: ReadTimeout (read timeout 2s); GitHub may have "
        "accepted the dispatch, so it is not sent again: check the repository's Actions runs, "
        "re-approve to redeploy"
    )
    assert (type(raised).__name__, str(raised)) == ("GitHubOutcomeUnknownError", error)
    [update] = dynamodb.updates
    assert (update[":status"], update[":error"]) == ({"S": "UNKNOWN"}, {"S": error})
    assert lines == [
        {
            **ERROR,
            "message": PERMANENT,
            **CONTEXT,
            "outcome": "failed",
            "reason": "outcome-unknown",
            "error": error,
            "error_type": "GitHubOutcomeUnknownError",
            "recorded": True,
        }
    ]


# --- Refused or ignored before any claim --------------------------------------------------------


def _handle_payload(
    payload: Any, capsys: pytest.CaptureFixture[str], allowed: str = ALLOWED_TARGETS
) -> tuple[Any, list[dict[str, Any]]]:
    settings = load_settings({"IDEMPOTENCY_TABLE_NAME": "ledger", "ALLOWED_TARGETS": allowed})
    dynamodb = _DynamoDB(errors={"put_item": AssertionError("nothing is claimed")})
    runtime = handler.build_runtime(
        settings, secrets_client=_Secrets, dynamodb_client=lambda: dynamodb
    )
    capsys.readouterr()
    try:
        outcome: Any = handler.handle(runtime, payload, LambdaContext())
    except Exception as e:
        outcome = e
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    for line in lines:
        line.pop("timestamp")
    return outcome, lines


def test_an_invalid_payload_is_logged_and_raised(capsys: pytest.CaptureFixture[str]) -> None:
    raised, lines = _handle_payload(["not", "an", "object"], capsys)

    assert (type(raised).__name__, str(raised)) == (
        "InvalidEventError",
        "payload must be a JSON object, got list",
    )
    assert lines == [
        {
            **ERROR,
            "message": "invalid invocation payload, nothing dispatched",
            "outcome": "failed",
            "reason": "invalid-event",
            "error": "payload must be a JSON object, got list",
            "aws_request_id": CONTEXT["aws_request_id"],
        }
    ]


def test_a_target_the_plan_did_not_configure_is_ignored_with_its_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = "deploy.yml on main in acme-user/churn-model is not a target this plan configured"

    result, lines = _handle_payload(load_fixture("model_package_approved"), capsys, allowed="")

    assert result == {
        "outcome": "ignored",
        "reason": reason,
        "reason_code": "not-configured",
        "model_package_arn": ARN,
        "repository": "acme-user/churn-model",
    }
    assert lines == [
        {
            **INFO,
            "message": f"ignored: {reason}",
            "outcome": "ignored",
            "reason": "not-configured",
            "detail": reason,
            "model_package_arn": ARN,
            "repository": "acme-user/churn-model",
            "workflow": "deploy.yml",
            "ref": "main",
            "aws_request_id": CONTEXT["aws_request_id"],
        }
    ]


class _BrokenLogger:
    """A logger whose every call raises (a full disk, a closed stream...)."""

    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any, **__: Any) -> None:
            raise OSError("log stream closed")

        return fail


def test_logging_that_fails_never_turns_a_dispatch_into_a_retry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(handler, "logger", _BrokenLogger())
    dynamodb = _DynamoDB(errors={"update_item": RuntimeError("connection reset")})

    result, lines = _run(dynamodb, _GitHub(204), capsys)

    assert (result["outcome"], result["recorded"]) == ("dispatched", False)
    assert lines == []


def test_the_api_run_url_is_scrubbed_of_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    body = {"run_url": f"https://api.github.com/{TOKEN}/runs/7"}

    result, lines = _run(_DynamoDB(), _GitHub(200, body), capsys)

    assert result["run_url"] == "https://api.github.com/***/runs/7"
    assert lines[0]["run_api_url"] == "https://api.github.com/***/runs/7"
