"""preflight's GitHub client: no redirect followed, the token only ever sent to the API's own
origin, 403s classified by GitHub's documented headers, pagination by Link, and the API URL
rule (https; http only for loopback; no credentials; the URL never echoed with them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modules.ops import preflight
from modules.ops.preflight.github_api import (
    ApiUrlError,
    GitHubClient,
    GitHubDeniedError,
    checked_api_url,
)
from tests.support.fake_github import FakeGitHub, FakeResponse, running_fake_github

TOKEN = "ghp_client_test_token"
ERROR = {"message": "Moved Permanently", "documentation_url": "https://docs.github.com/rest"}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeGitHub, FakeGitHub]]:
    """The API, and another host (another port on 127.0.0.1) that must never be contacted."""
    with running_fake_github() as api, running_fake_github() as elsewhere:
        yield api, elsewhere


@pytest.fixture
def api(servers: tuple[FakeGitHub, FakeGitHub]) -> Iterator[FakeGitHub]:
    for server in servers:
        server.reset()
    yield servers[0]
    assert servers[1].requests == []  # the other host never saw a request, nor the token
    errors = servers[0].conformance_errors()
    assert errors == [], "\n".join(errors)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_never_followed(api: FakeGitHub, status: int) -> None:
    api.enqueue(
        FakeResponse(
            status=status,
            headers={"Location": f"{api.api_url}/repositories/42"},
            body={**ERROR, "url": f"{api.api_url}/repositories/42"},
            # 302/307/308 are not documented for repos/get: a proxy's answer
            undocumented="" if status == 301 else "a redirect repos/get does not document",
        )
    )
    answer = GitHubClient(api.api_url, TOKEN).get("/repos/acme/churn")
    assert answer.status == status
    assert answer.location.endswith("/repositories/42")
    assert [r.path for r in api.requests] == ["/repos/acme/churn"]


def test_a_redirect_to_another_host_is_never_requested(
    api: FakeGitHub, servers: tuple[FakeGitHub, FakeGitHub]
) -> None:
    elsewhere = servers[1]
    location = f"{elsewhere.api_url}/repositories/42"
    api.enqueue(FakeResponse(status=301, headers={"Location": location}, body=ERROR))
    client = GitHubClient(api.api_url, TOKEN)
    answer = client.get("/repos/acme/churn")
    assert client.get_url(answer.location) is None
    assert client.same_origin(location) is None
    assert client.same_origin("https://user:pw@127.0.0.1/x") is None
    # the same origin is followed only below the API root
    assert client.same_origin(f"{api.api_url}/repositories/42") == location.replace(
        elsewhere.api_url, api.api_url
    )


def test_link_next_to_another_host_is_not_followed(
    api: FakeGitHub, servers: tuple[FakeGitHub, FakeGitHub]
) -> None:
    rule = {"type": "deletion", "ruleset_source_type": "Repository", "ruleset_id": 1}
    api.enqueue(
        FakeResponse(
            status=200,
            body=[rule],
            headers={"Link": f'<{servers[1].api_url}/evil?page=2>; rel="next"'},
        )
    )
    items, last = GitHubClient(api.api_url, TOKEN).get_all("/repos/a/b/rules/branches/main")
    assert (items, last.status) == ([rule], 200)
    assert len(api.requests) == 1


def test_the_token_goes_in_the_authorization_header_only(api: FakeGitHub) -> None:
    api.enqueue(FakeResponse(status=404, body={"message": "Not Found"}))
    GitHubClient(api.api_url, TOKEN).get("/repos/a/b")
    (request,) = api.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in request.path


@pytest.mark.parametrize(
    ("status", "headers", "message", "check", "needle"),
    [
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767607200"},
            "API rate limit exceeded for user ID 1.",
            "github.api.rate_limit",
            "resets at epoch 1767607200",
        ),
        (
            403,
            {"retry-after": "60", "x-ratelimit-remaining": "4000"},
            "You have exceeded a secondary rate limit.",
            "github.api.rate_limit",
            "retry-after 60 s",
        ),
        (429, {}, "Too many requests", "github.api.rate_limit", "secondary rate limit"),
        (
            403,
            {
                "X-GitHub-SSO": "required; url=https://github.com/orgs/acme/sso?authorization_request=x"
            },
            "Resource protected by organization SAML enforcement.",
            "github.token.sso",
            "SAML single sign-on",
        ),
    ],
)
def test_403_is_classified_by_githubs_headers(
    api: FakeGitHub,
    status: int,
    headers: dict[str, str],
    message: str,
    check: str,
    needle: str,
) -> None:
    api.enqueue(
        FakeResponse(
            status=status,
            headers=headers,
            body={"message": message, "documentation_url": "https://docs.github.com/rest"},
            undocumented="" if status == 403 else "429: 'Rate limits for the REST API'",
        )
    )
    with pytest.raises(GitHubDeniedError) as raised:
        GitHubClient(api.api_url, TOKEN).get("/repos/acme/churn")
    assert raised.value.check == check
    assert needle in raised.value.detail
    if check == "github.token.sso":
        assert "https://github.com/orgs/acme/sso?authorization_request=x" in raised.value.fix


def test_a_permission_403_is_left_to_the_check(api: FakeGitHub) -> None:
    api.enqueue(
        FakeResponse(
            status=403,
            headers={"X-Accepted-GitHub-Permissions": "variables=read"},
            body={"message": "Resource not accessible by personal access token"},
            undocumented="fine-grained permission missing",
        )
    )
    answer = GitHubClient(api.api_url, TOKEN).get("/repos/a/b/actions/variables")
    assert answer.status == 403
    assert answer.headers["x-accepted-github-permissions"] == "variables=read"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://api.github.com", "https://api.github.com"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://localhost:3000/api/v3", "http://localhost:3000/api/v3"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_api_urls_accepted(raw: str, expected: str) -> None:
    assert checked_api_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("http://ghe.example.com/api/v3", "plain http"),
        ("http://10.0.0.5", "plain http"),
        ("file:///etc/passwd", "must be https://HOST"),
        ("ftp://ghe.example.com", "must be https://HOST"),
        ("api.github.com", "must be https://HOST"),
        ("https://", "must be https://HOST"),
        ("https://deployer:s3cr3t-pw@ghe.example.com/api/v3", "must not carry credentials"),
        ("https://ghp_tok3n@ghe.example.com", "must not carry credentials"),
        ("https://ghe.example.com/api/v3?token=x", "no query or fragment"),
        ("https://ghe.example.com:99999", "is not a URL"),
        ("https://ghp_tok3n:s3cr3t@ghe.example.com:bad", "must not carry credentials"),
        ("https://[::1", "is not a URL"),
    ],
)
def test_api_urls_refused_without_echoing_credentials(raw: str, needle: str) -> None:
    with pytest.raises(ApiUrlError) as raised:
        checked_api_url(raw)
    message = str(raised.value)
    assert needle in message
    assert "s3cr3t" not in message and "ghp_tok3n" not in message and "\n" not in message


def test_the_command_refuses_a_bad_api_url_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = preflight.main(
        ["--github-api-url", "https://deployer:s3cr3t-pw@ghe.example.com/api/v3"],
        clients=lambda service, region: pytest.fail("no AWS call with a bad argument"),
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("error: --github-api-url must not carry credentials")
    assert "s3cr3t" not in captured.err
