"""Shared pieces of the config models: field patterns, the error type, the base model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
)
from pydantic_core import PydanticCustomError

from modules.core.aws_facts import partition_pattern
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
PARTITION = partition_pattern()
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

# Regions of the partitions the ARN patterns accept (aws, aws-cn, aws-us-gov). A static list,
# generated from botocore's endpoints data (botocore/data/endpoints.json, "partitions" ->
# "regions", botocore 1.44.8, pinned via boto3 in requirements-dev.txt); a region AWS adds
# later needs a line here (tests/modules/core/test_config_input.py compares with botocore).
AWS_REGIONS: frozenset[str] = frozenset(
    {
        # aws
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
        # aws-cn
        "cn-north-1",
        "cn-northwest-1",
        # aws-us-gov
        "us-gov-east-1",
        "us-gov-west-1",
    }
)

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


class ConfigError(Exception):
    """A configuration file that cannot be used; ``problems`` holds one line per field."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun} in the configuration:\n{lines}")


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


class _Model(BaseModel):
    """Base: unknown keys are errors, values are frozen, types are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def check_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise _fail(
            "bad_region",
            f"{value!r} is not an AWS region of the aws, aws-cn or aws-us-gov partitions; "
            "e.g. 'eu-west-1'",
        )
    return value


def check_no_template(value: str) -> str:
    """Refuse ``${`` / ``%{`` where Terraform cannot take a literal (backend settings)."""
    if any(seq in value for seq in TEMPLATE_SEQUENCES):
        raise _fail(
            "template_sequence",
            f"{value!r} contains '${{' or '%{{', which Terraform would try to evaluate; "
            "backend settings cannot hold expressions: remove it",
        )
    return value
