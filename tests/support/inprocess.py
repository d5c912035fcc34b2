"""Synthesize a config given as data in this process (one jsii runtime for the whole session),
for tests that need several synths: faster than ``main.py`` in a fresh process each time."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from modules.core.config import parse_config

_CACHE: dict[str, dict[str, dict[str, Any]]] = {}


def synth_stacks(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Stack name -> synthesized ``cdk.tf.json`` of ``data`` (validated first; cached).

    Raises ``ConfigError`` for a config the toolkit refuses.
    """
    key = json.dumps(data, sort_keys=True)
    if key not in _CACHE:
        config = parse_config(data)
        from modules.synth import synthesize  # noqa: PLC0415 - cdktf only when needed

        with tempfile.TemporaryDirectory(prefix="inprocess-synth-") as tmp:
            out = Path(tmp) / "cdktf.out"
            synthesize(config, out)
            _CACHE[key] = {
                env.stack_name: json.loads(
                    (out / "stacks" / env.stack_name / "cdk.tf.json").read_text(encoding="utf-8")
                )
                for env in config.environments
            }
    return _CACHE[key]
