"""The golden synth: every file under cdktf.out/stacks/ is byte-identical to the snapshot.

Three configs (tools/gates/golden.py: the example, a variant with the optional features on,
and a one-project config) are re-synthesized and every file's sha256 is compared with
tests/snapshots/golden.json. A change that is meant to alter the output regenerates the
snapshot with `make golden` and commits it with the change; a refactor must leave it alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.gates import golden


def test_synth_output_matches_the_golden_snapshot(tmp_path: Path) -> None:
    expected = json.loads(golden.SNAPSHOT.read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(golden.VARIANTS)
    actual = golden.golden(tmp_path)
    assert golden.differences(expected, actual) == [], "run `make golden` only if this is meant"


def test_the_snapshot_covers_stack_json_and_assets_of_every_stack() -> None:
    expected = json.loads(golden.SNAPSHOT.read_text(encoding="utf-8"))
    for name, files in expected.items():
        data = golden.variant_data(name)
        for env in data["environments"]:
            prefix = f"stacks/{env['name']}/"
            assert f"{prefix}cdk.tf.json" in files, name
            assert any(p.startswith(f"{prefix}assets/") and p.endswith(".zip") for p in files)
        assert all(len(digest) == 64 for digest in files.values())


def test_differences_names_changed_new_and_missing_files() -> None:
    want = {"a": {"x": "1", "y": "2"}}
    got = {"a": {"x": "1", "y": "3", "z": "4"}, "b": {"w": "5"}}
    assert golden.differences(want, got) == [
        "a: y has other bytes",
        "a: z is new",
        "b: w is new",
    ]
    assert golden.differences(got, want) == [
        "a: y has other bytes",
        "a: z is no longer written",
        "b: w is no longer written",
    ]
