"""Provider mirror discovery, the generated CLI config and the AWS-half copy of a stack."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modules.ops.terraform import (
    AWS_PROVIDER,
    CLI_CONFIG_NAME,
    GITHUB_PROVIDER,
    MIRROR_ENV,
    MirrorError,
    _platform,
    aws_half,
    cli_config_text,
    copy_stack,
    find_mirror,
    run_terraform,
    terraform_env,
    write_cli_config,
)


def fake_mirror(root: Path, *, github: bool = False, packed: bool = False) -> Path:
    providers = [(AWS_PROVIDER, "5.100.0", "aws")]
    if github:
        providers.append((GITHUB_PROVIDER, "6.9.0", "github"))
    for address, version, name in providers:
        if packed:
            target = root / address / f"terraform-provider-{name}_{version}_{_platform()}.zip"
            target.parent.mkdir(parents=True, exist_ok=True)
        else:
            target = (
                root / address / version / _platform() / f"terraform-provider-{name}_v{version}"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"binary")
    return root


def test_explicit_mirror_from_the_environment_variable(tmp_path: Path) -> None:
    root = fake_mirror(tmp_path / "m", github=True)
    mirror = find_mirror({MIRROR_ENV: str(root)}, locations=())
    assert mirror is not None
    assert mirror.path == root
    assert mirror.providers == (AWS_PROVIDER, GITHUB_PROVIDER)
    assert mirror.has_github


def test_fails_when_the_explicit_mirror_lacks_the_aws_provider(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(MirrorError) as err:
        find_mirror({MIRROR_ENV: str(tmp_path / "empty")}, locations=())
    message = str(err.value)
    assert MIRROR_ENV in message
    assert "registry.terraform.io/hashicorp/aws/5.100.0" in message


def test_auto_discovery_takes_the_first_location_with_aws(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    wrong_version = tmp_path / "old" / AWS_PROVIDER / "5.0.0" / _platform()
    wrong_version.mkdir(parents=True)
    (wrong_version / "terraform-provider-aws_v5.0.0").write_bytes(b"x")
    good = fake_mirror(tmp_path / "home" / ".terraform.d" / "plugins", packed=True)
    mirror = find_mirror(
        {"HOME": str(tmp_path / "home")},
        locations=(str(tmp_path / "nothing"), str(tmp_path / "old"), "~/.terraform.d/plugins"),
    )
    assert mirror is not None
    assert mirror.path == good
    assert not mirror.has_github


def test_no_mirror_leaves_terraform_alone(tmp_path: Path) -> None:
    assert find_mirror({}, locations=(str(tmp_path),)) is None
    env = terraform_env(None, {"TF_CLI_CONFIG_FILE": "/users/own.tfrc", "PATH": "/bin"})
    assert env["TF_CLI_CONFIG_FILE"] == "/users/own.tfrc"
    assert env["CHECKPOINT_DISABLE"] == "1"


def test_cli_config_installs_mirrored_providers_from_the_mirror_only(tmp_path: Path) -> None:
    mirror = find_mirror({MIRROR_ENV: str(fake_mirror(tmp_path / "m"))}, locations=())
    assert mirror is not None
    text = cli_config_text(mirror)
    assert f'path    = "{tmp_path / "m"}"' in text
    assert f'include = ["{AWS_PROVIDER}"]' in text
    assert f'exclude = ["{AWS_PROVIDER}"]' in text
    path = write_cli_config(mirror, tmp_path / "build")
    assert path == tmp_path / "build" / CLI_CONFIG_NAME
    assert terraform_env(path, {})["TF_CLI_CONFIG_FILE"] == str(path)


def test_terraform_installs_aws_from_the_real_mirror_offline(tmp_path: Path) -> None:
    mirror = find_mirror()
    if mirror is None:
        pytest.skip("no provider mirror on this machine")
    config = write_cli_config(mirror, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf.json").write_text(
        json.dumps(
            {"terraform": {"required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}}}
        )
    )
    result = run_terraform(
        ["init", "-backend=false", "-input=false"], cwd=work, env=terraform_env(config)
    )
    assert result.returncode == 0, result.stderr
    assert "hashicorp/aws v5.100.0" in result.stdout
    assert (work / ".terraform" / "providers" / AWS_PROVIDER / "5.100.0" / _platform()).exists()


def stack_with_github() -> dict[str, Any]:
    return {
        "terraform": {
            "required_providers": {
                "aws": {"source": "aws", "version": "5.100.0"},
                "github": {"source": "integrations/github", "version": "6.9.0"},
            }
        },
        "provider": {"aws": [{"region": "eu-west-1"}], "github": [{"owner": "acme"}]},
        "data": {
            "aws_region": {"r": {}},
            "github_user": {"u": {"username": "octocat"}},
        },
        "resource": {
            "aws_iam_role": {
                "role": {
                    "name": "r",
                    "depends_on": ["github_actions_variable.v", "aws_s3_bucket.b"],
                }
            },
            "aws_s3_bucket": {"b": {"bucket": "b"}},
            "github_actions_variable": {"v": {"value": "${aws_iam_role.role.arn}"}},
        },
        "output": {
            "role": {"value": "${aws_iam_role.role.arn}"},
            "user": {"value": "${data.github_user.u.id}"},
        },
    }


def test_aws_half_drops_the_github_side_and_what_refers_to_it() -> None:
    original = stack_with_github()
    half = aws_half(original)
    doc = half.document
    assert doc["terraform"]["required_providers"] == {
        "aws": {"source": "aws", "version": "5.100.0"}
    }
    assert set(doc["provider"]) == {"aws"}
    assert set(doc["resource"]) == {"aws_iam_role", "aws_s3_bucket"}
    assert set(doc["data"]) == {"aws_region"}
    assert doc["resource"]["aws_iam_role"]["role"]["depends_on"] == ["aws_s3_bucket.b"]
    assert set(doc["output"]) == {"role"}
    assert half.removed == (
        "data.github_user.u",
        "github_actions_variable.v",
        "output.user",
        "provider.github",
    )
    assert "github" in original["provider"], "the input is not modified"


def test_fails_when_an_aws_block_reads_a_github_attribute() -> None:
    doc = stack_with_github()
    doc["resource"]["aws_s3_bucket"]["b"]["tags"] = {"u": "${data.github_user.u.id}"}
    with pytest.raises(ValueError, match=r"aws_s3_bucket\.b refers to a GitHub object"):
        aws_half(doc)


def test_copy_stack_keeps_terraform_files_and_state_only_when_asked(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    (stack / "assets" / "a").mkdir(parents=True)
    (stack / "assets" / "a" / "f.zip").write_bytes(b"zip")
    target = tmp_path / "copy"
    (target / ".terraform").mkdir(parents=True)
    for name in (".terraform.lock.hcl", "terraform.tfstate", "stale.tf.json"):
        (target / name).write_text("{}")
    copy_stack(stack, target, {"resource": {}}, keep_state=False)
    assert sorted(p.name for p in target.iterdir()) == [
        ".terraform",
        ".terraform.lock.hcl",
        "assets",
        "cdk.tf.json",
    ]
    assert (target / "assets" / "a" / "f.zip").read_bytes() == b"zip"
    (target / "terraform.tfstate").write_text("{}")
    copy_stack(stack, target, {}, keep_state=True)
    assert (target / "terraform.tfstate").exists()


def test_run_terraform_adds_no_color_after_the_subcommand(tmp_path: Path) -> None:
    result = run_terraform(["version"], cwd=tmp_path, env=terraform_env(None))
    assert result.returncode == 0
    assert "Terraform v" in result.stdout
    assert isinstance(result, subprocess.CompletedProcess)


def test_output_metadata_follows_the_outputs_kept() -> None:
    doc = stack_with_github()
    doc["//"] = {"outputs": {"dev": {"role": "role", "nested": {"user": "user"}}}}
    half = aws_half(doc).document
    assert half["//"] == {"outputs": {"dev": {"role": "role"}}}
