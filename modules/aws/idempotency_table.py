"""The trigger's idempotency ledger: one DynamoDB item per approval, remembered for a day.

A child of :class:`~modules.aws.trigger_function.TriggerFunction` that creates its resource in
the parent's scope (``scope`` is the trigger construct): resource addresses are built from the
construct path, so a node of its own would rename the table (see docs/architecture.md,
"Child constructs").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from constructs import Construct

from modules.core.naming import bounded

IDEMPOTENCY_HASH_KEY = "idempotency_key"


@dataclass(frozen=True, kw_only=True)
class IdempotencyTableProps:
    """Attributes:
    function_name: the trigger function's name; the table is ``<function_name>-dispatches``.
    """

    function_name: str


class IdempotencyTable:
    """Attributes: ``table_name`` (the literal name, known before apply), ``name`` and ``arn``
    (references to the table)."""

    def __init__(self, scope: Construct, props: IdempotencyTableProps) -> None:
        self.table_name: str = bounded(props.function_name, "dispatches", max_length=255)
        table = DynamodbTable(
            scope,
            "dispatches",
            name=self.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=IDEMPOTENCY_HASH_KEY,
            attribute=[{"name": IDEMPOTENCY_HASH_KEY, "type": "S"}],
            ttl={"attribute_name": "expires_at", "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
        )
        self.name: str = table.name
        self.arn: str = table.arn
