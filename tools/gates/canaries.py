"""Find secret canary values in files and captured output.

A test sets every secret input (GitHub token, AWS key pair, ...) to a unique random canary,
runs the toolkit, then looks for each canary, as written and base64-encoded (how Terraform
and some tools store secrets), in everything the run left behind.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

#: Environment variables that carry secrets into a synth or a plan.
SECRET_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "TF_VAR_github_token",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "TF_TOKEN_app_terraform_io",
)


def make_canaries(names: Iterable[str] = SECRET_VARIABLES) -> dict[str, str]:
    """A unique random value per variable, shaped like nothing the toolkit writes."""
    return {name: f"canary{secrets.token_hex(16)}" for name in names}


def _forms(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {"as written": raw, "base64": base64.b64encode(raw).rstrip(b"=")}


def find_canaries(
    canaries: Mapping[str, str],
    *,
    files: Iterable[Path] = (),
    texts: Mapping[str, str | bytes] | None = None,
) -> list[str]:
    """Where each canary appears: ``"<place>: <variable> (<form>)"``, empty when nowhere.

    ``files`` are read as bytes (directories are walked); ``texts`` maps a label (``stdout``)
    to captured output.
    """
    places: dict[str, bytes] = {}
    for path in files:
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            places[str(candidate)] = candidate.read_bytes()
    for label, text in (texts or {}).items():
        places[label] = text.encode() if isinstance(text, str) else text
    found = []
    for place, content in places.items():
        for name, value in canaries.items():
            found += [
                f"{place}: {name} ({form})"
                for form, needle in _forms(value).items()
                if needle in content
            ]
    return found
