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
users, teams and organization plans, with GitHub's status codes, scope, permission and
rate-limit headers, complete bodies (tests/support/github_bodies.py) and error bodies
(``{"message": ..., "documentation_url": ...}``). See :func:`route` for the endpoints and the
documentation each one follows.

Every exchange is recorded (``gh.exchanges``); :meth:`FakeGitHub.conformance_errors` checks the
requests and the answers against GitHub's OpenAPI description (tests/support/github_openapi.py).
A scripted answer that is deliberately outside it says so: ``malformed=True`` (skipped) or
``undocumented="why GitHub sends it"`` (only its ``basic-error`` body is checked).
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
from urllib.parse import parse_qsl, urlsplit

from tests.support import github_bodies as bodies
from tests.support.github_openapi import description

LOOPBACK = "127.0.0.1"
#: ``Location`` of GitHub's 301 for a renamed or transferred repository ("Repository
#: redirects"): ``/repositories/{id}``
REDIRECT_TARGET = r"/repositories/(\d+)"


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
    #: whether a classic token is authorized for the SAML SSO of ``FakeWorld.saml_orgs``
    sso_authorized: bool = False


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
    #: branch -> its protection: the required approvals when pull requests are required, or
    #: ``None`` when protected without that (absent: "Branch not protected")
    protection: dict[str, int | None] = field(default_factory=dict)
    #: branch -> the types of the active ruleset rules (GET /repos/{o}/{r}/rules/branches/{b})
    rules: dict[str, list[str]] = field(default_factory=dict)
    #: old branch name -> new name (GitHub answers 301 for a renamed branch)
    renamed_branches: dict[str, str] = field(default_factory=dict)
    #: the OIDC subject template: ``None`` the default, else the customized claim keys
    oidc_claim_keys: tuple[str, ...] | None = None
    #: whether the repository opted in to the immutable, repository-ID-based ``sub``
    oidc_immutable: bool = False
    #: (branch, path) -> text of files the contents API serves
    files: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(kw_only=True)
class FakeWorld:
    """What the routed fake knows. ``org_plans``: organization -> plan name, or ``None`` when
    the plan is hidden (GitHub shows ``plan`` to organization owners only)."""

    tokens: dict[str, FakeToken] = field(default_factory=dict)
    repositories: list[FakeRepository] = field(default_factory=list)
    users: set[str] = field(default_factory=set)
    teams: set[tuple[str, str]] = field(default_factory=set)  # (org, slug)
    org_plans: dict[str, str | None] = field(default_factory=dict)
    #: (owner, name) of a repository's former name -> the repository now (GitHub answers 301
    #: with ``Location: .../repositories/{id}``, "Repository redirects")
    renamed: dict[tuple[str, str], FakeRepository] = field(default_factory=dict)
    #: rate limit left for every token (0: 403 "API rate limit exceeded")
    rate_limit_remaining: int = 4999
    #: organizations that enforce SAML SSO: a classic token not authorized for one gets 403
    #: with ``X-GitHub-SSO: required; url=...`` on its resources ("Authenticating to the REST
    #: API with SAML single sign-on")
    saml_orgs: set[str] = field(default_factory=set)

    def repository(self, owner: str, name: str) -> FakeRepository | None:
        for repo in self.repositories:
            if (repo.owner.lower(), repo.name.lower()) == (owner.lower(), name.lower()):
                return repo
        return None


#: The fine-grained permission each routed endpoint needs, as GitHub documents it per
#: endpoint ("Permissions required for fine-grained personal access tokens") and sends back in
#: ``X-Accepted-GitHub-Permissions`` on every answer to a fine-grained or App token.
PERMISSIONS = (
    (r"/repos/[^/]+/[^/]+/actions/variables", "variables=read"),
    (r"/repos/[^/]+/[^/]+/actions/secrets", "secrets=read"),
    (r"/repos/[^/]+/[^/]+/actions/oidc/customization/sub", "actions=read"),
    (r"/repos/[^/]+/[^/]+/branches/.+/protection", "administration=read"),
    (r"/repos/[^/]+/[^/]+/contents/.+", "contents=read"),
    (r"/repos/[^/]+/[^/]+/pulls", "pull_requests=read"),
    (r"/repos/[^/]+/[^/]+(/.*)?", "metadata=read"),
    (r"/orgs/[^/]+/teams/.*", "members=read"),
)


def _error(
    status: int, message: str, doc: str, headers: Mapping[str, str], undocumented: str = ""
) -> FakeResponse:
    return FakeResponse(
        status=status,
        body=bodies.error(status, message, doc),
        headers=headers,
        undocumented=undocumented,
    )


def route(
    world: FakeWorld,
    method: str,
    path: str,
    headers: Mapping[str, str],
    base: str = "https://api.github.com",
) -> FakeResponse:
    """Answer one request like api.github.com (GET endpoints the preflight reads).

    Authentication: ``Authorization: Bearer <token>`` (or ``token <token>``); an unknown token
    gets 401 "Bad credentials". Classic tokens get ``X-OAuth-Scopes`` on every answer
    ("Scopes for OAuth apps": the header lists the token's scopes); fine-grained and App tokens
    get no such header, and get ``X-Accepted-GitHub-Permissions`` naming the endpoint's
    permission on every answer ("Troubleshooting the REST API"). A repository the token cannot
    see is 404 "Not Found", exactly like one that does not exist (GitHub answers 404, not 403,
    to hide private repositories). Every answer carries GitHub's ``x-ratelimit-*`` headers
    ("Rate limits for the REST API"); with none left, 403 "API rate limit exceeded".
    ``base``: the API root that redirect ``Location`` headers point into.
    """
    auth = headers.get("authorization", "")
    token = world.tokens.get(auth.split(" ", 1)[1] if " " in auth else "")
    if token is None:
        return _error(
            401,
            "Bad credentials",
            "overview/troubleshooting-the-rest-api",
            {},
            undocumented="bad credentials: 'Troubleshooting the REST API' (any endpoint)",
        )
    url = urlsplit(path)
    router = _Router(world, token, url.path.rstrip("/"), base)
    if world.rate_limit_remaining <= 0:
        return _error(
            403,
            f"API rate limit exceeded for user ID {bodies.stable_id(token.login)}.",
            "overview/rate-limits-for-the-rest-api",
            router.common,
            undocumented="rate limited: 'Rate limits for the REST API' (403 or 429)",
        )
    if method != "GET":
        return router.not_found("overview/resources-in-the-rest-api")
    return router.get(dict(parse_qsl(url.query)))


class _Router:
    """Answers one GET for one token."""

    def __init__(self, world: FakeWorld, token: FakeToken, path: str, base: str) -> None:
        self.world = world
        self.token = token
        self.path = path
        self.base = base
        remaining = max(world.rate_limit_remaining, 0)
        self.common: dict[str, str] = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": "1767607200",
            "x-ratelimit-used": str(5000 - remaining),
            "x-ratelimit-resource": "core",
        }
        if token.kind == "classic":
            self.common["X-OAuth-Scopes"] = ", ".join(token.scopes)
            self.common["X-Accepted-OAuth-Scopes"] = "repo"
        else:
            permission = next((p for r, p in PERMISSIONS if re.fullmatch(r, path)), None)
            if permission is not None:
                self.common["X-Accepted-GitHub-Permissions"] = permission

    def ok(self, body: Any, extra: Mapping[str, str] | None = None) -> FakeResponse:
        return FakeResponse(status=200, body=body, headers={**self.common, **(extra or {})})

    def no_content(self) -> FakeResponse:
        return FakeResponse(status=204, headers=self.common)

    def not_found(self, doc: str, message: str = "Not Found") -> FakeResponse:
        return _error(404, message, doc, self.common)

    def absent(self) -> FakeResponse:
        """404 without a body: the answer of the yes/no endpoints (check-collaborator,
        check-permissions-for-repo-in-org), whose description documents no content."""
        return FakeResponse(status=404, headers=self.common)

    def moved(self, location: str, doc: str) -> FakeResponse:
        """301 "Moved permanently" (documented by get-repository and get-branch)."""
        body = {**bodies.error(301, "Moved Permanently", doc), "url": location}
        return FakeResponse(status=301, body=body, headers={**self.common, "Location": location})

    def denied(self, permission: str, doc: str) -> FakeResponse | None:
        """403 for a fine-grained/App token without ``permission``: the body "Resource not
        accessible by personal access token" ("by integration" for Apps) and the permission in
        X-Accepted-GitHub-Permissions ("Troubleshooting the REST API"; the endpoints' own
        descriptions do not list this 403)."""
        token = self.token
        if token.kind == "classic" or token.permissions is None:
            return None
        if permission.split("=", 1)[0] in token.permissions:
            return None
        by = "integration" if token.kind == "app" else "personal access token"
        return _error(
            403,
            f"Resource not accessible by {by}",
            doc,
            {**self.common, "X-Accepted-GitHub-Permissions": permission},
            undocumented="fine-grained permission missing: 'Troubleshooting the REST API'",
        )

    def sso_refusal(self) -> FakeResponse | None:
        """403 for a classic token not authorized for an organization's SAML SSO."""
        match = re.fullmatch(r"/(?:repos|orgs)/([^/]+)(?:/.*)?", self.path)
        org = match.group(1).lower() if match else ""
        saml = {o.lower() for o in self.world.saml_orgs}
        if org not in saml or self.token.kind != "classic" or self.token.sso_authorized:
            return None
        url = f"https://github.com/orgs/{org}/sso?authorization_request=A1B2C3"
        return _error(
            403,
            "Resource protected by organization SAML enforcement. You must grant your Personal "
            "Access token access to this organization.",
            "authentication/authenticating-to-the-rest-api",
            {**self.common, "X-GitHub-SSO": f"required; url={url}"},
            undocumented="SAML SSO: 'Authenticating to the REST API' (any endpoint)",
        )

    def visible(self, repo: FakeRepository | None) -> FakeRepository | None:
        if repo is None:
            return None
        if self.token.owners is not None and repo.owner.lower() not in self.token.owners:
            return None
        return repo

    def get(self, params: Mapping[str, str]) -> FakeResponse:
        path, world = self.path, self.world
        if refused := self.sso_refusal():
            return refused
        if path == "/user":
            if self.token.kind == "app":
                # installation tokens act as the App, not a user
                return _error(
                    403,
                    "Resource not accessible by integration",
                    "users/users#get-the-authenticated-user",
                    self.common,
                )
            return self.ok(bodies.private_user(self.token.login))
        if m := re.fullmatch(r"/users/([^/]+)", path):
            known = {u.lower(): u for u in world.users}
            if m.group(1).lower() in known:
                return self.ok(bodies.public_user(known[m.group(1).lower()]))
            return self.not_found("users/users#get-a-user")
        if m := re.fullmatch(r"/orgs/([^/]+)", path):
            plans = {k.lower(): (k, v) for k, v in world.org_plans.items()}
            if m.group(1).lower() not in plans:
                return self.not_found("orgs/orgs#get-an-organization")
            return self.ok(bodies.organization(*plans[m.group(1).lower()]))
        if m := re.fullmatch(r"/orgs/([^/]+)/teams/([^/]+)", path):
            if (m.group(1).lower(), m.group(2).lower()) in {(o.lower(), s) for o, s in world.teams}:
                return self.ok(bodies.team(m.group(1), m.group(2).lower()))
            return self.not_found("teams/teams#get-a-team-by-name")
        if m := re.fullmatch(r"/orgs/([^/]+)/teams/([^/]+)/repos/([^/]+)/([^/]+)", path):
            repo = self.visible(world.repository(m.group(3), m.group(4)))
            if repo is not None and m.group(2).lower() in repo.teams:
                # "Response if team has permission for the repository" (no repository media type)
                return self.no_content()
            return self.absent()
        if m := re.fullmatch(REDIRECT_TARGET, path):
            # where a repository redirect points ("Repository redirects"; the description has no
            # such operation)
            for repo in world.repositories:
                if bodies.stable_id(repo.owner, repo.name) == int(m.group(1)) and self.visible(
                    repo
                ):
                    return self.repository(repo)
            return self.not_found("repos/repos#get-a-repository")
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if m is None:
            return self.not_found("repos/repos#get-a-repository")
        former = {(o.lower(), n.lower()): r for (o, n), r in world.renamed.items()}
        moved = self.visible(former.get((m.group(1).lower(), m.group(2).lower())))
        if moved is not None and not m.group(3):
            repository_id = bodies.stable_id(moved.owner, moved.name)
            return self.moved(
                f"{self.base}/repositories/{repository_id}", "repos/repos#get-a-repository"
            )
        repo = self.visible(world.repository(m.group(1), m.group(2)))
        if repo is None:
            return self.not_found("repos/repos#get-a-repository")
        return self.in_repository(repo, m.group(3) or "", params)

    def repository(self, repo: FakeRepository) -> FakeResponse:
        permissions = None
        if self.token.kind != "app":
            # the authenticated user's role; absent for installation tokens
            permissions = {
                "admin": repo.admin,
                "maintain": repo.admin,
                "push": True,
                "triage": True,
                "pull": True,
            }
        return self.ok(
            bodies.repository(
                repo.owner,
                repo.name,
                owner_type=repo.owner_type,
                default_branch=repo.default_branch,
                visibility=repo.visibility,
                archived=repo.archived,
                permissions=permissions,
            )
        )

    def in_repository(
        self, repo: FakeRepository, rest: str, params: Mapping[str, str]
    ) -> FakeResponse:
        if rest == "":
            return self.repository(repo)
        if c := re.fullmatch(r"/collaborators/([^/]+)", rest):
            # "Response if user is a collaborator" 204, "Not Found if user is not a collaborator"
            if c.group(1).lower() in {u.lower() for u in repo.collaborators}:
                return self.no_content()
            return self.absent()
        if rest == "/actions/variables":
            return self.denied(
                "variables=read", "actions/variables#list-repository-variables"
            ) or self.ok({"total_count": 0, "variables": []})
        if rest == "/actions/secrets":
            return self.denied(
                "secrets=read", "actions/secrets#list-repository-secrets"
            ) or self.ok({"total_count": 0, "secrets": []})
        if rest == "/pulls":
            return self.denied("pull_requests=read", "pulls/pulls#list-pull-requests") or self.ok(
                []
            )
        if rest == "/actions/oidc/customization/sub":
            keys = repo.oidc_claim_keys
            return self.denied("actions=read", "actions/oidc") or self.ok(
                bodies.oidc_subject(
                    use_default=keys is None, claim_keys=keys or (), immutable=repo.oidc_immutable
                )
            )
        if b := re.fullmatch(r"/rules/branches/(.+)", rest):
            rules = [
                bodies.rule(kind, 1000 + i, f"{repo.owner}/{repo.name}")
                for i, kind in enumerate(repo.rules.get(b.group(1), []))
            ]
            return self.page(rules, params, f"{self.base}/repos/{repo.owner}/{repo.name}{rest}")
        if f := re.fullmatch(r"/contents/(.+)", rest):
            ref = params.get("ref", repo.default_branch)
            text = repo.files.get((ref, f.group(1)))
            if text is None:
                return self.not_found("repos/contents#get-repository-content")
            return self.ok(bodies.content_file(repo.owner, repo.name, f.group(1), ref, text))
        if b := re.fullmatch(r"/branches/(.+)/protection", rest):
            return self.protection(repo, b.group(1))
        if b := re.fullmatch(r"/branches/(.+)", rest):
            return self.branch(repo, b.group(1))
        return self.not_found("repos/repos#get-a-repository")

    def protection(self, repo: FakeRepository, name: str) -> FakeResponse:
        doc = "branches/branch-protection#get-branch-protection"
        refused = self.denied("administration=read", doc)
        if refused is not None:
            return refused
        if name not in repo.branches:
            return self.not_found(doc, "Branch not found")
        if name not in repo.protection:
            return self.not_found(doc, "Branch not protected")
        return self.ok(
            bodies.branch_protection(
                repo.owner, repo.name, name, required_approvals=repo.protection[name]
            )
        )

    def branch(self, repo: FakeRepository, name: str) -> FakeResponse:
        if name in repo.renamed_branches:
            # get-branch documents 301 "Moved permanently"; Location: the new branch's URL
            new = repo.renamed_branches[name]
            return self.moved(
                f"{self.base}/repos/{repo.owner}/{repo.name}/branches/{new}",
                "branches/branches#get-a-branch",
            )
        if name in repo.branches:
            return self.ok(
                bodies.branch(repo.owner, repo.name, name, protected=name in repo.protection)
            )
        return self.not_found("branches/branches#get-a-branch", "Branch not found")

    def page(self, items: list[Any], params: Mapping[str, str], url: str) -> FakeResponse:
        """One page of a list ("Using pagination in the REST API": ``per_page`` default 30,
        max 100; a ``Link`` header with ``rel="next"`` and ``rel="last"`` while more follow)."""
        per_page = min(int(params.get("per_page", "30")), 100)
        page = int(params.get("page", "1"))
        start = (page - 1) * per_page
        links = []
        if start + per_page < len(items):
            last = (len(items) + per_page - 1) // per_page
            links.append(f'<{url}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{url}?per_page={per_page}&page={last}>; rel="last"')
        return self.ok(items[start : start + per_page], {"Link": ", ".join(links)} if links else {})


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
                answer = route(
                    self.world, request.method, request.path, request.headers, self.api_url
                )
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
        if re.fullmatch(REDIRECT_TARGET, urlsplit(request.path).path) and request.method == "GET":
            # the one request outside the description: where GitHub's 301 for a renamed
            # repository points (get-repository documents the 301, not its target); GitHub
            # answers it with the repository, so the answer is held to repos/get's schema
            if answer.status == 200:
                errors.extend(
                    f"GET {request.path}: {e}"
                    for e in spec.schema_errors("#/components/schemas/full-repository", answer.body)
                )
            continue
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
        # The status line and headers go out in one write, the body in another: with Nagle's
        # algorithm on, the body waits for the client's delayed ACK of the first (up to 40 ms
        # on Linux), which made every exchange of the fake take ~18 ms.
        disable_nagle_algorithm = True

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
