"""Unit tests of the function's settings, payload parsing and secret parsing."""

from __future__ import annotations

import pytest
from github_trigger.config import (
    ApprovedModelPackage,
    IgnoredEvent,
    load_settings,
    parse_invocation,
)
from github_trigger.errors import ConfigurationError, InvalidEventError, TokenSecretError
from github_trigger.token_store import TokenStore, parse_secret_string

from tests.lambda_src.trigger_support import load_fixture


def test_settings_defaults() -> None:
    settings = load_settings({"IDEMPOTENCY_TABLE_NAME": "t"})
    assert settings.github_api_url == "https://api.github.com"
    assert settings.idempotency_ttl_seconds == 86400
    assert settings.github_timeout_seconds == 5
    assert settings.token_cache_seconds == 300
    assert settings.log_level == "INFO"
    assert settings.claim_lease_seconds == 95
    assert settings.allowed_targets == frozenset()  # nothing configured: nothing is dispatched


def test_settings_from_environment() -> None:
    settings = load_settings(
        {
            "IDEMPOTENCY_TABLE_NAME": " t ",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "IDEMPOTENCY_TTL_SECONDS": "3600",
            "GITHUB_TIMEOUT_SECONDS": "5",
            "TOKEN_CACHE_SECONDS": "0",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.idempotency_table_name == "t"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert (settings.idempotency_ttl_seconds, settings.github_timeout_seconds) == (3600, 5)
    assert settings.token_cache_seconds == 0
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "IDEMPOTENCY_TABLE_NAME is required"),
        ({"GITHUB_TIMEOUT_SECONDS": "ten"}, "GITHUB_TIMEOUT_SECONDS must be an integer, got 'ten'"),
        ({"GITHUB_TIMEOUT_SECONDS": "0"}, "GITHUB_TIMEOUT_SECONDS must be >= 1"),
        ({"IDEMPOTENCY_TTL_SECONDS": "5"}, "IDEMPOTENCY_TTL_SECONDS must be >= 60"),
        ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL must be an http"),
        ({"GITHUB_API_URL": "https://u:p@ghe.example.com"}, "must not carry credentials"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"ALLOW_REGISTERED_APPROVED": "yes"}, "ALLOW_REGISTERED_APPROVED must be 'true' or"),
    ],
)
def test_fails_on_invalid_settings(env: dict[str, str], message: str) -> None:
    base = {"IDEMPOTENCY_TABLE_NAME": "t"} if env else {}
    with pytest.raises(ConfigurationError, match=message):
        load_settings({**base, **env})


def test_parse_approved_fixture() -> None:
    decision = parse_invocation(load_fixture("model_package_approved"))
    assert isinstance(decision, ApprovedModelPackage)
    assert decision.target.full_name == "acme-user/churn-model"
    assert decision.event_id == "5b8f6c1e-2d4a-4f0e-9c61-0b7d3e1a9f42"
    assert decision.model_package_arn.endswith("model-package/churn-model-p-abc123def456/3")


def test_registered_approved_needs_the_setting() -> None:
    """Off by default: a package never modified since creation was approved by code."""
    assert load_settings({"IDEMPOTENCY_TABLE_NAME": "t"}).allow_registered_approved is False
    allowed = load_settings({"IDEMPOTENCY_TABLE_NAME": "t", "ALLOW_REGISTERED_APPROVED": "true"})
    assert allowed.allow_registered_approved is True
    payload = load_fixture("model_package_approved")
    detail = payload["event"]["detail"]
    detail["LastModifiedTime"] = detail["CreationTime"]
    ignored = parse_invocation(payload)
    assert isinstance(ignored, IgnoredEvent) and ignored.code == "registered-approved"
    assert isinstance(
        parse_invocation(payload, allow_registered_approved=True), ApprovedModelPackage
    )
    # a person's approval (modified after creation) dispatches either way
    detail["LastModifiedTime"] = detail["CreationTime"] + 1
    assert isinstance(parse_invocation(payload), ApprovedModelPackage)


def test_parse_rejected_fixture_is_ignored_with_reason() -> None:
    decision = parse_invocation(load_fixture("model_package_rejected"))
    assert isinstance(decision, IgnoredEvent)
    assert decision.reason == "ModelApprovalStatus is 'Rejected', not 'Approved'"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("owner", "acme/evil", "github.owner is not"),
        ("repository", "..", "github.repository is not"),
        ("workflow", "deploy", "github.workflow must be a workflow file name"),
        ("ref", "", "github.ref must be a non-empty string"),
        ("token_secret_name", None, "github.token_secret_name must be"),
    ],
)
def test_fails_on_invalid_github_block(field: str, value: object, message: str) -> None:
    payload = load_fixture("model_package_approved")
    payload["github"][field] = value
    with pytest.raises(InvalidEventError, match=message):
        parse_invocation(payload)


def test_fails_on_non_arn() -> None:
    payload = load_fixture("model_package_approved")
    payload["event"]["detail"]["ModelPackageArn"] = "not-an-arn"
    with pytest.raises(InvalidEventError, match="not a model package ARN"):
        parse_invocation(payload)


@pytest.mark.parametrize(
    ("secret", "token"),
    [
        ("ghp_plain", "ghp_plain"),
        ("  ghp_plain\n", "ghp_plain"),
        ('{"token": "github_pat_json"}', "github_pat_json"),
        ('{"token": " ghp_x ", "note": "rotated monthly"}', "ghp_x"),
    ],
)
def test_secret_formats(secret: str, token: str) -> None:
    assert parse_secret_string("s", secret) == token


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "is empty"),
        ('{"tok": "ghp_secretvalue"}', r"without a non-empty string \"token\" field"),
        ('{"token": 5}', "without a non-empty string"),
        ("{ghp_secretvalue", "not valid JSON"),
        ("user:ghp_secret value", "whitespace"),
    ],
)
def test_fails_on_malformed_secret_without_revealing_it(secret: str, message: str) -> None:
    with pytest.raises(TokenSecretError, match=message) as raised:
        parse_secret_string("sagemaker-github-token", secret)
    assert "ghp_secret" not in str(raised.value)
    assert "sagemaker-github-token" in str(raised.value)


class _FakeSecrets:
    def __init__(self) -> None:
        self.calls = 0
        self.value = "ghp_one"

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        self.calls += 1
        return {"SecretString": self.value}


def test_token_cache_expires() -> None:
    client = _FakeSecrets()
    now = [1000.0]
    store = TokenStore(client_factory=lambda: client, cache_seconds=300, clock=lambda: now[0])

    first = store.get("s")
    second = store.get("s")
    now[0] += 301
    client.value = "ghp_two"
    third = store.get("s")

    assert (first.value, first.from_cache) == ("ghp_one", False)
    assert (second.value, second.from_cache) == ("ghp_one", True)
    assert (third.value, third.from_cache) == ("ghp_two", False)
    assert client.calls == 2
    assert "ghp_" not in repr(third)
