"""A new user's sequence, through the real Makefile and the pinned cdktf CLI.

`make synth CONFIG=my.yaml` then `make diff STACK=mine` must diff the user's stack (before the
config was remembered, `make diff` re-synthesized config/example.yaml, the CLI deleted the
user's stack directory and then said "Could not find stack"). Only Terraform itself is replaced,
by a stand-in (`TERRAFORM_BINARY_NAME`, read by @cdktf/commons terraform.js) that records the
directory and arguments of every call and answers like a plan without changes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

COPIED = (
    "Makefile",
    "cdktf.json",
    "main.py",
    "modules",
    "config",
    "lambda_src",
    "layer_build",
    "requirements.txt",
    "requirements-dev.txt",
    "requirements.lock",
    "requirements-dev.lock",
    "package.json",
    "package-lock.json",
)
MY_CONFIG = """\
environments:
  - name: mine
    account_id: "222222222222"
    region: eu-central-1
    platform:
      studio_execution_role_arns:
        - arn:aws:iam::222222222222:role/service-role/AmazonSageMaker-ExecutionRole-mine
      deployer_principal_arn: arn:aws:iam::222222222222:role/terraform
    projects:
      - name: fraud-model
        github: {owner: my-org, repository: fraud-model}
        production_reviewers: {users: [alice]}
"""
FAKE_TERRAFORM = """\
#!/bin/sh
echo "$PWD :: $*" >> "$FAKE_TERRAFORM_LOG"
case "$1" in
  -v|version|-version) echo "Terraform v1.11.4"; echo "on linux_amd64" ;;
  init) echo "Terraform has been successfully initialized!" ;;
  plan) echo "No changes. Your infrastructure matches the configuration." ;;
esac
exit 0
"""
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project, with the shared installs linked in."""
    assert (ROOT / "node_modules" / ".bin" / "cdktf").exists(), "run `make node` first"
    dest = tmp_path / "project"
    dest.mkdir()
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    # The install stamps live in the shared .venv/node_modules: make must see them as newer
    # than the copied requirement files, or it would reinstall into the shared environments.
    for name in (
        "requirements.txt",
        "requirements-dev.txt",
        "requirements.lock",
        "requirements-dev.lock",
        "package.json",
        "package-lock.json",
    ):
        os.utime(dest / name, (0, 0))
    (dest / "my.yaml").write_text(MY_CONFIG, encoding="utf-8")
    return dest


def make(project: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    fake = project.parent / "bin" / "terraform"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_TERRAFORM, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {
        **os.environ,
        "TERRAFORM_BINARY_NAME": str(fake),
        "FAKE_TERRAFORM_LOG": str(project.parent / "terraform.log"),
        "MLOPS_BUILD_DIR": str(ROOT / "build"),  # reuse the layer zips (same lock, same bytes)
        "CHECKPOINT_DISABLE": "1",
        # what a CI system may well have set for something else: it must not pick the config
        "CONFIG": "config/example.yaml",
        **extra_env,
    }
    for name in ("CDKTF_OUTDIR", "MLOPS_CONFIG", "TF_CLI_CONFIG_FILE", "MAKEFLAGS", "CI"):
        if name not in extra_env:
            env.pop(name, None)
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def terraform_calls(project: Path) -> list[str]:
    log = project.parent / "terraform.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_synth_my_config_then_diff_my_stack(project: Path) -> None:
    synth = make(project, "synth", "CONFIG=my.yaml")
    assert synth.returncode == 0, synth.stdout + synth.stderr
    assert "Synthesized 1 stack(s) into cdktf.out/ from my.yaml (given on the command line)" in (
        synth.stdout
    )
    assert "cdktf.out/ remembers my.yaml" in synth.stdout
    assert "make diff STACK=mine" in synth.stdout
    record = json.loads((project / "cdktf.out" / "synthesized-from.json").read_text())
    assert record == {"config": "../my.yaml"}
    mine = project / "cdktf.out" / "stacks" / "mine" / "cdk.tf.json"
    assert mine.is_file()

    diff = make(project, "diff", "STACK=mine")
    output = diff.stdout + diff.stderr
    assert diff.returncode == 0, output
    assert "config: my.yaml (remembered from the last synth); stacks: mine" in diff.stdout
    # the CLI synthesized my.yaml again (not the example) and planned the user's stack
    assert sorted(p.name for p in (project / "cdktf.out" / "stacks").iterdir()) == ["mine"]
    stack = json.loads(mine.read_text())
    assert stack["provider"]["aws"][0]["region"] == "eu-central-1"
    plans = [c for c in terraform_calls(project) if ":: plan" in c]
    assert plans and all(c.startswith(f"{project}/cdktf.out/stacks/mine ::") for c in plans)
    assert "Could not find stack" not in output
    # quiet in a log: no [ERROR]-tagged progress, no spinner frames
    assert "[ERROR]" not in output, output
    assert not any(ch in output for ch in SPINNER), output


def test_fails_on_a_stack_that_is_not_in_the_config(project: Path) -> None:
    assert make(project, "synth", "CONFIG=my.yaml").returncode == 0
    before = (project / "cdktf.out" / "stacks" / "mine" / "cdk.tf.json").read_bytes()
    diff = make(project, "diff", "STACK=dev")
    assert diff.returncode != 0
    assert "STACK=dev: 1 problem" in diff.stderr
    assert "not a stack of my.yaml (remembered from the last synth); its stacks: mine" in (
        diff.stderr
    )
    assert terraform_calls(project) == [], "nothing ran"
    assert (project / "cdktf.out" / "stacks" / "mine" / "cdk.tf.json").read_bytes() == before


def test_fails_when_mlops_config_would_switch_under_the_cli(project: Path) -> None:
    """No target re-synthesizes a different config over existing output silently."""
    assert make(project, "synth", "CONFIG=my.yaml").returncode == 0
    before = (project / "cdktf.out" / "stacks" / "mine" / "cdk.tf.json").read_bytes()
    diff = make(project, "diff", "STACK=mine", MLOPS_CONFIG="config/example.yaml")
    assert diff.returncode != 0
    assert "was synthesized from" in diff.stderr
    assert "make synth CONFIG=config/example.yaml" in diff.stderr
    assert (project / "cdktf.out" / "stacks" / "mine" / "cdk.tf.json").read_bytes() == before
    assert not (project / "cdktf.out" / "stacks" / "dev").exists()


def test_plain_make_prints_help_and_validate_uses_the_remembered_config(project: Path) -> None:
    bare = make(project)
    assert bare.returncode == 0
    for target in ("synth", "test", "test-fast", "diff", "schema", "addresses"):
        assert f"  {target} " in bare.stdout.replace("\x1b[36m", "  ").replace("\x1b[0m", " ")
    assert "pytest" not in bare.stdout + bare.stderr
    assert make(project, "synth", "CONFIG=my.yaml").returncode == 0
    again = make(project, "synth")  # no CONFIG: the remembered one, not the example
    assert again.returncode == 0, again.stderr
    assert "from my.yaml (remembered from the last synth)" in again.stdout
    assert sorted(p.name for p in (project / "cdktf.out" / "stacks").iterdir()) == ["mine"]


def test_a_new_mlops_yaml_is_announced_and_preflight_uses_the_remembered_config(
    project: Path,
) -> None:
    assert make(project, "synth", "CONFIG=my.yaml").returncode == 0
    shutil.copy(project / "config" / "example.yaml", project / "mlops.yaml")
    again = make(project, "synth")
    assert again.returncode == 0, again.stderr
    assert "from my.yaml (remembered from the last synth)" in again.stdout
    assert (
        "  (note: mlops.yaml is not used: the output remembers my.yaml; to switch, run "
        "`make synth CONFIG=mlops.yaml` once)"
    ) in again.stdout.splitlines()
    policy = make(project, "deployer-policy", "STACK=dev")
    assert policy.returncode == 2
    assert "note: mlops.yaml is not used" in policy.stderr
    assert "not a stack of my.yaml (remembered from the last synth); its stacks: mine" in (
        policy.stderr
    )
