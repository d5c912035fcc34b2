"""The function's JSON log lines, exactly: field order, dropped and kept context fields, the
exception's type, values JSON cannot encode; the logger's one stdout handler."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import PurePosixPath

import pytest
from github_trigger.logs import JsonFormatter, configure_logging, get_logger, log_context


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise KeyError("k")
        except KeyError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("github_trigger", logging.WARNING, "f.py", 1, msg, args, exc_info)
    record.created = 1772460311.5
    record.__dict__.update(extra)
    return record


def test_a_line_has_the_fixed_fields_first_then_the_context_in_its_order() -> None:
    record = _record(
        "dispatched %s",
        "deploy.yml",
        **log_context(run_url="https://x", recorded=False, aws_request_id=None, zeta=0),
    )
    assert JsonFormatter().format(record) == (
        '{"timestamp": "2026-03-02T14:05:11.500+00:00", "level": "WARNING", '
        '"logger": "github_trigger", "message": "dispatched deploy.yml", '
        '"run_url": "https://x", "recorded": false, "zeta": 0}'
    )


def test_context_fields_never_replace_the_fixed_ones() -> None:
    record = _record("m", **log_context(message="other", level="DEBUG", reason="r"))
    assert JsonFormatter().format(record) == (
        '{"timestamp": "2026-03-02T14:05:11.500+00:00", "level": "WARNING", '
        '"logger": "github_trigger", "message": "m", "reason": "r"}'
    )


def test_an_exception_adds_its_type_and_other_values_are_written_as_text() -> None:
    record = _record("m", exc=True, **log_context(path=PurePosixPath("/a/b")))
    assert JsonFormatter().format(record) == (
        '{"timestamp": "2026-03-02T14:05:11.500+00:00", "level": "WARNING", '
        '"logger": "github_trigger", "message": "m", "path": "/a/b", "error_type": "KeyError"}'
    )


def test_a_context_that_is_not_a_mapping_is_ignored() -> None:
    record = _record("m", ctx=["x"])
    assert JsonFormatter().format(record) == (
        '{"timestamp": "2026-03-02T14:05:11.500+00:00", "level": "WARNING", '
        '"logger": "github_trigger", "message": "m"}'
    )


def test_log_context_is_the_ctx_attribute() -> None:
    assert log_context(a=1, b=None) == {"ctx": {"a": 1, "b": None}}


def test_configure_logging_attaches_one_stdout_handler_and_sets_the_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = configure_logging("WARNING")
    assert configure_logging("ERROR") is logger is get_logger()
    assert logger.name == "github_trigger"
    assert logger.level == logging.ERROR
    assert logger.propagate is False
    ours = [h for h in logger.handlers if type(h).__name__ == "_StdoutJsonHandler"]
    assert len(ours) == 1
    assert isinstance(ours[0].formatter, JsonFormatter)
    capsys.readouterr()
    logger.warning("below the level")
    logger.error("kept", extra=log_context(reason="r"))
    out = capsys.readouterr().out
    assert out.endswith('"logger": "github_trigger", "message": "kept", "reason": "r"}\n')
    assert out.count("\n") == 1
    configure_logging("INFO")


class _BrokenStdout(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("stdout closed")


def test_a_failing_stdout_never_breaks_the_function(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = configure_logging("INFO")
    monkeypatch.setattr(logging, "raiseExceptions", True)
    monkeypatch.setattr(sys, "stdout", _BrokenStdout())
    logger.info("lost")  # does not raise
    monkeypatch.undo()
    assert "OSError: stdout closed" in capsys.readouterr().err
