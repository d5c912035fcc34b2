"""End-to-end tests of handler.handler against moto_server (AWS) and a fake GitHub API."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import handler
import pytest
from github_trigger.errors import (
    DispatchInProgressError,
    GitHubOutcomeUnknownError,
    GitHubRateLimitedError,
    GitHubRequestRejectedError,
    GitHubUnavailableError,
    InvalidEventError,
    NonRetryableError,
    PreviouslyFailedError,
    RetryableError,
    TokenSecretError,
    UnfinishedClaimError,
)

from tests.lambda_src.trigger_support import (
    PROJECT_PARAMETERS,
    SECRET_NAME,
    TABLE_NAME,
    TOKEN,
    LambdaContext,
    TriggerEnv,
    load_fixture,
    payload_from_rendered_rule,
)
from tests.support.fake_github import FakeResponse

#: GitHub's description documents only 200 and 204 for create-workflow-dispatch; the error
#: answers below follow "Troubleshooting the REST API" / "Rate limits for the REST API" and
#: keep GitHub's basic-error body (tests/support/fake_github.py ``undocumented``)
UNDOCUMENTED = "create-workflow-dispatch error (the description lists 200 and 204 only)"

APPROVED = "model_package_approved"
ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-model-p-abc123def456/3"
DISPATCH_PATH = "/repos/acme-user/churn-model/actions/workflows/deploy.yml/dispatches"
RUN_DETAILS = {
    "workflow_run_id": 22334455,
    "run_url": "https://api.github.com/repos/acme-user/churn-model/actions/runs/22334455",
    "html_url": "https://github.com/acme-user/churn-model/actions/runs/22334455",
}


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    return handler.handler(payload, LambdaContext())


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture(autouse=True)
def _token_never_printed(capsys: pytest.CaptureFixture[str]) -> Any:
    yield
    captured = capsys.readouterr()
    assert TOKEN not in captured.out
    assert TOKEN not in captured.err


def test_approved_dispatches_once_with_ref_and_input(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger_env.github.enqueue(FakeResponse(status=200, body=RUN_DETAILS))

    result = invoke(load_fixture(APPROVED))

    [request] = trigger_env.github.requests
    assert request.method == "POST"
    assert request.path == DISPATCH_PATH
    assert request.body == {
        "ref": "main",
        "inputs": {"model_package_arn": ARN},
        "return_run_details": True,
    }
    assert request.headers["authorization"] == f"token {TOKEN}"
    assert result["outcome"] == "dispatched"
    assert result["run_url"] == RUN_DETAILS["html_url"]
    assert result["workflow_run_id"] == 22334455
    item = trigger_env.item(ARN)
    assert item is not None
    assert item["status"] == {"S": "DISPATCHED"}
    assert item["run_url"] == {"S": RUN_DETAILS["html_url"]}
    assert int(item["expires_at"]["N"]) > time.time() + 86000
    [line] = [entry for entry in log_lines(capsys.readouterr().out) if entry.get("outcome")]
    assert line["outcome"] == "dispatched"
    assert line["model_package_arn"] == ARN
    assert line["repository"] == "acme-user/churn-model"
    assert line["run_url"] == RUN_DETAILS["html_url"]
    assert line["run_api_url"] == RUN_DETAILS["run_url"]
    assert line["aws_request_id"] == LambdaContext.aws_request_id


def test_dispatch_without_run_details_still_succeeds(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger_env.github.enqueue(FakeResponse(status=204))

    result = invoke(load_fixture(APPROVED))

    assert result["outcome"] == "dispatched"
    assert result["run_url"] is None
    assert len(trigger_env.dispatches()) == 1
    [line] = [entry for entry in log_lines(capsys.readouterr().out) if entry.get("outcome")]
    assert "run_url" not in line
    assert line["repository"] == "acme-user/churn-model"


def test_server_rejecting_return_run_details_gets_plain_dispatch(
    trigger_env: TriggerEnv,
) -> None:
    trigger_env.github.enqueue(
        FakeResponse(
            status=422,
            body={"message": 'Invalid request.\n\n"return_run_details" is not a permitted key.'},
            undocumented="a server without return_run_details (GitHub Enterprise Server)",
        ),
        FakeResponse(status=204),
    )

    result = invoke(load_fixture(APPROVED))

    assert result["outcome"] == "dispatched"
    first, second = trigger_env.dispatches()
    assert first.body["return_run_details"] is True
    assert second.body == {"ref": "main", "inputs": {"model_package_arn": ARN}}


@pytest.mark.parametrize(
    ("fixture", "reason_part", "reason_code"),
    [
        ("model_package_rejected", "ModelApprovalStatus is 'Rejected'", "not-approved"),
        ("model_package_pending_manual_approval", "'PendingManualApproval'", "not-approved"),
        (
            "model_package_approved_other_group",
            "model package group is 'fraud-model-p-0f9e8d7c6b5a'",
            "other-group",
        ),
    ],
)
def test_non_approvals_and_other_groups_are_ignored(
    trigger_env: TriggerEnv,
    capsys: pytest.CaptureFixture[str],
    fixture: str,
    reason_part: str,
    reason_code: str,
) -> None:
    result = invoke(load_fixture(fixture))

    assert result["outcome"] == "ignored"
    assert reason_part in result["reason"]
    assert trigger_env.github.requests == []
    scan = trigger_env.dynamodb.scan(TableName=TABLE_NAME)
    assert scan["Items"] == []
    [line] = log_lines(capsys.readouterr().out)
    assert line["outcome"] == "ignored"
    assert line["reason"] == reason_code
    assert reason_part in line["message"]
    assert line["repository"] == "acme-user/churn-model"


def test_other_detail_type_is_ignored(trigger_env: TriggerEnv) -> None:
    payload = load_fixture(APPROVED)
    payload["event"]["detail-type"] = "SageMaker Model State Change"

    result = invoke(payload)

    assert result["outcome"] == "ignored"
    assert "detail-type" in result["reason"]
    assert trigger_env.github.requests == []


def test_organization_repository_uses_owner_slash_name_path(trigger_env: TriggerEnv) -> None:
    payload = load_fixture("model_package_approved_org_repository")

    result = invoke(payload)

    [request] = trigger_env.dispatches()
    assert request.path == (
        "/repos/Example-Org/credit-risk.model_v2/actions/workflows/deploy.yml/dispatches"
    )
    assert request.body["ref"] == "release/2026-03"
    assert request.body["inputs"] == {
        "model_package_arn": payload["event"]["detail"]["ModelPackageArn"]
    }
    assert result["repository"] == "Example-Org/credit-risk.model_v2"


def test_github_enterprise_base_path_is_kept(
    trigger_env: TriggerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", f"{trigger_env.github.api_url}/api/v3/")
    handler.reset_runtime()

    invoke(load_fixture(APPROVED))

    [request] = trigger_env.dispatches()
    assert request.path == f"/api/v3{DISPATCH_PATH}"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_raises_retryable_and_releases_claim(
    trigger_env: TriggerEnv, status: int
) -> None:
    trigger_env.github.enqueue(
        FakeResponse(status=status, body={"message": "Server Error"}, undocumented=UNDOCUMENTED)
    )

    with pytest.raises(GitHubUnavailableError, match=f"GitHub answered {status}"):
        invoke(load_fixture(APPROVED))

    assert trigger_env.item(ARN) is None
    # Lambda's retry of the same event dispatches.
    assert invoke(load_fixture(APPROVED))["outcome"] == "dispatched"
    assert len(trigger_env.dispatches()) == 2


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (429, {"Retry-After": "30"}, "Too many requests"),
        (403, {"X-RateLimit-Remaining": "0"}, "API rate limit exceeded for installation."),
        (403, {}, "You have exceeded a secondary rate limit. Please wait a few minutes."),
    ],
)
def test_rate_limits_raise_retryable(
    trigger_env: TriggerEnv, status: int, headers: dict[str, str], message: str
) -> None:
    trigger_env.github.enqueue(
        FakeResponse(
            status=status, headers=headers, body={"message": message}, undocumented=UNDOCUMENTED
        )
    )

    with pytest.raises(GitHubRateLimitedError) as raised:
        invoke(load_fixture(APPROVED))

    assert isinstance(raised.value, RetryableError)
    assert trigger_env.item(ARN) is None


def test_read_timeout_keeps_the_claim_and_is_never_retried(
    trigger_env: TriggerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GitHub received the request (and, here, accepted it) but the answer came too late: the
    # outcome is unknown, so neither this invocation nor Lambda's retries send it again.
    monkeypatch.setenv("GITHUB_TIMEOUT_SECONDS", "1")
    handler.reset_runtime()
    trigger_env.github.enqueue(FakeResponse(status=204, delay_seconds=3))

    started = time.monotonic()
    with pytest.raises(GitHubOutcomeUnknownError, match="ReadTimeout"):
        invoke(load_fixture(APPROVED))

    assert time.monotonic() - started < 2.9
    item = trigger_env.item(ARN)
    assert item is not None
    assert item["status"] == {"S": "UNKNOWN"}
    with pytest.raises(GitHubOutcomeUnknownError, match="may have run"):
        invoke(load_fixture(APPROVED))
    assert len(trigger_env.dispatches()) == 1


def test_422_is_non_retryable_and_retries_do_not_call_github(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger_env.github.enqueue(
        FakeResponse(
            status=422,
            body={"message": "Workflow does not have 'workflow_dispatch' trigger"},
            undocumented=UNDOCUMENTED,
        )
    )

    with pytest.raises(GitHubRequestRejectedError) as raised:
        invoke(load_fixture(APPROVED))

    assert isinstance(raised.value, NonRetryableError)
    assert raised.value.status == 422
    assert "workflow_dispatch" in str(raised.value)
    item = trigger_env.item(ARN)
    assert item is not None
    assert item["status"] == {"S": "FAILED"}
    assert "422" in item["error"]["S"]
    # Lambda retries the same event: it fails again (reaching the failure destination) without
    # another GitHub call.
    with pytest.raises(PreviouslyFailedError, match="already failed permanently"):
        invoke(load_fixture(APPROVED))
    assert len(trigger_env.dispatches()) == 1
    lines = [entry for entry in log_lines(capsys.readouterr().out) if entry.get("outcome")]
    assert [entry["outcome"] for entry in lines] == ["failed", "failed"]
    assert all(entry["model_package_arn"] == ARN for entry in lines)


def test_re_approval_after_permanent_failure_dispatches_again(trigger_env: TriggerEnv) -> None:
    trigger_env.github.enqueue(
        FakeResponse(status=404, body={"message": "Not Found"}, undocumented=UNDOCUMENTED)
    )
    with pytest.raises(GitHubRequestRejectedError, match="404"):
        invoke(load_fixture(APPROVED))
    # A duplicate of the same approval (new event id, same approval time) does not retry.
    duplicate = load_fixture(APPROVED)
    duplicate["event"]["id"] = "7f2d9c4b-0a1e-4b3f-8c6d-2e9a5b7c1d30"
    with pytest.raises(PreviouslyFailedError):
        invoke(duplicate)

    re_approval = load_fixture(APPROVED)
    re_approval["event"]["id"] = "0c9e7a5b-3d1f-4e2a-9b8c-7d6e5f4a3b21"
    re_approval["event"]["detail"]["LastModifiedTime"] += 3_600_000
    result = invoke(re_approval)

    assert result["outcome"] == "dispatched"
    assert len(trigger_env.dispatches()) == 2
    assert sorted(i["status"]["S"] for i in trigger_env.items(ARN)) == ["DISPATCHED", "FAILED"]


def test_rejected_then_approved_again_dispatches_again(trigger_env: TriggerEnv) -> None:
    first = invoke(load_fixture(APPROVED))
    # The package is rejected (the rule does not forward that) and approved again an hour later.
    re_approval = load_fixture(APPROVED)
    re_approval["event"]["id"] = "0c9e7a5b-3d1f-4e2a-9b8c-7d6e5f4a3b21"
    re_approval["event"]["detail"]["LastModifiedTime"] += 3_600_000
    second = invoke(re_approval)
    redelivered = invoke(re_approval)

    assert (first["outcome"], second["outcome"]) == ("dispatched", "dispatched")
    assert redelivered["outcome"] == "duplicate"
    assert len(trigger_env.dispatches()) == 2


@pytest.mark.parametrize("modified", ["absent", "same as creation"])
def test_package_registered_as_approved_is_ignored_by_default(
    trigger_env: TriggerEnv, modified: str
) -> None:
    """Only a person's approval (an update after creation) deploys: a package created as
    Approved by code (no LastModifiedTime, or the creation time) dispatches nothing."""
    payload = load_fixture(APPROVED)
    detail = payload["event"]["detail"]
    if modified == "absent":
        del detail["LastModifiedTime"]
    else:
        detail["LastModifiedTime"] = detail["CreationTime"]

    result = invoke(payload)

    assert result["outcome"] == "ignored"
    assert result["reason_code"] == "registered-approved"
    assert "platform.auto_approve_staging" in result["reason"]
    assert trigger_env.dispatches() == []
    assert trigger_env.items(ARN) == []


def test_package_registered_as_approved_keys_on_its_creation_time_when_allowed(
    trigger_env: TriggerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOW_REGISTERED_APPROVED", "true")
    handler.reset_runtime()
    payload = load_fixture(APPROVED)
    del payload["event"]["detail"]["LastModifiedTime"]

    assert invoke(payload)["outcome"] == "dispatched"
    assert invoke(payload)["outcome"] == "duplicate"
    [item] = trigger_env.items(ARN)
    assert item["idempotency_key"] == {"S": f"{ARN}#approved@1772459101000"}


@pytest.mark.parametrize(
    ("status", "hint"),
    [(401, "token is invalid"), (403, "may not dispatch"), (404, "does not exist")],
)
def test_client_errors_are_non_retryable(trigger_env: TriggerEnv, status: int, hint: str) -> None:
    trigger_env.github.enqueue(
        FakeResponse(status=status, body={"message": "nope"}, undocumented=UNDOCUMENTED)
    )

    with pytest.raises(GitHubRequestRejectedError, match=hint):
        invoke(load_fixture(APPROVED))

    item = trigger_env.item(ARN)
    assert item is not None
    assert item["status"] == {"S": "FAILED"}


def test_duplicate_events_dispatch_once(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger_env.github.enqueue(FakeResponse(status=200, body=RUN_DETAILS))
    first = invoke(load_fixture(APPROVED))
    # Lambda retry of the same event, and a second SageMaker event for the same package.
    same_event = invoke(load_fixture(APPROVED))
    duplicate = load_fixture(APPROVED)
    duplicate["event"]["id"] = "3b1e5d7f-9a2c-4e6b-8d0f-1c3e5a7b9d20"
    second_event = invoke(duplicate)

    assert first["outcome"] == "dispatched"
    assert same_event["outcome"] == "duplicate"
    assert second_event["outcome"] == "duplicate"
    assert second_event["run_url"] == RUN_DETAILS["html_url"]
    assert len(trigger_env.dispatches()) == 1
    outcomes = [e["outcome"] for e in log_lines(capsys.readouterr().out) if e.get("outcome")]
    assert outcomes == ["dispatched", "duplicate", "duplicate"]


KEY = f"{ARN}#approved@1772460311000"


def test_claim_held_by_another_invocation_raises_retryable(trigger_env: TriggerEnv) -> None:
    now = int(time.time())
    trigger_env.dynamodb.put_item(
        TableName=TABLE_NAME,
        Item={
            "idempotency_key": {"S": KEY},
            "model_package_arn": {"S": ARN},
            "status": {"S": "IN_PROGRESS"},
            "claim_id": {"S": "someone-else"},
            "event_id": {"S": "other-event"},
            "lease_expires_at": {"N": str(now + 60)},
            "expires_at": {"N": str(now + 86400)},
        },
    )

    with pytest.raises(DispatchInProgressError):
        invoke(load_fixture(APPROVED))

    assert trigger_env.github.requests == []


def test_expired_claim_is_never_taken_over(trigger_env: TriggerEnv) -> None:
    # Its invocation ended without an outcome: it may have dispatched. Taking the claim over
    # could dispatch twice; the event goes to the failure destination with the reason instead.
    now = int(time.time())
    trigger_env.dynamodb.put_item(
        TableName=TABLE_NAME,
        Item={
            "idempotency_key": {"S": KEY},
            "model_package_arn": {"S": ARN},
            "status": {"S": "IN_PROGRESS"},
            "claim_id": {"S": "crashed-invocation"},
            "event_id": {"S": "other-event"},
            "lease_expires_at": {"N": str(now - 1)},
            "expires_at": {"N": str(now + 86400)},
        },
    )

    with pytest.raises(UnfinishedClaimError, match="may have dispatched"):
        invoke(load_fixture(APPROVED))
    assert trigger_env.dispatches() == []


def test_missing_secret_is_a_clear_non_retryable_error(trigger_env: TriggerEnv) -> None:
    trigger_env.secrets.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)

    with pytest.raises(TokenSecretError) as raised:
        invoke(load_fixture(APPROVED))

    message = str(raised.value)
    assert "cannot read GitHub token secret 'sagemaker-github-token'" in message
    assert "ResourceNotFoundException" in message
    assert trigger_env.github.requests == []
    item = trigger_env.item(ARN)
    assert item is not None
    assert item["status"] == {"S": "FAILED"}


def test_json_secret_value_is_accepted(trigger_env: TriggerEnv) -> None:
    trigger_env.secrets.put_secret_value(
        SecretId=SECRET_NAME, SecretString=json.dumps({"token": "ghp_JsonWrappedToken000"})
    )

    invoke(load_fixture(APPROVED))

    [request] = trigger_env.dispatches()
    assert request.headers["authorization"] == "token ghp_JsonWrappedToken000"


def test_malformed_secret_error_does_not_reveal_the_value(trigger_env: TriggerEnv) -> None:
    trigger_env.secrets.put_secret_value(SecretId=SECRET_NAME, SecretString='{"token": ' + TOKEN)

    with pytest.raises(TokenSecretError, match="not valid JSON") as raised:
        invoke(load_fixture(APPROVED))

    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None
    assert trigger_env.github.requests == []


def test_token_is_cached_and_refreshed_after_401(trigger_env: TriggerEnv) -> None:
    invoke(load_fixture(APPROVED))
    trigger_env.secrets.put_secret_value(SecretId=SECRET_NAME, SecretString="ghp_RotatedToken000")
    other = load_fixture("model_package_approved_org_repository")
    trigger_env.github.enqueue(
        FakeResponse(status=401, body={"message": "Bad credentials"}, undocumented=UNDOCUMENTED)
    )

    result = invoke(other)

    first, rejected, retried = trigger_env.dispatches()
    assert first.headers["authorization"] == f"token {TOKEN}"
    # The cached token was used (no Secrets Manager read), GitHub said 401, the secret was
    # read again and the dispatch retried once with the rotated token.
    assert rejected.headers["authorization"] == f"token {TOKEN}"
    assert retried.headers["authorization"] == "token ghp_RotatedToken000"
    assert result["outcome"] == "dispatched"


def test_invalid_payload_raises(trigger_env: TriggerEnv) -> None:
    payload = load_fixture(APPROVED)
    del payload["github"]

    with pytest.raises(InvalidEventError, match=r"payload\.github must be an object"):
        invoke(payload)

    assert trigger_env.github.requests == []


# --- Only 2xx is a dispatch ------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 307, 308])
def test_redirect_from_a_moved_repository_is_a_permanent_error_naming_the_new_place(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    # GitHub answers requests for a renamed or transferred repository with a redirect (307 for
    # POST); the dispatch did not happen there, and the redirect is not followed.
    moved = "https://api.github.com/repositories/4242/actions/workflows/deploy.yml/dispatches"
    trigger_env.github.enqueue(
        FakeResponse(
            status=status,
            headers={"Location": moved},
            body={"message": "Moved Permanently", "url": moved, "documentation_url": "https://x"},
            undocumented=UNDOCUMENTED,
        )
    )

    with pytest.raises(GitHubRequestRejectedError, match="update the config") as raised:
        invoke(load_fixture(APPROVED))

    assert raised.value.status == status
    assert moved in str(raised.value)
    assert len(trigger_env.github.requests) == 1
    item = trigger_env.item(ARN)
    assert item is not None and item["status"] == {"S": "FAILED"}
    [line] = [e for e in log_lines(capsys.readouterr().out) if e.get("outcome")]
    assert (line["outcome"], line["reason"]) == ("failed", "github-redirect")


def test_redirect_location_credentials_never_reach_the_error(trigger_env: TriggerEnv) -> None:
    trigger_env.github.enqueue(
        FakeResponse(
            status=307,
            headers={"Location": "https://user:hunter2@evil.example/x?t=1"},
            malformed=True,
        )
    )

    with pytest.raises(GitHubRequestRejectedError) as raised:
        invoke(load_fixture(APPROVED))

    assert "hunter2" not in str(raised.value)
    assert "https://evil.example/x" in str(raised.value)


def test_accepted_dispatch_with_unparseable_rate_limit_headers_is_dispatched_once(
    trigger_env: TriggerEnv,
) -> None:
    # The acceptance suite's probe: 204 with a malformed X-RateLimit-Reset made PyGithub raise
    # ValueError after GitHub had accepted, and the retry dispatched again.
    trigger_env.github.enqueue(
        FakeResponse(
            status=204,
            headers={"X-RateLimit-Reset": "soon", "X-RateLimit-Remaining": "many"},
        )
    )

    result = invoke(load_fixture(APPROVED))
    retry = invoke(load_fixture(APPROVED))

    assert (result["outcome"], retry["outcome"]) == ("dispatched", "duplicate")
    assert len(trigger_env.dispatches()) == 1


def test_accepted_dispatch_with_malformed_body_is_dispatched_without_details(
    trigger_env: TriggerEnv,
) -> None:
    trigger_env.github.enqueue(
        FakeResponse(status=200, body="<html>not json</html>", malformed=True)
    )

    result = invoke(load_fixture(APPROVED))

    assert result["outcome"] == "dispatched"
    assert result["run_url"] is None
    item = trigger_env.item(ARN)
    assert item is not None and item["status"] == {"S": "DISPATCHED"}


def test_gateway_timeout_is_outcome_unknown(trigger_env: TriggerEnv) -> None:
    trigger_env.github.enqueue(
        FakeResponse(status=504, body={"message": "Gateway Timeout"}, undocumented=UNDOCUMENTED)
    )

    with pytest.raises(GitHubOutcomeUnknownError, match="504"):
        invoke(load_fixture(APPROVED))

    item = trigger_env.item(ARN)
    assert item is not None and item["status"] == {"S": "UNKNOWN"}


def test_connection_refused_is_retryable(
    trigger_env: TriggerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    handler.reset_runtime()

    with pytest.raises(GitHubUnavailableError, match="before reaching GitHub"):
        invoke(load_fixture(APPROVED))

    assert trigger_env.item(ARN) is None  # claim released: Lambda's retry may dispatch


# --- Only configured targets -----------------------------------------------------------------


def test_payload_from_the_rendered_rule_dispatches_to_a_configured_target(
    trigger_env: TriggerEnv,
) -> None:
    event = load_fixture(APPROVED)["event"]
    payload = payload_from_rendered_rule(event, PROJECT_PARAMETERS)

    result = invoke(payload)

    assert result["outcome"] == "dispatched"
    [request] = trigger_env.dispatches()
    assert request.path == DISPATCH_PATH


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("GitHubRepositoryOwnerName", "someone-else"),
        ("CodeRepositoryName", "infrastructure"),
        ("GitHubWorkflowNameForDeployment", "release.yml"),
        ("GitHubRepositoryBranch", "attacker-branch"),
    ],
)
def test_target_the_plan_did_not_configure_is_ignored(
    trigger_env: TriggerEnv, capsys: pytest.CaptureFixture[str], parameter: str, value: str
) -> None:
    # A Studio user provisions a project whose parameters name another target.
    event = load_fixture(APPROVED)["event"]
    payload = payload_from_rendered_rule(event, {**PROJECT_PARAMETERS, parameter: value})

    result = invoke(payload)

    assert result["outcome"] == "ignored"
    assert result["reason_code"] == "not-configured"
    assert trigger_env.github.requests == []
    assert trigger_env.dynamodb.scan(TableName=TABLE_NAME)["Items"] == []
    [line] = log_lines(capsys.readouterr().out)
    assert (line["outcome"], line["reason"]) == ("ignored", "not-configured")
    assert line["model_package_arn"] == ARN


def test_owner_and_repository_match_case_insensitively(trigger_env: TriggerEnv) -> None:
    event = load_fixture(APPROVED)["event"]
    payload = payload_from_rendered_rule(
        event, {**PROJECT_PARAMETERS, "GitHubRepositoryOwnerName": "ACME-User"}
    )

    assert invoke(payload)["outcome"] == "dispatched"


def test_nothing_is_dispatched_when_the_plan_configured_no_target(
    trigger_env: TriggerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALLOWED_TARGETS")
    handler.reset_runtime()

    result = invoke(load_fixture(APPROVED))

    assert (result["outcome"], result["reason_code"]) == ("ignored", "not-configured")
    assert trigger_env.github.requests == []
