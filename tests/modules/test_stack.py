"""One stack per environment with both providers, its backend, and every project."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from modules.aws.trigger_function import DispatchTarget
from tests.conftest import Synth, example_data, resources


def test_one_stack_per_environment(example_synth: Synth) -> None:
    assert example_synth.stack_names() == ["dev", "forecast", "prod"]


def test_required_providers_are_pinned(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        req = example_synth.stack(name)["terraform"]["required_providers"]
        assert req["aws"]["version"] == "5.100.0"
        assert req["aws"]["source"] in {"aws", "hashicorp/aws"}
        assert req["github"] == {"source": "integrations/github", "version": "6.9.0"}


def test_aws_provider_pins_account_region_and_tags(example_synth: Synth) -> None:
    (aws,) = example_synth.stack("dev")["provider"]["aws"]
    assert aws["region"] == "eu-west-1"
    assert aws["allowed_account_ids"] == ["111111111111"]
    tags = aws["default_tags"][0]["tags"]
    assert tags == {
        "managed-by": "sagemaker-github-mlops",
        "team": "ml-platform",
        "environment": "dev",
    }


def test_one_aliased_github_provider_per_owner(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    providers = {p["owner"]: p for p in dev["provider"]["github"]}
    assert set(providers) == {"acme-ml", "acme-risk"}
    assert {p["alias"] for p in providers.values()} == {"acme-ml", "acme-risk"}
    # never a literal token: a reference to the owner's sensitive variable
    assert all(p["token"].startswith("${var.github_owner_token_") for p in providers.values())
    by_repo = {
        v["repository"]: v["provider"] for v in resources(dev, "github_actions_variable").values()
    }
    assert by_repo == {"churn-model": "github.acme-ml", "fraud-detection": "github.acme-risk"}
    prod = example_synth.stack("prod")
    assert [p["owner"] for p in prod["provider"]["github"]] == ["acme-ml"]


def test_every_project_is_in_its_environment_stack(example_synth: Synth) -> None:
    dev = json.dumps(example_synth.stack("dev"))
    prod = json.dumps(example_synth.stack("prod"))
    assert "project/churn-model" in dev and "project/fraud-detection" in dev
    assert "project/churn-model" in prod and "fraud-detection" not in prod


def test_stacks_never_reference_each_other(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        assert "terraform_remote_state" not in stack.get("data", {})
        text = json.dumps(stack.get("resource", {}))
        for other in set(example_synth.stack_names()) - {name}:
            assert not re.search(rf"(?<![A-Za-z0-9_.-]){other}/", text), other


def test_local_backend_path_is_relative(example_synth: Synth) -> None:
    backend = example_synth.stack("dev")["terraform"]["backend"]
    assert backend == {"local": {"path": "../../../terraform.dev.tfstate"}}


def test_s3_backend_encrypts_and_locks(example_synth: Synth) -> None:
    backend = example_synth.stack("prod")["terraform"]["backend"]
    assert backend == {
        "s3": {
            "bucket": "acme-terraform-state",
            "key": "mlops/prod.tfstate",
            "region": "us-east-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


def test_cloud_backend_one_workspace_per_stack(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    for env in example["environments"]:
        env["backend"] = {"type": "cloud", "organization": "acme"}
    synth = synth_config(example)
    for name in ("dev", "prod"):
        cloud = synth.stack(name)["terraform"]["cloud"]
        assert cloud["organization"] == "acme"
        assert cloud["workspaces"] == {"name": name}
        assert cloud["hostname"] == "app.terraform.io"


def test_no_absolute_paths_anywhere(example_synth: Synth) -> None:
    for path in example_synth.outdir.rglob("*"):
        # synthesized-from.json names the config the user chose, which may live anywhere (a
        # config inside the project is recorded relative); Terraform never reads it.
        if path.is_file() and path.suffix == ".json" and path.name != "synthesized-from.json":
            text = path.read_text()
            assert str(example_synth.outdir) not in text
            assert "/work/" not in text and "/tmp/" not in text and "/home/" not in text


def test_one_token_variable_per_github_owner(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    providers = {p["owner"]: p for p in dev["provider"]["github"]}
    for owner, variable in (
        ("acme-ml", "github_owner_token_acme_ml"),
        ("acme-risk", "github_owner_token_acme_risk"),
    ):
        assert providers[owner]["token"] == f"${{var.{variable}}}"
        var = dev["variable"][variable]
        # sensitive + ephemeral: in neither plan files nor state; null: GITHUB_TOKEN instead
        assert var["sensitive"] is True and var["ephemeral"] is True
        assert var["nullable"] is True and "default" in var and var["default"] is None
        assert f"TF_VAR_{variable}" in var["description"]


def test_token_variable_is_ephemeral_and_sensitive(example_synth: Synth) -> None:
    var = example_synth.stack("dev")["variable"]["github_token"]
    assert var["ephemeral"] is True
    assert var["sensitive"] is True
    # explicitly null: drift checks and later plans need no token
    assert "default" in var and var["default"] is None and var["nullable"] is True
    version = next(
        iter(resources(example_synth.stack("dev"), "aws_secretsmanager_secret_version").values())
    )
    # the token, or "" (never sent) so that plans without it pass provider validation
    assert version["secret_string_wo"] == '${(var.github_token == null) ? "" : var.github_token}'
    assert version["secret_string_wo_version"] == 1
    # ... and an apply without it stops before writing (terraform.applying is false in plans)
    lifecycle = version["lifecycle"]
    assert lifecycle["create_before_destroy"] is True
    (pre,) = lifecycle["precondition"]
    (applying,) = (k for k, v in example_synth.stack("dev")["locals"].items() if "applying" in k)
    assert example_synth.stack("dev")["locals"][applying] == "${terraform.applying}"
    assert pre["condition"] == f"${{(!(var.github_token == null) || !local.{applying})}}"
    assert "TF_VAR_github_token is not set" in pre["error_message"]
    assert "secret_string" not in version
    # value set out of band: no variable, no version resource
    prod = example_synth.stack("prod")
    assert "github_token" not in prod.get("variable", {})
    assert not resources(prod, "aws_secretsmanager_secret_version")


def _function_environment(stack: dict[str, Any]) -> dict[str, str]:
    (function,) = resources(stack, "aws_lambda_function").values()
    variables: dict[str, str] = function["environment"]["variables"]
    return variables


def test_trigger_allows_exactly_the_stacks_deploy_workflows(example_synth: Synth) -> None:
    """ALLOWED_TARGETS holds one digest per configured project, for its branch and the
    environment's own deploy-<env>.yml."""
    for env in example_data()["environments"]:
        allowed = set(
            _function_environment(example_synth.stack(env["name"]))["ALLOWED_TARGETS"].split(",")
        )
        expected = {
            DispatchTarget(
                owner=p["github"]["owner"],
                repository=p["github"]["repository"],
                workflow=f"deploy-{env['name']}.yml",
                ref=p["github"].get("branch", "main"),
            ).digest()
            for p in env["projects"]
        }
        assert allowed == expected, env["name"]
        # another stack's branch of the same repository is not allowed here
        other = DispatchTarget(
            owner="acme-ml", repository="churn-model", workflow="deploy.yml", ref="elsewhere"
        )
        assert other.digest() not in allowed
        # nor the old shared file name on the stack's own branch
        for p in env["projects"]:
            shared = DispatchTarget(
                owner=p["github"]["owner"],
                repository=p["github"]["repository"],
                workflow="deploy.yml",
                ref=p["github"].get("branch", "main"),
            )
            assert shared.digest() not in allowed


def test_alarm_notifications_come_from_the_config(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    dev = example["environments"][0]
    topic = f"arn:aws:sns:{dev['region']}:{dev['account_id']}:ml-alerts"
    dev["platform"]["alarms"] = {"sns_topic_arn": topic, "emails": ["ml-oncall@acme.example"]}
    stack = synth_config(example).stack(dev["name"])
    alarms = resources(stack, "aws_cloudwatch_metric_alarm")
    assert len(alarms) == 2
    for alarm in alarms.values():
        assert topic in alarm["alarm_actions"]
        assert len(alarm["alarm_actions"]) == 2  # the given topic and the e-mail topic
    (subscription,) = resources(stack, "aws_sns_topic_subscription").values()
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "ml-oncall@acme.example"
