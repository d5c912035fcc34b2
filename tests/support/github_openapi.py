"""GitHub's published REST API description, for holding fakes and requests to GitHub's contract.

The description is the npm package ``@octokit/openapi`` (pinned in package.json
devDependencies; ``make install`` runs ``npm ci``), file
``generated/api.github.com.json``: GitHub's own OpenAPI 3.0.3 description of api.github.com
(``info.version`` is the package version). The package also ships a dereferenced copy
(``api.github.com.deref.json``); this module reads the one with ``$ref`` pointers instead and
resolves them through a ``referencing`` registry: measured here, 0.3 s and ~90 MB to load
against 1.0 s and ~430 MB for the dereferenced copy, where every shared schema is expanded at
each use. The parsed document is loaded once per process (:func:`description`).

Validation uses ``openapi-schema-validator`` (jsonschema with OpenAPI 3.0's dialect: ``nullable``,
``readOnly``/``writeOnly``, draft-4 bounds): responses with its read validator (``writeOnly``
properties are not expected, ``readOnly`` ones are required like the rest), request bodies with
its write validator.

What is checked, per the OpenAPI 3.0 specification's Operation, Parameter, Request Body and
Response objects:

* the operation exists for (method, path template) -- path parameters are one segment unless the
  description marks them ``x-multi-segment``;
* request: path and query parameters against their schemas (required ones present, no
  undocumented query parameters), the JSON body against the request body schema (present when
  ``required``, absent when the operation takes none);
* response: the status is documented (or a ``default`` response exists), documented headers
  that are present match their schema, headers marked ``required`` are present (the
  description marks none today; GitHub's header contracts such as
  ``X-Accepted-GitHub-Permissions`` are in its documentation, not in the description), and the
  body matches the response's JSON schema (required fields included) or is empty when the
  response has no content.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import extend
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "@octokit/openapi"
DESCRIPTION_PATH = (
    ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
)
#: the base URI the description is registered under (its own "#/components/..." pointers
#: resolve against it)
BASE_URI = "urn:github:api.github.com.json"
GHES_ROOT = "/api/v3"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class DescriptionMissingError(RuntimeError):
    """node_modules lacks the pinned description (run ``make install``: npm ci)."""


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One operation of the description, matched to a concrete request path."""

    operation_id: str
    method: str
    template: str
    path_params: Mapping[str, str]
    #: the operation's parameters, path-level ones merged in, ``$ref`` resolved
    parameters: tuple[Mapping[str, Any], ...]
    document: Mapping[str, Any]

    @property
    def responses(self) -> Mapping[str, Any]:
        return dict(self.document.get("responses", {}))

    @property
    def pointer(self) -> str:
        """Where the operation is in the description (a JSON pointer fragment)."""
        return f"#/paths/{_pointer(self.template)}/{self.method}"


def _pointer(node: str) -> str:
    return node.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Template:
    template: str
    method: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    literal_segments: int


class GitHubDescription:
    """The parsed description with a path index; build it through :func:`description`."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.version = str(document["info"]["version"])
        self.registry: Registry[Any] = Registry().with_resource(
            BASE_URI, Resource.from_contents(document, default_specification=DRAFT4)
        )
        self._templates = self._index(document)

    def _index(self, document: Mapping[str, Any]) -> list[_Template]:
        templates = []
        for template, item in document["paths"].items():
            for method in METHODS:
                if method not in item:
                    continue
                multi = {
                    p["name"]
                    for p in self._parameters(item, item[method])
                    if p.get("in") == "path" and p.get("x-multi-segment")
                }
                names: list[str] = []
                regex = ""
                for piece in re.split(r"(\{[^}]+\})", template):
                    if piece.startswith("{"):
                        name = piece[1:-1]
                        names.append(name)
                        regex += "(.+)" if name in multi else "([^/]+)"
                    else:
                        regex += re.escape(piece)
                literal = sum(1 for s in template.split("/") if s and "{" not in s)
                templates.append(
                    _Template(template, method, re.compile(regex), tuple(names), literal)
                )
        # the most literal template wins (".../secrets/public-key" before ".../secrets/{name}")
        templates.sort(key=lambda t: (-t.literal_segments, len(t.names)))
        return templates

    def resolve(self, node: Any) -> Any:
        """Follow ``$ref`` pointers into the description (parameters, responses, headers)."""
        return self.locate(node, "")[0]

    def locate(self, node: Any, pointer: str) -> tuple[Any, str]:
        """``node`` (found at ``pointer``) with its ``$ref`` chain followed, and its pointer."""
        while isinstance(node, Mapping) and "$ref" in node:
            pointer = str(node["$ref"])
            if not pointer.startswith("#/"):
                raise ValueError(f"external reference {pointer!r} in the description")
            node = self.document
            for part in pointer[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def _parameters(
        self, item: Mapping[str, Any], operation: Mapping[str, Any]
    ) -> list[Mapping[str, Any]]:
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
            param = self.resolve(raw)
            merged[(param["in"], param["name"])] = param
        return list(merged.values())

    def operation(self, method: str, path: str) -> Operation:
        """The operation for a request ("GET", "/repos/acme/churn?per_page=100").

        Raises ``LookupError`` naming the method and path when GitHub documents none."""
        route = urlsplit(path).path.rstrip("/") or "/"
        # GitHub Enterprise Server serves the same operations under https://HOST/api/v3
        route = route.removeprefix(GHES_ROOT) if route.startswith(GHES_ROOT + "/") else route
        for candidate in self._templates:
            if candidate.method != method.lower():
                continue
            match = candidate.pattern.fullmatch(route)
            if match is None:
                continue
            item = self.document["paths"][candidate.template]
            document = item[candidate.method]
            return Operation(
                operation_id=str(document.get("operationId", "")),
                method=candidate.method,
                template=candidate.template,
                path_params={
                    n: unquote(v) for n, v in zip(candidate.names, match.groups(), strict=True)
                },
                parameters=tuple(self._parameters(item, document)),
                document=document,
            )
        raise LookupError(f"GitHub's description has no operation {method.upper()} {route}")

    def schema_validator(self, pointer: str, *, write: bool) -> Any:
        """A validator for the schema at ``pointer`` (a JSON pointer into the description)."""
        return _validator(self, pointer, write)

    def schema_errors(self, pointer: str, instance: Any) -> list[str]:
        """How ``instance`` fails the schema at ``pointer`` (a response-side check)."""
        return _schema_errors(self.schema_validator(pointer, write=False), instance)

    # -- requests ---------------------------------------------------------------------------

    def request_errors(self, method: str, path: str, body: Any = None) -> list[str]:
        """What in a request GitHub's description does not accept (empty: conforms)."""
        try:
            op = self.operation(method, path)
        except LookupError as e:
            return [str(e)]
        where = f"{method.upper()} {op.template} ({op.operation_id})"
        errors: list[str] = []
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(urlsplit(path).query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        documented_query = {p["name"] for p in op.parameters if p["in"] == "query"}
        for name in sorted(set(query) - documented_query):
            errors.append(f"{where}: undocumented query parameter {name!r}")
        for param in op.parameters:
            location, name = param["in"], param["name"]
            if location == "path":
                values = [op.path_params[name]] if name in op.path_params else []
            elif location == "query":
                values = query.get(name, [])
            else:
                continue  # header / cookie parameters: none that our code sends
            if not values:
                if param.get("required"):
                    errors.append(f"{where}: required {location} parameter {name!r} missing")
                continue
            schema = self.resolve(param.get("schema", {}))
            for value in values:
                errors.extend(
                    f"{where}: {location} parameter {name}={value!r}: {message}"
                    for message in _schema_errors(
                        WRITE_VALIDATOR(schema, registry=self.registry, format_checker=FORMATS),
                        _coerce(value, schema),
                    )
                )
        request_body, body_at = self.locate(
            op.document.get("requestBody"), f"{op.pointer}/requestBody"
        )
        if request_body is None:
            if body is not None:
                errors.append(f"{where}: sends a body, the operation takes none")
            return errors
        if body is None:
            if request_body.get("required"):
                errors.append(f"{where}: the request body is required")
            return errors
        pointer = _json_schema_pointer(request_body, body_at)
        if pointer is None:
            errors.append(f"{where}: the operation takes no JSON body")
            return errors
        errors.extend(
            f"{where}: request body: {message}"
            for message in _schema_errors(self.schema_validator(pointer, write=True), body)
        )
        return errors

    # -- responses --------------------------------------------------------------------------

    def response_errors(
        self,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        body: Any,
    ) -> list[str]:
        """What in a response GitHub's description does not document (empty: conforms)."""
        try:
            op = self.operation(method, path)
        except LookupError as e:
            return [str(e)]
        where = f"{method.upper()} {op.template} ({op.operation_id}) {status}"
        responses = op.responses
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            key = "default"
        if key not in responses:
            documented = ", ".join(sorted(responses))
            return [f"{where}: status {status} is not documented (documented: {documented})"]
        response, response_at = self.locate(responses[key], f"{op.pointer}/responses/{key}")
        errors: list[str] = []
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, raw in response.get("headers", {}).items():
            header = self.resolve(raw)
            if name.lower() not in lowered:
                if header.get("required"):
                    errors.append(f"{where}: required header {name} missing")
                continue
            schema = self.resolve(header.get("schema", {}))
            value = lowered[name.lower()]
            errors.extend(
                f"{where}: header {name}={value!r}: {message}"
                for message in _schema_errors(
                    READ_VALIDATOR(schema, registry=self.registry, format_checker=FORMATS),
                    _coerce(value, schema),
                )
            )
        content = response.get("content")
        if not content:
            if body not in (None, "", b""):
                errors.append(f"{where}: the response documents no body, the fake sends one")
            return errors
        pointer = _json_schema_pointer(response, response_at)
        if pointer is None:
            return errors  # a non-JSON media type (e.g. a raw file): nothing to check here
        errors.extend(
            f"{where}: body: {message}"
            for message in _schema_errors(self.schema_validator(pointer, write=False), body)
        )
        return errors


def _json_schema_pointer(container: Mapping[str, Any], pointer: str) -> str | None:
    """A pointer to the JSON schema of the request body / response at ``pointer``."""
    content = container.get("content", {})
    for media in content:
        if (media == "application/json" or media.endswith("+json")) and "schema" in content[media]:
            return f"{pointer}/content/{_pointer(media)}/schema"
    return None


def _nullable_composition(keyword: Any) -> Any:
    """``nullable: true`` beside ``oneOf``/``anyOf``/``allOf`` admits null. GitHub's description
    writes nullable references that way (e.g. ``commit.author``: a user, an empty object or
    null; GitHub's OpenAPI 3.1 edition of the same description lists ``null`` as an
    alternative there); OpenAPI 3.0.3 read literally gives ``nullable`` no effect without a
    ``type`` beside it, which would reject every null GitHub sends in such a field."""

    def check(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
        if instance is None and schema.get("nullable") is True:
            return
        yield from keyword(validator, value, instance, schema)

    return check


def _github_dialect(base: Any) -> Any:
    return extend(
        base,
        {k: _nullable_composition(base.VALIDATORS[k]) for k in ("oneOf", "anyOf", "allOf")},
    )


READ_VALIDATOR = _github_dialect(OAS30ReadValidator)
WRITE_VALIDATOR = _github_dialect(OAS30WriteValidator)
#: OpenAPI 3.0's formats as openapi-schema-validator checks them (date-time, email, int64, ...;
#: ``uri`` is not checked: that needs a package this project does not install)
FORMATS = OAS30ReadValidator.FORMAT_CHECKER


@functools.lru_cache(maxsize=512)
def _validator(owner: GitHubDescription, pointer: str, write: bool) -> Any:
    cls = WRITE_VALIDATOR if write else READ_VALIDATOR
    return cls({"$ref": BASE_URI + pointer}, registry=owner.registry, format_checker=FORMATS)


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A path/query/header string as the schema's type (``simple``/``form`` style scalars)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "array":
        return value.split(",")
    return value


def _schema_errors(validator: Any, instance: Any) -> list[str]:
    errors: list[ValidationError] = sorted(
        validator.iter_errors(instance), key=lambda e: list(e.absolute_path)
    )
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {_brief(e)}" for e in errors]


def _closest(context: list[ValidationError]) -> ValidationError:
    """The alternative of an anyOf/oneOf the instance nearly matches: fewest errors, and not
    one whose discriminating ``enum``/``const`` already fails (a rule's ``type``)."""
    groups: dict[Any, list[ValidationError]] = {}
    for error in context:
        groups.setdefault(error.relative_schema_path[0], []).append(error)
    chosen = min(
        groups.values(),
        key=lambda errors: (any(e.validator in ("enum", "const") for e in errors), len(errors)),
    )
    return best_match(chosen)


def _brief(error: ValidationError) -> str:
    """The error, and for anyOf/oneOf the closest alternative's reason (``best_match``)."""
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    if error.context:
        closest = _closest(error.context)
        where = "/".join(map(str, closest.relative_path)) or "(root)"
        message += f" (closest: {where}: {_brief(closest)})"
    return message


@functools.cache
def description() -> GitHubDescription:
    """GitHub's description, parsed once per process."""
    if not DESCRIPTION_PATH.is_file():
        raise DescriptionMissingError(
            f"{DESCRIPTION_PATH} is missing: run `make install` (npm ci installs {PACKAGE})"
        )
    with DESCRIPTION_PATH.open(encoding="utf-8") as handle:
        return GitHubDescription(json.load(handle))
