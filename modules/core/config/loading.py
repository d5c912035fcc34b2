"""Reading a YAML file into a validated config; pydantic errors become one line per problem."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from modules.core.config.base import ConfigError
from modules.core.config.environments import ToolkitConfig

_HINTS = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "dict_type": "expected a mapping of key: value",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "model_type": "expected a mapping of key: value",
    "model_attributes_type": "expected a mapping of key: value",
}


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"local", "s3", "cloud"} and out.endswith("backend"):
            continue  # the discriminated union's tag adds noise to the path
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(error: Mapping[str, Any], allowed: Mapping[str, Sequence[str]]) -> str:
    where = _location(tuple(error["loc"]))
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        parent = where.rsplit(".", 1)[0] if "." in where else "(top level)"
        hint = allowed.get(_strip_indexes(parent))
        known = f"; allowed keys here: {', '.join(hint)}" if hint else ""
        return f"{where}: unknown key; remove it or fix its spelling{known}"
    if kind == "missing":
        return f"{where}: required but missing; add it"
    if kind in {"literal_error", "enum"}:
        expected = error.get("ctx", {}).get("expected", "")
        return f"{where}: {given!r} is not allowed; use one of {expected}"
    if kind == "union_tag_invalid":
        expected = error.get("ctx", {}).get("expected_tags", "")
        tag = error.get("ctx", {}).get("tag", given)
        return f"{where}.type: {tag!r} is not a backend type; use one of {expected}"
    if kind == "union_tag_not_found":
        return f"{where}.type: required; use one of 'local', 's3', 'cloud'"
    if kind in _HINTS:
        return f"{where}: {_HINTS[kind]}, got {given!r} ({type(given).__name__})"
    if kind in {"too_short"} and isinstance(given, list | tuple) and not given:
        return f"{where}: the list is empty; give at least one entry"
    msg = str(error["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    # Cross-field checks name their own sub-path first.
    if kind in {
        "duplicate_project",
        "connection_region",
        "connection_account",
        "no_reviewers",
    } or msg.startswith(("projects[", "platform.", "environments[", "production_reviewers")):
        head = f"{where}." if where != "(top level)" else ""
        return f"{head}{msg}"
    return f"{where}: {msg}"


def _strip_indexes(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


def _allowed_keys() -> dict[str, list[str]]:
    """Allowed keys for each config path, for 'unknown key' messages."""
    out: dict[str, list[str]] = {}

    def walk(model: type[BaseModel], path: str) -> None:
        out[path] = [f.alias or n for n, f in model.model_fields.items()]
        for name, field in model.model_fields.items():
            key = field.alias or name
            sub = f"{path}.{key}" if path != "(top level)" else key
            for candidate in _models_in(field.annotation):
                walk(candidate, sub)

    walk(ToolkitConfig, "(top level)")
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys (YAML would silently keep the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r}: each key may appear once; merge the two entries",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_config(data: Any, source: str = "config") -> ToolkitConfig:
    """Validate already-parsed YAML data; raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping with an 'environments' list"])
    try:
        # JSON mode: strict types (no "5" -> 5, no 1 -> "1") while YAML lists still become tuples.
        return ToolkitConfig.model_validate_json(json.dumps(data, default=str))
    except ValidationError as e:
        allowed = _allowed_keys()
        problems = [_describe(err, allowed) for err in e.errors(include_url=False)]
        raise ConfigError(source, problems) from None


def load_config(path: Path | str) -> ToolkitConfig:
    """Read and validate a YAML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found; pass an existing file with --config"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(p), [f"cannot read the file: {e}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise ConfigError(str(p), [f"not valid YAML: {e}"]) from None
    return parse_config(data, str(p))
