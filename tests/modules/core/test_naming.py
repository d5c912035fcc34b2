"""Names that keep stacks and projects apart (modules/core/naming.py), over generated inputs."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core import naming
from modules.core.naming import (
    PRODUCTION_STAGE,
    STAGING_STAGE,
    build_settings_prefix,
    endpoint_name,
    github_environment,
)
from modules.render.workflows import WorkflowParams

# Toolkit environment names as the config accepts them: lowercase letters, digits, hyphens.
ENVIRONMENT = st.from_regex(r"\A[a-z0-9](-?[a-z0-9]){0,20}\Z", fullmatch=True)
STAGE = st.sampled_from([STAGING_STAGE, PRODUCTION_STAGE])
# GitHub: environment names up to 255 characters, no wildcard or separator characters.
GITHUB_ENVIRONMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


@settings(derandomize=True, max_examples=100, deadline=None)
@given(a=st.tuples(ENVIRONMENT, STAGE), b=st.tuples(ENVIRONMENT, STAGE))
def test_github_environments_of_different_stacks_or_stages_differ(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    if a != b:
        assert github_environment(*a) != github_environment(*b)
    assert GITHUB_ENVIRONMENT_RE.fullmatch(github_environment(*a))
    assert a[0] in github_environment(*a)


@settings(derandomize=True, max_examples=100, deadline=None)
@given(a=ENVIRONMENT, b=ENVIRONMENT)
def test_build_settings_of_different_stacks_differ_and_are_valid_names(a: str, b: str) -> None:
    if a != b:
        assert build_settings_prefix(a) != build_settings_prefix(b)
    # accepted by the workflow renderer (GitHub's variable/secret name rules)
    WorkflowParams(
        environment_name="dev",
        aws_region="eu-west-1",
        sagemaker_project_name="p",
        branch="main",
        auth_mode="oidc",
        build_settings_prefix=build_settings_prefix(a),
    )


@settings(derandomize=True, max_examples=100, deadline=None)
@given(a=st.tuples(ENVIRONMENT, STAGE), b=st.tuples(ENVIRONMENT, STAGE))
def test_endpoint_names_of_different_projects_or_stages_differ(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    if a != b:
        assert endpoint_name(*a) != endpoint_name(*b)


# --- the names the stacks create, as literals (their length limits are AWS's) -------------------


def test_bounded_keeps_short_names_and_cuts_long_ones_with_a_stable_hash() -> None:
    assert naming.bounded("a", "", "b", max_length=3) == "a-b"  # empty parts dropped
    assert naming.bounded("a", "b", max_length=3, separator="_") == "a_b"
    long = naming.bounded("x" * 40, "y" * 40, max_length=20)
    # sha256("xxx...-yyy...")[:8], cut to 20 - 9 = 11 characters, "-" between
    digest = hashlib.sha256(("x" * 40 + "-" + "y" * 40).encode()).hexdigest()[:8]
    assert long == "x" * 11 + "-" + digest
    assert len(long) == 20
    # a separator at the cut is not doubled
    assert naming.bounded("abcdefghij-", "k" * 20, max_length=20).startswith("abcdefghij-")
    assert (
        naming.bounded("abcdefghi", "k" * 20, max_length=19)
        == "abcdefghi-" + hashlib.sha256(("abcdefghi-" + "k" * 20).encode()).hexdigest()[:8]
    )


def test_iam_names_fit_iams_64_characters() -> None:
    assert naming.iam_name("dev", "churn-model", "deploy") == "mlops-dev-churn-model-deploy"
    name = naming.iam_name("environment-" * 3, "project-" * 4, "purpose")
    assert len(name) == 64  # IAM CreateRole RoleName: at most 64 characters
    assert name.startswith("mlops-environment-")


def test_stage_and_project_patterns() -> None:
    assert naming.stage_resource_pattern("Churn", "staging") == "churn-staging-??????????"
    assert naming.endpoint_name("churn", "production") == "churn-production"
    assert naming.group_in_arn("Churn-Model", None) == "churn-model-p-*"
    assert naming.group_in_arn("Churn-Model", "${x.id}") == "churn-model-${x.id}"
    assert naming.project_bucket(None) == "sagemaker-project-p-*"
    assert naming.project_bucket("p-abc") == "sagemaker-project-p-abc"


def test_bucket_prefix_policy_name_and_token_variable() -> None:
    assert naming.artifacts_bucket_prefix("dev") == "sagemaker-mlops-templates-dev-"
    prefix = naming.artifacts_bucket_prefix("a-very-long-environment-name")
    # the AWS provider adds 26 characters to a bucket_prefix (at most 37); a bucket name has at
    # most 63. The cut drops the separator before the hash's own.
    assert prefix == "sagemaker-mlops-templates-a-113414c0-"
    assert len(prefix) <= 37
    assert naming.launch_role_policy_name("dev") == "sagemaker-github-mlops-product-template-dev"
    assert len(naming.launch_role_policy_name("e" * 200)) == 128
    assert naming.owner_token_variable("Acme-ML") == "github_owner_token_acme_ml"
    assert naming.build_settings_prefix("dev-eu") == "MLOPS_DEV_EU_"
    assert naming.github_environment("dev", "staging") == "dev-staging"
    assert naming.slug("  Churn Model_v2! ") == "churn-model-v2"


def test_version_text_names_each_pinned_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata  # noqa: PLC0415

    from modules.core import version  # noqa: PLC0415

    def fake(name: str) -> str:
        if name == "cdktf-cdktf-provider-github":
            raise metadata.PackageNotFoundError(name)
        return {"cdktf": "0.21.0", "cdktf-cdktf-provider-aws": "20.1.0"}[name]

    monkeypatch.setattr(version.metadata, "version", fake)
    assert version.version_text() == (
        f"sagemaker-github-mlops {version.VERSION} (cdktf 0.21.0, cdktf-cdktf-provider-aws "
        "20.1.0, cdktf-cdktf-provider-github not installed)"
    )


def test_slug_joins_the_runs_of_lowercase_letters_and_digits_with_single_hyphens() -> None:
    assert naming.slug("--Fraud--Model 2--") == "fraud-model-2"
    assert naming.slug("-_- !") == ""
    assert naming.slug("r\u00e9sum\u00e9") == "r-sum"
