"""No secret input reaches the synthesized output, the logs or the committed test files.

Every secret environment variable a user may have set while running `make synth` (GitHub
token, the trigger function's token, an AWS key pair and session token, a Terraform Cloud
token) gets a unique random canary; a fresh ``main.py`` process synthesizes the example config
(both auth modes) and every byte it left behind is searched for each canary.
"""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import EXAMPLE_CONFIG, ROOT, run_main
from tools.gates.canaries import SECRET_VARIABLES, find_canaries, make_canaries


def test_no_secret_input_reaches_output_logs_or_snapshots(tmp_path: Path) -> None:
    canaries = make_canaries()
    assert set(canaries) == set(SECRET_VARIABLES)
    result = run_main(EXAMPLE_CONFIG, tmp_path / "cdktf.out", env=canaries)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "cdktf.out" / "stacks").glob("*/cdk.tf.json"))
    found = find_canaries(
        canaries,
        files=[tmp_path, ROOT / "tests"],
        texts={"stdout": result.stdout, "stderr": result.stderr},
    )
    assert found == []


def test_canary_search_finds_a_leak_in_any_place_and_form(tmp_path: Path) -> None:
    canaries = make_canaries(["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"])
    assert len(set(canaries.values())) == 2
    leaked = tmp_path / "out" / "stacks" / "dev" / "cdk.tf.json"
    leaked.parent.mkdir(parents=True)
    leaked.write_text(f'{{"token": "{canaries["GITHUB_TOKEN"]}"}}', encoding="utf-8")
    encoded = base64.b64encode(canaries["AWS_SECRET_ACCESS_KEY"].encode()).decode()
    found = find_canaries(
        canaries,
        files=[tmp_path / "out"],
        texts={"stderr": f"secret_string = {encoded}", "stdout": "clean"},
    )
    assert found == [
        f"{leaked}: GITHUB_TOKEN (as written)",
        "stderr: AWS_SECRET_ACCESS_KEY (base64)",
    ]
