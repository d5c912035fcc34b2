"""The GitHub half of preflight: per owner, its token; per project, its repository, branch,
OIDC subject and reviewers. Only ``GET`` requests are sent (github_api.GitHubClient)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from modules.core.config import Environment, Project
from modules.core.naming import owner_token_variable
from modules.ops.preflight import github_branch, github_repository
from modules.ops.preflight.github_api import (
    GitHubClient,
    GitHubDeniedError,
    GitHubUnreachableError,
)
from modules.ops.preflight.github_reviewers import reviewer_checks
from modules.ops.preflight.github_token import (
    REPOSITORY_PERMISSIONS,
    SHARED_TOKEN_ENV,
    owner_token,
    scopes_unknown,
    token_checks,
)
from modules.ops.preflight.report import Check, Collector


def github_checks(
    env: Environment, api_url: str, environ: Mapping[str, str], timeout_seconds: float
) -> list[Check]:
    out = Collector(env.name)
    owners: dict[str, list[Project]] = {}
    for project in env.projects:
        owners.setdefault(project.github.owner.lower(), []).append(project)
    kinds: dict[str, list[str]] = {}
    for owner, projects in owners.items():
        token, source, subject = _token_for(out, env, owner, environ)
        if token is None:
            continue
        client = GitHubClient(api_url, token, timeout_seconds)
        try:
            info = token_checks(out, client, owner, source, env)
            if info is None:
                continue
            if source == SHARED_TOKEN_ENV:
                kinds.setdefault(info.kind, []).append(owner)
            for project in projects:
                repository_checks(out, client, env, project, source)
        except GitHubUnreachableError as e:
            out.add(
                "github.api.reachable",
                "fail",
                subject,
                f"the GitHub API cannot be reached: {e}",
                "check the network, or --github-api-url for GitHub Enterprise Server",
            )
        except GitHubDeniedError as e:
            out.add(
                e.check, "fail", subject, f"{e.detail}; the remaining checks did not run", e.fix
            )
    _shared_token_check(out, kinds)
    return out.checks


def _token_for(
    out: Collector, env: Environment, owner: str, environ: Mapping[str, str]
) -> tuple[str | None, str, str]:
    """The token to check ``owner`` with, where it comes from, and the lines' subject."""
    token, source = owner_token(owner, environ)
    subject = f"GitHub token for {owner}"
    app = env.platform.github_app
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
        return token, source, f"GitHub token for {owner} (checks only)"
    if token is None:
        out.add(
            "github.token.present",
            "fail",
            subject,
            f"neither {source} nor {SHARED_TOKEN_ENV} is set",
            f"export {source} (or {SHARED_TOKEN_ENV}) with a token that administers the "
            "repositories",
        )
    return token, source, subject


def repository_checks(
    out: Collector, client: GitHubClient, env: Environment, project: Project, source: str
) -> None:
    gh = project.github
    subject = f"repository {gh.owner}/{gh.repository} ({project.name})"
    body = github_repository.repository(out, client, project, source, subject)
    if body is None:
        return
    github_repository.spelling_check(out, project, body, subject)
    github_repository.state_checks(out, project, body, subject)
    github_branch.default_branch_check(
        out,
        client,
        env,
        project,
        default_branch=str(body.get("default_branch", "")),
        subject=subject,
    )
    github_repository.plan_check(out, client, project, body, subject)
    if scopes_unknown(client):
        github_repository.permission_probes(out, client, project, subject)
    github_branch.branch_checks(out, client, project, subject)
    if env.platform.auth_mode == "oidc":
        github_branch.oidc_subject_check(out, client, project, subject)
    reviewer_checks(out, client, project, subject)


def _shared_token_check(out: Collector, kinds: Mapping[str, Sequence[str]]) -> None:
    shared_fine = sorted([*kinds.get("fine-grained", []), *kinds.get("app", [])])
    if len(shared_fine) > 1:
        out.add(
            "github.token.per_owner",
            "warn",
            "GitHub owners " + ", ".join(shared_fine),
            f"one fine-grained/App token in {SHARED_TOKEN_ENV} serves several owners, but such "
            "a token covers a single resource owner",
            "set TF_VAR_" + owner_token_variable("<owner>") + " per owner",
        )
