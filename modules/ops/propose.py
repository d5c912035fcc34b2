"""``make propose``: open the toolkit's pull requests once, outside Terraform state.

Usage: python -m modules.proposals [--config PATH] [--stack NAME ...] [--github-api-url URL]

Each :class:`~modules.core.proposals.Proposal` (the starter code of a project, or the
workflows of a branch that requires pull requests) is opened like this, with the token the plan
uses for its owner (``TF_VAR_github_owner_token_<owner>``, else ``GITHUB_TOKEN``):

1. ``GET /repos/{o}/{r}/pulls?head={o}:{head}&state=all``: a pull request from ``head`` ever
   existed (open, merged or closed) -> done. This is what makes it one-shot: after a merge, a
   close, a deleted branch or a deleted file, nothing is proposed or re-created again.
2. ``GET /git/ref/heads/{base}``, ``GET /git/commits/{sha}``, ``POST /git/trees`` (the files on
   top of the base tree): the same tree as the base -> nothing to propose.
3. ``GET /git/ref/heads/{head}``: only when missing, ``POST /git/commits`` (one commit with all
   files) and ``POST /git/refs`` (the branch, created once: never one ref per file, the race of
   integrations/github issue #2438).
4. ``POST /pulls``. For ``workflows``, open proposals of older workflow contents into the same
   base are closed (``PATCH /pulls/{n}`` ``state=closed``).

Endpoints and status codes: docs.github.com/rest (git/refs, git/trees, git/commits, pulls).
Exit code: 0 done, 1 a proposal failed (the others are still attempted), 2 invalid config.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from modules.core.naming import owner_token_variable
from modules.core.proposals import WORKFLOWS_BRANCH_PREFIX, Proposal

TIMEOUT_SECONDS = 20.0
DEFAULT_API_URL = "https://api.github.com"


class ProposeError(RuntimeError):
    """GitHub refused a step of a proposal (status and GitHub's message, never the token)."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    proposal: Proposal
    status: Literal["opened", "already-proposed", "up-to-date"]
    detail: str
    number: int | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is reported, never followed with the token


class GitHubApi:
    """A minimal JSON client for one token (no redirects, a timeout on every call)."""

    def __init__(
        self, api_url: str, token: str, *, timeout_seconds: float = TIMEOUT_SECONDS
    ) -> None:
        parts = urlsplit(api_url)
        loopback = parts.hostname in {"127.0.0.1", "::1", "localhost"}
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError("the GitHub API URL must be https:// (http:// only on loopback)")
        if parts.username or parts.password:
            raise ValueError("the GitHub API URL must not hold credentials")
        self._base = api_url.rstrip("/")
        self._token = token
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(_NoRedirect)
        self.calls = 0

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self._base + path,
            data=data,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
            },
        )
        self.calls += 1
        try:
            with self._opener.open(req, timeout=self._timeout) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                answer = json.loads(raw) if raw else None
            except ValueError:
                answer = None
            return error.code, answer
        except (urllib.error.URLError, TimeoutError) as error:
            raise ProposeError(f"{method} {path}: GitHub unreachable ({error})") from error

    def expect(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ()) -> Any:
        status, answer = self.request(method, path, body)
        if status in ok or (not ok and 200 <= status < 300):
            return answer
        message = answer.get("message") if isinstance(answer, dict) else None
        message = str(message or "").replace(self._token, "***")[:200]
        raise ProposeError(f"{method} {path}: GitHub answered {status} {message!r}")


def propose(api: GitHubApi, proposal: Proposal) -> Outcome:
    """Open ``proposal`` unless a pull request from its head ever existed (see module doc)."""
    repo = f"/repos/{quote(proposal.owner)}/{quote(proposal.repository)}"
    head_query = quote(f"{proposal.owner}:{proposal.head}", safe="")
    earlier = api.expect("GET", f"{repo}/pulls?head={head_query}&state=all&per_page=1")
    if earlier:
        pull = earlier[0]
        state = "merged" if pull.get("merged") or pull.get("merged_at") else pull["state"]
        return Outcome(
            proposal=proposal,
            status="already-proposed",
            detail=f"#{pull['number']} ({state}): never proposed again",
            number=pull["number"],
        )
    base_ref = api.expect("GET", f"{repo}/git/ref/heads/{quote(proposal.base)}")
    base_sha = base_ref["object"]["sha"]
    base_tree = api.expect("GET", f"{repo}/git/commits/{base_sha}")["tree"]["sha"]
    tree = api.expect(
        "POST",
        f"{repo}/git/trees",
        {
            "base_tree": base_tree,
            "tree": [
                {"path": path, "mode": "100644", "type": "blob", "content": content}
                for path, content in sorted(proposal.files.items())
            ],
        },
    )["sha"]
    if tree == base_tree:
        return Outcome(
            proposal=proposal, status="up-to-date", detail=f"{proposal.base} has these files"
        )
    status, _ = api.request("GET", f"{repo}/git/ref/heads/{quote(proposal.head)}")
    if status == 404:
        commit = api.expect(
            "POST",
            f"{repo}/git/commits",
            {"message": proposal.commit_message, "tree": tree, "parents": [base_sha]},
        )["sha"]
        api.expect(
            "POST", f"{repo}/git/refs", {"ref": f"refs/heads/{proposal.head}", "sha": commit}
        )
    elif status != 200:
        raise ProposeError(f"GET {repo}/git/ref/heads/{proposal.head}: GitHub answered {status}")
    pull = api.expect(
        "POST",
        f"{repo}/pulls",
        {
            "title": proposal.title,
            "head": proposal.head,
            "base": proposal.base,
            "body": proposal.body,
            "maintainer_can_modify": False,
        },
    )
    if proposal.kind == "workflows":
        _close_superseded(api, repo, proposal)
    return Outcome(
        proposal=proposal,
        status="opened",
        detail=f"#{pull['number']} {proposal.head} -> {proposal.base}",
        number=pull["number"],
    )


def _close_superseded(api: GitHubApi, repo: str, proposal: Proposal) -> None:
    base = quote(proposal.base, safe="")
    prefix = f"{WORKFLOWS_BRANCH_PREFIX}{proposal.base}-"
    for pull in api.expect("GET", f"{repo}/pulls?state=open&base={base}&per_page=100"):
        head = pull["head"]["ref"]
        if head.startswith(prefix) and head != proposal.head:
            api.expect("PATCH", f"{repo}/pulls/{pull['number']}", {"state": "closed"})


def owner_token(owner: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The token the plan's provider uses for ``owner`` and the variable it comes from."""
    variable = "TF_VAR_" + owner_token_variable(owner)
    if environ.get(variable):
        return environ[variable], variable
    return environ.get("GITHUB_TOKEN") or None, "GITHUB_TOKEN"


def propose_all(
    proposals: tuple[Proposal, ...], api_url: str, environ: Mapping[str, str] | None = None
) -> tuple[list[Outcome], list[str]]:
    """Open every proposal; returns the outcomes and one error line per failed proposal."""
    env = os.environ if environ is None else environ
    outcomes: list[Outcome] = []
    errors: list[str] = []
    for proposal in proposals:
        token, _ = owner_token(proposal.owner, env)
        if token is None:
            variable = "TF_VAR_" + owner_token_variable(proposal.owner)
            errors.append(f"{proposal.full_name}: no token (set {variable} or GITHUB_TOKEN)")
            continue
        try:
            outcomes.append(propose(GitHubApi(api_url, token), proposal))
        except ProposeError as error:
            errors.append(f"{proposal.full_name} {proposal.kind}: {error}")
    return outcomes, errors
