"""``make validate`` (``python -m modules.ops.validate``) with the real terraform, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modules.ops.terraform import find_mirror
from modules.ops.validate import main
from tests.conftest import Synth

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _needs_a_mirror() -> None:
    if find_mirror() is None:
        pytest.skip("no provider mirror here: validation would need the registry")


def test_every_example_stack_validates(
    example_synth: Synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--outdir", str(example_synth.outdir), "--workdir", str(tmp_path / "v")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    for name in example_synth.stack_names():
        aws_count = sum(
            len(items)
            for rtype, items in example_synth.stack(name)["resource"].items()
            if rtype.startswith("aws_")
        )
        assert any(
            line.split() == [name, "aws", str(aws_count), "valid"] for line in out.splitlines()
        ), out
        copy = json.loads((tmp_path / "v" / name / "aws" / "cdk.tf.json").read_text())
        assert not any(t.startswith("github_") for t in copy["resource"])
    if not find_mirror() or not find_mirror().has_github:  # type: ignore[union-attr]
        assert "whole stack skipped (no integrations/github provider" in err
    assert example_synth.outdir.joinpath("stacks", "dev", ".terraform").exists() is False


def test_fails_on_an_invalid_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "out" / "stacks" / "broken"
    stack.mkdir(parents=True)
    doc = {
        "terraform": {"required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}},
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {"aws_s3_bucket": {"b": {"bucket": "b", "no_such_argument": True}}},
    }
    (stack / "cdk.tf.json").write_text(json.dumps(doc))
    code = main(["--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "v")])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "broken       aws           1  INVALID" in out
    assert "Extraneous JSON object property" in out
    shutil.rmtree(tmp_path / "v")


def test_fails_for_an_unknown_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out" / "stacks" / "dev").mkdir(parents=True)
    (tmp_path / "out" / "stacks" / "dev" / "cdk.tf.json").write_text("{}")
    code = main(["--outdir", str(tmp_path / "out"), "--stack", "nope"])
    assert code == 1
    assert "no such stack(s)" in capsys.readouterr().err
