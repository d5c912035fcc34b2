"""Repository-level Actions variables and secrets of one project's GitHub repository.

Values are references to other resources' attributes (role ARNs, the access key), never
literals. Secrets keep ``destroy_on_drift = true`` (integrations/github 6.9.0's default, set
explicitly): when someone edits a secret in GitHub, its ``updated_at`` moves, the next plan shows
the secret to be re-created and the apply restores the managed value. Drift is visible, and
reconciled, rather than silently kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider
from cdktf_cdktf_provider_github.actions_secret import ActionsSecret
from cdktf_cdktf_provider_github.actions_variable import ActionsVariable
from constructs import Construct

from modules.core.naming import slug


@dataclass(frozen=True, kw_only=True)
class RepositorySettingsProps:
    """Props of :class:`RepositorySettings`.

    Attributes:
        provider: the github provider (aliased per owner) the resources use.
        repository: repository name (without the owner).
        variables: variable name -> value (not secret). Default: none.
        secrets: secret name -> value reference (sensitive). Default: none.
    """

    provider: TerraformProvider
    repository: str
    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


class RepositorySettings(Construct):
    """Attributes: ``variable_names``, ``secret_names`` (what the workflows can read)."""

    def __init__(self, scope: Construct, id_: str, props: RepositorySettingsProps) -> None:
        super().__init__(scope, id_)
        overlap = set(props.variables) & set(props.secrets)
        if overlap:
            raise ValueError(
                f"{self.node.path}: {sorted(overlap)} are both a variable and a secret; choose one"
            )
        for name in sorted(props.variables):
            ActionsVariable(
                self,
                f"variable-{slug(name)}",
                provider=props.provider,
                repository=props.repository,
                variable_name=name,
                value=props.variables[name],
            )
        for name in sorted(props.secrets):
            ActionsSecret(
                self,
                f"secret-{slug(name)}",
                provider=props.provider,
                repository=props.repository,
                secret_name=name,
                plaintext_value=props.secrets[name],
                destroy_on_drift=True,
            )
        self.variable_names = tuple(sorted(props.variables))
        self.secret_names = tuple(sorted(props.secrets))
