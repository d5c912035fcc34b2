"""The trigger function's source tree, laid out as Lambda sees it, in one place.

``lambda_src/`` is the function's zip root (``modules/artifacts.py`` packs it). Lambda puts the
zip root on ``sys.path``, so the function's code is two top-level names: the module ``handler``
(the handler is ``handler.handler``) and the package ``github_trigger``. Those are the only names
it has anywhere: in Lambda, in its tests and in the toolkit (there is no
``lambda_src.github_trigger``, which would be the same file under a second name: two module
objects, two sets of globals, and mypy's "source file found twice" error).

Outside Lambda, :func:`import_function_module` imports one of them under that same name without
touching ``sys.path``: the top-level module is found by its file location under
:data:`FUNCTION_ROOT` and registered in ``sys.modules``, and submodules of ``github_trigger`` are
found through the package's ``__path__`` as usual. Adding ``lambda_src/`` to ``sys.path``
instead would expose whatever else lies there as a top-level module (and, appended or
prepended, either be shadowed by or shadow installed packages named ``handler``); here only the
function's own names are importable, and only when asked for. Once imported, a plain
``import github_trigger.budget`` elsewhere (the function's tests) is the same module object.

Who calls it: ``modules/aws/trigger_contract.py`` (the construct reads the function's time
budget and allowlist encoder there, and nowhere else) and the function's tests
(``tests/lambda_src/conftest.py``). Standard library only; no cdktf.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
#: The function's zip root: what Lambda puts on ``sys.path``.
FUNCTION_ROOT = ROOT / "lambda_src"
#: The function's top-level import names (the zip root's module and package).
TOP_LEVEL_NAMES = ("github_trigger", "handler")


def _load_top_level(name: str) -> ModuleType:
    package_dir = FUNCTION_ROOT / name
    if package_dir.is_dir():
        spec = importlib.util.spec_from_file_location(
            name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, FUNCTION_ROOT / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"the trigger function has no module {name} in {FUNCTION_ROOT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_function_module(name: str) -> ModuleType:
    """Import ``name`` (``handler``, ``github_trigger`` or one of its submodules) from the
    function's source, under the name the function uses in Lambda. Idempotent."""
    top = name.partition(".")[0]
    if top not in TOP_LEVEL_NAMES:
        raise ValueError(f"{name} is not the trigger function's: its names are {TOP_LEVEL_NAMES}")
    # handler imports github_trigger: the package is always registered first.
    for needed in ("github_trigger", top):
        if needed not in sys.modules:
            _load_top_level(needed)
    return importlib.import_module(name)
