"""Where each environment keeps its Terraform state: local, s3 or HCP Terraform."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
)

from modules.core.config.base import (
    S3_BUCKET_RE,
    TF_CLOUD_NAME_RE,
    _fail,
    _Model,
    check_no_template,
    check_region,
)

# Backend blocks are read by `terraform init` before anything is evaluated: a value there can
# never be escaped as a literal ("$${" would stay two dollars), so every free-text backend
# value is refused when it holds "${" or "%{" (check_no_template) or a control character.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# KMS key for the s3 backend: a key id, key ARN, alias name or alias ARN (KMS API reference,
# KeyId: 1-2048 characters).
_KMS_KEY_RE = re.compile(r"[A-Za-z0-9:/_-]{1,2048}", re.ASCII)
# HCP Terraform / Terraform Enterprise host: a DNS name, optionally with a port.
_HOSTNAME_RE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?::[0-9]{1,5})?",
    re.ASCII,
)
# HCP Terraform project names: letters, digits, inner spaces, '-' and '_', at most 40
# characters (HCP Terraform docs, "Create a project").
_TF_PROJECT_RE = re.compile(r"[A-Za-z0-9_-](?:[A-Za-z0-9 _-]{0,38}[A-Za-z0-9_-])?", re.ASCII)


def _plain_text(value: str) -> str:
    check_no_template(value)
    if _CONTROL_RE.search(value):
        raise _fail(
            "control_character",
            f"{value!r} holds a control or invisible character; remove it",
        )
    return value


class LocalBackend(_Model):
    """State in a local file, relative to the stack's directory in ``cdktf.out/stacks/<stack>``."""

    type: Literal["local"]
    path: str | None = Field(
        default=None,
        description="State file path relative to the stack directory. "
        "Default: terraform.<stack>.tfstate next to cdk.tf.json.",
    )

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is None:
            return value
        _plain_text(value)
        p = PurePosixPath(value)
        if p.is_absolute() or re.match(r"^[A-Za-z]:[\\/]", value):
            raise _fail(
                "absolute_path",
                f"{value!r} is absolute; use a path relative to the stack directory "
                "(an absolute path would make the synthesized JSON differ between machines)",
            )
        if not value.strip() or value.endswith("/"):
            raise _fail("bad_path", f"{value!r} is not a file path; e.g. 'terraform.tfstate'")
        return value


class S3Backend(_Model):
    """State in S3, encrypted, with S3-native locking (``use_lockfile``)."""

    type: Literal["s3"]
    bucket: str
    key: str | None = Field(default=None, description="Default: <stack>/terraform.tfstate")
    region: str | None = Field(default=None, description="Default: the environment's region")
    kms_key_id: str | None = Field(
        default=None, description="Default: the bucket's default encryption (SSE-S3 or SSE-KMS)"
    )

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not S3_BUCKET_RE.fullmatch(value) or ".." in value:
            raise _fail(
                "bad_bucket",
                f"{value!r} is not a valid S3 bucket name: use 3-63 lowercase letters, digits, "
                "dots and hyphens, starting and ending with a letter or digit",
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is None:
            return value
        _plain_text(value)
        # S3 object keys: at most 1024 bytes of UTF-8 (S3 user guide, "Naming objects").
        if (
            not value
            or value.startswith("/")
            or value.endswith("/")
            or len(value.encode("utf-8")) > 1024
        ):
            raise _fail(
                "bad_key",
                f"{value!r}: use an object key like 'mlops/dev.tfstate' (at most 1024 bytes)",
            )
        return value

    @field_validator("kms_key_id")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_RE.fullmatch(check_no_template(value)):
            raise _fail(
                "bad_kms_key",
                f"{value!r} is not a KMS key id, key ARN or alias; e.g. "
                "'arn:aws:kms:eu-west-1:111111111111:key/<key id>' or 'alias/terraform-state'",
            )
        return value


class CloudBackend(_Model):
    """HCP Terraform / Terraform Enterprise: one workspace per stack."""

    type: Literal["cloud"]
    organization: str
    workspace: str | None = Field(
        default=None, description="Default: the stack name (one workspace per stack)"
    )
    hostname: str = Field(default="app.terraform.io", description="Terraform Enterprise host")
    project: str | None = Field(default=None, description="Default: the organization's default")

    @field_validator("organization", "workspace")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not TF_CLOUD_NAME_RE.fullmatch(value):
            raise _fail(
                "bad_name",
                f"{value!r}: use letters, digits, '-' and '_' (at most 90 characters)",
            )
        return value

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if not _HOSTNAME_RE.fullmatch(check_no_template(value)) or len(value) > 253:
            raise _fail(
                "bad_hostname",
                f"{value!r} is not a host name; e.g. 'app.terraform.io' or 'tfe.example.com'",
            )
        return value

    @field_validator("project")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        if value is not None and not _TF_PROJECT_RE.fullmatch(check_no_template(value)):
            raise _fail(
                "bad_project",
                f"{value!r}: an HCP Terraform project name is 1-40 letters, digits, inner "
                "spaces, '-' and '_'",
            )
        return value


Backend = Annotated[LocalBackend | S3Backend | CloudBackend, Field(discriminator="type")]
