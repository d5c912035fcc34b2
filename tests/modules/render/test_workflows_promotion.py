"""deploy-<env>.yml with stage accounts and endpoint settings (modules/render/workflows.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from modules.render.workflows import (
    StageDeploy,
    WorkflowParamsError,
    render_deploy_workflow,
)
from tests.modules.render.test_workflows import (
    _check_jsonschema,
    _write_workflows,
    _zizmor,
    load,
    only_step,
    params,
)

HOME = "111111111111"
REMOTE = StageDeploy(
    registry_account_id=HOME,
    role_duration_seconds=7200,
    instance_type="ml.c5.xlarge",
    instance_count=2,
    min_instances=2,
    max_instances=4,
    target_invocations=500,
    capture_percent=10,
    capture_prefix="capture/churn",
    capture_bucket_variable=True,
)


def promoted() -> str:
    return render_deploy_workflow(
        params(
            stage_deploys=(
                ("staging", StageDeploy(registry_account_id=HOME, role_duration_seconds=7200)),
                ("production", REMOTE),
            )
        )
    )


def test_no_settings_render_the_plain_job() -> None:
    assert render_deploy_workflow(params(stage_deploys=(("production", StageDeploy()),))) == (
        render_deploy_workflow(params())
    )


def test_stage_account_job_passes_role_duration_registry_and_endpoint_settings() -> None:
    job = load(promoted())["jobs"]["production"]
    credentials = only_step(job, "Configure AWS credentials")
    assert credentials["with"]["role-duration-seconds"] == 7200
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    deploy = only_step(job, "Deploy the model package")
    assert deploy["env"]["SAGEMAKER_PIPELINE_ROLE_ARN"] == "${{ vars.SAGEMAKER_PIPELINE_ROLE_ARN }}"
    assert deploy["env"]["DATA_CAPTURE_BUCKET"] == "${{ vars.DATA_CAPTURE_BUCKET }}"
    assert deploy["run"].endswith(
        "--stage production --registry-account 111111111111 --instance-type ml.c5.xlarge "
        "--instance-count 2 --min-instances 2 --max-instances 4 --target-invocations 500 "
        "--data-capture-percent 10 --data-capture-prefix capture/churn "
        '--data-capture-bucket "$DATA_CAPTURE_BUCKET"'
    )
    staging = only_step(load(promoted())["jobs"]["staging"], "Deploy the model package")
    assert staging["run"].endswith("--stage staging --registry-account 111111111111")


def _run_check(script: str, arn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        env={"MODEL_PACKAGE_ARN": arn, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("arn", "ok"),
    [
        (f"arn:aws:sagemaker:eu-west-1:{HOME}:model-package/churn-model-p-abc/3", True),
        ("arn:aws:sagemaker:eu-west-1:444444444444:model-package/churn-model-p-abc/3", False),
        (f"arn:aws:sagemaker:eu-west-1:{HOME}:model-package/churn-model-p-abc", False),
    ],
)
def test_the_job_refuses_a_package_of_another_account_than_the_registry(arn: str, ok: bool) -> None:
    """The validation step, run by bash as the runner would."""
    job = load(promoted())["jobs"]["production"]
    result = _run_check(only_step(job, "Validate the model package ARN")["run"], arn)
    assert (result.returncode == 0) is ok, result.stdout
    if not ok and ":444444444444:" in arn:
        assert "not a package of the model registry's account 111111111111" in result.stdout


def test_promoted_workflow_passes_zizmor_and_the_schema(tmp_path: Path) -> None:
    paths = _write_workflows(tmp_path, {"deploy-dev.yml": promoted()})
    code, findings = _zizmor(paths, "--min-severity", "medium")
    assert findings == [] and code == 0
    result = _check_jsonschema(paths)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("registry_account_id", "1234"),
        ("instance_type", "m5.large; rm -rf /"),
        ("capture_prefix", "a b"),
        ("instance_count", True),
        ("min_instances", -1),
    ],
)
def test_fails_on_unsafe_stage_settings(field: str, value: Any) -> None:
    with pytest.raises(WorkflowParamsError, match=f"^{field}: "):
        StageDeploy(**{field: value})
