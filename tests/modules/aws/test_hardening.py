"""Issue 27 item 9: optional hardening, off by default.

* ``platform.permissions_boundary_arn``: set as ``permissions_boundary`` of every
  ``aws_iam_role`` and ``aws_iam_user`` a stack creates (IAM PutRolePermissionsBoundary /
  PutUserPermissionsBoundary; hashicorp/aws ``permissions_boundary`` of both resources).
* ``platform.pin_build_workflow``: the build role's trust also requires the GitHub token claim
  ``job_workflow_ref`` (GitHub's OIDC reference: ``OWNER/REPO/.github/workflows/FILE@REF``),
  which AWS STS validates as the condition key
  ``token.actions.githubusercontent.com:job_workflow_ref``.

Off, nothing of either appears (and the golden snapshot, tests/test_golden.py, is unchanged by
this feature).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from modules.core.config import ConfigError, parse_config
from tests.conftest import Synth, data_sources, resources

OIDC = "token.actions.githubusercontent.com"
BOUNDARY = {
    "dev": "arn:aws:iam::111111111111:policy/boundaries/mlops-boundary",
    "prod": "arn:aws:iam::aws:policy/PowerUserAccess",
}


def _trust_conditions(stack: dict[str, Any], role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    match = re.fullmatch(
        r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", role["assume_role_policy"]
    )
    assert match, role["assume_role_policy"]
    (statement,) = data_sources(stack, "aws_iam_policy_document")[match.group(1)]["statement"]
    return {c["variable"]: c for c in statement.get("condition", [])}


def _hardened(example: dict[str, Any]) -> dict[str, Any]:
    # the single-account environments: a boundary is a policy of the home account, so a
    # promoted environment's stage-account roles cannot take it (docs/security.md)
    for env in example["environments"]:
        if env["name"] in BOUNDARY:
            env["platform"]["permissions_boundary_arn"] = BOUNDARY[env["name"]]
    example["environments"][0]["platform"]["pin_build_workflow"] = True
    return example


def test_off_by_default(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        text = json.dumps(stack)
        assert "permissions_boundary" not in text
        assert "job_workflow_ref" not in text


def test_every_role_and_user_gets_the_boundary(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    synth = synth_config(_hardened(example))
    for name, boundary in BOUNDARY.items():
        stack = synth.stack(name)
        identities = {
            **{f"role {k}": v for k, v in resources(stack, "aws_iam_role").items()},
            **{f"user {k}": v for k, v in resources(stack, "aws_iam_user").items()},
        }
        # the trigger role, the pipeline role(s) and every GitHub Actions identity
        assert any(k.startswith("role trigger_") for k in identities), name
        assert any("_pipeline-role_" in k for k in identities), name
        assert {k: v.get("permissions_boundary") for k, v in identities.items()} == {
            k: boundary for k in identities
        }
    prod = synth.stack("prod")
    assert len(resources(prod, "aws_iam_user")) == 3  # build, staging, production users


def test_pinned_build_role_trusts_only_the_committed_build_workflow(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    dev = synth_config(_hardened(example)).stack("dev")
    roles = resources(dev, "aws_iam_role")
    expected = {
        "churn-model": "acme-ml/churn-model/.github/workflows/build-dev.yml@refs/heads/main",
        "fraud-detection": (
            "acme-risk/fraud-detection/.github/workflows/build-dev.yml@refs/heads/main"
        ),
    }
    for project, ref in expected.items():
        (build,) = [v for k, v in roles.items() if f"{project}_actions-identity_build-role" in k]
        conditions = _trust_conditions(dev, build)
        assert conditions[f"{OIDC}:job_workflow_ref"] == {
            "test": "StringEquals",
            "variable": f"{OIDC}:job_workflow_ref",
            "values": [ref],
        }
        # still the branch in sub and the audience: the pin adds, never replaces
        assert conditions[f"{OIDC}:sub"]["values"] == [
            f"repo:{ref.split('/.github/')[0]}:ref:refs/heads/main"
        ]
        assert f"{OIDC}:aud" in conditions
    # the committed file is the one the claim names
    files = {f["file"] for f in resources(dev, "github_repository_file").values()}
    assert ".github/workflows/build-dev.yml" in files
    # deploy roles are trusted by their GitHub environment only: no workflow pin there
    for key, role in roles.items():
        if "_actions-identity_" in key and "_build-role_" not in key:
            assert f"{OIDC}:job_workflow_ref" not in _trust_conditions(dev, role), key


def test_unpinned_build_role_has_no_workflow_condition(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    for key, role in resources(dev, "aws_iam_role").items():
        if "_build-role_" in key:
            assert set(_trust_conditions(dev, role)) == {f"{OIDC}:aud", f"{OIDC}:sub"}


@pytest.mark.parametrize(
    ("env", "key", "value", "expected"),
    [
        (0, "permissions_boundary_arn", "mlops-boundary", "is not an IAM managed policy ARN"),
        (
            0,
            "permissions_boundary_arn",
            "arn:aws:iam::111111111111:role/x",
            "is not an IAM managed policy ARN",
        ),
        (
            0,
            "permissions_boundary_arn",
            "arn:aws:iam::222222222222:policy/b",
            "belongs to account 222222222222, not 111111111111",
        ),
        (1, "pin_build_workflow", True, "pin_build_workflow: only with auth_mode: oidc"),
    ],
)
def test_fails_on_bad_hardening_settings(
    example: dict[str, Any], env: int, key: str, value: object, expected: str
) -> None:
    example["environments"][env]["platform"][key] = value
    with pytest.raises(ConfigError) as info:
        parse_config(example, "test.yaml")
    (problem,) = info.value.problems
    assert problem.startswith(f"environments[{env}].platform")
    assert expected in problem
