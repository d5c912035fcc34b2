"""ruff (lint + format check) and mypy --strict over the project, and proof each one fails.

Configuration lives in pyproject.toml; mypy is strict on modules/, lambda_src/ and
layer_build/ (its ``files``).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: make install-dev")
    return str(path)


def _run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, input=stdin, capture_output=True, text=True, check=False, timeout=600
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def test_ruff_check_passes() -> None:
    result = _run(_tool("ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, _output(result)


def test_ruff_format_check_passes() -> None:
    result = _run(_tool("ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, _output(result)


def test_mypy_is_strict_on_the_source_packages() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    assert {"modules", "lambda_src", "layer_build"} <= set(config["files"])


def test_mypy_passes() -> None:
    result = _run(_tool("mypy"))
    assert result.returncode == 0, _output(result)
    assert "Success: no issues found" in result.stdout


def test_ruff_check_fails_on_a_lint_error() -> None:
    bad = "import os\n\n\ndef f(x):\n    return eval(x)\n"
    result = _run(
        _tool("ruff"), "check", "--no-cache", "--stdin-filename", "modules/bad.py", "-", stdin=bad
    )
    assert result.returncode == 1
    assert "F401" in result.stdout
    assert "S307" in result.stdout


def test_ruff_format_check_fails_on_unformatted_code() -> None:
    result = _run(
        _tool("ruff"),
        "format",
        "--check",
        "--stdin-filename",
        "modules/bad.py",
        "-",
        stdin="x = ( 1 ,2 )\n",
    )
    assert result.returncode == 1


def test_mypy_fails_on_untyped_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    return x\n\n\ny: int = 'text'\n", encoding="utf-8")
    result = _run(
        _tool("mypy"),
        "--config-file",
        "pyproject.toml",
        "--cache-dir",
        str(tmp_path / "cache"),
        str(bad),
    )
    assert result.returncode == 1
    assert "[no-untyped-def]" in result.stdout
    assert "[assignment]" in result.stdout
