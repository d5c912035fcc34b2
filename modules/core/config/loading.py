"""Reading a YAML file into a validated config; pydantic errors become one line per problem."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from modules.core.config.base import ConfigError
from modules.core.config.environments import ToolkitConfig
from modules.core.hcl import CDKTF_TOKEN_MARKER

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
            name = _key_text(part)
            out += f".{name}" if out and not name.startswith("[") else name
    return out or "(top level)"


def _key_text(key: str) -> str:
    """A mapping key as it appears in a location: plain names as they are, anything else
    (spaces, newlines, quotes...) quoted, so a problem always fits on one line."""
    return key if re.fullmatch(r"[A-Za-z0-9_:.-]+", key) else f"[{key!r}]"


def _describe(error: Mapping[str, Any], allowed: Mapping[str, Sequence[str]]) -> str:
    where = _location(tuple(error["loc"]))
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        # Keys allowed in the mapping that holds the unknown one; inside a backend the path
        # keeps the union's tag, so an s3 backend lists the s3 keys.
        names = [str(part) for part in error["loc"][:-1] if isinstance(part, str)]
        hint = allowed.get(".".join(names) or "(top level)")
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


def _allowed_keys() -> dict[str, list[str]]:
    """Allowed keys for each config path, for 'unknown key' messages.

    Paths have no list indexes; a member of a discriminated union (the backends) is registered
    under its tag too (``environments.backend.s3``), the way pydantic's error locations name it.
    """
    out: dict[str, list[str]] = {}

    def walk(model: type[BaseModel], path: str) -> None:
        out[path] = [f.alias or n for n, f in model.model_fields.items()]
        for name, field in model.model_fields.items():
            key = field.alias or name
            sub = f"{path}.{key}" if path != "(top level)" else key
            candidates = _models_in(field.annotation)
            for candidate in candidates:
                tag = candidate.model_fields.get("type")
                tags = getattr(tag.annotation, "__args__", ()) if tag is not None else ()
                if len(candidates) > 1 and tags:
                    walk(candidate, f"{sub}.{tags[0]}")
                else:
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


# Limits of what the loader reads. The config is a few hundred lines nested about six deep; a
# file far beyond these is a mistake or an attack (a deeply nested document exhausts Python's
# recursion, aliases can expand exponentially: "billion laughs").
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32


def _check_events(text: str) -> None:
    """Refuse anchors, aliases and absurd nesting from the event stream, before any node is
    built (PyYAML's parser is iterative; its composer and constructor recurse)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        mark = event.start_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top level)"
        if isinstance(event, yaml.AliasEvent):
            raise _LoadError(
                f"{where}: alias '*{event.anchor}': anchors and aliases are not supported "
                "(an alias can expand without bound); write the value out"
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _LoadError(
                f"{where}: anchor '&{anchor}': anchors and aliases are not supported; "
                "remove the anchor and write values out"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _LoadError(
                    f"{where}: nested more than {MAX_DEPTH} levels deep; the configuration "
                    "is about six levels deep: check the indentation and brackets"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _LoadError(Exception):
    """A file the loader refuses before validation (one problem line)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys (YAML would silently keep the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str):
            # YAML 1.1 reads on/off/yes/no as booleans and dates as dates, also as keys.
            kind = type(key).__name__
            problem = (
                f"key {key_node.value!r} is a {kind}, not text: quote it"
                if isinstance(key_node, yaml.ScalarNode)
                else f"a {kind} is used as a key; keys are names: fix the indentation or brackets"
            )
            raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
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
    markers = list(_token_markers(data, ""))
    if markers:
        raise ConfigError(source, markers)
    try:
        # JSON mode: strict types (no "5" -> 5, no 1 -> "1") while YAML lists still become tuples.
        text = json.dumps(data, default=_plain, allow_nan=False)
    except _NotPlainError as e:
        raise ConfigError(source, [str(e)]) from None
    except (ValueError, RecursionError):
        # NaN/infinity, or an integer with thousands of digits: nothing here takes those.
        raise ConfigError(
            source,
            ["(top level): a value is .nan, .inf or a number too large; no setting takes one"],
        ) from None
    try:
        return ToolkitConfig.model_validate_json(text)
    except ValidationError as e:
        allowed = _allowed_keys()
        problems = [
            _describe(err, allowed)
            for err in e.errors(include_url=False)
            if not _follows_from_items(err)
        ]
        raise ConfigError(source, problems) from None


class _NotPlainError(TypeError):
    """A YAML value of a type no setting takes (binary, set...)."""


def _plain(value: Any) -> str:
    """YAML dates and times (an unquoted 2024-01-01) stand for their text; nothing else that
    JSON cannot hold is taken."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise _NotPlainError(
        f"(top level): a value is a YAML {type(value).__name__} (e.g. !!binary or !!set); "
        "no setting takes one: write plain text, numbers, lists and mappings"
    )


def _token_markers(node: Any, where: str) -> Iterator[str]:
    """Every key or text value holding CDKTF's token marker (see modules.core.hcl): CDKTF
    would swap it for a reference, whatever the field, so it is refused everywhere. The root
    is a mapping (parse_config checks it first), so every string has a non-empty ``where``."""
    if isinstance(node, str):
        if CDKTF_TOKEN_MARKER in node:
            yield (
                f"{where}: holds {CDKTF_TOKEN_MARKER!r}, the marker CDKTF "
                "uses for references; it can never be written literally: remove it"
            )
    elif isinstance(node, dict):
        for key, value in node.items():
            name = _key_text(key) if isinstance(key, str) else f"[{key!r}]"
            path = f"{where}.{name}" if where and not name.startswith("[") else f"{where}{name}"
            yield from _token_markers(key, path)
            yield from _token_markers(value, path)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from _token_markers(item, f"{where}[{i}]")


def _follows_from_items(error: Mapping[str, Any]) -> bool:
    """A non-empty list whose every item failed is also "too short" after validation; the
    items' own errors already say what is wrong, so that line is noise."""
    given = error.get("input")
    return error["type"] == "too_short" and isinstance(given, list | tuple) and bool(given)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line: where, and what PyYAML found (its own message spans several lines)."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        what = " ".join(x for x in (error.context, error.problem) if x)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return " ".join(f"not valid YAML: {where}{what}".split())
    return " ".join(f"not valid YAML: {error}".split())


def load_config(path: Path | str) -> ToolkitConfig:
    """Read and validate a YAML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found; pass an existing file with --config"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(p), [f"cannot read the file: {e}"]) from None
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ConfigError(
            str(p), [f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the config?"]
        )
    try:
        _check_events(text)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _LoadError as e:
        raise ConfigError(str(p), [str(e)]) from None
    except yaml.YAMLError as e:
        raise ConfigError(str(p), [_yaml_problem(e)]) from None
    except ValueError:
        # PyYAML converts numbers with int(): an integer of thousands of digits hits Python's
        # conversion limit.
        raise ConfigError(
            str(p), ["a number has thousands of digits; no setting takes such a value"]
        ) from None
    return parse_config(data, str(p))
