"""What the seed's build job (`pipelines.run_pipeline`) calls is allowed by the build role
the stack gives it.

The build job runs against moto_server with the recorder on, with the names of the example's
`churn-model` project (its pipeline, bucket and pipeline role as the stack names them); each
recorded request is mapped to its IAM action and resource (tools/gates/recorded_calls.py, on
AWS's authorization data) and evaluated against the build role's policy document from the
synthesized example stack, made concrete for moto's account and region. The two calls moto
does not implement (DescribeProject, ListPipelineExecutionSteps) are answered by a stub and so
are not in the recording; the policy grants them (tests/gates/test_iam_authorization.py checks
every statement against AWS's data).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from modules.render.seed.pipelines import run_pipeline as rp
from tests.conftest import Synth
from tests.modules.render.seed.pipelines.test_run_pipeline import (
    SUCCESS_SNAPSHOTS,
    SageMakerWithStubs,
)
from tests.support.moto_server import MotoServer, running_moto_server
from tools.gates.iam_authorization import concrete_policies
from tools.gates.recorded_calls import Evaluation, evaluate

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
PROJECT = "churn-model"
PROJECT_ID = "p-abcdefghijkl"  # the id concrete_policies gives a project's token


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with running_moto_server(region=REGION, record=True) as server:
        yield server


class _Project(SageMakerWithStubs):
    def describe_project(self, *, ProjectName: str) -> dict[str, Any]:
        return {"ProjectName": ProjectName, "ProjectId": PROJECT_ID}


@pytest.fixture(scope="module")
def recorded(moto: MotoServer, example_synth: Synth) -> tuple[Evaluation, dict[str, Any]]:
    policies = concrete_policies(example_synth.stack("dev"), account=MOTO_ACCOUNT, region=REGION)
    (build,) = [
        p
        for origin, p in policies.items()
        if f"project-{PROJECT}_actions-identity_build-permissions" in origin
    ]
    (pipeline_role,) = {
        r
        for origin, p in policies.items()
        if f"project-{PROJECT}_actions-identity_build-permissions" in origin
        for s in p["Statement"]
        if "iam:PassRole" in s["Action"]
        for r in s["Resource"]
    }
    env = {**moto.client_env()}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=f"sagemaker-project-{PROJECT_ID}")
        start = len(moto.recorded())
        stub = _Project(boto3.client("sagemaker", region_name=REGION), SUCCESS_SNAPSHOTS)
        for extra in (["--upload-sample-data"], []):  # creates, then updates the pipeline
            status = rp.main(
                [
                    "--region",
                    REGION,
                    "--project-name",
                    PROJECT,
                    "--role-arn",
                    pipeline_role,
                    *extra,
                ],
                clients=rp.AwsClients(sagemaker=stub, s3=s3),
                out=io.StringIO(),
                sleep=lambda _seconds: None,
            )
            assert status == 0
        end = len(moto.recorded())
    report = evaluate(
        moto.recorded(),
        {"build": [build]},
        [("build job", "build", start, end)],
        account=MOTO_ACCOUNT,
    )
    return report, build


def test_build_job_calls_are_allowed_by_the_build_role(
    recorded: tuple[Evaluation, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    report, _ = recorded
    with capsys.disabled():
        print(f"\nseed build job: {report.summary()}")
    assert report.unmapped == []
    assert report.denials == []
    assert report.calls >= 8
    assert {"sagemaker:CreatePipeline", "s3:PutObject", "iam:PassRole"} <= report.actions


def test_removing_any_recorded_action_from_the_build_role_denies_a_call(
    recorded: tuple[Evaluation, dict[str, Any]],
) -> None:
    report, _ = recorded
    for action in sorted(report.actions):
        assert report.denied_without(action) >= 1, action
