"""The product template with stage accounts: model package group policy and bucket reads.

The policies are checked three ways: their shape (root principals, ``aws:PrincipalArn``
conditions, no write), a small evaluator of IAM's matching rules (``ArnLike``: ``*`` matches any
characters including ``/``; IAM policy reference, "Condition operators") run over the stage
roles' real IAM paths (``modules.core.naming.stage_role_path``), and the CloudFormation registry
schema of ``AWS::SageMaker::ModelPackageGroup`` (shipped with cfn-lint) for the property and the
launch role's handler permissions. moto 5.2.5 has no handler for model package group policies
and evaluates no resource policy, so none of this is proven against AWS itself.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import botocore.session
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from modules.core.naming import stage_role_path
from modules.render.product_template import (
    GROUP_POLICY_MAX_LENGTH,
    ProductTemplateError,
    ProductTemplateProps,
    StageGrant,
    launch_role_needs,
    launch_role_supplement_statements,
    render_product_template,
)
from tests.modules.render.test_product_template import (
    SAMPLE,
    _allows,
    _findings,
    _managed_statements,
    _resolve,
    _sub,
)

HOME = SAMPLE["AWS::AccountId"]
GRANTS = (
    StageGrant(stage="staging", account_id="222222222222", environment_name="ml"),
    StageGrant(stage="production", account_id="333333333333", environment_name="ml"),
)
PROJECT = SAMPLE["SageMakerProjectName"]
GROUP = f"{PROJECT}-{SAMPLE['SageMakerProjectId']}"
PACKAGE = f"arn:aws:sagemaker:eu-west-1:{HOME}:model-package/{GROUP}/3"
GROUP_ARN = f"arn:aws:sagemaker:eu-west-1:{HOME}:model-package-group/{GROUP}"
OBJECT = "arn:aws:s3:::sagemaker-project-p-abc123def456/pipelines/model.tar.gz"


def props(grants: tuple[StageGrant, ...] = GRANTS) -> ProductTemplateProps:
    return ProductTemplateProps(
        trigger_function_name="sagemaker-github-workflow-trigger",
        default_token_secret_name="sagemaker-github-token",
        stage_grants=grants,
    )


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render_product_template(props()))
    return loaded


def role(account: str, project: str, stage: str, kind: str, env: str = "ml") -> str:
    return f"arn:aws:iam::{account}:role{stage_role_path(env, project, stage, kind)}mlops-x"


# --- a small evaluator of the statements a resource policy grants -------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resource_policy_allows(
    policy: dict[str, Any], *, principal_arn: str, action: str, resource: str
) -> bool:
    """Whether an Allow statement of ``policy`` (already resolved) grants ``action`` on
    ``resource`` to a session of ``principal_arn``: the principal's account root must be named,
    ``*`` in ``ArnLike`` matches any run of characters (``fnmatchcase``), other condition
    operators are not modelled (and then refuse)."""
    account = principal_arn.split(":")[4]
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        roots = _list(statement["Principal"]["AWS"])
        if f"arn:aws:iam::{account}:root" not in roots:
            continue
        if not any(fnmatch.fnmatchcase(action, a) for a in _list(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in _list(statement["Resource"])):
            continue
        conditions = statement.get("Condition", {})
        if set(conditions) - {"ArnLike"}:
            continue
        patterns = _list(conditions.get("ArnLike", {}).get("aws:PrincipalArn", "*"))
        if any(fnmatch.fnmatchcase(principal_arn, p) for p in patterns):
            return True
    return False


def group_policy(template: dict[str, Any]) -> dict[str, Any]:
    group = template["Resources"]["ModelPackageGroup"]["Properties"]
    resolved: dict[str, Any] = _resolve(group["ModelPackageGroupPolicy"])
    return resolved


def bucket_policy(template: dict[str, Any]) -> dict[str, Any]:
    policy = template["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]
    resolved: dict[str, Any] = _resolve(policy)
    return resolved


# --- shape --------------------------------------------------------------------------------


def test_without_stages_there_is_no_group_policy_and_no_read_grant() -> None:
    plain = json.loads(render_product_template(props(())))
    assert "ModelPackageGroupPolicy" not in plain["Resources"]["ModelPackageGroup"]["Properties"]
    statements = plain["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]
    assert [s["Effect"] for s in statements["Statement"]] == ["Deny", "Deny"]
    assert render_product_template(props(())) == render_product_template(
        ProductTemplateProps(
            trigger_function_name="sagemaker-github-workflow-trigger",
            default_token_secret_name="sagemaker-github-token",
        )
    )


def test_group_policy_names_stage_roots_conditioned_on_the_deploy_role(
    template: dict[str, Any],
) -> None:
    policy = group_policy(template)
    for statement in policy["Statement"]:
        (root,) = _list(statement["Principal"]["AWS"])
        assert root in {"arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"}
        (pattern,) = _list(statement["Condition"]["ArnLike"]["aws:PrincipalArn"])
        stage = "staging" if "222222222222" in root else "production"
        path = stage_role_path("ml", PROJECT, stage, "deploy")
        assert pattern == f"arn:aws:iam::{root.split(':')[4]}:role{path}*"
    actions = {a for s in policy["Statement"] for a in _list(s["Action"])}
    assert actions == {
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DescribeModelPackage",
        "sagemaker:CreateModel",
    }


def test_group_policy_fits_sagemakers_limit_with_the_longest_names() -> None:
    longest = dict(SAMPLE)
    longest["SageMakerProjectName"] = "a" * 32
    longest["SageMakerProjectId"] = "p-" + "a" * 19
    longest["AWS::Partition"] = "aws-us-gov"
    longest["AWS::Region"] = "ap-southeast-7"
    grants = tuple(
        StageGrant(stage=s, account_id=a, environment_name="e" * 32)
        for s, a in (("staging", "222222222222"), ("production", "333333333333"))
    )
    template = json.loads(render_product_template(props(grants)))
    group = template["Resources"]["ModelPackageGroup"]["Properties"]
    text = json.dumps(_resolve(group["ModelPackageGroupPolicy"], longest))
    assert len(text) <= GROUP_POLICY_MAX_LENGTH
    # the limit is SageMaker's own (botocore: PutModelPackageGroupPolicy ResourcePolicy)
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("PutModelPackageGroupPolicy").input_shape
    assert shape.members["ResourcePolicy"].metadata["max"] == GROUP_POLICY_MAX_LENGTH
    print(f"group policy, longest names, two stages: {len(text)} of {GROUP_POLICY_MAX_LENGTH}")


def test_template_with_stages_passes_cfn_lint() -> None:
    assert _findings(render_product_template(props())) == []


def test_group_policy_is_a_property_of_the_registry_schema() -> None:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(
        "us-east-1", "AWS::SageMaker::ModelPackageGroup"
    ).schema
    assert "ModelPackageGroupPolicy" in schema["properties"]
    create = set(schema["handlers"]["create"]["permissions"])
    assert "sagemaker:PutModelPackageGroupPolicy" in create


# --- evaluation ---------------------------------------------------------------------------


def test_only_the_stages_deploy_role_of_this_project_reads_the_packages(
    template: dict[str, Any],
) -> None:
    policy = group_policy(template)
    for stage, account in (("staging", "222222222222"), ("production", "333333333333")):
        deploy = role(account, PROJECT, stage, "deploy")
        for action, resource in (
            ("sagemaker:DescribeModelPackage", PACKAGE),
            ("sagemaker:CreateModel", PACKAGE),
            ("sagemaker:DescribeModelPackageGroup", GROUP_ARN),
        ):
            assert resource_policy_allows(
                policy, principal_arn=deploy, action=action, resource=resource
            ), (stage, action)
        refused = [
            role(account, PROJECT, stage, "model"),  # the model role does not deploy
            role(account, f"{PROJECT}-v2", stage, "deploy"),  # another project's path
            role(account, PROJECT, stage, "deploy", env="other"),  # another environment
            f"arn:aws:iam::{account}:role/Admin",  # anybody else in the stage account
            role("444444444444", PROJECT, stage, "deploy"),  # another account
        ]
        for principal in refused:
            assert not resource_policy_allows(
                policy, principal_arn=principal, action="sagemaker:CreateModel", resource=PACKAGE
            ), principal
    # the staging role is not the production stage's
    assert not resource_policy_allows(
        policy,
        principal_arn=role("222222222222", PROJECT, "production", "deploy"),
        action="sagemaker:CreateModel",
        resource=PACKAGE,
    )
    # no write: approving or changing versions stays at home
    for action in ("sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage"):
        assert not resource_policy_allows(
            policy,
            principal_arn=role("333333333333", PROJECT, "production", "deploy"),
            action=action,
            resource=PACKAGE,
        )


def test_only_stage_model_roles_read_artifacts_and_never_write(template: dict[str, Any]) -> None:
    policy = bucket_policy(template)
    model = role("333333333333", PROJECT, "production", "model")
    assert resource_policy_allows(
        policy, principal_arn=model, action="s3:GetObject", resource=OBJECT
    )
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectAcl"):
        assert not resource_policy_allows(
            policy, principal_arn=model, action=action, resource=OBJECT
        ), action
    deploy = role("333333333333", PROJECT, "production", "deploy")
    assert not resource_policy_allows(
        policy, principal_arn=deploy, action="s3:GetObject", resource=OBJECT
    )
    statements = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {a for s in statements for a in _list(s["Action"])} == {"s3:GetObject"}


# --- launch role --------------------------------------------------------------------------


def test_launch_role_may_put_the_group_policy_only_when_there_is_one() -> None:
    def group_actions(p: ProductTemplateProps) -> set[str]:
        (need,) = [n for n in launch_role_needs(p) if n.logical_id == "ModelPackageGroup"]
        return set(need.actions)

    assert "sagemaker:PutModelPackageGroupPolicy" in group_actions(props())
    assert "sagemaker:PutModelPackageGroupPolicy" not in group_actions(props(()))
    managed = _managed_statements()
    arn = _sub(
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package-group/"
        "${SageMakerProjectName}-${SageMakerProjectId}"
    )
    assert not _allows(managed, "sagemaker:PutModelPackageGroupPolicy", arn)
    supplement = launch_role_supplement_statements(
        partition="aws", region="eu-west-1", account_id=HOME, group_policy=True
    )
    assert _allows(supplement, "sagemaker:PutModelPackageGroupPolicy", arn)
    plain = launch_role_supplement_statements(partition="aws", region="eu-west-1", account_id=HOME)
    assert not _allows(plain, "sagemaker:PutModelPackageGroupPolicy", arn)


def test_fails_on_a_bad_stage_grant() -> None:
    with pytest.raises(ProductTemplateError, match=r"StageGrant\.stage"):
        StageGrant(stage="qa", account_id="222222222222", environment_name="ml")
    with pytest.raises(ProductTemplateError, match=r"StageGrant\.account_id"):
        StageGrant(stage="staging", account_id="2222", environment_name="ml")
