"""Issue 27 item 7: a plan that creates SageMaker projects needs a principal with portfolio access.

SageMaker's CreateProject provisions the product through Service Catalog as the caller, and
Service Catalog lets only principals associated with the portfolio launch its products
(``ServicecatalogPrincipalPortfolioAssociation``). The only association the plan can make for
the principal running it is ``platform.deployer_principal_arn`` (never derived from the caller,
docs/service-catalog.md), so a config that creates projects without it is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.core.config import ConfigError, parse_config
from tests.conftest import run_main


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    return list(info.value.problems)


def test_fails_when_projects_are_created_without_a_deployer(example: dict[str, Any]) -> None:
    prod = example["environments"][1]
    del prod["platform"]["deployer_principal_arn"]
    assert prod["projects"][0].get("create_sagemaker_project", True) is True
    assert _problems(example) == [
        "environments[1].platform.deployer_principal_arn: required because projects[0] "
        "('churn-model') has create_sagemaker_project: true, and only a principal associated "
        "with the portfolio can create it from the product; give the IAM role (or user) that "
        "runs applies, e.g. 'arn:aws:iam::222222222222:role/terraform-apply', or set "
        "create_sagemaker_project: false and create the project in Studio"
    ]


def test_names_the_first_project_that_is_created(example: dict[str, Any]) -> None:
    dev = example["environments"][0]
    # dev writes the token: keep a reader so only the portfolio check speaks
    dev["platform"]["token_secret"]["readers"] = ["arn:aws:iam::111111111111:role/ci"]
    del dev["platform"]["deployer_principal_arn"]
    dev["projects"][0]["create_sagemaker_project"] = False
    (problem,) = _problems(example)
    assert problem.startswith(
        "environments[0].platform.deployer_principal_arn: required because projects[1] "
        "('fraud-detection')"
    )


def test_no_deployer_needed_when_no_project_is_created(example: dict[str, Any]) -> None:
    prod = example["environments"][1]
    del prod["platform"]["deployer_principal_arn"]
    prod["projects"][0]["create_sagemaker_project"] = False
    config = parse_config(example)
    assert config.environments[1].platform.deployer_principal_arn is None


def test_the_example_gives_every_creating_environment_a_deployer(example: dict[str, Any]) -> None:
    config = parse_config(example)
    for env in config.environments:
        if any(p.create_sagemaker_project for p in env.projects):
            deployer = env.platform.deployer_principal_arn
            assert deployer is not None and f":{env.account_id}:" in deployer, env.name


def test_the_cli_exits_2_and_writes_nothing(example: dict[str, Any], tmp_path: Path) -> None:
    del example["environments"][1]["platform"]["deployer_principal_arn"]
    config = tmp_path / "mlops.yaml"
    config.write_text(yaml.safe_dump(example), encoding="utf-8")
    outdir = tmp_path / "out"
    result = run_main(config, outdir)
    assert result.returncode == 2
    assert "platform.deployer_principal_arn: required because projects[0]" in result.stderr
    assert not outdir.exists()
