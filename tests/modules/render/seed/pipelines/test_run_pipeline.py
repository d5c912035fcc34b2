"""`pipelines.run_pipeline` against moto_server on 127.0.0.1.

moto serves S3 and the SageMaker calls it implements (ListPipelines, CreatePipeline,
UpdatePipeline, DescribePipeline, AddTags/ListTags, StartPipelineExecution,
DescribePipelineExecution, ListPipelineParametersForExecution, List/CreateModelPackageGroup).
`SageMakerWithStubs` answers only what moto lacks: DescribeProject and
ListPipelineExecutionSteps (not implemented in moto 5.x), and DescribePipelineExecution for a
failed execution (moto marks every execution Succeeded at once).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from modules.render.seed.pipelines import run_pipeline as rp
from tests.support.moto_server import MotoServer, running_moto_server

REPO_ROOT = Path(__file__).resolve().parents[5]
REGION = "us-east-1"
PROJECT_ID = "p-abc123def456"
BUCKET = f"sagemaker-project-{PROJECT_ID}"
PIPELINE = f"churn-{PROJECT_ID}"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{PIPELINE}/1"


class SageMakerWithStubs:
    """The moto-backed client, plus canned answers for the calls moto does not implement."""

    def __init__(
        self,
        real: Any,
        step_snapshots: list[list[dict[str, Any]]],
        executions: list[dict[str, Any]] | None = None,
    ) -> None:
        self._real = real
        self._snapshots = step_snapshots
        self._executions = executions or []
        self.step_calls = 0
        self.describe_calls = 0

    def describe_project(self, *, ProjectName: str) -> dict[str, Any]:
        return {
            "ProjectName": ProjectName,
            "ProjectId": PROJECT_ID,
            "ProjectStatus": "CreateCompleted",
        }

    def list_pipeline_execution_steps(self, **_: Any) -> dict[str, Any]:
        index = min(self.step_calls, len(self._snapshots) - 1)
        self.step_calls += 1
        return {"PipelineExecutionSteps": list(self._snapshots[index])}

    def describe_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        real = dict(self._real.describe_pipeline_execution(**kwargs))
        if self._executions:
            real.update(self._executions[min(self.describe_calls, len(self._executions) - 1)])
        self.describe_calls += 1
        return real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _step(name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"StepName": name, "StepStatus": status, **extra}


SUCCESS_SNAPSHOTS = [
    [_step("PreprocessAbaloneData", "Executing")],
    [
        _step("PreprocessAbaloneData", "Succeeded"),
        _step("TrainAbaloneModel", "Succeeded"),
        _step("EvaluateAbaloneModel", "Succeeded"),
        _step("CheckMseAbaloneEvaluation", "Succeeded"),
        _step(
            "RegisterAbaloneModel",
            "Succeeded",
            Metadata={"RegisterModel": {"Arn": PACKAGE_ARN}},
        ),
    ],
]


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with running_moto_server(region=REGION) as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    moto.reset()
    for key, value in moto.client_env().items():
        monkeypatch.setenv(key, value)
    for key in ("GITHUB_STEP_SUMMARY", "GITHUB_SHA", "GITHUB_RUN_ID", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(key, raising=False)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    yield {"s3": s3, "sagemaker": boto3.client("sagemaker", region_name=REGION)}


def _run(aws: dict[str, Any], stub: SageMakerWithStubs, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    status = rp.main(
        ["--region", REGION, "--project-name", "churn", "--role-arn", ROLE, *extra],
        clients=rp.AwsClients(sagemaker=stub, s3=aws["s3"]),
        out=out,
        sleep=lambda _seconds: None,
    )
    return status, out.getvalue()


def test_first_run_uploads_code_creates_pipeline_and_reports_package(
    aws: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123")
    # First poll: still executing (moto would say Succeeded at once), then moto's Succeeded.
    stub = SageMakerWithStubs(
        aws["sagemaker"],
        SUCCESS_SNAPSHOTS,
        executions=[{"PipelineExecutionStatus": "Executing"}, {}],
    )

    status, output = _run(
        aws,
        stub,
        "--upload-sample-data",
        "--parameter",
        "MseThreshold=5.5",
        "--parameter",
        "TrainingInstanceType=ml.m5.2xlarge",
        "--poll-seconds",
        "5",
    )

    assert status == 0, output
    assert f"Registered model package: {PACKAGE_ARN}" in output
    lines = [line.split("] ", 1)[-1] for line in output.splitlines()]
    assert (
        lines.index("PreprocessAbaloneData: Executing")
        < lines.index("execution: Executing")
        < lines.index("RegisterAbaloneModel: Succeeded")
        < lines.index("execution: Succeeded")
    )
    # The scripts are in the project bucket, and the stored definition runs exactly those keys.
    keys = rp.script_keys(rp.load_scripts())
    for key in keys.values():
        body = aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert body == (rp.SCRIPTS_DIR / Path(key).name).read_bytes()
    stored = aws["sagemaker"].describe_pipeline(PipelineName=PIPELINE)
    definition = json.loads(stored["PipelineDefinition"])
    code_uris = {
        i["S3Input"]["S3Uri"]
        for step in definition["Steps"]
        if step["Type"] == "Processing"
        for i in step["Arguments"]["ProcessingInputs"]
        if i["InputName"] == "code"
    }
    assert code_uris == {f"s3://{BUCKET}/{key}" for key in keys.values()}
    assert stored["RoleArn"] == ROLE
    tags = aws["sagemaker"].list_tags(ResourceArn=stored["PipelineArn"])["Tags"]
    assert {"Key": "sagemaker:project-id", "Value": PROJECT_ID} in tags
    assert {"Key": "sagemaker:project-name", "Value": "churn"} in tags
    # Overrides are real execution parameters.
    execution = aws["sagemaker"].list_pipeline_executions(PipelineName=PIPELINE)
    arn = execution["PipelineExecutionSummaries"][0]["PipelineExecutionArn"]
    params = aws["sagemaker"].list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert {(p["Name"], p["Value"]) for p in params["PipelineParameters"]} == {
        ("MseThreshold", "5.5"),
        ("TrainingInstanceType", "ml.m5.2xlarge"),
    }
    groups = aws["sagemaker"].list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == [PIPELINE]
    sample = aws["s3"].get_object(Bucket=BUCKET, Key="data/abalone.csv")["Body"].read()
    assert all(len(row.split(",")) == 9 for row in sample.decode().splitlines())
    markdown = summary.read_text()
    assert f"## SageMaker pipeline `{PIPELINE}`" in markdown
    assert "| Status | **Succeeded** |" in markdown
    assert PACKAGE_ARN in markdown


def test_second_run_updates_the_pipeline(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key="data/abalone.csv", Body=b"M,1,1,1,1,1,1,1,1\n")
    stub = SageMakerWithStubs(aws["sagemaker"], SUCCESS_SNAPSHOTS)
    first, output = _run(aws, stub)
    assert first == 0 and "Created pipeline" in output
    second, output = _run(aws, stub)
    assert second == 0 and "Updated pipeline" in output
    summaries = aws["sagemaker"].list_pipelines()["PipelineSummaries"]
    assert [s["PipelineName"] for s in summaries] == [PIPELINE]


def test_failed_quality_gate_exits_1_with_reason(
    aws: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    aws["s3"].put_object(Bucket=BUCKET, Key="data/abalone.csv", Body=b"x")
    message = "Quality gate failed: regression_metrics.mse.value ... MseThreshold=6.0"
    stub = SageMakerWithStubs(
        aws["sagemaker"],
        [
            [
                _step("CheckMseAbaloneEvaluation", "Succeeded"),
                _step(
                    "FailQualityGate",
                    "Failed",
                    FailureReason=message,
                    Metadata={"Fail": {"ErrorMessage": message}},
                ),
            ]
        ],
        executions=[{"PipelineExecutionStatus": "Failed", "FailureReason": "Step failure"}],
    )
    status, output = _run(aws, stub)
    assert status == 1
    assert "Failure reason: Step failure" in output
    assert f"FailQualityGate failed: {message}" in output
    assert "Registered model package" not in output
    assert "| Status | **Failed** |" in summary.read_text()


def test_gives_up_after_timeout(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key="data/abalone.csv", Body=b"x")
    stub = SageMakerWithStubs(
        aws["sagemaker"],
        [[_step("TrainAbaloneModel", "Executing")]],
        executions=[{"PipelineExecutionStatus": "Executing"}],
    )
    ticks = iter(range(0, 100_000, 30))
    out = io.StringIO()
    status = rp.main(
        [
            "--region",
            REGION,
            "--project-name",
            "churn",
            "--role-arn",
            ROLE,
            "--timeout-minutes",
            "2",
            "--poll-seconds",
            "30",
        ],
        clients=rp.AwsClients(sagemaker=stub, s3=aws["s3"]),
        out=out,
        sleep=lambda _seconds: None,
        clock=lambda: float(next(ticks)),
    )
    assert status == 1
    assert "Gave up waiting" in out.getvalue()
    assert stub.step_calls <= 6  # bounded polling


def test_missing_input_data_fails_before_creating_anything(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stub = SageMakerWithStubs(aws["sagemaker"], SUCCESS_SNAPSHOTS)
    status, _ = _run(aws, stub)
    assert status == 1
    assert f"nothing at s3://{BUCKET}/data/abalone.csv" in capsys.readouterr().err
    assert aws["sagemaker"].list_pipelines()["PipelineSummaries"] == []


def test_no_wait_returns_after_start(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key="data/abalone.csv", Body=b"x")
    stub = SageMakerWithStubs(aws["sagemaker"], SUCCESS_SNAPSHOTS)
    status, output = _run(aws, stub, "--no-wait")
    assert status == 0
    assert "Started execution arn:aws:sagemaker:" in output
    assert stub.step_calls == 0


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("Nope=1", "--parameter Nope: unknown pipeline parameter"),
        ("TrainingInstanceCount=two", "expected a integer value, got 'two'"),
        ("MseThreshold", "expected Name=Value"),
    ],
)
def test_fails_on_bad_parameter_with_exit_2(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str], parameter: str, message: str
) -> None:
    stub = SageMakerWithStubs(aws["sagemaker"], SUCCESS_SNAPSHOTS)
    status, _ = _run(aws, stub, "--parameter", parameter)
    assert status == 2
    assert message in capsys.readouterr().err
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_runs_as_module_from_repository_root(tmp_path: Path) -> None:
    # The ML repository holds the package as top-level `pipelines/`: run it the way build.yml does.
    repo = tmp_path / "ml-repo"
    (repo / "pipelines" / "scripts").mkdir(parents=True)
    source = REPO_ROOT / "modules" / "render" / "seed" / "pipelines"
    for path in [*source.glob("*.py"), *source.glob("scripts/*.py")]:
        target = repo / "pipelines" / path.relative_to(source)
        target.write_bytes(path.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.run_pipeline",
            "--region",
            "xx-nowhere-1",
            "--project-name",
            "churn",
            "--role-arn",
            ROLE,
        ],
        cwd=repo,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "region 'xx-nowhere-1'" in result.stderr
