"""One owner for every object: no two resources of a synthesized config (in one stack or across
stacks) create the same GitHub object, account-global AWS name or regional AWS name.

Identities come from tests/support/ownership.py (per resource type, from the synthesized JSON).
It runs on config/example.yaml and on generated configs: several environments sharing accounts,
regions and repositories (hypothesis, derandomized, bounded, no shrinking: every example is a
full synth).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from modules.core.config import ConfigError, parse_config
from tests.conftest import Synth
from tests.support.inprocess import synth_stacks
from tests.support.ownership import (
    CLASSIFIED,
    UnclassifiedResource,
    claims,
    conflicts,
    describe,
    identities,
)

AWS_SCOPES = ("global", "regional")

#: Generated configs synthesized per test run (each is a full in-process synth).
GENERATED_SYNTH_EXAMPLES = 4
#: Generated configs validated per test run (no synth: config refusals only).
GENERATED_CONFIG_EXAMPLES = 60


def _stacks(synth: Synth) -> dict[str, dict[str, Any]]:
    return {name: synth.stack(name) for name in synth.stack_names()}


# --- the collector itself ---------------------------------------------------------------------


def test_every_resource_type_of_the_example_is_classified(example_synth: Synth) -> None:
    stacks = _stacks(example_synth)
    types = {t for s in stacks.values() for t in s["resource"]}
    assert types <= set(CLASSIFIED)
    found = claims(stacks)
    # every resource of every stack is counted exactly once
    total = sum(len(instances) for s in stacks.values() for instances in s["resource"].values())
    assert sum(len(c) for c in found.values()) == total


def test_fails_on_an_unclassified_resource_type(example_synth: Synth) -> None:
    dev = copy.deepcopy(example_synth.stack("dev"))
    dev["resource"]["aws_kinesis_stream"] = {"t": {"name": "x"}}
    with pytest.raises(UnclassifiedResource, match="aws_kinesis_stream has no identity"):
        list(identities("dev", dev))


def test_a_stack_applied_twice_conflicts_on_every_name(example_synth: Synth) -> None:
    """The test can fail: the same stack under a second name claims every named object again."""
    dev = example_synth.stack("dev")
    found = conflicts({"dev": dev, "dev-copy": copy.deepcopy(dev)})
    kinds = {identity[3] if identity[0] == "regional" else identity[2] for identity in found}
    assert {"iam-role", "oidc-provider", "lambda-function", "secret", "portfolio"} <= kinds
    assert ("global", "111111111111", "iam-role", "mlops-dev-trigger-lambda") in found
    assert ("github", "acme-ml", "churn-model", "file", ".github/workflows/build-dev.yml",
            "branch:main") in found  # fmt: skip
    # names AWS generates (bucket_prefix) are the creating stack's own
    assert not any(i[2] == "s3-bucket" for i in found if i[0] == "global")


def test_identities_resolve_references_to_names(example_synth: Synth) -> None:
    found = claims(_stacks(example_synth))
    assert (
        "global",
        "111111111111",
        "iam-role-policy",
        "AmazonSageMakerServiceCatalogProductsLaunchRole",
        "sagemaker-github-mlops-product-template-dev",
    ) in found
    assert (
        "regional",
        "111111111111",
        "eu-west-1",
        "lambda-permission",
        "sagemaker-github-workflow-trigger",
        "ProjectModelApprovedRules",
    ) in found
    assert (
        "regional",
        "222222222222",
        "us-east-1",
        "secret-value",
        "sagemaker-github-token",
    ) not in found


# --- config/example.yaml ------------------------------------------------------------------------


def test_example_aws_names_have_one_owner(example_synth: Synth) -> None:
    found = conflicts(_stacks(example_synth), AWS_SCOPES)
    assert not found, describe(found)


def test_example_keeps_one_repository_in_two_accounts(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")["provider"]["aws"][0]["allowed_account_ids"]
    prod = example_synth.stack("prod")["provider"]["aws"][0]["allowed_account_ids"]
    assert dev != prod
    repos = {
        name: {
            (f["repository"], f["branch"])
            for f in example_synth.stack(name)["resource"]["github_repository_file"].values()
            if f["file"] == f".github/workflows/deploy-{name}.yml"
        }
        for name in ("dev", "prod")
    }
    assert ("churn-model", "main") in repos["dev"]
    assert ("churn-model", "release") in repos["prod"]


def test_example_github_objects_have_one_owner(example_synth: Synth) -> None:
    found = conflicts(_stacks(example_synth), ("github",))
    assert not found, describe(found)


# --- generated configs --------------------------------------------------------------------------

ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("eu-west-1", "us-east-1")
ENV_NAMES = ("dev", "dev-eu", "prod", "staging")
PROJECT_NAMES = ("churn", "eu-churn", "fraud", "Churn2")
REPOSITORIES = (("acme-ml", "shared-model"), ("acme-ml", "churn"), ("Acme-Risk", "fraud"))


@st.composite
def generated_configs(draw: st.DrawFn) -> dict[str, Any]:
    """2-3 environments over 2 accounts x 2 regions; the first project of each environment
    deploys the same repository (from the environment's own branch); the rest draw from a
    small pool of names and repositories, so clashes happen."""
    count = draw(st.integers(min_value=2, max_value=3))
    names = draw(st.permutations(ENV_NAMES))[:count]
    places = draw(st.permutations([(a, r) for a in ACCOUNTS for r in REGIONS]))[:count]
    oidc_owner: set[str] = set()
    environments = []
    for name, (account, region) in zip(names, places, strict=True):
        auth = draw(st.sampled_from(("oidc", "access_keys")))
        platform: dict[str, Any] = {
            "auth_mode": auth,
            "studio_execution_role_arns": [f"arn:aws:iam::{account}:role/studio-{name}"],
            "pipeline_role": draw(st.sampled_from(("service_catalog", "per_project"))),
            "enable_sagemaker_project_templates": draw(st.booleans()),
        }
        if auth == "oidc" and account in oidc_owner:
            platform["oidc_provider_arn"] = (
                f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
            )
        elif auth == "oidc":
            oidc_owner.add(account)
        if draw(st.booleans()):
            platform["deployer_principal_arn"] = f"arn:aws:iam::{account}:role/terraform-apply"
        else:
            # nobody named may read a token the plan writes: the token is set out of band
            platform["token_secret"] = {"value_from_variable": False}
        project_names = draw(st.permutations(PROJECT_NAMES))
        projects = [
            {
                "name": project_names[0],
                "github": {"owner": "acme-ml", "repository": "shared-model", "branch": name},
                "production_reviewers": {"teams": ["ml-leads"]},
            }
        ]
        for k in range(draw(st.integers(min_value=0, max_value=1))):
            owner, repo = draw(st.sampled_from(REPOSITORIES[1:]))
            projects.append(
                {
                    "name": project_names[k + 1],
                    "github": {"owner": owner, "repository": repo, "branch": name},
                    "production_reviewers": {"users": ["octocat"]},
                    "seed_code": draw(st.booleans()),
                    "staging_environment": draw(st.booleans()),
                    "create_sagemaker_project": draw(st.booleans()),
                }
            )
        if "deployer_principal_arn" not in platform:
            # only a named deployer may create SageMaker projects (portfolio access)
            for project in projects:
                project["create_sagemaker_project"] = False
        environments.append(
            {
                "name": name,
                "account_id": account,
                "region": region,
                "platform": platform,
                "projects": projects,
            }
        )
    return {"environments": environments}


def _synth_generated(data: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The stacks of a generated config, or ``None`` when the config is refused."""
    try:
        return synth_stacks(data)
    except ConfigError:
        return None


SYNTH_SETTINGS = settings(
    derandomize=True,
    max_examples=GENERATED_SYNTH_EXAMPLES,
    deadline=None,
    # each example is a full synth: no shrinking, and a filtered example is fine
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SYNTH_SETTINGS
@given(generated_configs())
def test_generated_configs_aws_names_have_one_owner(data: dict[str, Any]) -> None:
    stacks = _synth_generated(data)
    if stacks is None:
        return  # refused before synth: see test_generated_configs_are_refused_or_owned_once
    found = conflicts(stacks, AWS_SCOPES)
    assert not found, describe(found)


@SYNTH_SETTINGS
@given(generated_configs())
def test_generated_configs_github_objects_have_one_owner(data: dict[str, Any]) -> None:
    stacks = _synth_generated(data)
    if stacks is None:
        return
    found = conflicts(stacks, ("github",))
    assert not found, describe(found)


@settings(derandomize=True, max_examples=GENERATED_CONFIG_EXAMPLES, deadline=None)
@given(generated_configs())
def test_generated_configs_are_refused_only_for_real_clashes(data: dict[str, Any]) -> None:
    """A generated config is refused only for a clash that cannot be scoped apart, and the
    message names both claimants."""
    try:
        parse_config(data)
    except ConfigError as e:
        for problem in e.problems:
            assert problem.count("environments[") + problem.count("projects[") >= 2, problem
            assert any(
                kind in problem
                for kind in ("is already used by", "same IAM role names", "already the repository")
            ), problem
