"""What GitHub itself fixes, written once (no imports): Actions' OIDC tokens, the REST API.

GitHub's "Configuring OpenID Connect in Amazon Web Services": the provider URL is
``https://token.actions.githubusercontent.com`` and the audience ``sts.amazonaws.com``; the
trust policy conditions are ``token.actions.githubusercontent.com:aud`` and ``...:sub``.
tests/modules/core/test_facts.py compares these values with that page's text.
"""

from __future__ import annotations

#: The issuer host of GitHub Actions' OIDC tokens (also the IAM OIDC provider's ARN suffix and
#: the prefix of the trust policy's condition keys).
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
#: The audience the AWS credentials action asks for (``aws-actions/configure-aws-credentials``).
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"


#: GitHub's REST API on github.com (GitHub Enterprise Server has its own URL, configurable).
GITHUB_API_URL = "https://api.github.com"
#: The REST API version the toolkit's requests name (``X-GitHub-Api-Version``) and the media type
#: they accept. The trigger function keeps its own copy (it ships alone in its zip:
#: lambda_src/github_trigger/dispatch.py and config.py); a test compares them.
GITHUB_API_VERSION = "2022-11-28"
GITHUB_MEDIA_TYPE = "application/vnd.github+json"


def oidc_provider_arn_template(partition: str = "<partition>", account: str = "<account>") -> str:
    """``arn:<partition>:iam::<account>:oidc-provider/token.actions.githubusercontent.com``."""
    return f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"
