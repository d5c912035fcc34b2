"""Files the toolkit commits to a project's GitHub repository.

Two kinds, one construct:

* **managed** files (the two workflows): the toolkit owns them. ``overwrite_on_create`` adopts
  a file that already exists, and a later edit in GitHub shows up as drift in the next plan and is
  reverted by the apply.
* **seeded** files (the starter ML code): never committed to the project's branch by
  Terraform. They are committed to a toolkit branch ``sagemaker-mlops/seed/<branch>`` (created
  from the project's branch) and proposed with a pull request into the project's branch. Once
  merged they are the data scientists' own: no resource in any state points at the project
  branch's copies, so removing the project, ``seed_code: false`` or ``destroy`` cannot delete or
  rewrite them (the provider deletes only on the toolkit branch, and a destroyed pull request
  that is merged or closed is left alone: integrations/github 6.9.0
  ``resourceGithubRepositoryPullRequestDelete`` closes only an open one), a file the user
  deletes stays deleted, and a protected branch that requires pull requests gets its starter
  code through review like any other change.
  ``autocreate_branch`` (source: the project's branch) keeps the plan quiet when the
  repository deletes head branches on merge: the provider then reads the file from the source
  branch (``resourceGithubRepositoryFileRead``). ``ignore_changes = [content]`` keeps later
  edits out of every plan.

integrations/github 6.9.0 keeps plans quiet only with an explicit branch, a fixed commit
message per file, and author/email both unset (commits are then authored by the token's user).
Content is normalised to LF with one final newline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_github.repository_file import RepositoryFile
from cdktf_cdktf_provider_github.repository_pull_request import RepositoryPullRequest
from constructs import Construct

from modules.core.hcl import literal
from modules.core.naming import slug

COMMIT_MESSAGE = "chore(mlops): {verb} {path} [sagemaker-github-mlops]"
SEED_PULL_REQUEST_TITLE = "chore(mlops): starter pipeline and deploy code [sagemaker-github-mlops]"


WORKFLOWS_PULL_REQUEST_TITLE = "chore(mlops): GitHub Actions workflows [sagemaker-github-mlops]"


def seed_branch(branch: str) -> str:
    """The toolkit branch the starter code is committed to, one per project branch."""
    return f"sagemaker-mlops/seed/{branch}"


def workflows_branch(branch: str, managed: Mapping[str, str]) -> str:
    """The toolkit branch proposing ``managed`` for ``branch``: named after the content."""
    digest = hashlib.sha256(
        json.dumps({p: normalise(c) for p, c in managed.items()}, sort_keys=True).encode()
    ).hexdigest()
    return f"sagemaker-mlops/workflows/{branch}-{digest[:8]}"


def normalise(text: str) -> str:
    """LF line endings and exactly one final newline (an empty file stays empty)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n" if text.strip("\n") else ""


@dataclass(frozen=True, kw_only=True)
class RepositoryFilesProps:
    """Props of :class:`RepositoryFiles`.

    Attributes:
        provider: the github provider of the repository's owner.
        repository: repository name (without the owner).
        branch: the branch to commit to (it must exist).
        managed: path -> content, reverted to this content by every apply.
        seeded: path -> content, proposed once by a pull request from ``seed_branch(branch)``
            into ``branch`` and then left alone. Default: none (no branch, no pull request).
        managed_via_pull_request: whether the managed files are proposed by a pull request
            too, for a branch whose protection requires pull requests (a direct commit would
            be rejected). The head branch ``workflows_branch(branch, managed)`` is named after
            the content, so a toolkit upgrade that changes a workflow opens a new pull request
            and closes the superseded one if it is still open. Edits on the project branch are
            then not reverted. Default: no, committed to ``branch`` directly.
    """

    provider: TerraformProvider
    repository: str
    branch: str
    managed: Mapping[str, str]
    seeded: Mapping[str, str] = field(default_factory=dict)
    managed_via_pull_request: bool = False


class RepositoryFiles(Construct):
    """Attributes: ``managed_paths``, ``seeded_paths``, ``seed_branch`` (``None`` when nothing
    is seeded), ``workflows_branch`` (``None`` when the managed files are committed directly)."""

    def __init__(self, scope: Construct, id_: str, props: RepositoryFilesProps) -> None:
        super().__init__(scope, id_)
        both = sorted(set(props.managed) & set(props.seeded))
        if both:
            raise ValueError(f"{self.node.path}: {both} are both managed and seeded; pick one")
        for path in [*props.managed, *props.seeded]:
            if path.startswith("/") or ".." in path.split("/") or "\\" in path:
                raise ValueError(f"{self.node.path}: {path!r} must be a relative POSIX path")
        self.workflows_branch: str | None = None
        if props.managed_via_pull_request:
            self.workflows_branch = workflows_branch(props.branch, props.managed)
            self._propose(
                props,
                prefix="managed",
                files=props.managed,
                verb="update",
                head=self.workflows_branch,
                title=WORKFLOWS_PULL_REQUEST_TITLE,
                body="The GitHub Actions workflows of the SageMaker project, proposed by "
                "sagemaker-github-mlops because this branch requires pull requests. A newer "
                "version opens a new pull request and closes this one if it is still open.",
            )
        else:
            for path in sorted(props.managed):
                RepositoryFile(
                    self,
                    f"managed-{slug(path)}",
                    provider=props.provider,
                    repository=props.repository,
                    branch=props.branch,
                    file=path,
                    content=literal(normalise(props.managed[path])),
                    commit_message=COMMIT_MESSAGE.format(verb="update", path=path),
                    overwrite_on_create=True,
                )
        self.seed_branch: str | None = None
        if props.seeded:
            self.seed_branch = seed_branch(props.branch)
            self._propose(
                props,
                prefix="seed",
                files=props.seeded,
                verb="add starter",
                head=self.seed_branch,
                title=SEED_PULL_REQUEST_TITLE,
                body="Starter code for the SageMaker pipeline (`pipelines/`) and the deploy step "
                "(`deploy/`), proposed once by sagemaker-github-mlops. Once merged the files "
                "are yours: the toolkit never changes or deletes them. Close this pull request "
                "if the repository already has its code.",
            )
        self.managed_paths = tuple(sorted(props.managed))
        self.seeded_paths = tuple(sorted(props.seeded))

    def _propose(
        self,
        props: RepositoryFilesProps,
        *,
        prefix: str,
        files: Mapping[str, str],
        verb: str,
        head: str,
        title: str,
        body: str,
    ) -> None:
        """Commit ``files`` to the toolkit branch ``head`` (created from the project branch)
        and open one pull request into the project branch."""
        committed = [
            RepositoryFile(
                self,
                f"{prefix}-{slug(path)}",
                provider=props.provider,
                repository=props.repository,
                branch=head,
                autocreate_branch=True,
                autocreate_branch_source_branch=props.branch,
                file=path,
                content=literal(normalise(files[path])),
                commit_message=COMMIT_MESSAGE.format(verb=verb, path=path),
                # Only the toolkit branch is written: the pull request shows any difference
                # to the project branch, and the data scientists decide.
                overwrite_on_create=True,
                lifecycle=TerraformResourceLifecycle(ignore_changes=["content"]),
            )
            for path in sorted(files)
        ]
        RepositoryPullRequest(
            self,
            f"{prefix}-pull-request",
            provider=props.provider,
            base_repository=props.repository,
            base_ref=props.branch,
            head_ref=head,
            title=title,
            body=body,
            # Someone may retitle or edit it; that is not drift.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["title", "body"]),
            depends_on=committed,
        )
