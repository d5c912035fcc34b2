"""Pull requests the toolkit proposes once, outside Terraform state (no cdktf here).

A :class:`Proposal` is data: which files to propose to which branch of which repository, from
which toolkit branch, with which title. The GitHub construct ``RepositoryFiles`` makes one per
project for the starter code (``seed``) and, on a branch whose protection requires pull
requests, one for the workflows (``workflows``); ``make propose`` (``modules/ops/propose.py``)
opens them. Why this lives outside Terraform: ``docs/seeding.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

COMMIT_MESSAGE: Final = "chore(mlops): {verb} {path} [sagemaker-github-mlops]"
SEED_PULL_REQUEST_TITLE: Final = (
    "chore(mlops): starter pipeline and deploy code [sagemaker-github-mlops]"
)
WORKFLOWS_PULL_REQUEST_TITLE: Final = (
    "chore(mlops): GitHub Actions workflows [sagemaker-github-mlops]"
)
SEED_PULL_REQUEST_BODY: Final = (
    "Starter code for the SageMaker pipeline (`pipelines/`) and the deploy step (`deploy/`), "
    "proposed once by sagemaker-github-mlops. Once merged the files are yours: the toolkit "
    "never changes or deletes them, and never proposes them again. Close this pull request if "
    "the repository already has its code."
)
WORKFLOWS_PULL_REQUEST_BODY: Final = (
    "The GitHub Actions workflows of the SageMaker project, proposed by sagemaker-github-mlops "
    "because this branch requires pull requests. A newer version opens a new pull request and "
    "closes this one if it is still open."
)
SEED_BRANCH_PREFIX: Final = "sagemaker-mlops/seed/"
WORKFLOWS_BRANCH_PREFIX: Final = "sagemaker-mlops/workflows/"


def normalise(text: str) -> str:
    """LF line endings and exactly one final newline (an empty file stays empty)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n" if text.strip("\n") else ""


def seed_branch(branch: str) -> str:
    """The toolkit branch the starter code is proposed from, one per project branch."""
    return f"{SEED_BRANCH_PREFIX}{branch}"


def workflows_branch(branch: str, managed: Mapping[str, str]) -> str:
    """The toolkit branch proposing ``managed`` for ``branch``: named after the content, so a
    toolkit upgrade that changes a workflow is a new proposal."""
    digest = hashlib.sha256(
        json.dumps({p: normalise(c) for p, c in managed.items()}, sort_keys=True).encode()
    ).hexdigest()
    return f"{WORKFLOWS_BRANCH_PREFIX}{branch}-{digest[:8]}"


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """One pull request proposed once: ``files`` committed in one commit on the new branch
    ``head`` (created from ``base``) and proposed into ``base`` of ``owner/repository``.

    Attributes:
        kind: ``seed`` (starter code: once proposed, never again) or ``workflows`` (the managed
            workflows of a branch that requires pull requests; a new content is a new ``head``).
        files: repository path -> content (normalised).
    """

    kind: Literal["seed", "workflows"]
    owner: str
    repository: str
    base: str
    head: str
    title: str
    body: str
    files: Mapping[str, str]

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repository}"

    @property
    def commit_message(self) -> str:
        verb = "add starter" if self.kind == "seed" else "update"
        paths = ", ".join(sorted(self.files)) if len(self.files) <= 2 else "files"
        return COMMIT_MESSAGE.format(verb=verb, path=paths)


def seed_proposal(owner: str, repository: str, branch: str, files: Mapping[str, str]) -> Proposal:
    """The starter-code proposal of one project branch."""
    return Proposal(
        kind="seed",
        owner=owner,
        repository=repository,
        base=branch,
        head=seed_branch(branch),
        title=SEED_PULL_REQUEST_TITLE,
        body=SEED_PULL_REQUEST_BODY,
        files={p: normalise(c) for p, c in sorted(files.items())},
    )


def workflows_proposal(
    owner: str, repository: str, branch: str, files: Mapping[str, str]
) -> Proposal:
    """The workflows proposal of a branch that requires pull requests."""
    return Proposal(
        kind="workflows",
        owner=owner,
        repository=repository,
        base=branch,
        head=workflows_branch(branch, files),
        title=WORKFLOWS_PULL_REQUEST_TITLE,
        body=WORKFLOWS_PULL_REQUEST_BODY,
        files={p: normalise(c) for p, c in sorted(files.items())},
    )
