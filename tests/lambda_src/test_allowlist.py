"""ALLOWED_TARGETS exactly: each target's digest, what is case-insensitive, the refusals."""

from __future__ import annotations

import pytest
from github_trigger.allowlist import DispatchTarget, decode_allowed_targets, encode_allowed_targets


def _target(
    owner: str = "acme",
    repository: str = "churn-model",
    workflow: str = "deploy.yml",
    ref: str = "main",
) -> DispatchTarget:
    return DispatchTarget(owner=owner, repository=repository, workflow=workflow, ref=ref)


def test_the_digest_is_96_bits_of_sha256_over_the_lower_case_name_workflow_and_ref() -> None:
    # base64url(sha256(b"acme/churn-model\ndeploy.yml\nmain")[:12])
    assert _target().digest() == "QknD9ezGfKgpv75H"
    assert _target(owner="ACME", repository="Churn-Model").digest() == "QknD9ezGfKgpv75H"
    assert _target(workflow="Deploy.yml").digest() == "kVwm3tbNJuYxKssQ"
    assert _target(ref="Main").digest() == "zLvUzk_D7uzXIljN"


@pytest.mark.parametrize(
    ("field", "value"),
    [("owner", ""), ("repository", "a\nb"), ("workflow", ""), ("ref", "main\n")],
)
def test_every_field_must_be_a_non_empty_line(field: str, value: str) -> None:
    with pytest.raises(ValueError) as raised:
        _target(**{field: value}).digest()
    assert str(raised.value) == f"DispatchTarget.{field} must be a non-empty line, got {value!r}"


def test_decoding_strips_blanks_and_accepts_nothing() -> None:
    assert decode_allowed_targets(" \n") == frozenset()
    assert decode_allowed_targets(" QknD9ezGfKgpv75H , kVwm3tbNJuYxKssQ\n") == frozenset(
        {"QknD9ezGfKgpv75H", "kVwm3tbNJuYxKssQ"}
    )
    assert encode_allowed_targets([_target(ref="Main"), _target()]) == (
        "QknD9ezGfKgpv75H,zLvUzk_D7uzXIljN"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("QknD9ezGfKgpv75H,", "entry 1 is not a 16-character target digest: ''"),
        ("QknD9ezGfKgpv75", "entry 0 is not a 16-character target digest: 'QknD9ezGfKgpv75'"),
        ("QknD9ezGfKgpv75HH", "entry 0 is not a 16-character target digest: 'QknD9ezGfKgpv75HH'"),
        ("QknD9ezGfKgpv75=", "entry 0 is not a 16-character target digest: 'QknD9ezGfKgpv75='"),
        ("x" * 41, f"entry 0 is not a 16-character target digest: '{'x' * 40}'"),
    ],
)
def test_malformed_entries_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        decode_allowed_targets(text)
    assert str(raised.value) == message
