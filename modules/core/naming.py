"""Names of the things the toolkit creates, in one place (no cdktf import).

Names are part of the contract with AWS managed policies and with the product template: the
Service Catalog launch role's managed policy scopes many actions to names starting with
``sagemaker-`` (see ``modules/render/product_template.py``), so the shared trigger function,
the rules and buckets the template creates all start with it.
"""

from __future__ import annotations

import hashlib
import re

#: The one trigger function of an environment; the product template adds a permission per
#: project to it, which the launch role may only do on ``function:sagemaker-*``.
TRIGGER_FUNCTION_NAME = "sagemaker-github-workflow-trigger"
PORTFOLIO_NAME = "SageMaker Organization Templates"
PRODUCT_NAME = "build-deploy-github"
STUDIO_VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
PRODUCTION_ENVIRONMENT = "production"
STAGING_ENVIRONMENT = "staging"


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
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def iam_name(environment: str, project: str, purpose: str) -> str:
    """IAM names are account-wide: include the environment so two stacks in one account
    (different regions) never fight over a role or user."""
    return bounded("mlops", environment, project, purpose, max_length=64)


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


def owner_token_variable(owner: str) -> str:
    """The sensitive Terraform variable holding the GitHub token of one owner's provider
    (set it as ``TF_VAR_<name>``); when unset, the provider falls back to ``GITHUB_TOKEN``.
    GitHub owner names are letters, digits and single hyphens, so the mapping is one-to-one."""
    return "github_owner_token_" + owner.lower().replace("-", "_")
