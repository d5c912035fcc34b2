"""The exact problem lines of modules.core.config.loading: where a problem is (quoted keys,
the top level), what pydantic's error becomes, which echoed values are cut, and the refusals of
the YAML reader. (Pinned literally: these lines are the user interface.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.core.config import ConfigError, load_config, parse_config
from modules.core.config.loading import _yaml_problem

PLATFORM_KEYS = (
    "auth_mode, oidc_provider_arn, token_secret, lambda, alarms, studio_execution_role_arns, "
    "launch_role_name, pipeline_role, enable_sagemaker_project_templates, product, "
    "deployer_principal_arn, drift_principal_arn, auto_approve_staging, project_updates, "
    "permissions_boundary_arn, pin_build_workflow, github_app"
)


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    return list(info.value.problems)


def load_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return list(info.value.problems)


# --- locations and unknown keys --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        # a key that is not a plain name is quoted, right after the path (no dot)
        ("a b", "['a b']"),
        # a plain name of 80 characters is still shown as it is
        ("k" * 80, "." + "k" * 80),
        # upper case is plain too, and a typo of a key in another case is suggested
        ("Lambda", ".Lambda"),
    ],
)
def test_unknown_platform_key_is_located_and_lists_the_keys(
    example: dict[str, Any], key: str, shown: str
) -> None:
    example["environments"][0]["platform"][key] = 1
    typo = " (did you mean 'lambda'?)" if key == "Lambda" else ""
    assert problems(example) == [
        f"environments[0].platform{shown}: unknown key{typo}; remove it or fix its spelling; "
        f"allowed keys here: {PLATFORM_KEYS}"
    ]


def test_unknown_key_of_81_characters_is_quoted_and_cut(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["k" * 81] = 1
    assert problems(example) == [
        "environments[0].platform['" + "k" * 37 + "..." + "k" * 38 + "']: unknown key; remove "
        f"it or fix its spelling; allowed keys here: {PLATFORM_KEYS}"
    ]


def test_unknown_top_level_key_lists_the_top_level_keys(example: dict[str, Any]) -> None:
    example["environmentz"] = 1
    assert problems(example) == [
        "environmentz: unknown key (did you mean 'environments'?); remove it or fix its "
        "spelling; allowed keys here: environments"
    ]


# --- what each pydantic error becomes ---------------------------------------------------------


def test_a_number_where_a_choice_is_expected(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["auth_mode"] = 5
    assert problems(example) == [
        "environments[0].platform.auth_mode: 5 is not allowed; use one of 'oidc' or 'access_keys'"
    ]


def test_a_backend_without_type(example: dict[str, Any]) -> None:
    example["environments"][0]["backend"] = {"bucket": "acme-state"}
    assert problems(example) == [
        "environments[0].backend.type: required; use one of 'local', 's3', 'cloud'"
    ]


def test_a_model_check_naming_its_own_path(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["production_reviewers"] = {"teams": []}
    assert problems(example) == [
        "environments[0].projects[0].production_reviewers: name at least one GitHub user or "
        "team (of the owner organization) who approves production deploys, e.g. "
        "production_reviewers: {teams: [ml-leads]}"
    ]


def test_a_platform_check_naming_its_own_path(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["github_app"] = {
        "id": "123",
        "installation_ids": {"nobody": "1"},
    }
    assert problems(example) == [
        "environments[0].platform.github_app.installation_ids: no project of this environment "
        "is owned by 'nobody' (owners: acme-ml, acme-risk); remove it or fix the owner"
    ]


def test_a_cross_check_cuts_a_long_value_from_a_list_in_the_model(
    example: dict[str, Any],
) -> None:
    role = "arn:aws:iam::999999999999:role/" + "r" * 90
    example["environments"][0]["platform"]["studio_execution_role_arns"] = [role]
    assert problems(example) == [
        "environments[0].platform.studio_execution_role_arns: 'arn:aws:iam::999999999999:role/"
        + "r" * 6
        + "..."
        + "r" * 38
        + "' belongs to account 999999999999, not 111111111111; list this account's Studio roles"
    ]


# --- echoed values are cut (tag keys are echoed whole by their validator) ------------------------


@pytest.mark.parametrize(
    ("key", "echoed"),
    [
        # 79 characters: cut
        ("aws:" + "b" * 75, "'aws:" + "b" * 33 + "..." + "b" * 38 + "'"),
        # 78 characters are echoed whole, even when the repr (81 characters) is longer
        ("aws:" + "b" * 73 + "\n", "'aws:" + "b" * 73 + "\\n'"),
    ],
)
def test_a_long_tag_key_is_cut_from_79_characters(
    example: dict[str, Any], key: str, echoed: str
) -> None:
    example["environments"][0]["tags"] = {key: "v"}
    assert problems(example) == [
        f"environments[0].tags: tag key {echoed}: the 'aws:' prefix is reserved"
    ]


def test_the_longest_value_is_cut_first(example: dict[str, Any]) -> None:
    """The refused key holds the whole repr of another (shorter, but long) value of the same
    mapping: cutting the shorter one first would break the longer one's repr, left uncut."""
    example["environments"][0]["tags"] = {"aws:'" + "z" * 80 + "'": "v", "ok": "z" * 80}
    assert problems(example) == [
        "environments[0].tags: tag key \"aws:'"
        + "z" * 32
        + "..."
        + "z" * 37
        + "'\": the 'aws:' prefix is reserved"
    ]


# --- values refused before validation ----------------------------------------------------------


def test_an_integer_beyond_any_double_is_refused_by_the_model() -> None:
    assert problems({"environments": 10**400}) == [
        "environments: expected a list, got 100000000000000000...0000000000000000000 (int)"
    ]


def test_a_number_cdktf_reads_as_a_token() -> None:
    assert problems({"environments": -1.8881545897087626e289}) == [
        "environments: -1.8881545897087626e+289 is a number CDKTF uses to encode references; "
        "no setting takes it"
    ]


def test_a_token_under_a_key_that_is_not_text() -> None:
    assert problems({"environments": [], 1: "${TfToken[TOKEN.1]}"}) == [
        "[1]: '${TfToken[TOKEN.1]}' holds '{TfToken[', the marker CDKTF uses for references; "
        "it can never be written literally: remove it"
    ]


# --- the YAML reader -------------------------------------------------------------------------


def test_a_control_character_in_the_text(tmp_path: Path) -> None:
    assert load_problems(tmp_path, "environments: \x07\n") == [
        "not valid YAML: unacceptable character #x0007: special characters are not allowed in "
        '"<unicode string>", position 14'
    ]


def test_depth_counts_down_when_a_collection_ends(tmp_path: Path) -> None:
    # the mapping and 30 lists: 31 levels; then [] (32) ends, and [[ ]] reaches 33
    deep = "a: " + "[" * 30 + "[], [[]]" + "]" * 30 + "\n"
    assert load_problems(tmp_path, deep) == [
        "line 1, column 39: nested more than 32 levels deep; the configuration is about six "
        "levels deep: check the indentation and brackets"
    ]
    # 32 levels, twice, pass the reader (and fail validation)
    assert load_problems(tmp_path, "a: " + "[" * 30 + "[], []" + "]" * 30 + "\n") == [
        "environments: required but missing; add it",
        "a: unknown key; remove it or fix its spelling; allowed keys here: environments",
    ]


def test_a_yaml_error_without_a_position_says_what_was_found() -> None:
    # PyYAML's own errors carry a position; the line is still one line without it.
    error = yaml.MarkedYAMLError(context="while parsing", problem="found\n  x")
    assert _yaml_problem(error) == "not valid YAML: while parsing found x"


# --- the whole message of parse_config -------------------------------------------------------


def test_an_empty_mapping_where_one_entry_is_required(example: dict[str, Any]) -> None:
    # too_short of a mapping is pydantic's own line; only an empty list says "the list"
    example["environments"][0]["platform"]["github_app"] = {"id": "123", "installation_ids": {}}
    with pytest.raises(ConfigError) as info:
        parse_config(example)
    assert str(info.value) == (
        "config: 1 problem in the configuration:\n"
        "  - environments[0].platform.github_app.installation_ids: Dictionary should have at "
        "least 1 item after validation, not 0"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            b"x",
            "(top level): a value is a YAML bytes (e.g. !!binary or !!set); no setting takes "
            "one: write plain text, numbers, lists and mappings",
        ),
        (
            float("nan"),
            "(top level): a value is .nan, .inf or a number too large; no setting takes one",
        ),
    ],
)
def test_a_value_json_cannot_hold_names_the_source(value: object, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"environments": value}, "t.yaml")
    assert str(info.value) == f"t.yaml: 1 problem in the configuration:\n  - {problem}"
