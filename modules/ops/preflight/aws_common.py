"""What the AWS checks share: read-only boto3 clients and error wording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from modules.core.aws_facts import READ_ONLY_ACTION_PREFIXES
from modules.ops.preflight.report import Collector

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def boto3_clients(session: Any = None) -> ClientFactory:
    """Clients from the default credential chain, with timeouts and a read-only guard.

    ``session``: the boto3 session to make them from (default: a new one). A session loads
    each service's model once; a caller that makes many factories can pass one."""
    import boto3  # noqa: PLC0415 - only this command needs it
    from botocore.config import Config  # noqa: PLC0415

    session = session or boto3.session.Session()
    config = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3})

    def make(service: str, region: str) -> Any:
        client = session.client(service, region_name=region, config=config)
        guard_read_only(client)
        return client

    return make


def guard_read_only(client: Any) -> None:
    """Refuse any call that is not Get/List/Describe/Head, before it is sent."""

    def refuse(model: Any, **_: Any) -> None:
        if not str(model.name).startswith(READ_ONLY_ACTION_PREFIXES):
            raise PermissionError(f"preflight is read-only: refused {model.name}")

    client.meta.events.register("before-parameter-build", refuse)


def brief(error: Exception, limit: int = 160) -> str:
    """``Code: first line of the message``, cut to ``limit`` characters."""
    first = (str(error).strip().splitlines() or [""])[0]
    text = f"{error_code(error) or type(error).__name__}: {first}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


AWS_ERRORS = (BotoCoreError, ClientError)


def role_exists(iam: Any, name: str) -> bool | str:
    try:
        iam.get_role(RoleName=name)
    except ClientError as e:
        if error_code(e) == "NoSuchEntity":
            return False
        return f"{error_code(e)}: {e}"
    return True


def guarded(
    out: Collector, check: str, subject: str, action: str, step: Callable[[], None]
) -> None:
    """Run one AWS check; an API error becomes a failed line naming the permission."""
    try:
        step()
    except AWS_ERRORS as e:
        out.add(
            check,
            "fail",
            subject,
            f"cannot be read: {brief(e)}",
            f"allow {action} for the identity that runs plans (make deployer-policy)",
        )
