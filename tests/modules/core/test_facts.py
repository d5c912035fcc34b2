"""One fact, one place: modules/core/aws_facts.py and github_facts.py hold what AWS and GitHub
fix; these tests compare them with the published sources, find every copy the README, the
schema and checkov_skips.yaml make of them, and fail on a second literal copy in the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.loaders
import pytest
from policy_sentry.querying.actions import get_action_data

from modules.core import aws_facts, github_facts
from modules.core.config import base
from modules.core.function_source import import_function_module

ROOT = Path(__file__).resolve().parents[3]
CODE_TREES = ("modules", "lambda_src", "tools", "layer_build")


def _botocore_partitions() -> dict[str, dict[str, object]]:
    data = botocore.loaders.create_loader().load_data("endpoints")
    return {p["partition"]: p for p in data["partitions"]}


def _code_files() -> list[Path]:
    return sorted(p for tree in CODE_TREES for p in (ROOT / tree).rglob("*.py"))


# --- partitions -------------------------------------------------------------------------------


def test_partitions_are_botocores_and_each_region_maps_to_its_own() -> None:
    published = _botocore_partitions()
    assert set(aws_facts.PARTITIONS) == set(aws_facts.PARTITION_REGION_PREFIXES)
    for partition in aws_facts.PARTITIONS:
        regex = re.compile(str(published[partition]["regionRegex"]))
        regions = published[partition]["regions"]
        assert isinstance(regions, dict) and regions, partition
        for region in regions:
            assert regex.match(region), (partition, region)
            assert aws_facts.partition_of_region(region) == partition, region
    # every region the config accepts belongs to one of these partitions
    assert {aws_facts.partition_of_region(r) for r in base.AWS_REGIONS} == {
        "aws",
        "aws-cn",
        "aws-us-gov",
    }


def test_the_trigger_functions_copies_of_githubs_api_facts_are_the_same() -> None:
    config = import_function_module("github_trigger.config")
    dispatch = import_function_module("github_trigger.dispatch")
    assert config.DEFAULT_GITHUB_API_URL == github_facts.GITHUB_API_URL == "https://api.github.com"
    # GitHub REST docs, "API Versions": the version named in X-GitHub-Api-Version
    assert dispatch.API_VERSION == github_facts.GITHUB_API_VERSION == "2022-11-28"
    source = (ROOT / "lambda_src/github_trigger/dispatch.py").read_text(encoding="utf-8")
    assert f'"Accept": "{github_facts.GITHUB_MEDIA_TYPE}"' in source


def test_the_trigger_functions_copy_of_the_partitions_is_the_same() -> None:
    # The function ships alone in its zip and cannot import modules/: its one copy is compared.
    source = (ROOT / "lambda_src/github_trigger/config.py").read_text(encoding="utf-8")
    match = re.search(r"^PARTITIONS = \(([^)]*)\)", source, re.MULTILINE)
    assert match is not None
    assert tuple(re.findall(r'"([a-z-]+)"', match.group(1))) == aws_facts.PARTITIONS


def test_the_configs_region_table_has_the_same_partitions() -> None:
    # modules/core/config/base.py keeps the regions per partition (generated from botocore);
    # its partitions and its region -> partition mapping are aws_facts'.
    assert set(base.REGION_PARTITION.values()) == set(aws_facts.PARTITIONS)
    for region, partition in base.REGION_PARTITION.items():
        assert aws_facts.partition_of_region(region) == partition, region


def test_config_arn_patterns_accept_exactly_the_partitions() -> None:
    for partition in aws_facts.PARTITIONS:
        assert base.IAM_ROLE_ARN_RE.fullmatch(f"arn:{partition}:iam::123456789012:role/r")
    for other in ("aws-iso", "awsx", "aws-"):
        assert not base.IAM_ROLE_ARN_RE.fullmatch(f"arn:{other}:iam::123456789012:role/r")


# --- read-only AWS operations -----------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "iam:GetRole",
        "iam:ListOpenIDConnectProviders",
        "lambda:GetAccountSettings",
        "s3:GetBucketVersioning",
        "secretsmanager:DescribeSecret",
        "sagemaker:DescribeDomain",
        "sts:GetCallerIdentity",
    ],
)
def test_read_only_prefixes_match_reads_in_aws_authorization_data(action: str) -> None:
    service, name = action.split(":")
    assert name.startswith(aws_facts.READ_ONLY_ACTION_PREFIXES)
    levels = {d["access_level"] for d in get_action_data(service, name)[service]}
    assert levels <= {"Read", "List"}, (action, levels)


def test_read_only_prefixes_refuse_writes_in_aws_authorization_data() -> None:
    for action in ("iam:CreateRole", "lambda:PutFunctionConcurrency", "s3:PutObject"):
        service, name = action.split(":")
        levels = {d["access_level"] for d in get_action_data(service, name)[service]}
        assert "Write" in levels or "Permissions management" in levels, action
        assert not name.startswith(aws_facts.READ_ONLY_ACTION_PREFIXES)


# --- Lambda -----------------------------------------------------------------------------------


def test_lambda_limits_are_the_documented_values() -> None:
    # Lambda developer guide, "Configuring reserved concurrency for a function": "You can
    # reserve up to the Unreserved account concurrency value minus 100."
    assert aws_facts.LAMBDA_UNRESERVED_MINIMUM == 100
    # Lambda quotas: "Function environment variables: 4 KB"
    assert aws_facts.LAMBDA_ENVIRONMENT_LIMIT_BYTES == 4 * 1024


# Every statement of how much concurrency Lambda keeps unreserved, in the texts a user reads.
KEEPS = re.compile(r"[Kk]eeps\s+(\d+)\b[^.]{0,60}?unreserved")
UNRESERVED_TEXTS = (
    "README.md",
    "docs/configuration.md",
    "config/schema.json",
    "checkov_skips.yaml",
)


@pytest.mark.parametrize("relative", UNRESERVED_TEXTS)
def test_docs_schema_and_checkov_state_lambdas_unreserved_minimum(relative: str) -> None:
    text = (ROOT / relative).read_text(encoding="utf-8")
    if relative.endswith(".json"):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    text = re.sub(r"\s+", " ", text)
    numbers = [int(n) for n in KEEPS.findall(text)]
    assert numbers, f"{relative} no longer says how much Lambda keeps unreserved"
    assert set(numbers) == {aws_facts.LAMBDA_UNRESERVED_MINIMUM}, (relative, numbers)


def test_the_unreserved_pattern_catches_a_wrong_figure() -> None:
    assert KEEPS.findall("Lambda keeps 10 unreserved executions per account") == ["10"]
    assert KEEPS.findall("Lambda keeps 100 of the account's concurrency unreserved") == ["100"]


# --- GitHub OIDC ------------------------------------------------------------------------------


def test_github_oidc_values_are_githubs() -> None:
    # GitHub docs, "Configuring OpenID Connect in Amazon Web Services": "For the provider URL:
    # Use https://token.actions.githubusercontent.com" and "For the "Audience": Use
    # sts.amazonaws.com if you are using the official action."
    assert github_facts.GITHUB_OIDC_URL == "https://token.actions.githubusercontent.com"
    assert github_facts.GITHUB_OIDC_AUDIENCE == "sts.amazonaws.com"
    assert github_facts.oidc_provider_arn_template("aws", "123456789012") == (
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    )
    assert base.OIDC_PROVIDER_ARN_RE.fullmatch(
        github_facts.oidc_provider_arn_template("aws-cn", "123456789012")
    )


# --- no second copy in the code ---------------------------------------------------------------

ONE_PLACE = {
    "token.actions.githubusercontent.com": "modules/core/github_facts.py",
    '"Get", "List", "Describe", "Head"': "modules/core/aws_facts.py",
    '"aws-us-gov"': "modules/core/aws_facts.py",
    "= 4096": "modules/core/aws_facts.py",
    '"idempotency_key"': "lambda_src/github_trigger/ledger_schema.py",
    '"2022-11-28"': "modules/core/github_facts.py",
    '"https://api.github.com"': "modules/core/github_facts.py",
    '"application/vnd.github+json"': "modules/core/github_facts.py",
    '"expires_at"': "lambda_src/github_trigger/ledger_schema.py",
}
# The function's own copy of the partitions (compared above); docstrings and comments may name
# the host, so only string literals count.
ALLOWED_COPIES = {
    ('"aws-us-gov"', "lambda_src/github_trigger/config.py"),
    ('"aws-us-gov"', "modules/core/config/base.py"),  # its region table, compared above
    ('"2022-11-28"', "lambda_src/github_trigger/dispatch.py"),
    ('"https://api.github.com"', "lambda_src/github_trigger/config.py"),
    ('"application/vnd.github+json"', "lambda_src/github_trigger/dispatch.py"),
}


@pytest.mark.parametrize("literal", sorted(ONE_PLACE))
def test_each_fact_is_written_once_in_the_code(literal: str) -> None:
    owners = []
    for path in _code_files():
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        quoted = literal if literal.startswith(('"', "=")) else f'"{literal}'
        code_lines = [
            line
            for line in text.splitlines()
            if quoted in line or (not literal.startswith(('"', "=")) and f"/{literal}" in line)
        ]
        code_lines = [line for line in code_lines if not line.lstrip().startswith("#")]
        if code_lines and (literal, relative) not in ALLOWED_COPIES:
            owners.append(relative)
    assert owners == [ONE_PLACE[literal]], owners


def test_the_helpers_spell_the_facts_out() -> None:
    # called here, not only at import time (where the config's ARN patterns are built)
    assert aws_facts.partition_pattern() == "aws|aws-cn|aws-us-gov"
    assert aws_facts.partition_of_region("us-gov-west-1") == "aws-us-gov"
    assert aws_facts.partition_of_region("cn-northwest-1") == "aws-cn"
    assert aws_facts.partition_of_region("eu-west-1") == "aws"
    # the placeholders the config's messages show
    assert github_facts.oidc_provider_arn_template() == (
        "arn:<partition>:iam::<account>:oidc-provider/token.actions.githubusercontent.com"
    )
    assert github_facts.oidc_provider_arn_template("aws") == (
        "arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com"
    )
