"""An S3 bucket with the settings reviewers expect: no public access, encryption, versioning,
bucket-owner-enforced ownership and a TLS-only bucket policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResource
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from constructs import Construct

from modules.core.policy import Condition, Statement, policy_document


@dataclass(frozen=True, kw_only=True)
class HardenedBucketProps:
    """Props of :class:`HardenedBucket`.

    Attributes:
        bucket_prefix: S3 adds a unique suffix (bucket names are global).
        partition: the partition token, for ARNs in the bucket policy.
        extra_statements: more bucket policy statements. Default: TLS-only statements only.
        force_destroy: whether ``terraform destroy`` may delete a non-empty bucket.
            Default: no (template versions are kept).
        lifecycle_prefix: key prefix whose noncurrent versions expire and whose incomplete
            uploads are aborted. Default: the whole bucket.
        noncurrent_days: days a replaced object version is kept. Default: 30.
    """

    bucket_prefix: str
    partition: str
    extra_statements: Sequence[Statement] = field(default_factory=tuple)
    force_destroy: bool = False
    lifecycle_prefix: str = ""
    noncurrent_days: int = 30


class HardenedBucket(Construct):
    """Attributes: ``bucket_name``, ``bucket_arn``, ``bucket_regional_domain_name``,
    ``bucket`` (the S3Bucket, for ``depends_on``)."""

    def __init__(self, scope: Construct, id_: str, props: HardenedBucketProps) -> None:
        super().__init__(scope, id_)
        bucket = S3Bucket(
            self,
            "bucket",
            bucket_prefix=props.bucket_prefix,
            force_destroy=props.force_destroy,
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
        )
        #: What an object written into the bucket must wait for (its ``depends_on``). An object
        #: put before versioning is enabled gets the "null" version, and its resource records no
        #: version_id: hashicorp/aws then deletes it without a version id
        #: (internal/service/s3/object.go, resourceObjectDelete), which in a versioned bucket
        #: only adds a delete marker, and DeleteBucket answers BucketNotEmpty.
        self.ready_for_objects: tuple[TerraformResource, ...] = self._encryption_and_versioning(
            bucket.id
        )
        self._lifecycle(bucket.id, props)
        self._policy(bucket, props)
        self.bucket = bucket
        self.bucket_name: str = bucket.id
        self.bucket_arn: str = bucket.arn
        self.bucket_regional_domain_name: str = bucket.bucket_regional_domain_name

    def _encryption_and_versioning(self, bucket_id: str) -> tuple[TerraformResource, ...]:
        encryption = S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            # Typed structs: a nested dict inside this list is silently dropped by jsii.
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="AES256"
                        )
                    ),
                    bucket_key_enabled=False,
                )
            ],
        )
        versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
        )
        return (encryption, versioning)

    def _lifecycle(self, bucket_id: str, props: HardenedBucketProps) -> None:
        """Noncurrent versions expire and incomplete uploads are aborted under the prefix."""
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[
                        S3BucketLifecycleConfigurationRuleFilter(prefix=props.lifecycle_prefix)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=1
                        )
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_days
                        )
                    ],
                )
            ],
        )

    def _policy(self, bucket: S3Bucket, props: HardenedBucketProps) -> None:
        """TLS only (1.2 or newer), plus the caller's statements."""
        everything = (bucket.arn, f"{bucket.arn}/*")
        deny_unless = {  # sid -> the condition under which every request is refused
            "DenyInsecureTransport": Condition(
                test="Bool", variable="aws:SecureTransport", values=("false",)
            ),
            "DenyOutdatedTls": Condition(
                test="NumericLessThan", variable="s3:TlsVersion", values=("1.2",)
            ),
        }
        S3BucketPolicy(
            self,
            "policy",
            bucket=bucket.id,
            policy=policy_document(
                self,
                "policy-document",
                [
                    *(
                        Statement(
                            sid=sid,
                            effect="Deny",
                            actions=("s3:*",),
                            resources=everything,
                            principals=(("AWS", ("*",)),),
                            conditions=(condition,),
                        )
                        for sid, condition in deny_unless.items()
                    ),
                    *props.extra_statements,
                ],
            ),
        )
