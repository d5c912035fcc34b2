"""Who owns what: the identity of every object a synthesized stack creates, across stacks.

An object's identity is what the real API keys it by, not the Terraform address:

* GitHub: ``("github", owner, repository, kind, name[, "env:" environment][, "branch:" branch])``
  (owner and repository lowercased: GitHub treats them case-insensitively);
* account-global AWS names (IAM, S3): ``("global", account, kind, *name parts)``;
* regional AWS names: ``("regional", account, region, kind, *name parts)``.

Identities are derived per resource type from the synthesized JSON (``CLASSIFIED``), so a new
construct is covered as soon as it synthesizes; a resource type that is not classified is an
error (``UnclassifiedResource``) until someone decides what names it. Name parts that refer to
another resource (``${aws_iam_role.x.id}``) are resolved to that resource's literal name when it
has one (``REFERENCE_ALIASES``: an IAM role's ``id`` is its name); a reference to something whose
name AWS generates (a bucket from ``bucket_prefix``) resolves to the referencing stack and
address, which no other stack can claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Scope = Literal["github", "global", "regional"]
Identity = tuple[str, ...]


@dataclass(frozen=True)
class Kind:
    """How one resource type is identified.

    ``fields``: attributes that name the object within its scope, in order. ``environment`` /
    ``branch``: attributes that scope a GitHub object to an environment or a branch.
    ``repository``: the attribute holding the GitHub repository.
    """

    scope: Scope
    kind: str
    fields: tuple[str, ...]
    environment: str | None = None
    branch: str | None = None
    repository: str = "repository"


CLASSIFIED: dict[str, Kind] = {
    # --- GitHub: one owner per (owner, repo, kind, name[, environment][, branch]) ----------
    "github_actions_variable": Kind("github", "variable", ("variable_name",)),
    "github_actions_secret": Kind("github", "secret", ("secret_name",)),
    "github_actions_environment_variable": Kind(
        "github", "variable", ("variable_name",), environment="environment"
    ),
    "github_actions_environment_secret": Kind(
        "github", "secret", ("secret_name",), environment="environment"
    ),
    "github_repository_environment": Kind("github", "environment", ("environment",)),
    "github_repository_environment_deployment_policy": Kind(
        "github", "branch-policy", ("branch_pattern",), environment="environment"
    ),
    "github_repository_file": Kind("github", "file", ("file",), branch="branch"),
    "github_repository_pull_request": Kind(
        "github", "pull-request", ("head_ref",), branch="base_ref", repository="base_repository"
    ),
    "github_branch": Kind("github", "branch", ("branch",)),
    # --- IAM and S3: names are account-wide (S3 bucket names even global) -------------------
    "aws_iam_openid_connect_provider": Kind("global", "oidc-provider", ("url",)),
    "aws_iam_role": Kind("global", "iam-role", ("name",)),
    "aws_iam_role_policy": Kind("global", "iam-role-policy", ("role", "name")),
    "aws_iam_role_policy_attachment": Kind("global", "iam-role-attachment", ("role", "policy_arn")),
    "aws_iam_user": Kind("global", "iam-user", ("name",)),
    "aws_iam_user_policy": Kind("global", "iam-user-policy", ("user", "name")),
    "aws_iam_access_key": Kind("global", "iam-access-key", ("user",)),
    "aws_s3_bucket": Kind("global", "s3-bucket", ("bucket",)),
    "aws_s3_bucket_lifecycle_configuration": Kind("global", "s3-lifecycle", ("bucket",)),
    "aws_s3_bucket_ownership_controls": Kind("global", "s3-ownership", ("bucket",)),
    "aws_s3_bucket_policy": Kind("global", "s3-policy", ("bucket",)),
    "aws_s3_bucket_public_access_block": Kind("global", "s3-public-access", ("bucket",)),
    "aws_s3_bucket_server_side_encryption_configuration": Kind(
        "global", "s3-encryption", ("bucket",)
    ),
    "aws_s3_bucket_versioning": Kind("global", "s3-versioning", ("bucket",)),
    "aws_s3_object": Kind("global", "s3-object", ("bucket", "key")),
    # --- regional names: one owner per (account, region, kind, name) ------------------------
    "aws_cloudwatch_log_group": Kind("regional", "log-group", ("name",)),
    "aws_cloudwatch_metric_alarm": Kind("regional", "metric-alarm", ("alarm_name",)),
    "aws_sns_topic": Kind("regional", "sns-topic", ("name",)),
    "aws_sns_topic_subscription": Kind(
        "regional", "sns-subscription", ("topic_arn", "protocol", "endpoint")
    ),
    "aws_codeconnections_connection": Kind("regional", "codeconnection", ("name",)),
    "aws_dynamodb_table": Kind("regional", "dynamodb-table", ("name",)),
    "aws_lambda_function": Kind("regional", "lambda-function", ("function_name",)),
    "aws_lambda_function_event_invoke_config": Kind(
        "regional", "lambda-invoke-config", ("function_name",)
    ),
    "aws_lambda_layer_version": Kind("regional", "lambda-layer", ("layer_name",)),
    "aws_lambda_permission": Kind(
        "regional", "lambda-permission", ("function_name", "statement_id")
    ),
    "aws_sagemaker_project": Kind("regional", "sagemaker-project", ("project_name",)),
    # One switch per account and region: no name at all.
    "aws_sagemaker_servicecatalog_portfolio_status": Kind("regional", "project-templates", ()),
    "aws_secretsmanager_secret": Kind("regional", "secret", ("name",)),
    "aws_secretsmanager_secret_version": Kind("regional", "secret-value", ("secret_id",)),
    # A secret has one resource policy: PutResourcePolicy replaces the whole document.
    "aws_secretsmanager_secret_policy": Kind("regional", "secret-policy", ("secret_arn",)),
    "aws_servicecatalog_portfolio": Kind("regional", "portfolio", ("name",)),
    "aws_servicecatalog_product": Kind("regional", "product", ("name",)),
    "aws_servicecatalog_provisioning_artifact": Kind(
        "regional", "product-version", ("product_id", "name")
    ),
    "aws_servicecatalog_product_portfolio_association": Kind(
        "regional", "product-in-portfolio", ("portfolio_id", "product_id")
    ),
    "aws_servicecatalog_constraint": Kind(
        "regional", "constraint", ("portfolio_id", "product_id", "type")
    ),
    "aws_servicecatalog_principal_portfolio_association": Kind(
        "regional", "portfolio-principal", ("portfolio_id", "principal_arn")
    ),
    "aws_sqs_queue": Kind("regional", "sqs-queue", ("name",)),
}

#: A reference ``${<type>.<name>.<attribute>}`` to one of these resolves to the named literal
#: attribute of the target (e.g. an IAM role's ``id`` and ``arn`` both identify its ``name``).
REFERENCE_ALIASES: dict[tuple[str, str], str] = {
    ("aws_iam_role", "id"): "name",
    ("aws_iam_role", "arn"): "name",
    ("data.aws_iam_role", "id"): "name",
    ("data.aws_iam_role", "arn"): "name",
    ("aws_iam_user", "id"): "name",
    ("aws_iam_user", "arn"): "name",
    ("aws_s3_bucket", "id"): "bucket",
    ("aws_s3_bucket", "arn"): "bucket",
    ("aws_lambda_function", "arn"): "function_name",
    ("aws_sns_topic", "arn"): "name",
    ("aws_secretsmanager_secret", "id"): "name",
    ("aws_secretsmanager_secret", "arn"): "name",
    ("aws_servicecatalog_portfolio", "id"): "name",
    ("aws_servicecatalog_product", "id"): "name",
}

_REFERENCE = re.compile(r"^\$\{((?:data\.)?[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")


class UnclassifiedResource(Exception):
    """A synthesized resource type whose identity nobody has defined yet."""


@dataclass(frozen=True)
class Claim:
    """One stack's resource that claims an identity."""

    stack: str
    address: str

    def __str__(self) -> str:
        return f"{self.stack}:{self.address}"


def _places(stack: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """AWS provider address (``aws``, or ``aws.<alias>`` of a stage account) -> (account,
    region): an AWS name belongs to the account of the provider that creates it."""
    places = {}
    for aws in stack["provider"]["aws"]:
        (account,) = aws["allowed_account_ids"]
        address = f"aws.{aws['alias']}" if "alias" in aws else "aws"
        places[address] = (str(account), str(aws["region"]))
    return places


def _github_owners(stack: Mapping[str, Any]) -> dict[str, str]:
    return {
        f"github.{p['alias']}": str(p["owner"]).lower()
        for p in stack.get("provider", {}).get("github", [])
    }


def _resolve(value: Any, stack_name: str, stack: Mapping[str, Any], depth: int = 0) -> str:
    if value is None:
        raise ValueError("missing")
    text = str(value)
    m = _REFERENCE.match(text)
    if m is None or depth > 5:
        return text
    rtype, name, attribute = m.groups()
    if rtype.startswith("data."):
        target = stack.get("data", {}).get(rtype[len("data.") :], {}).get(name)
    else:
        target = stack.get("resource", {}).get(rtype, {}).get(name)
    if target is None:
        raise ValueError(f"dangling reference {text}")
    wanted = REFERENCE_ALIASES.get((rtype, attribute), attribute)
    if wanted in target:
        return _resolve(target[wanted], stack_name, stack, depth + 1)
    # A name AWS or GitHub generates for an object this stack creates: nobody else's.
    return f"<{stack_name}:{rtype}.{name}.{attribute}>"


def identities(stack_name: str, stack: Mapping[str, Any]) -> Iterable[tuple[Identity, Claim]]:
    """Every owned object of one synthesized stack, with the resource that creates it."""
    places = _places(stack)
    owners = _github_owners(stack)
    for rtype, instances in sorted(stack.get("resource", {}).items()):
        kind = CLASSIFIED.get(rtype)
        if kind is None:
            raise UnclassifiedResource(
                f"{stack_name}: resource type {rtype} has no identity in "
                "tests/support/ownership.py CLASSIFIED; add what the API keys it by"
            )
        for name, config in sorted(instances.items()):
            claim = Claim(stack_name, f"{rtype}.{name}")
            parts: list[str] = []
            for field in kind.fields:
                if field in config:
                    parts.append(_resolve(config[field], stack_name, stack))
                else:
                    # e.g. a bucket named from bucket_prefix: AWS makes the name unique.
                    parts.append(f"<{stack_name}:{rtype}.{name}.{field}>")
            if kind.scope == "github":
                owner = owners[config["provider"]]
                repository = _resolve(config[kind.repository], stack_name, stack).lower()
                identity: Identity = ("github", owner, repository, kind.kind, *parts)
                if kind.environment is not None:
                    env = _resolve(config[kind.environment], stack_name, stack)
                    identity = (*identity, f"env:{env}")
                if kind.branch is not None:
                    branch = _resolve(config[kind.branch], stack_name, stack)
                    identity = (*identity, f"branch:{branch}")
            else:
                account, region = places[str(config.get("provider", "aws"))]
                if kind.scope == "global":
                    identity = ("global", account, kind.kind, *parts)
                else:
                    identity = ("regional", account, region, kind.kind, *parts)
            yield identity, claim


def claims(stacks: Mapping[str, Mapping[str, Any]]) -> dict[Identity, list[Claim]]:
    """Identity -> every resource (in every stack) that creates it."""
    out: dict[Identity, list[Claim]] = {}
    for stack_name in sorted(stacks):
        for identity, claim in identities(stack_name, stacks[stack_name]):
            out.setdefault(identity, []).append(claim)
    return out


def conflicts(
    stacks: Mapping[str, Mapping[str, Any]],
    scopes: Iterable[Scope] = ("github", "global", "regional"),
) -> dict[Identity, list[Claim]]:
    """Identities of the given scopes claimed more than once."""
    wanted = set(scopes)
    return {
        identity: found
        for identity, found in claims(stacks).items()
        if identity[0] in wanted and len(found) > 1
    }


def describe(found: Mapping[Identity, list[Claim]]) -> str:
    return "\n".join(
        f"{' / '.join(identity)}: " + ", ".join(str(c) for c in claimants)
        for identity, claimants in sorted(found.items())
    )
