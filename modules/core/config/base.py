"""Shared pieces of the config models: field patterns, the error type, the base model."""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
)
from pydantic_core import PydanticCustomError

from modules.core.github_facts import GITHUB_OIDC_HOST
from modules.core.template_contract import PROJECT_NAME_PATTERN

# Every pattern here is applied with ``fullmatch`` (``re.match(...$)`` would accept a trailing
# newline), and patterns that describe AWS or GitHub identifiers are ASCII-only (``re.ASCII``:
# Python's ``\w`` would otherwise accept any Unicode letter, which IAM refuses).
# None of these patterns admits '$', '%' or '{': a value they accept cannot hold a Terraform
# template sequence, so it reaches cdk.tf.json unescaped and is still a literal. Free text
# (platform.product.*) goes through modules.core.hcl.literal instead, and backend settings,
# which cannot be escaped, refuse "${" and "%{" (check_no_template).
# tests/test_config_literal_output.py proves this for every string field of the models.

# Regions of the partitions the ARN patterns accept, each with its partition: the one place
# that says which partition a region belongs to (ARN partition checks, region spelling). A
# static table generated from botocore's endpoints data (botocore/data/endpoints.json,
# "partitions" -> "partition" / "regions", botocore 1.44.8, pinned via boto3 in
# requirements.txt); a region AWS adds later needs a line here
# (tests/modules/core/test_config_cross.py compares the table with botocore's data).
_PARTITION_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
REGION_PARTITION: dict[str, str] = {
    region: partition for partition, regions in _PARTITION_REGIONS.items() for region in regions
}
AWS_REGIONS: frozenset[str] = frozenset(REGION_PARTITION)
# The ARN partitions accepted, as a pattern alternative.
PARTITION = "|".join(_PARTITION_REGIONS)
ACCOUNT_RE = re.compile(r"\d{12}", re.ASCII)
ENV_NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]|[a-z]")
# The project name is used both by SageMaker CreateProject (ProjectName pattern
# ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$, SageMaker API reference) and by the product template's
# SageMakerProjectName parameter (AllowedPattern, MaxLength); the intersection of the two is
# the template's own pattern (a letter first) with at most 32 characters. One constant in
# modules.core.template_contract serves the model and the rendered template.
SAGEMAKER_PROJECT_RE = re.compile(PROJECT_NAME_PATTERN)
# GitHub logins: 1-39 alphanumerics or single hyphens, not at either end (GitHub's sign-up rule).
GITHUB_OWNER_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
GITHUB_REPO_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
GITHUB_LOGIN_RE = GITHUB_OWNER_RE
# GitHub derives a team's slug from its name: lowercased, underscores kept, spaces and other
# characters replaced by '-' (GitHub REST "Get a team by name" takes the slug; e.g. "Justice
# League" -> justice-league). Upper case is accepted (GitHub URLs ignore case), '.' is not.
GITHUB_TEAM_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9_])?", re.ASCII)
IAM_ROLE_ARN_RE = re.compile(
    rf"arn:(?:{PARTITION}):iam::(\d{{12}}):role/[\w+=,.@/-]{{1,512}}", re.ASCII
)
# IAM CreateRole RoleName: pattern [\w+=,.@-]+, length 1-64 (IAM API reference).
IAM_ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
# Text shown to people (product owner, description, version title): no control characters
# (other than a description's newlines and tabs) and no invisible or bidirectional-override
# characters, which would make Studio show something other than what the file says.
INVISIBLE_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
# A managed policy usable as a permissions boundary: the account's own or an AWS managed one
# (IAM PutRolePermissionsBoundary: "a customer managed policy or an AWS managed policy").
IAM_POLICY_ARN_RE = re.compile(
    rf"arn:(?:{PARTITION}):iam::(\d{{12}}|aws):policy/[\w+=,.@/-]{{1,512}}", re.ASCII
)
IAM_PRINCIPAL_ARN_RE = re.compile(
    rf"arn:(?:{PARTITION}):iam::(\d{{12}}):(?:role|user)/[\w+=,.@/-]{{1,512}}", re.ASCII
)
OIDC_PROVIDER_ARN_RE = re.compile(
    rf"arn:(?:{PARTITION}):iam::(\d{{12}}):oidc-provider/{re.escape(GITHUB_OIDC_HOST)}"
)
CONNECTION_ARN_RE = re.compile(
    rf"arn:(?:{PARTITION}):(?:codeconnections|codestar-connections):"
    r"([a-z0-9-]+):(\d{12}):connection/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.ASCII,
)
SECRET_NAME_RE = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
S3_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
TF_CLOUD_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,90}")
# AWS tags (Tagging API reference, "Tag naming limits"): keys 1-128 and values 0-256 Unicode
# letters, digits, spaces and + - = . _ : / @; keys starting with 'aws:' are reserved. Most
# resources take 50 tags, but every stack has a Service Catalog portfolio and product, whose
# CreatePortfolio / CreateProduct ``Tags`` take at most 20 (botocore servicecatalog service
# model, AddTags max 20), and the provider sends default_tags with them.
TAG_KEY_RE = re.compile(r"[\w .:/=+\-@]{1,128}")
TAG_VALUE_RE = re.compile(r"[\w .:/=+\-@]{0,256}")
AWS_TAG_LIMIT = 20
# Tags the toolkit itself puts on resources: managed-by (provider default_tags),
# mlops:component (every taggable resource, modules.core.tagging) and
# sagemaker:studio-visibility (the product). They count against AWS_TAG_LIMIT.
TOOLKIT_TAG_KEYS = ("managed-by", "mlops:component", "sagemaker:studio-visibility")
MAX_USER_TAGS = AWS_TAG_LIMIT - len(TOOLKIT_TAG_KEYS)


# Terraform evaluates "${...}" and "%{...}" in every string of a .tf.json file (Terraform
# language docs, "Strings and Templates"). Backend blocks are read before any evaluation and
# cannot hold expressions at all, so a backend value holding either sequence is refused.
TEMPLATE_SEQUENCES = ("${", "%{")
SNS_TOPIC_ARN_RE = re.compile(
    rf"arn:(?:{PARTITION}):sns:[a-z]{{2}}(?:-[a-z]+)+-\d{{1,2}}:\d{{12}}:[A-Za-z0-9_-]{{1,256}}",
    re.ASCII,
)
# Deliberately plain: SNS only needs something deliverable; the address confirms by mail.
EMAIL_RE = re.compile(r"[^@\s\x00-\x1f${}%]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}", re.ASCII)

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


#: At most this many problems are listed; the rest are counted ("... and K more").
MAX_LISTED_PROBLEMS = 50
#: A listed problem is cut at this many characters (values in it are already cut by show()).
MAX_PROBLEM_CHARS = 1000
#: An echoed value is cut to about this many characters.
MAX_SHOWN_CHARS = 80

_SHOW = reprlib.Repr()
_SHOW.maxstring = MAX_SHOWN_CHARS
_SHOW.maxother = MAX_SHOWN_CHARS
_SHOW.maxlist = _SHOW.maxtuple = _SHOW.maxdict = _SHOW.maxset = 3
_SHOW.maxlevel = 2


def show(value: object) -> str:
    """``repr(value)`` cut to about :data:`MAX_SHOWN_CHARS` characters (a 500 KB value is
    echoed as its first and last characters), at a cost bounded by that size."""
    return _SHOW.repr(value)


class ConfigError(Exception):
    """A configuration file that cannot be used; ``problems`` holds one line per field.

    The message lists at most :data:`MAX_LISTED_PROBLEMS` of them (each at most
    :data:`MAX_PROBLEM_CHARS` characters) and counts the rest, so that what a 1 MiB file can
    make the toolkit print stays small (under 64 KB: tests/test_main_limits.py).
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        listed = [_one_line(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        lines = "\n".join(f"  - {p}" for p in listed)
        rest = len(self.problems) - len(listed)
        if rest:
            lines += f"\n  ... and {rest} more (fix the ones above and run again to see them)"
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun} in the configuration:\n{lines}")


def _one_line(problem: str) -> str:
    if len(problem) <= MAX_PROBLEM_CHARS:
        return problem
    return problem[: MAX_PROBLEM_CHARS - 20] + f"... ({len(problem)} characters)"


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring characters each count 1 ('eu-centrl-1' is 1 from 'eu-central-1')."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, prev2[j - 2] + 1)
            row.append(best)
        prev2, prev = prev, row
    return prev[-1]


def closest(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates nearest to ``word`` (ignoring case), if near enough to be a typo of it:
    at most a third of its length away (at least 1, at most 3 edits)."""
    if len(word) > 100:
        return []
    limit = max(1, min(3, len(word) // 3))
    scored = sorted((edit_distance(word.lower(), c.lower()), c) for c in set(candidates))
    best = [c for d, c in scored if d <= limit and d == scored[0][0]]
    return best[:3]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidates, or ``""``."""
    best = closest(word, candidates)
    if not best:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in best) + "?)"


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


#: The error kind of a cross-field check that found several problems at once.
SEVERAL = "several_problems"


def fail_all(problems: Sequence[str]) -> None:
    """Raise every problem a cross-field check found, so that one run reports them all
    (``loading`` lists each one on its own line); do nothing when there is none.

    Each problem starts with its path relative to the model that runs the check."""
    if len(problems) == 1:
        raise _fail(SEVERAL, problems[0])
    if problems:
        raise PydanticCustomError(
            SEVERAL, "{count} problems", {"count": len(problems), "problems": tuple(problems)}
        )


class _Model(BaseModel):
    """Base: unknown keys are errors, values are frozen, types are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def check_account_id(value: object) -> object:
    """An account id as YAML gives it (before validation): a quoted 12-digit string. A number
    is refused by name, since YAML drops its leading zeros."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise _fail(
            "account_not_string",
            f'{value} is a number; quote the account id (e.g. "012345678901") so YAML '
            "keeps its leading zeros",
        )
    if isinstance(value, str) and not ACCOUNT_RE.fullmatch(value):
        raise _fail("bad_account", f"{value!r} is not a 12-digit AWS account id")
    return value


def check_region(value: str) -> str:
    if value not in AWS_REGIONS:
        hint = did_you_mean(value, AWS_REGIONS) or "; e.g. 'eu-west-1'"
        raise _fail(
            "bad_region",
            f"{show(value)} is not an AWS region of the aws, aws-cn or aws-us-gov partitions{hint}",
        )
    return value


# Any ARN: arn:<partition>:<service>:<region or empty>:<account or empty>:<resource>.
_ARN_SHAPE_RE = re.compile(r"arn:([a-z][a-z-]*):[a-z0-9-]+:([a-z0-9-]*):(?:\d{12})?:\S+", re.ASCII)


def arn_partition_problem(arn: str, region: str) -> str | None:
    """Why ``arn`` cannot be used in an environment in ``region``, or ``None``: its partition
    must be the region's (an ``aws-cn`` role does not exist for an ``aws`` region's API), and a
    region it names must belong to that partition."""
    m = _ARN_SHAPE_RE.fullmatch(arn)
    if m is None:
        return None  # not an ARN (free text may mention one; its own pattern decides)
    partition, arn_region = m.group(1), m.group(2)
    expected = REGION_PARTITION.get(region)
    if expected is not None and partition != expected:
        return (
            f"{show(arn)} is in partition {partition!r} but region {region} is in partition "
            f"{expected!r}; use an ARN starting 'arn:{expected}:'"
        )
    if arn_region and REGION_PARTITION.get(arn_region) != partition:
        return (
            f"{show(arn)} names region {show(arn_region)}, which is not a region of partition "
            f"{partition!r}"
        )
    return None


def check_no_template(value: str) -> str:
    """Refuse ``${`` / ``%{`` where Terraform cannot take a literal (backend settings)."""
    if any(seq in value for seq in TEMPLATE_SEQUENCES):
        raise _fail(
            "template_sequence",
            f"{value!r} contains '${{' or '%{{', which Terraform would try to evaluate; "
            "backend settings cannot hold expressions: remove it",
        )
    return value
