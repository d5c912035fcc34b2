"""Deploy one approved model package of this SageMaker project to a staging or production endpoint.

Run by ``.github/workflows/deploy.yml`` from the repository root::

    python -m deploy.deploy --region "$AWS_REGION" --project-name "$SAGEMAKER_PROJECT_NAME" \\
        --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN" --model-package-arn "$MODEL_PACKAGE_ARN" \\
        --stage staging

What it does, in order:

1. Refuses a model package that is not ``Approved`` or not a version of this project's model
   package group ``<project name>-<project id>`` (the id comes from ``sagemaker:DescribeProject``).
2. Creates (or reuses) the model and endpoint configuration ``<endpoint>-<hash of the ARN>``; both
   are tagged with the model package ARN.
3. Creates the endpoint ``<project name>-<stage>`` or updates it to the new configuration, printing
   progress until it is in service. When the endpoint already serves a configuration for that
   ARN nothing changes (a re-run is a no-op). A failed update is rolled back by SageMaker (the
   endpoint keeps its previous configuration); the run then fails with SageMaker's reason.
4. Smoke-tests the endpoint: invokes it with the sample in ``smoke_test_sample.csv`` (or
   ``--sample-file``) and checks that the answer is a non-empty list of finite numbers. The sample
   is one row encoded as the pipeline's model expects it (the seven standardised abalone
   measurements, then ``sex`` one-hot as M, F, I); edit it when the model's features change.

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
    r"^arn:aws(-[a-z]+)*:sagemaker:(?P<region>[a-z0-9-]+):[0-9]{12}:"
    r"model-package/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/[0-9]+$"
)
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


def resource_names(project_name: str, stage: str, model_package_arn: str) -> ResourceNames:
    """``<name>-<stage>`` and ``<name>-<stage>-<short sha256 of the ARN>`` (config and model)."""
    endpoint = f"{project_name}-{stage}"
    digest = hashlib.sha256(model_package_arn.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    versioned = f"{endpoint}-{digest}"
    return ResourceNames(endpoint=endpoint, endpoint_config=versioned, model=versioned)


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
    ) -> None:
        self.s = settings
        self.sagemaker = sagemaker
        self.runtime = runtime
        self.sleep = sleep
        self.clock = clock
        self.log = log
        self.names = resource_names(
            settings.project_name, settings.stage, settings.model_package_arn
        )

    def run(self) -> DeploymentResult:
        project_id = self._project_id()
        self._check_model_package(f"{self.s.project_name}-{project_id}")
        tags = [
            {"Key": "sagemaker:project-name", "Value": self.s.project_name},
            {"Key": "sagemaker:project-id", "Value": project_id},
            {"Key": "sagemaker:deployment-stage", "Value": self.s.stage},
        ]
        package_tags = [*tags, {"Key": MODEL_PACKAGE_ARN_TAG, "Value": self.s.model_package_arn}]
        self._ensure_model(package_tags)
        self._ensure_endpoint_config(package_tags)
        changed = self._ensure_endpoint(tags)
        predictions = self._smoke_test()
        return DeploymentResult(
            endpoint_name=self.names.endpoint,
            endpoint_config_name=self.names.endpoint_config,
            model_name=self.names.model,
            changed=changed,
            predictions=predictions,
        )

    # -- checks -------------------------------------------------------------------------------

    def _project_id(self) -> str:
        project = self.sagemaker.describe_project(ProjectName=self.s.project_name)
        project_id = str(project["ProjectId"])
        self.log(f"SageMaker project {self.s.project_name}: id {project_id}")
        return project_id

    def _check_model_package(self, group: str) -> None:
        arn = self.s.model_package_arn
        package = self.sagemaker.describe_model_package(ModelPackageName=arn)
        actual_group = package.get("ModelPackageGroupName")
        if actual_group != group:
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
            self.sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[
                    {
                        "VariantName": VARIANT_NAME,
                        "ModelName": self.names.model,
                        "InitialInstanceCount": self.s.instance_count,
                        "InstanceType": self.s.instance_type,
                        "InitialVariantWeight": 1.0,
                    }
                ],
                Tags=tags,
            )
            self.log(
                f"endpoint configuration {name}: created "
                f"({self.s.instance_count} x {self.s.instance_type})"
            )
            return
        self._check_config_tag(config["EndpointConfigArn"])
        self.log(f"endpoint configuration {name}: exists")

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
    ).run()


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
    parser.add_argument("--role-arn", required=True, help="execution role of the model")
    parser.add_argument("--model-package-arn", required=True, help="package version to deploy")
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--instance-type", default="ml.m5.large", help="Default: ml.m5.large")
    parser.add_argument("--instance-count", type=int, default=1, help="Default: 1")
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
    args = _parser().parse_args(argv)
    stage = args.stage
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
            sample_body=sample,
            content_type=args.content_type,
            poll_seconds=args.poll_seconds,
            timeout_seconds=args.timeout_seconds,
        )
        result = deploy(
            settings,
            sagemaker=client_factory("sagemaker", settings.region),
            runtime=client_factory("sagemaker-runtime", settings.region),
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


if __name__ == "__main__":
    sys.exit(main())
