"""DynamoDB's condition and update expressions, evaluated on plain items (a test helper).

The fault world's table (fault_world.FakeDynamoDB) applies whatever condition the ledger sends
through this evaluator instead of comparing it with a copy of the ledger's strings, so a wrong
condition in the code changes what the fake does, and the fault matrix sees the consequences.
tests/lambda_src/test_dynamodb_expressions.py runs the same expressions against moto's DynamoDB
on 127.0.0.1 and requires the same verdicts.

The grammar is the subset of DynamoDB's ("Condition and filter expressions", "Update
expressions" in the DynamoDB developer guide) that a ledger may plausibly use:

    condition  := or ; or := and ("OR" and)* ; and := not ("AND" not)* ;
    not        := "NOT" not | "(" condition ")" | function | operand comparator operand
    function   := attribute_exists(path) | attribute_not_exists(path)
    comparator := = | <> | < | <= | > | >=
    operand    := path | :value ; path := name | #name
    update     := ("SET" path "=" operand ("," path "=" operand)*)? ("REMOVE" path ("," path)*)?

Anything else raises ``UnsupportedExpressionError`` (the test fails loudly instead of guessing).
Like DynamoDB, it refuses (``ValidationError``) a reserved word used as an attribute name and
a name or value passed in ExpressionAttributeNames/Values but not used. ``=`` and the orderings
are false when an attribute is missing or the types differ, and ``<>`` is then true (the legacy
``NE`` operator's documented rule: ``{"S":"6"}`` does not equal ``{"N":"6"}``); numbers compare
as numbers, strings by their UTF-8 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

Item = dict[str, dict[str, str]]

_TOKEN = re.compile(r"\s*(<>|<=|>=|[=<>(),]|[#:]?[A-Za-z_][A-Za-z0-9_]*)")
_COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
_FUNCTIONS = ("attribute_exists", "attribute_not_exists")
#: DynamoDB's reserved words ("Reserved words in DynamoDB", as moto ships them): an attribute so
#: named must be written as an ExpressionAttributeNames placeholder.
_RESERVED = frozenset(ReservedKeywords.get_reserved_keywords())


class UnsupportedExpressionError(AssertionError):
    """The expression uses syntax this evaluator does not implement."""


class ValidationError(ValueError):
    """DynamoDB would answer ValidationException (e.g. an unused expression value)."""


def tokens(expression: str) -> list[str]:
    out, position = [], 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise UnsupportedExpressionError(f"cannot read {expression[position:]!r}")
        out.append(match.group(1))
        position = match.end()
    return out


class _Parser:
    def __init__(
        self,
        expression: str,
        names: Mapping[str, str],
        values: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.tokens = tokens(expression)
        self.index = 0
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise UnsupportedExpressionError(f"expected {expected or 'more'}, got {token!r}")
        self.index += 1
        return token

    def path(self) -> str:
        token = self.take()
        if token.startswith("#"):
            if token not in self.names:
                raise ValidationError(f"{token} is not in ExpressionAttributeNames")
            self.used_names.add(token)
            return self.names[token]
        if token.startswith(":") or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token):
            raise UnsupportedExpressionError(f"not an attribute path: {token!r}")
        if token.upper() in _RESERVED:
            raise ValidationError(f"{token} is a reserved keyword")
        return token

    def operand(self, item: Item) -> dict[str, str] | None:
        token = self.peek()
        if token is not None and token.startswith(":"):
            self.take()
            if token not in self.values:
                raise ValidationError(f"{token} is not in ExpressionAttributeValues")
            self.used_values.add(token)
            return dict(self.values[token])
        return item.get(self.path())

    # --- conditions ---------------------------------------------------------------------------

    def condition(self, item: Item) -> bool:
        result = self.conjunction(item)
        while self.peek() is not None and self.peek().upper() == "OR":  # type: ignore[union-attr]
            self.take()
            right = self.conjunction(item)
            result = result or right
        return result

    def conjunction(self, item: Item) -> bool:
        result = self.negation(item)
        while self.peek() is not None and self.peek().upper() == "AND":  # type: ignore[union-attr]
            self.take()
            right = self.negation(item)
            result = result and right
        return result

    def negation(self, item: Item) -> bool:
        token = self.peek()
        if token is not None and token.upper() == "NOT":
            self.take()
            return not self.negation(item)
        if token == "(":
            self.take()
            result = self.condition(item)
            self.take(")")
            return result
        following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
        if following == "(" and token not in _FUNCTIONS:
            raise UnsupportedExpressionError(f"function {token!r} is not implemented")
        if token in _FUNCTIONS:
            self.take()
            self.take("(")
            present = self.path() in item
            self.take(")")
            return present if token == "attribute_exists" else not present
        left = self.operand(item)
        comparator = self.take()
        if comparator not in _COMPARATORS:
            raise UnsupportedExpressionError(f"not a comparator: {comparator!r}")
        right = self.operand(item)
        return compare(left, comparator, right)

    def finish(self) -> None:
        if self.peek() is not None:
            raise UnsupportedExpressionError(f"unexpected {self.peek()!r}")


def compare(
    left: Mapping[str, str] | None, comparator: str, right: Mapping[str, str] | None
) -> bool:
    """A DynamoDB comparison of two typed values (see the module docstring for a missing value
    or different types)."""
    if comparator == "<>":
        return not compare(left, "=", right)
    if left is None or right is None:
        return False
    ((left_type, left_raw),) = left.items()
    ((right_type, right_raw),) = right.items()
    if left_type != right_type or left_type not in ("S", "N"):
        return False
    a: Any = Decimal(left_raw) if left_type == "N" else left_raw.encode()
    b: Any = Decimal(right_raw) if right_type == "N" else right_raw.encode()
    return {
        "=": a == b,
        "<>": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[comparator]


def _check_all_used(
    parsers: list[_Parser], names: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    used_names = set().union(*(p.used_names for p in parsers))
    used_values = set().union(*(p.used_values for p in parsers))
    if set(names) - used_names:
        raise ValidationError(f"unused in expressions: names {sorted(set(names) - used_names)}")
    if set(values) - used_values:
        raise ValidationError(f"unused in expressions: values {sorted(set(values) - used_values)}")


def evaluate(
    request: Mapping[str, Any], item: Item | None, *, update: str | None = None
) -> tuple[bool, Item | None]:
    """Apply one conditional request's expressions to ``item`` (None: no item).

    Returns whether the condition holds and, for an update, the item it would leave (an update
    of a missing item creates it, as UpdateItem does). Raises ValidationError for what
    DynamoDB refuses before evaluating.
    """
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    current: Item = dict(item or {})
    parsers: list[_Parser] = []
    holds = True
    if "ConditionExpression" in request:
        parser = _Parser(request["ConditionExpression"], names, values)
        holds = parser.condition(current)
        parser.finish()
        parsers.append(parser)
    updated: Item | None = None
    if update is not None:
        parser = _Parser(update, names, values)
        updated = _apply_update(parser, current, request.get("Key", {}))
        parsers.append(parser)
    _check_all_used(parsers, names, values)
    return holds, updated


def _apply_update(parser: _Parser, item: Item, key: Mapping[str, Any]) -> Item:
    result = {**{k: dict(v) for k, v in item.items()}, **{k: dict(v) for k, v in key.items()}}
    seen: set[str] = set()
    while parser.peek() is not None:
        clause = parser.take().upper()
        if clause in seen or clause not in ("SET", "REMOVE"):
            raise UnsupportedExpressionError(f"unsupported update clause {clause!r}")
        seen.add(clause)
        while True:
            path = parser.path()
            if path in key:
                raise ValidationError(f"cannot update {path}: it is part of the key")
            if clause == "SET":
                parser.take("=")
                value = parser.operand(item)
                if value is None:
                    raise ValidationError(f"SET {path}: the operand has no value")
                result[path] = value
            else:
                result.pop(path, None)
            if parser.peek() != ",":
                break
            parser.take(",")
    return result
