"""The trigger function's contract with its construct: the time budget and the allowlist encoding.

Both live in the function's own code, as plain dependency-free modules
(``lambda_src/github_trigger/budget.py`` and ``allowlist.py``), so the plan (function timeout,
``GITHUB_TIMEOUT_SECONDS``, ``ALLOWED_TARGETS``) and the running function derive the same
numbers and digests from the same file. This is the one module of the toolkit that imports
them, under the function's own names (``github_trigger.*``, see
``modules/core/function_source.py`` for why there is no second name and no ``sys.path`` edit);
the trigger's constructs import from here.
"""

from __future__ import annotations

from modules.core.function_source import import_function_module

import_function_module("github_trigger")

from github_trigger.allowlist import DispatchTarget, encode_allowed_targets  # noqa: E402
from github_trigger.budget import (  # noqa: E402
    DEFAULT_GITHUB_TIMEOUT_SECONDS,
    TimeBudget,
    derive_budget,
)

__all__ = [
    "DEFAULT_GITHUB_TIMEOUT_SECONDS",
    "DispatchTarget",
    "TimeBudget",
    "derive_budget",
    "encode_allowed_targets",
]
