"""The seed deploy code promoting a home account's model to a stage account, against moto.

moto_server runs on 127.0.0.1 (tests/support/moto_server.py, started by this module). Each
account is reached the way the deploy job reaches its stage: ``sts:AssumeRole`` into a role of
that account (moto 5.2.5 answers with credentials that act in the role's account). The model
package is registered in the home account.

What moto cannot do, and how the test stands in for it (moto 5.2.5, notes/multi-account.md):
``DescribeModelPackage`` of another account's ARN looks in the caller's account only, and no
resource policy is evaluated. ``RegistryView`` therefore answers that one call from the home
account, which is what the model package group policy permits on AWS (proven at synth level in
tests/modules/render/test_product_template_promotion.py); every such call is recorded, and the
tests assert it is the only call that reaches the home account. ``DescribeProject`` is not
stubbed: in a stage account it must not be called at all.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from modules.render.seed.deploy import deploy as deploy_mod
from tests.support.moto_server import MotoServer, running_moto_server

REGION = "eu-west-1"
pytestmark = pytest.mark.slow  # starts moto_server

HOME = "111111111111"
STAGE = "333333333333"
OTHER = "444444444444"
PROJECT = "churn-model"
GROUP = f"{PROJECT}-p-abc123def456"
MODEL_ROLE = f"arn:aws:iam::{STAGE}:role/sagemaker-mlops/ml/{PROJECT}/production/model/m"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with running_moto_server(region=REGION) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    moto.reset()
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


def session(moto: MotoServer, account: str) -> boto3.Session:
    """Credentials acting in ``account`` (moto: AssumeRole into a role of that account)."""
    sts = boto3.client(
        "sts",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/deployer", RoleSessionName="deploy-test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def client(moto: MotoServer, account: str, service: str) -> Any:
    return session(moto, account).client(service, endpoint_url=moto.endpoint_url)


def register(moto: MotoServer, account: str = HOME, group: str = GROUP) -> str:
    sagemaker = client(moto, account, "sagemaker")
    try:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    except sagemaker.exceptions.ClientError as error:
        assert "already exists" in str(error)
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": f"{HOME}.dkr.ecr.{REGION}.amazonaws.com/xgb:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def queue_predictions(moto: MotoServer, account: str, *bodies: str) -> None:
    payload = {
        "account_id": account,
        "region": REGION,
        "results": [
            {
                "Body": body,
                "ContentType": "text/csv",
                "InvokedProductionVariant": "AllTraffic",
                "CustomAttributes": "",
            }
            for body in bodies
        ],
    }
    request = urllib.request.Request(
        f"{moto.endpoint_url}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


@dataclass
class RegistryView:
    """The stage account's SageMaker client; ``DescribeModelPackage`` of a home ARN is answered
    from the home account (see module doc). ``DescribeProject`` fails the test."""

    stage: Any
    home: Any
    home_calls: list[str] = field(default_factory=list)

    def describe_model_package(self, *, ModelPackageName: str) -> Any:
        if f":{HOME}:" in ModelPackageName:
            self.home_calls.append(ModelPackageName)
            return self.home.describe_model_package(ModelPackageName=ModelPackageName)
        return self.stage.describe_model_package(ModelPackageName=ModelPackageName)

    def describe_project(self, **_: Any) -> Any:
        raise AssertionError("DescribeProject called in a stage account")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stage, name)


def factory(moto: MotoServer, view: RegistryView) -> Any:
    def make(service: str, region: str) -> Any:
        assert region == REGION
        if service == "sagemaker":
            return view
        return client(moto, STAGE, service)

    return make


def argv(arn: str, *extra: str) -> list[str]:
    return [
        "--region",
        REGION,
        "--project-name",
        PROJECT,
        "--role-arn",
        MODEL_ROLE,
        "--model-package-arn",
        arn,
        "--stage",
        "production",
        "--registry-account",
        HOME,
        "--poll-seconds",
        "0",
        *extra,
    ]


def tags(sagemaker: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}


@pytest.fixture
def view(moto: MotoServer) -> RegistryView:
    return RegistryView(
        stage=client(moto, STAGE, "sagemaker"), home=client(moto, HOME, "sagemaker")
    )


SCALING = (
    "--instance-type",
    "ml.c5.xlarge",
    "--instance-count",
    "2",
    "--min-instances",
    "2",
    "--max-instances",
    "4",
    "--target-invocations",
    "500",
    "--data-capture-percent",
    "10",
    "--data-capture-bucket",
    "sagemaker-mlops-capture-ml-production-abc",
)


def test_promotes_the_home_package_into_the_stage_account(
    moto: MotoServer, view: RegistryView, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register(moto)
    queue_predictions(moto, STAGE, "0.25")
    assert deploy_mod.main(argv(arn, *SCALING), client_factory=factory(moto, view)) == 0

    stage = client(moto, STAGE, "sagemaker")
    endpoint = stage.describe_endpoint(EndpointName=f"{PROJECT}-production")
    assert endpoint["EndpointArn"].split(":")[4] == STAGE
    config = stage.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)
    capture = config["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 10
    assert capture["DestinationS3Uri"] == (
        f"s3://sagemaker-mlops-capture-ml-production-abc/{PROJECT}-production/data-capture"
    )
    model = stage.describe_model(ModelName=variant["ModelName"])
    assert model["ExecutionRoleArn"] == MODEL_ROLE  # the stage's model role is passed
    assert model["PrimaryContainer"]["ModelPackageName"] == arn  # referenced, not copied
    expected = {
        "sagemaker:project-name": PROJECT,
        "sagemaker:deployment-stage": "production",
        "mlops:model-package-arn": arn,
    }
    for resource in (endpoint["EndpointArn"], config["EndpointConfigArn"], model["ModelArn"]):
        assert tags(stage, resource) == expected, resource
    scaling = client(moto, STAGE, "application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert target["ResourceId"] == f"endpoint/{PROJECT}-production/variant/AllTraffic"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 4)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 500.0
    # nothing of this lives in the home account; the only home call is the registry read
    home = client(moto, HOME, "sagemaker")
    assert home.list_endpoints()["Endpoints"] == []
    assert home.list_models()["Models"] == []
    assert view.home_calls == [arn]
    out = capsys.readouterr().out
    assert f"account {STAGE}: stage account of registry {HOME}" in out


def test_refuses_a_package_of_another_account(
    moto: MotoServer, view: RegistryView, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = register(moto, account=OTHER)
    assert deploy_mod.main(argv(foreign), client_factory=factory(moto, view)) == 1
    out = capsys.readouterr().out
    assert f"the package belongs to account {OTHER}, not to the model registry's account" in out
    assert view.home_calls == []
    assert client(moto, STAGE, "sagemaker").list_models()["Models"] == []


def test_refuses_a_package_of_another_projects_group(
    moto: MotoServer, view: RegistryView, capsys: pytest.CaptureFixture[str]
) -> None:
    other = register(moto, group="fraud-model-p-abc123def456")
    assert deploy_mod.main(argv(other), client_factory=factory(moto, view)) == 1
    assert "not of a group of project churn-model" in capsys.readouterr().out
    expected = register(moto)
    assert (
        deploy_mod.main(
            argv(expected, "--model-package-group", "churn-model-p-000000000000"),
            client_factory=factory(moto, view),
        )
        == 1
    )
    assert "not of this project's group 'churn-model-p-000000000000'" in capsys.readouterr().out
    assert client(moto, STAGE, "sagemaker").list_models()["Models"] == []


def test_redispatch_is_idempotent(
    moto: MotoServer, view: RegistryView, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register(moto)
    queue_predictions(moto, STAGE, "0.25")
    assert deploy_mod.main(argv(arn, *SCALING), client_factory=factory(moto, view)) == 0
    stage = client(moto, STAGE, "sagemaker")
    before = stage.describe_endpoint(EndpointName=f"{PROJECT}-production")
    capsys.readouterr()
    assert deploy_mod.main(argv(arn, *SCALING), client_factory=factory(moto, view)) == 0
    after = stage.describe_endpoint(EndpointName=f"{PROJECT}-production")
    assert after["LastModifiedTime"] == before["LastModifiedTime"]
    assert "nothing to deploy" in capsys.readouterr().out
    assert len(stage.list_models()["Models"]) == 1
    assert len(stage.list_endpoint_configs()["EndpointConfigs"]) == 1


def test_undeploy_removes_exactly_what_deploy_made(
    moto: MotoServer, view: RegistryView, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = register(moto)
    queue_predictions(moto, STAGE, "0.25")
    assert deploy_mod.main(argv(arn, *SCALING), client_factory=factory(moto, view)) == 0
    stage = client(moto, STAGE, "sagemaker")
    # things deploy did not make: a look-alike without our tags, another stage's model
    stage.create_model(
        ModelName=f"{PROJECT}-production-0000000000",
        ExecutionRoleArn=MODEL_ROLE,
        PrimaryContainer={"Image": "x"},
    )
    stage.create_model(
        ModelName=f"{PROJECT}-staging-1111111111",
        ExecutionRoleArn=MODEL_ROLE,
        PrimaryContainer={"Image": "x"},
        Tags=[
            {"Key": "sagemaker:project-name", "Value": PROJECT},
            {"Key": "sagemaker:deployment-stage", "Value": "staging"},
        ],
    )
    made = {
        *(m["ModelName"] for m in stage.list_models()["Models"]),
        *(c["EndpointConfigName"] for c in stage.list_endpoint_configs()["EndpointConfigs"]),
    }
    capsys.readouterr()

    undeploy = [
        "--region",
        REGION,
        "--project-name",
        PROJECT,
        "--stage",
        "production",
        "--undeploy",
        "--poll-seconds",
        "0",
    ]
    assert deploy_mod.main(undeploy, client_factory=factory(moto, view)) == 0

    out = capsys.readouterr().out
    assert "undeployed production: 3 resource(s) deleted" in out
    assert stage.list_endpoints()["Endpoints"] == []
    left = {
        *(m["ModelName"] for m in stage.list_models()["Models"]),
        *(c["EndpointConfigName"] for c in stage.list_endpoint_configs()["EndpointConfigs"]),
    }
    assert left == {f"{PROJECT}-production-0000000000", f"{PROJECT}-staging-1111111111"}
    assert made - left and not (left - made)
    scaling = client(moto, STAGE, "application-autoscaling")
    assert scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    # a second run finds nothing more to delete
    assert deploy_mod.main(undeploy, client_factory=factory(moto, view)) == 0
    assert "0 resource(s) deleted" in capsys.readouterr().out


def test_undeploy_refuses_an_endpoint_it_did_not_make(
    moto: MotoServer, view: RegistryView, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = client(moto, STAGE, "sagemaker")
    stage.create_model(ModelName="m", ExecutionRoleArn=MODEL_ROLE, PrimaryContainer={"Image": "x"})
    stage.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    stage.create_endpoint(EndpointName=f"{PROJECT}-production", EndpointConfigName="c")
    args = ["--region", REGION, "--project-name", PROJECT, "--stage", "production", "--undeploy"]
    assert deploy_mod.main(args, client_factory=factory(moto, view)) == 1
    assert "was not made by deploy" in capsys.readouterr().out
    assert len(stage.list_endpoints()["Endpoints"]) == 1
