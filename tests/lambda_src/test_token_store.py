"""The token secret, exactly: every refusal's message, how Secrets Manager's errors are
classified, and how long a token stays cached."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from github_trigger.errors import AwsServiceError, TokenSecretError
from github_trigger.token_store import TokenStore, parse_secret_string

NAME = "sagemaker-github-token"
NO_TOKEN = f'secret {NAME!r} is JSON without a non-empty string "token" field (fields present: '


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (" \n", f"secret {NAME!r} is empty; store the GitHub token in it"),
        (
            "{ghp_x",
            f"secret {NAME!r} starts with '{{' but is not valid JSON; store the token itself or "
            '{"token": "<token>"}',
        ),
        ('{"token": " "}', NO_TOKEN + "['token'])"),
        ('{"token": 5, "note": "x"}', NO_TOKEN + "['note', 'token'])"),
        ('{"b_field": 1, "a": 2}', NO_TOKEN + "['a', 'b_field'])"),
        ('{"ghp_Pasted0": 1, "Note": 2, "x": 3}', NO_TOKEN + "['x'] and 2 other(s) not shown)"),
        (
            '{"' + "a" * 24 + '": 1, "' + "a" * 25 + '": 2}',
            NO_TOKEN + f"['{'a' * 24}'] and 1 other(s) not shown)",
        ),
        (
            "ghp_a b",
            f"secret {NAME!r} holds a value with whitespace inside; store the token itself or "
            '{"token": "<token>"}',
        ),
        (
            '{"token": "ghp_a\\tb"}',
            f"secret {NAME!r} holds a value with whitespace inside; store the token itself or "
            '{"token": "<token>"}',
        ),
    ],
)
def test_refused_secrets(secret: str, message: str) -> None:
    with pytest.raises(TokenSecretError) as raised:
        parse_secret_string(NAME, secret)
    assert str(raised.value) == message


def test_a_value_that_is_not_a_json_object_is_the_token_itself() -> None:
    assert parse_secret_string(NAME, " [ghp_x]\n") == "[ghp_x]"


def test_a_json_list_is_no_token_document() -> None:
    with pytest.raises(TokenSecretError) as raised:
        parse_secret_string(NAME, '{"token": ["ghp_x"]}')
    assert str(raised.value) == NO_TOKEN + "['token'])"


class _Secrets:
    def __init__(self, answer: Any = None, error: BaseException | None = None) -> None:
        self.answer, self.error, self.calls = answer, error, 0

    def get_secret_value(self, SecretId: str) -> Any:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.answer


def _error(code: str | None) -> ClientError:
    error: dict[str, str] = {"Message": "m"}
    if code is not None:
        error["Code"] = code
    return ClientError({"Error": error}, "GetSecretValue")


def _read(secrets: _Secrets) -> str:
    token: str = TokenStore(client_factory=lambda: secrets, cache_seconds=0).get(NAME).value
    return token


CHECK = "check that it exists, has a value and that the function may read it"


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            _error("ResourceNotFoundException"),
            TokenSecretError,
            f"cannot read GitHub token secret {NAME!r}: ResourceNotFoundException; create it "
            "and store the GitHub token in it",
        ),
        *[
            (
                _error(code),
                TokenSecretError,
                f"cannot read GitHub token secret {NAME!r}: {code}; {CHECK}",
            )
            for code in (
                "AccessDeniedException",
                "DecryptionFailure",
                "InvalidRequestException",
                "InvalidParameterException",
                "ValidationException",
            )
        ],
        (
            _error("ThrottlingException"),
            AwsServiceError,
            f"Secrets Manager failed reading {NAME!r}: ThrottlingException",
        ),
        (_error(None), AwsServiceError, f"Secrets Manager failed reading {NAME!r}: Unknown"),
        (
            EndpointConnectionError(endpoint_url="https://x"),
            AwsServiceError,
            f"Secrets Manager unreachable reading {NAME!r}: EndpointConnectionError",
        ),
    ],
)
def test_secrets_manager_errors(error: BaseException, kind: type, message: str) -> None:
    with pytest.raises(kind) as raised:
        _read(_Secrets(error=error))
    assert str(raised.value) == message
    assert raised.value.__cause__ is error


@pytest.mark.parametrize(
    ("answer", "kind", "message"),
    [
        ("x", AwsServiceError, f"Secrets Manager gave a malformed answer reading {NAME!r}"),
        (
            {"SecretBinary": b"x"},
            TokenSecretError,
            f"secret {NAME!r} has no string value (binary secrets are not supported)",
        ),
    ],
)
def test_answers_without_a_secret_string(answer: Any, kind: type, message: str) -> None:
    with pytest.raises(kind) as raised:
        _read(_Secrets(answer=answer))
    assert str(raised.value) == message


def test_a_token_is_cached_for_cache_seconds_exactly() -> None:
    secrets = _Secrets(answer={"SecretString": "ghp_one"})
    now = [100.0]
    store = TokenStore(client_factory=lambda: secrets, cache_seconds=10, clock=lambda: now[0])
    assert store.get(NAME).from_cache is False
    now[0] = 109.9
    assert store.get(NAME).from_cache is True
    now[0] = 110.0
    assert store.get(NAME).from_cache is False  # read again at 110: cached until 120
    now[0] = 119.0
    assert store.get(NAME).from_cache is True
    assert secrets.calls == 2


def test_no_cache_when_cache_seconds_is_zero() -> None:
    secrets = _Secrets(answer={"SecretString": "ghp_one"})
    store = TokenStore(client_factory=lambda: secrets, cache_seconds=0, clock=lambda: 0.0)
    assert [store.get(NAME).from_cache for _ in range(3)] == [False, False, False]
    assert secrets.calls == 3


def test_a_token_never_shows_its_value() -> None:
    secrets = _Secrets(answer={"SecretString": "ghp_one"})
    store = TokenStore(client_factory=lambda: secrets, cache_seconds=10, clock=lambda: 0.0)
    assert repr(store.get(NAME)) == "Token(value=<redacted>, from_cache=False)"
    assert repr(store.get(NAME)) == "Token(value=<redacted>, from_cache=True)"
