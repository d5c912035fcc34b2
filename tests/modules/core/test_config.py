"""Every configuration error names the field and the fix; good configs become frozen models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from modules.core.config import ConfigError, load_config, parse_config
from tests.conftest import EXAMPLE_CONFIG

CONN = "arn:aws:codeconnections:{region}:{account}:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    return list(info.value.problems)


def one_problem(data: dict[str, Any]) -> str:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def test_example_config_is_valid_and_frozen() -> None:
    config = load_config(EXAMPLE_CONFIG)
    assert [e.name for e in config.environments] == ["dev", "prod", "forecast"]
    dev = config.environments[0]
    assert len(dev.projects) >= 2
    assert dev.github_owners == ("acme-ml", "acme-risk")
    assert dev.projects[1].connection_unique_id == "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    with pytest.raises(pydantic.ValidationError):
        dev.region = "us-west-2"  # type: ignore[misc]


def test_defaults_are_documented_behaviour(example: dict[str, Any]) -> None:
    env = example["environments"][0]
    env["platform"] = {
        "studio_execution_role_arns": env["platform"]["studio_execution_role_arns"],
        # the plan writes the token by default, so the principal reading it back is named
        "deployer_principal_arn": env["platform"]["deployer_principal_arn"],
    }
    del env["backend"]
    config = parse_config(example)
    assert config.environments[0].platform.token_secret.value_from_variable is True
    platform = config.environments[0].platform
    assert platform.auth_mode == "oidc"
    assert platform.token_secret.name == "sagemaker-github-token"
    assert platform.token_secret.readers == ()
    assert platform.pipeline_role == "per_project"
    assert platform.trigger_lambda.runtime == "python3.12"
    assert platform.trigger_lambda.architecture == "arm64"
    assert config.environments[0].backend.type == "local"
    assert config.environments[0].projects[0].create_sagemaker_project is True


def test_fails_on_unknown_key(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["githubb"] = {}
    msg = one_problem(example)
    assert msg.startswith("environments[0].projects[0].githubb: unknown key")
    assert "allowed keys here: name, github, code_connection" in msg


def test_fails_on_wrong_type(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["lambda"]["reserved_concurrency"] = "five"
    msg = one_problem(example)
    assert msg == (
        "environments[0].platform.lambda.reserved_concurrency: expected a whole number, "
        "got 'five' (str)"
    )


def test_fails_on_unquoted_account_id(example: dict[str, Any]) -> None:
    example["environments"][0]["account_id"] = 111111111111
    assert "quote the account id" in one_problem(example)


@pytest.mark.parametrize("name", ["churn_model", "-churn", "churn-", "x" * 33, "churn model"])
def test_fails_on_project_name_sagemaker_rejects(example: dict[str, Any], name: str) -> None:
    example["environments"][0]["projects"][0]["name"] = name
    msg = one_problem(example)
    assert msg.startswith("environments[0].projects[0].name: ")
    assert "not a name SageMaker accepts" in msg and "1-32 letters, digits and hyphens" in msg


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("platform", "studio_execution_role_arns"),
            ["arn:aws:iam::1111:role/x"],
            "not an IAM role ARN",
        ),
        (
            ("projects", 0, "code_connection"),
            "arn:aws:codeconnections:eu-west-1:1:connection/x",
            "neither 'create' nor a CodeConnection ARN",
        ),
        (
            ("platform", "oidc_provider_arn"),
            "arn:aws:iam::111111111111:oidc-provider/example.com",
            "not a GitHub OIDC provider ARN",
        ),
        (
            ("platform", "token_secret", "readers"),
            ["arn:aws:iam::111111111111:user/ci"],
            "not an IAM role ARN",
        ),
    ],
)
def test_fails_on_malformed_arn(
    example: dict[str, Any], path: tuple[Any, ...], value: Any, expected: str
) -> None:
    node: Any = example["environments"][0]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    msg = one_problem(example)
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    assert msg.startswith(f"environments[0]{dotted}: ")
    assert expected in msg


def test_fails_on_duplicate_project_names(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][1]["name"] = "Churn-Model"
    msg = one_problem(example)
    assert msg.startswith(
        "environments[0].projects[1].name: 'Churn-Model' is already used by projects[0]"
    )
    assert "rename one" in msg


def test_fails_on_connection_in_another_region(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][1]["code_connection"] = CONN.format(
        region="us-east-1", account="111111111111"
    )
    msg = one_problem(example)
    assert msg.startswith(
        "environments[0].projects[1].code_connection: the connection is in region 'us-east-1'"
    )
    assert "'eu-west-1'" in msg and "use 'create'" in msg


def test_fails_on_connection_in_another_account(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][1]["code_connection"] = CONN.format(
        region="eu-west-1", account="999999999999"
    )
    assert "belongs to account 999999999999" in one_problem(example)


def test_fails_on_absolute_local_state_path(example: dict[str, Any]) -> None:
    example["environments"][0]["backend"] = {"type": "local", "path": "/var/state/x.tfstate"}
    msg = one_problem(example)
    assert msg.startswith("environments[0].backend.path: '/var/state/x.tfstate' is absolute")


def test_fails_on_unknown_backend_type(example: dict[str, Any]) -> None:
    example["environments"][0]["backend"] = {"type": "gcs"}
    msg = one_problem(example)
    assert msg == (
        "environments[0].backend.type: 'gcs' is not a backend type; "
        "use one of 'local', 's3', 'cloud'"
    )


def test_fails_on_invalid_auth_mode(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["auth_mode"] = "password"
    assert one_problem(example) == (
        "environments[0].platform.auth_mode: 'password' is not allowed; "
        "use one of 'oidc' or 'access_keys'"
    )


def test_fails_on_two_environments_in_one_account_and_region(example: dict[str, Any]) -> None:
    example["environments"][1]["account_id"] = "111111111111"
    example["environments"][1]["region"] = "eu-west-1"
    example["environments"][1]["platform"]["studio_execution_role_arns"] = [
        "arn:aws:iam::111111111111:role/x"
    ]
    example["environments"][1]["platform"]["deployer_principal_arn"] = (
        "arn:aws:iam::111111111111:role/terraform-apply"
    )
    # Both conflicts in one run: the place, and the project name it now shares.
    place, project = problems(example)
    assert "account 111111111111 region eu-west-1 is already environments[0]" in place
    assert project.startswith("environments[1].projects[0].name: 'churn-model' is also")


def test_fails_on_second_oidc_provider_in_one_account(example: dict[str, Any]) -> None:
    prod = example["environments"][1]
    prod["account_id"] = "111111111111"
    prod["platform"]["auth_mode"] = "oidc"
    prod["platform"]["studio_execution_role_arns"] = ["arn:aws:iam::111111111111:role/x"]
    prod["platform"]["deployer_principal_arn"] = "arn:aws:iam::111111111111:role/terraform-apply"
    msg = one_problem(example)
    assert msg.startswith(
        "environments[1].platform.oidc_provider_arn: environments[0] already creates"
    )


def test_fails_on_empty_project_list(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"] = []
    assert (
        one_problem(example)
        == "environments[0].projects: the list is empty; give at least one entry"
    )


def test_fails_on_missing_required_field(example: dict[str, Any]) -> None:
    del example["environments"][0]["projects"][0]["github"]["owner"]
    assert (
        one_problem(example)
        == "environments[0].projects[0].github.owner: required but missing; add it"
    )


def test_lists_every_problem_at_once(example: dict[str, Any]) -> None:
    example["environments"][0]["region"] = "europe"
    example["environments"][0]["projects"][0]["github"]["repository"] = "acme/churn"
    found = problems(example)
    assert any(p.startswith("environments[0].region: 'europe'") for p in found)
    assert any(p.startswith("environments[0].projects[0].github.repository:") for p in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("environments: [\n  - name: dev\n", "not valid YAML"),
        ("environments:\n  - name: a\n    name: b\n", "duplicate key 'name'"),
        ("- just a list\n", "expected a mapping with an 'environments' list"),
    ],
)
def test_fails_on_unreadable_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_fails_on_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_error_text_is_one_line_per_problem(example: dict[str, Any]) -> None:
    example["environments"][0]["region"] = "europe"
    with pytest.raises(ConfigError) as info:
        parse_config(example, "cfg.yaml")
    text = str(info.value)
    assert text.splitlines()[0] == "cfg.yaml: 1 problem in the configuration:"
    assert text.splitlines()[1].startswith("  - environments[0].region:")


def test_yaml_round_trip_keeps_example_loadable() -> None:
    data: Callable[[], Any] = lambda: yaml.safe_load(EXAMPLE_CONFIG.read_text())  # noqa: E731
    assert parse_config(data()) == parse_config(data())


def test_fails_without_production_reviewers(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["production_reviewers"] = {}
    msg = one_problem(example)
    assert msg.startswith("environments[0].projects[0].production_reviewers: name at least one")


@pytest.mark.parametrize(
    ("alarms", "message"),
    [
        ({"sns_topic_arn": "arn:aws:sqs:eu-west-1:111111111111:q"}, "is not an SNS topic ARN"),
        ({"emails": ["not-an-address"]}, "is not an e-mail address"),
        ({"emails": ["a@acme.example", "a@acme.example"]}, "an address is listed twice"),
    ],
)
def test_fails_bad_alarm_notifications(alarms: dict[str, object], message: str) -> None:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["environments"][0]["platform"]["alarms"] = alarms
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    assert message in str(raised.value)
    assert "environments[0].platform.alarms" in str(raised.value)


def test_fails_when_the_plan_writes_the_token_but_nobody_may_read_it_back() -> None:
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    platform = data["environments"][0]["platform"]
    platform.pop("deployer_principal_arn")
    platform.setdefault("token_secret", {})["value_from_variable"] = True
    for project in data["environments"][0]["projects"]:  # no portfolio access needed
        project["create_sagemaker_project"] = False
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    text = str(raised.value)
    assert "environments[0].platform: deployer_principal_arn: required while token_secret" in text
    assert "token_secret.readers" in text
    # naming a reader instead is enough
    platform["token_secret"]["readers"] = ["arn:aws:iam::111111111111:role/ci/terraform"]
    parse_config(data)


def test_connection_parts_are_none_for_a_connection_to_create() -> None:
    dev = load_config(EXAMPLE_CONFIG).environments[0]
    created, existing = dev.projects[0], dev.projects[1]
    assert created.code_connection == "create"
    assert created.connection_region is None
    assert created.connection_account is None
    assert created.connection_unique_id is None
    assert existing.connection_region == "eu-west-1"
    assert existing.connection_account == "111111111111"
    assert existing.connection_unique_id == "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
