"""The principals the config names by ARN resolve to exactly those ARNs (issue 27).

``platform.deployer_principal_arn`` (the portfolio's principal association) and
``platform.token_secret.readers`` (the token secret's resource policy) must be the exact ARN,
path included: an IAM ARN is ``arn:<partition>:iam::<account>:role/<path><name>`` ("IAM
identifiers": the path is part of the ARN), and a role or user is looked up by name alone
(``iam:GetRole``/``iam:GetUser``), so a wrong path names a principal that does not exist. A
resource policy naming it is refused with MalformedPolicyDocument ("Invalid principal"), a
principal association never matches the caller. The config already refuses principals of
another account, so each one can be read with this account's credentials.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from modules.core.config import Environment
from modules.ops.preflight.aws_common import error_code
from modules.ops.preflight.report import Collector

ARN_RE = re.compile(r"arn:([\w-]+):iam::(\d{12}):(role|user)/(.+)")
CHECK = "aws.principal"


def named_principals(env: Environment) -> list[tuple[str, str]]:
    """(ARN, config field) of every principal the config names."""
    platform = env.platform
    named = []
    if platform.deployer_principal_arn:
        named.append((platform.deployer_principal_arn, "platform.deployer_principal_arn"))
    named.extend((arn, "platform.token_secret.readers") for arn in platform.token_secret.readers)
    return named


def principal_checks(out: Collector, env: Environment, iam: Any) -> None:
    for arn, field in named_principals(env):
        match = ARN_RE.fullmatch(arn)
        if match is None:
            continue  # the config refuses such ARNs before this runs
        # the config refuses principals of another account (core/config/environments.py), so
        # this account's credentials can read every one of them
        _, _account, kind, path_and_name = match.groups()
        subject = f"IAM {kind} {arn} ({field})"
        name = path_and_name.rsplit("/", 1)[-1]
        try:
            found = (
                iam.get_role(RoleName=name)["Role"]
                if kind == "role"
                else iam.get_user(UserName=name)["User"]
            )
        except ClientError as e:
            if error_code(e) in ("AccessDenied", "AccessDeniedException"):
                # make deployer-policy READ_ONLY=1 grants iam:GetUser only where the stack
                # has users: say so rather than block
                out.add(
                    CHECK,
                    "warn",
                    subject,
                    f"cannot be read ({error_code(e)})",
                    f"allow iam:Get{kind.capitalize()} to check it, or check the ARN by hand",
                )
                continue
            if error_code(e) != "NoSuchEntity":
                raise
            out.add(CHECK, "fail", subject, f"no {kind} named {name!r} exists", f"fix {field}")
            continue
        actual = str(found["Arn"])
        if actual == arn:
            out.add(CHECK, "ok", subject, "exists with exactly this ARN")
        else:
            out.add(
                CHECK,
                "fail",
                subject,
                f"IAM has the {kind} {name!r} as {actual} (path {found.get('Path', '/')}): "
                "the ARN in the config names no principal, so the policy or association that "
                "uses it fails at apply",
                f"set {field} to {actual}",
            )
