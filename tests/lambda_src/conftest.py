"""Fixtures for the trigger function's tests: moto_server for AWS, a fake GitHub API, env setup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from modules.core.function_source import import_function_module

ROOT = Path(__file__).resolve().parents[2]
# The function's modules under the names they have in Lambda (zip root lambda_src/: `handler`,
# `github_trigger`), without a sys.path edit: modules/core/function_source.py.
import_function_module("handler")

import handler  # noqa: E402

from tests.lambda_src.trigger_support import (  # noqa: E402
    ALLOWED_TARGETS,
    SECRET_NAME,
    TABLE_NAME,
    TOKEN,
    TriggerEnv,
)
from tests.support.fake_github import FakeGitHub, running_fake_github  # noqa: E402
from tests.support.moto_server import MotoServer, moto_server_fixture  # noqa: E402

# recording: tests/lambda_src/test_recorded_permissions.py checks the function's calls
moto_server = moto_server_fixture(record=True)


@pytest.fixture(scope="session")
def fake_github() -> Iterator[FakeGitHub]:
    with running_fake_github() as server:
        yield server


@pytest.fixture
def trigger_env(
    moto_server: MotoServer, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TriggerEnv]:
    """Fresh AWS state (table + token secret), fresh fake GitHub, a cold-started function."""
    moto_server.reset()
    fake_github.reset()
    for name, value in moto_server.client_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.api_url)
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("GITHUB_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("TOKEN_CACHE_SECONDS", "300")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv("ALLOWED_TARGETS", ALLOWED_TARGETS)
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE_NAME,
        AttributeDefinitions=[{"AttributeName": "idempotency_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=TABLE_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=SECRET_NAME, SecretString=TOKEN)
    handler.reset_runtime()
    yield TriggerEnv(github=fake_github, dynamodb=dynamodb, secrets=secrets)
    handler.reset_runtime()
    # every dispatch the function sent and every answer it got, against GitHub's description
    errors = fake_github.conformance_errors()
    assert errors == [], "\n".join(errors)
