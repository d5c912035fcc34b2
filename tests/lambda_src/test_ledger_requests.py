"""The idempotency ledger's DynamoDB requests and answers, exactly: every request it sends, how
it reads an existing record, and the message of each error."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from github_trigger.errors import AwsServiceError, ConfigurationError
from github_trigger.idempotency import (
    Claim,
    ExistingRecord,
    IdempotencyLedger,
    LedgerStatus,
)

KEY = "arn:aws:sagemaker:us-east-1:111122223333:model-package/m/3#approved@1772460311000"
NOW = 1_700_000_000
CLAIM = Claim(idempotency_key=KEY, claim_id="c0ffee")


class _Client:
    """Records every request; answers from ``answers`` (an exception is raised)."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.requests.append((operation, kwargs))
            answer = self.answers.get(operation, {})
            if isinstance(answer, list):
                answer = answer.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call


def _ledger(client: _Client) -> IdempotencyLedger:
    return IdempotencyLedger(
        client_factory=lambda: client,
        table_name="ledger",
        ttl_seconds=86400,
        lease_seconds=95,
        clock=lambda: NOW + 0.9,
    )


def _error(code: str, operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, operation)


def _claim(ledger: IdempotencyLedger) -> Claim | ExistingRecord:
    return ledger.claim(
        idempotency_key=KEY,
        model_package_arn="arn:m/3",
        approval_time="1772460311000",
        event_id="e-1",
        repository="acme/churn-model",
    )


class _FixedUuid:
    hex = "c0ffee"


def test_a_claim_is_a_conditional_put(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _Client()
    monkeypatch.setattr("uuid.uuid4", _FixedUuid)

    assert _claim(_ledger(client)) == CLAIM
    assert client.requests == [
        (
            "put_item",
            {
                "TableName": "ledger",
                "Item": {
                    "idempotency_key": {"S": KEY},
                    "model_package_arn": {"S": "arn:m/3"},
                    "approval_time": {"S": "1772460311000"},
                    "status": {"S": "IN_PROGRESS"},
                    "claim_id": {"S": "c0ffee"},
                    "event_id": {"S": "e-1"},
                    "repository": {"S": "acme/churn-model"},
                    "updated_at": {"N": "1700000000"},
                    "lease_expires_at": {"N": "1700000095"},
                    "expires_at": {"N": "1700086400"},
                },
                "ConditionExpression": "attribute_not_exists(idempotency_key) OR expires_at < :now",
                "ExpressionAttributeValues": {":now": {"N": "1700000000"}},
            },
        )
    ]


def _item(**overrides: Any) -> dict[str, Any]:
    item = {
        "status": {"S": "FAILED"},
        "event_id": {"S": "e-0"},
        "run_url": {"S": "https://r"},
        "error": {"S": "boom"},
        "expires_at": {"N": str(NOW)},
        "lease_expires_at": {"N": str(NOW)},
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def _existing(item: Any) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    client = _Client(put_item=_error("ConditionalCheckFailedException"), get_item=item)
    return _claim(_ledger(client)), client.requests


def test_a_blocked_claim_reads_the_record_consistently() -> None:
    record, requests = _existing({"Item": _item()})

    assert record == ExistingRecord(
        idempotency_key=KEY,
        status=LedgerStatus.FAILED,
        event_id="e-0",
        run_url="https://r",
        error="boom",
        lease_expired=False,  # the lease ends at NOW: not expired yet
    )
    assert requests[1] == (
        "get_item",
        {"TableName": "ledger", "Key": {"idempotency_key": {"S": KEY}}, "ConsistentRead": True},
    )


@pytest.mark.parametrize(
    ("lease", "expired"),
    [(None, True), ({"N": str(NOW - 1)}, True), ({"N": "x"}, True), ({"S": str(NOW)}, True)],
)
def test_a_missing_or_past_lease_has_expired(lease: Any, expired: bool) -> None:
    record, _ = _existing({"Item": _item(status={"S": "IN_PROGRESS"}, lease_expires_at=lease)})
    assert isinstance(record, ExistingRecord)
    assert record.lease_expired is expired


def test_text_fields_that_are_not_strings_are_none() -> None:
    record, _ = _existing({"Item": _item(event_id={"N": "1"}, run_url="x", error=None)})
    assert isinstance(record, ExistingRecord)
    assert (record.event_id, record.run_url, record.error) == (None, None, None)


def test_an_item_without_ttl_or_with_a_ttl_of_now_is_current() -> None:
    for ttl in (None, {"N": str(NOW)}):
        record, _ = _existing({"Item": _item(expires_at=ttl)})
        assert isinstance(record, ExistingRecord)


VANISHED = (
    f"could not claim {KEY!r} in 'ledger': the item that blocked the claim vanished; "
    "Lambda will retry"
)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({}, VANISHED),
        ({"Item": {}}, VANISHED),
        ("x", VANISHED),
        ({"Item": _item(expires_at={"N": str(NOW - 1)})}, VANISHED),
        ({"Item": ["x"]}, "DynamoDB get_item on 'ledger': malformed answer"),
        (
            {"Item": _item(status={"S": "DONE" * 20})},
            f"unexpected status {('DONE' * 10)!r} for {KEY!r} in 'ledger'",
        ),
        ({"Item": _item(status=None)}, f"unexpected status '' for {KEY!r} in 'ledger'"),
    ],
)
def test_unusable_records(answer: Any, message: str) -> None:
    with pytest.raises(AwsServiceError) as raised:
        _existing(answer)
    assert str(raised.value) == message


def _update(values: dict[str, Any], expression: str, names: dict[str, str]) -> dict[str, Any]:
    return {
        "TableName": "ledger",
        "Key": {"idempotency_key": {"S": KEY}},
        "UpdateExpression": expression,
        "ConditionExpression": "claim_id = :claim_id",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {**values, ":claim_id": {"S": "c0ffee"}},
    }


TIMES = {":now": {"N": "1700000000"}, ":expires": {"N": "1700086400"}}


def test_mark_dispatched_with_and_without_a_run_url() -> None:
    client = _Client()
    ledger = _ledger(client)

    assert ledger.mark_dispatched(CLAIM, run_url="https://r") is True
    assert ledger.mark_dispatched(CLAIM, run_url=None) is True
    set_ = "SET #status = :dispatched, updated_at = :now, expires_at = :expires"
    dispatched = {":dispatched": {"S": "DISPATCHED"}, **TIMES}
    assert client.requests == [
        (
            "update_item",
            _update(
                {**dispatched, ":run_url": {"S": "https://r"}},
                f"{set_}, run_url = :run_url REMOVE lease_expires_at",
                {"#status": "status"},
            ),
        ),
        (
            "update_item",
            _update(dispatched, f"{set_} REMOVE lease_expires_at", {"#status": "status"}),
        ),
    ]


@pytest.mark.parametrize(
    ("mark", "status"), [("mark_failed", "FAILED"), ("mark_unknown", "UNKNOWN")]
)
def test_an_error_is_recorded_cut_to_1000_characters(mark: str, status: str) -> None:
    client = _Client()

    assert getattr(_ledger(client), mark)(CLAIM, error="e" * 1001) is True
    assert client.requests == [
        (
            "update_item",
            _update(
                {":status": {"S": status}, **TIMES, ":error": {"S": "e" * 1000}},
                "SET #status = :status, updated_at = :now, expires_at = :expires, "
                "#error = :error REMOVE lease_expires_at",
                {"#status": "status", "#error": "error"},
            ),
        )
    ]


def test_a_lost_claim_records_nothing() -> None:
    lost = _error("ConditionalCheckFailedException", "UpdateItem")
    client = _Client(update_item=lost, delete_item=_error("ConditionalCheckFailedException"))
    ledger = _ledger(client)
    assert ledger.mark_failed(CLAIM, error="e") is False
    assert ledger.release(CLAIM) is False


def test_release_is_a_conditional_delete() -> None:
    client = _Client()
    assert _ledger(client).release(CLAIM) is True
    assert client.requests == [
        (
            "delete_item",
            {
                "TableName": "ledger",
                "Key": {"idempotency_key": {"S": KEY}},
                "ConditionExpression": "claim_id = :claim_id",
                "ExpressionAttributeValues": {":claim_id": {"S": "c0ffee"}},
            },
        )
    ]


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            _error("ResourceNotFoundException"),
            ConfigurationError,
            "idempotency table 'ledger' does not exist (IDEMPOTENCY_TABLE_NAME)",
        ),
        (
            _error("ThrottlingException"),
            AwsServiceError,
            "DynamoDB put_item on 'ledger' failed: ThrottlingException",
        ),
        (
            ClientError({"Error": {}}, "PutItem"),
            AwsServiceError,
            "DynamoDB put_item on 'ledger' failed: Unknown",
        ),
        (
            ReadTimeoutError(endpoint_url="https://x"),
            AwsServiceError,
            "DynamoDB put_item on 'ledger' failed: ReadTimeoutError",
        ),
    ],
)
def test_dynamodb_errors(error: BaseException, kind: type, message: str) -> None:
    with pytest.raises(kind) as raised:
        _claim(_ledger(_Client(put_item=error)))
    assert str(raised.value) == message
    assert raised.value.__cause__ is error
