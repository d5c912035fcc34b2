"""Promotion to stage accounts and the endpoint settings of each deploy stage.

An environment's own account is its **home**: the model registry, training and the trigger live
there. With ``promotion`` the staging (optional) and production (required) endpoints live in
other accounts of the same region; each stage account is reached by the plan through its
deployer role and by the deploy job through its own GitHub OIDC trust (see
docs/multi-account.md). ``endpoints`` gives the same per-stage endpoint settings to an
environment whose stages share the home account.

Limits are SageMaker's own (botocore's service model of the pinned boto3, ``sagemaker``
``ProductionVariant``, ``DataCaptureConfig``, ``ProductionVariantServerlessConfig``): the
instance types are read from that model rather than from a table of ours.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from modules.core.config.base import (
    IAM_ROLE_ARN_RE,
    OIDC_PROVIDER_ARN_RE,
    _fail,
    _Model,
    check_account_id,
)
from modules.core.github_facts import oidc_provider_arn_template

# S3 object key prefix of captured requests: letters, digits and '!-_.*()/' (S3 "safe
# characters" of the object key naming guidelines), no leading '/', no '..'.
S3_PREFIX_RE = re.compile(r"[A-Za-z0-9!_.*()-][A-Za-z0-9!_.*()/-]{0,255}", re.ASCII)
INSTANCE_TYPE_RE = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9-]+", re.ASCII)


@functools.cache
def sagemaker_instance_types() -> frozenset[str]:
    """``ProductionVariantInstanceType`` of botocore's SageMaker model: what CreateEndpointConfig
    accepts as ``InstanceType``. Loaded once, only when a config names an instance type."""
    from botocore.loaders import Loader  # noqa: PLC0415 - only when an instance type is given

    model = Loader().load_service_model("sagemaker", "service-2")
    return frozenset(model["shapes"]["ProductionVariantInstanceType"]["enum"])


class Autoscaling(_Model):
    """Application Auto Scaling of the endpoint's variant (target tracking on
    ``SageMakerVariantInvocationsPerInstance``)."""

    min_instances: int = Field(ge=1, description="Fewest instances (at least 1).")
    max_instances: int = Field(ge=1, le=100, description="Most instances (1-100).")
    target_invocations_per_instance: int = Field(
        ge=1,
        le=100000,
        description="Invocations per instance and minute the policy keeps the variant at.",
    )

    @model_validator(mode="after")
    def _range(self) -> Autoscaling:
        if self.max_instances < self.min_instances:
            raise _fail(
                "autoscaling_range",
                f"max_instances ({self.max_instances}) is below min_instances "
                f"({self.min_instances}): give max_instances >= min_instances",
            )
        return self


class DataCapture(_Model):
    """Requests and responses captured to S3 (SageMaker ``DataCaptureConfig``)."""

    sampling_percentage: int = Field(
        ge=0, le=100, description="Percentage of requests captured (0-100)."
    )
    s3_prefix: str = Field(
        default="data-capture",
        description="Key prefix of the captured data, in the bucket of the account the "
        "endpoint runs in (the project bucket at home; the stage's capture bucket in a stage "
        "account). Default: data-capture.",
    )

    @field_validator("s3_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not S3_PREFIX_RE.fullmatch(value) or ".." in value or "//" in value:
            raise _fail(
                "bad_s3_prefix",
                f"{value!r} is not an S3 key prefix the toolkit accepts: 1-256 letters, digits "
                "and '!-_.*()/', not starting with '/', without '..' or '//' (e.g. "
                "'data-capture/churn')",
            )
        return value


class Serverless(_Model):
    """A serverless endpoint instead of instances (``ProductionVariantServerlessConfig``)."""

    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(
        description="Memory of each concurrent invocation: 1024 to 6144 in steps of 1024."
    )
    max_concurrency: int = Field(ge=1, le=200, description="Concurrent invocations (1-200).")


class EndpointSettings(_Model):
    """How one stage's endpoint serves: instances (type, count, autoscaling) or serverless."""

    instance_type: str = Field(
        default="ml.m5.large",
        description="SageMaker hosting instance type. Default: ml.m5.large.",
    )
    instance_count: int = Field(
        default=1,
        ge=1,
        le=100,
        description="Instances when the endpoint is created (and without autoscaling). "
        "Default: 1, or autoscaling.min_instances.",
    )
    autoscaling: Autoscaling | None = Field(
        default=None, description="Default: a fixed instance_count, no scaling policy."
    )
    data_capture: DataCapture | None = Field(default=None, description="Default: no capture.")
    serverless: Serverless | None = Field(
        default=None, description="Default: instances (instance_type, instance_count)."
    )

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not INSTANCE_TYPE_RE.fullmatch(value) or value not in sagemaker_instance_types():
            raise _fail(
                "bad_instance_type",
                f"{value!r} is not a SageMaker hosting instance type (CreateEndpointConfig "
                "InstanceType), e.g. 'ml.m5.large'",
            )
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> EndpointSettings:
        if (
            self.serverless is None
            and self.autoscaling is not None
            and "instance_count" not in self.model_fields_set
        ):
            # without a count, an autoscaled endpoint starts at its minimum
            return self.model_copy(update={"instance_count": self.autoscaling.min_instances})
        if self.serverless is None:
            if self.autoscaling is not None and not (
                self.autoscaling.min_instances
                <= self.instance_count
                <= self.autoscaling.max_instances
            ):
                raise _fail(
                    "instance_count_outside_autoscaling",
                    f"instance_count ({self.instance_count}) is outside autoscaling "
                    f"{self.autoscaling.min_instances}-{self.autoscaling.max_instances}: give a "
                    "count within the range",
                )
            return self
        given = sorted(
            {"instance_type", "instance_count", "autoscaling", "data_capture"}
            & self.model_fields_set
        )
        if given:
            raise _fail(
                "serverless_and_instances",
                f"serverless is set together with {', '.join(given)}; a serverless endpoint "
                "has no instances, scaling policy or data capture (SageMaker serverless "
                "inference): remove one or the other",
            )
        return self


class StageEndpoints(_Model):
    """Endpoint settings of the deploy stages of a single-account environment."""

    staging: EndpointSettings | None = Field(
        default=None, description="Default: ml.m5.large, one instance."
    )
    production: EndpointSettings | None = Field(
        default=None, description="Default: ml.m5.large, one instance."
    )


class StageAccount(_Model):
    """One stage account the home account promotes approved models to."""

    account_id: str
    deployer_role_arn: str = Field(
        description="The role in the stage account the plan assumes (sts:AssumeRole from "
        "the home plan's credentials) to create the stage's roles; `make deployer-policy` "
        "prints what it needs."
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        description="The stage account's existing GitHub OIDC provider. Default: the plan "
        "creates it.",
    )
    endpoint: EndpointSettings | None = Field(
        default=None, description="Default: ml.m5.large, one instance."
    )

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: object) -> object:
        return check_account_id(value)

    @field_validator("deployer_role_arn")
    @classmethod
    def _deployer(cls, value: str) -> str:
        if not IAM_ROLE_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_role_arn",
                f"{value!r} is not an IAM role ARN like "
                "'arn:aws:iam::<stage account>:role/terraform-apply'",
            )
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc(cls, value: str | None) -> str | None:
        if value is not None and not OIDC_PROVIDER_ARN_RE.fullmatch(value):
            raise _fail(
                "bad_oidc_provider",
                f"{value!r} is not the ARN of a GitHub OIDC provider: "
                f"'{oidc_provider_arn_template('aws', '<stage account>')}'",
            )
        return value

    @model_validator(mode="after")
    def _same_account(self) -> StageAccount:
        for field, arn in (
            ("deployer_role_arn", self.deployer_role_arn),
            ("oidc_provider_arn", self.oidc_provider_arn),
        ):
            m = re.match(r"arn:[a-z-]+:iam::(\d{12}):", arn or "")
            if m and m.group(1) != self.account_id:
                raise _fail(
                    "stage_arn_account",
                    f"{field}: {arn!r} belongs to account {m.group(1)}, not the stage account "
                    f"{self.account_id}; give the stage account's own",
                )
        return self


class Promotion(_Model):
    """Stage accounts: the model trained and approved at home is deployed there by its exact
    package ARN. Staging is optional, production required."""

    staging: StageAccount | None = Field(
        default=None,
        description="Default: the staging stage (if the project has one) deploys in the home "
        "account.",
    )
    production: StageAccount

    @model_validator(mode="after")
    def _apart(self) -> Promotion:
        if self.staging is not None and self.staging.account_id == self.production.account_id:
            raise _fail(
                "stages_share_account",
                f"staging and production are both account {self.production.account_id}; "
                "promotion gives each stage its own account: drop staging (it then deploys in "
                "the home account) or give it another account",
            )
        return self

    def stages(self) -> dict[str, StageAccount]:
        """Stage name -> account, staging first."""
        found = {"staging": self.staging, "production": self.production}
        return {name: stage for name, stage in found.items() if stage is not None}
