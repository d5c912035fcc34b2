"""The stack's backend and providers: AWS for the account, one aliased GitHub provider per owner.

A helper of :class:`~modules.stack.EnvironmentStack` that creates everything in the stack's own
scope (provider and backend blocks belong to the stack; their construct ids are part of the
synthesized addresses, see docs/architecture.md, "Child constructs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_github.provider import GithubProvider, GithubProviderAppAuth

from modules.core.config import CloudBackend as CloudBackendConfig
from modules.core.config import Environment
from modules.core.config import LocalBackend as LocalBackendConfig
from modules.core.naming import MANAGED_BY_TAG, slug
from modules.stack_inputs import app_pem, owner_token


def github_alias(owner: str) -> str:
    """Terraform alias of the github provider for ``owner`` (a valid identifier)."""
    name = slug(owner)
    return name if re.match(r"^[a-z]", name) else f"owner-{name}"


@dataclass(frozen=True, kw_only=True)
class StackProvidersProps:
    """Attributes:
    environment: the validated environment (region, account, tags, backend, GitHub owners and
        the GitHub App, if any).
    """

    environment: Environment


class StackProviders:
    """Attributes: ``github_providers`` (lowercased owner -> provider)."""

    def __init__(self, stack: TerraformStack, props: StackProvidersProps) -> None:
        env = props.environment
        add_backend(stack, env)
        AwsProvider(
            stack,
            "aws",
            region=env.region,
            allowed_account_ids=[env.account_id],
            default_tags=[AwsProviderDefaultTags(tags=dict([MANAGED_BY_TAG, *env.tags.items()]))],
        )
        self.github_providers: dict[str, GithubProvider] = {}
        app = env.platform.github_app
        for owner in env.github_owners:
            installation = app.installation_ids.get(owner) if app is not None else None
            self.github_providers[owner] = GithubProvider(
                stack,
                f"github-{slug(owner)}",
                owner=owner,
                alias=github_alias(owner),
                token=None if installation else owner_token(stack, owner),
                app_auth=GithubProviderAppAuth(
                    id=app.id, installation_id=installation, pem_file=app_pem(stack)
                )
                if app is not None and installation
                else None,
            )


def add_backend(stack: TerraformStack, env: Environment) -> None:
    """The configured backend: local (relative path), HCP Terraform, or S3 with a lock file."""
    backend = env.backend
    if isinstance(backend, LocalBackendConfig):
        # Relative on purpose: cdktf's default is an absolute path, which would make the
        # synthesized JSON differ between checkouts. The default resolves from
        # cdktf.out/stacks/<stack>/ to the project directory, so state survives
        # `make clean` and re-synths.
        LocalBackend(stack, path=backend.path or f"../../../terraform.{env.stack_name}.tfstate")
    elif isinstance(backend, CloudBackendConfig):
        CloudBackend(
            stack,
            organization=backend.organization,
            hostname=backend.hostname,
            workspaces=NamedCloudWorkspace(
                backend.workspace or env.stack_name, project=backend.project
            ),
        )
    else:
        S3Backend(
            stack,
            bucket=backend.bucket,
            key=backend.key or f"{env.stack_name}/terraform.tfstate",
            region=backend.region or env.region,
            encrypt=True,
            kms_key_id=backend.kms_key_id,
        )
        # S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no such field.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
