"""The cache of slim tarballs, shared by every clone (``DEFAULT_CACHE_DIR``, in the user's cache
directory; ``MLOPS_SLIM_CACHE_DIR`` overrides)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.jsii_slim.common import (
    BUILDER_VERSION,
    CACHE_DIR_ENV,
    DEFAULT_CACHE_DIR,
    SlimError,
    notice,
    shown_paths,
)
from modules.jsii_slim.tarball import build_slim_tarball


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def jsii_version() -> str:
    """The installed jsii runtime's version (read without importing jsii)."""
    spec = importlib.util.find_spec("jsii")
    if spec is None or spec.origin is None:
        raise SlimError("jsii is not installed")
    meta = json.loads((Path(spec.origin).parent / "_metadata.json").read_text(encoding="utf-8"))
    return str(meta["version"])


def package_tarball(python_package: str) -> Path:
    """The ``_jsii/*.jsii.tgz`` of an installed jsii package (without importing it)."""
    spec = importlib.util.find_spec(python_package)
    if spec is None or not spec.submodule_search_locations:
        raise SlimError(f"{python_package} is not installed")
    found = sorted(
        p
        for location in spec.submodule_search_locations
        for p in (Path(location) / "_jsii").glob("*.jsii.tgz")
    )
    if len(found) != 1:
        raise SlimError(f"expected one _jsii/*.jsii.tgz in {python_package}, found {len(found)}")
    return found[0]


@dataclass(frozen=True, kw_only=True)
class SlimTarball:
    """A prepared slim tarball and what it holds."""

    path: Path
    python_modules: frozenset[str]
    manifest: dict[str, Any]


@dataclass(frozen=True)
class SlimCache:
    """Slim tarballs under ``root/<python package>/<key>/``, one entry per key."""

    root: Path

    @classmethod
    def default(cls) -> SlimCache:
        configured = os.environ.get(CACHE_DIR_ENV, "")
        return cls(Path(configured) if configured else DEFAULT_CACHE_DIR)

    def _source_sha256(self, package_dir: Path, source: Path) -> str:
        """sha256 of the original tarball, remembered per (path, size, mtime) in source.json."""
        stat = source.stat()
        stamp = {"path": str(source), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        memo = package_dir / "source.json"
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(memo.read_text(encoding="utf-8"))
            if {k: saved.get(k) for k in stamp} == stamp and isinstance(saved.get("sha256"), str):
                return str(saved["sha256"])
        sha = sha256_file(source)
        with contextlib.suppress(OSError):
            _write_atomic(memo, json.dumps({**stamp, "sha256": sha}).encode("utf-8"))
        return sha

    def _key(
        self, python_package: str, source: Path, used: Iterable[str]
    ) -> tuple[str, dict[str, Any], Path]:
        """The cache key of a slim tarball, what it covers, and its entry directory (the
        directories are created here, so that an unusable cache fails before any work)."""
        package_dir = self.root / python_package
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SlimError(f"cannot create the cache directory {self.root}: {e}") from e
        try:
            package_dir.mkdir(exist_ok=True)
        except OSError as e:
            raise SlimError(f"cannot create the cache directory {package_dir}: {e}") from e
        key_doc = {
            "builder": BUILDER_VERSION,
            "jsii": jsii_version(),
            "source_sha256": self._source_sha256(package_dir, source),
            "used": sorted(set(used)),
        }
        key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode("utf-8")).hexdigest()
        return key, key_doc, package_dir / key[:32]

    def lookup(self, python_package: str, source: Path, used: Iterable[str]) -> SlimTarball | None:
        """The cached slim tarball of ``source`` for ``used``, or None if it must be built."""
        key, _, entry = self._key(python_package, source, used)
        return _read_entry(entry, key, source.name)

    def ensure(
        self, python_package: str, source: Path, used: Iterable[str], *, quiet: bool = False
    ) -> SlimTarball:
        """The slim tarball of ``source`` for ``used``, built (once) if needed."""
        found = self.lookup(python_package, source, used)
        if found is not None:
            return found
        if not quiet:
            notice(
                f"preparing a slim copy of {python_package} for the submodules the app uses "
                f"(once per package version and import set; cached in {shown_paths([self.root])})"
            )
        return self.build(python_package, source, used)

    def build(self, python_package: str, source: Path, used: Iterable[str]) -> SlimTarball:
        """Build the slim tarball of ``source`` for ``used`` into the cache."""
        used_sorted = sorted(set(used))
        key, key_doc, entry = self._key(python_package, source, used_sorted)
        package_dir = entry.parent
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=package_dir))
        try:
            tarball = staging / source.name
            with tarball.open("wb") as out:
                summary = build_slim_tarball(source, [source.parent.parent], used_sorted, out)
            manifest = {
                **summary,
                "key": key,
                **key_doc,
                "tarball": source.name,
                "tarball_sha256": sha256_file(tarball),
            }
            _write_atomic(staging / "manifest.json", json.dumps(manifest, indent=1).encode())
            _publish(staging, entry, key, source.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _prune(package_dir, keep=entry)
        found = _read_entry(entry, key, source.name)
        if found is None:
            raise SlimError(f"the cache entry {entry} is unreadable right after it was written")
        return found


#: Entries of other keys (a package upgrade, another import set) are removed once this old, so
#: that a concurrent synth still loading one of them is never left without its tarball.
STALE_ENTRY_SECONDS = 3600


def _publish(staging: Path, entry: Path, key: str, tarball_name: str) -> None:
    """Move a built entry into place, unless a valid one is already there (another process
    built the same key meanwhile: both are byte-identical, the first one stays)."""
    if _read_entry(entry, key, tarball_name) is not None:
        return
    if entry.exists():  # corrupt
        shutil.rmtree(entry, ignore_errors=True)
    try:
        os.rename(staging, entry)
    except OSError:
        if _read_entry(entry, key, tarball_name) is None:
            raise


def _prune(package_dir: Path, *, keep: Path) -> None:
    now = time.time()
    for old in package_dir.iterdir():
        if not old.is_dir() or old == keep:
            continue
        with contextlib.suppress(OSError):
            if now - old.stat().st_mtime > STALE_ENTRY_SECONDS:
                shutil.rmtree(old, ignore_errors=True)


def _read_entry(entry: Path, key: str, tarball_name: str) -> SlimTarball | None:
    """The entry's slim tarball, or None when it is missing, stale or corrupt."""
    try:
        manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        tarball = entry / tarball_name
        if manifest.get("key") != key or sha256_file(tarball) != manifest.get("tarball_sha256"):
            return None
        return SlimTarball(
            path=tarball,
            python_modules=frozenset(manifest["python_modules"]),
            manifest=manifest,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
