"""The synth summary names the config it used and how the next targets find it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.core.config import ConfigChoice
from modules.synth import StackSummary, SynthSummary
from tests.conftest import Synth

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


def test_summary_warns_once_per_stack_whose_state_stays_in_this_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    local = StackSummary(
        name="mine",
        path=Path("cdktf.out/stacks/mine/cdk.tf.json"),
        resources={"aws": 3},
        data_sources=1,
        projects=1,
        local_state="../../../terraform.mine.tfstate",
    )
    remote = StackSummary(
        name="prod", path=Path("cdktf.out/stacks/prod/cdk.tf.json"), resources={}, data_sources=0,
        projects=1,
    )  # fmt: skip
    mine = ConfigChoice(path=tmp_path / "my.yaml", source="--config")
    lines = SynthSummary(outdir=Path("cdktf.out"), stacks=(local, remote), choice=mine).render()
    warnings = [line for line in lines.splitlines() if "warning:" in line]
    assert warnings == [
        "  warning: stack mine keeps its Terraform state in this clone "
        "(terraform.mine.tfstate); another clone or CI has none: use an s3 or cloud backend "
        "per account (docs/state.md)"
    ]
    example = ConfigChoice(path=tmp_path / "config" / "example.yaml", source="example")
    text = SynthSummary(outdir=Path("cdktf.out"), stacks=(local,), choice=example).render()
    assert "warning:" not in text


def test_the_local_state_of_the_examples_stacks(example_synth: Synth) -> None:
    from modules.synth import _local_state  # noqa: PLC0415

    assert _local_state(example_synth.stack("dev")) == "../../../terraform.dev.tfstate"
    assert _local_state(example_synth.stack("prod")) is None  # s3
    assert _local_state({"terraform": {"cloud": {"organization": "acme"}}}) is None
    assert _local_state({"terraform": {}}) == "terraform.tfstate"
