"""The GitHub environments the deploy workflow runs in: production behind required reviewers,
and optionally staging; both deployable only from the project's branch. Each environment holds
its stage's credentials as environment-scoped variables and secrets
(``github_actions_environment_variable`` / ``_secret``), so only a job running in that
environment (after its reviewers approved, for production) can read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider, Token
from cdktf_cdktf_provider_github.actions_environment_secret import ActionsEnvironmentSecret
from cdktf_cdktf_provider_github.actions_environment_variable import ActionsEnvironmentVariable
from cdktf_cdktf_provider_github.data_github_team import DataGithubTeam
from cdktf_cdktf_provider_github.data_github_user import DataGithubUser
from cdktf_cdktf_provider_github.repository_environment import RepositoryEnvironment
from cdktf_cdktf_provider_github.repository_environment_deployment_policy import (
    RepositoryEnvironmentDeploymentPolicy,
)
from constructs import Construct

from modules.core.naming import slug


@dataclass(frozen=True, kw_only=True)
class DeployEnvironmentsProps:
    """Props of :class:`DeployEnvironments`.

    Attributes:
        provider: the github provider of the repository's owner.
        repository: repository name.
        branch: the only branch allowed to deploy.
        production_environment: name of the gated environment.
        staging_environment: name of the staging environment. Default: none is created.
        reviewer_users / reviewer_teams: GitHub logins / team slugs (of the owner
            organization) who approve production deploys; at least one in total.
        prevent_self_review: whether the person who dispatched a deploy may not approve it.
            Default: yes.
        production_variables / production_secrets: name -> value of the Actions variables and
            secrets (sensitive references) scoped to the production environment. Default: none.
        staging_variables / staging_secrets: the same for the staging environment (only with
            ``staging_environment``). Default: none.
    """

    provider: TerraformProvider
    repository: str
    branch: str
    production_environment: str
    staging_environment: str | None = None
    reviewer_users: tuple[str, ...] = ()
    reviewer_teams: tuple[str, ...] = ()
    prevent_self_review: bool = True
    production_variables: Mapping[str, str] = field(default_factory=dict)
    production_secrets: Mapping[str, str] = field(default_factory=dict)
    staging_variables: Mapping[str, str] = field(default_factory=dict)
    staging_secrets: Mapping[str, str] = field(default_factory=dict)


class DeployEnvironments(Construct):
    """Attributes: ``environment_names``."""

    def __init__(self, scope: Construct, id_: str, props: DeployEnvironmentsProps) -> None:
        super().__init__(scope, id_)
        if not props.reviewer_users and not props.reviewer_teams:
            raise ValueError(
                f"{self.node.path}: production needs at least one reviewer (users or teams)"
            )
        # Reviewers are numeric ids in the API: look them up by login / slug at plan time.
        user_ids = [
            Token.as_number(
                DataGithubUser(
                    self, f"user-{slug(login)}", provider=props.provider, username=login
                ).id
            )
            for login in props.reviewer_users
        ]
        team_ids = [
            Token.as_number(
                DataGithubTeam(
                    self,
                    f"team-{slug(team)}",
                    provider=props.provider,
                    slug=team,
                    summary_only=True,
                ).id
            )
            for team in props.reviewer_teams
        ]
        if props.staging_environment is None and (props.staging_variables or props.staging_secrets):
            raise ValueError(
                f"{self.node.path}: staging_variables/staging_secrets need a staging_environment"
            )
        for stage in ("production", "staging"):
            variables = getattr(props, f"{stage}_variables")
            secrets = getattr(props, f"{stage}_secrets")
            overlap = sorted(set(variables) & set(secrets))
            if overlap:
                raise ValueError(
                    f"{self.node.path}: {overlap} are both a {stage} variable and a {stage} "
                    "secret; choose one"
                )
        names = [props.production_environment]
        self._environment(
            props,
            "production",
            name=props.production_environment,
            user_ids=user_ids,
            team_ids=team_ids,
            variables=props.production_variables,
            secrets=props.production_secrets,
        )
        if props.staging_environment is not None:
            self._environment(
                props,
                "staging",
                name=props.staging_environment,
                user_ids=[],
                team_ids=[],
                variables=props.staging_variables,
                secrets=props.staging_secrets,
            )
            names.append(props.staging_environment)
        self.environment_names = tuple(names)

    def _environment(
        self,
        props: DeployEnvironmentsProps,
        id_: str,
        *,
        name: str,
        user_ids: list[float],
        team_ids: list[float],
        variables: Mapping[str, str],
        secrets: Mapping[str, str],
    ) -> None:
        gated = bool(user_ids or team_ids)
        environment = RepositoryEnvironment(
            self,
            id_,
            provider=props.provider,
            repository=props.repository,
            environment=name,
            can_admins_bypass=not gated,
            prevent_self_review=props.prevent_self_review if gated else False,
            reviewers=[{"users": user_ids, "teams": team_ids}] if gated else None,
            deployment_branch_policy={
                "protected_branches": False,
                "custom_branch_policies": True,
            },
        )
        RepositoryEnvironmentDeploymentPolicy(
            self,
            f"{id_}-branch",
            provider=props.provider,
            repository=props.repository,
            environment=environment.environment,
            branch_pattern=props.branch,
        )
        # Referencing environment.environment makes each variable and secret wait for its
        # environment (the API answers 404 for an environment that does not exist yet).
        for variable in sorted(variables):
            ActionsEnvironmentVariable(
                self,
                f"{id_}-variable-{slug(variable)}",
                provider=props.provider,
                repository=props.repository,
                environment=environment.environment,
                variable_name=variable,
                value=variables[variable],
            )
        for secret in sorted(secrets):
            ActionsEnvironmentSecret(
                self,
                f"{id_}-secret-{slug(secret)}",
                provider=props.provider,
                repository=props.repository,
                environment=environment.environment,
                secret_name=secret,
                plaintext_value=secrets[secret],
            )
