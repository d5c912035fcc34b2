"""The SageMaker project template in Service Catalog, as Studio expects it.

Portfolio "SageMaker Organization Templates", product "build-deploy-github" tagged
``sagemaker:studio-visibility=true``, the product in the portfolio, a LAUNCH constraint with
the launch role, and the Studio execution roles as principals. The CloudFormation template is
rendered by :mod:`modules.render.product_template` and stored in a hardened bucket, one object per
template content (the key holds its hash).

Versions: hashicorp/aws >= 4.65 replaces ``aws_servicecatalog_product`` when anything in
``provisioning_artifact_parameters`` changes (terraform-provider-aws PR #31061), which would
orphan existing SageMaker projects. So the product keeps the artifact it was created with
(``ignore_changes``) and each template version is a separate
``aws_servicecatalog_provisioning_artifact`` whose construct id holds the template's sha256
(``version-<16 hex>``): a changed template adds a resource rather than replacing one.

Why not one resource replaced per template: in hashicorp/aws 5.100.0
(internal/service/servicecatalog/provisioning_artifact.go) ``template_url`` is ``ForceNew``
(line 103) while ``name``, ``active`` and ``guidance`` are updated in place (line 232,
UpdateProvisioningArtifact), so a new template *replaces* the artifact, and replacing means
``resourceProvisioningArtifactDelete`` (line 287, DeleteProvisioningArtifact at line 306) after
the create under ``create_before_destroy``: the version existing projects were built from is
gone. Versions listed in ``retained_template_sha256s`` keep their resource instead, updated in
place to ``active = false`` / ``guidance = "DEPRECATED"`` (create sets neither: the provider
creates and then updates, line 175).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_role import DataAwsIamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_object import S3Object
from cdktf_cdktf_provider_aws.sagemaker_servicecatalog_portfolio_status import (
    SagemakerServicecatalogPortfolioStatus,
)
from cdktf_cdktf_provider_aws.servicecatalog_constraint import ServicecatalogConstraint
from cdktf_cdktf_provider_aws.servicecatalog_portfolio import ServicecatalogPortfolio
from cdktf_cdktf_provider_aws.servicecatalog_principal_portfolio_association import (
    ServicecatalogPrincipalPortfolioAssociation,
)
from cdktf_cdktf_provider_aws.servicecatalog_product import ServicecatalogProduct
from cdktf_cdktf_provider_aws.servicecatalog_product_portfolio_association import (
    ServicecatalogProductPortfolioAssociation,
)
from cdktf_cdktf_provider_aws.servicecatalog_provisioning_artifact import (
    ServicecatalogProvisioningArtifact,
)
from constructs import Construct

from modules.aws.hardened_bucket import HardenedBucket, HardenedBucketProps
from modules.core.account_context import AccountContext
from modules.core.hcl import literal
from modules.core.naming import PORTFOLIO_NAME, PRODUCT_NAME, STUDIO_VISIBILITY_TAG
from modules.core.policy import Statement, policy_document

TEMPLATE_TYPE = "CLOUD_FORMATION_TEMPLATE"


def template_key(digest: str) -> str:
    """The template bucket's key of the template with sha256 ``digest`` (never overwritten)."""
    return f"templates/{PRODUCT_NAME}/{digest[:16]}.json"


@dataclass(frozen=True, kw_only=True)
class ProjectTemplateCatalogProps:
    """Props of :class:`ProjectTemplateCatalog`.

    Attributes:
        context: partition/region/account tokens.
        template_body: the rendered product template (CloudFormation JSON).
        bucket_prefix: prefix of the template bucket (S3 adds a unique suffix).
        launch_role_name: the role Service Catalog provisions the template with (looked up by
            name, so it must exist: SageMaker creates it when project templates are enabled).
        studio_role_arns: Studio execution roles that may see and launch the template.
        deployer_principal_arn: the IAM role or user that runs applies (so the same plan can
            create SageMaker projects from the product), configured explicitly: an association
            derived from the caller would be replaced by every plan another principal runs.
            Default: not associated.
        product_owner / product_description / version_title: what Studio shows.
        enable_sagemaker_project_templates: whether to switch SageMaker project templates on.
            Default: no (left as the account has it).
        launch_role_policy_name: name of that inline policy; the launch role is account-wide,
            so each stack of an account needs its own name. Default:
            ``sagemaker-github-mlops-product-template`` (one stack per account).
        retained_template_sha256s: sha256 of earlier templates whose provisioning artifacts are
            kept, deactivated and deprecated (the current template's is skipped). Default: none
            kept: a changed template deletes the previous version's artifact.
        launch_role_supplement: IAM statements (``{"Sid", "Action", "Resource"}`` mappings)
            the launch role's managed policy lacks for this template; they are attached as one
            inline policy, with read access to the stored templates. Default: none attached.
    """

    context: AccountContext
    template_body: str
    bucket_prefix: str
    launch_role_name: str
    studio_role_arns: tuple[str, ...]
    deployer_principal_arn: str | None = None
    product_owner: str
    product_description: str
    version_title: str
    enable_sagemaker_project_templates: bool = False
    launch_role_supplement: tuple[Mapping[str, Any], ...] = ()
    launch_role_policy_name: str = "sagemaker-github-mlops-product-template"
    retained_template_sha256s: tuple[str, ...] = ()


class ProjectTemplateCatalog(Construct):
    """Attributes: ``portfolio_id``, ``product_id``, ``provisioning_artifact_id`` (current
    template), ``template_url``, ``bucket_name``, ``launch_role_arn``, ``template_sha256``,
    ``ready`` (resources a SageMaker project created from the product depends on)."""

    def __init__(self, scope: Construct, id_: str, props: ProjectTemplateCatalogProps) -> None:
        super().__init__(scope, id_)
        if not props.studio_role_arns:
            raise ValueError(f"{self.node.path}: studio_role_arns needs at least one role")
        digest = hashlib.sha256(props.template_body.encode()).hexdigest()
        self.template_sha256 = digest
        bucket = self._template(props, digest)
        launch_role = DataAwsIamRole(self, "launch-role", name=props.launch_role_name)
        self.launch_role_arn: str = launch_role.arn
        if props.launch_role_supplement:
            self._launch_role_supplement(props, launch_role.name, bucket.bucket_arn)
        portfolio = ServicecatalogPortfolio(
            self,
            "portfolio",
            name=PORTFOLIO_NAME,
            description="SageMaker project templates managed by sagemaker-github-mlops",
            # Free text from the config: a literal, never a Terraform template.
            provider_name=literal(props.product_owner),
        )
        product, artifact = self._product(props, digest)
        association = ServicecatalogProductPortfolioAssociation(
            self, "product-in-portfolio", portfolio_id=portfolio.id, product_id=product.id
        )
        constraint = ServicecatalogConstraint(
            self,
            "launch-constraint",
            type="LAUNCH",
            portfolio_id=portfolio.id,
            product_id=product.id,
            description="Provision with the SageMaker launch role",
            parameters=json.dumps({"RoleArn": launch_role.arn}, sort_keys=True),
            depends_on=[association],
        )
        #: What must exist before a SageMaker project can be created from the product.
        self.ready: tuple[object, ...] = (
            constraint,
            artifact,
            *self._principals(props, portfolio.id),
        )
        self.portfolio_id: str = portfolio.id
        self.product_id: str = product.id
        self.provisioning_artifact_id: str = artifact.provisioning_artifact_id

    def _template(self, props: ProjectTemplateCatalogProps, digest: str) -> HardenedBucket:
        """The template bucket and the template object (keyed by its content hash)."""
        bucket = HardenedBucket(
            self,
            "template-bucket",
            # Template keys hold their content hash and are never overwritten, so expiring
            # noncurrent versions removes nothing a provisioning artifact points at.
            # force_destroy: a state written before the template object waited for versioning
            # (see HardenedBucket.ready_for_objects) holds an object without version_id, whose
            # delete leaves a delete marker, and DeleteBucket would answer BucketNotEmpty. The
            # bucket holds only templates the toolkit renders again from the config.
            HardenedBucketProps(
                bucket_prefix=props.bucket_prefix,
                partition=props.context.partition,
                force_destroy=True,
            ),
        )
        template = S3Object(
            self,
            "template",
            bucket=bucket.bucket_name,
            key=template_key(digest),
            content=literal(props.template_body),
            content_type="application/json",
            # Explicit (non-empty) metadata: S3 reads an absent map back as {}, which would
            # show as a change on every refresh.
            metadata={"template-sha256": digest},
            # Lets the launch role read the template even outside sagemaker-* buckets.
            tags={"servicecatalog:provisioning": "true"},
            # written into the versioned bucket only (a version_id in the state), so its
            # delete removes every version
            depends_on=list(bucket.ready_for_objects),
        )
        self.bucket_name = bucket.bucket_name
        self._bucket_domain = bucket.bucket_regional_domain_name
        self.template_url = f"https://{bucket.bucket_regional_domain_name}/{template.key}"
        return bucket

    def _launch_role_supplement(
        self, props: ProjectTemplateCatalogProps, role_name: str, bucket_arn: str
    ) -> None:
        statements = [
            Statement(
                sid=raw["Sid"],
                actions=tuple(raw["Action"]),
                resources=tuple(raw["Resource"]),
            )
            for raw in props.launch_role_supplement
        ]
        statements.append(
            Statement(
                sid="ReadProductTemplates",
                actions=("s3:GetObject",),
                resources=(f"{bucket_arn}/templates/*",),
            )
        )
        IamRolePolicy(
            self,
            "launch-role-supplement",
            name=props.launch_role_policy_name,
            role=role_name,
            policy=policy_document(self, "launch-role-supplement-document", statements),
        )

    def _product(
        self, props: ProjectTemplateCatalogProps, digest: str
    ) -> tuple[ServicecatalogProduct, ServicecatalogProvisioningArtifact]:
        """The product (created with the first template) and its current version."""
        product = ServicecatalogProduct(
            self,
            "product",
            name=PRODUCT_NAME,
            owner=literal(props.product_owner),
            description=literal(props.product_description),
            type=TEMPLATE_TYPE,
            tags=dict([STUDIO_VISIBILITY_TAG]),
            provisioning_artifact_parameters={
                "name": literal(f"{props.version_title} (initial)"),
                "description": "The template this product was created with; see the newest "
                "version for the current one.",
                "template_url": self.template_url,
                "type": TEMPLATE_TYPE,
                "disable_template_validation": False,
            },
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["provisioning_artifact_parameters"]
            ),
        )
        artifact = ServicecatalogProvisioningArtifact(
            self,
            f"version-{digest[:16]}",
            product_id=product.id,
            name=literal(f"{props.version_title} ({digest[:8]})"),
            description=f"Template sha256 {digest}",
            template_url=self.template_url,
            type=TEMPLATE_TYPE,
            guidance="DEFAULT",
            active=True,
            disable_template_validation=False,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        retained = [
            self._retained_version(product.id, old)
            for old in props.retained_template_sha256s
            if old != digest
        ]
        # Releases before retained versions addressed the current artifact as
        # "current-version": it is the version the last apply made current, so it moves to
        # the first retained version when one is listed (the user names it to keep it), else
        # to the current one (unchanged template: no change at all).
        # Written as a stack-level block, not with cdktf's move_from_id: cdktf 0.21 checks the
        # Terraform CLI's version (`terraform version`) at synth for any moved resource
        # (ValidateTerraformVersion >= 1.5), so synth would need Terraform installed.
        target = retained[0] if retained else artifact
        TerraformStack.of(self).add_override(
            "moved",
            [
                {
                    "from": self._legacy_version_address(),
                    "to": f"{target.terraform_resource_type}.{target.friendly_unique_id}",
                }
            ],
        )
        return product, artifact

    def _retained_version(self, product_id: str, digest: str) -> ServicecatalogProvisioningArtifact:
        """An earlier version kept for the projects built from it: no new project can use it.

        ``template_url`` and ``type`` repeat what the version was created with (both
        ``ForceNew``); ``name`` and ``description`` are left to what AWS holds (Optional and
        Computed in the provider schema, so leaving them out plans no change).
        """
        return ServicecatalogProvisioningArtifact(
            self,
            f"version-{digest[:16]}",
            product_id=product_id,
            template_url=f"https://{self._bucket_domain}/{template_key(digest)}",
            type=TEMPLATE_TYPE,
            guidance="DEPRECATED",
            active=False,
            disable_template_validation=False,
        )

    def _legacy_version_address(self) -> str:
        """The address of ``<this construct>/current-version`` as cdktf 0.21 allocates it
        (path components joined by ``_`` and the first 8 hex digits of the md5 of the path
        joined by ``/``, upper case; cdktf lib/private/unique.ts), e.g.
        ``project-template_current-version_ED90A795``."""
        stack_path = TerraformStack.of(self).node.path
        components = [*self.node.path[len(stack_path) + 1 :].split("/"), "current-version"]
        digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
        logical_id = "_".join(components) + "_" + digest[:8].upper()
        return f"{ServicecatalogProvisioningArtifact.TF_RESOURCE_TYPE}.{logical_id}"

    def _principals(self, props: ProjectTemplateCatalogProps, portfolio_id: str) -> list[object]:
        """Studio roles and the deployer on the portfolio, and the portfolio status; returns
        those a project creation must wait for (the deployer's, the status)."""
        # Ids from the ARN, not the list position: reordering the config replaces nothing.
        for role_arn in props.studio_role_arns:
            ServicecatalogPrincipalPortfolioAssociation(
                self,
                f"studio-role-{hashlib.sha256(role_arn.encode()).hexdigest()[:8]}",
                portfolio_id=portfolio_id,
                principal_arn=role_arn,
                principal_type="IAM",
            )
        ready: list[object] = []
        if props.deployer_principal_arn is not None:
            ready.append(
                ServicecatalogPrincipalPortfolioAssociation(
                    self,
                    "deployer",
                    portfolio_id=portfolio_id,
                    principal_arn=props.deployer_principal_arn,
                    principal_type="IAM",
                )
            )
        if props.enable_sagemaker_project_templates:
            ready.append(
                SagemakerServicecatalogPortfolioStatus(self, "templates-enabled", status="Enabled")
            )
        return ready
