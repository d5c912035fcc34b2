"""The Secrets Manager secret that holds the GitHub token of the trigger function.

The value never enters the synthesized JSON or the Terraform state: it is written through the
write-only argument ``secret_string_wo`` (hashicorp/aws >= 5.98, Terraform >= 1.11) from an
ephemeral, sensitive variable; ``secret_string_wo_version`` says when to write it again.

A resource policy (:meth:`GitHubTokenSecret.restrict_reads`) denies
``secretsmanager:GetSecretValue`` to every principal but the named readers, so an identity
policy granting ``GetSecretValue`` on ``*`` elsewhere in the account does not reach the token.

Plans without the token. In hashicorp/aws 5.100 ``secret_string_wo`` and
``secret_string_wo_version`` are ``RequiredWith`` each other (SDKv2 validation: a null
``secret_string_wo`` fails every plan with "all of `secret_string_wo,secret_string_wo_version`
must be specified"), ``secret_string_wo_version`` is ``ForceNew`` (a new version replaces the
resource), and the value is sent to Secrets Manager only in Create, and only when non-empty
(internal/service/secretsmanager/secret_version.go). So the argument gets the token, or an empty
string when none is set, which satisfies validation and is never sent; a precondition that only
holds when ``terraform.applying`` is false (Terraform >= 1.10) makes every *apply* without the
token stop before anything is written, while plans and ``make drift`` need no token.
``create_before_destroy`` makes a version bump without the token fail before the old version is
touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Fn, Op, Precondition, TerraformLocal, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_policy import SecretsmanagerSecretPolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from modules.core.policy import Condition, Statement, policy_document


@dataclass(frozen=True, kw_only=True)
class GitHubTokenSecretProps:
    """Props of :class:`GitHubTokenSecret`.

    Attributes:
        secret_name: name of the secret.
        value: a reference to an ephemeral, nullable variable holding the token (e.g. a
            ``var.x`` token). Plans work while it is null; applies stop with ``missing_value_hint``.
            Default: no value is written; the secret is created empty and the user sets it out
            of band.
        missing_value_hint: the precondition's error message when ``value`` is null during an
            apply. Default: a generic message asking for the token.
        value_version: bump to write a new value from ``value``. Default: 1.
        recovery_window_days: days a deleted secret can be restored. Default: 7.
    """

    secret_name: str
    value: str | None = None
    value_version: int = 1
    missing_value_hint: str = (
        "The GitHub token for the trigger function is not set: applies write it to Secrets "
        "Manager (write-only). Set it and apply again; plans need no token."
    )
    recovery_window_days: int = 7


class GitHubTokenSecret(Construct):
    """Attributes: ``secret_arn``, ``secret_name``, ``writes_value`` (whether Terraform writes
    the value, and so reads the version back on every refresh)."""

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
        self._secret = secret
        self.writes_value = props.value is not None
        if props.value is not None:
            unset = Op.eq(props.value, Token.null_value())
            # Terraform's own `terraform.applying` (ephemeral: false while planning).
            applying = TerraformLocal(self, "applying", "${terraform.applying}")
            SecretsmanagerSecretVersion(
                self,
                "value",
                secret_id=secret.id,
                # "" when unset: passes validation, never sent (see the module docstring).
                secret_string_wo=Token.as_string(Fn.conditional(unset, "", props.value)),
                secret_string_wo_version=props.value_version,
                lifecycle=TerraformResourceLifecycle(
                    create_before_destroy=True,
                    precondition=[
                        Precondition(
                            condition=Op.or_(Op.not_(unset), Op.not_(applying.as_boolean)),
                            error_message=props.missing_value_hint,
                        )
                    ],
                ),
            )
        self.secret_arn: str = secret.arn
        self.secret_name: str = secret.name

    def restrict_reads(self, reader_arns: Sequence[str]) -> None:
        """Attach the resource policy: ``GetSecretValue`` is denied to every principal whose
        ``aws:PrincipalArn`` is not one of ``reader_arns`` (IAM role or user ARNs; for an
        assumed-role session that key is the role's ARN). Pass the trigger function's role and,
        when Terraform writes the value (``writes_value``), the deployer: hashicorp/aws reads a
        secret version back with GetSecretValue on every refresh
        (internal/service/secretsmanager/secret_version.go, findSecretVersion), so a plan by
        anyone else would fail. Writing a value out of band (PutSecretValue) is not affected.
        """
        if not reader_arns:
            raise ValueError(f"{self.node.path}: restrict_reads needs at least one reader")
        document = policy_document(
            self,
            "policy-document",
            [
                Statement(
                    sid="OnlyNamedReaders",
                    effect="Deny",
                    actions=("secretsmanager:GetSecretValue",),
                    resources=("*",),
                    principals=(("AWS", ("*",)),),
                    conditions=(
                        Condition(
                            test="StringNotEquals",
                            variable="aws:PrincipalArn",
                            values=tuple(reader_arns),
                        ),
                    ),
                ),
            ],
        )
        SecretsmanagerSecretPolicy(
            self,
            "policy",
            secret_arn=self._secret.arn,
            policy=document,
            block_public_policy=True,
        )
