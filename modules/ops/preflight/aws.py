"""The AWS half of preflight: the credentials' account, the OIDC provider, the roles the
product template needs, CodeConnections and Lambda concurrency (names and the state bucket:
aws_names.py). Only Get/List/Describe/Head calls are made (aws_common.guard_read_only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from modules.core.config import Environment
from modules.core.naming import GITHUB_OIDC_URL, TRIGGER_FUNCTION_NAME
from modules.ops.preflight.aws_common import (
    AWS_ERRORS,
    ClientFactory,
    error_code,
    guarded,
    role_exists,
)
from modules.ops.preflight.aws_names import name_checks, state_bucket_check
from modules.ops.preflight.aws_principals import principal_checks
from modules.ops.preflight.report import Check, Collector

TOKEN_VARIABLE_ENV = "TF_VAR_github_token"  # noqa: S105 - a variable name, not a value
USE_ROLE_NAME = "AmazonSageMakerServiceCatalogProductsUseRole"
#: Lambda keeps this much account concurrency unreserved: "You can reserve up to the
#: Unreserved account concurrency value minus 100" (Lambda developer guide, "Configuring
#: reserved concurrency").
LAMBDA_UNRESERVED_MINIMUM = 100
READ_ONLY_AWS_PREFIXES = ("Get", "List", "Describe", "Head")
STUDIO_ROLES_FIX = (
    "set up a SageMaker Studio domain and turn on 'Enable Amazon SageMaker project templates' "
    "for it (SageMaker console > Domains > Domain settings), which creates the "
    "AmazonSageMakerServiceCatalogProducts* service roles"
)


def aws_checks(env: Environment, clients: ClientFactory, environ: Mapping[str, str]) -> list[Check]:
    out = Collector(env.name)
    subject = f"AWS account {env.account_id} region {env.region}"
    try:
        identity = clients("sts", env.region).get_caller_identity()
    except AWS_ERRORS as e:  # no credentials, expired token, region not enabled
        out.add(
            "aws.credentials",
            "fail",
            subject,
            f"the AWS credentials do not work in {env.region}: {e}",
            "log in (aws sso login / AWS_PROFILE) with the identity that runs plans; an opt-in "
            "region must be enabled for the account",
        )
        return out.checks
    account = str(identity.get("Account"))
    if account != env.account_id:
        out.add(
            "aws.account",
            "fail",
            subject,
            f"the credentials belong to account {account} ({identity.get('Arn')}), not "
            f"{env.account_id}: the provider's allowed_account_ids would refuse every plan",
            f"use credentials of account {env.account_id} (AWS_PROFILE), or fix account_id",
        )
        return out.checks
    out.add(
        "aws.account",
        "ok",
        subject,
        f"credentials of {identity.get('Arn')} work in {env.region}",
    )
    iam = clients("iam", env.region)
    guarded(
        out,
        "aws.oidc_provider",
        "GitHub OIDC provider",
        "iam:ListOpenIDConnectProviders",
        lambda: _oidc_check(out, env, iam),
    )
    _role_checks(out, env, iam)
    guarded(
        out,
        "aws.principal",
        "principals named in the config",
        "iam:GetRole and iam:GetUser",
        lambda: principal_checks(out, env, iam),
    )
    _connection_checks(out, env, clients)
    guarded(
        out,
        "aws.lambda_concurrency",
        "Lambda concurrency",
        "lambda:GetAccountSettings and lambda:GetFunctionConcurrency",
        lambda: _concurrency_check(out, env, clients),
    )
    state_bucket_check(out, env, clients)
    guarded(
        out,
        "aws.name_taken",
        "names the stack creates",
        "lambda:GetFunction, logs:DescribeLogGroups, logs:ListTagsLogGroup and "
        "secretsmanager:DescribeSecret",
        lambda: name_checks(out, env, clients),
    )
    if env.platform.token_secret.value_from_variable and not environ.get(TOKEN_VARIABLE_ENV):
        out.add(
            "aws.token_variable",
            "warn",
            f"secret {env.platform.token_secret.name}",
            f"{TOKEN_VARIABLE_ENV} is not set: plans and make drift work, applies stop before "
            "writing the secret",
            f"export {TOKEN_VARIABLE_ENV} (the token the trigger function dispatches with: "
            "Actions: Read and write on the repositories) before applying",
        )
    return out.checks


def _oidc_check(out: Collector, env: Environment, iam: Any) -> None:
    platform = env.platform
    if platform.auth_mode != "oidc":
        return
    host = GITHUB_OIDC_URL.removeprefix("https://")
    providers = iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])
    arns = [str(p["Arn"]) for p in providers]
    existing = [a for a in arns if a.endswith(f"oidc-provider/{host}")]
    subject = "GitHub OIDC provider"
    if platform.oidc_provider_arn is None:
        if existing:
            out.add(
                "aws.oidc_provider",
                "fail",
                subject,
                f"the account already has {existing[0]} and the config says create "
                "(the apply would fail with EntityAlreadyExists)",
                f"set platform.oidc_provider_arn: {existing[0]}",
            )
        else:
            out.add("aws.oidc_provider", "ok", subject, "none yet: the plan creates it")
    elif platform.oidc_provider_arn in arns:
        out.add("aws.oidc_provider", "ok", subject, f"{platform.oidc_provider_arn} exists")
    else:
        out.add(
            "aws.oidc_provider",
            "fail",
            subject,
            f"{platform.oidc_provider_arn} does not exist"
            + (f" (the account has {existing[0]})" if existing else ""),
            f"set platform.oidc_provider_arn to {existing[0]}"
            if existing
            else "remove platform.oidc_provider_arn to have the plan create the provider, or "
            "apply the environment that creates it first",
        )


def _role_checks(out: Collector, env: Environment, iam: Any) -> None:
    platform = env.platform
    wanted = [("aws.launch_role", platform.launch_role_name, STUDIO_ROLES_FIX)]
    if platform.pipeline_role == "service_catalog":
        wanted.append(
            (
                "aws.use_role",
                USE_ROLE_NAME,
                STUDIO_ROLES_FIX + ", or set platform.pipeline_role: per_project",
            )
        )
    for arn in platform.studio_execution_role_arns:
        wanted.append(
            (
                "aws.studio_role",
                arn.rsplit("/", 1)[-1],
                "fix platform.studio_execution_role_arns (the execution roles of the SageMaker "
                "Studio domain and its user profiles)",
            )
        )
    for check, name, fix in wanted:
        found = role_exists(iam, name)
        if found is True:
            out.add(check, "ok", f"IAM role {name}", "exists")
        elif found is False:
            out.add(check, "fail", f"IAM role {name}", "does not exist", fix)
        else:
            out.add(
                check, "fail", f"IAM role {name}", f"cannot be read: {found}", "allow iam:GetRole"
            )


def _connection_checks(out: Collector, env: Environment, clients: ClientFactory) -> None:
    for project in env.projects:
        arn = project.code_connection
        subject = f"CodeConnection of {project.name}"
        if arn == "create":
            out.add(
                "aws.code_connection",
                "warn",
                subject,
                "the plan creates it; it stays PENDING until someone completes the handshake",
                "after the first apply: Developer Tools > Settings > Connections > Update "
                "pending connection",
            )
            continue
        service = "codestar-connections" if ":codestar-connections:" in arn else "codeconnections"
        try:
            connection = clients(service, env.region).get_connection(ConnectionArn=arn)
            status = str(connection["Connection"]["ConnectionStatus"])
        except AWS_ERRORS as e:
            out.add(
                "aws.code_connection",
                "fail",
                subject,
                f"{arn} cannot be read: {error_code(e) or e}",
                "fix projects[].code_connection, or use 'create'",
            )
            continue
        if status == "AVAILABLE":
            out.add("aws.code_connection", "ok", subject, f"{arn} is AVAILABLE")
        else:
            out.add(
                "aws.code_connection",
                "fail",
                subject,
                f"{arn} is {status}, not AVAILABLE: SageMaker cannot clone the repository",
                "complete the handshake (Developer Tools > Settings > Connections > Update "
                "pending connection), or use 'create'",
            )


def _concurrency_check(out: Collector, env: Environment, clients: ClientFactory) -> None:
    reserved = getattr(env.platform.trigger_lambda, "reserved_concurrency", None)
    if not isinstance(reserved, int):
        return  # no reservation configured: nothing to fit
    lam = clients("lambda", env.region)
    limit = lam.get_account_settings()["AccountLimit"]
    unreserved = int(limit["UnreservedConcurrentExecutions"])
    total = int(limit["ConcurrentExecutions"])
    try:
        current = lam.get_function_concurrency(FunctionName=TRIGGER_FUNCTION_NAME)
        already = int(current.get("ReservedConcurrentExecutions", 0))
    except ClientError as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
        already = 0
    available = unreserved + already - LAMBDA_UNRESERVED_MINIMUM
    subject = "Lambda concurrency"
    if reserved <= available:
        out.add(
            "aws.lambda_concurrency",
            "ok",
            subject,
            f"reserving {reserved} fits (account limit {total}, unreserved {unreserved})",
        )
    else:
        out.add(
            "aws.lambda_concurrency",
            "fail",
            subject,
            f"platform.lambda.reserved_concurrency {reserved} does not fit: the account limit "
            f"is {total}, {unreserved} unreserved, and Lambda keeps "
            f"{LAMBDA_UNRESERVED_MINIMUM} unreserved",
            "request a higher 'Concurrent executions' quota (Service Quotas > AWS Lambda), or "
            f"lower platform.lambda.reserved_concurrency to at most {max(available, 0)}",
        )
