"""Constants and helpers shared by the trigger function's tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github_trigger.allowlist import DispatchTarget, encode_allowed_targets

from modules.render.product_template import RULE_ID, ProductTemplateProps, render_product_template
from tests.support.fake_github import FakeGitHub, RecordedRequest

FIXTURES = Path(__file__).parent / "fixtures"
TABLE_NAME = "sagemaker-github-trigger-idempotency"
SECRET_NAME = "sagemaker-github-token"
# A made-up token; tests assert it never shows up in logs or error messages.
TOKEN = "ghp_FakeTokenForTests0000000000000000000"
# The targets the plan configured for the fixtures' projects (ALLOWED_TARGETS).
CONFIGURED_TARGETS = (
    DispatchTarget(owner="acme-user", repository="churn-model", workflow="deploy.yml", ref="main"),
    DispatchTarget(
        owner="Example-Org",
        repository="credit-risk.model_v2",
        workflow="deploy.yml",
        ref="release/2026-03",
    ),
)
ALLOWED_TARGETS = encode_allowed_targets(CONFIGURED_TARGETS)


def payload_from_rendered_rule(event: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """What the project's EventBridge rule delivers for ``event``: the product template is
    rendered, and its rule's input template resolved with the project's ``parameters`` (the
    provisioning parameters a Studio user sets) the way CloudFormation and EventBridge do."""
    template = json.loads(
        render_product_template(
            ProductTemplateProps(
                trigger_function_name="sagemaker-github-workflow-trigger",
                default_token_secret_name=SECRET_NAME,
            )
        )
    )
    [target] = template["Resources"][RULE_ID]["Properties"]["Targets"]
    input_template = target["InputTransformer"]["InputTemplate"]["Fn::Sub"]

    def substitute(match: re.Match[str]) -> str:
        return parameters[match.group(1)]

    resolved = re.sub(r"\$\{([^}!]+)\}", substitute, input_template)
    delivered: dict[str, Any] = json.loads(
        resolved.replace("<aws.events.event.json>", json.dumps(event))
    )
    return delivered


PROJECT_PARAMETERS = {
    "SageMakerProjectName": "churn-model",
    "SageMakerProjectId": "p-abc123def456",
    "CodeRepositoryName": "churn-model",
    "GitHubRepositoryOwnerName": "acme-user",
    "GitHubTokenSecretName": SECRET_NAME,
    "GitHubWorkflowNameForDeployment": "deploy.yml",
    "GitHubRepositoryBranch": "main",
}


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
        """The only ledger item of ``arn`` (None when there is none)."""
        items = self.items(arn)
        assert len(items) <= 1, items
        return items[0] if items else None

    def items(self, arn: str) -> list[dict[str, Any]]:
        """Every ledger item of ``arn`` (one per approval)."""
        scan = self.dynamodb.scan(TableName=TABLE_NAME, ConsistentRead=True)
        return [i for i in scan["Items"] if i["model_package_arn"]["S"] == arn]

    def dispatches(self) -> list[RecordedRequest]:
        return [r for r in self.github.requests if r.method == "POST"]


class LambdaContext:
    """The one attribute of the Lambda context object the handler reads."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
