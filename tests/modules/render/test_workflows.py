"""Tests of the rendered GitHub Actions workflows (modules/render/workflows.py).

The rendered text is parsed back as YAML and checked field by field, then audited by zizmor
(offline) and validated against the GitHub workflow JSON schema bundled with check-jsonschema.
Each external check is also shown to catch a deliberately broken workflow.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.render.workflows import (
    ACTION_PINS,
    WorkflowParams,
    WorkflowParamsError,
    render_build_workflow,
    render_deploy_workflow,
    workflow_paths,
)

ENVIRONMENTS = st.from_regex(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", fullmatch=True)
REGION = "eu-central-1"
PROJECT = "churn-model"

BUILD_COMMAND = (
    'python -m pipelines.run_pipeline --region "$AWS_REGION" '
    '--project-name "$SAGEMAKER_PROJECT_NAME" --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN"'
)


def deploy_command(stage: str) -> str:
    return (
        'python -m deploy.deploy --region "$AWS_REGION" --project-name "$SAGEMAKER_PROJECT_NAME" '
        '--role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN" --model-package-arn "$MODEL_PACKAGE_ARN" '
        f"--stage {stage}"
    )


def params(**overrides: Any) -> WorkflowParams:
    values: dict[str, Any] = {
        "environment_name": "dev",
        "aws_region": REGION,
        "sagemaker_project_name": PROJECT,
        "branch": "main",
        "auth_mode": "oidc",
    }
    values.update(overrides)
    return WorkflowParams(**values)


def load(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def steps_named(job: dict[str, Any], fragment: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if fragment in s.get("name", "")]


def only_step(job: dict[str, Any], fragment: str) -> dict[str, Any]:
    found = steps_named(job, fragment)
    assert len(found) == 1, f"expected one step named like {fragment!r}, got {found}"
    return found[0]


ALL_MODES = pytest.mark.parametrize("auth_mode", ["oidc", "access_keys"])
RENDERERS = pytest.mark.parametrize("render", [render_build_workflow, render_deploy_workflow])


# ------------------------------------------------------------------------------- file format


def test_paths_are_the_contract() -> None:
    assert workflow_paths("dev") == {
        "build": ".github/workflows/build-dev.yml",
        "deploy": ".github/workflows/deploy-dev.yml",
    }


@settings(derandomize=True, max_examples=60, deadline=None)
@given(a=ENVIRONMENTS, b=ENVIRONMENTS)
def test_every_environment_owns_its_own_workflow_files(a: str, b: str) -> None:
    """One rule for every environment: names of different environments never meet, and a
    file name is one GitHub accepts for a workflow dispatch (the trigger's workflow id)."""
    pa, pb = workflow_paths(a), workflow_paths(b)
    for path in pa.values():
        assert re.fullmatch(r"\.github/workflows/(build|deploy)-[a-z0-9-]+\.yml", path)
    if a != b:
        assert not set(pa.values()) & set(pb.values())


def test_names_and_concurrency_groups_carry_the_environment() -> None:
    for render, kind in ((render_build_workflow, "build"), (render_deploy_workflow, "deploy")):
        dev = load(render(params(environment_name="dev")))
        prod = load(render(params(environment_name="prod")))
        assert dev["name"] == f"{kind} dev" and prod["name"] == f"{kind} prod"
        assert dev["concurrency"]["group"] == f"{kind}-dev-{PROJECT}"
        assert prod["concurrency"]["group"] != dev["concurrency"]["group"]


def test_fails_on_a_bad_environment_name() -> None:
    with pytest.raises(WorkflowParamsError, match="environment_name: expected a toolkit"):
        params(environment_name="Dev_1")


@RENDERERS
@ALL_MODES
def test_text_is_lf_with_final_newline_and_managed_header(render: Any, auth_mode: str) -> None:
    text = render(params(auth_mode=auth_mode))
    assert "\r" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text.startswith("# Managed by the SageMaker MLOps toolkit")
    assert "reverted by the next plan" in text.splitlines()[1]
    assert text.isascii()


@RENDERERS
def test_rendering_is_byte_identical_for_equal_params(render: Any) -> None:
    first = render(params())
    second = render(dataclasses.replace(params()))
    assert first.encode() == second.encode()
    assert render(params(aws_region="us-west-2")) != first


@RENDERERS
@ALL_MODES
def test_workflow_env_holds_region_and_project_from_params(render: Any, auth_mode: str) -> None:
    document = load(render(params(auth_mode=auth_mode)))
    assert document["env"] == {"AWS_REGION": REGION, "SAGEMAKER_PROJECT_NAME": PROJECT}
    text = render(params(auth_mode=auth_mode))
    assert f'  AWS_REGION: "{REGION}"\n' in text
    assert f'  SAGEMAKER_PROJECT_NAME: "{PROJECT}"\n' in text


@RENDERERS
def test_config_values_that_yaml_would_retype_stay_strings(render: Any) -> None:
    p = params(sagemaker_project_name="0755", branch="on", python_version="3.10")
    document = load(render(p))
    assert document["env"]["SAGEMAKER_PROJECT_NAME"] == "0755"
    text = render(p)
    assert 'python-version: "3.10"' in text
    for job in document["jobs"].values():
        setup = only_step(job, "Set up Python")
        assert setup["with"]["python-version"] == "3.10"


def test_branch_with_filter_characters_is_escaped_in_the_push_filter() -> None:
    document = load(render_build_workflow(params(branch="release+2")))
    assert document["on"]["push"]["branches"] == ["release\\+2"]


# ------------------------------------------------------------------------------- actions


@RENDERERS
@ALL_MODES
def test_every_action_is_pinned_by_sha_with_its_version_comment(
    render: Any, auth_mode: str
) -> None:
    text = render(params(auth_mode=auth_mode))
    uses_lines = [line.strip() for line in text.splitlines() if "uses:" in line]
    assert uses_lines
    pins = {pin.uses: pin for pin in ACTION_PINS.values()}
    for line in uses_lines:
        match = re.fullmatch(r"(?:- )?uses: (\S+) # (v\d+\.\d+\.\d+)", line)
        assert match, line
        uses, version = match.group(1), match.group(2)
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses
        assert pins[uses].version == version
    assert "upload-artifact" not in text


def test_pin_table_holds_full_shas_of_current_majors() -> None:
    expected_majors = {"checkout": 7, "setup-python": 7, "configure-aws-credentials": 6}
    for key, pin in ACTION_PINS.items():
        assert re.fullmatch(r"[0-9a-f]{40}", pin.commit_sha)
        assert int(pin.version.lstrip("v").split(".")[0]) >= expected_majors[key]


@RENDERERS
@ALL_MODES
def test_checkout_does_not_persist_credentials(render: Any, auth_mode: str) -> None:
    document = load(render(params(auth_mode=auth_mode)))
    for job in document["jobs"].values():
        checkout = only_step(job, "Check out")
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"] == {"persist-credentials": False}


@RENDERERS
@ALL_MODES
def test_no_expression_inside_run_scripts(render: Any, auth_mode: str) -> None:
    document = load(render(params(auth_mode=auth_mode)))
    runs = [s["run"] for job in document["jobs"].values() for s in job["steps"] if "run" in s]
    assert runs
    for script in runs:
        assert "${{" not in script


# ------------------------------------------------------------------------------- build.yml


def test_build_triggers_on_push_to_branch_paths_and_on_dispatch() -> None:
    document = load(render_build_workflow(params(branch="develop")))
    assert document["name"] == "build dev"
    assert document["on"] == {
        "push": {"branches": ["develop"], "paths": ["pipelines/**"]},
        "workflow_dispatch": None,
    }
    custom = load(render_build_workflow(params(pipeline_paths=("pipelines/**", "data/*.csv"))))
    assert custom["on"]["push"]["paths"] == ["pipelines/**", "data/*.csv"]


def test_build_oidc_job_assumes_the_build_role_with_least_permissions() -> None:
    document = load(render_build_workflow(params(auth_mode="oidc")))
    assert document["permissions"] == {}
    assert list(document["jobs"]) == ["build"]
    job = document["jobs"]["build"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = only_step(job, "Configure AWS credentials")
    assert credentials["uses"] == ACTION_PINS["configure-aws-credentials"].uses
    assert credentials["with"] == {
        "aws-region": "${{ env.AWS_REGION }}",
        "role-to-assume": "${{ vars.MLOPS_BUILD_ROLE_ARN }}",
        "role-session-name": "github-build",
    }
    assert "secrets." not in render_build_workflow(params(auth_mode="oidc"))
    assert "environment" not in job  # the build has no deploy environment's credentials
    per_stack = load(render_build_workflow(params(build_settings_prefix="MLOPS_PROD_EU_")))
    step = only_step(per_stack["jobs"]["build"], "Configure AWS credentials")
    assert step["with"]["role-to-assume"] == "${{ vars.MLOPS_PROD_EU_BUILD_ROLE_ARN }}"
    assert per_stack["jobs"]["build"]["steps"][-1]["env"] == {
        "SAGEMAKER_PIPELINE_ROLE_ARN": "${{ vars.MLOPS_PROD_EU_PIPELINE_ROLE_ARN }}"
    }


@pytest.mark.parametrize("prefix", ["MLOPS", "mlops_", "GITHUB_X_", "", "MLOPS-DEV_", "1_"])
def test_fails_on_a_bad_build_settings_prefix(prefix: str) -> None:
    with pytest.raises(WorkflowParamsError, match=r"^build_settings_prefix: expected upper-case"):
        params(build_settings_prefix=prefix)


def test_build_access_keys_job_uses_the_key_secrets_and_no_id_token() -> None:
    text = render_build_workflow(params(auth_mode="access_keys"))
    job = load(text)["jobs"]["build"]
    assert job["permissions"] == {"contents": "read"}
    assert "id-token" not in text
    credentials = only_step(job, "Configure AWS credentials")
    assert credentials["with"] == {
        "aws-region": "${{ env.AWS_REGION }}",
        "aws-access-key-id": "${{ secrets.MLOPS_AWS_ACCESS_KEY_ID }}",
        "aws-secret-access-key": "${{ secrets.MLOPS_AWS_SECRET_ACCESS_KEY }}",
    }


@ALL_MODES
def test_build_runs_the_pipeline_cli_of_the_contract(auth_mode: str) -> None:
    document = load(render_build_workflow(params(auth_mode=auth_mode)))
    job = document["jobs"]["build"]
    names = [s["name"] for s in job["steps"]]
    assert names.index("Configure AWS credentials") < len(names) - 1
    install = only_step(job, "Install dependencies")
    assert install["run"].endswith("-r pipelines/requirements.txt")
    run = job["steps"][-1]
    assert run["run"] == BUILD_COMMAND
    assert run["env"] == {"SAGEMAKER_PIPELINE_ROLE_ARN": "${{ vars.MLOPS_PIPELINE_ROLE_ARN }}"}
    assert job["timeout-minutes"] == 360
    assert document["concurrency"] == {"group": f"build-dev-{PROJECT}", "cancel-in-progress": False}


# ------------------------------------------------------------------------------- deploy.yml


def test_deploy_is_dispatched_with_a_required_model_package_arn_input() -> None:
    document = load(render_deploy_workflow(params()))
    assert document["name"] == "deploy dev"
    assert list(document["on"]) == ["workflow_dispatch"]
    inputs = document["on"]["workflow_dispatch"]["inputs"]
    assert list(inputs) == ["model_package_arn"]
    assert inputs["model_package_arn"]["required"] is True
    assert inputs["model_package_arn"]["type"] == "string"


def test_deploy_concurrency_is_one_per_project_and_never_cancels() -> None:
    document = load(render_deploy_workflow(params()))
    assert document["concurrency"] == {
        "group": f"deploy-dev-{PROJECT}",
        "cancel-in-progress": False,
    }
    other = load(render_deploy_workflow(params(sagemaker_project_name="other")))
    assert other["concurrency"]["group"] == "deploy-dev-other"


@ALL_MODES
def test_deploy_jobs_staging_then_production_behind_environments(auth_mode: str) -> None:
    document = load(render_deploy_workflow(params(auth_mode=auth_mode)))
    assert document["permissions"] == {}
    assert list(document["jobs"]) == ["staging", "production"]
    staging, production = document["jobs"]["staging"], document["jobs"]["production"]
    assert staging["environment"] == "staging"
    assert "needs" not in staging
    assert production["environment"] == "production"
    assert production["needs"] == "staging"
    expected = (
        {"contents": "read", "id-token": "write"} if auth_mode == "oidc" else {"contents": "read"}
    )
    assert staging["permissions"] == expected
    assert production["permissions"] == expected


@ALL_MODES
def test_deploy_without_staging_goes_straight_to_production(auth_mode: str) -> None:
    p = params(auth_mode=auth_mode, staging_environment=None, production_environment="prod")
    document = load(render_deploy_workflow(p))
    assert list(document["jobs"]) == ["production"]
    production = document["jobs"]["production"]
    assert production["environment"] == "prod"
    assert "needs" not in production


@ALL_MODES
def test_deploy_steps_validate_the_input_then_run_the_deploy_cli(auth_mode: str) -> None:
    document = load(render_deploy_workflow(params(auth_mode=auth_mode)))
    for stage in ("staging", "production"):
        job = document["jobs"][stage]
        validate = job["steps"][0]
        assert validate["name"] == "Validate the model package ARN"
        assert validate["env"] == {"MODEL_PACKAGE_ARN": "${{ inputs.model_package_arn }}"}
        assert "^arn:(aws|aws-cn|aws-us-gov):sagemaker:" in validate["run"]
        deploy = job["steps"][-1]
        assert deploy["run"] == deploy_command(stage)
        assert deploy["env"] == {
            "MODEL_PACKAGE_ARN": "${{ inputs.model_package_arn }}",
            "SAGEMAKER_PIPELINE_ROLE_ARN": "${{ vars.SAGEMAKER_PIPELINE_ROLE_ARN }}",
        }
        credentials = only_step(job, "Configure AWS credentials")
        if auth_mode == "oidc":
            assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
            assert credentials["with"]["role-session-name"] == f"github-deploy-{stage}"
        else:
            assert "role-to-assume" not in credentials["with"]
            # environment-scoped secrets of the job's own environment
            assert credentials["with"]["aws-access-key-id"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
        assert job["environment"] == stage
        install = only_step(job, "Install dependencies")
        assert install["run"].endswith("-r deploy/requirements.txt")


VALID_ARNS = [
    "arn:aws:sagemaker:eu-central-1:123456789012:model-package/churn-model-p-abc123def456/3",
    "arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:model-package/g/1",
    "arn:aws-cn:sagemaker:cn-north-1:123456789012:model-package/g/12",
]
INVALID_ARNS = [
    "",
    # a partition the toolkit cannot deploy into (its stacks never receive such an approval)
    "arn:aws-iso:sagemaker:us-iso-east-1:123456789012:model-package/g/1",
    "arn:awsx:sagemaker:eu-central-1:123456789012:model-package/g/1",
    "arn:aws:sagemaker:eu-central-1:123456789012:model-package/churn-model-p-abc123def456",
    "arn:aws:sagemaker:eu-central-1:123456789012:model-package-group/churn-model",
    "arn:aws:sagemaker:eu-central-1:12345678901:model-package/g/1",
    "arn:aws:sagemaker:eu-central-1:123456789012:model-package/g/1; rm -rf /",
    "arn:aws:sagemaker:eu-central-1:123456789012:model-package/g/1\n",
    "$(touch /tmp/pwned)",
]


def _validation_script() -> str:
    document = load(render_deploy_workflow(params()))
    return str(document["jobs"]["staging"]["steps"][0]["run"])


@pytest.mark.parametrize("arn", VALID_ARNS)
def test_validation_step_accepts_model_package_arns(arn: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", "-e", "-c", _validation_script()],
        env={"MODEL_PACKAGE_ARN": arn, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("arn", INVALID_ARNS)
def test_validation_step_rejects_anything_else(arn: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", "-e", "-c", _validation_script()],
        env={"MODEL_PACKAGE_ARN": arn, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "::error::model_package_arn is not a versioned SageMaker model package ARN" in (
        result.stdout
    )
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aws_region", "eu_west_1"),
        ("aws_region", ""),
        ("sagemaker_project_name", "-bad"),
        ("sagemaker_project_name", 'x"y'),
        ("sagemaker_project_name", "a" * 33),
        ("branch", "main branch"),
        ("branch", "feature/*"),
        ("branch", "a..b"),
        ("branch", "refs/heads/main"),
        ("branch", ""),
        ("auth_mode", "password"),
        ("staging_environment", "staging env"),
        ("production_environment", ""),
        ("python_version", "3"),
        ("python_version", "3.12\nx"),
        ("pipeline_paths", ()),
        ("pipeline_paths", ("pipelines/**", "bad path")),
        ("runs_on", "ubuntu latest"),
        ("build_timeout_minutes", 0),
        ("deploy_timeout_minutes", 361),
    ],
)
def test_fails_on_unsafe_or_invalid_field(field: str, value: Any) -> None:
    with pytest.raises(WorkflowParamsError, match=f"^{field}: "):
        params(**{field: value})


def test_fails_when_staging_and_production_environments_are_the_same() -> None:
    with pytest.raises(WorkflowParamsError, match="staging_environment: must differ"):
        params(staging_environment="prod", production_environment="prod")


# ------------------------------------------------------------------------------- linters


def _tool(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the project's dev requirements")
    return found


def _write_workflows(root: Path, files: dict[str, str]) -> list[Path]:
    directory = root / ".github" / "workflows"
    directory.mkdir(parents=True)
    paths = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


def _zizmor(paths: list[Path], *extra: str) -> tuple[int, list[dict[str, Any]]]:
    result = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-config",
            "--no-progress",
            "--format",
            "json",
            *extra,
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    findings = json.loads(result.stdout)
    assert isinstance(findings, list), result.stderr
    return result.returncode, findings


def _rendered(auth_mode: str) -> dict[str, str]:
    p = params(auth_mode=auth_mode)
    return {
        "build-dev.yml": render_build_workflow(p),
        "deploy-dev.yml": render_deploy_workflow(p),
    }


@ALL_MODES
def test_zizmor_finds_nothing_at_medium_or_above(auth_mode: str, tmp_path: Path) -> None:
    paths = _write_workflows(tmp_path, _rendered(auth_mode))
    code, findings = _zizmor(paths, "--min-severity", "medium")
    assert findings == []
    assert code == 0


def test_zizmor_pedantic_finds_nothing_in_oidc_mode(tmp_path: Path) -> None:
    paths = _write_workflows(tmp_path, _rendered("oidc"))
    code, findings = _zizmor(paths, "--persona", "pedantic")
    assert [f["ident"] for f in findings] == []
    assert code == 0


def test_zizmor_catches_an_unpinned_action_and_an_expression_in_run(tmp_path: Path) -> None:
    text = render_build_workflow(params())
    checkout = ACTION_PINS["checkout"]
    bad = text.replace(f"{checkout.uses} # {checkout.version}", "actions/checkout@v4")
    bad += '    - run: echo "${{ github.event.inputs.x }}"\n'
    assert bad != text
    paths = _write_workflows(tmp_path, {"bad.yml": bad})
    code, findings = _zizmor(paths, "--min-severity", "medium")
    assert {f["ident"] for f in findings} >= {"unpinned-uses", "template-injection"}
    assert code != 0


def _check_jsonschema(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@ALL_MODES
def test_workflows_match_the_github_workflow_schema(auth_mode: str, tmp_path: Path) -> None:
    result = _check_jsonschema(_write_workflows(tmp_path, _rendered(auth_mode)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_schema_check_catches_an_invalid_workflow(tmp_path: Path) -> None:
    text = render_deploy_workflow(params())
    bad = text.replace("      id-token: write", "      id-token: admin", 1)
    assert bad != text
    result = _check_jsonschema(_write_workflows(tmp_path, {"bad.yml": bad}))
    assert result.returncode == 1
    assert "Schema validation errors were encountered" in result.stdout + result.stderr
