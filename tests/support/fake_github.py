"""A local HTTP server standing in for the GitHub REST API in tests (127.0.0.1, free port).

It records every request (method, path, headers, JSON body) and answers from a queue of scripted
responses, falling back to a default (``204 No Content``, like GitHub's dispatch endpoint
without run details). Use it as a context manager::

    with running_fake_github() as gh:
        gh.enqueue(FakeResponse(status=500, body={"message": "boom"}))
        ...  # point the code under test at gh.api_url
        assert gh.requests[0].path == "/repos/acme/churn/actions/workflows/deploy.yml/dispatches"

With a :class:`FakeWorld` (``gh.world = FakeWorld(...)``), requests that no scripted response
answers are routed like the real REST API: tokens, repositories, branches, protection, rulesets,
users, teams and organization plans, with GitHub's status codes, scope headers and error bodies
(``{"message": ..., "documentation_url": ...}``). See :func:`route` for the endpoints and the
documentation each one follows.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from tests.support.github_openapi import description

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class FakeResponse:
    """One scripted answer; ``delay_seconds`` holds it back (to provoke client timeouts)."""

    status: int = 204
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    #: deliberately outside GitHub's description (fault injection: an HTML error page, a 5xx
    #: no operation documents, a body missing fields): :func:`conformance_errors` skips
    #: exactly these
    malformed: bool = False
    #: why GitHub sends this status although the operation's description does not list it (e.g.
    #: 403 "Resource not accessible by personal access token", "Troubleshooting the REST API");
    #: the body must still be GitHub's ``basic-error``
    undocumented: str = ""


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One request the fake received and what it answered."""

    request: RecordedRequest
    response: FakeResponse


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """A request the fake server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True, kw_only=True)
class FakeToken:
    """A token the fake accepts. ``owners``: the resource owners a fine-grained token or an App
    installation covers (``None``: every repository its user can see, like a classic token)."""

    kind: Literal["classic", "fine-grained", "app"] = "classic"
    login: str = "deployer"
    scopes: tuple[str, ...] = ("repo", "workflow", "read:org")
    owners: frozenset[str] | None = None
    #: fine-grained / App repository permissions granted (``None``: all of them)
    permissions: frozenset[str] | None = None


@dataclass(kw_only=True)
class FakeRepository:
    """A repository of the fake world (names compare case-insensitively, like GitHub's)."""

    owner: str
    name: str
    owner_type: Literal["Organization", "User"] = "Organization"
    default_branch: str = "main"
    branches: set[str] = field(default_factory=lambda: {"main"})
    archived: bool = False
    visibility: Literal["public", "private", "internal"] = "public"
    admin: bool = True
    collaborators: set[str] = field(default_factory=set)
    teams: set[str] = field(default_factory=set)
    #: branch -> the protection document GitHub returns (absent: "Branch not protected")
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: branch -> active ruleset rules (GET /repos/{o}/{r}/rules/branches/{b})
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(kw_only=True)
class FakeWorld:
    """What the routed fake knows. ``org_plans``: organization -> plan name, or ``None`` when
    the plan is hidden (GitHub shows ``plan`` to organization owners only)."""

    tokens: dict[str, FakeToken] = field(default_factory=dict)
    repositories: list[FakeRepository] = field(default_factory=list)
    users: set[str] = field(default_factory=set)
    teams: set[tuple[str, str]] = field(default_factory=set)  # (org, slug)
    org_plans: dict[str, str | None] = field(default_factory=dict)

    def repository(self, owner: str, name: str) -> FakeRepository | None:
        for repo in self.repositories:
            if (repo.owner.lower(), repo.name.lower()) == (owner.lower(), name.lower()):
                return repo
        return None


def _error(status: int, message: str, doc: str, headers: Mapping[str, str]) -> FakeResponse:
    body = {"message": message, "documentation_url": f"{DOCS}/{doc}", "status": str(status)}
    return FakeResponse(status=status, body=body, headers=headers)


def route(world: FakeWorld, method: str, path: str, headers: Mapping[str, str]) -> FakeResponse:
    """Answer one request like api.github.com (GET endpoints the preflight reads).

    Authentication: ``Authorization: Bearer <token>`` (or ``token <token>``); an unknown token
    gets 401 "Bad credentials". Classic tokens get ``X-OAuth-Scopes`` on every answer
    ("Scopes for OAuth apps": the header lists the token's scopes); fine-grained and App tokens
    get no such header. A repository the token cannot see is 404 "Not Found", exactly like one
    that does not exist ("Troubleshooting the REST API": GitHub answers 404, not 403, to hide
    private repositories).
    """
    auth = headers.get("authorization", "")
    token = world.tokens.get(auth.split(" ", 1)[1] if " " in auth else "")
    if token is None:
        return _error(401, "Bad credentials", "overview/troubleshooting-the-rest-api", {})
    scope_headers = (
        {"X-OAuth-Scopes": ", ".join(token.scopes), "X-Accepted-OAuth-Scopes": ""}
        if token.kind == "classic"
        else {}
    )
    if method != "GET":
        return _error(404, "Not Found", "overview/resources-in-the-rest-api", scope_headers)

    def ok(body: Any) -> FakeResponse:
        return FakeResponse(status=200, body=body, headers=scope_headers)

    def no_content() -> FakeResponse:
        return FakeResponse(status=204, headers=scope_headers)

    def not_found(doc: str, message: str = "Not Found") -> FakeResponse:
        return _error(404, message, doc, scope_headers)

    def denied(permission: str) -> FakeResponse | None:
        """403 for a fine-grained/App token without ``permission``, with the header GitHub
        sends such callers ("x-accepted-github-permissions: variables=read"; alternatives are
        separated by ';') and the body "Resource not accessible by personal access token"
        (by "integration" for Apps)."""
        if token.kind == "classic" or token.permissions is None:
            return None
        if permission.split("=", 1)[0] in token.permissions:
            return None
        by = "integration" if token.kind == "app" else "personal access token"
        return _error(
            403,
            f"Resource not accessible by {by}",
            "overview/troubleshooting-the-rest-api#resource-not-accessible",
            {"X-Accepted-GitHub-Permissions": permission},
        )

    def visible(repo: FakeRepository | None) -> FakeRepository | None:
        if repo is None:
            return None
        if token.owners is not None and repo.owner.lower() not in token.owners:
            return None
        return repo

    path = path.split("?", 1)[0].rstrip("/")
    if path == "/user":
        if token.kind == "app":
            # installation tokens act as the App, not a user
            return _error(
                403,
                "Resource not accessible by integration",
                "users/users#get-the-authenticated-user",
                scope_headers,
            )
        return ok({"login": token.login, "id": 1, "type": "User"})
    if m := re.fullmatch(r"/users/([^/]+)", path):
        if m.group(1).lower() in {u.lower() for u in world.users}:
            return ok({"login": m.group(1), "id": 2, "type": "User"})
        return not_found("users/users#get-a-user")
    if m := re.fullmatch(r"/orgs/([^/]+)", path):
        org = m.group(1).lower()
        plans = {k.lower(): v for k, v in world.org_plans.items()}
        if org not in plans:
            return not_found("orgs/orgs#get-an-organization")
        body: dict[str, Any] = {"login": m.group(1), "id": 3, "type": "Organization"}
        if plans[org] is not None:
            body["plan"] = {"name": plans[org], "space": 976562499, "private_repos": 999999}
        return ok(body)
    if m := re.fullmatch(r"/orgs/([^/]+)/teams/([^/]+)", path):
        if (m.group(1).lower(), m.group(2).lower()) in {(o.lower(), s) for o, s in world.teams}:
            return ok({"slug": m.group(2), "id": 4, "name": m.group(2)})
        return not_found("teams/teams#get-a-team-by-name")
    if m := re.fullmatch(r"/orgs/([^/]+)/teams/([^/]+)/repos/([^/]+)/([^/]+)", path):
        repo = visible(world.repository(m.group(3), m.group(4)))
        if repo is not None and m.group(2).lower() in repo.teams:
            # "Response if team has permission for the repository" (no repository media type)
            return no_content()
        return not_found("teams/teams#check-team-permissions-for-a-repository")
    m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
    repo = visible(world.repository(m.group(1), m.group(2))) if m else None
    if m is None or repo is None:
        return not_found("repos/repos#get-a-repository")
    rest = m.group(3) or ""
    if rest == "":
        body = {
            "name": repo.name,
            "full_name": f"{repo.owner}/{repo.name}",
            "owner": {"login": repo.owner, "type": repo.owner_type},
            "private": repo.visibility != "public",
            "visibility": repo.visibility,
            "archived": repo.archived,
            "default_branch": repo.default_branch,
        }
        if token.kind != "app":
            # the authenticated user's role; absent for installation tokens
            body["permissions"] = {
                "admin": repo.admin,
                "maintain": repo.admin,
                "push": True,
                "triage": True,
                "pull": True,
            }
        return ok(body)
    if c := re.fullmatch(r"/collaborators/([^/]+)", rest):
        # "Response if user is a collaborator" 204, "Not Found if user is not a collaborator"
        if c.group(1).lower() in {u.lower() for u in repo.collaborators}:
            return no_content()
        return not_found("collaborators/collaborators#check-if-a-user-is-a-repository-collaborator")
    if rest == "/actions/variables":
        return denied("variables=read") or ok({"total_count": 0, "variables": []})
    if rest == "/actions/secrets":
        return denied("secrets=read") or ok({"total_count": 0, "secrets": []})
    if b := re.fullmatch(r"/rules/branches/(.+)", rest):
        return ok(repo.rules.get(b.group(1), []))
    if b := re.fullmatch(r"/branches/(.+)/protection", rest):
        refused = denied("administration=read")
        if refused is not None:
            return refused
        if b.group(1) not in repo.branches:
            return not_found("branches/branch-protection#get-branch-protection", "Branch not found")
        if b.group(1) in repo.protection:
            return ok(repo.protection[b.group(1)])
        return not_found("branches/branch-protection#get-branch-protection", "Branch not protected")
    if b := re.fullmatch(r"/branches/(.+)", rest):
        if b.group(1) in repo.branches:
            return ok({"name": b.group(1), "protected": b.group(1) in repo.protection})
        return not_found("branches/branches#get-a-branch", "Branch not found")
    return not_found("repos/repos#get-a-repository")


class FakeGitHub:
    """State of a running fake GitHub API: scripted responses and recorded requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.exchanges: list[Exchange] = []
        self.default = FakeResponse()
        self.world: FakeWorld | None = None
        self._queue: deque[FakeResponse] = deque()
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        """Base URL to configure as the GitHub API URL."""
        return f"http://{LOOPBACK}:{self.port}"

    def enqueue(self, *responses: FakeResponse) -> None:
        """Answer the next requests with these responses, in order."""
        with self._lock:
            self._queue.extend(responses)

    def reset(self) -> None:
        """Forget recorded requests and scripted responses."""
        with self._lock:
            self.requests.clear()
            self.exchanges.clear()
            self._queue.clear()
            self.default = FakeResponse()
            self.world = None

    def _record_and_answer(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                answer = self._queue.popleft()
            elif self.world is not None:
                answer = route(self.world, request.method, request.path, request.headers)
            else:
                answer = self.default
            self.exchanges.append(Exchange(request=request, response=answer))
            return answer

    def conformance_errors(self) -> list[str]:
        """Every way the recorded requests and the answers given differ from GitHub's
        published description (:func:`conformance_errors`)."""
        with self._lock:
            exchanges = list(self.exchanges)
        return conformance_errors(exchanges)


def conformance_errors(exchanges: Iterable[Exchange]) -> list[str]:
    """Check each request (path, query, JSON body) and each answer (status, documented headers,
    body) against GitHub's OpenAPI description; answers marked ``malformed`` are skipped, those
    marked ``undocumented`` are held to GitHub's ``basic-error`` schema only."""
    spec = description()  # parsed once per process
    errors: list[str] = []
    for exchange in exchanges:
        request, answer = exchange.request, exchange.response
        errors.extend(spec.request_errors(request.method, request.path, request.body))
        if answer.malformed:
            continue
        if answer.undocumented:
            errors.extend(
                f"{request.method} {request.path} {answer.status} ({answer.undocumented}): {e}"
                for e in spec.schema_errors("#/components/schemas/basic-error", answer.body)
            )
            continue
        errors.extend(
            spec.response_errors(
                request.method, request.path, answer.status, answer.headers, answer.body
            )
        )
    return errors


def _handler_class(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            answer = state._record_and_answer(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            if answer.delay_seconds:
                threading.Event().wait(answer.delay_seconds)
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        do_GET = _serve
        do_POST = _serve
        do_PUT = _serve
        do_PATCH = _serve
        do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log (it would print request lines)."""

    return _Handler


@contextmanager
def running_fake_github() -> Iterator[FakeGitHub]:
    """Serve a FakeGitHub on 127.0.0.1 and a free port until the block exits."""
    server = ThreadingHTTPServer((LOOPBACK, 0), _handler_class(FakeGitHub(0)))
    state = FakeGitHub(int(server.server_address[1]))
    server.RequestHandlerClass = _handler_class(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-github", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
