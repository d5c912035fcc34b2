"""A pytest plugin for `make mutation` only: the trigger function's modules under the names
mutmut gives them.

The function's code has one import name, the one Lambda gives it (``handler``,
``github_trigger.*``: its zip root is ``lambda_src/``). mutmut names a mutant after the file's
path (``lambda_src.github_trigger.dispatch.x_...``) and only switches a function to its mutant
when the function's ``__module__`` has that name. This plugin, loaded with ``-p`` by the
``[tool.mutmut]`` settings in pyproject.toml and by nothing else, makes ``import
github_trigger.dispatch`` return the module ``lambda_src.github_trigger.dispatch`` (the same file
and the same module object under both names), so the function's tests run the mutated code
and mutmut attributes each test to the right mutants. It must load before any test module
imports the function, which ``-p`` guarantees; it imports the function's two top-level names at
once.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_FUNCTION_NAMES = ("handler", "github_trigger")
_PREFIX = "lambda_src."


class _PathNamedFunction(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in _FUNCTION_NAMES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        # the module under mutmut's name; importlib keeps its __name__ and __spec__
        return importlib.import_module(_PREFIX + spec.name)

    def exec_module(self, module: ModuleType) -> None:
        """Already executed under its path name by ``create_module``."""


if not any(isinstance(finder, _PathNamedFunction) for finder in sys.meta_path):
    sys.meta_path.insert(0, _PathNamedFunction())
# Imported now, so that whatever imports the function later (tests/lambda_src/conftest.py,
# modules/aws/trigger_contract.py) finds these modules already registered. mutmut's check that
# a failing test is noticed makes every mutated function raise, module-level calls included:
# then the import fails here and again, as a test failure, where the tests import it.
for _name in ("github_trigger", "handler"):
    try:
        importlib.import_module(_name)
    except Exception:
        continue
