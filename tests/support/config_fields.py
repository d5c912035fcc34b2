"""Every string field of the config models, found at run time, and a way to set each one.

The property tests (tests/test_config_literal_output.py, tests/modules/core/test_config_input.py)
use this so that a field someone adds to a model is covered without touching the tests.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from modules.core.config import ToolkitConfig

#: A valid minimal mapping per backend ``type``, to reach each backend's own string fields.
BACKEND_BASES: dict[str, dict[str, Any]] = {
    "local": {"type": "local"},
    "s3": {"type": "s3", "bucket": "acme-terraform-state"},
    "cloud": {"type": "cloud", "organization": "acme"},
}


@dataclass(frozen=True)
class StringSlot:
    """One place in the config where a string goes.

    ``path`` is the key path from the top (ints index lists); ``kind`` says whether the string
    is the value itself, the only item of a list, or a mapping's key or value; ``backend`` is
    the backend type the slot needs (``None``: any).
    """

    path: tuple[str | int, ...]
    kind: Literal["value", "item", "dict_key", "dict_value"]
    backend: str | None = None

    @property
    def name(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return f"{out}<{self.kind}>"

    def apply(self, data: dict[str, Any], value: str) -> dict[str, Any]:
        """A copy of ``data`` with ``value`` at this slot (missing mappings are created)."""
        out = copy.deepcopy(data)
        node: Any = out
        for i, part in enumerate(self.path[:-1]):
            if isinstance(part, int):
                node = node[part]
                continue
            at_backend = part == "backend" and i == len(self.path) - 2
            if at_backend and self.backend and node.get(part, {}).get("type") != self.backend:
                node[part] = copy.deepcopy(BACKEND_BASES[self.backend])
            node = node.setdefault(part, {})
        last = self.path[-1]
        if self.kind == "value":
            node[last] = value
        elif self.kind == "item":
            node[last] = [value]
        elif self.kind == "dict_key":
            node[last] = {**node.get(last, {}), value: "x"}
        else:
            node[last] = {**node.get(last, {}), "k": value}
        return out


def _strip_optional(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return [annotation]


def string_slots(
    model: type[BaseModel] = ToolkitConfig,
    prefix: tuple[str | int, ...] = (),
    backend: str | None = None,
) -> list[StringSlot]:
    """Every string-typed field reachable from ``model`` (lists entered at index 0)."""
    found: list[StringSlot] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = (*prefix, key)
        members = _strip_optional(field.annotation)
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(models) > 1:  # a discriminated union: the backends
            for member in models:
                tag = typing.get_args(member.model_fields["type"].annotation)[0]
                assert tag in BACKEND_BASES, f"add a minimal {tag!r} backend to BACKEND_BASES"
                found += string_slots(member, path, tag)
            continue
        for member in members:
            origin = typing.get_origin(member)
            args = typing.get_args(member)
            if member is str:
                found.append(StringSlot(path, "value", backend))
            elif isinstance(member, type) and issubclass(member, BaseModel):
                found += string_slots(member, path, backend)
            elif origin is tuple and args and args[0] is str:
                found.append(StringSlot(path, "item", backend))
            elif origin is tuple and args and isinstance(args[0], type):
                if issubclass(args[0], BaseModel):
                    found += string_slots(args[0], (*path, 0), backend)
            elif origin is dict and args == (str, str):
                found.append(StringSlot(path, "dict_key", backend))
                found.append(StringSlot(path, "dict_value", backend))
    return found


def value_at(config: BaseModel, slot: StringSlot) -> Any:
    """The validated value at ``slot`` (attribute names, following aliases)."""
    node: Any = config
    for part in slot.path:
        if isinstance(part, int):
            node = node[part]
            continue
        model = type(node)
        attr = next(
            (n for n, f in model.model_fields.items() if (f.alias or n) == part),
            part,
        )
        node = getattr(node, attr)
    return node


def slot_filter(predicate: Callable[[StringSlot], bool]) -> list[StringSlot]:
    return [s for s in string_slots() if predicate(s)]
