"""A model of integrations/github 6.9.0 under Terraform: plan, apply and destroy of our stacks.

There is no provider binary here, so the GitHub half is planned and applied by this model,
against the stateful fake GitHub of ``stateful_github`` on 127.0.0.1. Every rule below cites the
provider source (``github/<file>.go:<line>`` at tag v6.9.0, commit f1cda3e0). What it models:

* **the resource types our stacks synthesize** (``github_repository_file``,
  ``github_repository_pull_request``, ``github_repository_environment``,
  ``github_repository_environment_deployment_policy``, ``github_actions_variable``,
  ``github_actions_environment_variable``, ``github_actions_secret``,
  ``github_actions_environment_secret``) and data sources (``github_team``, ``github_user``):
  the REST calls of each Create/Read/Update/Delete, and what Read does when an object is gone
  (dropped from state: the next plan creates it again);
* **Terraform's plan**: configure each provider (``config.go:134`` ``GET /orgs/{owner}``),
  refresh every resource in state, read the data sources, diff the configuration against the
  refreshed state (``ForceNew`` arguments replace, ``lifecycle.ignore_changes`` is honoured);
* **Terraform's apply**: the plan's actions in dependency order (references and
  ``depends_on``; destroys in reverse order), at most ``parallelism`` (10, Terraform's default)
  operations in flight. The provider's transport serialises its requests
  (``transport.go:60-63``, ``parallel_requests`` false by default), so in-flight operations are
  advanced one request each, round robin: a deterministic model of interleaving, which is how
  ten ``autocreate_branch`` files all see the branch missing before any of them creates it;
* ``removed`` blocks with ``lifecycle.destroy = false`` (Terraform >= 1.7): forgotten, no call.

Values the AWS half computes (``${aws_...}``) stand in as stable strings; they are known and
unchanged between plans, as after the AWS half's first apply.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

Response = tuple[int, Any]
Call = tuple[str, str, Any]
Op = Generator[Call, Response, "dict[str, Any] | None"]

META_KEYS = frozenset({"//", "provider", "depends_on", "lifecycle", "count", "for_each"})
REFERENCE = re.compile(r"(?<!\$)\$\{([^}]+)\}")


class ProviderError(Exception):
    """What the provider returns as an error (Terraform prints it and stops the dependents)."""


@dataclass(frozen=True)
class Owner:
    """The provider's meta of one alias: ``Owner.name``, ``Owner.id`` (config.go:120-140)."""

    name: str
    id: int | None


def _ok(response: Response, what: str) -> Any:
    status, body = response
    if not 200 <= status < 300:
        message = body.get("message") if isinstance(body, dict) else body
        raise ProviderError(f"{what}: {status} {message}")
    return body


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


# --- the resource types -------------------------------------------------------------------------


class Lifecycle:
    """One resource type: ``force_new`` arguments and the CRUD operations (generators)."""

    force_new: frozenset[str] = frozenset()

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        raise NotImplementedError
        yield  # pragma: no cover

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        raise NotImplementedError
        yield  # pragma: no cover

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        raise NotImplementedError
        yield  # pragma: no cover

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        raise NotImplementedError
        yield  # pragma: no cover

    def import_(self, o: Owner, import_id: str) -> Op:
        """``terraform import``: the importer, then Read (the attributes Read cannot see stay
        unset, so the next plan shows them). Default: ``ImportStatePassthroughContext``."""
        raise NotImplementedError
        yield  # pragma: no cover


class RepositoryFile(Lifecycle):
    """``github/resource_github_repository_file.go``."""

    # schema: repository L63, file L69, branch L80 (and commit_author/email L87) are ForceNew
    force_new = frozenset({"repository", "file", "branch"})

    def _ensure_branch(self, o: Owner, st: dict[str, Any]) -> Generator[Call, Response, None]:
        """The branch check of Create (L201-221), Update (L398-418) and Delete (L469-489):
        ``checkRepositoryBranchExists`` (repository_utils.go:15-28, ``GET branches/{b}``); when
        missing and ``autocreate_branch``, ``GET git/ref`` of the source unless its sha is
        known, then ``POST git/refs``; an error of that POST (422 Reference already exists)
        fails the resource."""
        repo, branch = st["repository"], st["branch"]
        status, _ = yield ("GET", f"/repos/{o.name}/{repo}/branches/{_q(branch)}", None)
        if status == 200:
            return
        if not st.get("autocreate_branch"):
            raise ProviderError(f"branch {branch} not found in repository {o.name}/{repo}")
        if not st.get("autocreate_branch_source_sha"):
            source = st.get("autocreate_branch_source_branch", "main")
            ref = _ok(
                (yield ("GET", f"/repos/{o.name}/{repo}/git/ref/heads/{source}", None)),
                f"error querying GitHub branch reference refs/heads/{source}",
            )
            st["autocreate_branch_source_sha"] = ref["object"]["sha"]
        _ok(
            (
                yield (
                    "POST",
                    f"/repos/{o.name}/{repo}/git/refs",
                    {"ref": f"refs/heads/{branch}", "sha": st["autocreate_branch_source_sha"]},
                )
            ),
            f"POST git/refs refs/heads/{branch}",
        )

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        st = dict(cfg)
        repo, path, branch = st["repository"], st["file"], st["branch"]
        yield from self._ensure_branch(o, st)
        # L241: GET contents (404 is fine); L252-262 overwrite_on_create takes its sha
        status, body = yield ("GET", f"/repos/{o.name}/{repo}/contents/{path}?ref={branch}", None)
        request = {
            "message": st.get("commit_message") or f"Add {path}",
            "content": base64.b64encode(st["content"].encode()).decode(),
            "branch": branch,
        }
        if status == 200:
            if not st.get("overwrite_on_create"):
                raise ProviderError("refusing to overwrite existing file")
            request["sha"] = body["sha"]
        elif status != 404:
            raise ProviderError(f"GET contents {path}: {status}")
        created = _ok(
            (yield ("PUT", f"/repos/{o.name}/{repo}/contents/{path}", request)),
            f"PUT contents {path}",
        )  # L266
        st["commit_sha"] = created["commit"]["sha"]  # L272
        return (yield from self.read(o, st))  # L276

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        st = dict(st)
        repo, path = st["repository"], st["file"]
        branch = st["branch"]
        status, _ = yield ("GET", f"/repos/{o.name}/{repo}/branches/{_q(branch)}", None)  # L288
        if status != 200:
            if not st.get("autocreate_branch"):
                return _gone(st, f"branch {branch} no longer exists")  # L293-297
            branch = st["autocreate_branch_source_branch"]  # L291-292: read the source branch
        status, fc = yield ("GET", f"/repos/{o.name}/{repo}/contents/{path}?ref={branch}", None)
        if status != 200:  # L303-315: any failure but 429 drops the file from state
            return _gone(st, f"{path} no longer exists on {branch}")
        st["content"] = base64.b64decode(fc["content"]).decode()  # L317-322
        st["sha"] = fc["sha"]
        if st.get("commit_sha"):
            commit = _ok(
                (yield ("GET", f"/repos/{o.name}/{repo}/commits/{st['commit_sha']}", None)),
                "GET commit",
            )  # L351-353
        else:  # L355-356: getFileCommit (repository_utils.go:31-88), e.g. after an import
            commit = yield from self._file_commit(o, repo, path, branch)
        st["commit_sha"] = commit["sha"]
        st["commit_message"] = commit["commit"]["message"]  # L380
        return st

    def _file_commit(
        self, o: Owner, repo: str, path: str, branch: str
    ) -> Generator[Call, Response, dict[str, Any]]:
        """List the branch's commits touching ``path`` (L39), then GET each until one changed
        the file without removing it (L53-82; merge commits skipped)."""
        listed = _ok(
            (
                yield (
                    "GET",
                    f"/repos/{o.name}/{repo}/commits?sha={_q(branch)}&path={_q(path)}",
                    None,
                )
            ),
            "list commits",
        )
        for entry in listed:
            if "Merge branch" in entry["commit"]["message"]:
                continue
            commit = _ok(
                (yield ("GET", f"/repos/{o.name}/{repo}/commits/{entry['sha']}", None)), "commit"
            )
            if any(f["filename"] == path and f["status"] != "removed" for f in commit["files"]):
                return commit  # type: ignore[no-any-return]
        raise ProviderError(f"cannot find file {path} in repo {o.name}/{repo}")

    def import_(self, o: Owner, import_id: str) -> Op:
        """Importer L23-52: ``<repository>/<file path>[:<branch>]``, GET contents to check the
        file exists, ``overwrite_on_create`` set false; then Read."""
        location, _, branch = import_id.partition(":")
        repo, path = location.split("/", 1)
        st: dict[str, Any] = {"repository": repo, "file": path, "overwrite_on_create": False}
        query = f"?ref={branch}" if branch else ""
        _ok((yield ("GET", f"/repos/{o.name}/{repo}/contents/{path}{query}", None)), "import")
        st["branch"] = branch or "main"
        return (yield from self.read(o, st))

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        new = {**st, **cfg}
        yield from self._ensure_branch(o, new)
        request = {
            "message": new.get("commit_message") or f"Update {new['file']}",
            "content": base64.b64encode(new["content"].encode()).decode(),
            "branch": new["branch"],
            "sha": st["sha"],  # resourceGithubRepositoryFileOptions L165-168
        }
        created = _ok(
            (yield ("PUT", f"/repos/{o.name}/{new['repository']}/contents/{new['file']}", request)),
            f"PUT contents {new['file']}",
        )  # L436
        new["commit_sha"] = created["commit"]["sha"]
        return (yield from self.read(o, new))  # L446

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        st = dict(st)
        yield from self._ensure_branch(o, st)  # L469-489: re-creates a deleted branch
        request = {
            "message": st.get("commit_message") or f"Delete {st['file']}",
            "sha": st["sha"],
            "branch": st["branch"],
        }
        _ok(
            (
                yield (
                    "DELETE",
                    f"/repos/{o.name}/{st['repository']}/contents/{st['file']}",
                    request,
                )
            ),
            f"DELETE contents {st['file']} on {st['branch']}",
        )  # L499
        return None


class RepositoryPullRequest(Lifecycle):
    """``github/resource_github_repository_pull_request.go``."""

    force_new = frozenset({"owner", "base_repository", "head_ref"})  # L38, L44, L55

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        st = dict(cfg)
        body = {
            "title": st["title"],
            "head": st["head_ref"],
            "base": st["base_ref"],
            "body": st.get("body", ""),
            "maintainer_can_modify": False,
        }
        pull = _ok((yield ("POST", f"/repos/{o.name}/{st['base_repository']}/pulls", body)), "PR")
        st["number"] = pull["number"]  # L161-172
        return (yield from self.read(o, st))

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        st = dict(st)
        pull = _ok(
            (yield ("GET", f"/repos/{o.name}/{st['base_repository']}/pulls/{st['number']}", None)),
            "GET pull",
        )  # L186: a merged or closed pull request is still read, and kept
        st.update(
            head_ref=pull["head"]["ref"],
            base_ref=pull["base"]["ref"],
            title=pull["title"],
            body=pull["body"],
            state=pull["state"],  # L239: "open" or "closed" (merged is closed)
        )
        return st

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        new = {**st, **cfg}
        body = {"title": new["title"], "body": new.get("body", "")}
        if new["base_ref"] != st["base_ref"]:
            body["base"] = new["base_ref"]
        _ok(
            (
                yield (
                    "PATCH",
                    f"/repos/{o.name}/{new['base_repository']}/pulls/{st['number']}",
                    body,
                )
            ),
            "PATCH pull",
        )  # L287
        return (yield from self.read(o, new))

    def import_(self, o: Owner, import_id: str) -> Op:
        """Importer L20-31: ``<owner>:<repository>:<number>``, no call; then Read."""
        _, repo, number = import_id.split(":")
        return (yield from self.read(o, {"base_repository": repo, "number": int(number)}))

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        if st.get("state") != "open":  # L306-309: merged or closed: nothing
            return None
        _ok(
            (
                yield (
                    "PATCH",
                    f"/repos/{o.name}/{st['base_repository']}/pulls/{st['number']}",
                    {"state": "closed"},
                )
            ),
            "close pull",
        )  # L319-321
        return None


class RepositoryEnvironment(Lifecycle):
    """``github/resource_github_repository_environment.go``."""

    force_new = frozenset({"repository", "environment"})  # L28, L34

    def _path(self, o: Owner, st: Mapping[str, Any]) -> str:
        return f"/repos/{o.name}/{st['repository']}/environments/{_q(st['environment'])}"

    @staticmethod
    def normalise(cfg: dict[str, Any]) -> dict[str, Any]:
        """Config as the schema types it: reviewer ids are TypeInt sets, one-block lists are
        one object (Terraform JSON accepts either)."""
        cfg = dict(cfg)
        reviewers = cfg.get("reviewers")
        if isinstance(reviewers, dict):
            reviewers = [reviewers]
        if reviewers:
            cfg["reviewers"] = [
                {k: sorted(int(i) for i in r.get(k, [])) for k in ("teams", "users")}
                for r in reviewers
            ]
        policy = cfg.get("deployment_branch_policy")
        if isinstance(policy, list):
            cfg["deployment_branch_policy"] = policy[0] if policy else None
        return cfg

    @staticmethod
    def _body(cfg: Mapping[str, Any]) -> dict[str, Any]:
        """createUpdateEnvironmentData (L244-284): can_admins_bypass and prevent_self_review
        always (schema defaults true/false), reviewers as {type, id}, the branch policy."""
        body: dict[str, Any] = {
            "can_admins_bypass": cfg.get("can_admins_bypass", True),  # L250
            "prevent_self_review": cfg.get("prevent_self_review", False),  # L252
        }
        if cfg.get("wait_timer"):
            body["wait_timer"] = cfg["wait_timer"]
        if cfg.get("reviewers"):  # L254-272
            (reviewers,) = cfg["reviewers"]
            body["reviewers"] = [{"type": "Team", "id": i} for i in reviewers["teams"]] + [
                {"type": "User", "id": i} for i in reviewers["users"]
            ]
        if cfg.get("deployment_branch_policy"):  # L274-280
            policy = cfg["deployment_branch_policy"]
            body["deployment_branch_policy"] = {
                "protected_branches": policy["protected_branches"],
                "custom_branch_policies": policy["custom_branch_policies"],
            }
        return body

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        cfg = self.normalise(cfg)
        _ok((yield ("PUT", self._path(o, cfg), self._body(cfg))), "PUT environment")  # L112
        return (yield from self.read(o, cfg))

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        status, env = yield ("GET", self._path(o, st), None)  # L134
        if status == 404:
            return _gone(st, "environment no longer exists")  # L138-142
        _ok((status, env), "GET environment")
        st = {**st, "can_admins_bypass": env["can_admins_bypass"]}  # L151
        for rule in env.get("protection_rules", []):  # L153-189
            if rule["type"] == "wait_timer":
                st["wait_timer"] = rule["wait_timer"]
            if rule["type"] == "required_reviewers":
                ids = {
                    kind: sorted(r["reviewer"]["id"] for r in rule["reviewers"] if r["type"] == t)
                    for kind, t in (("teams", "Team"), ("users", "User"))
                }
                st["reviewers"] = [ids]
                st["prevent_self_review"] = rule["prevent_self_review"]
        policy = env.get("deployment_branch_policy")  # L191-203
        st["deployment_branch_policy"] = (
            {
                "protected_branches": policy["protected_branches"],
                "custom_branch_policies": policy["custom_branch_policies"],
            }
            if policy
            else None
        )
        return st

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        cfg = self.normalise(cfg)
        _ok((yield ("PUT", self._path(o, cfg), self._body(cfg))), "PUT environment")  # L218
        return (yield from self.read(o, {**st, **cfg}))

    def import_(self, o: Owner, import_id: str) -> Op:
        """Importer L21-22 (passthrough ``<repository>:<environment>``); then Read."""
        repo, env = import_id.split(":", 1)
        return (yield from self.read(o, {"repository": repo, "environment": env}))

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        _ok((yield ("DELETE", self._path(o, st), None)), "DELETE environment")  # L240
        return None


class DeploymentPolicy(Lifecycle):
    """``github/resource_github_repository_environment_deployment_policy.go``."""

    force_new = frozenset({"repository", "environment"})  # L29, L35

    def _path(self, o: Owner, st: Mapping[str, Any]) -> str:
        return (
            f"/repos/{o.name}/{st['repository']}/environments/{_q(st['environment'])}"
            "/deployment-branch-policies"
        )

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        body = {"name": cfg["branch_pattern"], "type": "branch"}
        made = _ok((yield ("POST", self._path(o, cfg), body)), "POST policy")  # L81
        return (yield from self.read(o, {**cfg, "policy_id": made["id"]}))

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        status, body = yield ("GET", f"{self._path(o, st)}/{st['policy_id']}", None)  # L105
        if status == 404:
            return _gone(st, "deployment branch policy no longer exists")  # L112-116
        _ok((status, body), "GET policy")
        return {**st, "branch_pattern": body["name"]}

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        body = {"name": cfg["branch_pattern"]}
        _ok((yield ("PUT", f"{self._path(o, cfg)}/{st['policy_id']}", body)), "PUT policy")
        return (yield from self.read(o, {**st, **cfg}))  # L159

    def import_(self, o: Owner, import_id: str) -> Op:
        """Importer L22-23 (passthrough ``<repository>:<environment>:<policy id>``, Read
        L96-104); then Read."""
        repo, env, policy_id = import_id.split(":")
        st = {"repository": repo, "environment": env, "policy_id": int(policy_id)}
        return (yield from self.read(o, st))

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        _ok((yield ("DELETE", f"{self._path(o, st)}/{st['policy_id']}", None)), "DELETE")  # L182
        return None


class ActionsVariable(Lifecycle):
    """``github/resource_github_actions_variable.go`` (repository scope) and
    ``resource_github_actions_environment_variable.go`` (``environment`` set)."""

    def __init__(self, environment: bool) -> None:
        self.environment = environment
        # repository: variable_name L32; environment: environment L33, variable_name L39
        self.force_new = frozenset(
            {"environment", "variable_name"} if environment else {"variable_name"}
        )

    def _path(self, o: Owner, st: Mapping[str, Any]) -> str:
        scope = f"environments/{_q(st['environment'])}" if self.environment else "actions"
        return f"/repos/{o.name}/{st['repository']}/{scope}/variables"

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        body = {"name": cfg["variable_name"], "value": cfg["value"]}
        status, answer = yield ("POST", self._path(o, cfg), body)  # var L66 / env L78
        if self.environment and status == 409:  # env L80-86: exists -> update instead
            status, answer = yield ("PATCH", f"{self._path(o, cfg)}/{cfg['variable_name']}", body)
        _ok((status, answer), f"create variable {cfg['variable_name']}")
        return (yield from self.read(o, dict(cfg)))

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        status, body = yield ("GET", f"{self._path(o, st)}/{st['variable_name']}", None)
        if status == 404:  # var L105-113 / env L108-116
            return _gone(st, f"variable {st['variable_name']} no longer exists")
        _ok((status, body), "GET variable")
        return {**st, "value": body["value"], "updated_at": body["updated_at"]}

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        new = {**st, **cfg}
        if self.environment:  # env Update is CreateOrUpdate (L62-95): POST, 409, PATCH
            return (yield from self.create(o, new))
        body = {"name": new["variable_name"], "value": new["value"]}
        _ok((yield ("PATCH", f"{self._path(o, new)}/{new['variable_name']}", body)), "PATCH")
        return (yield from self.read(o, new))  # var L86

    def import_(self, o: Owner, import_id: str) -> Op:
        """Importer: passthrough (var L19-20 ``<repository>:<name>``, env L20-21
        ``<repository>:<environment>:<name>``); then Read."""
        parts = import_id.split(":")
        st = dict(zip(("repository", "environment", "variable_name"), parts, strict=False))
        if not self.environment:
            st = {"repository": parts[0], "variable_name": parts[1]}
        return (yield from self.read(o, st))

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        path = f"{self._path(o, st)}/{st['variable_name']}"
        _ok((yield ("DELETE", path, None)), "DELETE variable")  # var L148 / env L143
        return None


class ActionsSecret(Lifecycle):
    """``github/resource_github_actions_secret.go`` (repository scope) and
    ``resource_github_actions_environment_secret.go`` (``environment`` set: addressed by the
    repository id, so every call starts with ``GET /repos/{o}/{r}``, env L85/L132/L206).
    The value is never sent to the fake: a digest stands in for the sealed box."""

    def __init__(self, environment: bool) -> None:
        self.environment = environment
        # repo: repository L35, secret_name L41, plaintext_value L55, destroy_on_drift L75
        # env: repository L26, environment L32, secret_name L38, plaintext_value L54
        self.force_new = frozenset(
            {"repository", "environment", "secret_name", "plaintext_value"}
            if environment
            else {"repository", "secret_name", "plaintext_value", "destroy_on_drift"}
        )

    def _base(self, o: Owner, st: Mapping[str, Any]) -> Generator[Call, Response, str]:
        if not self.environment:
            return f"/repos/{o.name}/{st['repository']}/actions/secrets"
        status, repo = yield ("GET", f"/repos/{o.name}/{st['repository']}", None)
        _ok((status, repo), "GET repository")
        return f"/repositories/{repo['id']}/environments/{_q(st['environment'])}/secrets"

    def create(self, o: Owner, cfg: dict[str, Any]) -> Op:
        base = yield from self._base(o, cfg)
        key = _ok((yield ("GET", f"{base}/public-key", None)), "GET public key")  # L259/L220
        sealed = hashlib.sha256(str(cfg.get("plaintext_value")).encode()).hexdigest()
        body = {
            "encrypted_value": base64.b64encode(sealed.encode()).decode(),
            "key_id": key["key_id"],
        }
        _ok((yield ("PUT", f"{base}/{cfg['secret_name']}", body)), "PUT secret")  # L114/L112
        st = dict(cfg)
        st.pop("updated_at", None)
        return (yield from self.read(o, st))

    def read(self, o: Owner, st: dict[str, Any]) -> Op:
        base = yield from self._base(o, st)
        status, body = yield ("GET", f"{base}/{st['secret_name']}", None)  # L133 / env L146
        if status == 404:
            return _gone(st, f"secret {st['secret_name']} no longer exists")
        _ok((status, body), "GET secret")
        if st.get("updated_at") and st["updated_at"] != body["updated_at"]:
            # repo L162-171 (destroy_on_drift, default true) / env L183-190: re-created
            return _gone(st, f"secret {st['secret_name']} was updated outside Terraform")
        return {**st, "updated_at": body["updated_at"]}

    def update(self, o: Owner, st: dict[str, Any], cfg: dict[str, Any]) -> Op:
        return (yield from self.create(o, {**st, **cfg}))

    def import_(self, o: Owner, import_id: str) -> Op:
        """Repository secrets: importer L214-252 (``<repository>/<secret_name>``, GET the secret;
        the value "can not be imported", L242), then Read. Environment secrets have no importer
        in 6.9.0 (resource_github_actions_environment_secret.go declares none)."""
        if self.environment:
            raise ProviderError("resource github_actions_environment_secret doesn't support import")
        repo, name = import_id.split("/")
        secret = _ok(
            (yield ("GET", f"/repos/{o.name}/{repo}/actions/secrets/{name}", None)), "import"
        )  # L231
        st = {"repository": repo, "secret_name": name, "updated_at": secret["updated_at"]}
        return (yield from self.read(o, st))

    def delete(self, o: Owner, st: dict[str, Any]) -> Op:
        base = yield from self._base(o, st)
        _ok((yield ("DELETE", f"{base}/{st['secret_name']}", None)), "DELETE secret")  # L209/211
        return None


def _gone(st: dict[str, Any], why: str) -> dict[str, Any]:
    """Read set the id to "" (the resource leaves state; the plan creates it again)."""
    return {"__gone__": why, **st}


def read_team(o: Owner, cfg: dict[str, Any]) -> Op:
    """``data_source_github_team.go:105`` (``summary_only``: no member or repository lists,
    L114)."""
    team = _ok((yield ("GET", f"/orgs/{o.name}/teams/{cfg['slug']}", None)), "GET team")
    if not cfg.get("summary_only"):
        yield ("GET", f"/organizations/{o.id}/team/{team['id']}/members", None)  # L123
        yield ("GET", f"/organizations/{o.id}/team/{team['id']}/repos", None)  # L179
    return {**cfg, "id": str(team["id"])}


def read_user(o: Owner, cfg: dict[str, Any]) -> Op:
    """``data_source_github_user.go:111-123``: the user, its GPG keys and its SSH keys."""
    user = _ok((yield ("GET", f"/users/{cfg['username']}", None)), "GET user")
    yield ("GET", f"/users/{user['login']}/gpg_keys", None)
    yield ("GET", f"/users/{user['login']}/keys", None)
    return {**cfg, "id": str(user["id"])}


TYPES: dict[str, Lifecycle] = {
    "github_repository_file": RepositoryFile(),
    "github_repository_pull_request": RepositoryPullRequest(),
    "github_repository_environment": RepositoryEnvironment(),
    "github_repository_environment_deployment_policy": DeploymentPolicy(),
    "github_actions_variable": ActionsVariable(environment=False),
    "github_actions_environment_variable": ActionsVariable(environment=True),
    "github_actions_secret": ActionsSecret(environment=False),
    "github_actions_environment_secret": ActionsSecret(environment=True),
}
DATA: dict[str, Callable[[Owner, dict[str, Any]], Op]] = {
    "github_team": read_team,
    "github_user": read_user,
}


# --- Terraform ----------------------------------------------------------------------------------


@dataclass
class Instance:
    type: str
    provider: str
    attrs: dict[str, Any]
    depends_on: frozenset[str]


@dataclass(frozen=True)
class Action:
    address: str
    action: str  # create, update, replace, delete, forget
    reason: str


@dataclass
class Plan:
    actions: list[Action]
    calls: int
    refreshed: dict[str, Instance]
    data: dict[str, dict[str, Any]]
    config: dict[str, Any]
    destroy: bool

    @property
    def empty(self) -> bool:
        return not self.actions

    def describe(self) -> list[str]:
        return [f"{a.action} {a.address}: {a.reason}" for a in self.actions]


@dataclass
class ApplyResult:
    plan: Plan
    calls: int
    errors: dict[str, str] = field(default_factory=dict)


class TerraformModel:
    """Plans and applies stacks (state per stack name) against the fake at ``api_url``."""

    def __init__(self, api_url: str, *, parallelism: int = 10) -> None:
        self.api_url = api_url.rstrip("/")
        self.parallelism = parallelism
        self.states: dict[str, dict[str, Instance]] = {}
        self._owners: dict[str, Owner] = {}
        self.calls = 0

    # HTTP
    def _send(self, call: Call) -> Response:
        method, path, body = call
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api_url + path,
            data=data,
            method=method,
            headers={"Authorization": "Bearer model-token", "Content-Type": "application/json"},
        )
        self.calls += 1
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def _run(
        self, ops: dict[str, tuple[frozenset[str], Callable[[], Op]]]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Run ``ops`` (key -> (keys it waits for, factory)) with ``parallelism`` in flight,
        one request per in-flight operation per round, in a fixed order (deterministic)."""
        results: dict[str, Any] = {}
        errors: dict[str, str] = {}
        waiting = dict(sorted(ops.items()))
        flight: list[tuple[str, Op, Call | None]] = []
        while waiting or flight:
            for key, (deps, factory) in list(waiting.items()):
                if len(flight) >= self.parallelism:
                    break
                failed = [d for d in deps if d in errors]
                if failed:
                    errors[key] = f"not run: {failed[0]} failed"
                    del waiting[key]
                elif all(d in results or d not in ops for d in deps):
                    del waiting[key]
                    flight.append((key, factory(), None))
            if not flight:
                assert not waiting, f"dependency cycle: {sorted(waiting)}"
                break
            advanced: list[tuple[str, Op, Call | None]] = []
            for key, op, pending in flight:
                try:
                    call = op.send(self._send(pending)) if pending else next(op)
                    advanced.append((key, op, call))
                except StopIteration as done:
                    results[key] = done.value
                except ProviderError as error:
                    errors[key] = str(error)
            flight = advanced
        return results, errors

    def _configure(self, config: dict[str, Any], state: dict[str, Instance]) -> None:
        """Each provider configured once per run: ``GET /orgs/{owner}`` (config.go:134)."""
        providers = config.get("provider", {}).get("github", [])
        used = {i.provider for i in state.values()}
        for entry in providers if isinstance(providers, list) else [providers]:
            alias = f"github.{entry['alias']}" if "alias" in entry else "github"
            status, body = self._send(("GET", f"/orgs/{entry['owner']}", None))
            org_id = body["id"] if status == 200 else None
            self._owners[alias] = Owner(name=entry["owner"], id=org_id)
            used.discard(alias)
        assert not used, f"state uses providers the config lost: {used}"

    # configuration
    @staticmethod
    def resources(config: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        return {
            f"{rtype}.{name}": (rtype, body)
            for rtype, named in config.get("resource", {}).items()
            if rtype.startswith("github_")
            for name, body in named.items()
        }

    @staticmethod
    def _refs(value: Any) -> set[str]:
        text = json.dumps(value)
        found = set()
        for expr in REFERENCE.findall(text):
            parts = expr.split(".")
            if parts[0] == "data" and parts[1].startswith("github_"):
                found.add(".".join(parts[:3]))
            elif parts[0].startswith("github_"):
                found.add(".".join(parts[:2]))
        return found

    def _dependencies(self, body: dict[str, Any]) -> frozenset[str]:
        refs = self._refs({k: v for k, v in body.items() if k not in META_KEYS})
        refs |= {d for d in body.get("depends_on", []) if d.split(".")[0].startswith("github_")}
        return frozenset(refs)

    def _resolve(self, value: Any, known: dict[str, dict[str, Any]]) -> Any:
        if isinstance(value, dict):
            return {k: self._resolve(v, known) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, known) for v in value]
        if not isinstance(value, str):
            return value

        def substitute(match: re.Match[str]) -> str:
            expr = match.group(1)
            parts = expr.split(".")
            if parts[0].startswith("aws_") or (parts[0] == "data" and parts[1].startswith("aws_")):
                return f"<{expr}>"  # the AWS half's value: stable between plans
            address = ".".join(parts[:3] if parts[0] == "data" else parts[:2])
            return str(known[address][parts[-1]])

        # Terraform's escapes for literal text: $${ and %%{ (modules/core/hcl.py)
        return REFERENCE.sub(substitute, value).replace("$${", "${").replace("%%{", "%{")

    @staticmethod
    def _removed(config: dict[str, Any]) -> set[str]:
        blocks = config.get("removed", [])
        return {
            b["from"]
            for b in (blocks if isinstance(blocks, list) else [blocks])
            if b.get("lifecycle", {}).get("destroy") is False
        }

    # plan / apply
    def plan(self, stack: str, config: dict[str, Any], *, destroy: bool = False) -> Plan:
        start = self.calls
        state = self.states.setdefault(stack, {})
        self._configure(config, state)
        refreshed: dict[str, Instance] = {}
        gone: dict[str, str] = {}
        results, errors = self._run(
            {address: (frozenset(), self._reader(inst)) for address, inst in state.items()}
        )
        assert not errors, errors
        for address, attrs in results.items():
            if "__gone__" in attrs:
                gone[address] = attrs["__gone__"]
            else:
                inst = state[address]
                refreshed[address] = Instance(inst.type, inst.provider, attrs, inst.depends_on)
        data_config = {
            f"data.{t}.{n}": (t, body)
            for t, named in config.get("data", {}).items()
            if t in DATA
            for n, body in named.items()
        }
        data, errors = self._run(
            {
                address: (frozenset(), self._data_reader(t, body))
                for address, (t, body) in data_config.items()
            }
        )
        assert not errors, errors
        actions = self._diff(config, refreshed, gone, data, destroy)
        return Plan(actions, self.calls - start, refreshed, data, config, destroy)

    def _diff(
        self,
        config: dict[str, Any],
        refreshed: dict[str, Instance],
        gone: dict[str, str],
        data: dict[str, Any],
        destroy: bool,
    ) -> list[Action]:
        actions: list[Action] = []
        wanted = {} if destroy else self.resources(config)
        removed = self._removed(config)
        known: dict[str, dict[str, Any]] = {**data}
        for address, (_, body) in wanted.items():
            cfg = {k: v for k, v in body.items() if k not in META_KEYS}
            known[address] = {**(refreshed[address].attrs if address in refreshed else {}), **cfg}
        for address, (rtype, body) in sorted(wanted.items()):
            cfg = self._resolve({k: v for k, v in body.items() if k not in META_KEYS}, known)
            if rtype == "github_repository_environment":
                cfg = RepositoryEnvironment.normalise(cfg)
            if address not in refreshed:
                why = gone.get(address)
                actions.append(Action(address, "create", f"read: {why}" if why else "not in state"))
                continue
            ignored = set(body.get("lifecycle", {}).get("ignore_changes", []))
            current = refreshed[address].attrs
            changed = sorted(k for k in cfg if k not in ignored and current.get(k) != cfg[k])
            if not changed:
                continue
            forced = [k for k in changed if k in TYPES[rtype].force_new]
            kind = "replace" if forced else "update"
            actions.append(Action(address, kind, f"{', '.join(forced or changed)} changed"))
        for address in sorted(refreshed):
            if address in wanted:
                continue
            if address in removed:
                actions.append(Action(address, "forget", "removed block, destroy = false"))
            else:
                actions.append(Action(address, "delete", "not in the configuration"))
        return actions

    def apply(self, stack: str, config: dict[str, Any], *, destroy: bool = False) -> ApplyResult:
        """``terraform apply``: a plan, then its actions (calls counted apart)."""
        plan = self.plan(stack, config, destroy=destroy)
        start = self.calls
        self._configure(config, plan.refreshed)
        state = dict(plan.refreshed)  # the refresh is saved, like Terraform does
        wanted = self.resources(config)
        known: dict[str, dict[str, Any]] = {**plan.data}
        for address, inst in state.items():
            known[address] = inst.attrs
        ops: dict[str, tuple[frozenset[str], Callable[[], Op]]] = {}
        deletes = {a.address for a in plan.actions if a.action in {"delete", "replace"}}
        for action in plan.actions:
            address = action.address
            if action.action == "forget":
                state.pop(address)
                continue
            if action.action == "delete":
                inst = state[address]
                # destroy order: after everything that depends on it is destroyed
                after = frozenset(f"delete:{a}" for a in deletes if address in state[a].depends_on)
                ops[f"delete:{address}"] = (after, self._deleter(inst))
                continue
            rtype, body = wanted[address]
            deps = frozenset(f"write:{d}" for d in self._dependencies(body))
            ops[f"write:{address}"] = (
                deps,
                self._writer(action, state.get(address), rtype, body, known),
            )
        results, errors = self._run(ops)
        for key, attrs in results.items():
            kind, address = key.split(":", 1)
            if kind == "delete":
                state.pop(address, None)
                continue
            rtype, body = wanted[address]
            provider = body.get("provider", "github")
            state[address] = Instance(rtype, provider, attrs, self._dependencies(body))
        self.states[stack] = state
        return ApplyResult(plan, self.calls - start, errors)

    def import_(self, stack: str, config: dict[str, Any], address: str, import_id: str) -> str:
        """``terraform import ADDRESS ID``: the importer and Read of ``address``'s type; the
        result joins the stack's state. Returns "" or the provider's error."""
        state = self.states.setdefault(stack, {})
        self._configure(config, state)
        rtype, body = self.resources(config)[address]
        provider = body.get("provider", "github")
        owner = self._owners[provider]
        results, errors = self._run(
            {address: (frozenset(), lambda: TYPES[rtype].import_(owner, import_id))}
        )
        if errors:
            return errors[address]
        state[address] = Instance(rtype, provider, results[address], self._dependencies(body))
        return ""

    def _reader(self, inst: Instance) -> Callable[[], Op]:
        return lambda: TYPES[inst.type].read(self._owners[inst.provider], inst.attrs)

    def _data_reader(self, rtype: str, body: dict[str, Any]) -> Callable[[], Op]:
        return lambda: DATA[rtype](self._owners[body.get("provider", "github")], body)

    def _deleter(self, inst: Instance) -> Callable[[], Op]:
        return lambda: TYPES[inst.type].delete(self._owners[inst.provider], inst.attrs)

    def _writer(
        self,
        action: Action,
        current: Instance | None,
        rtype: str,
        body: dict[str, Any],
        known: dict[str, dict[str, Any]],
    ) -> Callable[[], Op]:
        def op() -> Op:
            owner = self._owners[body.get("provider", "github")]
            cfg = self._resolve({k: v for k, v in body.items() if k not in META_KEYS}, known)
            lifecycle = TYPES[rtype]
            if action.action == "replace":
                assert current is not None
                yield from lifecycle.delete(owner, current.attrs)
            if action.action == "update":
                assert current is not None
                attrs = yield from lifecycle.update(owner, current.attrs, cfg)
            else:
                attrs = yield from lifecycle.create(owner, cfg)
            assert attrs is not None and "__gone__" not in attrs, attrs
            known[action.address] = attrs
            return attrs

        return op
