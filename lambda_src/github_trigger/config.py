"""Configuration of the trigger function: the environment (read once) and the invocation payload.

``Settings`` comes from the Lambda environment, which Terraform sets; ``parse_invocation`` turns
the payload that the per-project EventBridge rule sends (``{"event": ..., "github": ...}``) into
either an ``ApprovedModelPackage`` to dispatch or an ``IgnoredEvent`` that says why not.
Both validate everything up front and name the offending field in their errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from github_trigger.errors import ConfigurationError, InvalidEventError

DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400
DEFAULT_GITHUB_TIMEOUT_SECONDS = 10
DEFAULT_TOKEN_CACHE_SECONDS = 300
DEFAULT_LOG_LEVEL = "INFO"

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
APPROVED = "Approved"
WORKFLOW_INPUT_NAME = "model_package_arn"

# GitHub's rules: owner names are alphanumerics and single hyphens; repository names also allow
# "." and "_". Workflow ids are a file name (e.g. deploy.yml) or a numeric id.
_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_WORKFLOW_RE = re.compile(r"^(?:[0-9]+|[A-Za-z0-9._-]+\.ya?ml)$")
_MODEL_PACKAGE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/\S{1,2048}$"
)
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Function-wide settings, read once per execution environment from its variables."""

    github_api_url: str
    """Base URL of the GitHub REST API, without a trailing slash (GHES: https://HOST/api/v3)."""
    idempotency_table_name: str
    """DynamoDB table keyed by ``model_package_arn`` that records claims and outcomes."""
    idempotency_ttl_seconds: int
    """How long a dispatch (or a permanent failure) is remembered per model package ARN."""
    github_timeout_seconds: int
    """Connect and read timeout of every GitHub request."""
    token_cache_seconds: int
    """How long a token read from Secrets Manager is reused; 0 reads it on every invocation."""
    log_level: str
    """Level of the function's own JSON logger."""

    @property
    def claim_lease_seconds(self) -> int:
        """How long an unfinished claim blocks other invocations for the same ARN.

        It covers one invocation's worst case: two GitHub requests plus a secret read, each
        bounded by the timeout, with margin. The function's timeout should not exceed it.
        """
        return 3 * self.github_timeout_seconds + 30


def _int_setting(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from e
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def _api_url(env: Mapping[str, str]) -> str:
    raw = env.get("GITHUB_API_URL", "").strip() or DEFAULT_GITHUB_API_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"GITHUB_API_URL must be an http(s) URL such as {DEFAULT_GITHUB_API_URL}, got {raw!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            f"GITHUB_API_URL must not carry credentials, a query or a fragment, got {raw!r}"
        )
    return raw.rstrip("/")


def load_settings(env: Mapping[str, str]) -> Settings:
    """Validate the function's environment variables and return the settings.

    Raises ConfigurationError naming the variable when one is missing or invalid.
    """
    table = env.get("IDEMPOTENCY_TABLE_NAME", "").strip()
    if not table:
        raise ConfigurationError(
            "IDEMPOTENCY_TABLE_NAME is required: the DynamoDB table that makes dispatches "
            "idempotent per model package ARN"
        )
    log_level = (env.get("LOG_LEVEL", "").strip() or DEFAULT_LOG_LEVEL).upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigurationError(
            f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {log_level!r}"
        )
    timeout = _int_setting(env, "GITHUB_TIMEOUT_SECONDS", DEFAULT_GITHUB_TIMEOUT_SECONDS, minimum=1)
    if timeout > 300:
        raise ConfigurationError(f"GITHUB_TIMEOUT_SECONDS must be <= 300, got {timeout}")
    return Settings(
        github_api_url=_api_url(env),
        idempotency_table_name=table,
        idempotency_ttl_seconds=_int_setting(
            env, "IDEMPOTENCY_TTL_SECONDS", DEFAULT_IDEMPOTENCY_TTL_SECONDS, minimum=60
        ),
        github_timeout_seconds=timeout,
        token_cache_seconds=_int_setting(
            env, "TOKEN_CACHE_SECONDS", DEFAULT_TOKEN_CACHE_SECONDS, minimum=0
        ),
        log_level=log_level,
    )


@dataclass(frozen=True, kw_only=True)
class GitHubTarget:
    """Where to dispatch: the ``github`` block that the project's EventBridge rule injects."""

    owner: str
    repository: str
    workflow: str
    ref: str
    token_secret_name: str
    model_package_group_name: str

    @property
    def full_name(self) -> str:
        """``owner/repository``, as GitHub addresses user- and organization-owned repositories."""
        return f"{self.owner}/{self.repository}"


@dataclass(frozen=True, kw_only=True)
class ApprovedModelPackage:
    """An approval to act on: dispatch ``target.workflow`` with the model package ARN."""

    event_id: str
    model_package_arn: str
    target: GitHubTarget


@dataclass(frozen=True, kw_only=True)
class IgnoredEvent:
    """A well-formed event that needs no dispatch, and why."""

    reason: str
    model_package_arn: str | None
    target: GitHubTarget


def _required_str(block: Mapping[str, Any], key: str, where: str) -> str:
    value = block.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidEventError(f"{where}.{key} must be a non-empty string, got {value!r}")
    return value.strip()


def _parse_target(payload: Mapping[str, Any]) -> GitHubTarget:
    block = payload.get("github")
    if not isinstance(block, Mapping):
        raise InvalidEventError(
            "payload.github must be an object with owner, repository, workflow, ref, "
            "token_secret_name and model_package_group_name (set by the EventBridge target's "
            "input transformer)"
        )
    target = GitHubTarget(
        owner=_required_str(block, "owner", "github"),
        repository=_required_str(block, "repository", "github"),
        workflow=_required_str(block, "workflow", "github"),
        ref=_required_str(block, "ref", "github"),
        token_secret_name=_required_str(block, "token_secret_name", "github"),
        model_package_group_name=_required_str(block, "model_package_group_name", "github"),
    )
    if not _OWNER_RE.fullmatch(target.owner):
        raise InvalidEventError(
            f"github.owner is not a GitHub user or organization name: {target.owner!r}"
        )
    if not _REPOSITORY_RE.fullmatch(target.repository) or target.repository in (".", ".."):
        raise InvalidEventError(
            f"github.repository is not a repository name: {target.repository!r}"
        )
    if not _WORKFLOW_RE.fullmatch(target.workflow):
        raise InvalidEventError(
            "github.workflow must be a workflow file name (e.g. deploy.yml) or a numeric id, "
            f"got {target.workflow!r}"
        )
    return target


def parse_invocation(payload: object) -> ApprovedModelPackage | IgnoredEvent:
    """Validate the invocation payload and decide whether it asks for a dispatch.

    Raises InvalidEventError when the payload is malformed; returns IgnoredEvent (with the
    reason) for state changes that are not approvals or that belong to another group.
    """
    if not isinstance(payload, Mapping):
        raise InvalidEventError(f"payload must be a JSON object, got {type(payload).__name__}")
    target = _parse_target(payload)
    event = payload.get("event")
    if not isinstance(event, Mapping):
        raise InvalidEventError("payload.event must be the original EventBridge event object")
    detail_type = event.get("detail-type")
    if detail_type != MODEL_PACKAGE_STATE_CHANGE:
        return IgnoredEvent(
            reason=f"detail-type is {detail_type!r}, not {MODEL_PACKAGE_STATE_CHANGE!r}",
            model_package_arn=None,
            target=target,
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidEventError("event.detail must be an object")
    arn = _required_str(detail, "ModelPackageArn", "event.detail")
    if not _MODEL_PACKAGE_ARN_RE.fullmatch(arn):
        raise InvalidEventError(f"event.detail.ModelPackageArn is not a model package ARN: {arn!r}")
    group = detail.get("ModelPackageGroupName")
    if group != target.model_package_group_name:
        return IgnoredEvent(
            reason=(
                f"model package group is {group!r}, this rule dispatches for "
                f"{target.model_package_group_name!r}"
            ),
            model_package_arn=arn,
            target=target,
        )
    status = detail.get("ModelApprovalStatus")
    if status != APPROVED:
        return IgnoredEvent(
            reason=f"ModelApprovalStatus is {status!r}, not {APPROVED!r}",
            model_package_arn=arn,
            target=target,
        )
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidEventError(f"event.id must be a non-empty string, got {event_id!r}")
    return ApprovedModelPackage(event_id=event_id, model_package_arn=arn, target=target)
