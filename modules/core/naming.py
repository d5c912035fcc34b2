"""Names of the things the toolkit creates, in one place (no cdktf import).

Names are part of the contract with AWS managed policies and with the product template: the
Service Catalog launch role's managed policy scopes many actions to names starting with
``sagemaker-`` (see ``modules/render/product_template.py``), so the shared trigger function,
the rules and buckets the template creates all start with it.
"""

from __future__ import annotations

import hashlib
import re

#: The one trigger function of an environment; every project's rule targets it by name, which
#: the launch role may only do on ``function:sagemaker-*``.
TRIGGER_FUNCTION_NAME = "sagemaker-github-workflow-trigger"
PORTFOLIO_NAME = "SageMaker Organization Templates"
PRODUCT_NAME = "build-deploy-github"
STUDIO_VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")
#: The two deploy stages of every project (``deploy/deploy.py --stage``).
PRODUCTION_STAGE = "production"
STAGING_STAGE = "staging"
#: The build job's GitHub environment suffix (``access_keys`` mode only: it holds the build key).
BUILD_STAGE = "build"
#: Characters of the ARN hash in the names of a stage's models and endpoint configurations;
#: must equal ``_HASH_CHARS`` of the seeded ``deploy/deploy.py`` (a test compares them).
DEPLOY_HASH_CHARS = 10


#: The tag every AWS resource of a stack carries (provider default_tags, modules/stack.py);
#: make preflight tells the toolkit's own objects from foreign ones by it.
MANAGED_BY_TAG: tuple[str, str] = ("managed-by", "sagemaker-github-mlops")


def bounded(*parts: str, max_length: int, separator: str = "-") -> str:
    """Join ``parts``; if longer than ``max_length``, cut and append a short stable hash.

    Two different inputs never collapse to the same name, and the result is the same on
    every machine (no randomness, no per-run values).
    """
    name = separator.join(p for p in parts if p)
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: max_length - 9].rstrip(separator)}{separator}{digest}"


def slug(text: str) -> str:
    """Lowercase kebab-case made of letters, digits and hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def iam_name(environment: str, project: str, purpose: str) -> str:
    """IAM names are account-wide: include the environment so two stacks in one account
    (different regions) never fight over a role or user."""
    return bounded("mlops", environment, project, purpose, max_length=64)


def github_environment(environment: str, stage: str) -> str:
    """The GitHub environment of one toolkit environment's deploy stage (or, in ``access_keys``
    mode, of its build job: ``BUILD_STAGE``): ``<environment>-<stage>``.

    It contains the toolkit environment, so two stacks deploying one repository (e.g. ``dev``
    from ``main`` and ``prod`` from ``release``) never share an environment, its branch
    policies, variables or secrets. Injective: equal stages need equal environments, and
    ``-staging``, ``-production`` and ``-build`` are suffixes of one another in no order.
    """
    return f"{environment}-{stage}"


def build_settings_prefix(environment: str) -> str:
    """Prefix of the repository-level Actions variables and secrets the build job of one
    toolkit environment reads (``MLOPS_DEV_`` for ``dev``): one repository may be built by
    several stacks, each owning only its own names. Environment names are lowercase letters,
    digits and hyphens, so upper-casing and ``-`` -> ``_`` keeps distinct names distinct."""
    return f"MLOPS_{environment.upper().replace('-', '_')}_"


def endpoint_name(project_name: str, stage: str) -> str:
    """The stage's endpoint as ``deploy/deploy.py`` names it (``<project>-<stage>``)."""
    return f"{project_name}-{stage}"


def stage_resource_pattern(project_name: str, stage: str) -> str:
    """IAM resource pattern of the stage's models and endpoint configurations
    (``<project>-<stage>-<hash>``, lowercase as SageMaker writes names in ARNs).

    One ``?`` per hash character rather than ``*``: the pattern has a fixed length, so it
    cannot match another project's names (``churn-staging-*`` would match project
    ``churn-staging-v2``'s, ``churn-*`` project ``churn-model``'s).
    """
    return f"{endpoint_name(project_name, stage).lower()}-{'?' * DEPLOY_HASH_CHARS}"


#: Matches any SageMaker project id when the stack does not create the project itself.
ANY_PROJECT_ID = "p-*"


def group_in_arn(project_name: str, project_id: str | None) -> str:
    """The project's pipeline / model package group ``<name>-<id>`` as SageMaker writes it in
    ARNs (lowercase). ``project_id`` may be a Terraform token (already lowercase: never
    lowercase a token, it would stop resolving); ``None`` matches any id."""
    return f"{project_name.lower()}-{project_id if project_id is not None else ANY_PROJECT_ID}"


def project_bucket(project_id: str | None) -> str:
    """The per-project artifacts bucket the product template creates (``None``: any project)."""
    return f"sagemaker-project-{project_id if project_id is not None else ANY_PROJECT_ID}"


def artifacts_bucket_prefix(environment: str) -> str:
    """Prefix of the environment's template bucket (``bucket_prefix``: S3 adds a unique suffix,
    so the global bucket namespace never collides)."""
    return bounded("sagemaker-mlops-templates", environment, max_length=37) + "-"


def launch_role_policy_name(environment: str) -> str:
    """The inline policy each environment adds to the account's (global) launch role: the
    environment name keeps two environments of one account (different regions) apart."""
    return bounded("sagemaker-github-mlops-product-template", environment, max_length=128)


def owner_token_variable(owner: str) -> str:
    """The sensitive Terraform variable holding the GitHub token of one owner's provider
    (set it as ``TF_VAR_<name>``); when unset, the provider falls back to ``GITHUB_TOKEN``.
    GitHub owner names are letters, digits and single hyphens, so the mapping is one-to-one."""
    return "github_owner_token_" + owner.lower().replace("-", "_")


#: Session length of a deploy job's role in a stage account (``role-duration-seconds`` of the
#: deploy job, ``max_session_duration`` of the stage deploy role): covers the deploy job's
#: 90-minute timeout. A direct OIDC session may last up to the role's maximum; a chained one
#: (role to role) at most an hour, which is why stage accounts trust GitHub directly.
STAGE_SESSION_SECONDS = 7200
#: Root of the IAM paths of the roles the toolkit creates in stage accounts.
STAGE_ROLE_PATH_ROOT = "sagemaker-mlops"


def stage_role_path(environment: str, project: str, stage: str, kind: str) -> str:
    """IAM path of a project's ``kind`` role (``deploy`` or ``model``) in a stage account:
    ``/sagemaker-mlops/<environment>/<project>/<stage>/<kind>/``.

    The home account's model package group policy and bucket policy name the stage roles by
    this path (``aws:PrincipalArn`` like ``...:role/<path>*``), computed inside the product
    template from ``SageMakerProjectName``: a role name may be shortened with a hash
    (``iam_name``), the path never is (IAM paths take 512 characters). The project segment is
    followed by ``/``, so no other project's path matches.
    """
    return f"/{STAGE_ROLE_PATH_ROOT}/{environment}/{project}/{stage}/{kind}/"


def stage_provider_alias(stage: str) -> str:
    """Terraform alias of the AWS provider of a stage account (``aws.<stage>``)."""
    return stage
