"""The GitHub environment the build job runs in when it authenticates with access keys.

In ``access_keys`` mode the build user's key pair is a long-lived secret. As repository secrets
it would be readable by any workflow on any branch (a pull request's workflow included); as
secrets of the ``<environment>-build`` GitHub environment, deployable only from the project's
branch (a custom deployment branch policy), only a job that runs in that environment on that
branch can read them. With ``oidc`` there is no such environment: the build role's trust pins the
branch in the token's ``sub`` claim, which a job environment would change to
``repo:<owner>/<repo>:environment:<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_github.actions_environment_secret import ActionsEnvironmentSecret
from cdktf_cdktf_provider_github.repository_environment import RepositoryEnvironment
from cdktf_cdktf_provider_github.repository_environment_deployment_policy import (
    RepositoryEnvironmentDeploymentPolicy,
)
from constructs import Construct

from modules.core.naming import slug


@dataclass(frozen=True, kw_only=True)
class BuildEnvironmentProps:
    """Props of :class:`BuildEnvironment`.

    Attributes:
        provider: the github provider of the repository's owner.
        repository: repository name (without the owner).
        branch: the only branch whose jobs may run in the environment.
        environment: the GitHub environment's name (``<toolkit environment>-build``).
        secrets: name -> value reference (sensitive) of the environment's secrets; at least one.
    """

    provider: TerraformProvider
    repository: str
    branch: str
    environment: str
    secrets: Mapping[str, str]


class BuildEnvironment(Construct):
    """Attributes: ``environment_name``, ``secret_names``."""

    def __init__(self, scope: Construct, id_: str, props: BuildEnvironmentProps) -> None:
        super().__init__(scope, id_)
        if not props.secrets:
            raise ValueError(
                f"{self.node.path}: secrets is empty; a build environment exists to hold the "
                "build job's secrets"
            )
        environment = RepositoryEnvironment(
            self,
            "environment",
            provider=props.provider,
            repository=props.repository,
            environment=props.environment,
            # No reviewers: builds run on every push. The branch policy is the protection.
            can_admins_bypass=True,
            prevent_self_review=False,
            deployment_branch_policy={
                "protected_branches": False,
                "custom_branch_policies": True,
            },
        )
        RepositoryEnvironmentDeploymentPolicy(
            self,
            "branch",
            provider=props.provider,
            repository=props.repository,
            environment=environment.environment,
            branch_pattern=props.branch,
        )
        # environment.environment (not the literal name) makes each secret wait for the
        # environment: the API answers 404 for an environment that does not exist yet.
        for name in sorted(props.secrets):
            ActionsEnvironmentSecret(
                self,
                f"secret-{slug(name)}",
                provider=props.provider,
                repository=props.repository,
                environment=environment.environment,
                secret_name=name,
                plaintext_value=props.secrets[name],
            )
        self.environment_name = props.environment
        self.secret_names = tuple(sorted(props.secrets))
