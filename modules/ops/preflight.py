"""``make preflight``: check the real prerequisites on both sides before the first apply.

Usage: python -m modules.ops.preflight [--config PATH] [--stack NAME ...] [--json PATH]
       [--github-api-url URL]   (default https://api.github.com, or MLOPS_GITHUB_API_URL)

It reads the config that synth uses and the credentials a plan would use (the AWS default
credential chain; per GitHub owner ``TF_VAR_github_owner_token_<owner>``, else ``GITHUB_TOKEN``)
and prints one line per check: ``✓`` passed, ``!`` worth knowing (does not block), ``✗`` blocks
the first apply, each with what was checked and the fix; then a summary.

It is read-only on both sides: GitHub is only sent ``GET`` requests and AWS only
``Get``/``List``/``Describe``/``Head`` calls (the tests record every request to prove it).
The one exception, for environments with stage accounts (``promotion``): ``sts:AssumeRole``
into each stage deployer role, as the plan does (modules/ops/preflight_stages.py; the output
says so).

Exit code: 0 nothing blocks, 1 at least one ``✗``, 2 the config is invalid.

GitHub REST facts it relies on (docs.github.com/en/rest):

* classic personal access tokens list their scopes in the ``X-OAuth-Scopes`` response header
  ("Scopes for OAuth apps"); fine-grained tokens and GitHub App tokens have no scopes and no
  such header, and their permissions cannot be read back, only named;
* ``GET /repos/{owner}/{repo}`` returns ``archived``, ``default_branch``, ``visibility``,
  ``owner.type`` and, for a user token, ``permissions`` (``admin``, ``push``, ...); 404 when the
  token cannot see the repository;
* ``GET /repos/{o}/{r}/branches/{b}/protection`` answers 404 "Branch not protected" when there is
  no protection, and includes ``required_pull_request_reviews`` when pull requests are required;
  ``GET /repos/{o}/{r}/rules/branches/{b}`` lists the active ruleset rules (type
  ``pull_request``). Either makes the Contents API commits of the workflow files fail with 409;
* ``workflow_dispatch`` only runs workflows present on the default branch ("Events that trigger
  workflows": "this event will only trigger a workflow run if the workflow file exists on the
  default branch");
* environments with required reviewers in private or internal repositories need GitHub
  Enterprise ("Managing environments for deployment"); otherwise creating the protection rule
  fails with 422;
* ``GET /repos/{o}/{r}/collaborators/{user}`` 204/404 and
  ``GET /orgs/{org}/teams/{team}/repos/{o}/{r}`` 204/404 tell whether a reviewer can access the
  repository; error bodies are ``{"message": ..., "documentation_url": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from modules.core.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    Environment,
    Project,
    S3Backend,
    load_config,
)
from modules.core.naming import (
    GITHUB_OIDC_URL,
    MANAGED_BY_TAG,
    TRIGGER_FUNCTION_NAME,
    owner_token_variable,
)
from modules.ops.preflight_stages import AssumeRole, boto3_assume_role, stage_account_checks

Status = Literal["ok", "warn", "fail"]
SYMBOL: Mapping[Status, str] = {"ok": "✓", "warn": "!", "fail": "✗"}
DEFAULT_GITHUB_API = "https://api.github.com"
GITHUB_TIMEOUT_SECONDS = 10.0
TOKEN_VARIABLE_ENV = "TF_VAR_github_token"  # noqa: S105 - a variable name, not a value
SHARED_TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a value
#: What the plan writes (environments and their branch policies need Administration).
REPOSITORY_PERMISSIONS = (
    "Administration, Contents, Workflows, Variables, Secrets and Environments: Read and write; "
    "Metadata: Read"
)
FOREIGN_FIX = (
    "delete it (or import it into the state) if it is a leftover, e.g. of the original guide's "
    "deployment"
)
USE_ROLE_NAME = "AmazonSageMakerServiceCatalogProductsUseRole"
#: Lambda keeps this much account concurrency unreserved: "You can reserve up to the
#: Unreserved account concurrency value minus 100" (Lambda developer guide, "Configuring
#: reserved concurrency").
LAMBDA_UNRESERVED_MINIMUM = 100
READ_ONLY_AWS_PREFIXES = ("Get", "List", "Describe", "Head")
STUDIO_ROLES_FIX = (
    "set up a SageMaker Studio domain and turn on 'Enable Amazon SageMaker project templates' "
    "for it (SageMaker console > Domains > Domain settings), which creates the "
    "AmazonSageMakerServiceCatalogProducts* service roles"
)


@dataclass(frozen=True, kw_only=True)
class Check:
    """One checked prerequisite. ``check`` is a stable id (e.g. ``github.repository.archived``)."""

    check: str
    status: Status
    environment: str
    subject: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """One line, whatever an API error message held (e.g. an HTML error page)."""
        text = f"{SYMBOL[self.status]} [{self.environment}] {self.subject}: {self.detail}"
        return " ".join((f"{text} -> fix: {self.fix}" if self.fix else text).split())


@dataclass
class _Collector:
    environment: str
    checks: list[Check] = field(default_factory=list)

    def add(self, check: str, status: Status, subject: str, detail: str, fix: str = "") -> None:
        self.checks.append(
            Check(
                check=check,
                status=status,
                environment=self.environment,
                subject=subject,
                detail=detail,
                fix=fix,
            )
        )


# --- GitHub -------------------------------------------------------------------------------


class GitHubUnreachableError(RuntimeError):
    """The GitHub API could not be reached (network error or timeout)."""


@dataclass(frozen=True, kw_only=True)
class GitHubResponse:
    status: int
    headers: Mapping[str, str]  # lowercased names
    body: Any

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message", ""))
        return ""


class GitHubClient:
    """GET-only access to the GitHub REST API with one token (answers cached per path)."""

    def __init__(
        self, api_url: str, token: str, timeout_seconds: float = GITHUB_TIMEOUT_SECONDS
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._token = token
        self._timeout = timeout_seconds
        self._cache: dict[str, GitHubResponse] = {}

    def get(self, path: str) -> GitHubResponse:
        if path in self._cache:
            return self._cache[path]
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured API
            self._api_url + path,
            method="GET",
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "sagemaker-github-mlops-preflight",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                response = _response(answer.status, answer.headers.items(), answer.read())
        except urllib.error.HTTPError as e:
            response = _response(e.code, e.headers.items(), e.read())
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise GitHubUnreachableError(f"{self._api_url}: {e}") from e
        self._cache[path] = response
        return response


def _response(status: int, headers: Any, raw: bytes) -> GitHubResponse:
    try:
        body = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        body = None
    return GitHubResponse(
        status=status, headers={str(k).lower(): str(v) for k, v in headers}, body=body
    )


def owner_token(owner: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The token the plan uses for ``owner`` and where it comes from (the variable's name)."""
    per_owner = f"TF_VAR_{owner_token_variable(owner)}"
    if environ.get(per_owner):
        return environ[per_owner], per_owner
    if environ.get(SHARED_TOKEN_ENV):
        return environ[SHARED_TOKEN_ENV], SHARED_TOKEN_ENV
    return None, per_owner


@dataclass(frozen=True, kw_only=True)
class _TokenInfo:
    kind: Literal["classic", "fine-grained", "app"]
    scopes: frozenset[str]
    login: str | None


def _token_checks(
    out: _Collector, client: GitHubClient, owner: str, source: str, env: Environment
) -> _TokenInfo | None:
    subject = f"GitHub token for {owner} ({source})"
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
    if user.status == 403 and scopes_header is None:
        # An installation token of a GitHub App: GET /user is not available to it
        # ("Resource not accessible by integration").
        info = _TokenInfo(kind="app", scopes=frozenset(), login=None)
    elif user.status != 200:
        out.add(
            "github.token.authenticates",
            "fail",
            subject,
            f"GET /user answered {user.status} {user.message!r}",
            f"check the token in {source} and the GitHub API URL",
        )
        return None
    elif scopes_header is None:
        info = _TokenInfo(kind="fine-grained", scopes=frozenset(), login=_login(user.body))
    else:
        scopes = frozenset(s.strip() for s in scopes_header.split(",") if s.strip())
        info = _TokenInfo(kind="classic", scopes=scopes, login=_login(user.body))
    who = f" as {info.login}" if info.login else ""
    out.add("github.token.authenticates", "ok", subject, f"authenticates{who} ({info.kind} token)")
    teams = any(
        p.github.owner.lower() == owner and p.production_reviewers.teams for p in env.projects
    )
    if info.kind == "classic":
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
                "needs 'workflow', secrets/variables/environments need 'repo'",
                f"edit the token at github.com/settings/tokens and add {', '.join(missing)}",
            )
        else:
            out.add(
                "github.token.scopes", "ok", subject, f"scopes {', '.join(sorted(needed))} present"
            )
    else:
        out.add(
            "github.token.scopes",
            "warn",
            subject,
            f"a {info.kind} token: read access to Variables, Secrets and Administration is "
            "probed per repository; write access (what the plan needs) cannot be read back",
            "make sure it has, on each repository, "
            + REPOSITORY_PERMISSIONS
            + (", and Members: Read on the organization (team reviewers)" if teams else ""),
        )
    return info


def _implied(scopes: frozenset[str]) -> frozenset[str]:
    """Scopes including those a broader one grants (``admin:org`` includes ``read:org``)."""
    implied = set(scopes)
    if "admin:org" in scopes or "write:org" in scopes:
        implied.add("read:org")
    return frozenset(implied)


def _login(body: Any) -> str | None:
    return str(body["login"]) if isinstance(body, dict) and "login" in body else None


def _repository_checks(
    out: _Collector, client: GitHubClient, project: Project, source: str
) -> None:
    gh = project.github
    slug = f"{gh.owner}/{gh.repository}"
    subject = f"repository {slug} ({project.name})"
    repo = client.get(f"/repos/{gh.owner}/{gh.repository}")
    if repo.status == 404:
        out.add(
            "github.repository.visible",
            "fail",
            subject,
            "not found, or not visible to the token (GitHub answers 404 for both)",
            f"create the repository, or give the token in {source} access to it (a "
            f"fine-grained token covers one owner: set TF_VAR_{owner_token_variable(gh.owner)} "
            f"for {gh.owner})",
        )
        return
    if repo.status != 200 or not isinstance(repo.body, dict):
        out.add(
            "github.repository.visible",
            "fail",
            subject,
            f"GET answered {repo.status} {repo.message!r}",
            "check the token's access",
        )
        return
    body = repo.body
    out.add("github.repository.visible", "ok", subject, "visible to the token")
    if body.get("archived"):
        out.add(
            "github.repository.archived",
            "fail",
            subject,
            "the repository is archived (read-only): every write of the plan fails",
            "unarchive it in Settings > General > Danger Zone, or use another repository",
        )
    else:
        out.add("github.repository.archived", "ok", subject, "not archived")
    permissions = body.get("permissions")
    if isinstance(permissions, dict):
        if permissions.get("admin"):
            out.add("github.repository.admin", "ok", subject, "the token's user is an admin")
        else:
            out.add(
                "github.repository.admin",
                "fail",
                subject,
                "the token's user is not an admin of the repository; environments, Actions "
                "secrets and variables need admin access",
                "grant the user the Admin role on the repository, or use an admin's token",
            )
    default_branch = str(body.get("default_branch", ""))
    if default_branch and default_branch != gh.branch:
        out.add(
            "github.repository.default_branch",
            "fail",
            subject,
            f"the project's branch {gh.branch!r} is not the default branch "
            f"{default_branch!r}: workflow_dispatch (the trigger's dispatch of deploy.yml) only "
            "runs workflows present on the default branch",
            f"make {gh.branch!r} the default branch, or set github.branch: {default_branch}",
        )
    else:
        out.add(
            "github.repository.default_branch",
            "ok",
            subject,
            f"{gh.branch!r} is the default branch",
        )
    _plan_check(out, client, project, body, subject)
    if scopes_unknown(client):
        _permission_probes(out, client, project, subject)
    _branch_checks(out, client, project, subject)
    _reviewer_checks(out, client, project, subject)


def scopes_unknown(client: GitHubClient) -> bool:
    """Whether the token has no classic scopes (fine-grained or App: permissions to probe)."""
    return "x-oauth-scopes" not in client.get("/user").headers


#: Read-only probes of fine-grained/App permissions the plan needs (it writes what it reads
#: here): GitHub answers 403 naming the missing permission in X-Accepted-GitHub-Permissions.
PERMISSION_PROBES = (
    ("actions/variables", "Variables"),
    ("actions/secrets", "Secrets"),
)


def _permission_probes(
    out: _Collector, client: GitHubClient, project: Project, subject: str
) -> None:
    gh = project.github
    for path, name in PERMISSION_PROBES:
        answer = client.get(f"/repos/{gh.owner}/{gh.repository}/{path}")
        if answer.status == 403:
            needed = answer.headers.get("x-accepted-github-permissions", name.lower() + "=read")
            out.add(
                "github.token.permissions",
                "fail",
                subject,
                f"GitHub answered 403 {answer.message!r} (needs {needed}): the plan writes "
                f"Actions {name.lower()}",
                f"grant the token/App {name}: Read and write on {gh.owner}/{gh.repository}",
            )
        elif answer.status == 200:
            out.add("github.token.permissions", "ok", subject, f"{name} readable")


def _plan_check(
    out: _Collector,
    client: GitHubClient,
    project: Project,
    repo: Mapping[str, Any],
    subject: str,
) -> None:
    visibility = str(repo.get("visibility") or ("private" if repo.get("private") else "public"))
    check = "github.repository.reviewers_plan"
    if visibility == "public":
        out.add(check, "ok", subject, "public: required reviewers are available on every plan")
        return
    owner_field = repo.get("owner")
    owner: Mapping[str, Any] = owner_field if isinstance(owner_field, dict) else {}
    fix = (
        "make the repository public, or move it to an organization on GitHub Enterprise Cloud "
        "(required reviewers in private/internal repositories need Enterprise; otherwise the "
        "API answers 422 when the production environment's protection rule is created)"
    )
    if str(owner.get("type")) != "Organization":
        out.add(
            check,
            "fail",
            subject,
            f"{visibility} repository of a personal account: personal plans offer no required "
            "reviewers on private repositories",
            fix,
        )
        return
    org = client.get(f"/orgs/{project.github.owner}")
    plan = org.body.get("plan") if isinstance(org.body, dict) else None
    name = str(plan.get("name", "")).lower() if isinstance(plan, dict) else ""
    if not name:
        out.add(
            check,
            "warn",
            subject,
            f"{visibility} repository; the organization's plan is visible to its owners only",
            "make sure the organization is on GitHub Enterprise Cloud, or make the repository "
            "public",
        )
    elif "enterprise" in name:
        out.add(check, "ok", subject, f"{visibility} repository, organization plan {name!r}")
    else:
        out.add(
            check,
            "fail",
            subject,
            f"{visibility} repository and organization plan {name!r}: no required reviewers",
            fix,
        )


def _branch_checks(out: _Collector, client: GitHubClient, project: Project, subject: str) -> None:
    gh = project.github
    base = f"/repos/{gh.owner}/{gh.repository}/branches/{gh.branch}"
    branch = client.get(base)
    if branch.status == 404:
        out.add(
            "github.branch.exists",
            "fail",
            subject,
            f"branch {gh.branch!r} does not exist (the plan commits the workflows to it)",
            f"push a {gh.branch!r} branch, or set github.branch to an existing one",
        )
        return
    out.add("github.branch.exists", "ok", subject, f"branch {gh.branch!r} exists")
    protection = client.get(f"{base}/protection")
    rules = client.get(f"/repos/{gh.owner}/{gh.repository}/rules/branches/{gh.branch}")
    requires_pr = protection.status == 200 and isinstance(protection.body, dict)
    # the key is present (an object, even with 0 approvals) exactly when PRs are required
    requires_pr = requires_pr and protection.body.get("required_pull_request_reviews") is not None
    ruleset_pr = rules.status == 200 and isinstance(rules.body, list)
    ruleset_pr = ruleset_pr and any(
        isinstance(r, dict) and r.get("type") == "pull_request" for r in rules.body
    )
    if requires_pr or ruleset_pr:
        source = "branch protection" if requires_pr else "a repository ruleset"
        out.add(
            "github.branch.pull_requests",
            "fail",
            subject,
            f"{source} requires pull requests on {gh.branch!r}: the Contents API commits of "
            "the workflow files are rejected with 409",
            "let the deploying identity bypass the rule (ruleset bypass list, or protection "
            "without 'Do not allow bypassing' for admins), or drop the pull request "
            "requirement for the first apply",
        )
    elif protection.status in (200, 404):
        out.add("github.branch.pull_requests", "ok", subject, "no pull request requirement")
    elif protection.status == 403 and "x-accepted-github-permissions" in protection.headers:
        out.add(
            "github.token.permissions",
            "fail",
            subject,
            f"GitHub answered 403 {protection.message!r} (needs "
            f"{protection.headers['x-accepted-github-permissions']}): environments and their "
            "branch policies need Administration",
            f"grant the token/App Administration: Read and write on {gh.owner}/{gh.repository}",
        )
    else:
        out.add(
            "github.branch.pull_requests",
            "warn",
            subject,
            f"branch protection unreadable ({protection.status} {protection.message!r})",
            "check by hand that the branch does not require pull requests",
        )


def _reviewer_checks(out: _Collector, client: GitHubClient, project: Project, subject: str) -> None:
    gh = project.github
    for login in project.production_reviewers.users:
        user = client.get(f"/users/{login}")
        if user.status == 404:
            out.add(
                "github.reviewer.exists",
                "fail",
                subject,
                f"reviewer user {login!r} does not exist",
                "fix production_reviewers.users",
            )
            continue
        access = client.get(f"/repos/{gh.owner}/{gh.repository}/collaborators/{login}")
        if access.status == 204:
            out.add("github.reviewer.access", "ok", subject, f"reviewer {login!r} has access")
        else:
            out.add(
                "github.reviewer.access",
                "fail",
                subject,
                f"reviewer {login!r} cannot access the repository ({access.status})",
                f"add {login} as a collaborator (read access is enough), or name another user",
            )
    for team in project.production_reviewers.teams:
        found = client.get(f"/orgs/{gh.owner}/teams/{team}")
        if found.status == 404:
            out.add(
                "github.reviewer.exists",
                "fail",
                subject,
                f"reviewer team {team!r} does not exist in {gh.owner} (or is not visible)",
                "fix production_reviewers.teams (the team slug, e.g. 'ml-leads')",
            )
            continue
        access = client.get(f"/orgs/{gh.owner}/teams/{team}/repos/{gh.owner}/{gh.repository}")
        if access.status in (200, 204):
            out.add("github.reviewer.access", "ok", subject, f"team {team!r} has access")
        else:
            out.add(
                "github.reviewer.access",
                "fail",
                subject,
                f"reviewer team {team!r} has no access to the repository ({access.status})",
                f"give team {team} at least read access to {gh.owner}/{gh.repository}",
            )


def github_checks(
    env: Environment, api_url: str, environ: Mapping[str, str], timeout_seconds: float
) -> list[Check]:
    out = _Collector(env.name)
    owners: dict[str, list[Project]] = {}
    for project in env.projects:
        owners.setdefault(project.github.owner.lower(), []).append(project)
    kinds: dict[str, list[str]] = {}
    app = env.platform.github_app
    for owner, projects in owners.items():
        token, source = owner_token(owner, environ)
        subject = f"GitHub token for {owner}"
        installation = app.installation_ids.get(owner) if app is not None else None
        if installation is not None:
            # The provider signs a JWT with the App's key and creates an installation token
            # itself; preflight creates nothing, so it checks with a token it is given.
            out.add(
                "github.app",
                "warn",
                f"GitHub App {app.id if app else ''} for {owner}",
                f"plans authenticate as installation {installation}; "
                + (
                    f"checking the repositories with {source}"
                    if token
                    else "no token to check the repositories with: skipped"
                ),
                "the App needs, on each repository, "
                + REPOSITORY_PERMISSIONS
                + ("" if token else f"; set {source} to an installation token to check"),
            )
            if token is None:
                continue
            subject = f"GitHub token for {owner} (checks only)"
        if token is None:
            out.add(
                "github.token.present",
                "fail",
                subject,
                f"neither {source} nor {SHARED_TOKEN_ENV} is set",
                f"export {source} (or {SHARED_TOKEN_ENV}) with a token that administers the "
                "repositories",
            )
            continue
        client = GitHubClient(api_url, token, timeout_seconds)
        try:
            info = _token_checks(out, client, owner, source, env)
            if info is None:
                continue
            if source == SHARED_TOKEN_ENV:
                kinds.setdefault(info.kind, []).append(owner)
            for project in projects:
                _repository_checks(out, client, project, source)
        except GitHubUnreachableError as e:
            out.add(
                "github.api.reachable",
                "fail",
                subject,
                f"the GitHub API cannot be reached: {e}",
                "check the network, or --github-api-url for GitHub Enterprise Server",
            )
    shared_fine = sorted(kinds.get("fine-grained", []) + kinds.get("app", []))
    if len(shared_fine) > 1:
        out.add(
            "github.token.per_owner",
            "warn",
            "GitHub owners " + ", ".join(shared_fine),
            f"one fine-grained/App token in {SHARED_TOKEN_ENV} serves several owners, but such "
            "a token covers a single resource owner",
            "set TF_VAR_" + owner_token_variable("<owner>") + " per owner",
        )
    return out.checks


# --- AWS ----------------------------------------------------------------------------------

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def boto3_clients() -> ClientFactory:
    """Clients from the default credential chain, with timeouts and a read-only guard."""
    import boto3  # noqa: PLC0415 - only this command needs it
    from botocore.config import Config  # noqa: PLC0415

    session = boto3.session.Session()
    config = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3})

    def make(service: str, region: str) -> Any:
        client = session.client(service, region_name=region, config=config)
        guard_read_only(client)
        return client

    return make


def guard_read_only(client: Any) -> None:
    """Refuse any call that is not Get/List/Describe/Head, before it is sent."""

    def refuse(model: Any, **_: Any) -> None:
        if not str(model.name).startswith(READ_ONLY_AWS_PREFIXES):
            raise PermissionError(f"preflight is read-only: refused {model.name}")

    client.meta.events.register("before-parameter-build", refuse)


def _brief(error: Exception, limit: int = 160) -> str:
    """``Code: first line of the message``, cut to ``limit`` characters."""
    first = (str(error).strip().splitlines() or [""])[0]
    text = f"{_code(error) or type(error).__name__}: {first}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


AWS_ERRORS = (BotoCoreError, ClientError)


def _role_exists(iam: Any, name: str) -> bool | str:
    try:
        iam.get_role(RoleName=name)
    except ClientError as e:
        if _code(e) == "NoSuchEntity":
            return False
        return f"{_code(e)}: {e}"
    return True


def _guarded(
    out: _Collector, check: str, subject: str, action: str, step: Callable[[], None]
) -> None:
    """Run one AWS check; an API error becomes a failed line naming the permission."""
    try:
        step()
    except AWS_ERRORS as e:
        out.add(
            check,
            "fail",
            subject,
            f"cannot be read: {_brief(e)}",
            f"allow {action} for the identity that runs plans (make deployer-policy)",
        )


def aws_checks(env: Environment, clients: ClientFactory, environ: Mapping[str, str]) -> list[Check]:
    out = _Collector(env.name)
    subject = f"AWS account {env.account_id} region {env.region}"
    try:
        identity = clients("sts", env.region).get_caller_identity()
    except AWS_ERRORS as e:  # no credentials, expired token, region not enabled
        out.add(
            "aws.credentials",
            "fail",
            subject,
            f"the AWS credentials do not work in {env.region}: {e}",
            "log in (aws sso login / AWS_PROFILE) with the identity that runs plans; an opt-in "
            "region must be enabled for the account",
        )
        return out.checks
    account = str(identity.get("Account"))
    if account != env.account_id:
        out.add(
            "aws.account",
            "fail",
            subject,
            f"the credentials belong to account {account} ({identity.get('Arn')}), not "
            f"{env.account_id}: the provider's allowed_account_ids would refuse every plan",
            f"use credentials of account {env.account_id} (AWS_PROFILE), or fix account_id",
        )
        return out.checks
    out.add(
        "aws.account",
        "ok",
        subject,
        f"credentials of {identity.get('Arn')} work in {env.region}",
    )
    iam = clients("iam", env.region)
    _guarded(
        out,
        "aws.oidc_provider",
        "GitHub OIDC provider",
        "iam:ListOpenIDConnectProviders",
        lambda: _oidc_check(out, env, iam),
    )
    _role_checks(out, env, iam)
    _connection_checks(out, env, clients)
    _guarded(
        out,
        "aws.lambda_concurrency",
        "Lambda concurrency",
        "lambda:GetAccountSettings and lambda:GetFunctionConcurrency",
        lambda: _concurrency_check(out, env, clients),
    )
    _state_bucket_check(out, env, clients)
    _guarded(
        out,
        "aws.name_taken",
        "names the stack creates",
        "lambda:GetFunction, logs:DescribeLogGroups, logs:ListTagsLogGroup and "
        "secretsmanager:DescribeSecret",
        lambda: _name_checks(out, env, clients),
    )
    if env.platform.token_secret.value_from_variable and not environ.get(TOKEN_VARIABLE_ENV):
        out.add(
            "aws.token_variable",
            "warn",
            f"secret {env.platform.token_secret.name}",
            f"{TOKEN_VARIABLE_ENV} is not set: plans and make drift work, applies stop before "
            "writing the secret",
            f"export {TOKEN_VARIABLE_ENV} (the token the trigger function dispatches with: "
            "Actions: Read and write on the repositories) before applying",
        )
    return out.checks


def _oidc_check(out: _Collector, env: Environment, iam: Any) -> None:
    platform = env.platform
    if platform.auth_mode != "oidc":
        return
    host = GITHUB_OIDC_URL.removeprefix("https://")
    providers = iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])
    arns = [str(p["Arn"]) for p in providers]
    existing = [a for a in arns if a.endswith(f"oidc-provider/{host}")]
    subject = "GitHub OIDC provider"
    if platform.oidc_provider_arn is None:
        if existing:
            out.add(
                "aws.oidc_provider",
                "fail",
                subject,
                f"the account already has {existing[0]} and the config says create "
                "(the apply would fail with EntityAlreadyExists)",
                f"set platform.oidc_provider_arn: {existing[0]}",
            )
        else:
            out.add("aws.oidc_provider", "ok", subject, "none yet: the plan creates it")
    elif platform.oidc_provider_arn in arns:
        out.add("aws.oidc_provider", "ok", subject, f"{platform.oidc_provider_arn} exists")
    else:
        out.add(
            "aws.oidc_provider",
            "fail",
            subject,
            f"{platform.oidc_provider_arn} does not exist"
            + (f" (the account has {existing[0]})" if existing else ""),
            f"set platform.oidc_provider_arn to {existing[0]}"
            if existing
            else "remove platform.oidc_provider_arn to have the plan create the provider, or "
            "apply the environment that creates it first",
        )


def _role_checks(out: _Collector, env: Environment, iam: Any) -> None:
    platform = env.platform
    wanted = [("aws.launch_role", platform.launch_role_name, STUDIO_ROLES_FIX)]
    if platform.pipeline_role == "service_catalog":
        wanted.append(
            (
                "aws.use_role",
                USE_ROLE_NAME,
                STUDIO_ROLES_FIX + ", or set platform.pipeline_role: per_project",
            )
        )
    for arn in platform.studio_execution_role_arns:
        wanted.append(
            (
                "aws.studio_role",
                arn.rsplit("/", 1)[-1],
                "fix platform.studio_execution_role_arns (the execution roles of the SageMaker "
                "Studio domain and its user profiles)",
            )
        )
    for check, name, fix in wanted:
        found = _role_exists(iam, name)
        if found is True:
            out.add(check, "ok", f"IAM role {name}", "exists")
        elif found is False:
            out.add(check, "fail", f"IAM role {name}", "does not exist", fix)
        else:
            out.add(
                check, "fail", f"IAM role {name}", f"cannot be read: {found}", "allow iam:GetRole"
            )


def _connection_checks(out: _Collector, env: Environment, clients: ClientFactory) -> None:
    for project in env.projects:
        arn = project.code_connection
        subject = f"CodeConnection of {project.name}"
        if arn == "create":
            out.add(
                "aws.code_connection",
                "warn",
                subject,
                "the plan creates it; it stays PENDING until someone completes the handshake",
                "after the first apply: Developer Tools > Settings > Connections > Update "
                "pending connection",
            )
            continue
        service = "codestar-connections" if ":codestar-connections:" in arn else "codeconnections"
        try:
            connection = clients(service, env.region).get_connection(ConnectionArn=arn)
            status = str(connection["Connection"]["ConnectionStatus"])
        except AWS_ERRORS as e:
            out.add(
                "aws.code_connection",
                "fail",
                subject,
                f"{arn} cannot be read: {_code(e) or e}",
                "fix projects[].code_connection, or use 'create'",
            )
            continue
        if status == "AVAILABLE":
            out.add("aws.code_connection", "ok", subject, f"{arn} is AVAILABLE")
        else:
            out.add(
                "aws.code_connection",
                "fail",
                subject,
                f"{arn} is {status}, not AVAILABLE: SageMaker cannot clone the repository",
                "complete the handshake (Developer Tools > Settings > Connections > Update "
                "pending connection), or use 'create'",
            )


def _concurrency_check(out: _Collector, env: Environment, clients: ClientFactory) -> None:
    reserved = getattr(env.platform.trigger_lambda, "reserved_concurrency", None)
    if not isinstance(reserved, int):
        return  # no reservation configured: nothing to fit
    lam = clients("lambda", env.region)
    limit = lam.get_account_settings()["AccountLimit"]
    unreserved = int(limit["UnreservedConcurrentExecutions"])
    total = int(limit["ConcurrentExecutions"])
    try:
        current = lam.get_function_concurrency(FunctionName=TRIGGER_FUNCTION_NAME)
        already = int(current.get("ReservedConcurrentExecutions", 0))
    except ClientError as e:
        if _code(e) != "ResourceNotFoundException":
            raise
        already = 0
    available = unreserved + already - LAMBDA_UNRESERVED_MINIMUM
    subject = "Lambda concurrency"
    if reserved <= available:
        out.add(
            "aws.lambda_concurrency",
            "ok",
            subject,
            f"reserving {reserved} fits (account limit {total}, unreserved {unreserved})",
        )
    else:
        out.add(
            "aws.lambda_concurrency",
            "fail",
            subject,
            f"platform.lambda.reserved_concurrency {reserved} does not fit: the account limit "
            f"is {total}, {unreserved} unreserved, and Lambda keeps "
            f"{LAMBDA_UNRESERVED_MINIMUM} unreserved",
            "request a higher 'Concurrent executions' quota (Service Quotas > AWS Lambda), or "
            f"lower platform.lambda.reserved_concurrency to at most {max(available, 0)}",
        )


def _name_checks(out: _Collector, env: Environment, clients: ClientFactory) -> None:
    """Account-wide names the first apply creates must be free, or already the stack's own
    (tagged managed-by by an earlier apply). A leftover of the original guide (its function and
    the log group Lambda created for it) or a secret still scheduled for deletion makes the
    create fail (ResourceConflictException / ResourceAlreadyExistsException /
    InvalidRequestException)."""
    found: list[tuple[str, str, dict[str, str] | None]] = []  # kind, name, tags
    lam = clients("lambda", env.region)
    try:
        function = lam.get_function(FunctionName=TRIGGER_FUNCTION_NAME)
        found.append(("function", TRIGGER_FUNCTION_NAME, dict(function.get("Tags") or {})))
    except ClientError as e:
        if _code(e) != "ResourceNotFoundException":
            raise
        found.append(("function", TRIGGER_FUNCTION_NAME, None))
    logs = clients("logs", env.region)
    group = f"/aws/lambda/{TRIGGER_FUNCTION_NAME}"
    groups = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
    if any(g.get("logGroupName") == group for g in groups):
        tags = logs.list_tags_log_group(logGroupName=group).get("tags", {})
        found.append(("log group", group, dict(tags)))
    else:
        found.append(("log group", group, None))
    _report_names(out, found)
    _secret_name_check(out, env, clients)


def _report_names(
    out: _Collector,
    found: Sequence[tuple[str, str, dict[str, str] | None]],
    fix: str = FOREIGN_FIX,
) -> None:
    """One line per (kind, name, tags): free (tags None), ours (the managed-by tag) or foreign."""
    key, value = MANAGED_BY_TAG
    for kind, name, tags in found:
        subject = f"{kind} {name}"
        if tags is None:
            out.add("aws.name_taken", "ok", subject, "free: the plan creates it")
        elif tags.get(key) == value:
            out.add("aws.name_taken", "ok", subject, "exists, created by this toolkit")
        else:
            out.add(
                "aws.name_taken",
                "fail",
                subject,
                "exists and was not created by this toolkit: the apply's create fails",
                fix,
            )


def _secret_name_check(out: _Collector, env: Environment, clients: ClientFactory) -> None:
    secret_name = env.platform.token_secret.name
    try:
        secret = clients("secretsmanager", env.region).describe_secret(SecretId=secret_name)
    except ClientError as e:
        if _code(e) != "ResourceNotFoundException":
            raise
        _report_names(out, [("secret", secret_name, None)])
        return
    if secret.get("DeletedDate"):
        out.add(
            "aws.name_taken",
            "fail",
            f"secret {secret_name}",
            "is scheduled for deletion: a secret of that name cannot be created until the "
            "recovery window ends",
            f"aws secretsmanager restore-secret --secret-id {secret_name} (then import it), or "
            "set platform.token_secret.name to another name",
        )
        return
    tags = {str(t.get("Key")): str(t.get("Value")) for t in secret.get("Tags") or []}
    _report_names(
        out,
        [("secret", secret_name, tags)],
        fix="set platform.token_secret.name to another name, or " + FOREIGN_FIX,
    )


def _state_bucket_check(out: _Collector, env: Environment, clients: ClientFactory) -> None:
    backend = env.backend
    if not isinstance(backend, S3Backend):
        return
    region = backend.region or env.region
    s3 = clients("s3", region)
    subject = f"state bucket {backend.bucket}"
    try:
        s3.head_bucket(Bucket=backend.bucket)
    except AWS_ERRORS as e:
        code = _code(e)
        missing = code in ("404", "NoSuchBucket", "NotFound")
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            "does not exist" if missing else f"cannot be read ({code or e})",
            f"create it in {region} with versioning and default encryption"
            if missing
            else "allow s3:ListBucket on it for the deploying identity",
        )
        return
    try:
        status = s3.get_bucket_versioning(Bucket=backend.bucket).get("Status")
        location = s3.get_bucket_location(Bucket=backend.bucket).get("LocationConstraint")
    except AWS_ERRORS as e:
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            f"versioning or location cannot be read ({_brief(e)})",
            "allow s3:GetBucketVersioning and s3:GetBucketLocation on it for the deploying "
            "identity",
        )
        return
    # GetBucketLocation answers null for us-east-1 and the legacy "EU" for eu-west-1
    actual = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    if actual != region:
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            f"the bucket is in {actual}, but the backend uses region {region}: terraform init "
            "fails",
            f"set backend.region: {actual}",
        )
        return
    if status == "Enabled":
        out.add("aws.state_bucket", "ok", subject, "exists, versioning enabled")
    else:
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            f"versioning is {status or 'off'}: an overwritten or deleted state cannot be recovered",
            f"aws s3api put-bucket-versioning --bucket {backend.bucket} "
            "--versioning-configuration Status=Enabled",
        )


# --- the command --------------------------------------------------------------------------


def run(
    environments: Sequence[Environment],
    *,
    clients: ClientFactory,
    environ: Mapping[str, str],
    github_api_url: str,
    github_timeout_seconds: float = GITHUB_TIMEOUT_SECONDS,
    assume: AssumeRole | None = None,
) -> list[Check]:
    """``assume``: how to reach the stage accounts of promoted environments
    (modules/ops/preflight_stages.py). Default: they are not checked."""
    checks: list[Check] = []
    for env in environments:
        checks.extend(aws_checks(env, clients, environ))
        if assume is not None:
            out = _Collector(env.name)
            for line in stage_account_checks(env, assume):
                out.add(*line)  # type: ignore[arg-type]
            checks.extend(out.checks)
        checks.extend(github_checks(env, github_api_url, environ, github_timeout_seconds))
    return checks


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.status == "fail" for c in checks) else 0


def render(checks: Sequence[Check]) -> str:
    counts = {s: sum(1 for c in checks if c.status == s) for s in SYMBOL}
    verdict = (
        "nothing blocks the first apply"
        if counts["fail"] == 0
        else f"{counts['fail']} blocking problem(s): fix the lines marked {SYMBOL['fail']}"
    )
    summary = (
        f"preflight: {len(checks)} checks, {counts['ok']} passed, {counts['warn']} to know, "
        f"{counts['fail']} blocking: {verdict}"
    )
    return "\n".join([*(c.line() for c in checks), summary])


def _selected(
    source: str, environments: Sequence[Environment], names: Sequence[str] | None
) -> Iterator[Environment]:
    known = {e.name for e in environments}
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise ConfigError(
            source,
            [
                f"--stack {n}: no such environment; the config has {', '.join(sorted(known))}"
                for n in unknown
            ],
        )
    for env in environments:
        if not names or env.name in names:
            yield env


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: ClientFactory | None = None,
    assume: AssumeRole | None = None,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modules.ops.preflight",
        description="Read-only check of the AWS and GitHub prerequisites before the first apply.",
    )
    parser.add_argument("--config", default=os.environ.get("CONFIG") or str(DEFAULT_CONFIG_PATH))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    parser.add_argument("--json", type=Path, dest="json_path", metavar="PATH")
    parser.add_argument(
        "--github-api-url",
        default=os.environ.get("MLOPS_GITHUB_API_URL") or DEFAULT_GITHUB_API,
        help="GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3)",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        environments = list(_selected(str(args.config), config.environments, args.stacks))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checks = run(
        environments,
        clients=clients or boto3_clients(),
        environ=os.environ,
        github_api_url=re.sub(r"/+$", "", args.github_api_url),
        # stage accounts: the plan's credentials assume each stage deployer role (injected
        # clients without ``assume`` leave them out)
        assume=assume or (boto3_assume_role() if clients is None else None),
    )
    print(render(checks))
    if args.json_path is not None:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        document = {"exit_code": exit_code(checks), "checks": [asdict(c) for c in checks]}
        args.json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return exit_code(checks)


if __name__ == "__main__":
    sys.exit(main())
