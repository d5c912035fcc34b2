"""What the seed's deploy job (`deploy.deploy`) calls is allowed by the stage's deploy role
the stack gives it, and by nothing of the other stage.

The deploy runs against the in-process moto server of test_deploy_package.py (its fixtures)
with moto's recorder on, with the example's `churn-model` names; each recorded request is
mapped to its IAM action and resource (tools/gates/recorded_calls.py, on AWS's authorization
data) and evaluated against the staging deploy role's policy document from the synthesized
example stack, made concrete for moto's account, region and the package's project id.
UpdateEndpoint and DescribeProject are stubbed (moto lacks them) and so not recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.moto_api import recorder

from modules.render.seed.deploy import deploy as deploy_mod
from tests.conftest import Synth
from tests.modules.render.seed.deploy.test_deploy_package import (  # noqa: F401 - fixtures
    ACCOUNT,
    PROJECT,
    PROJECT_ID,
    REGION,
    StubbedSageMaker,
    aws,
    factory,
    moto_url,
    queue_predictions,
    register_package,
    sagemaker,
)
from tests.support.moto_server import read_recording
from tools.gates.iam_authorization import concrete_policies
from tools.gates.recorded_calls import Evaluation, allowed, evaluate


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Path]:
    """moto's recorder (in this process) writing to a file of the test's own."""
    path = tmp_path / "recording.jsonl"
    previous = recorder._location
    recorder._location = str(path)
    recorder.start_recording()
    try:
        yield path
    finally:
        recorder.stop_recording()
        recorder._location = previous


def _role_policy(synth: Synth, stage: str) -> dict[str, Any]:
    policies = concrete_policies(
        synth.stack("dev"), account=ACCOUNT, region=REGION, project_id=PROJECT_ID
    )
    (policy,) = [
        p
        for origin, p in policies.items()
        if f"project-{PROJECT}_actions-identity_{stage}-permissions" in origin
    ]
    return policy


def _pipeline_role(policy: dict[str, Any]) -> str:
    (role,) = {
        r for s in policy["Statement"] if "iam:PassRole" in s["Action"] for r in s["Resource"]
    }
    return role


@pytest.fixture
def deployed(
    aws: str,  # noqa: F811 - the fixture imported above
    sagemaker: StubbedSageMaker,  # noqa: F811
    recording: Path,
    example_synth: Synth,
) -> tuple[Evaluation, dict[str, Any]]:
    staging = _role_policy(example_synth, "staging")
    arn = register_package()
    second = register_package()  # a later version, deployed second
    first_version = len(read_recording(recording))
    queue_predictions(aws, "9.5\n", "8.5\n")
    argv = [
        "--region",
        REGION,
        "--project-name",
        PROJECT,
        "--role-arn",
        _pipeline_role(staging),
        "--model-package-arn",
        arn,
        "--stage",
        "staging",
        "--poll-seconds",
        "0",
    ]
    assert deploy_mod.main(argv, client_factory=factory(sagemaker)) == 0
    # a second version: new model and endpoint configuration, the endpoint updated
    argv[argv.index(arn)] = second
    assert deploy_mod.main(argv, client_factory=factory(sagemaker)) == 0
    entries = read_recording(recording)
    report = evaluate(
        entries,
        {"staging": [staging]},
        [("deploy", "staging", first_version, len(entries))],
        account=ACCOUNT,
    )
    return report, staging


def test_deploy_calls_are_allowed_by_the_stage_role(
    deployed: tuple[Evaluation, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    report, _ = deployed
    with capsys.disabled():
        print(f"\nseed deploy job: {report.summary()}")
    assert report.unmapped == []
    assert report.denials == []
    assert report.calls >= 8
    assert {"sagemaker:CreateEndpoint", "sagemaker:CreateModel", "iam:PassRole"} <= report.actions


def test_removing_any_recorded_action_from_the_stage_role_denies_a_call(
    deployed: tuple[Evaluation, dict[str, Any]],
) -> None:
    report, _ = deployed
    for action in sorted(report.actions):
        assert report.denied_without(action) >= 1, action


def test_the_production_role_cannot_do_the_staging_deploy(
    deployed: tuple[Evaluation, dict[str, Any]], example_synth: Synth
) -> None:
    report, _ = deployed
    production = _role_policy(example_synth, "production")
    writes = {
        "sagemaker:CreateEndpoint",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateModel",
    }
    denied = {
        r.action for _, r in report.requests if r.action in writes and not allowed([production], r)
    }
    assert denied == writes
