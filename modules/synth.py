"""Synthesize an app into ``cdktf.out/`` safely and summarize what was written.

The app is synthesized into a temporary directory first; only when that succeeded are the
generated files moved into place. A failing synth therefore leaves the previous output as it
was, and files Terraform keeps next to ``cdk.tf.json`` (``.terraform/``, the lock file, local
state) are never deleted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from modules.app import build_app
from modules.artifacts import build_artifacts
from modules.core.config import ConfigChoice, ToolkitConfig, write_record
from modules.core.config.selection import display_path
from modules.render.seed_files import seed_files

#: What a synth writes into a stack directory (anything else there is Terraform's own).
GENERATED_IN_STACK = ("cdk.tf.json", "metadata.json", "assets")


@dataclass(frozen=True, kw_only=True)
class StackSummary:
    name: str
    path: Path
    resources: dict[str, int]
    data_sources: int
    projects: int


@dataclass(frozen=True, kw_only=True)
class SynthSummary:
    outdir: Path
    stacks: tuple[StackSummary, ...]
    choice: ConfigChoice | None = None

    def render(self) -> str:
        source = ""
        if self.choice is not None:
            source = f" from {display_path(self.choice.path)} ({self.choice.explanation})"
        lines = [f"Synthesized {len(self.stacks)} stack(s) into {self.outdir}/{source}:"]
        if self.choice is not None and self.choice.previous is not None and self.choice.switches:
            lines.append(f"  (this replaced the output of {display_path(self.choice.previous)})")
        for s in self.stacks:
            per_provider = ", ".join(f"{n} {p}" for p, n in sorted(s.resources.items()))
            lines.append(
                f"  {s.name:<12} {s.projects} project(s); resources: {per_provider}; "
                f"data sources: {s.data_sources}  ({s.path})"
            )
        first = self.stacks[0].name if self.stacks else "<environment>"
        next_head, switch = "Next:", []
        if self.choice is not None:
            config = display_path(self.choice.path)
            next_head = f"Next ({self.outdir}/ remembers {config}; these and the cdktf CLI use it):"
            switch = ["  make synth CONFIG=<path>   to switch to another config"]
        lines += [
            next_head,
            f"  make diff STACK={first}   (or: cd <stack dir> && terraform init && plan)",
            f"  make deploy STACK={first} (cdktf deploy), a Terraform Cloud run or terraform apply",
            "  make validate, make drift",
            *switch,
            "  Plans need AWS credentials and GITHUB_TOKEN; the first apply also "
            "TF_VAR_github_token.",
        ]
        return "\n".join(lines)


def summarize(
    outdir: Path, config: ToolkitConfig, choice: ConfigChoice | None = None
) -> SynthSummary:
    stacks = []
    for env in config.environments:
        path = outdir / "stacks" / env.stack_name / "cdk.tf.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        counts: Counter[str] = Counter()
        for rtype, items in doc.get("resource", {}).items():
            counts[rtype.split("_", 1)[0]] += len(items)
        data = sum(len(v) for v in doc.get("data", {}).values())
        stacks.append(
            StackSummary(
                name=env.stack_name,
                path=path,
                resources=dict(counts),
                data_sources=data,
                projects=len(env.projects),
            )
        )
    return SynthSummary(outdir=outdir, stacks=tuple(stacks), choice=choice)


def _replace(src: Path, dst: Path) -> None:
    if dst.exists() or dst.is_symlink():
        _replace_remove(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dst))


def synthesize(
    config: ToolkitConfig, outdir: Path, *, choice: ConfigChoice | None = None
) -> SynthSummary:
    """Synthesize ``config`` into ``outdir`` (all or nothing) and return a summary.

    ``choice``: the config file and why it was used; when given, ``outdir`` records it
    (``synthesized-from.json``) so later runs use the same config. Default: nothing recorded.
    """
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".synth-", dir=outdir.parent) as tmp:
        staging = Path(tmp) / "out"
        artifacts = build_artifacts(config)
        build_app(config, artifacts=artifacts, seed_files=seed_files(), outdir=staging).synth()
        outdir.mkdir(exist_ok=True)
        wanted = {env.stack_name for env in config.environments}
        stacks_dir = outdir / "stacks"
        if stacks_dir.is_dir():
            for old in stacks_dir.iterdir():
                if old.name not in wanted:
                    for generated in GENERATED_IN_STACK:
                        if (old / generated).exists():
                            _replace_remove(old / generated)
        for name in sorted(wanted):
            produced = {p.name for p in (staging / "stacks" / name).iterdir()}
            unexpected = produced - set(GENERATED_IN_STACK)
            if unexpected:
                raise RuntimeError(f"synth wrote unexpected files in stack {name}: {unexpected}")
            for generated in GENERATED_IN_STACK:
                src = staging / "stacks" / name / generated
                dst = stacks_dir / name / generated
                if src.exists():
                    _replace(src, dst)
                elif dst.exists():
                    _replace_remove(dst)
        _replace(staging / "manifest.json", outdir / "manifest.json")
        if choice is not None:
            write_record(outdir, choice.path)
    return summarize(outdir, config, choice)


def _replace_remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
