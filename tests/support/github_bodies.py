"""Complete GitHub REST response bodies for the fake (tests/support/fake_github.py).

Each builder answers with every field GitHub's description marks required for that response
(the schema named in each docstring, from npm ``@octokit/openapi``'s
``generated/api.github.com.json``), shaped like GitHub's own examples: API URLs under
``https://api.github.com``, web URLs under ``https://github.com``, ``{/template}`` suffixes
where GitHub documents URI templates. The values the code under test reads (names, owner type,
default branch, archived, visibility, permissions, rule parameters) come from the arguments;
the rest are fixed, so answers are deterministic. ``tests/support/test_fake_github_conformance.py``
validates every body against the description.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any, Literal

API = "https://api.github.com"
WEB = "https://github.com"
#: a fixed instant for created/updated/pushed timestamps (deterministic answers)
WHEN = "2026-01-05T10:00:00Z"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def stable_id(*parts: str) -> int:
    """A deterministic positive id for a named object (GitHub ids are int64)."""
    return zlib.crc32("/".join(p.lower() for p in parts).encode()) + 1


def node_id(kind: str, *parts: str) -> str:
    return f"{kind}_kgDO{stable_id(*parts):010d}"


def simple_user(
    login: str, kind: Literal["User", "Organization", "Bot"] = "User"
) -> dict[str, Any]:
    """``simple-user`` (also a repository's ``owner``)."""
    url = f"{API}/users/{login}"
    return {
        "login": login,
        "id": stable_id(login),
        "node_id": node_id("U" if kind == "User" else "O", login),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{stable_id(login)}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def public_user(login: str) -> dict[str, Any]:
    """``public-user`` (GET /users/{username}, and GET /user for another view)."""
    return {
        **simple_user(login),
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "public_repos": 2,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": WHEN,
        "updated_at": WHEN,
    }


def private_user(login: str) -> dict[str, Any]:
    """``private-user`` (GET /user: the authenticated user sees their private counts)."""
    return {
        **public_user(login),
        "user_view_type": "private",
        "private_gists": 0,
        "total_private_repos": 1,
        "owned_private_repos": 1,
        "disk_usage": 1024,
        "collaborators": 0,
        "two_factor_authentication": True,
    }


def _organization_core(login: str) -> dict[str, Any]:
    url = f"{API}/orgs/{login}"
    return {
        "login": login,
        "id": stable_id(login),
        "node_id": node_id("O", login),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{stable_id(login)}?v=4",
        "description": None,
        "html_url": f"{WEB}/{login}",
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 2,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": WHEN,
        "updated_at": WHEN,
        "archived_at": None,
    }


def organization(login: str, plan: str | None) -> dict[str, Any]:
    """``organization-full`` (GET /orgs/{org}); ``plan`` is shown to organization owners only
    ("Get an organization": "plan" needs admin:org / owner), so ``None`` leaves it out."""
    body = _organization_core(login)
    if plan is not None:
        body["plan"] = {
            "name": plan,
            "space": 976562499,
            "private_repos": 999999,
            "filled_seats": 4,
            "seats": 5,
        }
    return body


def team(org: str, slug: str) -> dict[str, Any]:
    """``team-full`` (GET /orgs/{org}/teams/{team_slug})."""
    team_id = stable_id(org, slug)
    url = f"{API}/organizations/{stable_id(org)}/team/{team_id}"
    return {
        "id": team_id,
        "node_id": node_id("T", org, slug),
        "url": url,
        "html_url": f"{WEB}/orgs/{org}/teams/{slug}",
        "name": slug,
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
        "parent": None,
        "members_count": 3,
        "repos_count": 1,
        "created_at": WHEN,
        "updated_at": WHEN,
        "type": "organization",
        "organization": _organization_core(org),
    }


_REPOSITORY_URLS = {
    # name -> path suffix, as GitHub's "full-repository" example spells them
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository(
    owner: str,
    name: str,
    *,
    owner_type: Literal["User", "Organization"],
    default_branch: str,
    visibility: Literal["public", "private", "internal"],
    archived: bool,
    permissions: dict[str, bool] | None,
) -> dict[str, Any]:
    """``full-repository`` (GET /repos/{owner}/{repo}). ``permissions`` (the caller's role) is
    present for user tokens and absent for installation tokens."""
    url = f"{API}/repos/{owner}/{name}"
    body: dict[str, Any] = {
        "id": stable_id(owner, name),
        "node_id": node_id("R", owner, name),
        "name": name,
        "full_name": f"{owner}/{name}",
        "owner": simple_user(owner, owner_type),
        "private": visibility != "public",
        "visibility": visibility,
        "html_url": f"{WEB}/{owner}/{name}",
        "description": None,
        "fork": False,
        "url": url,
        **{key: url + suffix for key, suffix in _REPOSITORY_URLS.items()},
        "git_url": f"git://github.com/{owner}/{name}.git",
        "ssh_url": f"git@github.com:{owner}/{name}.git",
        "clone_url": f"{WEB}/{owner}/{name}.git",
        "svn_url": f"{WEB}/{owner}/{name}",
        "mirror_url": None,
        "homepage": None,
        "language": "Python",
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers": 0,
        "watchers_count": 0,
        "size": 108,
        "default_branch": default_branch,
        "open_issues": 0,
        "open_issues_count": 0,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": archived,
        "disabled": False,
        "pushed_at": WHEN,
        "created_at": WHEN,
        "updated_at": WHEN,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "network_count": 0,
        "subscribers_count": 1,
    }
    if permissions is not None:
        body["permissions"] = permissions
    return body


def branch(owner: str, repo: str, name: str, *, protected: bool) -> dict[str, Any]:
    """``branch-with-protection`` (GET /repos/{owner}/{repo}/branches/{branch})."""
    url = f"{API}/repos/{owner}/{repo}"
    commit_url = f"{url}/commits/{SHA}"
    return {
        "name": name,
        "commit": {
            "url": commit_url,
            "sha": SHA,
            "node_id": node_id("C", owner, repo, name),
            "html_url": f"{WEB}/{owner}/{repo}/commit/{SHA}",
            "comments_url": f"{commit_url}/comments",
            "commit": {
                "url": f"{url}/git/commits/{SHA}",
                "author": {"name": "Mona Lisa", "email": "mona@example.com", "date": WHEN},
                "committer": {"name": "Mona Lisa", "email": "mona@example.com", "date": WHEN},
                "message": "Initial commit",
                "tree": {"sha": SHA, "url": f"{url}/git/trees/{SHA}"},
                "comment_count": 0,
            },
            "author": None,
            "committer": None,
            "parents": [],
        },
        "_links": {"html": f"{WEB}/{owner}/{repo}/tree/{name}", "self": f"{url}/branches/{name}"},
        "protected": protected,
        "protection": {
            "enabled": protected,
            "required_status_checks": {
                "enforcement_level": "off",
                "contexts": [],
                "checks": [],
            },
        },
        "protection_url": f"{url}/branches/{name}/protection",
    }


def branch_protection(
    owner: str, repo: str, name: str, *, required_approvals: int | None
) -> dict[str, Any]:
    """``branch-protection`` (GET .../branches/{branch}/protection). ``required_approvals``
    ``None``: pull requests not required (GitHub then leaves ``required_pull_request_reviews``
    out); a number: required, with that many approvals (0 allowed)."""
    url = f"{API}/repos/{owner}/{repo}/branches/{name}/protection"
    body: dict[str, Any] = {
        "url": url,
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": False},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": False},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
        "required_signatures": {
            "url": f"{url}/required_signatures",
            "enabled": False,
        },
    }
    if required_approvals is not None:
        body["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": False,
            "require_code_owner_reviews": False,
            "required_approving_review_count": required_approvals,
            "require_last_push_approval": False,
        }
    return body


def rule(kind: str, ruleset_id: int, source: str) -> dict[str, Any]:
    """One ``repository-rule-detailed`` (GET /repos/{o}/{r}/rules/branches/{branch}): the rule
    with the parameters its type defines (``repository-rule-pull-request`` requires five) and
    the ruleset it comes from."""
    body: dict[str, Any] = {
        "type": kind,
        "ruleset_source_type": "Repository",
        "ruleset_source": source,
        "ruleset_id": ruleset_id,
    }
    if kind == "pull_request":
        body["parameters"] = {
            "allowed_merge_methods": ["merge", "squash", "rebase"],
            "dismiss_stale_reviews_on_push": False,
            "require_code_owner_review": False,
            "require_last_push_approval": False,
            "required_approving_review_count": 1,
            "required_review_thread_resolution": False,
        }
    elif kind not in ("creation", "deletion", "non_fast_forward", "required_linear_history"):
        raise ValueError(f"the fake models no parameters for rule type {kind!r}")
    return body


def oidc_subject(
    *, use_default: bool, claim_keys: tuple[str, ...], immutable: bool = False
) -> dict[str, Any]:
    """``oidc-custom-sub-repo`` (GET /repos/{o}/{r}/actions/oidc/customization/sub);
    ``use_immutable_subject`` only when opted in."""
    body: dict[str, Any] = {"use_default": use_default}
    if not use_default:
        body["include_claim_keys"] = list(claim_keys)
    if immutable:
        body["use_immutable_subject"] = True
    return body


def content_file(owner: str, repo: str, path: str, ref: str, text: str) -> dict[str, Any]:
    """``content-file`` (GET /repos/{o}/{r}/contents/{path}?ref=...), base64 like GitHub."""
    url = f"{API}/repos/{owner}/{repo}/contents/{path}?ref={ref}"
    blob = f"{API}/repos/{owner}/{repo}/git/blobs/{SHA}"
    html = f"{WEB}/{owner}/{repo}/blob/{ref}/{path}"
    raw = text.encode()
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(raw),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": base64.b64encode(raw).decode(),
        "sha": SHA,
        "url": url,
        "git_url": blob,
        "html_url": html,
        "download_url": f"https://raw.githubusercontent.com/{owner}/{repo}/{ref}/{path}",
        "_links": {"git": blob, "self": url, "html": html},
    }


def error(status: int, message: str, doc: str) -> dict[str, Any]:
    """``basic-error``: what GitHub answers on 4xx (``documentation_url`` into docs.github.com)."""
    return {
        "message": message,
        "documentation_url": f"https://docs.github.com/rest/{doc}",
        "status": str(status),
    }
