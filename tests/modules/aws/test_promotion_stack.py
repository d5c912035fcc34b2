"""Synth-level proof of promotion: aliased providers, stage identities, home grants, the gate.

The provider facts cited: hashicorp/aws 5.100.0 ``internal/provider/provider.go`` (the
``assume_role`` block and ``allowed_account_ids``, checked against the caller identity before
any resource is read: ``internal/conns/config.go`` ``ConfigureProvider`` ->
``verifyAccountIDAllowed``), and Terraform's provider meta-argument: a resource whose
``provider`` is ``aws.<alias>`` is planned with that provider configuration only.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from modules.core.naming import STAGE_SESSION_SECONDS, stage_role_path
from modules.render.workflows import WorkflowParams
from tests.conftest import Synth, data_sources, resources
from tests.support.three_accounts import (
    ENVIRONMENT,
    HOME,
    REGION,
    STAGE_ACCOUNTS,
    three_accounts,
)
from tools.gates.iam_policies import (
    TrustedRepository,
    cross_account_write_problems,
    resource_policy_write_problems,
    stack_problems,
)

REPOS = [
    TrustedRepository(
        owner="acme-ml",
        repository="churn-model",
        branch="main",
        project="churn-model",
        production_environment=f"{ENVIRONMENT}-production",
        staging_environment=f"{ENVIRONMENT}-staging",
    )
]


@pytest.fixture(scope="module")
def stack(synth_config: Callable[[dict[str, Any]], Synth]) -> dict[str, Any]:
    return synth_config(three_accounts()).stack(ENVIRONMENT)


def everything(stack: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, address, config) of every resource and data source."""
    for rtype, named in stack.get("resource", {}).items():
        for name, config in named.items():
            yield "resource", f"{rtype}.{name}", config
    for dtype, named in stack.get("data", {}).items():
        for name, config in named.items():
            yield "data", f"data.{dtype}.{name}", config


def stage_of(address: str) -> str | None:
    """The stage whose account an address belongs to, by construct path."""
    name = address.rsplit(".", maxsplit=1)[-1]
    for stage in STAGE_ACCOUNTS:
        if name.startswith(f"stage-{stage}_") or f"_{stage}-account-identity_" in name:
            return stage
    return None


def document(stack: dict[str, Any], ref: str) -> list[dict[str, Any]]:
    name = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", ref)
    assert name is not None, ref
    statements: list[dict[str, Any]] = data_sources(stack, "aws_iam_policy_document")[
        name.group(1)
    ]["statement"]
    return statements


def role(stack: dict[str, Any], stage: str, kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (name, r)
        for name, r in resources(stack, "aws_iam_role").items()
        if f"_{stage}-account-identity_{kind}-role_" in name
    ]
    return found


def role_policy(stack: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in resources(stack, "aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{role_name}.id}}"
    ]
    return document(stack, policy["policy"])


# --- providers ------------------------------------------------------------------------------


def test_one_aliased_provider_per_stage_account(stack: dict[str, Any]) -> None:
    providers = stack["provider"]["aws"]
    default = [p for p in providers if "alias" not in p]
    assert [p["allowed_account_ids"] for p in default] == [[HOME]]
    aliased = {p["alias"]: p for p in providers if "alias" in p}
    assert set(aliased) == set(STAGE_ACCOUNTS)
    for stage, account in STAGE_ACCOUNTS.items():
        provider = aliased[stage]
        assert provider["allowed_account_ids"] == [account]
        assert provider["region"] == REGION
        (assume,) = provider["assume_role"]
        assert assume["role_arn"] == f"arn:aws:iam::{account}:role/terraform-apply"
        assert provider["default_tags"] == default[0]["default_tags"]


def test_stage_resources_use_their_stage_provider_and_home_resources_the_default(
    stack: dict[str, Any],
) -> None:
    counted = {stage: 0 for stage in STAGE_ACCOUNTS}
    for kind, address, config in everything(stack):
        stage = stage_of(address)
        if stage is None:
            assert config.get("provider", "aws").startswith(("aws", "github")), address
            assert not str(config.get("provider", "")).startswith("aws."), (kind, address)
        else:
            assert config.get("provider") == f"aws.{stage}", (kind, address)
            counted[stage] += 1
    # the OIDC provider, the deploy and model roles with policies, the capture bucket ...
    assert counted["staging"] >= 8 and counted["production"] > counted["staging"]
    oidc = resources(stack, "aws_iam_openid_connect_provider")
    assert sorted(r.get("provider", "aws") for r in oidc.values()) == [
        "aws",
        "aws.production",
        "aws.staging",
    ]


# --- trust ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(STAGE_ACCOUNTS))
def test_stage_deploy_role_trusts_exactly_the_stage_environment(
    stack: dict[str, Any], stage: str
) -> None:
    name, deploy = role(stack, stage, "deploy")
    (trust,) = document(stack, deploy["assume_role_policy"])
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    (principal,) = trust["principals"]
    oidc = [
        n
        for n, r in resources(stack, "aws_iam_openid_connect_provider").items()
        if r.get("provider") == f"aws.{stage}"
    ]
    assert principal == {
        "type": "Federated",
        "identifiers": [f"${{aws_iam_openid_connect_provider.{oidc[0]}.arn}}"],
    }
    conditions = {(c["test"], c["variable"]): c["values"] for c in trust["condition"]}
    assert conditions == {
        ("StringEquals", "token.actions.githubusercontent.com:aud"): ["sts.amazonaws.com"],
        ("StringEquals", "token.actions.githubusercontent.com:sub"): [
            f"repo:acme-ml/churn-model:environment:{ENVIRONMENT}-{stage}"
        ],
    }
    assert deploy["path"] == stage_role_path(ENVIRONMENT, "churn-model", stage, "deploy")
    # the session covers the deploy job (its timeout) without role chaining
    job_seconds = WorkflowParams.__dataclass_fields__["deploy_timeout_minutes"].default * 60
    assert deploy["max_session_duration"] == STAGE_SESSION_SECONDS >= job_seconds
    assert name


@pytest.mark.parametrize("stage", list(STAGE_ACCOUNTS))
def test_stage_model_role_is_sagemakers_and_only_reads_home_artifacts(
    stack: dict[str, Any], stage: str
) -> None:
    name, model = role(stack, stage, "model")
    (trust,) = document(stack, model["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["sagemaker.amazonaws.com"]}]
    statements = {s["sid"]: s for s in role_policy(stack, name)}
    home = statements["HomeArtifactsRead"]
    assert home["actions"] == ["s3:GetObject"]
    (bucket,) = home["resources"]
    assert re.fullmatch(
        r"arn:\$\{data\.aws_partition\.account_partition_[^}]+\}:s3:::"
        r"sagemaker-project-\$\{[^}]+\}/\*",
        bucket,
    ), bucket
    s3_writes = [
        (sid, a)
        for sid, s in statements.items()
        for a in s["actions"]
        if a.startswith("s3:") and a != "s3:GetObject"
    ]
    if stage == "production":  # data capture: into the stage's own bucket only
        assert s3_writes == [("DataCaptureWrite", "s3:PutObject")]
        (target,) = statements["DataCaptureWrite"]["resources"]
        assert target.startswith("${aws_s3_bucket.stage-production_capture-bucket_")
    else:
        assert s3_writes == []


@pytest.mark.parametrize("stage", list(STAGE_ACCOUNTS))
def test_stage_deploy_role_reads_only_the_home_groups_packages(
    stack: dict[str, Any], stage: str
) -> None:
    name, _ = role(stack, stage, "deploy")
    statements = {s["sid"]: s for s in role_policy(stack, name)}
    home_caller = r"\$\{data\.aws_caller_identity\.account_caller_[0-9A-F]+\.account_id\}"
    (packages,) = statements["HomeModelPackages"]["resources"]
    assert re.fullmatch(
        rf"arn:[^:]+:sagemaker:[^:]+:{home_caller}:model-package/churn-model-\$\{{[^}}]+\}}/\*",
        packages,
    ), packages
    # CreateModel is authorized on `model` only (AWS's authorization data): not on packages
    assert statements["HomeModelPackages"]["actions"] == ["sagemaker:DescribeModelPackage"]
    assert statements["HomeModelPackageGroup"]["actions"] == ["sagemaker:DescribeModelPackageGroup"]
    actions = {a for s in statements.values() for a in s["actions"]}
    assert "sagemaker:DescribeProject" not in actions  # no project in a stage account
    stage_caller = data_sources(stack, "aws_caller_identity")
    (stage_id,) = [n for n, d in stage_caller.items() if d.get("provider") == f"aws.{stage}"]
    for resource in statements["Endpoints"]["resources"]:
        assert f"${{data.aws_caller_identity.{stage_id}.account_id}}" in resource
    (passed,) = statements["PassModelRole"]["resources"]
    model_name, _ = role(stack, stage, "model")
    assert passed == f"${{aws_iam_role.{model_name}.arn}}"
    autoscaling = any(a.startswith("application-autoscaling:") for a in actions)
    assert autoscaling == (stage == "production")


# --- home account -------------------------------------------------------------------------


def test_home_has_no_deploy_role_for_stages_deployed_elsewhere(stack: dict[str, Any]) -> None:
    home_roles = [
        name
        for name, r in resources(stack, "aws_iam_role").items()
        if r.get("provider", "aws") == "aws"
    ]
    assert not [n for n in home_roles if "gha-staging" in n or "gha-production" in n]
    assert not [n for n in home_roles if "_staging-role_" in n or "_production-role_" in n]


def test_github_environments_hold_the_stage_accounts_roles(stack: dict[str, Any]) -> None:
    variables = resources(stack, "github_actions_environment_variable")
    environments = resources(stack, "github_repository_environment")
    for stage in STAGE_ACCOUNTS:
        (env_name,) = [
            n for n, e in environments.items() if e["environment"] == f"{ENVIRONMENT}-{stage}"
        ]
        scoped = {
            v["variable_name"]: v["value"]
            for v in variables.values()
            if v["environment"] == f"${{github_repository_environment.{env_name}.environment}}"
        }
        deploy, _ = role(stack, stage, "deploy")
        model, _ = role(stack, stage, "model")
        assert scoped["AWS_DEPLOY_ROLE_ARN"] == f"${{aws_iam_role.{deploy}.arn}}"
        assert scoped["SAGEMAKER_PIPELINE_ROLE_ARN"] == f"${{aws_iam_role.{model}.arn}}"


def _template(stack: dict[str, Any]) -> dict[str, Any]:
    (obj,) = resources(stack, "aws_s3_object").values()
    text = obj["content"].replace("$${", "${").replace("%%{", "%{")
    template: dict[str, Any] = json.loads(text)
    return template


def test_template_grants_the_stage_accounts_and_the_launch_role_may_set_it(
    stack: dict[str, Any],
) -> None:
    template = _template(stack)
    policy = template["Resources"]["ModelPackageGroup"]["Properties"]["ModelPackageGroupPolicy"]
    roots = {s["Principal"]["AWS"]["Fn::Sub"] for s in policy["Statement"]}
    assert roots == {f"arn:${{AWS::Partition}}:iam::{a}:root" for a in STAGE_ACCOUNTS.values()}
    bucket = template["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]
    for resource_policy in (policy, bucket):
        resolved = json.loads(json.dumps(resource_policy).replace("${AWS::Partition}", "aws"))
        for s in resolved["Statement"]:
            if "Fn::Sub" in json.dumps(s.get("Principal", "")):
                s["Principal"] = {"AWS": s["Principal"]["AWS"]["Fn::Sub"]}
        assert resource_policy_write_problems(resolved, HOME) == []
    launch = [
        d
        for d in data_sources(stack, "aws_iam_policy_document").values()
        if any(
            "sagemaker:PutModelPackageGroupPolicy" in st.get("actions", [])
            for st in d.get("statement", [])
        )
    ]
    assert launch, "the launch role's supplement grants PutModelPackageGroupPolicy"


def test_without_promotion_nothing_of_it_is_emitted(example_synth: Synth) -> None:
    prod = example_synth.stack("prod")  # single-account environment of the example
    assert [p.get("alias") for p in prod["provider"]["aws"]] == [None]
    template = _template(prod)
    assert "ModelPackageGroupPolicy" not in template["Resources"]["ModelPackageGroup"]["Properties"]
    assert "PutModelPackageGroupPolicy" not in json.dumps(prod)
    assert "-account-identity_" not in json.dumps(prod)


def test_an_existing_stage_oidc_provider_is_reused(
    synth_config: Callable[[dict[str, Any]], Synth],
) -> None:
    data = three_accounts()
    arn = "arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com"
    data["environments"][0]["promotion"]["production"]["oidc_provider_arn"] = arn
    stack = synth_config(data).stack(ENVIRONMENT)
    providers = [
        r.get("provider", "aws")
        for r in resources(stack, "aws_iam_openid_connect_provider").values()
    ]
    assert sorted(providers) == ["aws", "aws.staging"]
    _, deploy = role(stack, "production", "deploy")
    (trust,) = document(stack, deploy["assume_role_policy"])
    assert trust["principals"][0]["identifiers"] == [arn]


# --- the gate -------------------------------------------------------------------------------


def test_three_account_stack_passes_the_iam_gate(stack: dict[str, Any]) -> None:
    assert stack_problems(stack, REPOS) == []


def _with_statement(
    stack: dict[str, Any], stage: str, kind: str, statement: dict[str, Any]
) -> dict[str, Any]:
    changed = copy.deepcopy(stack)
    name, _ = role(changed, stage, kind)
    (policy,) = [
        p
        for p in resources(changed, "aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{name}.id}}"
    ]
    doc = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", policy["policy"])
    assert doc is not None
    changed["data"]["aws_iam_policy_document"][doc.group(1)]["statement"].append(statement)
    return changed


def test_gate_refuses_s3_put_into_the_home_bucket(stack: dict[str, Any]) -> None:
    _, model = role(stack, "production", "model")
    bad = _with_statement(
        stack,
        "production",
        "model",
        {
            "sid": "Bad",
            "effect": "Allow",
            "actions": ["s3:PutObject"],
            "resources": ["arn:aws:s3:::sagemaker-project-p-abc/*"],
        },
    )
    (problem,) = cross_account_write_problems(bad)
    assert "s3:PutObject" in problem and "writes into aws from aws.production" in problem
    assert model


def test_gate_refuses_kms_encrypt_with_a_home_key(stack: dict[str, Any]) -> None:
    bad = _with_statement(
        stack,
        "staging",
        "deploy",
        {
            "sid": "Bad",
            "effect": "Allow",
            "actions": ["kms:Encrypt", "kms:Decrypt"],
            "resources": [f"arn:aws:kms:{REGION}:{HOME}:key/1234"],
        },
    )
    problems = cross_account_write_problems(bad)
    assert len(problems) == 1 and "kms:Encrypt" in problems[0] and "kms:Decrypt" not in problems[0]


def test_gate_allows_reads_across_accounts(stack: dict[str, Any]) -> None:
    fine = _with_statement(
        stack,
        "staging",
        "model",
        {
            "sid": "Fine",
            "effect": "Allow",
            "actions": ["kms:Decrypt"],
            "resources": [f"arn:aws:kms:{REGION}:{HOME}:key/1234"],
        },
    )
    assert cross_account_write_problems(fine) == []


def test_gate_refuses_a_wildcard_sub_on_a_stage_role(stack: dict[str, Any]) -> None:
    changed = copy.deepcopy(stack)
    _, deploy = role(changed, "production", "deploy")
    (trust,) = document(changed, deploy["assume_role_policy"])
    for condition in trust["condition"]:
        if condition["variable"].endswith(":sub"):
            condition["values"] = ["repo:acme-ml/*:*"]
    problems = stack_problems(changed, REPOS)
    assert any("repo:acme-ml/*:*" in p for p in problems), problems


def test_gate_refuses_administrator_access_in_a_stage_account(stack: dict[str, Any]) -> None:
    changed = copy.deepcopy(stack)
    name, _ = role(changed, "production", "deploy")
    changed["resource"].setdefault("aws_iam_role_policy_attachment", {})["admin"] = {
        "provider": "aws.production",
        "role": f"${{aws_iam_role.{name}.name}}",
        "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess",
    }
    problems = stack_problems(changed, REPOS)
    assert any("AdministratorAccess" in p for p in problems), problems


def test_resource_policy_gate_refuses_a_write_for_another_account() -> None:
    policy = {
        "Statement": [
            {
                "Sid": "Peers",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::b/*",
            },
            {
                "Sid": "Own",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/*",
            },
        ]
    }
    (problem,) = resource_policy_write_problems(policy, HOME)
    assert problem.startswith("statement Peers: s3:PutObject for arn:aws:iam::333333333333:root")


# --- endpoint settings into the workflow -----------------------------------------------------


def _deploy_commands(stack: dict[str, Any]) -> dict[str, str]:
    (text,) = [
        f["content"]
        for f in resources(stack, "github_repository_file").values()
        if re.fullmatch(r"\.github/workflows/deploy-[a-z0-9-]+\.yml", f["file"])
    ]
    doc = yaml.safe_load(text.replace("$${", "${"))
    return {
        name: next(s["run"] for s in job["steps"] if s.get("name", "").startswith("Deploy"))
        for name, job in doc["jobs"].items()
    }


def test_stage_account_settings_reach_the_deploy_job(stack: dict[str, Any]) -> None:
    commands = _deploy_commands(stack)
    assert commands["staging"].endswith("--stage staging --registry-account 111111111111")
    assert commands["production"].endswith(
        "--stage production --registry-account 111111111111 --instance-type ml.c5.xlarge "
        "--instance-count 2 --min-instances 2 --max-instances 4 --target-invocations 500 "
        "--data-capture-percent 10 --data-capture-prefix data-capture --data-capture-bucket "
        '"$DATA_CAPTURE_BUCKET"'
    )
    bucket = [
        v
        for v in resources(stack, "github_actions_environment_variable").values()
        if v["variable_name"] == "DATA_CAPTURE_BUCKET"
    ]
    assert [v["value"].split(".")[0] for v in bucket] == ["${aws_s3_bucket"]


def test_single_account_settings_reach_the_job_and_the_home_deploy_role(
    synth_config: Callable[[dict[str, Any]], Synth],
) -> None:
    data = three_accounts()
    env = data["environments"][0]
    del env["promotion"]
    env["endpoints"] = {
        "staging": {"serverless": {"memory_mb": 2048, "max_concurrency": 4}},
        "production": {
            "instance_count": 2,
            "autoscaling": {
                "min_instances": 1,
                "max_instances": 3,
                "target_invocations_per_instance": 100,
            },
        },
    }
    stack = synth_config(data).stack(ENVIRONMENT)
    commands = _deploy_commands(stack)
    assert commands["staging"].endswith(
        "--stage staging --serverless-memory-mb 2048 --serverless-max-concurrency 4"
    )
    assert commands["production"].endswith(
        "--stage production --instance-type ml.m5.large --instance-count 2 "
        "--min-instances 1 --max-instances 3 --target-invocations 100"
    )
    assert [p.get("alias") for p in stack["provider"]["aws"]] == [None]
    scaling = {
        name
        for name, d in data_sources(stack, "aws_iam_policy_document").items()
        if any(
            a.startswith("application-autoscaling:")
            for st in d.get("statement", [])
            for a in st.get("actions", [])
        )
    }
    assert len(scaling) == 1 and "production" in next(iter(scaling))
    assert stack_problems(stack, REPOS) == []
