"""The AWS half of each stack, read from the synthesized JSON (both auth modes)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from modules.core.naming import PRODUCT_NAME, TRIGGER_FUNCTION_NAME
from modules.core.tagging import COMPONENT_TAG
from modules.render.product_template import (
    USER_PARAMETERS,
    ProductTemplateProps,
    render_product_template,
)
from tests.conftest import Synth, data_sources, resources

OIDC = "token.actions.githubusercontent.com"


def unescape(text: str) -> str:
    """Terraform's value of a literal string (see modules/core/hcl.py)."""
    return text.replace("$${", "${").replace("%%{", "%{")


def one(stack: dict[str, Any], rtype: str) -> dict[str, Any]:
    found = resources(stack, rtype)
    assert len(found) == 1, sorted(found)
    return next(iter(found.values()))


def named(
    stack: dict[str, Any], rtype: str, fragment: str, section: str = "resource"
) -> dict[str, Any]:
    items = stack.get(section, {}).get(rtype, {})
    matches = [v for k, v in items.items() if fragment in k]
    assert len(matches) == 1, (fragment, sorted(items))
    return matches[0]


def doc_ref(value: str) -> str:
    match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", value)
    assert match, value
    return match.group(1)


def statements(stack: dict[str, Any], ref: str) -> dict[str, dict[str, Any]]:
    doc = data_sources(stack, "aws_iam_policy_document")[doc_ref(ref)]
    return {s["sid"]: s for s in doc["statement"]}


# ----------------------------------------------------------------------- identity (oidc)


def test_oidc_provider_created_once_with_sts_audience(example_synth: Synth) -> None:
    provider = one(example_synth.stack("dev"), "aws_iam_openid_connect_provider")
    assert provider["url"] == f"https://{OIDC}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_build_and_stage_roles_pin_aud_and_exact_sub(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    roles = resources(dev, "aws_iam_role")
    expected = {
        "churn-model_actions-identity_build-role": ["repo:acme-ml/churn-model:ref:refs/heads/main"],
        "churn-model_actions-identity_staging-role": [
            "repo:acme-ml/churn-model:environment:dev-staging"
        ],
        "churn-model_actions-identity_production-role": [
            "repo:acme-ml/churn-model:environment:dev-production"
        ],
        "fraud-detection_actions-identity_build-role": [
            "repo:acme-risk/fraud-detection:ref:refs/heads/main"
        ],
        "fraud-detection_actions-identity_production-role": [
            "repo:acme-risk/fraud-detection:environment:dev-production"
        ],
    }
    for fragment, subjects in expected.items():
        (role,) = [v for k, v in roles.items() if fragment in k]
        (trust,) = statements(dev, role["assume_role_policy"]).values()
        assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
        assert trust["principals"][0]["type"] == "Federated"
        conditions = {c["variable"]: c for c in trust["condition"]}
        assert conditions[f"{OIDC}:aud"] == {
            "test": "StringEquals",
            "variable": f"{OIDC}:aud",
            "values": ["sts.amazonaws.com"],
        }
        assert conditions[f"{OIDC}:sub"]["test"] == "StringEquals"
        assert conditions[f"{OIDC}:sub"]["values"] == subjects


def test_existing_oidc_provider_is_reused(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    arn = f"arn:aws:iam::111111111111:oidc-provider/{OIDC}"
    example["environments"][0]["platform"]["oidc_provider_arn"] = arn
    dev = synth_config(example).stack("dev")
    assert not resources(dev, "aws_iam_openid_connect_provider")
    assert arn in json.dumps(data_sources(dev, "aws_iam_policy_document"))


def test_pass_role_only_to_sagemaker_on_the_pipeline_role(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    for doc in data_sources(dev, "aws_iam_policy_document").values():
        for s in doc["statement"]:
            if "iam:PassRole" in s["actions"]:
                assert s["actions"] == ["iam:PassRole"]
                assert s["resources"] != ["*"] and all("*" not in r for r in s["resources"])
                cond = {c["variable"]: c for c in s["condition"]}
                assert cond["iam:PassedToService"]["values"] == ["sagemaker.amazonaws.com"]


def test_build_permissions_are_scoped_to_the_project(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    policy = named(dev, "aws_iam_role_policy", "churn-model_actions-identity_build-policy")
    by_sid = statements(dev, policy["policy"])
    pipeline = by_sid["Pipeline"]["resources"][0]
    # exact project id from the SageMaker project created in the same plan
    assert pipeline.endswith(
        ":pipeline/churn-model-${aws_sagemaker_project."
        + pipeline.split("aws_sagemaker_project.")[1].split(".")[0]
        + ".project_id}"
    )
    assert "sagemaker:StartPipelineExecution" in by_sid["Pipeline"]["actions"]
    assert by_sid["ArtifactsBucket"]["resources"][0].startswith("arn:${data.aws_partition.")
    assert (
        ":s3:::sagemaker-project-${aws_sagemaker_project."
        in by_sid["ArtifactsBucket"]["resources"][0]
    )


def test_policies_without_project_fall_back_to_the_name_prefix(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    example["environments"][0]["projects"][0]["create_sagemaker_project"] = False
    dev = synth_config(example).stack("dev")
    policy = named(dev, "aws_iam_role_policy", "churn-model_actions-identity_build-policy")
    pipeline = statements(dev, policy["policy"])["Pipeline"]["resources"][0]
    assert pipeline.endswith(":pipeline/churn-model-p-*")
    assert not [k for k in resources(dev, "aws_sagemaker_project") if "churn-model" in k]


# ----------------------------------------------------------------------- identity (access keys)


def test_access_keys_mode_creates_one_user_per_identity(example_synth: Synth) -> None:
    prod = example_synth.stack("prod")
    assert not resources(prod, "aws_iam_openid_connect_provider")
    users = {v["name"] for v in resources(prod, "aws_iam_user").values()}
    assert users == {
        "mlops-prod-churn-model-gha-build",
        "mlops-prod-churn-model-gha-staging",
        "mlops-prod-churn-model-gha-production",
    }
    policies = {v["name"]: v for v in resources(prod, "aws_iam_user_policy").values()}
    build = statements(prod, policies["GithubActionsMLOps-build"]["policy"])
    assert {"Pipeline", "PassPipelineRole", "ArtifactsBucket"} <= set(build)
    assert "Endpoints" not in build
    for stage in ("staging", "production"):
        deploy = statements(prod, policies[f"GithubActionsMLOps-{stage}"]["policy"])
        assert "Pipeline" not in deploy
        assert [r.rsplit(":", 1)[1] for r in deploy["Endpoints"]["resources"]] == [
            f"model/churn-model-{stage}-??????????",
            f"endpoint-config/churn-model-{stage}-??????????",
            f"endpoint/churn-model-{stage}",
        ]
    keys = resources(prod, "aws_iam_access_key").values()
    assert len(keys) == 3 and all(k["user"].startswith("${aws_iam_user.") for k in keys)


def test_staging_role_cannot_reach_production_names(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    for stage, other in (("staging", "production"), ("production", "staging")):
        policy = named(dev, "aws_iam_role_policy", f"churn-model_actions-identity_{stage}-policy")
        text = json.dumps(statements(dev, policy["policy"]))
        assert f"churn-model-{stage}" in text
        assert f"churn-model-{other}" not in text
        assert "churn-model-*" not in text


# ----------------------------------------------------------------------- token secret


def test_token_secret_named_from_config(example_synth: Synth) -> None:
    secret = one(example_synth.stack("dev"), "aws_secretsmanager_secret")
    assert secret["name"] == "sagemaker-github-token"


@pytest.mark.parametrize(("stack_name", "deployer_reads"), [("dev", True), ("prod", False)])
def test_token_secret_policy_denies_reads_to_all_but_the_trigger(
    example_synth: Synth, stack_name: str, deployer_reads: bool
) -> None:
    """dev writes the value (the deployer's refresh reads the version back, so the configured
    deployer principal may read it); prod sets it out of band, so only the trigger's role may."""
    stack = example_synth.stack(stack_name)
    policy = one(stack, "aws_secretsmanager_secret_policy")
    assert policy["secret_arn"].startswith("${aws_secretsmanager_secret.")
    assert policy["block_public_policy"] is True
    (deny,) = statements(stack, policy["policy"]).values()
    assert deny["effect"] == "Deny"
    assert deny["actions"] == ["secretsmanager:GetSecretValue"]
    assert deny["principals"] == [{"type": "AWS", "identifiers": ["*"]}]
    (condition,) = deny["condition"]
    assert (condition["test"], condition["variable"]) == ("StringNotEquals", "aws:PrincipalArn")
    trigger_role = next(k for k in resources(stack, "aws_iam_role") if k.startswith("trigger_"))
    readers = condition["values"]
    assert readers[0] == f"${{aws_iam_role.{trigger_role}.arn}}"
    # the configured platform.deployer_principal_arn, never the caller (no churn per planner)
    deployer = ["arn:aws:iam::111111111111:role/terraform-apply"] if deployer_reads else []
    assert readers[1:] == deployer


def test_token_secret_readers_from_config(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    ci = "arn:aws:iam::222222222222:role/ci/terraform"
    example["environments"][1]["platform"]["token_secret"]["readers"] = [ci]
    prod = synth_config(example).stack("prod")
    policy = one(prod, "aws_secretsmanager_secret_policy")
    (deny,) = statements(prod, policy["policy"]).values()
    readers = deny["condition"][0]["values"]
    assert len(readers) == 2 and readers[0].startswith("${aws_iam_role.trigger_")
    assert readers[1] == ci


# ----------------------------------------------------------------------- Service Catalog


def test_portfolio_product_and_studio_visibility(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    # the names the original guide's Studio setup shows (literal: SageMaker Studio lists the
    # portfolio "SageMaker Organization Templates" under Organization templates)
    assert one(dev, "aws_servicecatalog_portfolio")["name"] == "SageMaker Organization Templates"
    product = one(dev, "aws_servicecatalog_product")
    assert product["name"] == "build-deploy-github"
    assert product["owner"] == "ML Platform"
    assert product["tags"] == {
        "sagemaker:studio-visibility": "true",
        "mlops:component": "project-template/product",
    }
    assert product["type"] == "CLOUD_FORMATION_TEMPLATE"
    assert product["lifecycle"] == {"ignore_changes": ["provisioning_artifact_parameters"]}
    association = one(dev, "aws_servicecatalog_product_portfolio_association")
    assert association["product_id"].startswith("${aws_servicecatalog_product.")


def test_template_change_is_a_new_artifact_of_the_same_product(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    artifact = one(dev, "aws_servicecatalog_provisioning_artifact")
    assert artifact["lifecycle"] == {"create_before_destroy": True}
    template = one(dev, "aws_s3_object")
    body = render_product_template(
        ProductTemplateProps(
            trigger_function_name=TRIGGER_FUNCTION_NAME,
            default_token_secret_name="sagemaker-github-token",
            default_workflow="deploy-dev.yml",
        )
    )
    assert unescape(template["content"]) == body
    digest = hashlib.sha256(body.encode()).hexdigest()
    assert template["key"] == f"templates/{PRODUCT_NAME}/{digest[:16]}.json"
    assert artifact["name"] == f"v1 ({digest[:8]})"
    assert artifact["template_url"].startswith("https://${aws_s3_bucket.")
    assert artifact["template_url"].endswith(".key}")


def test_launch_constraint_uses_launch_role_looked_up_by_name(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    role = one(dev, "aws_servicecatalog_constraint")
    assert role["type"] == "LAUNCH"
    params = json.loads(role["parameters"])
    assert re.fullmatch(r"\$\{data\.aws_iam_role\.[^.]+\.arn\}", params["RoleArn"])
    (launch,) = data_sources(dev, "aws_iam_role").values()
    assert launch["name"] == "AmazonSageMakerServiceCatalogProductsLaunchRole"
    supplement = named(dev, "aws_iam_role_policy", "launch-role-supplement")
    assert supplement["role"].endswith(".name}")


def test_studio_roles_and_deployer_are_portfolio_principals(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    principals = [
        p["principal_arn"]
        for p in resources(dev, "aws_servicecatalog_principal_portfolio_association").values()
    ]
    assert (
        "arn:aws:iam::111111111111:role/service-role/AmazonSageMaker-ExecutionRole-dev"
        in principals
    )
    # The deployer is the configured role, never derived from whoever runs the plan.
    assert "arn:aws:iam::111111111111:role/terraform-apply" in principals
    assert not data_sources(dev, "aws_iam_session_context")
    prod = example_synth.stack("prod")
    prod_principals = [
        p["principal_arn"]
        for p in resources(prod, "aws_servicecatalog_principal_portfolio_association").values()
    ]
    # prod creates its SageMaker project too, so it names its deployer (issue 27 item 7)
    assert sorted(prod_principals) == [
        "arn:aws:iam::222222222222:role/service-role/AmazonSageMaker-ExecutionRole-prod",
        "arn:aws:iam::222222222222:role/terraform-apply",
    ]


def test_template_bucket_is_hardened(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    bucket = one(dev, "aws_s3_bucket")
    assert bucket["bucket_prefix"].startswith("sagemaker-")
    pab = one(dev, "aws_s3_bucket_public_access_block")
    assert all(
        pab[k] is True
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    assert one(dev, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    sse = one(dev, "aws_s3_bucket_server_side_encryption_configuration")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    assert (
        one(dev, "aws_s3_bucket_ownership_controls")["rule"]["object_ownership"]
        == "BucketOwnerEnforced"
    )
    (rule,) = one(dev, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]
    policy = statements(dev, one(dev, "aws_s3_bucket_policy")["policy"])
    tls = policy["DenyInsecureTransport"]
    assert tls["effect"] == "Deny"
    assert tls["condition"][0] == {
        "test": "Bool",
        "variable": "aws:SecureTransport",
        "values": ["false"],
    }


def test_portfolio_status_and_launch_role_are_configurable(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth], example_synth: Synth
) -> None:
    assert not resources(
        example_synth.stack("dev"), "aws_sagemaker_servicecatalog_portfolio_status"
    )
    example["environments"][0]["platform"]["enable_sagemaker_project_templates"] = True
    example["environments"][0]["platform"]["launch_role_name"] = "CustomLaunchRole"
    dev = synth_config(example).stack("dev")
    assert one(dev, "aws_sagemaker_servicecatalog_portfolio_status")["status"] == "Enabled"
    # the launch role is overridable by name
    (launch,) = data_sources(dev, "aws_iam_role").values()
    assert launch["name"] == "CustomLaunchRole"


# ----------------------------------------------------------------------- connection + project


def test_code_connection_created_or_reused(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    connection = one(dev, "aws_codeconnections_connection")  # churn-model: "create"
    assert connection["provider_type"] == "GitHub"
    outputs = dev["output"]
    handshake = [v for k, v in outputs.items() if "handshake" in k]
    assert len(handshake) == 1 and "PENDING" in handshake[0]["value"]
    projects = resources(dev, "aws_sagemaker_project")
    fraud = next(v for k, v in projects.items() if "fraud-detection" in k)
    params = {
        p["key"]: p["value"]
        for p in fraud["service_catalog_provisioning_details"]["provisioning_parameter"]
    }
    assert params["CodestarConnectionUniqueId"] == "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    churn = next(v for k, v in projects.items() if "churn-model" in k)
    churn_params = {
        p["key"]: p["value"]
        for p in churn["service_catalog_provisioning_details"]["provisioning_parameter"]
    }
    assert "aws_codeconnections_connection" in churn_params["CodestarConnectionUniqueId"]


def test_sagemaker_project_from_the_current_product_version(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    projects = resources(dev, "aws_sagemaker_project")
    assert sorted(p["project_name"] for p in projects.values()) == [
        "churn-model",
        "fraud-detection",
    ]
    for project in projects.values():
        details = project["service_catalog_provisioning_details"]
        assert details["product_id"].startswith("${aws_servicecatalog_product.")
        assert details["provisioning_artifact_id"].startswith(
            "${aws_servicecatalog_provisioning_artifact."
        )
        keys = [p["key"] for p in details["provisioning_parameter"]]
        assert keys == list(USER_PARAMETERS)
        deps = " ".join(project["depends_on"])
        assert "aws_servicecatalog_constraint" in deps
        assert "aws_servicecatalog_principal_portfolio_association" in deps
    churn = next(p for p in projects.values() if p["project_name"] == "churn-model")
    params = {
        p["key"]: p["value"]
        for p in churn["service_catalog_provisioning_details"]["provisioning_parameter"]
    }
    assert params["CodeRepositoryName"] == "churn-model"
    assert params["GitHubRepositoryOwnerName"] == "acme-ml"
    assert params["GitHubTokenSecretName"] == "sagemaker-github-token"
    assert params["GitHubWorkflowNameForDeployment"] == "deploy-dev.yml"
    assert params["GitHubRepositoryBranch"] == "main"


# ----------------------------------------------------------------------- pipeline role


def test_pipeline_role_service_catalog_or_per_project(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    variables = resources(dev, "github_actions_variable")
    role_vars = [
        v["value"]
        for v in variables.values()
        if v["variable_name"] == "SAGEMAKER_PIPELINE_ROLE_ARN"
    ]
    assert all(
        v.endswith(":role/service-role/AmazonSageMakerServiceCatalogProductsUseRole")
        for v in role_vars
    )
    prod = example_synth.stack("prod")
    role = named(prod, "aws_iam_role", "pipeline-role")
    assert role["name"] == "mlops-prod-churn-model-pipeline"
    (trust,) = statements(prod, role["assume_role_policy"]).values()
    assert trust["principals"] == [{"type": "Service", "identifiers": ["sagemaker.amazonaws.com"]}]


# ----------------------------------------------------------------------- names and ARNs


def test_names_fit_the_launch_role_policy(example_synth: Synth) -> None:
    dev = example_synth.stack("dev")
    assert one(dev, "aws_lambda_function")["function_name"] == "sagemaker-github-workflow-trigger"
    assert TRIGGER_FUNCTION_NAME.startswith("sagemaker-")
    assert one(dev, "aws_s3_bucket")["bucket_prefix"].startswith("sagemaker-")


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_no_hard_coded_partition_region_or_account_in_arns(
    example_synth: Synth, stack_name: str
) -> None:
    stack = example_synth.stack(stack_name)
    allowed = {  # ARNs the user wrote in the config are taken as given
        "arn:aws:iam::111111111111:role/service-role/AmazonSageMaker-ExecutionRole-dev",
        "arn:aws:iam::222222222222:role/service-role/AmazonSageMaker-ExecutionRole-prod",
        "arn:aws:iam::111111111111:role/terraform-apply",
        "arn:aws:iam::222222222222:role/terraform-apply",
        "arn:aws:codeconnections:eu-west-1:111111111111:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    }
    scanned = {
        section: {t: v for t, v in stack.get(section, {}).items() if t != "github_repository_file"}
        for section in ("resource", "data", "output")
    }
    text = json.dumps(scanned)
    for arn in re.findall(r"arn:[a-z-]+:[^\"\s]*", text):
        if arn.rstrip("\\") in allowed or arn.startswith("arn:${") or '"' in arn:
            continue
        if re.match(r"arn:[a-z-]+:[a-z0-9-]+:\$\{", arn):
            continue
        # arn:aws:... inside the rendered CloudFormation template uses ${AWS::Partition}
        pytest.fail(f"hard-coded ARN in {stack_name}: {arn}")
    for region in ("eu-west-1", "us-east-1"):
        for rtype, items in stack.get("resource", {}).items():
            for key, value in items.items():
                text = json.dumps(value)
                if region in text and rtype not in {"github_repository_file"}:
                    pytest.fail(f"region literal {region} in {rtype}.{key}")


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_taggable_aws_resource_has_explicit_tags(
    example_synth: Synth, stack_name: str
) -> None:
    """Explicit non-empty tags: no null-vs-{} flap on refresh (modules/core/tagging.py)."""
    untaggable = {  # resource types of hashicorp/aws 5.100.0 without a tags argument
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_access_key",
        "aws_lambda_function_event_invoke_config",
        "aws_lambda_permission",
        "aws_lambda_layer_version",
        "aws_secretsmanager_secret_policy",
        "aws_secretsmanager_secret_version",
        "aws_servicecatalog_constraint",
        "aws_servicecatalog_principal_portfolio_association",
        "aws_servicecatalog_product_portfolio_association",
        "aws_servicecatalog_provisioning_artifact",
        "aws_sagemaker_servicecatalog_portfolio_status",
    }
    stack = example_synth.stack(stack_name)
    for rtype, items in stack["resource"].items():
        if (
            not rtype.startswith("aws_")
            or rtype in untaggable
            or rtype.startswith("aws_s3_bucket_")
        ):
            continue
        for key, value in items.items():
            tags = value.get("tags")
            assert tags, f"{rtype}.{key} has no explicit tags"
            assert tags[COMPONENT_TAG] == value["//"]["metadata"]["path"].split("/", 1)[1]
