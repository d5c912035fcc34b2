"""Idempotency ledger in DynamoDB: at most one dispatch per approval.

One item per approval (hash key ``idempotency_key`` = ``<model package ARN>#approved@<approval
time>``, see ``ApprovedModelPackage.idempotency_key``; TTL attribute ``expires_at``). Besides the
key and the status it stores ``model_package_arn``, ``approval_time``, ``event_id``,
``repository``, ``claim_id``, ``updated_at`` and, by status, ``lease_expires_at``, ``run_url``
or ``error`` (GitHub's error text, cut to 1000 characters, never the token).

* ``IN_PROGRESS``: an invocation claimed the approval (conditional put) and is dispatching. The
  claim carries a random ``claim_id`` and a lease that outlives the function timeout (budget.py).
  While the lease runs, other invocations retry later; once it has expired, the holder is gone
  without recording an outcome: it may have dispatched, so the claim is **never taken over**
  and the event goes to the failure destination instead (``UnfinishedClaimError``).
* ``DISPATCHED``: GitHub accepted the dispatch. Any later event for the approval (SageMaker
  duplicates, Lambda retries, redeliveries) is answered ``duplicate`` until ``expires_at``.
* ``FAILED``: GitHub (or the token secret) rejected the dispatch permanently. Later events for
  the approval short-circuit without calling GitHub.
* ``UNKNOWN``: GitHub may or may not have accepted the dispatch (no usable answer). Later events
  for the approval go to the failure destination; a new approval dispatches again.

A retryable failure before GitHub's acceptance deletes the claim, so Lambda's retry dispatches.
Items past ``expires_at`` count as absent, since DynamoDB deletes expired items only eventually.
That is the only way a claim is lost: ``ttl_seconds`` after it was written, its item counts as
absent and a later event for the same approval may claim it anew; the original holder's
``mark_*`` and ``release`` then find another ``claim_id`` and return False.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from github_trigger.errors import AwsServiceError, ConfigurationError
from github_trigger.ledger_schema import HASH_KEY, TTL_ATTRIBUTE

_MAX_ERROR_CHARS = 1000


class LedgerStatus(enum.StrEnum):
    """States of an approval in the ledger."""

    IN_PROGRESS = "IN_PROGRESS"
    DISPATCHED = "DISPATCHED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """This invocation owns the approval until it records an outcome or releases the claim."""

    idempotency_key: str
    claim_id: str


@dataclass(frozen=True, kw_only=True)
class ExistingRecord:
    """Someone else holds the approval: its status and what it recorded."""

    idempotency_key: str
    status: LedgerStatus
    event_id: str | None
    run_url: str | None
    error: str | None
    lease_expired: bool
    """For ``IN_PROGRESS``: whether the lease has run out (the holder is certainly gone)."""


class IdempotencyLedger:
    """Conditional writes on the idempotency table (see the module docstring for the states)."""

    def __init__(
        self,
        *,
        client_factory: Callable[[], Any],
        table_name: str,
        ttl_seconds: int,
        lease_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_factory = client_factory
        self._table = table_name
        self._ttl_seconds = ttl_seconds
        self._lease_seconds = lease_seconds
        self._clock = clock

    def claim(
        self,
        *,
        idempotency_key: str,
        model_package_arn: str,
        approval_time: str,
        event_id: str,
        repository: str,
    ) -> Claim | ExistingRecord:
        """Claim the approval for this invocation, or return the record that prevents it.

        At most two calls (``PutItem``, then ``GetItem`` when the put's condition fails).
        """
        now = int(self._clock())
        claim_id = uuid.uuid4().hex
        try:
            self._call(
                "put_item",
                TableName=self._table,
                Item={
                    HASH_KEY: {"S": idempotency_key},
                    "model_package_arn": {"S": model_package_arn},
                    "approval_time": {"S": approval_time},
                    "status": {"S": LedgerStatus.IN_PROGRESS.value},
                    "claim_id": {"S": claim_id},
                    "event_id": {"S": event_id},
                    "repository": {"S": repository},
                    "updated_at": {"N": str(now)},
                    "lease_expires_at": {"N": str(now + self._lease_seconds)},
                    TTL_ATTRIBUTE: {"N": str(now + self._ttl_seconds)},
                },
                ConditionExpression=f"attribute_not_exists({HASH_KEY}) OR {TTL_ATTRIBUTE} < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except _ConditionFailedError:
            existing = self._read(idempotency_key, now)
            if existing is None:
                raise AwsServiceError(
                    f"could not claim {idempotency_key!r} in {self._table!r}: the item that "
                    "blocked the claim vanished; Lambda will retry"
                ) from None
            return existing
        return Claim(idempotency_key=idempotency_key, claim_id=claim_id)

    def mark_dispatched(self, claim: Claim, *, run_url: str | None) -> bool:
        """Record the dispatch; False when the claim was lost (its item expired, ``ttl_seconds``
        after the claim, and another invocation claimed the approval anew)."""
        now = int(self._clock())
        names = {"#status": "status"}
        values: dict[str, dict[str, str]] = {
            ":dispatched": {"S": LedgerStatus.DISPATCHED.value},
            ":now": {"N": str(now)},
            ":expires": {"N": str(now + self._ttl_seconds)},
            ":claim_id": {"S": claim.claim_id},
        }
        update = f"SET #status = :dispatched, updated_at = :now, {TTL_ATTRIBUTE} = :expires"
        if run_url:
            update += ", run_url = :run_url"
            values[":run_url"] = {"S": run_url}
        return self._update_owned(claim, update, names, values, remove="lease_expires_at")

    def mark_failed(self, claim: Claim, *, error: str) -> bool:
        """Record a permanent failure; False when the claim was lost."""
        return self._mark_error(claim, LedgerStatus.FAILED, error)

    def mark_unknown(self, claim: Claim, *, error: str) -> bool:
        """Record that GitHub may have accepted the dispatch; False when the claim was lost."""
        return self._mark_error(claim, LedgerStatus.UNKNOWN, error)

    def _mark_error(self, claim: Claim, status: LedgerStatus, error: str) -> bool:
        now = int(self._clock())
        return self._update_owned(
            claim,
            f"SET #status = :status, updated_at = :now, {TTL_ATTRIBUTE} = :expires, "
            "#error = :error",
            {"#status": "status", "#error": "error"},
            {
                ":status": {"S": status.value},
                ":now": {"N": str(now)},
                ":expires": {"N": str(now + self._ttl_seconds)},
                ":error": {"S": error[:_MAX_ERROR_CHARS]},
                ":claim_id": {"S": claim.claim_id},
            },
            remove="lease_expires_at",
        )

    def release(self, claim: Claim) -> bool:
        """Delete the claim so a retry can dispatch; False when the claim was already lost."""
        try:
            self._call(
                "delete_item",
                TableName=self._table,
                Key={HASH_KEY: {"S": claim.idempotency_key}},
                ConditionExpression="claim_id = :claim_id",
                ExpressionAttributeValues={":claim_id": {"S": claim.claim_id}},
            )
        except _ConditionFailedError:
            return False
        return True

    def _update_owned(
        self,
        claim: Claim,
        set_expression: str,
        names: dict[str, str],
        values: dict[str, dict[str, str]],
        *,
        remove: str,
    ) -> bool:
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key={HASH_KEY: {"S": claim.idempotency_key}},
                UpdateExpression=f"{set_expression} REMOVE {remove}",
                ConditionExpression="claim_id = :claim_id",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except _ConditionFailedError:
            return False
        return True

    def _read(self, idempotency_key: str, now: int) -> ExistingRecord | None:
        response = self._call(
            "get_item",
            TableName=self._table,
            Key={HASH_KEY: {"S": idempotency_key}},
            ConsistentRead=True,
        )
        item = response.get("Item") if isinstance(response, dict) else None
        if not item:
            return None
        if not isinstance(item, dict):
            raise AwsServiceError(f"DynamoDB get_item on {self._table!r}: malformed answer")

        def text(name: str) -> str | None:
            attribute = item.get(name)
            return attribute.get("S") if isinstance(attribute, dict) else None

        def number(name: str) -> int | None:
            attribute = item.get(name)
            raw = attribute.get("N") if isinstance(attribute, dict) else None
            return int(raw) if isinstance(raw, str) and raw.isdigit() else None

        raw_status = text("status") or ""
        try:
            status = LedgerStatus(raw_status)
        except ValueError as e:
            raise AwsServiceError(
                f"unexpected status {raw_status[:40]!r} for {idempotency_key!r} in {self._table!r}"
            ) from e
        expires_at = number(TTL_ATTRIBUTE)
        if expires_at is not None and expires_at < now:
            return None  # expired, DynamoDB has not deleted it yet; the put's condition raced
        lease = number("lease_expires_at")
        return ExistingRecord(
            idempotency_key=idempotency_key,
            status=status,
            event_id=text("event_id"),
            run_url=text("run_url"),
            error=text("error"),
            lease_expired=lease is None or lease < now,
        )

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client_factory(), operation)(**kwargs)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", "Unknown"))
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailedError from e
            if code == "ResourceNotFoundException":
                raise ConfigurationError(
                    f"idempotency table {self._table!r} does not exist (IDEMPOTENCY_TABLE_NAME)"
                ) from e
            raise AwsServiceError(f"DynamoDB {operation} on {self._table!r} failed: {code}") from e
        except BotoCoreError as e:
            raise AwsServiceError(
                f"DynamoDB {operation} on {self._table!r} failed: {type(e).__name__}"
            ) from e


class _ConditionFailedError(Exception):
    """A conditional write's condition did not hold (internal signal)."""
