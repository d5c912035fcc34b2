"""``make propose`` (modules/ops/propose.py) against the stateful fake GitHub on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modules.core.proposals import Proposal, seed_proposal, workflows_proposal
from modules.ops.propose import GitHubApi, ProposeError, propose, propose_all
from tests.support.stateful_github import GitHubWorld, serving

FILES = {"pipelines/run.py": "print('hi')\r\n", "deploy/deploy.py": "x = 1"}
TOKENS = {"TF_VAR_github_owner_token_acme_ml": "tok-acme"}


@pytest.fixture
def world() -> GitHubWorld:
    world = GitHubWorld()
    world.add_repository("acme-ml", "churn-model")
    return world


@pytest.fixture
def api_url(world: GitHubWorld) -> Iterator[str]:
    with serving(world) as url:
        yield url


def seed() -> Proposal:
    return seed_proposal("acme-ml", "churn-model", "main", FILES)


def refs_created(world: GitHubWorld) -> list[int]:
    return [r.status for r in world.requests if r.method == "POST" and r.path.endswith("/refs")]


def test_opens_one_branch_one_commit_one_pull_request(world: GitHubWorld, api_url: str) -> None:
    outcomes, errors = propose_all((seed(),), api_url, TOKENS)
    assert errors == [] and [o.status for o in outcomes] == ["opened"]
    repo = world.repo("acme-ml", "churn-model")
    head = "sagemaker-mlops/seed/main"
    assert refs_created(world) == [201]
    (pull,) = world.pulls("acme-ml", "churn-model")
    assert (pull.head, pull.base, pull.state) == (head, "main", "open")
    # one commit on top of main holding every file, normalised to LF with a final newline
    commit = repo.commits[repo.refs[head]]
    assert commit.parents == (repo.refs["main"],)
    assert commit.tree["pipelines/run.py"] == "print('hi')\n"
    assert commit.tree["deploy/deploy.py"] == "x = 1\n"
    assert "pipelines/run.py" not in repo.files("main")


@pytest.mark.parametrize("after", ["merged", "closed", "file-deleted"])
def test_never_proposes_again_or_recreates_anything(
    world: GitHubWorld, api_url: str, after: str
) -> None:
    propose_all((seed(),), api_url, TOKENS)
    if after == "closed":
        world.close("acme-ml", "churn-model", 1)
    else:
        world.merge("acme-ml", "churn-model", 1)
    if after == "file-deleted":
        world.delete_file("acme-ml", "churn-model", "main", "deploy/deploy.py")
    before = len(world.requests)
    outcomes, errors = propose_all((seed(),), api_url, TOKENS)
    assert errors == []
    assert outcomes[0].status == "already-proposed"
    state = "closed" if after == "closed" else "merged"
    assert outcomes[0].detail == f"#1 ({state}): never proposed again"
    # one read, no write: the deleted branch and file stay deleted
    assert [(r.method, r.status) for r in world.requests[before:]] == [("GET", 200)]
    repo = world.repo("acme-ml", "churn-model")
    assert "sagemaker-mlops/seed/main" not in repo.refs
    assert len(world.pulls("acme-ml", "churn-model")) == 1


def test_nothing_to_propose_when_the_branch_has_the_files(world: GitHubWorld, api_url: str) -> None:
    for path, content in FILES.items():
        world.edit_file("acme-ml", "churn-model", "main", path, content.replace("\r", ""))
    world.edit_file("acme-ml", "churn-model", "main", "deploy/deploy.py", "x = 1\n")
    outcomes, _ = propose_all((seed(),), api_url, TOKENS)
    assert outcomes[0].status == "up-to-date"
    assert refs_created(world) == [] and world.pulls("acme-ml", "churn-model") == []


def test_a_leftover_branch_is_reused_not_recreated(world: GitHubWorld, api_url: str) -> None:
    """A run interrupted after the branch was created opens the pull request next time."""
    world.add_branch("acme-ml", "churn-model", "sagemaker-mlops/seed/main")
    world.edit_file("acme-ml", "churn-model", "sagemaker-mlops/seed/main", "deploy/deploy.py", "x")
    outcomes, errors = propose_all((seed(),), api_url, TOKENS)
    assert errors == [] and outcomes[0].status == "opened"
    assert refs_created(world) == []


def test_a_new_workflow_version_closes_the_superseded_proposal(
    world: GitHubWorld, api_url: str
) -> None:
    first = workflows_proposal("acme-ml", "churn-model", "main", {".github/workflows/b.yml": "a"})
    second = workflows_proposal("acme-ml", "churn-model", "main", {".github/workflows/b.yml": "b"})
    assert first.head != second.head
    propose_all((first,), api_url, TOKENS)
    outcomes, errors = propose_all((second,), api_url, TOKENS)
    assert errors == [] and outcomes[0].status == "opened"
    states = {p.head: p.state for p in world.pulls("acme-ml", "churn-model")}
    assert states == {first.head: "closed", second.head: "open"}


def test_errors_name_the_step_and_never_the_token(world: GitHubWorld, api_url: str) -> None:
    missing = seed_proposal("acme-ml", "churn-model", "develop", FILES)
    outcomes, errors = propose_all((missing, seed()), api_url, TOKENS)
    assert [o.status for o in outcomes] == ["opened"]  # the other proposal still runs
    (error,) = errors
    assert error.startswith("acme-ml/churn-model seed: GET /repos/acme-ml/churn-model/git/ref/")
    assert "404" in error and "tok-acme" not in error
    _, errors = propose_all((seed(),), api_url, {})
    assert errors == [
        "acme-ml/churn-model: no token (set TF_VAR_github_owner_token_acme_ml or GITHUB_TOKEN)"
    ]


def test_token_echoed_by_github_is_redacted() -> None:
    api = GitHubApi("http://127.0.0.1:9", "s3cr3t-token")
    api.request = lambda *a, **k: (401, {"message": "Bad credentials: s3cr3t-token"})  # type: ignore[method-assign]
    with pytest.raises(ProposeError) as raised:
        propose(api, seed())
    assert "s3cr3t-token" not in str(raised.value) and "***" in str(raised.value)


@pytest.mark.parametrize(
    "url",
    ["http://api.github.example", "file:///etc/passwd", "https://user:pw@api.github.com"],
)
def test_refuses_unsafe_api_urls(url: str) -> None:
    with pytest.raises(ValueError, match="GitHub API URL"):
        GitHubApi(url, "t")


def test_make_propose_cli(
    world: GitHubWorld,
    api_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from modules.proposals import main  # noqa: PLC0415 - builds the app (cdktf)
    from tests.conftest import EXAMPLE_CONFIG  # noqa: PLC0415

    world.add_branch("acme-ml", "churn-model", "release")
    monkeypatch.setenv("TF_VAR_github_owner_token_acme_ml", "tok-acme")
    args = ["--config", str(EXAMPLE_CONFIG), "--github-api-url", api_url]
    assert main([*args, "--stack", "nope"]) == 2
    assert main([*args, "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert "acme-ml/churn-model seed (sagemaker-mlops/seed/release -> release): opened, #1" in out
    assert main([*args, "--stack", "prod"]) == 0
    assert "already-proposed, #1 (open): never proposed again" in capsys.readouterr().out
    monkeypatch.delenv("TF_VAR_github_owner_token_acme_ml")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main([*args, "--stack", "prod"]) == 1
