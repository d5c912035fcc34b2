"""Strict input: the model package ARN grammar (property tests) and the GitHub API URL rule."""

from __future__ import annotations

import json
import re
from typing import Any

import handler
import pytest
from github_trigger.config import PARTITIONS, ApprovedModelPackage, load_settings, parse_invocation
from github_trigger.errors import ConfigurationError, InvalidEventError, NonRetryableError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lambda_src.trigger_support import ALLOWED_TARGETS, LambdaContext, load_fixture

# --- the grammar, as strategies ------------------------------------------------------------------

_REGIONS = st.sampled_from(
    [
        "us-east-1",
        "eu-west-3",
        "ap-southeast-2",
        "us-gov-west-1",
        "cn-north-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "eu-isoe-west-1",
        "ca-west-1",
        "mx-central-1",
    ]
)
_ALNUM = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@st.composite
def _group_names(draw: st.DrawFn) -> str:
    """ModelPackageGroupName: [a-zA-Z0-9](-*[a-zA-Z0-9])*, 1 to 63 characters."""
    length = draw(st.integers(1, 63))
    name = draw(_ALNUM)
    while len(name) < length:
        if len(name) < length - 1 and draw(st.booleans()):
            name += "-"
        name += draw(_ALNUM)
    return name


@st.composite
def valid_arns(draw: st.DrawFn) -> str:
    partition = draw(st.sampled_from(PARTITIONS))
    region = draw(_REGIONS)
    account = draw(st.from_regex(r"\A[0-9]{12}\Z"))
    version = draw(st.integers(1, 9_999_999_999))
    group = draw(_group_names())
    return f"arn:{partition}:sagemaker:{region}:{account}:model-package/{group}/{version}"


HOSTILE_FRAGMENTS = [
    ";$(id)",
    "?#%00",
    "${{ secrets.GITHUB_TOKEN }}",
    "`id`",
    "\n",
    " ",
    "/../",
    "\x00",
    '"',
    "'",
    "*",
    "%2F",
    "ü",
    "/",
]


@st.composite
def hostile_arns(draw: st.DrawFn) -> str:
    """A valid ARN broken by one hostile edit: inserted fragment, wrong partition, too long..."""
    arn = draw(valid_arns())
    kind = draw(st.sampled_from(["insert", "partition", "long", "service", "account", "text"]))
    if kind == "insert":
        at = draw(st.integers(0, len(arn)))
        return arn[:at] + draw(st.sampled_from(HOSTILE_FRAGMENTS)) + arn[at:]
    if kind == "partition":
        partition = draw(st.sampled_from(["aws-evil", "aws-", "AWS", "aws-cn-x", "awsx"]))
        return arn.replace(arn.split(":")[1], partition, 1)
    if kind == "long":
        return arn + draw(st.sampled_from(["0", "a", "-a"])) * draw(st.integers(2048, 5000))
    if kind == "service":
        return arn.replace(":sagemaker:", draw(st.sampled_from([":s3:", ":SageMaker:", "::"])), 1)
    if kind == "account":
        return re.sub(r":[0-9]{12}:", draw(st.sampled_from([":123:", ":12345678901a:", ":"])), arn)
    return draw(st.text(max_size=300))


def _payload(arn: object) -> dict[str, Any]:
    payload = load_fixture("model_package_approved")
    payload["event"]["detail"]["ModelPackageArn"] = arn
    return payload


@settings(derandomize=True, max_examples=200, deadline=None, database=None)
@given(valid_arns())
def test_valid_model_package_arns_are_accepted(arn: str) -> None:
    decision = parse_invocation(_payload(arn))
    assert isinstance(decision, ApprovedModelPackage)
    assert decision.model_package_arn == arn
    assert len(decision.idempotency_key.encode()) < 2048  # DynamoDB's hash key limit


@settings(derandomize=True, max_examples=200, deadline=None, database=None)
@given(hostile_arns())
def test_hostile_arns_are_refused_as_non_retryable(arn: str) -> None:
    with pytest.raises(InvalidEventError, match="is not a model package ARN") as raised:
        parse_invocation(_payload(arn))
    assert isinstance(raised.value, NonRetryableError)
    assert len(str(raised.value)) < 500  # a 5 KB ARN is not echoed whole


class _Untouchable:
    """An AWS client or HTTP session that fails the test when the handler calls it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected outside call: {name}")


def _runtime() -> handler.Runtime:
    return handler.build_runtime(
        load_settings(
            {
                "IDEMPOTENCY_TABLE_NAME": "t",
                "ALLOWED_TARGETS": ALLOWED_TARGETS,
                "GITHUB_API_URL": "http://127.0.0.1:9",
            }
        ),
        secrets_client=_Untouchable,
        dynamodb_client=_Untouchable,
        session_factory=_Untouchable,
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn;$(id)/3",
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3?#%00",
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/${{github.token}}/3",
        "arn:aws-evil:sagemaker:us-east-1:111122223333:model-package/churn/3",
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/" + "1" * 3000,
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn",
        None,
        42,
    ],
)
def test_invalid_arn_is_logged_and_nothing_is_called(
    arn: object, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidEventError):
        handler.handle(_runtime(), _payload(arn), LambdaContext())

    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert (line["level"], line["outcome"], line["reason"]) == ("ERROR", "failed", "invalid-event")
    assert "is not a model package ARN" in line["error"]
    assert len(line["error"]) < 500


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ({"LastModifiedTime": None, "CreationTime": None}, "neither LastModifiedTime"),
        ({"LastModifiedTime": "x; rm -rf /"}, "LastModifiedTime is not a timestamp"),
        ({"LastModifiedTime": -5}, "LastModifiedTime is not a timestamp"),
    ],
)
def test_fails_on_missing_or_malformed_approval_time(detail: dict[str, Any], message: str) -> None:
    payload = load_fixture("model_package_approved")
    for key, value in detail.items():
        if value is None:
            payload["event"]["detail"].pop(key, None)
        else:
            payload["event"]["detail"][key] = value
    with pytest.raises(InvalidEventError, match=message):
        parse_invocation(payload)


# --- GITHUB_API_URL: https, plain http only on loopback, never echo credentials ------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.github.com",
        "https://ghe.example.com/api/v3/",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:3000/api/v3",
        "http://[::1]:9000",
    ],
)
def test_api_url_accepted(url: str) -> None:
    assert load_settings({"IDEMPOTENCY_TABLE_NAME": "t", "GITHUB_API_URL": url}).github_api_url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.github.com", "must use https"),
        ("http://ghe.internal.example/api/v3", "must use https"),
        ("http://10.0.0.1", "must use https"),
        ("ftp://api.github.com", "must be an https URL"),
        ("api.github.com", "must be an https URL"),
        ("https://ghe.example.com:99999", "must be an https URL"),
        ("https://api.github.com/?x=1", "query or a fragment"),
    ],
)
def test_fails_on_api_url(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"IDEMPOTENCY_TABLE_NAME": "t", "GITHUB_API_URL": url})


@pytest.mark.parametrize(
    "url",
    [
        "https://admin:hunter2@ghe.example.com/api/v3",
        "https://hunter2@ghe.example.com",
        "http://admin:hunter2@api.github.com",
        "https://admin:hunter2@ghe.example.com:99999",
    ],
)
def test_api_url_credentials_never_reach_the_error_or_the_log(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({"IDEMPOTENCY_TABLE_NAME": "t", "GITHUB_API_URL": url})
    assert "hunter2" not in str(raised.value)

    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "t")
    monkeypatch.setenv("GITHUB_API_URL", url)
    handler.reset_runtime()
    with pytest.raises(ConfigurationError) as from_handler:
        handler.handler(_payload("x"), LambdaContext())
    handler.reset_runtime()
    assert "hunter2" not in str(from_handler.value)
    assert "hunter2" not in capsys.readouterr().out
