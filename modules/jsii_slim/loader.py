"""Serving the slim tarball to the jsii kernel: a meta-path finder that notes submodule imports
and wraps the kernel's ``load`` once a provider's ``_jsii`` is imported."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modules.jsii_slim.cache import SlimCache, SlimTarball, package_tarball
from modules.jsii_slim.common import (
    DEFAULT_SCAN_ROOTS,
    DISABLE_ENV,
    SlimError,
    notice,
    shown_paths,
)
from modules.jsii_slim.scan import scan_used_submodules


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
                    f"{package} (built from the imports found in {shown_paths(self.scan_roots)}): "
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
            notice(
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
        notice(
            f"preparing slim copies of {names} for the submodules the app uses (once per "
            f"package version and import set; cached in {shown_paths([self.cache.root])})"
        )
        slim = self.cache.build(state.python_package, state.source, used)
        for other, other_used in todo:
            with contextlib.suppress(Exception):
                self.cache.build(other.python_package, other.source, other_used)
        return slim


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
