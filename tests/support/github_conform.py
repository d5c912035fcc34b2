"""Complete the stateful fake's answers to what GitHub's OpenAPI description requires.

The stateful fake (``stateful_github``) decides the fields the provider and ``make propose``
read (a branch's commit, a file's content and sha, a pull request's head, base and state...).
GitHub's answers carry many more required fields (``_links``, ``node_id``, ``url``...). This
module fills every field the response schema requires and the fake did not set, with a value
of the schema's type and format, then lays the fake's own fields over it: the answer keeps the
fake's meaning and validates against the description (``github_openapi``). What fills a field
comes from the schema alone (``type``, ``format``, ``enum``, ``oneOf``/``anyOf``/``allOf``,
``nullable``), never from a hand-written table.

Legacy route: the provider addresses environment secrets by repository id
(``/repositories/{id}/environments/{env}/secrets/...``, resource_github_actions_environment_
secret.go:85/112/146 through go-github v67), which the current description no longer lists;
:func:`documented_path` maps it to the documented ``/repos/{owner}/{repo}/environments/...``
operation so both sides are still checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from tests.support.github_openapi import GitHubDescription, _json_schema_pointer

LEGACY_ENV_SECRETS = re.compile(r"^/repositories/(?P<id>\d+)(?P<rest>/environments/.*)$")
FORMATS = {
    "date-time": "2026-12-01T00:00:00Z",
    "uri": "https://api.github.com/",
    "uri-template": "https://api.github.com/{id}",
    "email": "noreply@github.com",
    "date": "2026-12-01",
}


def documented_path(path: str, owner_repo: Callable[[int], str]) -> str:
    """``path`` on the route GitHub's description documents (see the module doc)."""
    match = LEGACY_ENV_SECRETS.match(path)
    if match is None:
        return path
    return f"/repos/{owner_repo(int(match['id']))}{match['rest']}"


def _example(d: GitHubDescription, schema: Any, depth: int = 0) -> Any:
    schema = d.resolve(schema)
    if not isinstance(schema, Mapping) or depth > 12:
        return None
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            return _example(d, schema[keyword][0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _example(d, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: _example(d, props.get(name, {}), depth + 1) for name in schema.get("required", [])
        }
    if kind == "array":
        return []
    if kind == "string":
        return FORMATS.get(str(schema.get("format")), "")
    if kind == "integer" or kind == "number":
        return max(int(schema.get("minimum", 0)), 0) or 1
    if kind == "boolean":
        return False
    return None


def _overlay(d: GitHubDescription, schema: Any, own: Any, depth: int = 0) -> Any:
    """``own`` completed: required fields it lacks are filled, recursively."""
    schema = d.resolve(schema)
    if not isinstance(schema, Mapping) or depth > 12:
        return own
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema and isinstance(own, dict):
            return _overlay(d, _best(d, schema[keyword], own), own, depth + 1)
    if "allOf" in schema and isinstance(own, dict):
        for part in schema["allOf"]:
            own = _overlay(d, part, own, depth + 1)
        return own
    if isinstance(own, dict):
        props = schema.get("properties", {})
        filled = dict(own)
        for name in schema.get("required", []):
            if name not in filled:
                filled[name] = _example(d, props.get(name, {}), depth + 1)
        for name, value in own.items():
            if name in props:
                filled[name] = _overlay(d, props[name], value, depth + 1)
        return filled
    if isinstance(own, list) and "items" in schema:
        return [_overlay(d, schema["items"], item, depth + 1) for item in own]
    return own


def _best(d: GitHubDescription, alternatives: list[Any], own: Mapping[str, Any]) -> Any:
    """The alternative whose properties cover most of ``own``'s fields, then the one that
    requires the fewest others (a public user rather than the private view of one)."""

    def score(alternative: Any) -> tuple[int, int]:
        resolved = d.resolve(alternative)
        if not isinstance(resolved, Mapping):
            return (0, 0)
        props = resolved.get("properties", {})
        return (sum(1 for key in own if key in props), -len(resolved.get("required", [])))

    return max(alternatives, key=score)


def conform(d: GitHubDescription, method: str, path: str, status: int, body: Any) -> Any:
    """``body`` completed to the response schema of (method, path, status), when documented."""
    try:
        op = d.operation(method, path)
    except LookupError:
        return body
    responses = op.responses
    key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    if key not in responses or body is None:
        return body
    response, at = d.locate(responses[key], f"{op.pointer}/responses/{key}")
    pointer = _json_schema_pointer(response, at)
    if pointer is None:
        return body
    schema: Any = d.document
    for part in pointer[2:].split("/"):
        schema = schema[part.replace("~1", "/").replace("~0", "~")]
    return _overlay(d, schema, body)
