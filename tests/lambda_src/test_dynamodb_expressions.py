# ruff: noqa: E501 (the cases read as a table)
"""The fault world's expression evaluator agrees with moto's DynamoDB (127.0.0.1), and a wrong
condition in the ledger is caught by the fault world instead of being compared as a string."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from github_trigger import idempotency

from tests.lambda_src.dynamodb_expressions import (
    UnsupportedExpressionError,
    ValidationError,
    evaluate,
)
from tests.lambda_src.test_fault_matrix import SCENARIOS, run_story, verdict
from tests.support.moto_server import MotoServer

TABLE = "expressions"
KEY = {"idempotency_key": {"S": "k"}}
EXISTING = {
    **KEY,
    "status": {"S": "IN_PROGRESS"},
    "claim_id": {"S": "c1"},
    "expires_at": {"N": "1000"},
    "lease_expires_at": {"N": "900"},
}
CLAIM = "attribute_not_exists(idempotency_key) OR expires_at < :now"


def _values(**values: str) -> dict[str, dict[str, str]]:
    """``now="N:5"`` -> ``{":now": {"N": "5"}}``."""
    return {f":{k}": {v[0]: v[2:]} for k, v in values.items()}


def _if(condition: str, **values: str) -> dict[str, Any]:
    return {"ConditionExpression": condition, "ExpressionAttributeValues": _values(**values)}


def _set(update: str, condition: str | None = None, **values: str) -> dict[str, Any]:
    request: dict[str, Any] = {"UpdateExpression": update}
    request["ExpressionAttributeValues"] = _values(**values)
    if condition is not None:
        request["ConditionExpression"] = condition
    if "#status" in update:
        request["ExpressionAttributeNames"] = {"#status": "status"}
    return request


OWNED = "claim_id = :claim_id"
# (existing item or None, operation, request): the ledger's own expressions first, then the
# mistakes a ledger could make, then the grammar's corners.
CASES: list[tuple[dict[str, Any] | None, str, dict[str, Any]]] = [
    (None, "put", _if(CLAIM, now="N:5")),
    (EXISTING, "put", _if(CLAIM, now="N:999")),
    (EXISTING, "put", _if(CLAIM, now="N:1001")),
    (EXISTING, "put", _if("attribute_not_exists(idempotency_key) OR expires_at > :now", now="N:999")),
    (EXISTING, "put", _if("attribute_not_exists(idempotency_key) AND expires_at < :now", now="N:1001")),
    (EXISTING, "put", _if("NOT (attribute_exists(idempotency_key) AND :now <= expires_at)", now="N:1000")),
    (EXISTING, "put", _if("expires_at = :now", now="S:1000")),
    (EXISTING, "put", _if("expires_at <> :now", now="S:1000")),
    (EXISTING, "put", _if("expires_at = :now", now="N:1000.0")),
    (EXISTING, "put", _if("expires_at >= :now", now="N:1000")),
    (EXISTING, "put", _if("missing_attribute < :now", now="N:1")),
    (EXISTING, "put", _if("missing_attribute <> :now", now="N:1")),
    (EXISTING, "put", _if("status = :s OR status = :t", s="S:DONE", t="S:IN_PROGRESS")),
    (EXISTING, "delete", _if(OWNED, claim_id="S:c1")),
    (EXISTING, "delete", _if(OWNED, claim_id="S:c2")),
    (EXISTING, "delete", _if("claim_id <> :claim_id", claim_id="S:c1")),
    (None, "delete", _if(OWNED, claim_id="S:c1")),
    (EXISTING, "update", _set("SET #status = :s, updated_at = :now REMOVE lease_expires_at", OWNED, s="S:DISPATCHED", now="N:7", claim_id="S:c1")),
    (EXISTING, "update", _set("SET #status = :s", OWNED, s="S:DISPATCHED", claim_id="S:other")),
    (None, "update", _set("SET #status = :s", OWNED, s="S:DISPATCHED", claim_id="S:c1")),
    (None, "update", _set("SET #status = :s", None, s="S:DISPATCHED")),
    (EXISTING, "update", {**_set("SET #status = :s", OWNED, s="S:X", claim_id="S:c1"), "ExpressionAttributeNames": {"#status": "status", "#unused": "x"}}),
    (EXISTING, "update", _set("SET idempotency_key = :s", None, s="S:X")),
]  # fmt: skip


@pytest.fixture
def table(moto_server: MotoServer) -> Iterator[Any]:
    moto_server.reset()
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_server.endpoint_url,
        region_name=moto_server.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "idempotency_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client


def _moto(
    client: Any, existing: dict[str, Any] | None, operation: str, request: dict[str, Any]
) -> tuple[str, Any]:
    client.delete_item(TableName=TABLE, Key=KEY)
    if existing is not None:
        client.put_item(TableName=TABLE, Item=existing)
    item = {**KEY, "status": {"S": "NEW"}}
    try:
        if operation == "put":
            client.put_item(TableName=TABLE, Item=item, **request)
        elif operation == "delete":
            client.delete_item(TableName=TABLE, Key=KEY, **request)
        else:
            client.update_item(TableName=TABLE, Key=KEY, **request)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        return ("condition failed" if code == "ConditionalCheckFailedException" else code), None
    after = client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True).get("Item")
    return "ok", after


def _fake(
    existing: dict[str, Any] | None, operation: str, request: dict[str, Any]
) -> tuple[str, Any]:
    item = {**KEY, "status": {"S": "NEW"}}
    try:
        if operation == "update":
            holds, updated = evaluate(
                {**request, "Key": KEY}, existing, update=request["UpdateExpression"]
            )
        else:
            holds, updated = evaluate(request, existing)
    except ValidationError:
        return "ValidationException", None
    if not holds:
        return "condition failed", None
    return "ok", {"put": item, "delete": None, "update": updated}[operation]


@pytest.mark.parametrize(("existing", "operation", "request_"), CASES)
def test_the_evaluator_agrees_with_moto(
    table: Any, existing: dict[str, Any] | None, operation: str, request_: dict[str, Any]
) -> None:
    assert _fake(existing, operation, request_) == _moto(table, existing, operation, request_)


def test_an_unused_expression_value_is_refused_as_dynamodb_does() -> None:
    # DynamoDB answers ValidationException "Value provided in ExpressionAttributeValues unused
    # in expressions" (moto checks this for UpdateItem only, so this case is not compared).
    request = {
        "ConditionExpression": CLAIM,
        "ExpressionAttributeValues": {":now": {"N": "1"}, ":unused": {"N": "2"}},
    }
    with pytest.raises(ValidationError, match="unused"):
        evaluate(request, EXISTING)


def test_the_evaluator_refuses_what_it_does_not_implement() -> None:
    for expression in (
        "begins_with(claim_id, :p)",
        "size(claim_id) > :n",
        "a.b = :v",
        "a = :v ; b",
    ):
        with pytest.raises(UnsupportedExpressionError):
            evaluate(
                {
                    "ConditionExpression": expression,
                    "ExpressionAttributeValues": {
                        ":p": {"S": "c"},
                        ":n": {"N": "1"},
                        ":v": {"S": "x"},
                    },
                },
                EXISTING,
            )


def test_a_wrong_claim_condition_in_the_ledger_dispatches_twice_in_the_fault_world(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The ledger as written: one dispatch for the event, its redelivery and the duplicate.
    assert verdict(run_story(SCENARIOS[0], None))[0] == "one dispatch"
    # The same ledger with the claim's comparison turned around ("the item has not expired"
    # instead of "has expired"): the fake evaluates it as DynamoDB would, so the redelivery
    # claims the approval again and GitHub gets a second dispatch.
    send = idempotency.IdempotencyLedger._call

    def wrong_condition(self: Any, operation: str, **kwargs: Any) -> Any:
        if "ConditionExpression" in kwargs:
            kwargs["ConditionExpression"] = kwargs["ConditionExpression"].replace(" < ", " > ")
        return send(self, operation, **kwargs)

    monkeypatch.setattr(idempotency.IdempotencyLedger, "_call", wrong_condition)
    story = run_story(SCENARIOS[0], None)
    assert verdict(story)[0] == "3 dispatches"
