"""Run the real ``terraform`` offline: provider mirror discovery, CLI config, AWS-half copies.

Terraform normally downloads providers from the public registry. This machine image (and any
air-gapped CI) instead carries a *filesystem provider mirror*. This module

* finds that mirror: ``MLOPS_TF_PROVIDER_MIRROR`` when set (an error if it lacks the AWS
  provider), else the first of :data:`KNOWN_MIRROR_LOCATIONS` holding
  ``registry.terraform.io/hashicorp/aws/<version>``; nothing found means "use Terraform's
  normal behaviour" (users with registry access are left alone);
* writes a generated CLI configuration (``provider_installation`` with a ``filesystem_mirror``
  for the providers found and ``direct`` for everything else) into a directory we own, and
  passes it through ``TF_CLI_CONFIG_FILE`` only to the terraform processes started here;
* derives the "AWS half" of a stack (without the github provider and every ``github_*`` block)
  so the AWS side can be validated, planned and applied where the GitHub provider is absent.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIRROR_ENV = "MLOPS_TF_PROVIDER_MIRROR"
CLI_CONFIG_NAME = "terraform-mirror.tfrc"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
GITHUB_PROVIDER = "registry.terraform.io/integrations/github"
#: Provider versions pinned by the toolkit (cdktf-cdktf-provider-aws 20.1.0 / -github 15.3.1).
PINNED_VERSIONS: Mapping[str, str] = {AWS_PROVIDER: "5.100.0", GITHUB_PROVIDER: "6.9.0"}
#: Where a filesystem mirror is looked for when MLOPS_TF_PROVIDER_MIRROR is not set.
KNOWN_MIRROR_LOCATIONS: tuple[str, ...] = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
GITHUB_PREFIX = "github_"
_COLOURED = frozenset({"init", "validate", "plan", "apply", "destroy", "refresh"})
_REFERENCE_RE = re.compile(r"\b(?:data\.)?github_[a-z0-9_]+\.[A-Za-z0-9_-]+")


class MirrorError(RuntimeError):
    """``MLOPS_TF_PROVIDER_MIRROR`` names a directory that cannot serve the AWS provider."""


class TerraformNotFoundError(RuntimeError):
    """No ``terraform`` executable on PATH."""


@dataclass(frozen=True, kw_only=True)
class ProviderMirror:
    """A filesystem mirror directory and the pinned providers it holds."""

    path: Path
    providers: tuple[str, ...]

    @property
    def has_github(self) -> bool:
        """Whether the mirror also holds the integrations/github provider."""
        return GITHUB_PROVIDER in self.providers


def _platform() -> str:
    machine = os.uname().machine.lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{os.uname().sysname.lower()}_{arch}"


def mirror_holds(path: Path, provider: str, version: str) -> bool:
    """Whether ``path`` serves ``provider`` ``version`` for this platform (either layout)."""
    provider_dir = path / provider
    unpacked = provider_dir / version / _platform()
    if unpacked.is_dir() and any(unpacked.glob("terraform-provider-*")):
        return True
    type_name = provider.rsplit("/", 1)[-1]
    packed = provider_dir / f"terraform-provider-{type_name}_{version}_{_platform()}.zip"
    return packed.is_file()


def _inspect(path: Path) -> ProviderMirror | None:
    found = tuple(p for p, v in PINNED_VERSIONS.items() if mirror_holds(path, p, v))
    if AWS_PROVIDER not in found:
        return None
    return ProviderMirror(path=path, providers=found)


def find_mirror(
    environ: Mapping[str, str] | None = None,
    locations: Sequence[str] = KNOWN_MIRROR_LOCATIONS,
) -> ProviderMirror | None:
    """The provider mirror to use, or ``None`` to leave Terraform's installation alone."""
    env = os.environ if environ is None else environ
    explicit = env.get(MIRROR_ENV, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        mirror = _inspect(path)
        if mirror is None:
            raise MirrorError(
                f"{MIRROR_ENV}={explicit}: no {AWS_PROVIDER} {PINNED_VERSIONS[AWS_PROVIDER]} "
                f"for {_platform()} under it (expected {AWS_PROVIDER}/"
                f"{PINNED_VERSIONS[AWS_PROVIDER]}/{_platform()}/terraform-provider-aws_*); "
                f"fix the path or unset {MIRROR_ENV} to use the registry"
            )
        return mirror
    home = env.get("HOME")
    for location in locations:
        expanded = home + location[1:] if location.startswith("~") and home else location
        mirror = _inspect(Path(expanded))
        if mirror is not None:
            return mirror
    return None


def cli_config_text(mirror: ProviderMirror) -> str:
    """A Terraform CLI config installing the mirrored providers from the mirror only."""
    include = ", ".join(json.dumps(p) for p in mirror.providers)
    return (
        "# Generated by modules/ops/terraform.py: providers from a local mirror.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror.path))}\n"
        f"    include = [{include}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{include}]\n"
        "  }\n"
        "}\n"
    )


def write_cli_config(mirror: ProviderMirror, directory: Path) -> Path:
    """Write :func:`cli_config_text` into ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CLI_CONFIG_NAME
    path.write_text(cli_config_text(mirror), encoding="utf-8")
    return path


def terraform_env(cli_config: Path | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a terraform child process (the caller's own stays untouched)."""
    env = dict(os.environ if base is None else base)
    env["CHECKPOINT_DISABLE"] = "1"
    env["TF_IN_AUTOMATION"] = "1"
    if cli_config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    return env


def select_stacks(outdir: Path, stacks: Sequence[str] | None = None) -> tuple[Path, list[str]]:
    """``outdir/stacks`` and the synthesized stack names in it (all, or those named)."""
    stacks_dir = outdir / "stacks"
    if not stacks_dir.is_dir():
        raise FileNotFoundError(f"{stacks_dir} does not exist: run `make synth` first")
    names = sorted(p.name for p in stacks_dir.iterdir() if (p / "cdk.tf.json").is_file())
    if stacks:
        unknown = sorted(set(stacks) - set(names))
        if unknown:
            raise FileNotFoundError(f"no such stack(s) in {stacks_dir}: {', '.join(unknown)}")
        names = [n for n in names if n in stacks]
    return stacks_dir, names


def offline_env(directory: Path) -> tuple[dict[str, str], ProviderMirror | None]:
    """Terraform's environment: with a generated CLI config (written into ``directory``) when a
    provider mirror is found, else Terraform's normal registry behaviour."""
    mirror = find_mirror()
    cli_config = write_cli_config(mirror, directory) if mirror is not None else None
    return terraform_env(cli_config), mirror


def terraform_binary() -> str:
    """Path of ``terraform`` on PATH."""
    found = shutil.which("terraform")
    if found is None:
        raise TerraformNotFoundError(
            "terraform is not on PATH; install Terraform >= 1.11 (write-only arguments)"
        )
    return found


def run_terraform(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd`` without colour; output is captured."""
    command = [terraform_binary(), *args]
    if args and args[0] in _COLOURED and "-no-color" not in args:
        command.insert(2, "-no-color")
    return subprocess.run(  # noqa: S603 - terraform with arguments built by this toolkit
        command,
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        check=False,
    )


# --------------------------------------------------------------------------- AWS half


@dataclass(frozen=True, kw_only=True)
class AwsHalf:
    """The AWS-only copy of a stack and what was removed to make it."""

    document: dict[str, Any]
    removed: tuple[str, ...]


def _references_removed(value: Any, removed: set[str]) -> bool:
    text = json.dumps(value)
    return any(match.group(0) in removed for match in _REFERENCE_RE.finditer(text))


def _drop_github_blocks(doc: dict[str, Any], removed: set[str]) -> None:
    doc.get("terraform", {}).get("required_providers", {}).pop("github", None)
    providers = doc.get("provider", {})
    if "github" in providers:
        del providers["github"]
        removed.add("provider.github")
    for section, prefix in (("resource", ""), ("data", "data.")):
        blocks = doc.get(section, {})
        for rtype in [t for t in blocks if t.startswith(GITHUB_PREFIX)]:
            removed.update(f"{prefix}{rtype}.{name}" for name in blocks.pop(rtype))
        if section in doc and not blocks:
            del doc[section]


def _drop_dependent_outputs(doc: dict[str, Any], removed: set[str]) -> None:
    outputs = doc.get("output", {})
    for name in [n for n, body in outputs.items() if _references_removed(body, removed)]:
        del outputs[name]
        removed.add(f"output.{name}")
    if "output" in doc and not outputs:
        del doc["output"]


def prune_output_metadata(doc: dict[str, Any]) -> None:
    """Keep cdktf's ``//.outputs`` tree to outputs that still exist (the CLI walks it)."""
    present = set(doc.get("output", {}))

    def prune(node: Any) -> Any:
        if isinstance(node, dict):
            kept = {k: v for k, v in ((k, prune(v)) for k, v in node.items()) if v is not None}
            return kept or None
        return node if node in present else None

    meta = doc.get("//")
    if isinstance(meta, dict) and "outputs" in meta:
        outputs = prune(meta["outputs"])
        if outputs is None:
            del meta["outputs"]
        else:
            meta["outputs"] = outputs


def aws_half(document: Mapping[str, Any]) -> AwsHalf:
    """Drop the github provider, every ``github_*`` resource/data source and what refers to them.

    AWS blocks referring to a GitHub object in an expression are an error (the AWS half would
    not be the same configuration); ``depends_on`` entries naming one are pruned.
    """
    doc: dict[str, Any] = copy.deepcopy(dict(document))
    removed: set[str] = set()
    _drop_github_blocks(doc, removed)
    _drop_dependent_outputs(doc, removed)
    prune_output_metadata(doc)
    for section in ("resource", "data"):
        for rtype, items in doc.get(section, {}).items():
            for name, body in items.items():
                depends = body.get("depends_on")
                if isinstance(depends, list):
                    kept = [d for d in depends if not _references_removed(d, removed)]
                    if kept:
                        body["depends_on"] = kept
                    else:
                        del body["depends_on"]
                if _references_removed(body, removed):
                    raise ValueError(
                        f"{section} {rtype}.{name} refers to a GitHub object in an expression; "
                        "the AWS half cannot be separated from the GitHub half"
                    )
    return AwsHalf(document=doc, removed=tuple(sorted(removed)))


def copy_stack(
    stack_dir: Path, target: Path, document: Mapping[str, Any], *, keep_state: bool = False
) -> Path:
    """Write ``document`` as ``target/cdk.tf.json`` plus the stack's ``assets/``.

    ``target`` is emptied first except Terraform's own ``.terraform/`` and lock file (and the
    state when ``keep_state``), so repeated runs reuse the installed providers.
    """
    target.mkdir(parents=True, exist_ok=True)
    keep = {".terraform", ".terraform.lock.hcl"}
    if keep_state:
        keep |= {"terraform.tfstate", "terraform.tfstate.backup"}
    for child in target.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    (target / "cdk.tf.json").write_text(
        json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    assets = stack_dir / "assets"
    if assets.is_dir():
        shutil.copytree(assets, target / "assets")
    return target
