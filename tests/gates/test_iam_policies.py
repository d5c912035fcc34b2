"""IAM gate: the synthesized stacks pin OIDC trust exactly, grant no wildcard actions, keep
deploy credentials behind the stage's GitHub environment and keep projects apart.

The example config has an ``oidc`` environment and an ``access_keys`` one; a variant without a
staging stage still trusts no deploy role to a branch. Each rule is then shown to fail on a
deliberately broken copy of a real synthesized document.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synth
from tests.gates.conftest import trusted_repositories
from tools.gates.iam_policies import (
    DEPLOY_ACTIONS,
    OIDC_HOST,
    WEB_IDENTITY_ACTION,
    globs_intersect,
    read_principals,
    read_statements,
    stack_problems,
)

REPOS = trusted_repositories()


def test_example_stacks_have_no_iam_problems(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        assert stack_problems(example_synth.stack(name), REPOS[name]) == [], name


def test_without_staging_no_deploy_role_trusts_the_branch(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    for project in example["environments"][0]["projects"]:
        project["staging_environment"] = False
        project["github"]["branch"] = "release/2026"
    synth = synth_config(example)
    stack = synth.stack("dev")
    repos = [
        dataclasses.replace(r, branch="release/2026", staging_environment=None)
        for r in REPOS["dev"]
    ]
    assert stack_problems(stack, repos) == []
    branch = [s for s in _subjects(stack) if s.endswith(":ref:refs/heads/release/2026")]
    # only the build roles (one per project) trust the branch
    assert len(branch) == len(repos)
    deploy_subjects = {
        p.subjects
        for p in read_principals(stack)
        if p.allowed(DEPLOY_ACTIONS) and p.address.startswith("aws_iam_role.")
    }
    assert deploy_subjects == {(f"repo:{r.slug}:environment:dev-production",) for r in REPOS["dev"]}


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
    # Each project has a build, a staging and a production role trusted by GitHub's OIDC.
    assert len(web_identity_roles) == 3 * len(REPOS["dev"])
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


# --- stage and project isolation: each rule fails on a broken policy ---------------------------


def _role_documents(stack: dict[str, Any], fragment: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trust statement, permissions document) of the one role whose address has ``fragment``."""
    (key,) = [k for k in stack["resource"]["aws_iam_role"] if fragment in k]
    role = stack["resource"]["aws_iam_role"][key]
    documents = stack["data"]["aws_iam_policy_document"]
    trust_doc = role["assume_role_policy"].split(".")[2]
    (policy,) = [p for p in stack["resource"]["aws_iam_role_policy"].values() if key in p["role"]]
    return documents[trust_doc]["statement"][0], documents[policy["policy"].split(".")[2]]


def _sid(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in document["statement"] if s["sid"] == sid)


def test_fails_on_deploy_role_trusted_by_the_branch(dev: dict[str, Any]) -> None:
    trust, _ = _role_documents(dev, "churn-model_actions-identity_staging-role")
    _condition(trust, "sub")["values"] = ["repo:acme-ml/churn-model:ref:refs/heads/main"]
    problems = _problems(dev)
    assert any(
        "deploy role trusted by 'repo:acme-ml/churn-model:ref:refs/heads/main'" in p
        for p in problems
    ), problems


def test_fails_on_production_role_also_trusted_by_staging(dev: dict[str, Any]) -> None:
    trust, _ = _role_documents(dev, "churn-model_actions-identity_production-role")
    _condition(trust, "sub")["values"].append("repo:acme-ml/churn-model:environment:dev-staging")
    problems = _problems(dev)
    assert any("can change production but its sub is" in p for p in problems), problems


def test_fails_on_production_role_trusted_by_another_environment(dev: dict[str, Any]) -> None:
    trust, _ = _role_documents(dev, "churn-model_actions-identity_production-role")
    _condition(trust, "sub")["values"] = ["repo:acme-ml/churn-model:environment:production"]
    problems = _problems(dev)
    expected = "must be exactly ['repo:acme-ml/churn-model:environment:dev-production']"
    assert any(expected in p for p in problems), problems


def test_fails_on_production_subject_matched_loosely(dev: dict[str, Any]) -> None:
    trust, _ = _role_documents(dev, "churn-model_actions-identity_production-role")
    _condition(trust, "sub")["test"] = "StringLike"
    problems = _problems(dev)
    assert any("the production sub must be matched with StringEquals" in p for p in problems), (
        problems
    )


def test_fails_on_staging_role_reaching_production(dev: dict[str, Any]) -> None:
    _, permissions = _role_documents(dev, "churn-model_actions-identity_staging-role")
    endpoints = _sid(permissions, "Endpoints")
    endpoints["resources"] = [r.replace("-staging", "-*") for r in endpoints["resources"]]
    problems = _problems(dev)
    assert any(
        "staging-role" in p and "can change production but its sub is" in p for p in problems
    ), problems
    assert any("also deploys staging" in p for p in problems), problems


def test_fails_on_literal_json_deploy_policy_of_a_branch_trusted_role(dev: dict[str, Any]) -> None:
    (key,) = [
        k for k in dev["resource"]["aws_iam_role"] if "churn-model_actions-identity_build" in k
    ]
    (policy,) = [p for p in dev["resource"]["aws_iam_role_policy"].values() if key in p["role"]]
    policy["policy"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "sagemaker:UpdateEndpoint",
                "Resource": "arn:aws:sagemaker:eu-west-1:1:endpoint/churn-model-production",
            },
        }
    )
    problems = _problems(dev)
    assert any("build-role" in p and "deploy role trusted by" in p for p in problems), problems


def test_fails_on_production_identity_with_build_actions(example_synth: Synth) -> None:
    prod = copy.deepcopy(example_synth.stack("prod"))
    (policy,) = [
        p
        for p in prod["resource"]["aws_iam_user_policy"].values()
        if p["name"] == "GithubActionsMLOps-production"
    ]
    document = prod["data"]["aws_iam_policy_document"][policy["policy"].split(".")[2]]
    _sid(document, "Endpoints")["actions"].append("sagemaker:StartPipelineExecution")
    problems = stack_problems(prod, REPOS["prod"])
    assert any("also holds build actions" in p for p in problems), problems


@pytest.mark.parametrize(
    ("replace", "by"),
    [
        ("endpoint/churn-model-staging", "endpoint/*-staging"),
        ("model/churn-model-staging-??????????", "model/fraud*"),
        ("endpoint-config/churn-model-staging-??????????", "endpoint-config/*"),
    ],
)
def test_fails_on_a_pattern_matching_another_projects_names(
    dev: dict[str, Any], replace: str, by: str
) -> None:
    _, permissions = _role_documents(dev, "churn-model_actions-identity_staging-role")
    endpoints = _sid(permissions, "Endpoints")
    endpoints["resources"] = [r.replace(replace, by) for r in endpoints["resources"]]
    assert any(by in r for r in endpoints["resources"])
    problems = _problems(dev)
    assert any(
        "of project churn-model also matches" in p and "of project fraud-detection" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("endpoint/churn-*", "endpoint/churn-model-staging", True),
        ("endpoint/churn-staging", "endpoint/churn-model-staging", False),
        ("model/a-staging-??????????", "model/a-b-staging-??????????", False),
        ("model/a-staging-??????????", "model/a-staging-*", True),
        ("a*b", "*c", False),
        ("a*", "*b", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("*", "", True),
        ("", "?", False),
    ],
)
def test_globs_intersect(a: str, b: str, expected: bool) -> None:
    assert globs_intersect(a, b) is expected
    assert globs_intersect(b, a) is expected
