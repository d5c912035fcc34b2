"""Dispatches a GitHub Actions workflow and classifies every possible answer.

The call is ``POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches``. What GitHub
documents for it (REST API "Create a workflow dispatch event", and the changelog entry
"Workflow dispatch API now returns run IDs", 2026-02-19): ``204 No Content``; or, when the body
sets ``return_run_details: true``, ``200 OK`` with ``workflow_run_id``, ``run_url`` and
``html_url``. Errors carry ``{"message": ..., "documentation_url": ...}``. The REST API answers
a request for a renamed or transferred repository with a redirect (``301``; ``307`` for
methods other than GET, see "HTTP redirects" in the REST API overview). A server that does not
know ``return_run_details`` (older GitHub Enterprise Server) answers 400/422 naming it; the
dispatch is sent once more without it and the dispatcher remembers not to send it again.

Every outcome falls in one of four classes, and only the first counts as a dispatch:

* **accepted**: any 2xx, whatever its body or headers look like (a malformed body only loses the
  run details);
* **not accepted, retryable** (``RetryableError``): 429, a rate-limit 403, 500/502/503 and other
  5xx except 504, or a failure to connect (nothing was sent);
* **not accepted, permanent** (``GitHubRequestRejectedError``): other 4xx, and every 3xx (the
  repository moved: the error names the new location, the config must be updated; redirects are
  never followed);
* **unknown** (``GitHubOutcomeUnknownError``): the request may have reached GitHub but no usable
  answer came back: read timeout, connection lost after connecting, ``504 Gateway Timeout``, a
  status outside 2xx-5xx, any unexpected exception. Retrying could dispatch twice.

Requests go through ``requests`` (the layer ships it and its dependencies, nothing else) on a
fresh session per request: no connection reuse, so a connection the server closed while the
function was frozen cannot turn into an ambiguous failure. Timeouts: ``(connect, read)`` from
the time budget.
Error messages name the API path, never the base URL's credentials or the token: every string
taken from GitHub's answer (message, errors, a non-JSON body, ``Location``, run URLs) has the
token replaced by ``***`` before it reaches an exception, the ledger or a log (:func:`scrub`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from github_trigger.config import GitHubTarget, redact_url
from github_trigger.errors import (
    GitHubOutcomeUnknownError,
    GitHubRateLimitedError,
    GitHubRequestRejectedError,
    GitHubUnavailableError,
    RetryableError,
    TriggerError,
)

USER_AGENT = "sagemaker-github-workflow-trigger"
API_VERSION = "2022-11-28"
_MAX_MESSAGE_CHARS = 300
#: How GitHub words a secondary rate limit that carries no rate-limit header (lower case).
_SECONDARY_RATE_LIMIT = "secondary rate limit"

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


class HttpSession(Protocol):
    """The part of ``requests.Session`` the dispatcher uses (tests substitute a fake)."""

    def post(
        self,
        url: str,
        *,
        json: Any,
        headers: Mapping[str, str],
        timeout: tuple[float, float],
        allow_redirects: bool,
    ) -> requests.Response: ...

    def close(self) -> None: ...


class RequestBudgetExhaustedError(RetryableError):
    """The invocation already made its ``MAX_GITHUB_REQUESTS`` GitHub requests (none accepted)."""


class RequestCounter:
    """Counts one invocation's GitHub requests against the time budget's maximum and, when
    Lambda tells the time left, refuses a request that could not finish and be recorded in it
    (a function timeout changed outside Terraform, a slow cold start)."""

    def __init__(
        self,
        limit: int,
        *,
        seconds_left: Callable[[], float] | None = None,
        seconds_needed: float = 0.0,
    ) -> None:
        self.limit = limit
        self.used = 0
        self._seconds_left = seconds_left
        self._seconds_needed = seconds_needed

    def take(self, path: str) -> None:
        """Count one request, or raise (nothing sent) when the budget has none left."""
        if self.used >= self.limit:
            raise RequestBudgetExhaustedError(
                f"POST {path} not sent: this invocation already made {self.used} GitHub "
                "requests, the most its time budget allows; Lambda will retry"
            )
        if self._seconds_left is not None:
            left = self._seconds_left()
            if left < self._seconds_needed:
                raise RequestBudgetExhaustedError(
                    f"POST {path} not sent: {left:.1f} s left in this invocation, a request and "
                    f"the record of its outcome need up to {self._seconds_needed:.0f} s (is the "
                    "function timeout the one Terraform derived?); Lambda will retry"
                )
        self.used += 1


@dataclass(frozen=True, kw_only=True)
class DispatchResult:
    """What GitHub returned for an accepted dispatch (all None when it answered 204)."""

    status: int
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
    """Creates workflow dispatch events (see the module docstring for the outcome classes)."""

    def __init__(
        self,
        *,
        api_url: str,
        connect_timeout_seconds: float,
        read_timeout_seconds: float,
        session_factory: Callable[[], HttpSession] = requests.Session,
    ) -> None:
        self._api_url = api_url
        self._timeout = (connect_timeout_seconds, read_timeout_seconds)
        self._session_factory = session_factory
        self._run_details_supported = True

    def dispatch(
        self,
        *,
        token: str,
        target: GitHubTarget,
        inputs: Mapping[str, str],
        counter: RequestCounter,
    ) -> DispatchResult:
        """Dispatch ``target.workflow`` on ``target.ref`` with ``inputs``.

        Returns only when GitHub answered 2xx. Raises RetryableError (not accepted, try
        again), GitHubRequestRejectedError (not accepted, permanent) or
        GitHubOutcomeUnknownError (may have been accepted: do not try again).
        """
        body: dict[str, Any] = {"ref": target.ref, "inputs": dict(inputs)}
        if not self._run_details_supported:
            return self._post(token, target, body, counter)
        try:
            return self._post(token, target, {**body, "return_run_details": True}, counter)
        except GitHubRequestRejectedError as e:
            if e.status in (400, 422) and "return_run_details" in str(e):
                self._run_details_supported = False
                return self._post(token, target, body, counter)
            raise

    def _post(
        self, token: str, target: GitHubTarget, body: dict[str, Any], counter: RequestCounter
    ) -> DispatchResult:
        path = dispatch_path(target)
        counter.take(path)
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"token {token}",
            "User-Agent": USER_AGENT,
            "X-GitHub-Api-Version": API_VERSION,
        }
        session = self._session_factory()
        try:
            try:
                response = session.post(
                    self._api_url + path,
                    json=body,
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except Exception as e:
                if _not_sent(e):
                    raise GitHubUnavailableError(
                        f"POST {path} failed before reaching GitHub: {type(e).__name__} "
                        f"(connect timeout {self._timeout[0]}s); Lambda will retry"
                    ) from e
                raise GitHubOutcomeUnknownError(
                    f"POST {path} got no usable answer: {type(e).__name__} (read timeout "
                    f"{self._timeout[1]}s); GitHub may have accepted the dispatch, so it is not "
                    "sent again: check the repository's Actions runs, re-approve to redeploy"
                ) from e
            try:
                return _interpret(response, path, token)
            except TriggerError:
                raise
            except Exception as e:  # a bug or a bizarre answer: GitHub may have accepted
                raise GitHubOutcomeUnknownError(
                    f"POST {path}: could not read GitHub's answer ({type(e).__name__}); it may "
                    "have accepted the dispatch, so it is not sent again"
                ) from e
        finally:
            with contextlib.suppress(Exception):  # closing must not change the outcome
                session.close()


def _not_sent(e: BaseException) -> bool:
    """Whether ``e`` proves that the request never left this machine."""
    if isinstance(e, requests.exceptions.ConnectTimeout | requests.exceptions.InvalidURL):
        return True
    if isinstance(e, requests.exceptions.ConnectionError) and e.args:
        reason = e.args[0]
        if isinstance(reason, MaxRetryError):
            return isinstance(reason.reason, NewConnectionError)
    return False


def scrub(text: str, token: str) -> str:
    """``text`` with every occurrence of ``token`` (as sent, or URL-encoded) replaced by ``***``.

    GitHub echoes parts of a request in some answers (and a server in between may echo the
    ``Authorization`` header): nothing GitHub returns is logged or raised without this."""
    if not token:
        return text
    for form in {token, quote(token, safe="")}:
        text = text.replace(form, "***")
    return text


def _interpret(response: requests.Response, path: str, token: str = "") -> DispatchResult:
    status = response.status_code
    if not isinstance(status, int):
        raise GitHubOutcomeUnknownError(f"POST {path}: GitHub's answer has no usable status")
    if 200 <= status < 300:
        return _accepted(response, status, token)
    message = f"GitHub answered {status} to POST {path}: {_github_message(response, token)}"
    if 300 <= status < 400:
        location = _header(response, "location")
        moved_to = scrub(redact_url(location), token) if location else "no Location header"
        raise GitHubRequestRejectedError(
            f"{message} (the repository or workflow moved to {moved_to}; nothing was "
            "dispatched: update the config's owner/repository and re-approve)",
            status=status,
        )
    if _is_rate_limited(response, status):
        raise GitHubRateLimitedError(f"{message} (rate limited; Lambda will retry)")
    if status == 504:
        raise GitHubOutcomeUnknownError(
            f"{message} (gateway timeout: GitHub may have accepted the dispatch, so it is not "
            "sent again: check the repository's Actions runs, re-approve to redeploy)"
        )
    if 500 <= status < 600:
        raise GitHubUnavailableError(f"{message} (server error; Lambda will retry)")
    if 400 <= status < 500:
        hint = _REJECTION_HINTS.get(status, "GitHub rejected the request")
        raise GitHubRequestRejectedError(f"{message} ({hint})", status=status)
    raise GitHubOutcomeUnknownError(f"{message} (not an HTTP status GitHub documents)")


def _accepted(response: requests.Response, status: int, token: str = "") -> DispatchResult:
    """The dispatch was accepted: nothing in the answer's body may raise from here."""
    try:
        data = response.json() if response.content else None
    except Exception:
        data = None
    if not isinstance(data, dict):
        return DispatchResult(status=status, workflow_run_id=None, run_url=None, html_url=None)
    run_id = data.get("workflow_run_id")
    return DispatchResult(
        status=status,
        workflow_run_id=run_id
        if isinstance(run_id, int) and not isinstance(run_id, bool)
        else None,
        run_url=_url_or_none(data.get("run_url"), token),
        html_url=_url_or_none(data.get("html_url"), token),
    )


def _url_or_none(value: object, token: str = "") -> str | None:
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 2048:
        return None
    return scrub(redact_url(value), token)


def _header(response: requests.Response, name: str) -> str | None:
    try:
        value = response.headers.get(name)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _github_message(response: requests.Response, token: str = "") -> str:
    """GitHub's error text, scrubbed of the token before it is cut to length (a cut token
    would otherwise leave its prefix behind)."""
    parts: list[str] = []
    try:
        data = response.json()
    except Exception:
        data = None
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
    elif data is None:
        try:
            text = response.text.strip()
        except Exception:
            text = ""
        if text:
            parts.append(f"non-JSON body: {scrub(text, token)[:100]!r}")
    text = scrub("; ".join(parts), token) or "no message"
    return text[:_MAX_MESSAGE_CHARS]


def _is_rate_limited(response: requests.Response, status: int) -> bool:
    """GitHub's documented signals (REST API docs, "Rate limits for the REST API", "Exceeding
    the rate limit"): a 403 or 429 with ``x-ratelimit-remaining: 0`` (primary limit) or a
    ``retry-after`` header (secondary limit). A secondary limit may come with neither header;
    then only its error message says so ("You have exceeded a secondary rate limit")."""
    if status == 429:
        return True
    if status != 403:
        return False
    if _header(response, "x-ratelimit-remaining") == "0":
        return True
    if _header(response, "retry-after") is not None:
        return True
    return _SECONDARY_RATE_LIMIT in _github_message(response).lower()
