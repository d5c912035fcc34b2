"""The idempotency table's schema: written once, read by the function and by its construct.

Plain constants, no imports: ``modules/aws/trigger_function.py`` creates the DynamoDB table with
this hash key and TTL attribute, and ``idempotency.py`` reads and writes items with them.
"""

from __future__ import annotations

#: The table's hash key (a string: ``<model package ARN>#approved@<approval time>``).
HASH_KEY = "idempotency_key"
#: The attribute DynamoDB's time to live reads (epoch seconds).
TTL_ATTRIBUTE = "expires_at"
