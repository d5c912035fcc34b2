"""Version, changelog and licence: one version everywhere, `--version` prints it."""

from __future__ import annotations

import re
import tomllib

import pytest

import main
from modules.core.version import VERSION, version_text
from tests.conftest import ROOT


def test_version_matches_pyproject_and_the_changelog() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == VERSION
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, flags=re.MULTILINE)
    assert headings[0] == "Unreleased", "the newest section collects unreleased changes"
    assert headings[1] == VERSION, "the newest release in CHANGELOG.md is VERSION"


def test_main_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"sagemaker-github-mlops {VERSION} (cdktf 0.21.0, ")
    assert "cdktf-cdktf-provider-aws 20.1.0" in out
    assert "cdktf-cdktf-provider-github 15.3.1" in out
    assert out == version_text() + "\n"


def test_licence_is_mit_0() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT No Attribution\n")
    assert "without restriction" in text
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "MIT-0"
