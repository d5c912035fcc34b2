"""Checks of the project's branch, the default branch and the repository's OIDC subject.

GitHub facts (docs.github.com/en/rest and the Actions docs):

* ``GET /repos/{o}/{r}/branches/{b}/protection`` answers 404 "Branch not protected" when there
  is no protection, and includes ``required_pull_request_reviews`` when pull requests are
  required; ``GET /repos/{o}/{r}/rules/branches/{b}`` lists the active ruleset rules (type
  ``pull_request``), paginated. Either makes the Contents API commits of the workflow files
  fail with 409, unless the files arrive by pull request (``workflows_via_pull_request``);
* ``workflow_dispatch`` only runs workflows present on the default branch ("Events that trigger
  workflows": "this event will only trigger a workflow run if the workflow file exists on the
  default branch"); ``GET /repos/{o}/{r}/contents/{path}?ref=`` reads a file of a branch;
* ``GET /repos/{o}/{r}/actions/oidc/customization/sub`` returns ``use_default`` (false: the
  ``sub`` claim is built from ``include_claim_keys``) and ``use_immutable_subject`` (true: "a
  stable, repository-ID-based sub claim"); either changes the ``sub`` every role's trust pins
  (``repo:<owner>/<repo>:ref:...`` / ``:environment:...``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from modules.core.config import Environment, Project
from modules.ops.preflight.github_api import GitHubClient
from modules.ops.preflight.report import Collector
from modules.render.workflows import deploy_workflow_path


def branch_checks(out: Collector, client: GitHubClient, project: Project, subject: str) -> None:
    gh = project.github
    base = f"/repos/{gh.owner}/{gh.repository}/branches/{gh.branch}"
    branch = client.get(base)
    if branch.status == 301:
        new = branch.location.rstrip("/").rsplit("/branches/", 1)[-1] if branch.location else ""
        out.add(
            "github.branch.exists",
            "fail",
            subject,
            f"GitHub answered 301: branch {gh.branch!r} was renamed"
            + (f" to {new!r}" if new else ""),
            f"set github.branch: {new}" if new else "set github.branch to the branch's new name",
        )
        return
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
    _pull_request_check(out, client, project, subject)


def _pull_request_check(
    out: Collector, client: GitHubClient, project: Project, subject: str
) -> None:
    gh = project.github
    protection = client.get(f"/repos/{gh.owner}/{gh.repository}/branches/{gh.branch}/protection")
    rules, _ = client.get_all(f"/repos/{gh.owner}/{gh.repository}/rules/branches/{gh.branch}")
    # the key is present (an object, even with 0 approvals) exactly when PRs are required
    requires_pr = isinstance(protection.body, dict) and protection.status == 200
    requires_pr = requires_pr and protection.body.get("required_pull_request_reviews") is not None
    ruleset_pr = any(isinstance(r, dict) and r.get("type") == "pull_request" for r in rules)
    if (requires_pr or ruleset_pr) and gh.workflows_via_pull_request:
        out.add(
            "github.branch.pull_requests",
            "ok",
            subject,
            f"{gh.branch!r} requires pull requests, and the workflow files arrive by pull "
            "request (workflows_via_pull_request)",
        )
    elif requires_pr or ruleset_pr:
        source = "branch protection" if requires_pr else "a repository ruleset"
        out.add(
            "github.branch.pull_requests",
            "fail",
            subject,
            f"{source} requires pull requests on {gh.branch!r}: the Contents API commits of "
            "the workflow files are rejected with 409",
            "set github.workflows_via_pull_request: true, or let the deploying identity bypass "
            "the rule (ruleset bypass list, or protection without 'Do not allow bypassing')",
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


def default_branch_check(
    out: Collector,
    client: GitHubClient,
    env: Environment,
    project: Project,
    *,
    default_branch: str,
    subject: str,
) -> None:
    """A branch other than the default one works, but the trigger's dispatch only runs the
    deploy workflow if its file is on the default branch too."""
    gh = project.github
    check = "github.repository.default_branch"
    if not default_branch or default_branch == gh.branch:
        out.add(check, "ok", subject, f"{gh.branch!r} is the default branch")
        return
    path = deploy_workflow_path(env.name)
    ref = quote(default_branch, safe="")
    answer = client.get(f"/repos/{gh.owner}/{gh.repository}/contents/{path}?ref={ref}")
    if answer.status == 200:
        out.add(
            check,
            "ok",
            subject,
            f"{gh.branch!r} is not the default branch {default_branch!r}, and {path} is on "
            f"{default_branch!r}, where workflow_dispatch runs it from",
        )
        return
    out.add(
        check,
        "warn",
        subject,
        f"{gh.branch!r} is not the default branch {default_branch!r} and {path} is not on "
        f"{default_branch!r} ({answer.status}): workflow_dispatch (the trigger's dispatch) only "
        "runs workflows present on the default branch",
        f"after the first apply, merge {path} from {gh.branch!r} into {default_branch!r}, or "
        f"set github.branch: {default_branch}",
    )


def oidc_subject_check(
    out: Collector, client: GitHubClient, project: Project, subject: str
) -> None:
    """The repository's OIDC ``sub`` must be GitHub's default template."""
    gh = project.github
    answer = client.get(f"/repos/{gh.owner}/{gh.repository}/actions/oidc/customization/sub")
    check = "github.repository.oidc_subject"
    fix = (
        "reset it to GitHub's default template: gh api -X PUT "
        f"repos/{gh.owner}/{gh.repository}/actions/oidc/customization/sub -F use_default=true"
    )
    body: Any = answer.body
    if answer.status == 403:
        needed = answer.headers.get("x-accepted-github-permissions", "actions=read")
        out.add(
            check,
            "warn",
            subject,
            f"the OIDC subject template cannot be read (403, needs {needed})",
            "grant the token Actions: Read to check it, or check Settings > Actions by hand",
        )
    elif answer.status != 200 or not isinstance(body, dict):
        out.add(
            check,
            "warn",
            subject,
            f"the OIDC subject template cannot be read ({answer.status} {answer.message!r})",
            "check by hand that the repository uses GitHub's default sub claim",
        )
    elif body.get("use_default") is False:
        keys = ", ".join(str(k) for k in body.get("include_claim_keys") or []) or "none listed"
        out.add(
            check,
            "fail",
            subject,
            f"the repository customizes the OIDC sub claim (include_claim_keys: {keys}): every "
            "role's trust pins the default repo:<owner>/<repo>:... and would refuse the "
            "workflows",
            fix,
        )
    elif body.get("use_immutable_subject") is True:
        out.add(
            check,
            "fail",
            subject,
            "the repository uses the immutable, repository-ID-based OIDC sub claim: every "
            "role's trust pins repo:<owner>/<repo>:... and would refuse the workflows",
            "turn the immutable OIDC subject off for the repository (or its organization), or "
            "keep it and write the roles' trust for it (the toolkit pins repo:<owner>/<repo>)",
        )
    else:
        out.add(check, "ok", subject, "the OIDC sub claim uses GitHub's default template")
