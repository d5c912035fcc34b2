"""Reads the GitHub token from Secrets Manager and caches it across invocations.

The secret's value is either the token itself or a JSON object ``{"token": "..."}``. The token
is kept in memory for ``token_cache_seconds`` per secret name and is never logged or put in an
exception message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from github_trigger.errors import AwsServiceError, TokenSecretError

_FIELD_NAME_RE = re.compile(r"[a-z][a-z_]{0,23}")

# Secrets Manager error codes that a retry cannot fix.
_PERMANENT_ERROR_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidRequestException",
        "InvalidParameterException",
        "ValidationException",
    }
)


@dataclass(frozen=True, kw_only=True)
class Token:
    """A GitHub token and whether it came from the in-memory cache."""

    value: str
    from_cache: bool

    def __repr__(self) -> str:
        return f"Token(value=<redacted>, from_cache={self.from_cache})"


def parse_secret_string(secret_name: str, secret_string: str) -> str:
    """Extract the token from a secret value: a plain token or JSON ``{"token": "..."}``.

    Raises TokenSecretError (without the value) when it is empty or malformed.
    """
    text = secret_string.strip()
    if not text:
        raise TokenSecretError(f"secret {secret_name!r} is empty; store the GitHub token in it")
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            # Not chained: the decoder error keeps the whole secret text in its ``doc``.
            raise TokenSecretError(
                f"secret {secret_name!r} starts with '{{' but is not valid JSON; store the "
                'token itself or {"token": "<token>"}'
            ) from None
        token = document.get("token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token.strip():
            keys = sorted(document) if isinstance(document, dict) else []
            # a field name may itself be the token pasted in the wrong place: only names that
            # look like field names are shown
            shown = [k for k in keys if _FIELD_NAME_RE.fullmatch(k)]
            hidden = (
                f" and {len(keys) - len(shown)} other(s) not shown"
                if len(shown) < len(keys)
                else ""
            )
            raise TokenSecretError(
                f'secret {secret_name!r} is JSON without a non-empty string "token" field '
                f"(fields present: {shown}{hidden})"
            )
        text = token.strip()
    if any(ch.isspace() for ch in text):
        raise TokenSecretError(
            f"secret {secret_name!r} holds a value with whitespace inside; store the token "
            'itself or {"token": "<token>"}'
        )
    return text


class TokenStore:
    """Per-secret token cache in front of Secrets Manager ``GetSecretValue``."""

    def __init__(
        self,
        *,
        client_factory: Callable[[], Any],
        cache_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    def get(self, secret_name: str) -> Token:
        """The token stored in ``secret_name``, from the cache while it is fresh."""
        cached = self._cache.get(secret_name)
        if cached is not None and self._clock() - cached[1] < self._cache_seconds:
            return Token(value=cached[0], from_cache=True)
        value = self._fetch(secret_name)
        if self._cache_seconds > 0:
            self._cache[secret_name] = (value, self._clock())
        return Token(value=value, from_cache=False)

    def invalidate(self, secret_name: str) -> None:
        """Forget the cached token (e.g. after GitHub answered 401: it may have been rotated)."""
        self._cache.pop(secret_name, None)

    def _fetch(self, secret_name: str) -> str:
        try:
            response = self._client_factory().get_secret_value(SecretId=secret_name)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", "Unknown"))
            if code in _PERMANENT_ERROR_CODES:
                hint = (
                    "create it and store the GitHub token in it"
                    if code == "ResourceNotFoundException"
                    else "check that it exists, has a value and that the function may read it"
                )
                raise TokenSecretError(
                    f"cannot read GitHub token secret {secret_name!r}: {code}; {hint}"
                ) from e
            raise AwsServiceError(f"Secrets Manager failed reading {secret_name!r}: {code}") from e
        except BotoCoreError as e:
            raise AwsServiceError(
                f"Secrets Manager unreachable reading {secret_name!r}: {type(e).__name__}"
            ) from e
        if not isinstance(response, dict):
            raise AwsServiceError(
                f"Secrets Manager gave a malformed answer reading {secret_name!r}"
            )
        secret_string = response.get("SecretString")
        if not isinstance(secret_string, str):
            raise TokenSecretError(
                f"secret {secret_name!r} has no string value (binary secrets are not supported)"
            )
        return parse_secret_string(secret_name, secret_string)
