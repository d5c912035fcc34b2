"""``python -m modules.ops.preflight`` (see the package's docstring)."""

import sys

from modules.ops.preflight.cli import main

sys.exit(main())
