"""The account's GitHub Actions OIDC identity provider: created, or an existing one reused."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from constructs import Construct

from modules.core.github_facts import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL


@dataclass(frozen=True, kw_only=True)
class GitHubOidcProviderProps:
    """Props of :class:`GitHubOidcProvider`.

    Attributes:
        existing_provider_arn: ARN of the account's provider for
            ``token.actions.githubusercontent.com`` (an account holds only one).
            Default: the construct creates the provider.
        tags: tags of the provider. Default: the provider's default tags only.
    """

    existing_provider_arn: str | None = None
    tags: dict[str, str] | None = None


class GitHubOidcProvider(Construct):
    """Trust anchor for the build and deploy roles.

    Attributes:
        provider_arn: the provider's ARN.
        created: whether this stack manages the provider.
    """

    def __init__(self, scope: Construct, id_: str, props: GitHubOidcProviderProps) -> None:
        super().__init__(scope, id_)
        self.created = props.existing_provider_arn is None
        if props.existing_provider_arn is not None:
            self.provider_arn: str = props.existing_provider_arn
            return
        # Since July 2023 AWS validates GitHub's OIDC certificate itself; thumbprint_list is
        # optional in hashicorp/aws >= 5.81 and omitted so it never needs rotating.
        provider = IamOpenidConnectProvider(
            self,
            "provider",
            url=GITHUB_OIDC_URL,
            client_id_list=[GITHUB_OIDC_AUDIENCE],
            tags=dict(props.tags or {}),
        )
        self.provider_arn = provider.arn
