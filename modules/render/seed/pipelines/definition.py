"""The SageMaker model-building pipeline definition, as the JSON document SageMaker reads.

The pipeline (named `<project-name>-<project-id>`) runs, for one execution:

1. `PreprocessAbaloneData`  processing job (scikit-learn image, `scripts/preprocess.py`):
   cleans, encodes and splits the input CSV into train / validation / test.
2. `TrainAbaloneModel`      training job with the built-in XGBoost algorithm.
3. `EvaluateAbaloneModel`   processing job (XGBoost image, `scripts/evaluate.py`): writes
   `evaluation.json`, exposed to later steps as the property file `EvaluationReport`.
4. `CheckMseAbaloneEvaluation` condition: `regression_metrics.mse.value <= MseThreshold`.
   - if true:  `RegisterAbaloneModel` registers the model in the model package group
     `<project-name>-<project-id>` with status `PendingManualApproval`, evaluation report attached;
   - if false: `FailQualityGate` ends the execution as Failed, naming the metric and threshold.

The document follows the pipeline definition schema, version "2020-12-01": parameters are
referenced as `{"Get": "Parameters.<name>"}`, step outputs as `{"Get": "Steps.<step>...."}`,
strings are built with `Std:Join` and the evaluation report is read with `Std:JsonGet`.
It is built as plain dicts (no SageMaker Python SDK) so it can be generated and checked offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]

DEFINITION_VERSION = "2020-12-01"

PREPROCESS_STEP = "PreprocessAbaloneData"
TRAIN_STEP = "TrainAbaloneModel"
EVALUATE_STEP = "EvaluateAbaloneModel"
CONDITION_STEP = "CheckMseAbaloneEvaluation"
REGISTER_STEP = "RegisterAbaloneModel"
FAIL_STEP = "FailQualityGate"

EVALUATION_PROPERTY_FILE = "EvaluationReport"
EVALUATION_REPORT_NAME = "evaluation.json"
GATE_METRIC_PATH = "regression_metrics.mse.value"
MODEL_APPROVAL_STATUS = "PendingManualApproval"

# Pipeline parameter names (a public interface: `--parameter Name=Value` of run_pipeline).
PARAM_INPUT_DATA = "InputDataUrl"
PARAM_PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
PARAM_PROCESSING_INSTANCE_COUNT = "ProcessingInstanceCount"
PARAM_TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
PARAM_TRAINING_INSTANCE_COUNT = "TrainingInstanceCount"
PARAM_MSE_THRESHOLD = "MseThreshold"
PARAM_PROCESSING_IMAGE = "ProcessingImageUri"
PARAM_XGBOOST_IMAGE = "XGBoostImageUri"

# Every pipeline parameter and its definition type, in definition order.
PARAMETER_TYPES: dict[str, str] = {
    PARAM_INPUT_DATA: "String",
    PARAM_PROCESSING_INSTANCE_TYPE: "String",
    PARAM_PROCESSING_INSTANCE_COUNT: "Integer",
    PARAM_TRAINING_INSTANCE_TYPE: "String",
    PARAM_TRAINING_INSTANCE_COUNT: "Integer",
    PARAM_MSE_THRESHOLD: "Float",
    PARAM_PROCESSING_IMAGE: "String",
    PARAM_XGBOOST_IMAGE: "String",
}

PREPROCESS_SCRIPT = "preprocess.py"
EVALUATE_SCRIPT = "evaluate.py"

_PROCESSING_ROOT = "/opt/ml/processing"
_CODE_DIR = f"{_PROCESSING_ROOT}/input/code"

_XGBOOST_HYPERPARAMETERS: dict[str, str] = {
    "objective": "reg:squarederror",
    "num_round": "50",
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.7",
}


class DefinitionError(ValueError):
    """Raised when the pipeline settings cannot produce a valid definition."""


@dataclass(frozen=True, kw_only=True)
class PipelineSettings:
    """Everything the pipeline definition depends on.

    Attributes:
        pipeline_name: `<project-name>-<project-id>`; also the prefix of every S3 output.
        model_package_group_name: model registry group, `<project-name>-<project-id>`.
        bucket: the project's artifacts bucket, `sagemaker-project-<project-id>`.
        role_arn: execution role of the processing and training jobs.
        script_uris: S3 URI of each uploaded script, keyed by file name
            (`preprocess.py`, `evaluate.py`).
        processing_image_uri: default of `ProcessingImageUri` (scikit-learn image).
        xgboost_image_uri: default of `XGBoostImageUri` (built-in XGBoost image, used for
            training, evaluation and inference).
        input_data_uri: default of `InputDataUrl`.
        tags: tags attached to the processing and training jobs and to the model package.
        instance_type: default of both instance type parameters. Default: ml.m5.xlarge.
        instance_count: default of both instance count parameters. Default: 1.
        mse_threshold: default of `MseThreshold`. Default: 6.0 (as the original template).
        max_runtime_seconds: stopping condition of each job. Default: one hour.
    """

    pipeline_name: str
    model_package_group_name: str
    bucket: str
    role_arn: str
    script_uris: dict[str, str]
    processing_image_uri: str
    xgboost_image_uri: str
    input_data_uri: str
    tags: dict[str, str]
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    mse_threshold: float = 6.0
    max_runtime_seconds: int = 3600

    def __post_init__(self) -> None:
        for script in (PREPROCESS_SCRIPT, EVALUATE_SCRIPT):
            uri = self.script_uris.get(script, "")
            if not uri.startswith("s3://"):
                raise DefinitionError(
                    f"script_uris[{script!r}]: expected an s3:// URI of the uploaded script, "
                    f"got {uri!r}"
                )
        if not self.input_data_uri.startswith("s3://"):
            raise DefinitionError(
                f"input_data_uri: expected an s3:// URI, got {self.input_data_uri!r}"
            )
        if self.instance_count < 1:
            raise DefinitionError(f"instance_count: expected >= 1, got {self.instance_count}")
        if self.mse_threshold <= 0:
            raise DefinitionError(f"mse_threshold: expected > 0, got {self.mse_threshold}")


def parameter(name: str) -> JsonDict:
    """Reference to a pipeline parameter."""
    return {"Get": f"Parameters.{name}"}


def step_property(step: str, path: str) -> JsonDict:
    """Reference to a property of a step's describe response (e.g. `ModelArtifacts...`)."""
    return {"Get": f"Steps.{step}.{path}"}


def processing_output_uri(step: str, output_name: str) -> JsonDict:
    """Reference to the S3 URI of a named output of a processing step."""
    return step_property(step, f"ProcessingOutputConfig.Outputs['{output_name}'].S3Output.S3Uri")


def join(values: list[Any], on: str = "") -> JsonDict:
    """`Std:Join` of literal strings and references."""
    return {"Std:Join": {"On": on, "Values": values}}


def json_get(step: str, property_file: str, path: str) -> JsonDict:
    """`Std:JsonGet` of a value in a property file written by a processing step."""
    return {
        "Std:JsonGet": {
            "PropertyFile": {"Get": f"Steps.{step}.PropertyFiles.{property_file}"},
            "Path": path,
        }
    }


EXECUTION_ID: JsonDict = {"Get": "Execution.PipelineExecutionId"}


def _output_uri(settings: PipelineSettings, leaf: str) -> JsonDict:
    """s3://<bucket>/<pipeline>/<execution id>/<leaf>: one prefix per execution."""
    return join([f"s3://{settings.bucket}", settings.pipeline_name, EXECUTION_ID, leaf], on="/")


def _tag_list(settings: PipelineSettings) -> list[JsonDict]:
    return [{"Key": key, "Value": value} for key, value in sorted(settings.tags.items())]


def _s3_input(name: str, uri: Any, local_path: str) -> JsonDict:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def _s3_output(settings: PipelineSettings, name: str) -> JsonDict:
    return {
        "OutputName": name,
        "S3Output": {
            "S3Uri": _output_uri(settings, name),
            "LocalPath": f"{_PROCESSING_ROOT}/{name}",
            "S3UploadMode": "EndOfJob",
        },
    }


def _processing_arguments(
    settings: PipelineSettings,
    *,
    image: JsonDict,
    script: str,
    inputs: list[JsonDict],
    outputs: list[str],
) -> JsonDict:
    code_input = _s3_input("code", settings.script_uris[script], _CODE_DIR)
    return {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": parameter(PARAM_PROCESSING_INSTANCE_TYPE),
                "InstanceCount": parameter(PARAM_PROCESSING_INSTANCE_COUNT),
                "VolumeSizeInGB": 30,
            }
        },
        "AppSpecification": {
            "ImageUri": image,
            "ContainerEntrypoint": ["python3", f"{_CODE_DIR}/{script}"],
        },
        "RoleArn": settings.role_arn,
        "ProcessingInputs": [*inputs, code_input],
        "ProcessingOutputConfig": {"Outputs": [_s3_output(settings, name) for name in outputs]},
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
        "Tags": _tag_list(settings),
    }


def _preprocess_step(settings: PipelineSettings) -> JsonDict:
    return {
        "Name": PREPROCESS_STEP,
        "Type": "Processing",
        "Description": "Clean, encode and split the input data into train/validation/test.",
        "Arguments": _processing_arguments(
            settings,
            image=parameter(PARAM_PROCESSING_IMAGE),
            script=PREPROCESS_SCRIPT,
            inputs=[
                _s3_input(
                    "input-data", parameter(PARAM_INPUT_DATA), f"{_PROCESSING_ROOT}/input/data"
                )
            ],
            outputs=["train", "validation", "test"],
        ),
    }


def _training_channel(name: str) -> JsonDict:
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": processing_output_uri(PREPROCESS_STEP, name),
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }


def _train_step(settings: PipelineSettings) -> JsonDict:
    return {
        "Name": TRAIN_STEP,
        "Type": "Training",
        "Description": "Train a regression model with the built-in XGBoost algorithm.",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": parameter(PARAM_XGBOOST_IMAGE),
                "TrainingInputMode": "File",
            },
            "HyperParameters": dict(_XGBOOST_HYPERPARAMETERS),
            "InputDataConfig": [_training_channel("train"), _training_channel("validation")],
            "OutputDataConfig": {"S3OutputPath": _output_uri(settings, "model")},
            "ResourceConfig": {
                "InstanceType": parameter(PARAM_TRAINING_INSTANCE_TYPE),
                "InstanceCount": parameter(PARAM_TRAINING_INSTANCE_COUNT),
                "VolumeSizeInGB": 30,
            },
            "RoleArn": settings.role_arn,
            "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
            "Tags": _tag_list(settings),
        },
    }


def _evaluate_step(settings: PipelineSettings) -> JsonDict:
    return {
        "Name": EVALUATE_STEP,
        "Type": "Processing",
        "Description": "Score the model on the test split and write the metrics report.",
        "Arguments": _processing_arguments(
            settings,
            image=parameter(PARAM_XGBOOST_IMAGE),
            script=EVALUATE_SCRIPT,
            inputs=[
                _s3_input(
                    "model",
                    step_property(TRAIN_STEP, "ModelArtifacts.S3ModelArtifacts"),
                    f"{_PROCESSING_ROOT}/model",
                ),
                _s3_input(
                    "test",
                    processing_output_uri(PREPROCESS_STEP, "test"),
                    f"{_PROCESSING_ROOT}/test",
                ),
            ],
            outputs=["evaluation"],
        ),
        "PropertyFiles": [
            {
                "PropertyFileName": EVALUATION_PROPERTY_FILE,
                "OutputName": "evaluation",
                "FilePath": EVALUATION_REPORT_NAME,
            }
        ],
    }


def _register_step(settings: PipelineSettings) -> JsonDict:
    return {
        "Name": REGISTER_STEP,
        "Type": "RegisterModel",
        "Description": "Register the model for manual approval.",
        "Arguments": {
            "ModelPackageGroupName": settings.model_package_group_name,
            "ModelApprovalStatus": MODEL_APPROVAL_STATUS,
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": parameter(PARAM_XGBOOST_IMAGE),
                        "ModelDataUrl": step_property(
                            TRAIN_STEP, "ModelArtifacts.S3ModelArtifacts"
                        ),
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
                "SupportedRealtimeInferenceInstanceTypes": ["ml.t2.medium", "ml.m5.large"],
                "SupportedTransformInstanceTypes": ["ml.m5.large"],
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": join(
                            [
                                processing_output_uri(EVALUATE_STEP, "evaluation"),
                                EVALUATION_REPORT_NAME,
                            ],
                            on="/",
                        ),
                    }
                }
            },
            "Tags": _tag_list(settings),
        },
    }


def _fail_step() -> JsonDict:
    return {
        "Name": FAIL_STEP,
        "Type": "Fail",
        "Description": "End the execution as Failed when the model misses the quality gate.",
        "Arguments": {
            "ErrorMessage": join(
                [
                    f"Quality gate failed: {GATE_METRIC_PATH} of the evaluation report is above "
                    f"the threshold {PARAM_MSE_THRESHOLD}=",
                    parameter(PARAM_MSE_THRESHOLD),
                ]
            )
        },
    }


def _condition_step(settings: PipelineSettings) -> JsonDict:
    return {
        "Name": CONDITION_STEP,
        "Type": "Condition",
        "Description": f"Quality gate: {GATE_METRIC_PATH} <= {PARAM_MSE_THRESHOLD}.",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "LessThanOrEqualTo",
                    "LeftValue": json_get(
                        EVALUATE_STEP, EVALUATION_PROPERTY_FILE, GATE_METRIC_PATH
                    ),
                    "RightValue": parameter(PARAM_MSE_THRESHOLD),
                }
            ],
            "IfSteps": [_register_step(settings)],
            "ElseSteps": [_fail_step()],
        },
    }


def _parameters(settings: PipelineSettings) -> list[JsonDict]:
    defaults: dict[str, str | int | float] = {
        PARAM_INPUT_DATA: settings.input_data_uri,
        PARAM_PROCESSING_INSTANCE_TYPE: settings.instance_type,
        PARAM_PROCESSING_INSTANCE_COUNT: settings.instance_count,
        PARAM_TRAINING_INSTANCE_TYPE: settings.instance_type,
        PARAM_TRAINING_INSTANCE_COUNT: settings.instance_count,
        PARAM_MSE_THRESHOLD: settings.mse_threshold,
        PARAM_PROCESSING_IMAGE: settings.processing_image_uri,
        PARAM_XGBOOST_IMAGE: settings.xgboost_image_uri,
    }
    return [
        {"Name": name, "Type": kind, "DefaultValue": defaults[name]}
        for name, kind in PARAMETER_TYPES.items()
    ]


def build_pipeline_definition(settings: PipelineSettings) -> JsonDict:
    """The complete pipeline definition for `settings` (pass it through `json.dumps`)."""
    return {
        "Version": DEFINITION_VERSION,
        "Parameters": _parameters(settings),
        "Steps": [
            _preprocess_step(settings),
            _train_step(settings),
            _evaluate_step(settings),
            _condition_step(settings),
        ],
    }
