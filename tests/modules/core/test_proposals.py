"""The proposals ``make propose`` opens, as data (modules/core/proposals.py): expected values are
written out here, not computed with the module's own helpers."""

from __future__ import annotations

import pytest

from modules.core.proposals import (
    Proposal,
    normalise,
    seed_branch,
    seed_proposal,
    workflows_branch,
    workflows_proposal,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\r\nb\rc", "a\nb\nc\n"),  # CRLF and lone CR become LF, one final newline added
        ("x\n\n\n", "x\n"),  # trailing newlines collapse to one
        ("\n\nx", "\n\nx\n"),  # leading newlines are content
        ("", ""),  # an empty file stays empty
        ("\n\r\n\r", ""),  # only newlines: empty
        ("  ", "  \n"),  # blanks are content
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_seed_branch_is_one_per_project_branch() -> None:
    assert seed_branch("main") == "sagemaker-mlops/seed/main"
    assert seed_branch("release/2") == "sagemaker-mlops/seed/release/2"


def test_workflows_branch_is_named_after_the_normalised_content() -> None:
    files = {".github/workflows/build-dev.yml": "on: push\n"}
    # sha256 of '{".github/workflows/build-dev.yml": "on: push\n"}' (json, sorted keys)
    assert workflows_branch("main", files) == "sagemaker-mlops/workflows/main-c6ec8bb9"
    # the same content with CRLF or without the final newline is the same proposal
    assert workflows_branch("main", {".github/workflows/build-dev.yml": "on: push\r\n"}) == (
        "sagemaker-mlops/workflows/main-c6ec8bb9"
    )
    assert workflows_branch("main", {".github/workflows/build-dev.yml": "on: push"}) == (
        "sagemaker-mlops/workflows/main-c6ec8bb9"
    )
    # another content, path or branch is another branch name
    assert workflows_branch("main", {".github/workflows/build-dev.yml": "on: pull_request"}) != (
        "sagemaker-mlops/workflows/main-c6ec8bb9"
    )
    assert workflows_branch("main", {".github/workflows/other.yml": "on: push\n"}) != (
        "sagemaker-mlops/workflows/main-c6ec8bb9"
    )
    assert workflows_branch("trunk", files) == "sagemaker-mlops/workflows/trunk-c6ec8bb9"
    # the order of the files does not matter
    two = {"b.yml": "b", "a.yml": "a"}
    assert workflows_branch("main", two) == workflows_branch("main", dict(sorted(two.items())))


def test_seed_proposal() -> None:
    proposal = seed_proposal(
        "acme-ml", "churn-model", "main", {"pipelines/run.py": "x\r\n", "deploy/deploy.py": "y"}
    )
    assert proposal == Proposal(
        kind="seed",
        owner="acme-ml",
        repository="churn-model",
        base="main",
        head="sagemaker-mlops/seed/main",
        title="chore(mlops): starter pipeline and deploy code [sagemaker-github-mlops]",
        body=proposal.body,
        files={"deploy/deploy.py": "y\n", "pipelines/run.py": "x\n"},
    )
    assert list(proposal.files) == ["deploy/deploy.py", "pipelines/run.py"]
    assert proposal.body.startswith("Starter code for the SageMaker pipeline (`pipelines/`)")
    assert "never changes or deletes them, and never proposes them again" in proposal.body
    assert proposal.full_name == "acme-ml/churn-model"
    assert proposal.commit_message == (
        "chore(mlops): add starter deploy/deploy.py, pipelines/run.py [sagemaker-github-mlops]"
    )


def test_workflows_proposal() -> None:
    files = {".github/workflows/build-dev.yml": "on: push"}
    proposal = workflows_proposal("acme-ml", "churn-model", "main", files)
    assert proposal == Proposal(
        kind="workflows",
        owner="acme-ml",
        repository="churn-model",
        base="main",
        head="sagemaker-mlops/workflows/main-c6ec8bb9",
        title="chore(mlops): GitHub Actions workflows [sagemaker-github-mlops]",
        body=proposal.body,
        files={".github/workflows/build-dev.yml": "on: push\n"},
    )
    assert "because this branch requires pull requests" in proposal.body
    assert proposal.commit_message == (
        "chore(mlops): update .github/workflows/build-dev.yml [sagemaker-github-mlops]"
    )


def test_a_commit_of_more_than_two_files_says_files() -> None:
    three = {"a": "1", "b": "2", "c": "3"}
    assert seed_proposal("o", "r", "main", three).commit_message == (
        "chore(mlops): add starter files [sagemaker-github-mlops]"
    )
    assert workflows_proposal("o", "r", "main", three).commit_message == (
        "chore(mlops): update files [sagemaker-github-mlops]"
    )
    assert workflows_proposal("o", "r", "main", {"b": "2", "a": "1"}).commit_message == (
        "chore(mlops): update a, b [sagemaker-github-mlops]"
    )
