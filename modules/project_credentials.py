"""What a project's workflows need to reach AWS, as GitHub variables and secrets (pure mapping).

A helper of :class:`~modules.project.MlopsProject`. Build: repository-level variables carrying the
toolkit environment; in ``access_keys`` mode the build key pair is a secret of the build job's
own GitHub environment (``<environment>-build``, deployable only from the project's branch),
never a repository secret any workflow on any branch could read. Deploy: each stage's own
credentials, scoped to its GitHub environment, so staging credentials never reach production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modules.aws.actions_identity import ActionsIdentity
from modules.core.naming import PRODUCTION_STAGE, STAGING_STAGE


@dataclass(frozen=True, kw_only=True)
class ActionsCredentials:
    """Attributes: ``build_variables`` (repository level, names prefixed with the environment's
    build settings prefix), ``build_environment_secrets`` (the build environment's own; empty
    with ``oidc``: no build environment) and ``stage_variables`` / ``stage_secrets`` (stage ->
    the GitHub environment's own)."""

    build_variables: dict[str, str]
    build_environment_secrets: dict[str, str]
    stage_variables: dict[str, dict[str, str]]
    stage_secrets: dict[str, dict[str, str]]


def actions_credentials(
    identity: ActionsIdentity,
    *,
    auth_mode: Literal["oidc", "access_keys"],
    pipeline_role_arn: str,
    prefix: str,
    staging: bool,
) -> ActionsCredentials:
    """Role ARNs (``oidc``) or access keys (``access_keys``) of ``identity``, placed where the
    build and each deploy stage read them; no staging variables without a staging stage."""
    build_variables = {f"{prefix}PIPELINE_ROLE_ARN": pipeline_role_arn}
    build_environment_secrets: dict[str, str] = {}
    stage_variables: dict[str, dict[str, str]] = {
        stage: {"SAGEMAKER_PIPELINE_ROLE_ARN": pipeline_role_arn}
        for stage in (STAGING_STAGE, PRODUCTION_STAGE)
    }
    stage_secrets: dict[str, dict[str, str]] = {STAGING_STAGE: {}, PRODUCTION_STAGE: {}}
    if auth_mode == "oidc":
        assert identity.build_role_arn is not None
        build_variables[f"{prefix}BUILD_ROLE_ARN"] = identity.build_role_arn
        for stage, arn in identity.deploy_role_arns.items():
            stage_variables[stage]["AWS_DEPLOY_ROLE_ARN"] = arn
    else:
        assert identity.build_key is not None
        build_environment_secrets["AWS_ACCESS_KEY_ID"] = identity.build_key.access_key_id
        build_environment_secrets["AWS_SECRET_ACCESS_KEY"] = identity.build_key.secret_access_key
        for stage, key in identity.deploy_keys.items():
            stage_secrets[stage]["AWS_ACCESS_KEY_ID"] = key.access_key_id
            stage_secrets[stage]["AWS_SECRET_ACCESS_KEY"] = key.secret_access_key
    if not staging:
        stage_variables[STAGING_STAGE] = {}
    return ActionsCredentials(
        build_variables=build_variables,
        build_environment_secrets=build_environment_secrets,
        stage_variables=stage_variables,
        stage_secrets=stage_secrets,
    )
