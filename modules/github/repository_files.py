"""Files the toolkit commits to a project's GitHub repository.

Two kinds, one construct:

* **managed** files (the two workflows): the toolkit owns them. ``overwrite_on_create`` adopts
  a file that already exists, and a later edit in GitHub shows up as drift in the next plan and is
  reverted by the apply.
* **seeded** files (the starter ML code): committed once, then the data scientists' own.
  ``ignore_changes = [content]`` keeps later edits out of every plan, and ``overwrite_on_create``
  is off so an existing file of the same path is never clobbered (the apply fails instead; set
  ``seed_code: false`` for repositories that already have their code).

integrations/github 6.9.0 keeps plans quiet only with an explicit branch, a fixed commit
message per file, and author/email both unset (commits are then authored by the token's user).
Content is normalised to LF with one final newline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_github.repository_file import RepositoryFile
from constructs import Construct

from modules.core.hcl import literal
from modules.core.naming import slug

COMMIT_MESSAGE = "chore(mlops): {verb} {path} [sagemaker-github-mlops]"


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
        seeded: path -> content, committed once and then left alone. Default: none.
    """

    provider: TerraformProvider
    repository: str
    branch: str
    managed: Mapping[str, str]
    seeded: Mapping[str, str] = field(default_factory=dict)


class RepositoryFiles(Construct):
    """Attributes: ``managed_paths``, ``seeded_paths``."""

    def __init__(self, scope: Construct, id_: str, props: RepositoryFilesProps) -> None:
        super().__init__(scope, id_)
        both = sorted(set(props.managed) & set(props.seeded))
        if both:
            raise ValueError(f"{self.node.path}: {both} are both managed and seeded; pick one")
        for path in [*props.managed, *props.seeded]:
            if path.startswith("/") or ".." in path.split("/") or "\\" in path:
                raise ValueError(f"{self.node.path}: {path!r} must be a relative POSIX path")
        # (construct id prefix, files, commit verb, whether later edits are the users')
        kinds = (
            ("managed", props.managed, "update", False),
            ("seed", props.seeded, "add starter", True),
        )
        for prefix, files, verb, users_own in kinds:
            for path in sorted(files):
                RepositoryFile(
                    self,
                    f"{prefix}-{slug(path)}",
                    provider=props.provider,
                    repository=props.repository,
                    branch=props.branch,
                    file=path,
                    content=literal(normalise(files[path])),
                    commit_message=COMMIT_MESSAGE.format(verb=verb, path=path),
                    overwrite_on_create=not users_own,
                    lifecycle=TerraformResourceLifecycle(ignore_changes=["content"])
                    if users_own
                    else None,
                )
        self.managed_paths = tuple(sorted(props.managed))
        self.seeded_paths = tuple(sorted(props.seeded))
