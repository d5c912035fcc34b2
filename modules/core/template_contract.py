"""The product template's interface, shared by the renderer and the constructs that use it.

``modules.render.product_template`` renders the template with these parameters;
``modules.aws.sagemaker_project`` passes exactly ``USER_PARAMETERS`` when the plan creates a
project. One definition, so the two cannot diverge.
"""

from __future__ import annotations

from typing import Final

# Parameter names, in template order. The first seven are the original template's parameters
# (same names and meaning, so the Studio "Create project" form is unchanged); the last is new.
TEMPLATE_PARAMETERS: Final[tuple[str, ...]] = (
    "SageMakerProjectName",
    "SageMakerProjectId",
    "CodeRepositoryName",
    "GitHubRepositoryOwnerName",
    "CodestarConnectionUniqueId",
    "GitHubTokenSecretName",
    "GitHubWorkflowNameForDeployment",
    "GitHubRepositoryBranch",
)
# SageMaker fills these two itself when it provisions the product; a caller creating a project
# (aws_sagemaker_project provisioning parameters) passes only USER_PARAMETERS.
SAGEMAKER_INJECTED_PARAMETERS: Final[tuple[str, ...]] = (
    "SageMakerProjectName",
    "SageMakerProjectId",
)
USER_PARAMETERS: Final[tuple[str, ...]] = tuple(
    name for name in TEMPLATE_PARAMETERS if name not in SAGEMAKER_INJECTED_PARAMETERS
)

#: Name prefix of the EventBridge rule the template creates per project (``<prefix><project
#: id>``). The shared trigger function's one resource-policy statement allows exactly the rules
#: with this prefix; it starts with ``sagemaker-`` because the launch role may only create
#: rules named so.
PROJECT_RULE_PREFIX: Final = "sagemaker-github-mlops-"

# The SageMakerProjectName parameter's AllowedPattern and MaxLength. The config model validates
# project names with exactly these (modules.core.config), so a name the config accepts is one
# the template accepts: SageMaker's own CreateProject pattern allows a leading digit, the
# template does not, and the stricter one wins.
PROJECT_NAME_PATTERN: Final = r"^[a-zA-Z](-*[a-zA-Z0-9])*$"
PROJECT_NAME_MAX_LENGTH: Final = 32
# The GitHubRepositoryBranch parameter's AllowedPattern and MaxLength; the config's branch
# check is git's ref-format rules intersected with these.
BRANCH_PATTERN: Final = r"^[A-Za-z0-9._/-]+$"
BRANCH_MAX_LENGTH: Final = 255
