"""Seeded starter code is proposed outside Terraform state: proved on the synthesized JSON.

What the provider does with these objects over time (merges, deleted branches, destroy) is
played through by ``test_provider_lifecycle.py`` on the model of integrations/github 6.9.0.
Here the structure: no configuration puts a seeded path, a toolkit branch or a pull request in
Terraform state (so no refresh can find them missing and no destroy can touch them), and the
proposals ``make propose`` opens are exactly the starter code and, on protected branches, the
workflows.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from modules.core.config import parse_config
from modules.core.proposals import SEED_PULL_REQUEST_TITLE, WORKFLOWS_PULL_REQUEST_TITLE
from modules.github.repository_files import seed_branch, workflows_branch
from modules.proposals import collect_proposals
from modules.render.seed_files import seed_files
from modules.render.workflows import workflow_paths
from tests.conftest import example_data
from tests.support.inprocess import synth_stacks
from tests.support.ownership import conflicts, describe

FORCE_NEW = ("repository", "file", "branch")  # resource_github_repository_file.go:63,69,80
FileId = tuple[str, str, str]  # (repository, branch, path)


def _files(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get("github_repository_file", {}))


def _deleted(old: dict[str, Any], new: dict[str, Any] | None) -> set[FileId]:
    """Files the plan from ``old`` to ``new`` deletes (``None``: destroy the stack)."""
    before = _files(old)
    after = _files(new) if new is not None else {}
    deleted: set[FileId] = set()
    for address, resource in before.items():
        kept = after.get(address)
        if kept is None or any(kept.get(k) != resource.get(k) for k in FORCE_NEW):
            deleted.add((resource["repository"], resource["branch"], resource["file"]))
    return deleted


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return example_data()


@pytest.fixture(scope="module")
def example_stacks(example: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return synth_stacks(example)


def test_nothing_seeded_and_no_toolkit_branch_is_in_state(
    example_stacks: dict[str, dict[str, Any]],
) -> None:
    seeded = set(seed_files())
    for stack in example_stacks.values():
        files = _files(stack).values()
        assert files, "the workflows are committed directly"
        assert {f["file"] for f in files} <= {
            path for env in ("dev", "prod", "forecast") for path in workflow_paths(env).values()
        }
        assert not {f["file"] for f in files} & seeded
        assert not [f for f in files if f["branch"].startswith("sagemaker-mlops/")]
        assert not [f for f in files if "autocreate_branch" in f]
        assert "github_repository_pull_request" not in stack["resource"]
        assert "github_branch" not in stack["resource"]


def test_seed_is_one_proposal_per_project_branch(example: dict[str, Any]) -> None:
    proposals = collect_proposals(parse_config(example))
    found = {
        (stack, p.full_name, p.base, p.head)
        for stack, ps in proposals.items()
        for p in ps
        if p.kind == "seed"
    }
    assert found == {
        ("dev", "acme-ml/churn-model", "main", seed_branch("main")),
        ("dev", "acme-risk/fraud-detection", "main", seed_branch("main")),
        ("prod", "acme-ml/churn-model", "release", seed_branch("release")),
        ("forecast", "acme-ml/demand-forecast", "main", seed_branch("main")),
    }
    for ps in proposals.values():
        for p in ps:
            assert p.title == SEED_PULL_REQUEST_TITLE
            assert dict(p.files) == seed_files()


def test_seed_code_false_proposes_nothing_and_deletes_nothing(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    changed = copy.deepcopy(example)
    changed["environments"][0]["projects"][0]["seed_code"] = False
    new = synth_stacks(changed)["dev"]
    assert _deleted(example_stacks["dev"], new) == set()
    dev = collect_proposals(parse_config(changed))["dev"]
    assert {p.full_name for p in dev} == {"acme-risk/fraud-detection"}


def test_project_removal_and_destroy_delete_only_the_managed_workflows(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    changed = copy.deepcopy(example)
    changed["environments"][0]["projects"] = changed["environments"][0]["projects"][1:]
    assert _deleted(example_stacks["dev"], synth_stacks(changed)["dev"]) == {
        ("churn-model", "main", path) for path in workflow_paths("dev").values()
    }
    for name, stack in example_stacks.items():
        assert {path for _, _, path in _deleted(stack, None)} == set(workflow_paths(name).values())


def test_protected_branch_gets_everything_by_proposal(example: dict[str, Any]) -> None:
    data = copy.deepcopy(example)
    data["environments"][0]["projects"][0]["github"]["workflows_via_pull_request"] = True
    dev = synth_stacks(data)["dev"]
    # nothing of churn-model is committed by Terraform: the branch rejects direct commits
    assert not [f for f in _files(dev).values() if f["repository"] == "churn-model"]
    proposals = {
        p.kind: p
        for p in collect_proposals(parse_config(data))["dev"]
        if p.repository == "churn-model"
    }
    workflows = proposals["workflows"]
    assert re.fullmatch(r"sagemaker-mlops/workflows/main-[0-9a-f]{8}", workflows.head)
    assert workflows.title == WORKFLOWS_PULL_REQUEST_TITLE
    assert set(workflows.files) == set(workflow_paths("dev").values())
    assert proposals["seed"].head == seed_branch("main")
    # the other project (unprotected) keeps direct, reverted commits
    fraud = [f for f in _files(dev).values() if f["repository"] == "fraud-detection"]
    assert {f["branch"] for f in fraud} == {"main"}
    found = conflicts({"dev": dev})
    assert not found, describe(found)


def test_protected_branch_proposal_follows_the_workflow_content() -> None:
    managed = {".github/workflows/build.yml": "on: push\n"}
    first = workflows_branch("main", managed)
    assert first == workflows_branch("main", {".github/workflows/build.yml": "on: push\r\n"})
    # an upgrade is a new head: proposed anew (make propose closes the superseded open one)
    assert workflows_branch("main", {".github/workflows/build.yml": "on: [push]\n"}) != first
    assert workflows_branch("release", managed) != first
