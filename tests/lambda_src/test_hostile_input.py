"""Hostile input to the trigger: refs that are not refs, and GitHub answers echoing the token.

A ``ref`` with a newline, control characters or over 255 characters is an invalid event (a
``NonRetryableError`` logged with reason ``invalid-event``, GitHub never called), never an
uncaught ``ValueError``. Every string taken from GitHub's answer reaches exceptions, the ledger
and the logs with the token replaced by ``***``.
"""

from __future__ import annotations

import json
from typing import Any

import handler
import pytest
import requests
from github_trigger.config import parse_invocation, valid_ref
from github_trigger.dispatch import _interpret, scrub
from github_trigger.errors import (
    GitHubRequestRejectedError,
    GitHubUnavailableError,
    InvalidEventError,
    NonRetryableError,
)

from tests.lambda_src.trigger_support import TOKEN, LambdaContext, TriggerEnv, load_fixture
from tests.support.fake_github import FakeResponse

APPROVED = "model_package_approved"
ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model-p-abc123def456/3"
HOSTILE_REFS = [
    "main\nX-Injected: 1",
    "main\n",
    "\nmain",
    "ma\x00in",
    "main\r",
    "\x1b[31mmain",
    "main\t",
    "a" * 256,
    "feature/../../etc",
    "-main",
    "main.lock",
    "refs/heads/ma in",
    "release/",
    ".hidden",
    "a//b",
]


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    return handler.handler(payload, LambdaContext())


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("ref", HOSTILE_REFS)
def test_hostile_ref_is_an_invalid_event_not_a_crash(ref: str) -> None:
    payload = load_fixture(APPROVED)
    payload["github"]["ref"] = ref
    with pytest.raises(InvalidEventError) as raised:
        parse_invocation(payload)
    message = str(raised.value)
    assert message.startswith("github.ref must be a branch or tag name")
    assert "\n" not in message and "\x00" not in message and "\x1b" not in message
    assert len(message) < 400


@pytest.mark.parametrize(
    "ref", ["main", "release/1.2", "refs/heads/main", "refs/tags/v1.0.0", "a" * 255, "feat_x-y"]
)
def test_real_refs_still_pass(ref: str) -> None:
    assert valid_ref(ref)
    payload = load_fixture(APPROVED)
    payload["github"]["ref"] = ref
    assert parse_invocation(payload).target.ref == ref  # type: ignore[union-attr]


def test_hostile_ref_fails_permanently_with_a_logged_reason(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = load_fixture(APPROVED)
    payload["github"]["ref"] = "main\nX-Injected: 1"
    for _ in range(2):  # Lambda's retry of the event fails the same way, and calls nothing
        with pytest.raises(InvalidEventError) as raised:
            invoke(payload)
        assert isinstance(raised.value, NonRetryableError)
    assert trigger_env.github.requests == []
    lines = [entry for entry in log_lines(capsys.readouterr().out) if entry.get("outcome")]
    assert [(e["outcome"], e["reason"]) for e in lines] == [("failed", "invalid-event")] * 2
    assert all("github.ref must be a branch or tag name" in e["error"] for e in lines)


# The dispatch operation's description lists 200 and 204 only; GitHub's errors are its
# basic-error ("Troubleshooting the REST API"), here with the token echoed in the message.
UNDOCUMENTED = "create-workflow-dispatch error echoing the token (description: 200, 204 only)"
ECHOES = [
    (401, {"message": f"Bad credentials: token {TOKEN} is not valid"}),
    (422, {"message": "Validation Failed", "errors": [f"Authorization: token {TOKEN}"]}),
    (404, {"message": "Not Found " + "x" * 280 + TOKEN}),  # cut inside the token
]


@pytest.mark.parametrize(("status", "body"), ECHOES)
def test_token_echoed_by_github_never_reaches_error_ledger_or_log(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str], status: int, body: Any
) -> None:
    trigger_env.github.enqueue(FakeResponse(status=status, body=body, undocumented=UNDOCUMENTED))
    with pytest.raises(GitHubRequestRejectedError) as raised:
        invoke(load_fixture(APPROVED))
    assert trigger_env.github.requests[0].headers["authorization"] == f"token {TOKEN}"
    prefix = TOKEN[:12]
    assert prefix not in str(raised.value)
    if status != 404:
        assert "***" in str(raised.value)
    item = trigger_env.item(ARN)
    assert item is not None and prefix not in json.dumps(item)
    captured = capsys.readouterr()
    assert prefix not in captured.out and prefix not in captured.err


def test_token_in_a_server_error_and_a_redirect_is_scrubbed(trigger_env: TriggerEnv) -> None:
    trigger_env.github.enqueue(
        FakeResponse(status=502, body={"message": f"upstream {TOKEN}"}, undocumented=UNDOCUMENTED)
    )
    with pytest.raises(GitHubUnavailableError) as raised:
        invoke(load_fixture(APPROVED))
    assert TOKEN not in str(raised.value) and "upstream ***" in str(raised.value)
    trigger_env.github.enqueue(
        FakeResponse(
            status=301,
            headers={"Location": f"https://evil.example/{TOKEN}/x"},
            body={"message": "Moved Permanently", "documentation_url": "https://x"},
            undocumented=UNDOCUMENTED,
        )
    )
    with pytest.raises(GitHubRequestRejectedError) as moved:
        invoke(load_fixture(APPROVED))
    assert TOKEN not in str(moved.value) and "https://evil.example/***/x" in str(moved.value)


def test_run_urls_and_non_json_bodies_are_scrubbed() -> None:
    accepted = requests.Response()
    accepted.status_code = 200
    accepted._content = json.dumps(
        {"workflow_run_id": 1, "html_url": f"https://github.com/o/r/actions/runs/1/{TOKEN}"}
    ).encode()
    result = _interpret(accepted, "/repos/o/r/actions/workflows/d.yml/dispatches", TOKEN)
    assert result.html_url == "https://github.com/o/r/actions/runs/1/***"
    text = requests.Response()
    text.status_code = 400
    text._content = f"<html>bad request from {TOKEN}</html>".encode()
    with pytest.raises(GitHubRequestRejectedError) as raised:
        _interpret(text, "/p", TOKEN)
    assert TOKEN not in str(raised.value) and "from ***" in str(raised.value)
    assert scrub("a%2Fb", "a/b") == "***"  # URL-encoded too
    assert scrub("unchanged", "") == "unchanged"


def test_secret_field_names_that_could_be_the_token_are_not_shown(
    trigger_env: TriggerEnv,
) -> None:
    trigger_env.secrets.put_secret_value(
        SecretId="sagemaker-github-token", SecretString=json.dumps({TOKEN: "", "tokn": "x"})
    )
    with pytest.raises(NonRetryableError) as raised:
        invoke(load_fixture(APPROVED))
    assert TOKEN[:12] not in str(raised.value)
    assert "fields present: ['tokn'] and 1 other(s) not shown" in str(raised.value)
