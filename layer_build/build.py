"""Builds the trigger's Lambda layer (``requests``) and its function zip, byte-reproducibly.

The layer: the hash-locked ``requirements.lock`` is filtered with the *target* runtime's
environment markers, ``pip download`` fetches wheels for the target platform only
(``--only-binary=:all: --platform ... --python-version ... --implementation cp --require-hashes``)
into a wheel cache, every wheel is checked against the lock's hashes and the target's tags, and
the wheels' files are written under ``python/`` into a deterministic zip (no ``__pycache__``).
An output zip for the same lock, runtime, architecture and build format is reused.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from layer_build.deterministic_zip import (
    Artifact,
    ZipEntry,
    check_entry_name,
    sha256_artifact,
    write_deterministic_zip,
)
from layer_build.targets import Target, make_target

LOCK_PATH = Path(__file__).with_name("requirements.lock")
# Part of the cache key: bump it when the archive layout or zip writer changes.
BUILD_FORMAT_VERSION = "1"
LAYER_ROOT = "python"
_HASH_RE = re.compile(r"--hash=sha256:([0-9a-fA-F]{64})")
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


class LayerBuildError(RuntimeError):
    """The layer or function zip could not be built; the message says what to fix."""


@dataclass(frozen=True, kw_only=True)
class LockedRequirement:
    """One pinned requirement of the lock file with its allowed sha256 hashes."""

    name: str
    version: str
    hashes: frozenset[str]
    marker: Marker | None

    def applies_to(self, target: Target) -> bool:
        """Whether the requirement's environment marker holds on the target runtime."""
        return self.marker is None or self.marker.evaluate(target.marker_environment)


def _progress(message: str) -> None:
    print(f"layer_build: {message}", file=sys.stderr, flush=True)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Join backslash continuations and drop comments; yield (first line number, text)."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.split(" #", 1)[0].strip()
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1].strip())
            continue
        buffer.append(line)
        joined = " ".join(part for part in buffer if part)
        buffer = []
        if joined:
            yield start, joined
    if any(buffer):
        yield start, " ".join(part for part in buffer if part)


def parse_lock(text: str, *, source: str = "requirements.lock") -> list[LockedRequirement]:
    """Parse a pip/uv hash-locked requirements file; every entry must be ``==`` with hashes."""
    requirements: list[LockedRequirement] = []
    for number, line in _logical_lines(text):
        spec = line.split("--hash", 1)[0].strip()
        hashes = frozenset(h.lower() for h in _HASH_RE.findall(line))
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as e:
            raise LayerBuildError(f"{source}:{number}: not a requirement: {spec!r}") from e
        pins = [s for s in requirement.specifier if s.operator == "=="]
        if len(pins) != 1 or len(requirement.specifier) != 1:
            raise LayerBuildError(f"{source}:{number}: {spec!r} must pin one version with ==")
        if not hashes:
            raise LayerBuildError(f"{source}:{number}: {spec!r} has no --hash=sha256:... entry")
        requirements.append(
            LockedRequirement(
                name=canonicalize_name(requirement.name),
                version=pins[0].version,
                hashes=hashes,
                marker=requirement.marker,
            )
        )
    if not requirements:
        raise LayerBuildError(f"{source} lists no requirements")
    return requirements


def _tag_fits(tag: Tag, target: Target) -> bool:
    if not target.accepts_platform_tag(tag.platform):
        return False
    minor = int(target.python_version.split(".")[1])
    if tag.abi == target.abi:
        return tag.interpreter == target.abi
    if tag.abi == "abi3":
        match = re.fullmatch(r"cp3(\d+)", tag.interpreter)
        return match is not None and int(match.group(1)) <= minor
    if tag.abi == "none":
        return tag.interpreter in ("py3", f"py3{minor}", target.abi) or tag.interpreter == "py2.py3"
    return False


def wheel_fits(filename: str, target: Target) -> bool:
    """Whether a wheel file (by its name's tags) can be loaded by the target runtime."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return any(_tag_fits(tag, target) for tag in tags)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_wheels(
    requirements: list[LockedRequirement], target: Target, wheel_dir: Path
) -> None:
    wheel_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="layer-build-") as tmp:
        pinned = Path(tmp) / "requirements.txt"
        pinned.write_text(
            "".join(
                f"{r.name}=={r.version} "
                + " ".join(f"--hash=sha256:{h}" for h in sorted(r.hashes))
                + "\n"
                for r in requirements
            )
        )
        command = [
            sys.executable, "-m", "pip", "download",
            "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "--quiet",
            "--only-binary=:all:", "--no-deps", "--require-hashes",
            "--implementation", "cp",
            "--python-version", target.python_version,
            "--abi", target.abi,
            *(arg for tag in target.platform_tags for arg in ("--platform", tag)),
            "--dest", str(wheel_dir),
            "--requirement", str(pinned),
        ]  # fmt: skip
        completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            command, capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        output = completed.stderr.strip() or completed.stdout.strip()
        raise LayerBuildError(
            f"pip download for {target.runtime}/{target.architecture} failed "
            f"(exit {completed.returncode}):\n{output}"
        )


def _select_wheels(
    requirements: list[LockedRequirement], target: Target, wheel_dir: Path
) -> list[Path]:
    by_name: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(wheel_dir.glob("*.whl")):
        try:
            name, version, _, _ = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        by_name.setdefault((name, str(version)), []).append(path)
    selected: list[Path] = []
    for requirement in requirements:
        candidates = [
            path
            for path in by_name.get((requirement.name, requirement.version), [])
            if wheel_fits(path.name, target) and _file_sha256(path) in requirement.hashes
        ]
        if len(candidates) != 1:
            found = [p.name for p in by_name.get((requirement.name, requirement.version), [])]
            raise LayerBuildError(
                f"expected one {target.runtime}/{target.machine} wheel of "
                f"{requirement.name}=={requirement.version} matching the lock's hashes in "
                f"{wheel_dir}, found {len(candidates)} (files: {found})"
            )
        selected.append(candidates[0])
    return selected


def _wheel_entries(wheel: Path, entries: dict[str, ZipEntry]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers and data files have no place in a layer
                parts = parts[2:]
            if "__pycache__" in parts or parts[-1].endswith(_SKIPPED_SUFFIXES):
                continue
            name = check_entry_name("/".join((LAYER_ROOT, *parts)))
            entry = ZipEntry(
                data=archive.read(info), executable=bool((info.external_attr >> 16) & 0o111)
            )
            previous = entries.get(name)
            if previous is not None and previous.data != entry.data:
                raise LayerBuildError(f"{wheel.name} and another wheel both provide {name}")
            entries[name] = entry


def layer_cache_key(*, lock_bytes: bytes, target: Target) -> str:
    """Short digest of everything that determines the layer's bytes."""
    digest = hashlib.sha256()
    for part in (BUILD_FORMAT_VERSION, target.runtime, target.architecture):
        digest.update(part.encode() + b"\0")
    digest.update(lock_bytes)
    return digest.hexdigest()[:16]


def build_layer(
    *,
    runtime: str,
    architecture: str,
    out_dir: Path,
    cache_dir: Path | None = None,
    lock_path: Path = LOCK_PATH,
) -> Artifact:
    """Build (or reuse) the layer zip for a Lambda runtime and architecture.

    The zip is ``out_dir/requests-layer-<runtime>-<architecture>-<key>.zip``, where ``key``
    digests the lock file, runtime, architecture and build format. Wheels are cached under
    ``cache_dir`` (default: ``out_dir/wheel-cache``). Raises UnsupportedTargetError for an
    unknown runtime or architecture, LayerBuildError when wheels cannot be fetched or checked.
    """
    target = make_target(runtime=runtime, architecture=architecture)
    lock_bytes = lock_path.read_bytes()
    key = layer_cache_key(lock_bytes=lock_bytes, target=target)
    out_path = out_dir / f"requests-layer-{runtime}-{architecture}-{key}.zip"
    if out_path.is_file():
        _progress(f"reusing {out_path} (same lock, runtime and architecture)")
        return sha256_artifact(out_path)
    _progress(f"building {out_path} for {runtime}/{architecture}")
    requirements = [
        r
        for r in parse_lock(lock_bytes.decode("utf-8"), source=str(lock_path))
        if r.applies_to(target)
    ]
    wheel_dir = (cache_dir or out_dir / "wheel-cache") / f"{runtime}-{architecture}-{key}"
    try:
        # a cache shared between clones may hold every wheel already (checked by hash)
        _select_wheels(requirements, target, wheel_dir)
    except LayerBuildError:
        _download_wheels(requirements, target, wheel_dir)
    entries: dict[str, ZipEntry] = {}
    for wheel in _select_wheels(requirements, target, wheel_dir):
        _wheel_entries(wheel, entries)
    return write_deterministic_zip(entries, out_path)


def build_function_zip(
    *, src_dir: Path, out_path: Path, include_suffixes: tuple[str, ...] = (".py",)
) -> Artifact:
    """Zip the function's source files (paths relative to ``src_dir``) reproducibly.

    Only files ending in ``include_suffixes`` are packed (default: Python sources, so editing a
    README does not redeploy the function); ``__pycache__`` and hidden directories are skipped,
    and every file gets mode 0o644 whatever the checkout's permissions. Symlinks are refused.
    """
    if not src_dir.is_dir():
        raise LayerBuildError(f"function source directory {src_dir} does not exist")
    entries: dict[str, ZipEntry] = {}
    for directory, subdirs, files in os.walk(src_dir):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
        for filename in sorted(files):
            path = Path(directory) / filename
            if not filename.endswith(include_suffixes) or filename.startswith("."):
                continue
            if path.is_symlink():
                raise LayerBuildError(f"refusing to pack symlink {path}: copy the file instead")
            name = check_entry_name(path.relative_to(src_dir).as_posix())
            entries[name] = ZipEntry(data=path.read_bytes())
    if not entries:
        raise LayerBuildError(f"no files ending in {include_suffixes} under {src_dir}")
    return write_deterministic_zip(entries, out_path)
