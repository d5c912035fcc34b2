"""The stack's Terraform variables: the trigger's GitHub token, per-owner tokens, the App key.

All sensitive and ephemeral (never in state or plan files), with an explicit null default so
plans and drift checks need none of them. Helpers of :class:`~modules.stack.EnvironmentStack`:
they create the variables in the stack's own scope (a variable's name is its construct id, and
``TF_VAR_<name>`` is what users export).
"""

from __future__ import annotations

from cdktf import TerraformStack, TerraformVariable, Token

from modules.core.naming import owner_token_variable

TOKEN_VARIABLE = "github_token"  # noqa: S105 - a variable name, not a value
APP_PEM_VARIABLE = "github_app_pem"


def _ephemeral_null(variable: TerraformVariable) -> str:
    # cdktf 0.21 predates ephemeral variables (Terraform >= 1.10); set it directly. cdktf drops a
    # Python None default, so render an explicit null.
    variable.add_override("ephemeral", True)
    variable.add_override("default", Token.null_value())
    return variable.string_value


def trigger_token(stack: TerraformStack) -> str:
    """``TF_VAR_github_token``: the trigger function's token, written to Secrets Manager
    write-only. An explicit null default: plans and drift checks need no token
    (GitHubTokenSecret stops applies without it)."""
    variable = TerraformVariable(
        stack,
        TOKEN_VARIABLE,
        type="string",
        sensitive=True,
        nullable=True,
        default=None,
        description="GitHub token for the trigger function (set TF_VAR_github_token). "
        "Ephemeral: written to Secrets Manager write-only, never stored in state. "
        "Needed by applies, not by plans or drift checks.",
    )
    return _ephemeral_null(variable)


def owner_token(stack: TerraformStack, owner: str) -> str:
    """A per-owner token from ``TF_VAR_github_owner_token_<owner>``. A fine-grained token covers
    one resource owner, so projects under two owners need two tokens. Left unset (null), the
    provider falls back to ``GITHUB_TOKEN``: integrations/github 6.9.0 declares ``token`` with
    ``DefaultFunc: schema.EnvDefaultFunc("GITHUB_TOKEN", nil)`` (github/provider.go), and the
    plugin SDK treats a null argument as absent."""
    name = owner_token_variable(owner)
    variable = TerraformVariable(
        stack,
        name,
        type="string",
        sensitive=True,
        nullable=True,
        description=f"GitHub token for the repositories of {owner} (TF_VAR_{name}). "
        "Default: GITHUB_TOKEN.",
    )
    return _ephemeral_null(variable)


def app_pem(stack: TerraformStack) -> str:
    """The App's private key from ``TF_VAR_github_app_pem``, once per stack. Null falls back to
    the provider's ``GITHUB_APP_PEM_FILE`` (``app_auth.pem_file`` has
    ``EnvDefaultFunc("GITHUB_APP_PEM_FILE")``)."""
    existing = stack.node.try_find_child(APP_PEM_VARIABLE)
    if isinstance(existing, TerraformVariable):
        return existing.string_value
    variable = TerraformVariable(
        stack,
        APP_PEM_VARIABLE,
        type="string",
        sensitive=True,
        nullable=True,
        description=f"PEM private key of the GitHub App (TF_VAR_{APP_PEM_VARIABLE}). "
        "Default: GITHUB_APP_PEM_FILE.",
    )
    return _ephemeral_null(variable)
