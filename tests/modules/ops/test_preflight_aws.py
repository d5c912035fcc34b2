"""The AWS half of preflight: each check fails with its own line when its prerequisite is
broken, against moto on 127.0.0.1; every AWS call preflight makes is read-only and allowed by
the drift policy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core.config import Environment, parse_config
from modules.ops import deployer_policy, preflight
from modules.ops.preflight import aws as preflight_aws
from modules.ops.preflight.aws_principals import principal_checks
from tests.conftest import Synth
from tests.modules.ops.preflight_support import (
    ACCOUNT,
    STATE_BUCKET,
    Setup,
    aws,
    by_id,
    failing,
    healthy_config,
    only_failure,
)
from tests.support.moto_server import MotoServer

# --- AWS: one test per check, failing ---------------------------------------------------------


def test_fails_in_another_account(setup: Setup) -> None:
    text = json.dumps(setup.config).replace(ACCOUNT, "210987654321")
    setup.config = json.loads(text)
    checks = setup.run()
    (fail,) = [c for c in failing(checks) if c.check.startswith("aws.")]
    assert fail.check == "aws.account"
    assert "belong to account 123456789012" in fail.detail and "not 210987654321" in fail.detail
    assert "AWS_PROFILE" in fail.fix


def test_fails_when_the_oidc_provider_exists_but_config_creates_it(setup: Setup) -> None:
    iam = aws(setup.fakes.moto)("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    check = only_failure(setup.run(), "aws.oidc_provider", "EntityAlreadyExists")
    assert check.fix == f"set platform.oidc_provider_arn: {arn}"


def test_fails_when_the_configured_oidc_provider_is_missing(setup: Setup) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    setup.config["environments"][0]["platform"]["oidc_provider_arn"] = arn
    only_failure(setup.run(), "aws.oidc_provider", f"{arn} does not exist")


def test_reused_oidc_provider_passes(setup: Setup) -> None:
    arn = aws(setup.fakes.moto)("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    setup.config["environments"][0]["platform"]["oidc_provider_arn"] = arn
    checks = setup.run()
    assert failing(checks) == []
    assert by_id(checks, "aws.oidc_provider")[0].detail == f"{arn} exists"


@pytest.mark.parametrize(
    ("role", "check"),
    [
        ("AmazonSageMakerServiceCatalogProductsLaunchRole", "aws.launch_role"),
        ("AmazonSageMakerServiceCatalogProductsUseRole", "aws.use_role"),
        ("AmazonSageMaker-ExecutionRole-dev", "aws.studio_role"),
    ],
)
def test_fails_when_a_studio_role_is_missing(setup: Setup, role: str, check: str) -> None:
    aws(setup.fakes.moto)("iam").delete_role(RoleName=role)
    found = only_failure(setup.run(), check, f"IAM role {role}", "does not exist")
    assert "SageMaker" in found.fix


def test_per_project_pipeline_role_needs_no_use_role(setup: Setup) -> None:
    aws(setup.fakes.moto)("iam").delete_role(
        RoleName="AmazonSageMakerServiceCatalogProductsUseRole"
    )
    setup.config["environments"][0]["platform"]["pipeline_role"] = "per_project"
    checks = setup.run()
    assert failing(checks) == [] and by_id(checks, "aws.use_role") == []


def test_fails_when_the_code_connection_is_pending(setup: Setup) -> None:
    setup.fakes.connection_status = "PENDING"
    only_failure(setup.run(), "aws.code_connection", "is PENDING, not AVAILABLE", "handshake")


def test_fails_when_the_code_connection_does_not_exist(setup: Setup) -> None:
    setup.fakes.connection_status = None
    only_failure(setup.run(), "aws.code_connection", "ResourceNotFoundException")


def test_fails_when_lambda_concurrency_cannot_cover_the_reservation(setup: Setup) -> None:
    setup.fakes.account_limit = (10, 10)  # a new account's default quota
    check = only_failure(
        setup.run(), "aws.lambda_concurrency", "reserved_concurrency 5 does not fit", "limit is 10"
    )
    assert "Service Quotas" in check.fix and "at most 0" in check.fix


def test_fails_when_the_state_bucket_is_missing(setup: Setup) -> None:
    aws(setup.fakes.moto)("s3").delete_bucket(Bucket=STATE_BUCKET)
    check = only_failure(setup.run(), "aws.state_bucket", STATE_BUCKET, "does not exist")
    assert "versioning" in check.fix


def test_fails_when_the_state_bucket_is_unversioned(setup: Setup) -> None:
    s3 = aws(setup.fakes.moto)("s3")
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Suspended"})
    check = only_failure(setup.run(), "aws.state_bucket", "versioning is Suspended")
    assert "put-bucket-versioning" in check.fix


def test_missing_trigger_token_is_a_warning(setup: Setup) -> None:
    del setup.environ["TF_VAR_github_token"]
    checks = setup.run()
    assert failing(checks) == []
    (warn,) = by_id(checks, "aws.token_variable")
    assert warn.status == "warn" and "plans and make drift work" in warn.detail


# --- properties -------------------------------------------------------------------------------


class _Lambda:
    def __init__(self, total: int, unreserved: int, already: int | None) -> None:
        self.total, self.unreserved, self.already = total, unreserved, already

    def get_account_settings(self) -> dict[str, Any]:
        return {
            "AccountLimit": {
                "ConcurrentExecutions": self.total,
                "UnreservedConcurrentExecutions": self.unreserved,
            }
        }

    def get_function_concurrency(self, FunctionName: str) -> dict[str, Any]:
        assert FunctionName == "sagemaker-github-workflow-trigger"
        return {} if self.already is None else {"ReservedConcurrentExecutions": self.already}


def _env(reserved: int) -> Environment:
    data = copy.deepcopy(healthy_config())
    data["environments"][0]["platform"]["lambda"] = {"reserved_concurrency": reserved}
    return parse_config(data).environments[0]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=10, max_value=5000),
    spent=st.integers(min_value=0, max_value=5000),
    already=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
    reserved=st.integers(min_value=1, max_value=100),
)
def test_concurrency_verdict_matches_lambdas_rule(
    total: int, spent: int, already: int | None, reserved: int
) -> None:
    """Lambda keeps 100 unreserved: a reservation fits iff it is at most the unreserved
    concurrency (plus what the function already holds) minus 100."""
    unreserved = max(total - spent, 0)
    out = preflight.Collector("dev")
    fake = _Lambda(total, unreserved, already)
    preflight_aws._concurrency_check(out, _env(reserved), lambda service, region: fake)
    (check,) = out.checks
    fits = reserved <= unreserved + (already or 0) - 100
    assert check.status == ("ok" if fits else "fail")


def test_fails_without_working_aws_credentials(setup: Setup) -> None:
    from botocore.config import Config  # noqa: PLC0415

    moto_clients = setup.fakes.clients

    def clients(service: str, region: str) -> Any:
        if service != "sts":
            return moto_clients(service, region)
        return boto3.client(
            "sts",
            region_name=region,
            endpoint_url="http://127.0.0.1:9",  # nothing listens: like an unreachable endpoint
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2),
        )

    setup.fakes.clients = clients  # type: ignore[method-assign]
    checks = setup.run()
    aws_lines = [c for c in checks if c.check.startswith("aws.")]
    assert [(c.check, c.status) for c in aws_lines] == [("aws.credentials", "fail")]
    assert "do not work in eu-west-1" in aws_lines[0].detail
    assert "aws sso login" in aws_lines[0].fix


def _lambda_zip() -> bytes:
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _leftover_function(moto: MotoServer, tags: dict[str, str]) -> None:
    make = aws(moto)
    role = make("iam").get_role(RoleName="AmazonSageMaker-ExecutionRole-dev")["Role"]["Arn"]
    make("lambda").create_function(
        FunctionName="sagemaker-github-workflow-trigger",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _lambda_zip()},
        Tags=tags,
    )


def test_fails_when_the_trigger_function_name_is_taken(setup: Setup) -> None:
    _leftover_function(setup.fakes.moto, {"owner": "original-guide"})
    check = only_failure(
        setup.run(), "aws.name_taken", "function sagemaker-github-workflow-trigger", "not created"
    )
    assert "original guide" in check.fix


def test_trigger_function_of_an_earlier_apply_passes(setup: Setup) -> None:
    _leftover_function(setup.fakes.moto, {"managed-by": "sagemaker-github-mlops"})
    checks = setup.run()
    assert failing(checks) == []
    (fn,) = [c for c in by_id(checks, "aws.name_taken") if c.subject.startswith("function")]
    assert fn.detail == "exists, created by this toolkit"


def test_fails_when_the_log_group_name_is_taken(setup: Setup) -> None:
    aws(setup.fakes.moto)("logs").create_log_group(
        logGroupName="/aws/lambda/sagemaker-github-workflow-trigger"
    )
    only_failure(setup.run(), "aws.name_taken", "log group /aws/lambda/sagemaker-github")


def test_fails_when_the_secret_name_is_taken(setup: Setup) -> None:
    aws(setup.fakes.moto)("secretsmanager").create_secret(
        Name="sagemaker-github-token", SecretString="x"
    )
    check = only_failure(setup.run(), "aws.name_taken", "secret sagemaker-github-token")
    assert "token_secret.name" in check.fix


def test_fails_when_the_secret_is_scheduled_for_deletion(setup: Setup) -> None:
    sm = aws(setup.fakes.moto)("secretsmanager")
    sm.create_secret(
        Name="sagemaker-github-token",
        Tags=[{"Key": "managed-by", "Value": "sagemaker-github-mlops"}],
    )
    sm.delete_secret(SecretId="sagemaker-github-token", RecoveryWindowInDays=7)
    check = only_failure(setup.run(), "aws.name_taken", "scheduled for deletion")
    assert "restore-secret" in check.fix


def test_the_drift_policy_allows_every_aws_call_preflight_makes(
    setup: Setup, synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    """Preflight runs with the plan's identity: each AWS call it made on the healthy setup is
    an action of `make deployer-policy READ_ONLY=1` for the same config."""
    setup.run()
    policy = deployer_policy.policy_for_stack(
        synth_config(setup.config).stack("dev"), read_only=True
    )
    allowed = {a for s in policy["Statement"] for a in s["Action"]}
    # HeadBucket is authorized as s3:ListBucket (S3 API reference)
    called = {a.replace("s3:HeadBucket", "s3:ListBucket") for a in setup.fakes.actions}
    assert len(called) >= 10, called
    assert called <= allowed, sorted(called - allowed)


def test_fails_when_the_state_bucket_is_in_another_region(setup: Setup) -> None:
    aws(setup.fakes.moto)("s3").delete_bucket(Bucket=STATE_BUCKET)
    elsewhere = boto3.client(
        "s3",
        region_name="us-west-2",
        endpoint_url=setup.fakes.moto.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    elsewhere.create_bucket(
        Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    elsewhere.put_bucket_versioning(
        Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    check = only_failure(setup.run(), "aws.state_bucket", "in us-west-2", "uses region eu-west-1")
    assert check.fix == "set backend.region: us-west-2"


# --- issue 27: the principals the config names by ARN ----------------------------------------


def test_fails_when_the_deployer_arn_has_the_wrong_path(setup: Setup) -> None:
    iam = aws(setup.fakes.moto)("iam")
    iam.delete_role(RoleName="terraform-apply")
    iam.create_role(RoleName="terraform-apply", Path="/ci/", AssumeRolePolicyDocument="{}")
    check = only_failure(
        setup.run(), "aws.principal", "role/terraform-apply", "path /ci/", "fails at apply"
    )
    assert check.fix == (
        f"set platform.deployer_principal_arn to arn:aws:iam::{ACCOUNT}:role/ci/terraform-apply"
    )


def test_token_secret_readers_are_resolved(setup: Setup) -> None:
    iam = aws(setup.fakes.moto)("iam")
    iam.create_role(RoleName="ci-plan", Path="/automation/", AssumeRolePolicyDocument="{}")
    setup.config["environments"][0]["platform"]["token_secret"] = {
        "readers": [
            f"arn:aws:iam::{ACCOUNT}:role/automation/ci-plan",  # exact
            f"arn:aws:iam::{ACCOUNT}:role/missing-reader",
        ]
    }
    checks = by_id(setup.run(), "aws.principal")
    verdicts = {c.subject.split(" ")[2]: (c.status, c.detail) for c in checks}
    assert verdicts[f"arn:aws:iam::{ACCOUNT}:role/automation/ci-plan"][0] == "ok"
    status, detail = verdicts[f"arn:aws:iam::{ACCOUNT}:role/missing-reader"]
    assert (status, detail) == ("fail", "no role named 'missing-reader' exists")
    assert len(verdicts) == 3  # the two readers and platform.deployer_principal_arn


def test_a_deployer_user_is_resolved_with_get_user(setup: Setup) -> None:
    aws(setup.fakes.moto)("iam").create_user(UserName="deployer", Path="/people/")
    arn = f"arn:aws:iam::{ACCOUNT}:user/people/deployer"
    setup.config["environments"][0]["platform"]["deployer_principal_arn"] = arn
    (check,) = by_id(setup.run(), "aws.principal")
    assert check.status == "ok" and "GetUser" in setup.fakes.operations


def test_an_unreadable_principal_is_a_warning_naming_the_permission() -> None:
    """``make deployer-policy READ_ONLY=1`` grants iam:GetUser only where the stack has users."""

    class _Iam:
        def get_user(self, UserName: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetUser")

    data = healthy_config()
    data["environments"][0]["platform"]["deployer_principal_arn"] = (
        f"arn:aws:iam::{ACCOUNT}:user/deployer"
    )
    out = preflight.Collector("dev")
    principal_checks(out, parse_config(data).environments[0], _Iam())
    (check,) = out.checks
    assert (check.status, check.detail) == ("warn", "cannot be read (AccessDenied)")
    assert "allow iam:GetUser" in check.fix
