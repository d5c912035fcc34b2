"""`python -m modules.ops.stacks`: the config and stacks make diff/deploy/destroy/drift use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.core.config import write_record
from modules.ops.stacks import main


@pytest.fixture
def outdir(tmp_path: Path, example: dict[str, Any]) -> Path:
    config = tmp_path / "mine.yaml"
    example["environments"][0]["name"] = "mine"
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    out = tmp_path / "cdktf.out"
    out.mkdir()
    write_record(out, config)
    return out


def test_names_the_remembered_config_and_its_stacks(
    outdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(outdir.parent)
    assert main(["--outdir", str(outdir), "--stack", "mine"]) == 0
    assert capsys.readouterr().out == (
        "config: mine.yaml (remembered from the last synth); stacks: mine, prod, forecast\n"
    )


def test_fails_on_a_stack_that_is_not_in_the_config(
    outdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(outdir.parent)
    assert main(["--outdir", str(outdir), "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: STACK=dev: 1 problem in the configuration:\n"
        "  - not a stack of mine.yaml (remembered from the last synth); its stacks: mine, prod, "
        "forecast\n"
    )


def test_fails_when_mlops_config_contradicts_the_record(
    outdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_CONFIG", "config/example.yaml")
    assert main(["--outdir", str(outdir)]) == 2
    assert "make synth CONFIG=config/example.yaml" in capsys.readouterr().err


def test_prints_the_remembered_config_path_for_preflight(
    outdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(outdir.parent)
    assert main(["--outdir", str(outdir), "--print-path"]) == 0
    captured = capsys.readouterr()
    assert Path(captured.out.strip()).resolve() == (outdir.parent / "mine.yaml").resolve()
    assert (
        captured.err
        == "config: mine.yaml (remembered from the last synth); stacks: mine, prod, forecast\n"
    )


def test_a_config_on_the_command_line_wins_and_is_checked_at_once(
    outdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(outdir.parent)
    example = "config/example.yaml"
    (outdir.parent / "config").mkdir()
    (outdir.parent / example).write_text(
        (Path(__file__).resolve().parents[3] / example).read_text(encoding="utf-8")
    )
    assert main(["--outdir", str(outdir), "--config", example, "--stack", "mine"]) == 2
    assert (
        "not a stack of config/example.yaml (given on the command line); its stacks: dev, prod"
        in (capsys.readouterr().err)
    )
    assert main(["--outdir", str(outdir), "--config", example, "--print-path"]) == 0
    assert capsys.readouterr().out == f"{example}\n"
