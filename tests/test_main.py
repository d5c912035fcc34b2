"""`python main.py`: exit codes, messages, and nothing written on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT, Synth, run_main


def test_bad_config_exits_non_zero_and_writes_nothing(
    tmp_path: Path, example: dict[str, Any]
) -> None:
    example["environments"][0]["projects"][0]["name"] = "bad_name"
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    outdir = tmp_path / "cdktf.out"
    result = run_main(config, outdir)
    assert result.returncode == 2
    assert (
        "environments[0].projects[0].name: 'bad_name' is not a name SageMaker accepts"
        in result.stderr
    )
    assert not outdir.exists()
    assert list(tmp_path.iterdir()) == [config]


def test_bad_config_leaves_previous_output_untouched(
    tmp_path: Path, example_synth: Synth, example: dict[str, Any]
) -> None:
    outdir = tmp_path / "cdktf.out"
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(example), encoding="utf-8")
    assert run_main(good, outdir).returncode == 0
    before = {p: p.read_bytes() for p in outdir.rglob("*") if p.is_file()}
    example["environments"][0]["region"] = "nowhere"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(example), encoding="utf-8")
    result = run_main(bad, outdir)
    assert result.returncode == 2
    after = {p: p.read_bytes() for p in outdir.rglob("*") if p.is_file()}
    assert after == before


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_main(tmp_path / "missing.yaml", tmp_path / "out")
    assert result.returncode == 2
    assert "file not found" in result.stderr
    assert not (tmp_path / "out").exists()


def test_summary_names_stacks_counts_and_next_steps(example_synth: Synth) -> None:
    out = example_synth.stdout
    assert "Synthesized 3 stack(s)" in out
    assert "dev " in out and "prod " in out and "forecast " in out
    assert " aws" in out and " github" in out
    assert "make deploy" in out


def test_no_node_or_jsii_banner(example_synth: Synth) -> None:
    text = (example_synth.stdout + example_synth.stderr).lower()
    for banner in ("node.js", "end-of-life", "jsii", "deprecated", "warning"):
        assert banner not in text, f"unexpected {banner!r} in output:\n{text}"


def test_synth_keeps_terraform_files_in_stack_dirs(tmp_path: Path, example: dict[str, Any]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    outdir = tmp_path / "cdktf.out"
    assert run_main(config, outdir).returncode == 0
    keep = outdir / "stacks" / "dev" / ".terraform.lock.hcl"
    keep.write_text("# lock\n")
    (outdir / "stacks" / "dev" / ".terraform").mkdir()
    example["environments"] = example["environments"][:1]
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    assert run_main(config, outdir).returncode == 0
    assert keep.read_text() == "# lock\n"
    assert (outdir / "stacks" / "dev" / ".terraform").is_dir()
    # the removed environment's generated files are gone
    assert not (outdir / "stacks" / "prod" / "cdk.tf.json").exists()


def test_config_path_from_the_environment(tmp_path: Path, example: dict[str, Any]) -> None:
    """`MLOPS_CONFIG=path` works like `--config path` (a generic `CONFIG` is not read)."""
    example["environments"][0]["region"] = "nowhere"
    config = tmp_path / "from-env.yaml"
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        env={**os.environ, "MLOPS_CONFIG": str(config), "CONFIG": "ignored.yaml"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert f"{config}: 1 problem" in result.stderr
    assert "environments[0].region: 'nowhere'" in result.stderr
