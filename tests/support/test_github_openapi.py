"""The OpenAPI checker itself: it finds GitHub's operations and rejects what GitHub's
description rejects (each case is one GitHub documents; the description is npm
``@octokit/openapi``, pinned in package.json)."""

from __future__ import annotations

import json

import pytest

from tests.support.fake_github import (
    Exchange,
    FakeResponse,
    RecordedRequest,
    conformance_errors,
)
from tests.support.github_openapi import ROOT, GitHubDescription, description


@pytest.fixture(scope="module")
def spec() -> GitHubDescription:
    return description()


def test_the_pinned_package_is_the_one_loaded(spec: GitHubDescription) -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["devDependencies"]["@octokit/openapi"] == spec.version
    assert spec.document["openapi"].startswith("3.0")
    assert description() is spec  # parsed once per process


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "params"),
    [
        ("GET", "/repos/acme/churn", "repos/get", {"owner": "acme", "repo": "churn"}),
        # a literal segment wins over a parameter
        ("GET", "/repos/a/b/actions/secrets/public-key", "actions/get-repo-public-key", {}),
        ("GET", "/repos/a/b/actions/secrets/TOKEN", "actions/get-repo-secret", {}),
        # x-multi-segment: a git ref holds slashes
        ("GET", "/repos/a/b/git/ref/heads/feature/x", "git/get-ref", {"ref": "heads/feature/x"}),
        ("GET", "/repos/a/b/rules/branches/main?per_page=100", "repos/get-branch-rules", {}),
        (
            "GET",
            "/repos/a/b/actions/oidc/customization/sub",
            "actions/get-custom-oidc-sub-claim-for-repo",
            {},
        ),
        ("GET", "/repos/a/b/branches/main", "repos/get-branch", {"branch": "main"}),
        ("POST", "/repos/a/b/actions/workflows/deploy.yml/dispatches", None, {}),
    ],
)
def test_finds_the_operation(
    spec: GitHubDescription,
    method: str,
    path: str,
    operation_id: str | None,
    params: dict[str, str],
) -> None:
    op = spec.operation(method, path)
    if operation_id is not None:
        assert op.operation_id == operation_id
    assert params.items() <= op.path_params.items()


def test_an_undocumented_operation_is_named(spec: GitHubDescription) -> None:
    with pytest.raises(LookupError, match=r"no operation DELETE /user/nothing"):
        spec.operation("DELETE", "/user/nothing")
    assert spec.request_errors("PATCH", "/repos/a/b/branches/main") == [
        "GitHub's description has no operation PATCH /repos/a/b/branches/main"
    ]


def test_request_checks(spec: GitHubDescription) -> None:
    dispatch = "/repos/a/b/actions/workflows/deploy.yml/dispatches"
    assert spec.request_errors("POST", dispatch, {"ref": "main", "inputs": {"x": "1"}}) == []
    (missing_ref,) = spec.request_errors("POST", dispatch, {"inputs": {}})
    assert "'ref' is a required property" in missing_ref
    (no_body,) = spec.request_errors("POST", dispatch, None)
    assert "the request body is required" in no_body
    (too_many,) = spec.request_errors(
        "POST", dispatch, {"ref": "main", "inputs": {str(i): "v" for i in range(26)}}
    )
    assert "inputs" in too_many  # maxProperties 25
    (body_on_get,) = spec.request_errors("GET", "/repos/a/b", {"x": 1})
    assert "the operation takes none" in body_on_get
    (unknown,) = spec.request_errors("GET", "/repos/a/b?per_page=100")
    assert "undocumented query parameter 'per_page'" in unknown
    assert spec.request_errors("GET", "/repos/a/b/rules/branches/main?per_page=100&page=2") == []
    (bad_page_size,) = spec.request_errors("GET", "/repos/a/b/rules/branches/main?per_page=x")
    assert "per_page='x'" in bad_page_size


def test_response_checks(spec: GitHubDescription) -> None:
    errors = spec.response_errors(
        "GET", "/repos/acme/churn", 200, {}, {"name": "churn", "full_name": "acme/churn"}
    )
    # GitHub's full-repository schema requires 75 fields: 73 are missing here
    assert len(errors) == 73
    assert any("'default_branch' is a required property" in e for e in errors)
    (teapot,) = spec.response_errors("GET", "/repos/a/b", 418, {}, None)
    assert "status 418 is not documented (documented: 200, 301, 403, 404)" in teapot
    not_found = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
    assert spec.response_errors("GET", "/repos/a/b", 404, {}, not_found) == []
    (bad_time,) = spec.response_errors(
        "GET",
        "/repos/a/b/actions/variables",
        200,
        {},
        {
            "total_count": 1,
            "variables": [
                {"name": "X", "value": "1", "created_at": "yesterday", "updated_at": "now"}
            ],
        },
    )[:1]
    assert "'yesterday' is not a 'date-time'" in bad_time
    (wrong_type,) = spec.response_errors("GET", "/repos/a/b", 404, {}, {"message": 404})
    assert "message: 404 is not of type 'string'" in wrong_type
    (body_on_204,) = spec.response_errors("GET", "/repos/a/b/collaborators/u", 204, {}, {"x": 1})
    assert "documents no body" in body_on_204
    (rule,) = spec.response_errors(
        "GET",
        "/repos/a/b/rules/branches/main",
        200,
        {},
        [{"type": "pull_request", "parameters": {"required_approving_review_count": 1}}],
    )
    # the closest rule type is named with what it lacks
    assert "(closest: parameters: 'dismiss_stale_reviews_on_push' is a required property)" in rule
    header = spec.response_errors("GET", "/rate_limit", 200, {"X-RateLimit-Limit": "many"}, None)
    assert any("header X-RateLimit-Limit='many'" in e and "'integer'" in e for e in header)


def test_malformed_answers_are_skipped_and_only_they() -> None:
    request = RecordedRequest(method="GET", path="/repos/a/b", headers={}, body=None)
    html = FakeResponse(status=502, body="<html>Bad gateway</html>")
    assert conformance_errors([Exchange(request=request, response=html)]) != []
    marked = FakeResponse(status=502, body="<html>Bad gateway</html>", malformed=True)
    assert conformance_errors([Exchange(request=request, response=marked)]) == []
    # an undocumented status still needs GitHub's basic-error body
    denied = FakeResponse(status=403, body={"message": 403}, undocumented="fine-grained token")
    (error,) = conformance_errors(
        [
            Exchange(
                request=RecordedRequest(
                    method="GET", path="/repos/a/b/actions/variables", headers={}, body=None
                ),
                response=denied,
            )
        ]
    )
    assert "fine-grained token" in error
    # the request itself is checked even when the answer is marked malformed
    bad_request = RecordedRequest(method="GET", path="/repos/a/b?nope=1", headers={}, body=None)
    (query,) = conformance_errors([Exchange(request=bad_request, response=marked)])
    assert "undocumented query parameter 'nope'" in query
