"""`make deployer-policy` for a stack with stage accounts: one policy per account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modules.ops import deployer_policy
from modules.ops.deployer_policy import account_policies, policy_for_stack
from tests.conftest import Synth
from tests.support.three_accounts import ENVIRONMENT, HOME, STAGE_ACCOUNTS, three_accounts


@pytest.fixture(scope="module")
def synth(synth_config: Callable[[dict[str, Any]], Synth]) -> Synth:
    return synth_config(three_accounts())


def resources_of(policy: dict[str, Any]) -> list[str]:
    return [r for s in policy["Statement"] for r in s["Resource"]]


def accounts_named(policy: dict[str, Any], *, skip: str = "") -> set[str]:
    """Account ids in the policy's resource ARNs (5th field), statement ``skip`` aside."""
    found = set()
    for statement in policy["Statement"]:
        if statement["Sid"] == skip:
            continue
        for arn in statement["Resource"]:
            parts = arn.split(":")
            if len(parts) > 4 and parts[4] not in {"", "*", "aws"}:
                found.add(parts[4])
    return found


def test_one_policy_per_account_for_its_deployer(synth: Synth) -> None:
    policies = account_policies(synth.stack(ENVIRONMENT))
    assert list(policies) == ["home", "staging", "production"]
    assert policies["home"]["account_id"] == HOME
    for stage, account in STAGE_ACCOUNTS.items():
        assert policies[stage]["account_id"] == account
        assert policies[stage]["principal"] == f"arn:aws:iam::{account}:role/terraform-apply"


def test_stage_resources_go_to_their_own_accounts_policy(synth: Synth) -> None:
    policies = account_policies(synth.stack(ENVIRONMENT))
    for stage, account in STAGE_ACCOUNTS.items():
        policy = policies[stage]["policy"]
        assert accounts_named(policy) == {account}, stage
        actions = {a for s in policy["Statement"] for a in s["Action"]}
        assert "iam:CreateOpenIDConnectProvider" in actions
        assert "iam:CreateRole" in actions
        # nothing of the home account: no trigger, catalog, secret or state backend
        assert not {a for a in actions if a.startswith(("lambda:", "servicecatalog:", "secrets"))}
    production = {a for s in policies["production"]["policy"]["Statement"] for a in s["Action"]}
    assert "s3:CreateBucket" in production  # the capture bucket
    staging = {a for s in policies["staging"]["policy"]["Statement"] for a in s["Action"]}
    assert "s3:CreateBucket" not in staging


def test_home_policy_assumes_the_stage_deployers_and_names_no_stage_resource(
    synth: Synth,
) -> None:
    home = account_policies(synth.stack(ENVIRONMENT))["home"]["policy"]
    (assume,) = [s for s in home["Statement"] if s["Sid"] == "AssumeStageDeployers"]
    assert assume["Action"] == ["sts:AssumeRole"]
    assert assume["Resource"] == sorted(
        f"arn:aws:iam::{account}:role/terraform-apply" for account in STAGE_ACCOUNTS.values()
    )
    assert accounts_named(home, skip="AssumeStageDeployers") == {HOME}
    # the plain call still gives the home account's policy only
    assert policy_for_stack(synth.stack(ENVIRONMENT))["Statement"] == home["Statement"][:-1]


def test_read_only_policies_per_account(synth: Synth) -> None:
    policies = account_policies(synth.stack(ENVIRONMENT), read_only=True)
    for entry in policies.values():
        actions = {a for s in entry["policy"]["Statement"] for a in s["Action"]}
        assert actions, entry["account_id"]
        assert not {
            a
            for a in actions
            if a.split(":", 1)[1].startswith(("Create", "Delete", "Put", "Update", "Attach"))
        }, entry["account_id"]
    assert "AssumeStageDeployers" not in json.dumps(policies["home"])


def test_command_prints_each_accounts_policies(
    synth: Synth, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir: Path = synth.outdir
    assert deployer_policy.main(["--outdir", str(outdir), "--stack", ENVIRONMENT]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["home", "staging", "production"]
    for entry in printed.values():
        assert set(entry) == {"account_id", "principal", "policies"}
        assert all(doc["Version"] == "2012-10-17" for doc in entry["policies"])
