"""Reading the original package tarball and writing the slim one (reproducible bytes)."""

from __future__ import annotations

import gzip
import io
import json
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from modules.jsii_slim.assembly import load_assembly, select, slim_assembly, slim_index_js
from modules.jsii_slim.common import SlimError

#: npm packs files with this fixed mtime (1985-10-26); the slim tarball does the same.
_TAR_MTIME = 499162500
_PREFIX = "package/"


def _read_members(tar_path: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """``{relative name: bytes}`` of the regular files under ``package/`` that ``wanted``."""
    out: dict[str, bytes] = {}
    with tarfile.open(tar_path, "r|gz") as tar:
        for member in tar:
            if not member.isfile() or not member.name.startswith(_PREFIX):
                continue
            rel = member.name[len(_PREFIX) :]
            if wanted(rel):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    out[rel] = extracted.read()
    return out


_RELATIVE_REQUIRE = re.compile(r"""require\(\s*["'](\.{1,2}/[^"']*)["']\s*\)""")


def _check_relative_requires(files: dict[str, bytes]) -> None:
    """Every ``require("./x")`` or ``require("../x")`` in the kept JavaScript resolves to a
    kept file: a slim copy must never fail inside Node."""
    for rel, data in files.items():
        base = posixpath.dirname(rel)
        for target in _RELATIVE_REQUIRE.findall(data.decode("utf-8", "replace")):
            path = posixpath.normpath(posixpath.join(base, target))
            candidates = (path, f"{path}.js", f"{path}.json", f"{path}/index.js")
            if not any(c in files for c in candidates):
                raise SlimError(f"{rel} requires {target}, which the slim copy leaves out")


def _write_tarball(files: dict[str, bytes], out: IO[bytes]) -> None:
    """A deterministic ``.tgz``: sorted entries, fixed mtimes, modes and owners."""
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel in sorted(files):
            data = files[rel]
            info = tarfile.TarInfo(_PREFIX + rel)
            info.size = len(data)
            info.mtime = _TAR_MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))


def build_slim_tarball(
    source: Path, package_dirs: Sequence[Path], used_python_modules: Iterable[str], out: IO[bytes]
) -> dict[str, Any]:
    """Write the slim tarball of ``source`` for ``used_python_modules`` to ``out``.

    Returns a summary (submodules, Python modules and type counts). Raises :class:`SlimError`
    when the package does not have the layout this relies on.
    """
    head = _read_members(
        source,
        lambda rel: rel in {"package.json", "lib/index.js", "LICENSE"} or rel.startswith(".jsii"),
    )
    for required in ("package.json", "lib/index.js"):
        if required not in head:
            raise SlimError(f"the tarball has no {required}")
    package_json = json.loads(head["package.json"])
    if "exports" in package_json or package_json.get("main") not in {
        "lib/index.js",
        "./lib/index.js",
    }:
        raise SlimError("package.json does not have lib/index.js as its only entry point")
    assembly = load_assembly(head)
    name = str(assembly["name"])
    selection = select(
        assembly, head["lib/index.js"].decode("utf-8"), package_dirs, used_python_modules
    )
    if not selection.submodules:
        raise SlimError(f"no submodule of {name} is used")
    dirs = {lib_dir for _, lib_dir in selection.submodules}
    files = _read_members(
        source,
        lambda rel: rel.startswith("lib/") and rel.endswith(".js") and rel.split("/")[1] in dirs,
    )
    missing = sorted(d for d in dirs if f"lib/{d}/index.js" not in files)
    if missing:
        raise SlimError(f"the tarball has no lib/{missing[0]}/index.js")
    _check_relative_requires(files)
    files["package.json"] = head["package.json"]
    if "LICENSE" in head:
        files["LICENSE"] = head["LICENSE"]
    files["lib/index.js"] = slim_index_js(name, selection).encode("utf-8")
    slim = slim_assembly(assembly, selection)
    files[".jsii"] = json.dumps(slim, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    _write_tarball(files, out)
    return {
        "assembly": name,
        "version": str(assembly.get("version", "")),
        "submodules": [sub for sub, _ in selection.submodules],
        "python_modules": list(selection.python_modules),
        "types": selection.type_count,
        "total_types": selection.total_type_count,
        "total_submodules": len([s for s in assembly.get("submodules", {}) if s.count(".") == 1]),
    }
