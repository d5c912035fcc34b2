"""Find secret canary values in files and captured output.

A test sets every secret input (GitHub token, AWS key pair, ...) to a unique random canary,
runs the toolkit, then looks for each canary, as written and base64-encoded (how Terraform
and some tools store secrets), in everything the run left behind.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from modules.core.naming import owner_token_variable

#: The GitHub App's private key (modules/stack.py, ``APP_PEM_VARIABLE``): a multi-line PEM.
APP_PEM_VARIABLE = "TF_VAR_github_app_pem"

#: Environment variables that carry secrets into a synth or a plan, whatever the config.
SECRET_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "TF_VAR_github_token",
    APP_PEM_VARIABLE,
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "TF_TOKEN_app_terraform_io",
)


def secret_variables(owners: Iterable[str] = ()) -> tuple[str, ...]:
    """``SECRET_VARIABLES`` plus the per-owner token variable of each GitHub owner
    (``TF_VAR_github_owner_token_<owner>``, modules.core.naming.owner_token_variable)."""
    per_owner = sorted({f"TF_VAR_{owner_token_variable(owner)}" for owner in owners})
    return (*SECRET_VARIABLES, *per_owner)


def make_canaries(names: Iterable[str] = SECRET_VARIABLES) -> dict[str, str]:
    """A unique random value per variable, shaped like nothing the toolkit writes; the App key
    is shaped like a PEM (several lines), so a leak with escaped newlines is found too."""
    canaries = {}
    for name in names:
        value = f"canary{secrets.token_hex(16)}"
        if name == APP_PEM_VARIABLE:
            value = (
                "-----BEGIN RSA PRIVATE KEY-----\n"
                f"{value}\n{secrets.token_hex(24)}\n"
                "-----END RSA PRIVATE KEY-----\n"
            )
        canaries[name] = value
    return canaries


def _forms(value: str) -> dict[str, bytes]:
    raw = value.encode()
    forms = {"as written": raw, "base64": base64.b64encode(raw).rstrip(b"=")}
    escaped = json.dumps(value)[1:-1].encode()
    if escaped != raw:
        forms["JSON-escaped"] = escaped
    # any single line of a multi-line secret (a PEM's body) is a leak on its own
    lines = value.splitlines()
    for number, line in enumerate(lines if len(lines) > 1 else []):
        if len(line) >= 32 and "-----" not in line:
            forms[f"line {number + 1}"] = line.encode()
    return forms


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
