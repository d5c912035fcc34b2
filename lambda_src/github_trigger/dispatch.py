"""Dispatches a GitHub Actions workflow through PyGithub's requester, and classifies failures.

The call is ``POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`` with
``return_run_details: true`` (GitHub.com, since February 2026, answers ``200`` with
``workflow_run_id``, ``run_url`` and ``html_url``; without run details it answers ``204``).
When a server rejects that field (older GitHub Enterprise Server), the dispatch is sent once more
without it. PyGithub's retries and request throttling are off: Lambda's asynchronous retries are
the retry mechanism, and every request has the configured timeout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException, RateLimitExceededException

from github_trigger.config import GitHubTarget
from github_trigger.errors import (
    GitHubRateLimitedError,
    GitHubRequestRejectedError,
    GitHubUnavailableError,
)

USER_AGENT = "sagemaker-github-workflow-trigger"

_REJECTION_HINTS = {
    400: "GitHub could not parse the request",
    401: "the token is invalid, expired or revoked; update the token secret",
    403: (
        "the token may not dispatch workflows in this repository "
        "(fine-grained: Actions read and write; classic: repo scope)"
    ),
    404: ("the repository or workflow file does not exist, or the token cannot see the repository"),
    422: (
        "GitHub refused the dispatch: the workflow must declare 'on: workflow_dispatch' with an "
        "input named model_package_arn, and the ref must exist"
    ),
}


@dataclass(frozen=True, kw_only=True)
class DispatchResult:
    """What GitHub returned for an accepted dispatch (all None when it answered 204)."""

    workflow_run_id: int | None
    run_url: str | None
    """API URL of the run (``run_url``), when GitHub returned run details."""
    html_url: str | None
    """Browser URL of the run (``html_url``), when GitHub returned run details."""


def dispatch_path(target: GitHubTarget) -> str:
    """API path (relative to the API base URL) of the target workflow's dispatch endpoint."""
    return (
        f"/repos/{quote(target.owner, safe='')}/{quote(target.repository, safe='')}"
        f"/actions/workflows/{quote(target.workflow, safe='')}/dispatches"
    )


class WorkflowDispatcher:
    """Creates workflow dispatch events; keeps one PyGithub client per token for keep-alive."""

    def __init__(self, *, api_url: str, timeout_seconds: int) -> None:
        self._api_url = api_url
        self._timeout_seconds = timeout_seconds
        self._client: Github | None = None
        self._client_key: str | None = None

    def dispatch(
        self, *, token: str, target: GitHubTarget, inputs: Mapping[str, str]
    ) -> DispatchResult:
        """Dispatch ``target.workflow`` on ``target.ref`` with ``inputs``.

        Raises GitHubUnavailableError / GitHubRateLimitedError (retryable) or
        GitHubRequestRejectedError (permanent, with the HTTP status).
        """
        body: dict[str, Any] = {"ref": target.ref, "inputs": dict(inputs)}
        try:
            return self._post(token, target, {**body, "return_run_details": True})
        except GitHubRequestRejectedError as e:
            if e.status in (400, 422) and "return_run_details" in str(e):
                return self._post(token, target, body)
            raise

    def _post(self, token: str, target: GitHubTarget, body: dict[str, Any]) -> DispatchResult:
        path = dispatch_path(target)
        requester = self._github(token).requester
        try:
            _, data = requester.requestJsonAndCheck("POST", path, input=body)
        except GithubException as e:
            raise _classify(e, path) from e
        except requests.exceptions.RequestException as e:
            raise GitHubUnavailableError(
                f"POST {path} failed without an HTTP answer: {type(e).__name__} "
                f"(timeout {self._timeout_seconds}s)"
            ) from e
        if isinstance(data, dict):
            run_id = data.get("workflow_run_id")
            return DispatchResult(
                workflow_run_id=run_id if isinstance(run_id, int) else None,
                run_url=_str_or_none(data.get("run_url")),
                html_url=_str_or_none(data.get("html_url")),
            )
        return DispatchResult(workflow_run_id=None, run_url=None, html_url=None)

    def _github(self, token: str) -> Github:
        key = hashlib.sha256(token.encode()).hexdigest()
        if self._client is None or self._client_key != key:
            if self._client is not None:
                self._client.close()
            self._client = Github(
                base_url=self._api_url,
                auth=Auth.Token(token),
                timeout=self._timeout_seconds,
                retry=None,
                seconds_between_requests=None,
                seconds_between_writes=None,
                user_agent=USER_AGENT,
            )
            self._client_key = key
        return self._client

    def close(self) -> None:
        """Close the cached client's connections."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self._client_key = None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _github_message(e: GithubException) -> str:
    data = e.data
    parts: list[str] = []
    if isinstance(data, dict):
        message = data.get("message")
        if isinstance(message, str) and message:
            parts.append(message)
        errors = data.get("errors")
        if isinstance(errors, list):
            for item in errors[:5]:
                text = item.get("message") if isinstance(item, dict) else item
                if isinstance(text, str) and text:
                    parts.append(text)
    elif isinstance(data, str) and data:
        parts.append(data[:200])
    return "; ".join(parts) or "no message"


def _is_rate_limited(e: GithubException) -> bool:
    if isinstance(e, RateLimitExceededException) or e.status == 429:
        return True
    if e.status != 403:
        return False
    headers = {k.lower(): v for k, v in (e.headers or {}).items()}
    if headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers:
        return True
    return "rate limit" in _github_message(e).lower()


def _classify(
    e: GithubException, path: str
) -> GitHubRateLimitedError | GitHubUnavailableError | GitHubRequestRejectedError:
    message = f"GitHub answered {e.status} to POST {path}: {_github_message(e)}"
    if _is_rate_limited(e):
        return GitHubRateLimitedError(f"{message} (rate limited; Lambda will retry)")
    if e.status >= 500:
        return GitHubUnavailableError(f"{message} (server error; Lambda will retry)")
    hint = _REJECTION_HINTS.get(e.status, "GitHub rejected the request")
    return GitHubRequestRejectedError(f"{message} ({hint})", status=e.status)
