"""Test-only plumbing to run a synthesized stack's AWS half against moto_server.

Nothing here goes into the product's synthesized JSON: the emulator endpoints, fake
credentials and a local backend are added as a Terraform override file
(``zz_moto_override.tf.json``) in the test's own working copy only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modules.ops.terraform import GITHUB_PREFIX, prune_output_metadata

OVERRIDE_FILE = "zz_moto_override.tf.json"
MOTO_ACCOUNT_ID = "123456789012"
FAKE_TOKEN = "e2e-fake-github-token"

#: Provider endpoint keys pointed at moto (every AWS service the toolkit can touch).
ENDPOINT_SERVICES = (
    "cloudformation",
    "cloudwatch",
    "codeconnections",
    "codestarconnections",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sagemaker",
    "secretsmanager",
    "servicecatalog",
    "sns",
    "sqs",
    "ssm",
    "sts",
)

#: Resource types moto_server cannot create or read, with the reason. They are planned (step
#: 1) but left out of apply, together with everything that refers to them.
UNSUPPORTED_BY_MOTO: Mapping[str, str] = {
    "aws_codeconnections_connection": "moto has no CodeConnections service",
    "aws_codestarconnections_connection": "moto has no CodeStar Connections service",
    "aws_sagemaker_project": "moto's SageMaker has no CreateProject/DescribeProject",
    "aws_sagemaker_servicecatalog_portfolio_status": (
        "moto's SageMaker has no EnableSagemakerServicecatalogPortfolio"
    ),
    "aws_s3_bucket_policy": (
        "moto applies a Deny on aws:SecureTransport=false to its plain-HTTP endpoint, so the "
        "TLS-only policy would deny every later object request"
    ),
    "aws_servicecatalog_constraint": "moto's Service Catalog has no CreateConstraint",
    "aws_servicecatalog_principal_portfolio_association": (
        "moto's Service Catalog has no AssociatePrincipalWithPortfolio"
    ),
    "aws_servicecatalog_product": (
        "moto's Service Catalog has no DescribeProductAsAdmin (the provider reads with it)"
    ),
    "aws_servicecatalog_product_portfolio_association": (
        "moto's Service Catalog has no AssociateProductWithPortfolio"
    ),
    "aws_servicecatalog_provisioning_artifact": (
        "moto's Service Catalog has no CreateProvisioningArtifact"
    ),
}

#: Arguments moto ignores (it neither stores nor returns them): removed from the applied copy,
#: as they would show as a perpetual diff under moto only.
UNSUPPORTED_ARGUMENTS: Mapping[tuple[str, str], str] = {
    ("aws_lambda_function", "logging_config"): "moto's Lambda ignores LoggingConfig",
}

_REF_RE = re.compile(r"\b(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


def moto_override(endpoint_url: str) -> dict[str, Any]:
    """The override file: provider endpoints, fake credentials, local state in the copy."""
    return {
        "provider": {
            "aws": {
                "endpoints": [{service: endpoint_url for service in ENDPOINT_SERVICES}],
                "access_key": "testing",
                "secret_key": "testing",
                "skip_credentials_validation": True,
                "skip_metadata_api_check": "true",
                "skip_region_validation": True,
                "s3_use_path_style": True,
            }
        },
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
    }


def _references(body: Any) -> set[str]:
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "//"}
    found = set()
    for match in _REF_RE.finditer(json.dumps(body)):
        data, rtype, name = match.groups()
        found.add(f"{data or ''}{rtype}.{name}")
    return found


@dataclass(frozen=True, kw_only=True)
class Exclusion:
    """A block left out of the applied copy and why."""

    address: str
    reason: str


def managed_addresses(document: Mapping[str, Any]) -> set[str]:
    """Addresses of every managed resource of a stack document."""
    return {
        f"{rtype}.{name}" for rtype, items in document.get("resource", {}).items() for name in items
    }


def stand_in(rtype: str, name: str, attribute: str) -> str:
    """A fixed value replacing ``<rtype>.<name>.<attribute>`` of a resource moto cannot create."""
    digest = hashlib.sha256(f"{rtype}.{name}".encode()).hexdigest()[:12]
    if attribute == "arn" or attribute.endswith("_arn"):
        service = rtype.split("_")[1]
        return f"arn:aws:{service}:us-east-1:{MOTO_ACCOUNT_ID}:e2e-stand-in/{digest}"
    return f"p-{digest}"


def supported_copy(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[Exclusion]]:
    """``document`` without the resource types moto cannot serve.

    References to an attribute of a removed resource become a fixed literal (see
    :func:`stand_in`; e.g. a SageMaker project id inside a role policy), ``depends_on`` entries
    naming one are pruned, outputs that refer to one are dropped.
    """
    doc: dict[str, Any] = json.loads(json.dumps(document))
    excluded: dict[str, str] = {}
    resources = doc.get("resource", {})
    for rtype in [t for t in resources if t in UNSUPPORTED_BY_MOTO]:
        for name in resources.pop(rtype):
            excluded[f"{rtype}.{name}"] = UNSUPPORTED_BY_MOTO[rtype]
    removed = {tuple(a.split(".", 1)) for a in excluded}
    pattern = re.compile(
        r"\b("
        + "|".join(sorted(re.escape(t) for t in {r for r, _ in removed}) or ["(?!)"])
        + r")\.([A-Za-z0-9_-]+)"
        r"\.([a-z0-9_]+)(?:\[\d+\])?"
    )

    def substitute(value: Any) -> Any:
        if isinstance(value, str):

            def literal(match: re.Match[str]) -> str:
                rtype, name, attribute = match.groups()
                if (rtype, name) not in removed:
                    return match.group(0)
                return json.dumps(stand_in(rtype, name, attribute))

            return pattern.sub(literal, value)
        if isinstance(value, list):
            return [substitute(v) for v in value]
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        return value

    for section in ("resource", "data"):
        for items in doc.get(section, {}).values():
            for name, body in list(items.items()):
                depends = body.get("depends_on")
                if isinstance(depends, list):
                    kept = [d for d in depends if d not in excluded]
                    if kept:
                        body["depends_on"] = kept
                    else:
                        del body["depends_on"]
                items[name] = substitute(body)
    for (rtype, argument), reason in UNSUPPORTED_ARGUMENTS.items():
        for name, body in doc.get("resource", {}).get(rtype, {}).items():
            if body.pop(argument, None) is not None:
                excluded[f"{rtype}.{name}.{argument}"] = reason
    for name in list(doc.get("output", {})):
        if _references(doc["output"][name]) & set(excluded):
            del doc["output"][name]
            excluded[f"output.{name}"] = "refers to a resource moto cannot create"
    prune_output_metadata(doc)
    exclusions = [Exclusion(address=a, reason=r) for a, r in sorted(excluded.items())]
    return doc, exclusions


def literal_role_names(document: Mapping[str, Any]) -> list[str]:
    """Names of IAM roles the stack expects to exist already (``data.aws_iam_role``)."""
    names = []
    for body in document.get("data", {}).get("aws_iam_role", {}).values():
        name = body.get("name")
        if isinstance(name, str) and "${" not in name:
            names.append(name)
    return sorted(set(names))


def has_github_blocks(document: Mapping[str, Any]) -> bool:
    """Whether any github_* block is left (the AWS half must have none)."""
    return any(
        rtype.startswith(GITHUB_PREFIX)
        for section in ("resource", "data")
        for rtype in document.get(section, {})
    )
