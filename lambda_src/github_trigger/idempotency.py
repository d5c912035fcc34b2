"""Idempotency ledger in DynamoDB: at most one dispatch per model package ARN per TTL window.

One item per model package ARN (hash key ``model_package_arn``, TTL attribute ``expires_at``):

* ``IN_PROGRESS``: an invocation claimed the ARN (conditional put) and is dispatching. The claim
  carries a random ``claim_id`` and a lease; an expired lease may be taken over (the holder
  crashed or timed out).
* ``DISPATCHED``: GitHub accepted the dispatch. Any later event for the ARN (SageMaker duplicates,
  Lambda retries, metadata updates of an approved package) is skipped until ``expires_at``.
* ``FAILED``: GitHub (or the token secret) rejected the dispatch permanently. Retries of the *same*
  event (same EventBridge ``id``) short-circuit without calling GitHub; a new event for the ARN
  (e.g. the package approved again after the configuration was fixed) may claim it again.

A retryable failure deletes the claim, so Lambda's retry dispatches again. Items past
``expires_at`` count as absent, since DynamoDB deletes expired items only eventually.
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

_MAX_ERROR_CHARS = 1000


class LedgerStatus(enum.StrEnum):
    """States of a model package ARN in the ledger."""

    IN_PROGRESS = "IN_PROGRESS"
    DISPATCHED = "DISPATCHED"
    FAILED = "FAILED"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """This invocation owns the ARN until it records an outcome or releases the claim."""

    model_package_arn: str
    claim_id: str


@dataclass(frozen=True, kw_only=True)
class ExistingRecord:
    """Someone else holds the ARN: its status and what it recorded."""

    model_package_arn: str
    status: LedgerStatus
    event_id: str | None
    run_url: str | None
    error: str | None


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
        self, *, model_package_arn: str, event_id: str, repository: str
    ) -> Claim | ExistingRecord:
        """Claim the ARN for this event, or return the record that prevents it."""
        for _ in range(3):
            now = int(self._clock())
            claim_id = uuid.uuid4().hex
            try:
                self._call(
                    "put_item",
                    TableName=self._table,
                    Item={
                        "model_package_arn": {"S": model_package_arn},
                        "status": {"S": LedgerStatus.IN_PROGRESS.value},
                        "claim_id": {"S": claim_id},
                        "event_id": {"S": event_id},
                        "repository": {"S": repository},
                        "updated_at": {"N": str(now)},
                        "lease_expires_at": {"N": str(now + self._lease_seconds)},
                        "expires_at": {"N": str(now + self._ttl_seconds)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(model_package_arn)"
                        " OR expires_at < :now"
                        " OR (#status = :in_progress AND lease_expires_at < :now)"
                        " OR (#status = :failed AND event_id <> :event_id)"
                    ),
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(now)},
                        ":in_progress": {"S": LedgerStatus.IN_PROGRESS.value},
                        ":failed": {"S": LedgerStatus.FAILED.value},
                        ":event_id": {"S": event_id},
                    },
                )
            except _ConditionFailedError:
                existing = self._read(model_package_arn)
                if existing is not None:
                    return existing
                continue  # the blocking item vanished in between: try to claim again
            return Claim(model_package_arn=model_package_arn, claim_id=claim_id)
        raise AwsServiceError(
            f"could not claim {model_package_arn!r} in {self._table!r}: the item kept changing"
        )

    def mark_dispatched(self, claim: Claim, *, run_url: str | None) -> bool:
        """Record the dispatch; False when the claim was lost (lease expired and taken over)."""
        now = int(self._clock())
        names = {"#status": "status"}
        values: dict[str, dict[str, str]] = {
            ":dispatched": {"S": LedgerStatus.DISPATCHED.value},
            ":now": {"N": str(now)},
            ":expires": {"N": str(now + self._ttl_seconds)},
            ":claim_id": {"S": claim.claim_id},
        }
        update = "SET #status = :dispatched, updated_at = :now, expires_at = :expires"
        if run_url:
            update += ", run_url = :run_url"
            values[":run_url"] = {"S": run_url}
        return self._update_owned(claim, update, names, values, remove="lease_expires_at")

    def mark_failed(self, claim: Claim, *, error: str) -> bool:
        """Record a permanent failure; False when the claim was lost."""
        now = int(self._clock())
        return self._update_owned(
            claim,
            "SET #status = :failed, updated_at = :now, expires_at = :expires, #error = :error",
            {"#status": "status", "#error": "error"},
            {
                ":failed": {"S": LedgerStatus.FAILED.value},
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
                Key={"model_package_arn": {"S": claim.model_package_arn}},
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
                Key={"model_package_arn": {"S": claim.model_package_arn}},
                UpdateExpression=f"{set_expression} REMOVE {remove}",
                ConditionExpression="claim_id = :claim_id",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except _ConditionFailedError:
            return False
        return True

    def _read(self, model_package_arn: str) -> ExistingRecord | None:
        response = self._call(
            "get_item",
            TableName=self._table,
            Key={"model_package_arn": {"S": model_package_arn}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None

        def text(name: str) -> str | None:
            attribute = item.get(name)
            return attribute.get("S") if isinstance(attribute, dict) else None

        raw_status = text("status") or ""
        try:
            status = LedgerStatus(raw_status)
        except ValueError as e:
            raise AwsServiceError(
                f"unexpected status {raw_status!r} for {model_package_arn!r} in {self._table!r}"
            ) from e
        return ExistingRecord(
            model_package_arn=model_package_arn,
            status=status,
            event_id=text("event_id"),
            run_url=text("run_url"),
            error=text("error"),
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
