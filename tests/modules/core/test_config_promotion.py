"""Config: ``promotion`` (stage accounts) and per-stage endpoint settings."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml

from modules.core.config import ConfigError, parse_config
from modules.core.config.promotion import DataCapture, Serverless, sagemaker_instance_types
from tests.conftest import ROOT

HOME = "111111111111"
STAGING = "222222222222"
PRODUCTION = "333333333333"


def stage(account: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_id": account,
        "deployer_role_arn": f"arn:aws:iam::{account}:role/terraform-apply",
        **extra,
    }


def config(**environment: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "name": "ml",
        "account_id": HOME,
        "region": "eu-west-1",
        "platform": {
            "auth_mode": "oidc",
            "studio_execution_role_arns": [f"arn:aws:iam::{HOME}:role/studio"],
            "deployer_principal_arn": f"arn:aws:iam::{HOME}:role/terraform-apply",
        },
        "projects": [
            {
                "name": "churn-model",
                "github": {"owner": "acme-ml", "repository": "churn-model"},
                "production_reviewers": {"teams": ["ml-leads"]},
            }
        ],
        "promotion": {"staging": stage(STAGING), "production": stage(PRODUCTION)},
    }
    env.update(environment)
    return {"environments": [env]}


def one_problem(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    (problem,) = info.value.problems
    return problem


def test_three_accounts_parse_with_home_and_stages() -> None:
    env = parse_config(config()).environments[0]
    assert env.promotion is not None
    assert {s: a.account_id for s, a in env.promotion.stages().items()} == {
        "staging": STAGING,
        "production": PRODUCTION,
    }
    assert list(env.promotion.stages()) == ["staging", "production"]
    assert env.stage_account("production") is not None
    assert env.endpoint_settings("production") is None  # the deploy code's defaults


def test_staging_is_optional_and_then_deploys_at_home() -> None:
    data = config(promotion={"production": stage(PRODUCTION)})
    env = parse_config(data).environments[0]
    assert env.stage_account("staging") is None
    assert env.stage_account("production") is not None


def test_fails_without_production() -> None:
    msg = one_problem(config(promotion={"staging": stage(STAGING)}))
    assert msg.startswith("environments[0].promotion.production:")
    assert "required" in msg.lower()


def test_fails_on_a_stage_in_the_home_account() -> None:
    msg = one_problem(config(promotion={"production": stage(HOME)}))
    assert "promotion.production.account_id: 111111111111 is this environment's own" in msg
    assert "give another account" in msg


def test_fails_on_two_stages_in_one_account() -> None:
    msg = one_problem(
        config(promotion={"staging": stage(PRODUCTION), "production": stage(PRODUCTION)})
    )
    assert msg.startswith("environments[0].promotion:")
    assert "both account 333333333333" in msg


def test_fails_on_a_stage_region() -> None:
    """The stage region is the home region: there is no field to set another."""
    msg = one_problem(config(promotion={"production": stage(PRODUCTION, region="us-east-1")}))
    assert msg.startswith("environments[0].promotion.production.region:")


def test_fails_with_access_keys() -> None:
    data = config()
    data["environments"][0]["platform"]["auth_mode"] = "access_keys"
    msg = one_problem(data)
    assert "set platform.auth_mode: oidc" in msg


def test_fails_on_a_deployer_role_of_another_account() -> None:
    bad = stage(PRODUCTION, deployer_role_arn=f"arn:aws:iam::{STAGING}:role/terraform-apply")
    msg = one_problem(config(promotion={"production": bad}))
    assert "deployer_role_arn: 'arn:aws:iam::222222222222:role/terraform-apply' belongs to" in msg


def test_fails_on_an_unquoted_account() -> None:
    msg = one_problem(config(promotion={"production": stage(PRODUCTION) | {"account_id": 3}}))
    assert "promotion.production.account_id" in msg and "quote the account id" in msg


def test_a_stage_that_reuses_its_provider_does_not_hide_the_next_stage() -> None:
    """environments[1] reuses staging's provider but would create production's again: one
    problem, naming environments[0] (whose production stage creates it) and the ARN to use."""
    data = config()
    other = copy.deepcopy(data["environments"][0])
    other.update(name="other", account_id="444444444444")
    other["platform"]["studio_execution_role_arns"] = ["arn:aws:iam::444444444444:role/studio"]
    other["platform"]["deployer_principal_arn"] = "arn:aws:iam::444444444444:role/terraform-apply"
    other["projects"][0]["github"]["branch"] = "release"
    other["promotion"]["staging"]["oidc_provider_arn"] = (
        f"arn:aws:iam::{STAGING}:oidc-provider/token.actions.githubusercontent.com"
    )
    data["environments"].append(other)
    assert one_problem(data) == (
        "environments[1].promotion.production.oidc_provider_arn: environments[0] already "
        "creates the GitHub OIDC provider of account 333333333333 (an account holds only one); "
        "set oidc_provider_arn here to "
        "'arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com' to reuse it"
    )


def test_fails_on_an_oidc_provider_created_twice_in_one_account() -> None:
    data = config()
    other = copy.deepcopy(data["environments"][0])
    other.update(name="other", account_id="444444444444")
    other["platform"]["studio_execution_role_arns"] = ["arn:aws:iam::444444444444:role/studio"]
    other["platform"]["deployer_principal_arn"] = "arn:aws:iam::444444444444:role/terraform-apply"
    other["projects"][0]["github"]["branch"] = "release"
    data["environments"].append(other)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    staging, production = info.value.problems  # every problem is reported in one run
    assert staging.startswith("environments[1].promotion.staging.oidc_provider_arn:")
    assert "already creates the GitHub OIDC provider of account 222222222222" in staging
    assert production.startswith("environments[1].promotion.production.oidc_provider_arn:")
    other["promotion"]["staging"]["oidc_provider_arn"] = (
        f"arn:aws:iam::{STAGING}:oidc-provider/token.actions.githubusercontent.com"
    )
    other["promotion"]["production"]["oidc_provider_arn"] = (
        f"arn:aws:iam::{PRODUCTION}:oidc-provider/token.actions.githubusercontent.com"
    )
    parse_config(data)


# --- endpoint settings -----------------------------------------------------------------------


def test_endpoint_settings_per_stage_account() -> None:
    endpoint = {
        "instance_type": "ml.c5.xlarge",
        "instance_count": 2,
        "autoscaling": {
            "min_instances": 2,
            "max_instances": 6,
            "target_invocations_per_instance": 750,
        },
        "data_capture": {"sampling_percentage": 20, "s3_prefix": "capture/churn"},
    }
    data = config(promotion={"production": stage(PRODUCTION, endpoint=endpoint)})
    settings = parse_config(data).environments[0].endpoint_settings("production")
    assert settings is not None and settings.autoscaling is not None
    assert (settings.instance_type, settings.instance_count) == ("ml.c5.xlarge", 2)
    assert settings.autoscaling.target_invocations_per_instance == 750
    assert settings.data_capture is not None and settings.data_capture.sampling_percentage == 20


def test_endpoint_settings_apply_to_single_account_environments() -> None:
    data = config(endpoints={"staging": {"serverless": {"memory_mb": 2048, "max_concurrency": 5}}})
    del data["environments"][0]["promotion"]
    env = parse_config(data).environments[0]
    settings = env.endpoint_settings("staging")
    assert settings is not None and settings.serverless is not None
    assert settings.serverless.memory_mb == 2048
    assert env.endpoint_settings("production") is None


def test_fails_on_home_endpoint_settings_of_a_stage_in_another_account() -> None:
    msg = one_problem(config(endpoints={"production": {"instance_count": 2}}))
    assert msg.startswith("environments[0]: endpoints.production:")
    assert "move these settings to promotion.production.endpoint" in msg


@pytest.mark.parametrize(
    ("endpoint", "field", "fix"),
    [
        ({"instance_type": "ml.m5.huge"}, "instance_type", "e.g. 'ml.m5.large'"),
        ({"instance_type": "m5.large"}, "instance_type", "e.g. 'ml.m5.large'"),
        ({"instance_count": 0}, "instance_count", "greater than or equal to 1"),
        (
            {
                "autoscaling": {
                    "min_instances": 3,
                    "max_instances": 2,
                    "target_invocations_per_instance": 10,
                }
            },
            "autoscaling",
            "give max_instances >= min_instances",
        ),
        (
            {
                "instance_count": 5,
                "autoscaling": {
                    "min_instances": 1,
                    "max_instances": 2,
                    "target_invocations_per_instance": 10,
                },
            },
            "",
            "give a count within the range",
        ),
        (
            {"data_capture": {"sampling_percentage": 101}},
            "data_capture.sampling_percentage",
            "less than or equal to 100",
        ),
        (
            {"data_capture": {"sampling_percentage": 5, "s3_prefix": "/abs"}},
            "data_capture.s3_prefix",
            "not starting with '/'",
        ),
        (
            {"data_capture": {"sampling_percentage": 5, "s3_prefix": "a/../b"}},
            "data_capture.s3_prefix",
            "without '..'",
        ),
        ({"serverless": {"memory_mb": 1000, "max_concurrency": 1}}, "serverless.memory_mb", "1024"),
        (
            {"serverless": {"memory_mb": 1024, "max_concurrency": 201}},
            "serverless.max_concurrency",
            "less than or equal to 200",
        ),
        (
            {
                "instance_type": "ml.m5.large",
                "serverless": {"memory_mb": 1024, "max_concurrency": 1},
            },
            "",
            "remove one or the other",
        ),
    ],
)
def test_fails_on_bad_endpoint_settings(endpoint: dict[str, Any], field: str, fix: str) -> None:
    data = config(promotion={"production": stage(PRODUCTION, endpoint=endpoint)})
    msg = one_problem(data)
    where = "environments[0].promotion.production.endpoint"
    assert msg.startswith(f"{where}.{field}:" if field else f"{where}:"), msg
    assert fix in msg, msg


def test_instance_types_are_sagemakers_own() -> None:
    """The accepted instance types are exactly botocore's ProductionVariantInstanceType enum
    (botocore/data/sagemaker/2017-07-24/service-2.json of the pinned boto3)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    enum = set(model.shape_for("ProductionVariantInstanceType").enum)
    assert sagemaker_instance_types() == enum
    assert {"ml.m5.large", "ml.g5.xlarge"} <= enum


def test_serverless_limits_are_sagemakers_own() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    serverless = model.shape_for("ProductionVariant").members["ServerlessConfig"].members
    memory = serverless["MemorySizeInMB"].metadata
    concurrency = serverless["MaxConcurrency"].metadata
    sampling = model.shape_for("DataCaptureConfig").members["InitialSamplingPercentage"].metadata
    mem_choices = Serverless.model_json_schema()["properties"]["memory_mb"]["enum"]
    assert (min(mem_choices), max(mem_choices)) == (memory["min"], memory["max"])
    conc = Serverless.model_json_schema()["properties"]["max_concurrency"]
    assert (conc["minimum"], conc["maximum"]) == (concurrency["min"], concurrency["max"])
    pct = DataCapture.model_json_schema()["properties"]["sampling_percentage"]
    assert (pct["minimum"], pct["maximum"]) == (sampling["min"], sampling["max"])


def test_bad_promotion_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config(promotion={"staging": stage(STAGING)})))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(path), "--outdir", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert "promotion.production" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_an_autoscaled_endpoint_without_a_count_starts_at_its_minimum() -> None:
    endpoint = {
        "autoscaling": {
            "min_instances": 3,
            "max_instances": 5,
            "target_invocations_per_instance": 9,
        }
    }
    data = config(promotion={"production": stage(PRODUCTION, endpoint=endpoint)})
    settings = parse_config(data).environments[0].endpoint_settings("production")
    assert settings is not None and settings.instance_count == 3
