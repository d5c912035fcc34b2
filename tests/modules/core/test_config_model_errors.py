"""What a program validating with the models directly (not through parse_config) gets: one
pydantic error per refusal, whose type says which check refused, and a cross-field check's
problems in one error (loading.py turns them into the lines of a ConfigError); and the text of
a ConfigError listing several problems."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from modules.core.config import ConfigError
from modules.core.config.backends import S3Backend
from modules.core.config.environments import Environment
from tests.conftest import example_data


def _errors(model: type[pydantic.BaseModel], data: dict[str, Any]) -> list[Any]:
    with pytest.raises(pydantic.ValidationError) as raised:
        model.model_validate_json(json.dumps(data))
    return list(raised.value.errors(include_url=False))


def _dev() -> dict[str, Any]:
    env: dict[str, Any] = example_data()["environments"][0]
    return env


def test_two_cross_field_problems_are_one_error_counting_them() -> None:
    env = _dev()
    env["platform"]["permissions_boundary_arn"] = "arn:aws:iam::999999999999:policy/b"
    env["platform"]["alarms"] = {"sns_topic_arn": "arn:aws:sns:eu-west-1:999999999999:a"}
    (error,) = _errors(Environment, env)
    assert error["type"] == "several_problems"
    assert error["msg"] == "2 problems"
    assert error["ctx"] == {
        "count": 2,
        "problems": (
            "platform.permissions_boundary_arn: 'arn:aws:iam::999999999999:policy/b' belongs to "
            "account 999999999999, not 111111111111; a permissions boundary is a managed policy "
            "of this account (or an AWS managed policy)",
            "platform.alarms.sns_topic_arn: 'arn:aws:sns:eu-west-1:999999999999:a' is in region "
            "eu-west-1, account 999999999999, but this environment is region eu-west-1, account "
            "111111111111; CloudWatch alarms notify a topic of their own region and the toolkit "
            "grants nothing on another account's topic: give a topic of this account and "
            "region, or list emails instead",
        ),
    }


def test_one_cross_field_problem_is_the_message_itself() -> None:
    env = _dev()
    env["platform"]["permissions_boundary_arn"] = "arn:aws:iam::999999999999:policy/b"
    (error,) = _errors(Environment, env)
    assert error["type"] == "several_problems"
    assert error["msg"] == (
        "platform.permissions_boundary_arn: 'arn:aws:iam::999999999999:policy/b' belongs to "
        "account 999999999999, not 111111111111; a permissions boundary is a managed policy of "
        "this account (or an AWS managed policy)"
    )


def test_an_unknown_region_is_a_bad_region_error() -> None:
    env = _dev()
    env["region"] = "eu-centrl-1"
    (error,) = _errors(Environment, env)
    assert (error["loc"], error["type"]) == (("region",), "bad_region")
    assert error["msg"] == (
        "'eu-centrl-1' is not an AWS region of the aws, aws-cn or aws-us-gov partitions (did "
        "you mean 'eu-central-1'?)"
    )


def test_a_template_sequence_in_a_backend_value_is_a_template_sequence_error() -> None:
    backend = {"type": "s3", "bucket": "acme-state", "key": "mlops/${var.x}.tfstate"}
    (error,) = _errors(S3Backend, backend)
    assert (error["loc"], error["type"]) == (("key",), "template_sequence")
    assert error["msg"] == (
        "'mlops/${var.x}.tfstate' contains '${' or '%{', which Terraform would try to "
        "evaluate; backend settings cannot hold expressions: remove it"
    )


def test_a_config_error_lists_each_problem_on_its_own_line() -> None:
    error = ConfigError("c.yaml", ["first: bad", "second: worse"])
    assert str(error) == (
        "c.yaml: 2 problems in the configuration:\n  - first: bad\n  - second: worse"
    )


def test_a_problem_of_1000_characters_is_listed_whole() -> None:
    error = ConfigError("c.yaml", ["x" * 1000])
    assert str(error) == "c.yaml: 1 problem in the configuration:\n  - " + "x" * 1000


def test_a_longer_problem_is_cut_to_980_characters_and_its_length() -> None:
    error = ConfigError("c.yaml", ["x" * 1001, "y" * 5000])
    assert str(error) == (
        "c.yaml: 2 problems in the configuration:\n"
        "  - " + "x" * 980 + "... (1001 characters)\n"
        "  - " + "y" * 980 + "... (5000 characters)"
    )
    assert error.problems == ("x" * 1001, "y" * 5000)  # kept whole for callers
