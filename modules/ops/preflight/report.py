"""The preflight report: one line per check (``✓`` passed, ``!`` worth knowing, ``✗`` blocks),
a summary, and the exit code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "warn", "fail"]
SYMBOL: Mapping[Status, str] = {"ok": "✓", "warn": "!", "fail": "✗"}


@dataclass(frozen=True, kw_only=True)
class Check:
    """One checked prerequisite. ``check`` is a stable id (e.g. ``github.repository.archived``)."""

    check: str
    status: Status
    environment: str
    subject: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """One line, whatever an API error message held (e.g. an HTML error page)."""
        text = f"{SYMBOL[self.status]} [{self.environment}] {self.subject}: {self.detail}"
        return " ".join((f"{text} -> fix: {self.fix}" if self.fix else text).split())


@dataclass
class Collector:
    """The checks of one environment, in the order they ran."""

    environment: str
    checks: list[Check] = field(default_factory=list)

    def add(self, check: str, status: Status, subject: str, detail: str, fix: str = "") -> None:
        self.checks.append(
            Check(
                check=check,
                status=status,
                environment=self.environment,
                subject=subject,
                detail=detail,
                fix=fix,
            )
        )


def exit_code(checks: Sequence[Check]) -> int:
    """0 nothing blocks, 1 at least one ``✗``."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def render(checks: Sequence[Check]) -> str:
    """Every line, then the summary."""
    counts = {s: sum(1 for c in checks if c.status == s) for s in SYMBOL}
    verdict = (
        "nothing blocks the first apply"
        if counts["fail"] == 0
        else f"{counts['fail']} blocking problem(s): fix the lines marked {SYMBOL['fail']}"
    )
    summary = (
        f"preflight: {len(checks)} checks, {counts['ok']} passed, {counts['warn']} to know, "
        f"{counts['fail']} blocking: {verdict}"
    )
    return "\n".join([*(c.line() for c in checks), summary])
