"""The dispatcher's requests and classifications, exactly: the request it sends, the fallback
for a server without ``return_run_details``, the request budget's refusals, and the full text
of each answer class."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from github_trigger.config import GitHubTarget
from github_trigger.dispatch import (
    RequestBudgetExhaustedError,
    RequestCounter,
    WorkflowDispatcher,
    dispatch_path,
)
from github_trigger.errors import (
    GitHubOutcomeUnknownError,
    GitHubRateLimitedError,
    GitHubRequestRejectedError,
    GitHubUnavailableError,
)
from requests.structures import CaseInsensitiveDict

TOKEN = "ghp_UnitTestToken0000000000000000000000"
TARGET = GitHubTarget(
    owner="acme",
    repository="churn-model",
    workflow="deploy.yml",
    ref="main",
    token_secret_name="s",
    model_package_group_name="g",
)
PATH = "/repos/acme/churn-model/actions/workflows/deploy.yml/dispatches"


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
    response._content = json.dumps(body).encode() if body is not None else b""
    return response


class _Session:
    """Answers each post with the next of ``answers``; records the posts."""

    def __init__(self, answers: list[Any], posts: list[dict[str, Any]]) -> None:
        self.answers, self.posts = answers, posts

    def post(self, url: str, **kwargs: Any) -> Any:
        self.posts.append({"url": url, **kwargs})
        return self.answers.pop(0)

    def close(self) -> None:
        raise OSError("already closed")  # must not change the outcome


class _World:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.posts: list[dict[str, Any]] = []
        self.dispatcher = WorkflowDispatcher(
            api_url="https://ghe.example/api/v3",
            connect_timeout_seconds=3,
            read_timeout_seconds=5,
            session_factory=lambda: _Session(self.answers, self.posts),
        )

    def dispatch(self, counter: RequestCounter | None = None) -> Any:
        return self.dispatcher.dispatch(
            token=TOKEN,
            target=TARGET,
            inputs={"model_package_arn": "arn:x"},
            counter=counter or RequestCounter(3),
        )


def test_the_request() -> None:
    world = _World(_answer(204))

    result = world.dispatch()

    assert (result.status, result.workflow_run_id, result.run_url, result.html_url) == (
        204,
        None,
        None,
        None,
    )
    assert world.posts == [
        {
            "url": f"https://ghe.example/api/v3{PATH}",
            "json": {
                "ref": "main",
                "inputs": {"model_package_arn": "arn:x"},
                "return_run_details": True,
            },
            "headers": {
                "Accept": "application/vnd.github+json",
                "Authorization": f"token {TOKEN}",
                "User-Agent": "sagemaker-github-workflow-trigger",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            "timeout": (3, 5),
            "allow_redirects": False,
        }
    ]


def test_the_path_quotes_each_part() -> None:
    target = GitHubTarget(
        owner="a b",
        repository="r/s",
        workflow="d?.yml",
        ref="main",
        token_secret_name="s",
        model_package_group_name="g",
    )
    assert dispatch_path(target) == "/repos/a%20b/r%2Fs/actions/workflows/d%3F.yml/dispatches"


@pytest.mark.parametrize("status", [400, 422])
def test_a_server_without_run_details_is_asked_again_without_them_and_remembered(
    status: int,
) -> None:
    unknown = {"message": "Invalid request: return_run_details is not a permitted key"}
    world = _World(_answer(status, unknown), _answer(204), _answer(204))
    counter = RequestCounter(3)

    assert world.dispatch(counter).status == 204
    assert world.dispatch(counter).status == 204
    assert ["return_run_details" in post["json"] for post in world.posts] == [True, False, False]
    assert counter.used == 3


@pytest.mark.parametrize(
    ("status", "message"),
    [(422, "Unexpected inputs provided"), (404, "return_run_details Not Found")],
)
def test_other_rejections_are_not_retried_without_run_details(status: int, message: str) -> None:
    world = _World(_answer(status, {"message": message}))
    with pytest.raises(GitHubRequestRejectedError):
        world.dispatch()
    assert len(world.posts) == 1


def test_the_request_budget_refuses_a_request_over_the_limit() -> None:
    counter = RequestCounter(1)
    counter.take("/p")
    with pytest.raises(RequestBudgetExhaustedError) as raised:
        counter.take("/p")
    assert str(raised.value) == (
        "POST /p not sent: this invocation already made 1 GitHub requests, the most its time "
        "budget allows; Lambda will retry"
    )
    assert counter.used == 1


def test_the_request_budget_refuses_a_request_without_the_time_to_finish() -> None:
    left = [20.0]
    counter = RequestCounter(5, seconds_left=lambda: left[0], seconds_needed=20)
    counter.take("/p")  # exactly enough
    left[0] = 19.94
    with pytest.raises(RequestBudgetExhaustedError) as raised:
        counter.take("/p")
    assert str(raised.value) == (
        "POST /p not sent: 19.9 s left in this invocation, a request and the record of its "
        "outcome need up to 20 s (is the function timeout the one Terraform derived?); Lambda "
        "will retry"
    )
    assert counter.used == 1


def _raised(*answers: Any) -> BaseException:
    with pytest.raises(Exception) as raised:
        _World(*answers).dispatch()
    return raised.value


NOT_FOUND = {"message": "Not Found"}


@pytest.mark.parametrize(
    ("answer", "kind", "message"),
    [
        (
            _answer(429, NOT_FOUND),
            GitHubRateLimitedError,
            f"GitHub answered 429 to POST {PATH}: Not Found (rate limited; Lambda will retry)",
        ),
        (
            _answer(403, NOT_FOUND, {"x-ratelimit-remaining": "0"}),
            GitHubRateLimitedError,
            f"GitHub answered 403 to POST {PATH}: Not Found (rate limited; Lambda will retry)",
        ),
        (
            _answer(403, {"message": "You have exceeded a Secondary Rate Limit"}),
            GitHubRateLimitedError,
            f"GitHub answered 403 to POST {PATH}: You have exceeded a Secondary Rate Limit "
            "(rate limited; Lambda will retry)",
        ),
        (
            _answer(403, NOT_FOUND, {"x-ratelimit-remaining": "1"}),
            GitHubRequestRejectedError,
            f"GitHub answered 403 to POST {PATH}: Not Found (the token may not dispatch "
            "workflows in this repository (fine-grained: Actions read and write; classic: repo "
            "scope))",
        ),
        (
            _answer(401, NOT_FOUND, {"retry-after": "5"}),
            GitHubRequestRejectedError,
            f"GitHub answered 401 to POST {PATH}: Not Found (the token is invalid, expired or "
            "revoked; update the token secret)",
        ),
        (
            _answer(418, NOT_FOUND),
            GitHubRequestRejectedError,
            f"GitHub answered 418 to POST {PATH}: Not Found (GitHub rejected the request)",
        ),
        (
            _answer(499, None),
            GitHubRequestRejectedError,
            f"GitHub answered 499 to POST {PATH}: no message (GitHub rejected the request)",
        ),
        (
            _answer(504, NOT_FOUND),
            GitHubOutcomeUnknownError,
            f"GitHub answered 504 to POST {PATH}: Not Found (gateway timeout: GitHub may have "
            "accepted the dispatch, so it is not sent again: check the repository's Actions "
            "runs, re-approve to redeploy)",
        ),
        (
            _answer(500, NOT_FOUND),
            GitHubUnavailableError,
            f"GitHub answered 500 to POST {PATH}: Not Found (server error; Lambda will retry)",
        ),
        (
            _answer(599, NOT_FOUND),
            GitHubUnavailableError,
            f"GitHub answered 599 to POST {PATH}: Not Found (server error; Lambda will retry)",
        ),
        (
            _answer(600, NOT_FOUND),
            GitHubOutcomeUnknownError,
            f"GitHub answered 600 to POST {PATH}: Not Found (not an HTTP status GitHub documents)",
        ),
        (
            _answer(199, NOT_FOUND),
            GitHubOutcomeUnknownError,
            f"GitHub answered 199 to POST {PATH}: Not Found (not an HTTP status GitHub documents)",
        ),
        (
            _answer(307, NOT_FOUND, {"Location": f"https://u:p@x.example/{TOKEN}/d?t={TOKEN}"}),
            GitHubRequestRejectedError,
            f"GitHub answered 307 to POST {PATH}: Not Found (the repository or workflow moved to "
            "https://x.example/***/d; nothing was dispatched: update the config's "
            "owner/repository and re-approve)",
        ),
        (
            _answer(399, NOT_FOUND),
            GitHubRequestRejectedError,
            f"GitHub answered 399 to POST {PATH}: Not Found (the repository or workflow moved to "
            "no Location header; nothing was dispatched: update the config's owner/repository "
            "and re-approve)",
        ),
    ],
)
def test_answers(answer: Any, kind: type, message: str) -> None:
    raised = _raised(answer)
    assert type(raised) is kind
    assert str(raised) == message


@pytest.mark.parametrize("status", [200, 201, 299])
def test_every_2xx_is_a_dispatch(status: int) -> None:
    assert _World(_answer(status, ["not", "an", "object"])).dispatch().status == status


def test_an_answer_without_a_status_is_unknown() -> None:
    answer = _answer(204)
    answer.status_code = None
    raised = _raised(answer)
    assert type(raised) is GitHubOutcomeUnknownError
    assert str(raised) == f"POST {PATH}: GitHub's answer has no usable status"


def test_an_answer_that_cannot_be_read_is_unknown() -> None:
    class _Broken:
        @property
        def status_code(self) -> int:
            raise RuntimeError("broken")

    raised = _raised(_Broken())
    assert type(raised) is GitHubOutcomeUnknownError
    assert str(raised) == (
        f"POST {PATH}: could not read GitHub's answer (RuntimeError); it may have accepted the "
        "dispatch, so it is not sent again"
    )
    assert type(raised.__cause__) is RuntimeError


def test_run_details_are_kept_and_scrubbed() -> None:
    body = {
        "workflow_run_id": 7,
        "run_url": f"https://api.example/runs/7?token={TOKEN}",
        "html_url": f"https://u:p@github.example/{TOKEN}/runs/7#x",
    }
    result = _World(_answer(200, body)).dispatch()
    assert (result.status, result.workflow_run_id) == (200, 7)
    assert result.run_url == "https://api.example/runs/7"
    assert result.html_url == "https://github.example/***/runs/7"


@pytest.mark.parametrize(("run_id", "kept"), [(0, 0), (True, None), ("7", None), (7.0, None)])
def test_run_ids_that_are_not_integers_are_dropped(run_id: Any, kept: int | None) -> None:
    result = _World(_answer(200, {"workflow_run_id": run_id})).dispatch()
    assert result.workflow_run_id == kept


def test_the_edges_of_the_redirect_range() -> None:
    moved = {"Location": "https://api.github.com/repositories/42"}
    raised = _raised(_answer(300, NOT_FOUND, moved))
    assert type(raised) is GitHubRequestRejectedError
    assert str(raised) == (
        f"GitHub answered 300 to POST {PATH}: Not Found (the repository or workflow moved to "
        "https://api.github.com/repositories/42; nothing was dispatched: update the config's "
        "owner/repository and re-approve)"
    )
    raised = _raised(_answer(400, NOT_FOUND, moved))
    assert type(raised) is GitHubRequestRejectedError
    assert str(raised) == (
        f"GitHub answered 400 to POST {PATH}: Not Found (GitHub could not parse the request)"
    )


def test_the_location_is_read_by_its_lowercase_name_in_a_plain_mapping() -> None:
    answer = _answer(301, NOT_FOUND)
    answer.headers = {"location": "https://api.github.com/repositories/42"}
    assert "moved to https://api.github.com/repositories/42;" in str(_raised(answer))
