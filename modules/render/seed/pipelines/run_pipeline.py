"""Upsert, start and follow the project's SageMaker model-building pipeline (called by build.yml).

From the repository root:

    python -m pipelines.run_pipeline --region eu-west-1 --project-name churn \\
        --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN" \\
        [--parameter MseThreshold=5.5 ...] [--no-wait] [--upload-sample-data]

What it does, in order:

1. resolves the project id with sagemaker:DescribeProject; the pipeline and the model package
   group are `<project-name>-<project-id>`, the artifacts bucket `sagemaker-project-<project-id>`;
2. uploads `pipelines/scripts/*.py` to `s3://<bucket>/pipelines/<content hash>/` so the
   processing steps run exactly the code of this commit;
3. checks that the input data exists (`InputDataUrl`, default `s3://<bucket>/data/abalone.csv`);
   with `--upload-sample-data` it uploads a synthetic abalone dataset there when nothing is there;
4. creates the model package group if needed, then creates or updates the pipeline with the
   project tags (`sagemaker:project-name`, `sagemaker:project-id`);
5. starts an execution with the `--parameter` overrides and, unless `--no-wait`, prints step
   progress until it ends; prints the registered model package ARN or the failure reason, and
   appends a Markdown summary to `$GITHUB_STEP_SUMMARY` when that variable is set.

Exit status: 0 when the execution succeeded (or was started with `--no-wait`), 1 when it failed,
was stopped or did not finish within `--timeout-minutes`, 2 for invalid arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from . import images
from .definition import (
    PARAM_INPUT_DATA,
    PARAM_PROCESSING_IMAGE,
    PARAM_XGBOOST_IMAGE,
    PARAMETER_TYPES,
    PipelineSettings,
    build_pipeline_definition,
)
from .sample_data import generate_csv

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
CODE_PREFIX = "pipelines"
DEFAULT_INPUT_KEY = "data/abalone.csv"
TERMINAL_STATUSES = frozenset({"Succeeded", "Failed", "Stopped"})
MIN_POLL_SECONDS = 5
MAX_POLL_SECONDS = 300
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# boto3 clients are untyped here (no stubs dependency): a documented alias keeps signatures honest.
SageMakerClient = Any
S3Client = Any


class RunError(Exception):
    """A problem that stops the run before or while starting the pipeline."""


class UsageError(RunError):
    """Invalid command-line input (exit status 2)."""


@dataclass(frozen=True, kw_only=True)
class AwsClients:
    """The AWS clients the command uses."""

    sagemaker: SageMakerClient
    s3: S3Client


@dataclass(frozen=True, kw_only=True)
class Project:
    """The SageMaker project the pipeline belongs to, and the names derived from it."""

    name: str
    project_id: str

    @property
    def pipeline_name(self) -> str:
        return f"{self.name}-{self.project_id}"

    @property
    def model_package_group_name(self) -> str:
        return f"{self.name}-{self.project_id}"

    @property
    def bucket(self) -> str:
        return f"sagemaker-project-{self.project_id}".lower()

    @property
    def tags(self) -> dict[str, str]:
        return {"sagemaker:project-name": self.name, "sagemaker:project-id": self.project_id}


@dataclass(frozen=True, kw_only=True)
class StepState:
    """Status of one pipeline step as reported by ListPipelineExecutionSteps."""

    name: str
    status: str
    detail: str = ""
    model_package_arn: str = ""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How an execution ended (or where it was when the wait gave up)."""

    execution_arn: str
    status: str
    failure_reason: str = ""
    steps: tuple[StepState, ...] = ()
    timed_out: bool = False
    model_package_arn: str = field(default="")


def make_clients(region: str) -> AwsClients:
    """Clients with standard retries and explicit timeouts; endpoints follow the usual
    AWS configuration (including `AWS_ENDPOINT_URL`)."""
    config = Config(
        region_name=region,
        retries={"mode": "standard", "max_attempts": 8},
        connect_timeout=10,
        read_timeout=60,
    )
    session = boto3.session.Session(region_name=region)
    return AwsClients(
        sagemaker=session.client("sagemaker", config=config),
        s3=session.client("s3", config=config),
    )


def resolve_project(sagemaker: SageMakerClient, project_name: str) -> Project:
    """Look the project up by name (sagemaker:DescribeProject)."""
    response = sagemaker.describe_project(ProjectName=project_name)
    project_id = str(response.get("ProjectId", ""))
    if not project_id:
        raise RunError(f"project {project_name!r}: DescribeProject returned no ProjectId")
    return Project(name=project_name, project_id=project_id)


def load_scripts(directory: Path = SCRIPTS_DIR) -> dict[str, bytes]:
    """The pipeline scripts by file name."""
    scripts = {p.name: p.read_bytes() for p in sorted(directory.glob("*.py")) if p.is_file()}
    if not scripts:
        raise RunError(f"no pipeline script found in {directory}")
    return scripts


def code_version(scripts: dict[str, bytes]) -> str:
    """Content hash of the scripts: the same code always lands under the same S3 prefix."""
    digest = hashlib.sha256()
    for name in sorted(scripts):
        digest.update(name.encode() + b"\0" + hashlib.sha256(scripts[name]).digest())
    return digest.hexdigest()[:16]


def script_keys(scripts: dict[str, bytes]) -> dict[str, str]:
    """S3 key of each script: `pipelines/<content hash>/<file name>`."""
    version = code_version(scripts)
    return {name: f"{CODE_PREFIX}/{version}/{name}" for name in sorted(scripts)}


def upload_scripts(s3: S3Client, bucket: str, scripts: dict[str, bytes]) -> dict[str, str]:
    """Upload the scripts; returns their s3:// URIs by file name."""
    uris: dict[str, str] = {}
    for name, key in script_keys(scripts).items():
        s3.put_object(Bucket=bucket, Key=key, Body=scripts[name], ContentType="text/x-python")
        uris[name] = f"s3://{bucket}/{key}"
    return uris


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI."""
    if not uri.startswith("s3://"):
        raise UsageError(f"{PARAM_INPUT_DATA}: expected an s3:// URI, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise UsageError(f"{PARAM_INPUT_DATA}: expected s3://bucket/key, got {uri!r}")
    return bucket, key


def ensure_input_data(s3: S3Client, uri: str, *, upload_sample: bool, out: TextIO) -> None:
    """Fail early when the input location is empty, or fill it with the sample dataset."""
    bucket, key = split_s3_uri(uri)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    if listing.get("KeyCount", 0) > 0:
        return
    if not upload_sample:
        raise RunError(
            f"input data: nothing at {uri}. Upload a CSV with the abalone columns there, pass "
            f"--parameter {PARAM_INPUT_DATA}=s3://..., or run once with --upload-sample-data."
        )
    s3.put_object(
        Bucket=bucket, Key=key, Body=generate_csv().encode("utf-8"), ContentType="text/csv"
    )
    print(f"Uploaded the synthetic sample dataset to {uri}", file=out, flush=True)


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _paginate(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterator[Any]:
    token: str | None = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


def ensure_model_package_group(sagemaker: SageMakerClient, project: Project) -> None:
    """Create the model package group `<name>-<id>` unless it exists."""
    name = project.model_package_group_name
    for group in _paginate(
        sagemaker.list_model_package_groups, "ModelPackageGroupSummaryList", NameContains=name
    ):
        if group.get("ModelPackageGroupName") == name:
            return
    sagemaker.create_model_package_group(
        ModelPackageGroupName=name,
        ModelPackageGroupDescription=f"Models of SageMaker project {project.name}",
        Tags=_tag_list(project.tags),
    )


def upsert_pipeline(
    sagemaker: SageMakerClient, project: Project, definition: dict[str, Any], role_arn: str
) -> tuple[str, bool]:
    """Create or update the pipeline; returns (pipeline ARN, whether it was created)."""
    name = project.pipeline_name
    body = json.dumps(definition, sort_keys=True)
    description = f"Model-building pipeline of SageMaker project {project.name}"
    exists = any(
        summary.get("PipelineName") == name
        for summary in _paginate(
            sagemaker.list_pipelines, "PipelineSummaries", PipelineNamePrefix=name
        )
    )
    if exists:
        arn = str(
            sagemaker.update_pipeline(
                PipelineName=name,
                PipelineDefinition=body,
                PipelineDescription=description,
                RoleArn=role_arn,
            )["PipelineArn"]
        )
        # UpdatePipeline takes no tags: re-assert them so the project tags stay attached.
        sagemaker.add_tags(ResourceArn=arn, Tags=_tag_list(project.tags))
        return arn, False
    response = sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=body,
        PipelineDescription=description,
        RoleArn=role_arn,
        Tags=_tag_list(project.tags),
        ClientRequestToken=str(uuid.uuid4()),
    )
    return str(response["PipelineArn"]), True


def parse_overrides(pairs: Sequence[str], types: dict[str, str]) -> dict[str, str]:
    """`Name=Value` pairs checked against the pipeline's parameter names and types."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--parameter {pair!r}: expected Name=Value")
        if name not in types:
            raise UsageError(
                f"--parameter {name}: unknown pipeline parameter (known: "
                + ", ".join(sorted(types))
                + ")"
            )
        kind = types[name]
        try:
            if kind == "Integer":
                int(value)
            elif kind == "Float":
                float(value)
        except ValueError:
            raise UsageError(
                f"--parameter {name}: expected a {kind.lower()} value, got {value!r}"
            ) from None
        if kind in {"Integer", "Float"} and not value.strip():
            raise UsageError(f"--parameter {name}: empty value")
        overrides[name] = value
    return overrides


def start_execution(
    sagemaker: SageMakerClient, pipeline_name: str, overrides: dict[str, str]
) -> str:
    """Start an execution; its display name and description point at the GitHub run."""
    kwargs: dict[str, Any] = {
        "PipelineName": pipeline_name,
        "PipelineParameters": [{"Name": k, "Value": v} for k, v in sorted(overrides.items())],
        "ClientRequestToken": str(uuid.uuid4()),
    }
    sha = os.environ.get("GITHUB_SHA", "")
    if sha.isalnum():
        kwargs["PipelineExecutionDisplayName"] = f"build-{sha[:12]}"
    run_id = os.environ.get("GITHUB_RUN_ID", "")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if run_id and repository:
        kwargs["PipelineExecutionDescription"] = (
            f"GitHub Actions run {run_id} of {repository} at {sha or 'unknown commit'}"
        )
    return str(sagemaker.start_pipeline_execution(**kwargs)["PipelineExecutionArn"])


def _step_state(raw: dict[str, Any]) -> StepState:
    metadata = raw.get("Metadata") or {}
    details = [str(raw.get("FailureReason") or "")]
    fail_message = str((metadata.get("Fail") or {}).get("ErrorMessage") or "")
    if fail_message and fail_message not in details[0]:
        details.append(fail_message)
    return StepState(
        name=str(raw.get("StepName", "?")),
        status=str(raw.get("StepStatus", "Unknown")),
        detail=" ".join(d for d in details if d),
        model_package_arn=str((metadata.get("RegisterModel") or {}).get("Arn") or ""),
    )


def list_steps(sagemaker: SageMakerClient, execution_arn: str) -> tuple[StepState, ...]:
    """Steps of an execution in start order."""
    return tuple(
        _step_state(raw)
        for raw in _paginate(
            sagemaker.list_pipeline_execution_steps,
            "PipelineExecutionSteps",
            PipelineExecutionArn=execution_arn,
            SortOrder="Ascending",
        )
    )


def _elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def wait_for_execution(
    sagemaker: SageMakerClient,
    execution_arn: str,
    *,
    poll_seconds: float,
    timeout_seconds: float,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Poll until the execution ends or the timeout passes, printing each status change."""
    started = clock()
    seen: dict[str, str] = {}
    last_status = ""
    while True:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        status = str(described.get("PipelineExecutionStatus", "Unknown"))
        steps = list_steps(sagemaker, execution_arn)
        stamp = _elapsed(clock() - started)
        for step in steps:
            if seen.get(step.name) != step.status:
                seen[step.name] = step.status
                suffix = f" ({step.detail})" if step.detail else ""
                print(f"[{stamp}] {step.name}: {step.status}{suffix}", file=out, flush=True)
        if status != last_status:
            last_status = status
            print(f"[{stamp}] execution: {status}", file=out, flush=True)
        timed_out = clock() - started >= timeout_seconds
        if status in TERMINAL_STATUSES or timed_out:
            registered = next((s.model_package_arn for s in steps if s.model_package_arn), "")
            return Outcome(
                execution_arn=execution_arn,
                status=status,
                failure_reason=str(described.get("FailureReason") or ""),
                steps=steps,
                timed_out=timed_out and status not in TERMINAL_STATUSES,
                model_package_arn=registered,
            )
        sleep(poll_seconds)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def render_summary(pipeline_name: str, outcome: Outcome) -> str:
    """Markdown for the GitHub job summary."""
    status = (
        f"{outcome.status} (still running: wait timed out)"
        if outcome.timed_out
        else (outcome.status)
    )
    lines = [
        f"## SageMaker pipeline `{pipeline_name}`",
        "",
        "| | |",
        "|---|---|",
        f"| Execution | `{outcome.execution_arn}` |",
        f"| Status | **{_cell(status)}** |",
    ]
    if outcome.model_package_arn:
        lines.append(
            f"| Registered model package | `{outcome.model_package_arn}` "
            "(PendingManualApproval: approve it in the model registry to deploy) |"
        )
    if outcome.failure_reason:
        lines.append(f"| Failure reason | {_cell(outcome.failure_reason)} |")
    if outcome.steps:
        lines += ["", "| Step | Status | Detail |", "|---|---|---|"]
        lines += [
            f"| {_cell(s.name)} | {_cell(s.status)} | {_cell(s.detail or s.model_package_arn)} |"
            for s in outcome.steps
        ]
    return "\n".join(lines) + "\n"


def report(pipeline_name: str, outcome: Outcome, out: TextIO) -> int:
    """Print the outcome, append the job summary, and return the exit status."""
    if outcome.model_package_arn:
        print(f"Registered model package: {outcome.model_package_arn}", file=out)
    if outcome.timed_out:
        print(
            f"Gave up waiting: execution {outcome.execution_arn} is still {outcome.status}",
            file=out,
        )
    elif outcome.status != "Succeeded":
        print(f"Pipeline execution {outcome.status}: {outcome.execution_arn}", file=out)
        if outcome.failure_reason:
            print(f"Failure reason: {outcome.failure_reason}", file=out)
        for step in outcome.steps:
            if step.status == "Failed":
                print(f"  {step.name} failed: {step.detail or 'no reason given'}", file=out)
    else:
        print(f"Pipeline execution Succeeded: {outcome.execution_arn}", file=out)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as summary:
            summary.write(render_summary(pipeline_name, outcome))
    out.flush()
    ok = outcome.status == "Succeeded" and not outcome.timed_out
    return EXIT_OK if ok else EXIT_FAILED


def _image_defaults(region: str, overrides: dict[str, str]) -> tuple[str, str]:
    try:
        processing = overrides.get(PARAM_PROCESSING_IMAGE) or images.sklearn_image_uri(region)
        xgboost = overrides.get(PARAM_XGBOOST_IMAGE) or images.xgboost_image_uri(region)
    except images.UnsupportedRegionError as error:
        raise UsageError(str(error)) from None
    return processing, xgboost


def build_settings(
    *,
    project: Project,
    region: str,
    role_arn: str,
    script_uris: dict[str, str],
    overrides: dict[str, str] | None = None,
) -> PipelineSettings:
    """Pipeline settings for a project; image defaults come from the region (or overrides)."""
    processing_image, xgboost_image = _image_defaults(region, overrides or {})
    return PipelineSettings(
        pipeline_name=project.pipeline_name,
        model_package_group_name=project.model_package_group_name,
        bucket=project.bucket,
        role_arn=role_arn,
        script_uris=script_uris,
        processing_image_uri=processing_image,
        xgboost_image_uri=xgboost_image,
        input_data_uri=f"s3://{project.bucket}/{DEFAULT_INPUT_KEY}",
        tags=project.tags,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.run_pipeline",
        description="Upsert, start and follow the project's SageMaker model-building pipeline.",
    )
    parser.add_argument("--region", required=True, help="AWS region of the SageMaker project")
    parser.add_argument("--project-name", required=True, help="SageMaker project name")
    parser.add_argument("--role-arn", required=True, help="execution role of the pipeline jobs")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pipeline parameter override for this execution (repeatable)",
    )
    parser.add_argument("--no-wait", action="store_true", help="start the execution and exit")
    parser.add_argument(
        "--upload-sample-data",
        action="store_true",
        help="upload a synthetic abalone dataset to InputDataUrl when nothing is there",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=30.0,
        help=f"seconds between status checks ({MIN_POLL_SECONDS}-{MAX_POLL_SECONDS}; default 30)",
    )
    parser.add_argument(
        "--timeout-minutes",
        type=float,
        default=350.0,
        help="stop waiting (exit 1, the execution goes on) after this long; default 350",
    )
    args = parser.parse_args(argv)
    if not MIN_POLL_SECONDS <= args.poll_seconds <= MAX_POLL_SECONDS:
        parser.error(
            f"--poll-seconds: expected {MIN_POLL_SECONDS}-{MAX_POLL_SECONDS}, "
            f"got {args.poll_seconds:g}"
        )
    if args.timeout_minutes <= 0:
        parser.error(f"--timeout-minutes: expected > 0, got {args.timeout_minutes:g}")
    return args


def run(
    args: argparse.Namespace,
    clients: AwsClients,
    *,
    out: TextIO,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> int:
    """Steps 1-5 of the module docstring."""
    overrides = parse_overrides(args.parameter, PARAMETER_TYPES)
    _image_defaults(args.region, overrides)  # fail on an unknown region before any AWS call
    project = resolve_project(clients.sagemaker, args.project_name)
    scripts = load_scripts()
    script_uris = upload_scripts(clients.s3, project.bucket, scripts)
    print(
        f"Uploaded pipeline scripts to s3://{project.bucket}/"
        f"{CODE_PREFIX}/{code_version(scripts)}/",
        file=out,
        flush=True,
    )
    settings = build_settings(
        project=project,
        region=args.region,
        role_arn=args.role_arn,
        script_uris=script_uris,
        overrides=overrides,
    )
    ensure_input_data(
        clients.s3,
        overrides.get(PARAM_INPUT_DATA, settings.input_data_uri),
        upload_sample=args.upload_sample_data,
        out=out,
    )
    ensure_model_package_group(clients.sagemaker, project)
    definition = build_pipeline_definition(settings)
    pipeline_arn, created = upsert_pipeline(clients.sagemaker, project, definition, args.role_arn)
    print(f"{'Created' if created else 'Updated'} pipeline {pipeline_arn}", file=out, flush=True)
    execution_arn = start_execution(clients.sagemaker, project.pipeline_name, overrides)
    print(f"Started execution {execution_arn}", file=out, flush=True)
    if args.no_wait:
        return EXIT_OK
    outcome = wait_for_execution(
        clients.sagemaker,
        execution_arn,
        poll_seconds=args.poll_seconds,
        timeout_seconds=args.timeout_minutes * 60,
        out=out,
        sleep=sleep,
        clock=clock,
    )
    return report(project.pipeline_name, outcome, out)


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: AwsClients | None = None,
    out: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Command entry point; the keyword arguments exist for tests."""
    stream = out if out is not None else sys.stdout
    args = parse_args(argv)
    try:
        return run(
            args,
            clients if clients is not None else make_clients(args.region),
            out=stream,
            sleep=sleep,
            clock=clock,
        )
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (ClientError, BotoCoreError) as error:
        print(f"error: AWS call failed: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
