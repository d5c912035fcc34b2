"""From the validated environment to the props of the stack's constructs (pure mapping).

Helpers of :class:`~modules.stack.EnvironmentStack`: each returns one construct's props from
the environment's config and the references the stack already holds, so the stack's
constructor reads as the list of what it builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from cdktf import TerraformProvider

from modules.artifacts import BuildArtifacts
from modules.aws.project_template_catalog import ProjectTemplateCatalogProps
from modules.aws.stage_account import StageAccountBase
from modules.aws.trigger_function import DispatchTarget, TriggerFunctionProps
from modules.core.account_context import AccountContext
from modules.core.config import Environment, Project
from modules.core.naming import (
    PRODUCTION_STAGE,
    STAGE_SESSION_SECONDS,
    STAGING_STAGE,
    TRIGGER_FUNCTION_NAME,
    artifacts_bucket_prefix,
    launch_role_policy_name,
)
from modules.core.template_contract import PROJECT_RULE_PREFIX
from modules.project import CatalogRef, MlopsProjectProps
from modules.render.product_template import (
    ProductTemplateProps,
    StageGrant,
    launch_role_supplement_statements,
    render_product_template,
)
from modules.render.workflows import StageDeploy, workflow_paths


def trigger_props(
    env: Environment, *, artifacts: BuildArtifacts, context: AccountContext, token_secret_arn: str
) -> TriggerFunctionProps:
    lambda_settings = env.platform.trigger_lambda
    return TriggerFunctionProps(
        environment_name=env.name,
        function_name=TRIGGER_FUNCTION_NAME,
        runtime=lambda_settings.runtime,
        architecture=lambda_settings.architecture,
        function_zip=artifacts.function_zip,
        layer_zip=artifacts.layer(lambda_settings.runtime, lambda_settings.architecture),
        token_secret_arns=(token_secret_arn,),
        log_retention_days=lambda_settings.log_retention_days,
        reserved_concurrency=lambda_settings.reserved_concurrency,
        # The function dispatches only to what this plan configured (a Studio user
        # chooses the provisioning parameters that reach it in the event).
        allowed_targets=tuple(
            DispatchTarget(
                owner=p.github.owner,
                repository=p.github.repository,
                workflow=PurePosixPath(workflow_paths(env.name)["deploy"]).name,
                ref=p.github.branch,
            )
            for p in env.projects
        ),
        alarm_topic_arn=env.platform.alarms.sns_topic_arn,
        alarm_emails=env.platform.alarms.emails,
        permissions_boundary_arn=env.platform.permissions_boundary_arn,
        event_rule_arn_pattern=context.arn("events", f"rule/{PROJECT_RULE_PREFIX}*"),
        event_rule_account=context.account_id,
        allow_registered_approved=env.platform.auto_approve_staging,
    )


def catalog_props(
    env: Environment,
    *,
    context: AccountContext,
    stage_accounts: Mapping[str, StageAccountBase] | None = None,
) -> ProjectTemplateCatalogProps:
    platform = env.platform
    stage_grants = tuple(
        StageGrant(stage=stage, account_id=base.account_id, environment_name=env.name)
        for stage, base in (stage_accounts or {}).items()
    )
    return ProjectTemplateCatalogProps(
        context=context,
        template_body=render_product_template(
            ProductTemplateProps(
                trigger_function_name=TRIGGER_FUNCTION_NAME,
                default_token_secret_name=platform.token_secret.name,
                default_workflow=PurePosixPath(workflow_paths(env.name)["deploy"]).name,
                stage_grants=stage_grants,
            )
        ),
        bucket_prefix=artifacts_bucket_prefix(env.name),
        launch_role_name=platform.launch_role_name,
        studio_role_arns=platform.studio_execution_role_arns,
        # Explicit, never the caller's identity: a plan by another principal (the
        # read-only drift role, an HCP Terraform run role) then shows no change.
        deployer_principal_arn=platform.deployer_principal_arn,
        launch_role_policy_name=launch_role_policy_name(env.name),
        product_owner=platform.product.owner,
        product_description=platform.product.description,
        version_title=platform.product.version,
        retained_template_sha256s=platform.product.retained_versions,
        enable_sagemaker_project_templates=platform.enable_sagemaker_project_templates,
        launch_role_supplement=tuple(
            launch_role_supplement_statements(
                partition=context.partition,
                region=context.region,
                account_id=context.account_id,
                group_policy=bool(stage_grants),
            )
        ),
    )


def project_props(
    env: Environment,
    project: Project,
    *,
    context: AccountContext,
    github_provider: TerraformProvider,
    catalog: CatalogRef,
    oidc_provider_arn: str | None,
    shared_pipeline_role_arn: str,
    seed_files: Mapping[str, str],
    stage_accounts: Mapping[str, StageAccountBase] | None = None,
) -> MlopsProjectProps:
    platform = env.platform
    deploys = stage_deploys(env)
    return MlopsProjectProps(
        context=context,
        environment_name=env.name,
        region=env.region,
        project_name=project.name,
        github_provider=github_provider,
        github_owner=project.github.owner,
        github_repository=project.github.repository,
        branch=project.github.branch,
        code_connection_arn=None
        if project.code_connection == "create"
        else project.code_connection,
        code_connection_id=project.connection_unique_id,
        catalog=catalog if project.create_sagemaker_project else None,
        token_secret_name=platform.token_secret.name,
        staging_environment=project.staging_environment,
        reviewer_users=project.production_reviewers.users,
        reviewer_teams=project.production_reviewers.teams,
        auth_mode=platform.auth_mode,
        oidc_provider_arn=oidc_provider_arn,
        pipeline_role=platform.pipeline_role,
        shared_pipeline_role_arn=shared_pipeline_role_arn,
        seed_files=seed_files if project.seed_code else {},
        template_updates_reach_project=platform.project_updates == "automatic",
        allow_registered_approved=platform.auto_approve_staging,
        workflows_via_pull_request=project.github.workflows_via_pull_request,
        stage_accounts=dict(stage_accounts or {}),
        autoscaling_stages=frozenset(
            stage for stage, deploy in deploys if deploy.min_instances is not None
        ),
        stage_deploys=deploys,
        permissions_boundary_arn=platform.permissions_boundary_arn,
        pin_build_workflow=platform.pin_build_workflow,
    )


def stage_deploys(env: Environment) -> tuple[tuple[str, StageDeploy], ...]:
    """Per stage, what its deploy job passes beyond the defaults: the registry account and a
    session covering the job when the stage is another account, and the configured endpoint
    settings. Stages with neither are left out (their job keeps the plain command)."""
    found: list[tuple[str, StageDeploy]] = []
    for stage in (STAGING_STAGE, PRODUCTION_STAGE):
        settings = env.endpoint_settings(stage)
        remote = env.stage_account(stage) is not None
        if settings is None and not remote:
            continue
        values: dict[str, object] = {}
        if remote:
            values.update(
                registry_account_id=env.account_id, role_duration_seconds=STAGE_SESSION_SECONDS
            )
        if settings is not None and settings.serverless is not None:
            values.update(
                serverless_memory_mb=settings.serverless.memory_mb,
                serverless_max_concurrency=settings.serverless.max_concurrency,
            )
        elif settings is not None:
            values.update(
                instance_type=settings.instance_type, instance_count=settings.instance_count
            )
            if settings.autoscaling is not None:
                values.update(
                    min_instances=settings.autoscaling.min_instances,
                    max_instances=settings.autoscaling.max_instances,
                    target_invocations=settings.autoscaling.target_invocations_per_instance,
                )
            if settings.data_capture is not None:
                values.update(
                    capture_percent=settings.data_capture.sampling_percentage,
                    capture_prefix=settings.data_capture.s3_prefix,
                    capture_bucket_variable=remote,
                )
        found.append((stage, StageDeploy(**values)))  # type: ignore[arg-type]
    return tuple(found)
