"""Selecting a slim assembly: the used submodules, everything their types refer to, and a
``lib/index.js`` that requires only those."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.jsii_slim.common import SlimError

_SUBMODULE_REQUIRE = re.compile(r'^exports\.(\w+) = require\("\./([\w.-]+)"\);$')


@dataclass(frozen=True, kw_only=True)
class SlimSelection:
    """What a slim tarball holds, derived from the original assembly."""

    submodules: tuple[tuple[str, str], ...]  # (jsii submodule FQN, its lib/ directory), sorted
    python_modules: tuple[str, ...]  # their Python module names (last segment), sorted
    type_count: int
    total_type_count: int


def load_assembly(members: dict[str, bytes]) -> dict[str, Any]:
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
