"""The tree shows the architecture: import boundaries between the halves are enforced here.

``modules/core`` imports nothing of ours; ``render`` only ``core``; ``aws`` and ``github`` only
``core`` (never each other); ``ops`` only ``core`` and ``render``; the top-level wiring
(``stack``, ``project``, ``app``, ``synth``) may import everything. Nothing user-facing imports
``tools/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "modules"

# subpackage -> the packages of ours it may import (besides itself)
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "render": frozenset({"core"}),
    "aws": frozenset({"core"}),
    "github": frozenset({"core"}),
    # ops reads the file names the renderers write (make preflight checks the dispatched
    # workflow is on the default branch); render is cdktf-free like ops
    "ops": frozenset({"core", "render"}),
    # the slim provider copies for jsii: process set-up, below everything else
    "jsii_slim": frozenset({"runtime"}),
}
# packages that must stay free of cdktf/jsii (they run before, or without, any construct)
NO_CDKTF = ("render", "ops", "core/config")
# The trigger function's dependency-free contract modules (its time budget and the allowlist
# encoding), imported under the names the function itself uses (lambda_src/ is its zip root,
# modules/core/function_source.py), so the plan and the function derive the same numbers from
# one file. Only the one shared module the trigger's constructs read them through may import them.
FUNCTION_CONTRACT = {
    "aws/trigger_contract.py": frozenset({"github_trigger.allowlist", "github_trigger.budget"})
}


def imported_names(source: str) -> list[str]:
    """Every absolute module name a source file imports, at any depth (functions included)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            # "from modules import aws" imports the subpackage itself
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(subpackage: str, source: str, contract: frozenset[str] = frozenset()) -> list[str]:
    """The imports in ``source`` (a file of ``modules/<subpackage>``) that break the rules."""
    allowed = ALLOWED[subpackage] | {subpackage}
    bad: list[str] = []
    for name in imported_names(source):
        parts = name.split(".")
        if parts[0] == "github_trigger" and ".".join(parts[:2]) in contract:
            continue
        if parts[0] in {"tools", "lambda_src", "github_trigger"} or (
            parts[0] == "modules" and len(parts) > 1 and parts[1] not in allowed
        ):
            bad.append(name)
    return sorted(set(bad))


def _files(subpackage: str) -> list[Path]:
    return sorted(p for p in (MODULES / subpackage).rglob("*.py") if "seed" not in p.parts)


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_subpackage_imports_only_what_it_may(subpackage: str) -> None:
    found = {
        str(path.relative_to(ROOT)): violations(
            subpackage,
            path.read_text(encoding="utf-8"),
            FUNCTION_CONTRACT.get(str(path.relative_to(MODULES)), frozenset()),
        )
        for path in _files(subpackage)
    }
    assert _files(subpackage), f"modules/{subpackage} has no files"
    assert {k: v for k, v in found.items() if v} == {}


def test_the_checker_catches_aws_importing_github() -> None:
    source = "from modules.github.repository_files import RepositoryFiles\n"
    assert violations("aws", source) == [
        "modules.github.repository_files",
        "modules.github.repository_files.RepositoryFiles",
    ]
    assert violations("aws", "def f():\n    import modules.render.workflows\n") == [
        "modules.render.workflows"
    ]
    assert violations("core", "from modules.aws import trigger_function\n") != []
    assert violations("ops", "from tools.bench import main\n") == [
        "tools.bench",
        "tools.bench.main",
    ]
    assert violations("aws", "from modules.core.naming import slug\n") == []
    # the function's contract modules: only where granted, and nothing else of the function
    granted = FUNCTION_CONTRACT["aws/trigger_contract.py"]
    assert violations("aws", "from github_trigger.budget import derive_budget\n", granted) == []
    assert violations("aws", "from github_trigger.budget import derive_budget\n") != []
    assert violations("aws", "from github_trigger.dispatch import Dispatcher\n", granted) != []


@pytest.mark.parametrize("subpackage", NO_CDKTF)
def test_renderers_ops_and_config_do_not_import_cdktf(subpackage: str) -> None:
    for path in sorted((MODULES / subpackage).rglob("*.py")):
        if "seed" in path.parts:
            continue
        names = imported_names(path.read_text(encoding="utf-8"))
        assert not [n for n in names if n.split(".")[0] in {"cdktf", "constructs", "jsii"}], path


def test_user_facing_code_never_imports_developer_tooling() -> None:
    files = [ROOT / "main.py", *sorted(MODULES.rglob("*.py"))]
    offenders = {
        str(p.relative_to(ROOT)): [
            n for n in imported_names(p.read_text()) if n.startswith("tools")
        ]
        for p in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_subpackage_says_what_it_may_import() -> None:
    for subpackage in ALLOWED:
        doc = ast.get_docstring(ast.parse((MODULES / subpackage / "__init__.py").read_text()))
        assert doc and "May import" in doc, subpackage


def test_tools_keeps_only_bench_and_gates() -> None:
    entries = {p.name for p in (ROOT / "tools").iterdir() if p.name != "__pycache__"}
    assert entries == {"__init__.py", "bench.py", "gates"}


# --- No sys.path edits, one import name per module ---------------------------------------------
# The function's code is imported under its Lambda names through modules/core/function_source.py
# (no sys.path edit); pytest's `pythonpath = ["."]` (pyproject.toml) is the repo root. The only
# sys.path writes left are tools/bench.py's: it runs main.py as `python main.py` would, so it
# sets sys.path[0] to the script's directory (the interpreter's own rule), in its child process.
SYS_PATH_WRITERS = frozenset({"tools/bench.py"})


def sys_path_edits(source: str) -> list[int]:
    """Lines that change ``sys.path`` (a call of a method on it, or an assignment into it)."""
    lines: list[int] = []

    def is_sys_path(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        )

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if is_sys_path(node.func.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                inner = target.value if isinstance(target, ast.Subscript) else target
                if is_sys_path(inner):
                    lines.append(node.lineno)
    return lines


def _python_files() -> list[Path]:
    roots = [ROOT / "main.py", *(ROOT / d for d in ("modules", "tests", "tools", "lambda_src"))]
    files = [r for r in roots if r.is_file()]
    for r in roots:
        if r.is_dir():
            files.extend(p for p in r.rglob("*.py") if "__pycache__" not in p.parts)
    return sorted(files)


def test_nothing_edits_sys_path() -> None:
    found = {
        str(p.relative_to(ROOT)): sys_path_edits(p.read_text(encoding="utf-8"))
        for p in _python_files()
    }
    offenders = {k: v for k, v in found.items() if v and k not in SYS_PATH_WRITERS}
    assert offenders == {}


def test_the_sys_path_checker_sees_inserts_appends_and_assignments() -> None:
    assert sys_path_edits("import sys\nsys.path.insert(0, 'x')\n") == [2]
    assert sys_path_edits("import sys\nif 1:\n    sys.path.append('x')\n") == [3]
    assert sys_path_edits("import sys\nsys.path[0] = 'x'\nsys.path += ['y']\n") == [2, 3]
    assert sys_path_edits("import sys\nprint(sys.path)\nx = 'sys.path.insert'\n") == []


def test_one_import_path_for_the_config_and_the_function() -> None:
    assert not (MODULES / "config.py").exists(), "the modules.config shim is gone"
    offenders: dict[str, list[str]] = {}
    for path in _python_files():
        names = imported_names(path.read_text(encoding="utf-8"))
        bad = [
            n
            for n in names
            if n == "modules.config"
            or n.startswith("modules.config.")
            or n.startswith("lambda_src.")
        ]
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


# --- Constructs in CDK style: small functions ------------------------------------------------
MAX_FUNCTION_LINES = 80


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """``(qualified name, lines)`` of every function (methods and nested ones included) whose
    definition, decorators excluded, spans more than ``limit`` lines."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                span = (child.end_lineno or child.lineno) - child.lineno + 1
                if span > limit:
                    found.append((name, span))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def test_no_function_under_modules_exceeds_80_lines() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}:{name}": span
        for path in sorted(MODULES.rglob("*.py"))
        for name, span in long_functions(path.read_text(encoding="utf-8"))
    }
    assert offenders == {}, f"split these into child constructs or helpers: {offenders}"


def test_the_size_checker_counts_methods_and_nested_functions() -> None:
    def function(name: str, statements: int, indent: str = "") -> str:
        body = "".join(f"{indent}    x{i} = {i}\n" for i in range(statements))
        return f"{indent}def {name}():\n{body}"

    source = (
        function("fits", 79)  # 80 lines with its def line
        + "class C:\n"
        + function("method", 80, "    ")  # 81
        + "def outer():\n"
        + function("inner", 80, "    ")  # 81, and outer 82
    )
    assert long_functions(source) == [("C.method", 81), ("outer", 82), ("outer.inner", 81)]
