"""IAM gate: the synthesized stacks pin OIDC trust exactly and grant no wildcard actions.

The example config has an ``oidc`` environment and an ``access_keys`` one; a variant without a
staging environment makes the deploy role trust the branch too. Each rule is then shown to fail
on a deliberately broken copy of a real synthesized document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synth
from tests.gates.conftest import trusted_repositories
from tools.gates.iam_policies import (
    OIDC_HOST,
    WEB_IDENTITY_ACTION,
    TrustedRepository,
    read_statements,
    stack_problems,
)

REPOS = trusted_repositories()


def test_example_stacks_have_no_iam_problems(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        assert stack_problems(example_synth.stack(name), REPOS[name]) == [], name


def test_branch_trusting_deploy_role_passes(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    for project in example["environments"][0]["projects"]:
        project["staging_environment"] = False
        project["github"]["branch"] = "release/2026"
    synth = synth_config(example)
    stack = synth.stack("dev")
    repos = [
        TrustedRepository(owner=r.owner, repository=r.repository, branch="release/2026")
        for r in REPOS["dev"]
    ]
    assert stack_problems(stack, repos) == []
    subjects = _subjects(stack)
    assert any(s.endswith(":ref:refs/heads/release/2026") for s in subjects)


def _subjects(stack: dict[str, Any]) -> list[str]:
    statements, _ = read_statements(stack)
    return [
        value
        for s in statements
        for _, variable, values in s.conditions
        if variable == f"{OIDC_HOST}:sub"
        for value in values
    ]


def test_every_oidc_role_trust_is_read(example_synth: Synth) -> None:
    stack = example_synth.stack("dev")
    statements, problems = read_statements(stack)
    assert problems == []
    trusts = [s for s in statements if WEB_IDENTITY_ACTION in s.actions]
    roles = stack["resource"]["aws_iam_role"]
    web_identity_roles = [
        r
        for r in roles.values()
        if any(
            f"aws_iam_policy_document.{origin.rsplit('.', 1)[1]}.json" in r["assume_role_policy"]
            for origin in {s.origin for s in trusts}
        )
    ]
    # Each project has a build and a deploy role trusted by GitHub's OIDC provider.
    assert len(web_identity_roles) >= 2 * len(REPOS["dev"])
    assert {s.split(":")[1] for s in _subjects(stack)} == {r.slug for r in REPOS["dev"]}


# --- each rule fails on a broken document ------------------------------------------------------


@pytest.fixture
def dev(example_synth: Synth) -> dict[str, Any]:
    return copy.deepcopy(example_synth.stack("dev"))


def _trust_statement(stack: dict[str, Any]) -> dict[str, Any]:
    for doc in stack["data"]["aws_iam_policy_document"].values():
        for statement in doc["statement"]:
            if WEB_IDENTITY_ACTION in statement["actions"]:
                return statement
    raise AssertionError("no web identity statement in the stack")


def _condition(statement: dict[str, Any], suffix: str) -> dict[str, Any]:
    return next(c for c in statement["condition"] if c["variable"] == f"{OIDC_HOST}:{suffix}")


def _permission_statement(stack: dict[str, Any]) -> dict[str, Any]:
    for doc in stack["data"]["aws_iam_policy_document"].values():
        for statement in doc["statement"]:
            if "principals" not in statement:
                return statement
    raise AssertionError("no permission statement in the stack")


def _problems(stack: dict[str, Any]) -> list[str]:
    return stack_problems(stack, REPOS["dev"])


@pytest.mark.parametrize(
    ("subjects", "message"),
    [
        (["repo:acme-ml/churn-model:*"], "has a wildcard"),
        (["repo:acme-ml/*"], "has a wildcard"),
        (["repo:acme-ml/churn-model:ref:refs/heads/mai?"], "has a wildcard"),
        (["repo:acme-ml/churn-model:ref:refs/heads/dev"], "not all the configured branch"),
        (["repo:acme-ml/churn-model:pull_request"], "not all the configured branch"),
        (["repo:someone/churn-model:environment:production"], "not all the configured branch"),
        (
            [
                "repo:acme-ml/churn-model:environment:production",
                "repo:acme-risk/fraud-detection:environment:production",
            ],
            "of one repository",
        ),
    ],
)
def test_fails_on_loose_or_foreign_subject(
    dev: dict[str, Any], subjects: list[str], message: str
) -> None:
    _condition(_trust_statement(dev), "sub")["values"] = subjects
    assert any(message in p for p in _problems(dev)), _problems(dev)


def test_fails_on_string_like_subject(dev: dict[str, Any]) -> None:
    _condition(_trust_statement(dev), "sub")["test"] = "StringLike"
    assert any("sub must be one StringEquals" in p for p in _problems(dev))


def test_fails_without_subject_condition(dev: dict[str, Any]) -> None:
    statement = _trust_statement(dev)
    statement["condition"].remove(_condition(statement, "sub"))
    assert any("sub must be one StringEquals" in p for p in _problems(dev))


@pytest.mark.parametrize(
    "change",
    [
        {"values": ["sts.amazonaws.com", "api://other"]},
        {"values": ["*"]},
        {"test": "StringLike"},
        {"variable": f"{OIDC_HOST}:aud-typo"},
    ],
)
def test_fails_on_loose_or_missing_audience(dev: dict[str, Any], change: dict[str, Any]) -> None:
    _condition(_trust_statement(dev), "aud").update(change)
    assert any(":aud must be exactly StringEquals" in p for p in _problems(dev))


@pytest.mark.parametrize("action", ["*", "s3:*", "s3:Get*", "sagemaker:Describe?odel"])
def test_fails_on_wildcard_action(dev: dict[str, Any], action: str) -> None:
    _permission_statement(dev)["actions"].append(action)
    assert any(f"wildcard action {action!r}" in p for p in _problems(dev))


def test_deny_statements_may_use_wildcard_actions(dev: dict[str, Any]) -> None:
    doc = next(iter(dev["data"]["aws_iam_policy_document"].values()))
    doc["statement"].append(
        {
            "sid": "DenyInsecureTransport",
            "effect": "Deny",
            "actions": ["s3:*"],
            "resources": ["*"],
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
        }
    )
    assert _problems(dev) == []


def test_fails_on_not_action_and_anyone_principal(dev: dict[str, Any]) -> None:
    statement = _permission_statement(dev)
    statement["not_actions"] = ["iam:*"]
    statement["principals"] = [{"type": "AWS", "identifiers": ["*"]}]
    problems = _problems(dev)
    assert any("NotAction" in p for p in problems)
    assert any("is anyone" in p for p in problems)


def _pass_role_statements(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for doc in stack["data"]["aws_iam_policy_document"].values()
        for s in doc["statement"]
        if "iam:PassRole" in s["actions"]
    ]


def test_fails_on_pass_role_to_any_role(dev: dict[str, Any]) -> None:
    statements = _pass_role_statements(dev)
    assert statements, "the example grants iam:PassRole; the rule must see it"
    statements[0]["resources"] = ["*"]
    assert any("iam:PassRole on '*'" in p for p in _problems(dev))


def test_fails_on_pass_role_to_any_service(dev: dict[str, Any]) -> None:
    statement = _pass_role_statements(dev)[0]
    statement["condition"] = []
    assert any("iam:PassedToService" in p for p in _problems(dev))


def test_fails_on_literal_json_policy_with_wildcard(dev: dict[str, Any]) -> None:
    policy = next(iter(dev["resource"]["aws_iam_role_policy"].values()))
    policy["policy"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        }
    )
    assert any("wildcard action 'iam:*'" in p for p in _problems(dev))


def test_fails_on_literal_json_trust_with_wildcard_subject(dev: dict[str, Any]) -> None:
    role = next(iter(dev["resource"]["aws_iam_role"].values()))
    role["assume_role_policy"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/x"},
                    "Action": WEB_IDENTITY_ACTION,
                    "Condition": {
                        "StringEquals": {f"{OIDC_HOST}:aud": "sts.amazonaws.com"},
                        "StringLike": {f"{OIDC_HOST}:sub": "repo:acme-ml/*"},
                    },
                }
            ],
        }
    )
    assert any("sub must be one StringEquals" in p for p in _problems(dev))


@pytest.mark.parametrize(
    "value",
    [
        '${jsonencode({"Statement" = []})}',
        '${file("policy.json")}',
        "${data.aws_iam_policy_document.missing.json}",
    ],
)
def test_fails_on_a_policy_it_cannot_verify(dev: dict[str, Any], value: str) -> None:
    policy = next(iter(dev["resource"]["aws_iam_role_policy"].values()))
    policy["policy"] = value
    assert any("cannot be verified" in p or "missing policy document" in p for p in _problems(dev))


def test_fails_on_broad_managed_policy(dev: dict[str, Any]) -> None:
    dev["resource"]["aws_iam_role_policy_attachment"] = {
        "admin": {"role": "r", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        "sm": {"role": "r", "policy_arn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"},
    }
    problems = _problems(dev)
    assert sum("broad AWS managed policy" in p for p in problems) == 2
