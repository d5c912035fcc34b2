"""Configuration of the trigger function: the environment (read once) and the invocation payload.

``Settings`` comes from the Lambda environment, which Terraform sets; ``parse_invocation`` turns
the payload that the per-project EventBridge rule sends (``{"event": ..., "github": ...}``) into
either an ``ApprovedModelPackage`` to dispatch or an ``IgnoredEvent`` that says why not.
Both validate everything up front and name the offending field in their errors.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from github_trigger.allowlist import DispatchTarget, decode_allowed_targets
from github_trigger.budget import (
    DEFAULT_GITHUB_TIMEOUT_SECONDS,
    MAX_GITHUB_TIMEOUT_SECONDS,
    MIN_GITHUB_TIMEOUT_SECONDS,
    TimeBudget,
    derive_budget,
)
from github_trigger.errors import ConfigurationError, InvalidEventError

DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400
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
# The ref the plan configures: a branch as the toolkit's config accepts it (letters, digits,
# '.', '_', '/', '-', at most 255 characters), or refs/heads/<branch> / refs/tags/<tag>, within
# git's ref rules (git-check-ref-format(1)): no '..', no empty component, no component starting
# with '.' or ending with '.lock', no leading '-'. Control characters (a newline...) never pass:
# the ref is checked before any whitespace is stripped.
_REF_RE = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
# The model package ARN grammar: a known partition, a region, a 12-digit account and
# model-package/<group>/<version>, where the group follows ModelPackageGroupName's pattern
# (1-63 characters) and the version is a positive integer. Anything else is refused, which also
# bounds the length (the idempotency key derived from it stays far below DynamoDB's 2048 bytes).
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")
_MODEL_PACKAGE_ARN_RE = re.compile(
    r"^arn:(?P<partition>" + "|".join(re.escape(p) for p in PARTITIONS) + r")"
    r":sagemaker:(?P<region>[a-z]{2}(?:-[a-z]+){1,3}-[0-9]{1,2})"
    r":(?P<account>[0-9]{12})"
    r":model-package/(?P<group>(?=[A-Za-z0-9-]{1,63}/)[A-Za-z0-9](?:-*[A-Za-z0-9])*)"
    r"/(?P<version>[1-9][0-9]{0,9})$"
)
MAX_LOGGED_VALUE_CHARS = 200
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
    """Read timeout of every GitHub request; every other timeout derives from it (budget.py)."""
    token_cache_seconds: int
    """How long a token read from Secrets Manager is reused; 0 reads it on every invocation."""
    log_level: str
    """Level of the function's own JSON logger."""
    allowed_targets: frozenset[str]
    """Digests of the (owner, repository, workflow, ref) the plan configured (allowlist.py)."""
    allow_registered_approved: bool = False
    """Whether a package *registered* as Approved (by code: never modified since its creation)
    still dispatches (``ALLOW_REGISTERED_APPROVED``, the config's
    ``platform.auto_approve_staging``). Default: no, only a person's approval dispatches."""

    @property
    def budget(self) -> TimeBudget:
        """Timeouts, retries, function timeout and claim lease (see budget.py)."""
        return derive_budget(self.github_timeout_seconds)

    @property
    def claim_lease_seconds(self) -> int:
        """How long an unfinished claim means "its invocation may still be running"."""
        return self.budget.claim_lease_seconds

    def allows(self, target: GitHubTarget) -> bool:
        """Whether the plan configured this (owner, repository, workflow, ref)."""
        digest = DispatchTarget(
            owner=target.owner,
            repository=target.repository,
            workflow=target.workflow,
            ref=target.ref,
        ).digest()
        return digest in self.allowed_targets


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


def redact_url(url: str) -> str:
    """``url`` safe to log: scheme, host, port and path only (no credentials, query, fragment)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    return SplitResult(parts.scheme, f"{host}{port}", parts.path, "", "").geturl()


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_url(env: Mapping[str, str]) -> str:
    raw = env.get("GITHUB_API_URL", "").strip() or DEFAULT_GITHUB_API_URL
    shown = redact_url(raw)
    try:
        parts = urlsplit(raw)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        host = None
    if host is None or parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"GITHUB_API_URL must be an https URL such as {DEFAULT_GITHUB_API_URL}, got {shown!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"GITHUB_API_URL must not carry credentials (the token comes from Secrets Manager), "
            f"got {shown!r} with credentials removed"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"GITHUB_API_URL must not carry a query or a fragment, got {shown!r}"
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"GITHUB_API_URL must use https (the token would travel in cleartext); plain http is "
            f"accepted only for a loopback address in tests, got {shown!r}"
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
    timeout = _int_setting(
        env,
        "GITHUB_TIMEOUT_SECONDS",
        DEFAULT_GITHUB_TIMEOUT_SECONDS,
        minimum=MIN_GITHUB_TIMEOUT_SECONDS,
    )
    if timeout > MAX_GITHUB_TIMEOUT_SECONDS:
        raise ConfigurationError(
            f"GITHUB_TIMEOUT_SECONDS must be <= {MAX_GITHUB_TIMEOUT_SECONDS}, got {timeout}"
        )
    try:
        allowed = decode_allowed_targets(env.get("ALLOWED_TARGETS", ""))
    except ValueError as e:
        raise ConfigurationError(f"ALLOWED_TARGETS is malformed: {e}") from e
    raw_auto = env.get("ALLOW_REGISTERED_APPROVED", "").strip().lower() or "false"
    if raw_auto not in ("true", "false"):
        raise ConfigurationError(
            f"ALLOW_REGISTERED_APPROVED must be 'true' or 'false', got {raw_auto!r}"
        )
    return Settings(
        allow_registered_approved=raw_auto == "true",
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
        allowed_targets=allowed,
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
    approval_time: str
    """When the package entered this approval: ``detail.LastModifiedTime`` (epoch ms), or
    ``detail.CreationTime`` for a package registered as Approved (it was never modified)."""
    target: GitHubTarget

    @property
    def idempotency_key(self) -> str:
        """One key per approval: the ARN and the approval time.

        Lambda's retries, EventBridge redeliveries and SageMaker's duplicate events of one
        approval carry the same ``LastModifiedTime``, so they share the key and dispatch once.
        Approving the package again (after a rejection) changes it, so it dispatches again.
        """
        return f"{self.model_package_arn}#approved@{self.approval_time}"


@dataclass(frozen=True, kw_only=True)
class IgnoredEvent:
    """A well-formed event that needs no dispatch, and why."""

    reason: str
    model_package_arn: str | None
    target: GitHubTarget
    code: str
    """Short, stable form of the reason for log queries (``not-approved``, ``other-group``...)."""


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
    if not valid_ref(block["ref"]):
        raise InvalidEventError(
            "github.ref must be a branch or tag name (letters, digits, '.', '_', '/', '-'; at "
            f"most 255 characters; git's ref rules), got {_shown(block['ref'])}"
        )
    return target


def valid_ref(ref: str) -> bool:
    """Whether ``ref`` (exactly as received) is a ref the function dispatches on."""
    if not _REF_RE.fullmatch(ref) or ref.startswith(("-", "/")) or ref.endswith(("/", ".")):
        return False
    return all(
        part and not part.startswith(".") and not part.endswith(".lock") and ".." not in part
        for part in ref.split("/")
    )


def parse_invocation(
    payload: object, *, allow_registered_approved: bool = False
) -> ApprovedModelPackage | IgnoredEvent:
    """Validate the invocation payload and decide whether it asks for a dispatch.

    Raises InvalidEventError when the payload is malformed; returns IgnoredEvent (with the
    reason) for state changes that are not approvals, that belong to another group or, unless
    ``allow_registered_approved``, for a package registered already Approved.

    A person approves a package by updating it (UpdateModelPackage from Studio or the Model
    Registry), which moves ``detail.LastModifiedTime`` past ``detail.CreationTime`` and sets
    ``LastModifiedBy``. A package whose event has no ``LastModifiedTime``, or the same time as
    its creation, was created with ``ModelApprovalStatus=Approved`` by whoever registered it
    (the pipeline's code): no person approved it (SageMaker's "Model Package State Change"
    event carries the DescribeModelPackage fields; tests/lambda_src/fixtures).
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
            code="other-event",
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidEventError("event.detail must be an object")
    arn = _model_package_arn(detail.get("ModelPackageArn"))
    group = detail.get("ModelPackageGroupName")
    if group != target.model_package_group_name:
        return IgnoredEvent(
            reason=(
                f"model package group is {group!r}, this rule dispatches for "
                f"{target.model_package_group_name!r}"
            ),
            model_package_arn=arn,
            target=target,
            code="other-group",
        )
    status = detail.get("ModelApprovalStatus")
    if status != APPROVED:
        return IgnoredEvent(
            reason=f"ModelApprovalStatus is {status!r}, not {APPROVED!r}",
            model_package_arn=arn,
            target=target,
            code="not-approved",
        )
    approval_time = _approval_time(detail)  # validated first: a malformed event is an error
    if not allow_registered_approved and _registered_approved(detail):
        return IgnoredEvent(
            reason=(
                "the package was registered already Approved (LastModifiedTime is not after "
                "CreationTime): only a person's approval dispatches; set "
                "platform.auto_approve_staging to allow it"
            ),
            model_package_arn=arn,
            target=target,
            code="registered-approved",
        )
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
        raise InvalidEventError(
            f"event.id must be a non-empty string of at most 128 characters, got {_shown(event_id)}"
        )
    return ApprovedModelPackage(
        event_id=event_id,
        model_package_arn=arn,
        approval_time=approval_time,
        target=target,
    )


def _shown(value: object) -> str:
    """``repr`` of an untrusted value, cut to MAX_LOGGED_VALUE_CHARS for error messages."""
    text = repr(value)
    if len(text) <= MAX_LOGGED_VALUE_CHARS:
        return text
    return f"{text[:MAX_LOGGED_VALUE_CHARS]}... ({len(text)} characters)"


def _model_package_arn(value: object) -> str:
    if not isinstance(value, str) or not _MODEL_PACKAGE_ARN_RE.fullmatch(value):
        raise InvalidEventError(
            "event.detail.ModelPackageArn is not a model package ARN "
            "(arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>): "
            f"{_shown(value)}"
        )
    return value


def _registered_approved(detail: Mapping[str, Any]) -> bool:
    """Whether the package was never modified after its creation (so it was created as
    Approved). Times are compared as the event gives them (epoch milliseconds or ISO text)."""
    modified = detail.get("LastModifiedTime")
    if modified is None:
        return True
    created = detail.get("CreationTime")
    if created is None:
        return False
    if isinstance(modified, int | float) and isinstance(created, int | float):
        return not modified > created
    return str(modified) == str(created)


def _approval_time(detail: Mapping[str, Any]) -> str:
    for name in ("LastModifiedTime", "CreationTime"):
        value = detail.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and value > 0:
            return str(value)
        if isinstance(value, float) and value > 0 and value.is_integer():
            return str(int(value))
        if isinstance(value, str) and re.fullmatch(r"[0-9A-Za-z:.+-]{1,40}", value):
            return value
        raise InvalidEventError(f"event.detail.{name} is not a timestamp: {_shown(value)}")
    raise InvalidEventError(
        "event.detail has neither LastModifiedTime nor CreationTime: the approval time is "
        "needed to tell a new approval from a redelivery"
    )
