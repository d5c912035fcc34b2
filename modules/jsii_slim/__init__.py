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

The package, by role: ``common`` (settings, the error, the notice line), ``scan`` (which
submodules the app uses), ``assembly`` (selecting the slim assembly and its ``lib/index.js``),
``tarball`` (reading the original and writing the slim tarball), ``cache`` (the shared cache)
and ``loader`` (the meta-path finder that swaps the tarball; ``install``). This ``__init__``
only re-exports their public names.

May import: the standard library, jsii, and ``modules.runtime`` (its install-step entry point);
nothing else of ours: it runs before any construct module is imported.
"""

from __future__ import annotations

from modules.jsii_slim.assembly import (
    SlimSelection,
    python_module_submodule,
    select,
    slim_assembly,
    slim_index_js,
)
from modules.jsii_slim.cache import (
    STALE_ENTRY_SECONDS,
    SlimCache,
    SlimTarball,
    jsii_version,
    package_tarball,
    sha256_file,
)
from modules.jsii_slim.common import (
    BUILDER_VERSION,
    CACHE_DIR_ENV,
    DEFAULT_CACHE_DIR,
    DEFAULT_SCAN_ROOTS,
    DISABLE_ENV,
    ROOT,
    SlimError,
    shown_paths,
)
from modules.jsii_slim.loader import SlimLoader, active_loader, install
from modules.jsii_slim.scan import scan_used_submodules
from modules.jsii_slim.tarball import build_slim_tarball

__all__ = [
    "BUILDER_VERSION",
    "CACHE_DIR_ENV",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_SCAN_ROOTS",
    "DISABLE_ENV",
    "ROOT",
    "STALE_ENTRY_SECONDS",
    "SlimCache",
    "SlimError",
    "SlimLoader",
    "SlimSelection",
    "SlimTarball",
    "active_loader",
    "build_slim_tarball",
    "install",
    "jsii_version",
    "package_tarball",
    "python_module_submodule",
    "scan_used_submodules",
    "select",
    "sha256_file",
    "shown_paths",
    "slim_assembly",
    "slim_index_js",
]
