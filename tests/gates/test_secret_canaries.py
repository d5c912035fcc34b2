"""No secret input reaches the synthesized output, the logs or the committed test files.

Every secret environment variable a user may have set while running `make synth` (GitHub
token, each owner's token ``TF_VAR_github_owner_token_<owner>``, the GitHub App's private key
``TF_VAR_github_app_pem``, the trigger function's token, an AWS key pair and session token, a
Terraform Cloud token) gets a unique random canary; a fresh ``main.py`` process synthesizes the
example config (both auth modes), and the same config with a GitHub App for one owner, and
every byte it left behind is searched for each canary.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_CONFIG, ROOT, Synth, example_data, run_main
from tools.gates.canaries import find_canaries, make_canaries, secret_variables

OWNERS = sorted(
    {p["github"]["owner"] for env in example_data()["environments"] for p in env["projects"]}
)


def _app_config(tmp_path: Path) -> Path:
    data = example_data()
    data["environments"][0]["platform"]["github_app"] = {
        "id": "123456",
        "installation_ids": {OWNERS[-1]: "987654"},
    }
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("variant", ["example", "github App"])
def test_no_secret_input_reaches_output_logs_or_snapshots(tmp_path: Path, variant: str) -> None:
    names = secret_variables(OWNERS)
    assert {"TF_VAR_github_app_pem", "TF_VAR_github_owner_token_acme_ml"} <= set(names)
    assert "TF_VAR_github_owner_token_acme_risk" in names
    canaries = make_canaries(names)
    config = EXAMPLE_CONFIG if variant == "example" else _app_config(tmp_path)
    result = run_main(config, tmp_path / "cdktf.out", env=canaries)
    assert result.returncode == 0, result.stderr
    stacks = list((tmp_path / "cdktf.out" / "stacks").glob("*/cdk.tf.json"))
    assert stacks
    # the variables the canaries stand for are the ones the stacks declare
    declared = {v for s in stacks for v in json.loads(s.read_text()).get("variable", {})}
    assert {n.removeprefix("TF_VAR_") for n in names if n.startswith("TF_VAR_")} & declared
    if variant == "github App":
        assert "github_app_pem" in declared
    found = find_canaries(
        canaries,
        files=[tmp_path / "cdktf.out", ROOT / "tests"],
        texts={"stdout": result.stdout, "stderr": result.stderr},
    )
    assert found == []


def test_canaries_cover_every_secret_variable_the_stacks_declare(example_synth: Synth) -> None:
    names = set(secret_variables(OWNERS))
    for stack in example_synth.stack_names():
        for name, variable in example_synth.stack(stack).get("variable", {}).items():
            if variable.get("sensitive"):
                assert f"TF_VAR_{name}" in names, name


def test_a_leaked_pem_is_found_whole_json_escaped_or_by_one_line(tmp_path: Path) -> None:
    canaries = make_canaries(["TF_VAR_github_app_pem"])
    pem = canaries["TF_VAR_github_app_pem"]
    assert pem.startswith("-----BEGIN") and pem.count("\n") == 4
    body_line = pem.splitlines()[2]
    found = find_canaries(
        canaries,
        texts={
            "json": json.dumps({"pem_file": pem}),
            "log": f"key line: {body_line}",
            "clean": "-----BEGIN RSA PRIVATE KEY-----",
        },
    )
    assert found == [
        "json: TF_VAR_github_app_pem (JSON-escaped)",
        "json: TF_VAR_github_app_pem (line 2)",
        "json: TF_VAR_github_app_pem (line 3)",
        "log: TF_VAR_github_app_pem (line 3)",
    ]


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
