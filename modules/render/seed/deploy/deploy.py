"""Deploy one approved model package of this SageMaker project to a staging or production endpoint.

Run by ``.github/workflows/deploy-<environment>.yml`` from the repository root::

    python -m deploy.deploy --region "$AWS_REGION" --project-name "$SAGEMAKER_PROJECT_NAME" \\
        --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN" --model-package-arn "$MODEL_PACKAGE_ARN" \\
        --stage staging

What it does, in order:

1. Refuses a model package that is not ``Approved`` or not a version of this project's model
   package group ``<project name>-<project id>`` (the id comes from ``sagemaker:DescribeProject``).
   With ``--registry-account`` (promotion to stage accounts) it first refuses a package ARN of
   any other account, and when it runs in another account than the registry (a stage account,
   where no SageMaker project exists) it does not describe the project: the group comes from the
   ARN and must be ``--model-package-group`` (or ``<project name>-p-...``).
2. Creates (or reuses) the model ``<endpoint>-<hash of the ARN>`` and the endpoint configuration
   ``<endpoint>-<hash of the ARN and the endpoint settings>`` (instances, data capture, or
   serverless); model, configuration and endpoint are tagged with the project, the stage and
   the model package ARN.
3. Creates the endpoint ``<project name>-<stage>`` or updates it to the new configuration, printing
   progress until it is in service. When the endpoint already serves a configuration for that
   ARN nothing changes (a re-run is a no-op). A failed update is rolled back by SageMaker (the
   endpoint keeps its previous configuration); the run then fails with SageMaker's reason.
   With ``--min-instances``/``--max-instances``/``--target-invocations`` the endpoint's variant
   is registered with Application Auto Scaling and gets a target-tracking policy on
   ``SageMakerVariantInvocationsPerInstance``.
4. Smoke-tests the endpoint: invokes it with the sample in ``smoke_test_sample.csv`` (or
   ``--sample-file``) and checks that the answer is a non-empty list of finite numbers. The sample
   is one row encoded as the pipeline's model expects it (the seven standardised abalone
   measurements, then ``sex`` one-hot as M, F, I); edit it when the model's features change.

``python -m deploy.deploy --region R --project-name P --stage S --undeploy`` removes what deploys
made for that stage, and only that: the endpoint ``<project>-<stage>`` (and its scaling target),
then every endpoint configuration and model named ``<project>-<stage>-<hash>`` and tagged with
this project and stage. ``make destroy`` does not remove endpoints (they are outside Terraform
state): run this with credentials of the stage's account.

Exit status: 0 on success, 1 when the deployment or smoke test fails, 2 on bad arguments. A Markdown
summary is appended to ``$GITHUB_STEP_SUMMARY`` when that variable is set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

STAGES = ("staging", "production")
MODEL_PACKAGE_ARN_TAG = "mlops:model-package-arn"
VARIANT_NAME = "AllTraffic"
DEFAULT_SAMPLE_FILE = Path(__file__).resolve().with_name("smoke_test_sample.csv")

MODEL_PACKAGE_ARN_RE = re.compile(
    r"^arn:aws(-[a-z]+)*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"model-package/(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/[0-9]+$"
)
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*()-][A-Za-z0-9!_.*()/-]{0,255}$")
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
PROJECT_TAG = "sagemaker:project-name"
STAGE_TAG = "sagemaker:deployment-stage"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
PROJECT_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")

# Endpoint states that end by themselves; anything else is a settled state.
_TRANSITIONAL = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})
_HASH_CHARS = 10

Client = Any  # a boto3 client; typed loosely so the seed code needs no stub packages


class DeploymentError(Exception):
    """The deployment cannot go on; the message says why."""


class InvalidArgumentError(DeploymentError):
    """A command-line value is malformed or inconsistent."""


class ModelPackageRefusedError(DeploymentError):
    """The model package is not one this project may deploy."""


class ResourceConflictError(DeploymentError):
    """A model or endpoint configuration of the expected name belongs to another package."""


class EndpointFailedError(DeploymentError):
    """The endpoint did not reach service with the new configuration."""


class SmokeTestError(DeploymentError):
    """The endpoint's answer to the sample is not a list of numbers."""


@dataclass(frozen=True, kw_only=True)
class DeploySettings:
    """Everything one deployment needs, validated by ``DeploySettings.validate``."""

    region: str
    project_name: str
    role_arn: str
    model_package_arn: str
    stage: str
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    registry_account: str | None = None
    model_package_group: str | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    target_invocations: int | None = None
    capture_percent: int | None = None
    capture_bucket: str | None = None
    capture_prefix: str = "data-capture"
    serverless_memory_mb: int | None = None
    serverless_max_concurrency: int | None = None
    sample_body: bytes
    content_type: str = "text/csv"
    poll_seconds: float = 30.0
    timeout_seconds: float = 3600.0

    def validate(self) -> None:
        """Raise ``InvalidArgumentError`` naming the first bad value."""
        if self.stage not in STAGES:
            raise InvalidArgumentError(f"--stage: expected one of {STAGES}, got {self.stage!r}")
        if not PROJECT_NAME_RE.fullmatch(self.project_name):
            raise InvalidArgumentError(
                f"--project-name: expected a SageMaker project name, got {self.project_name!r}"
            )
        if not ROLE_ARN_RE.fullmatch(self.role_arn):
            raise InvalidArgumentError(
                "--role-arn: expected an IAM role ARN (is the repository variable "
                f"SAGEMAKER_PIPELINE_ROLE_ARN set?), got {self.role_arn!r}"
            )
        match = MODEL_PACKAGE_ARN_RE.fullmatch(self.model_package_arn)
        if match is None:
            raise InvalidArgumentError(
                "--model-package-arn: expected a versioned model package ARN "
                f"(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>), "
                f"got {self.model_package_arn!r}"
            )
        if match.group("region") != self.region:
            raise InvalidArgumentError(
                f"--model-package-arn: the package is in {match.group('region')}, "
                f"but this project deploys in {self.region}"
            )
        if self.registry_account is not None:
            if not ACCOUNT_RE.fullmatch(self.registry_account):
                raise InvalidArgumentError(
                    f"--registry-account: expected a 12-digit account id, "
                    f"got {self.registry_account!r}"
                )
            if match.group("account") != self.registry_account:
                raise InvalidArgumentError(
                    f"--model-package-arn: the package belongs to account "
                    f"{match.group('account')}, not to the model registry's account "
                    f"{self.registry_account}; only the registry's approved packages are deployed"
                )
        self._validate_endpoint_settings()
        if self.instance_count < 1:
            raise InvalidArgumentError(
                f"--instance-count: expected at least 1, got {self.instance_count}"
            )
        if not self.sample_body.strip():
            raise InvalidArgumentError("smoke test sample: the sample is empty")
        if self.poll_seconds < 0 or self.timeout_seconds <= 0:
            raise InvalidArgumentError(
                "--poll-seconds/--timeout-seconds: expected poll >= 0 and timeout > 0, "
                f"got {self.poll_seconds} and {self.timeout_seconds}"
            )

    def _validate_endpoint_settings(self) -> None:
        scaling = (self.min_instances, self.max_instances, self.target_invocations)
        if any(v is not None for v in scaling):
            if any(v is None for v in scaling):
                raise InvalidArgumentError(
                    "--min-instances/--max-instances/--target-invocations: give all three"
                )
            low, high, target = (int(v or 0) for v in scaling)
            if not 1 <= low <= self.instance_count <= high or target < 1:
                raise InvalidArgumentError(
                    "--min-instances/--max-instances: expected 1 <= min <= --instance-count "
                    f"<= max and a target >= 1, got {low}, {self.instance_count}, {high}, {target}"
                )
        if self.capture_percent is not None:
            if not 0 <= self.capture_percent <= 100:
                raise InvalidArgumentError(
                    f"--data-capture-percent: expected 0-100, got {self.capture_percent}"
                )
            if self.capture_bucket is not None and not BUCKET_RE.fullmatch(self.capture_bucket):
                raise InvalidArgumentError(
                    f"--data-capture-bucket: expected a bucket name, got {self.capture_bucket!r}"
                )
            if not PREFIX_RE.fullmatch(self.capture_prefix) or ".." in self.capture_prefix:
                raise InvalidArgumentError(
                    f"--data-capture-prefix: expected a key prefix, got {self.capture_prefix!r}"
                )
        serverless = (self.serverless_memory_mb, self.serverless_max_concurrency)
        if any(v is not None for v in serverless):
            if self.serverless_memory_mb not in SERVERLESS_MEMORY_MB:
                raise InvalidArgumentError(
                    f"--serverless-memory-mb: expected one of {SERVERLESS_MEMORY_MB}, "
                    f"got {self.serverless_memory_mb}"
                )
            if not 1 <= int(self.serverless_max_concurrency or 0) <= 200:
                raise InvalidArgumentError(
                    "--serverless-max-concurrency: expected 1-200, "
                    f"got {self.serverless_max_concurrency}"
                )
            if self.capture_percent is not None or self.min_instances is not None:
                raise InvalidArgumentError(
                    "--serverless-*: a serverless endpoint has no data capture or autoscaling"
                )

    @property
    def serverless(self) -> bool:
        return self.serverless_memory_mb is not None

    def variant_settings(self) -> dict[str, Any]:
        """What the endpoint configuration holds beyond the model: instances or serverless."""
        if self.serverless:
            return {
                "ServerlessConfig": {
                    "MemorySizeInMB": self.serverless_memory_mb,
                    "MaxConcurrency": self.serverless_max_concurrency,
                }
            }
        return {"InitialInstanceCount": self.instance_count, "InstanceType": self.instance_type}


@dataclass(frozen=True, kw_only=True)
class ResourceNames:
    """Names of the SageMaker resources of one stage and one model package."""

    endpoint: str
    endpoint_config: str
    model: str


@dataclass(frozen=True, kw_only=True)
class DeploymentResult:
    """What a successful deployment did."""

    endpoint_name: str
    endpoint_config_name: str
    model_name: str
    changed: bool
    predictions: tuple[float, ...]


def resource_names(
    project_name: str, stage: str, model_package_arn: str, settings: str = ""
) -> ResourceNames:
    """``<name>-<stage>`` and ``<name>-<stage>-<short sha256 of the ARN>`` (model); the
    configuration hashes the endpoint ``settings`` too (a canonical text, empty for the
    defaults), so changed settings for the same package make a new configuration."""
    endpoint = f"{project_name}-{stage}"

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]

    model = f"{endpoint}-{digest(model_package_arn)}"
    config = f"{endpoint}-{digest(model_package_arn + settings)}" if settings else model
    return ResourceNames(endpoint=endpoint, endpoint_config=config, model=model)


def settings_key(settings: DeploySettings) -> str:
    """Canonical text of the endpoint settings; empty for the defaults (one ml.m5.large)."""
    values = {
        "variant": settings.variant_settings(),
        "capture": [settings.capture_percent, settings.capture_bucket, settings.capture_prefix]
        if settings.capture_percent is not None
        else None,
    }
    default = {"variant": {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}}
    if values == {**default, "capture": None}:
        return ""
    return "\n" + json.dumps(values, sort_keys=True)


def parse_predictions(body: bytes) -> tuple[float, ...]:
    """Numbers in an inference answer: a JSON number or list (of lists) of numbers, or CSV lines.

    Raises ``SmokeTestError`` when the answer is empty or holds anything but finite numbers.
    """
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise SmokeTestError("the endpoint's answer is not UTF-8 text") from error
    if not text:
        raise SmokeTestError("the endpoint's answer is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        numbers = _csv_numbers(text)
    else:
        numbers = _json_numbers(document)
    if not numbers:
        raise SmokeTestError("the endpoint's answer holds no number")
    if not all(math.isfinite(number) for number in numbers):
        raise SmokeTestError(f"the endpoint's answer holds a non-finite number: {_preview(text)}")
    return numbers


def _csv_numbers(text: str) -> tuple[float, ...]:
    cells = [cell.strip() for line in text.splitlines() for cell in line.split(",")]
    try:
        return tuple(float(cell) for cell in cells if cell)
    except ValueError as error:
        raise SmokeTestError(
            f"the endpoint's answer is not a list of numbers: {_preview(text)}"
        ) from error


def _json_numbers(document: object) -> tuple[float, ...]:
    items = document if isinstance(document, list) else [document]
    flat: list[object] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in flat):
        raise SmokeTestError(
            f"the endpoint's answer is not a list of numbers: {_preview(json.dumps(document))}"
        )
    return tuple(float(v) for v in flat)  # type: ignore[arg-type]


def _preview(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _is_not_found(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    return details.get("Code") in {"ValidationException", "ResourceNotFound"} and (
        "Could not find" in details.get("Message", "")
        or "does not exist" in details.get("Message", "")
    )


class _Deployment:
    """One run of ``deploy``: holds the clients and settings so each step stays short."""

    def __init__(
        self,
        settings: DeploySettings,
        *,
        sagemaker: Client,
        runtime: Client,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        log: Callable[[str], None],
        sts: Client | None = None,
        autoscaling: Client | None = None,
    ) -> None:
        self.s = settings
        self.sagemaker = sagemaker
        self.runtime = runtime
        self.sts = sts
        self.autoscaling = autoscaling
        self.sleep = sleep
        self.clock = clock
        self.log = log
        self.names = resource_names(
            settings.project_name,
            settings.stage,
            settings.model_package_arn,
            settings_key(settings),
        )
        self.capture_bucket: str | None = settings.capture_bucket

    def run(self) -> DeploymentResult:
        tags = [
            {"Key": PROJECT_TAG, "Value": self.s.project_name},
        ]
        if self._in_stage_account():
            self._check_model_package(self._group_from_arn())
        else:
            project_id = self._project_id()
            self._check_model_package(f"{self.s.project_name}-{project_id}")
            tags.append({"Key": "sagemaker:project-id", "Value": project_id})
            if self.capture_bucket is None:
                self.capture_bucket = f"sagemaker-project-{project_id}"
        tags.append({"Key": STAGE_TAG, "Value": self.s.stage})
        package_tags = [*tags, {"Key": MODEL_PACKAGE_ARN_TAG, "Value": self.s.model_package_arn}]
        self._ensure_model(package_tags)
        self._ensure_endpoint_config(package_tags)
        changed = self._ensure_endpoint(package_tags)
        self._scale()
        predictions = self._smoke_test()
        return DeploymentResult(
            endpoint_name=self.names.endpoint,
            endpoint_config_name=self.names.endpoint_config,
            model_name=self.names.model,
            changed=changed,
            predictions=predictions,
        )

    # -- checks -------------------------------------------------------------------------------

    def _in_stage_account(self) -> bool:
        """Whether this runs in a stage account (not the registry's): no project there."""
        if self.s.registry_account is None or self.sts is None:
            return False
        caller = str(self.sts.get_caller_identity()["Account"])
        if caller == self.s.registry_account:
            return False
        self.log(f"account {caller}: stage account of registry {self.s.registry_account}")
        return True

    def _group_from_arn(self) -> str:
        """The group named by the package ARN, checked against the project's."""
        match = MODEL_PACKAGE_ARN_RE.fullmatch(self.s.model_package_arn)
        assert match is not None  # validated
        group = match.group("group")
        expected = self.s.model_package_group
        if expected is not None and group.lower() != expected.lower():
            raise ModelPackageRefusedError(
                f"{self.s.model_package_arn} is a version of group {group!r}, "
                f"not of this project's group {expected!r}"
            )
        if expected is None and not re.fullmatch(
            re.escape(self.s.project_name) + r"-p-[a-z0-9]+", group, flags=re.IGNORECASE
        ):
            raise ModelPackageRefusedError(
                f"{self.s.model_package_arn} is a version of group {group!r}, not of a group "
                f"of project {self.s.project_name} ('{self.s.project_name}-p-<id>')"
            )
        return group

    def _project_id(self) -> str:
        project = self.sagemaker.describe_project(ProjectName=self.s.project_name)
        project_id = str(project["ProjectId"])
        self.log(f"SageMaker project {self.s.project_name}: id {project_id}")
        return project_id

    def _check_model_package(self, group: str) -> None:
        arn = self.s.model_package_arn
        package = self.sagemaker.describe_model_package(ModelPackageName=arn)
        actual_group = package.get("ModelPackageGroupName")
        if str(actual_group).lower() != group.lower():
            raise ModelPackageRefusedError(
                f"{arn} belongs to model package group {actual_group!r}, "
                f"not to this project's group {group!r}"
            )
        approval = package.get("ModelApprovalStatus")
        if approval != "Approved":
            raise ModelPackageRefusedError(
                f"{arn} has approval status {approval!r}; only Approved packages are deployed"
            )
        self.log(f"model package {arn}: Approved, group {group}")

    # -- model and endpoint configuration -----------------------------------------------------

    def _ensure_model(self, tags: list[dict[str, str]]) -> None:
        name = self.names.model
        try:
            model = self.sagemaker.describe_model(ModelName=name)
        except ClientError as error:
            if not _is_not_found(error):
                raise
            self.sagemaker.create_model(
                ModelName=name,
                ExecutionRoleArn=self.s.role_arn,
                PrimaryContainer={"ModelPackageName": self.s.model_package_arn},
                Tags=tags,
            )
            self.log(f"model {name}: created from {self.s.model_package_arn}")
            return
        containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
        packages = {c.get("ModelPackageName") for c in containers if c.get("ModelPackageName")}
        if packages != {self.s.model_package_arn}:
            raise ResourceConflictError(
                f"model {name} exists but serves {sorted(packages)}, "
                f"not {self.s.model_package_arn}; delete it and re-run"
            )
        self.log(f"model {name}: exists")

    def _ensure_endpoint_config(self, tags: list[dict[str, str]]) -> None:
        name = self.names.endpoint_config
        try:
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=name)
        except ClientError as error:
            if not _is_not_found(error):
                raise
            extra: dict[str, Any] = {}
            capture = self._capture_config()
            if capture is not None:
                extra["DataCaptureConfig"] = capture
            self.sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[
                    {
                        "VariantName": VARIANT_NAME,
                        "ModelName": self.names.model,
                        **self.s.variant_settings(),
                        "InitialVariantWeight": 1.0,
                    }
                ],
                Tags=tags,
                **extra,
            )
            shape = (
                f"serverless, {self.s.serverless_memory_mb} MB x "
                f"{self.s.serverless_max_concurrency}"
                if self.s.serverless
                else f"{self.s.instance_count} x {self.s.instance_type}"
            )
            self.log(f"endpoint configuration {name}: created ({shape})")
            return
        self._check_config_tag(config["EndpointConfigArn"])
        self.log(f"endpoint configuration {name}: exists")

    def _capture_config(self) -> dict[str, Any] | None:
        if self.s.capture_percent is None:
            return None
        if self.capture_bucket is None:
            raise InvalidArgumentError(
                "--data-capture-bucket: required in a stage account (the home bucket is never "
                "written from another account)"
            )
        uri = f"s3://{self.capture_bucket}/{self.names.endpoint}/{self.s.capture_prefix}"
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.s.capture_percent,
            "DestinationS3Uri": uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }

    def _scale(self) -> None:
        """Register the variant with Application Auto Scaling and its target-tracking policy
        (both calls replace what exists, so a re-run changes nothing)."""
        if self.s.min_instances is None or self.autoscaling is None:
            return
        resource = f"endpoint/{self.names.endpoint}/variant/{VARIANT_NAME}"
        self.autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension=SCALABLE_DIMENSION,
            MinCapacity=self.s.min_instances,
            MaxCapacity=self.s.max_instances,
        )
        self.autoscaling.put_scaling_policy(
            PolicyName=f"{self.names.endpoint}-invocations",
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension=SCALABLE_DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(self.s.target_invocations or 0),
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
            },
        )
        self.log(
            f"endpoint {self.names.endpoint}: scales {self.s.min_instances}-"
            f"{self.s.max_instances} instances at {self.s.target_invocations} invocations each"
        )

    def _check_config_tag(self, config_arn: str) -> None:
        tags = self.sagemaker.list_tags(ResourceArn=config_arn).get("Tags", [])
        tagged = {t["Key"]: t["Value"] for t in tags}.get(MODEL_PACKAGE_ARN_TAG)
        if tagged != self.s.model_package_arn:
            raise ResourceConflictError(
                f"endpoint configuration {config_arn} is tagged {MODEL_PACKAGE_ARN_TAG}="
                f"{tagged!r}, not {self.s.model_package_arn}; delete it and re-run"
            )

    # -- endpoint -----------------------------------------------------------------------------

    def _describe_endpoint(self) -> dict[str, Any] | None:
        try:
            return dict(self.sagemaker.describe_endpoint(EndpointName=self.names.endpoint))
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise

    def _ensure_endpoint(self, tags: list[dict[str, str]]) -> bool:
        """Bring the endpoint to the new configuration; return whether anything changed."""
        endpoint = self.names.endpoint
        target = self.names.endpoint_config
        current = self._describe_endpoint()
        if current is not None and current["EndpointStatus"] in _TRANSITIONAL:
            self.log(f"endpoint {endpoint}: {current['EndpointStatus']}; waiting for it to settle")
            current = self._wait(allow_missing=True)
        if current is not None and current["EndpointStatus"] == "Failed":
            # Only a failed creation leaves an endpoint Failed; it must go before a new create.
            self.log(f"endpoint {endpoint}: Failed ({current.get('FailureReason', '')}); deleting")
            self.sagemaker.delete_endpoint(EndpointName=endpoint)
            current = self._wait(allow_missing=True)
        if current is None:
            self.sagemaker.create_endpoint(
                EndpointName=endpoint, EndpointConfigName=target, Tags=tags
            )
            self.log(f"endpoint {endpoint}: creating with {target}")
            self._expect_in_service(self._wait(allow_missing=False), previous=None)
            return True
        status = current["EndpointStatus"]
        if status != "InService":
            raise EndpointFailedError(
                f"endpoint {endpoint} is {status} ({current.get('FailureReason', 'no reason')}); "
                "it needs attention in the SageMaker console before a deployment"
            )
        previous = str(current["EndpointConfigName"])
        if previous == target:
            self.log(
                f"endpoint {endpoint}: already serves {self.s.model_package_arn} "
                f"through {target}; nothing to deploy"
            )
            return False
        self.sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=target)
        self.log(f"endpoint {endpoint}: updating from {previous} to {target}")
        self._expect_in_service(self._wait(allow_missing=False), previous=previous)
        # the endpoint's package tag follows what it serves
        self.sagemaker.add_tags(ResourceArn=current["EndpointArn"], Tags=tags)
        return True

    def _wait(self, *, allow_missing: bool) -> dict[str, Any] | None:
        """Poll until the endpoint is settled (or gone, when that is allowed)."""
        endpoint = self.names.endpoint
        started = self.clock()
        while True:
            current = self._describe_endpoint()
            elapsed = self.clock() - started
            if current is None:
                if allow_missing:
                    return None
                raise EndpointFailedError(f"endpoint {endpoint} disappeared while waiting for it")
            status = current["EndpointStatus"]
            self.log(f"endpoint {endpoint}: {status} after {elapsed:.0f}s")
            if status not in _TRANSITIONAL:
                return current
            if elapsed >= self.s.timeout_seconds:
                raise EndpointFailedError(
                    f"endpoint {endpoint} is still {status} after {self.s.timeout_seconds:.0f}s"
                )
            self.sleep(self.s.poll_seconds)

    def _expect_in_service(self, current: dict[str, Any] | None, *, previous: str | None) -> None:
        endpoint = self.names.endpoint
        target = self.names.endpoint_config
        if current is None:  # _wait(allow_missing=False) raises instead; kept for the type checker
            raise EndpointFailedError(f"endpoint {endpoint} disappeared while waiting for it")
        status = current["EndpointStatus"]
        serving = current.get("EndpointConfigName")
        if status == "InService" and serving == target:
            self.log(f"endpoint {endpoint}: InService with {target}")
            return
        reason = current.get("FailureReason") or "no reason given"
        if previous is not None and serving == previous:
            raise EndpointFailedError(
                f"update of endpoint {endpoint} to {target} failed and SageMaker rolled it back to "
                f"{previous} (status {status}): {reason}"
            )
        raise EndpointFailedError(
            f"endpoint {endpoint} is {status} with configuration {serving}, "
            f"not InService with {target}: {reason}"
        )

    # -- smoke test ---------------------------------------------------------------------------

    def _smoke_test(self) -> tuple[float, ...]:
        response = self.runtime.invoke_endpoint(
            EndpointName=self.names.endpoint,
            ContentType=self.s.content_type,
            Body=self.s.sample_body,
        )
        body = response["Body"].read()
        predictions = parse_predictions(body)
        self.log(
            f"smoke test of {self.names.endpoint}: {len(predictions)} number(s), "
            f"first {predictions[0]:g}"
        )
        return predictions


def deploy(
    settings: DeploySettings,
    *,
    sagemaker: Client,
    runtime: Client,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] | None = None,
    sts: Client | None = None,
    autoscaling: Client | None = None,
) -> DeploymentResult:
    """Deploy ``settings.model_package_arn`` to the stage's endpoint and smoke-test it."""
    settings.validate()
    return _Deployment(
        settings,
        sagemaker=sagemaker,
        runtime=runtime,
        sleep=sleep,
        clock=clock,
        log=log or _print,
        sts=sts,
        autoscaling=autoscaling,
    ).run()


def _tags_of(sagemaker: Client, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn).get("Tags", [])}


def _listed(sagemaker: Client, operation: str, key: str, name_key: str, prefix: str) -> list[str]:
    """Names (and ARNs) of a SageMaker list operation whose names contain ``prefix``."""
    found: list[str] = []
    token: str | None = None
    while True:
        page = getattr(sagemaker, operation)(
            NameContains=prefix, MaxResults=100, **({"NextToken": token} if token else {})
        )
        found += [item[name_key] for item in page.get(key, [])]
        token = page.get("NextToken")
        if not token:
            return found


def undeploy(
    *,
    project_name: str,
    stage: str,
    sagemaker: Client,
    autoscaling: Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 1800.0,
    log: Callable[[str], None] | None = None,
) -> list[str]:
    """Remove what ``deploy`` made for ``stage``: the endpoint (and its scaling target), then
    the endpoint configurations and models named ``<project>-<stage>-<hash>`` and tagged with
    this project and stage. Anything else, even with a similar name, stays. Returns what was
    deleted, as ``kind name`` lines."""
    if stage not in STAGES:
        raise InvalidArgumentError(f"--stage: expected one of {STAGES}, got {stage!r}")
    if not PROJECT_NAME_RE.fullmatch(project_name):
        raise InvalidArgumentError(
            f"--project-name: expected a SageMaker project name, got {project_name!r}"
        )
    log = log or _print
    endpoint = f"{project_name}-{stage}"
    ours = {PROJECT_TAG: project_name, STAGE_TAG: stage}
    deleted: list[str] = []

    def owned(arn: str) -> bool:
        tags = _tags_of(sagemaker, arn)
        return all(tags.get(k) == v for k, v in ours.items())

    if _remove_endpoint(
        sagemaker=sagemaker,
        autoscaling=autoscaling,
        endpoint=endpoint,
        owned=owned,
        sleep=sleep,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
        log=log,
    ):
        deleted.append(f"endpoint {endpoint}")
    versioned = re.compile(re.escape(endpoint) + r"-[0-9a-f]{" + str(_HASH_CHARS) + "}")
    for kind, operation, key, name_key, arn_key, describe, delete, argument in (
        (
            "endpoint configuration",
            "list_endpoint_configs",
            "EndpointConfigs",
            "EndpointConfigName",
            "EndpointConfigArn",
            "describe_endpoint_config",
            "delete_endpoint_config",
            "EndpointConfigName",
        ),
        (
            "model",
            "list_models",
            "Models",
            "ModelName",
            "ModelArn",
            "describe_model",
            "delete_model",
            "ModelName",
        ),
    ):
        for name in sorted(_listed(sagemaker, operation, key, name_key, f"{endpoint}-")):
            if not versioned.fullmatch(name):
                continue
            arn = getattr(sagemaker, describe)(**{argument: name})[arn_key]
            if not owned(arn):
                log(f"{kind} {name}: not tagged as this project's {stage}; left alone")
                continue
            getattr(sagemaker, delete)(**{argument: name})
            deleted.append(f"{kind} {name}")
            log(f"{kind} {name}: deleted")
    return deleted


def _remove_endpoint(
    *,
    sagemaker: Client,
    autoscaling: Client | None,
    endpoint: str,
    owned: Callable[[str], bool],
    sleep: Callable[[float], None],
    poll_seconds: float,
    timeout_seconds: float,
    log: Callable[[str], None],
) -> bool:
    """Delete the stage's endpoint if deploy made it (and wait until it is gone)."""
    try:
        current = sagemaker.describe_endpoint(EndpointName=endpoint)
    except ClientError as error:
        if not _is_not_found(error):
            raise
        return False
    if not owned(current["EndpointArn"]):
        raise ResourceConflictError(
            f"endpoint {endpoint} is not tagged as this project's stage; it was not made by "
            "deploy: delete it yourself if it should go"
        )
    if autoscaling is not None:
        _deregister(autoscaling, endpoint, log)
    sagemaker.delete_endpoint(EndpointName=endpoint)
    log(f"endpoint {endpoint}: deleting")
    waited = 0.0
    while True:
        try:
            sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as error:
            if _is_not_found(error):
                return True
            raise
        if waited >= timeout_seconds:
            raise EndpointFailedError(f"endpoint {endpoint} still exists after {waited:.0f}s")
        sleep(poll_seconds)
        waited += poll_seconds


def _deregister(autoscaling: Client, endpoint: str, log: Callable[[str], None]) -> None:
    resource = f"endpoint/{endpoint}/variant/{VARIANT_NAME}"
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource]
    ).get("ScalableTargets", [])
    if targets:
        autoscaling.deregister_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=SCALABLE_DIMENSION
        )
        log(f"endpoint {endpoint}: scaling target deregistered")


def _print(line: str) -> None:
    print(line, flush=True)


def _boto3_client(service: str, region: str) -> Client:
    return boto3.client(
        service, region_name=region, config=Config(retries={"max_attempts": 8, "mode": "standard"})
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.deploy",
        description="Deploy an approved model package to this project's staging or production "
        "endpoint, then smoke-test the endpoint.",
    )
    parser.add_argument("--region", required=True, help="AWS region of the project")
    parser.add_argument("--project-name", required=True, help="SageMaker project name")
    parser.add_argument("--role-arn", help="execution role of the model (deploy: required)")
    parser.add_argument("--model-package-arn", help="package version to deploy (required)")
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument(
        "--undeploy",
        action="store_true",
        help="remove the stage's endpoint, endpoint configurations and models made by deploy",
    )
    parser.add_argument("--instance-type", default="ml.m5.large", help="Default: ml.m5.large")
    parser.add_argument("--instance-count", type=int, default=1, help="Default: 1")
    parser.add_argument(
        "--registry-account",
        help="account of the model registry: refuse packages of other accounts; in another "
        "account (a stage account) the group comes from the ARN. Default: not checked",
    )
    parser.add_argument(
        "--model-package-group",
        help="the project's group, checked in a stage account. Default: <project>-p-<id>",
    )
    parser.add_argument("--min-instances", type=int, help="autoscaling minimum")
    parser.add_argument("--max-instances", type=int, help="autoscaling maximum")
    parser.add_argument(
        "--target-invocations", type=int, help="autoscaling target invocations per instance"
    )
    parser.add_argument("--data-capture-percent", type=int, help="Default: no data capture")
    parser.add_argument(
        "--data-capture-bucket", help="Default: the project bucket (home account only)"
    )
    parser.add_argument("--data-capture-prefix", default="data-capture")
    parser.add_argument("--serverless-memory-mb", type=int, help="Default: instances")
    parser.add_argument("--serverless-max-concurrency", type=int)
    parser.add_argument(
        "--sample-file",
        type=Path,
        default=DEFAULT_SAMPLE_FILE,
        help="request body of the smoke test. Default: smoke_test_sample.csv beside this module",
    )
    parser.add_argument("--content-type", default="text/csv", help="Default: text/csv")
    parser.add_argument("--poll-seconds", type=float, default=30.0, help="Default: 30")
    parser.add_argument("--timeout-seconds", type=float, default=3600.0, help="Default: 3600")
    return parser


def _escape_command_data(text: str) -> str:
    """Escape a message for a GitHub workflow command (``::error::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _append_summary(lines: Sequence[str]) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8", newline="\n") as summary:
            summary.write("\n".join(lines) + "\n")


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: Callable[[str, str], Client] = _boto3_client,
) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    stage = args.stage
    if args.undeploy:
        return _main_undeploy(args, client_factory)
    if args.role_arn is None or args.model_package_arn is None:
        parser.error("--role-arn and --model-package-arn are required to deploy")
    try:
        try:
            sample = args.sample_file.read_bytes()
        except OSError as error:
            raise InvalidArgumentError(
                f"--sample-file: cannot read {args.sample_file}: {error}"
            ) from error
        settings = DeploySettings(
            region=args.region,
            project_name=args.project_name,
            role_arn=args.role_arn,
            model_package_arn=args.model_package_arn,
            stage=stage,
            instance_type=args.instance_type,
            instance_count=args.instance_count,
            registry_account=args.registry_account,
            model_package_group=args.model_package_group,
            min_instances=args.min_instances,
            max_instances=args.max_instances,
            target_invocations=args.target_invocations,
            capture_percent=args.data_capture_percent,
            capture_bucket=args.data_capture_bucket,
            capture_prefix=args.data_capture_prefix,
            serverless_memory_mb=args.serverless_memory_mb,
            serverless_max_concurrency=args.serverless_max_concurrency,
            sample_body=sample,
            content_type=args.content_type,
            poll_seconds=args.poll_seconds,
            timeout_seconds=args.timeout_seconds,
        )
        result = deploy(
            settings,
            sagemaker=client_factory("sagemaker", settings.region),
            runtime=client_factory("sagemaker-runtime", settings.region),
            sts=client_factory("sts", settings.region) if settings.registry_account else None,
            autoscaling=client_factory("application-autoscaling", settings.region)
            if settings.min_instances is not None
            else None,
        )
    except (DeploymentError, ClientError, BotoCoreError) as error:
        message = f"deployment to {stage} failed: {error}"
        print(f"::error::{_escape_command_data(message)}", flush=True)
        _append_summary([f"### Deployment to {stage} failed", "", f"{error}"])
        return 1
    outcome = "deployed" if result.changed else "already deployed (no change)"
    _append_summary(
        [
            f"### Deployment to {stage}: {outcome}",
            "",
            "| | |",
            "|---|---|",
            f"| model package | `{args.model_package_arn}` |",
            f"| endpoint | `{result.endpoint_name}` |",
            f"| endpoint configuration | `{result.endpoint_config_name}` |",
            f"| smoke test | {len(result.predictions)} number(s), "
            f"first {result.predictions[0]:g} |",
        ]
    )
    return 0


def _main_undeploy(args: argparse.Namespace, client_factory: Callable[[str, str], Client]) -> int:
    try:
        deleted = undeploy(
            project_name=args.project_name,
            stage=args.stage,
            sagemaker=client_factory("sagemaker", args.region),
            autoscaling=client_factory("application-autoscaling", args.region),
            poll_seconds=args.poll_seconds,
            timeout_seconds=args.timeout_seconds,
        )
    except (DeploymentError, ClientError, BotoCoreError) as error:
        message = f"undeploy of {args.stage} failed: {error}"
        print(f"::error::{_escape_command_data(message)}", flush=True)
        return 1
    print(f"undeployed {args.stage}: {len(deleted)} resource(s) deleted", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
