"""The synth summary names the config it used and how the next targets find it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.core.config import ConfigChoice
from modules.synth import StackSummary, SynthSummary

STACK = StackSummary(
    name="mine",
    path=Path("cdktf.out/stacks/mine/cdk.tf.json"),
    resources={"aws": 3},
    data_sources=1,
    projects=1,
)


def test_summary_names_the_config_and_the_next_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    choice = ConfigChoice(path=tmp_path / "my.yaml", source="--config")
    text = SynthSummary(outdir=Path("cdktf.out"), stacks=(STACK,), choice=choice).render()
    lines = text.splitlines()
    assert lines[0] == (
        "Synthesized 1 stack(s) into cdktf.out/ from my.yaml (given on the command line):"
    )
    assert "Next (cdktf.out/ remembers my.yaml; these and the cdktf CLI use it):" in lines
    assert any(line.startswith("  make diff STACK=mine") for line in lines)
    assert any(line.startswith("  make deploy STACK=mine") for line in lines)
    assert "  make synth CONFIG=<path>   to switch to another config" in lines


def test_summary_of_the_example_says_how_to_use_your_own() -> None:
    choice = ConfigChoice(path=Path("/elsewhere/config/example.yaml"), source="example")
    first = SynthSummary(outdir=Path("out"), stacks=(STACK,), choice=choice).render()
    assert first.splitlines()[0].endswith(
        "(the example; add mlops.yaml or pass CONFIG= to use your own):"
    )


def test_summary_says_when_it_replaced_another_configs_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    choice = ConfigChoice(path=tmp_path / "b.yaml", source="--config", previous=tmp_path / "a.yaml")
    lines = SynthSummary(outdir=Path("out"), stacks=(STACK,), choice=choice).render().splitlines()
    assert lines[1] == "  (this replaced the output of a.yaml)"
    same = ConfigChoice(path=tmp_path / "a.yaml", source="recorded", previous=tmp_path / "a.yaml")
    text = SynthSummary(outdir=Path("out"), stacks=(STACK,), choice=same).render()
    assert "replaced" not in text
