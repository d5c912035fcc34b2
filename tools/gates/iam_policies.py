"""IAM rules for the synthesized stacks that checkov does not enforce.

checkov passes a GitHub OIDC trust policy whose ``sub`` is ``repo:acme/*`` (any branch, any
fork's pull request workflow of that owner). These checks read every IAM policy in a stack and
report, one line per problem:

- every ``sts:AssumeRoleWithWebIdentity`` statement pins, with ``StringEquals`` and nothing
  looser, ``token.actions.githubusercontent.com:aud`` to exactly ``sts.amazonaws.com`` and
  ``:sub`` to subjects without wildcards, all of one configured repository and each either its
  configured branch ref or a GitHub environment;
- no ``Allow`` statement has a wildcard action (``*``, ``s3:*``, ``s3:Get*``), a ``NotAction``,
  a ``NotResource``, or a ``*`` principal;
- every ``iam:PassRole`` grant names its roles (no wildcard resource) and is limited by an
  ``iam:PassedToService`` ``StringEquals`` condition;
- no AWS managed ``AdministratorAccess``, ``PowerUserAccess`` or ``*FullAccess`` policy is
  attached;
- every policy-holding argument (``policy``, ``assume_role_policy``, ...) is readable here: a
  reference to an ``aws_iam_policy_document`` of the stack or a literal JSON document. Anything
  else (``jsonencode(...)``, a file) is reported, so no policy escapes the checks.

Per IAM role and user (its trust and the inline policies attached to it), credentials follow
the approval gate:

- no role that can change endpoints (a *deploy* role) is trusted by a branch ``sub``: every job
  on the branch, the build and the pipeline code included, would hold deploy credentials;
- a principal that can change a project's production endpoint, its configurations or models
  is a role whose ``sub`` is exactly ``repo:OWNER/REPO:environment:<production environment>``
  (or an IAM user, ``access_keys``), and it holds no build action and nothing of staging;
- no project's policy (a principal tagged ``sagemaker:project-name``) has a resource pattern
  that matches another configured project's names (``churn-*`` would match ``churn-model``'s).

Across accounts (a stack with aliased providers, ``promotion``): no principal may write into an
account other than its own. A role created through provider ``aws.<stage>`` gets no ``s3:Put*``,
``s3:Delete*`` (or other S3 write) on a bucket that provider did not create, and no
``kms:Encrypt``/``ReEncrypt*``/``GenerateDataKey*`` on a key of another account; the home
artifacts are read only. :func:`resource_policy_write_problems` applies the same rule to a
resource policy (the product template's bucket and group policies): no write action for a
principal of another account.

Policies are read from ``aws_iam_policy_document`` data sources (the toolkit's way, see
``modules/core/policy.py``) and from literal JSON documents in resource arguments.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modules.core.github_facts import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from modules.core.naming import (
    PRODUCTION_STAGE,
    STAGING_STAGE,
    endpoint_name,
    stage_resource_pattern,
)

OIDC_HOST = GITHUB_OIDC_HOST
AUDIENCE = GITHUB_OIDC_AUDIENCE
WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
#: Resource arguments that hold an IAM policy document (JSON).
POLICY_ARGUMENTS = frozenset({"policy", "assume_role_policy", "access_policies"})
#: Arguments of ``aws_iam_policy_document`` that merge other documents in.
MERGED_DOCUMENT_ARGUMENTS = ("source_policy_documents", "override_policy_documents")
_DOCUMENT_REF = re.compile(
    r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(?:minified_)?json\}$"
)
_MANAGED_POLICY = re.compile(r"^arn:[^:]+:iam::aws:policy/(?:.*/)?([A-Za-z0-9_+=,.@-]+)$")
_BROAD_MANAGED = frozenset({"AdministratorAccess", "PowerUserAccess"})
# GitHub environment names: no wildcard, no separators or spaces.
_ENVIRONMENT = r"[A-Za-z0-9._-]+"


@dataclass(frozen=True, kw_only=True)
class PolicyStatement:
    """One statement, normalised from either ``aws_iam_policy_document`` or IAM JSON.

    ``conditions`` holds (operator, variable, values); ``principals`` (type, identifiers).
    """

    origin: str
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def where(self) -> str:
        return f"{self.origin} statement {self.sid or '(no sid)'}"


@dataclass(frozen=True, kw_only=True)
class TrustedRepository:
    """A repository the stack's roles may trust, with its build branch, and the project it
    builds (empty: the stage and project rules do not know it) with the GitHub environments of
    its deploy stages."""

    owner: str
    repository: str
    branch: str
    project: str = ""
    production_environment: str = ""
    staging_environment: str | None = None

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repository}"


# --------------------------------------------------------------------------- reading


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _from_document_block(origin: str, block: Mapping[str, Any]) -> PolicyStatement:
    """A statement of an ``aws_iam_policy_document`` data source."""
    return PolicyStatement(
        origin=origin,
        sid=str(block.get("sid", "")),
        effect=str(block.get("effect", "Allow")),
        actions=_strings(block.get("actions")),
        not_actions=_strings(block.get("not_actions")),
        resources=_strings(block.get("resources")),
        not_resources=_strings(block.get("not_resources")),
        principals=tuple(
            (str(p["type"]), _strings(p.get("identifiers")))
            for p in [*block.get("principals", []), *block.get("not_principals", [])]
        ),
        conditions=tuple(
            (str(c["test"]), str(c["variable"]), _strings(c.get("values")))
            for c in block.get("condition", [])
        ),
    )


def _from_json_statement(origin: str, raw: Mapping[str, Any]) -> PolicyStatement:
    """A statement of an IAM JSON policy document."""
    principal = raw.get("Principal", raw.get("NotPrincipal"))
    if principal is None:
        principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    elif principal == "*":
        principals = (("*", ("*",)),)
    else:
        principals = tuple((str(t), _strings(ids)) for t, ids in dict(principal).items())
    conditions = tuple(
        (str(op), str(variable), _strings(values))
        for op, entries in dict(raw.get("Condition", {})).items()
        for variable, values in dict(entries).items()
    )
    return PolicyStatement(
        origin=origin,
        sid=str(raw.get("Sid", "")),
        effect=str(raw.get("Effect", "")),
        actions=_strings(raw.get("Action")),
        not_actions=_strings(raw.get("NotAction")),
        resources=_strings(raw.get("Resource")),
        not_resources=_strings(raw.get("NotResource")),
        principals=principals,
        conditions=conditions,
    )


def _json_document(origin: str, text: str) -> list[PolicyStatement] | None:
    """Statements of a literal JSON policy (None when ``text`` is not one)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or "Statement" not in doc:
        return None
    raw = doc["Statement"]
    return [_from_json_statement(origin, s) for s in (raw if isinstance(raw, list) else [raw])]


def _policy_arguments(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(argument path, value) of every policy-holding argument, nested blocks included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "//":
                continue
            where = f"{path}.{key}"
            if key in POLICY_ARGUMENTS:
                yield where, inner
            else:
                yield from _policy_arguments(inner, where)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _policy_arguments(inner, f"{path}[{i}]")


def read_statements(stack: Mapping[str, Any]) -> tuple[list[PolicyStatement], list[str]]:
    """Every IAM statement of a synthesized stack, and the problems found while reading."""
    statements: list[PolicyStatement] = []
    problems: list[str] = []
    documents = dict(stack.get("data", {}).get("aws_iam_policy_document", {}))
    for name, doc in sorted(documents.items()):
        origin = f"data.aws_iam_policy_document.{name}"
        statements += [_from_document_block(origin, b) for b in doc.get("statement", [])]
        for argument in MERGED_DOCUMENT_ARGUMENTS:
            for i, value in enumerate(_strings(doc.get(argument))):
                problems += _read_policy_value(
                    f"{origin}.{argument}[{i}]", value, documents, statements
                )
    for rtype, named in sorted(stack.get("resource", {}).items()):
        if not rtype.startswith("aws_"):
            continue
        for name, config in sorted(named.items()):
            for where, value in _policy_arguments(config, f"{rtype}.{name}"):
                problems += _read_policy_value(where, value, documents, statements)
    return statements, problems


def _read_policy_value(
    where: str, value: Any, documents: Mapping[str, Any], statements: list[PolicyStatement]
) -> list[str]:
    if isinstance(value, str):
        ref = _DOCUMENT_REF.match(value)
        if ref:
            if ref.group(1) in documents:
                return []  # read with the data sources
            return [f"{where}: refers to a missing policy document {ref.group(1)!r}"]
        parsed = _json_document(where, value)
        if parsed is not None:
            statements += parsed
            return []
    return [
        f"{where}: cannot be verified (use an aws_iam_policy_document data source or a literal "
        f"JSON document): {str(value)[:120]!r}"
    ]


# --------------------------------------------------------------------------- rules


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def wildcard_problems(statements: Sequence[PolicyStatement]) -> list[str]:
    """Allow statements with wildcard actions, NotAction/NotResource or a ``*`` principal."""
    problems = []
    for s in statements:
        if s.effect != "Allow":
            continue
        problems += [
            f"{s.where}: wildcard action {a!r}; list the actions"
            for a in s.actions
            if _has_wildcard(a)
        ]
        if s.not_actions:
            problems.append(f"{s.where}: Allow with NotAction grants every other action")
        if s.not_resources:
            problems.append(f"{s.where}: Allow with NotResource grants every other resource")
        for ptype, identifiers in s.principals:
            if ptype == "*" or "*" in identifiers:
                problems.append(f"{s.where}: principal {ptype} {list(identifiers)} is anyone")
    return problems


def pass_role_problems(statements: Sequence[PolicyStatement]) -> list[str]:
    """``iam:PassRole`` must name its roles and be limited by ``iam:PassedToService``."""
    problems = []
    for s in statements:
        if s.effect != "Allow" or not any(a.lower() == "iam:passrole" for a in s.actions):
            continue
        if not s.resources:
            problems.append(f"{s.where}: iam:PassRole without resources")
        problems += [
            f"{s.where}: iam:PassRole on {r!r}; name the role ARNs"
            for r in s.resources
            if _has_wildcard(r)
        ]
        services = [
            values
            for op, variable, values in s.conditions
            if op == "StringEquals" and variable.lower() == "iam:passedtoservice"
        ]
        if not services or not all(v and not any(map(_has_wildcard, v)) for v in services):
            problems.append(
                f"{s.where}: iam:PassRole needs a StringEquals iam:PassedToService condition "
                "naming the service(s)"
            )
    return problems


def _subject_pattern(repo: TrustedRepository) -> re.Pattern[str]:
    return re.compile(
        rf"^repo:{re.escape(repo.slug)}:"
        rf"(?:ref:refs/heads/{re.escape(repo.branch)}|environment:{_ENVIRONMENT})$"
    )


def oidc_trust_problems(
    statements: Sequence[PolicyStatement], repositories: Sequence[TrustedRepository]
) -> list[str]:
    """Every web-identity statement pins ``aud`` and ``sub`` exactly, to one configured repo."""
    problems = []
    patterns = [_subject_pattern(r) for r in repositories]
    for s in statements:
        if s.effect != "Allow" or WEB_IDENTITY_ACTION not in s.actions:
            continue
        by_variable: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for op, variable, values in s.conditions:
            by_variable.setdefault(variable, []).append((op, values))
        aud = by_variable.get(f"{OIDC_HOST}:aud", [])
        if aud != [("StringEquals", (AUDIENCE,))]:
            problems.append(
                f"{s.where}: {OIDC_HOST}:aud must be exactly StringEquals [{AUDIENCE!r}], got {aud}"
            )
        sub = by_variable.get(f"{OIDC_HOST}:sub", [])
        if len(sub) != 1 or sub[0][0] != "StringEquals" or not sub[0][1]:
            problems.append(
                f"{s.where}: {OIDC_HOST}:sub must be one StringEquals condition, got {sub}"
            )
            continue
        subjects = sub[0][1]
        for subject in subjects:
            if _has_wildcard(subject):
                problems.append(f"{s.where}: subject {subject!r} has a wildcard")
        matching = [
            r for r, p in zip(repositories, patterns, strict=True) if all(map(p.match, subjects))
        ]
        if not matching:
            allowed = ", ".join(f"{r.slug}@{r.branch}" for r in repositories) or "none"
            problems.append(
                f"{s.where}: subjects {list(subjects)} are not all the configured branch or "
                f"environments of one repository (configured: {allowed})"
            )
        if not any(ptype == "Federated" for ptype, _ in s.principals):
            problems.append(f"{s.where}: web identity trust without a Federated principal")
    return problems


def managed_policy_problems(stack: Mapping[str, Any]) -> list[str]:
    """Attachments of AWS managed policies that grant ``*`` or ``service:*``."""
    problems = []
    for rtype, named in sorted(stack.get("resource", {}).items()):
        for name, config in sorted(named.items()):
            arns = [
                *_strings(config.get("policy_arn")),
                *_strings(config.get("managed_policy_arns")),
            ]
            for arn in arns:
                found = _MANAGED_POLICY.match(arn)
                if found and (
                    found.group(1) in _BROAD_MANAGED or found.group(1).endswith("FullAccess")
                ):
                    problems.append(f"{rtype}.{name}: attaches the broad AWS managed policy {arn}")
    return problems


# --------------------------------------------------------------------------- per principal

#: Actions that change what an endpoint serves (a principal holding one is a deploy identity).
DEPLOY_ACTIONS = frozenset(
    {
        "sagemaker:createendpoint",
        "sagemaker:createendpointconfig",
        "sagemaker:createmodel",
        "sagemaker:deleteendpoint",
        "sagemaker:deleteendpointconfig",
        "sagemaker:deletemodel",
        "sagemaker:updateendpoint",
        "sagemaker:updateendpointweightsandcapacities",
    }
)
#: Actions of the build (pipeline upsert and start); never together with a deploy action.
BUILD_ACTIONS = frozenset(
    {
        "sagemaker:createpipeline",
        "sagemaker:updatepipeline",
        "sagemaker:startpipelineexecution",
    }
)
PROJECT_TAG = "sagemaker:project-name"
_RESOURCE_REF = re.compile(r"^\$\{aws_iam_(role|user)\.([A-Za-z0-9_-]+)\.(?:id|name)\}$")


@dataclass(frozen=True, kw_only=True)
class IamPrincipal:
    """An IAM role or user of the stack, its trust statements (roles) and its permissions."""

    address: str
    project: str | None
    trust: tuple[PolicyStatement, ...]
    permissions: tuple[PolicyStatement, ...]

    @property
    def subjects(self) -> tuple[str, ...]:
        """Every GitHub OIDC ``sub`` value its trust names."""
        return tuple(
            value
            for s in self.trust
            for _, variable, values in s.conditions
            if variable == f"{OIDC_HOST}:sub"
            for value in values
        )

    def allowed(self, actions: frozenset[str]) -> list[tuple[PolicyStatement, str]]:
        """(statement, resource) pairs of Allow statements granting one of ``actions``."""
        return [
            (s, r)
            for s in self.permissions
            if s.effect == "Allow" and any(a.lower() in actions for a in s.actions)
            for r in s.resources
        ]


def _document_statements(
    ref: Any, documents: Mapping[str, Any], origin: str
) -> list[PolicyStatement]:
    """Statements of a policy argument: a policy document reference or literal JSON (anything
    else is reported by ``read_statements``)."""
    match = _DOCUMENT_REF.match(str(ref))
    if match is None:
        return _json_document(origin, str(ref)) or []
    if match.group(1) not in documents:
        return []
    doc = documents[match.group(1)]
    return [_from_document_block(origin, b) for b in doc.get("statement", [])]


def read_principals(stack: Mapping[str, Any]) -> list[IamPrincipal]:
    """Every IAM role and user of the stack with its trust and inline policies."""
    documents = dict(stack.get("data", {}).get("aws_iam_policy_document", {}))
    resources = stack.get("resource", {})
    permissions: dict[str, list[PolicyStatement]] = {}
    for kind, key in (("role", "role"), ("user", "user")):
        for name, config in sorted(resources.get(f"aws_iam_{kind}_policy", {}).items()):
            target = _RESOURCE_REF.match(str(config.get(key, "")))
            if target is None:
                continue
            origin = f"aws_iam_{kind}_policy.{name}"
            address = f"aws_iam_{target.group(1)}.{target.group(2)}"
            permissions.setdefault(address, []).extend(
                _document_statements(config.get("policy"), documents, origin)
            )
    principals = []
    for kind in ("role", "user"):
        for name, config in sorted(resources.get(f"aws_iam_{kind}", {}).items()):
            address = f"aws_iam_{kind}.{name}"
            tags = config.get("tags") or {}
            principals.append(
                IamPrincipal(
                    address=address,
                    project=tags.get(PROJECT_TAG),
                    trust=tuple(
                        _document_statements(
                            config.get("assume_role_policy"), documents, f"{address} trust"
                        )
                    ),
                    permissions=tuple(permissions.get(address, [])),
                )
            )
    return principals


def _arn_resource(arn: str) -> str:
    """The resource part of an ARN (after the fifth ``:``), or the whole text."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn


def globs_intersect(a: str, b: str) -> bool:
    """Whether some string matches both IAM patterns (``*``: any run, ``?``: one character)."""
    la, lb = len(a), len(b)
    seen: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in seen:
            return seen[key]
        seen[key] = False  # a cycle cannot produce a new witness
        if i == la and j == lb:
            result = True
        elif i < la and a[i] == "*":
            result = go(i + 1, j) or (j < lb and go(i, j + 1))
        elif j < lb and b[j] == "*":
            result = go(i, j + 1) or (i < la and go(i + 1, j))
        elif i == la or j == lb:
            result = False
        else:
            result = (a[i] == "?" or b[j] == "?" or a[i] == b[j]) and go(i + 1, j + 1)
        seen[key] = result
        return result

    return go(0, 0)


def _stage_names(project: str, stage: str) -> tuple[str, ...]:
    """Resource patterns of a project's stage endpoint, configurations and models as the seeded
    ``deploy/deploy.py`` names them (``<name>-<stage>``, ``<name>-<stage>-<hash>``): exact
    lengths, so ``churn``'s production names do not cover project ``churn-production``'s."""
    versioned = stage_resource_pattern(project, stage)
    return (
        f"endpoint/{endpoint_name(project, stage).lower()}",
        f"endpoint-config/{versioned}",
        f"model/{versioned}",
    )


def _reaches(resource: str, names: Sequence[str]) -> bool:
    return any(globs_intersect(_arn_resource(resource), n) for n in names)


def deploy_trust_problems(principals: Sequence[IamPrincipal]) -> list[str]:
    """No role that can change endpoints is trusted by a branch (or any non-environment) sub."""
    problems = []
    for p in principals:
        if not p.allowed(DEPLOY_ACTIONS):
            continue
        problems += [
            f"{p.address}: deploy role trusted by {subject!r}; trust only the stage's GitHub "
            "environment (repo:OWNER/REPO:environment:NAME), never a branch"
            for subject in p.subjects
            if ":environment:" not in subject
        ]
    return problems


def stage_problems(
    principals: Sequence[IamPrincipal], repositories: Sequence[TrustedRepository]
) -> list[str]:
    """Production endpoints only for the production identity: a role trusted by exactly the
    production environment (or an IAM user), with no build action and nothing of staging."""
    problems = []
    for repo in repositories:
        if not repo.project:
            continue
        production = _stage_names(repo.project, PRODUCTION_STAGE)
        staging = _stage_names(repo.project, STAGING_STAGE)
        expected = f"repo:{repo.slug}:environment:{repo.production_environment}"
        for p in principals:
            grants = p.allowed(DEPLOY_ACTIONS)
            if not any(_reaches(r, production) for _, r in grants):
                continue
            where = f"{p.address} (production of {repo.project})"
            if p.address.startswith("aws_iam_role.") and list(p.subjects) != [expected]:
                problems.append(
                    f"{where}: can change production but its sub is {list(p.subjects)}; "
                    f"it must be exactly [{expected!r}] (StringEquals)"
                )
            if p.address.startswith("aws_iam_role.") and any(
                op != "StringEquals"
                for s in p.trust
                for op, variable, _ in s.conditions
                if variable == f"{OIDC_HOST}:sub"
            ):
                problems.append(f"{where}: the production sub must be matched with StringEquals")
            if any(_reaches(r, staging) for _, r in grants):
                problems.append(f"{where}: also deploys staging; use one identity per stage")
            if p.allowed(BUILD_ACTIONS):
                problems.append(f"{where}: also holds build actions; the build cannot deploy")
    return problems


def cross_project_problems(
    principals: Sequence[IamPrincipal], repositories: Sequence[TrustedRepository]
) -> list[str]:
    """No resource pattern of one project's principals matches another project's names.

    A project's names are the resource patterns of its own principals in which a path segment
    starts with its name (lowercase, as SageMaker writes names in ARNs), leaving out patterns
    that other projects hold verbatim too (account-wide ones such as SageMaker Pipelines' job
    names ``pipelines-*``). ``*`` alone (actions without resource-level permissions) is left to
    the wildcard and checkov rules.
    """
    projects = sorted({r.project for r in repositories if r.project})
    held: dict[str, set[str]] = {}
    for p in principals:
        if p.project in projects:
            held.setdefault(p.project, set()).update(
                _arn_resource(r) for s in p.permissions if s.effect == "Allow" for r in s.resources
            )
    named: dict[str, list[str]] = {}
    for project, patterns in held.items():
        shared = set().union(*(v for k, v in held.items() if k != project))
        own = re.compile(rf"(?:^|/){re.escape(project.lower())}(?:[-/]|$)")
        named[project] = sorted(x for x in patterns - shared if own.search(x))
    problems = []
    for p in principals:
        if p.project not in projects:
            continue
        for s in p.permissions:
            if s.effect != "Allow":
                continue
            for resource in s.resources:
                if resource == "*":
                    continue
                pattern = _arn_resource(resource)
                for other in projects:
                    if other.lower() == p.project.lower():
                        continue
                    hit = next(
                        (n for n in named.get(other, []) if globs_intersect(pattern, n)), None
                    )
                    if hit is not None:
                        problems.append(
                            f"{p.address} {s.where}: {pattern!r} of project {p.project} also "
                            f"matches {hit!r} of project {other}; use exact names"
                        )
    return problems


#: Write actions (``fnmatch`` patterns, lowercase) never granted into another account.
CROSS_ACCOUNT_WRITES = (
    "s3:put*",
    "s3:delete*",
    "s3:create*",
    "s3:replicate*",
    "s3:restore*",
    "s3:abortmultipartupload",
    "kms:encrypt",
    "kms:reencrypt*",
    "kms:generatedatakey*",
    "sagemaker:update*",
    "sagemaker:delete*",
    "sagemaker:put*",
)
_BUCKET_REF = re.compile(r"\$\{aws_s3_bucket\.([A-Za-z0-9_-]+)\.(?:arn|bucket|id)\}")
_CALLER_REF = re.compile(r"\$\{data\.aws_caller_identity\.([A-Za-z0-9_-]+)\.account_id\}")
_DEFAULT_PROVIDER = "aws"


def _is_write(action: str) -> bool:
    lowered = action.lower()
    return lowered in {"*", "s3:*", "kms:*", "sagemaker:*"} or any(
        fnmatch.fnmatchcase(lowered, pattern) for pattern in CROSS_ACCOUNT_WRITES
    )


def _provider_accounts(stack: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Provider address (``aws`` / ``aws.<alias>``) -> its allowed account ids."""
    accounts = {}
    for config in stack.get("provider", {}).get("aws", []):
        alias = config.get("alias")
        address = f"aws.{alias}" if alias else _DEFAULT_PROVIDER
        accounts[address] = tuple(config.get("allowed_account_ids") or ())
    return accounts


def _resource_account(
    resource: str, stack: Mapping[str, Any], accounts: Mapping[str, tuple[str, ...]]
) -> str | None:
    """The provider whose account ``resource`` is in, when the ARN says so: a bucket or
    caller identity of the stack names its provider, a literal account id the provider that
    allows it. S3 ARNs without a reference are buckets the stack does not create (the home
    account's project buckets). ``None``: unknown (not a write target this rule reads)."""
    resources = stack.get("resource", {})
    data = stack.get("data", {})
    bucket = _BUCKET_REF.search(resource)
    if bucket is not None:
        config = resources.get("aws_s3_bucket", {}).get(bucket.group(1), {})
        return str(config.get("provider", _DEFAULT_PROVIDER)).removeprefix("${").removesuffix("}")
    caller = _CALLER_REF.search(resource)
    if caller is not None:
        config = data.get("aws_caller_identity", {}).get(caller.group(1), {})
        return str(config.get("provider", _DEFAULT_PROVIDER)).removeprefix("${").removesuffix("}")
    if resource.startswith("arn:") and ":s3:::" in resource:
        return _DEFAULT_PROVIDER
    parts = resource.split(":")
    if len(parts) > 4 and re.fullmatch(r"\d{12}", parts[4]):
        for provider, allowed in accounts.items():
            if parts[4] in allowed:
                return provider
        return f"account {parts[4]}"
    return None


def cross_account_write_problems(stack: Mapping[str, Any]) -> list[str]:
    """Write grants of a principal into an account other than its own (see module doc)."""
    accounts = _provider_accounts(stack)
    if len(accounts) < 2:
        return []
    roles = stack.get("resource", {})
    problems = []
    for principal in read_principals(stack):
        rtype, name = principal.address.split(".", 1)
        config = roles.get(rtype, {}).get(name, {})
        own = str(config.get("provider", _DEFAULT_PROVIDER)).removeprefix("${").removesuffix("}")
        for statement in principal.permissions:
            if statement.effect != "Allow":
                continue
            writes = [a for a in statement.actions if _is_write(a)]
            if not writes:
                continue
            for resource in statement.resources:
                where = _resource_account(resource, stack, accounts)
                if where is not None and where != own:
                    problems.append(
                        f"{principal.address} {statement.where}: {', '.join(writes)} on "
                        f"{resource!r} writes into {where} from {own}; other accounts only read"
                    )
    return problems


def resource_policy_write_problems(policy: Mapping[str, Any], owner_account: str) -> list[str]:
    """A resource policy (IAM JSON, already resolved) that lets a principal of another account
    than ``owner_account`` write: ``s3:Put*``, ``kms:Encrypt``, ``sagemaker:Update*`` ..."""
    problems = []
    for raw in _strings_or_dicts(policy.get("Statement", [])):
        if raw.get("Effect") != "Allow":
            continue
        principals = raw.get("Principal", {})
        identifiers = ("*",) if principals == "*" else _strings(principals.get("AWS", ()))
        foreign = [
            p for p in identifiers if p == "*" or (p.split(":")[4:5] or [""])[0] != owner_account
        ]
        writes = [a for a in _strings(raw.get("Action", ())) if _is_write(a)]
        if foreign and writes:
            problems.append(
                f"statement {raw.get('Sid', '(no sid)')}: {', '.join(writes)} for "
                f"{', '.join(foreign)} (another account than {owner_account}); grant reads only"
            )
    return problems


def _strings_or_dicts(value: Any) -> list[Mapping[str, Any]]:
    return [value] if isinstance(value, dict) else list(value)


def stack_problems(
    stack: Mapping[str, Any], repositories: Sequence[TrustedRepository]
) -> list[str]:
    """Every problem of one synthesized stack (empty: the stack passes)."""
    statements, problems = read_statements(stack)
    principals = read_principals(stack)
    return [
        *problems,
        *wildcard_problems(statements),
        *pass_role_problems(statements),
        *oidc_trust_problems(statements, repositories),
        *managed_policy_problems(stack),
        *deploy_trust_problems(principals),
        *stage_problems(principals, repositories),
        *cross_project_problems(principals, repositories),
        *cross_account_write_problems(stack),
    ]
