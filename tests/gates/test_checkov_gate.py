"""checkov gate: the example stacks pass, and each way a scan could lie is caught."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, Synth
from tools.gates.checkov_gate import (
    DEFAULT_SKIPS,
    CheckovGateError,
    Finding,
    Skip,
    SkipsFileError,
    StackScan,
    evaluate,
    load_skips,
    parse_skips,
    run_gate,
    scan_stack,
    scannable,
)


def _write_stack(root: Path, name: str, doc: dict[str, Any], filename: str = "cdk.tf.json") -> Path:
    path = root / "stacks" / name / filename
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_example_stacks_pass_checkov(example_synth: Synth, checkov: Path) -> None:
    result = run_gate(example_synth.outdir, checkov=checkov)
    assert result.ok, result.render()


def test_every_skip_is_still_needed(example_synth: Synth, checkov: Path) -> None:
    result = run_gate(example_synth.outdir, checkov=checkov)
    assert result.unused_skips == (), result.render()


def test_every_block_of_every_stack_is_scanned(example_synth: Synth, checkov: Path) -> None:
    for name in example_synth.stack_names():
        stack_file = example_synth.outdir / "stacks" / name / "cdk.tf.json"
        scan = scan_stack(checkov, stack_file)  # raises when checkov parsed a different set
        assert scan.stack == name
        assert scan.passed > 0


def test_fails_when_checkov_cannot_parse_the_stack(
    example_synth: Synth, checkov: Path, tmp_path: Path
) -> None:
    # checkov's terraform_json parser fails on terraform.required_version and then reports
    # "0 failed" with exit code 0; the gate must not pass that.
    doc = example_synth.stack("dev")
    doc["terraform"]["required_version"] = ">= 1.11"
    stack_file = _write_stack(tmp_path, "dev", doc)
    with pytest.raises(CheckovGateError, match="cannot parse"):
        scan_stack(checkov, stack_file)


def test_fails_when_checkov_reads_no_file(
    example_synth: Synth, checkov: Path, tmp_path: Path
) -> None:
    # checkov runs no runner on a file its terraform_json runner does not pick up (not
    # *.tf.json): it prints a bare zero summary and exits 0.
    stack_file = _write_stack(tmp_path, "dev", example_synth.stack("dev"), "stack.json")
    with pytest.raises(CheckovGateError, match="ran no terraform_json scan"):
        scan_stack(checkov, stack_file)


def test_fails_on_a_deliberately_insecure_policy(
    example_synth: Synth, checkov: Path, tmp_path: Path
) -> None:
    doc = copy.deepcopy(example_synth.stack("dev"))
    name, policy = next(iter(doc["data"]["aws_iam_policy_document"].items()))
    policy["statement"].append({"actions": ["*"], "effect": "Allow", "resources": ["*"]})
    _write_stack(tmp_path, "dev", doc)
    result = run_gate(tmp_path, checkov=checkov)
    assert not result.ok
    admin = [f for f in result.failures if f.address == f"aws_iam_policy_document.{name}"]
    assert {"CKV_AWS_1", "CKV_AWS_49"} <= {f.check_id for f in admin}, result.render()
    assert all(f.construct_path == policy["//"]["metadata"]["path"] for f in admin)
    assert "CKV_AWS_1" in result.render()


# --- skips ------------------------------------------------------------------------------------


def _finding(check_id: str, path: str) -> Finding:
    return Finding(
        stack="dev", check_id=check_id, check_name="a check", address="t.n", construct_path=path
    )


def test_a_skip_applies_only_to_its_check_and_paths() -> None:
    skip = Skip(check_id="CKV_AWS_117", reason="x" * 30, paths=("*/trigger/function",))
    scan = StackScan(
        stack="dev",
        passed=3,
        failed=(
            _finding("CKV_AWS_117", "dev/trigger/function"),
            _finding("CKV_AWS_117", "dev/other/function"),
            _finding("CKV_AWS_116", "dev/trigger/function"),
        ),
    )
    result = evaluate([scan], [skip])
    assert [f.construct_path for f, _ in result.skipped] == ["dev/trigger/function"]
    assert [(f.check_id, f.construct_path) for f in result.failures] == [
        ("CKV_AWS_117", "dev/other/function"),
        ("CKV_AWS_116", "dev/trigger/function"),
    ]
    assert not result.ok


def test_an_unused_skip_is_reported() -> None:
    skip = Skip(check_id="CKV_AWS_117", reason="x" * 30, paths=("*",))
    result = evaluate([StackScan(stack="dev", passed=1, failed=())], [skip])
    assert result.ok
    assert result.unused_skips == (skip,)
    assert "CKV_AWS_117 ['*'] matched nothing" in result.render()


def test_skips_file_gives_every_skip_a_reason_and_no_duplicate() -> None:
    skips = load_skips()
    assert all(len(s.reason) >= 20 and s.paths for s in skips)
    node = yaml.compose(DEFAULT_SKIPS.read_text(encoding="utf-8"))
    keys = [k.value for k, _ in node.value] if node is not None else []
    assert len(keys) == len(set(keys)) == len(skips)
    assert DEFAULT_SKIPS == ROOT / "checkov_skips.yaml"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"CKV_AWS_117": {"paths": ["*"]}}, "exactly 'reason' and 'paths'"),
        ({"CKV_AWS_117": {"reason": "because", "paths": ["*"]}}, "in a sentence"),
        ({"CKV_AWS_117": {"reason": "r" * 30, "paths": []}}, "non-empty list"),
        ({"AWS_117": {"reason": "r" * 30, "paths": ["*"]}}, "not a checkov check id"),
        (["CKV_AWS_117"], "expected a mapping"),
    ],
)
def test_fails_on_malformed_skips(data: Any, message: str) -> None:
    with pytest.raises(SkipsFileError, match=message):
        parse_skips(data)


def test_state_only_blocks_are_left_out_of_the_scanned_copy(tmp_path: Path) -> None:
    """checkov cannot parse ``moved`` blocks: it scans a copy without them, never the original
    changed, and the original itself when there is nothing to leave out."""
    stack_file = tmp_path / "cdk.tf.json"
    doc = {
        "resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}},
        "moved": [{"from": "aws_s3_bucket.a", "to": "aws_s3_bucket.b"}],
    }
    stack_file.write_text(json.dumps(doc), encoding="utf-8")
    with scannable(stack_file, doc) as scanned:
        assert scanned != stack_file
        assert json.loads(scanned.read_text(encoding="utf-8")) == {"resource": doc["resource"]}
    assert not scanned.exists()
    assert json.loads(stack_file.read_text(encoding="utf-8")) == doc
    plain = {"resource": doc["resource"]}
    with scannable(stack_file, plain) as scanned:
        assert scanned == stack_file
