"""Offline checks of the generated SageMaker pipeline definition JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from modules.render.seed.pipelines import definition as d
from modules.render.seed.pipelines.images import (
    UnsupportedRegionError,
    sklearn_image_uri,
    xgboost_image_uri,
)
from modules.render.seed.pipelines.run_pipeline import Project, build_settings, script_keys

PROJECT = Project(name="churn", project_id="p-abc123def456")
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"
SCRIPTS = {"preprocess.py": b"print('p')\n", "evaluate.py": b"print('e')\n"}
STEP_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")


def _settings() -> d.PipelineSettings:
    uris = {n: f"s3://{PROJECT.bucket}/{k}" for n, k in script_keys(SCRIPTS).items()}
    return build_settings(project=PROJECT, region="eu-west-1", role_arn=ROLE, script_uris=uris)


@pytest.fixture
def definition() -> dict[str, Any]:
    # Round-trip through JSON: what SageMaker receives, not the Python objects.
    return json.loads(json.dumps(d.build_pipeline_definition(_settings())))


def _steps_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            for nested in step["Arguments"].get(branch, []):
                found[nested["Name"]] = nested
    return found


def _references(node: Any) -> list[str]:
    """Every `Get` path anywhere in a JSON tree."""
    if isinstance(node, dict):
        refs = [node["Get"]] if isinstance(node.get("Get"), str) else []
        return refs + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    return []


def test_version_and_top_level_step_order(definition: dict[str, Any]) -> None:
    assert definition["Version"] == "2020-12-01"
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [
        ("PreprocessAbaloneData", "Processing"),
        ("TrainAbaloneModel", "Training"),
        ("EvaluateAbaloneModel", "Processing"),
        ("CheckMseAbaloneEvaluation", "Condition"),
    ]
    assert all(STEP_NAME_RE.match(name) for name in _steps_by_name(definition))


def test_parameters_are_real_and_typed_with_defaults(definition: dict[str, Any]) -> None:
    params = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]}
    assert params == {
        "InputDataUrl": ("String", "s3://sagemaker-project-p-abc123def456/data/abalone.csv"),
        "ProcessingInstanceType": ("String", "ml.m5.xlarge"),
        "ProcessingInstanceCount": ("Integer", 1),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "TrainingInstanceCount": ("Integer", 1),
        "MseThreshold": ("Float", 6.0),
        "ProcessingImageUri": ("String", sklearn_image_uri("eu-west-1")),
        "XGBoostImageUri": ("String", xgboost_image_uri("eu-west-1")),
    }


def test_every_parameter_is_used_and_every_reference_resolves(definition: dict[str, Any]) -> None:
    refs = _references(definition["Steps"])
    declared = {p["Name"] for p in definition["Parameters"]}
    used = {r.split(".", 1)[1] for r in refs if r.startswith("Parameters.")}
    assert used == declared
    steps = _steps_by_name(definition)
    for ref in refs:
        if ref.startswith("Steps."):
            assert ref.split(".")[1] in steps, ref
        else:
            assert ref.startswith(("Parameters.", "Execution.PipelineExecutionId")), ref


def test_instance_settings_come_from_parameters(definition: dict[str, Any]) -> None:
    steps = _steps_by_name(definition)
    for name in ("PreprocessAbaloneData", "EvaluateAbaloneModel"):
        cluster = steps[name]["Arguments"]["ProcessingResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
        assert cluster["InstanceCount"] == {"Get": "Parameters.ProcessingInstanceCount"}
    resources = steps["TrainAbaloneModel"]["Arguments"]["ResourceConfig"]
    assert resources["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert resources["InstanceCount"] == {"Get": "Parameters.TrainingInstanceCount"}


def test_preprocess_reads_input_parameter_and_runs_uploaded_script(
    definition: dict[str, Any],
) -> None:
    args = _steps_by_name(definition)["PreprocessAbaloneData"]["Arguments"]
    inputs = {i["InputName"]: i["S3Input"] for i in args["ProcessingInputs"]}
    assert inputs["input-data"]["S3Uri"] == {"Get": "Parameters.InputDataUrl"}
    key = script_keys(SCRIPTS)["preprocess.py"]
    assert inputs["code"]["S3Uri"] == f"s3://sagemaker-project-p-abc123def456/{key}"
    assert re.fullmatch(r"pipelines/[0-9a-f]{16}/preprocess\.py", key)
    assert args["AppSpecification"]["ContainerEntrypoint"] == [
        "python3",
        f"{inputs['code']['LocalPath']}/preprocess.py",
    ]
    assert args["AppSpecification"]["ImageUri"] == {"Get": "Parameters.ProcessingImageUri"}
    assert args["RoleArn"] == ROLE
    outputs = args["ProcessingOutputConfig"]["Outputs"]
    assert [o["OutputName"] for o in outputs] == ["train", "validation", "test"]
    # Outputs land in the project's bucket, one prefix per execution.
    assert outputs[0]["S3Output"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://sagemaker-project-p-abc123def456",
                "churn-p-abc123def456",
                {"Get": "Execution.PipelineExecutionId"},
                "train",
            ],
        }
    }
    assert {"Key": "sagemaker:project-id", "Value": "p-abc123def456"} in args["Tags"]


def test_training_uses_builtin_xgboost_on_preprocessed_channels(
    definition: dict[str, Any],
) -> None:
    args = _steps_by_name(definition)["TrainAbaloneModel"]["Arguments"]
    assert args["AlgorithmSpecification"]["TrainingImage"] == {"Get": "Parameters.XGBoostImageUri"}
    channels = {c["ChannelName"]: c for c in args["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.PreprocessAbaloneData.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    assert channels["train"]["ContentType"] == "text/csv"
    assert args["HyperParameters"]["objective"] == "reg:squarederror"
    assert all(isinstance(v, str) for v in args["HyperParameters"].values())
    assert "TrainingJobName" not in args
    assert args["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"][0] == (
        "s3://sagemaker-project-p-abc123def456"
    )


def test_evaluation_exposes_report_as_property_file(definition: dict[str, Any]) -> None:
    step = _steps_by_name(definition)["EvaluateAbaloneModel"]
    inputs = {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}
    assert inputs["model"]["S3Uri"] == {
        "Get": "Steps.TrainAbaloneModel.ModelArtifacts.S3ModelArtifacts"
    }
    assert inputs["code"]["S3Uri"].endswith("/evaluate.py")
    assert step["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]


def test_quality_gate_compares_mse_with_threshold_parameter(definition: dict[str, Any]) -> None:
    condition = definition["Steps"][3]["Arguments"]
    assert condition["Conditions"] == [
        {
            "Type": "LessThanOrEqualTo",
            "LeftValue": {
                "Std:JsonGet": {
                    "PropertyFile": {
                        "Get": "Steps.EvaluateAbaloneModel.PropertyFiles.EvaluationReport"
                    },
                    "Path": "regression_metrics.mse.value",
                }
            },
            "RightValue": {"Get": "Parameters.MseThreshold"},
        }
    ]
    assert [s["Type"] for s in condition["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in condition["ElseSteps"]] == ["Fail"]


def test_failing_gate_fails_the_execution_naming_metric_and_threshold(
    definition: dict[str, Any],
) -> None:
    fail = _steps_by_name(definition)["FailQualityGate"]
    join = fail["Arguments"]["ErrorMessage"]["Std:Join"]
    text = "".join(v for v in join["Values"] if isinstance(v, str))
    assert "regression_metrics.mse.value" in text
    assert "MseThreshold" in text
    assert {"Get": "Parameters.MseThreshold"} in join["Values"]


def test_registration_is_pending_manual_approval_with_metrics(
    definition: dict[str, Any],
) -> None:
    args = _steps_by_name(definition)["RegisterAbaloneModel"]["Arguments"]
    assert args["ModelPackageGroupName"] == "churn-p-abc123def456"
    assert args["ModelApprovalStatus"] == "PendingManualApproval"
    container = args["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == {"Get": "Parameters.XGBoostImageUri"}
    assert container["ModelDataUrl"] == {
        "Get": "Steps.TrainAbaloneModel.ModelArtifacts.S3ModelArtifacts"
    }
    stats = args["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert stats["ContentType"] == "application/json"
    assert stats["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                {
                    "Get": "Steps.EvaluateAbaloneModel.ProcessingOutputConfig"
                    ".Outputs['evaluation'].S3Output.S3Uri"
                },
                "evaluation.json",
            ],
        }
    }


def test_definition_is_deterministic() -> None:
    first = json.dumps(d.build_pipeline_definition(_settings()), sort_keys=True)
    assert first == json.dumps(d.build_pipeline_definition(_settings()), sort_keys=True)


def test_fails_without_uploaded_script_uri() -> None:
    with pytest.raises(d.DefinitionError, match=r"script_uris\['evaluate.py'\]"):
        build_settings(
            project=PROJECT,
            region="eu-west-1",
            role_arn=ROLE,
            script_uris={"preprocess.py": "s3://b/k/preprocess.py"},
        )


def test_fails_with_non_positive_threshold() -> None:
    with pytest.raises(d.DefinitionError, match="mse_threshold: expected > 0, got 0"):
        d.PipelineSettings(
            pipeline_name="a-b",
            model_package_group_name="a-b",
            bucket="b",
            role_arn=ROLE,
            script_uris={"preprocess.py": "s3://b/p.py", "evaluate.py": "s3://b/e.py"},
            processing_image_uri="i",
            xgboost_image_uri="i",
            input_data_uri="s3://b/d.csv",
            tags={},
            mse_threshold=0,
        )


def test_image_uris_follow_the_documented_registries() -> None:
    assert sklearn_image_uri("us-east-1") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    assert xgboost_image_uri("us-west-2") == (
        "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert xgboost_image_uri("cn-north-1").startswith(
        "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/"
    )


def test_fails_for_unknown_region_naming_the_override() -> None:
    with pytest.raises(UnsupportedRegionError, match="ProcessingImageUri"):
        sklearn_image_uri("xx-nowhere-1")
