"""Checks of one project's repository (``GET /repos/{owner}/{repo}`` and what it implies).

GitHub facts (docs.github.com/en/rest): ``GET /repos/{owner}/{repo}`` returns ``name``,
``owner.login`` (spelled as GitHub has them), ``archived``, ``default_branch``, ``visibility``,
``owner.type`` and, for a user token, ``permissions``; 404 when the token cannot see the
repository; 301 when it was renamed or transferred. Environments with required reviewers in
private or internal repositories need GitHub Enterprise ("Managing environments for
deployment"); otherwise creating the protection rule fails with 422. The OIDC ``sub`` claim
names the repository as GitHub spells it ("About security hardening with OpenID Connect"), and
IAM compares trust conditions case-sensitively, so the config must spell owner and repository
exactly as GitHub does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modules.core.config import Project
from modules.core.naming import owner_token_variable
from modules.ops.preflight.github_api import GitHubClient, GitHubResponse
from modules.ops.preflight.report import Collector

#: Read-only probes of fine-grained/App permissions the plan needs (it writes what it reads
#: here): GitHub answers 403 naming the missing permission in X-Accepted-GitHub-Permissions.
PERMISSION_PROBES = (
    ("actions/variables", "Variables"),
    ("actions/secrets", "Secrets"),
)
#: The seed's pull request (and workflows_via_pull_request) needs Pull requests.
PULL_REQUEST_PROBE = ("pulls?per_page=1", "Pull requests")


def repository(
    out: Collector, client: GitHubClient, project: Project, source: str, subject: str
) -> Mapping[str, Any] | None:
    """The repository document, or ``None`` (with a failed line) when it cannot be used."""
    gh = project.github
    answer = client.get(f"/repos/{gh.owner}/{gh.repository}")
    if answer.status == 301:
        _moved(out, client, answer, subject)
        return None
    if answer.status == 404:
        out.add(
            "github.repository.visible",
            "fail",
            subject,
            "not found, or not visible to the token (GitHub answers 404 for both)",
            f"create the repository, or give the token in {source} access to it (a "
            f"fine-grained token covers one owner: set TF_VAR_{owner_token_variable(gh.owner)} "
            f"for {gh.owner})",
        )
        return None
    if answer.status != 200 or not isinstance(answer.body, dict):
        out.add(
            "github.repository.visible",
            "fail",
            subject,
            f"GET answered {answer.status} {answer.message!r}",
            "check the token's access",
        )
        return None
    out.add("github.repository.visible", "ok", subject, "visible to the token")
    return answer.body


def _moved(out: Collector, client: GitHubClient, answer: GitHubResponse, subject: str) -> None:
    """A 301: the repository was renamed or transferred. Its new name comes from the
    redirect's target, read only if it is on the API's own origin (the token goes nowhere
    else); nothing else of the project is checked under the old name."""
    target = client.get_url(answer.location) if answer.location else None
    body = target.body if target is not None and target.status == 200 else None
    full_name = str(body.get("full_name", "")) if isinstance(body, dict) else ""
    if "/" in full_name:
        owner, name = full_name.split("/", 1)
        out.add(
            "github.repository.renamed",
            "fail",
            subject,
            f"GitHub answered 301: the repository is now {full_name} (renamed or transferred); "
            "the plan and the roles' trust would address the old name",
            f"set github.owner: {owner} and github.repository: {name}",
        )
        return
    out.add(
        "github.repository.renamed",
        "fail",
        subject,
        "GitHub answered 301: the repository was renamed or transferred"
        + ("" if client.same_origin(answer.location) else " (to another host: not followed)"),
        "open the repository on GitHub and set github.owner / github.repository to its name",
    )


def spelling_check(out: Collector, project: Project, body: Mapping[str, Any], subject: str) -> bool:
    """Owner and repository exactly as GitHub spells them (the OIDC ``sub`` claim carries
    GitHub's spelling, and IAM's StringEquals/StringLike compare case-sensitively)."""
    gh = project.github
    owner_field = body.get("owner")
    owner = str(owner_field.get("login", "")) if isinstance(owner_field, dict) else ""
    name = str(body.get("name", ""))
    if (owner, name) == (gh.owner, gh.repository) or not owner or not name:
        out.add("github.repository.spelling", "ok", subject, "spelled as GitHub has it")
        return True
    out.add(
        "github.repository.spelling",
        "fail",
        subject,
        f"GitHub spells it {owner}/{name}: the roles' trust conditions compare the OIDC sub "
        f"claim (repo:{owner}/{name}:...) case-sensitively, so {gh.owner}/{gh.repository} "
        "would never match",
        f"set github.owner: {owner} and github.repository: {name}",
    )
    return False


def state_checks(out: Collector, project: Project, body: Mapping[str, Any], subject: str) -> None:
    """Archived and the token user's admin role."""
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
    if not isinstance(permissions, dict):
        return  # an installation token: no user role to read
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


def permission_probes(out: Collector, client: GitHubClient, project: Project, subject: str) -> None:
    """Fine-grained / App tokens: read what the plan writes; 403 names the permission."""
    gh = project.github
    probes = list(PERMISSION_PROBES)
    if project.seed_code or gh.workflows_via_pull_request:
        probes.append(PULL_REQUEST_PROBE)
    for path, name in probes:
        answer = client.get(f"/repos/{gh.owner}/{gh.repository}/{path}")
        if answer.status == 403:
            needed = answer.headers.get("x-accepted-github-permissions") or (
                name.lower().replace(" ", "_") + "=read"
            )
            out.add(
                "github.token.permissions",
                "fail",
                subject,
                f"GitHub answered 403 {answer.message!r} (needs {needed}): the plan writes "
                f"{name.lower()}",
                f"grant the token/App {name}: Read and write on {gh.owner}/{gh.repository}",
            )
        elif answer.status == 200:
            out.add("github.token.permissions", "ok", subject, f"{name} readable")


def plan_check(
    out: Collector,
    client: GitHubClient,
    project: Project,
    repo: Mapping[str, Any],
    subject: str,
) -> None:
    """Required reviewers on a private/internal repository need GitHub Enterprise."""
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
