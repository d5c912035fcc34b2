"""Byte-reproducible zip archives, and the sha256 digests Terraform compares.

Entries are sorted, every timestamp is 1980-01-01 00:00:00, modes are normalised (0o644 files,
0o755 executables and directories), the creator system is Unix, there are no extra fields and
the compression level is fixed, so the same contents always give the same bytes (with the same
zlib). The archive is written to a temporary file beside the target and moved into place, so a
reader never sees a half-written zip.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
DIRECTORY_MODE = 0o755
COMPRESS_LEVEL = 9
_UNIX_SYSTEM = 3
_MSDOS_DIRECTORY_FLAG = 0x10


class UnsafeArchivePathError(ValueError):
    """An archive entry name is absolute, climbs out with '..', or is otherwise unsafe."""


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """A built zip and its digests."""

    path: Path
    sha256_hex: str
    base64_sha256: str
    """Base64 of the raw sha256 digest: what Terraform's ``source_code_hash`` compares."""


@dataclass(frozen=True, kw_only=True)
class ZipEntry:
    """Contents of one file in an archive."""

    data: bytes
    executable: bool = False


def sha256_artifact(path: Path) -> Artifact:
    """Hash an existing file."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return Artifact(
        path=path,
        sha256_hex=digest.hexdigest(),
        base64_sha256=base64.b64encode(digest.digest()).decode("ascii"),
    )


def check_entry_name(name: str) -> str:
    """Return ``name`` if it is a safe relative POSIX path inside an archive."""
    path = PurePosixPath(name)
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
        or (len(name) > 1 and name[1] == ":")
    ):
        raise UnsafeArchivePathError(f"unsafe path for an archive entry: {name!r}")
    return name


def _parent_directories(names: list[str]) -> list[str]:
    directories: set[str] = set()
    for name in names:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add("/".join(parts[:depth]) + "/")
    return sorted(directories)


def write_deterministic_zip(entries: Mapping[str, ZipEntry], out_path: Path) -> Artifact:
    """Write ``entries`` (archive name → contents) to ``out_path`` reproducibly; return digests.

    Directory entries for every parent directory are added, so unpacking gives 0o755
    directories regardless of the unpacker's umask.
    """
    names = sorted(check_entry_name(name) for name in entries)
    if not names:
        raise ValueError(f"refusing to write an empty archive to {out_path}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    records: list[tuple[str, ZipEntry | None]] = [(d, None) for d in _parent_directories(names)]
    records += [(name, entries[name]) for name in names]
    records.sort(key=lambda record: record[0])
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, entry in records:
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
                info.create_system = _UNIX_SYSTEM
                if entry is None:
                    info.external_attr = ((stat.S_IFDIR | DIRECTORY_MODE) << 16) | (
                        _MSDOS_DIRECTORY_FLAG
                    )
                    info.compress_type = zipfile.ZIP_STORED
                    archive.writestr(info, b"")
                else:
                    mode = EXECUTABLE_MODE if entry.executable else FILE_MODE
                    info.external_attr = (stat.S_IFREG | mode) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, entry.data, compresslevel=COMPRESS_LEVEL)
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return sha256_artifact(out_path)
