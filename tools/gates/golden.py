"""The golden synth: sha256 of every synthesized file, for a handful of configs.

Refactors of the constructs must not change what a synth writes (construct ids are resource
addresses, and any changed byte is a plan diff for every user). ``tests/test_golden.py``
re-synthesizes the configs below and compares every file under ``cdktf.out/stacks/`` with the
committed ``tests/snapshots/golden.json`` byte for byte (by sha256).

When a change is *meant* to alter the output (a new resource, a changed default), regenerate the
snapshot deliberately and commit it with that change: ``make golden``
(``python -m tools.gates.golden --write tests/snapshots/golden.json``). The diff of the snapshot
then shows which stacks and files changed.

The configs: ``config/example.yaml`` (two environments: OIDC and access keys, per-owner GitHub
providers, a shared and a per-project pipeline role, three projects) and variants of it that
switch on the optional features the example leaves off (GitHub App auth, alarms, an existing
OIDC provider, an HCP Terraform backend, no seed code, no staging environment, workflows by
pull request, no SageMaker project) and a minimal one-project config.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import io
import json
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "golden.json"
EXAMPLE = ROOT / "config" / "example.yaml"

Data = dict[str, Any]


def _example(data: Data) -> Data:
    return data


def _options(data: Data) -> Data:
    dev = data["environments"][0]
    dev["backend"] = {"type": "cloud", "organization": "acme"}
    dev["platform"]["github_app"] = {"id": "123456", "installation_ids": {"acme-risk": "987654"}}
    topic = f"arn:aws:sns:{dev['region']}:{dev['account_id']}:ml-alerts"
    dev["platform"]["alarms"] = {"sns_topic_arn": topic, "emails": ["ml-oncall@acme.example"]}
    dev["platform"]["oidc_provider_arn"] = (
        f"arn:aws:iam::{dev['account_id']}:oidc-provider/token.actions.githubusercontent.com"
    )
    first, second = dev["projects"]
    first["seed_code"] = False
    first["staging_environment"] = False
    second["github"]["workflows_via_pull_request"] = True
    second["create_sagemaker_project"] = False
    return data


def _single(data: Data) -> Data:
    dev = data["environments"][0]
    dev["projects"] = dev["projects"][:1]
    data["environments"] = [dev]
    return data


#: name -> how the config is derived from config/example.yaml's data.
VARIANTS: dict[str, Callable[[Data], Data]] = {
    "example": _example,
    "options": _options,
    "single": _single,
}


def variant_data(name: str) -> Data:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return VARIANTS[name](copy.deepcopy(data))


def file_hashes(outdir: Path) -> dict[str, str]:
    """sha256 of every file under ``outdir/stacks``, keyed by its path relative to ``outdir``."""
    stacks = outdir / "stacks"
    return {
        path.relative_to(outdir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(stacks.rglob("*"))
        if path.is_file()
    }


def synthesize_variant(name: str, workdir: Path) -> dict[str, str]:
    """Synthesize variant ``name`` in this process (cdktf must be prepared) and hash its files."""
    from modules.core.config import load_config  # noqa: PLC0415
    from modules.synth import synthesize  # noqa: PLC0415

    config = workdir / f"{name}.yaml"
    config.write_text(yaml.safe_dump(variant_data(name), sort_keys=True), encoding="utf-8")
    outdir = workdir / f"{name}-out"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        synthesize(load_config(config), outdir)
    return file_hashes(outdir)


def golden(workdir: Path) -> dict[str, dict[str, str]]:
    return {name: synthesize_variant(name, workdir) for name in VARIANTS}


def differences(expected: Mapping[str, Mapping[str, str]], actual: Mapping[str, Any]) -> list[str]:
    """One line per config/file that is new, gone or has other bytes."""
    lines: list[str] = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name, {}), actual.get(name, {})
        for path in sorted(set(want) | set(got)):
            if path not in got:
                lines.append(f"{name}: {path} is no longer written")
            elif path not in want:
                lines.append(f"{name}: {path} is new")
            elif want[path] != got[path]:
                lines.append(f"{name}: {path} has other bytes")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True, help="the snapshot file to write")
    args = parser.parse_args(argv)
    from modules import runtime  # noqa: PLC0415

    runtime.prepare()
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        snapshot = golden(Path(tmp))
    args.write.parent.mkdir(parents=True, exist_ok=True)
    args.write.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    files = sum(len(v) for v in snapshot.values())
    print(f"wrote {args.write}: {files} files in {len(snapshot)} config(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
