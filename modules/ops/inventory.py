"""``make inventory``: what each account and each repository gets, read from the synthesized
stacks (``<outdir>/stacks/<stack>/cdk.tf.json``) with no credentials.

Usage: python -m modules.ops.inventory [--outdir cdktf.out] [--stack NAME ...] [--json PATH|-]

Per stack (one AWS account and region):

* every IAM role and user the stack creates (and the existing roles it adds a policy to), with
  who may use it (the OIDC ``sub`` values, service principals, or who holds the access key) and
  a one-line summary of what its policies allow;
* the GitHub token secret, where its value comes from and the only principals that may read it;
* the trigger function; the Service Catalog product, its portfolio, launch role and users;
* per GitHub repository: its environments with reviewers and branch rules, the variables and
  secrets by name (never a value), the files the toolkit keeps in sync or seeds once;
* what keeps costing money once used, with the AWS pricing dimension (never a price),
  including the endpoints the deploy workflow creates outside Terraform's state.

Everything comes from the JSON itself: references (``${aws_iam_role.<id>.arn}``) are resolved
to the names the stack gives those objects.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modules.ops.terraform import select_stacks

EXIT_OK = 0
EXIT_BAD_INPUT = 2
_REF = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")
_VAR = re.compile(r"\bvar\.([A-Za-z0-9_]+)")
_STAGE = re.compile(r"--stage\s+([a-z]+)")
#: The deploy step's instance settings as seeded (modules/render/seed/deploy/deploy.py,
#: DeploySettings); the seeded file belongs to the repository once merged.
SEEDED_ENDPOINT_INSTANCE = "ml.m5.large x 1"

Json = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Identity:
    kind: str  # "role", "user" or "existing role"
    name: str
    used_by: tuple[str, ...]
    may: str


@dataclass(frozen=True, kw_only=True)
class TokenSecret:
    name: str
    value: str
    readers: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TriggerFunction:
    name: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int | None
    role: str
    log_group: str
    failure_queue: str | None
    table: str | None


@dataclass(frozen=True, kw_only=True)
class Product:
    name: str
    owner: str
    portfolio: str
    launch_role: str
    principals: tuple[str, ...]
    versions: tuple[str, ...]
    projects: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Environment:
    name: str
    reviewers: tuple[str, ...]
    prevent_self_review: bool
    admins_bypass: bool
    branches: tuple[str, ...]
    variables: tuple[str, ...]
    secrets: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ManagedFile:
    path: str
    branch: str
    mode: str  # "kept in sync" or "seeded once"


@dataclass(frozen=True, kw_only=True)
class Repository:
    name: str  # owner/repository
    environments: tuple[Environment, ...]
    variables: tuple[str, ...]
    secrets: tuple[str, ...]
    files: tuple[ManagedFile, ...]
    pull_requests: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Cost:
    what: str
    name: str
    dimensions: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class StackInventory:
    stack: str
    account: str
    region: str
    backend: str
    identities: tuple[Identity, ...]
    token_secret: TokenSecret | None
    trigger_function: TriggerFunction | None
    products: tuple[Product, ...]
    repositories: tuple[Repository, ...]
    costs: tuple[Cost, ...] = field(default_factory=tuple)


class _Stack:
    """Reads one ``cdk.tf.json``: typed lookups and reference resolution."""

    def __init__(self, doc: Json) -> None:
        self.doc = doc
        self.resources: Mapping[str, Mapping[str, Json]] = doc.get("resource", {})
        self.data: Mapping[str, Mapping[str, Json]] = doc.get("data", {})

    def of(self, rtype: str) -> Iterator[tuple[str, Json]]:
        yield from sorted(self.resources.get(rtype, {}).items())

    def target(self, value: Any) -> tuple[str, str, Json] | None:
        """(type, id, body) of the resource or data source ``value`` refers to."""
        match = _REF.match(value) if isinstance(value, str) else None
        if match is None:
            return None
        table = self.data if match[1] else self.resources
        body = table.get(match[2], {}).get(match[3])
        return (f"{match[1] or ''}{match[2]}", match[3], body) if body is not None else None

    def name_of(self, value: Any, *, labelled: bool = True) -> str:
        """A readable name for a literal or a reference (``role mlops-dev-...``; without the
        kind when not ``labelled``)."""
        found = self.target(value)
        if found is None:
            return str(value)
        rtype, _, body = found
        for key in ("name", "function_name", "username", "slug", "secret_name", "project_name"):
            if isinstance(body.get(key), str) and not body[key].startswith("${"):
                if not labelled:
                    return str(body[key])
                label = rtype.removeprefix("data.").removeprefix("aws_").removeprefix("github_")
                return f"{label.replace('iam_', '')} {body[key]}"
        return str(value)

    def policy(self, value: Any) -> list[Json]:
        """The statements of a policy given as a data-source reference or a JSON literal, in
        the data source's shape (``actions``, ``effect``, ``principals``, ``condition``)."""
        found = self.target(value)
        if found is not None and found[0] == "data.aws_iam_policy_document":
            statements: list[Json] = found[2].get("statement", [])
            return statements
        if isinstance(value, str) and value.lstrip().startswith("{"):
            literal = json.loads(value)
            return [_from_json_statement(s) for s in _as_list(literal.get("Statement"))]
        return []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _from_json_statement(statement: Json) -> Json:
    principals = [
        {"type": kind, "identifiers": _as_list(ids)}
        for kind, ids in (statement.get("Principal") or {}).items()
    ]
    conditions = [
        {"test": test, "variable": variable, "values": _as_list(values)}
        for test, pairs in (statement.get("Condition") or {}).items()
        for variable, values in pairs.items()
    ]
    return {
        "effect": statement.get("Effect", "Allow"),
        "actions": _as_list(statement.get("Action")),
        "principals": principals,
        "condition": conditions,
    }


def summarize_actions(statements: Iterable[Json]) -> str:
    """One line: the allowed actions per service (listed when few), then any denies."""
    allowed: dict[str, set[str]] = defaultdict(set)
    denied: set[str] = set()
    for statement in statements:
        actions = _as_list(statement.get("actions"))
        if statement.get("effect", "Allow") == "Deny":
            denied.update(actions)
            continue
        for action in actions:
            service, _, name = str(action).partition(":")
            allowed[service].add(name or "*")
    parts = []
    for service, names in sorted(allowed.items()):
        if len(names) <= 3:
            parts.append(f"{service}:{','.join(sorted(names))}")
        else:
            parts.append(f"{service} ({len(names)} actions)")
    line = "; ".join(parts) if parts else "nothing"
    if denied:
        line += f"; denies {', '.join(sorted(denied))}"
    return line


def _trust(stack: _Stack, statements: Iterable[Json]) -> tuple[str, ...]:
    subjects: list[str] = []
    for statement in statements:
        if statement.get("effect", "Allow") != "Allow":
            continue
        subs = [
            str(v)
            for c in statement.get("condition", [])
            if str(c.get("variable", "")).endswith(":sub")
            for v in c.get("values", [])
        ]
        for principal in statement.get("principals", []):
            kind = principal.get("type")
            for identifier in principal.get("identifiers", []):
                if kind == "Federated":
                    subjects += [f"OIDC sub {s}" for s in subs] or [
                        f"any subject of {stack.name_of(identifier)}"
                    ]
                elif kind == "Service":
                    subjects.append(f"service {identifier}")
                else:
                    subjects.append(stack.name_of(identifier))
    return tuple(dict.fromkeys(subjects))


def _attached(stack: _Stack) -> tuple[dict[str, list[Json]], dict[str, list[str]]]:
    """Inline policy statements and managed policy names per ``<type>.<id>`` of a role/user."""
    attached: dict[str, list[Json]] = defaultdict(list)
    for rtype, key in (("aws_iam_role_policy", "role"), ("aws_iam_user_policy", "user")):
        for _, body in stack.of(rtype):
            found = stack.target(body.get(key))
            if found is not None:
                attached[f"{found[0]}.{found[1]}"] += stack.policy(body.get("policy"))
    managed: dict[str, list[str]] = defaultdict(list)
    for _, body in stack.of("aws_iam_role_policy_attachment"):
        found = stack.target(body.get("role"))
        if found is not None:
            managed[f"{found[0]}.{found[1]}"].append(str(body.get("policy_arn")).rsplit("/")[-1])
    return attached, managed


def _key_holders(stack: _Stack) -> dict[str, list[str]]:
    """Access key id -> the GitHub secrets that hold it."""
    holders: dict[str, list[str]] = defaultdict(list)
    for rtype in ("github_actions_secret", "github_actions_environment_secret"):
        for _, body in stack.of(rtype):
            found = stack.target(body.get("plaintext_value") or body.get("value"))
            if found is None or found[0] != "aws_iam_access_key":
                continue
            scope = _repository(stack, body)
            if rtype == "github_actions_environment_secret":
                scope += f" environment {_environment_name(stack, body.get('environment'))}"
            holders[found[1]].append(f"GitHub secret {body.get('secret_name')} ({scope})")
    return holders


def identities(stack: _Stack) -> tuple[Identity, ...]:
    attached, managed = _attached(stack)
    holders = _key_holders(stack)
    result: list[Identity] = []
    for rid, body in stack.of("aws_iam_role"):
        may = summarize_actions(attached.get(f"aws_iam_role.{rid}", []))
        if managed.get(f"aws_iam_role.{rid}"):
            may += f"; managed: {', '.join(managed[f'aws_iam_role.{rid}'])}"
        trust = _trust(stack, stack.policy(body.get("assume_role_policy")))
        result.append(Identity(kind="role", name=str(body.get("name")), used_by=trust, may=may))
    for rid, body in stack.of("aws_iam_user"):
        keys = [k for k, b in stack.of("aws_iam_access_key") if _refers(stack, b.get("user"), rid)]
        used_by = tuple(h for k in keys for h in holders.get(k, [])) or tuple(
            f"access key {k}" for k in keys
        )
        may = summarize_actions(attached.get(f"aws_iam_user.{rid}", []))
        result.append(Identity(kind="user", name=str(body.get("name")), used_by=used_by, may=may))
    for rid, body in sorted(stack.data.get("aws_iam_role", {}).items()):
        statements = attached.get(f"data.aws_iam_role.{rid}", [])
        if statements:
            result.append(
                Identity(
                    kind="existing role",
                    name=str(body.get("name")),
                    used_by=("not created here: the stack adds an inline policy",),
                    may="adds " + summarize_actions(statements),
                )
            )
    return tuple(result)


def token_secret(stack: _Stack) -> TokenSecret | None:
    secrets = list(stack.of("aws_secretsmanager_secret"))
    if not secrets:
        return None
    sid, body = secrets[0]
    versions = [
        b
        for _, b in stack.of("aws_secretsmanager_secret_version")
        if _refers(stack, b.get("secret_id"), sid)
    ]
    if any("secret_string_wo" in v for v in versions):
        variables = sorted({m for v in versions for m in _VAR.findall(str(v["secret_string_wo"]))})
        value = "written write-only from " + ", ".join(f"TF_VAR_{n}" for n in variables)
    else:
        value = "set out of band (not managed by Terraform)"
    readers: list[str] = []
    for _, policy in stack.of("aws_secretsmanager_secret_policy"):
        for statement in stack.policy(policy.get("policy")):
            actions = _as_list(statement.get("actions"))
            if statement.get("effect") != "Deny" or "secretsmanager:GetSecretValue" not in actions:
                continue
            for c in statement.get("condition", []):
                if c.get("test") == "StringNotEquals" and c.get("variable") == "aws:PrincipalArn":
                    readers += [stack.name_of(v) for v in c.get("values", [])]
    return TokenSecret(name=str(body.get("name")), value=value, readers=tuple(readers))


def trigger_function(stack: _Stack) -> TriggerFunction | None:
    functions = list(stack.of("aws_lambda_function"))
    if not functions:
        return None
    fid, body = functions[0]
    queue = None
    for _, invoke in stack.of("aws_lambda_function_event_invoke_config"):
        failure = invoke.get("destination_config", {}).get("on_failure", {})
        queue = stack.name_of(failure.get("destination"), labelled=False) if failure else None
    env = body.get("environment", {}).get("variables", {})
    table = env.get("IDEMPOTENCY_TABLE_NAME")
    log_group = body.get("logging_config", {}).get("log_group")
    return TriggerFunction(
        name=str(body.get("function_name")),
        runtime=str(body.get("runtime")),
        architecture=",".join(body.get("architectures", ["x86_64"])),
        memory_mb=int(body.get("memory_size", 128)),
        timeout_seconds=int(body.get("timeout", 3)),
        reserved_concurrency=body.get("reserved_concurrent_executions"),
        role=stack.name_of(body.get("role")),
        log_group=stack.name_of(log_group, labelled=False) if log_group else f"/aws/lambda/{fid}",
        failure_queue=queue,
        table=stack.name_of(table, labelled=False) if table else None,
    )


def _refers(stack: _Stack, value: Any, rid: str) -> bool:
    """Whether ``value`` is a reference to the resource with id ``rid``."""
    found = stack.target(value)
    return found is not None and found[1] == rid


def products(stack: _Stack) -> tuple[Product, ...]:
    result = []
    for pid, body in stack.of("aws_servicecatalog_product"):
        portfolios = [
            stack.target(a.get("portfolio_id"))
            for _, a in stack.of("aws_servicecatalog_product_portfolio_association")
            if _refers(stack, a.get("product_id"), pid)
        ]
        portfolio_ids = {p[1] for p in portfolios if p is not None}
        launch = [
            stack.name_of(json.loads(c["parameters"]).get("RoleArn"))
            for _, c in stack.of("aws_servicecatalog_constraint")
            if c.get("type") == "LAUNCH"
            and (t := stack.target(c.get("product_id")))
            and t[1] == pid
        ]
        principals = [
            stack.name_of(a.get("principal_arn"))
            for _, a in stack.of("aws_servicecatalog_principal_portfolio_association")
            if (t := stack.target(a.get("portfolio_id"))) and t[1] in portfolio_ids
        ]
        versions = [str(body.get("provisioning_artifact_parameters", {}).get("name"))]
        versions += [
            str(a.get("name"))
            for _, a in stack.of("aws_servicecatalog_provisioning_artifact")
            if _refers(stack, a.get("product_id"), pid)
        ]
        projects = [
            str(p.get("project_name"))
            for _, p in stack.of("aws_sagemaker_project")
            if (
                t := stack.target(
                    p.get("service_catalog_provisioning_details", {}).get("product_id")
                )
            )
            and t[1] == pid
        ]
        portfolio_names = [str(p[2].get("name")) for p in portfolios if p is not None]
        result.append(
            Product(
                name=str(body.get("name")),
                owner=str(body.get("owner")),
                portfolio=", ".join(portfolio_names),
                launch_role=", ".join(launch),
                principals=tuple(principals),
                versions=tuple(versions),
                projects=tuple(projects),
            )
        )
    return tuple(result)


def _owner(stack: _Stack, body: Json) -> str:
    alias = str(body.get("provider", "github")).removeprefix("github").removeprefix(".")
    for provider in stack.doc.get("provider", {}).get("github", []):
        if provider.get("alias", "") == alias:
            return str(provider.get("owner"))
    return alias or "?"


def _repository(stack: _Stack, body: Json) -> str:
    name = body.get("repository") or body.get("base_repository")
    return f"{_owner(stack, body)}/{name}"


def _environment_name(stack: _Stack, value: Any) -> str:
    found = stack.target(value)
    return str(found[2].get("environment")) if found is not None else str(value)


def repositories(stack: _Stack) -> tuple[Repository, ...]:
    parts: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    env_items: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for _, body in stack.of("github_repository_environment_deployment_policy"):
        key = (_repository(stack, body), _environment_name(stack, body.get("environment")))
        pattern = body.get("branch_pattern") or body.get("tag_pattern")
        kind = "branch" if body.get("branch_pattern") else "tag"
        env_items[key]["branches"].append(f"{kind} {pattern}")
    for rtype, item, attr in (
        ("github_actions_environment_variable", "variables", "variable_name"),
        ("github_actions_environment_secret", "secrets", "secret_name"),
    ):
        for _, body in stack.of(rtype):
            key = (_repository(stack, body), _environment_name(stack, body.get("environment")))
            env_items[key][item].append(str(body.get(attr)))
    for _, body in stack.of("github_repository_environment"):
        repo = _repository(stack, body)
        name = str(body.get("environment"))
        reviewers = [
            stack.name_of(r)
            for block in _as_list(body.get("reviewers"))
            for r in [*block.get("users", []), *block.get("teams", [])]
        ]
        policy = body.get("deployment_branch_policy") or {}
        items = env_items[(repo, name)]
        branches = list(items["branches"])
        if policy.get("protected_branches"):
            branches.insert(0, "protected branches")
        elif not policy:
            branches.insert(0, "any branch")
        parts[repo]["environments"].append(
            Environment(
                name=name,
                reviewers=tuple(reviewers),
                prevent_self_review=bool(body.get("prevent_self_review", False)),
                admins_bypass=bool(body.get("can_admins_bypass", True)),
                branches=tuple(branches),
                variables=tuple(sorted(items["variables"])),
                secrets=tuple(sorted(items["secrets"])),
            )
        )
    for rtype, item, attr in (
        ("github_actions_variable", "variables", "variable_name"),
        ("github_actions_secret", "secrets", "secret_name"),
    ):
        for _, body in stack.of(rtype):
            parts[_repository(stack, body)][item].append(str(body.get(attr)))
    for _, body in stack.of("github_repository_file"):
        ignored = body.get("lifecycle", {}).get("ignore_changes", [])
        mode = "seeded once" if "content" in ignored else "kept in sync"
        parts[_repository(stack, body)]["files"].append(
            ManagedFile(path=str(body.get("file")), branch=str(body.get("branch")), mode=mode)
        )
    for _, body in stack.of("github_repository_pull_request"):
        parts[_repository(stack, body)]["pull_requests"].append(
            f"{body.get('head_ref')} -> {body.get('base_ref')}: {body.get('title')}"
        )
    return tuple(
        Repository(
            name=repo,
            environments=tuple(p["environments"]),
            variables=tuple(sorted(p["variables"])),
            secrets=tuple(sorted(p["secrets"])),
            files=tuple(p["files"]),
            pull_requests=tuple(p["pull_requests"]),
        )
        for repo, p in sorted(parts.items())
    )


_DEPLOY_WORKFLOW = re.compile(r"\.github/workflows/deploy-[a-z0-9-]+\.yml")


def _endpoints(stack: _Stack) -> Iterator[Cost]:
    """The endpoints each project's deploy workflow creates (read from the workflow file)."""
    for _, body in stack.of("github_repository_file"):
        # the environment's own deploy-<env>.yml (modules/render/workflows.py, workflow_paths)
        if not _DEPLOY_WORKFLOW.fullmatch(str(body.get("file", ""))):
            continue
        workflow = yaml.safe_load(str(body.get("content", "")))
        project = (workflow.get("env") or {}).get("SAGEMAKER_PROJECT_NAME", "?")
        stages = sorted(
            set(_STAGE.findall(json.dumps(workflow.get("jobs", {})))),
            key=["staging", "production"].index,
        )
        for stage in stages:
            yield Cost(
                what="SageMaker endpoint (created by deploy.yml, not in Terraform state)",
                name=f"{project}-{stage}",
                dimensions="SageMaker real-time inference: instance-hours per instance "
                f"({SEEDED_ENDPOINT_INSTANCE} as seeded), while it exists",
                note="make destroy leaves it: docs/first-apply.md, Removing what deploys created",
            )


def _function_costs(stack: _Stack) -> Iterator[Cost]:
    for _, body in stack.of("aws_lambda_function"):
        arch = ",".join(body.get("architectures", ["x86_64"]))
        yield Cost(
            what="Lambda function",
            name=str(body.get("function_name")),
            dimensions=f"AWS Lambda: requests; duration (GB-seconds, {arch})",
        )
        if body.get("tracing_config", {}).get("mode") == "Active":
            yield Cost(
                what="X-Ray tracing",
                name=str(body.get("function_name")),
                dimensions="AWS X-Ray: traces recorded; traces retrieved and scanned",
            )


def _storage_costs(stack: _Stack) -> Iterator[Cost]:
    for _, body in stack.of("aws_dynamodb_table"):
        if body.get("billing_mode") == "PAY_PER_REQUEST":
            dims = "DynamoDB on-demand: write request units; read request units"
        else:
            dims = "DynamoDB provisioned: read/write capacity unit-hours"
        dims += "; storage (GB-month)"
        if body.get("point_in_time_recovery", {}).get("enabled"):
            dims += "; continuous backups (PITR, GB-month)"
        yield Cost(what="DynamoDB table", name=str(body.get("name")), dimensions=dims)
    for _, body in stack.of("aws_sqs_queue"):
        yield Cost(
            what="SQS queue",
            name=str(body.get("name") or "(name generated by AWS)"),
            dimensions="Amazon SQS: standard queue requests",
        )
    for _, body in stack.of("aws_secretsmanager_secret"):
        yield Cost(
            what="Secrets Manager secret",
            name=str(body.get("name")),
            dimensions="Secrets Manager: secrets (per secret-month); API calls",
        )
    for _, body in stack.of("aws_s3_bucket"):
        yield Cost(
            what="S3 bucket",
            name=str(body.get("bucket") or f"{body.get('bucket_prefix', '')}*"),
            dimensions="Amazon S3: storage (GB-month, versions included); requests",
        )


def _monitoring_costs(stack: _Stack) -> Iterator[Cost]:
    for _, body in stack.of("aws_cloudwatch_log_group"):
        days = body.get("retention_in_days")
        yield Cost(
            what="CloudWatch log group",
            name=str(body.get("name")),
            dimensions="CloudWatch Logs: data ingested (GB); archived storage (GB-month)",
            note=f"kept {days} days" if days else "kept forever",
        )
    alarms = [str(b.get("alarm_name")) for _, b in stack.of("aws_cloudwatch_metric_alarm")]
    if alarms:
        yield Cost(
            what="CloudWatch alarms",
            name=", ".join(alarms),
            dimensions="CloudWatch: standard-resolution alarm metrics (per alarm-month)",
        )


def _project_costs(stack: _Stack) -> Iterator[Cost]:
    for _, body in stack.of("aws_sagemaker_project"):
        yield Cost(
            what="SageMaker pipeline runs (build.yml on every push)",
            name=str(body.get("project_name")),
            dimensions="SageMaker Processing and Training: instance-hours per instance "
            "type; S3 storage of the project bucket sagemaker-project-<project id>",
        )
    yield from _endpoints(stack)


def costs(stack: _Stack) -> tuple[Cost, ...]:
    """What keeps costing money once used, in the order of the summary."""
    return (
        *_function_costs(stack),
        *_storage_costs(stack),
        *_monitoring_costs(stack),
        *_project_costs(stack),
    )


def _backend(doc: Json) -> str:
    backend = doc.get("terraform", {}).get("backend", {})
    cloud = doc.get("terraform", {}).get("cloud")
    if cloud:
        return f"cloud (organization {cloud.get('organization')})"
    for kind, settings in backend.items():
        if kind == "local":
            path = settings.get("path", "terraform.tfstate")
            return f"local ({path} from the stack directory, in this clone)"
        if kind == "s3":
            return f"s3 (s3://{settings.get('bucket')}/{settings.get('key')})"
        return str(kind)
    return "local (terraform.tfstate, in this clone)"


def inventory_of(name: str, doc: Json) -> StackInventory:
    stack = _Stack(doc)
    aws = (doc.get("provider", {}).get("aws") or [{}])[0]
    return StackInventory(
        stack=name,
        account=",".join(aws.get("allowed_account_ids", [])) or "?",
        region=str(aws.get("region", "?")),
        backend=_backend(doc),
        identities=identities(stack),
        token_secret=token_secret(stack),
        trigger_function=trigger_function(stack),
        products=products(stack),
        repositories=repositories(stack),
        costs=costs(stack),
    )


def inventory(outdir: Path, stacks: Sequence[str] | None = None) -> list[StackInventory]:
    stacks_dir, names = select_stacks(outdir, stacks)
    return [
        inventory_of(n, json.loads((stacks_dir / n / "cdk.tf.json").read_text(encoding="utf-8")))
        for n in names
    ]


def _list(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "-"


def render(stacks: Sequence[StackInventory]) -> str:
    lines: list[str] = []
    for s in stacks:
        lines.append(f"Stack {s.stack}: account {s.account}, {s.region}; state: {s.backend}")
        lines.append("  Identities (who may use them -> what they may do):")
        for i in s.identities:
            lines.append(f"    {i.kind} {i.name}")
            lines.append(f"      used by: {_list(i.used_by)}")
            lines.append(f"      may:     {i.may}")
        if s.token_secret is not None:
            t = s.token_secret
            lines.append(f"  Token secret {t.name}: {t.value}")
            lines.append(f"    readable only by: {_list(t.readers)}")
        if s.trigger_function is not None:
            f = s.trigger_function
            concurrency = (
                f"reserved concurrency {f.reserved_concurrency}"
                if f.reserved_concurrency is not None
                else "unreserved concurrency"
            )
            lines.append(
                f"  Trigger function {f.name}: {f.runtime} {f.architecture}, {f.memory_mb} MB, "
                f"{f.timeout_seconds} s, {concurrency}; runs as {f.role}"
            )
            lines.append(
                f"    logs {f.log_group}; failures to {f.failure_queue or '-'}; "
                f"dispatch records in {f.table or '-'}"
            )
        for p in s.products:
            lines.append(
                f"  Service Catalog product {p.name} (owner {p.owner}) in portfolio {p.portfolio}"
            )
            lines.append(f"    launched as {p.launch_role}; visible to {_list(p.principals)}")
            lines.append(f"    versions {_list(p.versions)}; projects {_list(p.projects)}")
        for r in s.repositories:
            lines.append(f"  Repository {r.name}")
            for e in r.environments:
                flags = []
                if e.prevent_self_review:
                    flags.append("no self-review")
                flags.append("admins may bypass" if e.admins_bypass else "admins may not bypass")
                lines.append(
                    f"    environment {e.name}: reviewers {_list(e.reviewers)} "
                    f"({', '.join(flags)}); deploys from {_list(e.branches)}"
                )
                lines.append(f"      variables {_list(e.variables)}; secrets {_list(e.secrets)}")
            lines.append(f"    repository variables {_list(r.variables)}")
            lines.append(f"    repository secrets {_list(r.secrets)}")
            by_mode: dict[str, list[str]] = defaultdict(list)
            for mf in r.files:
                by_mode[f"{mf.mode} on {mf.branch}"].append(mf.path)
            for mode, paths in sorted(by_mode.items()):
                lines.append(f"    files {mode}: {', '.join(paths)}")
            for pr in r.pull_requests:
                lines.append(f"    pull request {pr}")
        lines.append("  Keeps costing money once used (AWS pricing dimensions, no prices):")
        for c in s.costs:
            note = f" [{c.note}]" if c.note else ""
            lines.append(f"    {c.what} {c.name}: {c.dimensions}{note}")
    return "\n".join(lines)


def to_json(stacks: Sequence[StackInventory]) -> Json:
    data = {"stacks": [asdict(s) for s in stacks]}
    parsed: Json = json.loads(json.dumps(data))  # tuples become lists
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modules.ops.inventory",
        description="What each account and repository gets, from the synthesized stacks.",
    )
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    parser.add_argument(
        "--json", dest="json_path", metavar="PATH", help="write JSON to PATH ('-': stdout)"
    )
    args = parser.parse_args(argv)
    try:
        found = inventory(args.outdir, args.stacks)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    text = json.dumps(to_json(found), indent=2, sort_keys=True) + "\n"
    if args.json_path == "-":
        sys.stdout.write(text)
        return EXIT_OK
    print(render(found))
    if args.json_path is not None:
        path = Path(args.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
