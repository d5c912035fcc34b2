"""A deterministic world for fault injection: fake DynamoDB, Secrets Manager and GitHub API.

The handler runs unchanged (``handler.handle`` with ``handler.build_runtime``); only its three
outside boundaries are replaced:

* ``FakeDynamoDB``: the four operations the ledger uses, with the conditions it sends
  (unknown expressions fail the test, so the fake cannot silently drift from the ledger);
* ``FakeSecrets``: ``GetSecretValue``;
* ``FakeGitHubApi``: a ``requests.Session`` stand-in that answers like GitHub's dispatch endpoint
  documents (204, or 200 with run details when ``return_run_details`` is true; 401 for a wrong
  token; 422 naming ``return_run_details`` on a server that does not know it; errors as
  ``{"message": ..., "documentation_url": ...}``) and counts the dispatches it **accepted**.

Every call goes through ``World.call``, which records it and applies the injected ``Fault``.
Time is a number the test advances (Lambda's retry delays, redeliveries); nothing sleeps.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.parsers import ResponseParserError  # not a BotoCoreError: nothing classifies it
from requests.structures import CaseInsensitiveDict

from tests.support.fake_github import Exchange, FakeResponse, RecordedRequest, conformance_errors

DOCS = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"

# Fault kinds (the list; timeouts split by whether the request or the answer was lost).
TIMEOUT_REQUEST_LOST = "timeout (request lost)"
TIMEOUT_ANSWER_LOST = "timeout (answer lost)"
THROTTLE = "throttle"
SERVER_ERROR = "5xx"
GATEWAY_TIMEOUT = "5xx (504 after processing)"
MALFORMED = "malformed answer"
UNEXPECTED_BEFORE = "unexpected exception (before sending)"
UNEXPECTED_AFTER = "unexpected exception (after processing)"

AWS_KINDS = (
    TIMEOUT_REQUEST_LOST,
    TIMEOUT_ANSWER_LOST,
    THROTTLE,
    SERVER_ERROR,
    MALFORMED,
    UNEXPECTED_BEFORE,
    UNEXPECTED_AFTER,
)
GITHUB_KINDS = (*AWS_KINDS, GATEWAY_TIMEOUT)


class InjectedError(RuntimeError):
    """An exception no component expects (the "unexpected exception" fault)."""


@dataclass(frozen=True)
class Fault:
    """Fail the ``occurrence``-th call of ``operation`` (and, if ``persistent``, every later
    one) with ``kind``."""

    operation: str
    occurrence: int
    kind: str
    persistent: bool


@dataclass
class World:
    """Clock, call log and the fault being injected."""

    now: float = 1_800_000_000.0
    fault: Fault | None = None
    calls: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    injected: int = 0
    accepted_at_call: int | None = None
    """Index in ``calls`` of the GitHub request that first accepted the watched approval."""
    watched_arn: str | None = None

    def call(self, operation: str, apply: Callable[[], Any], kinds: Faults) -> Any:
        """Run ``apply`` (the real effect) unless the fault says otherwise."""
        self.counts[operation] += 1
        self.calls.append(operation)
        fault = self.fault
        hit = (
            fault is not None
            and fault.operation == operation
            and (
                self.counts[operation] == fault.occurrence
                or (fault.persistent and self.counts[operation] > fault.occurrence)
            )
        )
        if not hit:
            return apply()
        assert fault is not None
        self.injected += 1
        return kinds.fail(fault.kind, apply)


class Faults:
    """How one boundary fails with each kind (``apply`` performs the call's real effect)."""

    def fail(self, kind: str, apply: Callable[[], Any]) -> Any:
        raise NotImplementedError


def _client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class AwsFaults(Faults):
    def __init__(self, operation: str, throttle_code: str, malformed: Any) -> None:
        self.operation = operation
        self.throttle_code = throttle_code
        self.malformed = malformed

    def fail(self, kind: str, apply: Callable[[], Any]) -> Any:
        endpoint = "https://aws.invalid"
        if kind == TIMEOUT_REQUEST_LOST:
            raise ConnectTimeoutError(endpoint_url=endpoint)
        if kind == TIMEOUT_ANSWER_LOST:
            _processed(apply)
            raise ReadTimeoutError(endpoint_url=endpoint)
        if kind == THROTTLE:
            raise _client_error(self.throttle_code, 400, self.operation)
        if kind == SERVER_ERROR:
            raise _client_error("InternalServerError", 500, self.operation)
        if kind == MALFORMED:
            _processed(apply)
            if self.malformed is _RAISE_PARSER_ERROR:
                raise ResponseParserError("injected: unparseable response body")
            return self.malformed
        if kind == UNEXPECTED_BEFORE:
            raise InjectedError(f"injected before {self.operation}")
        if kind == UNEXPECTED_AFTER:
            _processed(apply)
            raise InjectedError(f"injected after {self.operation}")
        raise AssertionError(f"not an AWS fault kind: {kind}")


_RAISE_PARSER_ERROR = object()


def _processed(apply: Callable[[], Any]) -> None:
    """The service processed the call (a failed condition included); its answer is lost."""
    with suppress(ClientError):
        apply()


# --- DynamoDB ------------------------------------------------------------------------------------


def _condition_failed(operation: str) -> ClientError:
    return _client_error("ConditionalCheckFailedException", 400, operation)


class FakeDynamoDB:
    """The ledger's four operations on one in-memory table (hash key ``idempotency_key``)."""

    CLAIM_CONDITION = "attribute_not_exists(idempotency_key) OR expires_at < :now"
    OWNED_CONDITION = "claim_id = :claim_id"

    def __init__(self, world: World) -> None:
        self.world = world
        self.items: dict[str, dict[str, Any]] = {}
        self.puts: list[dict[str, Any]] = []

    def _call(self, operation: str, apply: Callable[[], Any], malformed: Any) -> Any:
        throttle = "ProvisionedThroughputExceededException"
        faults = AwsFaults(operation, throttle, malformed)
        return self.world.call(f"dynamodb.{operation}", apply, faults)

    def put_item(self, **kwargs: Any) -> Any:
        assert kwargs["ConditionExpression"] == self.CLAIM_CONDITION, kwargs
        item = kwargs["Item"]
        self.puts.append(item)
        key = item["idempotency_key"]["S"]
        now = int(kwargs["ExpressionAttributeValues"][":now"]["N"])

        def apply() -> dict[str, Any]:
            existing = self.items.get(key)
            if existing is not None and not int(existing["expires_at"]["N"]) < now:
                raise _condition_failed("PutItem")
            self.items[key] = json.loads(json.dumps(item))
            return {}

        return self._call("put_item", apply, _RAISE_PARSER_ERROR)

    def get_item(self, **kwargs: Any) -> Any:
        key = kwargs["Key"]["idempotency_key"]["S"]

        def apply() -> dict[str, Any]:
            item = self.items.get(key)
            return {"Item": json.loads(json.dumps(item))} if item is not None else {}

        return self._call("get_item", apply, ["not", "a", "GetItem", "answer"])

    def update_item(self, **kwargs: Any) -> Any:
        assert kwargs["ConditionExpression"] == self.OWNED_CONDITION, kwargs
        key = kwargs["Key"]["idempotency_key"]["S"]
        names = kwargs.get("ExpressionAttributeNames", {})
        values = kwargs["ExpressionAttributeValues"]
        set_part, _, remove_part = kwargs["UpdateExpression"].partition(" REMOVE ")
        assert set_part.startswith("SET "), set_part
        assignments = [a.split(" = ") for a in set_part[4:].split(", ")]

        def apply() -> dict[str, Any]:
            item = self.items.get(key)
            if item is None or item.get("claim_id") != values[":claim_id"]:
                raise _condition_failed("UpdateItem")
            for name, value in assignments:
                item[names.get(name, name)] = values[value]
            for name in filter(None, remove_part.split(", ")):
                item.pop(names.get(name, name), None)
            return {}

        return self._call("update_item", apply, _RAISE_PARSER_ERROR)

    def delete_item(self, **kwargs: Any) -> Any:
        assert kwargs["ConditionExpression"] == self.OWNED_CONDITION, kwargs
        key = kwargs["Key"]["idempotency_key"]["S"]
        claim_id = kwargs["ExpressionAttributeValues"][":claim_id"]

        def apply() -> dict[str, Any]:
            item = self.items.get(key)
            if item is None or item.get("claim_id") != claim_id:
                raise _condition_failed("DeleteItem")
            del self.items[key]
            return {}

        return self._call("delete_item", apply, _RAISE_PARSER_ERROR)


# --- Secrets Manager -----------------------------------------------------------------------------


class FakeSecrets:
    def __init__(self, world: World, value: str) -> None:
        self.world = world
        self.value = value

    def get_secret_value(self, SecretId: str) -> Any:
        faults = AwsFaults("GetSecretValue", "ThrottlingException", ["not", "an", "answer"])
        return self.world.call(
            "secretsmanager.get_secret_value", lambda: {"SecretString": self.value}, faults
        )


# --- GitHub --------------------------------------------------------------------------------------


def _response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers or {})
    if isinstance(body, bytes):
        response._content = body
    else:
        response._content = b"" if body is None else json.dumps(body).encode()
    return response


class GitHubFaults(Faults):
    def fail(self, kind: str, apply: Callable[[], Any]) -> Any:
        if kind == TIMEOUT_REQUEST_LOST:
            raise requests.exceptions.ConnectTimeout("injected: connect timed out")
        if kind == TIMEOUT_ANSWER_LOST:
            apply()
            raise requests.exceptions.ReadTimeout("injected: read timed out")
        if kind == THROTTLE:
            return _response(
                403,
                {"message": "API rate limit exceeded for installation.", "documentation_url": DOCS},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1800000600"},
            )
        if kind == SERVER_ERROR:
            return _response(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
        if kind == GATEWAY_TIMEOUT:
            apply()
            return _response(504, {"message": "Gateway Timeout", "documentation_url": DOCS})
        if kind == MALFORMED:
            # The answer GitHub decided on, with its body and rate-limit headers garbled.
            real = apply()
            return _response(
                real.status_code,
                b"\xff<not json",
                {"X-RateLimit-Reset": "soon", "X-RateLimit-Remaining": "many"},
            )
        if kind == UNEXPECTED_BEFORE:
            raise InjectedError("injected before sending")
        if kind == UNEXPECTED_AFTER:
            apply()
            raise InjectedError("injected after GitHub processed the request")
        raise AssertionError(f"not a GitHub fault kind: {kind}")


@dataclass
class FakeGitHubApi:
    """GitHub's dispatch endpoint; ``accepted`` lists the model package ARNs it dispatched."""

    world: World
    valid_token: str
    supports_run_details: bool = True
    reject_with: int | None = None
    """Answer every dispatch with this 4xx (the workflow file is missing, ...)."""
    fail_first_with: int | None = None
    """Answer the first request with this 5xx (a transient outage), then normally."""
    accepted: list[str] = field(default_factory=list)
    requests_seen: int = 0
    _run_ids: Iterator[int] = field(default_factory=lambda: itertools.count(9_000_001))

    def session(self) -> FakeGitHubApi:
        return self

    def close(self) -> None:
        return None

    def post(
        self,
        url: str,
        *,
        json: Any,
        headers: Any,
        timeout: tuple[float, float],
        allow_redirects: bool,
    ) -> Any:
        assert allow_redirects is False
        body = json

        def process() -> Any:
            self.requests_seen += 1
            if self.fail_first_with is not None and self.requests_seen == 1:
                return _response(self.fail_first_with, {"message": "Server Error"})
            if headers["Authorization"] != f"token {self.valid_token}":
                return _response(401, {"message": "Bad credentials", "documentation_url": DOCS})
            if self.reject_with is not None:
                return _response(
                    self.reject_with, {"message": "Not Found", "documentation_url": DOCS}
                )
            if "return_run_details" in body and not self.supports_run_details:
                return _response(
                    422,
                    {
                        "message": (
                            'Invalid request.\n\n"return_run_details" is not a permitted key.'
                        ),
                        "documentation_url": DOCS,
                    },
                )
            arn = body["inputs"]["model_package_arn"]
            self.accepted.append(arn)
            if arn == self.world.watched_arn and self.world.accepted_at_call is None:
                self.world.accepted_at_call = len(self.world.calls) - 1
            if body.get("return_run_details"):
                run_id = next(self._run_ids)
                return _response(
                    200,
                    {
                        "workflow_run_id": run_id,
                        "run_url": f"https://api.github.com/repos/o/r/actions/runs/{run_id}",
                        "html_url": f"https://github.com/o/r/actions/runs/{run_id}",
                    },
                )
            return _response(204)

        def conforming() -> Any:
            """The answer GitHub decided on, held (with the request) to GitHub's OpenAPI
            description; the faults above then garble or replace it deliberately."""
            answer = process()
            _assert_conforms(url, body, answer)
            return answer

        return self.world.call("github.post", conforming, GitHubFaults())


def _assert_conforms(url: str, body: Any, answer: Any) -> None:
    status = int(answer.status_code)
    documented = status in (200, 204)  # create-workflow-dispatch lists only these
    exchange = Exchange(
        request=RecordedRequest(method="POST", path=urlsplit(url).path, headers={}, body=body),
        response=FakeResponse(
            status=status,
            body=json.loads(answer.content) if answer.content else None,
            headers=dict(answer.headers),
            undocumented="" if documented else "a dispatch error GitHub sends (basic-error)",
        ),
    )
    errors = conformance_errors([exchange])
    assert errors == [], "\n".join(errors)


@contextmanager
def no_fault(world: World) -> Iterator[None]:
    """Run a block (setup, warm-up) without injecting or counting calls."""
    fault, calls, counts = world.fault, list(world.calls), Counter(world.counts)
    world.fault = None
    try:
        yield
    finally:
        world.fault, world.calls, world.counts = fault, calls, counts
