"""One project: a SageMaker project and its GitHub repository."""

from __future__ import annotations

import re

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from modules.core.config.base import (
    CONNECTION_ARN_RE,
    GITHUB_LOGIN_RE,
    GITHUB_OWNER_RE,
    GITHUB_REPO_RE,
    GITHUB_TEAM_RE,
    SAGEMAKER_PROJECT_RE,
    _fail,
    _Model,
)


class GitHubRepository(_Model):
    """The project's GitHub repository (it must exist; the toolkit commits into it)."""

    owner: str
    repository: str
    branch: str = "main"
    workflows_via_pull_request: bool = Field(
        default=False,
        description="Whether the workflow files are proposed by a pull request from a toolkit "
        "branch instead of committed to the branch (for branches whose protection requires "
        "pull requests). Default: committed directly, and edits in GitHub are reverted.",
    )

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not GITHUB_OWNER_RE.match(value):
            raise _fail(
                "bad_owner",
                f"{value!r} is not a GitHub user or organization name: 1-39 letters, digits "
                "or single hyphens, not starting or ending with a hyphen",
            )
        return value

    @field_validator("repository")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not GITHUB_REPO_RE.match(value) or value in {".", ".."} or value.endswith(".git"):
            raise _fail(
                "bad_repository",
                f"{value!r} is not a GitHub repository name: use letters, digits, '.', '-' "
                "and '_' (no owner prefix, no '.git' suffix)",
            )
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        bad = (
            not value
            or value.startswith(("/", "-", "refs/"))
            or value.endswith(("/", ".", ".lock"))
            or ".." in value
            or "//" in value
            or "@{" in value
            or re.search(r"[\x00-\x20~^:?*\[\\\x7f]", value) is not None
        )
        if bad:
            raise _fail(
                "bad_branch",
                f"{value!r} is not a valid branch name; give the short name, e.g. 'main'",
            )
        return value


class Reviewers(_Model):
    """Who approves production deploys (GitHub environment protection)."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    @field_validator("users")
    @classmethod
    def _users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for login in value:
            if not GITHUB_LOGIN_RE.match(login):
                raise _fail("bad_login", f"{login!r} is not a GitHub login")
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for slug in value:
            if not GITHUB_TEAM_RE.match(slug):
                raise _fail("bad_team", f"{slug!r} is not a team slug (e.g. 'ml-leads')")
        return value


class Project(_Model):
    """One SageMaker project and the GitHub repository that builds and deploys it."""

    name: str
    github: GitHubRepository
    code_connection: str = Field(
        default="create",
        description="ARN of an existing CodeConnection (codeconnections or "
        "codestar-connections) in the environment's account and region, or 'create' to have "
        "the plan create one (it stays PENDING until someone completes the console handshake).",
    )
    create_sagemaker_project: bool = Field(
        default=True,
        description="Whether the plan creates the SageMaker project from the product.",
    )
    seed_code: bool = Field(
        default=True,
        description="Whether to commit the starter pipeline and deploy code to the repository "
        "(once; later edits are the data scientists' own).",
    )
    production_reviewers: Reviewers = Reviewers()
    staging_environment: bool = Field(
        default=True,
        description="Whether the deploy has a staging stage: the '<environment>-staging' "
        "GitHub environment, its own deploy identity and the '<name>-staging' endpoint. "
        "Without it the deploy goes straight to production, behind the reviewers.",
    )

    @model_validator(mode="after")
    def _reviewers(self) -> Project:
        if not self.production_reviewers.users and not self.production_reviewers.teams:
            raise _fail(
                "no_reviewers",
                "production_reviewers: name at least one GitHub user or team (of the owner "
                "organization) who approves production deploys, e.g. "
                "production_reviewers: {teams: [ml-leads]}",
            )
        return self

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SAGEMAKER_PROJECT_RE.match(value):
            raise _fail(
                "bad_project_name",
                f"{value!r} is not a name SageMaker accepts for a project: use 1-32 letters, "
                "digits and hyphens, starting and ending with a letter or digit "
                "(e.g. 'churn-model')",
            )
        return value

    @field_validator("code_connection")
    @classmethod
    def _connection(cls, value: str) -> str:
        if value != "create" and not CONNECTION_ARN_RE.match(value):
            raise _fail(
                "bad_connection",
                f"{value!r} is neither 'create' nor a CodeConnection ARN like 'arn:aws:"
                "codeconnections:<region>:<account>:connection/<uuid>'",
            )
        return value

    def _connection_part(self, group: int) -> str | None:
        m = CONNECTION_ARN_RE.match(self.code_connection)
        return m.group(group) if m else None

    @property
    def connection_region(self) -> str | None:
        return self._connection_part(1)

    @property
    def connection_account(self) -> str | None:
        return self._connection_part(2)

    @property
    def connection_unique_id(self) -> str | None:
        """The id the product template needs (the UUID at the end of the ARN)."""
        return self._connection_part(3)
