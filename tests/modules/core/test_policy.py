"""IAM statements refuse what IAM would accept but the toolkit never grants (no synth here:
``policy_document`` itself is covered by the stacks' policy tests)."""

from __future__ import annotations

import pytest

from modules.core.policy import Condition, Statement


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
