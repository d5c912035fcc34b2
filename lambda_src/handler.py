"""Lambda entry point (``handler.handler``): dispatch the deploy workflow when a model is approved.

The per-project EventBridge rule sends ``{"event": <SageMaker Model Package State Change>,
"github": {owner, repository, workflow, ref, token_secret_name, model_package_group_name}}``.
An approval of a package in the configured group dispatches ``workflow`` on ``ref`` in
``owner/repository`` with input ``model_package_arn``, once per approval (DynamoDB ledger keyed
by the ARN and the approval time, see idempotency.py), and only when the plan configured that
(owner, repository, workflow, ref) in ``ALLOWED_TARGETS`` (allowlist.py).
Everything else is ignored with a log line that says why.

Outcomes (returned as ``{"outcome": ...}`` or raised; every one is logged with ``outcome`` and,
except ``dispatched``, a ``reason``):

* ``dispatched``: GitHub answered 2xx (the run URL is logged when GitHub returns it). From that
  moment nothing raises: recording the outcome is best-effort and the invocation succeeds, so
  no retry can dispatch again.
* ``ignored``: not an approval, another group's package, or a target the plan did not configure
  (reason ``not-configured``).
* ``duplicate``: this approval was already dispatched; GitHub is not called.
* raised ``RetryableError`` (outcome ``retry``): GitHub 5xx/429/rate-limit 403, a failure to
  connect, AWS errors, or another invocation still holding the claim. The claim is released
  (GitHub has not accepted anything); Lambda retries.
* raised ``NonRetryableError`` (outcome ``failed``): GitHub 3xx/401/403/404/422, a missing or
  malformed token secret, an invalid event, or a dispatch whose outcome is unknown (GitHub may
  have accepted it). Recorded in the ledger, so Lambda's retries of this event short-circuit and
  it ends in the on-failure destination without GitHub being called again.

Every timeout comes from one time budget (github_trigger/budget.py), which the Terraform
construct uses for the function timeout too.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import requests
from botocore.config import Config
from github_trigger.budget import RESERVE_SECONDS, TimeBudget, derive_budget
from github_trigger.config import (
    WORKFLOW_INPUT_NAME,
    ApprovedModelPackage,
    IgnoredEvent,
    Settings,
    load_settings,
    parse_invocation,
)
from github_trigger.dispatch import (
    DispatchResult,
    HttpSession,
    RequestCounter,
    WorkflowDispatcher,
)
from github_trigger.errors import (
    ConfigurationError,
    DispatchInProgressError,
    GitHubOutcomeUnknownError,
    GitHubRequestRejectedError,
    InvalidEventError,
    NonRetryableError,
    PreviouslyFailedError,
    TokenSecretError,
    UnfinishedClaimError,
)
from github_trigger.idempotency import Claim, ExistingRecord, IdempotencyLedger, LedgerStatus
from github_trigger.logs import configure_logging, get_logger, log_context
from github_trigger.token_store import TokenStore

logger = get_logger()


def aws_client_config(budget: TimeBudget) -> Config:
    """The boto3 client configuration the time budget assumes."""
    return Config(
        connect_timeout=budget.aws_connect_timeout_seconds,
        read_timeout=budget.aws_read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": budget.aws_max_attempts},
    )


@cache
def _aws_client(service: str, github_timeout_seconds: int) -> Any:
    """One boto3 client per service, created on first use (after tests set AWS_ENDPOINT_URL)."""
    return boto3.client(service, config=aws_client_config(derive_budget(github_timeout_seconds)))


@dataclass(frozen=True, kw_only=True)
class Runtime:
    """Settings and collaborators of the function, built once per execution environment."""

    settings: Settings
    tokens: TokenStore
    ledger: IdempotencyLedger
    dispatcher: WorkflowDispatcher


def build_runtime(
    settings: Settings,
    *,
    secrets_client: Callable[[], Any],
    dynamodb_client: Callable[[], Any],
    session_factory: Callable[[], HttpSession] = requests.Session,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> Runtime:
    """The function's collaborators for ``settings`` (tests pass fakes for the outside calls)."""
    configure_logging(settings.log_level)
    budget = settings.budget
    return Runtime(
        settings=settings,
        tokens=TokenStore(
            client_factory=secrets_client,
            cache_seconds=settings.token_cache_seconds,
            clock=monotonic,
        ),
        ledger=IdempotencyLedger(
            client_factory=dynamodb_client,
            table_name=settings.idempotency_table_name,
            ttl_seconds=settings.idempotency_ttl_seconds,
            lease_seconds=budget.claim_lease_seconds,
            clock=clock,
        ),
        dispatcher=WorkflowDispatcher(
            api_url=settings.github_api_url,
            connect_timeout_seconds=budget.github_connect_timeout_seconds,
            read_timeout_seconds=budget.github_read_timeout_seconds,
            session_factory=session_factory,
        ),
    )


_runtime_instance: Runtime | None = None


def _runtime() -> Runtime:
    """Settings and collaborators, built once per execution environment."""
    global _runtime_instance  # noqa: PLW0603 - the cold-start cache is the point
    if _runtime_instance is None:
        try:
            settings = load_settings(os.environ)
        except ConfigurationError as e:
            configure_logging("INFO").error(
                "invalid function configuration",
                extra=log_context(outcome="failed", reason="configuration", error=str(e)),
            )
            raise
        timeout = settings.github_timeout_seconds
        _runtime_instance = build_runtime(
            settings,
            secrets_client=lambda: _aws_client("secretsmanager", timeout),
            dynamodb_client=lambda: _aws_client("dynamodb", timeout),
        )
    return _runtime_instance


def reset_runtime() -> None:
    """Forget settings, clients and the token cache (the next call behaves like a cold start)."""
    global _runtime_instance  # noqa: PLW0603 - see _runtime
    if _runtime_instance is not None:
        _runtime_instance.dispatcher.close()
    _runtime_instance = None
    _aws_client.cache_clear()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler; see the module docstring for outcomes and errors."""
    return handle(_runtime(), event, context)


def handle(runtime: Runtime, event: object, context: Any) -> dict[str, Any]:
    """Handle one invocation with ``runtime``'s collaborators."""
    request_id = getattr(context, "aws_request_id", None)
    try:
        decision = parse_invocation(
            event, allow_registered_approved=runtime.settings.allow_registered_approved
        )
    except InvalidEventError as e:
        logger.error(
            "invalid invocation payload, nothing dispatched",
            extra=log_context(
                outcome="failed", reason="invalid-event", error=str(e), aws_request_id=request_id
            ),
        )
        raise
    if isinstance(decision, IgnoredEvent):
        return _ignored(decision.reason, decision.code, decision, request_id)
    if not runtime.settings.allows(decision.target):
        reason = (
            f"{decision.target.workflow} on {decision.target.ref} in "
            f"{decision.target.full_name} is not a target this plan configured"
        )
        return _ignored(reason, "not-configured", decision, request_id)
    return _handle_approval(runtime, decision, context)


def _ignored(
    message: str,
    reason: str,
    decision: IgnoredEvent | ApprovedModelPackage,
    request_id: str | None,
) -> dict[str, Any]:
    target = decision.target
    logger.info(
        f"ignored: {message}",
        extra=log_context(
            outcome="ignored",
            reason=reason,
            detail=message,
            model_package_arn=decision.model_package_arn,
            repository=target.full_name,
            workflow=target.workflow,
            ref=target.ref,
            aws_request_id=request_id,
        ),
    )
    return {
        "outcome": "ignored",
        "reason": message,
        "reason_code": reason,
        "model_package_arn": decision.model_package_arn,
        "repository": target.full_name,
    }


def _request_counter(budget: TimeBudget, lambda_context: Any) -> RequestCounter:
    """GitHub requests this invocation may still make: by count, and by Lambda's clock."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    return RequestCounter(
        budget.max_github_requests,
        seconds_left=(lambda: remaining() / 1000) if callable(remaining) else None,
        seconds_needed=budget.github_request_seconds
        + budget.aws_calls_after_acceptance * budget.aws_call_seconds
        + RESERVE_SECONDS,
    )


def _handle_approval(
    runtime: Runtime, approval: ApprovedModelPackage, lambda_context: Any
) -> dict[str, Any]:
    request_id = getattr(lambda_context, "aws_request_id", None)
    target = approval.target
    context = {
        "model_package_arn": approval.model_package_arn,
        "approval_time": approval.approval_time,
        "repository": target.full_name,
        "workflow": target.workflow,
        "ref": target.ref,
        "event_id": approval.event_id,
        "aws_request_id": request_id,
    }
    try:
        claim = runtime.ledger.claim(
            idempotency_key=approval.idempotency_key,
            model_package_arn=approval.model_package_arn,
            approval_time=approval.approval_time,
            event_id=approval.event_id,
            repository=target.full_name,
        )
    except Exception as e:
        # Nothing claimed, nothing dispatched: Lambda's retry starts over.
        logger.error(
            "could not claim the approval, Lambda will retry",
            extra=log_context(
                **context,
                outcome="retry",
                reason="claim-failed",
                error=str(e),
                error_type=type(e).__name__,
            ),
        )
        raise
    if isinstance(claim, ExistingRecord):
        return _handle_existing(claim, context)
    counter = _request_counter(runtime.settings.budget, lambda_context)
    try:
        result = _dispatch(runtime, approval, counter)
    except GitHubOutcomeUnknownError as e:
        _record_failure(runtime.ledger.mark_unknown, claim, e, "outcome-unknown", context)
        raise
    except NonRetryableError as e:
        _record_failure(runtime.ledger.mark_failed, claim, e, _failure_reason(e), context)
        raise
    except Exception as e:
        # Only errors that prove GitHub accepted nothing get here (see dispatch.py).
        released = _release(runtime, claim, context)
        logger.error(
            "dispatch failed before GitHub accepted it, Lambda will retry",
            extra=log_context(
                **context,
                outcome="retry",
                reason="not-accepted",
                error=str(e),
                error_type=type(e).__name__,
                claim_released=released,
                github_requests=counter.used,
            ),
        )
        raise
    return _accepted(runtime, approval, claim, result, context, counter)


def _accepted(  # noqa: PLR0917 - one call site, all needed
    runtime: Runtime,
    approval: ApprovedModelPackage,
    claim: Claim,
    result: DispatchResult,
    context: dict[str, Any],
    counter: RequestCounter,
) -> dict[str, Any]:
    """GitHub accepted the dispatch: record it if possible; never raise from here."""
    target = approval.target
    run_url = result.html_url or result.run_url
    try:
        recorded = runtime.ledger.mark_dispatched(claim, run_url=run_url)
    except Exception as e:
        # Raising would make Lambda retry, and the retry could dispatch again. The claim stays
        # IN_PROGRESS; later events for this approval end in the failure destination.
        recorded = False
        # Logging must not turn a dispatch into a retry either.
        with contextlib.suppress(Exception):
            logger.error(
                "dispatched, but could not record it in the idempotency table",
                extra=log_context(**context, error=str(e), error_type=type(e).__name__),
            )
    with contextlib.suppress(Exception):
        logger.info(
            f"dispatched {target.workflow} in {target.full_name} on {target.ref}",
            extra=log_context(
                **context,
                outcome="dispatched",
                run_url=run_url,
                run_api_url=result.run_url,
                workflow_run_id=result.workflow_run_id,
                recorded=recorded,
                github_requests=counter.used,
            ),
        )
    return {
        "outcome": "dispatched",
        "model_package_arn": approval.model_package_arn,
        "repository": target.full_name,
        "workflow": target.workflow,
        "ref": target.ref,
        "run_url": run_url,
        "workflow_run_id": result.workflow_run_id,
        "recorded": recorded,
    }


def _failure_reason(error: NonRetryableError) -> str:
    if isinstance(error, GitHubRequestRejectedError):
        return "github-redirect" if 300 <= error.status < 400 else "github-rejected"
    if isinstance(error, TokenSecretError):
        return "token-secret"
    return "failed"


def _handle_existing(record: ExistingRecord, context: dict[str, Any]) -> dict[str, Any]:
    if record.status is LedgerStatus.DISPATCHED:
        logger.info(
            "duplicate: this approval was already dispatched, nothing to do",
            extra=log_context(
                **context, outcome="duplicate", reason="already-dispatched", run_url=record.run_url
            ),
        )
        return {
            "outcome": "duplicate",
            "model_package_arn": context["model_package_arn"],
            "repository": context["repository"],
            "run_url": record.run_url,
        }
    error: Exception
    if record.status is LedgerStatus.FAILED:
        error = PreviouslyFailedError(
            f"dispatch of this approval already failed permanently (event {record.event_id}); "
            f"not calling GitHub again: {record.error}"
        )
        reason = "previously-failed"
    elif record.status is LedgerStatus.UNKNOWN:
        error = GitHubOutcomeUnknownError(
            f"an earlier dispatch of this approval (event {record.event_id}) got no usable "
            f"answer from GitHub and may have run; not dispatching again: {record.error}"
        )
        reason = "outcome-unknown"
    elif record.lease_expired:
        error = UnfinishedClaimError(
            f"the invocation that claimed this approval (event {record.event_id}) ended without "
            "recording an outcome; it may have dispatched, so this one does not: check the "
            "repository's Actions runs, re-approve the package to redeploy"
        )
        reason = "unfinished-claim"
    else:
        in_progress = DispatchInProgressError(
            f"another invocation is dispatching this approval (event {record.event_id}); "
            "Lambda will retry this one"
        )
        logger.warning(
            "another invocation holds the claim, retrying later",
            extra=log_context(
                **context, outcome="retry", reason="in-progress", error=str(in_progress)
            ),
        )
        raise in_progress
    logger.error(
        "not dispatching this approval again",
        extra=log_context(**context, outcome="failed", reason=reason, error=str(error)),
    )
    raise error


def _dispatch(
    runtime: Runtime, approval: ApprovedModelPackage, counter: RequestCounter
) -> DispatchResult:
    target = approval.target
    inputs = {WORKFLOW_INPUT_NAME: approval.model_package_arn}
    token = runtime.tokens.get(target.token_secret_name)
    try:
        return runtime.dispatcher.dispatch(
            token=token.value, target=target, inputs=inputs, counter=counter
        )
    except GitHubRequestRejectedError as e:
        if e.status != 401 or not token.from_cache:
            raise
        # A cached token may have been rotated since: read the secret again, retry once.
        # GitHub answered 401, so it accepted nothing yet.
        runtime.tokens.invalidate(target.token_secret_name)
        fresh = runtime.tokens.get(target.token_secret_name)
        if fresh.value == token.value:
            raise
        return runtime.dispatcher.dispatch(
            token=fresh.value, target=target, inputs=inputs, counter=counter
        )


def _record_failure(
    mark: Callable[..., bool],
    claim: Claim,
    error: NonRetryableError,
    reason: str,
    context: dict[str, Any],
) -> None:
    try:
        recorded = mark(claim, error=str(error))
    except Exception as e:
        recorded = False
        logger.error(
            "could not record the failure; the claim expires with its lease",
            extra=log_context(**context, error=str(e), error_type=type(e).__name__),
        )
    logger.error(
        "dispatch failed permanently; retries of this event will not call GitHub",
        extra=log_context(
            **context,
            outcome="failed",
            reason=reason,
            error=str(error),
            error_type=type(error).__name__,
            recorded=recorded,
        ),
    )


def _release(runtime: Runtime, claim: Claim, context: dict[str, Any]) -> bool:
    try:
        return runtime.ledger.release(claim)
    except Exception as e:
        logger.error(
            "could not release the claim; retries will find it and end in the failure "
            "destination once its lease has expired",
            extra=log_context(**context, error=str(e), error_type=type(e).__name__),
        )
        return False
