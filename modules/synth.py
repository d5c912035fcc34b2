"""Synthesize an app into ``cdktf.out/`` safely and summarize what was written.

The app is synthesized into a staging directory inside the output directory
(``cdktf.out/.staging-<pid>``: same filesystem for the moves, never in the project root, and
ignored with ``cdktf.out/``); only when that succeeded are the generated files moved into place.
A failing synth therefore leaves the previous output as it was, and files Terraform keeps next
to ``cdk.tf.json`` (``.terraform/``, the lock file, local state) are never deleted.

Interruption (SIGTERM, SIGINT) is all or nothing: before the moves it removes the staging
directory and leaves the old tree; during the moves both signals are held back, so the moves
finish and the new tree is complete; either way the process then ends by that signal. A staging
directory left by a process that was killed outright (SIGKILL) is removed by the next synth.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

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
    #: Where a local backend keeps the state (relative to the stack directory), else None.
    local_state: str | None = None


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
        if self.choice is not None and self.choice.notice is not None:
            lines.append(f"  ({self.choice.notice})")
        for s in self.stacks:
            per_provider = ", ".join(f"{n} {p}" for p, n in sorted(s.resources.items()))
            lines.append(
                f"  {s.name:<12} {s.projects} project(s); resources: {per_provider}; "
                f"data sources: {s.data_sources}  ({s.path})"
            )
        if self.choice is not None and not self.choice.is_example:
            # once per stack: a non-example config whose state would live only in this clone
            lines += [
                f"  warning: stack {s.name} keeps its Terraform state in this clone "
                f"({os.path.normpath(s.path.parent / s.local_state)}); another clone or CI "
                "has none: use an s3 or cloud backend per account (docs/state.md)"
                for s in self.stacks
                if s.local_state is not None
            ]
        first = self.stacks[0].name if self.stacks else "<environment>"
        next_head, switch = "Next:", []
        if self.choice is not None:
            config = display_path(self.choice.path)
            next_head = f"Next ({self.outdir}/ remembers {config}; these and the cdktf CLI use it):"
            switch = ["  make synth CONFIG=<path>   to switch to another config"]
        lines += [
            next_head,
            "  make preflight first   (checks both sides' prerequisites, read-only)",
            f"  make diff STACK={first}   (or: cd <stack dir> && terraform init && plan)",
            f"  make deploy STACK={first} (cdktf deploy), a Terraform Cloud run or terraform apply",
            f"  make propose STACK={first} once after the first deploy "
            "(the starter code's pull request)",
            "  make validate, make drift, make inventory",
            *switch,
            "  Plans need AWS credentials and GitHub credentials per owner (GITHUB_TOKEN, "
            "TF_VAR_github_owner_token_<owner> or a GitHub App); applies also "
            "TF_VAR_github_token.",
        ]
        return "\n".join(lines)


def _local_state(doc: dict[str, Any]) -> str | None:
    """The state path of a stack that keeps its state in a local file, else None."""
    terraform = doc.get("terraform", {})
    if "cloud" in terraform:
        return None
    backend = terraform.get("backend") or {"local": {}}
    if "local" not in backend:
        return None
    return str(backend["local"].get("path") or "terraform.tfstate")


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
                local_state=_local_state(doc),
            )
        )
    return SynthSummary(outdir=outdir, stacks=tuple(stacks), choice=choice)


STAGING_PREFIX = ".staging-"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Test hook (tests/test_synth_atomic.py): ``<point>:<ready file>:<seconds>`` makes synth
#: create the ready file at ``point`` and wait that long, so a test can signal it there.
PAUSE_ENV = "MLOPS_SYNTH_PAUSE"


class OutdirError(Exception):
    """The output directory cannot be written (a file is in the way); nothing was written."""


class _Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while synthesizing (a BaseException: nothing may catch it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def check_outdir(outdir: Path, stack_names: tuple[str, ...] = ()) -> None:
    """Raise :class:`OutdirError` when a file stands where synth needs a directory (or the
    reverse), before anything is synthesized."""
    dirs = [*reversed(outdir.absolute().parents), outdir, outdir / "stacks"]
    dirs += [outdir / "stacks" / name for name in stack_names]
    for path in dirs:
        if path.exists() and not path.is_dir():
            raise OutdirError(
                f"--outdir {outdir}: {path} is a file, not a directory; pass a directory "
                "(e.g. --outdir cdktf.out) or move the file"
            )
    files = [outdir / "manifest.json"]
    files += [outdir / "stacks" / name / "cdk.tf.json" for name in stack_names]
    for path in files:
        if path.is_dir():
            raise OutdirError(f"--outdir {outdir}: {path} is a directory; remove it")


def _pause(point: str) -> None:
    hook = os.environ.get(PAUSE_ENV, "")
    name, _, rest = hook.partition(":")
    if name != point:
        return
    ready, _, seconds = rest.rpartition(":")
    Path(ready).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(seconds))


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into :class:`_Interrupted` (so cleanup runs), then end the process
    by the same signal once cleanup is done. Only the main thread can handle signals; in
    another thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise _Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in _SIGNALS}
    try:
        yield
    except _Interrupted as e:
        for s, h in previous.items():
            signal.signal(s, h)
        signal.signal(e.signum, signal.SIG_DFL)
        signal.raise_signal(e.signum)
        raise  # only reached if the signal is ignored by the parent's setting
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends; then act on the first one that arrived.

    Python runs signal handlers in the main thread whichever thread the kernel picked, so
    masking the signals here (``pthread_sigmask``) would not hold them when another thread
    (jsii's) takes delivery; recording them in the handler does.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {s: signal.signal(s, record) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if pending:
        raise _Interrupted(pending[0])


def _remove_stale_staging(outdir: Path) -> None:
    """Remove staging directories of synth processes that no longer run."""
    for path in outdir.glob(f"{STAGING_PREFIX}*"):
        pid = path.name[len(STAGING_PREFIX) :]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # another synth is running right now
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        shutil.rmtree(path, ignore_errors=True)


def _replace(src: Path, dst: Path) -> None:
    if dst.exists() or dst.is_symlink():
        _replace_remove(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dst))


def _commit(staging: Path, outdir: Path, wanted: set[str]) -> None:
    """Move the generated files from ``staging`` into ``outdir`` (old generated files of
    stacks no longer configured are removed; Terraform's own files stay)."""
    stacks_dir = outdir / "stacks"
    for name in sorted(wanted):
        produced = {p.name for p in (staging / "stacks" / name).iterdir()}
        unexpected = produced - set(GENERATED_IN_STACK)
        if unexpected:
            raise RuntimeError(f"synth wrote unexpected files in stack {name}: {unexpected}")
    if stacks_dir.is_dir():
        for old in stacks_dir.iterdir():
            if old.name not in wanted:
                for generated in GENERATED_IN_STACK:
                    if (old / generated).exists():
                        _replace_remove(old / generated)
    for index, name in enumerate(sorted(wanted)):
        if index == 1:
            _pause("committing")
        for generated in GENERATED_IN_STACK:
            src = staging / "stacks" / name / generated
            dst = stacks_dir / name / generated
            if src.exists():
                _replace(src, dst)
            elif dst.exists():
                _replace_remove(dst)
    _replace(staging / "manifest.json", outdir / "manifest.json")


def synthesize(
    config: ToolkitConfig, outdir: Path, *, choice: ConfigChoice | None = None
) -> SynthSummary:
    """Synthesize ``config`` into ``outdir`` (all or nothing) and return a summary.

    ``choice``: the config file and why it was used; when given, ``outdir`` records it
    (``synthesized-from.json``) so later runs use the same config. Default: nothing recorded.
    Raises :class:`OutdirError` before synthesizing when ``outdir`` cannot hold the output.
    """
    wanted = {env.stack_name for env in config.environments}
    check_outdir(outdir, tuple(sorted(wanted)))
    # cdktf and the providers load only now: a bad --outdir is reported in a fraction of a second.
    from modules.app import build_app  # noqa: PLC0415
    from modules.artifacts import build_artifacts  # noqa: PLC0415

    outdir.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(outdir)
    root = outdir / f"{STAGING_PREFIX}{os.getpid()}"
    with _interruptible():
        try:
            root.mkdir()
            _pause("building")
            staging = root / "out"
            artifacts = build_artifacts(config)
            build_app(config, artifacts=artifacts, seed_files=seed_files(), outdir=staging).synth()
            _pause("staged")
            with _signals_deferred():
                _commit(staging, outdir, wanted)
                if choice is not None:
                    write_record(outdir, choice.path)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return summarize(outdir, config, choice)


def _replace_remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
