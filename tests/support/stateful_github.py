"""A stateful fake of the GitHub REST API on 127.0.0.1 for the provider lifecycle model.

Unlike ``fake_github`` (scripted answers for preflight and the trigger), this one keeps a world
that changes: repositories with git objects (commits, trees, refs), branches, contents, pull
requests, environments with deployment branch policies, Actions variables and secrets
(repository and environment scoped), organizations, teams and users. Every request is recorded,
so the model can count the API calls of a plan or an apply.

The endpoints are the ones integrations/github 6.9.0 calls through go-github v67 (paths from
go-github, behaviour from docs.github.com/rest): the status codes that matter to the provider's
lifecycle are GitHub's own, e.g. ``422 Reference already exists`` for a second
``POST /git/refs`` of one branch (the race of provider issue #2438), ``404`` for a branch or a
file that is gone, ``409`` for a contents write whose ``sha`` is stale and for a direct write to
a branch whose protection requires pull requests.

"Someone else" (a person merging a pull request, deleting a branch or a file) acts on the world
directly with the methods of :class:`GitHubWorld`; those changes are not API calls of the
provider and are not counted.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

LOOPBACK = "127.0.0.1"
DOCS = "https://docs.github.com/rest"
STAMPS = (f"2026-12-01T00:{m:02d}:{s:02d}Z" for m in range(60) for s in range(60))


def blob_sha(content: str) -> str:
    """The git blob id of ``content`` (what the Contents API answers as ``sha``)."""
    data = content.encode()
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class Commit:
    sha: str
    tree: dict[str, str]  # path -> content
    message: str
    parents: tuple[str, ...]


@dataclass
class PullRequest:
    number: int
    head: str
    base: str
    title: str
    body: str
    head_sha: str
    base_sha: str
    state: str = "open"
    merged: bool = False


@dataclass
class Environment:
    name: str
    body: dict[str, Any]
    policies: dict[int, dict[str, str]] = field(default_factory=dict)
    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Repository:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    commits: dict[str, Commit] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # tree sha -> files
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    #: branches whose protection requires pull requests (direct commits answer 409)
    requires_pull_request: set[str] = field(default_factory=set)

    def files(self, branch: str) -> dict[str, str]:
        return dict(self.commits[self.refs[branch]].tree)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    status: int


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GitHubWorld:
    """The world behind the fake; methods without a leading underscore are "someone else"."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], Repository] = {}
        self.orgs: dict[str, int] = {}
        self.teams: dict[tuple[str, str], int] = {}
        self.users: dict[str, int] = {}
        self.requests: list[Recorded] = []
        #: completes an answer to GitHub's description (method, path, status, body) -> body
        self.conform: Callable[[str, str, int, Any], Any] | None = None
        #: every exchange in full (method, path with query, request body, status, answer), for
        #: checking both sides against GitHub's OpenAPI description
        self.exchanges: list[tuple[str, str, Any, int, Any]] = []
        self._ids = itertools.count(1000)
        self._shas = itertools.count(1)

    # --- setup and "someone else" ----------------------------------------------------------

    def add_repository(self, owner: str, name: str, files: dict[str, str] | None = None) -> None:
        """An organization repository with one commit on ``main``."""
        self.orgs.setdefault(owner, next(self._ids))
        repo = Repository(owner=owner, name=name, id=next(self._ids))
        root = self._commit(repo, files or {"README.md": f"# {name}\n"}, "Initial commit", ())
        repo.refs["main"] = root
        self.repos[(owner.lower(), name.lower())] = repo

    def add_branch(self, owner: str, name: str, branch: str, source: str = "main") -> None:
        repo = self.repo(owner, name)
        repo.refs[branch] = repo.refs[source]

    def repo(self, owner: str, name: str) -> Repository:
        return self.repos[(owner.lower(), name.lower())]

    def pulls(self, owner: str, name: str) -> list[PullRequest]:
        return sorted(self.repo(owner, name).pulls.values(), key=lambda p: p.number)

    def merge(self, owner: str, name: str, number: int, *, delete_branch: bool = True) -> None:
        """Squash-merge pull request ``number`` (a person clicked the button)."""
        with self.lock:
            repo = self.repo(owner, name)
            pull = repo.pulls[number]
            assert pull.state == "open", pull
            files = repo.files(pull.base)
            files.update(repo.files(pull.head))
            sha = self._commit(repo, files, pull.title, (repo.refs[pull.base],))
            repo.refs[pull.base] = sha
            pull.state, pull.merged = "closed", True
            if delete_branch:
                del repo.refs[pull.head]

    def close(self, owner: str, name: str, number: int, *, delete_branch: bool = True) -> None:
        with self.lock:
            repo = self.repo(owner, name)
            repo.pulls[number].state = "closed"
            if delete_branch:
                repo.refs.pop(repo.pulls[number].head, None)

    def delete_file(self, owner: str, name: str, branch: str, path: str) -> None:
        with self.lock:
            repo = self.repo(owner, name)
            files = repo.files(branch)
            del files[path]
            repo.refs[branch] = self._commit(repo, files, f"Delete {path}", (repo.refs[branch],))

    def edit_file(self, owner: str, name: str, branch: str, path: str, content: str) -> None:
        with self.lock:
            repo = self.repo(owner, name)
            files = repo.files(branch)
            files[path] = content
            repo.refs[branch] = self._commit(repo, files, f"Update {path}", (repo.refs[branch],))

    # --- internals ---------------------------------------------------------------------------

    def _commit(
        self, repo: Repository, files: dict[str, str], message: str, parents: tuple[str, ...]
    ) -> str:
        sha = hashlib.sha1(
            f"{next(self._shas)}{message}".encode(), usedforsecurity=False
        ).hexdigest()
        repo.commits[sha] = Commit(sha=sha, tree=dict(files), message=message, parents=parents)
        return sha

    def stamp(self) -> str:
        return next(STAMPS)

    def new_id(self) -> int:
        return next(self._ids)


# --- routing -----------------------------------------------------------------------------------

Handler = Callable[[GitHubWorld, re.Match[str], dict[str, list[str]], Any], tuple[int, Any]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(pattern + r"\Z"), handler))
        return handler

    return register


R = r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
RID = r"/repositories/(?P<rid>\d+)"


def _repo(world: GitHubWorld, m: re.Match[str]) -> Repository:
    if m.groupdict().get("rid"):
        for repo in world.repos.values():
            if repo.id == int(m.group("rid")):
                return repo
        raise ApiError(404, "Not Found")
    key = (unquote(m.group("o")).lower(), unquote(m.group("r")).lower())
    if key not in world.repos:
        raise ApiError(404, "Not Found")
    return world.repos[key]


def _repo_json(repo: Repository) -> dict[str, Any]:
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": f"{repo.owner}/{repo.name}",
        "default_branch": repo.default_branch,
        "owner": {"login": repo.owner, "type": "Organization"},
    }


@route("GET", r"/orgs/(?P<org>[^/]+)")
def _org(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    org = unquote(m.group("org"))
    if org not in world.orgs:
        raise ApiError(404, "Not Found")
    return 200, {"login": org, "id": world.orgs[org], "type": "Organization"}


@route("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)")
def _team(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    key = (unquote(m.group("org")), unquote(m.group("slug")))
    if key not in world.teams:
        raise ApiError(404, "Not Found")
    return 200, {"id": world.teams[key], "slug": key[1], "name": key[1]}


@route("GET", r"/users/(?P<login>[^/]+)")
def _user(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    login = unquote(m.group("login"))
    if login not in world.users:
        raise ApiError(404, "Not Found")
    return 200, {
        "login": login,
        "id": world.users[login],
        "type": "User",
        "user_view_type": "public",
    }


@route("GET", r"/users/(?P<login>[^/]+)/(?:gpg_keys|keys)")
def _user_keys(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    return 200, []


@route("GET", R)
def _get_repo(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    return 200, _repo_json(_repo(world, m))


@route("GET", R + r"/branches/(?P<b>.+)")
def _branch(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo, branch = _repo(world, m), unquote(m.group("b"))
    if branch not in repo.refs:
        raise ApiError(404, "Branch not found")
    return 200, {
        "name": branch,
        "commit": {"sha": repo.refs[branch]},
        "protected": branch in repo.requires_pull_request,
    }


@route("GET", R + r"/git/ref/heads/(?P<b>.+)")
def _get_ref(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo, branch = _repo(world, m), unquote(m.group("b"))
    if branch not in repo.refs:
        raise ApiError(404, "Not Found")
    return 200, {
        "ref": f"refs/heads/{branch}",
        "object": {"sha": repo.refs[branch], "type": "commit"},
    }


@route("POST", R + r"/git/refs")
def _create_ref(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    ref, sha = body["ref"], body["sha"]
    if not ref.startswith("refs/heads/"):
        raise ApiError(422, "Reference name must start with 'refs/heads/'")
    branch = ref.removeprefix("refs/heads/")
    if branch in repo.refs:
        raise ApiError(422, "Reference already exists")
    if sha not in repo.commits:
        raise ApiError(422, "Object does not exist")
    repo.refs[branch] = sha
    return 201, {"ref": ref, "object": {"sha": sha, "type": "commit"}}


@route("PATCH", R + r"/git/refs/heads/(?P<b>.+)")
def _update_ref(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo, branch = _repo(world, m), unquote(m.group("b"))
    if branch not in repo.refs:
        raise ApiError(422, "Reference does not exist")
    repo.refs[branch] = body["sha"]
    return 200, {"ref": f"refs/heads/{branch}", "object": {"sha": body["sha"], "type": "commit"}}


@route("GET", R + r"/git/commits/(?P<sha>[0-9a-f]+)")
def _git_commit(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    commit = repo.commits.get(m.group("sha"))
    if commit is None:
        raise ApiError(404, "Not Found")
    tree = hashlib.sha1(
        json.dumps(commit.tree, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()
    repo.trees[tree] = dict(commit.tree)
    return 200, {"sha": commit.sha, "tree": {"sha": tree}, "message": commit.message}


@route("POST", R + r"/git/trees")
def _create_tree(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    files = dict(repo.trees.get(body.get("base_tree", ""), {}))
    for entry in body["tree"]:
        if entry.get("mode") != "100644" or entry.get("type") != "blob" or "content" not in entry:
            raise ApiError(422, "Invalid tree info")
        files[entry["path"]] = entry["content"]
    sha = hashlib.sha1(json.dumps(files, sort_keys=True).encode(), usedforsecurity=False)
    repo.trees[sha.hexdigest()] = files
    return 201, {"sha": sha.hexdigest()}


@route("POST", R + r"/git/commits")
def _create_commit(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    if body["tree"] not in repo.trees:
        raise ApiError(422, "Tree SHA does not exist")
    sha = world._commit(repo, repo.trees[body["tree"]], body["message"], tuple(body["parents"]))
    return 201, {"sha": sha, "message": body["message"]}


def _content_json(repo: Repository, path: str, content: str, ref: str) -> dict[str, Any]:
    url = f"/repos/{repo.owner}/{repo.name}/contents/{quote(path)}?ref={quote(ref, safe='')}"
    return {
        "type": "file",
        "encoding": "base64",
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": blob_sha(content),
        "size": len(content.encode()),
        "content": base64.b64encode(content.encode()).decode(),
        "url": "https://api.github.invalid" + url,
    }


@route("GET", R + r"/contents/(?P<path>.+)")
def _get_contents(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo, path = _repo(world, m), unquote(m.group("path"))
    ref = q.get("ref", [repo.default_branch])[0]
    if ref not in repo.refs:
        raise ApiError(404, f"No commit found for the ref {ref}")
    files = repo.files(ref)
    if path not in files:
        raise ApiError(404, "Not Found")
    return 200, _content_json(repo, path, files[path], ref)


def _write_target(repo: Repository, body: Any) -> tuple[str, dict[str, str]]:
    branch = body.get("branch") or repo.default_branch
    if branch not in repo.refs:
        raise ApiError(404, f"Branch {branch} not found")
    if branch in repo.requires_pull_request:
        raise ApiError(409, "Changes must be made through a pull request.")
    return branch, repo.files(branch)


@route("PUT", R + r"/contents/(?P<path>.+)")
def _put_contents(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo, path = _repo(world, m), unquote(m.group("path"))
    branch, files = _write_target(repo, body)
    if path in files:
        if "sha" not in body:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if body["sha"] != blob_sha(files[path]):
            raise ApiError(409, f"{path} does not match {body['sha']}")
    files[path] = base64.b64decode(body["content"]).decode()
    sha = world._commit(repo, files, body["message"], (repo.refs[branch],))
    repo.refs[branch] = sha
    status = 200 if "sha" in body else 201
    return status, {
        "content": _content_json(repo, path, files[path], branch),
        "commit": {"sha": sha, "message": body["message"]},
    }


@route("DELETE", R + r"/contents/(?P<path>.+)")
def _delete_contents(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo, path = _repo(world, m), unquote(m.group("path"))
    branch, files = _write_target(repo, body)
    if path not in files:
        raise ApiError(404, "Not Found")
    if body.get("sha") != blob_sha(files[path]):
        raise ApiError(409, f"{path} does not match {body.get('sha')}")
    del files[path]
    sha = world._commit(repo, files, body["message"], (repo.refs[branch],))
    repo.refs[branch] = sha
    return 200, {"content": None, "commit": {"sha": sha, "message": body["message"]}}


def _changed(repo: Repository, commit: Commit) -> list[dict[str, str]]:
    """The files ``commit`` changed against its first parent (GitHub's ``files`` of a commit)."""
    before = repo.commits[commit.parents[0]].tree if commit.parents else {}
    files = []
    for path in sorted(set(before) | set(commit.tree)):
        if path not in commit.tree:
            files.append({"filename": path, "status": "removed"})
        elif path not in before:
            files.append({"filename": path, "status": "added"})
        elif before[path] != commit.tree[path]:
            files.append({"filename": path, "status": "modified"})
    return files


def _commit_json(repo: Repository, commit: Commit) -> dict[str, Any]:
    committer = {"name": "GitHub", "email": "noreply@github.com", "date": "2026-12-01T00:00:00Z"}
    return {
        "sha": commit.sha,
        "commit": {"message": commit.message, "committer": committer},
        "parents": [{"sha": p} for p in commit.parents],
        "files": _changed(repo, commit),
    }


@route("GET", R + r"/commits/(?P<sha>[0-9a-f]+)")
def _commit(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    commit = repo.commits.get(m.group("sha"))
    if commit is None:
        raise ApiError(422, f"No commit found for SHA: {m.group('sha')}")
    return 200, _commit_json(repo, commit)


@route("GET", R + r"/commits")
def _list_commits(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    """History of ``sha`` (a branch), newest first, limited to commits touching ``path``."""
    repo = _repo(world, m)
    ref = q.get("sha", [repo.default_branch])[0]
    if ref not in repo.refs:
        raise ApiError(404, f"No commit found for SHA: {ref}")
    path = q.get("path", [None])[0]
    found, sha = [], repo.refs[ref]
    while sha:
        commit = repo.commits[sha]
        if path is None or any(f["filename"] == path for f in _changed(repo, commit)):
            found.append({k: v for k, v in _commit_json(repo, commit).items() if k != "files"})
        sha = commit.parents[0] if commit.parents else ""
    return 200, found


def _pull_json(repo: Repository, pull: PullRequest) -> dict[str, Any]:
    return {
        "number": pull.number,
        "state": pull.state,
        "merged": pull.merged,
        "title": pull.title,
        "body": pull.body,
        "draft": False,
        "maintainer_can_modify": False,
        "head": {"ref": pull.head, "sha": pull.head_sha, "label": f"{repo.owner}:{pull.head}"},
        "base": {"ref": pull.base, "sha": pull.base_sha, "label": f"{repo.owner}:{pull.base}"},
        "user": {"login": "deployer"},
        "labels": [],
        "created_at": "2026-12-01T00:00:00Z",
        "updated_at": "2026-12-01T00:00:00Z",
    }


@route("POST", R + r"/pulls")
def _create_pull(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    head, base = body["head"].split(":")[-1], body["base"]
    if head not in repo.refs or base not in repo.refs:
        raise ApiError(422, "Validation Failed")
    if repo.files(head) == repo.files(base):
        raise ApiError(422, f"No commits between {base} and {head}")
    for pull in repo.pulls.values():
        if pull.state == "open" and (pull.head, pull.base) == (head, base):
            raise ApiError(422, f"A pull request already exists for {repo.owner}:{head}.")
    number = len(repo.pulls) + 1
    pull = PullRequest(
        number=number,
        head=head,
        base=base,
        title=body["title"],
        body=body.get("body") or "",
        head_sha=repo.refs[head],
        base_sha=repo.refs[base],
    )
    repo.pulls[number] = pull
    return 201, _pull_json(repo, pull)


@route("GET", R + r"/pulls")
def _list_pulls(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    state = q.get("state", ["open"])[0]
    head = q.get("head", [""])[0].split(":")[-1]
    pulls = [
        _pull_json(repo, p)
        for p in sorted(repo.pulls.values(), key=lambda p: -p.number)
        if (state == "all" or p.state == state) and (not head or p.head == head)
    ]
    return 200, pulls


@route("GET", R + r"/pulls/(?P<n>\d+)")
def _get_pull(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    pull = repo.pulls.get(int(m.group("n")))
    if pull is None:
        raise ApiError(404, "Not Found")
    return 200, _pull_json(repo, pull)


@route("PATCH", R + r"/pulls/(?P<n>\d+)")
def _edit_pull(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    repo = _repo(world, m)
    pull = repo.pulls.get(int(m.group("n")))
    if pull is None:
        raise ApiError(404, "Not Found")
    if body.get("state") == "closed" and pull.state == "open":
        pull.state = "closed"
    pull.title = body.get("title", pull.title)
    pull.body = body.get("body", pull.body)
    return 200, _pull_json(repo, pull)


E = R + r"/environments/(?P<env>[^/]+)"


def _env(world: GitHubWorld, m: re.Match[str]) -> tuple[Repository, Environment]:
    repo, name = _repo(world, m), unquote(m.group("env"))
    if name not in repo.environments:
        raise ApiError(404, "Not Found")
    return repo, repo.environments[name]


@route("PUT", E)
def _put_env(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    """Create or update an environment; answered in GitHub's ``environment`` shape: required
    reviewers become a ``required_reviewers`` protection rule."""
    repo, name = _repo(world, m), unquote(m.group("env"))
    env = repo.environments.setdefault(name, Environment(name=name, body={}))
    body = dict(body or {})
    rules: list[dict[str, Any]] = []
    if body.get("reviewers"):
        reviewers = []
        for reviewer in body["reviewers"]:
            if reviewer["type"] == "Team":
                slug = next((s for (o, s), i in world.teams.items() if i == reviewer["id"]), None)
                if slug is None:
                    raise ApiError(422, "Reviewer is not a team of the organization")
                reviewers.append({"type": "Team", "reviewer": {"id": reviewer["id"], "slug": slug}})
            else:
                login = next((u for u, i in world.users.items() if i == reviewer["id"]), None)
                if login is None:
                    raise ApiError(422, "Reviewer is not a user")
                reviewers.append(
                    {"type": "User", "reviewer": {"id": reviewer["id"], "login": login}}
                )
        rules.append(
            {
                "id": world.new_id(),
                "type": "required_reviewers",
                "prevent_self_review": bool(body.get("prevent_self_review")),
                "reviewers": reviewers,
            }
        )
    if body.get("wait_timer"):
        rules.append({"id": world.new_id(), "type": "wait_timer", "wait_timer": body["wait_timer"]})
    env.body = {
        "can_admins_bypass": body.get("can_admins_bypass", True),
        "protection_rules": rules,
        "deployment_branch_policy": body.get("deployment_branch_policy"),
    }
    return 200, {"id": repo.id * 1000 + len(name), "name": name, **env.body}


@route("GET", E)
def _get_env(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo, env = _env(world, m)
    return 200, {"id": repo.id * 1000 + len(env.name), "name": env.name, **env.body}


@route("DELETE", E)
def _delete_env(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    repo, env = _env(world, m)
    del repo.environments[env.name]
    return 204, None


@route("POST", E + r"/deployment-branch-policies")
def _create_policy(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    _, env = _env(world, m)
    policy_id = world.new_id()
    env.policies[policy_id] = {"name": body["name"], "type": body.get("type", "branch")}
    return 200, {"id": policy_id, **env.policies[policy_id]}


@route("GET", E + r"/deployment-branch-policies/(?P<pid>\d+)")
def _get_policy(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    _, env = _env(world, m)
    policy = env.policies.get(int(m.group("pid")))
    if policy is None:
        raise ApiError(404, "Not Found")
    return 200, {"id": int(m.group("pid")), **policy}


@route("PUT", E + r"/deployment-branch-policies/(?P<pid>\d+)")
def _put_policy(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    _, env = _env(world, m)
    policy = env.policies.get(int(m.group("pid")))
    if policy is None:
        raise ApiError(404, "Not Found")
    policy["name"] = body["name"]
    return 200, {"id": int(m.group("pid")), **policy}


@route("DELETE", E + r"/deployment-branch-policies/(?P<pid>\d+)")
def _delete_policy(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    _, env = _env(world, m)
    if env.policies.pop(int(m.group("pid")), None) is None:
        raise ApiError(404, "Not Found")
    return 204, None


def _variables(world: GitHubWorld, m: re.Match[str]) -> dict[str, dict[str, str]]:
    if "env" in m.groupdict() and m.group("env"):
        return _env(world, m)[1].variables
    return _repo(world, m).variables


V = R + r"(?:/environments/(?P<env>[^/]+)|/actions)/variables"


@route("POST", V)
def _create_variable(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    variables = _variables(world, m)
    if body["name"] in variables:
        raise ApiError(409, "Already exists - Variable already exists")
    variables[body["name"]] = {"value": body["value"], "updated_at": world.stamp()}
    return 201, {}


@route("GET", V + r"/(?P<name>[^/]+)")
def _get_variable(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    variable = _variables(world, m).get(unquote(m.group("name")))
    if variable is None:
        raise ApiError(404, "Not Found")
    return 200, {"name": unquote(m.group("name")), "created_at": "2026-12-01T00:00:00Z", **variable}


@route("PATCH", V + r"/(?P<name>[^/]+)")
def _update_variable(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    variable = _variables(world, m).get(unquote(m.group("name")))
    if variable is None:
        raise ApiError(404, "Not Found")
    variable.update(value=body["value"], updated_at=world.stamp())
    return 204, None


@route("DELETE", V + r"/(?P<name>[^/]+)")
def _delete_variable(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    if _variables(world, m).pop(unquote(m.group("name")), None) is None:
        raise ApiError(404, "Not Found")
    return 204, None


S = r"(?:" + RID + r"/environments/(?P<env>[^/]+)|" + R + r"/actions)/secrets"


def _secrets(world: GitHubWorld, m: re.Match[str]) -> dict[str, dict[str, str]]:
    repo = _repo(world, m)
    if m.group("env"):
        name = unquote(m.group("env"))
        if name not in repo.environments:
            raise ApiError(404, "Not Found")
        return repo.environments[name].secrets
    return repo.secrets


@route("GET", S + r"/public-key")
def _public_key(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    _secrets(world, m)
    return 200, {"key_id": "568250167242549743", "key": base64.b64encode(bytes(32)).decode()}


@route("PUT", S + r"/(?P<name>[^/]+)")
def _put_secret(world: GitHubWorld, m: re.Match[str], q: Any, body: Any) -> tuple[int, Any]:
    secrets = _secrets(world, m)
    name = unquote(m.group("name"))
    created = name not in secrets
    # only the fact and the time of a write are kept: never a value
    secrets[name] = {"updated_at": world.stamp(), "key_id": body["key_id"]}
    return (201 if created else 204), ({} if created else None)


@route("GET", S + r"/(?P<name>[^/]+)")
def _get_secret(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    secret = _secrets(world, m).get(unquote(m.group("name")))
    if secret is None:
        raise ApiError(404, "Not Found")
    return 200, {
        "name": unquote(m.group("name")),
        "created_at": "2026-12-01T00:00:00Z",
        "updated_at": secret["updated_at"],
    }


@route("DELETE", S + r"/(?P<name>[^/]+)")
def _delete_secret(world: GitHubWorld, m: re.Match[str], q: Any, b: Any) -> tuple[int, Any]:
    if _secrets(world, m).pop(unquote(m.group("name")), None) is None:
        raise ApiError(404, "Not Found")
    return 204, None


def dispatch(world: GitHubWorld, method: str, target: str, body: Any) -> tuple[int, Any]:
    """Answer one request like GitHub (used by the HTTP handler; also callable in-process)."""
    parts = urlsplit(target)
    query = parse_qs(parts.query)
    with world.lock:
        status, answer = 404, {"message": "Not Found", "documentation_url": DOCS}
        for verb, pattern, handler in ROUTES:
            match = pattern.match(parts.path)
            if verb == method and match:
                try:
                    status, answer = handler(world, match, query, body)
                except ApiError as error:
                    status = error.status
                    answer = {"message": error.message, "documentation_url": DOCS}
                break
        if world.conform is not None:
            answer = world.conform(method, target, status, answer)
        world.requests.append(Recorded(method=method, path=parts.path, status=status))
        world.exchanges.append((method, target, body, status, answer))
    return status, answer


class _Handler(BaseHTTPRequestHandler):
    world: GitHubWorld
    # headers and body are two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK (see tests/support/fake_github.py)
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        status, answer = dispatch(self.world, self.command, self.path, body)
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serving(world: GitHubWorld) -> Iterator[str]:
    """Serve ``world`` on 127.0.0.1 (a free port); yields the API URL."""
    handler = type("BoundHandler", (_Handler,), {"world": world})
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
