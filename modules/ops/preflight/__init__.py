"""``make preflight``: check the real prerequisites on both sides before the first apply.

Usage: python -m modules.ops.preflight [--config PATH] [--stack NAME ...] [--json PATH]
       [--github-api-url URL]   (default https://api.github.com, or MLOPS_GITHUB_API_URL;
       https only, http for loopback hosts, no credentials in the URL)

It reads the config that synth uses and the credentials a plan would use (the AWS default
credential chain; per GitHub owner ``TF_VAR_github_owner_token_<owner>``, else ``GITHUB_TOKEN``)
and prints one line per check: ``✓`` passed, ``!`` worth knowing (does not block), ``✗`` blocks
the first apply, each with what was checked and the fix; then a summary.

It is read-only on both sides: GitHub is only sent ``GET`` requests, never follows a redirect
and sends the token only to the API's own origin; AWS only gets ``Get``/``List``/``Describe``/
``Head`` calls (``aws_common.guard_read_only`` refuses anything else before it is sent). The
tests run the AWS checks on this command's own clients (``aws_common.boto3_clients()``,
pointed at moto) and record every request and operation to prove it
(tests/modules/ops/preflight_support.py, test_preflight_aws.py).

Exit code: 0 nothing blocks, 1 at least one ``✗``, 2 the config or an argument is invalid.

The package: ``report`` (lines, summary, exit code), ``github_api`` (the HTTP client, redirects,
rate limits, SSO, pagination, the API URL rule), ``github_token``, ``github_repository``,
``github_branch`` (branch, pull request rules, default branch, OIDC subject),
``github_reviewers``, ``github`` (the GitHub half per owner and project), ``aws_common``,
``aws``, ``aws_names`` (the AWS half), ``stages`` (stage accounts of ``promotion``: the one
non-read call, ``sts:AssumeRole`` into each stage deployer role, said in the output), ``cli``
(``main``). Each module names the GitHub and AWS
documentation it relies on.
"""

from __future__ import annotations

from modules.ops.preflight.aws import aws_checks
from modules.ops.preflight.aws_common import ClientFactory, boto3_clients, guard_read_only
from modules.ops.preflight.cli import main, run
from modules.ops.preflight.github import github_checks
from modules.ops.preflight.github_api import (
    DEFAULT_GITHUB_API,
    ApiUrlError,
    GitHubClient,
    GitHubResponse,
    checked_api_url,
)
from modules.ops.preflight.github_token import owner_token
from modules.ops.preflight.report import Check, Collector, exit_code, render

__all__ = [
    "DEFAULT_GITHUB_API",
    "ApiUrlError",
    "Check",
    "ClientFactory",
    "Collector",
    "GitHubClient",
    "GitHubResponse",
    "aws_checks",
    "boto3_clients",
    "checked_api_url",
    "exit_code",
    "github_checks",
    "guard_read_only",
    "main",
    "owner_token",
    "render",
    "run",
]
