"""Constants and helpers shared by the trigger function's tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.fake_github import FakeGitHub, RecordedRequest

FIXTURES = Path(__file__).parent / "fixtures"
TABLE_NAME = "sagemaker-github-trigger-idempotency"
SECRET_NAME = "sagemaker-github-token"
# A made-up token; tests assert it never shows up in logs or error messages.
TOKEN = "ghp_FakeTokenForTests0000000000000000000"


def load_fixture(name: str) -> dict[str, Any]:
    """An invocation payload from tests/lambda_src/fixtures/<name>.json."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@dataclass(frozen=True, kw_only=True)
class TriggerEnv:
    """What a handler test works with."""

    github: FakeGitHub
    dynamodb: Any
    secrets: Any

    def item(self, arn: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=TABLE_NAME, Key={"model_package_arn": {"S": arn}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def dispatches(self) -> list[RecordedRequest]:
        return [r for r in self.github.requests if r.method == "POST"]


class LambdaContext:
    """The one attribute of the Lambda context object the handler reads."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
