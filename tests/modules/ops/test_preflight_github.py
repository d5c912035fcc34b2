"""The GitHub half of preflight: each check fails with its own line when its prerequisite is
broken, against the routed fake GitHub (every exchange checked against GitHub's description)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.config import parse_config
from modules.ops import preflight
from modules.ops.preflight import github_token
from tests.modules.ops.preflight_support import (
    CLASSIC,
    FINE,
    Setup,
    by_id,
    failing,
    healthy_config,
    only_failure,
)
from tests.support.fake_github import (
    FakeGitHub,
    FakeRepository,
    FakeToken,
    FakeWorld,
)

# --- GitHub: one test per check, failing ------------------------------------------------------


def test_fails_without_a_token(setup: Setup) -> None:
    del setup.environ["GITHUB_TOKEN"]
    only_failure(
        setup.run(), "github.token.present", "TF_VAR_github_owner_token_acme_ml", "GITHUB_TOKEN"
    )


def test_fails_with_bad_credentials(setup: Setup) -> None:
    setup.environ["GITHUB_TOKEN"] = "ghp_revoked"
    check = only_failure(setup.run(), "github.token.authenticates", "401", "Bad credentials")
    assert "GITHUB_TOKEN" in check.fix


def test_fails_without_the_workflow_scope(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.tokens[CLASSIC] = FakeToken(kind="classic", scopes=("repo", "read:org"))
    only_failure(
        setup.run(), "github.token.scopes", "lacks the scope(s) workflow", ".github/workflows"
    )


def test_fails_without_read_org_when_teams_review(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.tokens[CLASSIC] = FakeToken(kind="classic", scopes=("repo", "workflow"))
    only_failure(setup.run(), "github.token.scopes", "read:org")


def test_fails_when_one_fine_grained_token_serves_two_owners(setup: Setup) -> None:
    del setup.environ["TF_VAR_github_owner_token_acme_risk"]
    setup.environ["GITHUB_TOKEN"] = FINE
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].teams.clear()  # no team reviewers: fewer lines
    checks = setup.run()
    fails = failing(checks)
    assert [c.check for c in fails] == ["github.repository.visible"]
    assert "acme-ml/churn-model" in fails[0].subject
    assert "TF_VAR_github_owner_token_acme_ml" in fails[0].fix
    (warn,) = by_id(checks, "github.token.per_owner")
    assert warn.status == "warn" and "acme-ml, acme-risk" in warn.subject


def test_fails_when_the_repository_is_archived(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].archived = True
    only_failure(setup.run(), "github.repository.archived", "acme-ml/churn-model", "archived")


def test_fails_when_the_token_user_is_not_admin(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].admin = False
    only_failure(setup.run(), "github.repository.admin", "acme-risk/fraud-detection", "admin")


def test_fails_when_the_branch_is_not_the_default_branch(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].branches.add("release")
    setup.config["environments"][0]["projects"][0]["github"]["branch"] = "release"
    check = only_failure(
        setup.run(), "github.repository.default_branch", "'release'", "workflow_dispatch"
    )
    assert "github.branch: main" in check.fix


def test_fails_when_a_private_repository_lacks_enterprise(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].visibility = "private"
    setup.gh.world.org_plans["acme-ml"] = "team"
    check = only_failure(setup.run(), "github.repository.reviewers_plan", "private", "'team'")
    assert "422" in check.fix and "Enterprise" in check.fix


def test_private_repository_of_enterprise_org_passes(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].visibility = "private"
    checks = setup.run()
    assert failing(checks) == []
    plan = by_id(checks, "github.repository.reviewers_plan")[0]
    assert plan.status == "ok" and "'enterprise'" in plan.detail


def test_private_repository_with_hidden_plan_is_a_warning(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].visibility = "internal"
    checks = setup.run()
    assert failing(checks) == []
    (plan,) = [c for c in by_id(checks, "github.repository.reviewers_plan") if "risk" in c.subject]
    assert plan.status == "warn" and "owners only" in plan.detail


def test_fails_for_a_private_repository_of_a_personal_account(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].visibility = "private"
    setup.gh.world.repositories[1].owner_type = "User"
    only_failure(setup.run(), "github.repository.reviewers_plan", "personal account")


def test_fails_when_the_repository_is_missing(setup: Setup) -> None:
    assert setup.gh.world is not None
    del setup.gh.world.repositories[1]
    only_failure(setup.run(), "github.repository.visible", "acme-risk/fraud-detection", "404")


def test_fails_when_the_branch_is_missing(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].branches = {"trunk"}
    setup.gh.world.repositories[0].default_branch = "main"  # stale default: GitHub allows none
    only_failure(setup.run(), "github.branch.exists", "'main' does not exist")


def test_fails_when_branch_protection_requires_pull_requests(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].protection["main"] = 1
    only_failure(setup.run(), "github.branch.pull_requests", "branch protection", "409")


def test_fails_when_a_ruleset_requires_pull_requests(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].rules["main"] = ["deletion", "pull_request"]
    only_failure(setup.run(), "github.branch.pull_requests", "ruleset", "409")


def test_fails_when_a_reviewer_user_does_not_exist(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.users.discard("octocat")
    only_failure(setup.run(), "github.reviewer.exists", "'octocat' does not exist")


def test_fails_when_a_reviewer_cannot_access_the_repository(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].collaborators.clear()
    only_failure(setup.run(), "github.reviewer.access", "'risk-lead' cannot access")


def test_fails_when_a_reviewer_team_does_not_exist(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.teams.clear()
    only_failure(setup.run(), "github.reviewer.exists", "team 'ml-leads' does not exist")


def test_fails_when_a_reviewer_team_has_no_access(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].teams.clear()
    only_failure(setup.run(), "github.reviewer.access", "team 'ml-leads' has no access")


def test_fails_when_github_is_unreachable(setup: Setup) -> None:
    envs = parse_config(setup.config).environments
    closed = "http://127.0.0.1:9"  # discard port: connection refused
    checks = preflight.run(
        envs,
        clients=setup.fakes.clients,
        environ=setup.environ,
        github_api_url=closed,
        github_timeout_seconds=2,
    )
    fails = failing(checks)
    assert {c.check for c in fails} == {"github.api.reachable"}
    assert len(fails) == 2  # one per owner


def test_app_installation_token_is_recognised(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.tokens[FINE] = FakeToken(kind="app", owners=frozenset({"acme-risk"}))
    checks = setup.run()
    assert failing(checks) == []
    (auth,) = [c for c in by_id(checks, "github.token.authenticates") if "acme-risk" in c.subject]
    assert "app token" in auth.detail
    # no permissions object for installation tokens: no admin line for that repository
    assert not [c for c in by_id(checks, "github.repository.admin") if "risk" in c.subject]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    scopes=st.sets(
        st.sampled_from(
            ["repo", "workflow", "read:org", "admin:org", "write:org", "public_repo", "gist"]
        ),
        max_size=7,
    ),
    teams=st.booleans(),
)
def test_scope_verdict_matches_what_the_plan_writes(scopes: set[str], teams: bool) -> None:
    """A classic token passes iff it has repo and workflow, plus (admin|write|read):org when
    a team reviews."""
    data = healthy_config()
    data["environments"][0]["projects"][0]["production_reviewers"] = (
        {"teams": ["ml-leads"]} if teams else {"users": ["octocat"]}
    )
    env = parse_config(data).environments[0]

    class _Client:
        def get(self, path: str) -> preflight.GitHubResponse:
            assert path == "/user"
            return preflight.GitHubResponse(
                status=200,
                headers={"x-oauth-scopes": ", ".join(sorted(scopes))},
                body={"login": "deployer"},
            )

    out = preflight.Collector("dev")
    github_token.token_checks(out, _Client(), "acme-ml", "GITHUB_TOKEN", env)  # type: ignore[arg-type]
    (scope_check,) = by_id(out.checks, "github.token.scopes")
    org = bool(scopes & {"read:org", "write:org", "admin:org"})
    passes = {"repo", "workflow"} <= scopes and (org or not teams)
    assert scope_check.status == ("ok" if passes else "fail")


def test_owner_token_prefers_the_owners_own_variable() -> None:
    env = {"GITHUB_TOKEN": "shared", "TF_VAR_github_owner_token_acme_risk": "own"}
    assert preflight.owner_token("acme-risk", env) == ("own", "TF_VAR_github_owner_token_acme_risk")
    assert preflight.owner_token("acme-ml", env) == ("shared", "GITHUB_TOKEN")
    assert preflight.owner_token("acme-ml", {}) == (None, "TF_VAR_github_owner_token_acme_ml")


def test_app_owner_without_a_check_token_is_skipped_with_a_warning(setup: Setup) -> None:
    setup.config["environments"][0]["platform"]["github_app"] = {
        "id": "123456",
        "installation_ids": {"acme-risk": "987"},
    }
    del setup.environ["TF_VAR_github_owner_token_acme_risk"]
    setup.environ.pop("GITHUB_TOKEN")
    setup.environ["TF_VAR_github_owner_token_acme_ml"] = CLASSIC
    checks = setup.run()
    assert failing(checks) == []
    (app,) = by_id(checks, "github.app")
    assert app.status == "warn" and "installation 987" in app.detail and "skipped" in app.detail
    assert "TF_VAR_github_owner_token_acme_risk" in app.fix
    assert not [r for r in setup.gh.requests if "acme-risk" in r.path]


def test_app_owner_is_checked_with_a_given_installation_token(setup: Setup) -> None:
    setup.config["environments"][0]["platform"]["github_app"] = {
        "id": "123456",
        "installation_ids": {"acme-risk": "987"},
    }
    assert setup.gh.world is not None
    setup.gh.world.tokens[FINE] = FakeToken(kind="app", owners=frozenset({"acme-risk"}))
    setup.gh.world.repositories[1].archived = True
    checks = setup.run()
    (app,) = by_id(checks, "github.app")
    assert "checking the repositories with TF_VAR_github_owner_token_acme_risk" in app.detail
    only_failure(checks, "github.repository.archived", "acme-risk/fraud-detection")


@pytest.mark.parametrize(
    ("missing", "needle"),
    [
        ("variables", "needs variables=read"),
        ("secrets", "needs secrets=read"),
        ("administration", "needs administration=read"),
    ],
)
def test_fails_when_a_fine_grained_token_lacks_a_permission(
    setup: Setup, missing: str, needle: str
) -> None:
    assert setup.gh.world is not None
    granted = {"variables", "secrets", "administration"} - {missing}
    setup.gh.world.tokens[FINE] = FakeToken(
        kind="fine-grained", owners=frozenset({"acme-risk"}), permissions=frozenset(granted)
    )
    check = only_failure(
        setup.run(), "github.token.permissions", "acme-risk/fraud-detection", needle, "403"
    )
    assert "Resource not accessible by personal access token" in check.detail
    assert "Read and write" in check.fix


@settings(derandomize=True, max_examples=40, deadline=None)
@given(
    workflow_scope=st.booleans(),
    archived=st.booleans(),
    admin=st.booleans(),
    default_is_branch=st.booleans(),
    visibility=st.sampled_from(["public", "private", "internal"]),
    plan=st.sampled_from(["enterprise", "team", "free", None]),
    protection_pr=st.booleans(),
    ruleset_pr=st.booleans(),
    collaborator=st.booleans(),
    team_access=st.booleans(),
)
def test_github_verdicts_follow_the_repository(
    fake_github: FakeGitHub,
    workflow_scope: bool,
    archived: bool,
    admin: bool,
    default_is_branch: bool,
    visibility: str,
    plan: str | None,
    protection_pr: bool,
    ruleset_pr: bool,
    collaborator: bool,
    team_access: bool,
) -> None:
    """For any state of one repository, the failed checks are exactly those its state
    breaks (and the organization plan only matters for private/internal repositories)."""
    scopes = ("repo", "read:org", *(("workflow",) if workflow_scope else ()))
    repo = FakeRepository(
        owner="acme-ml",
        name="churn-model",
        branches={"main", "trunk"},
        default_branch="main" if default_is_branch else "trunk",
        archived=archived,
        admin=admin,
        visibility=visibility,  # type: ignore[arg-type]
        collaborators={"octocat"} if collaborator else set(),
        teams={"ml-leads"} if team_access else set(),
        protection={"main": 0} if protection_pr else {},
        rules={"main": ["pull_request"]} if ruleset_pr else {},
    )
    fake_github.reset()
    fake_github.world = FakeWorld(
        tokens={CLASSIC: FakeToken(kind="classic", scopes=scopes)},
        repositories=[repo],
        users={"octocat"},
        teams={("acme-ml", "ml-leads")},
        org_plans={"acme-ml": plan},
    )
    data = healthy_config()
    data["environments"][0]["projects"] = data["environments"][0]["projects"][:1]
    env = parse_config(data).environments[0]
    checks = preflight.github_checks(env, fake_github.api_url, {"GITHUB_TOKEN": CLASSIC}, 5)
    expected = set()
    if not workflow_scope:
        expected.add("github.token.scopes")
    if archived:
        expected.add("github.repository.archived")
    if not admin:
        expected.add("github.repository.admin")
    if not default_is_branch:
        expected.add("github.repository.default_branch")
    if visibility != "public" and plan in ("team", "free"):
        expected.add("github.repository.reviewers_plan")
    if protection_pr or ruleset_pr:
        expected.add("github.branch.pull_requests")
    if not (collaborator and team_access):
        expected.add("github.reviewer.access")
    assert {c.check for c in failing(checks)} == expected
    warned = {c.check for c in checks if c.status == "warn"}
    assert ("github.repository.reviewers_plan" in warned) == (
        visibility != "public" and plan is None
    )
    assert {r.method for r in fake_github.requests} == {"GET"}
    assert fake_github.conformance_errors() == []
