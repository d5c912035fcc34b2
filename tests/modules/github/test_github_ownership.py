"""One owner per GitHub variable, secret, environment and branch policy, across all stacks.

``config/example.yaml`` deploys ``acme-ml/churn-model`` from two stacks (``dev`` from ``main``,
``prod`` from ``release``, two AWS accounts). Every object the stacks create in GitHub is
identified as the API addresses it; no identity may be created twice, by two stacks or by two
projects. Credentials follow the approval gate: whatever grants production access lives only
in the production environment of its own stack.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from modules.core.naming import github_environment
from tests.conftest import Synth, resources

Identity = tuple[str, ...]
_REFERENCE = re.compile(r"^\$\{([a-z_]+)\.([^.]+)\.([a-z_]+)\}$")


def _owner(stack: dict[str, Any], item: dict[str, Any]) -> str:
    alias = item["provider"].split(".", 1)[1]
    (provider,) = [p for p in stack["provider"]["github"] if p["alias"] == alias]
    return str(provider["owner"]).lower()


def _environment_name(stack: dict[str, Any], reference: str) -> str:
    match = _REFERENCE.fullmatch(reference)
    assert match and match.group(1) == "github_repository_environment", reference
    return str(resources(stack, "github_repository_environment")[match.group(2)]["environment"])


def github_identities(stack: dict[str, Any]) -> list[tuple[Identity, str]]:
    """(identity, resource address) of every variable, secret, environment and branch policy.

    Identities are case-insensitive as GitHub treats these names: ``(owner, repository, kind,
    name[, environment])``; a branch policy is ``(owner, repository, "branch-policy",
    environment, pattern)``.
    """
    found: list[tuple[Identity, str]] = []

    def add(rtype: str, key: str, item: dict[str, Any], *parts: str) -> None:
        identity = (_owner(stack, item), item["repository"].lower(), *(p.lower() for p in parts))
        found.append((identity, f"{rtype}.{key}"))

    for rtype, kind, field in (
        ("github_actions_variable", "variable", "variable_name"),
        ("github_actions_secret", "secret", "secret_name"),
    ):
        for key, item in resources(stack, rtype).items():
            add(rtype, key, item, kind, item[field])
    for rtype, kind, field in (
        ("github_actions_environment_variable", "variable", "variable_name"),
        ("github_actions_environment_secret", "secret", "secret_name"),
    ):
        for key, item in resources(stack, rtype).items():
            environment = _environment_name(stack, item["environment"])
            add(rtype, key, item, kind, item[field], environment)
    for key, item in resources(stack, "github_repository_environment").items():
        add("github_repository_environment", key, item, "environment", item["environment"])
    rtype = "github_repository_environment_deployment_policy"
    for key, item in resources(stack, rtype).items():
        environment = _environment_name(stack, item["environment"])
        add(rtype, key, item, "branch-policy", environment, item["branch_pattern"])
    return found


def test_no_two_stacks_or_projects_create_the_same_github_object(example_synth: Synth) -> None:
    everything = [
        (identity, f"{name}:{address}")
        for name in example_synth.stack_names()
        for identity, address in github_identities(example_synth.stack(name))
    ]
    counts = Counter(identity for identity, _ in everything)
    duplicates = {
        identity: [address for i, address in everything if i == identity]
        for identity, count in counts.items()
        if count > 1
    }
    assert duplicates == {}
    # Not vacuous: the shared repository really is managed by both stacks, with every kind.
    shared = {
        (name, identity[2])
        for name in example_synth.stack_names()
        for identity, _ in github_identities(example_synth.stack(name))
        if identity[:2] == ("acme-ml", "churn-model")
    }
    kinds = {"variable", "secret", "environment", "branch-policy"}
    assert {kind for stack, kind in shared if stack == "dev"} == kinds - {"secret"}
    assert {kind for stack, kind in shared if stack == "prod"} == kinds


def test_environments_carry_the_toolkit_environment(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        environments = {
            e["environment"]
            for e in resources(example_synth.stack(name), "github_repository_environment").values()
        }
        # access_keys (prod): the build job's key pair lives in its own '<env>-build'
        build = {github_environment(name, "build")} if name == "prod" else set()
        assert environments == {
            github_environment(name, "staging"),
            github_environment(name, "production"),
            *build,
        }
        for policy in resources(
            example_synth.stack(name), "github_repository_environment_deployment_policy"
        ).values():
            branch = "release" if name == "prod" else "main"
            assert policy["branch_pattern"] == branch


def _production_principals(stack: dict[str, Any]) -> set[str]:
    """Addresses of the production deploy identity's credentials (role ARN, key id, secret)."""
    roles = {
        f"aws_iam_role.{k}"
        for k in resources(stack, "aws_iam_role")
        # the home account's production role, or the production account's (promotion)
        if "_production-role_" in k or "_production-account-identity_deploy-role_" in k
    }
    users = {
        f"${{aws_iam_user.{k}.name}}"
        for k in resources(stack, "aws_iam_user")
        if "_production-user_" in k
    }
    keys = {
        f"aws_iam_access_key.{k}"
        for k, v in resources(stack, "aws_iam_access_key").items()
        if v["user"] in users
    }
    return roles | keys


def test_production_credentials_only_in_the_production_environment(example_synth: Synth) -> None:
    checked = 0
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        production = _production_principals(stack)
        assert production, name
        for rtype in (
            "github_actions_variable",
            "github_actions_secret",
            "github_actions_environment_variable",
            "github_actions_environment_secret",
        ):
            for item in resources(stack, rtype).values():
                value = item.get("value", item.get("plaintext_value", ""))
                match = _REFERENCE.fullmatch(value)
                if match is None or f"{match.group(1)}.{match.group(2)}" not in production:
                    continue
                checked += 1
                assert rtype.startswith("github_actions_environment_"), (name, item)
                environment = _environment_name(stack, item["environment"])
                assert environment == github_environment(name, "production"), (name, item)
    # dev: the production role ARN of 2 projects; prod: the production key id and secret;
    # forecast: the production account's deploy role of its project.
    assert checked == 5
