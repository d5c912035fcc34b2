"""Account-wide names the first apply creates, and the S3 state bucket."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import ClientError

from modules.core.config import Environment, S3Backend
from modules.core.naming import MANAGED_BY_TAG, TRIGGER_FUNCTION_NAME
from modules.ops.preflight.aws_common import (
    AWS_ERRORS,
    ClientFactory,
    brief,
    error_code,
)
from modules.ops.preflight.report import Collector

FOREIGN_FIX = (
    "delete it (or import it into the state) if it is a leftover, e.g. of the original guide's "
    "deployment"
)


def name_checks(out: Collector, env: Environment, clients: ClientFactory) -> None:
    """Account-wide names the first apply creates must be free, or already the stack's own
    (tagged managed-by by an earlier apply). A leftover of the original guide (its function and
    the log group Lambda created for it) or a secret still scheduled for deletion makes the
    create fail (ResourceConflictException / ResourceAlreadyExistsException /
    InvalidRequestException)."""
    found: list[tuple[str, str, dict[str, str] | None]] = []  # kind, name, tags
    lam = clients("lambda", env.region)
    try:
        function = lam.get_function(FunctionName=TRIGGER_FUNCTION_NAME)
        found.append(("function", TRIGGER_FUNCTION_NAME, dict(function.get("Tags") or {})))
    except ClientError as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
        found.append(("function", TRIGGER_FUNCTION_NAME, None))
    logs = clients("logs", env.region)
    group = f"/aws/lambda/{TRIGGER_FUNCTION_NAME}"
    groups = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
    if any(g.get("logGroupName") == group for g in groups):
        tags = logs.list_tags_log_group(logGroupName=group).get("tags", {})
        found.append(("log group", group, dict(tags)))
    else:
        found.append(("log group", group, None))
    _report_names(out, found)
    _secret_name_check(out, env, clients)


def _report_names(
    out: Collector,
    found: Sequence[tuple[str, str, dict[str, str] | None]],
    fix: str = FOREIGN_FIX,
) -> None:
    """One line per (kind, name, tags): free (tags None), ours (the managed-by tag) or foreign."""
    key, value = MANAGED_BY_TAG
    for kind, name, tags in found:
        subject = f"{kind} {name}"
        if tags is None:
            out.add("aws.name_taken", "ok", subject, "free: the plan creates it")
        elif tags.get(key) == value:
            out.add("aws.name_taken", "ok", subject, "exists, created by this toolkit")
        else:
            out.add(
                "aws.name_taken",
                "fail",
                subject,
                "exists and was not created by this toolkit: the apply's create fails",
                fix,
            )


def _secret_name_check(out: Collector, env: Environment, clients: ClientFactory) -> None:
    secret_name = env.platform.token_secret.name
    try:
        secret = clients("secretsmanager", env.region).describe_secret(SecretId=secret_name)
    except ClientError as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
        _report_names(out, [("secret", secret_name, None)])
        return
    if secret.get("DeletedDate"):
        out.add(
            "aws.name_taken",
            "fail",
            f"secret {secret_name}",
            "is scheduled for deletion: a secret of that name cannot be created until the "
            "recovery window ends",
            f"aws secretsmanager restore-secret --secret-id {secret_name} (then import it), or "
            "set platform.token_secret.name to another name",
        )
        return
    tags = {str(t.get("Key")): str(t.get("Value")) for t in secret.get("Tags") or []}
    _report_names(
        out,
        [("secret", secret_name, tags)],
        fix="set platform.token_secret.name to another name, or " + FOREIGN_FIX,
    )


def state_bucket_check(out: Collector, env: Environment, clients: ClientFactory) -> None:
    backend = env.backend
    if not isinstance(backend, S3Backend):
        return
    region = backend.region or env.region
    s3 = clients("s3", region)
    subject = f"state bucket {backend.bucket}"
    try:
        s3.head_bucket(Bucket=backend.bucket)
    except AWS_ERRORS as e:
        code = error_code(e)
        missing = code in ("404", "NoSuchBucket", "NotFound")
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            "does not exist" if missing else f"cannot be read ({code or e})",
            f"create it in {region} with versioning and default encryption"
            if missing
            else "allow s3:ListBucket on it for the deploying identity",
        )
        return
    try:
        status = s3.get_bucket_versioning(Bucket=backend.bucket).get("Status")
        location = s3.get_bucket_location(Bucket=backend.bucket).get("LocationConstraint")
    except AWS_ERRORS as e:
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            f"versioning or location cannot be read ({brief(e)})",
            "allow s3:GetBucketVersioning and s3:GetBucketLocation on it for the deploying "
            "identity",
        )
        return
    # GetBucketLocation answers null for us-east-1 and the legacy "EU" for eu-west-1
    actual = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    if actual != region:
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            f"the bucket is in {actual}, but the backend uses region {region}: terraform init "
            "fails",
            f"set backend.region: {actual}",
        )
        return
    if status == "Enabled":
        out.add("aws.state_bucket", "ok", subject, "exists, versioning enabled")
    else:
        out.add(
            "aws.state_bucket",
            "fail",
            subject,
            f"versioning is {status or 'off'}: an overwritten or deleted state cannot be recovered",
            f"aws s3api put-bucket-versioning --bucket {backend.bucket} "
            "--versioning-configuration Status=Enabled",
        )
