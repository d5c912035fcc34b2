"""What the preflight tests share: a healthy config, GitHub world and AWS account, the AWS
client factory that records every call, and the assertions on check lines.

AWS is moto on 127.0.0.1 (``moto_server``); the two APIs moto does not serve are answered
in-process: CodeConnections by a botocore ``Stubber`` (botocore validates its answers against
the service model), Lambda GetAccountSettings by a ``before-call`` hook with the documented
response shape. GitHub is the routed fake API on 127.0.0.1 (tests/support/fake_github.py),
whose every exchange the fixtures hold to GitHub's OpenAPI description. The AWS clients are the
command's own (``preflight.boto3_clients()``, pointed at moto through ``AWS_ENDPOINT_URL``: the
``setup`` fixture sets it), so its read-only guard is the one under test."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.stub import Stubber

from modules.core.config import parse_config
from modules.ops import preflight
from modules.ops.preflight import Check
from tests.support.fake_github import (
    FakeGitHub,
    FakeRepository,
    FakeToken,
    FakeWorld,
)
from tests.support.moto_server import MotoServer

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
CONNECTION = (
    f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
)
CLASSIC = "ghp_classic_preflight_token"
FINE = "github_pat_fine_grained_risk"
STATE_BUCKET = "acme-tfstate-preflight"
STUDIO_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-dev"


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
        client = self._real(service, region)
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
        return self._watched(self._real(service, region))  # the Stubber answers, nothing is sent

    def _real(self, service: str, region: str) -> Any:
        """The command's own client (timeouts, read-only guard) at moto's endpoint. One boto3
        session for the test process: a new one per client loaded each service model again
        (about half of these tests' time)."""
        return preflight.boto3_clients(_shared_session())(service, region)

    def _watched(self, client: Any) -> Any:
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


@functools.cache
def _shared_session() -> Any:
    return boto3.session.Session()


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
    # the config's deployer_principal_arn (arn:aws:iam::<account>:role/terraform-apply)
    iam.create_role(RoleName="terraform-apply", AssumeRolePolicyDocument=trust)
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
