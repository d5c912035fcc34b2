"""A SageMaker project created from the build-deploy-github product in the same plan, so its
name and id are known to the workflows and the IAM policies.

A new provisioning artifact (changed template) reaches the project only when
``template_updates`` is on: hashicorp/aws then updates ``service_catalog_provisioning_details``
through sagemaker:UpdateProject (``ServiceCatalogProvisioningUpdateDetails``,
internal/service/sagemaker/project.go), which re-provisions the project's CloudFormation stack
with the new template. The SageMaker API reference (UpdateProject) warns not to update a project
in use this way, as resources can be lost; so by default the plan ignores a new artifact for
existing projects (``ignore_changes``) and only new projects start from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.sagemaker_project import SagemakerProject
from constructs import Construct

from modules.core.template_contract import USER_PARAMETERS


@dataclass(frozen=True, kw_only=True)
class SageMakerProjectProps:
    """Props of :class:`SageMakerProject`.

    Attributes:
        project_name: the SageMaker project name.
        product_id / provisioning_artifact_id: the product version to provision.
        parameters: the product template's user parameters (every name in
            ``USER_PARAMETERS``; SageMaker fills in the project name and id itself).
        description: shown in Studio.
        template_updates: whether a new provisioning artifact is applied to the existing
            project (UpdateProject). Default: no, the project keeps the template it was
            created with.
        depends_on: resources that must exist first (e.g. the launch constraint and the
            deployer's portfolio access). Default: none.
    """

    project_name: str
    product_id: str
    provisioning_artifact_id: str
    parameters: Mapping[str, str]
    description: str
    depends_on: tuple[object, ...] = ()
    template_updates: bool = False


class SageMakerProject(Construct):
    """Attributes: ``project_id``, ``project_arn``, ``project_name``."""

    def __init__(self, scope: Construct, id_: str, props: SageMakerProjectProps) -> None:
        super().__init__(scope, id_)
        missing = [name for name in USER_PARAMETERS if name not in props.parameters]
        unknown = [name for name in props.parameters if name not in USER_PARAMETERS]
        if missing or unknown:
            raise ValueError(
                f"{self.node.path}: template parameters mismatch; missing {missing}, "
                f"unknown {unknown}; expected exactly {list(USER_PARAMETERS)}"
            )
        project = SagemakerProject(
            self,
            "project",
            project_name=props.project_name,
            project_description=props.description,
            service_catalog_provisioning_details={
                "product_id": props.product_id,
                "provisioning_artifact_id": props.provisioning_artifact_id,
                "provisioning_parameter": [
                    {"key": name, "value": props.parameters[name]} for name in USER_PARAMETERS
                ],
            },
            depends_on=list(props.depends_on),  # type: ignore[arg-type]
            lifecycle=None
            if props.template_updates
            else TerraformResourceLifecycle(
                ignore_changes=["service_catalog_provisioning_details[0].provisioning_artifact_id"]
            ),
        )
        self.project_id: str = project.project_id
        self.project_arn: str = project.arn
        self.project_name: str = project.project_name
