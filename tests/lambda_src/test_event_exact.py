"""The invocation payload, exactly: every refusal's full text, every ignored event's reason and
code, the bounds of each field and of the approval time."""

from __future__ import annotations

from typing import Any

import pytest
from github_trigger.config import (
    ApprovedModelPackage,
    IgnoredEvent,
    parse_invocation,
    valid_ref,
)
from github_trigger.errors import InvalidEventError

from tests.lambda_src.trigger_support import load_fixture

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model-p-abc123def456/3"
GROUP = "churn-model-p-abc123def456"


def _payload(github: dict[str, Any] | None = None, **detail: Any) -> dict[str, Any]:
    payload = load_fixture("model_package_approved")
    payload["github"].update(github or {})
    for key, value in detail.items():
        if value is None:
            payload["event"]["detail"].pop(key, None)
        else:
            payload["event"]["detail"][key] = value
    return payload


def _refused(payload: object, **kwargs: Any) -> str:
    with pytest.raises(InvalidEventError) as raised:
        parse_invocation(payload, **kwargs)
    return str(raised.value)


def test_an_approval() -> None:
    decision = parse_invocation(_payload(github={"owner": " acme-user "}))
    assert isinstance(decision, ApprovedModelPackage)
    assert decision.event_id == "5b8f6c1e-2d4a-4f0e-9c61-0b7d3e1a9f42"
    assert decision.approval_time == "1772460311000"
    assert decision.idempotency_key == f"{ARN}#approved@1772460311000"
    assert decision.target.owner == "acme-user"
    assert decision.target.token_secret_name == "sagemaker-github-token"
    assert decision.target.model_package_group_name == GROUP


def test_payload_shape_refusals() -> None:
    assert _refused(["x"]) == "payload must be a JSON object, got list"
    payload = _payload()
    payload["github"] = "x"
    assert _refused(payload) == (
        "payload.github must be an object with owner, repository, workflow, ref, "
        "token_secret_name and model_package_group_name (set by the EventBridge target's "
        "input transformer)"
    )
    payload = _payload()
    payload["event"] = None
    assert _refused(payload) == "payload.event must be the original EventBridge event object"
    payload = _payload()
    payload["event"]["detail"] = []
    assert _refused(payload) == "event.detail must be an object"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("owner", None, "github.owner must be a non-empty string, got None"),
        ("repository", " ", "github.repository must be a non-empty string, got ' '"),
        ("token_secret_name", 5, "github.token_secret_name must be a non-empty string, got 5"),
        (
            "model_package_group_name",
            "",
            "github.model_package_group_name must be a non-empty string, got ''",
        ),
        ("owner", "-acme", "github.owner is not a GitHub user or organization name: '-acme'"),
        (
            "owner",
            "a" * 40,
            f"github.owner is not a GitHub user or organization name: '{'a' * 40}'",
        ),
        ("repository", "..", "github.repository is not a repository name: '..'"),
        ("repository", ".", "github.repository is not a repository name: '.'"),
        ("repository", "r" * 101, f"github.repository is not a repository name: '{'r' * 101}'"),
        (
            "workflow",
            "deploy.txt",
            "github.workflow must be a workflow file name (e.g. deploy.yml) or a numeric id, "
            "got 'deploy.txt'",
        ),
        (
            "ref",
            "a..b",
            "github.ref must be a branch or tag name (letters, digits, '.', '_', '/', '-'; at "
            "most 255 characters; git's ref rules), got 'a..b'",
        ),
        (
            "ref",
            " main",
            "github.ref must be a branch or tag name (letters, digits, '.', '_', '/', '-'; at "
            "most 255 characters; git's ref rules), got ' main'",
        ),
    ],
)
def test_github_block_refusals(field: str, value: Any, message: str) -> None:
    assert _refused(_payload(github={field: value})) == message


@pytest.mark.parametrize(
    ("github", "accepted"),
    [
        ({"owner": "a" * 39}, True),
        ({"owner": "a"}, True),
        ({"repository": "r" * 100}, True),
        ({"repository": "a.b_c-d"}, True),
        ({"workflow": "123"}, True),
        ({"workflow": "deploy.yaml"}, True),
        ({"workflow": "x.yml.bak"}, False),
    ],
)
def test_github_block_bounds(github: dict[str, str], accepted: bool) -> None:
    payload = _payload(github=github)
    if accepted:
        assert isinstance(parse_invocation(payload), ApprovedModelPackage)
    else:
        _refused(payload)


@pytest.mark.parametrize(
    ("ref", "valid"),
    [
        ("main", True),
        ("refs/heads/release/2026-03", True),
        ("v1.0", True),
        ("a" * 255, True),
        ("a" * 256, False),
        ("", False),
        ("-main", False),
        ("/main", False),
        ("main/", False),
        ("main.", False),
        ("a//b", False),
        (".hidden", False),
        ("a/.hidden", False),
        ("a.lock", False),
        ("a/b.lock/c", False),
        ("a..b", False),
        ("main\n", False),
    ],
)
def test_refs(ref: str, valid: bool) -> None:
    assert valid_ref(ref) is valid


def test_ignored_events_say_why() -> None:
    payload = _payload()
    payload["event"]["detail-type"] = "Other"
    ignored = parse_invocation(payload)
    assert ignored == IgnoredEvent(
        reason="detail-type is 'Other', not 'SageMaker Model Package State Change'",
        model_package_arn=None,
        target=ignored.target,
        code="other-event",
    )
    ignored = parse_invocation(_payload(ModelPackageGroupName="other"))
    assert isinstance(ignored, IgnoredEvent)
    assert (ignored.reason, ignored.code, ignored.model_package_arn) == (
        f"model package group is 'other', this rule dispatches for {GROUP!r}",
        "other-group",
        ARN,
    )
    ignored = parse_invocation(_payload(ModelApprovalStatus="PendingManualApproval"))
    assert isinstance(ignored, IgnoredEvent)
    assert (ignored.reason, ignored.code) == (
        "ModelApprovalStatus is 'PendingManualApproval', not 'Approved'",
        "not-approved",
    )
    ignored = parse_invocation(_payload(LastModifiedTime=None))
    assert isinstance(ignored, IgnoredEvent)
    assert (ignored.reason, ignored.code) == (
        "the package was registered already Approved (LastModifiedTime is not after "
        "CreationTime): only a person's approval dispatches; set "
        "platform.auto_approve_staging to allow it",
        "registered-approved",
    )


@pytest.mark.parametrize(
    ("times", "registered"),
    [
        ({"LastModifiedTime": None}, True),
        ({"CreationTime": None}, False),
        ({"LastModifiedTime": 1772459101000}, True),  # equal to CreationTime
        ({"LastModifiedTime": 1772459100000}, True),  # before it
        ({"LastModifiedTime": 1772459101001}, False),
        ({"LastModifiedTime": 1772459101000.0}, True),
        ({"LastModifiedTime": "2026-03-02", "CreationTime": "2026-03-02"}, True),
        ({"LastModifiedTime": "2026-03-03", "CreationTime": "2026-03-02"}, False),
        ({"LastModifiedTime": "1772459101000"}, True),  # text equal to the number
    ],
)
def test_registered_approved(times: dict[str, Any], registered: bool) -> None:
    payload = _payload(**times)
    assert isinstance(parse_invocation(payload), IgnoredEvent) is registered
    assert isinstance(
        parse_invocation(payload, allow_registered_approved=True), ApprovedModelPackage
    )


@pytest.mark.parametrize(
    ("times", "approval_time"),
    [
        ({"LastModifiedTime": 1772460311000.0}, "1772460311000"),
        ({"LastModifiedTime": "2026-03-02T14:05:11.000+00:00"}, "2026-03-02T14:05:11.000+00:00"),
        ({"LastModifiedTime": "x" * 40}, "x" * 40),
        ({"LastModifiedTime": None}, "1772459101000"),
        ({"LastModifiedTime": True}, "1772459101000"),  # a bool is no time: CreationTime
        ({"LastModifiedTime": 1}, "1"),
    ],
)
def test_approval_times(times: dict[str, Any], approval_time: str) -> None:
    decision = parse_invocation(_payload(**times), allow_registered_approved=True)
    assert isinstance(decision, ApprovedModelPackage)
    assert decision.approval_time == approval_time


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ({"LastModifiedTime": 0}, "event.detail.LastModifiedTime is not a timestamp: 0"),
        ({"LastModifiedTime": 1.5}, "event.detail.LastModifiedTime is not a timestamp: 1.5"),
        ({"LastModifiedTime": -1.0}, "event.detail.LastModifiedTime is not a timestamp: -1.0"),
        (
            {"LastModifiedTime": "x" * 41},
            f"event.detail.LastModifiedTime is not a timestamp: '{'x' * 41}'",
        ),
        ({"LastModifiedTime": "a b"}, "event.detail.LastModifiedTime is not a timestamp: 'a b'"),
        ({"LastModifiedTime": ""}, "event.detail.LastModifiedTime is not a timestamp: ''"),
        (
            {"LastModifiedTime": None, "CreationTime": [1]},
            "event.detail.CreationTime is not a timestamp: [1]",
        ),
        (
            {"LastModifiedTime": None, "CreationTime": None},
            "event.detail has neither LastModifiedTime nor CreationTime: the approval time is "
            "needed to tell a new approval from a redelivery",
        ),
    ],
)
def test_refused_approval_times(times: dict[str, Any], message: str) -> None:
    assert _refused(_payload(**times), allow_registered_approved=True) == message


@pytest.mark.parametrize(
    ("event_id", "accepted"),
    [("e" * 128, True), ("e", True), ("e" * 129, False), ("", False), (5, False)],
)
def test_event_ids(event_id: Any, accepted: bool) -> None:
    payload = _payload()
    payload["event"]["id"] = event_id
    if accepted:
        decision = parse_invocation(payload)
        assert isinstance(decision, ApprovedModelPackage) and decision.event_id == event_id
    else:
        assert _refused(payload) == (
            f"event.id must be a non-empty string of at most 128 characters, got {event_id!r}"
        )


def test_a_refused_arn_is_named_with_the_grammar() -> None:
    assert _refused(_payload(ModelPackageArn="arn:x")) == (
        "event.detail.ModelPackageArn is not a model package ARN "
        "(arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>): "
        "'arn:x'"
    )
    assert _refused(_payload(ModelPackageArn=None)).endswith("<version>): None")
