"""Which token the plan uses per GitHub owner, what kind it is, and its scopes.

Classic personal access tokens list their scopes in the ``X-OAuth-Scopes`` response header
("Scopes for OAuth apps"); fine-grained tokens and GitHub App tokens have none, and their
permissions cannot be read back, only probed. ``GET /user`` answers an App installation token
403 "Resource not accessible by integration" (it acts as the App, not a user).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modules.core.config import Environment
from modules.core.naming import owner_token_variable
from modules.ops.preflight.github_api import GitHubClient
from modules.ops.preflight.report import Collector

SHARED_TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a value
#: What the plan writes (environments and their branch policies need Administration; the
#: seed's pull request needs Pull requests).
REPOSITORY_PERMISSIONS = (
    "Administration, Contents, Workflows, Variables, Secrets, Environments and Pull requests: "
    "Read and write; Metadata: Read"
)
APP_DENIAL = "Resource not accessible by integration"


def owner_token(owner: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The token the plan uses for ``owner`` and where it comes from (the variable's name)."""
    per_owner = f"TF_VAR_{owner_token_variable(owner)}"
    if environ.get(per_owner):
        return environ[per_owner], per_owner
    if environ.get(SHARED_TOKEN_ENV):
        return environ[SHARED_TOKEN_ENV], SHARED_TOKEN_ENV
    return None, per_owner


@dataclass(frozen=True, kw_only=True)
class TokenInfo:
    kind: Literal["classic", "fine-grained", "app"]
    scopes: frozenset[str]
    login: str | None


def token_checks(
    out: Collector, client: GitHubClient, owner: str, source: str, env: Environment
) -> TokenInfo | None:
    """``github.token.authenticates`` and ``github.token.scopes``; ``None`` when the token
    does not work (nothing else can be checked with it)."""
    subject = f"GitHub token for {owner} ({source})"
    info = _identify(out, client, subject, source)
    if info is None:
        return None
    who = f" as {info.login}" if info.login else ""
    out.add("github.token.authenticates", "ok", subject, f"authenticates{who} ({info.kind} token)")
    teams = any(
        p.github.owner.lower() == owner and p.production_reviewers.teams for p in env.projects
    )
    if info.kind == "classic":
        _scope_check(out, subject, info, teams)
    else:
        out.add(
            "github.token.scopes",
            "warn",
            subject,
            f"a {info.kind} token: read access to Variables, Secrets, Pull requests and "
            "Administration is probed per repository; write access (what the plan needs) cannot "
            "be read back",
            "make sure it has, on each repository, "
            + REPOSITORY_PERMISSIONS
            + (", and Members: Read on the organization (team reviewers)" if teams else ""),
        )
    return info


def _identify(out: Collector, client: GitHubClient, subject: str, source: str) -> TokenInfo | None:
    """The token's kind from ``GET /user`` (rate limits and SSO were raised by the client)."""
    user = client.get("/user")
    if user.status == 401:
        out.add(
            "github.token.authenticates",
            "fail",
            subject,
            f"GitHub answered 401 {user.message!r}: the token is wrong, expired or revoked",
            f"create a new token and set {source}",
        )
        return None
    scopes_header = user.headers.get("x-oauth-scopes")
    if user.status == 403 and scopes_header is None and user.message == APP_DENIAL:
        return TokenInfo(kind="app", scopes=frozenset(), login=None)
    if user.status != 200:
        out.add(
            "github.token.authenticates",
            "fail",
            subject,
            f"GET /user answered {user.status} {user.message!r}",
            f"check the token in {source} and the GitHub API URL",
        )
        return None
    if scopes_header is None:
        return TokenInfo(kind="fine-grained", scopes=frozenset(), login=_login(user.body))
    scopes = frozenset(s.strip() for s in scopes_header.split(",") if s.strip())
    return TokenInfo(kind="classic", scopes=scopes, login=_login(user.body))


def _scope_check(out: Collector, subject: str, info: TokenInfo, teams: bool) -> None:
    needed = {"repo", "workflow"}
    if teams:
        needed.add("read:org")  # team reviewers are resolved to ids through the org's teams
    missing = sorted(needed - _implied(info.scopes))
    if missing:
        out.add(
            "github.token.scopes",
            "fail",
            subject,
            f"the classic token lacks the scope(s) {', '.join(missing)} (has: "
            f"{', '.join(sorted(info.scopes)) or 'none'}); writing .github/workflows/* "
            "needs 'workflow', secrets/variables/environments/pull requests need 'repo'",
            f"edit the token at github.com/settings/tokens and add {', '.join(missing)}",
        )
    else:
        out.add("github.token.scopes", "ok", subject, f"scopes {', '.join(sorted(needed))} present")


def _implied(scopes: frozenset[str]) -> frozenset[str]:
    """Scopes including those a broader one grants (``admin:org`` includes ``read:org``)."""
    implied = set(scopes)
    if "admin:org" in scopes or "write:org" in scopes:
        implied.add("read:org")
    return frozenset(implied)


def _login(body: Any) -> str | None:
    return str(body["login"]) if isinstance(body, dict) and "login" in body else None


def scopes_unknown(client: GitHubClient) -> bool:
    """Whether the token has no classic scopes (fine-grained or App: permissions to probe)."""
    return "x-oauth-scopes" not in client.get("/user").headers
