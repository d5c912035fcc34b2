"""Values that pass each field's own check but would fail at apply: ARNs of another partition,
principals and topics of another account or region, project names whose name patterns meet;
and every such conflict reported in one run."""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import botocore
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core.config import ConfigError, parse_config
from modules.core.config.base import AWS_REGIONS, PARTITION, REGION_PARTITION
from modules.core.naming import group_in_arn
from modules.core.template_contract import PROJECT_NAME_MAX_LENGTH, PROJECT_NAME_PATTERN
from tests.conftest import example_data

DEV_ROLE = "arn:aws:iam::111111111111:role/terraform-apply"


def problems(data: dict[str, Any]) -> list[str]:
    try:
        parse_config(data, "c.yaml")
    except ConfigError as e:
        return list(e.problems)
    return []


def dev(data: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = data["environments"][0]
    return env


# --- partitions: botocore's data, one table ----------------------------------------------------


def test_region_partitions_are_botocores() -> None:
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    theirs = {
        region: partition["partition"]
        for partition in data["partitions"]
        if partition["partition"] in {"aws", "aws-cn", "aws-us-gov"}
        for region in partition["regions"]
    }
    assert theirs == REGION_PARTITION
    assert frozenset(theirs) == AWS_REGIONS
    assert set(PARTITION.split("|")) == {"aws", "aws-cn", "aws-us-gov"}


# Every ARN field of an environment, set to an ARN of the right account in another partition.
ARN_FIELDS: list[tuple[tuple[str | int, ...], str]] = [
    (("platform", "studio_execution_role_arns"), "arn:{p}:iam::111111111111:role/studio"),
    (("platform", "deployer_principal_arn"), "arn:{p}:iam::111111111111:role/terraform"),
    (("platform", "token_secret", "readers"), "arn:{p}:iam::111111111111:role/ci"),
    (
        ("platform", "oidc_provider_arn"),
        "arn:{p}:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
    ),
    (("platform", "alarms", "sns_topic_arn"), "arn:{p}:sns:{r}:111111111111:alarms"),
    (
        ("projects", 0, "code_connection"),
        "arn:{p}:codeconnections:{r}:111111111111:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    ),
]


def _put(env: dict[str, Any], where: tuple[str | int, ...], value: str) -> str:
    """Set ``value`` at ``where`` (lists get it as their only item); the field's name in a
    problem line."""
    node: Any = env
    for part in where[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    as_list = where[-1] in {"studio_execution_role_arns", "readers"}
    node[where[-1]] = [value] if as_list else value
    name = "environments[0]"
    for part in where:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name + ("[0]" if as_list else "")


@pytest.mark.parametrize(("where", "template"), ARN_FIELDS, ids=str)
@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_fails_on_arn_of_another_partition(
    where: tuple[str | int, ...], template: str, partition: str
) -> None:
    data = example_data()
    data["environments"] = data["environments"][:1]
    region = {"aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}[partition]
    name = _put(dev(data), where, template.format(p=partition, r=region))
    found = [p for p in problems(data) if "partition" in p]
    assert found, problems(data)
    assert found[0].startswith(f"{name}: 'arn:{partition}:")
    assert (
        f"is in partition '{partition}' but region eu-west-1 is in partition 'aws'; use an ARN "
        "starting 'arn:aws:'" in found[0]
    )


def test_fails_on_arn_naming_a_region_of_another_partition() -> None:
    data = example_data()
    topic = "arn:aws:sns:cn-north-1:111111111111:alarms"
    dev(data)["platform"]["alarms"] = {"sns_topic_arn": topic}
    assert (
        f"environments[0].platform.alarms.sns_topic_arn: {topic!r} names region 'cn-north-1', "
        "which is not a region of partition 'aws'"
    ) in problems(data)


def test_an_environment_in_china_takes_aws_cn_arns() -> None:
    data = example_data()
    data["environments"] = data["environments"][:1]
    env = dev(data)
    env["region"] = "cn-north-1"
    text = json.dumps(env).replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1")
    data["environments"][0] = json.loads(text)
    assert problems(data) == []
    data["environments"][0]["platform"]["deployer_principal_arn"] = DEV_ROLE
    (problem,) = problems(data)
    assert problem.startswith("environments[0].platform.deployer_principal_arn: ")
    assert "is in partition 'aws' but region cn-north-1 is in partition 'aws-cn'" in problem


# --- accounts and regions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (("platform", "token_secret", "readers"), "platform.token_secret.readers[0]"),
        (("platform", "deployer_principal_arn"), "platform.deployer_principal_arn"),
    ],
)
def test_fails_on_principal_of_another_account(where: tuple[str | int, ...], field: str) -> None:
    data = example_data()
    arn = "arn:aws:iam::999999999999:role/ci"
    _put(dev(data), where, arn)
    assert problems(data) == [
        f"environments[0].{field}: {arn!r} belongs to account 999999999999, not "
        "111111111111; the token secret's policy only denies, so a principal of another "
        "account could not read it (that needs an Allow and a customer-managed KMS key, which "
        "the toolkit does not create): give a role of account 111111111111"
    ]


def test_readers_of_the_account_are_accepted() -> None:
    data = example_data()
    dev(data)["platform"]["token_secret"]["readers"] = ["arn:aws:iam::111111111111:role/ci"]
    assert problems(data) == []


@pytest.mark.parametrize(
    ("topic", "place"),
    [
        ("arn:aws:sns:us-east-1:111111111111:alarms", "region us-east-1, account 111111111111"),
        ("arn:aws:sns:eu-west-1:999999999999:alarms", "region eu-west-1, account 999999999999"),
    ],
)
def test_fails_on_topic_of_another_region_or_account(topic: str, place: str) -> None:
    data = example_data()
    dev(data)["platform"]["alarms"] = {"sns_topic_arn": topic}
    (problem,) = problems(data)
    assert problem.startswith(
        f"environments[0].platform.alarms.sns_topic_arn: {topic!r} is in {place}, but this "
        "environment is region eu-west-1, account 111111111111"
    )


def test_topic_of_the_stacks_region_and_account_is_accepted() -> None:
    data = example_data()
    dev(data)["platform"]["alarms"] = {"sns_topic_arn": "arn:aws:sns:eu-west-1:111111111111:a"}
    assert problems(data) == []


# --- every conflict in one run ----------------------------------------------------------------


def test_all_project_conflicts_are_reported_in_one_run() -> None:
    data = example_data()
    projects = dev(data)["projects"]
    twin = copy.deepcopy(projects[0])  # same name and repository as projects[0]
    other_region = copy.deepcopy(projects[1])
    other_region["name"] = "fraud-eu"
    other_region["github"]["repository"] = "fraud-eu"
    other_region["code_connection"] = other_region["code_connection"].replace(
        "eu-west-1", "eu-west-2"
    )
    projects += [twin, other_region]
    dev(data)["platform"]["deployer_principal_arn"] = "arn:aws:iam::999999999999:role/x"
    found = problems(data)
    assert [p.split(":", 1)[0] for p in found] == [
        "environments[0].projects[2].github",
        "environments[0].projects[2].name",
        "environments[0].projects[3].code_connection",
        "environments[0].platform.deployer_principal_arn",
    ]


def test_all_conflicts_between_environments_are_reported_in_one_run() -> None:
    data = example_data()
    prod = data["environments"][1]
    prod["name"] = "dev"  # the same stack name as environments[0]
    prod["projects"][0]["github"]["branch"] = "main"  # dev's churn-model branch too
    found = problems(data)
    assert [p.split(":", 1)[0] for p in found] == [
        "environments[1].name",
        "environments[1].projects[0].github",
    ]


# --- project names whose resource name patterns meet ------------------------------------------

# Project names: a letter, then letters, digits and single inner hyphens.
NAME = st.lists(
    st.tuples(st.sampled_from("abcp"), st.text(alphabet="abp0", max_size=3)).map("".join),
    min_size=1,
    max_size=3,
).map("-".join)
# SageMaker project ids: 'p-' and 12 lowercase letters or digits.
PROJECT_IDS = st.text(alphabet="abcdp0123456789", min_size=12, max_size=12).map("p-".__add__)


@st.composite
def name_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two project names, often one built from the other as the issue's case."""
    a = draw(NAME)
    b = draw(
        st.one_of(
            NAME,
            NAME.map(lambda tail: f"{a}-p-{tail}"),
            st.just(f"{a}-p"),
            NAME.map(lambda tail: f"{a}-{tail}"),
            NAME.map(lambda head: f"{head}-{a}"),
        )
    )
    return (a, b) if draw(st.booleans()) else (b, a)


_ONE_ENV = {"environments": example_data()["environments"][:1]}


def _pair_config(first: str, second: str) -> dict[str, Any]:
    data = copy.deepcopy(_ONE_ENV)
    projects = dev(data)["projects"]
    projects[0]["name"], projects[1]["name"] = first, second
    return data


def _meets(pattern_of: str, names_of: str, project_id: str) -> bool:
    """Whether ``pattern_of``'s IAM name pattern (any project id) matches a resource name of
    ``names_of`` (IAM wildcards: '*' any run, '?' one character, as fnmatch without '[')."""
    return fnmatch.fnmatchcase(group_in_arn(names_of, project_id), group_in_arn(pattern_of, None))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(pair=name_pairs(), project_id=PROJECT_IDS)
def test_project_names_whose_patterns_meet_are_refused(
    pair: tuple[str, str], project_id: str
) -> None:
    """Accepted: neither project's name pattern matches the other's resource names (for any
    generated project id). Refused for '-p': such a match exists."""
    first, second = pair
    names_ok = all(
        re.fullmatch(PROJECT_NAME_PATTERN, n) and len(n) <= PROJECT_NAME_MAX_LENGTH for n in pair
    )
    if not names_ok or first.lower() == second.lower():
        return
    found = problems(_pair_config(first, second))
    refused = [p for p in found if "followed by '-p" in p]
    meets = _meets(first, second, project_id) or _meets(second, first, project_id)
    if meets:
        assert refused, (pair, found)
    if not refused:
        assert not meets, pair
    else:
        # The reason holds: with a SageMaker project id of the usual shape, they meet.
        witness = "p-0123456789ab"
        assert _meets(first, second, witness) or _meets(second, first, witness), pair


def test_fails_on_the_issues_pair() -> None:
    found = problems(_pair_config("churn-model", "churn-model-p-x"))
    assert found == [
        "environments[0].projects[1].name: 'churn-model-p-x' is projects[0]'s name "
        "'churn-model' followed by '-p'; the name pattern of 'churn-model''s resources "
        "('churn-model-p-*') would match this project's ('churn-model-p-x-p-<id>'): rename one"
    ]


def test_fails_on_a_name_followed_by_p_alone() -> None:
    """'churn-p''s resources are 'churn-p-p-<id>', which 'churn-p-*' matches."""
    assert _meets("churn", "churn-p", "p-0123456789ab")
    (problem,) = problems(_pair_config("churn-p", "churn"))
    assert problem.startswith("environments[0].projects[0].name: 'churn-p' is projects[1]'s")


def test_names_that_merely_share_a_prefix_are_accepted() -> None:
    assert problems(_pair_config("churn", "churn-pp")) == []
    assert problems(_pair_config("churn", "churn-model")) == []


def test_regions_listed_are_those_of_the_table() -> None:
    assert {REGION_PARTITION[r] for r in AWS_REGIONS} == {"aws", "aws-cn", "aws-us-gov"}


def test_free_text_that_mentions_an_arn_is_not_an_arn() -> None:
    data = example_data()
    dev(data)["platform"]["product"] = {"description": "uses arn:aws-cn:iam::1:role/x, see docs"}
    assert problems(data) == []


# --- whole messages of the environment's account checks ---------------------------------------


def test_fails_on_a_permissions_boundary_of_another_account() -> None:
    data = example_data()
    dev(data)["platform"]["permissions_boundary_arn"] = "arn:aws:iam::999999999999:policy/boundary"
    assert problems(data) == [
        "environments[0].platform.permissions_boundary_arn: "
        "'arn:aws:iam::999999999999:policy/boundary' belongs to account 999999999999, not "
        "111111111111; a permissions boundary is a managed policy of this account (or an AWS "
        "managed policy)"
    ]


@pytest.mark.parametrize(
    "boundary",
    ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::111111111111:policy/boundary"],
)
def test_a_boundary_of_aws_or_of_the_account_is_accepted(boundary: str) -> None:
    data = example_data()
    dev(data)["platform"]["permissions_boundary_arn"] = boundary
    assert problems(data) == []


def test_topic_of_another_place_gets_the_whole_message() -> None:
    data = example_data()
    dev(data)["platform"]["alarms"] = {"sns_topic_arn": "arn:aws:sns:us-east-1:999999999999:alarms"}
    assert problems(data) == [
        "environments[0].platform.alarms.sns_topic_arn: "
        "'arn:aws:sns:us-east-1:999999999999:alarms' is in region us-east-1, account "
        "999999999999, but this environment is region eu-west-1, account 111111111111; "
        "CloudWatch alarms notify a topic of their own region and the toolkit grants nothing "
        "on another account's topic: give a topic of this account and region, or list emails "
        "instead"
    ]


def _dev_and_dev_x(mine: str, theirs: str) -> dict[str, Any]:
    """'dev' (account 111111111111) with a project ``mine`` first, and 'dev-x' in the same
    account (another region) with one project ``theirs``."""
    data = example_data()
    other = copy.deepcopy(dev(data))
    other.update(name="dev-x", region="eu-west-2")
    other["platform"]["auth_mode"] = "access_keys"
    project = other["projects"][0]
    project.update(name=theirs, code_connection="create")
    project["github"]["repository"] = theirs
    other["projects"] = [project]
    dev(data)["projects"][0]["name"] = mine
    data["environments"].append(other)
    return data


def test_iam_names_of_two_environments_meet() -> None:
    """'dev' + 'x-model' and 'dev-x' + 'model' both name roles mlops-dev-x-model-..."""
    assert problems(_dev_and_dev_x("x-model", "model")) == [
        "environments[0].projects[0].name: 'x-model' in environment 'dev' and "
        "environments[3].projects[0] ('model') in environment 'dev-x' give the same IAM role "
        "names (mlops-dev-x-model-...) in account 111111111111; rename one project or "
        "environment"
    ]


def test_iam_names_apart_when_the_project_lacks_the_environment_suffix() -> None:
    """'churn-model' in 'dev' is not 'x-' + 'urn-model': mlops-dev-churn-model-... and
    mlops-dev-x-urn-model-... differ, though 'urn-model' is 'churn-model' cut after
    len('x-') characters."""
    assert problems(_dev_and_dev_x("churn-model", "urn-model")) == []


def test_a_second_oidc_provider_in_one_account_names_the_arn_to_reuse() -> None:
    """Two environments of one account may not both create GitHub's OIDC provider: the message
    gives the ARN of the one already created (its account filled in)."""
    data = example_data()
    second = copy.deepcopy(dev(data))
    second["name"] = "dev2"
    for project in second["projects"]:
        project["name"] += "-b"
        project["github"]["branch"] = "dev2"
    data["environments"].append(second)
    assert (
        "environments[3].platform.oidc_provider_arn: environments[0] already creates the GitHub "
        "OIDC provider of account 111111111111 (an account holds only one); set "
        "oidc_provider_arn here to 'arn:aws:iam::111111111111:oidc-provider/"
        "token.actions.githubusercontent.com' to reuse it"
    ) in problems(data)
