"""`make inventory` against the example's synthesized JSON, parsed here on its own.

Every expectation below is read from the ``cdk.tf.json`` files (or the example config) with a
few lines of code in this file, not through ``modules/ops/inventory.py``: the role and user
names, the OIDC subjects in the trust documents, the services the attached policies allow, the
secret policy's readers, the repositories behind each GitHub provider alias, their
environments, variables, secrets and files, and the endpoint names the deploy workflows use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.ops.inventory import inventory, main, summarize_actions, to_json
from modules.render.workflows import workflow_paths
from tests.conftest import EXAMPLE_CONFIG, Synth

REF = re.compile(r"^\$\{(?:data\.)?[a-z0-9_]+\.([A-Za-z0-9_-]+)\.[a-z_]+\}$")


@pytest.fixture(scope="module")
def report(example_synth: Synth) -> dict[str, Any]:
    data = to_json(inventory(example_synth.outdir))
    return {s["stack"]: s for s in data["stacks"]}


def ref_id(value: str) -> str:
    match = REF.match(value)
    assert match, value
    return match[1]


def doc_statements(stack: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = stack["data"]["aws_iam_policy_document"][ref_id(reference)][
        "statement"
    ]
    return statements


def owners(stack: dict[str, Any]) -> dict[str, str]:
    return {f"github.{p['alias']}": p["owner"] for p in stack["provider"]["github"]}


def repo(stack: dict[str, Any], body: dict[str, Any]) -> str:
    return f"{owners(stack)[body['provider']]}/{body.get('repository') or body['base_repository']}"


def test_both_stacks_with_their_account_region_and_state(
    example_synth: Synth, report: dict[str, Any]
) -> None:
    assert sorted(report) == example_synth.stack_names() == ["dev", "forecast", "prod"]
    for name, entry in report.items():
        stack = example_synth.stack(name)
        aws = stack["provider"]["aws"][0]
        assert entry["account"] == aws["allowed_account_ids"][0]
        assert entry["region"] == aws["region"]
        kind = next(iter(stack["terraform"]["backend"]))
        assert entry["backend"].startswith(kind)


def test_every_role_and_user_with_its_trust_subjects_and_services(
    example_synth: Synth, report: dict[str, Any]
) -> None:
    for name, entry in report.items():
        stack = example_synth.stack(name)
        found = {(i["kind"], i["name"]): i for i in entry["identities"]}
        roles = stack["resource"].get("aws_iam_role", {})
        users = stack["resource"].get("aws_iam_user", {})
        created = {("role", r["name"]) for r in roles.values()}
        created |= {("user", u["name"]) for u in users.values()}
        assert {k for k in found if k[0] != "existing role"} == created
        policies: dict[str, list[dict[str, Any]]] = {}
        for rtype, key in (("aws_iam_role_policy", "role"), ("aws_iam_user_policy", "user")):
            for body in stack["resource"].get(rtype, {}).values():
                policies.setdefault(ref_id(body[key]), []).extend(
                    doc_statements(stack, body["policy"])
                )
        for rid, role in roles.items():
            identity = found[("role", role["name"])]
            trust = doc_statements(stack, role["assume_role_policy"])
            subs = [
                v
                for s in trust
                for c in s.get("condition", [])
                if c["variable"] == "token.actions.githubusercontent.com:sub"
                for v in c["values"]
            ]
            services = [
                i for s in trust for p in s["principals"] if p["type"] == "Service"
                for i in p["identifiers"]
            ]  # fmt: skip
            expected = [f"OIDC sub {v}" for v in subs] + [f"service {v}" for v in services]
            assert sorted(identity["used_by"]) == sorted(expected), role["name"]
            allowed = {
                a.split(":")[0]
                for s in policies.get(rid, [])
                if s.get("effect", "Allow") == "Allow"
                for a in s["actions"]
            }
            assert allowed, role["name"]
            for service in allowed:
                assert re.search(rf"(^|; ){service}[: ]", identity["may"]), (service, identity)
        for uid, user in users.items():
            identity = found[("user", user["name"])]
            keys = {
                k for k, b in stack["resource"]["aws_iam_access_key"].items()
                if ref_id(b["user"]) == uid
            }  # fmt: skip
            holders = [
                f"GitHub secret {b['secret_name']}"
                for rtype in ("github_actions_secret", "github_actions_environment_secret")
                for b in stack["resource"].get(rtype, {}).values()
                if ref_id(b["plaintext_value"]) in keys
            ]
            assert len(holders) == 2, user["name"]  # the key id and the secret key
            assert [h.split(" (")[0] for h in identity["used_by"]] == holders


def test_the_token_secret_and_its_only_readers(
    example_synth: Synth, report: dict[str, Any]
) -> None:
    for name, entry in report.items():
        stack = example_synth.stack(name)
        (secret,) = stack["resource"]["aws_secretsmanager_secret"].values()
        (policy,) = stack["resource"]["aws_secretsmanager_secret_policy"].values()
        (deny,) = doc_statements(stack, policy["policy"])
        assert deny["effect"] == "Deny" and deny["actions"] == ["secretsmanager:GetSecretValue"]
        (condition,) = deny["condition"]
        roles = stack["resource"]["aws_iam_role"]
        expected = [
            f"role {roles[ref_id(v)]['name']}" if v.startswith("${") else v
            for v in condition["values"]
        ]
        assert entry["token_secret"]["name"] == secret["name"]
        assert entry["token_secret"]["readers"] == expected
        written = "aws_secretsmanager_secret_version" in stack["resource"]
        assert ("TF_VAR_github_token" in entry["token_secret"]["value"]) is written


def test_the_trigger_function_and_the_product(example_synth: Synth, report: dict[str, Any]) -> None:
    for name, entry in report.items():
        stack = example_synth.stack(name)
        (function,) = stack["resource"]["aws_lambda_function"].values()
        got = entry["trigger_function"]
        assert got["name"] == function["function_name"]
        assert got["runtime"] == function["runtime"]
        assert (
            got["role"]
            == f"role {stack['resource']['aws_iam_role'][ref_id(function['role'])]['name']}"
        )
        (product,) = stack["resource"]["aws_servicecatalog_product"].values()
        (portfolio,) = stack["resource"]["aws_servicecatalog_portfolio"].values()
        (listed,) = entry["products"]
        assert listed["name"] == product["name"] == "build-deploy-github"
        assert listed["portfolio"] == portfolio["name"]
        assert listed["launch_role"] == "role AmazonSageMakerServiceCatalogProductsLaunchRole"
        associations = stack["resource"]["aws_servicecatalog_principal_portfolio_association"]
        assert sorted(listed["principals"]) == sorted(
            a["principal_arn"] for a in associations.values()
        )
        projects = stack["resource"]["aws_sagemaker_project"].values()
        assert sorted(listed["projects"]) == sorted(p["project_name"] for p in projects)


def test_repositories_with_environments_variables_secrets_and_files(
    example_synth: Synth, report: dict[str, Any]
) -> None:
    for name, entry in report.items():
        stack = example_synth.stack(name)
        res = stack["resource"]
        repos = {r["name"]: r for r in entry["repositories"]}
        assert set(repos) == {repo(stack, b) for b in res["github_repository_file"].values()}
        for body in res["github_repository_environment"].values():
            envs = {e["name"]: e for e in repos[repo(stack, body)]["environments"]}
            got = envs[body["environment"]]
            reviewers = [
                f"team {stack['data']['github_team'][ref_id(t)]['slug']}"
                for block in body.get("reviewers", [])
                for t in block["teams"]
            ] + [
                f"user {stack['data']['github_user'][ref_id(u)]['username']}"
                for block in body.get("reviewers", [])
                for u in block["users"]
            ]
            assert sorted(got["reviewers"]) == sorted(reviewers)
            policies = [
                f"branch {p['branch_pattern']}"
                for p in res["github_repository_environment_deployment_policy"].values()
                if ref_id(p["environment"])
                in {k for k, v in res["github_repository_environment"].items() if v is body}
            ]
            assert got["branches"] == policies
        for rtype, attr, key in (
            ("github_actions_variable", "variable_name", "variables"),
            ("github_actions_secret", "secret_name", "secrets"),
        ):
            expected: dict[str, list[str]] = {}
            for body in res.get(rtype, {}).values():
                expected.setdefault(repo(stack, body), []).append(body[attr])
            for full, r in repos.items():
                assert r[key] == sorted(expected.get(full, [])), (rtype, full)
        for full, r in repos.items():
            files = sorted(
                (b["file"], b["branch"])
                for b in res["github_repository_file"].values()
                if repo(stack, b) == full
            )
            assert sorted((f["path"], f["branch"]) for f in r["files"]) == files
            synced = {f["path"] for f in r["files"] if f["mode"] == "kept in sync"}
            assert synced == set(workflow_paths(name).values())


def test_what_keeps_costing_names_pricing_dimensions_and_the_endpoints(
    report: dict[str, Any],
) -> None:
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for env in config["environments"]:
        costs = report[env["name"]]["costs"]
        endpoints = {c["name"] for c in costs if c["what"].startswith("SageMaker endpoint")}
        assert endpoints == {
            f"{p['name']}-{stage}" for p in env["projects"] for stage in ("staging", "production")
        }
        whats = {c["what"] for c in costs}
        assert {"Lambda function", "DynamoDB table", "CloudWatch log group"} <= whats
        for cost in costs:
            assert cost["dimensions"] and not re.search(r"[$€]|\d+\.\d+", cost["dimensions"])
        (logs,) = [c for c in costs if c["what"] == "CloudWatch log group"]
        assert logs["note"] == "kept 30 days"


def test_cli_text_and_json(
    example_synth: Synth, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--outdir", str(example_synth.outdir), "--json", "-"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == to_json(inventory(example_synth.outdir))
    out = tmp_path / "inventory.json"
    assert main(["--outdir", str(example_synth.outdir), "--stack", "prod", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Stack prod: account 222222222222, us-east-1; state: s3 ")
    assert "  Repository acme-ml/churn-model" in text
    assert [s["stack"] for s in json.loads(out.read_text())["stacks"]] == ["prod"]
    assert "Stack dev" not in text


def test_fails_without_synthesized_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--outdir", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip().endswith("run `make synth` first")


def test_action_summary_lists_few_and_counts_many() -> None:
    statements = [
        {"effect": "Allow", "actions": ["s3:GetObject", "s3:PutObject"]},
        {"effect": "Allow", "actions": [f"sagemaker:A{i}" for i in range(5)]},
        {"effect": "Deny", "actions": ["iam:*"]},
    ]
    assert summarize_actions(statements) == (
        "s3:GetObject,PutObject; sagemaker (5 actions); denies iam:*"
    )
    assert summarize_actions([]) == "nothing"
