"""The trigger function's time budget, derived in one place from one knob.

Both the function (``handler.py``: client timeouts, retry settings, claim lease) and its
Terraform construct (``modules/aws/trigger_function.py``: the function timeout and the
``GITHUB_TIMEOUT_SECONDS`` variable) call :func:`derive_budget`, so the numbers cannot drift
apart. Plain Python, no imports from the rest of the package: everyone imports this file as
``github_trigger.budget`` (the construct through ``modules/aws/trigger_contract.py``).

The worst case is the longest sequence of outside calls one invocation can make on its way to a
dispatch (see ``handler.py``):

1. DynamoDB ``PutItem``: claim the approval;
2. GitHub ``POST .../dispatches`` with the token cached by an earlier invocation: ``401``;
3. Secrets Manager ``GetSecretValue``: the token again (it may have been rotated). This is the
   invocation's only token read: a token read on a cold cache is never retried after a 401;
4. GitHub ``POST`` with ``return_run_details``: ``422`` from a server that does not know it
   (learned once per execution environment);
5. GitHub ``POST`` without it: accepted;
6. DynamoDB ``UpdateItem``: record the outcome (``DISPATCHED``; or ``FAILED``/``UNKNOWN`` or the
   release of the claim on the failure paths, never more than one of them).

The other paths are shorter: a claim blocked by an existing record is ``PutItem`` + ``GetItem``
and no GitHub request. ``tests/lambda_src/test_fault_matrix.py`` counts every invocation's calls
against these numbers.

Every AWS call may take ``attempts * (connect + read)`` plus the SDK's backoff between
attempts; every GitHub request ``connect + read``. Their sum plus a fixed reserve (JSON, logs,
DNS lookups, which no socket timeout bounds) is the function timeout, so Lambda never kills an
invocation between GitHub's acceptance and the record of it. The claim lease outlives the
function timeout: while it runs, the holder may still be working; once it has expired the
holder is certainly gone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

DEFAULT_GITHUB_TIMEOUT_SECONDS = 5
MIN_GITHUB_TIMEOUT_SECONDS = 1
MAX_GITHUB_TIMEOUT_SECONDS = 30

GITHUB_CONNECT_TIMEOUT_SECONDS = 3
"""TCP + TLS connect timeout of a GitHub request (capped by the read timeout)."""
MAX_GITHUB_REQUESTS = 3
"""Per invocation: 401 with a cached token, 422 for ``return_run_details``, plain dispatch."""

AWS_CONNECT_TIMEOUT_SECONDS = 1
AWS_READ_TIMEOUT_SECONDS = 2
AWS_MAX_ATTEMPTS = 2
"""botocore ``standard`` retry mode, ``total_max_attempts`` (the first try plus one retry)."""
AWS_MAX_BACKOFF_SECONDS = 6
"""Longest wait between two attempts in botocore's standard mode with one retry: rand(0, 1) *
1 s for a throttling error, raised to an ``x-amz-retry-after`` header by at most 5 s more."""
AWS_CALLS_BEFORE_ACCEPTANCE = 2
"""Claim (``PutItem``) and one token read."""
AWS_CALLS_AFTER_ACCEPTANCE = 1
"""Record the outcome (``UpdateItem``)."""

RESERVE_SECONDS = 5
"""CPU, JSON, logging and DNS lookups, which no socket timeout bounds."""
LEASE_MARGIN_SECONDS = 30
"""How much longer than the function timeout a claim's lease lasts (clock skew between hosts)."""
FUNCTION_TIMEOUT_STEP_SECONDS = 5


@dataclass(frozen=True, kw_only=True)
class TimeBudget:
    """Every timeout of the trigger function, derived from the GitHub read timeout."""

    github_read_timeout_seconds: int
    github_connect_timeout_seconds: int
    max_github_requests: int
    aws_connect_timeout_seconds: int
    aws_read_timeout_seconds: int
    aws_max_attempts: int
    aws_calls_before_acceptance: int
    aws_calls_after_acceptance: int
    function_timeout_seconds: int
    claim_lease_seconds: int

    @property
    def github_request_seconds(self) -> int:
        """Longest one GitHub request can take (connect, then wait for the answer)."""
        return self.github_connect_timeout_seconds + self.github_read_timeout_seconds

    @property
    def aws_call_seconds(self) -> int:
        """Longest one AWS SDK call can take, retries and backoff included."""
        return (
            self.aws_max_attempts
            * (self.aws_connect_timeout_seconds + self.aws_read_timeout_seconds)
            + (self.aws_max_attempts - 1) * AWS_MAX_BACKOFF_SECONDS
        )

    @property
    def until_acceptance_seconds(self) -> int:
        """Worst case from the start of an invocation to GitHub's last answer."""
        return (
            self.aws_calls_before_acceptance * self.aws_call_seconds
            + self.max_github_requests * self.github_request_seconds
        )

    @property
    def worst_case_seconds(self) -> int:
        """Worst case of a whole invocation: until acceptance, then recording the outcome."""
        return (
            self.until_acceptance_seconds
            + self.aws_calls_after_acceptance * self.aws_call_seconds
            + RESERVE_SECONDS
        )


def derive_budget(github_timeout_seconds: int = DEFAULT_GITHUB_TIMEOUT_SECONDS) -> TimeBudget:
    """The time budget for a GitHub read timeout of ``github_timeout_seconds``.

    Raises ValueError outside ``MIN_GITHUB_TIMEOUT_SECONDS..MAX_GITHUB_TIMEOUT_SECONDS``.
    """
    if not MIN_GITHUB_TIMEOUT_SECONDS <= github_timeout_seconds <= MAX_GITHUB_TIMEOUT_SECONDS:
        raise ValueError(
            f"github_timeout_seconds must be between {MIN_GITHUB_TIMEOUT_SECONDS} and "
            f"{MAX_GITHUB_TIMEOUT_SECONDS}, got {github_timeout_seconds}"
        )
    partial = TimeBudget(
        github_read_timeout_seconds=github_timeout_seconds,
        github_connect_timeout_seconds=min(GITHUB_CONNECT_TIMEOUT_SECONDS, github_timeout_seconds),
        max_github_requests=MAX_GITHUB_REQUESTS,
        aws_connect_timeout_seconds=AWS_CONNECT_TIMEOUT_SECONDS,
        aws_read_timeout_seconds=AWS_READ_TIMEOUT_SECONDS,
        aws_max_attempts=AWS_MAX_ATTEMPTS,
        aws_calls_before_acceptance=AWS_CALLS_BEFORE_ACCEPTANCE,
        aws_calls_after_acceptance=AWS_CALLS_AFTER_ACCEPTANCE,
        function_timeout_seconds=0,
        claim_lease_seconds=0,
    )
    step = FUNCTION_TIMEOUT_STEP_SECONDS
    function_timeout = math.ceil(partial.worst_case_seconds / step) * step
    return dataclasses.replace(
        partial,
        function_timeout_seconds=function_timeout,
        claim_lease_seconds=function_timeout + LEASE_MARGIN_SECONDS,
    )
