"""Names that keep stacks and projects apart (modules/core/naming.py), over generated inputs."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

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
