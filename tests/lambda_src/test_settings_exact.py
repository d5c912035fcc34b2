"""The function's settings, exactly: each variable's bounds and the full text of each refusal;
GITHUB_API_URL's rules and how a URL is shown in messages."""

from __future__ import annotations

import pytest
from github_trigger.config import (
    GitHubTarget,
    Settings,
    is_loopback,
    load_settings,
    redact_url,
)
from github_trigger.errors import ConfigurationError

from tests.lambda_src.trigger_support import ALLOWED_TARGETS

BASE = {"IDEMPOTENCY_TABLE_NAME": " ledger "}


def _settings(**env: str) -> Settings:
    return load_settings({**BASE, **env})


def test_defaults_and_stripping() -> None:
    settings = _settings(LOG_LEVEL=" debug ", ALLOW_REGISTERED_APPROVED=" TRUE ")
    assert settings == Settings(
        github_api_url="https://api.github.com",
        idempotency_table_name="ledger",
        idempotency_ttl_seconds=86400,
        github_timeout_seconds=5,
        token_cache_seconds=300,
        log_level="DEBUG",
        allowed_targets=frozenset(),
        allow_registered_approved=True,
    )
    assert _settings(ALLOW_REGISTERED_APPROVED=" ").allow_registered_approved is False
    assert _settings(ALLOW_REGISTERED_APPROVED="false").allow_registered_approved is False
    assert _settings(LOG_LEVEL=" ").log_level == "INFO"


@pytest.mark.parametrize(
    ("env", "values"),
    [
        ({"GITHUB_TIMEOUT_SECONDS": "1"}, (1, 86400, 300)),
        ({"GITHUB_TIMEOUT_SECONDS": " 30 "}, (30, 86400, 300)),
        ({"IDEMPOTENCY_TTL_SECONDS": "60"}, (5, 60, 300)),
        ({"TOKEN_CACHE_SECONDS": "0"}, (5, 86400, 0)),
        ({"TOKEN_CACHE_SECONDS": ""}, (5, 86400, 300)),
    ],
)
def test_integer_bounds_accepted(env: dict[str, str], values: tuple[int, int, int]) -> None:
    settings = _settings(**env)
    assert (
        settings.github_timeout_seconds,
        settings.idempotency_ttl_seconds,
        settings.token_cache_seconds,
    ) == values


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"IDEMPOTENCY_TABLE_NAME": " "},
            "IDEMPOTENCY_TABLE_NAME is required: the DynamoDB table that makes dispatches "
            "idempotent per model package ARN",
        ),
        (
            {"LOG_LEVEL": "verbose"},
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'VERBOSE'",
        ),
        ({"GITHUB_TIMEOUT_SECONDS": "5s"}, "GITHUB_TIMEOUT_SECONDS must be an integer, got '5s'"),
        ({"GITHUB_TIMEOUT_SECONDS": "0"}, "GITHUB_TIMEOUT_SECONDS must be >= 1, got 0"),
        ({"GITHUB_TIMEOUT_SECONDS": "31"}, "GITHUB_TIMEOUT_SECONDS must be <= 30, got 31"),
        ({"IDEMPOTENCY_TTL_SECONDS": "59"}, "IDEMPOTENCY_TTL_SECONDS must be >= 60, got 59"),
        ({"TOKEN_CACHE_SECONDS": "-1"}, "TOKEN_CACHE_SECONDS must be >= 0, got -1"),
        (
            {"ALLOWED_TARGETS": "bad"},
            "ALLOWED_TARGETS is malformed: entry 0 is not a 16-character target digest: 'bad'",
        ),
        (
            {"ALLOW_REGISTERED_APPROVED": "yes"},
            "ALLOW_REGISTERED_APPROVED must be 'true' or 'false', got 'yes'",
        ),
    ],
)
def test_refused_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _settings(**env)
    assert str(raised.value) == message


def test_the_budget_follows_the_timeout() -> None:
    settings = _settings(GITHUB_TIMEOUT_SECONDS="2")
    assert settings.budget.github_read_timeout_seconds == 2
    assert settings.claim_lease_seconds == settings.budget.claim_lease_seconds
    assert _settings().claim_lease_seconds == 95


def test_only_configured_targets_are_allowed() -> None:
    settings = _settings(ALLOWED_TARGETS=ALLOWED_TARGETS)

    def target(owner: str, workflow: str = "deploy.yml", ref: str = "main") -> GitHubTarget:
        return GitHubTarget(
            owner=owner,
            repository="churn-model",
            workflow=workflow,
            ref=ref,
            token_secret_name="s",
            model_package_group_name="g",
        )

    assert settings.allows(target("acme-user"))
    assert settings.allows(target("ACME-USER"))
    assert not settings.allows(target("acme"))
    assert not settings.allows(target("acme-user", workflow="release.yml"))
    assert not settings.allows(target("acme-user", ref="dev"))
    assert target("acme-user").full_name == "acme-user/churn-model"


# --- GITHUB_API_URL ------------------------------------------------------------------------------

HTTPS = "GITHUB_API_URL must be an https URL such as https://api.github.com, got "


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (" https://ghe.example.com/api/v3/ ", "https://ghe.example.com/api/v3"),
        ("http://LOCALHOST:3000", "http://LOCALHOST:3000"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("HTTPS://api.github.com", "HTTPS://api.github.com"),
        (" ", "https://api.github.com"),
    ],
)
def test_api_urls_kept(url: str, kept: str) -> None:
    assert _settings(GITHUB_API_URL=url).github_api_url == kept


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://ghe.example.com", HTTPS + "'ftp://ghe.example.com'"),
        ("ghe.example.com/api", HTTPS + "'ghe.example.com/api'"),
        ("https://", HTTPS + "'https://'"),
        ("https://ghe.example.com:99999", HTTPS + "'<unparseable URL>'"),
        (
            "https://user:pw@ghe.example.com/api?x=1",
            "GITHUB_API_URL must not carry credentials (the token comes from Secrets Manager), "
            "got 'https://ghe.example.com/api' with credentials removed",
        ),
        (
            "https://user@ghe.example.com",
            "GITHUB_API_URL must not carry credentials (the token comes from Secrets Manager), "
            "got 'https://ghe.example.com' with credentials removed",
        ),
        (
            "https://ghe.example.com/api?x=1",
            "GITHUB_API_URL must not carry a query or a fragment, got 'https://ghe.example.com/api'",
        ),
        (
            "https://ghe.example.com/api#top",
            "GITHUB_API_URL must not carry a query or a fragment, got 'https://ghe.example.com/api'",
        ),
        (
            "http://10.0.0.1:8080/api",
            "GITHUB_API_URL must use https (the token would travel in cleartext); plain http is "
            "accepted only for a loopback address in tests, got 'http://10.0.0.1:8080/api'",
        ),
    ],
)
def test_refused_api_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _settings(GITHUB_API_URL=url)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h.example:8443/p?q=1#f", "https://h.example:8443/p"),
        ("https://[::1]:9000/x", "https://[::1]:9000/x"),
        ("https://h.example", "https://h.example"),
        ("https://h.example:x", "<unparseable URL>"),
    ],
)
def test_urls_are_shown_without_credentials_query_or_fragment(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("LocalHost", True),
        ("127.255.0.1", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("localhost.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
