"""The tree shows the architecture: import boundaries between the halves are enforced here.

``modules/core`` imports nothing of ours; ``render`` only ``core``; ``aws`` and ``github`` only
``core`` (never each other); ``ops`` only ``core``; the top-level wiring (``stack``, ``project``,
``app``, ``synth``) may import everything. Nothing user-facing imports ``tools/``.
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
    "ops": frozenset({"core"}),
    # the slim provider copies for jsii: process set-up, below everything else
    "jsii_slim": frozenset({"runtime"}),
}
# packages that must stay free of cdktf/jsii (they run before, or without, any construct)
NO_CDKTF = ("render", "ops", "core/config")
# The trigger function's dependency-free contract modules (its time budget and the allowlist
# encoding), imported under the names the function itself uses (lambda_src/ is its zip root), so
# the plan and the function derive the same numbers from one file. Only the construct that
# deploys the function may import them.
FUNCTION_CONTRACT = {
    "aws/trigger_function.py": frozenset(
        {"github_trigger.allowlist", "github_trigger.budget", "github_trigger.ledger_schema"}
    )
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
    granted = FUNCTION_CONTRACT["aws/trigger_function.py"]
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
