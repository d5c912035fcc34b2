"""Lambda entry point (``handler.handler``): dispatch the deploy workflow when a model is approved.

The per-project EventBridge rule sends ``{"event": <SageMaker Model Package State Change>,
"github": {owner, repository, workflow, ref, token_secret_name, model_package_group_name}}``.
An approval of a package in the configured group dispatches ``workflow`` on ``ref`` in
``owner/repository`` with input ``model_package_arn``, at most once per ARN (DynamoDB ledger).
Everything else is ignored with a log line that says why.

Outcomes (returned as ``{"outcome": ...}`` or raised):

* ``dispatched``: GitHub accepted the dispatch (the run URL is logged when GitHub returns it).
* ``ignored``: not an approval, or another group's package.
* ``duplicate``: this ARN was already dispatched within the TTL window; GitHub is not called.
* raised ``RetryableError``: GitHub 5xx/429/rate-limit 403, network failure, AWS throttling,
  or another invocation still dispatching the ARN. The claim is released; Lambda retries.
* raised ``NonRetryableError``: GitHub 401/403/404/422, missing or malformed token secret. Recorded
  as FAILED, so Lambda's retries of this event short-circuit and it ends in the on-failure
  destination without GitHub being called again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from github_trigger.config import (
    WORKFLOW_INPUT_NAME,
    ApprovedModelPackage,
    IgnoredEvent,
    Settings,
    load_settings,
    parse_invocation,
)
from github_trigger.dispatch import DispatchResult, WorkflowDispatcher
from github_trigger.errors import (
    AwsServiceError,
    ConfigurationError,
    DispatchInProgressError,
    GitHubRequestRejectedError,
    InvalidEventError,
    NonRetryableError,
    PreviouslyFailedError,
)
from github_trigger.idempotency import Claim, ExistingRecord, IdempotencyLedger, LedgerStatus
from github_trigger.logs import configure_logging, get_logger, log_context
from github_trigger.token_store import TokenStore

logger = get_logger()


@cache
def _aws_client(service: str) -> Any:
    """One boto3 client per service, created on first use (after tests set AWS_ENDPOINT_URL)."""
    return boto3.client(service)


@dataclass(frozen=True, kw_only=True)
class _Runtime:
    settings: Settings
    tokens: TokenStore
    ledger: IdempotencyLedger
    dispatcher: WorkflowDispatcher


_runtime_instance: _Runtime | None = None


def _runtime() -> _Runtime:
    """Settings and collaborators, built once per execution environment."""
    global _runtime_instance  # noqa: PLW0603 - the cold-start cache is the point
    if _runtime_instance is None:
        try:
            settings = load_settings(os.environ)
        except ConfigurationError as e:
            configure_logging("INFO").error(
                "invalid function configuration", extra=log_context(error=str(e))
            )
            raise
        configure_logging(settings.log_level)
        _runtime_instance = _Runtime(
            settings=settings,
            tokens=TokenStore(
                client_factory=lambda: _aws_client("secretsmanager"),
                cache_seconds=settings.token_cache_seconds,
            ),
            ledger=IdempotencyLedger(
                client_factory=lambda: _aws_client("dynamodb"),
                table_name=settings.idempotency_table_name,
                ttl_seconds=settings.idempotency_ttl_seconds,
                lease_seconds=settings.claim_lease_seconds,
            ),
            dispatcher=WorkflowDispatcher(
                api_url=settings.github_api_url,
                timeout_seconds=settings.github_timeout_seconds,
            ),
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
    runtime = _runtime()
    request_id = getattr(context, "aws_request_id", None)
    try:
        decision = parse_invocation(event)
    except InvalidEventError as e:
        logger.error(
            "invalid invocation payload, nothing dispatched",
            extra=log_context(error=str(e), aws_request_id=request_id),
        )
        raise
    if isinstance(decision, IgnoredEvent):
        logger.info(
            f"ignored: {decision.reason}",
            extra=log_context(
                outcome="ignored",
                reason=decision.reason,
                model_package_arn=decision.model_package_arn,
                repository=decision.target.full_name,
                aws_request_id=request_id,
            ),
        )
        return {
            "outcome": "ignored",
            "reason": decision.reason,
            "model_package_arn": decision.model_package_arn,
            "repository": decision.target.full_name,
        }
    return _handle_approval(runtime, decision, request_id)


def _handle_approval(
    runtime: _Runtime, approval: ApprovedModelPackage, request_id: str | None
) -> dict[str, Any]:
    target = approval.target
    context = {
        "model_package_arn": approval.model_package_arn,
        "repository": target.full_name,
        "workflow": target.workflow,
        "ref": target.ref,
        "event_id": approval.event_id,
        "aws_request_id": request_id,
    }
    claim = runtime.ledger.claim(
        model_package_arn=approval.model_package_arn,
        event_id=approval.event_id,
        repository=target.full_name,
    )
    if isinstance(claim, ExistingRecord):
        return _handle_existing(claim, context)
    try:
        result = _dispatch(runtime, approval)
    except NonRetryableError as e:
        _record_failure(runtime, claim, e, context)
        raise
    except Exception as e:
        released = _release(runtime, claim, context)
        logger.error(
            "dispatch failed, Lambda will retry",
            extra=log_context(
                **context,
                outcome="retry",
                error=str(e),
                error_type=type(e).__name__,
                claim_released=released,
            ),
        )
        raise
    run_url = result.html_url or result.run_url
    try:
        recorded = runtime.ledger.mark_dispatched(claim, run_url=run_url)
    except AwsServiceError as e:
        # The workflow is already running: raising would make Lambda dispatch it again.
        recorded = False
        logger.error(
            "dispatched, but could not record it in the idempotency table",
            extra=log_context(**context, error=str(e)),
        )
    logger.info(
        f"dispatched {target.workflow} in {target.full_name} on {target.ref}",
        extra=log_context(
            **context,
            outcome="dispatched",
            run_url=run_url,
            run_api_url=result.run_url,
            workflow_run_id=result.workflow_run_id,
            recorded=recorded,
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
    }


def _handle_existing(record: ExistingRecord, context: dict[str, Any]) -> dict[str, Any]:
    if record.status is LedgerStatus.DISPATCHED:
        logger.info(
            "duplicate: this model package was already dispatched, nothing to do",
            extra=log_context(**context, outcome="duplicate", run_url=record.run_url),
        )
        return {
            "outcome": "duplicate",
            "model_package_arn": record.model_package_arn,
            "repository": context["repository"],
            "run_url": record.run_url,
        }
    if record.status is LedgerStatus.FAILED:
        error = PreviouslyFailedError(
            f"dispatch of {record.model_package_arn} already failed permanently for event "
            f"{record.event_id}; not calling GitHub again: {record.error}"
        )
        logger.error(
            "retry of a permanently failed event, not calling GitHub again",
            extra=log_context(**context, outcome="failed", error=str(error)),
        )
        raise error
    in_progress = DispatchInProgressError(
        f"another invocation is dispatching {record.model_package_arn} (event "
        f"{record.event_id}); Lambda will retry this one"
    )
    logger.warning(
        "another invocation holds the claim, retrying later",
        extra=log_context(**context, outcome="retry", error=str(in_progress)),
    )
    raise in_progress


def _dispatch(runtime: _Runtime, approval: ApprovedModelPackage) -> DispatchResult:
    target = approval.target
    inputs = {WORKFLOW_INPUT_NAME: approval.model_package_arn}
    token = runtime.tokens.get(target.token_secret_name)
    try:
        return runtime.dispatcher.dispatch(token=token.value, target=target, inputs=inputs)
    except GitHubRequestRejectedError as e:
        if e.status != 401 or not token.from_cache:
            raise
        # A cached token may have been rotated since: read the secret again, retry once.
        runtime.tokens.invalidate(target.token_secret_name)
        fresh = runtime.tokens.get(target.token_secret_name)
        if fresh.value == token.value:
            raise
        return runtime.dispatcher.dispatch(token=fresh.value, target=target, inputs=inputs)


def _record_failure(
    runtime: _Runtime, claim: Claim, error: NonRetryableError, context: dict[str, Any]
) -> None:
    try:
        recorded = runtime.ledger.mark_failed(claim, error=str(error))
    except AwsServiceError as e:
        recorded = False
        logger.error(
            "could not record the permanent failure", extra=log_context(**context, error=str(e))
        )
    logger.error(
        "dispatch failed permanently; retries of this event will not call GitHub",
        extra=log_context(
            **context,
            outcome="failed",
            error=str(error),
            error_type=type(error).__name__,
            recorded=recorded,
        ),
    )


def _release(runtime: _Runtime, claim: Claim, context: dict[str, Any]) -> bool:
    try:
        return runtime.ledger.release(claim)
    except AwsServiceError as e:
        logger.error(
            "could not release the claim; it expires with its lease",
            extra=log_context(**context, error=str(e)),
        )
        return False
