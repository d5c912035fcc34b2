"""One project: a SageMaker project and its GitHub repository."""

from __future__ import annotations

import re

from pydantic import (
    ConfigDict,
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
from modules.core.naming import slug as construct_slug
from modules.core.template_contract import (
    BRANCH_MAX_LENGTH,
    BRANCH_PATTERN,
    PROJECT_NAME_MAX_LENGTH,
)

# A GitHub environment's required reviewers: "up to six people or teams" (GitHub docs,
# "Managing environments for deployment", Required reviewers).
MAX_REVIEWERS = 6
_BRANCH_RE = re.compile(BRANCH_PATTERN)


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
        if not GITHUB_OWNER_RE.fullmatch(value):
            raise _fail(
                "bad_owner",
                f"{value!r} is not a GitHub user or organization name: 1-39 letters, digits "
                "or single hyphens, not starting or ending with a hyphen",
            )
        return value

    @field_validator("repository")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not GITHUB_REPO_RE.fullmatch(value) or value in {".", ".."} or value.endswith(".git"):
            raise _fail(
                "bad_repository",
                f"{value!r} is not a GitHub repository name: use letters, digits, '.', '-' "
                "and '_' (no owner prefix, no '.git' suffix)",
            )
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        # The product template's GitHubRepositoryBranch AllowedPattern / MaxLength (letters,
        # digits, '.', '_', '/', '-'; no '$', '%' or '{', so the branch reaches Terraform as a
        # literal), intersected with git's ref rules (git-check-ref-format(1)): no component
        # starting with '.' or ending with '.lock', no '..', no leading, trailing or doubled '/',
        # no trailing '.', not '@'; `git branch` also refuses a leading '-' and 'HEAD'.
        components = value.split("/")
        bad = (
            not _BRANCH_RE.fullmatch(value)
            or len(value) > BRANCH_MAX_LENGTH
            or value.startswith("-")
            or value.endswith(".")
            or value.startswith("refs/")
            or value == "HEAD"
            or ".." in value
            or any(not c or c.startswith(".") or c.endswith(".lock") for c in components)
        )
        if bad:
            raise _fail(
                "bad_branch",
                f"{value!r} is not a branch name both git and the product template accept: "
                f"give the short name (e.g. 'main'), at most {BRANCH_MAX_LENGTH} letters, "
                "digits and '._/-', without '..', a leading '-', '.' or '/', or a trailing "
                "'.', '/' or '.lock'",
            )
        return value


class Reviewers(_Model):
    """Who approves production deploys (GitHub environment protection)."""

    # At least one user or team (Project._reviewers); the schema says so for editors.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["users"], "properties": {"users": {"minItems": 1}}},
                {"required": ["teams"], "properties": {"teams": {"minItems": 1}}},
            ]
        },
    )

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    @field_validator("users")
    @classmethod
    def _users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for login in value:
            if not GITHUB_LOGIN_RE.fullmatch(login):
                raise _fail("bad_login", f"{login!r} is not a GitHub login")
            # GitHub logins are case-insensitive: 'Octocat' and 'octocat' are one user.
            if login.lower() in seen:
                raise _fail(
                    "duplicate_reviewer",
                    f"{login!r} and {seen[login.lower()]!r} are the same GitHub user "
                    "(logins ignore case); list each reviewer once",
                )
            seen[login.lower()] = login
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for team in value:
            if not GITHUB_TEAM_RE.fullmatch(team):
                raise _fail(
                    "bad_team",
                    f"{team!r} is not a team slug: use the slug from the team's URL (letters, "
                    "digits, '-' and '_', no '.'), e.g. 'ml-leads'",
                )
            # Each team becomes a data source named 'team-<kebab slug>' (construct ids are
            # lowercase kebab-case): 'ML-Leads' is 'ml-leads' again, and 'ml_leads' would
            # collide with 'ml-leads' in the stack.
            key = construct_slug(team)
            if key in seen:
                raise _fail(
                    "duplicate_reviewer",
                    f"{team!r} and {seen[key]!r} are the same team or would collide as "
                    f"'team-{key}' in the stack; list each team once",
                )
            seen[key] = team
        return value

    @model_validator(mode="after")
    def _count(self) -> Reviewers:
        total = len(self.users) + len(self.teams)
        if total > MAX_REVIEWERS:
            raise _fail(
                "too_many_reviewers",
                f"{total} users and teams; a GitHub environment takes at "
                f"most {MAX_REVIEWERS} required reviewers: name a team instead of its members",
            )
        return self


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
    production_reviewers: Reviewers = Field(
        description="Who approves production deploys: at least one GitHub user or team of the "
        "owner organization, e.g. production_reviewers: {teams: [ml-leads]}",
    )
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
        if not SAGEMAKER_PROJECT_RE.fullmatch(value) or len(value) > PROJECT_NAME_MAX_LENGTH:
            raise _fail(
                "bad_project_name",
                f"{value!r} is not a name SageMaker accepts for a project: use 1-"
                f"{PROJECT_NAME_MAX_LENGTH} letters, digits and hyphens, starting with a letter "
                "and ending with a letter or digit (e.g. 'churn-model')",
            )
        return value

    @field_validator("code_connection")
    @classmethod
    def _connection(cls, value: str) -> str:
        if value != "create" and not CONNECTION_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_connection",
                f"{value!r} is neither 'create' nor a CodeConnection ARN like 'arn:aws:"
                "codeconnections:<region>:<account>:connection/<uuid>'",
            )
        return value

    def _connection_part(self, group: int) -> str | None:
        m = CONNECTION_ARN_RE.fullmatch(self.code_connection)
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
