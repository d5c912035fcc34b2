"""Seeded starter code belongs to the repository once merged: proved on the plan structure.

There is no integrations/github provider binary here, so the proof is structural, on the
synthesized JSON and the provider's documented semantics (integrations/github 6.9.0):

* ``github_repository_file``: ``repository``, ``file`` and ``branch`` force a new resource, so
  a destroy or replacement deletes the file *on the branch in state*; Read drops a file from
  state when it is missing, or, with ``autocreate_branch``, reads the source branch when the
  branch itself is gone.
* ``github_repository_pull_request``: destroying a pull request that is merged or closed does
  nothing (``resourceGithubRepositoryPullRequestDelete``); an open one is closed.

So the property to prove: no resource of any configuration ever has a seeded path on a
project's branch in state; every object a config change or destroy would delete is a
toolkit-owned object (a managed workflow file, or a file on the toolkit branch).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from modules.github.repository_files import (
    SEED_PULL_REQUEST_TITLE,
    WORKFLOWS_PULL_REQUEST_TITLE,
    seed_branch,
    workflows_branch,
)
from modules.render.seed_files import seed_files
from modules.render.workflows import workflow_paths
from tests.conftest import example_data
from tests.support.inprocess import synth_stacks
from tests.support.ownership import conflicts, describe

FORCE_NEW = ("repository", "file", "branch")  # github_repository_file, provider 6.9.0 schema
FileId = tuple[str, str, str]  # (repository, branch, path)


def _files(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get("github_repository_file", {}))


def _deleted(old: dict[str, Any], new: dict[str, Any] | None) -> set[FileId]:
    """Files the plan from ``old`` to ``new`` deletes (``None``: destroy the stack): resources
    gone from the config, and resources replaced because a force-new argument changed."""
    before = _files(old)
    after = _files(new) if new is not None else {}
    deleted: set[FileId] = set()
    for address, resource in before.items():
        kept = after.get(address)
        if kept is None or any(kept.get(k) != resource.get(k) for k in FORCE_NEW):
            deleted.add((resource["repository"], resource["branch"], resource["file"]))
    return deleted


def _project_branches(data: dict[str, Any], env: int) -> set[tuple[str, str]]:
    return {
        (p["github"]["repository"], p["github"].get("branch", "main"))
        for p in data["environments"][env]["projects"]
    }


def _assert_only_toolkit_objects(deleted: set[FileId], data: dict[str, Any], env: int) -> None:
    workflows = set(workflow_paths(data["environments"][env]["name"]).values())
    for repository, branch, path in deleted:
        if (repository, branch) in _project_branches(data, env):
            assert path in workflows, f"{repository}@{branch}:{path} is the users' file"
        else:
            assert branch.startswith("sagemaker-mlops/seed/"), (repository, branch, path)


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return example_data()


@pytest.fixture(scope="module")
def example_stacks(example: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return synth_stacks(example)


def test_seeded_paths_are_never_in_state_on_a_project_branch(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    seeded = set(seed_files())
    for env, name in enumerate(("dev", "prod")):
        branches = _project_branches(example, env)
        on_branches = {
            (f["repository"], f["branch"], f["file"])
            for f in _files(example_stacks[name]).values()
            if (f["repository"], f["branch"]) in branches
        }
        assert on_branches, "the workflows are committed to the project branch"
        assert not {path for _, _, path in on_branches} & seeded


def test_seed_is_a_pull_request_from_the_toolkit_branch(
    example_stacks: dict[str, dict[str, Any]],
) -> None:
    dev = example_stacks["dev"]
    seeded = {
        address: f
        for address, f in _files(dev).items()
        if f["repository"] == "churn-model" and f["file"] in seed_files()
    }
    assert {f["file"] for f in seeded.values()} == set(seed_files())
    for f in seeded.values():
        assert f["branch"] == seed_branch("main") == "sagemaker-mlops/seed/main"
        assert f["autocreate_branch"] is True
        assert f["autocreate_branch_source_branch"] == "main"
        # a later toolkit version's starter code is not pushed to the proposal either
        assert f["lifecycle"] == {"ignore_changes": ["content"]}
    pulls = {
        p["base_repository"]: p for p in dev["resource"]["github_repository_pull_request"].values()
    }
    pull = pulls["churn-model"]
    assert pull["base_ref"] == "main" and pull["head_ref"] == "sagemaker-mlops/seed/main"
    assert pull["title"] == SEED_PULL_REQUEST_TITLE
    assert pull["provider"] == "github.acme-ml"
    assert pull["lifecycle"] == {"ignore_changes": ["title", "body"]}
    # opened only once every file is on the toolkit branch
    assert {d.split(".")[1] for d in pull["depends_on"]} == set(seeded)


def test_lifecycle_project_removal_deletes_no_user_file(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    changed = copy.deepcopy(example)
    changed["environments"][0]["projects"] = changed["environments"][0]["projects"][1:]
    deleted = _deleted(example_stacks["dev"], synth_stacks(changed)["dev"])
    assert ("churn-model", "main", ".github/workflows/build-dev.yml") in deleted
    assert ("churn-model", "sagemaker-mlops/seed/main", "pipelines/run_pipeline.py") in deleted
    _assert_only_toolkit_objects(deleted, example, 0)


def test_lifecycle_seed_code_false_deletes_no_user_file(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    changed = copy.deepcopy(example)
    changed["environments"][0]["projects"][0]["seed_code"] = False
    new = synth_stacks(changed)["dev"]
    deleted = _deleted(example_stacks["dev"], new)
    assert deleted == {("churn-model", "sagemaker-mlops/seed/main", path) for path in seed_files()}
    _assert_only_toolkit_objects(deleted, example, 0)
    assert {
        p["base_repository"] for p in new["resource"]["github_repository_pull_request"].values()
    } == {"fraud-detection"}


def test_lifecycle_destroy_deletes_no_user_file(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    for env, name in enumerate(("dev", "prod")):
        deleted = _deleted(example_stacks[name], None)
        assert deleted  # the destroy does delete the toolkit's own files
        _assert_only_toolkit_objects(deleted, example, env)


def test_lifecycle_user_deleted_file_is_never_read_again(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    """A refresh reads a file from the branch in state (or, when that branch is gone, its
    ``autocreate_branch_source_branch``). After the user deletes ``pipelines/run_pipeline.py``
    from ``main``, no resource reads ``main`` for it while the toolkit branch exists, so no plan
    re-creates it and `make drift` stays in sync."""
    for env, name in enumerate(("dev", "prod")):
        for f in _files(example_stacks[name]).values():
            if f["file"] not in seed_files():
                continue
            assert (f["repository"], f["branch"]) not in _project_branches(example, env)
            assert f["branch"] == seed_branch(f["autocreate_branch_source_branch"])


def test_lifecycle_changing_the_branch_moves_only_toolkit_objects(
    example: dict[str, Any], example_stacks: dict[str, dict[str, Any]]
) -> None:
    changed = copy.deepcopy(example)
    changed["environments"][0]["projects"][0]["github"]["branch"] = "develop"
    deleted = _deleted(example_stacks["dev"], synth_stacks(changed)["dev"])
    assert ("churn-model", "main", ".github/workflows/deploy-dev.yml") in deleted
    _assert_only_toolkit_objects(deleted, example, 0)


# --- protected branches that require pull requests -------------------------------------------


def test_protected_branch_gets_everything_by_pull_request(example: dict[str, Any]) -> None:
    data = copy.deepcopy(example)
    data["environments"][0]["projects"][0]["github"]["workflows_via_pull_request"] = True
    dev = synth_stacks(data)["dev"]
    churn = [f for f in _files(dev).values() if f["repository"] == "churn-model"]
    # nothing is committed to the protected branch itself
    assert not [f for f in churn if f["branch"] == "main"]
    dev_workflows = workflow_paths("dev").values()
    heads = {f["branch"] for f in churn if f["file"] in dev_workflows}
    (head,) = heads
    assert re.fullmatch(r"sagemaker-mlops/workflows/main-[0-9a-f]{8}", head)
    pulls = {
        p["head_ref"]: p
        for p in dev["resource"]["github_repository_pull_request"].values()
        if p["base_repository"] == "churn-model"
    }
    assert set(pulls) == {head, "sagemaker-mlops/seed/main"}
    assert pulls[head]["title"] == WORKFLOWS_PULL_REQUEST_TITLE
    assert pulls[head]["base_ref"] == "main"
    # the other project (unprotected) keeps direct, reverted commits
    fraud = [f for f in _files(dev).values() if f["repository"] == "fraud-detection"]
    assert {f["branch"] for f in fraud if f["file"] in dev_workflows} == {"main"}
    # and still one owner per object
    found = conflicts({"dev": dev})
    assert not found, describe(found)


def test_protected_branch_proposal_follows_the_workflow_content() -> None:
    managed = {".github/workflows/build.yml": "on: push\n"}
    first = workflows_branch("main", managed)
    assert first == workflows_branch("main", {".github/workflows/build.yml": "on: push\r\n"})
    changed = workflows_branch("main", {".github/workflows/build.yml": "on: [push]\n"})
    # head_ref forces a new pull request: an upgrade is proposed anew, and the superseded
    # proposal is closed if still open (destroying a merged one does nothing)
    assert changed != first
    assert workflows_branch("release", managed) != first
