"""The time budget's numbers at both ends of GITHUB_TIMEOUT_SECONDS, worked out by hand from
budget.py's constants (connect 1 s, read 2 s, 2 attempts, 6 s backoff, 2 AWS calls before
GitHub's acceptance and 1 after, 3 GitHub requests, 5 s reserve, 5 s steps, 30 s lease margin)."""

from __future__ import annotations

import pytest
from github_trigger.budget import TimeBudget, derive_budget


def test_the_shortest_budget() -> None:
    budget = derive_budget(1)
    assert budget == TimeBudget(
        github_read_timeout_seconds=1,
        github_connect_timeout_seconds=1,  # capped by the read timeout
        max_github_requests=3,
        aws_connect_timeout_seconds=1,
        aws_read_timeout_seconds=2,
        aws_max_attempts=2,
        aws_calls_before_acceptance=2,
        aws_calls_after_acceptance=1,
        function_timeout_seconds=50,  # 47 rounded up to a 5 s step
        claim_lease_seconds=80,
    )
    assert budget.github_request_seconds == 2
    assert budget.aws_call_seconds == 12  # 2 * (1 + 2) + 1 * 6
    assert budget.until_acceptance_seconds == 30  # 2 * 12 + 3 * 2
    assert budget.worst_case_seconds == 47  # 30 + 1 * 12 + 5


def test_the_longest_budget() -> None:
    budget = derive_budget(30)
    assert (budget.github_connect_timeout_seconds, budget.github_request_seconds) == (3, 33)
    assert budget.until_acceptance_seconds == 123
    assert budget.worst_case_seconds == 140
    assert (budget.function_timeout_seconds, budget.claim_lease_seconds) == (140, 170)


def test_a_worst_case_on_a_step_is_not_rounded_up() -> None:
    budget = derive_budget(5)
    assert budget.worst_case_seconds == 65
    assert budget.function_timeout_seconds == 65
    assert derive_budget(2).worst_case_seconds == 53  # 2 * 12 + 3 * 4 + 12 + 5
    assert derive_budget(2).function_timeout_seconds == 55


@pytest.mark.parametrize("value", [0, 31])
def test_the_range_is_named(value: int) -> None:
    with pytest.raises(ValueError) as raised:
        derive_budget(value)
    assert str(raised.value) == f"github_timeout_seconds must be between 1 and 30, got {value}"
