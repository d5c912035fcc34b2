"""One stage account of a promoted environment: its aliased provider, its GitHub OIDC trust
anchor and, when an endpoint of the stage captures data, the bucket it captures to.

The environment's stack holds one ``aws`` provider per stage account (alias = the stage name,
``aws.staging`` / ``aws.production``) that assumes the stage's deployer role, with
``allowed_account_ids`` pinned to the stage account and the home region: one plan reconciles the
home account, the stage accounts and GitHub together, and a plan whose credentials land in
another account stops before it changes anything. Every resource and data source created under
this construct, or bound with :func:`bind_provider`, goes through that provider, never the
default (home) one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformDataSource, TerraformProvider, TerraformResource
from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
)
from constructs import Construct

from modules.aws.github_oidc import GitHubOidcProvider, GitHubOidcProviderProps
from modules.aws.hardened_bucket import HardenedBucket, HardenedBucketProps
from modules.core.account_context import AccountContext
from modules.core.naming import bounded, stage_provider_alias

#: The session name of the plan's assumed stage deployer role (CloudTrail shows it).
PLAN_SESSION_NAME = "sagemaker-github-mlops-plan"


def bind_provider(scope: Construct, provider: TerraformProvider) -> int:
    """Point every resource and data source under ``scope`` at ``provider``; return how many.

    Constructs written for the home account (the OIDC provider, a hardened bucket, policy
    documents) are reused unchanged in a stage account this way, and a test proves no stage
    resource is left on the default provider."""
    bound = 0
    for construct in scope.node.find_all():
        if isinstance(construct, TerraformResource | TerraformDataSource):
            construct.provider = provider
            bound += 1
    return bound


@dataclass(frozen=True, kw_only=True)
class StageAccountBaseProps:
    """Props of :class:`StageAccountBase`.

    Attributes:
        environment_name: the toolkit environment (names the capture bucket).
        stage: ``staging`` or ``production`` (the provider's alias).
        account_id: the stage account (the provider's only allowed account).
        region: the home region (stages deploy where the registry is).
        deployer_role_arn: the role the plan assumes in the stage account.
        default_tags: tags of every resource the provider creates (the stack's).
        existing_oidc_provider_arn: the stage account's GitHub OIDC provider. Default: created.
        capture_bucket: whether endpoints of this stage capture data (a bucket in the stage
            account: the home bucket is never written from another account). Default: no.
    """

    environment_name: str
    stage: str
    account_id: str
    region: str
    deployer_role_arn: str
    default_tags: Mapping[str, str]
    existing_oidc_provider_arn: str | None = None
    capture_bucket: bool = False


class StageAccountBase(Construct):
    """Attributes: ``provider`` (``aws.<stage>``), ``context`` (the stage account's partition,
    region and account data sources), ``account_id`` (literal, from the config), ``oidc``,
    ``capture_bucket_name`` / ``capture_bucket_arn`` (``None`` without data capture)."""

    def __init__(self, scope: Construct, id_: str, props: StageAccountBaseProps) -> None:
        super().__init__(scope, id_)
        self.stage = props.stage
        self.account_id = props.account_id
        self.provider = AwsProvider(
            self,
            "provider",
            alias=stage_provider_alias(props.stage),
            region=props.region,
            allowed_account_ids=[props.account_id],
            assume_role=[
                AwsProviderAssumeRole(
                    role_arn=props.deployer_role_arn, session_name=PLAN_SESSION_NAME
                )
            ],
            default_tags=[AwsProviderDefaultTags(tags=dict(props.default_tags))],
        )
        self.context = AccountContext(self, "account")
        self.oidc = GitHubOidcProvider(
            self,
            "github-oidc",
            GitHubOidcProviderProps(existing_provider_arn=props.existing_oidc_provider_arn),
        )
        self.capture_bucket_name: str | None = None
        self.capture_bucket_arn: str | None = None
        if props.capture_bucket:
            bucket = HardenedBucket(
                self,
                "capture-bucket",
                HardenedBucketProps(
                    bucket_prefix=bounded(
                        "sagemaker-mlops-capture",
                        props.environment_name,
                        props.stage,
                        max_length=36,
                    )
                    + "-",
                    partition=self.context.partition,
                    # captured requests are data, not history: replaced versions go
                    noncurrent_days=7,
                ),
            )
            self.capture_bucket_name = bucket.bucket_name
            self.capture_bucket_arn = bucket.bucket_arn
        bind_provider(self, self.provider)
