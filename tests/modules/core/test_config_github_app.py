"""``platform.github_app``: GitHub App authentication per owner, validated before synth."""

from __future__ import annotations

from typing import Any

import pytest

from modules.core.config import ConfigError, parse_config
from tests.conftest import example_data


def with_app(app: Any) -> dict[str, Any]:
    data = example_data()
    data["environments"][0]["platform"]["github_app"] = app
    return data


def one_problem(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    (problem,) = info.value.problems
    return problem


def test_app_for_one_owner_is_accepted_and_owners_are_lowercased() -> None:
    config = parse_config(with_app({"id": "123456", "installation_ids": {"ACME-ML": "42"}}))
    app = config.environments[0].platform.github_app
    assert app is not None and app.id == "123456"
    assert app.installation_ids == {"acme-ml": "42"}
    assert config.environments[1].platform.github_app is None  # default: tokens


def test_fails_on_a_non_numeric_app_id() -> None:
    msg = one_problem(with_app({"id": "my-app", "installation_ids": {"acme-ml": "42"}}))
    assert msg.startswith("environments[0].platform.github_app.id: 'my-app' is not a GitHub App id")


def test_fails_on_a_non_numeric_installation_id() -> None:
    msg = one_problem(with_app({"id": "1", "installation_ids": {"acme-ml": "abc"}}))
    assert "github_app.installation_ids" in msg
    assert "acme-ml: 'abc' is not an installation id" in msg


def test_fails_on_a_bad_owner_name() -> None:
    msg = one_problem(with_app({"id": "1", "installation_ids": {"-acme": "42"}}))
    assert "'-acme' is not a GitHub user or organization name" in msg


def test_fails_on_an_owner_listed_twice() -> None:
    msg = one_problem(with_app({"id": "1", "installation_ids": {"acme-ml": "4", "ACME-ML": "5"}}))
    assert "an owner is listed twice" in msg


def test_fails_on_an_owner_no_project_uses() -> None:
    msg = one_problem(with_app({"id": "1", "installation_ids": {"acme-other": "42"}}))
    assert msg.startswith(
        "environments[0].platform.github_app.installation_ids: no project of this environment "
        "is owned by 'acme-other' (owners: acme-ml, acme-risk)"
    )


def test_fails_on_an_empty_installation_map() -> None:
    msg = one_problem(with_app({"id": "1", "installation_ids": {}}))
    assert "github_app.installation_ids" in msg
