"""The stateful fake GitHub and the provider model held to GitHub's OpenAPI description.

Every scenario of test_provider_lifecycle.py runs on both seeding designs with the fake's
answers completed to their response schemas (``github_conform``); then every exchange is
checked: the request the model (the provider's calls) or ``make propose`` sent, and the answer
the fake gave (status documented, body valid). This covers every endpoint the GitHub half of a
plan, an apply, a destroy and ``make propose`` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.modules.github.test_provider_lifecycle import (
    SCENARIOS,
    Design,
    Run,
    build_designs,
    new_world,
)
from tests.support.github_conform import conform, documented_path
from tests.support.github_openapi import description
from tests.support.stateful_github import GitHubWorld, serving

# Fields integrations/github 6.9.0 sends that the description does not list (GitHub accepts
# them). Anything else undocumented fails the test.
PROVIDER_EXTRAS = {
    # createUpdateEnvironmentData always sets CanAdminsBypass
    # (resource_github_repository_environment.go:250)
    ("PUT", "/repos/{owner}/{repo}/environments/{environment_name}"): {"can_admins_bypass"},
}


@pytest.fixture(scope="module")
def designs() -> dict[str, dict[str, Design]]:
    return build_designs()


def _owner_repo(world: GitHubWorld) -> Callable[[int], str]:
    def find(repo_id: int) -> str:
        (repo,) = [r for r in world.repos.values() if r.id == repo_id]
        return f"{repo.owner}/{repo.name}"

    return find


def _completer(world: GitHubWorld) -> Callable[[str, str, int, Any], Any]:
    d, owner_repo = description(), _owner_repo(world)

    def completed(method: str, target: str, status: int, body: Any) -> Any:
        return conform(d, method, documented_path(target, owner_repo), status, body)

    return completed


def _exchanges_errors(world: GitHubWorld) -> tuple[list[str], set[str]]:
    d = description()
    errors: list[str] = []
    operations: set[str] = set()
    for method, target, body, status, answer in world.exchanges:
        path = documented_path(target, _owner_repo(world))
        op = d.operation(method, path)
        operations.add(op.operation_id)
        extras = PROVIDER_EXTRAS.get((method, op.template), set())
        sent = (
            {k: v for k, v in body.items() if k not in extras} if isinstance(body, dict) else body
        )
        errors += d.request_errors(method, path, sent)
        errors += d.response_errors(method, path, status, {}, answer)
    return errors, operations


@pytest.mark.parametrize("design", ["new", "old"])
def test_every_exchange_of_every_scenario_conforms(
    design: str, designs: dict[str, dict[str, Design]]
) -> None:
    errors: list[str] = []
    operations: set[str] = set()
    for name, scenario in SCENARIOS.items():
        world = new_world()
        world.conform = _completer(world)
        with serving(world) as url:
            run = Run(world, url, designs[design])
            scenario(run)
        if design == "new":
            assert run.violations == [], name
        found, ops = _exchanges_errors(world)
        errors += [f"{name}: {e}" for e in found]
        operations |= ops
    assert errors == [], "\n".join(sorted(set(errors))[:20])
    # the endpoints exercised: every CRUD of the modelled resource types and data sources
    expected = {
        "orgs/get", "teams/get-by-name", "repos/get-branch", "repos/get-content",
        "repos/create-or-update-file-contents", "repos/get-commit", "repos/get",
        "repos/create-or-update-environment", "repos/get-environment",
        "repos/create-deployment-branch-policy", "repos/get-deployment-branch-policy",
        "actions/create-repo-variable", "actions/get-repo-variable",
        "actions/create-environment-variable", "actions/get-environment-variable",
        "actions/get-environment-public-key",
        "actions/create-or-update-environment-secret", "actions/get-environment-secret",
    }  # fmt: skip
    if design == "new":
        expected |= {
            "users/get-by-username", "pulls/list", "git/get-ref", "git/get-commit",
            "git/create-tree", "git/create-commit", "git/create-ref", "pulls/create",
            "repos/delete-file", "repos/delete-an-environment", "actions/delete-repo-variable",
            "actions/delete-environment-variable", "repos/delete-deployment-branch-policy",
        }  # fmt: skip
    else:
        expected |= {"git/create-ref", "pulls/create", "pulls/get", "repos/delete-file"}
        # the old design's access_keys build keys were repository secrets; they are
        # secrets of the <env>-build environment now
        expected |= {
            "actions/get-repo-public-key", "actions/create-or-update-repo-secret",
            "actions/get-repo-secret",
        }  # fmt: skip
    assert expected <= operations, sorted(expected - operations)
