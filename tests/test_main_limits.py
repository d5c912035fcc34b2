"""What a bad config makes `main.py` print is bounded: at most 50 problems listed then
"and K more", every echoed value cut to about 80 characters, and under 64 KB of stderr for any
file up to the loader's 1 MiB limit (a 200 KB file with 100,000 bad list items once printed
31 MB)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import main
from modules.core.config import ConfigError, parse_config
from modules.core.config.base import MAX_LISTED_PROBLEMS, MAX_SHOWN_CHARS
from modules.core.config.loading import MAX_FILE_BYTES
from tests.conftest import ROOT, example_data

# Each test parses a file of 0.5-1 MiB with PyYAML (seconds): `make test` runs them, `make
# test-fast` leaves them out.
pytestmark = pytest.mark.heavy

STDERR_LIMIT = 64 * 1024


def _yaml_with(data: dict[str, Any], marker: str, raw: str) -> str:
    """``data`` as YAML with the scalar ``marker`` replaced by the raw YAML text ``raw``
    (safe_dump of 100,000 items would take longer than the check itself)."""
    text = yaml.safe_dump(data)
    assert text.count(marker) == 1
    return text.replace(marker, raw)


def _run(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "c.yaml"
    config.write_text(text, encoding="utf-8")
    assert len(text.encode("utf-8")) <= MAX_FILE_BYTES
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--outdir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _check_bounded(rc: int, err: str, total: int, outdir: Path) -> list[str]:
    assert rc == 2, err[:2000]
    assert "Traceback" not in err
    assert len(err.encode("utf-8")) < STDERR_LIMIT, len(err)
    head, *lines = err.rstrip("\n").split("\n")
    assert head.endswith(f": {total} problem{'s' if total > 1 else ''} in the configuration:")
    if total > MAX_LISTED_PROBLEMS:
        *lines, tail = lines
        assert tail == (
            f"  ... and {total - MAX_LISTED_PROBLEMS} more (fix the ones above and run again "
            "to see them)"
        )
    assert len(lines) == min(total, MAX_LISTED_PROBLEMS)
    assert all(line.startswith("  - ") for line in lines)
    assert not outdir.exists()
    return lines


def test_100000_bad_list_items_print_under_64_kb(tmp_path: Path) -> None:
    """The issue's case, in a fresh process: 100,000 list items that are not text."""
    data = example_data()
    data["environments"][0]["projects"][0]["production_reviewers"] = {"users": "MARKER"}
    text = _yaml_with(data, "MARKER", "[" + ",".join(["1"] * 100_000) + "]")
    assert len(text) > 200_000
    result = _run(tmp_path, text)
    lines = _check_bounded(result.returncode, result.stderr, 100_000, tmp_path / "out")
    assert lines[0] == (
        "  - environments[0].projects[0].production_reviewers.users[0]: expected text, got 1 (int)"
    )


def _error_text(data: dict[str, Any]) -> str:
    """What main() prints for ``data`` (in process, without the YAML round trip)."""
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.yaml")
    return f"error: {info.value}\n"


def test_a_500_kb_value_is_echoed_cut_by_main(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "ab/" * 170_000
    data = example_data()
    data["environments"][0]["projects"][0]["github"]["branch"] = value
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(data, width=10**9), encoding="utf-8")
    rc = main.main(["--config", str(config), "--outdir", str(tmp_path / "out")])
    (line,) = _check_bounded(rc, capsys.readouterr().err, 1, tmp_path / "out")
    assert line.startswith("  - environments[0].projects[0].github.branch: 'ab/ab/")
    assert value[:MAX_SHOWN_CHARS] not in line
    assert len(line) < 600, line


@pytest.mark.parametrize(
    "where",
    [
        ("projects", 0, "name"),
        ("projects", 0, "github", "owner"),
        ("tags", "team"),
        ("platform", "deployer_principal_arn"),
        ("platform", "token_secret", "name"),
        ("region",),
    ],
)
def test_a_500_kb_value_is_echoed_cut(tmp_path: Path, where: tuple[str | int, ...]) -> None:
    value = "ab/" * 170_000
    data = example_data()
    node: Any = data["environments"][0]
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    (line,) = _check_bounded(2, _error_text(data), 1, tmp_path / "out")
    assert "'ab/ab/" in line and "..." in line
    assert value[:MAX_SHOWN_CHARS] not in line
    assert len(line) < 600, line


def test_a_500_kb_unknown_key_is_named_cut(tmp_path: Path) -> None:
    key = "k e y " * 90_000
    data = example_data()
    data["environments"][0]["platform"][key] = "x"
    (line,) = _check_bounded(2, _error_text(data), 1, tmp_path / "out")
    assert line.startswith("  - environments[0].platform['k e y k e y ")
    assert "unknown key" in line
    assert len(line) < 800, line


def _long_entries(shape: str) -> dict[str, Any]:
    """Close to 1 MiB of long entries, each a problem: unknown keys, values no pattern
    accepts, CDKTF tokens."""
    data = example_data()
    env = data["environments"][0]
    count, size = 900, 1000
    if shape == "keys":
        for n in range(count):
            env["platform"][f"{n:04d}" + "x" * size] = "y"
    elif shape == "values":
        env["platform"]["studio_execution_role_arns"] = [f"{n}" + "r" * size for n in range(count)]
        env["projects"][0]["production_reviewers"] = {"users": ["-" * size] * 6}
    else:
        env["tags"] = {f"t{n}": "v" * size + "-8109562212591523e283" for n in range(count)}
    return data


def test_a_1_mib_file_of_long_bad_keys_prints_under_64_kb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = yaml.safe_dump(_long_entries("keys"), width=10**9)
    config = tmp_path / "c.yaml"
    config.write_text(text, encoding="utf-8")
    assert 0.8 * MAX_FILE_BYTES < len(text.encode("utf-8")) <= MAX_FILE_BYTES
    rc = main.main(["--config", str(config), "--outdir", str(tmp_path / "out")])
    lines = _check_bounded(rc, capsys.readouterr().err, 900, tmp_path / "out")
    assert all(len(line) < 800 for line in lines)


@pytest.mark.parametrize(("shape", "total"), [("values", 2), ("tokens", 900)])
def test_1_mib_of_long_bad_values_prints_under_64_kb(
    tmp_path: Path, shape: str, total: int
) -> None:
    data = _long_entries(shape)
    assert 0.8 * MAX_FILE_BYTES < len(yaml.safe_dump(data, width=10**9)) <= MAX_FILE_BYTES
    lines = _check_bounded(2, _error_text(data), total, tmp_path / "out")
    assert all(len(line) < 800 for line in lines)
