"""CloudFormation template of the Service Catalog product "build-deploy-github".

SageMaker Studio's "Create project" provisions this template through Service Catalog with the
launch role ``AmazonSageMakerServiceCatalogProductsLaunchRole``. Per SageMaker project it creates:

- a hardened artifacts bucket ``sagemaker-project-<id>`` (+ a TLS-only bucket policy),
- the model package group ``<name>-<id>``,
- an EventBridge rule ``sagemaker-github-mlops-<id>`` on "SageMaker Model Package State Change"
  with ``ModelApprovalStatus: Approved`` for that group, whose target is the shared trigger
  Lambda (created by Terraform, referenced here only by name) with the project's GitHub
  coordinates added to the event (``INPUT_TEMPLATE_SUB`` below),
- the SageMaker code repository reached through the CodeConnections git-http URL.

The launch role's managed policy (AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy)
scopes most actions by a ``sagemaker-`` name prefix, which is why the bucket, the rule and the
shared function are named ``sagemaker-...``. The template adds no permission to the shared
function: Terraform grants one, for every rule named ``PROJECT_RULE_PREFIX`` + id (one resource
policy statement whatever the number of projects; see ``modules/aws/trigger_function.py``).
A few actions the template needs are not granted by that policy at all;
:func:`launch_role_supplement_statements` returns them as IAM statements to attach to the
launch role.

The template is rendered as JSON (long-form intrinsics such as ``Fn::Sub``): it parses with the
standard library, has no YAML ambiguities, and ``json.dumps`` with a fixed key insertion order
gives byte-identical output for equal props. This module does not import cdktf.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from modules.core.template_contract import (
    BRANCH_MAX_LENGTH,
    BRANCH_PATTERN,
    PROJECT_NAME_MAX_LENGTH,
    PROJECT_NAME_PATTERN,
    PROJECT_RULE_PREFIX,
    SAGEMAKER_INJECTED_PARAMETERS,
    TEMPLATE_PARAMETERS,
    USER_PARAMETERS,
)

__all__ = [
    "GROUP_POLICY_MAX_LENGTH",
    "SAGEMAKER_INJECTED_PARAMETERS",
    "TEMPLATE_PARAMETERS",
    "USER_PARAMETERS",
    "LaunchRoleNeed",
    "ProductTemplateError",
    "ProductTemplateProps",
    "StageGrant",
    "launch_role_needs",
    "launch_role_supplement_statements",
    "render_product_template",
]

# Logical ids are a public contract: renaming one replaces the resource in every project stack.
BUCKET_ID: Final = "ArtifactsBucket"
BUCKET_POLICY_ID: Final = "ArtifactsBucketPolicy"
MODEL_PACKAGE_GROUP_ID: Final = "ModelPackageGroup"
RULE_ID: Final = "ModelApprovedRule"
CODE_REPOSITORY_ID: Final = "CodeRepository"
RULE_TARGET_ID: Final = "github-workflow-trigger"

# Name expressions (Fn::Sub syntax). Length budget, with SageMakerProjectName <= 32 and
# SageMakerProjectId <= 21: bucket 18+21=39 (<=63), group/code repository 32+1+21=54 (<=63),
# rule 23+21=44 (<=64). The rule name is the toolkit's prefix and the project id only: the
# trigger's one resource-policy statement matches exactly that prefix, so no rule outside the
# toolkit's naming (e.g. another template's ``sagemaker-*`` rules) can invoke the function.
BUCKET_NAME_SUB: Final = "sagemaker-project-${SageMakerProjectId}"
GROUP_NAME_SUB: Final = "${SageMakerProjectName}-${SageMakerProjectId}"
RULE_NAME_SUB: Final = PROJECT_RULE_PREFIX + "${SageMakerProjectId}"
CODE_REPOSITORY_NAME_SUB: Final = "${SageMakerProjectName}-${SageMakerProjectId}"
REPOSITORY_URL_SUB: Final = (
    "https://codestar-connections.${AWS::Region}.${AWS::URLSuffix}/git-http/"
    "${AWS::AccountId}/${AWS::Region}/${CodestarConnectionUniqueId}/"
    "${GitHubRepositoryOwnerName}/${CodeRepositoryName}.git"
)
# Event delivered to the trigger Lambda, read by its ``parse_invocation``
# (lambda_src/github_trigger/config.py; tests/lambda_src/test_handler.py invokes the function with
# this template's resolved output). <aws.events.event.json> is EventBridge's
# reserved variable for the whole original event; it is inserted unescaped, so it must stand
# unquoted as a JSON value. The other values are literal parameter text whose AllowedPatterns
# exclude quotes and backslashes, so the result is always valid JSON.
INPUT_TEMPLATE_SUB: Final = (
    '{"event": <aws.events.event.json>, "github": {'
    '"owner": "${GitHubRepositoryOwnerName}", '
    '"repository": "${CodeRepositoryName}", '
    '"workflow": "${GitHubWorkflowNameForDeployment}", '
    '"ref": "${GitHubRepositoryBranch}", '
    '"token_secret_name": "${GitHubTokenSecretName}", '
    '"model_package_group_name": "${SageMakerProjectName}-${SageMakerProjectId}"}}'
)

MODEL_PACKAGE_STATE_CHANGE: Final = "SageMaker Model Package State Change"

# Parameter constraints; each also keeps the value JSON-safe inside the input template.
PROJECT_ID_PATTERN: Final = r"^[a-z0-9](-*[a-z0-9])*$"
OWNER_PATTERN: Final = r"^[A-Za-z0-9](-?[A-Za-z0-9])*$"
REPOSITORY_PATTERN: Final = r"^[A-Za-z0-9._-]+$"
CONNECTION_ID_PATTERN: Final = r"^[A-Za-z0-9-]+$"
SECRET_NAME_PATTERN: Final = r"^[A-Za-z0-9/_+=.@-]+$"  # noqa: S105 - a name pattern, no secret
WORKFLOW_PATTERN: Final = r"^[A-Za-z0-9._-]+\.ya?ml$"
FUNCTION_NAME_PATTERN: Final = r"^sagemaker-[A-Za-z0-9_-]+$"

PROJECT_ID_MAX_LENGTH: Final = 21
FUNCTION_NAME_MAX_LENGTH: Final = 64
SECRET_NAME_MAX_LENGTH: Final = 512
WORKFLOW_MAX_LENGTH: Final = 255
DESCRIPTION_MAX_LENGTH: Final = 1024


# PutModelPackageGroupPolicy ResourcePolicy: at most 20,480 characters (SageMaker API
# reference; botocore sagemaker service-2 shape ``PolicyString``).
GROUP_POLICY_MAX_LENGTH: Final = 20480
STAGE_NAMES: Final = ("staging", "production")
_ACCOUNT_PATTERN: Final = r"^[0-9]{12}$"
_ENVIRONMENT_PATTERN: Final = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$"


class ProductTemplateError(ValueError):
    """Raised when ProductTemplateProps hold a value the template cannot use."""


@dataclass(frozen=True, kw_only=True)
class StageGrant:
    """Read access of one stage account to what a project of this template registers.

    The model package group policy lets the stage's deploy role describe the group's packages
    and create models from them; the bucket policy lets the stage's model role read the
    artifacts (``s3:GetObject``, never a write). Both name the account root as principal (keeps
    the group shareable and survives a re-created role) with ``aws:PrincipalArn`` like the
    stage role's IAM path ``/sagemaker-mlops/<environment>/<project>/<stage>/<kind>/``.

    Attributes:
        stage: ``staging`` or ``production``.
        account_id: the stage account.
        environment_name: the toolkit environment (part of the role paths).
    """

    stage: str
    account_id: str
    environment_name: str

    def __post_init__(self) -> None:
        if self.stage not in STAGE_NAMES:
            raise ProductTemplateError(
                f"StageGrant.stage: expected one of {STAGE_NAMES}, got {self.stage!r}"
            )
        _check("StageGrant.account_id", self.account_id, _ACCOUNT_PATTERN, 12, "an account id")
        _check(
            "StageGrant.environment_name",
            self.environment_name,
            _ENVIRONMENT_PATTERN,
            32,
            "a toolkit environment name",
        )

    def role_arn_like(self, kind: str) -> str:
        """``aws:PrincipalArn`` pattern (Fn::Sub syntax) of the stage's ``kind`` roles of the
        provisioned project."""
        return (
            f"arn:${{AWS::Partition}}:iam::{self.account_id}:role/sagemaker-mlops/"
            f"{self.environment_name}/${{SageMakerProjectName}}/{self.stage}/{kind}/*"
        )


def _check(field: str, value: str, pattern: str, max_length: int, why: str) -> None:
    if len(value) > max_length or re.fullmatch(pattern, value) is None:
        raise ProductTemplateError(
            f"ProductTemplateProps.{field}: expected {why} matching {pattern} "
            f"(at most {max_length} characters), got {value!r}"
        )


@dataclass(frozen=True, kw_only=True)
class ProductTemplateProps:
    """Inputs of the rendered template.

    Attributes:
        trigger_function_name: Name of the shared trigger Lambda created by Terraform. Must start
            with ``sagemaker-``: the launch role may add/remove permissions only on such functions.
        default_token_secret_name: Default of GitHubTokenSecretName (the Secrets Manager secret
            holding the GitHub token); a project may override it in the form.
        default_branch: Default of GitHubRepositoryBranch, the ref the deploy workflow is
            dispatched on and the code repository's branch. Default: ``main``.
        default_workflow: Default of GitHubWorkflowNameForDeployment. Default: ``deploy.yml``.
        stage_grants: stage accounts that read the project's registered models (model package
            group policy, ``s3:GetObject`` on the bucket). Default: none (no group policy, and
            the bucket policy only denies insecure transport).
        description: Template description shown by CloudFormation. Default: a sentence naming
            what the product creates.
    """

    trigger_function_name: str
    default_token_secret_name: str
    default_branch: str = "main"
    default_workflow: str = "deploy.yml"
    stage_grants: tuple[StageGrant, ...] = ()
    description: str = (
        "SageMaker project template build-deploy-github: artifacts bucket, model package group, "
        "and an EventBridge rule that dispatches the GitHub Actions deploy workflow when a model "
        "version is approved."
    )

    def __post_init__(self) -> None:
        _check(
            "trigger_function_name",
            self.trigger_function_name,
            FUNCTION_NAME_PATTERN,
            FUNCTION_NAME_MAX_LENGTH,
            "a Lambda function name starting with 'sagemaker-' (launch role policy scope)",
        )
        _check(
            "default_token_secret_name",
            self.default_token_secret_name,
            SECRET_NAME_PATTERN,
            SECRET_NAME_MAX_LENGTH,
            "a Secrets Manager secret name",
        )
        _check("default_branch", self.default_branch, BRANCH_PATTERN, BRANCH_MAX_LENGTH, "a branch")
        _check(
            "default_workflow",
            self.default_workflow,
            WORKFLOW_PATTERN,
            WORKFLOW_MAX_LENGTH,
            "a workflow file name",
        )
        if not self.description.strip() or len(self.description) > DESCRIPTION_MAX_LENGTH:
            raise ProductTemplateError(
                "ProductTemplateProps.description: expected 1 to "
                f"{DESCRIPTION_MAX_LENGTH} characters, got {len(self.description)}"
            )


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def _function_arn_sub(props: ProductTemplateProps) -> str:
    return (
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        + props.trigger_function_name
    )


def _parameters(props: ProductTemplateProps) -> dict[str, dict[str, Any]]:
    parameters: dict[str, dict[str, Any]] = {
        "SageMakerProjectName": {
            "Type": "String",
            "Description": "Name of the project (set by SageMaker).",
            "MinLength": 1,
            "MaxLength": PROJECT_NAME_MAX_LENGTH,
            "AllowedPattern": PROJECT_NAME_PATTERN,
        },
        "SageMakerProjectId": {
            "Type": "String",
            "Description": "Service generated ID of the project (set by SageMaker).",
            "MinLength": 1,
            "MaxLength": PROJECT_ID_MAX_LENGTH,
            "AllowedPattern": PROJECT_ID_PATTERN,
        },
        "CodeRepositoryName": {
            "Type": "String",
            "Description": "Name of the GitHub repository holding the model build and deploy code.",
            "MinLength": 1,
            "MaxLength": 100,
            "AllowedPattern": REPOSITORY_PATTERN,
        },
        "GitHubRepositoryOwnerName": {
            "Type": "String",
            "Description": "GitHub user or organization that owns the repository.",
            "MinLength": 1,
            "MaxLength": 39,
            "AllowedPattern": OWNER_PATTERN,
        },
        "CodestarConnectionUniqueId": {
            "Type": "String",
            "Description": "Unique id of the CodeConnections (CodeStar) connection to GitHub: "
            "the last part of its ARN.",
            "MinLength": 1,
            "MaxLength": 128,
            "AllowedPattern": CONNECTION_ID_PATTERN,
        },
        "GitHubTokenSecretName": {
            "Type": "String",
            "Description": "Name of the Secrets Manager secret holding the GitHub token used to "
            "dispatch the deploy workflow.",
            "Default": props.default_token_secret_name,
            "MinLength": 1,
            "MaxLength": SECRET_NAME_MAX_LENGTH,
            "AllowedPattern": SECRET_NAME_PATTERN,
        },
        "GitHubWorkflowNameForDeployment": {
            "Type": "String",
            "Description": "File name of the GitHub workflow that deploys an approved model.",
            "Default": props.default_workflow,
            "MinLength": 1,
            "MaxLength": WORKFLOW_MAX_LENGTH,
            "AllowedPattern": WORKFLOW_PATTERN,
        },
        "GitHubRepositoryBranch": {
            "Type": "String",
            "Description": "Branch the deploy workflow is dispatched on.",
            "Default": props.default_branch,
            "MinLength": 1,
            "MaxLength": BRANCH_MAX_LENGTH,
            "AllowedPattern": BRANCH_PATTERN,
        },
    }
    return parameters


def _metadata() -> dict[str, Any]:
    return {
        "AWS::CloudFormation::Interface": {
            "ParameterGroups": [
                {
                    "Label": {"default": "Project"},
                    "Parameters": ["SageMakerProjectName", "SageMakerProjectId"],
                },
                {
                    "Label": {"default": "GitHub repository"},
                    "Parameters": [
                        "GitHubRepositoryOwnerName",
                        "CodeRepositoryName",
                        "CodestarConnectionUniqueId",
                        "GitHubTokenSecretName",
                        "GitHubWorkflowNameForDeployment",
                        "GitHubRepositoryBranch",
                    ],
                },
            ],
            "ParameterLabels": {
                "GitHubRepositoryOwnerName": {"default": "GitHub repository owner"},
                "CodeRepositoryName": {"default": "GitHub repository name"},
                "CodestarConnectionUniqueId": {"default": "CodeConnections connection unique id"},
                "GitHubTokenSecretName": {"default": "Secret holding the GitHub token"},
                "GitHubWorkflowNameForDeployment": {"default": "Deploy workflow file"},
                "GitHubRepositoryBranch": {"default": "Branch to deploy from"},
            },
        }
    }


def _stage_bucket_statements(props: ProductTemplateProps) -> list[dict[str, Any]]:
    """Stage model roles may read the artifacts (model.tar.gz) of the project's bucket."""
    return [
        {
            "Sid": f"StageModelRead{grant.stage.capitalize()}",
            "Effect": "Allow",
            "Principal": {"AWS": _sub(f"arn:${{AWS::Partition}}:iam::{grant.account_id}:root")},
            "Action": "s3:GetObject",
            "Resource": _sub("${" + BUCKET_ID + ".Arn}/*"),
            "Condition": {"ArnLike": {"aws:PrincipalArn": _sub(grant.role_arn_like("model"))}},
        }
        for grant in props.stage_grants
    ]


def group_policy(props: ProductTemplateProps) -> dict[str, Any]:
    """The model package group's resource policy (CloudFormation ``ModelPackageGroupPolicy``):
    per stage account, its root with ``aws:PrincipalArn`` like the stage's deploy role may
    describe the group, describe its versions and create a model from them. No write action:
    approving, updating or deleting versions stays in the home account.

    Principals are account roots with a condition, not role ARNs: a policy naming roles is
    "not promotable nor discoverable" for AWS RAM, and a role ARN principal breaks when the role
    is re-created (IAM stores its unique id)."""
    group_arn = (
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package-group/"
        + GROUP_NAME_SUB
    )
    package_arn = (
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package/"
        + GROUP_NAME_SUB
        + "/*"
    )
    statements: list[dict[str, Any]] = []
    for grant in props.stage_grants:
        principal = {"AWS": _sub(f"arn:${{AWS::Partition}}:iam::{grant.account_id}:root")}
        condition = {"ArnLike": {"aws:PrincipalArn": _sub(grant.role_arn_like("deploy"))}}
        name = grant.stage.capitalize()
        statements += [
            {
                "Sid": f"StageDeploy{name}Group",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "sagemaker:DescribeModelPackageGroup",
                "Resource": _sub(group_arn),
                "Condition": condition,
            },
            {
                "Sid": f"StageDeploy{name}Packages",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["sagemaker:CreateModel", "sagemaker:DescribeModelPackage"],
                "Resource": _sub(package_arn),
                "Condition": condition,
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _resources(props: ProductTemplateProps) -> dict[str, dict[str, Any]]:
    """The project's resources in template order: its artifacts bucket and bucket policy, its
    model package group, the approval rule that invokes the trigger, its code repository."""
    return {
        BUCKET_ID: _bucket(),
        BUCKET_POLICY_ID: _bucket_policy(props),
        MODEL_PACKAGE_GROUP_ID: _model_package_group(props),
        RULE_ID: _approval_rule(props),
        CODE_REPOSITORY_ID: _code_repository(),
    }


def _bucket() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        # Model artifacts outlive the project (registered model versions point at them);
        # a failed first provisioning still cleans up.
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": _sub(BUCKET_NAME_SUB),
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    }


def _bucket_policy(props: ProductTemplateProps) -> dict[str, Any]:
    bucket_arn = _get_att(BUCKET_ID, "Arn")
    return {
        "Type": "AWS::S3::BucketPolicy",
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Bucket": _ref(BUCKET_ID),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, _sub("${" + BUCKET_ID + ".Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Sid": "DenyTlsBelow12",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, _sub("${" + BUCKET_ID + ".Arn}/*")],
                        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                    },
                    *_stage_bucket_statements(props),
                ],
            },
        },
    }


def _model_package_group(props: ProductTemplateProps) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::ModelPackageGroup",
        # Registered model versions are an audit record; keep them when the project goes.
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "ModelPackageGroupName": _sub(GROUP_NAME_SUB),
            "ModelPackageGroupDescription": _sub(
                "Model versions of SageMaker project ${SageMakerProjectName} "
                "(${SageMakerProjectId})"
            ),
            **({"ModelPackageGroupPolicy": group_policy(props)} if props.stage_grants else {}),
        },
    }


def _approval_rule(props: ProductTemplateProps) -> dict[str, Any]:
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Name": _sub(RULE_NAME_SUB),
            "Description": _sub(
                "Dispatches the GitHub deploy workflow when a model version of "
                + GROUP_NAME_SUB
                + " is approved"
            ),
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                "detail": {
                    "ModelPackageGroupName": [_sub(GROUP_NAME_SUB)],
                    "ModelApprovalStatus": ["Approved"],
                },
            },
            "State": "ENABLED",
            "Targets": [
                {
                    "Id": RULE_TARGET_ID,
                    "Arn": _sub(_function_arn_sub(props)),
                    "InputTransformer": {"InputTemplate": _sub(INPUT_TEMPLATE_SUB)},
                }
            ],
        },
    }


def _code_repository() -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::CodeRepository",
        "Properties": {
            "CodeRepositoryName": _sub(CODE_REPOSITORY_NAME_SUB),
            "GitConfig": {
                "RepositoryUrl": _sub(REPOSITORY_URL_SUB),
                "Branch": _ref("GitHubRepositoryBranch"),
            },
        },
    }


def _outputs(props: ProductTemplateProps) -> dict[str, dict[str, Any]]:
    return {
        "ArtifactsBucketName": {
            "Description": "Per-project artifacts bucket",
            "Value": _ref(BUCKET_ID),
        },
        "ArtifactsBucketArn": {
            "Description": "ARN of the per-project artifacts bucket",
            "Value": _get_att(BUCKET_ID, "Arn"),
        },
        "ModelPackageGroupName": {
            "Description": "Model package group the pipeline registers model versions in",
            "Value": _sub(GROUP_NAME_SUB),
        },
        "ModelPackageGroupArn": {
            "Description": "ARN of the model package group",
            "Value": _get_att(MODEL_PACKAGE_GROUP_ID, "ModelPackageGroupArn"),
        },
        "ModelApprovedRuleName": {
            "Description": "EventBridge rule matching approved model versions",
            "Value": _ref(RULE_ID),
        },
        "ModelApprovedRuleArn": {
            "Description": "ARN of the EventBridge rule",
            "Value": _get_att(RULE_ID, "Arn"),
        },
        "TriggerFunctionArn": {
            "Description": "Shared trigger Lambda the rule invokes",
            "Value": _sub(_function_arn_sub(props)),
        },
        "CodeRepositoryName": {
            "Description": "SageMaker code repository linked to the GitHub repository",
            "Value": _get_att(CODE_REPOSITORY_ID, "CodeRepositoryName"),
        },
    }


def build_product_template(props: ProductTemplateProps) -> dict[str, Any]:
    """Return the template as a dict (key order is the rendered order)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": props.description,
        "Metadata": _metadata(),
        "Parameters": _parameters(props),
        "Resources": _resources(props),
        "Outputs": _outputs(props),
    }


def render_product_template(props: ProductTemplateProps) -> str:
    """Render the template as JSON: 2-space indent, LF endings, final newline, stable order."""
    return json.dumps(build_product_template(props), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True, kw_only=True)
class LaunchRoleNeed:
    """Actions CloudFormation performs, as the launch role, on one resource of the template.

    ``arn`` is in Fn::Sub syntax (``${AWS::Partition}``, ``${SageMakerProjectName}``, ...).
    Resources with DeletionPolicy RetainExceptOnCreate still need their delete actions: a failed
    first provisioning rolls back by deleting them.
    """

    logical_id: str
    resource_type: str
    arn: str
    actions: tuple[str, ...]


def launch_role_needs(props: ProductTemplateProps) -> tuple[LaunchRoleNeed, ...]:
    """Create/tag/delete actions the launch role needs for every resource the template touches.

    Tag actions are listed because CloudFormation propagates the stack's tags (SageMaker tags
    the provisioned product with ``sagemaker:project-name`` / ``sagemaker:project-id``) to every
    resource that supports tags. The code repository needs no CodeConnections permission from
    the launch role: CreateCodeRepository only records the URL; the Studio user's role uses the
    connection (codestar-connections:UseConnection) when it clones.
    """
    region_account = "${AWS::Region}:${AWS::AccountId}"
    bucket_arn = "arn:${AWS::Partition}:s3:::" + BUCKET_NAME_SUB
    return (
        LaunchRoleNeed(
            logical_id=BUCKET_ID,
            resource_type="AWS::S3::Bucket",
            arn=bucket_arn,
            actions=(
                "s3:CreateBucket",
                "s3:PutBucketTagging",
                "s3:PutEncryptionConfiguration",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketVersioning",
                "s3:DeleteBucket",
            ),
        ),
        LaunchRoleNeed(
            logical_id=BUCKET_POLICY_ID,
            resource_type="AWS::S3::BucketPolicy",
            arn=bucket_arn,
            actions=("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
        ),
        LaunchRoleNeed(
            logical_id=MODEL_PACKAGE_GROUP_ID,
            resource_type="AWS::SageMaker::ModelPackageGroup",
            arn="arn:${AWS::Partition}:sagemaker:"
            + region_account
            + ":model-package-group/"
            + GROUP_NAME_SUB,
            actions=(
                "sagemaker:CreateModelPackageGroup",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:GetModelPackageGroupPolicy",
                "sagemaker:AddTags",
                "sagemaker:ListTags",
                "sagemaker:DeleteModelPackageGroup",
                "sagemaker:DeleteModelPackageGroupPolicy",
                *(("sagemaker:PutModelPackageGroupPolicy",) if props.stage_grants else ()),
            ),
        ),
        LaunchRoleNeed(
            logical_id=RULE_ID,
            resource_type="AWS::Events::Rule",
            arn="arn:${AWS::Partition}:events:" + region_account + ":rule/" + RULE_NAME_SUB,
            actions=(
                "events:PutRule",
                "events:DescribeRule",
                "events:PutTargets",
                "events:TagResource",
                "events:ListTargetsByRule",
                "events:RemoveTargets",
                "events:DeleteRule",
            ),
        ),
        LaunchRoleNeed(
            logical_id=CODE_REPOSITORY_ID,
            resource_type="AWS::SageMaker::CodeRepository",
            arn="arn:${AWS::Partition}:sagemaker:"
            + region_account
            + ":code-repository/"
            + CODE_REPOSITORY_NAME_SUB,
            actions=(
                "sagemaker:CreateCodeRepository",
                "sagemaker:AddTags",
                "sagemaker:DeleteCodeRepository",
            ),
        ),
    )


def launch_role_supplement_statements(
    *, partition: str, region: str, account_id: str, group_policy: bool = False
) -> list[dict[str, Any]]:
    """IAM statements the launch role needs beyond its managed policy.

    AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy (v12) does not grant these
    actions for the resources this template creates (tests/modules/render/test_product_template.py
    proves the list is exactly the gap). The arguments may be Terraform tokens, e.g. the
    partition, region and account id data sources.
    """
    region_account = f"{region}:{account_id}"
    return [
        {
            "Sid": "ProjectBucketVersioningAndOwnership",
            "Effect": "Allow",
            "Action": ["s3:PutBucketOwnershipControls", "s3:PutBucketVersioning"],
            "Resource": [f"arn:{partition}:s3:::sagemaker-project-*"],
        },
        {
            "Sid": "ProjectRuleTaggingAndTargets",
            "Effect": "Allow",
            "Action": ["events:ListTargetsByRule", "events:TagResource"],
            "Resource": [f"arn:{partition}:events:{region_account}:rule/sagemaker-*"],
        },
        {
            "Sid": "ProjectModelPackageGroup",
            "Effect": "Allow",
            "Action": [
                "sagemaker:AddTags",
                "sagemaker:CreateModelPackageGroup",
                "sagemaker:DeleteModelPackageGroup",
                "sagemaker:DeleteModelPackageGroupPolicy",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:GetModelPackageGroupPolicy",
                "sagemaker:ListTags",
                *(["sagemaker:PutModelPackageGroupPolicy"] if group_policy else []),
            ],
            "Resource": [f"arn:{partition}:sagemaker:{region_account}:model-package-group/*"],
        },
        {
            "Sid": "ProjectCodeRepositoryTagging",
            "Effect": "Allow",
            "Action": ["sagemaker:AddTags"],
            "Resource": [f"arn:{partition}:sagemaker:{region_account}:code-repository/*"],
        },
    ]
