"""Tests of the Service Catalog product template (modules/render/product_template.py)."""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from modules.core.template_contract import PROJECT_RULE_PREFIX
from modules.render.product_template import (
    INPUT_TEMPLATE_SUB,
    SAGEMAKER_INJECTED_PARAMETERS,
    TEMPLATE_PARAMETERS,
    USER_PARAMETERS,
    ProductTemplateError,
    ProductTemplateProps,
    launch_role_needs,
    launch_role_supplement_statements,
    render_product_template,
)

FIXTURES = Path(__file__).parent / "fixtures" / "product_template"
FUNCTION_NAME = "sagemaker-github-workflow-trigger"
SECRET_NAME = "sagemaker-github-token"
ORIGINAL_PARAMETERS = (
    "SageMakerProjectName",
    "SageMakerProjectId",
    "CodeRepositoryName",
    "GitHubRepositoryOwnerName",
    "CodestarConnectionUniqueId",
    "GitHubTokenSecretName",
    "GitHubWorkflowNameForDeployment",
)
# Values CloudFormation would substitute when SageMaker provisions the product.
SAMPLE = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::URLSuffix": "amazonaws.com",
    "SageMakerProjectName": "churn-model",
    "SageMakerProjectId": "p-abc123def456",
    "CodeRepositoryName": "churn-model",
    "GitHubRepositoryOwnerName": "acme",
    "CodestarConnectionUniqueId": "aEXAMPLE-8aad-4d5d-8878-dfcab0bc441f",
    "GitHubTokenSecretName": SECRET_NAME,
    "GitHubWorkflowNameForDeployment": "deploy.yml",
    "GitHubRepositoryBranch": "main",
    # resource attribute used in the bucket policy's Fn::Sub
    "ArtifactsBucket.Arn": "arn:aws:s3:::sagemaker-project-p-abc123def456",
}
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"]


def _props(**overrides: Any) -> ProductTemplateProps:
    values: dict[str, Any] = {
        "trigger_function_name": FUNCTION_NAME,
        "default_token_secret_name": SECRET_NAME,
    }
    values.update(overrides)
    return ProductTemplateProps(**values)


@pytest.fixture(scope="module")
def rendered() -> str:
    return render_product_template(_props())


@pytest.fixture(scope="module")
def template(rendered: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(rendered)
    return loaded


def _sub(text: str, values: dict[str, str] = SAMPLE) -> str:
    """Resolve ${Name} references the way Fn::Sub does; unknown names fail the test."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"unresolved ${{{name}}} in {text!r}"
        return values[name]

    return re.sub(r"\$\{([^}!]+)\}", replace, text)


def _resolve(value: Any, values: dict[str, str] = SAMPLE) -> Any:
    """Evaluate Fn::Sub and Ref of parameters/pseudo parameters in a template fragment."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return _sub(value["Fn::Sub"], values)
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in values:
        return values[value["Ref"]]
    if isinstance(value, dict):
        return {key: _resolve(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, values) for item in value]
    return value


def _resource(template: dict[str, Any], logical_id: str, resource_type: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][logical_id]
    assert resource["Type"] == resource_type
    return resource


def _findings(text: str) -> list[str]:
    matches = lint(text, config=ManualArgs(regions=LINT_REGIONS, include_checks=["I"]))
    return [f"{match.rule.id} {match.message}" for match in matches]


# --- rendering -----------------------------------------------------------------------------


def test_render_is_byte_identical_for_equal_props(rendered: str) -> None:
    again = render_product_template(_props())
    assert again == rendered
    assert rendered.endswith("}\n")
    assert "\r" not in rendered
    assert render_product_template(_props(default_branch="release")) != rendered


def test_template_sections_in_stable_order(template: dict[str, Any]) -> None:
    assert list(template) == [
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Resources",
        "Outputs",
    ]
    assert list(template["Resources"]) == [
        "ArtifactsBucket",
        "ArtifactsBucketPolicy",
        "ModelPackageGroup",
        "ModelApprovedRule",
        "CodeRepository",
    ]


def test_no_hard_coded_partition_region_or_account(rendered: str) -> None:
    assert "arn:aws:" not in rendered
    assert re.search(r"\b\d{12}\b", rendered) is None
    assert re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", rendered) is None
    assert "amazonaws.com/" not in rendered  # host built from ${AWS::URLSuffix}


# --- parameters ----------------------------------------------------------------------------


def test_parameters_keep_original_names_then_branch(template: dict[str, Any]) -> None:
    # the original template's seven, in its order, then the branch (literal expectations)
    assert tuple(template["Parameters"]) == (*ORIGINAL_PARAMETERS, "GitHubRepositoryBranch")
    assert tuple(template["Parameters"]) == TEMPLATE_PARAMETERS
    assert SAGEMAKER_INJECTED_PARAMETERS == ("SageMakerProjectName", "SageMakerProjectId")
    assert (*ORIGINAL_PARAMETERS[2:], "GitHubRepositoryBranch") == USER_PARAMETERS
    assert all(spec["Type"] == "String" for spec in template["Parameters"].values())


def test_parameter_defaults_come_from_props() -> None:
    parameters = json.loads(
        render_product_template(
            _props(
                default_token_secret_name="team/github-token",
                default_branch="release/v2",
                default_workflow="promote.yaml",
            )
        )
    )["Parameters"]
    assert parameters["GitHubTokenSecretName"]["Default"] == "team/github-token"
    assert parameters["GitHubRepositoryBranch"]["Default"] == "release/v2"
    assert parameters["GitHubWorkflowNameForDeployment"]["Default"] == "promote.yaml"
    for required in (
        "SageMakerProjectName",
        "SageMakerProjectId",
        "CodeRepositoryName",
        "GitHubRepositoryOwnerName",
        "CodestarConnectionUniqueId",
    ):
        assert "Default" not in parameters[required]


def test_project_name_keeps_original_constraints(template: dict[str, Any]) -> None:
    spec = template["Parameters"]["SageMakerProjectName"]
    assert (spec["MinLength"], spec["MaxLength"]) == (1, 32)
    assert spec["AllowedPattern"] == r"^[a-zA-Z](-*[a-zA-Z0-9])*$"


def test_parameter_patterns_accept_samples_and_reject_json_breakers(
    template: dict[str, Any],
) -> None:
    for name, spec in template["Parameters"].items():
        pattern = spec["AllowedPattern"]
        assert re.fullmatch(pattern, SAMPLE[name]), name
        if "Default" in spec:
            assert re.fullmatch(pattern, spec["Default"]), name
        for breaker in ('a"b', "a\\b", "a${x}", "a b", "a\nb"):
            assert re.fullmatch(pattern, breaker) is None, (name, breaker)


# --- resources -----------------------------------------------------------------------------


def test_bucket_is_hardened(template: dict[str, Any]) -> None:
    bucket = _resource(template, "ArtifactsBucket", "AWS::S3::Bucket")
    props = _resolve(bucket["Properties"])
    assert props["BucketName"] == "sagemaker-project-p-abc123def456"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    assert bucket["UpdateReplacePolicy"] == "Retain"


def test_bucket_policy_denies_requests_without_tls(template: dict[str, Any]) -> None:
    policy = _resource(template, "ArtifactsBucketPolicy", "AWS::S3::BucketPolicy")
    assert policy["Properties"]["Bucket"] == {"Ref": "ArtifactsBucket"}
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {statement["Sid"]: statement for statement in statements}
    assert set(by_sid) == {"DenyInsecureTransport", "DenyTlsBelow12"}
    for statement in statements:
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "s3:*"
        bucket_ref, objects = statement["Resource"]
        assert bucket_ref == {"Fn::GetAtt": ["ArtifactsBucket", "Arn"]}
        assert _sub(objects["Fn::Sub"]) == ("arn:aws:s3:::sagemaker-project-p-abc123def456/*")
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert by_sid["DenyTlsBelow12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


def test_model_package_group_is_named_after_the_pipeline(template: dict[str, Any]) -> None:
    group = _resource(template, "ModelPackageGroup", "AWS::SageMaker::ModelPackageGroup")
    props = _resolve(group["Properties"])
    assert props["ModelPackageGroupName"] == "churn-model-p-abc123def456"
    assert "churn-model" in props["ModelPackageGroupDescription"]
    assert group["DeletionPolicy"] == "RetainExceptOnCreate"


def test_rule_matches_approved_versions_of_the_project_group(template: dict[str, Any]) -> None:
    rule = _resource(template, "ModelApprovedRule", "AWS::Events::Rule")
    props = _resolve(rule["Properties"])
    assert props["Name"] == "sagemaker-github-mlops-p-abc123def456"
    assert props["State"] == "ENABLED"
    assert props["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": ["churn-model-p-abc123def456"],
            "ModelApprovalStatus": ["Approved"],
        },
    }
    (target,) = props["Targets"]
    assert target["Id"] == "github-workflow-trigger"
    assert target["Arn"] == (
        "arn:aws:lambda:eu-west-1:111122223333:function:sagemaker-github-workflow-trigger"
    )
    assert set(target["InputTransformer"]) == {"InputTemplate"}
    assert "RoleArn" not in target  # a Lambda target needs no role, so no iam:PassRole


def test_input_transformer_delivers_the_contract_shape(template: dict[str, Any]) -> None:
    rule = template["Resources"]["ModelApprovedRule"]["Properties"]
    input_template = _sub(rule["Targets"][0]["InputTransformer"]["InputTemplate"]["Fn::Sub"])
    event_text = (FIXTURES / "model_package_state_change_event.json").read_text()
    assert input_template.count("<aws.events.event.json>") == 1
    assert '"<aws.events.event.json>"' not in input_template  # must stand unquoted
    delivered = json.loads(input_template.replace("<aws.events.event.json>", event_text))
    assert delivered == {
        "event": json.loads(event_text),
        "github": {
            "owner": "acme",
            "repository": "churn-model",
            "workflow": "deploy.yml",
            "ref": "main",
            "token_secret_name": "sagemaker-github-token",
            "model_package_group_name": "churn-model-p-abc123def456",
        },
    }


def test_input_template_fits_eventbridge_limit_with_longest_values(
    template: dict[str, Any],
) -> None:
    longest = {name: "x" * spec["MaxLength"] for name, spec in template["Parameters"].items()}
    assert len(_sub(INPUT_TEMPLATE_SUB, {**SAMPLE, **longest})) <= 8192


def test_template_adds_no_statement_to_the_shared_function(template: dict[str, Any]) -> None:
    """Terraform grants one permission for all projects' rules (modules/aws/trigger_function.py);
    a statement per project would fill the function's 20 KB resource policy at ~45 projects."""
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert "AWS::Lambda::Permission" not in types
    assert "lambda:AddPermission" not in {
        action for need in launch_role_needs(_props()) for action in need.actions
    }


def test_rule_name_is_the_toolkit_prefix_and_the_project_id(template: dict[str, Any]) -> None:
    rule = _resolve(template["Resources"]["ModelApprovedRule"]["Properties"])
    assert rule["Name"] == PROJECT_RULE_PREFIX + SAMPLE["SageMakerProjectId"]
    assert PROJECT_RULE_PREFIX.startswith("sagemaker-")  # the launch role creates sagemaker-*


def test_function_arn_uses_pseudo_parameters(template: dict[str, Any]) -> None:
    target = template["Resources"]["ModelApprovedRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "sagemaker-github-workflow-trigger"
    }


def test_code_repository_goes_through_the_connection(template: dict[str, Any]) -> None:
    repository = _resource(template, "CodeRepository", "AWS::SageMaker::CodeRepository")
    props = _resolve(repository["Properties"])
    assert props == {
        "CodeRepositoryName": "churn-model-p-abc123def456",
        "GitConfig": {
            "RepositoryUrl": "https://codestar-connections.eu-west-1.amazonaws.com/git-http/"
            "111122223333/eu-west-1/aEXAMPLE-8aad-4d5d-8878-dfcab0bc441f/acme/churn-model.git",
            "Branch": "main",
        },
    }


def test_outputs_cover_every_resource(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert {name: _resolve(spec["Value"]) for name, spec in outputs.items()} == {
        "ArtifactsBucketName": {"Ref": "ArtifactsBucket"},
        "ArtifactsBucketArn": {"Fn::GetAtt": ["ArtifactsBucket", "Arn"]},
        "ModelPackageGroupName": "churn-model-p-abc123def456",
        "ModelPackageGroupArn": {"Fn::GetAtt": ["ModelPackageGroup", "ModelPackageGroupArn"]},
        "ModelApprovedRuleName": {"Ref": "ModelApprovedRule"},
        "ModelApprovedRuleArn": {"Fn::GetAtt": ["ModelApprovedRule", "Arn"]},
        "TriggerFunctionArn": (
            "arn:aws:lambda:eu-west-1:111122223333:function:sagemaker-github-workflow-trigger"
        ),
        "CodeRepositoryName": {"Fn::GetAtt": ["CodeRepository", "CodeRepositoryName"]},
    }
    assert all(spec["Description"] for spec in outputs.values())


def test_names_fit_service_limits_with_longest_parameters(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    longest = {
        **SAMPLE,
        "SageMakerProjectName": "a" * parameters["SageMakerProjectName"]["MaxLength"],
        "SageMakerProjectId": "p" * parameters["SageMakerProjectId"]["MaxLength"],
    }
    resources = _resolve(template["Resources"], longest)
    rule_name = resources["ModelApprovedRule"]["Properties"]["Name"]
    bucket_name = resources["ArtifactsBucket"]["Properties"]["BucketName"]
    group_name = resources["ModelPackageGroup"]["Properties"]["ModelPackageGroupName"]
    repo_name = resources["CodeRepository"]["Properties"]["CodeRepositoryName"]
    assert len(rule_name) <= 64
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket_name)
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", group_name)
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", repo_name)


# --- launch role -----------------------------------------------------------------------------


def _managed_statements() -> list[dict[str, Any]]:
    document = json.loads((FIXTURES / "launch_role_managed_policy.json").read_text())
    assert document["VersionId"] == "v12"
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# Tag actions are granted with ForAllValues:StringLike aws:TagKeys sagemaker:*; the tags
# CloudFormation propagates to these resources are SageMaker's sagemaker:project-* stack tags.
_TAG_CONDITION = {"ForAllValues:StringLike": {"aws:TagKeys": ["sagemaker:*"]}}


def _allows(statements: list[dict[str, Any]], action: str, arn: str) -> bool:
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        if "Condition" in statement and statement["Condition"] != _TAG_CONDITION:
            continue  # e.g. PassConnection only when passed to CodePipeline
        if not any(
            fnmatch.fnmatchcase(action.lower(), pattern.lower())
            for pattern in _as_list(statement["Action"])
        ):
            continue
        if any(fnmatch.fnmatchcase(arn, pattern) for pattern in _as_list(statement["Resource"])):
            return True
    return False


def _needs() -> list[tuple[str, str, str]]:
    """(logical id, action, concrete ARN) for every action CloudFormation performs."""
    return [
        (need.logical_id, action, _sub(need.arn))
        for need in launch_role_needs(_props())
        for action in need.actions
    ]


def _supplement() -> list[dict[str, Any]]:
    return launch_role_supplement_statements(
        partition=SAMPLE["AWS::Partition"],
        region=SAMPLE["AWS::Region"],
        account_id=SAMPLE["AWS::AccountId"],
    )


def test_needs_cover_every_resource_and_match_its_type(template: dict[str, Any]) -> None:
    needs = launch_role_needs(_props())
    assert {need.logical_id: need.resource_type for need in needs} == {
        logical_id: resource["Type"] for logical_id, resource in template["Resources"].items()
    }


def test_needs_are_actions_of_the_cloudformation_handlers() -> None:
    for need in launch_role_needs(_props()):
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", need.resource_type)
        handlers = schema.schema["handlers"]
        known = {
            permission
            for operation in ("create", "delete", "update")
            for permission in handlers.get(operation, {}).get("permissions", [])
        }
        assert set(need.actions) <= known, (need.logical_id, set(need.actions) - known)
        assert {"create", "delete"} <= set(handlers)
        assert set(need.actions) & set(handlers["create"]["permissions"])
        assert set(need.actions) & set(handlers["delete"]["permissions"])


def test_launch_role_resource_names(template: dict[str, Any]) -> None:
    arns = {logical_id: arn for logical_id, _, arn in _needs()}
    assert arns == {
        "ArtifactsBucket": "arn:aws:s3:::sagemaker-project-p-abc123def456",
        "ArtifactsBucketPolicy": "arn:aws:s3:::sagemaker-project-p-abc123def456",
        "ModelPackageGroup": (
            "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/"
            "churn-model-p-abc123def456"
        ),
        "ModelApprovedRule": (
            "arn:aws:events:eu-west-1:111122223333:rule/sagemaker-github-mlops-p-abc123def456"
        ),
        "CodeRepository": (
            "arn:aws:sagemaker:eu-west-1:111122223333:code-repository/churn-model-p-abc123def456"
        ),
    }
    # The names in the needs are the names the template creates.
    resources = _resolve(template["Resources"])
    assert arns["ArtifactsBucket"].endswith(
        resources["ArtifactsBucket"]["Properties"]["BucketName"]
    )
    assert arns["ModelApprovedRule"].endswith(resources["ModelApprovedRule"]["Properties"]["Name"])


def test_name_prefixed_actions_are_granted_by_the_managed_policy() -> None:
    managed = _managed_statements()
    for logical_id, action in (
        ("ArtifactsBucket", "s3:CreateBucket"),
        ("ArtifactsBucket", "s3:PutEncryptionConfiguration"),
        ("ArtifactsBucket", "s3:PutBucketPublicAccessBlock"),
        ("ArtifactsBucket", "s3:PutBucketTagging"),
        ("ArtifactsBucket", "s3:DeleteBucket"),
        ("ArtifactsBucketPolicy", "s3:PutBucketPolicy"),
        ("ArtifactsBucketPolicy", "s3:DeleteBucketPolicy"),
        ("ModelApprovedRule", "events:PutRule"),
        ("ModelApprovedRule", "events:PutTargets"),
        ("ModelApprovedRule", "events:DeleteRule"),
        ("CodeRepository", "sagemaker:CreateCodeRepository"),
        ("CodeRepository", "sagemaker:DeleteCodeRepository"),
    ):
        arn = next(arn for lid, act, arn in _needs() if (lid, act) == (logical_id, action))
        assert _allows(managed, action, arn), (logical_id, action, arn)


def test_prefix_matters_for_the_rules() -> None:
    managed = _managed_statements()
    other = "arn:aws:events:eu-west-1:111122223333:rule/github-mlops-p-abc123def456"
    assert not _allows(managed, "events:PutRule", other)


def test_every_need_is_granted_by_managed_policy_or_supplement() -> None:
    granted = _managed_statements() + _supplement()
    missing = [need for need in _needs() if not _allows(granted, need[1], need[2])]
    assert missing == []


def test_supplement_grants_exactly_the_managed_policy_gap() -> None:
    managed = _managed_statements()
    gap = {(action, arn) for _, action, arn in _needs() if not _allows(managed, action, arn)}
    assert {action for action, _ in gap} == {
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketVersioning",
        "events:TagResource",
        "events:ListTargetsByRule",
        "sagemaker:CreateModelPackageGroup",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:GetModelPackageGroupPolicy",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
        "sagemaker:DeleteModelPackageGroup",
        "sagemaker:DeleteModelPackageGroupPolicy",
    }
    supplement = _supplement()
    # Each supplement action is used on a resource the managed policy does not cover ...
    for statement in supplement:
        for action in statement["Action"]:
            assert any(a == action and _allows([statement], a, arn) for a, arn in gap), (
                statement["Sid"],
                action,
            )
    # ... and none of them is already granted on that resource by the managed policy.
    for statement in supplement:
        for action in statement["Action"]:
            for pattern in statement["Resource"]:
                sample = pattern.replace("*", "x")
                assert not _allows(managed, action, sample), (action, pattern)


def test_supplement_uses_the_given_partition_region_and_account() -> None:
    statements = launch_role_supplement_statements(
        partition="${P}", region="${R}", account_id="${A}"
    )
    resources = [arn for statement in statements for arn in statement["Resource"]]
    assert resources == [
        "arn:${P}:s3:::sagemaker-project-*",
        "arn:${P}:events:${R}:${A}:rule/sagemaker-*",
        "arn:${P}:sagemaker:${R}:${A}:model-package-group/*",
        "arn:${P}:sagemaker:${R}:${A}:code-repository/*",
    ]
    assert len({statement["Sid"] for statement in statements}) == len(statements)


def test_code_repository_needs_no_connection_permission_from_launch_role(
    template: dict[str, Any],
) -> None:
    repository = template["Resources"]["CodeRepository"]["Properties"]
    assert set(repository["GitConfig"]) == {"RepositoryUrl", "Branch"}  # no SecretArn
    needed = {action for _, action, _ in _needs()}
    assert not {a for a in needed if a.startswith(("codestar-connections:", "codeconnections:"))}


# --- cfn-lint --------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing(rendered: str) -> None:
    assert _findings(rendered) == []


def test_cfn_lint_catches_a_broken_template(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    del broken["Resources"]["ModelApprovedRule"]["Properties"]["Targets"][0]["Arn"]
    broken["Resources"]["ArtifactsBucket"]["Properties"]["VersioningConfiguration"] = {
        "Status": "On"
    }
    findings = _findings(json.dumps(broken, indent=2))
    assert any(finding.startswith("E3003") for finding in findings), findings  # Arn required
    assert any("'On'" in finding for finding in findings), findings


# --- props validation ----------------------------------------------------------------------------


def test_fails_on_function_name_outside_launch_role_scope() -> None:
    with pytest.raises(ProductTemplateError, match=r"trigger_function_name.*'github-trigger'"):
        _props(trigger_function_name="github-trigger")


def test_fails_on_function_name_too_long() -> None:
    with pytest.raises(ProductTemplateError, match="trigger_function_name"):
        _props(trigger_function_name="sagemaker-" + "x" * 60)


def test_fails_on_secret_name_with_quote() -> None:
    with pytest.raises(ProductTemplateError, match="default_token_secret_name"):
        _props(default_token_secret_name='token"name')


def test_fails_on_branch_with_space() -> None:
    with pytest.raises(ProductTemplateError, match="default_branch"):
        _props(default_branch="my branch")


def test_fails_on_workflow_that_is_not_yaml() -> None:
    with pytest.raises(ProductTemplateError, match="default_workflow"):
        _props(default_workflow="deploy.sh")


def test_fails_on_empty_description() -> None:
    with pytest.raises(ProductTemplateError, match="description"):
        _props(description="  ")


def test_props_are_frozen_and_keyword_only() -> None:
    props = _props()
    with pytest.raises(AttributeError):
        props.default_branch = "dev"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ProductTemplateProps(FUNCTION_NAME, SECRET_NAME)  # type: ignore[call-arg]
