"""`make preflight` in stage accounts (modules/ops/preflight_stages.py), against moto_server.

moto's STS answers ``AssumeRole`` into a role of another account with credentials acting in
that account (the role need not exist), which is how the plan's aliased providers reach them.
Every call is recorded: the only non-read call is ``AssumeRole``, once per stage account.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from modules.core.aws_facts import READ_ONLY_ACTION_PREFIXES as READ_ONLY_PREFIXES
from modules.core.config import parse_config
from modules.core.naming import iam_name
from modules.ops import preflight
from modules.ops.preflight.stages import stage_account_checks
from tests.support.moto_server import MotoServer, running_moto_server
from tests.support.three_accounts import ENVIRONMENT, PRODUCTION, REGION, STAGING, three_accounts

pytestmark = pytest.mark.slow  # starts moto_server


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with running_moto_server(region=REGION) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(moto: MotoServer) -> None:
    moto.reset()


class Recorder:
    """An ``assume`` for stage_account_checks over moto, recording every call's name."""

    def __init__(self, moto: MotoServer) -> None:
        self.moto = moto
        self.calls: list[str] = []

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(str(model.name))

    def _client(self, service: str, region: str, **credentials: str) -> Any:
        client = boto3.client(
            service, endpoint_url=self.moto.endpoint_url, region_name=region, **credentials
        )
        client.meta.events.register("before-parameter-build", self._record)
        return client

    def __call__(self, role_arn: str, region: str) -> Callable[[str, str], Any]:
        sts = self._client(
            "sts", region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        c = sts.assume_role(RoleArn=role_arn, RoleSessionName="preflight")["Credentials"]

        def make(service: str, client_region: str) -> Any:
            return self._client(
                service,
                client_region,
                aws_access_key_id=c["AccessKeyId"],
                aws_secret_access_key=c["SecretAccessKey"],
                aws_session_token=c["SessionToken"],
            )

        return make


def iam_in(moto: MotoServer, account: str) -> Any:
    return Recorder(moto)(f"arn:aws:iam::{account}:role/terraform-apply", REGION)("iam", REGION)


def test_fresh_stage_accounts_pass_and_only_assume_role_writes(moto: MotoServer) -> None:
    env = parse_config(three_accounts()).environments[0]
    recorder = Recorder(moto)
    lines = stage_account_checks(env, recorder)
    assert [(c, s) for c, s, *_ in lines if s != "ok"] == []
    assume = [line for line in lines if line[0] == "aws.stage.assume_role"]
    assert len(assume) == 2
    assert all("the one non-read call preflight makes" in line[3] for line in assume)
    writes = [c for c in recorder.calls if not c.startswith(READ_ONLY_PREFIXES)]
    assert writes == ["AssumeRole", "AssumeRole"]
    subjects = {line[2] for line in lines}
    assert (
        f"staging account {STAGING}" in subjects and f"production account {PRODUCTION}" in subjects
    )


def test_blocks_a_foreign_role_and_an_existing_oidc_provider(moto: MotoServer) -> None:
    env = parse_config(three_accounts()).environments[0]
    iam = iam_in(moto, PRODUCTION)
    taken = iam_name(ENVIRONMENT, "churn-model", "gha-production")
    iam.create_role(RoleName=taken, AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"]
    )
    failed = {
        (line[0], line[2]): line
        for line in stage_account_checks(env, Recorder(moto))
        if line[1] == "fail"
    }
    assert set(failed) == {
        ("aws.stage.oidc_provider", f"production account {PRODUCTION}: GitHub OIDC provider"),
        ("aws.stage.name_taken", f"production account: role {taken}"),
    }
    oidc = failed[
        ("aws.stage.oidc_provider", f"production account {PRODUCTION}: GitHub OIDC provider")
    ]
    assert oidc[4] == (
        f"set promotion.production.oidc_provider_arn: arn:aws:iam::{PRODUCTION}:oidc-provider/"
        "token.actions.githubusercontent.com"
    )


def test_a_role_that_cannot_be_assumed_blocks_with_the_fix() -> None:
    env = parse_config(three_accounts()).environments[0]

    def refuse(role_arn: str, region: str) -> Any:
        raise PermissionError(f"AccessDenied: not allowed to assume {role_arn}")

    lines = stage_account_checks(env, refuse)
    assert [(line[0], line[1]) for line in lines] == [
        ("aws.stage.assume_role", "fail"),
        ("aws.stage.assume_role", "fail"),
    ]
    assert "may call sts:AssumeRole on it" in lines[0][4]


def test_preflight_run_adds_the_stage_lines(moto: MotoServer) -> None:
    env = parse_config(three_accounts()).environments[0]
    checks = [
        c
        for c in preflight.run(
            [env],
            clients=lambda service, region: _unreachable(),
            environ={},
            github_api_url="http://127.0.0.1:9",
            github_timeout_seconds=0.5,
            assume=Recorder(moto),
        )
        if c.check.startswith("aws.stage.")
    ]
    assert {c.environment for c in checks} == {ENVIRONMENT}
    assert len([c for c in checks if c.check == "aws.stage.assume_role"]) == 2


def _unreachable() -> Any:
    from botocore.exceptions import NoCredentialsError  # noqa: PLC0415

    class Client:
        def __getattr__(self, name: str) -> Any:
            def fail(**_: Any) -> Any:
                raise NoCredentialsError

            return fail

    return Client()
