"""Fault-injection matrix: one approval, one deploy, never lost.

For each base scenario (GitHub accepts with run details; a server without
``return_run_details``; a rotated cached token; both, i.e. three GitHub requests; a permanent
404; a transient 503), the scenario runs once without faults and its trace of outside calls is
recorded: every Secrets Manager read, every DynamoDB claim/read/record/release and every GitHub
request, including those of Lambda's retries and of later redeliveries. Then each call of the
trace is failed in turn, with each fault kind, once or from then on (persistent), and the whole
story is replayed: the event, Lambda's retries of it (up to 2, after 1 and 2 more minutes), then
a redelivery of the same event and a duplicate SageMaker event for the same approval (10 and 15
minutes later, each with its own retries).

Every cell must end with exactly one dispatch accepted by GitHub for the approval, or none and
the event in the failure destination (all attempts raised) with a logged reason. Never two,
never a silent zero. Each invocation must also stay inside the time budget's call counts.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import handler
import pytest
from github_trigger.budget import derive_budget
from github_trigger.config import load_settings
from github_trigger.dispatch import DispatchResult

from tests.lambda_src.fault_world import (
    AWS_KINDS,
    GITHUB_KINDS,
    FakeDynamoDB,
    FakeGitHubApi,
    FakeSecrets,
    Fault,
    World,
    no_fault,
)
from tests.lambda_src.trigger_support import ALLOWED_TARGETS, TOKEN, load_fixture

ROTATED_TOKEN = "ghp_RotatedTokenForTests000000000000000"
EVENT = load_fixture("model_package_approved")
ARN = EVENT["event"]["detail"]["ModelPackageArn"]
WARM_UP = load_fixture("model_package_approved_org_repository")
LAMBDA_RETRY_DELAYS = (0, 60, 120)  # seconds before each attempt of one delivery
DELIVERIES = (
    ("event", 0, None),
    ("redelivery of the same event", 600, None),
    ("duplicate SageMaker event", 900, "3b1e5d7f-9a2c-4e6b-8d0f-1c3e5a7b9d20"),
)
BUDGET = derive_budget()


@contextmanager
def _no_pytest_log_copies() -> Iterator[None]:
    """pytest copies every record of non-propagating loggers into its report; the matrix reads
    the function's own JSON lines itself, and thousands of copies would bury the summary."""
    logger = logging.getLogger("github_trigger")
    copies = [h for h in logger.handlers if type(h).__module__.startswith("_pytest")]
    for copy_handler in copies:
        logger.removeHandler(copy_handler)
    try:
        yield
    finally:
        for copy_handler in copies:
            logger.addHandler(copy_handler)


@dataclass(frozen=True)
class Scenario:
    name: str
    supports_run_details: bool = True
    rotated_token: bool = False
    reject_with: int | None = None
    fail_first_with: int | None = None


SCENARIOS = (
    Scenario("accepted with run details"),
    Scenario("server without return_run_details", supports_run_details=False),
    Scenario("cached token rotated (401, re-read)", rotated_token=True),
    Scenario(
        "rotated token and no return_run_details", rotated_token=True, supports_run_details=False
    ),
    Scenario("workflow missing (404)", reject_with=404),
    Scenario("transient outage (503 once)", fail_first_with=503),
)


@dataclass
class Invocation:
    delivery: str
    attempt: int
    outcome: str
    """Returned outcome, or ``raised:<ErrorType>``."""
    lines: list[dict[str, Any]]
    calls: Counter[str]


@dataclass
class Story:
    accepted: int
    invocations: list[Invocation] = field(default_factory=list)
    failed_deliveries: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    accepted_at_call: int | None = None


class _Context:
    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


def run_story(
    scenario: Scenario, fault: Fault | None, *, sabotage: Callable[[], Any] | None = None
) -> Story:
    """Replay the event, its retries and its redeliveries with ``fault`` injected."""
    world = World(watched_arn=ARN)
    secrets = FakeSecrets(world, TOKEN)
    github = FakeGitHubApi(
        world,
        valid_token=TOKEN,
        supports_run_details=scenario.supports_run_details,
        reject_with=scenario.reject_with,
        fail_first_with=scenario.fail_first_with,
    )
    dynamodb = FakeDynamoDB(world)
    settings = load_settings(
        {
            "IDEMPOTENCY_TABLE_NAME": "t",
            "ALLOWED_TARGETS": ALLOWED_TARGETS,
            "LOG_LEVEL": "INFO",
        }
    )
    runtime = handler.build_runtime(
        settings,
        secrets_client=lambda: secrets,
        dynamodb_client=lambda: dynamodb,
        session_factory=github.session,
        clock=lambda: world.now,
        monotonic=lambda: world.now,
    )
    start = world.now
    if scenario.rotated_token:
        # The execution environment cached the token on an earlier invocation, which learned
        # nothing about return_run_details (GitHub answered 404 for that project); then the
        # token was rotated. That is the path to the budget's worst case of three requests.
        github.reject_with = 404
        with no_fault(world), redirect_stdout(io.StringIO()), _no_pytest_log_copies():
            try:
                handler.handle(runtime, copy.deepcopy(WARM_UP), _Context("warm-up"))
            except Exception as e:
                assert "404" in str(e)
        github.reject_with = scenario.reject_with
        secrets.value = github.valid_token = ROTATED_TOKEN
        world.calls.clear()
        world.counts.clear()
    world.fault = fault
    story = Story(accepted=0)
    for delivery, offset, event_id in DELIVERIES:
        payload = copy.deepcopy(EVENT)
        if event_id is not None:
            payload["event"]["id"] = event_id
        world.now = start + offset
        for attempt, delay in enumerate(LAMBDA_RETRY_DELAYS):
            world.now += delay
            before = Counter(world.counts)
            out = io.StringIO()
            with redirect_stdout(out), _no_pytest_log_copies():
                try:
                    outcome = handler.handle(runtime, payload, _Context(f"{delivery}-{attempt}"))[
                        "outcome"
                    ]
                except Exception as e:
                    outcome = f"raised:{type(e).__name__}"
            lines = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith("{")]
            story.invocations.append(
                Invocation(delivery, attempt, outcome, lines, world.counts - before)
            )
            if not outcome.startswith("raised:"):
                break
        else:
            story.failed_deliveries.append(delivery)
        if sabotage is not None:
            sabotage()
    story.accepted = github.accepted.count(ARN)
    story.calls = list(world.calls)
    story.accepted_at_call = world.accepted_at_call
    return story


def verdict(story: Story) -> tuple[str, list[str]]:
    """("one dispatch" | "none, failure path" | a violation, problems found per invocation)."""
    problems: list[str] = []
    for inv in story.invocations:
        where = f"{inv.delivery} attempt {inv.attempt}"
        if not any("outcome" in line for line in inv.lines):
            problems.append(f"{where}: no log line with an outcome ({inv.outcome})")
        if inv.outcome.startswith("raised:") and not any(
            line.get("level") in ("ERROR", "WARNING") and line.get("reason") and line.get("error")
            for line in inv.lines
        ):
            problems.append(f"{where}: raised {inv.outcome} without a logged reason")
        if inv.calls["github.post"] > BUDGET.max_github_requests:
            problems.append(f"{where}: {inv.calls['github.post']} GitHub requests")
        aws_calls = sum(n for op, n in inv.calls.items() if not op.startswith("github."))
        budgeted = BUDGET.aws_calls_before_acceptance + BUDGET.aws_calls_after_acceptance
        if aws_calls > budgeted or inv.calls["secretsmanager.get_secret_value"] > 1:
            problems.append(f"{where}: {aws_calls} AWS calls, budget {budgeted}")
    if story.accepted >= 2:
        return f"{story.accepted} dispatches", problems
    if story.accepted == 1:
        return "one dispatch", problems
    if any(inv.outcome in ("dispatched", "duplicate") for inv in story.invocations):
        return "silent zero (success reported, nothing dispatched)", problems
    if "event" not in story.failed_deliveries:
        return "silent zero (event not in the failure destination)", problems
    return "none, failure path", problems


@dataclass(frozen=True)
class Cell:
    scenario: Scenario
    fault: Fault
    phase: str


def _phase(index: int, accepted_at: int | None) -> str:
    if accepted_at is None:
        return "no acceptance"
    if index < accepted_at:
        return "before acceptance"
    return "at acceptance" if index == accepted_at else "after acceptance"


def cells() -> Iterator[Cell]:
    for scenario in SCENARIOS:
        base = run_story(scenario, None)
        seen: Counter[str] = Counter()
        for index, operation in enumerate(base.calls):
            seen[operation] += 1
            kinds = GITHUB_KINDS if operation.startswith("github.") else AWS_KINDS
            for kind in kinds:
                for persistent in (False, True):
                    yield Cell(
                        scenario,
                        Fault(operation, seen[operation], kind, persistent),
                        _phase(index, base.accepted_at_call),
                    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_base_scenarios_without_faults(scenario: Scenario) -> None:
    story = run_story(scenario, None)
    result, problems = verdict(story)
    assert problems == []
    if scenario.reject_with is None:
        assert result == "one dispatch"
        assert story.invocations[-1].outcome == "duplicate"
    else:
        assert result == "none, failure path"
    if scenario.rotated_token and not scenario.supports_run_details:
        # The worst case the time budget is built for: three GitHub requests, two token reads.
        first = story.invocations[0].calls
        assert first["github.post"] == BUDGET.max_github_requests
        assert first["secretsmanager.get_secret_value"] == 1
        assert sum(first.values()) - first["github.post"] == (
            BUDGET.aws_calls_before_acceptance + BUDGET.aws_calls_after_acceptance
        )


def test_fault_injection_matrix() -> None:
    results: Counter[str] = Counter()
    by_phase: Counter[str] = Counter()
    by_operation: Counter[str] = Counter()
    failures: list[str] = []
    total = 0
    for cell in cells():
        total += 1
        story = run_story(cell.scenario, cell.fault)
        result, problems = verdict(story)
        results[result] += 1
        by_phase[cell.phase] += 1
        by_operation[cell.fault.operation] += 1
        if result not in ("one dispatch", "none, failure path") or problems:
            failures.append(
                f"{cell.scenario.name} | {cell.fault} | {cell.phase}: {result} {problems}"
            )
    summary = (
        f"fault-injection matrix: {total} cells "
        f"({len(SCENARIOS)} scenarios x each outside call of their trace x "
        f"{len(AWS_KINDS)} AWS / {len(GITHUB_KINDS)} GitHub fault kinds x once/persistent); "
        f"by phase {dict(sorted(by_phase.items()))}; by call {dict(sorted(by_operation.items()))}; "
        f"outcomes {dict(sorted(results.items()))}; violations {len(failures)}"
    )
    print(summary)
    assert failures == [], "\n".join(failures[:20])
    assert total >= 500
    assert set(results) <= {"one dispatch", "none, failure path"}
    assert results["one dispatch"] > 0 and results["none, failure path"] > 0


def test_matrix_detects_a_double_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix can fail: with the old behaviour (an error after GitHub accepted releases the
    claim and raises), a failed record after acceptance dispatches twice."""
    real_accepted = handler._accepted

    def releasing_accepted(runtime: Any, approval: Any, claim: Any, *args: Any) -> Any:
        try:
            runtime.ledger.mark_dispatched(claim, run_url=None)
        except Exception:
            runtime.ledger.release(claim)
            raise
        return real_accepted(runtime, approval, claim, *args)

    monkeypatch.setattr(handler, "_accepted", releasing_accepted)
    fault = Fault("dynamodb.update_item", 1, "throttle", persistent=False)
    result, _ = verdict(run_story(SCENARIOS[0], fault))
    assert result == "2 dispatches"


def test_matrix_detects_a_silent_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix can fail: a handler that swallows GitHub errors (the original template's bug)
    loses the approval silently."""
    real_dispatch = handler._dispatch

    def swallowing_dispatch(*args: Any) -> Any:
        try:
            return real_dispatch(*args)
        except Exception:
            return DispatchResult(status=204, workflow_run_id=None, run_url=None, html_url=None)

    monkeypatch.setattr(handler, "_dispatch", swallowing_dispatch)
    fault = Fault("github.post", 1, "5xx", persistent=True)
    result, _ = verdict(run_story(SCENARIOS[0], fault))
    assert result.startswith("silent zero")
