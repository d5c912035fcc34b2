"""The production reviewers exist and can access the repository.

``GET /users/{user}`` 200/404, ``GET /repos/{o}/{r}/collaborators/{user}`` 204/404,
``GET /orgs/{org}/teams/{team}`` 200/404 and ``GET /orgs/{org}/teams/{team}/repos/{o}/{r}``
204/404 (docs.github.com/en/rest).
"""

from __future__ import annotations

from modules.core.config import Project
from modules.ops.preflight.github_api import GitHubClient
from modules.ops.preflight.report import Collector


def reviewer_checks(out: Collector, client: GitHubClient, project: Project, subject: str) -> None:
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
