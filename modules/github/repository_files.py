"""Files the toolkit puts into a project's GitHub repository.

Two kinds, one construct:

* **managed** files (the two workflows): the toolkit owns them. On a branch that accepts direct
  commits each is a ``github_repository_file`` on the project branch: ``overwrite_on_create``
  adopts a file that already exists, and a later edit in GitHub shows up as drift in the next
  plan and is reverted by the apply.
* **seeded** files (the starter ML code), and the managed files of a branch whose protection
  requires pull requests: never in Terraform state. They become a :class:`Proposal` (attribute
  ``proposals``) that ``make propose`` opens once: one branch created once, one commit, one pull
  request (``modules/ops/propose.py``).

Why the proposals are outside state (integrations/github 6.9.0, ``docs/seeding.md``): every
Terraform-managed way to commit to a new branch breaks after the pull request is merged and its
branch deleted. ``github_repository_file`` with ``autocreate_branch`` checks for the branch and
then creates it, once per file, so parallel creates race to ``422 Reference already exists``
(provider issue #2438; ``resource_github_repository_file.go:201-221``); its Read then reads the
source branch (``:291-292``) and drops a file the team deleted (``:313``), so the next apply
re-creates the branch and the file; its Delete re-creates the deleted branch at the stored
commit before deleting (``:470-491``), so ``seed_code: false``, a project removal or a destroy
re-create the branch and fail with 404. A ``github_branch`` resource is dropped from state when
the branch is deleted (``resource_github_branch.go:138-141``) and re-created by the next apply.
A proposal outside state has nothing a refresh can find missing, so no plan ever re-creates a
branch or a file, and no destroy touches the starter code.

integrations/github 6.9.0 keeps plans quiet only with an explicit branch, a fixed commit
message per file, and author/email both unset (commits are then authored by the token's user).
Content is normalised to LF with one final newline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider
from cdktf_cdktf_provider_github.provider import GithubProvider
from cdktf_cdktf_provider_github.repository_file import RepositoryFile
from constructs import Construct

from modules.core.hcl import literal
from modules.core.naming import slug
from modules.core.proposals import (
    COMMIT_MESSAGE,
    SEED_PULL_REQUEST_TITLE,
    WORKFLOWS_PULL_REQUEST_TITLE,
    Proposal,
    normalise,
    seed_branch,
    seed_proposal,
    workflows_branch,
    workflows_proposal,
)

__all__ = [
    "COMMIT_MESSAGE",
    "SEED_PULL_REQUEST_TITLE",
    "WORKFLOWS_PULL_REQUEST_TITLE",
    "RepositoryFiles",
    "RepositoryFilesProps",
    "normalise",
    "seed_branch",
    "workflows_branch",
]


@dataclass(frozen=True, kw_only=True)
class RepositoryFilesProps:
    """Props of :class:`RepositoryFiles`.

    Attributes:
        provider: the github provider of the repository's owner (its ``owner`` names the
            owner of the proposals).
        repository: repository name (without the owner).
        branch: the branch to commit to (it must exist).
        managed: path -> content, reverted to this content by every apply.
        seeded: path -> content, proposed once by ``make propose`` (a pull request from
            ``seed_branch(branch)`` into ``branch``) and then left alone. Default: none.
        managed_via_pull_request: whether the managed files are proposed by a pull request
            too (by ``make propose``), for a branch whose protection requires pull requests (a
            direct commit would be rejected). The head branch ``workflows_branch(branch,
            managed)`` is named after the content, so a toolkit upgrade that changes a workflow
            is proposed anew. Edits on the project branch are then not reverted. Default: no,
            committed to ``branch`` directly and kept in Terraform state.
    """

    provider: TerraformProvider
    repository: str
    branch: str
    managed: Mapping[str, str]
    seeded: Mapping[str, str] = field(default_factory=dict)
    managed_via_pull_request: bool = False


class RepositoryFiles(Construct):
    """Attributes: ``managed_paths``, ``seeded_paths``, ``seed_branch`` (``None`` when nothing
    is seeded), ``workflows_branch`` (``None`` when the managed files are committed directly),
    ``proposals`` (the pull requests ``make propose`` opens, outside Terraform state)."""

    def __init__(self, scope: Construct, id_: str, props: RepositoryFilesProps) -> None:
        super().__init__(scope, id_)
        both = sorted(set(props.managed) & set(props.seeded))
        if both:
            raise ValueError(f"{self.node.path}: {both} are both managed and seeded; pick one")
        for path in [*props.managed, *props.seeded]:
            if path.startswith("/") or ".." in path.split("/") or "\\" in path:
                raise ValueError(f"{self.node.path}: {path!r} must be a relative POSIX path")
        owner = props.provider.owner if isinstance(props.provider, GithubProvider) else None
        if (props.seeded or props.managed_via_pull_request) and not owner:
            raise ValueError(
                f"{self.node.path}: proposing files needs a github provider with an owner"
            )
        proposals: list[Proposal] = []
        self.workflows_branch: str | None = None
        if props.managed_via_pull_request:
            assert owner is not None
            proposal = workflows_proposal(owner, props.repository, props.branch, props.managed)
            self.workflows_branch = proposal.head
            proposals.append(proposal)
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
            assert owner is not None
            proposal = seed_proposal(owner, props.repository, props.branch, props.seeded)
            self.seed_branch = proposal.head
            proposals.append(proposal)
        self.proposals: tuple[Proposal, ...] = tuple(proposals)
        self.managed_paths = tuple(sorted(props.managed))
        self.seeded_paths = tuple(sorted(props.seeded))
