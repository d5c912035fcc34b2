"""Unit tests for corners the handler tests never reached (found by `make mutation`): how a
failed request is classified, which run URLs are kept, the allowlist's encoding, cutting long
values in messages, forgetting a token that was never cached."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from github_trigger.allowlist import DispatchTarget, decode_allowed_targets, encode_allowed_targets
from github_trigger.config import GitHubTarget, parse_invocation
from github_trigger.dispatch import RequestCounter, WorkflowDispatcher
from github_trigger.errors import (
    GitHubOutcomeUnknownError,
    GitHubUnavailableError,
    InvalidEventError,
)
from github_trigger.token_store import TokenStore
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from tests.lambda_src.trigger_support import load_fixture

TARGET = GitHubTarget(
    owner="acme",
    repository="churn-model",
    workflow="deploy.yml",
    ref="main",
    token_secret_name="sagemaker-github-token",
    model_package_group_name="churn-model-p-abc123def456",
)


class _Session:
    """A requests.Session stand-in that raises ``error`` or answers ``response``."""

    def __init__(self, *, error: BaseException | None = None, response: Any = None) -> None:
        self.error, self.response, self.closed = error, response, False

    def post(self, url: str, **_: Any) -> Any:
        if self.error is not None:
            raise self.error
        return self.response

    def close(self) -> None:
        self.closed = True


def _dispatch(session: _Session) -> Any:
    dispatcher = WorkflowDispatcher(
        api_url="https://api.github.invalid",
        connect_timeout_seconds=1,
        read_timeout_seconds=2,
        session_factory=lambda: session,
    )
    return dispatcher.dispatch(
        token="ghp_UnitTestToken0000000000000000000000",
        target=TARGET,
        inputs={"model_package_arn": "a"},
        counter=RequestCounter(3),
    )


def _new_connection_error() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [requests.exceptions.ConnectTimeout("connect timed out"), _new_connection_error()],
    ids=["connect timeout", "connection refused"],
)
def test_a_request_that_never_left_is_retryable(error: BaseException) -> None:
    session = _Session(error=error)
    with pytest.raises(GitHubUnavailableError, match="failed before reaching GitHub"):
        _dispatch(session)
    assert session.closed


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError(ProtocolError("Connection aborted.")),
        requests.exceptions.ConnectionError(MaxRetryError(None, "/x", ProtocolError("reset"))),  # type: ignore[arg-type]
        requests.exceptions.ConnectionError(),
    ],
    ids=["read timeout", "aborted", "reset after sending", "no detail"],
)
def test_a_request_that_may_have_arrived_is_never_sent_again(error: BaseException) -> None:
    with pytest.raises(GitHubOutcomeUnknownError, match="may have accepted the dispatch"):
        _dispatch(_Session(error=error))


def _answer(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response._content = body
    return response


@pytest.mark.parametrize(
    ("run_url", "kept"),
    [
        ("https://api.github.com/repos/acme/churn-model/actions/runs/7", True),
        ("http://api.github.com/repos/acme/churn-model/actions/runs/7", False),
        ("https://api.github.com/" + "r" * 2025, True),  # 2048 characters
        ("https://api.github.com/" + "r" * 2026, False),  # 2049
        (7, False),
    ],
)
def test_only_https_run_urls_of_at_most_2048_characters_are_kept(run_url: Any, kept: bool) -> None:
    import json  # noqa: PLC0415

    body = {"workflow_run_id": 7, "run_url": run_url, "html_url": run_url}
    result = _dispatch(_Session(response=_answer(200, json.dumps(body).encode())))
    assert result.workflow_run_id == 7
    assert (result.run_url == run_url) is kept
    assert (result.html_url == run_url) is kept
    if not kept:
        assert result.run_url is None and result.html_url is None


def test_a_run_id_that_is_not_an_integer_is_dropped() -> None:
    result = _dispatch(_Session(response=_answer(200, b'{"workflow_run_id": true}')))
    assert result.status == 200 and result.workflow_run_id is None


def test_allowed_targets_are_sorted_unique_digests_joined_by_commas() -> None:
    a = DispatchTarget(owner="acme", repository="one", workflow="deploy.yml", ref="main")
    b = DispatchTarget(owner="acme", repository="two", workflow="deploy.yml", ref="main")
    encoded = encode_allowed_targets([b, a, b])
    digests = sorted({a.digest(), b.digest()})
    assert encoded == f"{digests[0]},{digests[1]}"
    assert decode_allowed_targets(encoded) == frozenset(digests)
    assert encode_allowed_targets([]) == ""
    assert decode_allowed_targets("") == frozenset()


def test_long_untrusted_values_are_cut_in_messages() -> None:
    payload = load_fixture("model_package_approved")
    payload["event"]["id"] = ["x" * 300]  # not a string: refused, and shown cut
    with pytest.raises(InvalidEventError) as raised:
        parse_invocation(payload)
    text = str(raised.value)
    shown = repr(["x" * 300])
    assert f"{shown[:200]}... ({len(shown)} characters)" in text
    # a value whose repr is exactly 200 characters is shown whole, 201 are cut
    exact = ["y" * 196]
    assert len(repr(exact)) == 200
    payload["event"]["id"] = exact
    with pytest.raises(InvalidEventError) as raised:
        parse_invocation(payload)
    assert str(raised.value).endswith(f"got {exact!r}")
    payload["event"]["id"] = ["y" * 197]
    with pytest.raises(InvalidEventError) as raised:
        parse_invocation(payload)
    assert str(raised.value).endswith(f"got {repr(['y' * 197])[:200]}... (201 characters)")


def test_forgetting_a_token_that_was_never_cached_is_harmless() -> None:
    calls: list[str] = []

    class _Secrets:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            calls.append(SecretId)
            return {"SecretString": "ghp_token"}

    store = TokenStore(client_factory=_Secrets, cache_seconds=300, clock=lambda: 0.0)
    store.invalidate("never-read")
    store.get("s")
    store.get("s")  # cached
    store.invalidate("s")
    store.get("s")  # read again
    assert calls == ["s", "s"]
