"""Structured JSON logging for the trigger function.

Every record is one JSON object per line: timestamp, level, logger, message, plus the context
fields passed through ``extra={"ctx": {...}}`` (model package ARN, repository, run URL, ...).
The function's logger does not propagate to the Lambda runtime's root handler, so each line is
printed exactly once and CloudWatch Logs Insights can query the fields directly.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "github_trigger"

# Name of the LogRecord attribute that ``log_context`` fills through ``extra``.
_CONTEXT_ATTRIBUTE = "ctx"


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line JSON object with its context fields at top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = getattr(record, _CONTEXT_ATTRIBUTE, None)
        if isinstance(context, dict):
            for key, value in context.items():
                if value is not None and key not in entry:
                    entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str, sort_keys=False)


class _StdoutJsonHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at emit time (the Lambda runtime's, or a test's)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # logging must never break the function
            self.handleError(record)


def get_logger() -> logging.Logger:
    """The function's logger; ``configure_logging`` gives it its handler and level."""
    return logging.getLogger(LOGGER_NAME)


def configure_logging(level: str) -> logging.Logger:
    """Attach one stdout JSON handler to the function's logger (idempotent) and set its level."""
    logger = get_logger()
    logger.setLevel(level)
    logger.propagate = False
    if not any(isinstance(h, _StdoutJsonHandler) for h in logger.handlers):
        handler = _StdoutJsonHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    return logger


def log_context(**fields: object) -> dict[str, dict[str, object]]:
    """``extra=`` argument carrying structured fields to the JSON formatter."""
    return {_CONTEXT_ATTRIBUTE: dict(fields)}
