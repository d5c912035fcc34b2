"""``make preflight``: every check passes on a healthy setup and fails with its own line when
its prerequisite is broken. AWS is moto on 127.0.0.1 (``moto_server``); the two APIs moto does
not serve are answered in-process: CodeConnections by a botocore ``Stubber`` (botocore validates
its answers against the service model), Lambda GetAccountSettings by a ``before-call`` hook with
the documented response shape. GitHub is the routed fake API on
127.0.0.1 (tests/support/fake_github.py). Nothing here writes: the fake records every request,
the AWS clients record every operation."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core.config import Environment, parse_config
from modules.ops import deployer_policy, preflight
from modules.ops.preflight import Check, guard_read_only
from tests.conftest import ROOT, Synth
from tests.support.fake_github import (
    FakeGitHub,
    FakeRepository,
    FakeToken,
    FakeWorld,
    running_fake_github,
)
from tests.support.moto_server import MotoServer, moto_server_fixture

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
CONNECTION = (
    f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
)
CLASSIC = "ghp_classic_preflight_token"
FINE = "github_pat_fine_grained_risk"
STATE_BUCKET = "acme-tfstate-preflight"
STUDIO_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-dev"

moto_module = moto_server_fixture(scope="module", region=REGION)


def healthy_config() -> dict[str, Any]:
    return {
        "environments": [
            {
                "name": "dev",
                "account_id": ACCOUNT,
                "region": REGION,
                "backend": {"type": "s3", "bucket": STATE_BUCKET},
                "platform": {
                    "studio_execution_role_arns": [STUDIO_ROLE],
                    "deployer_principal_arn": f"arn:aws:iam::{ACCOUNT}:role/terraform-apply",
                    # opt-ins whose prerequisites preflight checks (a reservation the account's
                    # quota must cover; the account-wide pipeline role that must exist)
                    "lambda": {"reserved_concurrency": 5},
                    "pipeline_role": "service_catalog",
                },
                "projects": [
                    {
                        "name": "churn-model",
                        "github": {"owner": "acme-ml", "repository": "churn-model"},
                        "code_connection": CONNECTION,
                        "production_reviewers": {"users": ["octocat"], "teams": ["ml-leads"]},
                    },
                    {
                        "name": "fraud-detection",
                        "github": {"owner": "acme-risk", "repository": "fraud-detection"},
                        "production_reviewers": {"users": ["risk-lead"]},
                    },
                ],
            }
        ]
    }


def healthy_world() -> FakeWorld:
    return FakeWorld(
        tokens={
            CLASSIC: FakeToken(kind="classic", scopes=("repo", "workflow", "read:org")),
            FINE: FakeToken(kind="fine-grained", owners=frozenset({"acme-risk"})),
        },
        repositories=[
            FakeRepository(
                owner="acme-ml",
                name="churn-model",
                collaborators={"octocat"},
                teams={"ml-leads"},
            ),
            FakeRepository(owner="acme-risk", name="fraud-detection", collaborators={"risk-lead"}),
        ],
        users={"octocat", "risk-lead"},
        teams={("acme-ml", "ml-leads")},
        org_plans={"acme-ml": "enterprise", "acme-risk": None},
    )


@dataclass
class AwsFakes:
    """The moto endpoint plus the stubbed answers for what moto does not serve."""

    moto: MotoServer
    connection_status: str | None = "AVAILABLE"  # None: ResourceNotFoundException
    account_limit: tuple[int, int] = (1000, 1000)  # ConcurrentExecutions, Unreserved
    operations: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # "service:Operation" as IAM names them

    def clients(self, service: str, region: str) -> Any:
        if service in ("codeconnections", "codestar-connections"):
            client = self._offline(service, region)
            stub = Stubber(client)
            if self.connection_status is None:
                stub.add_client_error(
                    "get_connection", "ResourceNotFoundException", http_status_code=400
                )
            else:
                stub.add_response(
                    "get_connection",
                    {
                        "Connection": {
                            "ConnectionName": "acme",
                            "ConnectionArn": CONNECTION,
                            "ProviderType": "GitHub",
                            "OwnerAccountId": ACCOUNT,
                            "ConnectionStatus": self.connection_status,
                        }
                    },
                    {"ConnectionArn": CONNECTION},
                )
            stub.activate()
            return client
        client = boto3.client(
            service,
            region_name=region,
            endpoint_url=self.moto.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        if service == "lambda":
            # moto has no GetAccountSettings: answer it in-process with the documented shape
            # (botocore's 'before-call' hook short-circuits the HTTP request).
            client.meta.events.register("before-call.lambda.GetAccountSettings", self._settings)
        return self._watched(client)

    def _settings(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        total, unreserved = self.account_limit
        http = type("Http", (), {"status_code": 200, "headers": {}})()
        return http, {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": total,
                "UnreservedConcurrentExecutions": unreserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
        }

    def _offline(self, service: str, region: str) -> Any:
        client = boto3.client(
            service,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return self._watched(client)

    def _watched(self, client: Any) -> Any:
        guard_read_only(client)
        client.meta.events.register(
            "before-parameter-build",
            lambda model, **_: self.operations.append(model.name),
        )
        client.meta.events.register(
            "before-parameter-build",
            lambda model, **_: self.actions.append(
                f"{model.service_model.signing_name}:{model.name}"
            ),
        )
        return client


def aws(moto: MotoServer) -> Any:
    def make(service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=moto.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


def seed_healthy_account(moto: MotoServer) -> None:
    moto.reset()
    make = aws(moto)
    iam = make("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    for name in (
        "AmazonSageMakerServiceCatalogProductsLaunchRole",
        "AmazonSageMakerServiceCatalogProductsUseRole",
        "AmazonSageMaker-ExecutionRole-dev",
    ):
        iam.create_role(RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=trust)
    s3 = make("s3")
    s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})


@dataclass
class Setup:
    gh: FakeGitHub
    fakes: AwsFakes
    config: dict[str, Any]
    environ: dict[str, str]

    def run(self) -> list[Check]:
        envs = parse_config(self.config).environments
        return preflight.run(
            envs,
            clients=self.fakes.clients,
            environ=self.environ,
            github_api_url=self.gh.api_url,
            github_timeout_seconds=5,
        )


@pytest.fixture(scope="module")
def fake_github() -> Iterator[FakeGitHub]:
    with running_fake_github() as gh:
        yield gh


@pytest.fixture
def setup(moto_module: MotoServer, fake_github: FakeGitHub) -> Setup:
    seed_healthy_account(moto_module)
    fake_github.reset()
    fake_github.world = healthy_world()
    return Setup(
        gh=fake_github,
        fakes=AwsFakes(moto=moto_module),
        config=healthy_config(),
        environ={
            "GITHUB_TOKEN": CLASSIC,
            "TF_VAR_github_owner_token_acme_risk": FINE,
            "TF_VAR_github_token": "trigger-token-not-checked",
        },
    )


def by_id(checks: list[Check], check: str) -> list[Check]:
    return [c for c in checks if c.check == check]


def failing(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "fail"]


def only_failure(checks: list[Check], check: str, *needles: str) -> Check:
    """The single failed line, which must be ``check`` and mention every needle."""
    fails = failing(checks)
    assert [c.check for c in fails] == [check], [c.line() for c in fails]
    line = fails[0].line()
    assert line.startswith("✗ [dev] ")
    for needle in needles:
        assert needle in line, line
    assert "-> fix: " in line
    return fails[0]


# --- healthy --------------------------------------------------------------------------------


def test_healthy_setup_passes_and_only_reads(setup: Setup) -> None:
    checks = setup.run()
    assert failing(checks) == [], [c.line() for c in failing(checks)]
    assert preflight.exit_code(checks) == 0
    ids = {c.check for c in checks if c.status == "ok"}
    assert ids >= {
        "aws.account",
        "aws.oidc_provider",
        "aws.launch_role",
        "aws.use_role",
        "aws.studio_role",
        "aws.code_connection",
        "aws.lambda_concurrency",
        "aws.state_bucket",
        "aws.name_taken",
        "github.token.authenticates",
        "github.token.scopes",
        "github.token.permissions",
        "github.repository.visible",
        "github.repository.archived",
        "github.repository.admin",
        "github.repository.default_branch",
        "github.repository.reviewers_plan",
        "github.branch.exists",
        "github.branch.pull_requests",
        "github.reviewer.access",
    }
    # the fine-grained token's permissions cannot be read back: said, not failed
    warns = {c.check for c in checks if c.status == "warn"}
    assert warns == {"github.token.scopes", "aws.code_connection"}
    # read-only on both sides
    assert {r.method for r in setup.gh.requests} == {"GET"}
    assert setup.fakes.operations
    assert all(op.startswith(("Get", "List", "Describe", "Head")) for op in setup.fakes.operations)
    # each owner's own token: the fine-grained one only ever went to acme-risk
    for request in setup.gh.requests:
        if request.headers["authorization"] == f"Bearer {FINE}":
            assert "acme-ml" not in request.path
    text = preflight.render(checks)
    assert text.splitlines()[-1].startswith(f"preflight: {len(checks)} checks, ")
    assert "nothing blocks the first apply" in text
    assert CLASSIC not in text and FINE not in text


def test_read_only_guard_refuses_a_write_before_sending(setup: Setup) -> None:
    iam = setup.fakes.clients("iam", REGION)
    with pytest.raises(PermissionError, match="read-only: refused CreateRole"):
        iam.create_role(RoleName="x", AssumeRolePolicyDocument="{}")
    assert "CreateRole" not in setup.fakes.operations  # refused before the recorder saw it
    assert all(r["RoleName"] != "x" for r in aws(setup.fakes.moto)("iam").list_roles()["Roles"])


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
    setup.gh.world.repositories[0].protection["main"] = {
        "url": "https://api.github.com/repos/acme-ml/churn-model/branches/main/protection",
        "required_pull_request_reviews": {"required_approving_review_count": 1},
        "enforce_admins": {"enabled": True},
    }
    only_failure(setup.run(), "github.branch.pull_requests", "branch protection", "409")


def test_fails_when_a_ruleset_requires_pull_requests(setup: Setup) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[1].rules["main"] = [
        {"type": "deletion"},
        {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
    ]
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


# --- AWS: one test per check, failing ---------------------------------------------------------


def test_fails_in_another_account(setup: Setup) -> None:
    text = json.dumps(setup.config).replace(ACCOUNT, "210987654321")
    setup.config = json.loads(text)
    checks = setup.run()
    (fail,) = [c for c in failing(checks) if c.check.startswith("aws.")]
    assert fail.check == "aws.account"
    assert "belong to account 123456789012" in fail.detail and "not 210987654321" in fail.detail
    assert "AWS_PROFILE" in fail.fix


def test_fails_when_the_oidc_provider_exists_but_config_creates_it(setup: Setup) -> None:
    iam = aws(setup.fakes.moto)("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    check = only_failure(setup.run(), "aws.oidc_provider", "EntityAlreadyExists")
    assert check.fix == f"set platform.oidc_provider_arn: {arn}"


def test_fails_when_the_configured_oidc_provider_is_missing(setup: Setup) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    setup.config["environments"][0]["platform"]["oidc_provider_arn"] = arn
    only_failure(setup.run(), "aws.oidc_provider", f"{arn} does not exist")


def test_reused_oidc_provider_passes(setup: Setup) -> None:
    arn = aws(setup.fakes.moto)("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    setup.config["environments"][0]["platform"]["oidc_provider_arn"] = arn
    checks = setup.run()
    assert failing(checks) == []
    assert by_id(checks, "aws.oidc_provider")[0].detail == f"{arn} exists"


@pytest.mark.parametrize(
    ("role", "check"),
    [
        ("AmazonSageMakerServiceCatalogProductsLaunchRole", "aws.launch_role"),
        ("AmazonSageMakerServiceCatalogProductsUseRole", "aws.use_role"),
        ("AmazonSageMaker-ExecutionRole-dev", "aws.studio_role"),
    ],
)
def test_fails_when_a_studio_role_is_missing(setup: Setup, role: str, check: str) -> None:
    aws(setup.fakes.moto)("iam").delete_role(RoleName=role)
    found = only_failure(setup.run(), check, f"IAM role {role}", "does not exist")
    assert "SageMaker" in found.fix


def test_per_project_pipeline_role_needs_no_use_role(setup: Setup) -> None:
    aws(setup.fakes.moto)("iam").delete_role(
        RoleName="AmazonSageMakerServiceCatalogProductsUseRole"
    )
    setup.config["environments"][0]["platform"]["pipeline_role"] = "per_project"
    checks = setup.run()
    assert failing(checks) == [] and by_id(checks, "aws.use_role") == []


def test_fails_when_the_code_connection_is_pending(setup: Setup) -> None:
    setup.fakes.connection_status = "PENDING"
    only_failure(setup.run(), "aws.code_connection", "is PENDING, not AVAILABLE", "handshake")


def test_fails_when_the_code_connection_does_not_exist(setup: Setup) -> None:
    setup.fakes.connection_status = None
    only_failure(setup.run(), "aws.code_connection", "ResourceNotFoundException")


def test_fails_when_lambda_concurrency_cannot_cover_the_reservation(setup: Setup) -> None:
    setup.fakes.account_limit = (10, 10)  # a new account's default quota
    check = only_failure(
        setup.run(), "aws.lambda_concurrency", "reserved_concurrency 5 does not fit", "limit is 10"
    )
    assert "Service Quotas" in check.fix and "at most 0" in check.fix


def test_fails_when_the_state_bucket_is_missing(setup: Setup) -> None:
    aws(setup.fakes.moto)("s3").delete_bucket(Bucket=STATE_BUCKET)
    check = only_failure(setup.run(), "aws.state_bucket", STATE_BUCKET, "does not exist")
    assert "versioning" in check.fix


def test_fails_when_the_state_bucket_is_unversioned(setup: Setup) -> None:
    s3 = aws(setup.fakes.moto)("s3")
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Suspended"})
    check = only_failure(setup.run(), "aws.state_bucket", "versioning is Suspended")
    assert "put-bucket-versioning" in check.fix


def test_missing_trigger_token_is_a_warning(setup: Setup) -> None:
    del setup.environ["TF_VAR_github_token"]
    checks = setup.run()
    assert failing(checks) == []
    (warn,) = by_id(checks, "aws.token_variable")
    assert warn.status == "warn" and "plans and make drift work" in warn.detail


# --- the command ------------------------------------------------------------------------------


def test_command_prints_lines_and_exits_1_when_something_blocks(
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert setup.gh.world is not None
    setup.gh.world.repositories[0].archived = True
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(setup.config), encoding="utf-8")
    for name, value in setup.environ.items():
        monkeypatch.setenv(name, value)
    report = tmp_path / "preflight.json"
    code = preflight.main(
        ["--config", str(config), "--github-api-url", setup.gh.api_url, "--json", str(report)],
        clients=setup.fakes.clients,
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ [dev] repository acme-ml/churn-model (churn-model): the repository is archived" in out
    assert out.strip().splitlines()[-1].endswith("1 blocking problem(s): fix the lines marked ✗")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["exit_code"] == 1
    assert [c["check"] for c in data["checks"] if c["status"] == "fail"] == [
        "github.repository.archived"
    ]


def test_fails_with_exit_2_on_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    bad = healthy_config()
    bad["environments"][0]["account_id"] = "123"
    config.write_text(yaml.safe_dump(bad), encoding="utf-8")
    assert preflight.main(["--config", str(config)], clients=_no_clients) == 2
    assert "environments[0].account_id" in capsys.readouterr().err


def test_fails_with_exit_2_on_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main(["--stack", "qa"], clients=_no_clients) == 2
    assert (
        "--stack qa: no such environment; the config has dev, forecast, prod"
        in capsys.readouterr().err
    )


def _no_clients(service: str, region: str) -> Any:
    raise AssertionError("no AWS call expected for an invalid config")


# --- properties -------------------------------------------------------------------------------


class _Lambda:
    def __init__(self, total: int, unreserved: int, already: int | None) -> None:
        self.total, self.unreserved, self.already = total, unreserved, already

    def get_account_settings(self) -> dict[str, Any]:
        return {
            "AccountLimit": {
                "ConcurrentExecutions": self.total,
                "UnreservedConcurrentExecutions": self.unreserved,
            }
        }

    def get_function_concurrency(self, FunctionName: str) -> dict[str, Any]:
        assert FunctionName == "sagemaker-github-workflow-trigger"
        return {} if self.already is None else {"ReservedConcurrentExecutions": self.already}


def _env(reserved: int) -> Environment:
    data = copy.deepcopy(healthy_config())
    data["environments"][0]["platform"]["lambda"] = {"reserved_concurrency": reserved}
    return parse_config(data).environments[0]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=10, max_value=5000),
    spent=st.integers(min_value=0, max_value=5000),
    already=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
    reserved=st.integers(min_value=1, max_value=100),
)
def test_concurrency_verdict_matches_lambdas_rule(
    total: int, spent: int, already: int | None, reserved: int
) -> None:
    """Lambda keeps 100 unreserved: a reservation fits iff it is at most the unreserved
    concurrency (plus what the function already holds) minus 100."""
    unreserved = max(total - spent, 0)
    out = preflight._Collector("dev")
    fake = _Lambda(total, unreserved, already)
    preflight._concurrency_check(out, _env(reserved), lambda service, region: fake)
    (check,) = out.checks
    fits = reserved <= unreserved + (already or 0) - 100
    assert check.status == ("ok" if fits else "fail")


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

    out = preflight._Collector("dev")
    preflight._token_checks(out, _Client(), "acme-ml", "GITHUB_TOKEN", env)  # type: ignore[arg-type]
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


def test_readme_lists_every_check() -> None:
    """The README's "Before you start" table names every check the command can print."""
    source = (ROOT / "modules" / "ops" / "preflight.py").read_text(encoding="utf-8")
    ids = set(re.findall(r'"((?:aws|github)\.[a-z_]+(?:\.[a-z_]+)?)"', source))
    assert len(ids) == 27, sorted(ids)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Before you start", 1)[1].split("\n## ", 1)[0]
    missing = sorted(i for i in ids if f"`{i}`" not in section)
    assert missing == []


def test_entry_point_uses_the_default_credential_chain(
    setup: Setup, tmp_path: Path, moto_module: MotoServer
) -> None:
    """``python -m modules.ops.preflight`` as ``make preflight`` runs it: boto3's default chain
    (here AWS_ENDPOINT_URL pointing at moto). moto has no Lambda GetAccountSettings: that
    check must say it cannot read, on one line, and block."""
    config = tmp_path / "config.yaml"
    del setup.config["environments"][0]["projects"][0]["code_connection"]
    config.write_text(yaml.safe_dump(setup.config), encoding="utf-8")
    env = {**os.environ, **moto_module.client_env(), **setup.environ}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modules.ops.preflight",
            "--config",
            str(config),
            "--github-api-url",
            setup.gh.api_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert all(line[:2] in ("✓ ", "! ", "✗ ") for line in lines[:-1]), lines
    assert lines[-1].startswith(f"preflight: {len(lines) - 1} checks, ")
    blocking = [line for line in lines if line.startswith("✗")]
    assert len(blocking) == 1
    assert blocking[0].startswith("✗ [dev] Lambda concurrency: cannot be read: 404: ")
    assert "allow lambda:GetAccountSettings" in blocking[0]
    assert "✓ [dev] AWS account 123456789012 region eu-west-1: credentials of" in result.stdout
    assert CLASSIC not in result.stdout + result.stderr


def test_fails_without_working_aws_credentials(setup: Setup) -> None:
    from botocore.config import Config  # noqa: PLC0415

    moto_clients = setup.fakes.clients

    def clients(service: str, region: str) -> Any:
        if service != "sts":
            return moto_clients(service, region)
        return boto3.client(
            "sts",
            region_name=region,
            endpoint_url="http://127.0.0.1:9",  # nothing listens: like an unreachable endpoint
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2),
        )

    setup.fakes.clients = clients  # type: ignore[method-assign]
    checks = setup.run()
    aws_lines = [c for c in checks if c.check.startswith("aws.")]
    assert [(c.check, c.status) for c in aws_lines] == [("aws.credentials", "fail")]
    assert "do not work in eu-west-1" in aws_lines[0].detail
    assert "aws sso login" in aws_lines[0].fix


def _lambda_zip() -> bytes:
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _leftover_function(moto: MotoServer, tags: dict[str, str]) -> None:
    make = aws(moto)
    role = make("iam").get_role(RoleName="AmazonSageMaker-ExecutionRole-dev")["Role"]["Arn"]
    make("lambda").create_function(
        FunctionName="sagemaker-github-workflow-trigger",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _lambda_zip()},
        Tags=tags,
    )


def test_fails_when_the_trigger_function_name_is_taken(setup: Setup) -> None:
    _leftover_function(setup.fakes.moto, {"owner": "original-guide"})
    check = only_failure(
        setup.run(), "aws.name_taken", "function sagemaker-github-workflow-trigger", "not created"
    )
    assert "original guide" in check.fix


def test_trigger_function_of_an_earlier_apply_passes(setup: Setup) -> None:
    _leftover_function(setup.fakes.moto, {"managed-by": "sagemaker-github-mlops"})
    checks = setup.run()
    assert failing(checks) == []
    (fn,) = [c for c in by_id(checks, "aws.name_taken") if c.subject.startswith("function")]
    assert fn.detail == "exists, created by this toolkit"


def test_fails_when_the_log_group_name_is_taken(setup: Setup) -> None:
    aws(setup.fakes.moto)("logs").create_log_group(
        logGroupName="/aws/lambda/sagemaker-github-workflow-trigger"
    )
    only_failure(setup.run(), "aws.name_taken", "log group /aws/lambda/sagemaker-github")


def test_fails_when_the_secret_name_is_taken(setup: Setup) -> None:
    aws(setup.fakes.moto)("secretsmanager").create_secret(
        Name="sagemaker-github-token", SecretString="x"
    )
    check = only_failure(setup.run(), "aws.name_taken", "secret sagemaker-github-token")
    assert "token_secret.name" in check.fix


def test_fails_when_the_secret_is_scheduled_for_deletion(setup: Setup) -> None:
    sm = aws(setup.fakes.moto)("secretsmanager")
    sm.create_secret(
        Name="sagemaker-github-token",
        Tags=[{"Key": "managed-by", "Value": "sagemaker-github-mlops"}],
    )
    sm.delete_secret(SecretId="sagemaker-github-token", RecoveryWindowInDays=7)
    check = only_failure(setup.run(), "aws.name_taken", "scheduled for deletion")
    assert "restore-secret" in check.fix


def test_the_drift_policy_allows_every_aws_call_preflight_makes(
    setup: Setup, synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    """Preflight runs with the plan's identity: each AWS call it made on the healthy setup is
    an action of `make deployer-policy READ_ONLY=1` for the same config."""
    setup.run()
    policy = deployer_policy.policy_for_stack(
        synth_config(setup.config).stack("dev"), read_only=True
    )
    allowed = {a for s in policy["Statement"] for a in s["Action"]}
    # HeadBucket is authorized as s3:ListBucket (S3 API reference)
    called = {a.replace("s3:HeadBucket", "s3:ListBucket") for a in setup.fakes.actions}
    assert len(called) >= 10, called
    assert called <= allowed, sorted(called - allowed)


def test_fails_when_the_state_bucket_is_in_another_region(setup: Setup) -> None:
    aws(setup.fakes.moto)("s3").delete_bucket(Bucket=STATE_BUCKET)
    elsewhere = boto3.client(
        "s3",
        region_name="us-west-2",
        endpoint_url=setup.fakes.moto.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    elsewhere.create_bucket(
        Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    elsewhere.put_bucket_versioning(
        Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    check = only_failure(setup.run(), "aws.state_bucket", "in us-west-2", "uses region eu-west-1")
    assert check.fix == "set backend.region: us-west-2"


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
        protection={"main": {"required_pull_request_reviews": {}}} if protection_pr else {},
        rules={"main": [{"type": "pull_request"}]} if ruleset_pr else {},
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
