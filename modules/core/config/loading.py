"""Reading a YAML file into a validated config; pydantic errors become one line per problem."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from modules.core.config.base import (
    MAX_SHOWN_CHARS,
    SEVERAL,
    ConfigError,
    did_you_mean,
    show,
)
from modules.core.config.environments import ToolkitConfig
from modules.core.config.tokens import number_reason, token_reason

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
    plain = len(key) <= MAX_SHOWN_CHARS and re.fullmatch(r"[A-Za-z0-9_:.-]+", key)
    return key if plain else f"[{show(key)}]"


def _describe(error: Mapping[str, Any], known: _KnownKeys) -> list[str]:
    """The problem lines of one pydantic error (several for a cross-field check that found
    several problems); every value echoed is cut by ``show``."""
    where = _location(tuple(error["loc"]))
    kind = error["type"]
    given = error.get("input")
    ctx = error.get("ctx", {})
    # The model path without list indexes; inside a backend it keeps the union's tag, so an
    # s3 backend's keys are those of the s3 backend.
    names = [str(part) for part in error["loc"] if isinstance(part, str)]
    if kind == "extra_forbidden":
        # Every model path is registered (_KnownKeys), and every model has fields.
        hint = known.allowed[".".join(names[:-1]) or "(top level)"]
        typo = did_you_mean(str(error["loc"][-1]), hint)
        return [
            f"{where}: unknown key{typo}; remove it or fix its spelling; "
            f"allowed keys here: {', '.join(hint)}"
        ]
    if kind == "missing":
        about = known.descriptions.get(".".join(names))
        return [f"{where}: required but missing; add it" + (f" ({about})" if about else "")]
    if kind == "literal_error":  # the models use Literal, no Enum
        expected = str(ctx["expected"])
        choices = re.findall(r"'([^']*)'", expected)
        typo = did_you_mean(given, choices) if isinstance(given, str) else ""
        return [f"{where}: {show(given)} is not allowed{typo}; use one of {expected}"]
    if kind == "union_tag_invalid":
        expected = str(ctx["expected_tags"])
        tag = ctx["tag"]
        typo = did_you_mean(str(tag), re.findall(r"'([^']*)'", expected))
        return [f"{where}.type: {show(tag)} is not a backend type{typo}; use one of {expected}"]
    if kind == "union_tag_not_found":
        return [f"{where}.type: required; use one of 'local', 's3', 'cloud'"]
    if kind in _HINTS:
        return [f"{where}: {_HINTS[kind]}, got {show(given)} ({type(given).__name__})"]
    if kind == "too_short" and given == []:  # JSON input: a sequence is a list
        return [f"{where}: the list is empty; give at least one entry"]
    head = f"{where}." if where != "(top level)" else ""
    if kind == SEVERAL:
        # Cross-field checks name their own sub-path first.
        found = ctx.get("problems") or (str(error["msg"]),)
        return [_shorten(f"{head}{problem}", given) for problem in found]
    msg = str(error["msg"])
    # A model check that names its own sub-path first (the checks that find several problems
    # are SEVERAL, above); the validators raise PydanticCustomError, never ValueError.
    lead = head if msg.startswith(("platform.", "production_reviewers")) else f"{where}: "
    return [_shorten(f"{lead}{msg}", given)]


def _shorten(message: str, given: Any) -> str:
    """``message`` with every long text of ``given`` (the value a validator refused, which
    it may echo whole) replaced by its cut form."""
    long_texts = sorted(set(_long_strings(given)), key=len, reverse=True)
    for text in long_texts:
        message = message.replace(repr(text), show(text))
    return message


def _long_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        if len(node) > MAX_SHOWN_CHARS - 2:  # its repr would be cut
            yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _long_strings(key)
            yield from _long_strings(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _long_strings(item)


class _KnownKeys:
    """Per config path (no list indexes): the keys allowed there, for 'unknown key' messages,
    and the description of each field, for 'required but missing' ones.

    A member of a discriminated union (the backends) is registered under its tag too
    (``environments.backend.s3``), the way pydantic's error locations name it.
    """

    def __init__(self) -> None:
        self.allowed: dict[str, list[str]] = {}
        self.descriptions: dict[str, str] = {}
        self._walk(ToolkitConfig, "(top level)")

    def _walk(self, model: type[BaseModel], path: str) -> None:
        self.allowed[path] = [f.alias or n for n, f in model.model_fields.items()]
        for name, field in model.model_fields.items():
            key = field.alias or name
            sub = f"{path}.{key}" if path != "(top level)" else key
            if field.description:
                self.descriptions[sub] = field.description
            candidates = _models_in(field.annotation)
            for candidate in candidates:
                # The members of a union of models (the backends) are tagged by ``type``.
                self._walk(candidate, sub if len(candidates) == 1 else f"{sub}.{_tag(candidate)}")


def _tag(model: type[BaseModel]) -> str:
    """The tag of a member of a discriminated union: its ``type`` field's one literal value."""
    return str(get_args(model.model_fields["type"].annotation)[0])


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
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
        assert mark is not None  # the parser marks every event it reads from a text
        where = f"line {mark.line + 1}, column {mark.column + 1}"
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
        known = _KnownKeys()
        problems = [
            line
            for err in e.errors()  # (each one's url is not used)
            if not _follows_from_items(err)
            for line in _describe(err, known)
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
    """Every key or value CDKTF would read as a token (``modules.core.config.tokens``): CDKTF
    would swap it for a reference or fail, whatever the field, so it is refused everywhere.
    ``node`` is the top-level mapping or sits under a key, so ``where`` of a value is never
    empty."""
    if isinstance(node, str):
        reason = token_reason(node)
        if reason is not None:
            yield f"{where}: {show(node)} {reason}"
    elif isinstance(node, float | int) and not isinstance(node, bool):
        try:
            reason = number_reason(float(node))
        except OverflowError:
            reason = None  # an integer beyond any double; the models refuse it
        if reason is not None:
            yield f"{where}: {show(node)} {reason}"
    elif isinstance(node, dict):
        for key, value in node.items():
            name = _key_text(key) if isinstance(key, str) else f"[{show(key)}]"
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
