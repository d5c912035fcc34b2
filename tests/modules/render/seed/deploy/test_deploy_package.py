"""Tests of the seed deployment code (modules/render/seed/deploy/deploy.py), run by deploy.yml.

AWS is a moto server started on 127.0.0.1 by this module, in this process. moto implements the
model package registry, models, endpoint configurations, endpoints, tags and sagemaker-runtime's
InvokeEndpoint (its answers are queued through moto's
``/moto-api/static/sagemaker/endpoint-results``).
Two calls are stubbed because moto 5 does not implement them:

* ``sagemaker:DescribeProject``: answers with a fixed project id;
* ``sagemaker:UpdateEndpoint``: switches the moto endpoint to the new configuration, or, to show a
  failed update, leaves the previous configuration in service with a ``FailureReason`` (what
  SageMaker's automatic rollback leaves behind).

Everything else goes to moto unchanged (``StubbedSageMaker`` forwards every other attribute).
The server runs in this process (moto's ThreadedMotoServer, not tests/support/moto_server.py's
subprocess) because the UpdateEndpoint stub has to change the endpoint inside moto's state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.sagemaker.models import sagemaker_backends
from moto.server import ThreadedMotoServer

from modules.render.seed.deploy import deploy as deploy_mod

REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's default account
PROJECT = "churn-model"
PROJECT_ID = "p-abc123def456"
GROUP = f"{PROJECT}-{PROJECT_ID}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-pipeline-execution"
SEED_ROOT = Path(deploy_mod.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fresh moto state, dummy credentials and no real AWS endpoint for every test."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return moto_url


def queue_predictions(moto_url: str, *bodies: str) -> None:
    """Queue InvokeEndpoint answers in moto (one per distinct request)."""
    payload = {
        "account_id": ACCOUNT,
        "region": REGION,
        "results": [
            {
                "Body": body,
                "ContentType": "text/csv",
                "InvokedProductionVariant": "AllTraffic",
                "CustomAttributes": "",
            }
            for body in bodies
        ],
    }
    request = urllib.request.Request(
        f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def moto_backend() -> Any:
    return sagemaker_backends[ACCOUNT][REGION]


@dataclass
class StubbedSageMaker:
    """A moto-backed SageMaker client plus stubs for the two calls moto lacks (see module doc)."""

    client: Any
    fail_update_with: str | None = None
    updates: list[str] = field(default_factory=list)
    project_lookups: list[str] = field(default_factory=list)
    updating_until_sleep: bool = False
    pending: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def describe_project(self, *, ProjectName: str) -> dict[str, Any]:
        self.project_lookups.append(ProjectName)
        return {
            "ProjectName": ProjectName,
            "ProjectId": PROJECT_ID,
            "ProjectStatus": "CreateCompleted",
        }

    def update_endpoint(self, *, EndpointName: str, EndpointConfigName: str) -> dict[str, str]:
        self.updates.append(EndpointConfigName)
        endpoint = moto_backend().endpoints[EndpointName]
        if self.fail_update_with is not None:
            endpoint.failure_reason = self.fail_update_with  # rolled back: old config stays
        elif self.updating_until_sleep:
            endpoint.endpoint_status = "Updating"
            self.pending = EndpointConfigName
        else:
            self._apply(EndpointName, EndpointConfigName)
        return {"EndpointArn": endpoint.arn}

    def finish_pending_update(self, _seconds: float) -> None:
        """Used as the deployment's sleep: the update completes while the deployment waits."""
        if self.pending is not None:
            for name, endpoint in moto_backend().endpoints.items():
                if endpoint.endpoint_status == "Updating":
                    self._apply(name, self.pending)
                    endpoint.endpoint_status = "InService"
            self.pending = None

    @staticmethod
    def _apply(endpoint_name: str, config_name: str) -> None:
        endpoint = moto_backend().endpoints[endpoint_name]
        endpoint.endpoint_config_name = config_name
        endpoint.failure_reason = None


@pytest.fixture
def sagemaker(aws: str) -> StubbedSageMaker:
    return StubbedSageMaker(client=boto3.client("sagemaker", region_name=REGION))


def factory(stubbed: StubbedSageMaker) -> Any:
    def make(service: str, region: str) -> Any:
        assert region == REGION
        if service == "sagemaker":
            return stubbed
        return boto3.client(service, region_name=region)

    return make


def register_package(group: str = GROUP, approval: str = "Approved") -> str:
    client = boto3.client("sagemaker", region_name=REGION)
    try:
        client.create_model_package_group(ModelPackageGroupName=group)
    except client.exceptions.ClientError as error:
        assert "already exists" in str(error)
    return str(
        client.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=approval,
            InferenceSpecification={
                "Containers": [{"Image": "123.dkr.ecr.eu-central-1.amazonaws.com/xgboost:1.7-1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def argv(arn: str, stage: str = "staging", *extra: str) -> list[str]:
    return [
        "--region",
        REGION,
        "--project-name",
        PROJECT,
        "--role-arn",
        ROLE_ARN,
        "--model-package-arn",
        arn,
        "--stage",
        stage,
        "--poll-seconds",
        "0",
        *extra,
    ]


def endpoint(stage: str = "staging") -> dict[str, Any]:
    client = boto3.client("sagemaker", region_name=REGION)
    return dict(client.describe_endpoint(EndpointName=f"{PROJECT}-{stage}"))


def tags_of(arn: str) -> dict[str, str]:
    client = boto3.client("sagemaker", region_name=REGION)
    return {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=arn)["Tags"]}


# ------------------------------------------------------------------------------- happy paths


def test_first_deployment_creates_model_config_and_endpoint_then_smoke_tests(
    aws: str,
    sagemaker: StubbedSageMaker,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arn = register_package()
    queue_predictions(aws, "9.5\n")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 0

    names = deploy_mod.resource_names(PROJECT, "staging", arn)
    described = endpoint()
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == names.endpoint_config
    client = boto3.client("sagemaker", region_name=REGION)
    model = client.describe_model(ModelName=names.model)
    assert model["PrimaryContainer"]["ModelPackageName"] == arn
    assert model["ExecutionRoleArn"] == ROLE_ARN
    config = client.describe_endpoint_config(EndpointConfigName=names.endpoint_config)
    assert config["ProductionVariants"][0]["ModelName"] == names.model
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert tags_of(config["EndpointConfigArn"]) == {
        "sagemaker:project-name": PROJECT,
        "sagemaker:project-id": PROJECT_ID,
        "sagemaker:deployment-stage": "staging",
        "mlops:model-package-arn": arn,
    }
    assert tags_of(described["EndpointArn"])["sagemaker:deployment-stage"] == "staging"
    assert sagemaker.project_lookups == [PROJECT]
    assert sagemaker.updates == []

    out = capsys.readouterr().out
    assert f"model package {arn}: Approved, group {GROUP}" in out
    assert f"endpoint {PROJECT}-staging: InService with {names.endpoint_config}" in out
    assert f"smoke test of {PROJECT}-staging: 1 number(s), first 9.5" in out
    text = summary.read_text()
    assert text.startswith("### Deployment to staging: deployed\n")
    assert f"`{arn}`" in text


def test_redeploying_the_same_arn_is_a_no_op(
    aws: str, sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register_package()
    queue_predictions(aws, "9.5")
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 0
    before = endpoint()
    capsys.readouterr()

    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 0

    out = capsys.readouterr().out
    assert "nothing to deploy" in out
    assert "created" not in out and "creating" not in out
    assert sagemaker.updates == []
    assert endpoint()["EndpointConfigName"] == before["EndpointConfigName"]
    assert endpoint()["LastModifiedTime"] == before["LastModifiedTime"]


def test_a_new_version_updates_the_endpoint_while_printing_progress(
    aws: str, sagemaker: StubbedSageMaker
) -> None:
    first = register_package()
    second = register_package()
    queue_predictions(aws, "1.0", "2.0")
    assert deploy_mod.main(argv(first), client_factory=factory(sagemaker)) == 0

    sagemaker.updating_until_sleep = True
    lines: list[str] = []
    settings = deploy_mod.DeploySettings(
        region=REGION,
        project_name=PROJECT,
        role_arn=ROLE_ARN,
        model_package_arn=second,
        stage="staging",
        sample_body=b"1,2,3\n",
        poll_seconds=30,
    )
    clock = iter(float(t) for t in range(0, 1000, 30))
    result = deploy_mod.deploy(
        settings,
        sagemaker=sagemaker,
        runtime=boto3.client("sagemaker-runtime", region_name=REGION),
        sleep=sagemaker.finish_pending_update,
        clock=lambda: next(clock),
        log=lines.append,
    )

    target = deploy_mod.resource_names(PROJECT, "staging", second).endpoint_config
    assert result.changed is True
    assert result.endpoint_config_name == target
    assert sagemaker.updates == [target]
    assert endpoint()["EndpointConfigName"] == target
    progress = [line for line in lines if " after " in line]
    assert progress == [
        f"endpoint {PROJECT}-staging: Updating after 30s",
        f"endpoint {PROJECT}-staging: InService after 60s",
    ]
    assert result.predictions == (2.0,)


def test_production_uses_its_own_endpoint(aws: str, sagemaker: StubbedSageMaker) -> None:
    arn = register_package()
    queue_predictions(aws, "[3.5]")
    assert deploy_mod.main(argv(arn, "production"), client_factory=factory(sagemaker)) == 0
    described = endpoint("production")
    assert described["EndpointConfigName"] == (
        deploy_mod.resource_names(PROJECT, "production", arn).endpoint_config
    )
    assert tags_of(described["EndpointArn"])["sagemaker:deployment-stage"] == "production"


def test_an_endpoint_whose_creation_failed_is_replaced(
    aws: str, sagemaker: StubbedSageMaker
) -> None:
    arn = register_package()
    queue_predictions(aws, "4")
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 0
    moto_backend().endpoints[f"{PROJECT}-staging"].endpoint_status = "Failed"

    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 0
    assert endpoint()["EndpointStatus"] == "InService"


# ------------------------------------------------------------------------------- failures


def test_a_failed_update_keeps_the_old_config_and_fails_with_the_reason(
    aws: str,
    sagemaker: StubbedSageMaker,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = register_package()
    second = register_package()
    queue_predictions(aws, "1.0")
    assert deploy_mod.main(argv(first), client_factory=factory(sagemaker)) == 0
    old = endpoint()["EndpointConfigName"]
    capsys.readouterr()
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    sagemaker.fail_update_with = (
        "The primary container for production variant AllTraffic "
        "did not pass the ping health check."
    )

    assert deploy_mod.main(argv(second), client_factory=factory(sagemaker)) == 1

    out = capsys.readouterr().out
    error_lines = [line for line in out.splitlines() if line.startswith("::error::")]
    assert len(error_lines) == 1
    assert "rolled it back to " + old in error_lines[0]
    assert "did not pass the ping health check" in error_lines[0]
    assert endpoint()["EndpointConfigName"] == old
    assert summary.read_text().startswith("### Deployment to staging failed\n")


@pytest.mark.parametrize("approval", ["PendingManualApproval", "Rejected"])
def test_refuses_a_package_that_is_not_approved(
    approval: str, sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register_package(approval=approval)
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 1
    assert f"approval status '{approval}'" in capsys.readouterr().out
    client = boto3.client("sagemaker", region_name=REGION)
    assert client.list_models()["Models"] == []
    assert client.list_endpoints()["Endpoints"] == []


def test_refuses_a_package_of_another_projects_group(
    sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register_package(group="other-model-p-000000000000")
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 1
    out = capsys.readouterr().out
    assert f"not to this project's group '{GROUP}'" in out
    assert boto3.client("sagemaker", region_name=REGION).list_models()["Models"] == []


def test_refuses_a_model_whose_name_is_taken_by_another_package(
    sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register_package()
    other = register_package()
    names = deploy_mod.resource_names(PROJECT, "staging", arn)
    boto3.client("sagemaker", region_name=REGION).create_model(
        ModelName=names.model,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"ModelPackageName": other},
    )
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 1
    assert f"model {names.model} exists but serves" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("not-an-arn", "expected a versioned model package ARN"),
        (
            f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{GROUP}/1",
            "the package is in us-east-1, but this project deploys in eu-central-1",
        ),
        (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{GROUP}", "versioned"),
    ],
)
def test_rejects_a_malformed_arn_before_calling_aws(
    arn: str, message: str, sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 1
    assert message in capsys.readouterr().out
    assert sagemaker.project_lookups == []


def test_rejects_a_missing_role_variable(
    sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argv(register_package())
    args[args.index("--role-arn") + 1] = ""
    assert deploy_mod.main(args, client_factory=factory(sagemaker)) == 1
    assert "SAGEMAKER_PIPELINE_ROLE_ARN" in capsys.readouterr().out


def test_a_smoke_test_that_gets_no_numbers_fails_the_job(
    aws: str, sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register_package()
    queue_predictions(aws, "<html>502 Bad Gateway</html>")
    assert deploy_mod.main(argv(arn), client_factory=factory(sagemaker)) == 1
    out = capsys.readouterr().out
    assert "::error::deployment to staging failed: the endpoint's answer is not a list" in out


def test_the_sample_file_is_the_request_body(
    aws: str, sagemaker: StubbedSageMaker, tmp_path: Path
) -> None:
    sample = tmp_path / "row.csv"
    sample.write_text("0.1,0.2\n", encoding="utf-8")
    sent: list[bytes] = []
    real_runtime = boto3.client("sagemaker-runtime", region_name=REGION)

    class RecordingRuntime:
        def invoke_endpoint(self, **kwargs: Any) -> Any:
            sent.append(kwargs["Body"])
            assert kwargs["ContentType"] == "text/csv"
            return real_runtime.invoke_endpoint(**kwargs)

    def make(service: str, region: str) -> Any:
        return sagemaker if service == "sagemaker" else RecordingRuntime()

    queue_predictions(aws, "5")
    arn = register_package()
    args = argv(arn, "staging", "--sample-file", str(sample))
    assert deploy_mod.main(args, client_factory=make) == 0
    assert sent == [b"0.1,0.2\n"]


def test_an_unreadable_sample_file_fails_cleanly(
    sagemaker: StubbedSageMaker, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = argv(register_package(), "staging", "--sample-file", str(tmp_path / "missing.csv"))
    assert deploy_mod.main(args, client_factory=factory(sagemaker)) == 1
    assert "--sample-file: cannot read" in capsys.readouterr().out


def test_waiting_gives_up_after_the_timeout(aws: str, sagemaker: StubbedSageMaker) -> None:
    first = register_package()
    second = register_package()
    queue_predictions(aws, "1")
    assert deploy_mod.main(argv(first), client_factory=factory(sagemaker)) == 0
    sagemaker.updating_until_sleep = True
    settings = deploy_mod.DeploySettings(
        region=REGION,
        project_name=PROJECT,
        role_arn=ROLE_ARN,
        model_package_arn=second,
        stage="staging",
        sample_body=b"1\n",
        poll_seconds=60,
        timeout_seconds=120,
    )
    clock = iter(float(t) for t in range(0, 10_000, 60))
    with pytest.raises(deploy_mod.EndpointFailedError, match="still Updating after 120s"):
        deploy_mod.deploy(
            settings,
            sagemaker=sagemaker,
            runtime=boto3.client("sagemaker-runtime", region_name=REGION),
            sleep=lambda _s: None,  # the update never finishes
            clock=lambda: next(clock),
            log=lambda _line: None,
        )


def test_bad_stage_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        deploy_mod.main(argv("x", "qa"))
    assert exit_info.value.code == 2


# ------------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("body", "numbers"),
    [
        (b"9.5", (9.5,)),
        (b"9.5\n", (9.5,)),
        (b"1,2\n3\n", (1.0, 2.0, 3.0)),
        (b"[1, 2.5]", (1.0, 2.5)),
        (b"[[0.1, 0.9], [0.2, 0.8]]", (0.1, 0.9, 0.2, 0.8)),
        (b"7", (7.0,)),
    ],
)
def test_parse_predictions_accepts_numbers(body: bytes, numbers: tuple[float, ...]) -> None:
    assert deploy_mod.parse_predictions(body) == numbers


@pytest.mark.parametrize(
    "body",
    [b"", b"  \n", b"abc", b"[true]", b"[]", b'{"predictions": [1]}', b"NaN", b"1,inf", b"\xff"],
)
def test_parse_predictions_rejects_anything_else(body: bytes) -> None:
    with pytest.raises(deploy_mod.SmokeTestError):
        deploy_mod.parse_predictions(body)


def test_resource_names_follow_the_contract_and_fit_sagemaker_limits() -> None:
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/12"
    names = deploy_mod.resource_names(PROJECT, "production", arn)
    assert names.endpoint == f"{PROJECT}-production"
    assert names.endpoint_config == names.model
    prefix, digest = names.endpoint_config.rsplit("-", 1)
    assert prefix == names.endpoint
    assert len(digest) == 10 and int(digest, 16) >= 0
    longest = deploy_mod.resource_names("a" * 32, "production", arn)
    assert len(longest.endpoint_config) <= 63
    assert deploy_mod.resource_names(PROJECT, "production", arn + "3") != names


def test_the_seed_sample_is_one_row_of_ten_numbers() -> None:
    rows = deploy_mod.DEFAULT_SAMPLE_FILE.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1
    assert len([float(cell) for cell in rows[0].split(",")]) == 10


def test_runs_as_python_m_deploy_deploy_from_the_repository_root() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.deploy", "--help"],
        cwd=SEED_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--region", "--project-name", "--role-arn", "--model-package-arn", "--stage"):
        assert option in result.stdout


def test_requirements_pin_boto3() -> None:
    lines = (SEED_ROOT / "deploy" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert len(pins) == 1
    assert pins[0].startswith("boto3==")
