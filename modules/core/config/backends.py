"""Where each environment keeps its Terraform state: local, s3 or HCP Terraform."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
)

from modules.core.config.base import S3_BUCKET_RE, TF_CLOUD_NAME_RE, _fail, _Model, check_region


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
        if not S3_BUCKET_RE.match(value) or ".." in value:
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
        if value is not None and (not value or value.startswith("/") or value.endswith("/")):
            raise _fail("bad_key", f"{value!r}: use an object key like 'mlops/dev.tfstate'")
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
        if value is not None and not TF_CLOUD_NAME_RE.match(value):
            raise _fail(
                "bad_name",
                f"{value!r}: use letters, digits, '-' and '_' (at most 90 characters)",
            )
        return value


Backend = Annotated[LocalBackend | S3Backend | CloudBackend, Field(discriminator="type")]
