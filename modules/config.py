"""The public import path of the configuration models: ``from modules.config import ...``.

The models live in :mod:`modules.core.config` (split into backends, platform, projects,
environments, loading); this module re-exports exactly its ``__all__``.
"""

from modules.core.config import *  # noqa: F403
from modules.core.config import __all__  # noqa: F401
