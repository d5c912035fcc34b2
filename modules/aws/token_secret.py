"""The Secrets Manager secret that holds the GitHub token of the trigger function.

The value never enters the synthesized JSON or the Terraform state: it is written through the
write-only argument ``secret_string_wo`` (hashicorp/aws >= 5.98, Terraform >= 1.11) from an
ephemeral, sensitive variable; ``secret_string_wo_version`` says when to write it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class GitHubTokenSecretProps:
    """Props of :class:`GitHubTokenSecret`.

    Attributes:
        secret_name: name of the secret.
        value: a reference to an ephemeral variable holding the token (e.g. ``var.x`` token).
            Default: no value is written; the secret is created empty and the user sets it out
            of band.
        value_version: bump to write a new value from ``value``. Default: 1.
        recovery_window_days: days a deleted secret can be restored. Default: 7.
    """

    secret_name: str
    value: str | None = None
    value_version: int = 1
    recovery_window_days: int = 7


class GitHubTokenSecret(Construct):
    """Attributes: ``secret_arn``, ``secret_name``."""

    def __init__(self, scope: Construct, id_: str, props: GitHubTokenSecretProps) -> None:
        super().__init__(scope, id_)
        secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.secret_name,
            description="GitHub token the SageMaker trigger function uses to dispatch the "
            "deploy workflow (value written write-only, never stored in Terraform state)",
            recovery_window_in_days=props.recovery_window_days,
        )
        if props.value is not None:
            SecretsmanagerSecretVersion(
                self,
                "value",
                secret_id=secret.id,
                secret_string_wo=props.value,
                secret_string_wo_version=props.value_version,
            )
        self.secret_arn: str = secret.arn
        self.secret_name: str = secret.name
