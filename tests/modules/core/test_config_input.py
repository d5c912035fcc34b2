"""Config input as an attacker or a careless user writes it: every bad file is one clear line
per problem (exit 2), and what the config accepts is what AWS and GitHub accept."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import botocore
import pytest

from modules.core.config import ConfigError, base, load_config, parse_config
from modules.core.config.base import show
from modules.core.hcl import NotLiteralError, literal
from modules.core.template_contract import (
    BRANCH_PATTERN,
    PROJECT_NAME_MAX_LENGTH,
    PROJECT_NAME_PATTERN,
)
from modules.render.product_template import ProductTemplateProps, render_product_template


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    found = list(info.value.problems)
    assert all("\n" not in p for p in found), found
    return found


def one_problem(data: dict[str, Any]) -> str:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def env0(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data["environments"][0])


def project0(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data["environments"][0]["projects"][0])


# --- trailing newline: fullmatch everywhere -------------------------------------------------


def test_fails_on_owner_with_trailing_newline(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["github"]["owner"] = "acme-ml\n"
    assert one_problem(example).startswith(
        "environments[0].projects[0].github.owner: 'acme-ml\\n' is not a GitHub user"
    )


@pytest.mark.parametrize(
    ("where", "value", "start"),
    [
        (("name",), "dev\n", "environments[0].name: 'dev\\n'"),
        (("account_id",), "111111111111\n", "environments[0].account_id: '111111111111\\n' is not"),
        (("projects", 0, "name"), "churn\n", "environments[0].projects[0].name: 'churn\\n'"),
        (("region",), "eu-west-1\n", "environments[0].region: 'eu-west-1\\n'"),
    ],
)
def test_fails_on_trailing_newline_in_names(
    example: dict[str, Any], where: tuple[Any, ...], value: str, start: str
) -> None:
    node: Any = example["environments"][0]
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    assert one_problem(example).startswith(start)


def test_every_pattern_is_applied_with_fullmatch() -> None:
    """No ``.match(`` or ``re.match`` / ``re.search`` with a ``$`` anchor in config code."""
    root = Path(base.__file__).parent
    for path in root.glob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"_RE\.match\(|re\.match\(r\"\^.*\$", code), path.name


# --- project name: the template's pattern, one constant ---------------------------------------


def test_project_name_pattern_is_the_templates_own() -> None:
    assert base.SAGEMAKER_PROJECT_RE.pattern == PROJECT_NAME_PATTERN
    template = json.loads(
        render_product_template(
            ProductTemplateProps(trigger_function_name="sagemaker-x", default_token_secret_name="t")
        )
    )
    parameter = template["Parameters"]["SageMakerProjectName"]
    assert parameter["AllowedPattern"] == PROJECT_NAME_PATTERN
    assert parameter["MaxLength"] == PROJECT_NAME_MAX_LENGTH
    branch = template["Parameters"]["GitHubRepositoryBranch"]
    assert branch["AllowedPattern"] == BRANCH_PATTERN


@pytest.mark.parametrize("name", ["1churn", "9", "0-model"])
def test_fails_on_project_name_starting_with_a_digit(example: dict[str, Any], name: str) -> None:
    example["environments"][0]["projects"][0]["name"] = name
    assert "starting with a letter" in one_problem(example)


def test_project_name_of_32_characters_is_accepted(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["name"] = "a" * 32
    assert parse_config(example).environments[0].projects[0].name == "a" * 32


# --- branch: git's rules intersected with the template's pattern ------------------------------


@pytest.mark.parametrize(
    "branch",
    [
        "a#b",
        "a+b",
        "a!b",
        'a"b',
        "a'b",
        "a`b",
        "a\\b",
        "a$b",
        "a{b",
        "a}b",
        "a${x}",
        "a\x01b",
        "a\u200bb",
        "a\u202eb",
        "a b",
        "x" * 256,
        ".hidden",
        "a/.b",
        "a.lock",
        "a.lock/b",
        "-x",
        "HEAD",
        "a..b",
        "a//b",
        "a/",
        "/a",
        "a.",
        "refs/heads/main",
        "",
    ],
)
def test_fails_on_branch_git_or_the_template_rejects(example: dict[str, Any], branch: str) -> None:
    example["environments"][0]["projects"][0]["github"]["branch"] = branch
    msg = one_problem(example)
    assert msg.startswith(
        f"environments[0].projects[0].github.branch: {show(branch)} is not a branch"
    )


@pytest.mark.parametrize("branch", ["release/1.2", "feature_x", "a-b.c", "x" * 255, "v1.lockx"])
def test_branches_git_and_the_template_accept(example: dict[str, Any], branch: str) -> None:
    example["environments"][0]["projects"][0]["github"]["branch"] = branch
    assert parse_config(example).environments[0].projects[0].github.branch == branch


# --- regions: the partitions' list ------------------------------------------------------------


def test_fails_on_region_that_does_not_exist(example: dict[str, Any]) -> None:
    example["environments"][0]["region"] = "us-west-9"
    assert one_problem(example).startswith(
        "environments[0].region: 'us-west-9' is not an AWS region of the aws, aws-cn or "
        "aws-us-gov partitions"
    )


def test_region_list_is_botocores_for_the_three_partitions() -> None:
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    regions = {
        region
        for partition in data["partitions"]
        if partition["partition"] in {"aws", "aws-cn", "aws-us-gov"}
        for region in partition["regions"]
    }
    assert regions == base.AWS_REGIONS


# --- reviewers -------------------------------------------------------------------------------


def test_fails_on_more_than_six_reviewers(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["production_reviewers"] = {
        "users": [f"user{i}" for i in range(4)],
        "teams": [f"team{i}" for i in range(3)],
    }
    assert one_problem(example) == (
        "environments[0].projects[0].production_reviewers: 7 users and teams; a GitHub "
        "environment takes at most 6 required reviewers: name a team instead of its members"
    )


def test_fails_on_duplicate_reviewer_logins(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"][0]["production_reviewers"] = {
        "users": ["Octocat", "octocat"]
    }
    assert one_problem(example) == (
        "environments[0].projects[0].production_reviewers.users: 'octocat' and 'Octocat' are "
        "the same GitHub user (logins ignore case); list each reviewer once"
    )


@pytest.mark.parametrize("teams", [["ML-Leads", "ml-leads"], ["ml_leads", "ml-leads"]])
def test_fails_on_team_slug_collision(example: dict[str, Any], teams: list[str]) -> None:
    example["environments"][0]["projects"][0]["production_reviewers"] = {"teams": teams}
    assert one_problem(example) == (
        f"environments[0].projects[0].production_reviewers.teams: {teams[1]!r} and "
        f"{teams[0]!r} are the same team or would collide as 'team-ml-leads' in the stack; "
        "list each team once"
    )


@pytest.mark.parametrize("team", ["..", ".", "-", "a..", ".a", "ml.leads", "a b", "é"])
def test_fails_on_team_that_is_not_a_slug(example: dict[str, Any], team: str) -> None:
    example["environments"][0]["projects"][0]["production_reviewers"] = {"teams": [team]}
    assert one_problem(example).endswith(
        f"{team!r} is not a team slug: use the slug from the team's URL (letters, digits, '-' "
        "and '_', no '.'), e.g. 'ml-leads'"
    )


# --- tags ------------------------------------------------------------------------------------


def test_fails_on_too_many_tags(example: dict[str, Any]) -> None:
    example["environments"][0]["tags"] = {f"k{i}": "v" for i in range(base.MAX_USER_TAGS + 1)}
    assert one_problem(example) == (
        f"environments[0].tags: {base.MAX_USER_TAGS + 1} tags; the Service Catalog product and "
        "portfolio take at most 20 and the toolkit adds its own 3 (managed-by, "
        f"mlops:component, sagemaker:studio-visibility): give at most {base.MAX_USER_TAGS}"
    )


def test_most_tags_allowed_are_accepted(example: dict[str, Any]) -> None:
    example["environments"][0]["tags"] = {f"k{i}": "v" for i in range(base.MAX_USER_TAGS)}
    assert len(parse_config(example).environments[0].tags) == base.MAX_USER_TAGS


@pytest.mark.parametrize("key", ["aws:team", "AWS:x"])
def test_fails_on_aws_tag_prefix(example: dict[str, Any], key: str) -> None:
    example["environments"][0]["tags"] = {key: "v"}
    assert one_problem(example) == (
        f"environments[0].tags: tag key {key!r}: the 'aws:' prefix is reserved"
    )


def test_fails_on_toolkit_tag_key(example: dict[str, Any]) -> None:
    example["environments"][0]["tags"] = {"managed-by": "me"}
    assert one_problem(example) == (
        "environments[0].tags: tag key 'managed-by' is set by the toolkit itself; use another key"
    )


# --- product, launch role, token secret ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "end"),
    [
        ("owner", "", "is empty; Service Catalog needs a non-blank value"),
        ("owner", "   ", "is empty; Service Catalog needs a non-blank value"),
        ("owner", "x" * 51, "is 51 characters; Service Catalog accepts at most 50"),
        (
            "description",
            "x" * 100_000,
            "is 100000 characters; Service Catalog accepts at most 8191",
        ),
        ("version", "", "is empty; Service Catalog needs a non-blank value"),
        (
            "version",
            "v1\n",
            "holds the control or invisible character '\\n' at position 2; remove it",
        ),
        (
            "owner",
            "ML\u202eX",
            "holds the control or invisible character '\\u202e' at position 2; remove it",
        ),
    ],
)
def test_fails_on_product_text_service_catalog_rejects(
    example: dict[str, Any], field: str, value: str, end: str
) -> None:
    example["environments"][0]["platform"]["product"] = {field: value}
    assert one_problem(example) == f"environments[0].platform.product.{field}: {end}"


def test_product_description_may_hold_lines_and_templates(example: dict[str, Any]) -> None:
    text = "Line one\nLine ${two} %{three}"
    example["environments"][0]["platform"]["product"] = {"description": text}
    assert parse_config(example).environments[0].platform.product.description == text


@pytest.mark.parametrize("name", ["", "*", "a/b", "x" * 65, "role\n", "Rôle"])
def test_fails_on_launch_role_name_iam_rejects(example: dict[str, Any], name: str) -> None:
    example["environments"][0]["platform"]["launch_role_name"] = name
    assert one_problem(example).startswith(
        f"environments[0].platform.launch_role_name: {name!r} is not an IAM role name"
    )


def test_fails_on_absurd_token_secret_version(example: dict[str, Any]) -> None:
    example["environments"][0]["platform"]["token_secret"]["version"] = 10**30
    assert one_problem(example).startswith(
        "environments[0].platform.token_secret.version: Input should be less than or equal to "
        "2147483647"
    )


# --- backends: no expressions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "field"),
    [
        ({"type": "local"}, "path"),
        ({"type": "s3", "bucket": "acme-state"}, "key"),
        ({"type": "s3", "bucket": "acme-state"}, "kms_key_id"),
        ({"type": "cloud", "organization": "acme"}, "hostname"),
        ({"type": "cloud", "organization": "acme"}, "project"),
    ],
)
@pytest.mark.parametrize("value", ['x${file("/etc/hostname")}', "x%{ if true }y%{ endif }"])
def test_fails_on_template_sequence_in_backend(
    example: dict[str, Any], backend: dict[str, str], field: str, value: str
) -> None:
    example["environments"][0]["backend"] = {**backend, field: value}
    assert one_problem(example) == (
        f"environments[0].backend.{field}: {value!r} contains '${{' or '%{{', which Terraform "
        "would try to evaluate; backend settings cannot hold expressions: remove it"
    )


@pytest.mark.parametrize(
    ("field", "value", "start"),
    [
        ("hostname", "tfe example.com", "'tfe example.com' is not a host name"),
        ("project", " lead", "' lead': an HCP Terraform project name"),
    ],
)
def test_fails_on_cloud_backend_names(
    example: dict[str, Any], field: str, value: str, start: str
) -> None:
    example["environments"][0]["backend"] = {"type": "cloud", "organization": "acme", field: value}
    assert one_problem(example).startswith(f"environments[0].backend.{field}: {start}")


def test_fails_on_kms_key_that_is_not_a_key(example: dict[str, Any]) -> None:
    example["environments"][0]["backend"] = {
        "type": "s3",
        "bucket": "acme-state",
        "kms_key_id": "a b",
    }
    assert one_problem(example).startswith(
        "environments[0].backend.kms_key_id: 'a b' is not a KMS key id, key ARN or alias"
    )


def test_fails_on_control_character_in_state_key(example: dict[str, Any]) -> None:
    example["environments"][0]["backend"] = {"type": "s3", "bucket": "acme-state", "key": "a\nb"}
    assert one_problem(example) == (
        "environments[0].backend.key: 'a\\nb' holds a control or invisible character; remove it"
    )


# --- error output ----------------------------------------------------------------------------


def test_no_spurious_too_short_lines(example: dict[str, Any]) -> None:
    example["environments"] = example["environments"][:1]
    example["environments"][0]["projects"] = example["environments"][0]["projects"][:1]
    example["environments"][0]["projects"][0]["name"] = "bad_name"
    assert problems(example) == [
        "environments[0].projects[0].name: 'bad_name' is not a name SageMaker accepts for a "
        "project: use 1-32 letters, digits and hyphens, starting with a letter and ending with "
        "a letter or digit (e.g. 'churn-model')"
    ]


def test_empty_list_still_says_so(example: dict[str, Any]) -> None:
    example["environments"][0]["projects"] = []
    assert one_problem(example) == (
        "environments[0].projects: the list is empty; give at least one entry"
    )


@pytest.mark.parametrize(
    ("backend", "keys"),
    [
        (
            {"type": "s3", "bucket": "acme-state", "kye": "x"},
            "type, bucket, key, region, kms_key_id",
        ),
        ({"type": "local", "pth": "x"}, "type, path"),
        (
            {"type": "cloud", "organization": "acme", "wrkspace": "x"},
            "type, organization, workspace, hostname, project",
        ),
    ],
)
def test_fails_on_backend_typo_listing_that_backends_keys(
    example: dict[str, Any], backend: dict[str, str], keys: str
) -> None:
    example["environments"][0]["backend"] = backend
    typo = next(k for k in backend if k not in {"type", "bucket", "organization"})
    fixed = {"kye": "key", "pth": "path", "wrkspace": "workspace"}[typo]
    assert one_problem(example) == (
        f"environments[0].backend.{typo}: unknown key (did you mean {fixed!r}?); remove it or "
        f"fix its spelling; allowed keys here: {keys}"
    )


# --- the loader ------------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
environments: [*i]
"""


def load_problem(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert "\n" not in problem
    return problem


def test_fails_on_alias_bomb_at_once(tmp_path: Path) -> None:
    start = time.monotonic()
    assert load_problem(tmp_path, BILLION_LAUGHS) == (
        "line 1, column 4: anchor '&a': anchors and aliases are not supported; remove the "
        "anchor and write values out"
    )
    assert time.monotonic() - start < 1


def test_fails_on_recursive_alias(tmp_path: Path) -> None:
    assert load_problem(tmp_path, "environments: &x [*x]\n").startswith(
        "line 1, column 15: anchor '&x': anchors and aliases are not supported"
    )


def test_fails_on_alias_without_anchor(tmp_path: Path) -> None:
    assert load_problem(tmp_path, "environments: [*x]\n") == (
        "line 1, column 16: alias '*x': anchors and aliases are not supported (an alias can "
        "expand without bound); write the value out"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{[1]: 2}\n", "a list is used as a key; keys are names: fix the indentation or brackets"),
        (
            "{{a: 1}: 2}\n",
            "a dict is used as a key; keys are names: fix the indentation or brackets",
        ),
        ("2024-01-01: x\n", "key '2024-01-01' is a date, not text: quote it"),
        ("on: x\n", "key 'on' is a bool, not text: quote it"),
        ("1: x\n", "key '1' is a int, not text: quote it"),
    ],
)
def test_fails_on_non_text_key(tmp_path: Path, text: str, expected: str) -> None:
    problem = load_problem(tmp_path, text)
    assert problem.startswith("not valid YAML: line 1, column ")
    assert problem.endswith(expected)


def test_fails_on_absurd_nesting(tmp_path: Path) -> None:
    assert load_problem(tmp_path, "[" * 5000 + "]" * 5000 + "\n") == (
        "line 1, column 33: nested more than 32 levels deep; the configuration is about six "
        "levels deep: check the indentation and brackets"
    )


def test_fails_on_number_with_thousands_of_digits(tmp_path: Path) -> None:
    assert load_problem(tmp_path, "environments: " + "9" * 5000 + "\n") == (
        "a number has thousands of digits; no setting takes such a value"
    )


def test_fails_on_nan(tmp_path: Path) -> None:
    assert load_problem(tmp_path, "environments: .nan\n") == (
        "(top level): a value is .nan, .inf or a number too large; no setting takes one"
    )


def test_fails_on_huge_file(tmp_path: Path) -> None:
    assert load_problem(tmp_path, "# x\n" * 300_000) == (
        "the file is larger than 1024 KiB; is it the config?"
    )


def test_fails_on_state_key_over_1024_bytes(example: dict[str, Any]) -> None:
    key = "é" * 513  # 1026 bytes of UTF-8
    example["environments"][0]["backend"] = {"type": "s3", "bucket": "acme-state", "key": key}
    assert one_problem(example) == (
        f"environments[0].backend.key: {show(key)}: use an object key like 'mlops/dev.tfstate' "
        "(at most 1024 bytes)"
    )


def test_literal_refuses_cdktf_token_marker() -> None:
    for marker in ("${TfToken[TOKEN.1]}", "#{TfToken[TOKEN.2]}", "&{TfToken[TOKEN.3]}"):
        with pytest.raises(NotLiteralError, match="CDKTF's token marker"):
            literal(f"a {marker}")
    assert literal("TfToken ${x}") == "TfToken $${x}"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("environments: !!binary aGVsbG8=\n", "bytes"), ("environments: !!set {a}\n", "set")],
)
def test_fails_on_yaml_types_no_setting_takes(tmp_path: Path, text: str, kind: str) -> None:
    assert load_problem(tmp_path, text) == (
        f"(top level): a value is a YAML {kind} (e.g. !!binary or !!set); no setting takes one: "
        "write plain text, numbers, lists and mappings"
    )


def test_unquoted_date_stands_for_its_text(example: dict[str, Any]) -> None:
    import datetime  # noqa: PLC0415

    example["environments"][0]["platform"]["product"] = {"version": datetime.date(2024, 1, 2)}
    assert parse_config(example).environments[0].platform.product.version == "2024-01-02"
