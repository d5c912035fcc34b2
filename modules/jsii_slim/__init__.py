"""Slim jsii assemblies: Node loads only the provider types the app uses.

A prebuilt provider package (``cdktf_cdktf_provider_aws``) ships its whole npm package as one
tarball, ``_jsii/provider-aws@20.1.0.jsii.tgz``. When the first resource module is imported, its
``_jsii/__init__.py`` calls ``jsii.JSIIAssembly.load(...)``, which asks the jsii kernel (Node) to
unpack that tarball, read the ``.jsii`` assembly (23,285 types in 2,135 resource and data-source
submodules) and ``require`` the package's ``lib/index.js``, which requires every submodule's
JavaScript. An app that uses a few dozen types pays seconds and hundreds of MB for that.

This module builds, from the pinned tarball, a **slim tarball**: the same package name and
version (so every type keeps its FQN and the output stays byte-identical), holding

* a ``.jsii`` assembly whose ``types`` are those of the submodules the app uses plus every
  submodule their types refer to (bases, interfaces, property, parameter and return types,
  recursively), and
* a ``lib/index.js`` that requires only those submodules, with their ``lib/<dir>/`` files.

Which submodules the app uses is derived, never listed by hand: the sources under the scan roots
(the ``modules`` package and ``main.py``) are searched for ``cdktf_cdktf_provider_aws.<name>``,
and any submodule imported before the assembly is loaded is added too. The slim tarball is
cached in the user's cache directory, shared by every clone
(``~/.cache/sagemaker-github-mlops/slim-providers/``; ``MLOPS_SLIM_CACHE_DIR`` overrides),
keyed by the sha256 of the original tarball, the used submodules, the jsii version and this
builder's version: a package upgrade or a new import rebuilds it (one notice line on stderr).
``python -m modules.jsii_slim`` builds it ahead of time (``make install`` does).

The swap happens in exactly one place: the jsii kernel's ``load`` is wrapped so that a request
for one of these tarballs is served from the slim copy instead. If the slim copy cannot be
prepared (unexpected package layout, unwritable cache, ...), one warning line is printed and the
full tarball is loaded: correctness never depends on this optimisation. An import of a
submodule that is not in an already-loaded slim assembly fails with an ImportError naming the
submodule and the way out, rather than failing later inside Node.

May import: the standard library, jsii, and ``modules.runtime`` (its install-step entry point);
nothing else of ours: it runs before any construct module is imported.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import json
import os
import posixpath
import re
import shutil
import sys
import tarfile
import tempfile
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

#: Bump when the slim tarball's layout or selection rules change: old cache entries are rebuilt.
BUILDER_VERSION = "1"
CACHE_DIR_ENV = "MLOPS_SLIM_CACHE_DIR"
#: ``MLOPS_SLIM_ASSEMBLIES=0`` loads the full tarballs (the Python side stays lazy).
DISABLE_ENV = "MLOPS_SLIM_ASSEMBLIES"
ROOT = Path(__file__).resolve().parent.parent.parent
#: Shared by every clone on the machine (entries are keyed by what they were built from, and
#: written atomically): ``$XDG_CACHE_HOME`` or ``~/.cache``.
DEFAULT_CACHE_DIR = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "sagemaker-github-mlops"
    / "slim-providers"
)
DEFAULT_SCAN_ROOTS = (ROOT / "modules", ROOT / "main.py")

#: npm packs files with this fixed mtime (1985-10-26); the slim tarball does the same.
_TAR_MTIME = 499162500
_PREFIX = "package/"
_SUBMODULE_REQUIRE = re.compile(r'^exports\.(\w+) = require\("\./([\w.-]+)"\);$')
_SCANNED_SUFFIXES = (".py",)


class SlimError(Exception):
    """The slim tarball cannot be built or used; the full package is loaded instead."""


def _log(message: str) -> None:
    print(f"mlops: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Which submodules the app uses


def _source_files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.suffix in _SCANNED_SUFFIXES)


def scan_used_submodules(python_package: str, roots: Iterable[Path]) -> frozenset[str]:
    """Names ``x`` of every ``<python_package>.x`` (or ``from <python_package> import x``) in
    the sources under ``roots``. A mention in a comment counts too: one more submodule in the
    slim assembly costs little, a missing one would cost a fallback."""
    pkg = re.escape(python_package)
    dotted = re.compile(rf"\b{pkg}\.([A-Za-z_]\w*)")
    from_import = re.compile(rf"\bfrom\s+{pkg}\s+import\s+\(?\s*([\w\s,]+)")
    found: set[str] = set()
    for path in _source_files(roots):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if python_package not in text:
            continue
        found.update(dotted.findall(text))
        for names in from_import.findall(text):
            found.update(n.split()[0] for n in names.split(",") if n.strip())
    return frozenset(n for n in found if not n.startswith("_"))


# --------------------------------------------------------------------------------------------
# Building a slim tarball from the original one


@dataclass(frozen=True, kw_only=True)
class SlimSelection:
    """What a slim tarball holds, derived from the original assembly."""

    submodules: tuple[tuple[str, str], ...]  # (jsii submodule FQN, its lib/ directory), sorted
    python_modules: tuple[str, ...]  # their Python module names (last segment), sorted
    type_count: int
    total_type_count: int


def _load_assembly(members: dict[str, bytes]) -> dict[str, Any]:
    """The ``.jsii`` assembly of a package, following a ``jsii/file-redirect``."""
    try:
        assembly: dict[str, Any] = json.loads(members[".jsii"])
    except KeyError as e:
        raise SlimError("the tarball has no .jsii assembly") from e
    if assembly.get("schema") == "jsii/file-redirect":
        target = str(assembly.get("filename", ""))
        if assembly.get("compression") not in {None, "gzip"} or target not in members:
            raise SlimError(f"unsupported assembly redirect to {target!r}")
        data = members[target]
        if assembly.get("compression") == "gzip":
            data = gzip.decompress(data)
        assembly = json.loads(data)
    if not str(assembly.get("schema", "")).startswith("jsii/"):
        raise SlimError("the .jsii file is not a jsii assembly")
    return assembly


def _referenced_fqns(node: Any, out: set[str]) -> None:
    """Every ``{"fqn": ...}`` type reference anywhere below ``node``."""
    if isinstance(node, dict):
        fqn = node.get("fqn")
        if isinstance(fqn, str):
            out.add(fqn)
        for value in node.values():
            if isinstance(value, dict | list):
                _referenced_fqns(value, out)
    elif isinstance(node, list):
        for item in node:
            _referenced_fqns(item, out)


_JSII_TYPE = re.compile(r'\bjsii_type\s*=\s*"([^"]+)"')


def python_module_submodule(package_dirs: Sequence[Path], module: str) -> str | None:
    """The jsii submodule FQN whose types the Python module ``<package>.<module>`` declares
    (read from its classes' ``jsii_type="..."`` arguments), or None if it declares none."""
    for package_dir in package_dirs:
        try:
            text = (package_dir / module / "__init__.py").read_text(encoding="utf-8")
        except OSError:
            continue
        owners = {fqn.rsplit(".", 1)[0] for fqn in _JSII_TYPE.findall(text)}
        if len(owners) == 1:
            return str(owners.pop())
        if owners:
            raise SlimError(f"{module} declares types of several submodules: {sorted(owners)}")
    return None


def _snake(name: str) -> str:
    """jsii-pacmak's Python name of a submodule: ``s3BucketPolicy`` -> ``s3_bucket_policy``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _lib_dirs(assembly_name: str, index_js: str) -> dict[str, str]:
    """``{"@cdktf/provider-aws.iamRole": "iam-role", ...}`` from the package's lib/index.js."""
    lib_dir_of: dict[str, str] = {}
    for line in index_js.splitlines():
        if "require(" in line:
            match = _SUBMODULE_REQUIRE.match(line.strip())
            if match is None:
                raise SlimError(f"unexpected line in lib/index.js: {line.strip()[:80]!r}")
            lib_dir_of[f"{assembly_name}.{match.group(1)}"] = match.group(2)
    return lib_dir_of


def _closure(assembly: dict[str, Any], start: Iterable[str]) -> set[str]:
    """``start`` plus the submodule of every type of this assembly that an included type
    refers to, until nothing changes."""
    name = str(assembly["name"])
    submodules: dict[str, Any] = assembly.get("submodules", {})
    all_types: dict[str, Any] = assembly.get("types", {})
    types_of: dict[str, list[str]] = {}
    for fqn in all_types:
        types_of.setdefault(fqn.rsplit(".", 1)[0], []).append(fqn)
    todo = sorted(start)
    included: set[str] = set()
    while todo:
        sub = todo.pop()
        if sub in included:
            continue
        included.add(sub)
        refs: set[str] = set()
        for fqn in types_of.get(sub, []):
            _referenced_fqns(all_types[fqn], refs)
        for ref in sorted(r for r in refs if r.startswith(f"{name}.")):
            owner = ref.rsplit(".", 1)[0]
            if owner not in submodules:
                raise SlimError(f"{ref} refers to an unknown submodule")
            todo.append(owner)
    return included


def select(
    assembly: dict[str, Any],
    index_js: str,
    package_dirs: Sequence[Path],
    used_python_modules: Iterable[str],
) -> SlimSelection:
    """The submodules (and lib/ directories) a slim package needs for ``used_python_modules``.

    Starts from the submodules whose Python module is used (names that are not submodules are
    ignored: they are mentions, not imports) and closes over type references.
    """
    name = str(assembly["name"])
    all_types: dict[str, Any] = assembly.get("types", {})
    if "." in name:
        raise SlimError(f"the assembly name {name!r} holds a dot")
    if any(fqn.count(".") != 2 for fqn in all_types):
        raise SlimError(f"{name} has types outside first-level submodules")
    lib_dir_of = _lib_dirs(name, index_js)
    by_python: dict[str, str] = {}
    for module in used_python_modules:
        sub = python_module_submodule(package_dirs, module)
        if sub is not None and sub.startswith(f"{name}."):
            by_python[module] = sub
    included = _closure(assembly, set(by_python.values()))
    for sub in included - set(by_python.values()):  # pulled in by references
        module = _snake(sub.rsplit(".", 1)[-1])
        if python_module_submodule(package_dirs, module) == sub:
            by_python[module] = sub
    missing = sorted(s for s in included if s not in lib_dir_of)
    if missing:
        raise SlimError(f"lib/index.js does not require {', '.join(missing)}")
    return SlimSelection(
        submodules=tuple((s, lib_dir_of[s]) for s in sorted(included)),
        python_modules=tuple(sorted(by_python)),
        type_count=sum(1 for fqn in all_types if fqn.rsplit(".", 1)[0] in included),
        total_type_count=len(all_types),
    )


def slim_assembly(assembly: dict[str, Any], selection: SlimSelection) -> dict[str, Any]:
    """A copy of ``assembly`` holding only the selected submodules and their types."""
    keep = {sub for sub, _ in selection.submodules}
    slim: dict[str, Any] = {}
    for key, value in assembly.items():
        if key == "types":
            slim[key] = {f: t for f, t in value.items() if f.rsplit(".", 1)[0] in keep}
        elif key == "submodules":
            slim[key] = {f: s for f, s in value.items() if _top(f) in keep}
        elif key != "readme":  # the kernel never reads the readme
            slim[key] = value
    return slim


def _top(submodule_fqn: str) -> str:
    """``@scope/pkg.a.b`` -> ``@scope/pkg.a`` (the first-level submodule)."""
    return ".".join(submodule_fqn.split(".")[:2])


def slim_index_js(assembly_name: str, selection: SlimSelection) -> str:
    """The slim package's ``lib/index.js``: requires the selected submodules only."""
    lines = [
        '"use strict";',
        "// Slim entry point (modules/jsii_slim): only the submodules the app uses.",
        'Object.defineProperty(exports, "__esModule", { value: true });',
    ]
    for sub, lib_dir in selection.submodules:
        lines.append(f'exports.{sub[len(assembly_name) + 1 :]} = require("./{lib_dir}");')
    return "\n".join(lines) + "\n"


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
    assembly = _load_assembly(head)
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


# --------------------------------------------------------------------------------------------
# The cache (DEFAULT_CACHE_DIR, or MLOPS_SLIM_CACHE_DIR)


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
            _log(
                f"preparing a slim copy of {python_package} for the submodules the app uses "
                f"(once per package version and import set; cached in {_shown([self.root])})"
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


# --------------------------------------------------------------------------------------------
# Serving the slim tarball to the jsii kernel


@dataclass
class _PackageState:
    python_package: str
    source: Path
    imported_before_load: set[str] = field(default_factory=set)
    #: Python modules of the slim assembly once it is loaded (None: not loaded, or loaded full).
    covered: frozenset[str] | None = None
    #: Whether the kernel has asked for this package's tarball.
    served: bool = False


class SlimLoader(importlib.abc.MetaPathFinder):
    """Notes submodule imports and swaps the tarball when the package's ``_jsii`` loads.

    It never finds a module itself (``find_spec`` returns None); it watches imports of
    ``<package>.<submodule>`` and wraps the jsii kernel's ``load`` once ``<package>._jsii``
    is about to be imported.
    """

    def __init__(
        self, packages: Sequence[str], *, scan_roots: Sequence[Path], cache: SlimCache
    ) -> None:
        self.scan_roots = tuple(scan_roots)
        self.cache = cache
        self.states: dict[str, _PackageState] = {}
        self._by_source: dict[str, _PackageState] = {}
        self._kernel_wrapped = False
        self._warned: set[str] = set()
        #: (assembly name, version, tarball) of every assembly the kernel loaded through us.
        self.loaded: list[tuple[str, str, str]] = []
        for name in packages:
            try:
                source = package_tarball(name)
            except SlimError:
                continue  # not installed: nothing to slim
            self.add_package(name, source)

    def add_package(self, python_package: str, source: Path) -> None:
        """Serve ``source`` (the package's own tarball) from a slim copy."""
        state = _PackageState(python_package=python_package, source=source)
        self.states[python_package] = state
        self._by_source[os.path.realpath(source)] = state

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, sub = fullname.partition(".")
        state = self.states.get(package)
        if state is None or not sub or "." in sub:
            return None
        if sub == "_jsii":
            self.wrap_kernel()
        elif not sub.startswith("_"):
            if state.covered is not None and sub not in state.covered:
                raise ImportError(
                    f"{fullname} is not in the slim jsii assembly this process loaded for "
                    f"{package} (built from the imports found in {_shown(self.scan_roots)}): "
                    "import it from the toolkit's modules, or run with "
                    f"{DISABLE_ENV}=0 to load the full package",
                    name=fullname,
                )
            if state.covered is None:
                state.imported_before_load.add(sub)
        return None

    def wrap_kernel(self) -> None:
        """Serve our packages' tarballs from the slim cache (idempotent)."""
        if self._kernel_wrapped:
            return
        from jsii import _runtime  # noqa: PLC0415 - only when a provider's assembly loads

        kernel = _runtime.kernel
        original = kernel.load

        def load(name: str, version: str, tarball: str) -> None:
            served = self.tarball_for(tarball)
            original(name, version, served)
            self.loaded.append((name, version, served))

        setattr(kernel, "load", load)  # noqa: B010 - an instance attribute shadows the method
        self._kernel_wrapped = True

    def _used(self, state: _PackageState) -> frozenset[str]:
        scanned = scan_used_submodules(state.python_package, self.scan_roots)
        return scanned | state.imported_before_load

    def tarball_for(self, tarball: str) -> str:
        """The tarball to load in place of ``tarball``: its slim copy, or itself."""
        state = self._by_source.get(os.path.realpath(tarball))
        if state is None:
            return tarball
        state.served = True
        try:
            used = self._used(state)
            slim = self.cache.lookup(state.python_package, state.source, used)
            if slim is None:
                slim = self._build_with_pending(state, used)
        except Exception as e:  # best effort: any failure loads the full package
            reason = " ".join(str(e).split()) or type(e).__name__
            if reason in self._warned:  # the same cause for the next package: said once
                return tarball
            self._warned.add(reason)
            _log(
                f"warning: cannot use a slim copy of {state.python_package} ({reason}); "
                "loading the full package, so this synth is slower"
            )
            return tarball
        state.covered = slim.python_modules
        return str(slim.path)

    def _build_with_pending(self, state: _PackageState, used: frozenset[str]) -> SlimTarball:
        """Build ``state``'s slim tarball, and those of the packages not loaded yet whose
        tarball is missing too, under one notice line."""
        todo: list[tuple[_PackageState, frozenset[str]]] = []
        for other in self.states.values():
            if other is state or other.served:
                continue
            with contextlib.suppress(Exception):  # its own load will report a problem
                other_used = self._used(other)
                if self.cache.lookup(other.python_package, other.source, other_used) is None:
                    todo.append((other, other_used))
        names = ", ".join(s.python_package for s in (state, *(o for o, _ in todo)))
        _log(
            f"preparing slim copies of {names} for the submodules the app uses (once per "
            f"package version and import set; cached in {_shown([self.cache.root])})"
        )
        slim = self.cache.build(state.python_package, state.source, used)
        for other, other_used in todo:
            with contextlib.suppress(Exception):
                self.cache.build(other.python_package, other.source, other_used)
        return slim


def _shown(paths: Iterable[Path]) -> str:
    shown = []
    for p in paths:
        try:
            shown.append(str(p.relative_to(ROOT)))
        except ValueError:
            shown.append(str(p))
    return ", ".join(shown)


def install(
    packages: Sequence[str],
    *,
    scan_roots: Sequence[Path] = DEFAULT_SCAN_ROOTS,
    cache: SlimCache | None = None,
) -> SlimLoader | None:
    """Put a :class:`SlimLoader` first on ``sys.meta_path`` (once per process)."""
    if os.environ.get(DISABLE_ENV, "") == "0":
        return None
    for finder in sys.meta_path:
        if isinstance(finder, SlimLoader):
            return finder
    loader = SlimLoader(packages, scan_roots=scan_roots, cache=cache or SlimCache.default())
    sys.meta_path.insert(0, loader)
    return loader


def active_loader() -> SlimLoader | None:
    return next((f for f in sys.meta_path if isinstance(f, SlimLoader)), None)
