"""Exact names: no IAM pattern of one project matches another valid project's names.

Generated pairs of SageMaker project names (many of them prefixes of each other, such as
``a``/``a-b`` and ``churn``/``churn-model``) get the real constructs (pipeline role and GitHub
Actions identity, both auth modes); the synthesized policies are then read by the IAM gate's
rules, and every pattern is also checked against the other project's concrete names as the
seeded ``deploy/deploy.py`` creates them.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import App, TerraformStack, TerraformVariable, Testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from modules.aws.actions_identity import ActionsIdentity, ActionsIdentityProps
from modules.aws.pipeline_role import PipelineRole, PipelineRoleProps
from modules.core.account_context import AccountContext
from modules.core.naming import (
    DEPLOY_HASH_CHARS,
    PRODUCTION_STAGE,
    STAGING_STAGE,
    endpoint_name,
    github_environment,
    slug,
    stage_resource_pattern,
)
from modules.render.seed.deploy import deploy as seeded_deploy
from tools.gates.iam_policies import (
    IamPrincipal,
    TrustedRepository,
    cross_project_problems,
    deploy_trust_problems,
    globs_intersect,
    read_principals,
    stage_problems,
)

Testing.__test__ = False  # type: ignore[attr-defined]

OIDC_PROVIDER = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/{group}/1"
STAGES = (STAGING_STAGE, PRODUCTION_STAGE)

# SageMaker project names: 1-32 letters, digits and hyphens, no leading/trailing hyphen.
NAME = st.from_regex(r"\A[a-zA-Z0-9](-{0,2}[a-zA-Z0-9]){0,9}\Z", fullmatch=True)
SUFFIX = st.sampled_from(["b", "model", "staging", "production", "p-x", "v2", "1"]) | NAME


@st.composite
def project_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two project names that SageMaker tells apart, often one a prefix of the other."""
    a = draw(NAME)
    b = draw(st.one_of(NAME, SUFFIX.map(lambda s: f"{a}-{s}")))
    first, second = draw(st.sampled_from([(a, b), (b, a)]))
    if first.lower() == second.lower() or len(first) > 32 or len(second) > 32:
        return ("churn", "churn-model")
    return (first, second)


def _synth(names: tuple[str, str], auth_mode: str) -> dict[str, Any]:
    app: App = Testing.app()
    stack = TerraformStack(app, "isolation")
    context = AccountContext(stack, "account")
    for index, name in enumerate(names):
        # The project id of a SageMaker project created in the same plan is a reference.
        project_id = TerraformVariable(stack, f"project-id-{index}", type="string").string_value
        pipeline = PipelineRole(
            stack,
            f"pipeline-{index}",
            PipelineRoleProps(
                context=context, environment_name="dev", project_name=name, project_id=project_id
            ),
        )
        ActionsIdentity(
            stack,
            f"identity-{index}",
            ActionsIdentityProps(
                context=context,
                environment_name="dev",
                project_name=name,
                project_id=project_id,
                github_owner="acme",
                github_repository=f"repo-{index}",
                branch="main",
                production_environment=github_environment("dev", PRODUCTION_STAGE),
                staging_environment=github_environment("dev", STAGING_STAGE),
                auth_mode=auth_mode,  # type: ignore[arg-type]
                oidc_provider_arn=OIDC_PROVIDER if auth_mode == "oidc" else None,
                pipeline_role_arn=pipeline.role_arn,
            ),
        )
    document: dict[str, Any] = json.loads(Testing.synth(stack))
    return document


def _patterns(principal: IamPrincipal) -> list[str]:
    return [
        r.split(":", 5)[5] if r.count(":") >= 5 else r
        for s in principal.permissions
        if s.effect == "Allow"
        for r in s.resources
        if r != "*"
    ]


def _concrete_names(name: str) -> list[str]:
    """ARN resource parts of the project's endpoints, configurations and models, named by the
    seeded deploy/deploy.py for a package of the project's group."""
    names = []
    for stage in STAGES:
        created = seeded_deploy.resource_names(
            name, stage, PACKAGE_ARN.format(group=f"{name}-p-abc123def456")
        )
        names += [
            f"endpoint/{created.endpoint.lower()}",
            f"endpoint-config/{created.endpoint_config.lower()}",
            f"model/{created.model.lower()}",
        ]
    return names


@settings(derandomize=True, max_examples=60, deadline=None)
@given(pair=project_pairs(), auth_mode=st.sampled_from(["oidc", "access_keys"]))
@example(pair=("a", "a-b"), auth_mode="oidc")
@example(pair=("churn", "churn-model"), auth_mode="access_keys")
@example(pair=("churn", "churn-staging"), auth_mode="oidc")
@example(pair=("churn-production", "churn"), auth_mode="oidc")
def test_no_project_pattern_matches_another_projects_names(
    pair: tuple[str, str], auth_mode: str
) -> None:
    stack = _synth(pair, auth_mode)
    principals = read_principals(stack)
    repositories = [
        TrustedRepository(
            owner="acme",
            repository=f"repo-{index}",
            branch="main",
            project=name,
            production_environment=github_environment("dev", PRODUCTION_STAGE),
            staging_environment=github_environment("dev", STAGING_STAGE),
        )
        for index, name in enumerate(pair)
    ]
    assert cross_project_problems(principals, repositories) == []
    assert stage_problems(principals, repositories) == []
    assert deploy_trust_problems(principals) == []
    # Against the concrete names the deploy script creates: each project's patterns cover its
    # own stage's names and never the other project's.
    by_project: dict[str, list[IamPrincipal]] = {}
    for principal in principals:
        assert principal.project in pair, principal.address
        by_project.setdefault(principal.project, []).append(principal)
    assert len(by_project[pair[0]]) == len(by_project[pair[1]]) == 4  # pipeline, build, 2 stages
    for name, other in (pair, pair[::-1]):
        patterns = [p for principal in by_project[name] for p in _patterns(principal)]
        for concrete in _concrete_names(other):
            assert not [p for p in patterns if globs_intersect(p, concrete)], (name, concrete)
        for concrete in _concrete_names(name):
            assert [p for p in patterns if globs_intersect(p, concrete)], (name, concrete)


def test_stage_patterns_follow_the_seeded_deploy_script() -> None:
    """The IAM hash length and endpoint names are the ones deploy/deploy.py uses."""
    assert seeded_deploy._HASH_CHARS == DEPLOY_HASH_CHARS
    names = seeded_deploy.resource_names("Churn", "staging", PACKAGE_ARN.format(group="g"))
    assert names.endpoint == endpoint_name("Churn", "staging") == "Churn-staging"
    assert globs_intersect(stage_resource_pattern("Churn", "staging"), names.model.lower())
    assert not globs_intersect(
        stage_resource_pattern("Churn", "staging"), f"{names.model.lower()}0"
    )
    assert slug(names.model) == names.model.lower()
