"""Partition, region and account of the stack, from data sources (never hard-coded)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from constructs import Construct


class AccountContext(Construct):
    """Where the stack deploys: use these tokens to build ARNs.

    Attributes:
        partition: ``aws``, ``aws-cn`` or ``aws-us-gov``.
        region: the provider's region name.
        account_id: the caller's account id.
        dns_suffix: ``amazonaws.com`` (or the partition's equivalent).
    """

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        partition = DataAwsPartition(self, "partition")
        region = DataAwsRegion(self, "region")
        caller = DataAwsCallerIdentity(self, "caller")
        self.partition: str = partition.partition
        self.dns_suffix: str = partition.dns_suffix
        self.region: str = region.name
        self.account_id: str = caller.account_id

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` from the data sources."""
        reg = self.region if region else ""
        acct = self.account_id if account else ""
        return f"arn:{self.partition}:{service}:{reg}:{acct}:{resource}"
