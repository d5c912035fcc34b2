"""The GitHub half of preflight: each check fails with its own line when its prerequisite is
broken, against the routed fake GitHub (every exchange checked against GitHub's description)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core.config import parse_config
from modules.ops import preflight
from modules.ops.preflight import github_token
from modules.render.workflows import deploy_workflow_path
from tests.modules.ops.preflight_support import (
    CLASSIC,
    FINE,
    Setup,
    by_id,
    failing,
    healthy_config,
    healthy_world,
    only_failure,
)
from tests.support.fake_github import (
    FakeGitHub,
    FakeRepository,
    FakeResponse,
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


def test_a_non_default_branch_warns_and_checks_the_deploy_workflow(setup: Setup) -> None:
    """Issue 23: a branch other than the default one no longer blocks; the dispatched
    workflow file (named by modules/render/workflows.py) must be on the default branch."""
    assert setup.gh.world is not None
    repo = setup.gh.world.repositories[0]
    repo.branches.add("release")
    setup.config["environments"][0]["projects"][0]["github"]["branch"] = "release"
    path = deploy_workflow_path("dev")
    checks = setup.run()
    assert failing(checks) == []
    (line,) = [c for c in by_id(checks, "github.repository.default_branch") if "churn" in c.subject]
    assert line.status == "warn"
    assert f"{path} is not on 'main'" in line.detail and "workflow_dispatch" in line.detail
    assert f"merge {path} from 'release' into 'main'" in line.fix
    asked = [r.path for r in setup.gh.requests if "/contents/" in r.path]
    assert asked == [f"/repos/acme-ml/churn-model/contents/{path}?ref=main"]

    setup.gh.reset()
    setup.gh.world = healthy_world()
    setup.gh.world.repositories[0].branches.add("release")
    setup.gh.world.repositories[0].files[("main", path)] = "on: workflow_dispatch\n"
    (line,) = [
        c for c in by_id(setup.run(), "github.repository.default_branch") if "churn" in c.subject
    ]
    assert line.status == "ok" and f"{path} is on 'main'" in line.detail


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
        # the seed's pull request (issue 24)
        ("pull_requests", "needs pull_requests=read"),
    ],
)
def test_fails_when_a_fine_grained_token_lacks_a_permission(
    setup: Setup, missing: str, needle: str
) -> None:
    assert setup.gh.world is not None
    granted = {"variables", "secrets", "administration", "pull_requests", "actions"} - {missing}
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
    # a non-default branch warns (its deploy workflow is not on the default branch yet)
    assert ("github.repository.default_branch" in warned) == (not default_is_branch)
    assert {r.method for r in fake_github.requests} == {"GET"}
    assert fake_github.conformance_errors() == []


# --- issue 24: redirects, 403s, pull request mode, OIDC subject, spelling, pagination ----------


def test_a_renamed_repository_is_reported_with_its_new_name(setup: Setup) -> None:
    """GitHub answers 301 for the old name; preflight reads where it points (same origin
    only) and names the new owner/name instead of passing silently."""
    assert setup.gh.world is not None
    repo = setup.gh.world.repositories[0]
    setup.gh.world.renamed[("acme-ml", "churn-model")] = repo
    repo.name = "churn-model-v2"
    check = only_failure(setup.run(), "github.repository.renamed", "301", "acme-ml/churn-model-v2")
    assert "github.repository: churn-model-v2" in check.fix
    # nothing else of the project was checked under the old name
    assert not [r for r in setup.gh.requests if r.path.startswith("/repos/acme-ml/churn-model/")]


def test_a_renamed_branch_is_reported_with_its_new_name(setup: Setup) -> None:
    assert setup.gh.world is not None
    repo = setup.gh.world.repositories[1]
    repo.branches = {"trunk"}
    repo.default_branch = "trunk"
    repo.renamed_branches["main"] = "trunk"
    check = only_failure(setup.run(), "github.branch.exists", "301", "renamed to 'trunk'")
    assert check.fix == "set github.branch: trunk"


def test_a_rate_limited_fine_grained_token_does_not_authenticate(setup: Setup) -> None:
    """x-ratelimit-remaining 0 on GET /user: not "authenticates", not an App token."""
    assert setup.gh.world is not None
    setup.gh.world.rate_limit_remaining = 0
    checks = setup.run()
    assert by_id(checks, "github.token.authenticates") == []
    limited = by_id(checks, "github.api.rate_limit")
    assert {c.subject for c in limited} == {
        "GitHub token for acme-ml",
        "GitHub token for acme-risk",
    }
    assert all(c.status == "fail" for c in limited)
    assert "x-ratelimit-remaining 0, resets at epoch 1767607200" in limited[0].detail
    assert "the remaining checks did not run" in limited[0].detail


def test_an_unknown_403_on_user_is_not_taken_for_an_app_token(setup: Setup) -> None:
    setup.gh.enqueue(
        FakeResponse(
            status=403,
            body={"message": "Forbidden", "documentation_url": "https://docs.github.com/rest"},
        )
    )
    checks = setup.run()
    first = by_id(checks, "github.token.authenticates")[0]
    assert first.status == "fail" and "GET /user answered 403 'Forbidden'" in first.detail


def test_pull_request_rules_do_not_block_when_workflows_come_by_pull_request(
    setup: Setup,
) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].protection["main"] = 2
    setup.gh.world.repositories[1].rules["main"] = ["pull_request"]
    for project in setup.config["environments"][0]["projects"]:
        project["github"]["workflows_via_pull_request"] = True
    checks = setup.run()
    assert failing(checks) == []
    lines = by_id(checks, "github.branch.pull_requests")
    assert len(lines) == 2
    assert all("arrive by pull request" in c.detail and c.status == "ok" for c in lines)


def test_a_pull_request_rule_on_a_later_page_is_found(setup: Setup) -> None:
    """Rules are paginated (Link rel="next"): the pull_request rule is the 101st."""
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].rules["main"] = ["deletion"] * 100 + ["pull_request"]
    only_failure(setup.run(), "github.branch.pull_requests", "ruleset", "409")
    pages = [r.path for r in setup.gh.requests if "fraud-detection/rules/" in r.path]
    assert pages == [
        "/repos/acme-risk/fraud-detection/rules/branches/main?per_page=100",
        "/repos/acme-risk/fraud-detection/rules/branches/main?per_page=100&page=2",
    ]


@pytest.mark.parametrize(
    ("keys", "immutable", "needle"),
    [
        (("repo", "context", "job_workflow_ref"), False, "include_claim_keys: repo, context"),
        (None, True, "immutable, repository-ID-based"),
    ],
)
def test_a_customized_oidc_subject_blocks(
    setup: Setup, keys: tuple[str, ...] | None, immutable: bool, needle: str
) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].oidc_claim_keys = keys
    setup.gh.world.repositories[0].oidc_immutable = immutable
    check = only_failure(
        setup.run(), "github.repository.oidc_subject", "acme-ml/churn-model", needle
    )
    if not immutable:
        assert "repos/acme-ml/churn-model/actions/oidc/customization/sub" in check.fix
        assert "use_default=true" in check.fix


def test_the_oidc_subject_is_not_checked_with_access_keys(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].oidc_claim_keys = ("repo",)
    setup.config["environments"][0]["platform"]["auth_mode"] = "access_keys"
    checks = setup.run()
    assert by_id(checks, "github.repository.oidc_subject") == []
    assert not [r for r in setup.gh.requests if "oidc" in r.path]


def test_owner_and_repository_must_be_spelled_as_github_has_them(setup: Setup) -> None:
    """GitHub finds the repository case-insensitively, but the OIDC sub claim carries its own
    spelling and IAM compares it case-sensitively."""
    project = setup.config["environments"][0]["projects"][0]["github"]
    project["repository"] = "Churn-Model"
    check = only_failure(
        setup.run(), "github.repository.spelling", "GitHub spells it acme-ml/churn-model"
    )
    assert check.fix == "set github.owner: acme-ml and github.repository: churn-model"


def test_pull_requests_are_not_probed_without_seed_or_pull_request_mode(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.tokens[FINE] = FakeToken(
        kind="fine-grained",
        owners=frozenset({"acme-risk"}),
        permissions=frozenset({"variables", "secrets", "administration", "actions"}),
    )
    setup.config["environments"][0]["projects"][1]["seed_code"] = False
    assert failing(setup.run()) == []
    assert not [r for r in setup.gh.requests if r.path.endswith("/pulls?per_page=1")]
    assert "Pull requests: Read and write" in github_token.REPOSITORY_PERMISSIONS


def test_a_token_not_authorized_for_saml_sso_is_named_with_the_url(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.saml_orgs = {"acme-ml"}
    check = only_failure(
        setup.run(), "github.token.sso", "GitHub token for acme-ml", "SAML single sign-on"
    )
    assert "https://github.com/orgs/acme-ml/sso?authorization_request=A1B2C3" in check.fix
    assert "the remaining checks did not run" in check.detail


def test_an_unreadable_oidc_subject_is_a_warning_naming_the_permission(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.tokens[FINE] = FakeToken(
        kind="fine-grained",
        owners=frozenset({"acme-risk"}),
        permissions=frozenset({"variables", "secrets", "administration", "pull_requests"}),
    )
    checks = setup.run()
    assert failing(checks) == []
    (line,) = [c for c in by_id(checks, "github.repository.oidc_subject") if c.status == "warn"]
    assert "acme-risk/fraud-detection" in line.subject and "needs actions=read" in line.detail
