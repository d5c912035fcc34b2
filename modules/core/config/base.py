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

PARTITION = r"aws|aws-cn|aws-us-gov"
ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")
# SageMaker CreateProject: ProjectName pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$
SAGEMAKER_PROJECT_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
GITHUB_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
GITHUB_LOGIN_RE = GITHUB_OWNER_RE
GITHUB_TEAM_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
IAM_ROLE_ARN_RE = re.compile(rf"^arn:(?:{PARTITION}):iam::(\d{{12}}):role/[\w+=,.@/-]{{1,512}}$")
IAM_PRINCIPAL_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITION}):iam::(\d{{12}}):(?:role|user)/[\w+=,.@/-]{{1,512}}$"
)
OIDC_PROVIDER_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITION}):iam::(\d{{12}}):oidc-provider/token\.actions\.githubusercontent\.com$"
)
CONNECTION_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITION}):(?:codeconnections|codestar-connections):"
    r"([a-z0-9-]+):(\d{12}):connection/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
S3_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
TF_CLOUD_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,90}$")
SNS_TOPIC_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITION}):sns:[a-z]{{2}}(?:-[a-z]+)+-\d{{1,2}}:\d{{12}}:[A-Za-z0-9_-]{{1,256}}$"
)
# Deliberately plain: SNS only needs something deliverable; the address confirms by mail.
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f${}%]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")
TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{0,256}$")

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
    if not REGION_RE.match(value):
        raise _fail("bad_region", f"{value!r} is not an AWS region code; e.g. 'eu-west-1'")
    return value
