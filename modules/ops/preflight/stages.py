"""``make preflight`` for the stage accounts of a promoted environment (``promotion``).

Per stage account, with the credentials that run plans:

1. ``sts:AssumeRole`` into the stage's ``deployer_role_arn``, as the plan's aliased provider
   does. This is the one call of ``make preflight`` that is not a read, and the output says so;
   every call made with the assumed credentials is read-only (``Get``/``List``/``Describe``,
   refused before it is sent otherwise);
2. the assumed identity is in the stage account (the provider's ``allowed_account_ids``);
3. the stage's GitHub OIDC provider: none yet when the plan creates it, present when the config
   names it;
4. the stage roles the plan creates (deploy and model role per project) are not taken by
   something else: a role of that name without the toolkit's ``managed-by`` tag blocks.

Hooked into :func:`modules.ops.preflight.cli.run` by one call (:func:`stage_account_checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from modules.core.aws_facts import READ_ONLY_ACTION_PREFIXES
from modules.core.config import Environment, StageAccount
from modules.core.github_facts import GITHUB_OIDC_URL
from modules.core.naming import MANAGED_BY_TAG, iam_name

#: (role ARN, region) -> a client factory ``(service, region) -> client`` acting in the role's
#: account.
AssumeRole = Callable[[str, str], Callable[[str, str], Any]]
SESSION_NAME = "sagemaker-github-mlops-preflight"
AWS_ERRORS = (BotoCoreError, ClientError)


def boto3_assume_role() -> AssumeRole:
    """Assume with the default credential chain; the assumed clients are read-only."""
    import boto3  # noqa: PLC0415 - only this command needs it
    from botocore.config import Config  # noqa: PLC0415

    config = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3})

    def assume(role_arn: str, region: str) -> Callable[[str, str], Any]:
        sts = boto3.session.Session().client("sts", region_name=region, config=config)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

        def make(service: str, client_region: str) -> Any:
            client = session.client(service, region_name=client_region, config=config)
            client.meta.events.register("before-parameter-build", _refuse_writes)
            return client

        return make

    return assume


def _refuse_writes(model: Any, **_: Any) -> None:
    if not str(model.name).startswith(READ_ONLY_ACTION_PREFIXES):
        raise PermissionError(f"preflight is read-only in stage accounts: refused {model.name}")


Line = tuple[str, str, str, str, str]  # (check id, status, subject, detail, fix)


def stage_account_checks(env: Environment, assume: AssumeRole) -> list[Line]:
    """Lines for every stage account of ``env`` (none without ``promotion``)."""
    lines: list[Line] = []
    for stage, account in (env.promotion.stages() if env.promotion else {}).items():
        lines.extend(_one_stage(env, stage, account, assume))
    return lines


def _one_stage(
    env: Environment, stage: str, account: StageAccount, assume: AssumeRole
) -> list[Line]:
    subject = f"{stage} account {account.account_id}"
    role = account.deployer_role_arn
    try:
        clients = assume(role, env.region)
        identity = clients("sts", env.region).get_caller_identity()
    except (*AWS_ERRORS, PermissionError) as e:
        return [
            (
                "aws.stage.assume_role",
                "fail",
                subject,
                f"sts:AssumeRole into {role} failed (the one non-read call preflight makes): "
                f"{_brief(e)}",
                f"let the identity that runs plans assume {role}: its trust policy names that "
                "identity, and the identity may call sts:AssumeRole on it (make deployer-policy)",
            )
        ]
    lines: list[Line] = [
        (
            "aws.stage.assume_role",
            "ok",
            subject,
            f"assumed {role} (sts:AssumeRole: the one non-read call preflight makes; the plan "
            "makes the same)",
            "",
        )
    ]
    found = str(identity.get("Account"))
    if found != account.account_id:
        lines.append(
            (
                "aws.stage.account",
                "fail",
                subject,
                f"{role} acts in account {found}, not {account.account_id}: the provider's "
                "allowed_account_ids would refuse every plan",
                f"fix promotion.{stage}.account_id or deployer_role_arn",
            )
        )
        return lines
    iam = clients("iam", env.region)
    try:
        lines.append(_oidc_line(stage, account, iam))
        lines.extend(_role_lines(env, stage, iam))
    except AWS_ERRORS as e:
        lines.append(
            (
                "aws.stage.read",
                "fail",
                subject,
                f"cannot be read: {_brief(e)}",
                f"allow iam:ListOpenIDConnectProviders and iam:GetRole for {role} "
                "(make deployer-policy)",
            )
        )
    return lines


def _oidc_line(stage: str, account: StageAccount, iam: Any) -> Line:
    host = GITHUB_OIDC_URL.removeprefix("https://")
    arns = [
        str(p["Arn"])
        for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])
    ]
    existing = [a for a in arns if a.endswith(f"oidc-provider/{host}")]
    subject = f"{stage} account {account.account_id}: GitHub OIDC provider"
    if account.oidc_provider_arn is None:
        if existing:
            return (
                "aws.stage.oidc_provider",
                "fail",
                subject,
                f"the account already has {existing[0]} and the config says create",
                f"set promotion.{stage}.oidc_provider_arn: {existing[0]}",
            )
        return ("aws.stage.oidc_provider", "ok", subject, "none yet: the plan creates it", "")
    if account.oidc_provider_arn in arns:
        return ("aws.stage.oidc_provider", "ok", subject, f"{account.oidc_provider_arn} exists", "")
    return (
        "aws.stage.oidc_provider",
        "fail",
        subject,
        f"{account.oidc_provider_arn} does not exist",
        f"remove promotion.{stage}.oidc_provider_arn to have the plan create it",
    )


def _role_lines(env: Environment, stage: str, iam: Any) -> list[Line]:
    lines: list[Line] = []
    for project in env.projects:
        if stage == "staging" and not project.staging_environment:
            continue
        for purpose in (f"gha-{stage}", f"{stage}-model"):
            name = iam_name(env.name, project.name, purpose)
            status = _role_status(iam, name)
            subject = f"{stage} account: role {name}"
            if status == "taken":
                lines.append(
                    (
                        "aws.stage.name_taken",
                        "fail",
                        subject,
                        "exists and is not the toolkit's (no managed-by tag): the apply would "
                        "fail with EntityAlreadyExists",
                        "delete it, or rename the project or environment",
                    )
                )
            else:
                lines.append(("aws.stage.name_taken", "ok", subject, status, ""))
    return lines


def _role_status(iam: Any, name: str) -> str:
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code")) == "NoSuchEntity":
            return "free: the plan creates it"
        raise
    tags: Mapping[str, str] = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
    key, value = MANAGED_BY_TAG
    return "the toolkit's own (a later apply)" if tags.get(key) == value else "taken"


def _brief(error: Exception, limit: int = 160) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return first if len(first) <= limit else first[: limit - 3] + "..."
