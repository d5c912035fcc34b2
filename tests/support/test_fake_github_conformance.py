"""Every answer the routed fake GitHub gives, and every request sent to it here, holds to
GitHub's published OpenAPI description (npm ``@octokit/openapi``, tests/support/github_openapi.py).

The world below reaches every branch of ``route``: each token kind, each endpoint's success,
not-found, moved, protected/unprotected, denied and rate-limited answer, and a paginated list.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.support.fake_github import (
    FakeGitHub,
    FakeRepository,
    FakeToken,
    FakeWorld,
    conformance_errors,
    running_fake_github,
)
from tests.support.github_bodies import stable_id

CLASSIC, FINE, APP, LIMITED = "ghp_classic", "github_pat_fine", "ghs_app", "github_pat_none"


def world() -> FakeWorld:
    model = FakeRepository(
        owner="acme-ml",
        name="churn-model",
        branches={"main", "release"},
        collaborators={"octocat"},
        teams={"ml-leads"},
        protection={"main": 1, "release": None},
        rules={"main": ["pull_request", "deletion", "non_fast_forward"] * 20},
        renamed_branches={"master": "main"},
        oidc_claim_keys=("repo", "context"),
        files={("main", ".github/workflows/deploy-dev.yml"): "on: workflow_dispatch\n"},
    )
    private = FakeRepository(
        owner="mona",
        name="Private-Thing",
        owner_type="User",
        visibility="private",
        oidc_immutable=True,
    )
    return FakeWorld(
        tokens={
            CLASSIC: FakeToken(kind="classic"),
            FINE: FakeToken(kind="fine-grained", owners=frozenset({"acme-ml"})),
            APP: FakeToken(kind="app", owners=frozenset({"acme-ml"})),
            LIMITED: FakeToken(
                kind="fine-grained", owners=frozenset({"acme-ml"}), permissions=frozenset()
            ),
        },
        repositories=[model, private],
        users={"octocat"},
        teams={("acme-ml", "ml-leads")},
        org_plans={"acme-ml": "enterprise", "acme-risk": None},
        renamed={("acme-ml", "old-churn"): model},
    )


PATHS = [
    "/user",
    "/users/octocat",
    "/users/nobody",
    "/orgs/acme-ml",
    "/orgs/acme-risk",
    "/orgs/nobody",
    "/orgs/acme-ml/teams/ml-leads",
    "/orgs/acme-ml/teams/nobody",
    "/orgs/acme-ml/teams/ml-leads/repos/acme-ml/churn-model",
    "/orgs/acme-ml/teams/other/repos/acme-ml/churn-model",
    "/repos/acme-ml/churn-model",
    "/repos/acme-ml/old-churn",
    f"/repositories/{stable_id('acme-ml', 'churn-model')}",  # where that 301 points
    "/repos/mona/private-thing",
    "/repos/acme-ml/nothing",
    "/repos/acme-ml/churn-model/collaborators/octocat",
    "/repos/acme-ml/churn-model/collaborators/nobody",
    "/repos/acme-ml/churn-model/actions/variables",
    "/repos/acme-ml/churn-model/actions/secrets",
    "/repos/acme-ml/churn-model/pulls?per_page=1",
    "/repos/acme-ml/churn-model/actions/oidc/customization/sub",
    "/repos/mona/private-thing/actions/oidc/customization/sub",
    "/repos/acme-ml/churn-model/rules/branches/main?per_page=100",
    "/repos/acme-ml/churn-model/rules/branches/main?per_page=100&page=2",
    "/repos/acme-ml/churn-model/rules/branches/release",
    "/repos/acme-ml/churn-model/contents/.github/workflows/deploy-dev.yml?ref=main",
    "/repos/acme-ml/churn-model/contents/.github/workflows/deploy-dev.yml?ref=release",
    "/repos/acme-ml/churn-model/branches/main",
    "/repos/acme-ml/churn-model/branches/master",
    "/repos/acme-ml/churn-model/branches/nothing",
    "/repos/acme-ml/churn-model/branches/main/protection",
    "/repos/acme-ml/churn-model/branches/release/protection",
    "/repos/mona/private-thing/branches/main/protection",
    "/repos/acme-ml/churn-model/branches/nothing/protection",
]


@pytest.fixture(scope="module")
def gh() -> Iterator[FakeGitHub]:
    with running_fake_github() as server:
        yield server


def get(gh: FakeGitHub, path: str, token: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        gh.api_url + path, headers={"Authorization": f"Bearer {token}"}
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as answer:
            raw, status, headers = answer.read(), answer.status, answer.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    return status, {k.lower(): v for k, v in headers.items()}, json.loads(raw) if raw else None


@pytest.mark.parametrize("token", [CLASSIC, FINE, APP, LIMITED, "wrong"])
def test_every_routed_answer_conforms(gh: FakeGitHub, token: str) -> None:
    gh.reset()
    gh.world = world()
    statuses = {}
    for path in PATHS:
        statuses[path] = get(gh, path, token)[0]
    errors = gh.conformance_errors()
    assert errors == [], "\n".join(errors)
    # the walk reached what it claims to (so an empty error list means something)
    if token == CLASSIC:
        assert statuses["/repos/acme-ml/old-churn"] == 301
        assert statuses["/repos/acme-ml/churn-model/branches/master"] == 301
        assert statuses["/repos/acme-ml/churn-model/branches/main/protection"] == 200
        assert statuses["/repos/acme-ml/churn-model/branches/release/protection"] == 200
        assert statuses["/repos/acme-ml/churn-model/branches/nothing/protection"] == 404
        assert {s for s in statuses.values()} == {200, 204, 301, 404}
    if token == LIMITED:
        assert statuses["/repos/acme-ml/churn-model/actions/variables"] == 403
        assert statuses["/repos/acme-ml/churn-model/branches/main/protection"] == 403
    if token == "wrong":
        assert set(statuses.values()) == {401}


def test_rate_limited_answers_conform(gh: FakeGitHub) -> None:
    gh.reset()
    gh.world = world()
    gh.world.rate_limit_remaining = 0
    status, headers, body = get(gh, "/repos/acme-ml/churn-model", FINE)
    assert status == 403
    assert headers["x-ratelimit-remaining"] == "0"
    assert body["message"].startswith("API rate limit exceeded")
    assert gh.conformance_errors() == []


def test_saml_sso_answers_conform(gh: FakeGitHub) -> None:
    gh.reset()
    gh.world = world()
    gh.world.saml_orgs = {"acme-ml"}
    status, headers, body = get(gh, "/repos/acme-ml/churn-model", CLASSIC)
    assert status == 403
    assert headers["x-github-sso"].startswith("required; url=https://github.com/orgs/acme-ml/sso")
    assert "SAML enforcement" in body["message"]
    assert get(gh, "/repos/acme-ml/churn-model", FINE)[0] == 200  # fine-grained: no SSO step
    assert gh.conformance_errors() == []


def test_fine_grained_answers_name_the_permission_on_success_too(gh: FakeGitHub) -> None:
    gh.reset()
    gh.world = world()
    status, headers, _ = get(gh, "/repos/acme-ml/churn-model/actions/variables", FINE)
    assert (status, headers["x-accepted-github-permissions"]) == (200, "variables=read")
    status, headers, _ = get(gh, "/repos/acme-ml/churn-model", FINE)
    assert (status, headers["x-accepted-github-permissions"]) == (200, "metadata=read")
    assert "x-oauth-scopes" not in headers
    status, headers, _ = get(gh, "/repos/acme-ml/churn-model", CLASSIC)
    assert "x-accepted-github-permissions" not in headers
    assert headers["x-oauth-scopes"] == "repo, workflow, read:org"


def test_rules_paginate_with_a_link_header(gh: FakeGitHub) -> None:
    gh.reset()
    gh.world = world()
    path = "/repos/acme-ml/churn-model/rules/branches/main?per_page=50"
    status, headers, first = get(gh, path, CLASSIC)
    assert status == 200 and len(first) == 50
    assert 'page=2>; rel="next"' in headers["link"]
    _, headers, second = get(gh, path + "&page=2", CLASSIC)
    assert len(second) == 10 and "link" not in headers
    pull_request = first[0]
    assert pull_request["type"] == "pull_request"
    assert pull_request["parameters"]["required_approving_review_count"] == 1
    assert gh.conformance_errors() == []


def test_a_body_missing_a_required_field_is_caught(gh: FakeGitHub) -> None:
    """The check can fail: strip one required field from a routed answer."""
    gh.reset()
    gh.world = world()
    get(gh, "/repos/acme-ml/churn-model", CLASSIC)
    exchange = gh.exchanges[0]
    body = dict(exchange.response.body)
    del body["default_branch"]
    broken = replace(exchange, response=replace(exchange.response, body=body))
    (error,) = conformance_errors([broken])
    assert "'default_branch' is a required property" in error
