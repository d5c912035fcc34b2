"""Help for a new user's typos, and a schema that requires what validation requires.

- "did you mean" for unknown keys, enum values, backend types and regions, by edit distance;
- config/schema.json (what editors check as you type) refuses a config with a key removed, or
  a list emptied, exactly when validation does: the schema's required lists (and its anyOf
  rules for "one of these") are compared with what ``parse_config`` refuses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from modules.core.config import ConfigError, parse_config
from modules.core.config.base import closest, did_you_mean, edit_distance
from modules.core.config.schema import config_schema
from tests.conftest import example_data


def problems(data: dict[str, Any]) -> list[str]:
    try:
        parse_config(data, "c.yaml")
    except ConfigError as e:
        return list(e.problems)
    return []


# --- did you mean -----------------------------------------------------------------------------


def test_edit_distance() -> None:
    assert edit_distance("eu-centrl-1", "eu-central-1") == 1
    assert edit_distance("eu-centrl-1", "eu-west-1") > 1
    assert edit_distance("runtmie", "runtime") == 1  # two neighbours swapped
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("ab", "a", 1),  # one deletion
        ("a", "ab", 1),  # one insertion
        ("abcd", "abd", 1),
        ("xxab", "ab", 2),  # two deletions at the start
        ("abc", "", 3),
        ("aaa", "a", 2),
        ("ba", "ab", 1),  # the first two characters swapped
        ("ue-west-1", "eu-west-1", 1),
        ("eu-west-1", "eu-west-1", 0),
        ("euwest1", "eu-west-1", 2),
        ("europe-west-1", "eu-west-1", 4),
    ],
)
def test_edit_distance_of_known_pairs(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        # up to 5 characters: 1 edit (at least 1 even for a 2-character word)
        ("s4", ["local", "s3", "cloud"], ["s3"]),
        ("lcal", ["local", "s3", "cloud"], ["local"]),
        ("lcl", ["local", "s3", "cloud"], []),  # 2 edits from 'local'
        # 6-8 characters: 2 edits
        ("euwest1", ["eu-west-1", "eu-west-2", "us-west-2"], ["eu-west-1"]),
        ("eu-w-1", ["eu-west-1", "eu-west-2"], []),  # 3 edits
        # 9 characters and more: 3 edits, never more
        ("eu-centralll-1x", ["eu-central-1", "eu-central-2"], ["eu-central-1"]),
        ("europe-west-1", ["eu-west-1", "us-west-1"], []),  # 4 edits, 13 characters
        # ties: every nearest candidate, at most 3, in order
        ("ue-west-1", ["us-west-2", "us-west-1", "eu-west-1"], ["eu-west-1", "us-west-1"]),
        (
            "ap-southeast-9",
            ["ap-southeast-4", "ap-southeast-3", "ap-southeast-2", "ap-southeast-1"],
            ["ap-southeast-1", "ap-southeast-2", "ap-southeast-3"],
        ),
        # case is ignored, the candidate is given as spelled
        ("OIDC", ["oidc", "access_keys"], ["oidc"]),
    ],
)
def test_closest_at_and_beyond_its_limit(
    word: str, candidates: list[str], expected: list[str]
) -> None:
    assert closest(word, candidates) == expected


def test_closest_takes_words_of_up_to_100_characters() -> None:
    near = "a" * 100
    assert closest("a" * 99 + "b", [near]) == [near]
    assert closest(near, [near]) == [near]
    assert closest("a" * 101, ["a" * 101]) == []


def test_did_you_mean_lists_every_nearest_candidate_with_or() -> None:
    assert did_you_mean("ue-west-1", ["eu-west-1", "us-west-1", "us-west-2"]) == (
        " (did you mean 'eu-west-1' or 'us-west-1'?)"
    )
    assert did_you_mean("lcl", ["local"]) == ""


@pytest.mark.parametrize(
    ("region", "hint"),
    [
        (
            "ap-southeast-9",
            " (did you mean 'ap-southeast-1' or 'ap-southeast-2' or 'ap-southeast-3'?)",
        ),
        ("euwest1", " (did you mean 'eu-west-1'?)"),
        ("europe-west-1", "; e.g. 'eu-west-1'"),
    ],
)
def test_a_region_typo_names_the_nearest_regions(region: str, hint: str) -> None:
    data = example_data()
    data["environments"][0]["region"] = region
    assert problems(data) == [
        f"environments[0].region: {region!r} is not an AWS region of the aws, aws-cn or "
        f"aws-us-gov partitions{hint}"
    ]


def test_the_issues_region_typo_suggests_the_nearest_region() -> None:
    data = example_data()
    data["environments"][0]["region"] = "eu-centrl-1"
    assert problems(data) == [
        "environments[0].region: 'eu-centrl-1' is not an AWS region of the aws, aws-cn or "
        "aws-us-gov partitions (did you mean 'eu-central-1'?)"
    ]


def test_a_region_far_from_any_gets_an_example() -> None:
    data = example_data()
    data["environments"][0]["region"] = "moon-base-7"
    (problem,) = problems(data)
    assert problem.endswith("partitions; e.g. 'eu-west-1'")


@pytest.mark.parametrize(
    ("where", "typo", "fixed"),
    [
        (("platform",), "auth_mod", "auth_mode"),
        (("platform", "lambda"), "runtmie", "runtime"),
        ((), "tag", "tags"),
        (("projects", 0), "production_reviewer", "production_reviewers"),
        (("projects", 0, "github"), "Branch", "branch"),
    ],
)
def test_unknown_key_suggests_the_nearest_allowed_key(
    where: tuple[str | int, ...], typo: str, fixed: str
) -> None:
    data = example_data()
    node: Any = data["environments"][0]
    for part in where:
        node = node[part]
    node[typo] = node.pop(fixed, "x")
    found = [p for p in problems(data) if "unknown key" in p]
    assert len(found) == 1, problems(data)
    assert f": unknown key (did you mean {fixed!r}?); remove it or fix its spelling; " in found[0]


def test_unknown_key_far_from_any_only_lists_the_allowed_keys() -> None:
    data = example_data()
    data["environments"][0]["platform"]["colour"] = "blue"
    (problem,) = problems(data)
    assert problem.startswith(
        "environments[0].platform.colour: unknown key; remove it or fix its spelling; allowed "
        "keys here: auth_mode, "
    )


@pytest.mark.parametrize(
    ("where", "typo", "fixed", "choices"),
    [
        (("platform", "auth_mode"), "acess_keys", "access_keys", "'oidc' or 'access_keys'"),
        (("platform", "auth_mode"), "OIDC", "oidc", "'oidc' or 'access_keys'"),
        (("platform", "lambda", "architecture"), "arm46", "arm64", "'arm64' or 'x86_64'"),
        (
            ("platform", "pipeline_role"),
            "per-project",
            "per_project",
            "'service_catalog' or 'per_project'",
        ),
    ],
)
def test_enum_typo_suggests_the_nearest_value(
    where: tuple[str, ...], typo: str, fixed: str, choices: str
) -> None:
    data = example_data()
    node: Any = data["environments"][0]
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = typo
    assert problems(data) == [
        f"environments[0].{'.'.join(where)}: {typo!r} is not allowed (did you mean "
        f"{fixed!r}?); use one of {choices}"
    ]


def test_backend_type_typo_suggests_the_nearest_type() -> None:
    data = example_data()
    data["environments"][1]["backend"]["type"] = "s4"
    (problem,) = problems(data)
    assert problem == (
        "environments[1].backend.type: 's4' is not a backend type (did you mean 's3'?); use one "
        "of 'local', 's3', 'cloud'"
    )


def test_closest_ignores_words_too_far_or_too_long() -> None:
    assert closest("xyz", ["eu-west-1"]) == []
    assert closest("a" * 500, ["a"]) == []
    assert closest("us-west-9", ["us-west-1", "us-west-2", "eu-west-1"]) == [
        "us-west-1",
        "us-west-2",
    ]


# --- the schema requires what validation requires --------------------------------------------


def _bases() -> list[dict[str, Any]]:
    """Valid configs of one environment each, together holding every optional section."""
    dev, prod, forecast = example_data()["environments"]
    full = copy.deepcopy(dev)
    platform = full["platform"]
    platform["token_secret"]["readers"] = ["arn:aws:iam::111111111111:role/ci"]
    platform["token_secret"]["version"] = 2
    platform["alarms"] = {
        "sns_topic_arn": "arn:aws:sns:eu-west-1:111111111111:alarms",
        "emails": ["ml@acme.com"],
    }
    platform["github_app"] = {"id": "1", "installation_ids": {"acme-ml": "2"}}
    platform["product"] = {"owner": "ML", "description": "d", "version": "v2"}
    platform["lambda"]["reserved_concurrency"] = 2
    full["backend"] = {"type": "cloud", "organization": "acme", "workspace": "w"}
    full["projects"][0]["production_reviewers"] = {"users": ["octocat"], "teams": ["ml-leads"]}
    full["projects"][0]["staging_environment"] = False
    bases = [{"environments": [env]} for env in (dev, prod, full, forecast)]
    for base in bases:
        assert problems(base) == []
    return bases


def _keys(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _keys(value, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _keys(item, (*path, i))


def _variants(base: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``base`` with one key removed, or one list emptied."""
    for path in _keys(base):
        parent: Any = base
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(path[-1], str) and not isinstance(parent, list):
            variant = copy.deepcopy(base)
            node: Any = variant
            for part in path[:-1]:
                node = node[part]
            del node[path[-1]]
            yield f"without {'.'.join(map(str, path))}", variant
            if isinstance(parent[path[-1]], list):
                variant = copy.deepcopy(base)
                node = variant
                for part in path[:-1]:
                    node = node[part]
                node[path[-1]] = []
                yield f"{'.'.join(map(str, path))}: []", variant


def test_the_schema_refuses_exactly_what_validation_refuses_for_a_missing_key() -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    checked = 0
    mismatches = []
    for base in _bases():
        for name, variant in _variants(base):
            by_schema = not list(validator.iter_errors(variant))
            by_models = not problems(variant)
            checked += 1
            if by_schema != by_models:
                mismatches.append((name, by_schema, problems(variant)))
    assert checked > 80
    assert mismatches == []


def test_schema_requires_production_reviewers() -> None:
    required = config_schema()["$defs"]["Project"]["required"]
    assert "production_reviewers" in required


def test_missing_required_key_says_what_it_is_for() -> None:
    data = example_data()
    del data["environments"][0]["projects"][0]["production_reviewers"]
    assert problems(data) == [
        "environments[0].projects[0].production_reviewers: required but missing; add it (Who "
        "approves production deploys: at least one GitHub user or team of the owner "
        "organization, e.g. production_reviewers: {teams: [ml-leads]})"
    ]
